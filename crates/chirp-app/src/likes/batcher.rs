//! The like batcher: turns a storm of +1s into a few bulk writes.
//!
//! ```text
//!  like(t) ──► state (pending[t] += 1, record appended to the buffer)
//!               │                      │
//!               │ t has > max_pending  │ wake
//!               ▼                      ▼
//!           flusher task           writer task ── group write (+fdatasync) ──► journal
//!   takes every due tweet,                 └── publishes "durable up to record N";
//!   journals Begin, applies one                each like() waits for its record,
//!   bulk statement, journals Done              then answers 202
//! ```
//!
//! Rules (SPEC §1.3): a tweet is due when it holds more than `max_pending`
//! likes or its oldest pending like is older than `max_age`. One flush is in
//! flight at a time; the next takes everything that became due meanwhile,
//! so under a storm each statement carries many likes. A database outage
//! only delays flushes (retried with backoff); likes keep being accepted up
//! to `max_backlog`, then the answer is 503. Nothing acknowledged is lost:
//! see [`super::journal`] for crashes, and [`Batcher::shutdown`] for SIGTERM.
//!
//! Like counts (what a read or a like answers): the count the database
//! showed, raised to the *floor* this instance's latest landed batch of the
//! tweet left (the absolute count the database returned when it took the
//! batch), plus the likes still pending here. A batch of the tweet in
//! flight is added when the read cannot have seen it (its apply began
//! after the read ended, see [`ReadMark`]) or when a floor tells without
//! the read; only otherwise does [`Batcher::counts`] wait for it to land.
//!
//! Concurrency: one `std::sync::Mutex` guards all state; it is held only for
//! in-memory updates (never across an await or a syscall).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chirp_store::LandedLikes;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::journal::{self, Journal};
use crate::metrics::Metrics;

/// Where batches go: the database, or a fake in unit tests.
#[async_trait]
pub trait LikeSink: Send + Sync + 'static {
    /// Applies `likes` as batch `batch` in one transaction; a batch id that
    /// was applied before is skipped (`applied: false`), which makes
    /// replays safe. Either way it returns the tweets' like counts as the
    /// database holds them afterwards.
    async fn apply(&self, batch: i64, likes: &[(i64, i64)]) -> anyhow::Result<LandedLikes>;
}

