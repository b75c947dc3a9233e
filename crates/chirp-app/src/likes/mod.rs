//! Likes: the like button's counter, batched (SPEC §1.3) or written through.
//!
//! [`Likes`] is what the operations use. It answers 404 for unknown tweets from a
//! small cache of known tweets (so a storm of likes costs no database read
//! per like), hands each like to the [`batcher::Batcher`] (or, with batching
//! off, writes it straight to the database), and adds the likes this
//! instance still holds to every like count it serves.

pub mod batcher;
pub mod journal;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chirp_core::model::Tweet;
use chirp_store::Store;

use self::batcher::{Batcher, BatcherConfig, FlushMark, LikeSink};
use crate::metrics::Metrics;
use crate::{AppError, AppResult};

/// Reads of a tweet's like count tried before a like gives up (each waits
/// out the batch being applied, so this takes several batches in a row).
const BASE_ATTEMPTS: usize = 5;

/// Reads of tweets tried before their counts are served possibly short.
const READ_ATTEMPTS: usize = 5;

/// How likes reach the database.
#[derive(Debug, Clone)]
pub enum LikesConfig {
    /// Accumulate and write in bulk.
    Batched(BatcherConfig),
    /// One UPDATE per like (the baseline the batcher is measured against).
    WriteThrough,
}

/// Taken by [`Likes::before_read`] before like counts are read from the
/// database, and handed to [`Likes::adjust`] with what the read returned.
#[derive(Debug, Clone, Copy)]
pub struct ReadMark(Option<FlushMark>);

/// Known tweets and the like count the database had for them, kept current
/// with this instance's own flushes. Bounded, and refreshed every minute so
/// other instances' flushes and deletions show up.
type KnownTweets = moka::sync::Cache<i64, Arc<AtomicI64>>;

/// The like service of one API instance. Cheap to clone.
#[derive(Clone)]
pub struct Likes {
    store: Arc<dyn Store>,
    known: KnownTweets,
    batcher: Option<Batcher>,
    metrics: Metrics,
}

/// Applies batches to the database through the store.
struct StoreSink(Arc<dyn Store>);

#[async_trait]
impl LikeSink for StoreSink {
    async fn apply(&self, batch: i64, likes: &[(i64, i64)]) -> anyhow::Result<(bool, u64)> {
        Ok(self.0.apply_like_batch(batch, likes).await?)
    }
}

impl Likes {
    /// Starts the like service; with batching, this replays the journal.
    pub async fn start(
        config: LikesConfig,
        store: Arc<dyn Store>,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let known: KnownTweets = moka::sync::Cache::builder()
            .max_capacity(200_000)
            .time_to_live(Duration::from_secs(60))
            .build();
        let batcher = match config {
            LikesConfig::WriteThrough => None,
            LikesConfig::Batched(cfg) => {
                let known = known.clone();
                let on_flushed = Box::new(move |likes: &[(i64, i64)]| {
                    for (tweet, n) in likes {
                        if let Some(base) = known.get(tweet) {
                            base.fetch_add(*n, Ordering::Relaxed);
                        }
                    }
                });
                let sink = Arc::new(StoreSink(store.clone()));
                Some(Batcher::start(cfg, sink, metrics.clone(), on_flushed).await?)
            }
        };
        Ok(Self {
            store,
            known,
            batcher,
            metrics,
        })
    }

