//! When likes reach the database (SPEC §1.3), seen over HTTP and checked in
//! the database itself: more than 10 pending, or older than the maximum
//! age; and straight away with batching off.
//!
//! Nothing here depends on how fast the machine is: a test never sleeps to
//! show that something did not happen, and never measures elapsed time. It
//! checks what must hold at once, and waits (with a generous bound) for
//! what must happen eventually, counting flushes in `/metrics` so a flush
//! too many or too early shows. Timing itself (nothing flushed a moment
//! before the age, ten likes waiting for 59 s, the age counted from the
//! oldest like) is tested on paused time beside the batcher, in
//! `chirp-app/src/likes/batcher/tests.rs`.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    Backend, Reply, TestApp, fresh_database, serve_on, spawn_app, spawn_app_with,
};
use crate::inspect::each_backend;
use chirp_app::likes::LikesConfig;
use chirp_store::HealthStore;

/// How long a test waits for something that must happen: long enough for
/// a busy machine; a correct run takes a small part of it.
const PATIENCE: Duration = Duration::from_secs(60);

async fn like(app: &TestApp, id: i64) -> Reply {
    app.call(Method::POST, &format!("/api/tweets/{id}/likes"), None, None)
        .await
}

async fn shown(app: &TestApp, id: i64) -> i64 {
    app.get(&format!("/api/tweets/{id}")).await.expect(200).body["like_count"]
        .as_i64()
        .expect("like_count")
}

/// Polls `/metrics` until metric `name` is at least `value` (for at most
/// [`PATIENCE`]), then says it is exactly `value`.
async fn metric_reaches(app: &TestApp, name: &str, value: f64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let now = app.metric(name).await;
        if now >= value {
            assert_eq!(now, value, "{name} went past {value}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} is {now} after {PATIENCE:?}, not {value}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `n` like batches have been written, and says not more: a
/// flush the rules do not call for fails the test, whenever it happened.
/// The database has the batches by then (the counter follows the commit);
/// the gauges follow a moment later, so wait for them too.
async fn flushes_reach(app: &TestApp, n: f64) {
    metric_reaches(app, "chirp_like_flushes_total", n).await;
}

/// Waits until the instance holds `n` likes not yet in the database.
async fn pending_falls_to(app: &TestApp, n: f64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let now = app.metric("chirp_likes_pending").await;
        if now == n {
            return;
        }
        assert!(now > n, "chirp_likes_pending is {now}, below {n}");
        assert!(
            Instant::now() < deadline,
            "chirp_likes_pending is {now} after {PATIENCE:?}, not {n}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn the_eleventh_like_flushes(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "count me").await;
    let other = app.tweet_id(&token, "and me").await;
    for n in 1..=10 {
        let reply = like(&app, id).await.expect(202);
        assert_eq!(reply.body, json!({"tweet_id": id, "like_count": n}));
    }
    for _ in 0..3 {
        like(&app, other).await.expect(202);
    }
    // Held in memory, and counted in what the instance shows (the maximum
    // age is 60 s, so no flush is due yet however slow the machine).
    assert_eq!(app.db_likes(id).await, 0, "10 likes must not be flushed");
    assert_eq!(shown(&app, id).await, 10);
    assert_eq!(app.metric("chirp_likes_pending").await, 13.0);
    assert_eq!(app.metric("chirp_like_flushes_total").await, 0.0);

    let reply = like(&app, id).await.expect(202);
    assert_eq!(reply.body["like_count"], 11);
    // One batch, with exactly the eleven: had ten gone early, the database
    // would hold 10 here, or a second batch would show.
    flushes_reach(&app, 1.0).await;
    assert_eq!(app.db_likes(id).await, 11);
    assert_eq!(shown(&app, id).await, 11);
    // Only the tweet over the threshold was written.
    assert_eq!(app.db_likes(other).await, 0);
    assert_eq!(shown(&app, other).await, 3);
    pending_falls_to(&app, 3.0).await;

    // The count starts again from there.
    for n in 12..=21 {
        assert_eq!(like(&app, id).await.expect(202).body["like_count"], n);
    }
    assert_eq!(app.db_likes(id).await, 11, "ten new likes must wait");
    assert_eq!(app.metric("chirp_like_flushes_total").await, 1.0);
    like(&app, id).await.expect(202);
    flushes_reach(&app, 2.0).await;
    assert_eq!(app.db_likes(id).await, 22);
    assert_eq!(app.db_likes(other).await, 0);
}

async fn old_likes_are_flushed_after_max_age(backend: Backend) {
    // Short, so the test is quick; that nothing goes before the age is
    // tested on paused time (see the module comment).
    let app = spawn_app_with(backend, |c| c.max_age = Duration::from_millis(200)).await;
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "slowly liked").await;
    for n in 1..=3 {
        let reply = like(&app, id).await.expect(202);
        assert_eq!(reply.body["like_count"], n);
    }
    // Three likes never reach the threshold: only their age sends them,
    // together, in one batch.
    flushes_reach(&app, 1.0).await;
    assert_eq!(app.db_likes(id).await, 3);
    assert_eq!(shown(&app, id).await, 3);
    metric_reaches(&app, "chirp_likes_flushed_total", 3.0).await;
    pending_falls_to(&app, 0.0).await;
}

async fn likes_on_missing_or_deleted_tweets_are_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "soon gone").await;
    let kept = app.tweet_id(&token, "staying").await;
    like(&app, id + 100).await.expect_error(404, "not_found");
    // Liked (so known to the like service, with likes pending), then deleted.
    for _ in 0..3 {
        like(&app, id).await.expect(202);
    }
    like(&app, kept).await.expect(202);
    app.delete(&format!("/api/tweets/{id}"), &token)
        .await
        .expect(204);
    like(&app, id).await.expect_error(404, "not_found");
    app.get(&format!("/api/tweets/{id}"))
        .await
        .expect_error(404, "not_found");
    assert_eq!(app.metric("chirp_likes_accepted_total").await, 4.0);
    // The likes held for the deleted tweet do not stop the rest.
    app.state.app.likes().shutdown().await;
    assert_eq!(app.db_likes(kept).await, 1);
}

async fn without_batching_each_like_is_written_at_once(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(backend, &dir).await;
    let app = serve_on(url, LikesConfig::WriteThrough, dir).await;
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "no waiting").await;
    let writes = app.store.db_counts().writes;
    for n in 1..=5 {
        let reply = like(&app, id).await.expect(202);
        assert_eq!(reply.body, json!({"tweet_id": id, "like_count": n}));
        assert_eq!(app.db_likes(id).await, n, "like {n} is in the database");
        assert_eq!(shown(&app, id).await, n);
    }
    // One statement per like: the baseline the batcher is measured against.
    assert_eq!(app.store.db_counts().writes - writes, 5);
    assert_eq!(app.metric("chirp_likes_accepted_total").await, 5.0);
    assert_eq!(app.metric("chirp_like_flushes_total").await, 0.0);
    like(&app, id + 1).await.expect_error(404, "not_found");
    app.delete(&format!("/api/tweets/{id}"), &token)
        .await
        .expect(204);
    like(&app, id).await.expect_error(404, "not_found");
    // Nothing was held, so nothing is left to write.
    assert!(
        !app.dir.path().join("likes.journal").exists(),
        "write-through keeps no journal"
    );
}

each_backend!(
    the_eleventh_like_flushes,
    old_likes_are_flushed_after_max_age,
    likes_on_missing_or_deleted_tweets_are_404,
    without_batching_each_like_is_written_at_once,
);
