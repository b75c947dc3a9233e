//! The broker of the embedded shape: one process, so a broadcast channel is
//! all the fan-out there is. Always connected, never resumed.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use crate::{Broker, BrokerStats, Counters, Delivery, Envelope, SUBSCRIBER_QUEUE};

/// Publishes straight into the local fan-out.
#[derive(Debug)]
pub struct InProcessBroker {
    fanout: broadcast::Sender<Delivery>,
    counters: Arc<Counters>,
    /// Always `true`; kept so that [`Broker::watch_connected`] has
    /// something to hand out.
    connected: watch::Sender<bool>,
}

impl InProcessBroker {
    /// A broker whose subscribers each hold up to `queue` deliveries
    /// before the slowest starts missing some.
    pub fn new(queue: usize) -> Self {
        let (fanout, _) = broadcast::channel(queue.max(1));
        Self {
            fanout,
            counters: Arc::default(),
            connected: watch::Sender::new(true),
        }
    }
}

impl Default for InProcessBroker {
    fn default() -> Self {
        Self::new(SUBSCRIBER_QUEUE)
    }
}

impl Broker for InProcessBroker {
    fn publish(&self, envelope: Envelope) {
        self.counters.published.inc();
        self.counters.received.inc();
        // No subscriber yet is not an error: nobody is listening.
        let _ = self.fanout.send(Delivery::Envelope(envelope));
    }

    fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.fanout.subscribe()
    }

    fn name(&self) -> &'static str {
        "in-process"
    }

    fn stats(&self) -> BrokerStats {
        self.counters.snapshot(true)
    }

    fn watch_connected(&self) -> watch::Receiver<bool> {
        self.connected.subscribe()
    }
}
