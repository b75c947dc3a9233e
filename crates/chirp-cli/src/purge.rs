//! Keeps a response cache honest about protected accounts: it hears the
//! broker's purges and drops what it holds.
//!
//! A cache keys entries by path, and an account's tweets sit in many paths
//! (its timeline, every search, hashtag and public page that listed them),
//! so a purge empties the whole cache. Accounts turn protected rarely; one
//! cold cache is cheaper than knowing every path a tweet appeared on.

use chirp_broker::{Broker, Delivery, Envelope};
use chirp_cache::Purger;
use tokio::sync::broadcast::error::RecvError;

/// Empties `cache` on each purge, and each time the broker may have carried
/// one this process did not hear (a resumed subscription, a lagged queue).
/// Ends when the broker does.
pub fn purge_on_broker(broker: &dyn Broker, cache: Purger) -> tokio::task::JoinHandle<()> {
    let mut deliveries = broker.subscribe();
    tokio::spawn(async move {
        loop {
            match deliveries.recv().await {
                Ok(Delivery::Envelope(Envelope::Purge { account })) => {
                    tracing::info!(
                        account,
                        "an account turned protected: response cache purged"
                    );
                    cache.purge_all();
                }
                Ok(Delivery::Envelope(Envelope::Notification { .. })) => {}
                Ok(Delivery::Resumed) => {
                    tracing::info!(
                        "broker back: response cache purged, a purge may have been missed"
                    );
                    cache.purge_all();
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "broker deliveries missed: response cache purged");
                    cache.purge_all();
                }
                Err(RecvError::Closed) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chirp_broker::InProcessBroker;
    use chirp_cache::{CacheOptions, ResponseCacheLayer};

    #[tokio::test]
    async fn a_purge_on_the_broker_empties_the_cache() {
        let broker = InProcessBroker::new(16);
        let layer = ResponseCacheLayer::new(CacheOptions::default());
        let task = purge_on_broker(&broker, layer.purger());
        broker.publish(Envelope::Purge { account: 7 });
        // The task has heard it once the cache counts a purge; the broker
        // is in-process, so this is a handful of scheduler turns (the
        // timeout only stops a broken build from hanging).
        let heard = async {
            while layer.stats().await.purges == 0 {
                tokio::task::yield_now().await;
            }
        };
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(10), heard)
                .await
                .is_ok(),
            "the purge was never heard"
        );
        assert_eq!(layer.stats().await.purges, 1);
        task.abort();
    }
}
