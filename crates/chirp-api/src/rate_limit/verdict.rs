//! What a limiter answers for one request, and the IETF `RateLimit-*`
//! headers it becomes (draft-ietf-httpapi-ratelimit-headers).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The outcome of counting one request of a class for one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the request may go ahead.
    pub allowed: bool,
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left in this window.
    pub remaining: u32,
    /// Until the quota is back (allowed), or until the next request may go
    /// (refused): the `Retry-After`.
    pub reset: Duration,
}

pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// Whole seconds, rounded up: a client that waits that long is let in.
pub fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Verdict {
    /// Adds `RateLimit-Limit`, `-Remaining` and `-Reset` (seconds).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert(RATELIMIT_LIMIT, HeaderValue::from(self.limit));
        headers.insert(RATELIMIT_REMAINING, HeaderValue::from(self.remaining));
        headers.insert(RATELIMIT_RESET, HeaderValue::from(seconds(self.reset)));
    }
}
