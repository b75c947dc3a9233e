//! The storage interface the API is written against.
//!
//! Split by resource so each stays readable; [`Store`] gathers them and is
//! what the API holds (`Arc<dyn Store>`). Inputs are the chirp-core types
//! the HTTP boundary parsed them into ([`Username`], [`TweetText`], ...), so
//! the store never sees unvalidated text; it enforces only what needs the
//! database (uniqueness, existence, counters), and lower-cases what SQL
//! compares case-insensitively itself.

use async_trait::async_trait;
use chirp_core::model::{
    Account, Author, Category, Conversation, FollowState, HashtagCount, Message, NotificationKind,
    Tweet,
};
use chirp_core::page::{Page, Paged};
use chirp_core::text::{
    Bio, CategoryName, CategorySlug, DisplayName, MessageText, TweetText, Username,
};
use chrono::{DateTime, Utc};

use crate::StoreResult;
use crate::stats::DbCounts;

/// A new account, its password already hashed.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: Username,
    pub password_hash: String,
    pub display_name: DisplayName,
    pub bio: Bio,
}

/// Changes to an account's profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub display_name: Option<DisplayName>,
    pub bio: Option<Bio>,
    pub protected: Option<bool>,
}

/// What a login needs to check a password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub account_id: i64,
    pub password_hash: String,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Fails with `Conflict` when the name is taken in any letter case.
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account>;
    /// Looks an account up by name, case-insensitively.
    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>>;
    async fn account_by_id(&self, id: i64) -> StoreResult<Option<Account>>;
    async fn credentials(&self, username: &Username) -> StoreResult<Option<Credentials>>;
    async fn update_account(&self, id: i64, patch: AccountPatch) -> StoreResult<Account>;
    /// All accounts newest first, or those whose username or display name
    /// contains `query` (case-insensitive).
    async fn list_accounts(&self, query: Option<&str>, page: Page) -> StoreResult<Paged<Account>>;
    /// The accounts among `usernames` that exist (any letter case), in no
    /// particular order: how a tweet's `@mentions` are resolved.
    async fn accounts_by_usernames(&self, usernames: &[Username]) -> StoreResult<Vec<Account>>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a session under the hash of its token (never the token itself).
    async fn create_session(
        &self,
        token_hash: &str,
        account_id: i64,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The account a live (unexpired) session belongs to.
    async fn session_account(&self, token_hash: &str) -> StoreResult<Option<i64>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Deletes every session past its expiry; returns how many went.
    async fn purge_expired_sessions(&self) -> StoreResult<u64>;
}

/// A new tweet; `hashtags` are the distinct lower-case tags of `text`,
/// `mentions` the usernames of the existing accounts it mentions.
#[derive(Debug, Clone)]
pub struct NewTweet {
    pub author_id: i64,
    pub text: TweetText,
    pub hashtags: Vec<String>,
    pub mentions: Vec<String>,
    pub reply_to: Option<i64>,
    pub category: Option<CategorySlug>,
}

/// Which tweets a list shows. Filters combine with AND; all `None` is the
/// public timeline.
#[derive(Debug, Clone, Default)]
pub struct TweetFilter {
    /// Whose view: only tweets this account may see (public accounts',
    /// its own, and those of the protected accounts it follows). `None`
    /// is the anonymous view: public accounts' tweets only.
    pub viewer: Option<i64>,
    /// The author, in any letter case.
    pub author: Option<Username>,
    /// Lower-case tag, without `#` (as `chirp_core::hashtags::parse_tag`
    /// gives it).
    pub hashtag: Option<String>,
    pub category: Option<CategorySlug>,
    /// Full-text query.
    pub search: Option<String>,
    /// Only replies to this tweet.
    pub reply_to: Option<i64>,
    /// Home timeline of this account: its own tweets and those of the
    /// accounts it follows.
    pub home_of: Option<i64>,
}

/// What applying a like batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LandedLikes {
    /// `false` when the batch id was applied before (a replay), so nothing
    /// was added this time.
    pub applied: bool,
    /// Statements it took.
    pub statements: u64,
    /// `(tweet id, like count)` of the batch's tweets that exist, as the
    /// database holds them once the batch is in: absolute counts a caller
    /// can set, instead of adding what it believes landed.
    pub counts: Vec<(i64, i64)>,
}

