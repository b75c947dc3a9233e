//! Configuration: typed structs passed in, never globals, so a test can run
//! two differently configured caches side by side.
//!
//! [`CacheOptions`] is what both shapes share (TTL, memory bounds, how long
//! a shared fetch may take);
//! [`CacheConfig`] adds what only the standalone proxy needs (where the
//! upstream is and how long to wait for it).

use std::time::Duration;

use axum::http::Uri;

/// SPEC §1.1: an entry expires 60 s after it was stored.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// Default bound on the summed weight of all entries.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Default bound on one entry; API pages are a few KiB, so 1 MiB leaves room
/// without letting one huge response push out hundreds of small ones.
pub const DEFAULT_MAX_ENTRY_BYTES: usize = 1024 * 1024;
/// Default bound on a shared fetch: a third of the proxy's response timeout
/// and of nginx's `proxy_read_timeout` (30 s), so readers coalesced behind a
/// stalled fetch hear back (504) long before their own clients give up.
pub const DEFAULT_SHARED_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// How the cache stores and shares responses, whichever shape it runs in.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// How long an entry is served after it was stored. Checked lazily on
    /// access against tokio's clock, so paused-time tests control it.
    pub ttl: Duration,
    /// Upper bound on the summed weight of all entries. An entry weighs its
    /// body, headers and key plus a fixed overhead, so this also bounds the
    /// number of entries.
    pub max_bytes: u64,
    /// Larger responses pass through uncached. Also bounds what one in-flight
    /// miss buffers before it gives up and streams.
    pub max_entry_bytes: usize,
    /// How long the single-flight leader of a miss may take, response
    /// headers and buffered body together, before it and every reader
    /// waiting on it get a 504. Keep it below the clients' own timeouts
    /// (the proxy's `response_timeout`, nginx's `proxy_read_timeout`): one
    /// stalled fetch holds every anonymous reader of its key. Requests the
    /// cache forwards on their own behalf (writes, credentials) are not
    /// bound by it.
    pub shared_fetch_timeout: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self {
            ttl: DEFAULT_TTL,
            max_bytes: DEFAULT_MAX_BYTES,
            max_entry_bytes: DEFAULT_MAX_ENTRY_BYTES,
            shared_fetch_timeout: DEFAULT_SHARED_FETCH_TIMEOUT,
        }
    }
}

/// The standalone proxy: the cache plus the upstream it forwards to.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Base URL of the upstream (`http://host:port`, optionally with a path
    /// prefix). Plain HTTP only: the proxy sits inside the deployment.
    pub upstream: Uri,
    /// TTL and memory bounds.
    pub cache: CacheOptions,
    /// Time allowed to open a connection to the upstream before answering 502.
    pub connect_timeout: Duration,
    /// Time allowed for the upstream's response headers before answering 504.
    /// The body is not limited, so streams (SSE) keep flowing. A shared fetch
    /// is bound by the shorter `cache.shared_fetch_timeout` as well.
    pub response_timeout: Duration,
    /// Idle keep-alive connections kept to the upstream. Reusing connections
    /// is what makes the extra hop cheap; the bound keeps sockets finite.
    pub max_idle_connections: usize,
    /// Peers whose `X-Forwarded-*` headers are passed on as they are
    /// (nginx in front); from anyone else they are replaced by what the
    /// cache itself saw.
    pub trusted_proxies: chirp_http::TrustedProxies,
}

/// The upstream URL is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("upstream {0:?} is not a URL: {1}")]
    BadUrl(String, axum::http::uri::InvalidUri),
    #[error("upstream {0:?} must be an http:// URL with a host, like http://127.0.0.1:8081")]
    NotHttp(String),
}

impl CacheConfig {
    /// A config with default options for the upstream at `url`.
    pub fn new(url: &str) -> Result<Self, ConfigError> {
        let upstream: Uri = url
            .parse()
            .map_err(|e| ConfigError::BadUrl(url.to_owned(), e))?;
        let is_http = upstream.scheme_str() == Some("http");
        if !is_http || upstream.authority().is_none() || upstream.query().is_some() {
            return Err(ConfigError::NotHttp(url.to_owned()));
        }
        Ok(Self {
            upstream,
            cache: CacheOptions::default(),
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(30),
            max_idle_connections: 256,
            trusted_proxies: chirp_http::TrustedProxies::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_http_base_urls() {
        let config = CacheConfig::new("http://127.0.0.1:8081").expect("valid URL");
        assert_eq!(
            config.upstream.authority().map(|a| a.as_str()),
            Some("127.0.0.1:8081")
        );
        assert_eq!(config.cache.ttl, Duration::from_secs(60));
        assert_eq!(config.cache.max_bytes, 64 * 1024 * 1024);
        assert!(config.cache.shared_fetch_timeout < config.response_timeout);
    }

    #[test]
    fn rejects_https_missing_host_and_garbage() {
        for url in [
            "https://example.com",
            "/relative",
            "http://h/x?q=1",
            "not a url",
        ] {
            assert!(CacheConfig::new(url).is_err(), "{url} should be rejected");
        }
    }
}
