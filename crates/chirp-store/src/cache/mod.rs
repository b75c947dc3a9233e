//! The read cache (SPEC §1.4): a [`Store`] that answers reads from a cache
//! and passes everything else to the store it wraps.
//!
//! * **Entities** are cached by id (`t:{id}` tweets, `ai:{id}` accounts;
//!   `an:{name}` maps a username, which never changes, to its id; `c:{slug}`
//!   categories, which never change). Writes delete the entries they make
//!   stale, like batches included, so counts stay fresh.
//! * **Lists** (timelines, searches, followers, hashtag counts, ...) are
//!   stored with a *stamp*: the values of the generation counters of the
//!   scopes they depend on, read before the list was read from the
//!   database. An entry is served only while every counter still has the
//!   value in its stamp; a write bumps the counters of the scopes it
//!   touches, after it committed. Keys and scope names are built field by
//!   field with length-prefixed values (`keys.rs`), never from `Debug`.
//! * **Scopes** follow what a write can change. A new or deleted tweet
//!   bumps the public timeline, its author (user timeline, `?author=`), its
//!   category, its hashtags, the replies of its parent, the hashtag counts
//!   when it has tags, and `search`; an edit bumps only the tags it gained
//!   or lost and `search` (it reads the old tags from the database first).
//!   A list with several conditions depends on the scope of each (a tweet
//!   entering it meets them all, so one of them moves). `search` is one
//!   scope for every query, since any new or edited tweet may match any
//!   query: searches live about as long as the public timeline. Account
//!   lists depend on `accounts` (sign-ups and display-name changes),
//!   followers and following lists on their account's own scopes, the
//!   category list on `categories`.
//! * **Home timelines** depend on the reader's `following` scope and on
//!   the author scope of the reader and of every account it follows, so a
//!   post by X stales exactly the home lists of X and of X's followers. The
//!   set of authors is itself cached under `following` (bumped by follows
//!   and unfollows); for an account following more than
//!   `HOME_MAX_FOLLOWEES` (256) the home timeline is not cached.
//! * **Tweet and account lists hold ids** and are filled from the entity
//!   entries, so a flushed like or a new follower count shows in every list
//!   without touching the lists.
//! * **Stale fills**: a read that missed stores what the database gave it
//!   only if its key was not evicted meanwhile (`guard.rs`), per key, so a
//!   like batch never drops the fill of a tweet it did not touch. Lists need
//!   no such guard: a list read before a bump carries the old stamp.
//! * **Protected accounts** (issue 10): no shared entry holds what only
//!   some may see. A tweet by a protected account is never stored as an
//!   entity; lists are cached only as the anonymous view (which the SQL
//!   restricts to public accounts) or as their owner's home timeline (ids
//!   only, every one the owner's to see). A logged-in reader who may see
//!   no protected account sees exactly the anonymous view, so it is served
//!   that (`sees_protected`, cached per reader); one who may is served from
//!   the database. When an account turns protected its cached tweets are
//!   deleted and the `visibility` scope, on which every tweet list depends,
//!   is bumped.
//! * Sessions, credentials, follow states, follow requests, notifications
//!   and messages are never cached: they decide who may do what, or are
//!   private, and must be current.
//!
//! The backend is in-process ([`backend::MemoryBackend`]) or Redis
//! ([`backend::RedisBackend`]), where the counters live too (`INCR`, read
//! with the entry in one `MGET`), so every API instance sees every bump. A
//! backend that fails is treated as a miss, so Redis going down only costs
//! speed; a circuit breaker (`breaker.rs`) skips Redis at once during an
//! outage instead of letting each call wait for its timeout. Writes made
//! while Redis is unreachable can neither evict nor bump there, so what
//! Redis held from before the outage may be served stale after it, until
//! its TTL. Counters expire a while after their last bump and never take a
//! value twice (see [`backend`]), so a forgotten one cannot revive an entry.

pub mod backend;
mod breaker;
mod guard;
mod keys;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chirp_core::model::{
    Account, Category, Conversation, FollowState, HashtagCount, Message, Tweet,
};
use chirp_core::page::{Page, Paged};
use chirp_core::text::{CategorySlug, MessageText, Username};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use self::backend::CacheBackend;
use self::guard::{Evictions, Ticket};
use self::keys::{Key, scope};
use crate::stats::DbCounts;
use crate::{
    AccountPatch, AccountStore, CategoryStore, Credentials, Followed, HealthStore, LandedLikes,
    MessageStore, NewAccount, NewCategory, NewNotification, NewTweet, NotificationStore,
    SessionStore, SocialStore, Store, StoreResult, StoredNotification, TweetEdit, TweetFilter,
    TweetStore,
};

/// Namespace of every key, so a shared Redis can hold other things too.
const PREFIX: &str = "chirp:";

/// When an eviction deletes its keys a second time (see `forget`).
const REDELETE_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// Home timelines of accounts following more than this many are not
/// cached: their entry would depend on that many author generations, and
/// fetching those on every read costs more than the one query it saves.
const HOME_MAX_FOLLOWEES: u32 = 256;

/// A list entry: the generations of its scopes when it was read from the
/// database, and the list. Good while every one of them is unchanged.
#[derive(Serialize, Deserialize)]
struct Stamped<T> {
    g: Vec<u64>,
    v: T,
}