/// Settings of the batcher.
#[derive(Debug, Clone)]
pub struct BatcherConfig {
    /// A tweet is flushed when it holds more than this many likes.
    pub max_pending: u64,
    /// ... or when its oldest pending like has waited this long.
    pub max_age: Duration,
    /// Most likes held (pending and in flight) before new ones get 503.
    pub max_backlog: u64,
    /// The journal file.
    pub journal: PathBuf,
    /// `fdatasync` every group write (survives power loss), or only write
    /// (survives a crash of the process).
    pub fsync: bool,
    /// Rewrite the journal as a snapshot once it is this large.
    pub compact_bytes: u64,
    /// Pause after each flush so the next one gathers more (0 = none).
    pub flush_gap: Duration,
    /// How long shutdown keeps trying to write what is held.
    pub drain_timeout: Duration,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self {
            max_pending: 10,
            max_age: Duration::from_secs(60),
            max_backlog: 1_000_000,
            journal: PathBuf::from("chirp-data/likes.journal"),
            fsync: true,
            compact_bytes: 64 << 20,
            flush_gap: Duration::from_millis(10),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

pub use crate::error::LikeRefused;

/// How long a read of like counts waits for a batch being applied to land.
/// Only a read that may have seen the batch, of a tweet with no floor yet,
/// waits; a loaded database can take a good part of a second to commit.
const READ_PATIENCE: Duration = Duration::from_secs(1);

/// How long a like waits for its journal write before giving up with 503.
const JOURNAL_PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
struct Pending {
    count: i64,
    since: Instant,
}

/// When a read of the database ended, in the batcher's terms: how many
/// batches had begun to be applied by then. A batch whose apply began
/// later cannot be in what the read saw, so its likes can be added to the
/// read without waiting for it to land. Take it right after the read
/// returns (a read served by the read cache is older still, which is just
/// as safe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReadMark(u64);

/// The batch taken by the flusher, from its Begin record until it lands.
#[derive(Debug, Clone)]
struct InFlight {
    batch: i64,
    /// Sorted by tweet id.
    likes: Vec<(i64, i64)>,
    /// The number of its apply, once the database may be taking it (after
    /// its Begin is durable); `None` before, when no read can include it.
    applied_as: Option<u64>,
}

impl InFlight {
    /// Whether a read that ended at `mark` cannot include this batch.
    fn unseen_by(&self, mark: ReadMark) -> bool {
        self.applied_as.is_none_or(|n| n > mark.0)
    }

    fn has(&self, tweet: i64) -> bool {
        self.likes.binary_search_by_key(&tweet, |(t, _)| *t).is_ok()
    }

    /// The batch's likes of `tweet` (one entry per tweet, sorted: found
    /// by binary search, since a storm asks this under the lock per like).
    fn likes_of(&self, tweet: i64) -> i64 {
        self.likes
            .binary_search_by_key(&tweet, |(t, _)| *t)
            .map_or(0, |i| self.likes[i].1)
    }
}

/// How long a floor is kept at least, unless [`FLOORS_MAX`] tweets landed
/// sooner: far longer than a database read takes, which is all a floor
/// must outlive (a read begun before the landing may miss the batch).
const FLOOR_KEPT: Duration = Duration::from_secs(60);

/// Floors kept per generation (two generations are kept).
const FLOORS_MAX: usize = 100_000;

/// The like count each tweet had in the database right after this
/// instance's latest batch of it landed. Two generations of maps, the
/// older dropped when the newer is [`FLOOR_KEPT`] old or [`FLOORS_MAX`]
/// large: bounded, and no lookup ever waits on an eviction.
#[derive(Debug, Default)]
struct Floors {
    current: HashMap<i64, i64>,
    previous: HashMap<i64, i64>,
    since: Option<Instant>,
}

impl Floors {
    fn raise(&mut self, tweet: i64, count: i64, now: Instant) {
        let since = *self.since.get_or_insert(now);
        if now.duration_since(since) >= FLOOR_KEPT || self.current.len() >= FLOORS_MAX {
            self.previous = std::mem::take(&mut self.current);
            self.since = Some(now);
        }
        let floor = self.current.entry(tweet).or_insert(count);
        *floor = (*floor).max(count);
    }

    fn get(&self, tweet: i64) -> Option<i64> {
        let (a, b) = (self.current.get(&tweet), self.previous.get(&tweet));
        a.max(b).copied()
    }
}

#[derive(Debug, Default)]
struct State {
    pending: HashMap<i64, Pending>,
    /// Tweets over `max_pending`, waiting for the flusher.
    due: HashSet<i64>,
    in_flight: Option<InFlight>,
    /// Likes held: pending plus in flight.
    held: u64,
    /// Journal records not yet written.
    buffer: Vec<u8>,
    /// Number of the last record put in `buffer`.
    appended: u64,
    /// Set at shutdown: new likes are refused, everything held is due.
    draining: bool,
    /// The database's counts after our latest landed batches.
    floors: Floors,
    /// Applies begun so far (see [`ReadMark`]).
    applies_begun: u64,
}

impl State {
    /// The like count to serve for `tweet`, given what a read that ended
    /// at `mark` saw (`seen`); `None` while only the landing of the batch
    /// in flight can tell.
    fn count(&self, tweet: i64, seen: i64, mark: ReadMark) -> Option<i64> {
        let pending = self.pending.get(&tweet).map_or(0, |p| p.count);
        let floor = self.floors.get(tweet);
        let base = floor.map_or(seen, |f| f.max(seen));
        match self.in_flight.as_ref().filter(|f| f.has(tweet)) {
            None => Some(base + pending),
            // Neither the read nor the floor holds the batch.
            Some(flight) if flight.unseen_by(mark) => Some(base + flight.likes_of(tweet) + pending),
            // The read may hold it; the floor an earlier batch left cannot,
            // so the floor plus the batch is every like this instance took
            // in on top of what the database held at that landing.
            Some(flight) => floor.map(|f| (f + flight.likes_of(tweet)).max(seen) + pending),
        }
    }
}

struct Shared {
    state: Mutex<State>,
    /// Number of the last record known to be in the journal.
    durable: watch::Sender<u64>,
    wake_writer: Notify,
    wake_flusher: Notify,
    /// Batches landed so far, bumped under the lock as each lands, so a
    /// read can wait out the batch in flight.
    landings: watch::Sender<u64>,
    config: BatcherConfig,
    sink: Arc<dyn LikeSink>,
    metrics: Metrics,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain counters behind, which
        // are still consistent enough to keep serving; never propagate it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish_gauges(&self, s: &State) {
        self.metrics
            .likes_pending_tweets
            .set(s.pending.len() as i64);
        self.metrics.likes_pending.set(s.held as i64);
    }

    /// Waits until record `seq` is in the journal. A journal that cannot be
    /// written (a full or failing disk) is retried by the writer; a request
    /// does not wait for it forever.
    async fn durable(&self, seq: u64) -> Result<(), LikeRefused> {
        let mut rx = self.durable.subscribe();
        match tokio::time::timeout(JOURNAL_PATIENCE, rx.wait_for(|&d| d >= seq)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(LikeRefused::Journal),
        }
    }
}

/// A running batcher. Cheap to clone.
#[derive(Clone)]
pub struct Batcher {
    shared: Arc<Shared>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Batcher {
    /// Opens the journal, settles what a previous run left (re-applying
    /// batches that may not have reached the database, taking back pending
    /// likes), and starts the writer and flusher tasks.
    pub async fn start(
        config: BatcherConfig,
        sink: Arc<dyn LikeSink>,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let path = config.journal.clone();
        let fsync = config.fsync;
        let (mut journal, data) =
            tokio::task::spawn_blocking(move || Journal::open(&path, fsync)).await??;
        let replayed = journal::replay(&data)?;
        if replayed.records > 0 {
            tracing::info!(
                records = replayed.records,
                pending_tweets = replayed.pending.len(),
                batches_in_doubt = replayed.in_doubt.len(),
                "replaying the like journal"
            );
        }
        if replayed.torn_bytes > 0 {
            tracing::warn!(
                bytes = replayed.torn_bytes,
                "like journal ended in a torn record (a crash mid-write); it was never acknowledged"
            );
        }
        let now = Instant::now();
        let mut state = State::default();
        for (batch, likes) in &replayed.in_doubt {
            let landed = sink.apply(*batch as i64, likes).await?;
            tracing::info!(batch, landed.applied, "settled a like batch left in doubt");
            for (tweet, count) in landed.counts {
                state.floors.raise(tweet, count, now);
            }
        }
        for (&tweet, &count) in &replayed.pending {
            if count <= 0 {
                continue;
            }
            state.pending.insert(tweet, Pending { count, since: now });
            state.held += count as u64;
            if count as u64 > config.max_pending {
                state.due.insert(tweet);
            }
        }
        // Start the journal afresh from exactly this state.
        let snapshot = snapshot(&state);
        let journal =
            tokio::task::spawn_blocking(move || journal.compact(&snapshot).map(|()| journal))
                .await??;
        let (durable, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            durable,
            wake_writer: Notify::new(),
            wake_flusher: Notify::new(),
            landings: watch::channel(0).0,
            config,
            sink,
            metrics,
        });
        shared.publish_gauges(&shared.lock());
        let writer = tokio::spawn(tasks::writer_task(shared.clone(), journal));
        let flusher = tokio::spawn(tasks::flusher_task(shared.clone()));
        shared.wake_flusher.notify_one();
        Ok(Self {
            shared,
            tasks: Arc::new(Mutex::new(vec![writer, flusher])),
        })
    }

