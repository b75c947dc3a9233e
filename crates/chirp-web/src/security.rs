//! Cookies, CSRF protection and the security headers every page carries.
//!
//! Every unsafe request (a form post) passes two checks before any handler
//! runs, and is refused with 403 otherwise:
//!
//! * **Not cross-site**, by the rule the API applies to cookie-authenticated
//!   writes ([`chirp_http::cross_site`]): a browser that says, through
//!   `Sec-Fetch-Site` or `Origin`, that another site sent the request is
//!   refused whatever the token.
//! * **The `csrf` field carries this browser's token**, compared in
//!   constant time. Logged in, the token is bound to the session: an HMAC
//!   of the message `chirp csrf v1` keyed with the session token, so only
//!   someone who can read the HttpOnly session cookie can compute it, and a
//!   CSRF cookie planted by someone else (a sibling subdomain, a man in the
//!   middle on plain HTTP) is of no use. Logged out (the sign-up and log-in
//!   forms) there is no session to bind to, and the double-submit cookie
//!   stands in: a random `chirp_csrf` cookie that the field must repeat.
//!
//! With `Secure` cookies the names carry the `__Host-` prefix, so the
//! browser accepts them only from this host over HTTPS, for the whole site.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chirp_http::cookies::{SECURE_SESSION_COOKIE, SESSION_COOKIE, cookie, session_token};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::WebConfig;

/// The cookie holding a logged-out browser's CSRF token, over plain HTTP.
pub const CSRF_COOKIE: &str = "chirp_csrf";
/// The same cookie when cookies are `Secure`.
pub const SECURE_CSRF_COOKIE: &str = "__Host-chirp_csrf";
/// The hidden form field that must carry the request's CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// What a logged-in browser's CSRF token is the HMAC of; the version lets
/// a future scheme make every old token invalid.
const CSRF_MESSAGE: &[u8] = b"chirp csrf v1";

/// Sent on every page: only our own scripts, styles, forms and images.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// How long a browser keeps its CSRF cookie (a year: it is not a secret
/// worth rotating on a timer; login replaces it).
pub const CSRF_MAX_AGE: u64 = 60 * 60 * 24 * 365;

/// Forms are small; a bigger body is refused rather than buffered.
const MAX_FORM: usize = 64 * 1024;

/// The CSRF token of the current request, for templates to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// The session cookie's name: `__Host-` prefixed when cookies are `Secure`.
pub fn session_cookie(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The CSRF cookie's name: `__Host-` prefixed when cookies are `Secure`.
pub fn csrf_cookie(secure: bool) -> &'static str {
    if secure {
        SECURE_CSRF_COOKIE
    } else {
        CSRF_COOKIE
    }
}

/// 128 random bits, URL-safe: for logged-out CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The CSRF token of the session `session`: URL-safe base64 of
/// HMAC-SHA256 keyed with the session token over [`CSRF_MESSAGE`].
pub fn session_csrf_token(session: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(session.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(CSRF_MESSAGE);
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A `Set-Cookie` value: `Path=/`, HttpOnly and SameSite=Lax always, no
/// `Domain` (so a `__Host-` name is accepted), `Secure` when the site is
/// served over HTTPS. `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// A token we could have issued: guards against junk cookies.
fn well_formed(token: &str) -> bool {
    (16..=64).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Middleware: refuses cross-site and unmatched unsafe requests, issues
/// the logged-out CSRF cookie, and hands the request's token to handlers
/// as a [`CsrfToken`] extension.
pub async fn csrf(State(config): State<Arc<WebConfig>>, req: Request, next: Next) -> Response {
    let secure = config.secure_cookies;
    let headers = req.headers();
    let cookie_token = cookie(headers, csrf_cookie(secure))
        .filter(|t| well_formed(t))
        .map(str::to_owned);
    let fresh = cookie_token.is_none();
    let cookie_token = cookie_token.unwrap_or_else(random_token);
    // Bound to the session cookie the browser sent, whether or not the API
    // still takes it: the page this request shows was made with the same.
    let session = session_token(headers).map(session_csrf_token);
    let logged_in = session.is_some();
    let token = session.unwrap_or_else(|| cookie_token.clone());
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Static files are public and cacheable: a cookie on them could be
    // handed by a shared cache to many browsers.
    let shared = req.uri().path().starts_with("/static/");
    let mut req = if safe {
        req
    } else {
        // Forwarded scheme and host count only from our own proxies.
        let trust_forwarded = chirp_http::serve::peer(req.extensions())
            .is_some_and(|peer| config.trusted_proxies.trusts(peer.ip()));
        if chirp_http::cross_site(req.headers(), trust_forwarded) {
            return forbidden();
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
        };
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = fields.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v);
        let matches =
            sent.is_some_and(|s| chirp_http::cookies::tokens_equal(s.as_bytes(), token.as_bytes()));
        // Logged out, a token we only just made up cannot have been sent.
        if !matches || (fresh && !logged_in) {
            return forbidden();
        }
        Request::from_parts(parts, Body::from(bytes))
    };
    req.extensions_mut().insert(CsrfToken(token));
    let mut resp = next.run(req).await;
    // Issued logged in too, so it is there for the forms after logout.
    if fresh && !shared {
        let value = set_cookie(csrf_cookie(secure), &cookie_token, CSRF_MAX_AGE, secure);
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    resp
}

/// The answer to a forged (or stale) form.
fn forbidden() -> Response {
    let body = "<!doctype html><title>Forbidden</title><p>This form has expired or did not \
                come from chirp. Go back, reload the page and try again.</p>";
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Middleware: CSP, nosniff and friends on every response. Pages are
/// personal, so they are not stored by shared caches unless the handler
/// said otherwise (the stylesheet does).
pub async fn headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::*;

    #[test]
    fn random_tokens_are_well_formed_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert!(!well_formed("<script>"));
    }

    #[test]
    fn session_tokens_are_an_hmac_of_the_session_and_well_formed() {
        let a = session_csrf_token("session-a");
        assert_eq!(a, session_csrf_token("session-a"), "stable per session");
        assert_ne!(a, session_csrf_token("session-b"));
        assert_eq!(a.len(), 43, "256 bits, unpadded base64");
        assert!(well_formed(&a));
        // Computed independently: Python's hmac over the same inputs.
        assert_eq!(a, "HAKhy8WQ0cG8JBNjxAvBarzMcdLyfTTppCWvTqoEVA8");
    }

    #[test]
    fn secure_cookies_are_host_prefixed_and_flagged() {
        assert_eq!(session_cookie(true), "__Host-chirp_session");
        assert_eq!(csrf_cookie(true), "__Host-chirp_csrf");
        assert_eq!(session_cookie(false), "chirp_session");
        assert_eq!(csrf_cookie(false), "chirp_csrf");
        let c = set_cookie(session_cookie(true), "t", 10, true);
        let c = c.to_str().expect("ascii");
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("Secure"));
        assert!(c.contains("Path=/;") && !c.contains("Domain"));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-chirp_csrf=xyz"),
        );
        assert_eq!(cookie(&h, csrf_cookie(true)), Some("xyz"));
    }
}
