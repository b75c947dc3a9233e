//! What may be shared, under which key, and what a write makes stale: pure
//! functions of headers and paths, so the rules of SPEC §1.1 are unit-tested
//! without any I/O.

use std::borrow::Cow;
use std::time::Duration;

use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HeaderName,
    PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, SET_COOKIE, TE, TRAILER, TRANSFER_ENCODING, UPGRADE,
    VARY,
};
use axum::http::{HeaderMap, StatusCode, Uri};

/// Answered by the cache itself, never forwarded or stored.
pub(crate) const STATS_PATH: &str = "/_cache/stats";

/// Paths whose answers must always be live: the request log and metrics
/// describe the instance right now, and health checks that nginx reads must
/// not be hidden by a cached "ok".
const NEVER_CACHED: [&str; 5] = ["/logs", "/metrics", "/healthz", "/readyz", STATS_PATH];

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1);
/// forwarding them would confuse the next hop's framing.
const HOP_BY_HOP: [HeaderName; 9] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
];

pub(crate) fn never_cached(path: &str) -> bool {
    NEVER_CACHED.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Headers that describe a request's body. A shared fetch sends none (a
/// GET's body means nothing to a cache keyed by path and query), so it must
/// not announce one: an upstream that reads the `Content-Length` it is told
/// (nginx) would wait for bytes that never come, and every reader coalesced
/// behind that fetch would wait with it.
const BODY_FRAMING: [HeaderName; 3] = [CONTENT_LENGTH, TRANSFER_ENCODING, EXPECT];

/// The cache key: path and query string, the same for GET and HEAD, in
/// [`normalize`]d form so that `/api/tweets/%33` and `/api/tweets/3` are one
/// entry, and a write to either evicts it.
pub(crate) fn cache_key(uri: &Uri) -> String {
    let path = normalize(uri.path());
    match uri.query() {
        Some(query) => format!("{path}?{}", normalize(query)),
        None => path.into_owned(),
    }
}

/// Percent-encoding normalisation (RFC 3986 §6.2.2): an escaped unreserved
/// character (ALPHA, DIGIT, `-`, `.`, `_`, `~`) is decoded, since it names
/// the same resource either way; any other escape keeps its meaning and gets
/// upper-case hex. A `%` not followed by two hex digits is left alone.
pub(crate) fn normalize(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?)))
            .flatten();
        let Some((high, low)) = escape else {
            i += 1;
            continue;
        };
        out.push_str(&text[rest..i]);
        let byte = high << 4 | low;
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push_str(&text[i + 1..i + 3].to_ascii_uppercase());
        }
        i += 3;
        rest = i;
    }
    out.push_str(&text[rest..]);
    Cow::Owned(out)
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Prepares the headers of a shared fetch: no hop-by-hop headers and none
/// that announce a body ([`BODY_FRAMING`]), whichever shape the cache runs
/// in (the in-process service gets no `forward_headers` pass).
pub(crate) fn strip_for_shared_fetch(headers: &mut HeaderMap) {
    strip_hop_by_hop(headers);
    for name in &BODY_FRAMING {
        headers.remove(name);
    }
}

/// The path part of a key, which is what the eviction index groups by.
pub(crate) fn key_path(key: &str) -> &str {
    key.split_once('?').map_or(key, |(path, _)| path)
}

/// A request with credentials may see a private page, so it is never answered
/// from (or coalesced into) a shared entry: a bearer token, or the web
/// site's session cookie under either of its names. A cookie header that is
/// not valid text is treated as credentialed: the safe side.
pub(crate) fn has_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key(AUTHORIZATION) || chirp_http::cookies::has_session_cookie(headers)
}

/// The directives of `Cache-Control` that decide sharing.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CacheControl {
    pub public: bool,
    pub private: bool,
    pub no_store: bool,
    pub no_cache: bool,
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
}

impl CacheControl {
    pub(crate) fn parse(headers: &HeaderMap) -> Self {
        let mut cc = Self::default();
        for value in headers.get_all(CACHE_CONTROL) {
            // An unreadable header might have said "private": do not share.
            let Ok(text) = value.to_str() else {
                cc.private = true;
                continue;
            };
            for directive in text.split(',') {
                let (name, arg) = directive
                    .split_once('=')
                    .map_or((directive, None), |(n, a)| (n, Some(a)));
                let seconds = || arg.and_then(|a| a.trim().trim_matches('"').parse().ok());
                match name.trim().to_ascii_lowercase().as_str() {
                    "public" => cc.public = true,
                    // `private="field"` and `no-cache="field"` restrict parts
                    // of a response; we store whole responses, so either form
                    // means "not shared".
                    "private" => cc.private = true,
                    "no-store" => cc.no_store = true,
                    "no-cache" => cc.no_cache = true,
                    "max-age" => cc.max_age = Some(seconds().unwrap_or(0)),
                    "s-maxage" => cc.s_maxage = Some(seconds().unwrap_or(0)),
                    _ => {}
                }
            }
        }
        cc
    }
}