#[async_trait]
pub trait TweetStore: Send + Sync {
    /// Fails with `NotFound(Missing::ReplyTarget)` when `reply_to` does not
    /// exist, `NotFound(Missing::Category)` when `category` does not.
    async fn create_tweet(&self, new: NewTweet) -> StoreResult<Tweet>;
    async fn tweet(&self, id: i64) -> StoreResult<Option<Tweet>>;
    /// The tweets among `ids` that exist, in no particular order.
    async fn tweets_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Tweet>>;
    /// Replaces the text, hashtags and mentions and sets `edited_at`.
    async fn edit_tweet(&self, id: i64, edit: &TweetEdit) -> StoreResult<Tweet>;
    /// Ids of every tweet by `author` (to evict them from caches when the
    /// account turns protected).
    async fn tweet_ids_by_author(&self, author: i64) -> StoreResult<Vec<i64>>;
    /// Removes the tweet (and its hashtags, its search entry and its share of
    /// every counter); replies stay, no longer pointing at it. Returns the
    /// ids of those replies (their cached copies still point at it).
    async fn delete_tweet(&self, id: i64) -> StoreResult<Vec<i64>>;
    async fn list_tweets(&self, filter: &TweetFilter, page: Page) -> StoreResult<Paged<Tweet>>;
    /// Adds `(tweet id, likes)` pairs; returns `(tweet id, like count)`
    /// after the addition for each of the tweets that exist.
    async fn add_likes(&self, likes: &[(i64, i64)]) -> StoreResult<Vec<(i64, i64)>>;
    /// Adds a batch of likes under the id `batch`, in one transaction that
    /// also records the id; a batch id applied before is skipped.
    async fn apply_like_batch(&self, batch: i64, likes: &[(i64, i64)]) -> StoreResult<LandedLikes>;
    /// Hashtags starting with `prefix`, most used first, counting the
    /// tweets of public accounts only (the counts are the same for everyone).
    async fn hashtags(&self, prefix: &str, limit: u32) -> StoreResult<Vec<HashtagCount>>;
}

/// A tweet's new text, with what [`NewTweet`] derives from it.
#[derive(Debug, Clone)]
pub struct TweetEdit {
    pub text: TweetText,
    pub hashtags: Vec<String>,
    pub mentions: Vec<String>,
}

#[async_trait]
pub trait SocialStore: Send + Sync {
    /// Creates the edge in `state`, or returns the state it already has
    /// (`created: false`).
    async fn follow(
        &self,
        follower: i64,
        followee: i64,
        state: FollowState,
    ) -> StoreResult<Followed>;
    /// Removes the edge; `false` if there was none.
    async fn unfollow(&self, follower: i64, followee: i64) -> StoreResult<bool>;
    /// The state of `follower`'s edge to `followee`, if any.
    async fn follow_state(&self, follower: i64, followee: i64) -> StoreResult<Option<FollowState>>;
    /// Accounts following `account`, most recent first.
    async fn followers(&self, account: i64, page: Page) -> StoreResult<Paged<Account>>;
    /// Accounts `account` follows, most recent first.
    async fn following(&self, account: i64, page: Page) -> StoreResult<Paged<Account>>;
    /// Accounts asking to follow `account`, most recent first.
    async fn follow_requests(&self, account: i64, page: Page) -> StoreResult<Paged<Account>>;
    /// Turns `follower`'s request into a follow; `false` if there was no
    /// pending request.
    async fn accept_follow(&self, follower: i64, followee: i64) -> StoreResult<bool>;
    /// Deletes `follower`'s pending request; `false` if there was none (an
    /// established follow is left alone).
    async fn reject_follow(&self, follower: i64, followee: i64) -> StoreResult<bool>;
    /// Accepts every pending request to `account` (it stopped being
    /// protected); returns the followers it gained.
    async fn accept_all_follows(&self, account: i64) -> StoreResult<Vec<i64>>;
    /// Whether `viewer` may see any protected account's tweets: its own
    /// (it is protected) or those of a protected account it follows. A
    /// viewer who may not sees exactly the anonymous view of every list.
    async fn sees_protected(&self, viewer: i64) -> StoreResult<bool>;
}

