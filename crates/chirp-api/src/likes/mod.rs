//! Likes: the like button's counter, batched (SPEC §1.3) or written through.
//!
//! [`Likes`] is what handlers use. It answers 404 for unknown tweets from a
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

use self::batcher::{Batcher, BatcherConfig, FlushMark, LikeRefused, LikeSink};
use crate::metrics::Metrics;
use crate::{ApiError, ApiResult};

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
    async fn base(&self, tweet: i64) -> ApiResult<Arc<AtomicI64>> {
        if let Some(base) = self.known.get(&tweet) {
            return Ok(base);
        }
        let found = self
            .store
            .tweet(tweet)
            .await?
            .ok_or(ApiError::NotFound("tweet"))?;
        let base = Arc::new(AtomicI64::new(found.like_count));
        self.known.insert(tweet, base.clone());
        Ok(base)
    }

    /// Adds one like; returns the tweet's like count as this instance sees it.
    pub async fn like(&self, tweet: i64) -> ApiResult<i64> {
        let base = self.base(tweet).await?;
        match &self.batcher {
            Some(batcher) => {
                batcher.like(tweet).await.map_err(|e| match e {
                    LikeRefused::Backlog | LikeRefused::ShuttingDown | LikeRefused::Journal => {
                        ApiError::Unavailable(e.into())
                    }
                })?;
                Ok(base.load(Ordering::Relaxed) + batcher.held(tweet))
            }
            None => {
                if self.store.add_likes(&[(tweet, 1)]).await? == 0 {
                    self.known.invalidate(&tweet);
                    return Err(ApiError::NotFound("tweet"));
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
    /// the read already includes is not added again).
    pub fn adjust(&self, mark: ReadMark, tweets: &mut [Tweet]) {
        let (Some(batcher), ReadMark(Some(mark))) = (&self.batcher, mark) else {
            return;
        };
        let ids: Vec<i64> = tweets.iter().map(|t| t.id).collect();
        for (tweet, held) in tweets.iter_mut().zip(batcher.held_since(mark, &ids)) {
            tweet.like_count += held;
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
