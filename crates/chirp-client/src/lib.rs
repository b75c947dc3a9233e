//! The typed client of the chirp API, and the wire types it shares with
//! the API.
//!
//! Layout:
//! * [`wire`]: the request and response bodies that are not domain
//!   models (`NewTweetBody`, `SessionBody`, `ErrorBody`, ...). The API's
//!   handlers read and write these same types, so client and server agree
//!   by construction; the resources themselves (`Account`, `Tweet`, ...)
//!   are chirp-core's, re-exported here as [`model`] with [`Paged`], so one
//!   dependency gives a caller every type the API speaks.
//! * [`Client`] (`client.rs`): the one call path. Every call has a timeout
//!   ([`Client::DEFAULT_TIMEOUT`] unless set), carries the bearer token
//!   when given one and the browser's address when the client speaks for
//!   one ([`Client::for_client`]), and decodes the answer into a type or a
//!   [`ClientError`].
//! * `endpoints.rs`: one typed method per endpoint of SPEC §3 that the API
//!   serves.
//! * `transport.rs`: the two ways a request travels, behind one boxed
//!   `tower::Service`: in-process into any service (the API's
//!   `axum::Router` in the embedded process; this crate does not depend on
//!   the API, which depends on it for the wire types), or over HTTP with a
//!   pooled hyper client in the scaled topology.
//! * [`error`]: [`ClientError`], which keeps the API's status, `code`,
//!   `message` and `field` apart from transport failures and timeouts.

mod client;
mod endpoints;
pub mod error;
mod transport;
pub mod wire;

pub use chirp_core::model;
pub use chirp_core::page::Paged;
pub use client::Client;
pub use endpoints::{FollowList, TweetQuery};
pub use error::ClientError;

#[cfg(test)]
mod tests;
