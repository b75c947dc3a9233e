//! The response cache of chirp (SPEC §1.1): a caching reverse proxy for GET
//! and HEAD, usable two ways from the same code.
//!
//! * Standalone (`chirp cache --upstream URL`): [`serve`] runs an axum server
//!   whose every request goes to the cache, which forwards misses, bypasses
//!   and writes to the upstream through [`HttpUpstream`], a pooled keep-alive
//!   hyper client.
//! * Embedded: [`ResponseCacheLayer`] wraps an in-process service (the API
//!   router); its "upstream" is that service, via [`ServiceUpstream`].
//!
//! Both shapes are a [`CacheService`] over an [`Upstream`], so they share one
//! request path. Layout, from the outside in:
//!
//! * [`service`]: the tower service and layer, [`router`] and [`serve`].
//! * `engine`: routing of one request (stats, write-through, bypass, shared),
//!   request coalescing (the leader's fetch bounded by
//!   [`CacheOptions::shared_fetch_timeout`]), `X-Cache`/`Age`, 502/504 in the
//!   API's error shape.
//! * `store`: entries in moka bounded by bytes, lazy expiry on tokio's clock,
//!   and write epochs that stop a miss racing a write from storing stale data.
//! * `index`: path → keys, kept in step by moka's eviction listener, so a
//!   write evicts every query string of a path without a scan.
//! * `policy`: pure rules: cache key (percent-encoding normalised, so an
//!   alias of a path is evicted with it), credentials, what is shareable,
//!   what a write makes stale, hop-by-hop and body-framing headers.
//! * [`upstream`]: the [`Upstream`] trait and its two implementations.
//! * [`config`]: [`CacheOptions`] (both shapes) and [`CacheConfig`]
//!   (standalone).
//!
//! Error policy: upstream failures are typed ([`UpstreamError`]), logged, and
//! answered with an opaque 502/504; the service itself never fails.

pub mod config;
mod engine;
mod index;
mod policy;
pub mod service;
mod store;
pub mod upstream;

pub use config::{CacheConfig, CacheOptions, ConfigError};
pub use service::{
    CacheService, Purger, ResponseCache, ResponseCacheLayer, proxy, router, router_over, serve,
};
pub use store::CacheStats;
pub use upstream::{HttpUpstream, ServiceUpstream, Upstream, UpstreamError};
