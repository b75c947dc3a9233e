//! The middleware that applies the limits to every `/api` route: it finds
//! the request's class and client, counts it, and answers 429 past the
//! limit; answers in a limited class carry the `RateLimit-*` headers.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::class::Class;
use crate::error::ApiError;
use crate::extract::client_of;
use crate::state::AppState;

/// `axum::middleware::from_fn_with_state(state, limit)`.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path(), MatchedPath::as_str);
    let Some(class) = Class::of(req.method(), path, req.headers()) else {
        return next.run(req).await;
    };
    let client = client_of(
        req.extensions(),
        req.headers(),
        &state.config.trusted_proxies,
    );
    // The machine itself (127.0.0.1, ::1) is never limited, as Mastodon
    // safelists localhost: it is the operator's own `chirp script` and
    // browser, and in the topology every real client has its own address
    // (X-Forwarded-For from trusted proxies; 127.0.0.2 is a client too).
    if is_this_machine(client) {
        return next.run(req).await;
    }
    let Some(verdict) = state.limiter.check(class, client).await else {
        return next.run(req).await;
    };
    let mut resp = if verdict.allowed {
        next.run(req).await
    } else {
        ApiError::TooManyRequests {
            what: class.noun(),
            retry_after: verdict.reset,
        }
        .into_response()
    };
    verdict.write_headers(resp.headers_mut());
    resp
}

/// 127.0.0.1 or ::1 exactly: the machine itself, not the rest of loopback.
fn is_this_machine(ip: std::net::IpAddr) -> bool {
    ip == std::net::IpAddr::from([127, 0, 0, 1])
        || ip == std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
}
