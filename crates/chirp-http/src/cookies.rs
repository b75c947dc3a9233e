//! Cookies in, through the `cookie` crate's parser rather than by hand.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use cookie::Cookie;

/// The cookie the web site keeps the API session token in, over plain HTTP.
pub const SESSION_COOKIE: &str = "chirp_session";
/// The same cookie when the site's cookies are `Secure`: the `__Host-`
/// prefix makes the browser refuse it unless it was set over HTTPS by this
/// host for the whole site, so a sibling subdomain or a plain-HTTP man in
/// the middle cannot plant one.
pub const SECURE_SESSION_COOKIE: &str = "__Host-chirp_session";

/// The session token a browser sent, under either name.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SECURE_SESSION_COOKIE).or_else(|| cookie(headers, SESSION_COOKIE))
}

/// Whether a request carries a session cookie under either name: a shared
/// cache must treat it as logged in.
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    has_cookie(headers, SECURE_SESSION_COOKIE) || has_cookie(headers, SESSION_COOKIE)
}

/// The value of the first cookie called `name` in any `Cookie` header, if
/// it is present and not empty. Headers that are not text are skipped.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
        .filter(|v| !v.is_empty())
}

/// Whether the request carries a cookie called `name` at all (empty or
/// not); a `Cookie` header that is not text counts as carrying it, which is
/// the safe answer for a cache deciding whether a request is logged in.
pub fn has_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers.get_all(COOKIE).iter().any(|v| match v.to_str() {
        Err(_) => true,
        Ok(text) => Cookie::split_parse(text)
            .filter_map(Result::ok)
            .any(|c| c.name() == name),
    })
}

/// Equal tokens, in time that does not depend on where they differ.
pub fn tokens_equal(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(COOKIE, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn finds_a_cookie_among_others_and_across_headers() {
        let h = headers(&["theme=dark; chirp_session=tok", "x=y"]);
        assert_eq!(cookie(&h, "chirp_session"), Some("tok"));
        assert_eq!(cookie(&h, "x"), Some("y"));
        assert_eq!(cookie(&h, "chirp"), None);
        assert_eq!(cookie(&headers(&["chirp_session="]), "chirp_session"), None);
    }

    #[test]
    fn a_cookie_whose_name_only_starts_alike_is_another_cookie() {
        let h = headers(&["chirp_session_old=x"]);
        assert_eq!(cookie(&h, "chirp_session"), None);
        assert!(!has_cookie(&h, "chirp_session"));
        assert!(has_cookie(
            &headers(&["a=1; chirp_session="]),
            "chirp_session"
        ));
    }

    #[test]
    fn an_unreadable_cookie_header_counts_as_carrying_the_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_bytes(b"s=\xff").expect("opaque bytes are a valid header"),
        );
        assert!(has_cookie(&h, "chirp_session"));
    }

    #[test]
    fn the_session_token_is_found_under_either_name_secure_first() {
        assert_eq!(session_token(&headers(&["chirp_session=a"])), Some("a"));
        let both = headers(&["chirp_session=a; __Host-chirp_session=b"]);
        assert_eq!(session_token(&both), Some("b"));
        assert!(has_session_cookie(&headers(&["__Host-chirp_session=b"])));
        assert!(!has_session_cookie(&headers(&["chirp_csrf=b"])));
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(tokens_equal(b"abc", b"abc"));
        assert!(!tokens_equal(b"abc", b"abd"));
        assert!(!tokens_equal(b"abc", b"abcd"));
    }
}
