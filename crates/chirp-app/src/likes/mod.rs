//! Likes: the like button's counter, batched (SPEC §1.3) or written through.
//!
//! [`Likes`] is what the operations use. With batching, it answers 404 for
//! unknown tweets from a small cache of known tweets (so a storm of likes
//! costs no database read per like), hands each like to the
//! [`batcher::Batcher`], and gives every like count it serves the likes
//! this instance holds ([`Likes::count`]). Written through, each like is
//! one statement that returns the new count.
//!
//! The protocol, in one paragraph: the database tells the count. When a
//! batch lands, the database returns each tweet's absolute count, which the
//! batcher keeps as that tweet's *floor*. A count served is the database's
//! (as a read saw it, or as the known-tweets cache holds it) raised to the
//! floor, plus what is still pending here, plus the batch being applied
//! when the read cannot have seen it (it ended before the apply began: a
//! [`batcher::ReadMark`] tells) or a floor an earlier batch left places
//! it. Only a read that may include the batch, of a tweet with no floor
//! yet, waits for the batch to land. Counts only grow, so taking the
//! larger of two counts is always right, and nothing needs a retry or a
//! version check.

pub mod batcher;
pub mod journal;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chirp_core::model::Tweet;
use chirp_store::{LandedLikes, Missing, Store};

use self::batcher::{Batcher, BatcherConfig, LikeSink, ReadMark};
use crate::metrics::Metrics;
use crate::{AppError, AppResult};

/// How likes reach the database.
#[derive(Debug, Clone)]
pub enum LikesConfig {
    /// Accumulate and write in bulk.
    Batched(BatcherConfig),
    /// One UPDATE per like (the baseline the batcher is measured against).
    WriteThrough,
}

/// A tweet known to exist: its author (for the visibility rule) and the
/// like count the database showed when it was read, with when that read
/// ended.
#[derive(Debug, Clone, Copy)]
pub struct KnownTweet {
    pub author: i64,
    /// Whether the author was protected when the tweet was read.
    pub protected: bool,
    seen: i64,
    mark: Option<ReadMark>,
}

/// Tweets known to exist. Bounded, and refreshed every minute so other
/// instances' likes and deletions show up.
type KnownTweets = moka::sync::Cache<i64, KnownTweet>;

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
    async fn apply(&self, batch: i64, likes: &[(i64, i64)]) -> anyhow::Result<LandedLikes> {
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
                let sink = Arc::new(StoreSink(store.clone()));
                Some(Batcher::start(cfg, sink, metrics.clone()).await?)
            }
        };
        Ok(Self {
            store,
            known,
            batcher,
            metrics,
        })
    }

    /// The tweet, from the known-tweets cache when it is there (so a storm
    /// of likes costs no database read per like); 404 if it does not exist.
    pub async fn known(&self, tweet: i64) -> AppResult<KnownTweet> {
        if let Some(known) = self.known.get(&tweet) {
            return Ok(known);
        }
        let found = self.store.tweet(tweet).await?;
        let found = found.ok_or(AppError::NotFound(Missing::Tweet))?;
        let known = KnownTweet {
            author: found.author.id,
            protected: found.author.protected,
            seen: found.like_count,
            mark: self.batcher.as_ref().map(Batcher::mark),
        };
        self.known.insert(tweet, known);
        Ok(known)
    }

    /// Adds one like; returns the tweet's like count as this instance sees
    /// it. `known` is what [`Likes::known`] gave the caller, who checked
    /// with it that the tweet may be seen (one lookup per like, not two).
    pub async fn like(&self, tweet: i64, known: KnownTweet) -> AppResult<i64> {
        let Some(batcher) = &self.batcher else {
            let counts = self.store.add_likes(&[(tweet, 1)]).await?;
            let &(_, count) = counts.first().ok_or(AppError::NotFound(Missing::Tweet))?;
            self.metrics.likes_accepted.inc();
            return Ok(count);
        };
        let (seen, mark) = (known.seen, known.mark.unwrap_or_else(|| batcher.mark()));
        batcher.like(tweet).await?;
        if let Some(count) = batcher.count_now(tweet, seen, mark) {
            return Ok(count);
        }
        let counts = batcher.counts(&[(tweet, seen)], mark).await;
        Ok(counts.first().copied().unwrap_or(seen))
    }

    /// Gives `tweets`, as a read found them in the database, the like
    /// counts to serve (SPEC §1.3: flushed count plus what this instance
    /// holds; see the module doc). Call it as soon as the read returns.
    pub async fn count(&self, tweets: &mut [Tweet]) {
        let Some(batcher) = &self.batcher else {
            return;
        };
        let mark = batcher.mark();
        let seen: Vec<(i64, i64)> = tweets.iter().map(|t| (t.id, t.like_count)).collect();
        for (tweet, count) in tweets.iter_mut().zip(batcher.counts(&seen, mark).await) {
            tweet.like_count = count;
        }
    }

    /// Forgets a deleted tweet, so further likes get 404.
    pub fn forget(&self, tweet: i64) {
        self.known.invalidate(&tweet);
    }

    /// Forgets every known tweet: an account's protection changed, and
    /// what the cache says of its authors may be out of date.
    pub fn forget_all(&self) {
        self.known.invalidate_all();
    }

    /// Writes everything held to the database (graceful shutdown).
    pub async fn shutdown(&self) {
        if let Some(b) = &self.batcher {
            b.shutdown().await;
        }
    }
}
