//! Tweets: post, read, list, edit, delete, like; hashtag counts.
//!
//! Every tweet a read returns goes through [`crate::Likes::count`], which
//! adds the likes this instance still holds to its count (SPEC §1.3: the flushed
//! count plus what this instance holds), and takes the [`Viewer`] the
//! visibility rule is applied for.

use chirp_core::hashtags::extract_hashtags;
use chirp_core::model::{HashtagCount, Tweet};
use chirp_core::page::{Page, Paged};
use chirp_core::text::{CategorySlug, TweetText, Username};
use chirp_store::{Missing, NewTweet, StoreError, TweetFilter};

use crate::{App, AppError, AppResult, Event, Viewer};

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
        let new = NewTweet {
            author_id: author,
            hashtags: extract_hashtags(post.text.as_str()),
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
        Ok(tweet)
    }

    /// One tweet, as `viewer` may see it.
    pub async fn tweet(&self, _viewer: Viewer, id: i64) -> AppResult<Tweet> {
        let found = self.store().tweet(id).await?;
        let mut tweet = found.ok_or(AppError::NotFound(Missing::Tweet))?;
        self.0.likes.count(std::slice::from_mut(&mut tweet)).await;
        Ok(tweet)
    }

    /// A page of the tweets `filter` selects, newest first, as `viewer`
    /// may see them.
    pub async fn tweets(
        &self,
        _viewer: Viewer,
        filter: &TweetFilter,
        page: Page,
    ) -> AppResult<Paged<Tweet>> {
        let mut list = self.store().list_tweets(filter, page).await?;
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
    pub async fn edit(&self, me: i64, id: i64, text: TweetText) -> AppResult<Tweet> {
        self.own_tweet(me, id).await?;
        let tags = extract_hashtags(text.as_str());
        self.store().edit_tweet(id, &text, &tags).await?;
        self.publish(Event::TweetEdited {
            tweet: id,
            author: me,
        });
        // Read back like any read, so the like count is exact too.
        self.tweet(Viewer::Account(me), id).await
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
    /// returns its like count as this instance sees it.
    pub async fn like(&self, id: i64) -> AppResult<i64> {
        self.0.likes.like(id).await
    }

    /// Hashtags starting with `prefix`, most used first.
    pub async fn hashtags(&self, prefix: &str, limit: u32) -> AppResult<Vec<HashtagCount>> {
        Ok(self.store().hashtags(prefix, limit).await?)
    }
}
