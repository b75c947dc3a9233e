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
//! Concurrency: one `std::sync::Mutex` guards all state; it is held only for
//! in-memory updates (never across an await or a syscall).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::journal::{self, Journal};
use crate::metrics::Metrics;

/// Where batches go: the database, or a fake in unit tests.
#[async_trait]
pub trait LikeSink: Send + Sync + 'static {
    /// Applies `likes` as batch `batch` in one transaction; a batch id that
    /// was applied before is skipped (returns `false`), which makes replays
    /// safe. Returns the number of statements it took alongside.
    async fn apply(&self, batch: i64, likes: &[(i64, i64)]) -> anyhow::Result<(bool, u64)>;
}

/// Called with the `(tweet, likes)` of every batch the database took.
pub type OnFlushed = Box<dyn Fn(&[(i64, i64)]) + Send + Sync>;

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

/// Where the flusher stood before a read of like counts from the database;
/// see [`Batcher::held_since`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushMark(u64);

/// Why a like was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum LikeRefused {
    #[error("too many likes are waiting for the database; try again shortly")]
    Backlog,
    #[error("the like journal cannot be written")]
    Journal,
    #[error("this instance is shutting down")]
    ShuttingDown,
}

/// How long a read of like counts waits for a batch being applied to land.
const READ_PATIENCE: Duration = Duration::from_millis(100);

/// How long a like waits for its journal write before giving up with 503.
const JOURNAL_PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
struct Pending {
    count: i64,
    since: Instant,
}

/// The batch being applied.
#[derive(Debug, Clone)]
struct InFlight {
    batch: i64,
    likes: Vec<(i64, i64)>,
    /// `State::applies` once its apply began (odd); `None` before.
    started: Option<u64>,
}

/// How many landed batches are remembered, to tell which tweets a read
/// that overlapped them may have seen change.
const LANDED_KEPT: usize = 256;

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
    /// Bumped when a batch starts to be applied and again when it is done:
    /// odd while the database may be taking the batch in flight.
    applies: u64,
    /// The latest batches that landed: when their apply began (odd
    /// `applies`) and their tweets, newest last.
    landed: VecDeque<(u64, Vec<i64>)>,
    /// The latest start among batches dropped from `landed` (0: none).
    landed_forgotten: u64,
}

