//! Black-box tests of the response cache: the standalone proxy over real
//! HTTP against a counting upstream, and the tower-layer shape over an
//! in-process router (where paused time drives the TTL).

mod coalescing;
mod eviction;
mod framing;
mod helpers;
mod layer;
mod proxy;
mod sharing;
