//! Live delivery: the notification streams this instance holds.
//!
//! ```text
//!  notify() ──► row in the table ──► bus / broker ──► every instance's feed
//!                                                      └─► Hub::push(recipient)
//!                                                           └─► each open stream's queue
//! ```
//!
//! The table is the source of truth; a stream is only a prompt copy of it.
//! So everything here may drop, and says how the client catches up: a
//! stream whose queue is full (a reader too slow) is closed, and the client
//! reconnects with `Last-Event-ID` and replays from the table; after a
//! broker outage every stream is told to re-read what it may have missed
//! ([`Push::Resync`]). Bounded: at most `streams_per_account` streams per
//! account (a new one past that is refused) and `queue` events queued per
//! stream. [`Hub::shutdown`] closes every stream at once, so a graceful
//! shutdown does not wait for browsers that never hang up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chirp_core::model::Notification;
use tokio::sync::mpsc;

use crate::AppError;

/// Limits of the streams.
#[derive(Debug, Clone, Copy)]
pub struct LiveConfig {
    /// Open streams per account (tabs and devices); one more is refused.
    pub streams_per_account: usize,
    /// Events queued per stream before the stream is dropped as too slow.
    pub queue: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            streams_per_account: 16,
            queue: 64,
        }
    }
}

/// What a stream is handed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// A new notification of the stream's account.
    Notification(Box<Notification>),
    /// Events may have been missed (the broker was away): re-read the
    /// table after the last id sent.
    Resync,
}

struct Slot {
    id: u64,
    tx: mpsc::Sender<Push>,
}

struct Inner {
    streams: Mutex<HashMap<i64, Vec<Slot>>>,
    next_id: AtomicU64,
    closed: AtomicBool,
    config: LiveConfig,
}

/// The streams of one instance, by account. Cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

/// One open stream: its queue, and its place in the hub (given back when
/// it is dropped, however the stream ends).
pub struct LiveStream {
    rx: mpsc::Receiver<Push>,
    _slot: SlotGuard,
}

impl LiveStream {
    /// The next push; `None` once the hub dropped the stream (too slow, or
    /// shutting down): the client should reconnect with `Last-Event-ID`.
    pub async fn next(&mut self) -> Option<Push> {
        self.rx.recv().await
    }
}

struct SlotGuard {
    hub: Hub,
    account: i64,
    id: u64,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.hub.remove(self.account, self.id);
    }
}

