//! The live notification stream (SSE) over real HTTP: events as they are
//! stored, `Last-Event-ID` replay, the per-account cap, and its headers.

use chirp_testkit::sse::{SseEvent, SseReader};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, both};

/// Opens `token`'s stream, resuming after `last` when given.
async fn open(app: &TestApp, token: &str, last: Option<i64>) -> reqwest::Response {
    let mut req = app
        .request(Method::GET, "/api/notifications/stream")
        .bearer_auth(token);
    if let Some(id) = last {
        req = req.header("last-event-id", id.to_string());
    }
    req.send().await.expect("stream request")
}

fn body(event: &SseEvent) -> Value {
    assert_eq!(event.event.as_deref(), Some("notification"), "{event:?}");
    let n: Value = serde_json::from_str(&event.data).expect("notification JSON");
    assert_eq!(event.id.as_deref(), Some(n["id"].to_string().as_str()));
    n
}

async fn a_follow_arrives_on_the_open_stream(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let resp = open(&app, &bob, None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let mut stream = SseReader::new(resp);
    assert_eq!(app.metric("chirp_live_streams").await, 1.0);
    let published = app.metric("chirp_broker_published").await;
    app.post("/api/accounts/bob/follow", Some(&alice), json!({}))
        .await
        .expect(200);
    let n = body(&stream.next().await);
    assert_eq!(n["kind"], "follow");
    assert_eq!(app.metric("chirp_broker_published").await, published + 1.0);
    assert_eq!(n["actor"]["username"], "alice");
    // The stream carries exactly what the list shows.
    let listed = app.get_as(&bob, "/api/notifications").await.expect(200);
    assert_eq!(listed.body["items"][0], n);
    // A reply arrives too, with its tweet.
    let tweet = app.tweet_id(&bob, "hello").await;
    app.tweet_with(&alice, json!({"text": "hi bob", "reply_to": tweet}))
        .await;
    let n = body(&stream.next().await);
    assert_eq!(n["kind"], "reply");
    assert_eq!(n["tweet"]["text"], "hi bob");
}

async fn others_notifications_never_reach_a_stream(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.user("carol").await;
    let mut bobs = SseReader::new(open(&app, &bob, None).await);
    // Something for carol first, then for bob: bob's stream must show only
    // its own, and in order.
    app.post("/api/accounts/carol/follow", Some(&alice), json!({}))
        .await
        .expect(200);
    app.post(
        "/api/messages",
        Some(&alice),
        json!({"to": "bob", "text": "psst"}),
    )
    .await
    .expect(201);
    let n = body(&bobs.next().await);
    assert_eq!(n["kind"], "message");
    assert_eq!(n["message"]["text"], "psst");
    assert_eq!(n["message"]["to"]["username"], "bob");
}

async fn last_event_id_replays_what_was_missed(app: TestApp) {
    let bob = app.user("bob").await;
    let mut ids = Vec::new();
    for name in ["ann", "cid", "dee"] {
        let token = app.user(name).await;
        app.post("/api/accounts/bob/follow", Some(&token), json!({}))
            .await
            .expect(200);
    }
    let listed = app.get_as(&bob, "/api/notifications").await.expect(200);
    for item in listed.items() {
        ids.push(item["id"].as_i64().expect("id"));
    }
    ids.reverse();
    // Reconnecting after the first: the other two, oldest first, then live.
    let mut stream = SseReader::new(open(&app, &bob, Some(ids[0])).await);
    let replayed: Vec<i64> = [body(&stream.next().await), body(&stream.next().await)]
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(replayed, ids[1..]);
    let eve = app.user("eve").await;
    app.post("/api/accounts/bob/follow", Some(&eve), json!({}))
        .await
        .expect(200);
    let live = body(&stream.next().await);
    assert_eq!(live["actor"]["username"], "eve");
    assert!(live["id"].as_i64() > Some(ids[2]));
    // A fresh stream (no Last-Event-ID) replays nothing: the next event
    // it sees is a new one.
    let mut fresh = SseReader::new(open(&app, &bob, None).await);
    let fay = app.user("fay").await;
    app.post("/api/accounts/bob/follow", Some(&fay), json!({}))
        .await
        .expect(200);
    assert_eq!(body(&fresh.next().await)["actor"]["username"], "fay");
}

async fn streams_per_account_are_capped(app: TestApp) {
    let bob = app.user("bob").await;
    let cap = chirp_app::LiveConfig::default().streams_per_account;
    let mut held = Vec::new();
    for _ in 0..cap {
        let resp = open(&app, &bob, None).await;
        assert_eq!(resp.status(), 200);
        held.push(resp);
    }
    let refused = open(&app, &bob, None).await;
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.expect("error body");
    assert_eq!(body["error"]["code"], "too_many_streams");
    // Another account is not affected.
    let alice = app.user("alice").await;
    assert_eq!(open(&app, &alice, None).await.status(), 200);
    // (That a closed stream frees its place is a unit test of the hub:
    // over HTTP the server learns of a hang-up only at its next write.)
    drop(held);
}

async fn the_stream_needs_a_login_and_a_numeric_last_event_id(app: TestApp) {
    app.get("/api/notifications/stream")
        .await
        .expect_error(401, "unauthorized");
    let bob = app.user("bob").await;
    let reply = app
        .send(
            app.request(Method::GET, "/api/notifications/stream")
                .bearer_auth(&bob)
                .header("last-event-id", "yesterday"),
        )
        .await;
    reply.expect_error(400, "bad_request");
}

both!(
    a_follow_arrives_on_the_open_stream,
    others_notifications_never_reach_a_stream,
    last_event_id_replays_what_was_missed,
    streams_per_account_are_capped,
    the_stream_needs_a_login_and_a_numeric_last_event_id,
);