/// A store with a read cache in front.
pub struct CachedStore {
    inner: Arc<dyn Store>,
    cache: Arc<dyn CacheBackend>,
    /// Starts every key; one namespace per database (tests give each
    /// database its own, so a shared Redis never mixes two of them).
    prefix: String,
    /// Which entity keys were evicted while a read of them was on its way
    /// from the database (see [`guard`]): such a read does not store what
    /// it got. Per key, so evicting one tweet never drops the fill of another.
    evictions: Evictions,
}

impl CachedStore {
    pub fn new(inner: Arc<dyn Store>, cache: Arc<dyn CacheBackend>) -> Self {
        Self::namespaced(inner, cache, PREFIX)
    }

    /// Like [`CachedStore::new`], with keys starting with `prefix`.
    pub fn namespaced(inner: Arc<dyn Store>, cache: Arc<dyn CacheBackend>, prefix: &str) -> Self {
        Self {
            inner,
            cache,
            prefix: prefix.to_owned(),
            evictions: Evictions::default(),
        }
    }

    /// Stores an entity read from the database, unless its key was evicted
    /// since `ticket` was taken (then the value may already be stale).
    ///
    /// The check before the store is not enough on its own: an eviction can
    /// begin after it and send its delete while our store is still on its
    /// way (to Redis, say), so the stale value lands after the delete. So
    /// the key is checked again once the store is done, and if it was
    /// evicted meanwhile, our entry is taken out again. An eviction that
    /// begins after that second check deletes after our store finished.
    async fn fill<T: Serialize>(&self, ticket: Ticket, key: &str, value: &T) {
        if self.evictions.stale(key, ticket) {
            return;
        }
        self.put(key, value).await;
        if self.evictions.stale(key, ticket) {
            self.cache.delete(&[key.to_owned()]).await;
        }
    }

    fn key(&self, kind: &str, id: impl std::fmt::Display) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    fn tweet_key(&self, id: i64) -> String {
        self.key("t", id)
    }

    fn account_key(&self, id: i64) -> String {
        self.key("ai", id)
    }

