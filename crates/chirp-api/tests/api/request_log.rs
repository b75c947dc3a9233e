//! The request log at `/logs` (SPEC §1.5) and the metrics at `/metrics`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, both};

/// `/logs` (with `query`), checked for the headers every answer carries.
async fn logs(app: &TestApp, query: &str) -> Value {
    let reply = app.get(&format!("/logs{query}")).await.expect(200);
    assert_eq!(
        reply.headers["cache-control"], "no-store",
        "/logs must never be cached"
    );
    assert!(
        reply.headers["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("application/json")),
        "{:?}",
        reply.headers
    );
    reply.body
}

fn calls(log: &Value) -> Vec<(String, String)> {
    log["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| {
            let pair = c.as_array().expect("a call is [METHOD, PATH]");
            assert_eq!(pair.len(), 2, "{c}");
            (
                pair[0].as_str().expect("method").to_owned(),
                pair[1].as_str().expect("path").to_owned(),
            )
        })
        .collect()
}

fn call(method: &str, path: &str) -> (String, String) {
    (method.to_owned(), path.to_owned())
}

fn db(log: &Value) -> (u64, u64) {
    (
        log["db"]["reads"].as_u64().expect("db.reads"),
        log["db"]["writes"].as_u64().expect("db.writes"),
    )
}

async fn every_api_call_is_listed_in_order(app: TestApp) {
    let empty = logs(&app, "").await;
    assert_eq!(empty["total"], 0);
    assert_eq!(empty["calls"], json!([]));
    assert_eq!(empty["instance"], "test");
    let started = empty["started_at"].as_str().expect("started_at");
    chrono::DateTime::parse_from_rfc3339(started).expect("started_at is RFC 3339");

    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "logged #once").await;
    app.get(&format!("/api/tweets/{id}?fields=all")).await;
    app.get("/api/tweets?limit=5&cursor=abc").await;
    app.call(Method::POST, &format!("/api/tweets/{id}/likes"), None, None)
        .await
        .expect(202);
    app.get("/api/accounts/nobody").await.expect(404);
    app.get("/healthz").await.expect(200);
    app.get("/readyz").await.expect(200);
    app.get("/metrics").await.expect(200);
    app.delete("/api/sessions/current", &token)
        .await
        .expect(204);

    let log = logs(&app, "?limit=100").await;
    let expected = vec![
        call("POST", "/api/accounts"),
        call("POST", "/api/sessions"),
        call("POST", "/api/tweets"),
        call("GET", &format!("/api/tweets/{id}")),
        call("GET", "/api/tweets"),
        call("POST", &format!("/api/tweets/{id}/likes")),
        call("GET", "/api/accounts/nobody"),
        call("DELETE", "/api/sessions/current"),
    ];
    // Query strings are dropped; health checks, metrics and /logs itself
    // are not API calls.
    assert_eq!(calls(&log), expected);
    assert_eq!(log["total"], expected.len());
    assert_eq!(log["started_at"], started, "started_at is fixed");
    assert_eq!(log["instance"], "test");
}

async fn calls_page_with_offset_and_limit(app: TestApp) {
    for i in 0..7 {
        app.get(&format!("/api/accounts/user{i}")).await.expect(404);
    }
    let all = calls(&logs(&app, "").await);
    assert_eq!(all.len(), 7);
    for (i, c) in all.iter().enumerate() {
        assert_eq!(*c, call("GET", &format!("/api/accounts/user{i}")));
    }
    let page = logs(&app, "?offset=2&limit=3").await;
    assert_eq!(calls(&page), all[2..5].to_vec());
    assert_eq!(page["total"], 7, "total counts every call, not the page");
    assert_eq!(calls(&logs(&app, "?offset=5").await), all[5..].to_vec());
    assert_eq!(calls(&logs(&app, "?limit=2").await), all[..2].to_vec());
    assert!(calls(&logs(&app, "?limit=0").await).is_empty());
    let past = logs(&app, "?offset=100&limit=10").await;
    assert!(calls(&past).is_empty());
    assert_eq!(past["total"], 7);
    // Walking page by page gives every call once, in order.
    let mut walked = Vec::new();
    for offset in (0..7).step_by(2) {
        walked.extend(calls(
            &logs(&app, &format!("?offset={offset}&limit=2")).await,
        ));
    }
    assert_eq!(walked, all);

    for bad in ["offset=abc", "offset=-1", "limit=x", "offset=1.5"] {
        app.get(&format!("/logs?{bad}"))
            .await
            .expect_error(422, "validation_failed");
    }
    // Looking at the log is not a call it records.
    assert_eq!(logs(&app, "").await["total"], 7);
}

async fn database_counts_follow_reads_and_writes(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "counted").await;
    let (r0, w0) = db(&logs(&app, "").await);
    assert!(
        r0 > 0 && w0 > 0,
        "registering and posting used the database"
    );

    app.get(&format!("/api/tweets/{id}")).await.expect(200);
    let (r1, w1) = db(&logs(&app, "").await);
    assert!(
        r1 > r0,
        "a read of a tweet reads the database: {r0} -> {r1}"
    );
    assert_eq!(w1, w0, "a read of a tweet writes nothing");

    app.tweet_id(&token, "another").await;
    let (r2, w2) = db(&logs(&app, "").await);
    assert!(w2 > w1, "posting a tweet writes: {w1} -> {w2}");
    assert!(r2 >= r1);

    // /logs itself and health checks other than readiness use no statement.
    logs(&app, "").await;
    app.get("/healthz").await.expect(200);
    assert_eq!(db(&logs(&app, "").await), (r2, w2));
}

async fn metrics_show_the_like_batcher(app: TestApp) {
    let resp = app
        .request(Method::GET, "/metrics")
        .send()
        .await
        .expect("metrics");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let text = resp.text().await.expect("metrics text");
    for name in [
        "chirp_likes_accepted_total",
        "chirp_like_flushes_total",
        "chirp_like_statements_total",
        "chirp_likes_pending",
        "chirp_db_reads",
    ] {
        assert!(
            crate::inspect::metric(&text, name).is_some(),
            "{name} missing from:\n{text}"
        );
    }

    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "measured").await;
    let reads = app.metric("chirp_db_reads").await;
    assert!(reads > 0.0);
    for _ in 0..5 {
        app.call(Method::POST, &format!("/api/tweets/{id}/likes"), None, None)
            .await
            .expect(202);
    }
    assert_eq!(app.metric("chirp_likes_accepted_total").await, 5.0);
    assert_eq!(app.metric("chirp_likes_pending").await, 5.0);
    assert_eq!(app.metric("chirp_like_flushes_total").await, 0.0);
    assert_eq!(app.metric("chirp_like_statements_total").await, 0.0);
    for _ in 0..6 {
        app.call(Method::POST, &format!("/api/tweets/{id}/likes"), None, None)
            .await
            .expect(202);
    }
    app.metric_reaches("chirp_like_flushes_total", 1.0).await;
    app.metric_reaches("chirp_likes_pending", 0.0).await;
    assert_eq!(app.metric("chirp_likes_accepted_total").await, 11.0);
    // The batch id, and one update for the tweet.
    assert_eq!(app.metric("chirp_like_statements_total").await, 2.0);
    app.get(&format!("/api/tweets/{id}")).await.expect(200);
    assert!(app.metric("chirp_db_reads").await > reads);
}

both!(
    every_api_call_is_listed_in_order,
    calls_page_with_offset_and_limit,
    database_counts_follow_reads_and_writes,
    metrics_show_the_like_batcher,
);
