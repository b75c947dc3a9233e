//! When likes reach the database (SPEC §1.3), seen over HTTP and checked in
//! the database itself: more than 10 pending, or older than the maximum
//! age; and straight away with batching off.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    Backend, Reply, TestApp, fresh_database, serve_on, spawn_app, spawn_app_with,
};
use crate::inspect::each_backend;
use chirp_app::likes::LikesConfig;
use chirp_store::HealthStore;

async fn like(app: &TestApp, id: i64) -> Reply {
    app.call(Method::POST, &format!("/api/tweets/{id}/likes"), None, None)
        .await
}

async fn shown(app: &TestApp, id: i64) -> i64 {
    app.get(&format!("/api/tweets/{id}")).await.expect(200).body["like_count"]
        .as_i64()
        .expect("like_count")
}

/// Polls the database until tweet `id` has `expected` likes, for at most
/// `limit`; returns when it got there.
async fn db_reaches(app: &TestApp, id: i64, expected: i64, limit: Duration) -> Instant {
    let deadline = Instant::now() + limit;
    loop {
        let now = app.db_likes(id).await;
        assert!(
            now <= expected,
            "database has {now} likes, more than {expected}"
        );
        if now == expected {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "database still has {now} likes, not {expected}, after {limit:?}"
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
    // Give a wrong flush time to happen: ten likes stay in memory.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.db_likes(id).await, 0, "10 likes must not be flushed");
    assert_eq!(shown(&app, id).await, 10);
    assert_eq!(app.metric("chirp_likes_pending").await, 13.0);
    assert_eq!(app.metric("chirp_like_flushes_total").await, 0.0);

    let reply = like(&app, id).await.expect(202);
    assert_eq!(reply.body["like_count"], 11);
    db_reaches(&app, id, 11, Duration::from_secs(5)).await;
    assert_eq!(shown(&app, id).await, 11);
    // Only the tweet over the threshold was written.
    assert_eq!(app.db_likes(other).await, 0);
    assert_eq!(shown(&app, other).await, 3);
    app.metric_reaches("chirp_like_flushes_total", 1.0).await;
    app.metric_reaches("chirp_likes_pending", 3.0).await;

    // The count starts again from there.
    for n in 12..=21 {
        assert_eq!(like(&app, id).await.expect(202).body["like_count"], n);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.db_likes(id).await, 11);
    like(&app, id).await.expect(202);
    db_reaches(&app, id, 22, Duration::from_secs(5)).await;
}

const MAX_AGE: Duration = Duration::from_millis(300);

async fn old_likes_are_flushed_after_max_age(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.max_age = MAX_AGE).await;
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "slowly liked").await;
    let first = Instant::now();
    for _ in 0..3 {
        like(&app, id).await.expect(202);
    }
    assert_eq!(app.db_likes(id).await, 0);
    assert_eq!(shown(&app, id).await, 3);
    let checked = first.elapsed();
    assert!(
        checked < MAX_AGE,
        "checking took {checked:?}, past the maximum age: the test proves nothing"
    );
    let flushed = db_reaches(&app, id, 3, MAX_AGE + Duration::from_secs(3)).await;
    let waited = flushed - first;
    assert!(
        waited >= MAX_AGE,
        "likes reached the database after {waited:?}, before the maximum age"
    );
    assert_eq!(shown(&app, id).await, 3);
    app.metric_reaches("chirp_likes_pending", 0.0).await;
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
