//! Where misses, bypasses and writes go: the [`Upstream`] abstraction, so the
//! standalone proxy ([`HttpUpstream`], a pooled HTTP client) and the tower
//! layer ([`ServiceUpstream`], the wrapped service) run the same cache code.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::header::{FORWARDED, HOST, HeaderName};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderValue, Request, Response, Uri, Version};
use chirp_http::TrustedProxies;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tower::{BoxError, Service, ServiceExt};

use crate::config::CacheConfig;
use crate::policy::strip_hop_by_hop;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Why the upstream gave no usable answer; the client sees 502 or 504.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("cannot reach the upstream: {0}")]
    Unreachable(#[source] BoxError),
    #[error("the upstream did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the upstream response body failed: {0}")]
    Body(#[source] BoxError),
}

/// Something that answers a request the cache could not.
///
/// Taken by value (cloned per request) so the cache never holds a borrow of
/// it across an await: a tower service need not be `Sync`.
pub trait Upstream: Clone + Send + 'static {
    fn call(
        self,
        req: Request<Body>,
    ) -> impl Future<Output = Result<Response<Body>, UpstreamError>> + Send;
}

/// The standalone proxy's upstream: a keep-alive pooled hyper client. Without
/// connection reuse each hop pays a TCP handshake and throughput drops 4-7x.
#[derive(Clone)]
pub struct HttpUpstream {
    client: Client<HttpConnector, Body>,
    /// Path prefix of the upstream base URL, without a trailing slash.
    prefix: String,
    scheme_and_authority: (axum::http::uri::Scheme, axum::http::uri::Authority),
    response_timeout: Duration,
    /// Peers whose `X-Forwarded-*` headers are passed on.
    trusted: TrustedProxies,
}

impl HttpUpstream {
    pub fn new(config: &CacheConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(config.connect_timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(config.max_idle_connections)
            .build(connector);
        let base = &config.upstream;
        Self {
            client,
            prefix: base.path().trim_end_matches('/').to_owned(),
            scheme_and_authority: (
                base.scheme()
                    .cloned()
                    .unwrap_or(axum::http::uri::Scheme::HTTP),
                base.authority()
                    .cloned()
                    .unwrap_or(axum::http::uri::Authority::from_static("127.0.0.1")),
            ),
            response_timeout: config.response_timeout,
            trusted: config.trusted_proxies.clone(),
        }
    }

    fn target(&self, uri: &Uri) -> Result<Uri, UpstreamError> {
        let path_and_query = uri.path_and_query().map_or("/", PathAndQuery::as_str);
        let (scheme, authority) = self.scheme_and_authority.clone();
        Uri::builder()
            .scheme(scheme)
            .authority(authority)
            .path_and_query(format!("{}{path_and_query}", self.prefix))
            .build()
            .map_err(|e| UpstreamError::Unreachable(e.into()))
    }
}

impl Upstream for HttpUpstream {
    async fn call(self, req: Request<Body>) -> Result<Response<Body>, UpstreamError> {
        let (mut parts, body) = req.into_parts();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        forward_headers(&mut parts.headers, peer, &self.trusted);
        parts.uri = self.target(&parts.uri)?;
        // Always HTTP/1.1 upstream, so a 1.0 client does not cost a pooled
        // connection.
        parts.version = Version::HTTP_11;
        let sent = self.client.request(Request::from_parts(parts, body));
        let resp = tokio::time::timeout(self.response_timeout, sent)
            .await
            .map_err(|_| UpstreamError::Timeout(self.response_timeout))?
            .map_err(|e| UpstreamError::Unreachable(e.into()))?;
        Ok(resp.map(Body::new))
    }
}

/// Prepares a request for the next hop: drops hop-by-hop headers, records the
/// client and the original scheme and host. `Host` is dropped so the client
/// names the upstream; the original goes in `X-Forwarded-Host`.
///
/// From a trusted peer (nginx in front) the incoming `X-Forwarded-*` headers
/// are kept and `X-Forwarded-For` is extended. From anyone else (or a peer
/// we do not know) they are the client's own claims, which the API would
/// believe once they come from us: they are dropped (with `Forwarded`) and
/// written afresh from what the cache saw.
fn forward_headers(headers: &mut HeaderMap, peer: Option<IpAddr>, trusted: &TrustedProxies) {
    strip_hop_by_hop(headers);
    if !peer.is_some_and(|ip| trusted.trusts(ip)) {
        for name in [
            &X_FORWARDED_FOR,
            &X_FORWARDED_HOST,
            &X_FORWARDED_PROTO,
            &FORWARDED,
        ] {
            headers.remove(name);
        }
    }
    if let Some(ip) = peer {
        let chain = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {ip}"),
            None => ip.to_string(),
        };
        if let Ok(value) = HeaderValue::try_from(chain) {
            headers.insert(X_FORWARDED_FOR, value);
        }
    }
    if !headers.contains_key(&X_FORWARDED_PROTO) {
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    if let Some(host) = headers.remove(HOST) {
        headers.entry(X_FORWARDED_HOST).or_insert(host);
    }
}

/// The tower layer's upstream: the wrapped service itself, called in-process.
#[derive(Clone)]
pub struct ServiceUpstream<S> {
    inner: S,
}

impl<S> ServiceUpstream<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, B> Upstream for ServiceUpstream<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    async fn call(self, req: Request<Body>) -> Result<Response<Body>, UpstreamError> {
        match self.inner.oneshot(req).await {
            Ok(resp) => Ok(resp.map(Body::new)),
            Err(e) => Err(UpstreamError::Unreachable(e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const STRANGER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    /// A request claiming to have come through proxies, with `Host`.
    fn forged() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("chirp.example"));
        headers.insert(X_FORWARDED_FOR, HeaderValue::from_static("203.0.113.9"));
        headers.insert(X_FORWARDED_HOST, HeaderValue::from_static("evil.example"));
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("https"));
        headers.insert(FORWARDED, HeaderValue::from_static("for=203.0.113.9"));
        headers
    }