    async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let bytes = self.cache.get(key).await?;
        serde_json::from_slice(&bytes).ok()
    }

    async fn put<T: Serialize>(&self, key: &str, value: &T) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.cache.set(key, bytes).await;
        }
    }

    /// Makes stale every list that depends on one of `scopes`. Called after
    /// the write, so a list read from the database before the bump is stored
    /// under the old generations and never served.
    async fn bump(&self, scopes: impl IntoIterator<Item = Key>) {
        let names: BTreeSet<String> = scopes.into_iter().map(|s| s.under(&self.prefix)).collect();
        let names: Vec<String> = names.into_iter().collect();
        self.cache.bump(&names).await;
    }

    /// The cached list under `key` if none of `scopes` moved since it was
    /// stored; otherwise `load` it and store it stamped with the
    /// generations read *before* loading. Uncached when the backend cannot
    /// say what the generations are.
    async fn list<T, F>(&self, key: Key, scopes: Vec<Key>, load: F) -> StoreResult<T>
    where
        T: Serialize + DeserializeOwned,
        F: std::future::Future<Output = StoreResult<T>>,
    {
        let key = key.under(&self.prefix);
        let scopes: Vec<String> = scopes.into_iter().map(|s| s.under(&self.prefix)).collect();
        let looked = self.cache.stamped(&scopes, &key).await;
        if let Some((stamp, Some(bytes))) = &looked
            && let Ok(hit) = serde_json::from_slice::<Stamped<T>>(bytes)
            && hit.g == *stamp
        {
            return Ok(hit.v);
        }
        let value = load.await?;
        if let Some((g, _)) = looked {
            self.put(&key, &Stamped { g, v: &value }).await;
        }
        Ok(value)
    }

    /// Tweets by id in the given order, from the cache where possible and
    /// from the database for the rest (which are then cached). Ids that no
    /// longer exist are left out.
    async fn hydrate(&self, ids: &[i64]) -> StoreResult<Vec<Tweet>> {
        let keys: Vec<String> = ids.iter().map(|&id| self.tweet_key(id)).collect();
        let cached = self.cache.get_many(&keys).await;
        let mut found: HashMap<i64, Tweet> = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for (&id, bytes) in ids.iter().zip(cached) {
            match bytes.and_then(|b| serde_json::from_slice::<Tweet>(&b).ok()) {
                Some(t) => {
                    found.insert(id, t);
                }
                None => missing.push(id),
            }
        }
        if !missing.is_empty() {
            let ticket = self.evictions.ticket();
            for t in self.inner.tweets_by_ids(&missing).await? {
                // Only some may see a protected account's tweet: it never
                // goes in a shared entry.
                if !t.author.protected {
                    self.fill(ticket, &self.tweet_key(t.id), &t).await;
                }
                found.insert(t.id, t);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Accounts by id in the given order, like [`CachedStore::hydrate`].
    async fn hydrate_accounts(&self, ids: &[i64]) -> StoreResult<Vec<Account>> {
        let keys: Vec<String> = ids.iter().map(|&id| self.account_key(id)).collect();
        let cached = self.cache.get_many(&keys).await;
        let mut out = Vec::with_capacity(ids.len());
        for ((&id, key), bytes) in ids.iter().zip(&keys).zip(cached) {
            if let Some(a) = bytes.and_then(|b| serde_json::from_slice::<Account>(&b).ok()) {
                out.push(a);
                continue;
            }
            let ticket = self.evictions.ticket();
            if let Some(a) = self.inner.account_by_id(id).await? {
                self.fill(ticket, key, &a).await;
                out.push(a);
            }
        }
        Ok(out)
    }

    /// A cached list of accounts: the ids under `key`, the accounts from
    /// their own entries (so counters stay current without touching the
    /// list). A fill stores the accounts it read as well.
    async fn account_list<F>(
        &self,
        key: Key,
        scopes: Vec<Key>,
        load: F,
    ) -> StoreResult<Paged<Account>>
    where
        F: std::future::Future<Output = StoreResult<Paged<Account>>>,
    {
        let ids: Paged<i64> = self
            .list(key, scopes, async {
                let ticket = self.evictions.ticket();
                let page = load.await?;
                for a in &page.items {
                    self.fill(ticket, &self.account_key(a.id), a).await;
                }
                Ok(page.map(|a| a.id))
            })
            .await?;
        let accounts = self.hydrate_accounts(&ids.items).await?;
        Ok(Paged {
            items: accounts,
            next_cursor: ids.next_cursor,
        })
    }

    /// Whose tweets `account`'s home timeline shows (its own and its
    /// followees', lower-case names), cached until it follows or unfollows
    /// someone; `None` when it follows too many to cache its home timeline.
    async fn home_authors(&self, account: i64) -> StoreResult<Option<Vec<String>>> {
        let load = async {
            let followees = self
                .inner
                .following(account, Page::first(HOME_MAX_FOLLOWEES))
                .await?;
            if followees.next_cursor.is_some() {
                return Ok(None);
            }
            let me = self.inner.account_by_id(account).await?;
            Ok(Some(
                me.into_iter()
                    .chain(followees.items)
                    .map(|a| a.username.to_ascii_lowercase())
                    .collect(),
            ))
        };
        self.list(
            keys::home_authors(account),
            vec![scope::following(account)],
            load,
        )
        .await
    }

    /// The scopes a list of tweets depends on: one per condition (a cached
    /// entry is good only while all are unchanged), the public timeline's
    /// when there is none. A write that can change the list bumps at least
    /// one of them (see [`tweet_scopes`] and `edit_tweet`).
    fn filter_scopes(filter: &TweetFilter, home_authors: &[String]) -> Vec<Key> {
        let mut scopes = Vec::new();
        if let Some(a) = &filter.author {
            scopes.push(scope::author(&a.lowercase()));
        }
        if let Some(t) = &filter.hashtag {
            scopes.push(scope::hashtag(t));
        }
        if let Some(c) = &filter.category {
            scopes.push(scope::category(c.as_str()));
        }
        if filter.search.is_some() {
            scopes.push(scope::search());
        }
        if let Some(p) = filter.reply_to {
            scopes.push(scope::replies(p));
        }
        if let Some(me) = filter.home_of {
            scopes.push(scope::following(me));
            scopes.extend(home_authors.iter().map(|a| scope::author(a)));
        }
        if scopes.is_empty() {
            scopes.push(scope::public());
        }
        scopes.push(scope::visibility());
        scopes
    }

    async fn forget_tweets(&self, ids: impl IntoIterator<Item = i64>) {
        let keys: Vec<String> = ids.into_iter().map(|id| self.tweet_key(id)).collect();
        self.forget(keys).await;
    }

    async fn forget_accounts(&self, ids: &[i64]) {
        let keys: Vec<String> = ids.iter().map(|&id| self.account_key(id)).collect();
        self.forget(keys).await;
    }

    /// Deletes `keys` after a write, and once more a moment later.
    ///
    /// The eviction marks guard fills by this instance only. Another
    /// instance sharing the Redis may have read the old row just before
    /// our write and store it just after our delete; the second delete
    /// takes such an entry out within [`REDELETE_AFTER`] instead of leaving
    /// it for the whole TTL.
    async fn forget(&self, keys: Vec<String>) {
        if keys.is_empty() {
            return;
        }
        self.evictions.mark(&keys);
        self.cache.delete(&keys).await;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let cache = self.cache.clone();
            runtime.spawn(async move {
                tokio::time::sleep(REDELETE_AFTER).await;
                cache.delete(&keys).await;
            });
        }
    }
}

/// Every scope whose lists a new or deleted tweet `t` enters or leaves: the
/// lists it is in are exactly those whose conditions it meets, and it meets
/// each condition through one of these.
fn tweet_scopes(t: &Tweet) -> Vec<Key> {
    let mut scopes = vec![
        scope::public(),
        scope::author(&t.author.username.to_ascii_lowercase()),
        scope::search(),
    ];
    scopes.extend(t.category.as_deref().map(scope::category));
    scopes.extend(t.reply_to.map(scope::replies));
    scopes.extend(t.hashtags.iter().map(|h| scope::hashtag(h)));
    if !t.hashtags.is_empty() {
        scopes.push(scope::hashtag_counts());
    }
    scopes
}

#[async_trait]
impl AccountStore for CachedStore {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let account = self.inner.create_account(new).await?;
        self.bump([scope::accounts()]).await;
        Ok(account)
    }

    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>> {
        let name_key = self.key("an", username.lowercase());
        if let Some(id) = self.get::<i64>(&name_key).await {
            return self.account_by_id(id).await;
        }
        let ticket = self.evictions.ticket();
        let found = self.inner.account_by_username(username).await?;
        if let Some(a) = &found {
            // A username never changes hands, so the mapping needs no guard.
            self.put(&name_key, &a.id).await;
            self.fill(ticket, &self.account_key(a.id), a).await;
        }
        Ok(found)
    }

    async fn account_by_id(&self, id: i64) -> StoreResult<Option<Account>> {
        let k = self.account_key(id);
        if let Some(hit) = self.get::<Account>(&k).await {
            return Ok(Some(hit));
        }
        let ticket = self.evictions.ticket();
        let found = self.inner.account_by_id(id).await?;
        if let Some(a) = &found {
            self.fill(ticket, &k, a).await;
        }
        Ok(found)
    }

    async fn credentials(&self, username: &Username) -> StoreResult<Option<Credentials>> {
        self.inner.credentials(username).await
    }

    async fn update_account(&self, id: i64, patch: AccountPatch) -> StoreResult<Account> {
        // Only the display name decides which searches find an account;
        // account lists hold ids, so the rest shows through the entry.
        let renamed = patch.display_name.is_some();
        // Whether it was protected before, from the database, when asked
        // to change it (a settings form sends the switch every time).
        let was_protected = match patch.protected {
            Some(_) => self.inner.account_by_id(id).await?.map(|a| a.protected),
            None => None,
        };
        let account = self.inner.update_account(id, patch).await?;
        self.forget_accounts(&[id]).await;
        if renamed {
            self.bump([scope::accounts()]).await;
        }
        if was_protected.is_some_and(|was| was != account.protected) {
            if account.protected {
                // Its tweets were public, so entries of them may be cached.
                let ids = self.inner.tweet_ids_by_author(id).await?;
                self.forget_tweets(ids).await;
            }
            self.bump([scope::visibility()]).await;
        }
        Ok(account)
    }

    async fn list_accounts(&self, query: Option<&str>, page: Page) -> StoreResult<Paged<Account>> {
        self.account_list(
            keys::account_list(query, page),
            vec![scope::accounts()],
            self.inner.list_accounts(query, page),
        )
        .await
    }

    async fn accounts_by_usernames(&self, usernames: &[Username]) -> StoreResult<Vec<Account>> {
        self.inner.accounts_by_usernames(usernames).await
    }
}

