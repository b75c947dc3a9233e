//! The two shapes: a tower service/layer over any [`Upstream`], and the
//! standalone proxy server built from it.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use futures_util::future::BoxFuture;
use tokio::net::TcpListener;
use tower::{Layer, Service};

use crate::config::{CacheConfig, CacheOptions};
use crate::engine::Core;
use crate::store::CacheStats;
use crate::upstream::{HttpUpstream, ServiceUpstream, Upstream};

/// The response cache as a tower service in front of `U`. Clones share one
/// cache.
#[derive(Clone)]
pub struct CacheService<U> {
    core: Arc<Core>,
    upstream: U,
}

/// The cache in front of an in-process service (what [`ResponseCacheLayer`]
/// produces).
pub type ResponseCache<S> = CacheService<ServiceUpstream<S>>;

impl<U: Upstream> CacheService<U> {
    /// A cache with its own entries in front of `upstream`.
    pub fn new(options: CacheOptions, upstream: U) -> Self {
        Self {
            core: Arc::new(Core::new(options)),
            upstream,
        }
    }

    /// The numbers `/_cache/stats` reports.
    pub async fn stats(&self) -> CacheStats {
        self.core.store.stats().await
    }

    /// A handle that empties this cache (and its clones').
    pub fn purger(&self) -> Purger {
        Purger(Arc::clone(&self.core))
    }
}

/// Empties a response cache from outside its request path: what a broker
/// subscriber holds to act on "an account turned protected".
#[derive(Clone)]
pub struct Purger(Arc<Core>);

impl Purger {
    /// Drops every entry at once; requests in flight store nothing they
    /// read before this call.
    pub fn purge_all(&self) {
        self.0.store.purge_all();
    }
}

impl<U: Upstream> Service<Request<Body>> for CacheService<U> {
    type Response = Response<Body>;
    /// Upstream failures become 502/504 responses, so the service never fails.
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    /// Always ready: each request drives its own clone of the upstream
    /// (`oneshot`), which waits for readiness itself.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let core = Arc::clone(&self.core);
        let upstream = self.upstream.clone();
        Box::pin(async move { Ok(core.handle(upstream, req).await) })
    }
}

/// Puts the response cache in front of a service (the embedded process wraps
/// its router with it). Every service this layer wraps shares one cache, so
/// `Router::layer` (which wraps each route) still caches consistently; keys
/// are the paths the wrapped service sees, so apply it outside any `nest`.
#[derive(Clone)]
pub struct ResponseCacheLayer {
    core: Arc<Core>,
}

impl ResponseCacheLayer {
    pub fn new(options: CacheOptions) -> Self {
        Self {
            core: Arc::new(Core::new(options)),
        }
    }

    /// The numbers `/_cache/stats` reports.
    pub async fn stats(&self) -> CacheStats {
        self.core.store.stats().await
    }

    /// A handle that empties the cache every service of this layer shares.
    pub fn purger(&self) -> Purger {
        Purger(Arc::clone(&self.core))
    }
}

impl<S> Layer<S> for ResponseCacheLayer {
    type Service = ResponseCache<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CacheService {
            core: Arc::clone(&self.core),
            upstream: ServiceUpstream::new(inner),
        }
    }
}

/// The standalone proxy as an axum app: every method and path goes to the
/// cache, which forwards to `config.upstream` over pooled keep-alive
/// connections.
pub fn router(config: &CacheConfig) -> Router {
    router_over(proxy(config))
}

/// The standalone proxy's service, for a caller that wants its
/// [`CacheService::purger`] before serving it with [`router_over`].
pub fn proxy(config: &CacheConfig) -> CacheService<HttpUpstream> {
    CacheService::new(config.cache.clone(), HttpUpstream::new(config))
}

/// An axum app sending every method and path to `service`.
pub fn router_over(service: CacheService<HttpUpstream>) -> Router {
    Router::new().fallback_service(service)
}

/// Serves the proxy on an already bound `listener` until `shutdown`
/// completes, then stops accepting and lets requests in flight finish.
/// The peer address is recorded so `X-Forwarded-For` names the client.
pub async fn serve(
    listener: TcpListener,
    config: CacheConfig,
    options: chirp_http::ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    chirp_http::serve(listener, router(&config), options, shutdown).await
}
