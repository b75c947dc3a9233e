//! The state every handler shares.

use std::sync::Arc;
use std::time::Duration;

use chirp_store::Store;

use crate::auth::Passwords;
use crate::likes::Likes;
use crate::metrics::Metrics;
use crate::requests::RequestLog;
use crate::throttle::LoginThrottle;

/// Settings of the API layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted, in bytes; more is a 413.
    pub body_limit: usize,
    /// How long a login stays valid.
    pub session_ttl: Duration,
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
            session_ttl: Duration::from_secs(30 * 24 * 3600),
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
    /// The storage every handler reads and writes through.
    pub store: Arc<dyn Store>,
    /// Password hashing, bounded in concurrency.
    pub passwords: Passwords,
    /// Settings, fixed at start.
    pub config: Arc<ApiConfig>,
    /// The like button: batcher or write-through, and held counts.
    pub likes: Likes,
    /// Every API call since start, for `/logs`.
    pub requests: RequestLog,
    /// Prometheus metrics for `/metrics`.
    pub metrics: Metrics,
    /// Failed log-ins per username, against password guessing.
    pub logins: LoginThrottle,
}

impl AppState {
    /// Gathers the parts; [`Likes::start`] and [`RequestLog::create`] make
    /// the two that need files.
    pub fn new(
        store: Arc<dyn Store>,
        config: ApiConfig,
        likes: Likes,
        requests: RequestLog,
        metrics: Metrics,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self(Arc::new(Parts {
            store,
            passwords: Passwords::new(cores),
            logins: LoginThrottle::new(config.rate_limit),
            config: Arc::new(config),
            likes,
            requests,
            metrics,
        }))
    }
}
