//! One method per API endpoint, in the order SPEC §3 lists them.
//!
//! Calls that need a login take the session token first. Reads of tweets
//! take the viewer's token as an `Option` first: a protected account's
//! tweets reach only its author and approved followers, so the same read
//! answers differently for a follower than for an anonymous visitor. Names and slugs
//! are percent-encoded into paths, so no value can reach another route;
//! list calls take the `next_cursor` of the previous page.

use std::fmt::Write as _;

use axum::http::Method;

use crate::model::{Account, Category, Conversation, FollowState, HashtagCount, Message, Tweet};
use crate::wire::{
    EditTweetBody, FollowBody, FollowStatus, Health, LikeBody, LoginBody, MarkReadBody,
    NewAccountBody, NewCategoryBody, NewMessageBody, NewTweetBody, NotificationList, ProfilePatch,
    SessionBody, UnreadCount,
};
use crate::{Client, ClientError, Paged};

/// The two lists of the social graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowList {
    Followers,
    Following,
}

impl FollowList {
    /// The list's name, as in its path.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Followers => "followers",
            Self::Following => "following",
        }
    }
}

/// The filters of `GET /api/tweets`; they combine, and none lists every
/// tweet (the public timeline).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TweetQuery<'a> {
    /// Full-text search: tweets containing every word.
    pub q: Option<&'a str>,
    /// Tweets carrying this hashtag (with or without `#`).
    pub hashtag: Option<&'a str>,
    /// Tweets by this username.
    pub author: Option<&'a str>,
    /// Tweets in this category (slug).
    pub category: Option<&'a str>,
}

type Result<T> = std::result::Result<T, ClientError>;

impl Client {
    /// Registers an account (`POST /api/accounts`).
    pub async fn sign_up(&self, body: &NewAccountBody) -> Result<Account> {
        self.write(Method::POST, "/api/accounts", None, body).await
    }

    /// Logs in: a fresh session token (`POST /api/sessions`).
    pub async fn log_in(&self, body: &LoginBody) -> Result<SessionBody> {
        self.write(Method::POST, "/api/sessions", None, body).await
    }

    /// Revokes the session `token` (`DELETE /api/sessions/current`).
    pub async fn log_out(&self, token: &str) -> Result<()> {
        self.act(Method::DELETE, "/api/sessions/current", Some(token))
            .await
    }

    /// Who a session token belongs to (`GET /api/me`).
    pub async fn me(&self, token: &str) -> Result<Account> {
        self.read(Method::GET, "/api/me", Some(token)).await
    }

    /// Changes the signed-in account's profile (`PATCH /api/me`).
    pub async fn update_profile(&self, token: &str, patch: &ProfilePatch) -> Result<Account> {
        self.write(Method::PATCH, "/api/me", Some(token), patch)
            .await
    }

    /// Accounts, newest first, or those whose name matches `q`
    /// (`GET /api/accounts`).
    pub async fn accounts(&self, q: Option<&str>, cursor: Option<&str>) -> Result<Paged<Account>> {
        let path = with_query("/api/accounts", &[("q", q), ("cursor", cursor)])?;
        self.read(Method::GET, &path, None).await
    }

    /// The `limit` (1–100) newest accounts (`GET /api/accounts?limit=`).
    pub async fn newest_accounts(&self, limit: u32) -> Result<Paged<Account>> {
        let limit = limit.to_string();
        let path = with_query("/api/accounts", &[("limit", Some(&limit))])?;
        self.read(Method::GET, &path, None).await
    }

    /// One account, by name in any letter case (`GET /api/accounts/{username}`).
    pub async fn account(&self, username: &str) -> Result<Account> {
        let path = format!("/api/accounts/{}", segment(username));
        self.read(Method::GET, &path, None).await
    }

