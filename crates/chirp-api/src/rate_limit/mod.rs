//! Rate limits per client address (SPEC §1.7), on by default.
//!
//! * [`class`]: the seven limited classes (anonymous reads, log-ins,
//!   sign-ups, posts, likes, messages, stream opens), their defaults
//!   (Mastodon's figures) and the `COUNT/PERIOD` settings.
//! * [`local`]: this instance's counts, a keyed GCRA limiter (governor)
//!   per class, with idle clients swept so memory stays bounded.
//! * [`shared`]: fixed-window counters in Redis, so the limit holds across
//!   the API instances of the scaled shape; while Redis fails, the
//!   per-instance counts stand in (never no limit, never refusing all).
//! * [`limiter`]: the two together, and who a client is (an IPv4 address,
//!   an IPv6 /64).
//! * [`layer`]: the middleware: 429 with `Retry-After` and the JSON error
//!   shape past a limit, `RateLimit-*` headers on every answer in a class.
//! * [`clock`]: real time that tests move forward.
//!
//! The client address is the peer, or what our trusted proxies forwarded
//! ([`crate::extract::client_of`]). The per-username log-in throttle
//! ([`crate::throttle`]) is separate and stays: it stops guessing one
//! account's password from many addresses.

pub mod class;
pub mod clock;
pub mod layer;
pub mod limiter;
pub mod local;
pub mod shared;
pub mod verdict;
