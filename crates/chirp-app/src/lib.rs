//! The operations of chirp, and the rules that span them.
//!
//! Every front end (the HTTP API today) calls an [`App`]: one method per
//! thing a user can do, each easy to find by name — [`App::register`],
//! [`App::log_in`], [`App::post`], [`App::edit`], [`App::delete`],
//! [`App::like`], [`App::follow`], [`App::tweet`], [`App::tweets`], ... —
//! taking inputs already parsed into chirp-core's types and answering with
//! chirp-core's models or an [`AppError`]. What spans operations lives here
//! once:
//!
//! * like counts: every tweet a read returns carries the likes this
//!   instance still holds in its batcher ([`likes`], SPEC §1.3);
//! * who may see what: every read takes a [`Viewer`], and the rule for
//!   protected accounts lives in [`visibility`] (lists apply it in the
//!   store's query, through `TweetFilter::viewer`);
//! * notifications: [`notifications`] stores each one, then announces it
//!   for the live streams (never to the account that caused it);
//! * events: every write is announced on the [`events::EventBus`] after it
//!   is stored.
//!
//! Layout: one module per resource ([`accounts`], [`sessions`], [`tweets`],
//! [`social`], [`categories`], [`notifications`], [`messages`]) holding
//! that resource's `impl App` block;
//! [`likes`] is the like batcher with its journal; [`passwords`] hashes
//! passwords and session tokens; [`metrics`] counts what the operations do.
//!
//! Error policy: typed [`AppError`]s; the store's errors convert into them;
//! `anyhow` only as the hidden cause of an internal or unavailable error.

pub mod accounts;
pub mod categories;
pub mod error;
pub mod events;
pub mod likes;
pub mod live;
pub mod messages;
pub mod metrics;
pub mod notifications;
pub mod passwords;
pub mod sessions;
pub mod social;
pub mod tweets;
pub mod visibility;

use std::sync::Arc;
use std::time::Duration;

use chirp_broker::{Broker, Delivery, Envelope};
use chirp_store::Store;

pub use chirp_store::{DbCounts, Missing, TweetFilter};
pub use error::{AppError, AppResult};
pub use events::{Event, EventBus, InProcessBus};
pub use likes::{Likes, LikesConfig};
pub use live::{Hub, LiveConfig, LiveStream, Push};
pub use metrics::Metrics;

/// Who is reading. Every read takes one, so the rule of what a viewer may
/// see is applied in this crate and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Not logged in.
    Anonymous,
    /// Logged in as this account.
    Account(i64),
}

impl Viewer {
    /// The account, if logged in.
    pub fn account(self) -> Option<i64> {
        match self {
            Self::Anonymous => None,
            Self::Account(id) => Some(id),
        }
    }
}

/// Settings of the operations.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// How long a log-in stays valid.
    pub session_ttl: Duration,
    /// Password hashes computed at once (each holds 19 MiB).
    pub password_concurrency: usize,
    /// Limits of the live notification streams.
    pub live: LiveConfig,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            password_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            live: LiveConfig::default(),
        }
    }
}

/// The application: the operations over one store. Cheap to clone (one
/// `Arc`), so every request can hold one.
#[derive(Clone)]
pub struct App(Arc<Parts>);

struct Parts {
    /// Where everything is stored (possibly behind the read cache).
    store: Arc<dyn Store>,
    /// Password hashing, bounded in concurrency.
    passwords: passwords::Passwords,
    /// The like button: batcher or write-through, and held counts.
    likes: Likes,
    /// Where writes are announced, in this process.
    bus: Arc<dyn EventBus>,
    /// Where notifications and purges go to every instance (SPEC §1.6).
    broker: Arc<dyn Broker>,
    /// The notification streams this instance holds.
    live: Hub,
    /// The task feeding them from the bus.
    feed: tokio::task::JoinHandle<()>,
    /// Counters of the operations, for `/metrics`.
    metrics: Metrics,
    config: AppConfig,
}

impl App {
    /// Gathers the parts; [`Likes::start`] makes the like service (it
    /// replays the journal) and must share `metrics`. Starts the task that
    /// feeds this instance's notification streams from the broker, so it
    /// must be called inside a tokio runtime.
    pub fn new(
        store: Arc<dyn Store>,
        likes: Likes,
        bus: Arc<dyn EventBus>,
        broker: Arc<dyn Broker>,
        metrics: Metrics,
        config: AppConfig,
    ) -> Self {
        let live = Hub::new(config.live);
        let feed = feed_streams(broker.as_ref(), live.clone(), likes.clone());
        Self(Arc::new(Parts {
            broker,
            passwords: passwords::Passwords::new(config.password_concurrency),
            live,
            feed,
            store,
            likes,
            bus,
            metrics,
            config,
        }))
    }

    /// The like service, for its owner's shutdown and for tests.
    pub fn likes(&self) -> &Likes {
        &self.0.likes
    }

    /// The event bus, for subscribers.
    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.0.bus
    }

    /// The broker, for its health and counters.
    pub fn broker(&self) -> &Arc<dyn Broker> {
        &self.0.broker
    }

    /// The notification streams this instance holds.
    pub fn live(&self) -> &Hub {
        &self.0.live
    }

    /// The metrics the operations keep.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// One round trip to the database: readiness.
    pub async fn ping(&self) -> AppResult<()> {
        Ok(self.0.store.ping().await?)
    }

    /// Database statements sent so far, for `/logs` and `/metrics`.
    pub fn db_counts(&self) -> DbCounts {
        self.0.store.db_counts()
    }

    /// Writes every like still held, then closes the database: call once
    /// requests have drained.
    pub async fn shutdown(&self) {
        self.0.live.shutdown();
        self.0.feed.abort();
        self.0.likes.shutdown().await;
        self.0.store.close().await;
    }

    fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    fn publish(&self, event: Event) {
        self.0.bus.publish(event);
    }

    /// Sends `envelope` to every instance (this one included).
    fn broadcast(&self, envelope: Envelope) {
        self.0.broker.publish(envelope);
    }
}

/// Feeds `hub` from the broker: each notification to its recipient's
/// streams; after an outage or missed deliveries, a resync (the streams
/// re-read the table). A purge (an account turned protected, on whichever
/// instance) makes the like service forget which tweets it knows, since
/// it holds whether each one's author is protected. Ends when the broker
/// does.
fn feed_streams(broker: &dyn Broker, hub: Hub, likes: Likes) -> tokio::task::JoinHandle<()> {
    let mut deliveries = broker.subscribe();
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match deliveries.recv().await {
                Ok(Delivery::Envelope(Envelope::Notification {
                    recipient,
                    notification,
                })) => hub.push(recipient, &notification),
                Ok(Delivery::Envelope(Envelope::Purge { .. })) => likes.forget_all(),
                Ok(Delivery::Resumed) => {
                    // A purge may have been missed too.
                    likes.forget_all();
                    hub.resync();
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "the stream feed fell behind; streams re-read the table"
                    );
                    // A purge may have been among what was missed.
                    likes.forget_all();
                    hub.resync();
                }
                Err(RecvError::Closed) => return,
            }
        }
    })
}