#[async_trait]
impl SessionStore for CachedStore {
    async fn create_session(
        &self,
        token_hash: &str,
        account_id: i64,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.inner
            .create_session(token_hash, account_id, expires_at)
            .await
    }

    async fn session_account(&self, token_hash: &str) -> StoreResult<Option<i64>> {
        self.inner.session_account(token_hash).await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.inner.delete_session(token_hash).await
    }

    async fn purge_expired_sessions(&self) -> StoreResult<u64> {
        self.inner.purge_expired_sessions().await
    }
}

#[async_trait]
impl TweetStore for CachedStore {
    async fn create_tweet(&self, new: NewTweet) -> StoreResult<Tweet> {
        let author = new.author_id;
        let parent = new.reply_to;
        let tweet = self.inner.create_tweet(new).await?;
        self.forget_accounts(&[author]).await;
        self.forget_tweets(parent).await;
        self.bump(tweet_scopes(&tweet)).await;
        Ok(tweet)
    }

    async fn tweet(&self, id: i64) -> StoreResult<Option<Tweet>> {
        Ok(self.hydrate(&[id]).await?.pop())
    }

    async fn tweets_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Tweet>> {
        self.hydrate(ids).await
    }

    async fn edit_tweet(&self, id: i64, edit: &TweetEdit) -> StoreResult<Tweet> {
        // The tags it had, from the database: a cached copy might be behind.
        let before = self.inner.tweet(id).await?;
        let tweet = self.inner.edit_tweet(id, edit).await?;
        self.forget_tweets([id]).await;
        // An edit changes only which searches and hashtag lists the tweet
        // is in: the tags it lost or gained, and any search.
        let old: BTreeSet<&String> = before.iter().flat_map(|t| &t.hashtags).collect();
        let new: BTreeSet<&String> = tweet.hashtags.iter().collect();
        let mut scopes = vec![scope::search()];
        scopes.extend(old.symmetric_difference(&new).map(|t| scope::hashtag(t)));
        if old != new {
            scopes.push(scope::hashtag_counts());
        }
        self.bump(scopes).await;
        Ok(tweet)
    }

    async fn delete_tweet(&self, id: i64) -> StoreResult<Vec<i64>> {
        let before = self.inner.tweet(id).await?;
        let replies = self.inner.delete_tweet(id).await?;
        let parent = before.as_ref().and_then(|t| t.reply_to);
        // Its replies' entries still name it as their parent.
        self.forget_tweets(
            std::iter::once(id)
                .chain(parent)
                .chain(replies.iter().copied()),
        )
        .await;
        // Its replies stay, no longer answering it.
        let mut scopes = vec![scope::replies(id)];
        if let Some(t) = before {
            self.forget_accounts(&[t.author.id]).await;
            scopes.extend(tweet_scopes(&t));
        } else {
            // Gone already (a race with another delete): its scopes are
            // unknown, and the lists showing it drop it when hydrating.
            scopes.push(scope::public());
        }
        self.bump(scopes).await;
        Ok(replies)
    }

