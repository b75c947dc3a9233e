//! Cookies, CSRF protection and the security headers every page carries.
//!
//! CSRF uses the double-submit pattern: each browser gets a random
//! `chirp_csrf` cookie (HttpOnly, SameSite=Lax), every form repeats it in a
//! hidden `csrf` field, and a POST whose field does not match its cookie
//! (compared in constant time) is refused with 403 before any handler runs.
//! A cross-site page can make the browser send the cookie but cannot read
//! it, so it cannot forge the field.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// The cookie holding the API session token (the API reads it too).
pub const SESSION_COOKIE: &str = "chirp_session";
/// The cookie holding this browser's CSRF token.
pub const CSRF_COOKIE: &str = "chirp_csrf";
/// The hidden form field that must repeat [`CSRF_COOKIE`].
pub const CSRF_FIELD: &str = "csrf";

/// Sent on every page: only our own scripts, styles, forms and images.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// How long a browser keeps its CSRF token (a year: it is not a secret
/// worth rotating on a timer; login replaces it).
pub const CSRF_MAX_AGE: u64 = 60 * 60 * 24 * 365;

/// Forms are small; a bigger body is refused rather than buffered.
const MAX_FORM: usize = 64 * 1024;

/// The CSRF token of the current request, for templates to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// 128 random bits, URL-safe: for CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of cookie `name`, if present and non-empty.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, `Secure` when
/// the site is served over HTTPS. `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Equal strings, in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A token we could have issued: guards against junk cookies.
fn well_formed(token: &str) -> bool {
    (16..=64).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Middleware: issues the CSRF cookie, checks it on every unsafe request,
/// and hands the token to handlers as a [`CsrfToken`] extension.
pub async fn csrf(secure: bool, req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), CSRF_COOKIE).filter(|t| well_formed(t));
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(random_token);
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Static files are public and cacheable: a cookie on them could be
    // handed by a shared cache to many browsers.
    let shared = req.uri().path().starts_with("/static/");
    let mut req = if safe {
        req
    } else {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
        };
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = fields.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v);
        let matches = sent.is_some_and(|s| constant_time_eq(s.as_bytes(), token.as_bytes()));
        if fresh || !matches {
            return forbidden();
        }
        Request::from_parts(parts, Body::from(bytes))
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    if fresh && !shared {
        let value = set_cookie(CSRF_COOKIE, &token, CSRF_MAX_AGE, secure);
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
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn random_tokens_are_well_formed_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert!(!well_formed("<script>"));
    }

    #[test]
    fn cookies_are_found_and_flagged() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; chirp_csrf=xyz"),
        );
        assert_eq!(cookie(&h, CSRF_COOKIE).as_deref(), Some("xyz"));
        let c = set_cookie(SESSION_COOKIE, "t", 10, true);
        let c = c.to_str().expect("ascii");
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("Secure"));
    }
}
