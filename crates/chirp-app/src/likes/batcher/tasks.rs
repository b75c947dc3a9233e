//! The batcher's two tasks: the writer, which puts journal records on disk
//! in groups, and the flusher, which takes due likes to the database one
//! batch at a time. They share the batcher's state (see the parent module).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chirp_store::LandedLikes;
use tokio::time::Instant;

use super::{InFlight, Shared, snapshot};
use crate::likes::journal::{self, Journal};

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
pub(super) async fn writer_task(shared: Arc<Shared>, journal: Journal) {
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
pub(super) async fn flusher_task(shared: Arc<Shared>) {
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
                    applied_as: None,
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
            // From here a read may include the batch (see `ReadMark`).
            let mut s = shared.lock();
            s.applies_begun += 1;
            let n = s.applies_begun;
            if let Some(flight) = s.in_flight.as_mut() {
                flight.applied_as = Some(n);
            }
        }
        let landed = apply_with_retry(&shared, batch, &likes).await;
        {
            let mut s = shared.lock();
            let now = Instant::now();
            for (tweet, count) in landed.counts {
                s.floors.raise(tweet, count, now);
            }
            s.in_flight = None;
            // Under the lock that moves the batch from in flight to the
            // floors, so `Batcher::counts` sees it in exactly one place.
            shared.landings.send_modify(|n| *n += 1);
            let total: i64 = likes.iter().map(|(_, n)| n).sum();
            s.held = s.held.saturating_sub(total as u64);
            journal::encode_done(&mut s.buffer, batch as u64);
            s.appended += 1;
            shared.publish_gauges(&s);
        }
        shared.wake_writer.notify_one();
        if !config.flush_gap.is_zero() && !shared.lock().draining {
            tokio::time::sleep(config.flush_gap).await;
        }
    }
}

/// Applies a batch, retrying with backoff until the database takes it.
async fn apply_with_retry(shared: &Shared, batch: i64, likes: &[(i64, i64)]) -> LandedLikes {
    let started = std::time::Instant::now();
    let mut backoff = Duration::from_millis(50);
    loop {
        match shared.sink.apply(batch, likes).await {
            Ok(landed) => {
                let statements = landed.statements;
                let m = &shared.metrics;
                let total: i64 = likes.iter().map(|(_, n)| n).sum();
                m.like_flushes.inc();
                m.like_statements.inc_by(statements);
                m.likes_flushed.inc_by(total as u64);
                m.likes_per_statement
                    .observe(total as f64 / statements.max(1) as f64);
                m.like_flush_seconds
                    .observe(started.elapsed().as_secs_f64());
                return landed;
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