    async fn tweet_ids_by_author(&self, author: i64) -> StoreResult<Vec<i64>> {
        self.inner.tweet_ids_by_author(author).await
    }

    async fn list_tweets(&self, filter: &TweetFilter, page: Page) -> StoreResult<Paged<Tweet>> {
        // Cached as the anonymous view, or as its owner's home timeline;
        // see the module doc.
        let anonymous;
        let filter = match filter.viewer {
            Some(viewer) if filter.home_of != Some(viewer) => {
                if self.sees_protected(viewer).await? {
                    return self.inner.list_tweets(filter, page).await;
                }
                anonymous = TweetFilter {
                    viewer: None,
                    ..filter.clone()
                };
                &anonymous
            }
            _ => filter,
        };
        let home_authors = match filter.home_of {
            Some(me) => match self.home_authors(me).await? {
                Some(authors) => authors,
                None => return self.inner.list_tweets(filter, page).await,
            },
            None => Vec::new(),
        };
        let ids: Paged<i64> = self
            .list(
                keys::tweet_list(filter, page),
                Self::filter_scopes(filter, &home_authors),
                async { Ok(self.inner.list_tweets(filter, page).await?.map(|t| t.id)) },
            )
            .await?;
        let tweets = self.hydrate(&ids.items).await?;
        Ok(Paged {
            items: tweets,
            next_cursor: ids.next_cursor,
        })
    }

    async fn add_likes(&self, likes: &[(i64, i64)]) -> StoreResult<Vec<(i64, i64)>> {
        let counts = self.inner.add_likes(likes).await?;
        self.forget_tweets(likes.iter().map(|(id, _)| *id)).await;
        Ok(counts)
    }

    async fn apply_like_batch(&self, batch: i64, likes: &[(i64, i64)]) -> StoreResult<LandedLikes> {
        let result = self.inner.apply_like_batch(batch, likes).await?;
        self.forget_tweets(likes.iter().map(|(id, _)| *id)).await;
        Ok(result)
    }

    async fn hashtags(&self, prefix: &str, limit: u32) -> StoreResult<Vec<HashtagCount>> {
        self.list(
            keys::hashtag_counts(prefix, limit),
            vec![scope::hashtag_counts(), scope::visibility()],
            self.inner.hashtags(prefix, limit),
        )
        .await
    }
}

#[async_trait]
impl SocialStore for CachedStore {
    async fn follow(
        &self,
        follower: i64,
        followee: i64,
        state: FollowState,
    ) -> StoreResult<Followed> {
        let followed = self.inner.follow(follower, followee, state).await?;
        self.forget_accounts(&[follower, followee]).await;
        self.bump([scope::followers(followee), scope::following(follower)])
            .await;
        Ok(followed)
    }

    async fn unfollow(&self, follower: i64, followee: i64) -> StoreResult<bool> {
        let removed = self.inner.unfollow(follower, followee).await?;
        self.forget_accounts(&[follower, followee]).await;
        self.bump([scope::followers(followee), scope::following(follower)])
            .await;
        Ok(removed)
    }

    async fn follow_state(&self, follower: i64, followee: i64) -> StoreResult<Option<FollowState>> {
        self.inner.follow_state(follower, followee).await
    }

    async fn followers(&self, account: i64, page: Page) -> StoreResult<Paged<Account>> {
        self.account_list(
            keys::followers_list(account, page),
            vec![scope::followers(account)],
            self.inner.followers(account, page),
        )
        .await
    }

    async fn following(&self, account: i64, page: Page) -> StoreResult<Paged<Account>> {
        self.account_list(
            keys::following_list(account, page),
            vec![scope::following(account)],
            self.inner.following(account, page),
        )
        .await
    }

    async fn follow_requests(&self, account: i64, page: Page) -> StoreResult<Paged<Account>> {
        self.inner.follow_requests(account, page).await
    }

    async fn accept_follow(&self, follower: i64, followee: i64) -> StoreResult<bool> {
        let accepted = self.inner.accept_follow(follower, followee).await?;
        if accepted {
            self.forget_accounts(&[follower, followee]).await;
            self.bump([scope::followers(followee), scope::following(follower)])
                .await;
        }
        Ok(accepted)
    }

    async fn reject_follow(&self, follower: i64, followee: i64) -> StoreResult<bool> {
        // A request is in no cached list and no counter.
        self.inner.reject_follow(follower, followee).await
    }

    async fn accept_all_follows(&self, account: i64) -> StoreResult<Vec<i64>> {
        let followers = self.inner.accept_all_follows(account).await?;
        if !followers.is_empty() {
            let mut accounts = followers.clone();
            accounts.push(account);
            self.forget_accounts(&accounts).await;
            let mut scopes = vec![scope::followers(account)];
            scopes.extend(followers.iter().map(|&f| scope::following(f)));
            self.bump(scopes).await;
        }
        Ok(followers)
    }

    async fn sees_protected(&self, viewer: i64) -> StoreResult<bool> {
        // Its follows (and so whom it sees) move `following`; its own
        // protection, and its followees', move `visibility`.
        self.list(
            keys::sees_protected(viewer),
            vec![scope::following(viewer), scope::visibility()],
            self.inner.sees_protected(viewer),
        )
        .await
    }
}

/// Private, and read by their owner alone: passed through, never cached.
#[async_trait]
impl NotificationStore for CachedStore {
    async fn create_notification(&self, new: NewNotification) -> StoreResult<StoredNotification> {
        self.inner.create_notification(new).await
    }

