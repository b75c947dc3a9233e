//! A like storm over HTTP (SPEC §1.3): ten thousand concurrent likes on 50
//! tweets end with exact counts in the database, the API never shows more
//! likes than were sent, and the database sees a few bulk statements
//! instead of one per like.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chirp_store::HealthStore;

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::inspect::each_backend;
use crate::storm::{Storm, watch_counts};

const TWEETS: usize = 50;
const LIKES: usize = 10_000;
const CLIENTS: usize = 64;

async fn ten_thousand_likes_end_exact_with_few_statements(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user("alice").await;
    let mut tweets = Vec::new();
    for i in 0..TWEETS {
        tweets.push(app.tweet_id(&token, &format!("tweet {i}")).await);
    }
    let before = app.store.db_counts();
    let started = Instant::now();

    let storm = Storm::start(&app.base, &tweets, LIKES, CLIENTS);
    let done = Arc::new(AtomicBool::new(false));
    let reader = watch_counts(
        &app.base,
        &tweets,
        storm.tally.clone(),
        done.clone(),
        100_000,
    );
    let tally = storm.join(Duration::from_secs(120)).await;
    done.store(true, Ordering::SeqCst);
    let reads = reader.await.expect("reader");
    let took = started.elapsed();

    assert_eq!(
        tally.failed(),
        0,
        "likes not answered 202: {:?}",
        tally.failures.lock().expect("failures")
    );
    assert_eq!(tally.total_sent(), LIKES as i64);
    assert_eq!(tally.total_acked(), LIKES as i64);
    assert!(
        reads >= 10,
        "the reader made only {reads} reads during the storm"
    );
    tally.assert_no_overcount();

    // Every like counts over the API, held or flushed (a read may fall
    // short while a last batch is being written, never above).
    let each = (LIKES / TWEETS) as i64;
    for (k, id) in tweets.iter().enumerate() {
        assert_eq!(tally.acked(k), each);
        shows_exactly(&app, *id, each).await;
    }
    assert_eq!(app.metric("chirp_likes_accepted_total").await, LIKES as f64);

    // Drain, then the database itself holds exactly the likes sent.
    app.state.app.likes().shutdown().await;
    for id in &tweets {
        assert_eq!(app.db_likes(*id).await, each, "tweet {id} in the database");
    }
    assert_eq!(app.metric("chirp_likes_pending").await, 0.0);

    // A few bulk statements, not one per like.
    let writes = app.store.db_counts().writes - before.writes;
    let statements = app.metric("chirp_like_statements_total").await;
    let flushes = app.metric("chirp_like_flushes_total").await;
    eprintln!(
        "{backend:?}: {LIKES} likes in {took:?}; {flushes} flushes, {statements} statements, \
         {writes} database writes, {reads} reads during the storm, {} journal writes",
        app.metric("chirp_like_journal_writes_total").await
    );
    assert!(flushes >= 1.0);
    // Each flush records its batch id and updates at least one tweet.
    assert!(statements >= 2.0 * flushes, "{statements} < 2 x {flushes}");
    assert!(statements <= writes as f64, "{statements} > {writes}");
    assert!(
        writes * 20 <= LIKES as u64,
        "{writes} database writes for {LIKES} likes: not batched"
    );
}

/// Polls tweet `id` until the API shows `expected` likes (for at most 5 s),
/// failing at once if it ever shows more.
async fn shows_exactly(app: &TestApp, id: i64, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let shown = app.get(&format!("/api/tweets/{id}")).await.expect(200).body["like_count"]
            .as_i64()
            .expect("like_count");
        assert!(
            shown <= expected,
            "tweet {id} shows {shown} of {expected} likes"
        );
        if shown == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "tweet {id} shows {shown}, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

each_backend!(ten_thousand_likes_end_exact_with_few_statements);
