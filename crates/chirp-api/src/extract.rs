//! Extractors that answer bad input in chirp's error format instead of
//! axum's plain-text defaults, and the authentication extractors.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use chirp_app::Viewer;
use chirp_app::sessions::SessionUser;

use crate::ApiError;
use crate::auth;
use crate::state::AppState;

/// `axum::Json`, but rejections become [`ApiError`].
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path`, with rejections as [`ApiError`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// A tweet id from the path (`/api/tweets/{id}...`), in its one canonical
/// spelling: `3`, never `03` or `+3`. Aliases would each be a separate entry
/// in a shared response cache, one that a write to `/api/tweets/3` does not
/// evict, so they are answered 404 (never cached). Not a number at all is
/// a 400, as for any malformed path.
#[derive(Debug, Clone, Copy)]
pub struct TweetId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for TweetId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await?;
        let Ok(id) = raw.parse::<i64>() else {
            return Err(ApiError::Unreadable(crate::rejection::Said {
                message: "the tweet id in the path must be a whole number".into(),
                field: Some("id".into()),
            }));
        };
        if id.to_string() != raw {
            return Err(ApiError::NotFound("tweet"));
        }
        Ok(Self(id))
    }
}

/// `axum::extract::Query`, with rejections as [`ApiError`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Whether the peer of this request is one of our proxies, whose
/// `X-Forwarded-*` headers are believed. A request with no peer (called
/// in-process) trusts nothing.
fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

fn trusted_peer(parts: &Parts, state: &AppState) -> bool {
    peer(parts).is_some_and(|ip| state.config.trusted_proxies.trusts(ip))
}

/// The client's address: the peer, or behind our own proxies the address
/// they forwarded ([`chirp_http::client_addr`]). A request that came with
/// no peer at all (an in-process call that named none) is `0.0.0.0`.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// [`ClientAddr`] of a request's extensions (its peer) and headers.
pub fn client_of(
    extensions: &axum::http::Extensions,
    headers: &axum::http::HeaderMap,
    trusted: &chirp_http::TrustedProxies,
) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| {
            chirp_http::client_addr(addr.ip(), headers, trusted)
        })
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_of(
            &parts.extensions,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The logged-in account. Rejects with 401 when the request carries no
/// valid session token.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionUser);

impl CurrentUser {
    /// The account's id.
    pub fn id(&self) -> i64 {
        self.0.id
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        MaybeUser::from_request_parts(parts, state)
            .await?
            .0
            .ok_or(ApiError::Unauthorized)
    }
}

/// The logged-in account if there is one. A token that is present but not
/// valid is still an error (401), so a client learns its session expired.
///
/// A change (any method but GET, HEAD, OPTIONS) authenticated by the session
/// cookie alone is refused when the browser says another site sent it
/// (`Sec-Fetch-Site`): the cookie is SameSite=Lax already, and this closes
/// the rest of cross-site request forgery for API routes that take no body
/// (follow, logout). Scripts send the token in `Authorization` instead.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = auth::request_token(&parts.headers)? else {
            return Ok(Self(None));
        };
        let by_cookie = !parts.headers.contains_key(AUTHORIZATION);
        if by_cookie
            && !parts.method.is_safe()
            && chirp_http::cross_site(&parts.headers, trusted_peer(parts, state))
        {
            return Err(ApiError::Forbidden(
                "another site cannot make changes with your session cookie",
            ));
        }
        let user = state.app.authenticate(&token).await?;
        Ok(Self(Some(CurrentUser(user))))
    }
}

impl MaybeUser {
    /// Who is reading, for the visibility rule of chirp-app.
    pub fn viewer(&self) -> Viewer {
        match &self.0 {
            Some(user) => Viewer::Account(user.id()),
            None => Viewer::Anonymous,
        }
    }
}
