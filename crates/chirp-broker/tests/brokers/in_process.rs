use chirp_broker::{Broker, Delivery, Envelope, InProcessBroker};

use crate::support::expect_purge;

#[tokio::test]
async fn every_subscriber_hears_what_is_published_after_it_subscribed() {
    let broker = InProcessBroker::new(16);
    broker.publish(Envelope::Purge { account: 1 }); // nobody listens yet: fine
    let mut a = broker.subscribe();
    let mut b = broker.subscribe();
    broker.publish(Envelope::Purge { account: 2 });
    expect_purge(&mut a, 2).await;
    expect_purge(&mut b, 2).await;
    assert!(a.try_recv().is_err(), "nothing from before it subscribed");
    let stats = broker.stats();
    assert_eq!((stats.published, stats.received, stats.dropped), (2, 2, 0));
    assert!(stats.connected);
    assert_eq!(broker.name(), "in-process");
}

#[tokio::test]
async fn a_slow_subscriber_is_told_it_missed_some_and_publishing_never_waits() {
    let broker = InProcessBroker::new(2);
    let mut slow = broker.subscribe();
    for account in 0..5 {
        broker.publish(Envelope::Purge { account });
    }
    assert!(matches!(
        slow.try_recv(),
        Err(tokio::sync::broadcast::error::TryRecvError::Lagged(3))
    ));
    assert_eq!(
        slow.try_recv().ok(),
        Some(Delivery::Envelope(Envelope::Purge { account: 3 }))
    );
}