/// What [`SocialStore::follow`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Followed {
    pub state: FollowState,
    /// Whether the edge is new (a repeated follow changes nothing).
    pub created: bool,
}

/// How many notifications an account keeps; older ones are pruned as new
/// ones arrive.
pub const NOTIFICATIONS_KEPT: i64 = 1000;

/// A notification to store.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub recipient: i64,
    pub kind: NotificationKind,
    pub actor: i64,
    pub tweet: Option<i64>,
    pub message: Option<i64>,
}

/// A notification as stored: the tweet and message by id (the operations
/// decide what the recipient may see of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNotification {
    pub id: i64,
    pub recipient: i64,
    pub kind: NotificationKind,
    pub actor: Author,
    pub tweet: Option<i64>,
    pub message: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Stores a notification and prunes the recipient's beyond
    /// [`NOTIFICATIONS_KEPT`], in one transaction.
    async fn create_notification(&self, new: NewNotification) -> StoreResult<StoredNotification>;
    /// `recipient`'s notifications, newest first.
    async fn notifications(
        &self,
        recipient: i64,
        page: Page,
    ) -> StoreResult<Paged<StoredNotification>>;
    /// `recipient`'s notifications after id `after`, oldest first, at most
    /// `limit`: what a stream resuming from `Last-Event-ID` missed.
    async fn notifications_after(
        &self,
        recipient: i64,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredNotification>>;
    async fn unread_notifications(&self, recipient: i64) -> StoreResult<i64>;
    /// Marks `recipient`'s notifications read, up to id `up_to` (all when
    /// `None`); returns how many changed.
    async fn mark_notifications_read(&self, recipient: i64, up_to: Option<i64>)
    -> StoreResult<u64>;
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    async fn create_message(&self, from: i64, to: i64, text: &MessageText) -> StoreResult<Message>;
    /// The messages among `ids` that exist, in no particular order.
    async fn messages_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Message>>;
    /// The conversation of `me` and `other`, newest first.
    async fn messages_between(
        &self,
        me: i64,
        other: i64,
        page: Page,
    ) -> StoreResult<Paged<Message>>;
    /// Marks read the messages `from` sent to `me`; returns how many changed.
    async fn mark_messages_read(&self, me: i64, from: i64) -> StoreResult<u64>;
    /// `me`'s conversations, the one with the newest message first.
    async fn conversations(&self, me: i64, page: Page) -> StoreResult<Paged<Conversation>>;
}

/// A new category.
#[derive(Debug, Clone)]
pub struct NewCategory {
    pub slug: CategorySlug,
    pub name: CategoryName,
    pub description: String,
    pub created_by: i64,
}

#[async_trait]
pub trait CategoryStore: Send + Sync {
    /// Fails with `Conflict` when the slug is taken.
    async fn create_category(&self, new: NewCategory) -> StoreResult<Category>;
    async fn category(&self, slug: &CategorySlug) -> StoreResult<Option<Category>>;
    async fn list_categories(&self, page: Page) -> StoreResult<Paged<Category>>;
}

#[async_trait]
pub trait HealthStore: Send + Sync {
    /// One round trip to the database: readiness.
    async fn ping(&self) -> StoreResult<()>;
    /// Statements sent so far.
    fn db_counts(&self) -> DbCounts;
    /// Waits for in-flight statements and closes the connections.
    async fn close(&self);
}

/// Everything the API needs from storage.
pub trait Store:
    AccountStore
    + SessionStore
    + TweetStore
    + SocialStore
    + NotificationStore
    + MessageStore
    + CategoryStore
    + HealthStore
{
}

impl<T> Store for T where
    T: AccountStore
        + SessionStore
        + TweetStore
        + SocialStore
        + NotificationStore
        + MessageStore
        + CategoryStore
        + HealthStore
{
}
