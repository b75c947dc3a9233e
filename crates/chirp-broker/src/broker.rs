//! The [`Broker`] trait every broker implements, its counters, and the
//! default queue sizes.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{broadcast, watch};

use crate::envelope::{Delivery, Envelope};

/// Deliveries each local subscriber may fall behind by before it misses
/// some (and is told so by `broadcast`'s `Lagged`), unless configured.
pub const SUBSCRIBER_QUEUE: usize = 1024;

/// Envelopes waiting to go out to a network broker, unless configured:
/// past that, publishing drops.
pub const OUTGOING_QUEUE: usize = 1024;

/// The fan-out of live events between instances.
pub trait Broker: Send + Sync {
    /// Sends `envelope` to every instance's subscribers (this one's
    /// included). Returns at once: the envelope is queued for a background
    /// task, or, when the queue is full or the broker is down, dropped and
    /// counted in [`BrokerStats::dropped`].
    fn publish(&self, envelope: Envelope);

    /// A new local subscriber, hearing what arrives after this call. All
    /// local subscribers share the instance's one broker subscription.
    fn subscribe(&self) -> broadcast::Receiver<Delivery>;

    /// Which broker, for logs and metrics: `in-process`, `redis` or
    /// `rabbitmq`.
    fn name(&self) -> &'static str;

    /// Counters and connection state, for `/metrics` and `/readyz`.
    fn stats(&self) -> BrokerStats;

    /// Whether the broker is reachable (both publishing and the
    /// subscription), as a value one can await changes of.
    fn watch_connected(&self) -> watch::Receiver<bool>;
}

/// A snapshot of a broker's counters since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BrokerStats {
    /// Envelopes sent on to the broker (handed to the fan-out, in process).
    pub published: u64,
    /// Envelopes given up: the outgoing queue was full, the broker was
    /// down, or sending failed twice.
    pub dropped: u64,
    /// Envelopes that arrived from the broker and went to local subscribers.
    pub received: u64,
    /// Messages on the channel that were not an [`Envelope`] (ignored).
    pub malformed: u64,
    /// How many times the subscription came back after an outage (each
    /// sent [`Delivery::Resumed`]).
    pub resumed: u64,
    /// Whether publishing and the subscription are both up now.
    pub connected: bool,
}

/// A counter that many tasks bump and `/metrics` reads.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The counters behind [`BrokerStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) published: Counter,
    pub(crate) dropped: Counter,
    pub(crate) received: Counter,
    pub(crate) malformed: Counter,
    pub(crate) resumed: Counter,
}

impl Counters {
    pub(crate) fn snapshot(&self, connected: bool) -> BrokerStats {
        BrokerStats {
            published: self.published.get(),
            dropped: self.dropped.get(),
            received: self.received.get(),
            malformed: self.malformed.get(),
            resumed: self.resumed.get(),
            connected,
        }
    }
}
