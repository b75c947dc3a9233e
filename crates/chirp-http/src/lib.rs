//! HTTP plumbing that every chirp server (API, response cache, web site)
//! shares, so each rule is written once:
//!
//! * [`serve`]: an accept loop with a header-read (and idle) timeout, a
//!   bound on open connections and graceful shutdown; the peer address is
//!   handed to handlers as [`axum::extract::ConnectInfo`].
//! * [`client`]: who the client is. `X-Forwarded-For` is believed only
//!   from peers in [`TrustedProxies`].
//! * [`origin`]: whether a browser says a request was sent by another site.
//! * [`cookies`]: reading one cookie from the `Cookie` headers, and a
//!   constant-time comparison for tokens.
//!
//! Nothing here knows chirp's routes or data.

pub mod client;
pub mod cookies;
pub mod origin;
pub mod serve;

pub use client::{TrustedProxies, client_addr};
pub use origin::cross_site;
pub use serve::{ServeOptions, serve};
