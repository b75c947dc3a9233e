//! Whether a browser says a request was sent by a page of another site: the
//! check in front of every change that rides on a cookie (the API's and the
//! web site's), since a cross-site form post carries the victim's cookies.

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

/// `Sec-Fetch-Site` other than `same-origin`/`none` means cross-site. From
/// browsers that do not send it (older ones, or plain HTTP to a non-local
/// host), an `Origin` that is not this site's own origin — scheme, host and
/// port — means cross-site too; `Origin: null` (sandboxed frames) has no
/// site and is refused. Clients that are not browsers send neither header
/// and are not affected.
///
/// This site's origin is `http://` + `Host`, or, when `trust_forwarded`
/// (the peer is one of our proxies), the `X-Forwarded-Proto` and
/// `X-Forwarded-Host` it set. A page on another site cannot set those.
pub fn cross_site(headers: &HeaderMap, trust_forwarded: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site
            .to_str()
            .map_or(true, |v| !matches!(v, "same-origin" | "none"));
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    let forwarded = |name: &str| {
        trust_forwarded
            .then(|| headers.get(name)?.to_str().ok())
            .flatten()
            // A chain of proxies: the first is the one the browser reached.
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    let scheme = forwarded("x-forwarded-proto").unwrap_or("http");
    let host = forwarded("x-forwarded-host").or_else(|| headers.get(HOST)?.to_str().ok());
    let Some(host) = host else {
        return true;
    };
    let Some((origin_scheme, origin_host)) = origin.split_once("://") else {
        return true;
    };
    !(origin_scheme.eq_ignore_ascii_case(scheme)
        && origin_host.trim_end_matches('/').eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| {
                (
                    axum::http::HeaderName::from_static(n),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn sec_fetch_site_decides_when_present() {
        for (site, cross) in [
            ("same-origin", false),
            ("none", false),
            ("same-site", true),
            ("cross-site", true),
        ] {
            let h = headers(&[("sec-fetch-site", site), ("host", "chirp.example")]);
            assert_eq!(cross_site(&h, false), cross, "{site}");
        }
    }

    #[test]
    fn without_sec_fetch_site_the_origin_must_be_this_site_with_its_scheme() {
        let same = headers(&[
            ("origin", "http://chirp.example"),
            ("host", "chirp.example"),
        ]);
        assert!(!cross_site(&same, false));
        let other = headers(&[("origin", "http://evil.example"), ("host", "chirp.example")]);
        assert!(cross_site(&other, false));
        let https = headers(&[
            ("origin", "https://chirp.example"),
            ("host", "chirp.example"),
        ]);
        assert!(
            cross_site(&https, false),
            "https is another origin than http"
        );
        let null = headers(&[("origin", "null"), ("host", "chirp.example")]);
        assert!(cross_site(&null, false));
        assert!(!cross_site(&headers(&[("host", "chirp.example")]), false));
    }

    #[test]
    fn forwarded_scheme_and_host_count_only_from_a_trusted_proxy() {
        let h = headers(&[
            ("origin", "https://chirp.example"),
            ("host", "127.0.0.1:8081"),
            ("x-forwarded-host", "chirp.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert!(!cross_site(&h, true));
        assert!(
            cross_site(&h, false),
            "an untrusted peer's forwarded headers are ignored"
        );
    }
}
