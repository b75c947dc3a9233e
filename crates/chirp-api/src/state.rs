//! The state every handler shares.

use std::sync::Arc;

use chirp_app::App;

use crate::rate_limit::class::RateLimits;
use crate::rate_limit::limiter::RateLimiter;
use crate::request_log::RequestLog;
use crate::throttle::LoginThrottle;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted, in bytes; more is a 413.
    pub body_limit: usize,
    /// Rate limits on (`CHIRP_RATE_LIMIT`): off turns off both the
    /// per-username log-in throttle ([`crate::throttle`]) and every class
    /// of [`Self::rate_limits`].
    pub rate_limit: bool,
    /// Each class's limit per client address ([`crate::rate_limit`]).
    pub rate_limits: RateLimits,
    /// Peers whose `X-Forwarded-For`, `-Host` and `-Proto` are believed
    /// (our nginx and response caches): the client's address and the
    /// origin a browser saw come from them only.
    pub trusted_proxies: chirp_http::TrustedProxies,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            rate_limit: true,
            rate_limits: RateLimits::default(),
            trusted_proxies: chirp_http::TrustedProxies::default(),
        }
    }
}

/// Shared by all handlers. One `Arc` around everything: axum clones the
/// state for every extractor of every request, and cloning one pointer is
/// far cheaper than bumping a dozen reference counts that every core shares
/// (measured: per-field clones took 17% of the CPU of a like storm).
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Parts {
    /// The operations: every handler's one way to the data.
    pub app: App,
    /// Settings, fixed at start.
    pub config: ApiConfig,
    /// Every API call since start, for `/logs`.
    pub requests: RequestLog,
    /// Failed log-ins per client and username, against password guessing.
    pub logins: LoginThrottle,
    /// Requests per class and client address.
    pub limiter: RateLimiter,
}

impl AppState {
    /// Gathers the parts; [`RequestLog::create`] makes the log file. The
    /// rate limits are counted by this instance alone.
    pub fn new(app: App, config: ApiConfig, requests: RequestLog) -> Self {
        let limiter = RateLimiter::local(config.rate_limits.clone());
        Self::with_limiter(app, config, requests, limiter)
    }

    /// Like [`Self::new`], with the rate limiter given (counting in Redis,
    /// or on a clock a test moves). With `config.rate_limit` off it is
    /// replaced by one that limits nothing.
    pub fn with_limiter(
        app: App,
        config: ApiConfig,
        requests: RequestLog,
        limiter: RateLimiter,
    ) -> Self {
        let limiter = if config.rate_limit {
            limiter
        } else {
            RateLimiter::local(RateLimits::off())
        };
        Self(Arc::new(Parts {
            app,
            logins: LoginThrottle::new(config.rate_limit),
            limiter,
            config,
            requests,
        }))
    }
}
