use std::time::{Duration, Instant};

use chirp_broker::{BrokerError, BrokerOptions, connect, connect_with};

use crate::support::{amqp_url, redis_url};

#[tokio::test]
async fn a_bad_scheme_is_a_typed_error() {
    let made = connect(Some("kafka://127.0.0.1:9092"), None).await;
    assert!(
        matches!(made, Err(BrokerError::UnsupportedScheme { ref scheme, .. }) if scheme == "kafka"),
        "{:?}",
        made.err()
    );
    let made = connect(Some("amqp://127.0.0.1:notaport"), None).await;
    assert!(made.is_err(), "an AMQP URL with a bad port");
    let options = BrokerOptions {
        namespace: "no spaces".into(),
        ..BrokerOptions::default()
    };
    let made = connect_with(None, None, options).await;
    assert!(matches!(made, Err(BrokerError::Namespace(_))));
}

#[tokio::test]
async fn the_broker_is_chosen_as_spec_1_6_says() {
    let quick = || BrokerOptions {
        namespace: crate::support::namespace("choose"),
        startup_wait: Duration::from_secs(5),
        ..BrokerOptions::default()
    };
    let none = connect_with(None, None, quick()).await.expect("in-process");
    assert_eq!(none.name(), "in-process");
    let redis = connect_with(None, Some(&redis_url()), quick())
        .await
        .expect("Redis from CHIRP_REDIS_URL");
    assert_eq!(redis.name(), "redis");
    let amqp = connect_with(Some(&amqp_url()), Some(&redis_url()), quick())
        .await
        .expect("the broker URL wins");
    assert_eq!(amqp.name(), "rabbitmq");
    assert!(redis.stats().connected && amqp.stats().connected);
}

#[tokio::test]
async fn a_broker_that_is_down_at_start_does_not_stop_the_program() {
    let port = crate::support::free_port();
    let options = BrokerOptions {
        startup_wait: Duration::from_millis(300),
        ..crate::support::options(&crate::support::namespace("down"))
    };
    let started = Instant::now();
    for url in [
        format!("redis://127.0.0.1:{port}"),
        format!("amqp://guest:guest@127.0.0.1:{port}/%2f"),
    ] {
        let broker = connect_with(Some(&url), None, options.clone())
            .await
            .expect("an unreachable broker still constructs");
        assert!(!broker.stats().connected, "{url}");
        broker.publish(chirp_broker::Envelope::Purge { account: 1 });
        assert_eq!(broker.stats().dropped, 1, "dropped at once while down");
    }
    assert!(started.elapsed() < Duration::from_secs(3));
}