    /// An account's tweets, newest first (`GET /api/accounts/{username}/tweets`).
    pub async fn account_tweets(
        &self,
        viewer: Option<&str>,
        username: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>> {
        let path = format!("/api/accounts/{}/tweets", segment(username));
        let path = with_query(&path, &[("cursor", cursor)])?;
        self.read(Method::GET, &path, viewer).await
    }

    /// Whether the signed-in account follows `username`, or has asked to
    /// (`GET /api/accounts/{username}/follow`).
    pub async fn follow_state(&self, token: &str, username: &str) -> Result<Option<FollowState>> {
        let path = format!("/api/accounts/{}/follow", segment(username));
        let status: FollowStatus = self.read(Method::GET, &path, Some(token)).await?;
        Ok(status.state)
    }

    /// Follows `username`; a protected account gets a request to approve
    /// (`POST /api/accounts/{username}/follow`).
    pub async fn follow(&self, token: &str, username: &str) -> Result<FollowState> {
        let path = format!("/api/accounts/{}/follow", segment(username));
        let body: FollowBody = self.read(Method::POST, &path, Some(token)).await?;
        Ok(body.state)
    }

    /// Stops following `username`, or withdraws the request
    /// (`DELETE /api/accounts/{username}/follow`).
    pub async fn unfollow(&self, token: &str, username: &str) -> Result<()> {
        let path = format!("/api/accounts/{}/follow", segment(username));
        self.act(Method::DELETE, &path, Some(token)).await
    }

    /// Accounts following `username`, or followed by it
    /// (`GET /api/accounts/{username}/followers` · `/following`).
    pub async fn follow_list(
        &self,
        username: &str,
        list: FollowList,
        cursor: Option<&str>,
    ) -> Result<Paged<Account>> {
        let path = format!("/api/accounts/{}/{}", segment(username), list.as_str());
        let path = with_query(&path, &[("cursor", cursor)])?;
        self.read(Method::GET, &path, None).await
    }

    /// The first `limit` (1–100) of [`Self::follow_list`], most recent
    /// first. Asked with `viewer`'s token when given, so no shared cache
    /// answers with a list from before their latest follow.
    pub async fn follow_list_first(
        &self,
        viewer: Option<&str>,
        username: &str,
        list: FollowList,
        limit: u32,
    ) -> Result<Paged<Account>> {
        let path = format!("/api/accounts/{}/{}", segment(username), list.as_str());
        let limit = limit.to_string();
        let path = with_query(&path, &[("limit", Some(&limit))])?;
        self.read(Method::GET, &path, viewer).await
    }

    /// Accounts asking to follow the signed-in (protected) account, most
    /// recent first (`GET /api/follow-requests`).
    pub async fn follow_requests(
        &self,
        token: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Account>> {
        let path = with_query("/api/follow-requests", &[("cursor", cursor)])?;
        self.read(Method::GET, &path, Some(token)).await
    }

    /// Approves `username`'s request to follow the signed-in account
    /// (`POST /api/follow-requests/{username}/accept`).
    pub async fn accept_follow_request(&self, token: &str, username: &str) -> Result<()> {
        let path = format!("/api/follow-requests/{}/accept", segment(username));
        self.act(Method::POST, &path, Some(token)).await
    }

    /// Turns down `username`'s request to follow the signed-in account
    /// (`POST /api/follow-requests/{username}/reject`).
    pub async fn reject_follow_request(&self, token: &str, username: &str) -> Result<()> {
        let path = format!("/api/follow-requests/{}/reject", segment(username));
        self.act(Method::POST, &path, Some(token)).await
    }

    /// Posts a tweet, or a reply (`POST /api/tweets`).
    pub async fn post_tweet(&self, token: &str, body: &NewTweetBody) -> Result<Tweet> {
        self.write(Method::POST, "/api/tweets", Some(token), body)
            .await
    }

    /// Tweets matching `query`, newest first (`GET /api/tweets`).
    pub async fn tweets(
        &self,
        viewer: Option<&str>,
        query: &TweetQuery<'_>,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>> {
        let pairs = [
            ("q", query.q),
            ("hashtag", query.hashtag),
            ("author", query.author),
            ("category", query.category),
            ("cursor", cursor),
        ];
        let path = with_query("/api/tweets", &pairs)?;
        self.read(Method::GET, &path, viewer).await
    }

    /// Newest tweets of everyone.
    pub async fn public_timeline(
        &self,
        viewer: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>> {
        self.tweets(viewer, &TweetQuery::default(), cursor).await
    }

    /// Newest tweets carrying `tag`.
    pub async fn hashtag(
        &self,
        viewer: Option<&str>,
        tag: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>> {
        let query = TweetQuery {
            hashtag: Some(tag),
            ..TweetQuery::default()
        };
        self.tweets(viewer, &query, cursor).await
    }

    /// Full-text search of tweets.
    pub async fn search_tweets(
        &self,
        viewer: Option<&str>,
        q: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>> {
        let query = TweetQuery {
            q: Some(q),
            ..TweetQuery::default()
        };
        self.tweets(viewer, &query, cursor).await
    }

    /// Newest tweets posted in the category `slug`.
    pub async fn category_tweets(
        &self,
        viewer: Option<&str>,
        slug: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>> {
        let query = TweetQuery {
            category: Some(slug),
            ..TweetQuery::default()
        };
        self.tweets(viewer, &query, cursor).await
    }

    /// One tweet (`GET /api/tweets/{id}`).
    pub async fn tweet(&self, viewer: Option<&str>, id: i64) -> Result<Tweet> {
        self.read(Method::GET, &format!("/api/tweets/{id}"), viewer)
            .await
    }

    /// Replies to a tweet, newest first (`GET /api/tweets/{id}/replies`).
    pub async fn replies(
        &self,
        viewer: Option<&str>,
        id: i64,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>> {
        let path = with_query(&format!("/api/tweets/{id}/replies"), &[("cursor", cursor)])?;
        self.read(Method::GET, &path, viewer).await
    }

    /// Replaces a tweet's text; the API refuses anyone but its author
    /// (`PATCH /api/tweets/{id}`).
    pub async fn edit_tweet(&self, token: &str, id: i64, body: &EditTweetBody) -> Result<Tweet> {
        let path = format!("/api/tweets/{id}");
        self.write(Method::PATCH, &path, Some(token), body).await
    }

    /// Deletes a tweet; the API refuses anyone but its author
    /// (`DELETE /api/tweets/{id}`).
    pub async fn delete_tweet(&self, token: &str, id: i64) -> Result<()> {
        let path = format!("/api/tweets/{id}");
        self.act(Method::DELETE, &path, Some(token)).await
    }

    /// Adds one like (`POST /api/tweets/{id}/likes`).
    pub async fn like(&self, id: i64) -> Result<LikeBody> {
        let path = format!("/api/tweets/{id}/likes");
        self.read(Method::POST, &path, None).await
    }

    /// Up to `limit` (1–100) hashtags starting with `prefix`, most used
    /// first (`GET /api/hashtags`).
    pub async fn hashtags(&self, prefix: &str, limit: u32) -> Result<Paged<HashtagCount>> {
        let limit = limit.to_string();
        let path = with_query(
            "/api/hashtags",
            &[("q", Some(prefix)), ("limit", Some(&limit))],
        )?;
        self.read(Method::GET, &path, None).await
    }

    /// The signed-in account's home timeline (`GET /api/timelines/home`).
    pub async fn home_timeline(&self, token: &str, cursor: Option<&str>) -> Result<Paged<Tweet>> {
        let path = with_query("/api/timelines/home", &[("cursor", cursor)])?;
        self.read(Method::GET, &path, Some(token)).await
    }

    /// The newest 100 categories (`GET /api/categories`).
    pub async fn categories(&self) -> Result<Paged<Category>> {
        self.read(Method::GET, "/api/categories?limit=100", None)
            .await
    }

    /// Starts a category (`POST /api/categories`).
    pub async fn create_category(&self, token: &str, body: &NewCategoryBody) -> Result<Category> {
        self.write(Method::POST, "/api/categories", Some(token), body)
            .await
    }

    /// One category (`GET /api/categories/{slug}`).
    pub async fn category(&self, slug: &str) -> Result<Category> {
        let path = format!("/api/categories/{}", segment(slug));
        self.read(Method::GET, &path, None).await
    }

    /// The signed-in account's notifications, newest first, with how many
    /// are unread (`GET /api/notifications`).
    pub async fn notifications(
        &self,
        token: &str,
        cursor: Option<&str>,
    ) -> Result<NotificationList> {
        let path = with_query("/api/notifications", &[("cursor", cursor)])?;
        self.read(Method::GET, &path, Some(token)).await
    }

    /// How many of the signed-in account's notifications are unread: the
    /// count the first page carries, with that page cut to one item so
    /// every page's badge costs little.
    pub async fn unread_count(&self, token: &str) -> Result<i64> {
        let list: NotificationList = self
            .read(Method::GET, "/api/notifications?limit=1", Some(token))
            .await?;
        Ok(list.unread_count)
    }

    /// Marks notifications read, up to `up_to` or all of them; answers how
    /// many stay unread (`POST /api/notifications/read`).
    pub async fn mark_notifications_read(
        &self,
        token: &str,
        up_to: Option<i64>,
    ) -> Result<UnreadCount> {
        let body = MarkReadBody { up_to };
        self.write(Method::POST, "/api/notifications/read", Some(token), &body)
            .await
    }

    /// Sends a direct message (`POST /api/messages`).
    pub async fn send_message(&self, token: &str, body: &NewMessageBody) -> Result<Message> {
        self.write(Method::POST, "/api/messages", Some(token), body)
            .await
    }

    /// The conversation with `username`, newest first
    /// (`GET /api/messages?with=`).
    pub async fn messages(
        &self,
        token: &str,
        with: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Message>> {
        let path = with_query("/api/messages", &[("with", Some(with)), ("cursor", cursor)])?;
        self.read(Method::GET, &path, Some(token)).await
    }

    /// The signed-in account's conversations, the latest first
    /// (`GET /api/conversations`).
    pub async fn conversations(
        &self,
        token: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Conversation>> {
        let path = with_query("/api/conversations", &[("cursor", cursor)])?;
        self.read(Method::GET, &path, Some(token)).await
    }

    /// The signed-in account's notifications as they happen, as the raw
    /// Server-Sent Events body of `GET /api/notifications/stream`, to relay;
    /// `last_event_id` resumes after that notification.
    pub async fn notification_stream(
        &self,
        token: &str,
        last_event_id: Option<axum::http::HeaderValue>,
    ) -> Result<axum::body::Body> {
        let headers: Vec<_> = last_event_id
            .map(|v| (axum::http::HeaderName::from_static("last-event-id"), v))
            .into_iter()
            .collect();
        self.open_stream("/api/notifications/stream", token, &headers)
            .await
    }

    /// Whether the API process is up (`GET /healthz`).
    pub async fn health(&self) -> Result<Health> {
        self.read(Method::GET, "/healthz", None).await
    }
}

/// `path` with the pairs that have a value as its URL-encoded query.
fn with_query(path: &str, pairs: &[(&str, Option<&str>)]) -> Result<String> {
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .filter_map(|&(name, value)| Some((name, value?)))
        .collect();
    if pairs.is_empty() {
        return Ok(path.to_owned());
    }
    let query = serde_urlencoded::to_string(&pairs)
        .map_err(|e| ClientError::Request(format!("{path}: {e}")))?;
    Ok(format!("{path}?{query}"))
}

/// `value` as one path segment: anything but letters, digits, `_` and `-`
/// percent-encoded, so `/`, `?` or `..` cannot change the route.
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_inside_their_path_segment() {
        assert_eq!(segment("ann_01"), "ann_01");
        assert_eq!(segment("news-uk"), "news-uk");
        assert_eq!(segment("../me"), "%2E%2E%2Fme");
        assert_eq!(segment("a?b#c"), "a%3Fb%23c");
        assert_eq!(segment("é"), "%C3%A9");
    }

    #[test]
    fn queries_carry_only_the_values_given_url_encoded() {
        assert_eq!(
            with_query("/api/tweets", &[("q", None)]).unwrap(),
            "/api/tweets"
        );
        assert_eq!(
            with_query(
                "/api/tweets",
                &[
                    ("q", Some("a b&c")),
                    ("cursor", None),
                    ("hashtag", Some("#x"))
                ]
            )
            .unwrap(),
            "/api/tweets?q=a+b%26c&hashtag=%23x"
        );
    }
}