struct Shared {
    state: Mutex<State>,
    /// Number of the last record known to be in the journal.
    durable: watch::Sender<u64>,
    wake_writer: Notify,
    wake_flusher: Notify,
    /// `State::applies`, published so readers can wait out an apply.
    applying: watch::Sender<u64>,
    config: BatcherConfig,
    sink: Arc<dyn LikeSink>,
    metrics: Metrics,
    /// Told `(tweet, n)` after each applied batch (to keep cached counts current).
    on_flushed: OnFlushed,
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
        on_flushed: OnFlushed,
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
        for (batch, likes) in &replayed.in_doubt {
            let (applied, _) = sink.apply(*batch as i64, likes).await?;
            tracing::info!(batch, applied, "settled a like batch left in doubt");
        }
        let now = Instant::now();
        let mut state = State::default();
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
            applying: watch::channel(0).0,
            config,
            sink,
            metrics,
            on_flushed,
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
        held_in(&s, tweet, true)
    }

    /// `base` (the database's count as this instance tracks it, which
    /// `on_flushed` raises when a batch lands) plus the likes held, read
    /// together under the lock a flush holds while it moves a batch from
    /// one to the other: the answer to a like is never short of, or beyond,
    /// what has been taken in. `None` if `still_tracked` (asked under the
    /// lock) says `base` is no longer the counter flushes raise (it expired
    /// from the cache, so a batch may have landed without raising it).
    pub fn count(
        &self,
        tweet: i64,
        base: &AtomicI64,
        still_tracked: impl FnOnce() -> bool,
    ) -> Option<i64> {
        let s = self.shared.lock();
        still_tracked().then(|| base.load(Ordering::Relaxed) + held_in(&s, tweet, true))
    }

    /// Runs `keep` (which should store `tweet`'s like count just read from
    /// the database) only if no batch with `tweet` in it was applied since
    /// `mark`, so the read saw every earlier batch of it and none of a
    /// later one; the lock keeps a flush from landing between this check
    /// and `keep`. `None` when it did not run.
    pub fn if_unchanged_since<T>(
        &self,
        mark: FlushMark,
        tweet: i64,
        keep: impl FnOnce() -> T,
    ) -> Option<T> {
        let s = self.shared.lock();
        (!s.changed_since(mark.0, tweet)).then(keep)
    }

    /// Take this before reading like counts from the database, and add
    /// [`Batcher::held_since`] to what the read returned.
    ///
    /// If a batch is being applied right now, this first waits (briefly) for
    /// it to finish, so a read right after a burst of likes is exact rather
    /// than short by the batch in flight.
    pub async fn mark(&self) -> FlushMark {
        let mut rx = self.shared.applying.subscribe();
        let _ = tokio::time::timeout(READ_PATIENCE, rx.wait_for(|a| a.is_multiple_of(2))).await;
        FlushMark(self.shared.lock().applies)
    }

    /// The likes held for each of `tweets` that a database read begun at
    /// `mark` cannot include, and whether that is exact. For a tweet that a
    /// batch applied since `mark` touched, the read may or may not hold that
    /// batch, so the batch in flight is left out for it (and `false` says
    /// counts may be short; read again for exact ones). Batches of other
    /// tweets do not matter. Never a like twice.
    pub fn held_since(&self, mark: FlushMark, tweets: &[i64]) -> (bool, Vec<i64>) {
        let s = self.shared.lock();
        let mut exact = true;
        let held = tweets
            .iter()
            .map(|&t| {
                let settled = !s.changed_since(mark.0, t);
                exact &= settled;
                held_in(&s, t, settled)
            })
            .collect();
        (exact, held)
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

impl State {
    /// Whether a batch with `tweet` in it began applying at or after
    /// `applies` value `mark` (or was applying then): a database read begun
    /// at `mark` may or may not include it. Unknown is taken as yes.
    fn changed_since(&self, mark: u64, tweet: i64) -> bool {
        // Starts are odd, so 0 means nothing was forgotten yet.
        if self.landed_forgotten > 0 && mark <= self.landed_forgotten {
            return true;
        }
        let in_flight = self.in_flight.as_ref().is_some_and(|f| {
            f.started.is_some_and(|start| start >= mark) && f.likes.iter().any(|(t, _)| *t == tweet)
        });
        in_flight
            || self
                .landed
                .iter()
                .rev()
                .take_while(|(start, _)| *start >= mark)
                .any(|(_, tweets)| tweets.binary_search(&tweet).is_ok())
    }

    /// Records a batch that landed, forgetting the oldest past the limit.
    fn remember_landed(&mut self, start: u64, likes: &[(i64, i64)]) {
        // Batches are built from sorted tweet ids; sort anyway, the search
        // above depends on it.
        let mut tweets: Vec<i64> = likes.iter().map(|(t, _)| *t).collect();
        tweets.sort_unstable();
        self.landed.push_back((start, tweets));
        while self.landed.len() > LANDED_KEPT {
            if let Some((start, _)) = self.landed.pop_front() {
                self.landed_forgotten = start;
            }
        }
    }
}

fn held_in(s: &State, tweet: i64, with_in_flight: bool) -> i64 {
    let pending = s.pending.get(&tweet).map_or(0, |p| p.count);
    let in_flight = s.in_flight.as_ref().filter(|_| with_in_flight);
    let flying = in_flight.map_or(0, |f| {
        f.likes
            .iter()
            .filter(|(t, _)| *t == tweet)
            .map(|(_, n)| n)
            .sum()
    });
    pending + flying
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
