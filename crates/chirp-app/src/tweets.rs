//! Tweets: post, read, list, edit, delete, like; hashtag counts.
//!
//! Every tweet a read returns goes through [`crate::Likes::count`], which
//! adds the likes this instance still holds to its count (SPEC §1.3: the flushed
//! count plus what this instance holds), and takes the [`Viewer`] the
//! visibility rule is applied for (see [`crate::visibility`]).
//!
//! `@mentions` are resolved when a tweet is written: only names of
//! existing accounts are kept (at most [`MENTIONS_MAX`]), and each newly
//! mentioned account that may see the tweet is notified, as is the author
//! of the tweet a reply answers.

use chirp_core::hashtags::{extract_hashtags, extract_mentions};
use chirp_core::model::{Account, HashtagCount, NotificationKind, Tweet};
use chirp_core::page::{Page, Paged};
use chirp_core::text::{CategorySlug, TweetText, Username};
use chirp_store::{Missing, NewTweet, StoreError, TweetEdit, TweetFilter};

use crate::{App, AppError, AppResult, Event, Viewer};

/// Most distinct `@names` of one tweet that are looked up (280 characters
/// hold about 70; a tweet that long is a spam pattern, not a conversation).
pub const MENTIONS_MAX: usize = 20;

/// A tweet to post, its text already checked.
#[derive(Debug)]
pub struct NewPost {
    pub text: TweetText,
    /// The tweet this one answers.
    pub reply_to: Option<i64>,
    pub category: Option<CategorySlug>,
}

impl App {
    /// Posts a tweet by `author`. A category or a tweet to reply to that
    /// does not exist is a fault of the input, not a missing resource.
    pub async fn post(&self, author: i64, post: NewPost) -> AppResult<Tweet> {
        // A tweet one may not see cannot be answered either.
        let parent = match post.reply_to {
            Some(id) => Some(self.tweet(Viewer::Account(author), id).await.map_err(
                |e| match e {
                    AppError::NotFound(_) => {
                        AppError::invalid("reply_to", "no such tweet to reply to")
                    }
                    other => other,
                },
            )?),
            None => None,
        };
        let mentioned = self.mentioned(post.text.as_str()).await?;
        let new = NewTweet {
            author_id: author,
            hashtags: extract_hashtags(post.text.as_str()),
            mentions: mentioned.iter().map(|a| a.username.clone()).collect(),
            text: post.text,
            reply_to: post.reply_to,
            category: post.category,
        };
        let tweet = self.store().create_tweet(new).await.map_err(|e| match e {
            StoreError::NotFound(Missing::Category) => {
                AppError::invalid("category", "no such category")
            }
            StoreError::NotFound(Missing::ReplyTarget) => {
                AppError::invalid("reply_to", "no such tweet to reply to")
            }
            other => other.into(),
        })?;
        self.publish(Event::TweetPosted {
            tweet: tweet.id,
            author,
            reply_to: tweet.reply_to,
        });
        let mut told = vec![author];
        if let Some(parent) = parent {
            let to = parent.author;
            if self.may_see(Viewer::Account(to.id), &tweet.author).await? {
                self.notify(to.id, NotificationKind::Reply, author, Some(tweet.id), None)
                    .await;
            }
            told.push(to.id);
        }
        self.notify_mentioned(&tweet, &mentioned, &told).await?;
        Ok(tweet)
    }

    /// The existing accounts `text` mentions, in order of appearance.
    async fn mentioned(&self, text: &str) -> AppResult<Vec<Account>> {
        let names: Vec<Username> = extract_mentions(text)
            .iter()
            .filter_map(|n| Username::parse(n).ok())
            .take(MENTIONS_MAX)
            .collect();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = self.store().accounts_by_usernames(&names).await?;
        let order = |a: &Account| {
            names
                .iter()
                .position(|n| n.lowercase() == a.username.to_ascii_lowercase())
        };
        found.sort_by_key(|a| order(a));
        Ok(found)
    }

    /// Notifies the accounts `tweet` mentions, but not those in `told`
    /// (the author, the account a reply already told) and not those who
    /// may not see it.
    async fn notify_mentioned(
        &self,
        tweet: &Tweet,
        mentioned: &[Account],
        told: &[i64],
    ) -> AppResult<()> {
        for account in mentioned.iter().filter(|a| !told.contains(&a.id)) {
            if self
                .may_see(Viewer::Account(account.id), &tweet.author)
                .await?
            {
                self.notify(
                    account.id,
                    NotificationKind::Mention,
                    tweet.author.id,
                    Some(tweet.id),
                    None,
                )
                .await;
            }
        }
        Ok(())
    }

