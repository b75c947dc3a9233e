//! The live path of a scaled topology: two API instances on one PostgreSQL
//! database and one network broker (Redis pub/sub, then RabbitMQ). A write
//! on one instance reaches a stream held on the other; with the broker cut
//! off, writes still succeed and are stored, and the open stream catches up
//! once it is back; `Last-Event-ID` replays on either instance.
//!
//! The broker is reached through a TCP proxy of the test's own, so the
//! outage cuts only these two instances off a server that other tests
//! share.

use std::sync::Arc;

use chirp_app::likes::LikesConfig;
use chirp_app::likes::batcher::BatcherConfig;
use chirp_testkit::proxy::Proxy;
use chirp_testkit::sse::{SseEvent, SseReader};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, fresh_postgres_database, serve_with_broker};

fn redis_url() -> String {
    std::env::var("CHIRP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn amqp_url() -> String {
    std::env::var("CHIRP_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// One API instance: its own process state, like batcher and broker
/// connection, on the shared database and broker channel.
async fn instance(database: &str, broker_url: &str, namespace: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let likes = LikesConfig::Batched(BatcherConfig {
        journal: dir.path().join("likes.journal"),
        ..BatcherConfig::default()
    });
    let broker = chirp_broker::connect_with(
        Some(broker_url),
        None,
        chirp_broker::BrokerOptions {
            namespace: namespace.to_owned(),
            // Reconnect promptly once the broker is back.
            retry_max: std::time::Duration::from_millis(500),
            ..chirp_broker::BrokerOptions::default()
        },
    )
    .await
    .expect("broker configuration");
    let app = serve_with_broker(
        database.to_owned(),
        likes,
        dir,
        None,
        crate::helpers::test_config(),
        Arc::clone(&broker),
    )
    .await;
    app.metric_reaches("chirp_broker_connected", 1.0).await;
    app
}

async fn open(app: &TestApp, token: &str, last: Option<&str>) -> SseReader {
    let mut req = app
        .request(Method::GET, "/api/notifications/stream")
        .bearer_auth(token);
    if let Some(id) = last {
        req = req.header("last-event-id", id);
    }
    let resp = req.send().await.expect("stream request");
    assert_eq!(resp.status(), 200);
    SseReader::new(resp)
}

fn notification(event: &SseEvent) -> Value {
    assert_eq!(event.event.as_deref(), Some("notification"), "{event:?}");
    serde_json::from_str(&event.data).expect("notification JSON")
}

async fn live_across_two_instances(broker_url: String, tag: &str) {
    let mut proxy = Proxy::start(&broker_url).await;
    let via_proxy = proxy.url_for(&broker_url);
    let namespace = format!(
        "chirp-test-live-{tag}-{}-{}",
        std::process::id(),
        chirp_testkit::database_prefix()
    );
    let database = fresh_postgres_database().await;
    let a = instance(&database, &via_proxy, &namespace).await;
    let b = instance(&database, &via_proxy, &namespace).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;

    // Written on B, pushed to the stream that A holds.
    let mut stream = open(&a, &alice, None).await;
    b.post("/api/accounts/alice/follow", Some(&bob), json!({}))
        .await
        .expect(200);
    let followed = stream.next().await;
    let n = notification(&followed);
    assert_eq!(
        (n["kind"].as_str(), n["actor"]["username"].as_str()),
        (Some("follow"), Some("bob"))
    );
    let followed_id = followed.id.clone().expect("an event id");

    // The broker goes away: both instances notice, and a write still
    // succeeds and is stored.
    proxy.cut().await;
    a.metric_reaches("chirp_broker_connected", 0.0).await;
    b.metric_reaches("chirp_broker_connected", 0.0).await;
    let during = b.tweet_id(&bob, "@alice while the broker is down").await;
    let listed = a.get_as(&alice, "/api/notifications").await.expect(200);
    assert_eq!(listed.body["items"][0]["kind"], "mention");
    assert_eq!(listed.body["items"][0]["tweet"]["id"], during);

    // Back: the stream held on A catches up from the table, then hears new
    // events live again.
    proxy.restore();
    let n = notification(&stream.next().await);
    assert_eq!(
        (n["kind"].as_str(), n["tweet"]["id"].as_i64()),
        (Some("mention"), Some(during))
    );
    a.metric_reaches("chirp_broker_connected", 1.0).await;
    b.metric_reaches("chirp_broker_connected", 1.0).await;
    let after = b.tweet_id(&bob, "@alice the broker is back").await;
    let n = notification(&stream.next().await);
    assert_eq!(n["tweet"]["id"], after);
    drop(stream);

    // A tab that reconnects, here to the other instance, gets everything
    // after the last event it saw, oldest first.
    let mut replay = open(&b, &alice, Some(&followed_id)).await;
    let replayed = [
        notification(&replay.next().await)["tweet"]["id"].as_i64(),
        notification(&replay.next().await)["tweet"]["id"].as_i64(),
    ];
    assert_eq!(replayed, [Some(during), Some(after)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_carries_events_between_instances_through_an_outage() {
    live_across_two_instances(redis_url(), "redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_carries_events_between_instances_through_an_outage() {
    live_across_two_instances(amqp_url(), "amqp").await;
}
