//! What the site's handlers share: its settings, the state the router
//! holds, and the per-request [`WebState`] every handler extracts.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chirp_client::Client;

/// Settings of the web site.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (send only over HTTPS). Off by default so the
    /// embedded process works on plain-HTTP localhost.
    pub secure_cookies: bool,
    /// Peers whose `X-Forwarded-For` and `X-Forwarded-Proto`/`-Host` are
    /// believed (nginx in front); the browser's address found through them
    /// is passed on to the API.
    pub trusted_proxies: chirp_http::TrustedProxies,
}

/// What the router holds, shared by every request. Handlers do not take
/// it (there is no `State<WebState>` to take): they extract [`WebState`].
#[derive(Debug, Clone)]
pub struct SharedState {
    /// The API, on nobody's behalf.
    pub(crate) api: Client,
    pub(crate) config: Arc<WebConfig>,
}

/// What every handler gets, made per request.
#[derive(Debug, Clone)]
pub struct WebState {
    /// The API, called on behalf of this request's browser.
    pub api: Client,
    pub config: Arc<WebConfig>,
}

impl FromRequestParts<SharedState> for WebState {
    type Rejection = Infallible;

    /// The browser is the peer, or who our trusted proxies say it is; an
    /// in-process request (no peer) is made on nobody's behalf.
    async fn from_request_parts(
        parts: &mut Parts,
        shared: &SharedState,
    ) -> Result<Self, Infallible> {
        let browser = chirp_http::serve::peer(&parts.extensions).map(|peer| {
            chirp_http::client_addr(peer.ip(), &parts.headers, &shared.config.trusted_proxies)
        });
        Ok(Self {
            api: shared.api.for_client(browser),
            config: Arc::clone(&shared.config),
        })
    }
}
