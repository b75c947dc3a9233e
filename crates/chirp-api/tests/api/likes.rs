//! The like button: every click is +1.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, both};

async fn like(app: &TestApp, id: i64) -> crate::helpers::Reply {
    app.call(Method::POST, &format!("/api/tweets/{id}/likes"), None, None)
        .await
}

async fn each_like_counts_one(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "like me").await;
    let other = app.tweet_id(&token, "not me").await;
    for n in 1..=5 {
        let reply = like(&app, id).await.expect(202);
        assert_eq!(reply.body, json!({"tweet_id": id, "like_count": n}));
    }
    assert_eq!(
        app.get(&format!("/api/tweets/{id}")).await.expect(200).body["like_count"],
        5
    );
    assert_eq!(
        app.get(&format!("/api/tweets/{other}"))
            .await
            .expect(200)
            .body["like_count"],
        0
    );
    let list = app.get("/api/tweets").await.expect(200);
    assert_eq!(list.items()[1]["id"], id);
    assert_eq!(list.items()[1]["like_count"], 5);
    // Logged-in likes count the same, and repeat likes are not deduplicated.
    let reply = app
        .call(
            Method::POST,
            &format!("/api/tweets/{id}/likes"),
            Some(&token),
            None,
        )
        .await
        .expect(202);
    assert_eq!(reply.body["like_count"], 6);
}

/// Many rounds, because what this guards against are races: a like count
/// read while a batch lands must count that batch exactly once, in the
/// answers to likes and in reads (both were seen off by a batch before).
async fn concurrent_likes_are_all_counted(app: TestApp) {
    let token = app.user("alice").await;
    for _ in 0..50 {
        forty_likes_at_once(&app, &token).await;
    }
}

async fn forty_likes_at_once(app: &TestApp, token: &str) {
    let id = app.tweet_id(token, "popular").await;
    let url = format!("{}/api/tweets/{id}/likes", app.base);
    let mut clicks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let req = app.client.post(&url);
        clicks.spawn(async move {
            let resp = req.send().await.expect("like request");
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.expect("like body");
            (status, body)
        });
    }
    let mut counts = Vec::new();
    while let Some(done) = clicks.join_next().await {
        let (status, body) = done.expect("like task");
        assert_eq!(status, 202, "{body}");
        counts.push(body["like_count"].as_i64().expect("like_count"));
    }
    // Each answer counts at least its own like; the last one counts all.
    assert!(counts.iter().all(|&n| (1..=40).contains(&n)), "{counts:?}");
    assert_eq!(counts.iter().max(), Some(&40), "{counts:?}");
    assert_eq!(
        app.get(&format!("/api/tweets/{id}")).await.expect(200).body["like_count"],
        40
    );
    assert_eq!(
        app.get("/api/tweets?limit=1").await.expect(200).body["items"][0]["like_count"],
        40
    );
}

async fn liking_a_missing_tweet_is_404(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "short-lived").await;
    for missing in [id + 1, 0, -1, i64::MAX] {
        like(&app, missing).await.expect_error(404, "not_found");
    }
    app.delete(&format!("/api/tweets/{id}"), &token)
        .await
        .expect(204);
    like(&app, id).await.expect_error(404, "not_found");
    for bad in ["abc", "99999999999999999999", "%00"] {
        app.call(
            Method::POST,
            &format!("/api/tweets/{bad}/likes"),
            None,
            None,
        )
        .await
        .expect_error(400, "bad_request");
    }
}

async fn likes_survive_an_edit(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "before").await;
    like(&app, id).await.expect(202);
    like(&app, id).await.expect(202);
    let edited = app
        .patch(
            &format!("/api/tweets/{id}"),
            &token,
            json!({"text": "after"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(edited["like_count"], 2);
}

both!(
    each_like_counts_one,
    concurrent_likes_are_all_counted,
    liking_a_missing_tweet_is_404,
    likes_survive_an_edit,
);
