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
//! * `broker`: the [`Broker`] trait and its counters; `config`:
//!   [`BrokerOptions`], [`BrokerKind`], [`BrokerError`]; `connect`:
//!   [`connect`], which starts the broker a configuration names.
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
mod broker;
mod config;
mod connect;
mod redis;

pub(crate) use broker::Counters;
pub use broker::{Broker, BrokerStats, OUTGOING_QUEUE, SUBSCRIBER_QUEUE};
pub(crate) use config::redact;
pub use config::{BrokerError, BrokerKind, BrokerOptions};
pub use connect::{connect, connect_with};
pub use envelope::{Delivery, Envelope};
pub use memory::InProcessBroker;
