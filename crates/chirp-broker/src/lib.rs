//! Live events between chirp instances: the fan-out that lets a write on
//! one API instance reach a stream held open on another, and a visibility
//! change reach every `chirp cache` (SPEC §1.6).
//!
//! ```text
//!   publish(envelope) ──▶ bounded queue ──▶ publisher task ──▶ broker ─┐
//!   (never waits,                          (own connection,           │
//!    never fails)                           reconnect loop)           │
//!                                                                     ▼
//!   subscribe() ◀── local broadcast ◀── subscriber task ◀── ONE subscription
//!   (many per instance)                 (own connection, resubscribe loop)
//! ```
//!
//! Layout:
//! * [`envelope`]: the wire type [`Envelope`] and what subscribers get,
//!   [`Delivery`] (an envelope, or the local signal `Resumed`).
//! * [`memory`]: [`InProcessBroker`], a broadcast channel, for the
//!   embedded shape.
//! * `link`: what the two network brokers share: the outgoing queue, the
//!   publisher and subscriber tasks with their reconnect loops and
//!   backoff, the counters. Each broker only says how to open a link and
//!   move bytes over it:
//! * `redis`: Redis pub/sub on the channel `<namespace>.events`, the
//!   subscription pinged when idle so a silently dead link is noticed;
//! * `amqp`: RabbitMQ, a fanout exchange `<namespace>.events` with one
//!   exclusive, auto-delete, server-named queue per instance.
//!
//! Guarantees, and why they are enough: the database is the source of
//! truth (a notification is a row before it is an envelope), so the broker
//! only makes delivery prompt. Hence [`Broker::publish`] never fails and
//! never blocks its caller: it puts the envelope on a bounded queue, or
//! drops and counts it when the queue is full or the broker is down.
//! Delivery is at most once; a broker outage delays, it loses nothing
//! that the table does not still hold. When a subscription comes back
//! after an outage, subscribers receive [`Delivery::Resumed`] and re-read
//! from the table what they may have missed. A broker that is down when the
//! program starts does not stop it: the broker starts disconnected, logs a
//! warning and keeps trying.
//!
//! Which broker: [`connect`] follows SPEC §1.6 (`CHIRP_BROKER_URL`
//! `redis://…` or `amqp://…`; unset: Redis pub/sub on `CHIRP_REDIS_URL`
//! when that is set, otherwise in-process).
//!
//! ```no_run
//! use chirp_broker::{Delivery, Envelope};
//! use tokio::sync::broadcast::error::RecvError;
//!
//! # async fn run(broker_url: Option<&str>, redis_url: Option<&str>) -> Result<(), chirp_broker::BrokerError> {
//! let broker = chirp_broker::connect(broker_url, redis_url).await?;
//! let mut deliveries = broker.subscribe();
//! broker.publish(Envelope::Purge { account: 7 }); // after the write is stored
//! loop {
//!     match deliveries.recv().await {
//!         Ok(Delivery::Envelope(Envelope::Notification { recipient, notification })) => {
//!             // push to `recipient`'s open streams (skip ids already sent)
//!         }
//!         Ok(Delivery::Envelope(Envelope::Purge { account })) => {
//!             // drop cached responses of `account`
//!         }
//!         // Envelopes were missed: re-read from the table.
//!         Ok(Delivery::Resumed) | Err(RecvError::Lagged(_)) => {}
//!         Err(RecvError::Closed) => break,
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod envelope;
mod link;
pub mod memory;

mod amqp;
mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{broadcast, watch};

pub use envelope::{Delivery, Envelope};
pub use memory::InProcessBroker;

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

/// How a network broker names its channel, queues its traffic and retries.
#[derive(Debug, Clone)]
pub struct BrokerOptions {
    /// The Redis channel and the RabbitMQ exchange are `<namespace>.events`:
    /// deployments (or tests) sharing one server but not their events use
    /// different namespaces. Letters, digits, `_`, `-`, `.`, `:`.
    pub namespace: String,
    /// Envelopes waiting to be sent before publishing drops.
    pub outgoing_queue: usize,
    /// Deliveries each local subscriber may fall behind by.
    pub subscriber_queue: usize,
    /// First pause between reconnect attempts; it doubles after each
    /// failure (with jitter, so instances do not retry in step) ...
    pub retry_min: Duration,
    /// ... up to this.
    pub retry_max: Duration,
    /// How long one connection attempt, or one send, may take.
    pub io_timeout: Duration,
    /// How often an idle Redis subscription is pinged, so a connection
    /// that died silently (no reset) is noticed.
    pub keepalive: Duration,
    /// How long [`connect`] waits for the first connection before it
    /// returns a broker that is still trying.
    pub startup_wait: Duration,
}

impl Default for BrokerOptions {
    fn default() -> Self {
        Self {
            namespace: "chirp".into(),
            outgoing_queue: OUTGOING_QUEUE,
            subscriber_queue: SUBSCRIBER_QUEUE,
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            io_timeout: Duration::from_secs(2),
            keepalive: Duration::from_secs(15),
            startup_wait: Duration::from_secs(2),
        }
    }
}

/// Why no broker could be made. Only configuration errors: an unreachable
/// broker is not one (it is retried in the background).
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(
        "broker URL {url}: unsupported scheme {scheme:?}; use redis://… (Redis pub/sub) or amqp://… (RabbitMQ)"
    )]
    UnsupportedScheme { url: String, scheme: String },
    #[error("broker URL {url:?} is not a URL: {source}")]
    NotAUrl {
        url: String,
        source: url::ParseError,
    },
    #[error("broker URL {url}: {source}")]
    Redis {
        url: String,
        source: ::redis::RedisError,
    },
    #[error("broker URL {url}: {reason}")]
    Amqp { url: String, reason: String },
    #[error("broker namespace {0:?}: use 1 to 100 letters, digits, '_', '-', '.' or ':'")]
    Namespace(String),
}

