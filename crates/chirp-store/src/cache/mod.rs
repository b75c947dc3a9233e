//! The read cache (SPEC §1.4): a [`Store`] that answers reads from a cache
//! and passes everything else to the store it wraps.
//!
//! * Entities are cached by id (`t:{id}` tweets, `ai:{id}` accounts; `an:{name}`
//!   maps a username, which never changes, to its id). Writes delete the
//!   entries they make stale — including like batches, so counts stay fresh.
//! * Lists (timelines, searches, followers, hashtags, ...) are cached under a
//!   *generation*: a counter every write that can change a list bumps, so
//!   all list entries of the old generation become unreachable at once (and
//!   expire by TTL). Tweet lists hold only ids and are filled from the
//!   tweet entries, so a flushed like shows in every list without
//!   invalidating the lists themselves.
//! * Sessions, credentials and follow states are never cached: they decide
//!   who may do what and must be current.
//!
//! The backend is in-process ([`backend::MemoryBackend`]) or Redis
//! ([`backend::RedisBackend`]), shared by all API instances. A backend that
//! fails is treated as a miss, so Redis going down only costs speed.

pub mod backend;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chirp_core::model::{Account, Category, FollowState, HashtagCount, Tweet};
use chirp_core::page::{Page, Paged};
use chirp_core::text::{CategorySlug, TweetText, Username};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use self::backend::CacheBackend;
use crate::stats::DbCounts;
use crate::{
    AccountPatch, AccountStore, CategoryStore, Credentials, HealthStore, NewAccount, NewCategory,
    NewTweet, SessionStore, SocialStore, Store, StoreResult, TweetFilter, TweetStore,
};

/// Namespace of every key, so a shared Redis can hold other things too.
const PREFIX: &str = "chirp:";

