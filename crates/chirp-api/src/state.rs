//! The state every handler shares.

use std::sync::Arc;

use chirp_app::App;

use crate::request_log::RequestLog;
use crate::throttle::LoginThrottle;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted, in bytes; more is a 413.
    pub body_limit: usize,
    /// Rate limits on (`CHIRP_RATE_LIMIT`): for now, failed log-ins per
    /// username (see [`crate::throttle`]).
    pub rate_limit: bool,
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
}

impl AppState {
    /// Gathers the parts; [`RequestLog::create`] makes the log file.
    pub fn new(app: App, config: ApiConfig, requests: RequestLog) -> Self {
        Self(Arc::new(Parts {
            app,
            logins: LoginThrottle::new(config.rate_limit),
            config,
            requests,
        }))
    }
}