/// Which broker a configuration asks for (SPEC §1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerKind {
    InProcess,
    /// Redis pub/sub at this URL.
    Redis(String),
    /// RabbitMQ at this URL.
    RabbitMq(String),
}

impl BrokerKind {
    /// `broker_url` (`CHIRP_BROKER_URL`) decides when set and not blank;
    /// otherwise Redis pub/sub on `redis_url` (`CHIRP_REDIS_URL`) when
    /// that is set, otherwise in-process.
    pub fn choose(broker_url: Option<&str>, redis_url: Option<&str>) -> Result<Self, BrokerError> {
        fn set(u: Option<&str>) -> Option<&str> {
            u.map(str::trim).filter(|u| !u.is_empty())
        }
        let Some(url) = set(broker_url) else {
            return Ok(match set(redis_url) {
                Some(redis) => Self::Redis(redis.to_owned()),
                None => Self::InProcess,
            });
        };
        let parsed = url::Url::parse(url).map_err(|source| BrokerError::NotAUrl {
            url: redact(url),
            source,
        })?;
        match parsed.scheme() {
            "redis" => Ok(Self::Redis(url.to_owned())),
            "amqp" => Ok(Self::RabbitMq(url.to_owned())),
            scheme => Err(BrokerError::UnsupportedScheme {
                url: redact(url),
                scheme: scheme.to_owned(),
            }),
        }
    }
}

/// The broker SPEC §1.6 chooses, with the default options.
pub async fn connect(
    broker_url: Option<&str>,
    redis_url: Option<&str>,
) -> Result<Arc<dyn Broker>, BrokerError> {
    connect_with(broker_url, redis_url, BrokerOptions::default()).await
}

/// [`connect`] with options. For a network broker, waits up to
/// `options.startup_wait` for its first connection; if the broker does not
/// answer by then, logs a warning and returns a broker that keeps trying
/// (publishing drops meanwhile). Errors only on bad configuration.
pub async fn connect_with(
    broker_url: Option<&str>,
    redis_url: Option<&str>,
    options: BrokerOptions,
) -> Result<Arc<dyn Broker>, BrokerError> {
    check_namespace(&options.namespace)?;
    let broker: Arc<dyn Broker> = match BrokerKind::choose(broker_url, redis_url)? {
        BrokerKind::InProcess => Arc::new(InProcessBroker::new(options.subscriber_queue)),
        BrokerKind::Redis(url) => {
            let transport = redis::RedisTransport::new(&url, &options)?;
            Arc::new(link::Remote::start(transport, redact(&url), &options).await)
        }
        BrokerKind::RabbitMq(url) => {
            let transport = amqp::AmqpTransport::new(&url, &options)?;
            Arc::new(link::Remote::start(transport, redact(&url), &options).await)
        }
    };
    Ok(broker)
}

fn check_namespace(namespace: &str) -> Result<(), BrokerError> {
    let ok = (1..=100).contains(&namespace.len())
        && namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(BrokerError::Namespace(namespace.to_owned()))
    }
}

/// `url` with its password hidden, for logs and error messages.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot have a password at all.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(not a URL)".into(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_broker_url_decides_by_scheme() {
        let redis = BrokerKind::choose(Some("redis://10.0.0.1:6379/2"), None).ok();
        assert_eq!(
            redis,
            Some(BrokerKind::Redis("redis://10.0.0.1:6379/2".into()))
        );
        let amqp = BrokerKind::choose(Some("amqp://u:p@mq:5672/%2f"), Some("redis://r")).ok();
        assert_eq!(
            amqp,
            Some(BrokerKind::RabbitMq("amqp://u:p@mq:5672/%2f".into()))
        );
    }

    #[test]
    fn without_a_broker_url_redis_when_set_else_in_process() {
        let redis = BrokerKind::choose(None, Some("redis://cache:6379")).ok();
        assert_eq!(redis, Some(BrokerKind::Redis("redis://cache:6379".into())));
        assert_eq!(
            BrokerKind::choose(None, None).ok(),
            Some(BrokerKind::InProcess)
        );
        assert_eq!(
            BrokerKind::choose(Some("  "), Some("")).ok(),
            Some(BrokerKind::InProcess),
            "blank variables count as unset"
        );
    }

    #[test]
    fn an_unknown_scheme_is_a_typed_error_that_hides_the_password() {
        match BrokerKind::choose(Some("kafka://user:secret@k:9092"), None) {
            Err(BrokerError::UnsupportedScheme { url, scheme }) => {
                assert_eq!(scheme, "kafka");
                assert!(!url.contains("secret"), "{url}");
            }
            other => panic!("expected UnsupportedScheme, got {other:?}"),
        }
        assert!(matches!(
            BrokerKind::choose(Some("localhost:6379"), None),
            Err(BrokerError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            BrokerKind::choose(Some("not a url"), None),
            Err(BrokerError::NotAUrl { .. })
        ));
    }

    #[test]
    fn namespaces_are_names_not_patterns() {
        assert!(check_namespace("chirp").is_ok());
        assert!(check_namespace("test.t1_2-a:b").is_ok());
        assert!(check_namespace("").is_err());
        assert!(check_namespace("a*").is_err(), "a Redis pattern character");
        assert!(check_namespace("a b").is_err());
    }

    #[test]
    fn redaction_hides_only_the_password() {
        assert_eq!(
            redact("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