/// How long a response may be shared, or `None` when it must not be stored.
///
/// Only 200s are stored; never `private`, `no-store` or `no-cache`; a
/// response to a credentialed request only when the upstream says `public`.
/// A `Set-Cookie` would hand one client's cookie to everyone; a `Vary` means
/// the answer depends on request headers the key does not hold; an event
/// stream never ends. `s-maxage`/`max-age` may shorten the TTL, never
/// lengthen it.
pub(crate) fn shareable_for(
    status: StatusCode,
    headers: &HeaderMap,
    credentialed: bool,
    ttl: Duration,
) -> Option<Duration> {
    if status != StatusCode::OK
        || headers.contains_key(SET_COOKIE)
        || headers.contains_key(VARY)
        || headers
            .get(CONTENT_TYPE)
            .is_some_and(|ct| ct.as_bytes().starts_with(b"text/event-stream"))
    {
        return None;
    }
    let cc = CacheControl::parse(headers);
    if cc.private || cc.no_store || cc.no_cache || (credentialed && !cc.public) {
        return None;
    }
    let ttl = match cc.s_maxage.or(cc.max_age) {
        Some(limit) => ttl.min(Duration::from_secs(limit)),
        None => ttl,
    };
    (!ttl.is_zero()).then_some(ttl)
}

/// The paths a write to `path` obviously makes stale: its own (every query
/// string under it) and its parent's, e.g. `PATCH /api/tweets/7` →
/// `/api/tweets/7` and `/api/tweets`; `POST /api/tweets/7/likes` →
/// `/api/tweets/7/likes` and `/api/tweets/7`. [`normalize`]d, as keys are.
pub(crate) fn stale_paths(path: &str) -> Vec<String> {
    let path = &*normalize(path);
    let mut paths = vec![path.to_owned()];
    let trimmed = path.trim_end_matches('/');
    if let Some((parent, _)) = trimmed.rsplit_once('/') {
        let parent = if parent.is_empty() { "/" } else { parent };
        if parent != path {
            paths.push(parent.to_owned());
        }
    }
    paths
}