impl Hub {
    pub fn new(config: LiveConfig) -> Self {
        Self(Arc::new(Inner {
            streams: Mutex::default(),
            next_id: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            config,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<i64, Vec<Slot>>> {
        // Plain maps of senders stay consistent through a panic elsewhere.
        self.0.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a stream for `account`; refused past the per-account cap and
    /// once shutting down.
    pub fn open(&self, account: i64) -> Result<LiveStream, AppError> {
        let config = self.0.config;
        if self.0.closed.load(Ordering::SeqCst) {
            return Err(AppError::ShuttingDown);
        }
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut streams = self.lock();
            let slots = streams.entry(account).or_default();
            if slots.len() >= config.streams_per_account {
                return Err(AppError::TooManyStreams(config.streams_per_account));
            }
            slots.push(Slot { id, tx });
        }
        Ok(LiveStream {
            rx,
            _slot: SlotGuard {
                hub: self.clone(),
                account,
                id,
            },
        })
    }

    fn remove(&self, account: i64, id: u64) {
        let mut streams = self.lock();
        if let Some(slots) = streams.get_mut(&account) {
            slots.retain(|s| s.id != id);
            if slots.is_empty() {
                streams.remove(&account);
            }
        }
    }

    /// Hands `notification` to every open stream of `recipient`; a stream
    /// whose queue is full is dropped (it catches up when it reconnects).
    pub fn push(&self, recipient: i64, notification: &Notification) {
        let mut streams = self.lock();
        let Some(slots) = streams.get_mut(&recipient) else {
            return;
        };
        slots.retain(|s| {
            s.tx.try_send(Push::Notification(Box::new(notification.clone())))
                .is_ok()
        });
        if slots.is_empty() {
            streams.remove(&recipient);
        }
    }

    /// Tells every stream it may have missed events (the broker is back).
    pub fn resync(&self) {
        let mut streams = self.lock();
        for slots in streams.values_mut() {
            slots.retain(|s| s.tx.try_send(Push::Resync).is_ok());
        }
        streams.retain(|_, slots| !slots.is_empty());
    }

    /// Closes every stream and refuses new ones.
    pub fn shutdown(&self) {
        self.0.closed.store(true, Ordering::SeqCst);
        self.lock().clear();
    }

    /// Streams open now, for `/metrics`.
    pub fn open_streams(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use chirp_core::model::{Author, NotificationKind};

    use super::*;

    fn note(id: i64) -> Notification {
        Notification {
            id,
            kind: NotificationKind::Follow,
            actor: Author {
                id: 9,
                username: "bob".into(),
                display_name: String::new(),
                protected: false,
            },
            tweet: None,
            message: None,
            created_at: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
            read: false,
        }
    }

    fn id_of(push: Option<Push>) -> Option<i64> {
        match push {
            Some(Push::Notification(n)) => Some(n.id),
            _ => None,
        }
    }

    #[tokio::test]
    async fn each_stream_of_the_recipient_gets_it_and_no_one_else() {
        let hub = Hub::new(LiveConfig::default());
        let (mut a1, mut a2, mut b) = (
            hub.open(1).expect("open"),
            hub.open(1).expect("open"),
            hub.open(2).expect("open"),
        );
        hub.push(1, &note(7));
        assert_eq!(id_of(a1.next().await), Some(7));
        assert_eq!(id_of(a2.next().await), Some(7));
        assert!(b.rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn streams_per_account_are_capped_and_a_closed_one_frees_its_place() {
        let hub = Hub::new(LiveConfig {
            streams_per_account: 2,
            queue: 4,
        });
        let first = hub.open(1).expect("open");
        let _second = hub.open(1).expect("open");
        assert!(matches!(hub.open(1), Err(AppError::TooManyStreams(2))));
        assert!(hub.open(2).is_ok(), "the cap is per account");
        drop(first);
        assert!(hub.open(1).is_ok());
    }

    #[tokio::test]
    async fn a_slow_stream_is_dropped_not_waited_for() {
        let hub = Hub::new(LiveConfig {
            streams_per_account: 4,
            queue: 2,
        });
        let mut slow = hub.open(1).expect("open");
        let mut quick = hub.open(1).expect("open");
        hub.push(1, &note(1));
        assert_eq!(id_of(quick.next().await), Some(1));
        hub.push(1, &note(2));
        assert_eq!(id_of(quick.next().await), Some(2));
        // `slow` has read nothing: its queue of 2 is full, so the third
        // push drops it; `quick` goes on.
        hub.push(1, &note(3));
        assert_eq!(id_of(quick.next().await), Some(3));
        assert_eq!(id_of(slow.next().await), Some(1));
        assert_eq!(id_of(slow.next().await), Some(2));
        assert_eq!(slow.next().await, None, "dropped: reconnect and replay");
        assert_eq!(hub.open_streams(), 1);
    }

    #[tokio::test]
    async fn shutdown_ends_every_stream_at_once_and_refuses_new_ones() {
        let hub = Hub::new(LiveConfig::default());
        let mut a = hub.open(1).expect("open");
        hub.shutdown();
        assert_eq!(a.next().await, None);
        assert!(matches!(hub.open(1), Err(AppError::ShuttingDown)));
    }

    #[tokio::test]
    async fn resync_reaches_every_stream() {
        let hub = Hub::new(LiveConfig::default());
        let (mut a, mut b) = (hub.open(1).expect("open"), hub.open(2).expect("open"));
        hub.resync();
        assert_eq!(a.next().await, Some(Push::Resync));
        assert_eq!(b.next().await, Some(Push::Resync));
    }
}
