use chirp_broker::{Delivery, Envelope, connect_with};

use crate::support::{
    Pair, PrivateRedis, Proxy, expect, expect_purge, expect_resumed, namespace, notification,
    options, redis_url, wait_connected,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_redis_both_hear_an_envelope() {
    let ns = namespace("redis-pair");
    let mut pair = Pair::connect(&redis_url(), &ns).await;
    pair.check_fan_out(7).await;

    // A whole notification crosses intact.
    let sent = Envelope::Notification {
        recipient: 11,
        notification: Box::new(notification(99)),
    };
    pair.b.publish(sent.clone());
    let got = expect(&mut pair.rx_a, "the notification", |d| match d {
        Delivery::Envelope(e @ Envelope::Notification { .. }) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, sent);
    assert_eq!(pair.a.name(), "redis");
    let stats = pair.a.stats();
    assert!(stats.published >= 1 && stats.received >= 3 && stats.connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_namespace_on_the_same_redis_hears_nothing() {
    let url = redis_url();
    let mine = connect_with(Some(&url), None, options(&namespace("redis-ns")))
        .await
        .expect("broker");
    let other = connect_with(Some(&url), None, options(&namespace("redis-ns")))
        .await
        .expect("broker");
    let mut rx_other = other.subscribe();
    let mut rx_mine = mine.subscribe();
    mine.publish(Envelope::Purge { account: 1 });
    expect_purge(&mut rx_mine, 1).await;
    other.publish(Envelope::Purge { account: 2 });
    // Pub/sub keeps order on a connection: had the other namespace heard
    // account 1, it would come first.
    let first = expect(&mut rx_other, "anything", |d| Some(d.clone())).await;
    assert_eq!(first, Delivery::Envelope(Envelope::Purge { account: 2 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_is_not_an_envelope_is_counted_and_skipped() {
    let ns = namespace("redis-junk");
    let broker = connect_with(Some(&redis_url()), None, options(&ns))
        .await
        .expect("broker");
    let mut rx = broker.subscribe();
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let heard: i64 = redis::cmd("PUBLISH")
        .arg(format!("{ns}.events"))
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .expect("publish");
    assert_eq!(heard, 1, "exactly our one subscription listens");
    broker.publish(Envelope::Purge { account: 3 });
    let first = expect(&mut rx, "anything", |d| Some(d.clone())).await;
    assert_eq!(first, Delivery::Envelope(Envelope::Purge { account: 3 }));
    assert_eq!(broker.stats().malformed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_redis_outage_subscribers_hear_resumed_and_new_events_again() {
    let mut server = PrivateRedis::start().await;
    let mut pair = Pair::connect(&server.url(), &namespace("redis-outage")).await;
    pair.check_fan_out(1).await;

    server.kill().await;
    pair.check_outage().await;

    server.restart().await;
    pair.check_resumed(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_unreachable_at_start_is_used_once_it_appears() {
    let mut server = PrivateRedis::reserve();
    let opts = chirp_broker::BrokerOptions {
        startup_wait: std::time::Duration::from_millis(200),
        ..options(&namespace("redis-late"))
    };
    let broker = connect_with(Some(&server.url()), None, opts)
        .await
        .expect("constructs while Redis is down");
    let mut rx = broker.subscribe();
    assert!(!broker.stats().connected);

    server.restart().await;
    // Its first attempts failed, so the subscription that finally holds
    // says so.
    expect_resumed(&mut rx).await;
    wait_connected(broker.as_ref(), true).await;
    broker.publish(Envelope::Purge { account: 5 });
    expect_purge(&mut rx, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_broker_ends_its_tasks() {
    let broker = connect_with(Some(&redis_url()), None, options(&namespace("redis-drop")))
        .await
        .expect("broker");
    let mut rx = broker.subscribe();
    drop(broker);
    let closed = tokio::time::timeout(crate::support::WAIT, rx.recv()).await;
    assert!(
        matches!(
            closed,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed))
        ),
        "the subscriber task let go of the fan-out: {closed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_idle_through_a_redis_restart_loses_nothing_after_it() {
    let mut server = PrivateRedis::start().await;
    let mut pair = Pair::connect(&server.url(), &namespace("redis-idle")).await;
    pair.check_fan_out(1).await;

    // Nothing is published during the outage, so the publishers' links go
    // stale without their knowing: the first send after the restart must
    // reopen and go through, not be dropped.
    server.kill().await;
    wait_connected(pair.a.as_ref(), false).await;
    server.restart().await;
    expect_resumed(&mut pair.rx_a).await;
    expect_resumed(&mut pair.rx_b).await;
    wait_connected(pair.a.as_ref(), true).await;
    let dropped = pair.a.stats().dropped;
    pair.a.publish(Envelope::Purge { account: 8 });
    expect_purge(&mut pair.rx_b, 8).await;
    assert_eq!(pair.a.stats().dropped, dropped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_that_dies_silently_is_noticed_by_its_keepalive() {
    let server = PrivateRedis::start().await;
    // Frozen, the proxy keeps the connection open but passes nothing, as a
    // hung server or a dead network would: no reset ever arrives, only the
    // keepalive ping (1 s here) going unanswered tells.
    let proxy = Proxy::start(&server.url()).await;
    let broker = connect_with(
        Some(&proxy.url_for(&server.url())),
        None,
        options(&namespace("redis-silent")),
    )
    .await
    .expect("broker");
    let mut rx = broker.subscribe();
    wait_connected(broker.as_ref(), true).await;

    proxy.freeze();
    wait_connected(broker.as_ref(), false).await;
    proxy.thaw();
    expect_resumed(&mut rx).await;
    wait_connected(broker.as_ref(), true).await;
    broker.publish(Envelope::Purge { account: 9 });
    expect_purge(&mut rx, 9).await;
}

// On the current-thread runtime the publisher task cannot drain the queue
// while this test publishes without awaiting, so the count is exact.
#[tokio::test(flavor = "current_thread")]
async fn a_full_outgoing_queue_drops_and_counts_without_waiting() {
    let opts = chirp_broker::BrokerOptions {
        outgoing_queue: 4,
        ..options(&namespace("redis-full"))
    };
    let broker = connect_with(Some(&redis_url()), None, opts)
        .await
        .expect("broker");
    let mut rx = broker.subscribe();
    assert!(broker.stats().connected);
    for account in 0..10 {
        broker.publish(Envelope::Purge { account });
    }
    assert_eq!(broker.stats().dropped, 6);
    for account in 0..4 {
        expect_purge(&mut rx, account).await;
    }
    assert_eq!(broker.stats().published, 4);
}