    async fn notifications(
        &self,
        recipient: i64,
        page: Page,
    ) -> StoreResult<Paged<StoredNotification>> {
        self.inner.notifications(recipient, page).await
    }

    async fn notifications_after(
        &self,
        recipient: i64,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredNotification>> {
        self.inner
            .notifications_after(recipient, after, limit)
            .await
    }

    async fn unread_notifications(&self, recipient: i64) -> StoreResult<i64> {
        self.inner.unread_notifications(recipient).await
    }

    async fn mark_notifications_read(
        &self,
        recipient: i64,
        up_to: Option<i64>,
    ) -> StoreResult<u64> {
        self.inner.mark_notifications_read(recipient, up_to).await
    }
}

/// Private to their two parties: passed through, never cached.
#[async_trait]
impl MessageStore for CachedStore {
    async fn create_message(&self, from: i64, to: i64, text: &MessageText) -> StoreResult<Message> {
        self.inner.create_message(from, to, text).await
    }

    async fn messages_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Message>> {
        self.inner.messages_by_ids(ids).await
    }

    async fn messages_between(
        &self,
        me: i64,
        other: i64,
        page: Page,
    ) -> StoreResult<Paged<Message>> {
        self.inner.messages_between(me, other, page).await
    }

    async fn mark_messages_read(&self, me: i64, from: i64) -> StoreResult<u64> {
        self.inner.mark_messages_read(me, from).await
    }

    async fn conversations(&self, me: i64, page: Page) -> StoreResult<Paged<Conversation>> {
        self.inner.conversations(me, page).await
    }
}

#[async_trait]
impl CategoryStore for CachedStore {
    async fn create_category(&self, new: NewCategory) -> StoreResult<Category> {
        let category = self.inner.create_category(new).await?;
        self.bump([scope::categories()]).await;
        Ok(category)
    }

    async fn category(&self, slug: &CategorySlug) -> StoreResult<Option<Category>> {
        // Categories never change once made, so a hit is always right.
        let k = self.key("c", slug.as_str());
        if let Some(hit) = self.get::<Category>(&k).await {
            return Ok(Some(hit));
        }
        let found = self.inner.category(slug).await?;
        if let Some(c) = &found {
            self.put(&k, c).await;
        }
        Ok(found)
    }

