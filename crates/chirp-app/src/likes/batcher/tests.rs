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
    async fn apply(&self, batch: i64, likes: &[(i64, i64)]) -> anyhow::Result<LandedLikes> {
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
        let fresh = {
            let mut applied = self.applied.lock().expect("lock");
            applied.insert(batch, likes.to_vec()).is_none()
        };
        let totals = self.totals();
        Ok(LandedLikes {
            applied: fresh,
            statements: if fresh { 2 } else { 1 },
            counts: likes.iter().map(|(t, _)| (*t, totals[t])).collect(),
        })
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

    /// Every batch offered, in order.
    fn calls(&self) -> Vec<Vec<(i64, i64)>> {
        self.calls.lock().expect("lock").clone()
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
    Batcher::start(cfg, sink.clone(), Metrics::new())
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

/// The timing half of the HTTP test `like_batching::the_eleventh_like_flushes`:
/// ten likes stay pending however long they wait short of the maximum age;
/// the eleventh sends that tweet's likes alone; the count starts again from
/// there; and a tweet under the threshold waits for its own age.
#[tokio::test(start_paused = true)]
async fn under_the_threshold_likes_wait_for_their_age_and_only_the_due_tweet_goes() {
    let dir = tempfile::tempdir().expect("dir");
    let sink = Arc::new(FakeSink::default());
    let metrics = Metrics::new();
    let b = Batcher::start(config(&dir), sink.clone(), metrics.clone())
        .await
        .expect("start");
    for _ in 0..10 {
        b.like(7).await.expect("like");
    }
    for _ in 0..3 {
        b.like(8).await.expect("like");
    }
    tokio::time::advance(Duration::from_secs(59)).await;
    settle().await;
    assert_eq!(sink.batches(), 0, "10 likes must wait, even for 59 s");
    assert_eq!((b.held(7), b.held(8)), (10, 3));
    assert_eq!(metrics.likes_pending.get(), 13);
    assert_eq!(metrics.like_flushes.get(), 0);

    b.like(7).await.expect("the eleventh");
    settle().await;
    assert_eq!(
        sink.calls(),
        [vec![(7, 11)]],
        "only the tweet over the threshold"
    );
    assert_eq!((b.held(7), b.held(8)), (0, 3));
    assert_eq!(metrics.like_flushes.get(), 1);
    assert_eq!(metrics.likes_pending.get(), 3);

    // The count starts again from there: ten more wait, the eleventh goes.
    for _ in 0..10 {
        b.like(7).await.expect("like");
    }
    tokio::time::advance(Duration::from_millis(900)).await;
    settle().await;
    assert_eq!(sink.batches(), 1, "ten new likes must wait");
    assert_eq!(b.held(7), 10);
    b.like(7).await.expect("the eleventh again");
    settle().await;
    assert_eq!(sink.calls(), [vec![(7, 11)], vec![(7, 11)]]);

    // Tweet 8 (3 likes, first at 0 s) goes when that like is 60 s old.
    tokio::time::advance(Duration::from_millis(100)).await;
    settle().await;
    assert_eq!(sink.calls()[2..], [vec![(8, 3)]]);
    assert_eq!(sink.totals(), BTreeMap::from([(7, 22), (8, 3)]));
    assert_eq!(metrics.likes_pending.get(), 0);
}

/// The timing half of the HTTP test `like_batching::old_likes_are_flushed_after_max_age`:
/// a tweet's likes go when its oldest pending like reaches the maximum age,
/// not a moment before, and later likes do not put that off.
#[tokio::test(start_paused = true)]
async fn a_tweet_is_flushed_when_its_oldest_like_reaches_max_age() {
    let dir = tempfile::tempdir().expect("dir");
    let sink = Arc::new(FakeSink::default());
    let b = start(config(&dir), &sink).await;
    b.like(1).await.expect("like");
    tokio::time::advance(Duration::from_secs(30)).await;
    b.like(1).await.expect("like");
    b.like(2).await.expect("like");
    tokio::time::advance(Duration::from_millis(29_900)).await;
    settle().await;
    assert_eq!(
        sink.batches(),
        0,
        "flushed before the oldest like was 60 s old"
    );
    assert_eq!(b.held(1), 2);
    tokio::time::advance(Duration::from_millis(200)).await;
    settle().await;
    assert_eq!(
        sink.calls(),
        [vec![(1, 2)]],
        "tweet 1 at 60 s, with its later like; tweet 2 is only 30 s old"
    );
    assert_eq!(b.held(2), 1);
    tokio::time::advance(Duration::from_millis(29_800)).await;
    settle().await;
    assert_eq!(sink.batches(), 1, "tweet 2 flushed before 60 s");
    tokio::time::advance(Duration::from_millis(200)).await;
    settle().await;
    assert_eq!(sink.calls()[1..], [vec![(2, 1)]]);
    assert_eq!(b.held(2), 0);
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

#[tokio::test(start_paused = true)]
async fn a_read_that_missed_a_landed_batch_is_raised_to_its_floor() {
    let dir = tempfile::tempdir().expect("dir");
    let sink = Arc::new(FakeSink::default());
    let b = start(config(&dir), &sink).await;
    for _ in 0..11 {
        b.like(1).await.expect("like");
    }
    settle().await;
    assert_eq!(sink.totals().get(&1), Some(&11));
    b.like(1).await.expect("like");
    // A read from before the batch saw 0; one from after saw 11; one that
    // also saw 5 likes another instance wrote since saw 16. The batch is
    // counted once in each, and the pending like added.
    assert_eq!(
        b.counts(&[(1, 0), (1, 11), (1, 16), (3, 4)], b.mark())
            .await,
        vec![12, 12, 17, 4]
    );
}

#[tokio::test(start_paused = true)]
async fn a_read_during_an_apply_waits_for_it_and_counts_it_once() {
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
    assert_eq!(b.held(1), 11, "the batch is in flight");
    // Two reads overlap the apply: one saw the database before it, one
    // after. Neither may answer until the batch has landed.
    let mark = b.mark();
    let (before, after) = (b.clone(), b.clone());
    let before = tokio::spawn(async move { before.counts(&[(1, 0)], mark).await });
    let after = tokio::spawn(async move { after.counts(&[(1, 11)], mark).await });
    settle().await;
    assert!(!before.is_finished() && !after.is_finished());
    sink.gate.as_ref().expect("gate").add_permits(1);
    assert_eq!(before.await.expect("task"), vec![11]);
    assert_eq!(after.await.expect("task"), vec![11]);
    // A tweet not in the batch never waits.
    assert_eq!(b.counts(&[(3, 2)], b.mark()).await, vec![2]);
}

#[tokio::test(start_paused = true)]
async fn a_read_that_ended_before_the_apply_began_counts_the_batch_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let sink = Arc::new(FakeSink {
        gate: Some(Semaphore::new(0)),
        ..FakeSink::default()
    });
    let b = start(config(&dir), &sink).await;
    let early = b.mark();
    for _ in 0..11 {
        b.like(1).await.expect("like");
    }
    settle().await;
    // The apply is stuck and tweet 1 has no floor, but a read that ended
    // before the apply began saw none of the batch: no wait, counted once.
    assert_eq!(b.count_now(1, 0, early), Some(11));
    assert_eq!(b.counts(&[(1, 0)], early).await, vec![11]);
    assert_eq!(b.count_now(1, 0, b.mark()), None);
}

#[tokio::test(start_paused = true)]
async fn a_batch_stuck_in_the_database_is_left_out_never_counted_twice() {
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
    b.like(1).await.expect("like");
    // The apply never finishes: after its patience the read answers with
    // what it saw plus the pending like, without the batch it cannot place.
    let counted = tokio::spawn({
        let b = b.clone();
        async move { b.counts(&[(1, 11)], b.mark()).await }
    });
    tokio::time::sleep(READ_PATIENCE * 2).await;
    assert_eq!(counted.await.expect("task"), vec![12]);
}

#[tokio::test(start_paused = true)]
async fn a_like_during_an_apply_is_answered_from_the_floor_without_waiting() {
    let dir = tempfile::tempdir().expect("dir");
    let sink = Arc::new(FakeSink {
        gate: Some(Semaphore::new(0)),
        ..FakeSink::default()
    });
    let b = start(config(&dir), &sink).await;
    // The first batch of tweet 1 is stuck in the database: no floor yet,
    // so only a read of the database (and a wait) can tell.
    for _ in 0..11 {
        b.like(1).await.expect("like");
    }
    settle().await;
    assert_eq!(b.held(1), 11);
    assert_eq!(b.count_now(1, 0, b.mark()), None);
    // It lands (floor 11); the next batch is stuck, and however the rest
    // splits between in flight and pending, the answer is the floor plus
    // the 12 held, whatever the cache says the database held.
    sink.gate.as_ref().expect("gate").add_permits(1);
    settle().await;
    assert_eq!(sink.totals().get(&1), Some(&11));
    for _ in 0..12 {
        b.like(1).await.expect("like");
    }
    settle().await;
    assert_eq!(b.held(1), 12);
    let mark = b.mark();
    assert_eq!(b.count_now(1, 0, mark), Some(23));
    assert_eq!(b.count_now(1, 22, mark), Some(23));
    // Not in flight: the larger of cache and floor, plus pending.
    assert_eq!(b.count_now(3, 4, mark), Some(4));
}