    /// The like count the database had for `tweet` (as cached), or 404.
    ///
    /// A count read while a batch lands could miss it, or include it and
    /// then have it added again by `on_flushed`; so the read is kept only if
    /// no batch landed around it, and read again otherwise.
    async fn base(&self, tweet: i64) -> AppResult<Arc<AtomicI64>> {
        for _ in 0..BASE_ATTEMPTS {
            if let Some(base) = self.known.get(&tweet) {
                return Ok(base);
            }
            let mark = self.before_read().await;
            let found = self
                .store
                .tweet(tweet)
                .await?
                .ok_or(AppError::NotFound("tweet"))?;
            let base = Arc::new(AtomicI64::new(found.like_count));
            // Concurrent first likes all read; the first to keep its count
            // wins and the rest use that one, so a flush raises the count
            // every like of this tweet answers with.
            let keep = || self.known.entry(tweet).or_insert(base).into_value();
            match (&self.batcher, mark) {
                (Some(batcher), ReadMark(Some(mark))) => {
                    if let Some(kept) = batcher.if_unchanged_since(mark, tweet, keep) {
                        return Ok(kept);
                    }
                }
                _ => return Ok(keep()),
            }
        }
        // Batches kept landing through every read (rare: each attempt waits
        // out the batch being applied). Take the like all the same, with a
        // count that may be off by one batch either way, and cache nothing,
        // so the next like reads again.
        let found = self
            .store
            .tweet(tweet)
            .await?
            .ok_or(AppError::NotFound("tweet"))?;
        Ok(Arc::new(AtomicI64::new(found.like_count)))
    }

    /// Adds one like; returns the tweet's like count as this instance sees it.
    pub async fn like(&self, tweet: i64) -> AppResult<i64> {
        let base = self.base(tweet).await?;
        match &self.batcher {
            Some(batcher) => {
                batcher.like(tweet).await?;
                // The counter read before the like may have expired from
                // the cache while the like waited for the journal; then a
                // batch could have landed without raising it, so read anew.
                let mut base = base;
                for _ in 0..BASE_ATTEMPTS {
                    let tracked = || {
                        self.known
                            .get(&tweet)
                            .is_some_and(|current| Arc::ptr_eq(&current, &base))
                    };
                    if let Some(count) = batcher.count(tweet, &base, tracked) {
                        return Ok(count);
                    }
                    base = self.base(tweet).await?;
                }
                Ok(batcher.count(tweet, &base, || true).unwrap_or_default())
            }
            None => {
                if self.store.add_likes(&[(tweet, 1)]).await? == 0 {
                    self.known.invalidate(&tweet);
                    return Err(AppError::NotFound("tweet"));
                }
                self.metrics.likes_accepted.inc();
                Ok(base.fetch_add(1, Ordering::Relaxed) + 1)
            }
        }
    }

    /// Call before reading tweets from the database; see [`Likes::adjust`].
    pub async fn before_read(&self) -> ReadMark {
        match &self.batcher {
            Some(b) => ReadMark(Some(b.mark().await)),
            None => ReadMark(None),
        }
    }

    /// Adds the likes this instance holds to each tweet's count, for
    /// `tweets` read from the database after `mark` was taken (so a batch
    /// the read already includes is not added again). Returns `false` when
    /// a batch landed during the read, so the counts may be short by it.
    #[must_use = "false means the counts may be short: read again"]
    pub fn adjust(&self, mark: ReadMark, tweets: &mut [Tweet]) -> bool {
        let (Some(batcher), ReadMark(Some(mark))) = (&self.batcher, mark) else {
            return true;
        };
        let ids: Vec<i64> = tweets.iter().map(|t| t.id).collect();
        let (exact, held) = batcher.held_since(mark, &ids);
        for (tweet, held) in tweets.iter_mut().zip(held) {
            tweet.like_count += held;
        }
        exact
    }

    /// Reads with `read` and adds the likes held to the `tweets` of what it
    /// returns. A read that overlapped a batch landing is done again (a few
    /// times at most), so counts are exact unless batches land back to back.
    pub async fn counted<T, F, Fut>(
        &self,
        read: F,
        tweets: impl Fn(&mut T) -> &mut [Tweet],
    ) -> AppResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = AppResult<T>>,
    {
        let mut attempt = 1;
        loop {
            let mark = self.before_read().await;
            let mut value = read().await?;
            if self.adjust(mark, tweets(&mut value)) || attempt == READ_ATTEMPTS {
                return Ok(value);
            }
            attempt += 1;
        }
    }

    /// Forgets a deleted tweet, so further likes get 404.
    pub fn forget(&self, tweet: i64) {
        self.known.invalidate(&tweet);
    }

    /// Writes everything held to the database (graceful shutdown).
    pub async fn shutdown(&self) {
        if let Some(b) = &self.batcher {
            b.shutdown().await;
        }
    }
}