    async fn list_categories(&self, page: Page) -> StoreResult<Paged<Category>> {
        self.list(
            keys::category_list(page),
            vec![scope::categories()],
            self.inner.list_categories(page),
        )
        .await
    }
}

#[async_trait]
impl HealthStore for CachedStore {
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    fn db_counts(&self) -> DbCounts {
        self.inner.db_counts()
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chirp_core::hashtags::extract_hashtags;
    use chirp_core::text::{Bio, DisplayName, TweetText};

    use super::backend::MemoryBackend;
    use super::*;
    use crate::SqlStore;
    use crate::sql::PoolConfig;

    /// A cached store over a fresh SQLite file, with the memory backend.
    async fn cached_sqlite() -> (tempfile::TempDir, CachedStore) {
        cached_sqlite_with(Arc::new(MemoryBackend::new(
            Duration::from_secs(60),
            1 << 20,
        )))
        .await
    }

    /// The same over Redis (`CHIRP_TEST_REDIS_URL`, or the local one), in
    /// a namespace of its own.
    async fn cached_sqlite_on_redis() -> (tempfile::TempDir, CachedStore) {
        let url = std::env::var("CHIRP_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let redis = backend::RedisBackend::connect(&url, Duration::from_secs(60)).expect("url");
        cached_sqlite_with(Arc::new(redis)).await
    }

    async fn cached_sqlite_with(
        backend: Arc<dyn CacheBackend>,
    ) -> (tempfile::TempDir, CachedStore) {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let sql: Arc<dyn Store> = Arc::new(
            SqlStore::connect(&url, &PoolConfig::default())
                .await
                .expect("db"),
        );
        let ns = format!("chirp-test:{}:", dir.path().display());
        (dir, CachedStore::namespaced(sql, backend, &ns))
    }

    async fn account(store: &CachedStore, name: &str) -> Account {
        store
            .create_account(NewAccount {
                username: Username::parse(name).expect("name"),
                password_hash: "x".into(),
                display_name: DisplayName::parse("").expect("name"),
                bio: Bio::parse("").expect("bio"),
            })
            .await
            .expect("account")
    }

    async fn post(store: &CachedStore, author: &Account, text: &str) -> Tweet {
        store
            .create_tweet(NewTweet {
                author_id: author.id,
                text: TweetText::parse(text).expect("text"),
                hashtags: extract_hashtags(text),
                mentions: Vec::new(),
                reply_to: None,
                category: None,
            })
            .await
            .expect("tweet")
    }

    async fn ids(store: &CachedStore, filter: &TweetFilter) -> Vec<i64> {
        let page = store
            .list_tweets(filter, Page::default())
            .await
            .expect("list");
        page.items.iter().map(|t| t.id).collect()
    }

    fn reads(store: &CachedStore) -> u64 {
        store.db_counts().reads
    }

    fn by(name: &str) -> TweetFilter {
        TweetFilter {
            author: Some(Username::parse(name).expect("name")),
            ..TweetFilter::default()
        }
    }

    fn tagged(tag: &str) -> TweetFilter {
        TweetFilter {
            hashtag: Some(tag.to_owned()),
            ..TweetFilter::default()
        }
    }

    fn home(of: &Account) -> TweetFilter {
        TweetFilter {
            home_of: Some(of.id),
            ..TweetFilter::default()
        }
    }

    fn search(q: &str) -> TweetFilter {
        TweetFilter {
            search: Some(q.to_owned()),
            ..TweetFilter::default()
        }
    }

    /// With one global generation every post made every list stale; now a
    /// post touches only the lists it can enter.
    #[tokio::test]
    async fn a_post_leaves_the_lists_it_cannot_enter_cached_in_memory() {
        let (_dir, store) = cached_sqlite().await;
        a_post_leaves_the_lists_it_cannot_enter_cached(store).await;
    }

    #[tokio::test]
    async fn a_post_leaves_the_lists_it_cannot_enter_cached_in_redis() {
        let (_dir, store) = cached_sqlite_on_redis().await;
        a_post_leaves_the_lists_it_cannot_enter_cached(store).await;
    }

    async fn a_post_leaves_the_lists_it_cannot_enter_cached(store: CachedStore) {
        let alice = account(&store, "alice").await;
        let bob = account(&store, "bob").await;
        let carol = account(&store, "carol").await;
        let dave = account(&store, "dave").await;
        store
            .follow(carol.id, bob.id, FollowState::Following)
            .await
            .expect("follow");
        store
            .follow(dave.id, alice.id, FollowState::Following)
            .await
            .expect("follow");
        let bobs = post(&store, &bob, "hello #rust").await;
        let untouched = [by("bob"), tagged("rust"), home(&carol)];
        let touched = [TweetFilter::default(), by("alice"), home(&dave)];
        for f in untouched.iter().chain(&touched) {
            ids(&store, f).await;
        }
        let before = reads(&store);
        for f in untouched.iter().chain(&touched) {
            ids(&store, f).await;
        }
        assert_eq!(reads(&store), before, "all warm");

        let alices = post(&store, &alice, "hi #go").await;
        let before = reads(&store);
        for f in &untouched {
            assert_eq!(ids(&store, f).await, vec![bobs.id], "{f:?}");
        }
        assert_eq!(reads(&store), before, "bob's lists and #rust stay hits");
        assert_eq!(
            ids(&store, &TweetFilter::default()).await,
            vec![alices.id, bobs.id]
        );
        assert_eq!(ids(&store, &by("alice")).await, vec![alices.id]);
        assert_eq!(ids(&store, &home(&dave)).await, vec![alices.id]);
        assert!(
            reads(&store) > before,
            "the lists alice's post entered are read again"
        );
    }

    /// Generations live in Redis, so a post through one instance stales the
    /// lists another instance cached, and leaves the others cached for it.
    #[tokio::test]
    async fn instances_sharing_redis_share_the_generations() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let redis_url = std::env::var("CHIRP_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let ns = format!("chirp-test:{}:", dir.path().display());
        let mut instances = Vec::new();
        for _ in 0..2 {
            let sql: Arc<dyn Store> = Arc::new(
                SqlStore::connect(&url, &PoolConfig::default())
                    .await
                    .expect("db"),
            );
            let redis =
                backend::RedisBackend::connect(&redis_url, Duration::from_secs(60)).expect("url");
            instances.push(CachedStore::namespaced(sql, Arc::new(redis), &ns));
        }
        let (a, b) = (&instances[0], &instances[1]);
        let alice = account(a, "alice").await;
        let bob = account(a, "bob").await;
        let bobs = post(a, &bob, "from bob").await;
        assert_eq!(ids(b, &by("bob")).await, vec![bobs.id]);
        assert_eq!(ids(b, &TweetFilter::default()).await, vec![bobs.id]);
        let alices = post(a, &alice, "from alice").await;
        let before = reads(b);
        assert_eq!(ids(b, &by("bob")).await, vec![bobs.id]);
        assert_eq!(reads(b), before, "bob's timeline is still a hit on b");
        assert_eq!(
            ids(b, &TweetFilter::default()).await,
            vec![alices.id, bobs.id],
            "b saw a's bump"
        );
    }

    /// A like batch evicts the tweets it touched and nothing else: a fill of
    /// another tweet that was on its way meanwhile is still stored.
    #[tokio::test]
    async fn a_like_batch_does_not_drop_the_fill_of_another_tweet() {
        let (_dir, store) = cached_sqlite().await;
        let alice = account(&store, "alice").await;
        let liked = post(&store, &alice, "liked").await;
        let other = post(&store, &alice, "other").await;
        let key = store.tweet_key(other.id);

        // The fill of `other` began (ticket taken, database read) before the batch.
        let ticket = store.evictions.ticket();
        store
            .apply_like_batch(1, &[(liked.id, 3)])
            .await
            .expect("likes");
        store.fill(ticket, &key, &other).await;
        assert!(
            store.cache.get(&key).await.is_some(),
            "the fill was dropped"
        );

        // A batch touching the tweet being filled still stops the fill.
        store.cache.delete(std::slice::from_ref(&key)).await;
        let ticket = store.evictions.ticket();
        store
            .apply_like_batch(2, &[(other.id, 1)])
            .await
            .expect("likes");
        store.fill(ticket, &key, &other).await;
        assert!(
            store.cache.get(&key).await.is_none(),
            "a stale fill was stored"
        );
    }

    /// An edit moves a tweet between hashtag lists and searches, and leaves
    /// its author's timeline alone.
    #[tokio::test]
    async fn edits_move_a_tweet_between_hashtags_and_searches_in_memory() {
        let (_dir, store) = cached_sqlite().await;
        edits_move_a_tweet_between_hashtags_and_searches(store).await;
    }

    #[tokio::test]
    async fn edits_move_a_tweet_between_hashtags_and_searches_in_redis() {
        let (_dir, store) = cached_sqlite_on_redis().await;
        edits_move_a_tweet_between_hashtags_and_searches(store).await;
    }

    async fn edits_move_a_tweet_between_hashtags_and_searches(store: CachedStore) {
        let bob = account(&store, "bob").await;
        let t = post(&store, &bob, "learning #rust").await;
        assert_eq!(ids(&store, &tagged("rust")).await, vec![t.id]);
        assert!(ids(&store, &tagged("go")).await.is_empty());
        assert!(ids(&store, &search("gophers")).await.is_empty());
        ids(&store, &by("bob")).await;

        let text = "learning #go with gophers";
        store
            .edit_tweet(
                t.id,
                &TweetEdit {
                    text: TweetText::parse(text).expect("text"),
                    hashtags: extract_hashtags(text),
                    mentions: Vec::new(),
                },
            )
            .await
            .expect("edit");
        let before = reads(&store);
        assert_eq!(ids(&store, &by("bob")).await, vec![t.id]);
        assert_eq!(
            reads(&store),
            before + 1,
            "only the edited tweet is read again"
        );
        assert!(ids(&store, &tagged("rust")).await.is_empty());
        assert_eq!(ids(&store, &tagged("go")).await, vec![t.id]);
        assert_eq!(ids(&store, &search("gophers")).await, vec![t.id]);
        let counts = store.hashtags("", 10).await.expect("tags");
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].tag, "go");
    }