    /// Records one like for `tweet`; returns once it is journaled.
    pub async fn like(&self, tweet: i64) -> Result<(), LikeRefused> {
        let shared = &self.shared;
        let (seq, wake_flusher) = {
            let mut s = shared.lock();
            if s.draining {
                return Err(LikeRefused::ShuttingDown);
            }
            if s.held >= shared.config.max_backlog {
                return Err(LikeRefused::Backlog);
            }
            let entry = s.pending.entry(tweet);
            let new = matches!(entry, std::collections::hash_map::Entry::Vacant(_));
            let p = entry.or_insert(Pending {
                count: 0,
                since: Instant::now(),
            });
            p.count += 1;
            let due = p.count as u64 > shared.config.max_pending;
            if due {
                s.due.insert(tweet);
            }
            s.held += 1;
            journal::encode_like(&mut s.buffer, tweet, 1);
            s.appended += 1;
            shared.publish_gauges(&s);
            // Counted here, not after the journal write: from this point the
            // like will reach the database even if its client goes away.
            shared.metrics.likes_accepted.inc();
            (s.appended, due || new)
        };
        shared.wake_writer.notify_one();
        if wake_flusher {
            shared.wake_flusher.notify_one();
        }
        shared.durable(seq).await?;
        Ok(())
    }

