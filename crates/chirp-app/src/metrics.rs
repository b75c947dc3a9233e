//! Prometheus metrics of an API instance, served at `/metrics`.

use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The instance's metrics; clones share the same values.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Likes taken in: each will be counted in the database once (the
    /// client gets 202 unless it hangs up first).
    pub likes_accepted: Counter,
    /// Tweets with likes not yet in the database.
    pub likes_pending_tweets: Gauge,
    /// Likes not yet in the database (pending plus the batch being written).
    pub likes_pending: Gauge,
    /// Batches written to the database.
    pub like_flushes: Counter,
    /// SQL statements those batches took.
    pub like_statements: Counter,
    /// Likes written by those batches.
    pub likes_flushed: Counter,
    /// Likes carried by each statement.
    pub likes_per_statement: Histogram,
    /// Time to apply one batch, retries included.
    pub like_flush_seconds: Histogram,
    /// Failed attempts to apply a batch (each is retried).
    pub like_flush_errors: Counter,
    /// Journal writes (each carries a group of likes).
    pub journal_writes: Counter,
    /// Database statements so far, by kind (refreshed at each scrape).
    pub db_reads: Gauge,
    pub db_writes: Gauge,
    /// Live notification streams open on this instance (at each scrape).
    pub live_streams: Gauge,
    /// Broker envelopes published, dropped (queue full or broker down)
    /// and received, and whether it is connected (at each scrape).
    pub broker_published: Gauge,
    pub broker_dropped: Gauge,
    pub broker_received: Gauge,
    pub broker_connected: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("chirp");
        let likes_accepted = Counter::default();
        let likes_pending_tweets = Gauge::default();
        let likes_pending = Gauge::default();
        let like_flushes = Counter::default();
        let like_statements = Counter::default();
        let likes_flushed = Counter::default();
        let likes_per_statement = Histogram::new(exponential_buckets(1.0, 4.0, 10));
        let like_flush_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        let like_flush_errors = Counter::default();
        let journal_writes = Counter::default();
        let db_reads = Gauge::default();
        let db_writes = Gauge::default();
        let live_streams = Gauge::default();
        let broker_published = Gauge::default();
        let broker_dropped = Gauge::default();
        let broker_received = Gauge::default();
        let broker_connected = Gauge::default();
        registry.register(
            "live_streams",
            "Notification streams open on this instance",
            live_streams.clone(),
        );
        registry.register(
            "broker_published",
            "Envelopes handed to the broker",
            broker_published.clone(),
        );
        registry.register(
            "broker_dropped",
            "Envelopes dropped: the broker was down or its queue full",
            broker_dropped.clone(),
        );
        registry.register(
            "broker_received",
            "Envelopes received from the broker",
            broker_received.clone(),
        );
        registry.register(
            "broker_connected",
            "1 while the broker is connected",
            broker_connected.clone(),
        );
        registry.register(
            "likes_accepted",
            "Likes answered 202",
            likes_accepted.clone(),
        );
        registry.register(
            "likes_pending_tweets",
            "Tweets with likes not yet in the database",
            likes_pending_tweets.clone(),
        );
        registry.register(
            "likes_pending",
            "Likes not yet in the database",
            likes_pending.clone(),
        );
        registry.register("like_flushes", "Like batches written", like_flushes.clone());
        registry.register(
            "like_statements",
            "SQL statements written by like batches",
            like_statements.clone(),
        );
        registry.register(
            "likes_flushed",
            "Likes written to the database",
            likes_flushed.clone(),
        );
        registry.register(
            "likes_per_statement",
            "Likes carried by one SQL statement",
            likes_per_statement.clone(),
        );
        registry.register(
            "like_flush_seconds",
            "Time to apply one like batch, retries included",
            like_flush_seconds.clone(),
        );
        registry.register(
            "like_flush_errors",
            "Failed attempts to apply a like batch",
            like_flush_errors.clone(),
        );
        registry.register(
            "like_journal_writes",
            "Group writes to the like journal",
            journal_writes.clone(),
        );
        registry.register("db_reads", "Database read statements", db_reads.clone());
        registry.register("db_writes", "Database write statements", db_writes.clone());
        Self {
            registry: Arc::new(registry),
            likes_accepted,
            likes_pending_tweets,
            likes_pending,
            like_flushes,
            like_statements,
            likes_flushed,
            likes_per_statement,
            like_flush_seconds,
            like_flush_errors,
            journal_writes,
            db_reads,
            db_writes,
            live_streams,
            broker_published,
            broker_dropped,
            broker_received,
            broker_connected,
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics");
        }
        out
    }
}