    #[test]
    fn forwarding_appends_the_client_and_names_scheme_and_host() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("chirp.example"));
        headers.insert(X_FORWARDED_FOR, HeaderValue::from_static("203.0.113.9"));
        headers.insert("connection", HeaderValue::from_static("close"));
        forward_headers(&mut headers, Some(NGINX), &TrustedProxies::loopback());
        assert_eq!(headers[&X_FORWARDED_FOR], "203.0.113.9, 127.0.0.1");
        assert_eq!(headers[&X_FORWARDED_PROTO], "http");
        assert_eq!(headers[&X_FORWARDED_HOST], "chirp.example");
        assert!(!headers.contains_key(HOST));
        assert!(!headers.contains_key("connection"));
    }

    #[test]
    fn a_trusted_proxys_forwarding_headers_are_kept_and_extended() {
        let mut headers = forged();
        forward_headers(&mut headers, Some(NGINX), &TrustedProxies::loopback());
        assert_eq!(headers[&X_FORWARDED_FOR], "203.0.113.9, 127.0.0.1");
        assert_eq!(headers[&X_FORWARDED_HOST], "evil.example");
        assert_eq!(headers[&X_FORWARDED_PROTO], "https");
        assert_eq!(headers[&FORWARDED], "for=203.0.113.9");
    }

    #[test]
    fn an_untrusted_peers_forwarding_headers_are_replaced_by_what_the_cache_saw() {
        let mut headers = forged();
        forward_headers(&mut headers, Some(STRANGER), &TrustedProxies::loopback());
        assert_eq!(headers[&X_FORWARDED_FOR], "198.51.100.7");
        assert_eq!(headers[&X_FORWARDED_HOST], "chirp.example");
        assert_eq!(headers[&X_FORWARDED_PROTO], "http");
        assert!(!headers.contains_key(&FORWARDED));
        assert!(!headers.contains_key(HOST));
    }

    #[test]
    fn an_unknown_peer_is_not_trusted() {
        let mut headers = forged();
        headers.remove(HOST);
        forward_headers(&mut headers, None, &TrustedProxies::loopback());
        assert!(!headers.contains_key(&X_FORWARDED_FOR));
        assert!(!headers.contains_key(&X_FORWARDED_HOST));
        assert_eq!(headers[&X_FORWARDED_PROTO], "http");
    }

    #[test]
    fn trusting_nobody_replaces_even_loopbacks_headers() {
        let mut headers = forged();
        forward_headers(&mut headers, Some(NGINX), &TrustedProxies::none());
        assert_eq!(headers[&X_FORWARDED_FOR], "127.0.0.1");
        assert_eq!(headers[&X_FORWARDED_HOST], "chirp.example");
    }

    #[test]
    fn targets_keep_the_base_path_prefix() {
        let mut config = CacheConfig::new("http://127.0.0.1:9/base/").expect("valid URL");
        config.response_timeout = Duration::from_secs(1);
        let upstream = HttpUpstream::new(&config);
        let uri: Uri = "/api/tweets?limit=5".parse().expect("uri");
        let target = upstream.target(&uri).expect("target");
        assert_eq!(
            target.to_string(),
            "http://127.0.0.1:9/base/api/tweets?limit=5"
        );
    }
}