/// Removes hop-by-hop headers, including those the `Connection` header names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn get_and_head_share_one_key_of_path_and_query() {
        let uri: Uri = "/api/tweets?limit=5".parse().expect("uri");
        assert_eq!(cache_key(&uri), "/api/tweets?limit=5");
        assert_eq!(key_path("/api/tweets?limit=5"), "/api/tweets");
        assert_eq!(
            cache_key(&"/api/tweets/7".parse().expect("uri")),
            "/api/tweets/7"
        );
    }

    #[test]
    fn operational_paths_are_never_cached() {
        for path in [
            "/logs",
            "/metrics",
            "/healthz",
            "/readyz",
            "/_cache/stats",
            "/logs/x",
        ] {
            assert!(never_cached(path), "{path}");
        }
        for path in ["/api/tweets", "/logsearch", "/api/logs"] {
            assert!(!never_cached(path), "{path}");
        }
    }

    #[test]
    fn percent_encoded_aliases_of_a_path_share_one_key() {
        for alias in [
            "/api/tweets/3",
            "/api/tweets/%33",
            "/api/%74weets/3",
            "/api/tweets/%33?",
        ] {
            let uri: Uri = alias.parse().expect("uri");
            let key = cache_key(&uri);
            assert_eq!(key_path(&key), "/api/tweets/3", "{alias}");
        }
        let uri: Uri = "/api/search?q=%61%2db%2f%7e&tag=%C3%A9"
            .parse()
            .expect("uri");
        assert_eq!(cache_key(&uri), "/api/search?q=a-b%2F~&tag=%C3%A9");
    }

    #[test]
    fn normalisation_decodes_only_unreserved_characters() {
        assert_eq!(normalize("/plain/path"), "/plain/path");
        assert_eq!(normalize("%41%7a%30%2D%2e%5F%7E"), "Az0-._~");
        // Reserved and non-ASCII bytes keep their escapes, in upper case.
        assert_eq!(normalize("/a%2fb%3F%25%20%c3%a9"), "/a%2Fb%3F%25%20%C3%A9");
        // Not escapes: left as they are.
        assert_eq!(normalize("/100%"), "/100%");
        assert_eq!(normalize("/%4"), "/%4");
        assert_eq!(normalize("/%zz%33"), "/%zz3");
        assert_eq!(normalize("/%%333"), "/%33");
    }

    #[test]
    fn a_write_to_an_alias_makes_the_normalised_paths_stale() {
        assert_eq!(
            stale_paths("/api/tweets/%33"),
            ["/api/tweets/3", "/api/tweets"]
        );
        assert_eq!(
            stale_paths("/api/%74weets/3/likes"),
            ["/api/tweets/3/likes", "/api/tweets/3"]
        );
    }

    #[test]
    fn authorization_and_session_cookie_are_credentials_other_cookies_are_not() {
        assert!(has_credentials(&headers(&[("authorization", "Bearer t")])));
        assert!(has_credentials(&headers(&[(
            "cookie",
            "theme=dark; chirp_session=t"
        )])));
        assert!(has_credentials(&headers(&[(
            "cookie",
            "__Host-chirp_session=t"
        )])));
        assert!(!has_credentials(&headers(&[(
            "cookie",
            "theme=dark; csrf=x"
        )])));
        assert!(!has_credentials(&headers(&[(
            "cookie",
            "chirp_session_old=x"
        )])));
        assert!(!has_credentials(&HeaderMap::new()));
    }

    #[test]
    fn a_shared_fetch_announces_no_body() {
        let mut h = headers(&[
            ("content-length", "5"),
            ("transfer-encoding", "chunked"),
            ("expect", "100-continue"),
            ("connection", "x-hop"),
            ("x-hop", "1"),
            ("accept", "application/json"),
        ]);
        strip_for_shared_fetch(&mut h);
        let names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["accept"]);
    }

    #[test]
    fn only_plain_200s_are_shareable() {
        let ok = HeaderMap::new();
        assert_eq!(shareable_for(StatusCode::OK, &ok, false, TTL), Some(TTL));
        for status in [
            StatusCode::NOT_FOUND,
            StatusCode::CREATED,
            StatusCode::FOUND,
        ] {
            assert_eq!(shareable_for(status, &ok, false, TTL), None, "{status}");
        }
        for cc in [
            "private",
            "no-store",
            "No-Cache",
            "public, private=\"x\"",
            "max-age=0",
        ] {
            let h = headers(&[("cache-control", cc)]);
            assert_eq!(shareable_for(StatusCode::OK, &h, false, TTL), None, "{cc}");
        }
        for (name, value) in [
            ("set-cookie", "a=b"),
            ("vary", "accept-encoding"),
            ("content-type", "text/event-stream"),
        ] {
            let h = headers(&[(name, value)]);
            assert_eq!(
                shareable_for(StatusCode::OK, &h, false, TTL),
                None,
                "{name}"
            );
        }
    }

    #[test]
    fn credentialed_responses_are_shareable_only_when_public() {
        let plain = HeaderMap::new();
        assert_eq!(shareable_for(StatusCode::OK, &plain, true, TTL), None);
        let public = headers(&[("cache-control", "public, max-age=30")]);
        let ttl = shareable_for(StatusCode::OK, &public, true, TTL);
        assert_eq!(
            ttl,
            Some(Duration::from_secs(30)),
            "max-age shortens the TTL"
        );
        let long = headers(&[("cache-control", "public, s-maxage=600")]);
        assert_eq!(shareable_for(StatusCode::OK, &long, true, TTL), Some(TTL));
    }

    #[test]
    fn a_write_makes_its_own_path_and_its_parent_stale() {
        assert_eq!(
            stale_paths("/api/tweets/7"),
            ["/api/tweets/7", "/api/tweets"]
        );
        assert_eq!(
            stale_paths("/api/tweets/7/likes"),
            ["/api/tweets/7/likes", "/api/tweets/7"]
        );
        assert_eq!(stale_paths("/api"), ["/api", "/"]);
        assert_eq!(stale_paths("/"), ["/"]);
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_removed() {
        let mut h = headers(&[
            ("connection", "keep-alive, x-secret"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("x-secret", "1"),
            ("x-kept", "1"),
        ]);
        strip_hop_by_hop(&mut h);
        let names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["x-kept"]);
    }
}
