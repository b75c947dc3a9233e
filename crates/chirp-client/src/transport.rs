//! The two ways a request reaches the API, behind one boxed
//! `tower::Service` ([`Transport`]).
//!
//! * In-process: any service that answers `http::Request`s, typically
//!   the API's own `axum::Router`. No socket; the browser the client
//!   speaks for is handed over as the request's `ConnectInfo`, which is
//!   what the API reads as the peer.
//! * HTTP: a pooled hyper client. The peer the API sees is the caller, so
//!   the `ConnectInfo` is turned into `X-Forwarded-For` (which the API
//!   believes from its trusted proxies).
//!
//! A transport answers every request it could deliver, whatever the
//! status; its errors are failures to deliver (no connection, a broken
//! one), which the client reports as [`crate::ClientError::Transport`].

use std::net::SocketAddr;

use axum::BoxError;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::uri::{Authority, Scheme};
use axum::http::{HeaderValue, Request, Response, Uri};
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

use crate::ClientError;

/// Anything that delivers API requests: the API router, or an HTTP client.
pub type Transport = BoxCloneSyncService<Request<Body>, Response<Body>, BoxError>;

/// The header the browser's address travels in over HTTP.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Boxes any service answering `http::Request`s with any body.
pub(crate) fn boxed<S, B>(service: S) -> Transport
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    BoxCloneSyncService::new(
        service
            .map_response(|resp: Response<B>| resp.map(Body::new))
            .map_err(Into::into),
    )
}

/// A pooled HTTP client sending every request to `base`'s scheme and host
/// (e.g. `http://127.0.0.1:8081`); the request's path is kept.
pub(crate) fn over_http(base: &str) -> Result<Transport, ClientError> {
    let (scheme, authority) = scheme_and_host(base)?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Body>();
    let service = tower::service_fn(move |mut req: Request<Body>| {
        let client = client.clone();
        forward_client(&mut req);
        let target = to_base(req.uri(), &scheme, &authority);
        async move {
            *req.uri_mut() = target?;
            let resp = client.request(req).await?;
            Ok::<_, BoxError>(resp.map(Body::new))
        }
    });
    Ok(boxed(service))
}

/// The scheme and host of an API address.
fn scheme_and_host(base: &str) -> Result<(Scheme, Authority), ClientError> {
    let uri: Uri = base
        .parse()
        .map_err(|e| ClientError::Request(format!("bad API address {base:?}: {e}")))?;
    match (uri.scheme(), uri.authority()) {
        (Some(scheme), Some(authority)) => Ok((scheme.clone(), authority.clone())),
        _ => Err(ClientError::Request(format!(
            "API address {base:?} needs a scheme and host, like http://127.0.0.1:8081"
        ))),
    }
}

/// `uri`'s path and query at `scheme://authority`.
fn to_base(uri: &Uri, scheme: &Scheme, authority: &Authority) -> Result<Uri, BoxError> {
    let mut parts = uri.clone().into_parts();
    parts.scheme = Some(scheme.clone());
    parts.authority = Some(authority.clone());
    Ok(Uri::from_parts(parts)?)
}

/// Over HTTP the peer is the caller itself: the browser's address (the
/// `ConnectInfo` a [`crate::Client::for_client`] call carries) goes in
/// `X-Forwarded-For` instead, replacing any value.
fn forward_client(req: &mut Request<Body>) {
    req.headers_mut().remove(X_FORWARDED_FOR);
    let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&addr.ip().to_string()) {
        req.headers_mut().insert(X_FORWARDED_FOR, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarded_address_replaces_whatever_the_request_had() {
        let mut req = Request::new(Body::empty());
        req.headers_mut()
            .insert(X_FORWARDED_FOR, HeaderValue::from_static("6.6.6.6"));
        forward_client(&mut req);
        assert!(req.headers().get(X_FORWARDED_FOR).is_none());
        let browser = "203.0.113.7".parse().unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(browser, 0)));
        forward_client(&mut req);
        assert_eq!(req.headers()[X_FORWARDED_FOR], "203.0.113.7");
    }

    #[test]
    fn an_api_address_needs_a_scheme_and_a_host() {
        assert!(scheme_and_host("http://127.0.0.1:8081").is_ok());
        assert!(matches!(
            scheme_and_host("127.0.0.1:8081"),
            Err(ClientError::Request(_))
        ));
        assert!(matches!(
            scheme_and_host("not an address"),
            Err(ClientError::Request(_))
        ));
    }

    #[test]
    fn requests_keep_their_path_and_query_at_the_api_address() {
        let (scheme, host) = scheme_and_host("http://api.internal:8081").unwrap();
        let uri: Uri = "/api/tweets?q=hi".parse().unwrap();
        assert_eq!(
            to_base(&uri, &scheme, &host).unwrap().to_string(),
            "http://api.internal:8081/api/tweets?q=hi"
        );
    }
}