    /// Following or unfollowing changes the home timeline at once.
    #[tokio::test]
    async fn follows_change_the_home_timeline_at_once_in_memory() {
        let (_dir, store) = cached_sqlite().await;
        follows_change_the_home_timeline_at_once(store).await;
    }

    #[tokio::test]
    async fn follows_change_the_home_timeline_at_once_in_redis() {
        let (_dir, store) = cached_sqlite_on_redis().await;
        follows_change_the_home_timeline_at_once(store).await;
    }

    async fn follows_change_the_home_timeline_at_once(store: CachedStore) {
        let alice = account(&store, "alice").await;
        let carol = account(&store, "carol").await;
        let t = post(&store, &alice, "hello").await;
        assert!(ids(&store, &home(&carol)).await.is_empty());
        store
            .follow(carol.id, alice.id, FollowState::Following)
            .await
            .expect("follow");
        assert_eq!(ids(&store, &home(&carol)).await, vec![t.id]);
        let followers = store
            .followers(alice.id, Page::default())
            .await
            .expect("followers");
        assert_eq!(followers.items.len(), 1);
        assert_eq!(followers.items[0].following_count, 1);
        store.unfollow(carol.id, alice.id).await.expect("unfollow");
        assert!(ids(&store, &home(&carol)).await.is_empty());
        assert!(
            store
                .followers(alice.id, Page::default())
                .await
                .expect("followers")
                .items
                .is_empty()
        );
    }

    /// Another API instance sharing the cache can store a row it read just
    /// before our write, after our delete; the second delete removes it.
    #[tokio::test]
    async fn a_stale_entry_stored_after_an_eviction_is_deleted_again() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let sql: Arc<dyn Store> = Arc::new(
            SqlStore::connect(&url, &PoolConfig::default())
                .await
                .expect("db"),
        );
        let backend: Arc<dyn CacheBackend> =
            Arc::new(MemoryBackend::new(Duration::from_secs(60), 1 << 20));
        let cached = CachedStore::namespaced(sql, backend.clone(), "test:");
        let author = cached
            .create_account(NewAccount {
                username: Username::parse("alice").expect("name"),
                password_hash: "x".into(),
                display_name: DisplayName::parse("").expect("name"),
                bio: Bio::parse("").expect("bio"),
            })
            .await
            .expect("account");
        let tweet = cached
            .create_tweet(NewTweet {
                author_id: author.id,
                text: TweetText::parse("hello").expect("text"),
                mentions: Vec::new(),
                hashtags: Vec::new(),
                reply_to: None,
                category: None,
            })
            .await
            .expect("tweet");
        let stale = cached.tweet(tweet.id).await.expect("read").expect("tweet");
        cached
            .apply_like_batch(1, &[(tweet.id, 5)])
            .await
            .expect("likes");
        // The other instance's late store of what it read before the batch.
        let key = cached.tweet_key(tweet.id);
        backend
            .set(&key, serde_json::to_vec(&stale).expect("json"))
            .await;
        let seen = cached.tweet(tweet.id).await.expect("read").expect("tweet");
        assert_eq!(seen.like_count, 0, "stale until the second delete");
        tokio::time::sleep(REDELETE_AFTER * 2).await;
        let seen = cached.tweet(tweet.id).await.expect("read").expect("tweet");
        assert_eq!(seen.like_count, 5);
    }
}
