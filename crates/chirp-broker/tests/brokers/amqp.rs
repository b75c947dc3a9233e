use chirp_broker::{BrokerOptions, Delivery, Envelope, connect_with};

use crate::support::{
    Pair, Proxy, amqp_url, expect, expect_purge, expect_resumed, namespace, notification, options,
    wait_connected,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_rabbitmq_both_hear_an_envelope() {
    let mut pair = Pair::connect(&amqp_url(), &namespace("amqp-pair")).await;
    pair.check_fan_out(7).await;

    let sent = Envelope::Notification {
        recipient: 11,
        notification: Box::new(notification(100)),
    };
    pair.a.publish(sent.clone());
    let got = expect(&mut pair.rx_b, "the notification", |d| match d {
        Delivery::Envelope(e @ Envelope::Notification { .. }) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, sent);
    assert_eq!(pair.b.name(), "rabbitmq");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_namespace_on_the_same_rabbitmq_hears_nothing() {
    let url = amqp_url();
    let mine = connect_with(Some(&url), None, options(&namespace("amqp-ns")))
        .await
        .expect("broker");
    let other = connect_with(Some(&url), None, options(&namespace("amqp-ns")))
        .await
        .expect("broker");
    let mut rx_other = other.subscribe();
    let mut rx_mine = mine.subscribe();
    mine.publish(Envelope::Purge { account: 1 });
    expect_purge(&mut rx_mine, 1).await;
    other.publish(Envelope::Purge { account: 2 });
    let first = expect(&mut rx_other, "anything", |d| Some(d.clone())).await;
    assert_eq!(first, Delivery::Envelope(Envelope::Purge { account: 2 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rabbitmq_outage_subscribers_hear_resumed_and_new_events_again() {
    let url = amqp_url();
    // The proxy between the instances and RabbitMQ simulates the broker
    // going away: cutting it drops every connection and refuses new ones.
    let mut proxy = Proxy::start(&url).await;
    let mut pair = Pair::connect(&proxy.url_for(&url), &namespace("amqp-outage")).await;
    pair.check_fan_out(1).await;

    proxy.cut().await;
    pair.check_outage().await;

    proxy.restore();
    pair.check_resumed(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rabbitmq_unreachable_at_start_is_used_once_it_appears() {
    let url = amqp_url();
    let mut proxy = Proxy::reserve(&url).await; // not listening yet
    let opts = BrokerOptions {
        startup_wait: std::time::Duration::from_millis(200),
        ..options(&namespace("amqp-late"))
    };
    let broker = connect_with(Some(&proxy.url_for(&url)), None, opts)
        .await
        .expect("constructs while RabbitMQ is away");
    let mut rx = broker.subscribe();
    assert!(!broker.stats().connected);

    proxy.restore();
    expect_resumed(&mut rx).await;
    wait_connected(broker.as_ref(), true).await;
    broker.publish(Envelope::Purge { account: 5 });
    expect_purge(&mut rx, 5).await;
}