    /// One tweet, as `viewer` may see it: a protected account's tweet is
    /// 404 to anyone but the account and its approved followers.
    pub async fn tweet(&self, viewer: Viewer, id: i64) -> AppResult<Tweet> {
        let found = self.store().tweet(id).await?;
        let mut tweet = found.ok_or(AppError::NotFound(Missing::Tweet))?;
        if !self.may_see(viewer, &tweet.author).await? {
            return Err(AppError::NotFound(Missing::Tweet));
        }
        self.0.likes.count(std::slice::from_mut(&mut tweet)).await;
        Ok(tweet)
    }

    /// A page of the tweets `filter` selects, newest first, as `viewer`
    /// may see them (the store applies the rule in its query).
    pub async fn tweets(
        &self,
        viewer: Viewer,
        filter: &TweetFilter,
        page: Page,
    ) -> AppResult<Paged<Tweet>> {
        let filter = TweetFilter {
            viewer: viewer.account(),
            ..filter.clone()
        };
        let mut list = self.store().list_tweets(&filter, page).await?;
        self.0.likes.count(&mut list.items).await;
        Ok(list)
    }

    /// An account's tweets (its user timeline); 404 if there is no such account.
    pub async fn user_timeline(
        &self,
        viewer: Viewer,
        username: &str,
        page: Page,
    ) -> AppResult<Paged<Tweet>> {
        let account = self.account(username).await?;
        let author = Username::parse(&account.username)?;
        let filter = TweetFilter {
            author: Some(author),
            ..TweetFilter::default()
        };
        self.tweets(viewer, &filter, page).await
    }

    /// The tweets of the accounts `me` follows, and its own.
    pub async fn home(&self, me: i64, page: Page) -> AppResult<Paged<Tweet>> {
        let filter = TweetFilter {
            home_of: Some(me),
            ..TweetFilter::default()
        };
        self.tweets(Viewer::Account(me), &filter, page).await
    }

    /// Replies to a tweet; 404 if the tweet is not there.
    pub async fn replies(&self, viewer: Viewer, id: i64, page: Page) -> AppResult<Paged<Tweet>> {
        self.tweet(viewer, id).await?;
        let filter = TweetFilter {
            reply_to: Some(id),
            ..TweetFilter::default()
        };
        self.tweets(viewer, &filter, page).await
    }

    /// The tweet, if `me` wrote it: 404 if it does not exist, 403 if it is
    /// someone else's. Authors alone edit or delete.
    async fn own_tweet(&self, me: i64, id: i64) -> AppResult<Tweet> {
        let tweet = self.tweet(Viewer::Account(me), id).await?;
        if tweet.author.id != me {
            return Err(AppError::Forbidden(
                "only the author can change or delete a tweet",
            ));
        }
        Ok(tweet)
    }

    /// Replaces a tweet's text (author only) and sets `edited_at`.
    /// Accounts newly mentioned by the edit are notified.
    pub async fn edit(&self, me: i64, id: i64, text: TweetText) -> AppResult<Tweet> {
        let before = self.own_tweet(me, id).await?;
        let mentioned = self.mentioned(text.as_str()).await?;
        let edit = TweetEdit {
            hashtags: extract_hashtags(text.as_str()),
            mentions: mentioned.iter().map(|a| a.username.clone()).collect(),
            text,
        };
        self.store().edit_tweet(id, &edit).await?;
        self.publish(Event::TweetEdited {
            tweet: id,
            author: me,
        });
        // Read back like any read, so the like count is exact too.
        let tweet = self.tweet(Viewer::Account(me), id).await?;
        let mut told = vec![me];
        told.extend(
            mentioned
                .iter()
                .filter(|a| before.mentions.contains(&a.username))
                .map(|a| a.id),
        );
        self.notify_mentioned(&tweet, &mentioned, &told).await?;
        Ok(tweet)
    }

    /// Deletes a tweet (author only); replies to it stay.
    pub async fn delete(&self, me: i64, id: i64) -> AppResult<()> {
        self.own_tweet(me, id).await?;
        self.store().delete_tweet(id).await?;
        self.0.likes.forget(id);
        self.publish(Event::TweetDeleted {
            tweet: id,
            author: me,
        });
        Ok(())
    }

    /// One more like for a tweet (no login: the button is a counter);
    /// returns its like count as this instance sees it. A protected
    /// account's tweet can be liked only by those who may see it.
    pub async fn like(&self, viewer: Viewer, id: i64) -> AppResult<i64> {
        let known = self.0.likes.known(id).await?;
        if !self
            .may_see_account(viewer, known.author, known.protected)
            .await?
        {
            return Err(AppError::NotFound(Missing::Tweet));
        }
        self.0.likes.like(id, known).await
    }

    /// Hashtags starting with `prefix`, most used first; tweets of
    /// protected accounts are not counted, so the counts are the same for
    /// every viewer.
    pub async fn hashtags(&self, prefix: &str, limit: u32) -> AppResult<Vec<HashtagCount>> {
        Ok(self.store().hashtags(prefix, limit).await?)
    }
}
