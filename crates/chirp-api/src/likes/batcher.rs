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

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
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
    /// Bumped when a batch starts to be applied and again when it is done:
    /// odd while the database may be taking the batch in flight.
    applies: u64,
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
        let writer = tokio::spawn(writer_task(shared.clone(), journal));
        let flusher = tokio::spawn(flusher_task(shared.clone()));
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

    /// [`Batcher::held`] for many tweets under one lock.
    pub fn held_many(&self, tweets: &[i64]) -> Vec<i64> {
        let s = self.shared.lock();
        tweets.iter().map(|&t| held_in(&s, t, true)).collect()
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
    /// `mark` cannot include. The batch in flight counts only if no batch
    /// was being applied since `mark`; otherwise the read may already hold
    /// it. So a count can fall short while a batch is being written, but
    /// never shows a like twice.
    pub fn held_since(&self, mark: FlushMark, tweets: &[i64]) -> Vec<i64> {
        let s = self.shared.lock();
        let settled = s.applies == mark.0 && mark.0.is_multiple_of(2);
        tweets.iter().map(|&t| held_in(&s, t, settled)).collect()
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

/// The journal, owned by the writer task; behind a mutex only so blocking
/// file work can run on the blocking pool.
type SharedJournal = Arc<Mutex<Journal>>;

/// Runs `f` on the journal on the blocking pool.
async fn with_journal<T: Send + 'static>(
    journal: &SharedJournal,
    f: impl FnOnce(&mut Journal) -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let journal = journal.clone();
    tokio::task::spawn_blocking(move || {
        let mut j = journal.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut j)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Writes buffered records in groups and publishes how far it got.
async fn writer_task(shared: Arc<Shared>, journal: Journal) {
    let journal: SharedJournal = Arc::new(Mutex::new(journal));
    loop {
        let (bytes, upto) = {
            let mut s = shared.lock();
            (std::mem::take(&mut s.buffer), s.appended)
        };
        if bytes.is_empty() {
            // Stop once draining is over and its last Done is written.
            if flusher_finished(&shared) {
                return;
            }
            shared.wake_writer.notified().await;
            continue;
        }
        let group = Arc::new(bytes);
        let to_write = group.clone();
        match with_journal(&journal, move |j| j.append(&to_write).map(|()| j.size())).await {
            Ok(len) => {
                shared.metrics.journal_writes.inc();
                shared.durable.send_replace(upto);
                if len > shared.config.compact_bytes {
                    compact(&shared, &journal).await;
                }
            }
            Err(e) => {
                // Put the group back in front of what came since, and retry.
                tracing::error!(error = %e, "cannot write the like journal; retrying");
                {
                    let mut s = shared.lock();
                    let mut again = Arc::unwrap_or_clone(group);
                    again.extend_from_slice(&s.buffer);
                    s.buffer = again;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Whether draining is over: nothing pending, nothing in flight.
fn flusher_finished(shared: &Shared) -> bool {
    let s = shared.lock();
    s.draining && s.pending.is_empty() && s.in_flight.is_none()
}

/// Rewrites the journal as a snapshot of the state. Records still in the
/// buffer are covered by the snapshot, so they are set aside, and put back
/// only if the snapshot could not replace the journal.
async fn compact(shared: &Shared, journal: &SharedJournal) {
    let (snap, upto, set_aside) = {
        let mut s = shared.lock();
        let set_aside = std::mem::take(&mut s.buffer);
        (snapshot(&s), s.appended, set_aside)
    };
    match with_journal(journal, move |j| {
        let before = j.size();
        j.compact(&snap).map(|()| (before, j.size()))
    })
    .await
    {
        Ok((before, after)) => {
            tracing::info!(before, after, "compacted the like journal");
            shared.durable.send_replace(upto);
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot compact the like journal; keeping the old one");
            let mut s = shared.lock();
            let mut again = set_aside;
            again.extend_from_slice(&s.buffer);
            s.buffer = again;
        }
    }
}

/// Takes what is due and writes it, one batch at a time.
async fn flusher_task(shared: Arc<Shared>) {
    let config = shared.config.clone();
    loop {
        // Collect the batch, or learn when to look again.
        let taken = {
            let mut s = shared.lock();
            let now = Instant::now();
            let draining = s.draining;
            let mut tweets: Vec<i64> = s.due.drain().collect();
            let mut next_deadline: Option<Instant> = None;
            for (&tweet, p) in &s.pending {
                let deadline = p.since + config.max_age;
                if draining || deadline <= now {
                    tweets.push(tweet);
                } else {
                    next_deadline =
                        Some(next_deadline.map_or(deadline, |d: Instant| d.min(deadline)));
                }
            }
            tweets.sort_unstable();
            tweets.dedup();
            let likes: Vec<(i64, i64)> = tweets
                .iter()
                .filter_map(|t| s.pending.remove(t).map(|p| (*t, p.count)))
                .collect();
            if likes.is_empty() {
                Err((next_deadline, draining))
            } else {
                let batch = rand::random::<i64>() & i64::MAX;
                journal::encode_begin(&mut s.buffer, batch as u64, &likes);
                s.appended += 1;
                s.in_flight = Some(InFlight {
                    batch,
                    likes: likes.clone(),
                });
                shared.publish_gauges(&s);
                Ok((batch, likes, s.appended))
            }
        };
        let (batch, likes, begin_seq) = match taken {
            Ok(t) => t,
            Err((_, true)) => {
                shared.wake_writer.notify_one();
                return;
            }
            Err((deadline, false)) => {
                match deadline {
                    Some(d) => {
                        tokio::select! {
                            () = shared.wake_flusher.notified() => {}
                            () = tokio::time::sleep_until(d) => {}
                        }
                    }
                    None => shared.wake_flusher.notified().await,
                }
                continue;
            }
        };
        shared.wake_writer.notify_one();
        // The Begin must be durable before the database sees the batch, or a
        // crash in between would make a replay count these likes twice. The
        // writer retries until it is; there is no giving up here, because a
        // Begin written late after a give-up would count the batch twice.
        let mut rx = shared.durable.subscribe();
        if rx.wait_for(|&d| d >= begin_seq).await.is_err() {
            return;
        }
        {
            let mut s = shared.lock();
            s.applies += 1;
            shared.applying.send_replace(s.applies);
        }
        apply_with_retry(&shared, batch, &likes).await;
        {
            let mut s = shared.lock();
            s.in_flight = None;
            s.applies += 1;
            shared.applying.send_replace(s.applies);
            let total: i64 = likes.iter().map(|(_, n)| n).sum();
            s.held = s.held.saturating_sub(total as u64);
            journal::encode_done(&mut s.buffer, batch as u64);
            s.appended += 1;
            shared.publish_gauges(&s);
        }
        shared.wake_writer.notify_one();
        (shared.on_flushed)(&likes);
        if !config.flush_gap.is_zero() && !shared.lock().draining {
            tokio::time::sleep(config.flush_gap).await;
        }
    }
}

/// Applies a batch, retrying with backoff until the database takes it.
async fn apply_with_retry(shared: &Shared, batch: i64, likes: &[(i64, i64)]) {
    let started = std::time::Instant::now();
    let mut backoff = Duration::from_millis(50);
    loop {
        match shared.sink.apply(batch, likes).await {
            Ok((_, statements)) => {
                let m = &shared.metrics;
                let total: i64 = likes.iter().map(|(_, n)| n).sum();
                m.like_flushes.inc();
                m.like_statements.inc_by(statements);
                m.likes_flushed.inc_by(total as u64);
                m.likes_per_statement
                    .observe(total as f64 / statements.max(1) as f64);
                m.like_flush_seconds
                    .observe(started.elapsed().as_secs_f64());
                return;
            }
            Err(e) => {
                shared.metrics.like_flush_errors.inc();
                tracing::warn!(error = %e, batch, retry_in = ?backoff, "cannot write likes to the database; will retry");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The batching rules against an in-memory sink, with tokio's clock
    //! paused so "60 seconds later" takes no time. The journal is real.

    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicU32, Ordering};

    use tokio::sync::Semaphore;

    use super::*;

    /// Remembers applied batch ids like the database does; can be made to
    /// fail a number of times, or to wait for a permit before each batch.
    #[derive(Default)]
    struct FakeSink {
        applied: Mutex<BTreeMap<i64, Vec<(i64, i64)>>>,
        calls: Mutex<Vec<Vec<(i64, i64)>>>,
        failures_left: AtomicU32,
        gate: Option<Semaphore>,
    }

    #[async_trait]
    impl LikeSink for FakeSink {
        async fn apply(&self, batch: i64, likes: &[(i64, i64)]) -> anyhow::Result<(bool, u64)> {
            if let Some(gate) = &self.gate {
                gate.acquire().await?.forget();
            }
            if self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                anyhow::bail!("database is down");
            }
            self.calls.lock().expect("lock").push(likes.to_vec());
            let mut applied = self.applied.lock().expect("lock");
            if applied.contains_key(&batch) {
                return Ok((false, 1));
            }
            applied.insert(batch, likes.to_vec());
            Ok((true, 2))
        }
    }

    impl FakeSink {
        /// Likes the "database" holds, per tweet.
        fn totals(&self) -> BTreeMap<i64, i64> {
            let mut out = BTreeMap::new();
            for likes in self.applied.lock().expect("lock").values() {
                for (t, n) in likes {
                    *out.entry(*t).or_default() += n;
                }
            }
            out
        }

        fn batches(&self) -> usize {
            self.calls.lock().expect("lock").len()
        }
    }

    fn config(dir: &tempfile::TempDir) -> BatcherConfig {
        BatcherConfig {
            journal: dir.path().join("likes.journal"),
            flush_gap: Duration::ZERO,
            ..BatcherConfig::default()
        }
    }

    async fn start(cfg: BatcherConfig, sink: &Arc<FakeSink>) -> Batcher {
        Batcher::start(cfg, sink.clone(), Metrics::new(), Box::new(|_| {}))
            .await
            .expect("start")
    }

    /// Lets the batcher's tasks run without moving the paused clock.
    async fn settle() {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn ten_likes_wait_and_the_eleventh_flushes_them_all() {
        let dir = tempfile::tempdir().expect("dir");
        let sink = Arc::new(FakeSink::default());
        let b = start(config(&dir), &sink).await;
        for _ in 0..10 {
            b.like(7).await.expect("like");
        }
        settle().await;
        assert_eq!(sink.batches(), 0, "10 pending likes must not be written");
        assert_eq!(b.held(7), 10);
        b.like(7).await.expect("like");
        settle().await;
        assert_eq!(sink.batches(), 1);
        assert_eq!(sink.totals(), BTreeMap::from([(7, 11)]));
        assert_eq!(b.held(7), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn likes_older_than_max_age_are_flushed() {
        let dir = tempfile::tempdir().expect("dir");
        let sink = Arc::new(FakeSink::default());
        let b = start(config(&dir), &sink).await;
        b.like(1).await.expect("like");
        b.like(2).await.expect("like");
        tokio::time::sleep(Duration::from_secs(59)).await;
        settle().await;
        assert_eq!(sink.batches(), 0, "flushed before 60 s");
        tokio::time::sleep(Duration::from_secs(2)).await;
        settle().await;
        assert_eq!(sink.batches(), 1, "both tweets go in one batch");
        assert_eq!(sink.totals(), BTreeMap::from([(1, 1), (2, 1)]));
    }

    #[tokio::test(start_paused = true)]
    async fn flushes_coalesce_while_one_is_in_flight() {
        let dir = tempfile::tempdir().expect("dir");
        let sink = Arc::new(FakeSink {
            gate: Some(Semaphore::new(0)),
            ..FakeSink::default()
        });
        let b = start(config(&dir), &sink).await;
        for _ in 0..11 {
            b.like(1).await.expect("like");
        }
        settle().await;
        // Batch 1 (tweet 1) is stuck in the database; meanwhile 20 more
        // tweets become due.
        for tweet in 100..120 {
            for _ in 0..11 {
                b.like(tweet).await.expect("like");
            }
        }
        assert_eq!(b.held(1), 11, "in-flight likes still count for readers");
        let gate = sink.gate.as_ref().expect("gate");
        gate.add_permits(2);
        settle().await;
        let calls = sink.calls.lock().expect("lock").clone();
        assert_eq!(
            calls.len(),
            2,
            "one flush for tweet 1, one for all the rest"
        );
        assert_eq!(calls[1].len(), 20);
        assert!(calls[1].iter().all(|(_, n)| *n == 11));
    }

    #[tokio::test(start_paused = true)]
    async fn a_database_outage_delays_likes_but_loses_none() {
        let dir = tempfile::tempdir().expect("dir");
        let sink = Arc::new(FakeSink {
            failures_left: AtomicU32::new(5),
            ..FakeSink::default()
        });
        let b = start(config(&dir), &sink).await;
        for _ in 0..30 {
            b.like(9)
                .await
                .expect("accepted while the database is down");
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
        settle().await;
        assert_eq!(sink.totals(), BTreeMap::from([(9, 30)]));
        assert_eq!(b.held(9), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_backlog_likes_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let sink = Arc::new(FakeSink {
            gate: Some(Semaphore::new(0)),
            ..FakeSink::default()
        });
        let cfg = BatcherConfig {
            max_backlog: 25,
            ..config(&dir)
        };
        let b = start(cfg, &sink).await;
        for _ in 0..25 {
            b.like(3).await.expect("within the backlog");
        }
        assert!(matches!(b.like(3).await, Err(LikeRefused::Backlog)));
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_writes_everything_and_refuses_more() {
        let dir = tempfile::tempdir().expect("dir");
        let sink = Arc::new(FakeSink::default());
        let b = start(config(&dir), &sink).await;
        for tweet in 1..=5 {
            for _ in 0..tweet {
                b.like(tweet).await.expect("like");
            }
        }
        b.shutdown().await;
        assert_eq!(
            sink.totals(),
            BTreeMap::from([(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)])
        );
        assert!(matches!(b.like(1).await, Err(LikeRefused::ShuttingDown)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_restart_takes_back_pending_likes_from_the_journal() {
        let dir = tempfile::tempdir().expect("dir");
        let sink = Arc::new(FakeSink::default());
        {
            let b = start(config(&dir), &sink).await;
            for _ in 0..4 {
                b.like(5).await.expect("like");
            }
            // A crash: the tasks stop, nothing is drained.
            for t in b.tasks.lock().expect("lock").drain(..) {
                t.abort();
            }
        }
        settle().await;
        assert_eq!(sink.batches(), 0);
        let b = start(config(&dir), &sink).await;
        assert_eq!(b.held(5), 4, "pending likes came back from the journal");
        b.shutdown().await;
        assert_eq!(sink.totals(), BTreeMap::from([(5, 4)]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_in_doubt_is_replayed_once_and_counted_once() {
        let dir = tempfile::tempdir().expect("dir");
        let sink = Arc::new(FakeSink::default());
        // A journal as a crash would leave it: 15 likes, a batch of 12 begun
        // (and, as it happens, applied), its Done never written.
        let mut bytes = Vec::new();
        journal::encode_like(&mut bytes, 8, 15);
        journal::encode_begin(&mut bytes, 77, &[(8, 12)]);
        std::fs::write(dir.path().join("likes.journal"), &bytes).expect("write");
        sink.applied.lock().expect("lock").insert(77, vec![(8, 12)]);

        let b = start(config(&dir), &sink).await;
        assert_eq!(b.held(8), 3, "12 were in the batch, 3 still pending");
        b.shutdown().await;
        assert_eq!(sink.totals(), BTreeMap::from([(8, 15)]), "not 27");
        // The replay offered batch 77 again; the sink skipped it.
        let calls = sink.calls.lock().expect("lock").clone();
        assert_eq!(calls[0], vec![(8, 12)]);

        // And a second restart finds nothing left to do.
        let b = start(config(&dir), &sink).await;
        assert_eq!(b.held(8), 0);
        b.shutdown().await;
        assert_eq!(sink.totals(), BTreeMap::from([(8, 15)]));
    }
}