/// When an eviction deletes its keys a second time (see `forget`).
const REDELETE_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// A store with a read cache in front.
pub struct CachedStore {
    inner: Arc<dyn Store>,
    cache: Arc<dyn CacheBackend>,
    /// Starts every key; one namespace per database (tests give each
    /// database its own, so a shared Redis never mixes two of them).
    prefix: String,
    /// Bumped by every eviction, after the write and before the delete. A
    /// read that fetched from the database stores what it got only if no
    /// eviction happened meanwhile: otherwise it might put back a value the
    /// eviction just removed (read old, write, evict, store old).
    evictions: AtomicU64,
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
            evictions: AtomicU64::new(0),
        }
    }

    fn epoch(&self) -> u64 {
        self.evictions.load(Ordering::SeqCst)
    }

    /// Stores an entity read from the database, unless an eviction ran
    /// since `epoch` (then the value may already be stale).
    ///
    /// The check before the store is not enough on its own: an eviction can
    /// begin after it and send its delete while our store is still on its
    /// way (to Redis, say), so the stale value lands after the delete. So
    /// the epoch is checked again once the store is done, and if an eviction
    /// began meanwhile, our entry is taken out again. An eviction that
    /// begins after that second check deletes after our store finished.
    async fn fill<T: Serialize>(&self, epoch: u64, key: &str, value: &T) {
        if self.epoch() != epoch {
            return;
        }
        self.put(key, value).await;
        if self.epoch() != epoch {
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

    fn generation_key(&self) -> String {
        format!("{}gen", self.prefix)
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

    /// The key of a list under the current generation, or `None` when the
    /// backend cannot say (then the list is read from the database).
    async fn list_key(&self, what: String) -> Option<String> {
        let generation = self.cache.generation(&self.generation_key()).await?;
        Some(format!("{}l:{generation}:{what}", self.prefix))
    }

    /// Makes every cached list stale.
    async fn lists_changed(&self) {
        self.cache.bump(&self.generation_key()).await;
    }

    /// A cached list, or `load` it and cache it.
    async fn list<T, F>(&self, what: String, load: F) -> StoreResult<T>
    where
        T: Serialize + DeserializeOwned,
        F: std::future::Future<Output = StoreResult<T>>,
    {
        let key = self.list_key(what).await;
        if let Some(k) = &key
            && let Some(hit) = self.get::<T>(k).await
        {
            return Ok(hit);
        }
        let value = load.await?;
        if let Some(k) = &key {
            self.put(k, &value).await;
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
            let epoch = self.epoch();
            for t in self.inner.tweets_by_ids(&missing).await? {
                self.fill(epoch, &self.tweet_key(t.id), &t).await;
                found.insert(t.id, t);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
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
    /// The eviction counter guards fills by this instance only. Another
    /// instance sharing the Redis may have read the old row just before
    /// our write and store it just after our delete; the second delete
    /// takes such an entry out within [`REDELETE_AFTER`] instead of leaving
    /// it for the whole TTL.
    async fn forget(&self, keys: Vec<String>) {
        self.evictions.fetch_add(1, Ordering::SeqCst);
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

fn page_key(page: Page) -> String {
    format!("{}|{:?}", page.limit, page.before)
}

#[async_trait]
impl AccountStore for CachedStore {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let account = self.inner.create_account(new).await?;
        self.lists_changed().await;
        Ok(account)
    }

    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>> {
        let name_key = self.key("an", username.lowercase());
        if let Some(id) = self.get::<i64>(&name_key).await {
            return self.account_by_id(id).await;
        }
        let epoch = self.epoch();
        let found = self.inner.account_by_username(username).await?;
        if let Some(a) = &found {
            self.put(&name_key, &a.id).await;
            self.fill(epoch, &self.account_key(a.id), a).await;
        }
        Ok(found)
    }

    async fn account_by_id(&self, id: i64) -> StoreResult<Option<Account>> {
        let k = self.account_key(id);
        if let Some(hit) = self.get::<Account>(&k).await {
            return Ok(Some(hit));
        }
        let epoch = self.epoch();
        let found = self.inner.account_by_id(id).await?;
        if let Some(a) = &found {
            self.fill(epoch, &k, a).await;
        }
        Ok(found)
    }

    async fn credentials(&self, username: &Username) -> StoreResult<Option<Credentials>> {
        self.inner.credentials(username).await
    }

    async fn update_account(&self, id: i64, patch: AccountPatch) -> StoreResult<Account> {
        let account = self.inner.update_account(id, patch).await?;
        self.forget_accounts(&[id]).await;
        self.lists_changed().await;
        Ok(account)
    }

    async fn list_accounts(&self, query: Option<&str>, page: Page) -> StoreResult<Paged<Account>> {
        let what = format!("ac:{query:?}|{}", page_key(page));
        self.list(what, self.inner.list_accounts(query, page)).await
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
        self.lists_changed().await;
        Ok(tweet)
    }

    async fn tweet(&self, id: i64) -> StoreResult<Option<Tweet>> {
        Ok(self.hydrate(&[id]).await?.pop())
    }

    async fn tweets_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Tweet>> {
        self.hydrate(ids).await
    }

    async fn edit_tweet(
        &self,
        id: i64,
        text: &TweetText,
        hashtags: &[String],
    ) -> StoreResult<Tweet> {
        let tweet = self.inner.edit_tweet(id, text, hashtags).await?;
        self.forget_tweets([id]).await;
        self.lists_changed().await;
        Ok(tweet)
    }

    async fn delete_tweet(&self, id: i64) -> StoreResult<()> {
        let before = self.inner.tweet(id).await?;
        self.inner.delete_tweet(id).await?;
        let parent = before.as_ref().and_then(|t| t.reply_to);
        self.forget_tweets(std::iter::once(id).chain(parent)).await;
        if let Some(t) = before {
            self.forget_accounts(&[t.author.id]).await;
        }
        self.lists_changed().await;
        Ok(())
    }

    async fn list_tweets(&self, filter: &TweetFilter, page: Page) -> StoreResult<Paged<Tweet>> {
        let what = format!("tw:{filter:?}|{}", page_key(page));
        let ids: Paged<i64> = self
            .list(what, async {
                Ok(self.inner.list_tweets(filter, page).await?.map(|t| t.id))
            })
            .await?;
        let tweets = self.hydrate(&ids.items).await?;
        Ok(Paged {
            items: tweets,
            next_cursor: ids.next_cursor,
        })
    }

    async fn add_likes(&self, likes: &[(i64, i64)]) -> StoreResult<u64> {
        let n = self.inner.add_likes(likes).await?;
        self.forget_tweets(likes.iter().map(|(id, _)| *id)).await;
        Ok(n)
    }

    async fn apply_like_batch(&self, batch: i64, likes: &[(i64, i64)]) -> StoreResult<(bool, u64)> {
        let result = self.inner.apply_like_batch(batch, likes).await?;
        self.forget_tweets(likes.iter().map(|(id, _)| *id)).await;
        Ok(result)
    }

    async fn hashtags(&self, prefix: &str, limit: u32) -> StoreResult<Vec<HashtagCount>> {
        let what = format!("ht:{prefix}|{limit}");
        self.list(what, self.inner.hashtags(prefix, limit)).await
    }
}

#[async_trait]
impl SocialStore for CachedStore {
    async fn follow(
        &self,
        follower: i64,
        followee: i64,
        state: FollowState,
    ) -> StoreResult<FollowState> {
        let state = self.inner.follow(follower, followee, state).await?;
        self.forget_accounts(&[follower, followee]).await;
        self.lists_changed().await;
        Ok(state)
    }

    async fn unfollow(&self, follower: i64, followee: i64) -> StoreResult<bool> {
        let removed = self.inner.unfollow(follower, followee).await?;
        self.forget_accounts(&[follower, followee]).await;
        self.lists_changed().await;
        Ok(removed)
    }

    async fn follow_state(&self, follower: i64, followee: i64) -> StoreResult<Option<FollowState>> {
        self.inner.follow_state(follower, followee).await
    }

    async fn followers(&self, account: i64, page: Page) -> StoreResult<Paged<Account>> {
        let what = format!("fr:{account}|{}", page_key(page));
        self.list(what, self.inner.followers(account, page)).await
    }

    async fn following(&self, account: i64, page: Page) -> StoreResult<Paged<Account>> {
        let what = format!("fg:{account}|{}", page_key(page));
        self.list(what, self.inner.following(account, page)).await
    }
}

#[async_trait]
impl CategoryStore for CachedStore {
    async fn create_category(&self, new: NewCategory) -> StoreResult<Category> {
        let category = self.inner.create_category(new).await?;
        self.lists_changed().await;
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
        let what = format!("cl:{}", page_key(page));
        self.list(what, self.inner.list_categories(page)).await
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

    use chirp_core::text::{Bio, DisplayName};

    use super::backend::MemoryBackend;
    use super::*;
    use crate::SqlStore;
    use crate::sql::PoolConfig;

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