    /// Likes this instance holds for `tweet` that the database does not
    /// show yet (pending, or in the batch being written).
    pub fn held(&self, tweet: i64) -> i64 {
        let s = self.shared.lock();
        let pending = s.pending.get(&tweet).map_or(0, |p| p.count);
        pending + s.in_flight.as_ref().map_or(0, |f| f.likes_of(tweet))
    }

    /// Marks the end of a read of the database: pass it with what the read
    /// saw to [`Batcher::count_now`] or [`Batcher::counts`].
    pub fn mark(&self) -> ReadMark {
        ReadMark(self.shared.lock().applies_begun)
    }

    /// The count to answer a like of `tweet` with, at once, given the
    /// count a read that ended at `mark` saw (the known-tweets cache's);
    /// `None` when only [`Batcher::counts`] can tell (it waits). A like
    /// rarely waits: its read is usually older than the batch in flight, or
    /// an earlier batch left a floor. This keeps the likes of a hot tweet,
    /// which is nearly always in flight during a storm, from waiting for
    /// each apply.
    pub fn count_now(&self, tweet: i64, seen: i64, mark: ReadMark) -> Option<i64> {
        self.shared.lock().count(tweet, seen, mark)
    }

    /// The like counts to serve for tweets a read that ended at `mark`
    /// found, given as `(tweet, like count the database showed)`: each
    /// raised to its floor, plus the likes this instance holds that the
    /// read cannot have seen.
    ///
    /// When a batch of one of these tweets is being applied, the read may
    /// or may not include it, and no floor tells, this first waits for it
    /// to land (up to `READ_PATIENCE`, 1 s); once it has, its floor holds
    /// it either way, and it is no longer pending. If it does not land in
    /// time (the database is struggling), its likes are left out: the count
    /// may be short by that batch, never counts a like twice.
    pub async fn counts(&self, read: &[(i64, i64)], mark: ReadMark) -> Vec<i64> {
        let deadline = Instant::now() + READ_PATIENCE;
        let mut landings = self.shared.landings.subscribe();
        loop {
            {
                let s = self.shared.lock();
                let counted: Option<Vec<i64>> = read
                    .iter()
                    .map(|&(tweet, seen)| s.count(tweet, seen, mark))
                    .collect();
                if let Some(counts) = counted {
                    return counts;
                }
                if Instant::now() >= deadline {
                    return read
                        .iter()
                        .map(|&(tweet, seen)| {
                            let base = s.floors.get(tweet).map_or(seen, |f| f.max(seen));
                            base + s.pending.get(&tweet).map_or(0, |p| p.count)
                        })
                        .collect();
                }
                // Seen under the lock a landing is announced under, so
                // the wait below cannot miss it.
                landings.borrow_and_update();
            }
            let _ = tokio::time::timeout_at(deadline, landings.changed()).await;
        }
    }

    /// Stops taking likes, writes everything held to the database (for up
    /// to `drain_timeout`; what is left stays in the journal for the next
    /// start), and stops the tasks.
    pub async fn shutdown(&self) {
        {
            let mut s = self.shared.lock();
            s.draining = true;
        }
        self.shared.wake_flusher.notify_one();
        self.shared.wake_writer.notify_one();
        let tasks: Vec<_> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let deadline = self.shared.config.drain_timeout;
        let joined = tokio::time::timeout(deadline, async {
            for t in tasks {
                let _ = t.await;
            }
        })
        .await;
        let held = self.shared.lock().held;
        match joined {
            Ok(()) if held == 0 => {
                tracing::info!("like batcher drained: every like is in the database")
            }
            _ => tracing::warn!(
                held,
                "like batcher stopped with likes still held; they are in the journal and will be written at the next start"
            ),
        }
    }
}

/// The journal records that describe `s` on their own.
fn snapshot(s: &State) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.pending.len() * 17 + 64);
    for (&tweet, p) in &s.pending {
        journal::encode_like(&mut out, tweet, p.count);
    }
    if let Some(f) = &s.in_flight {
        // A Begin must follow the likes it takes from; put them back first.
        for &(tweet, n) in &f.likes {
            journal::encode_like(&mut out, tweet, n);
        }
        journal::encode_begin(&mut out, f.batch as u64, &f.likes);
    }
    out
}

mod tasks;
#[cfg(test)]
mod tests;
