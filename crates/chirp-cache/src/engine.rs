//! The request path shared by both shapes: route a request to the stats
//! page, a write-through, a bypass or the shared cache; coalesce misses; build
//! the responses with `X-Cache` and `Age`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::header::{AGE, CACHE_CONTROL, CONTENT_LENGTH, HeaderName};
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, Uri, response};
use axum::response::IntoResponse;
use futures_util::StreamExt;
use http_body_util::BodyExt;

use crate::config::CacheOptions;
use crate::policy::{
    STATS_PATH, cache_key, has_credentials, key_path, never_cached, shareable_for, stale_paths,
    strip_for_shared_fetch, strip_hop_by_hop,
};
use crate::store::{Entry, Store};
use crate::upstream::{Upstream, UpstreamError};

const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// What every response says about where it came from.
#[derive(Debug, Clone, Copy)]
enum XCache {
    Hit,
    Miss,
    Bypass,
}

/// Why a coalesced fetch produced no entry; one value is shared by the leader
/// and every waiter.
#[derive(Debug)]
enum FetchError {
    /// The response must not be shared. The leader finds its own response in
    /// its slot; waiters go upstream themselves rather than see someone
    /// else's answer.
    Unshareable,
    /// The upstream failed. Waiters share the error rather than stampede an
    /// upstream that is already failing.
    Upstream(UpstreamError),
}

/// A response body read into memory, or given up on.
enum Buffered {
    Whole(response::Parts, Bytes),
    /// Over the entry cap: what was read is replayed ahead of the rest.
    Streaming(Response<Body>),
    Failed(UpstreamError),
}

/// Holds the leader's unshareable response until `try_get_with` returns.
type Slot = Mutex<Option<Response<Body>>>;

pub(crate) struct Core {
    pub(crate) store: Store,
    options: CacheOptions,
}

impl Core {
    pub(crate) fn new(options: CacheOptions) -> Self {
        Self {
            store: Store::new(&options),
            options,
        }
    }

    pub(crate) async fn handle<U: Upstream>(
        &self,
        upstream: U,
        req: Request<Body>,
    ) -> Response<Body> {
        let method = req.method();
        let path = req.uri().path();
        let read_only = method == Method::GET || method == Method::HEAD;
        if path == STATS_PATH {
            return if read_only {
                self.stats_response(method == Method::HEAD).await
            } else {
                let body = error_body("method_not_allowed", "the stats page is read-only");
                labeled(
                    (StatusCode::METHOD_NOT_ALLOWED, body).into_response(),
                    XCache::Bypass,
                )
            };
        }
        if !read_only {
            return self.write_through(upstream, req).await;
        }
        if never_cached(path) {
            self.store.bypasses.fetch_add(1, Ordering::Relaxed);
            return match forward(upstream, req).await {
                Ok(resp) => labeled(resp, XCache::Bypass),
                Err(e) => error_response(&e, XCache::Bypass),
            };
        }
        if has_credentials(req.headers()) {
            return self.credentialed(upstream, req).await;
        }
        self.shared(upstream, req).await
    }

    /// Forwards a write and evicts what it made stale. Eviction follows any
    /// answer, not only 2xx: a write that failed half-way may still have
    /// changed something, and an eviction costs one extra miss at most.
    /// OPTIONS (CORS preflight) changes nothing, so it evicts nothing.
    async fn write_through<U: Upstream>(&self, upstream: U, req: Request<Body>) -> Response<Body> {
        self.store.bypasses.fetch_add(1, Ordering::Relaxed);
        let stale = match *req.method() {
            Method::OPTIONS | Method::TRACE => Vec::new(),
            _ => stale_paths(req.uri().path()),
        };
        match forward(upstream, req).await {
            Ok(resp) => {
                self.store.evict_paths(&stale).await;
                labeled(resp, XCache::Bypass)
            }
            Err(e) => error_response(&e, XCache::Bypass),
        }
    }

    /// A logged-in read: never served from the cache, stored only when the
    /// upstream marks it `public`.
    async fn credentialed<U: Upstream>(&self, upstream: U, req: Request<Body>) -> Response<Body> {
        self.store.bypasses.fetch_add(1, Ordering::Relaxed);
        let is_get = req.method() == Method::GET;
        let key = cache_key(req.uri());
        let epoch = self.store.epoch(key_path(&key));
        let resp = match forward(upstream, req).await {
            Ok(resp) => resp,
            Err(e) => return error_response(&e, XCache::Bypass),
        };
        let ttl = shareable_for(resp.status(), resp.headers(), true, self.options.ttl);
        let Some(ttl) = ttl.filter(|_| is_get) else {
            return labeled(resp, XCache::Bypass);
        };
        match self.buffer(resp).await {
            Buffered::Whole(parts, body) => {
                let entry = self
                    .store
                    .prepare(parts.status, parts.headers, body, ttl, &key);
                self.store.insert(key, Arc::clone(&entry), epoch).await;
                labeled(entry_response(&entry, false), XCache::Bypass)
            }
            Buffered::Streaming(resp) => labeled(resp, XCache::Bypass),
            Buffered::Failed(e) => error_response(&e, XCache::Bypass),
        }
    }

    /// An anonymous GET or HEAD: served from the entry, or fetched once for
    /// all concurrent askers. A HEAD miss fetches the GET so the entry it
    /// leaves serves both.
    ///
    /// What goes upstream is the request the key names: the normalised path
    /// and query, and no body. A GET's body means nothing to a cache keyed by
    /// path and query, so it is dropped unread, and so are the headers that
    /// announce one; forwarding `Content-Length` without the bytes would
    /// stall the upstream, and everyone coalesced behind this fetch with it.
    async fn shared<U: Upstream>(&self, upstream: U, req: Request<Body>) -> Response<Body> {
        let (mut parts, _body) = req.into_parts();
        strip_for_shared_fetch(&mut parts.headers);
        let head = parts.method == Method::HEAD;
        let key = cache_key(&parts.uri);
        parts.uri = with_path_and_query(&parts.uri, &key);
        if let Some(entry) = self.store.lookup(&key).await {
            self.store.hits.fetch_add(1, Ordering::Relaxed);
            return hit_response(&entry, head);
        }
        let method = std::mem::replace(&mut parts.method, Method::GET);
        // Read before the request goes out; only the leader's reading counts.
        let epoch = self.store.epoch(key_path(&key));
        let led = AtomicBool::new(false);
        let slot = Slot::default();
        let fetch = self.fetch(upstream.clone(), &parts, &key, epoch, &led, &slot);
        let result = self.store.get_or_fetch(key.clone(), fetch).await;
        let led = led.load(Ordering::Relaxed);
        let counter = match &result {
            Ok(_) if !led => &self.store.hits,
            _ => &self.store.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let err = match result {
            Ok(entry) if led => {
                self.store.confirm(&key, &entry, epoch).await;
                return labeled(entry_response(&entry, head), XCache::Miss);
            }
            Ok(entry) => return hit_response(&entry, head),
            Err(err) => err,
        };
        let parked = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        let resp = match &*err {
            FetchError::Upstream(e) => return error_response(e, XCache::Miss),
            FetchError::Unshareable => match parked {
                Some(own) => own,
                None => {
                    parts.method = method;
                    match forward(upstream, Request::from_parts(parts, Body::empty())).await {
                        Ok(resp) => resp,
                        Err(e) => return error_response(&e, XCache::Miss),
                    }
                }
            },
        };
        labeled(strip_body(resp, head), XCache::Miss)
    }

    /// The single-flight leader's work: one upstream request whose answer
    /// becomes the entry, or is parked in `slot` when it must not be shared.
    /// Bounded by `shared_fetch_timeout`, since every waiter waits on it.
    async fn fetch<U: Upstream>(
        &self,
        upstream: U,
        parts: &Parts,
        key: &str,
        epoch: u64,
        led: &AtomicBool,
        slot: &Slot,
    ) -> Result<Arc<Entry>, FetchError> {
        led.store(true, Ordering::Relaxed);
        let limit = self.options.shared_fetch_timeout;
        let fetched = self.fetch_unbounded(upstream, parts, key, epoch, slot);
        tokio::time::timeout(limit, fetched)
            .await
            .unwrap_or(Err(FetchError::Upstream(UpstreamError::Timeout(limit))))
    }

    /// [`Core::fetch`] without the time bound. Nothing is parked in `slot`
    /// before the last step, so a timeout never leaves half a result behind.
    async fn fetch_unbounded<U: Upstream>(
        &self,
        upstream: U,
        parts: &Parts,
        key: &str,
        epoch: u64,
        slot: &Slot,
    ) -> Result<Arc<Entry>, FetchError> {
        let req = Request::from_parts(parts.clone(), Body::empty());
        let resp = forward(upstream, req).await.map_err(FetchError::Upstream)?;
        let park = |resp: Response<Body>| {
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(resp);
            FetchError::Unshareable
        };
        let Some(ttl) = shareable_for(resp.status(), resp.headers(), false, self.options.ttl)
        else {
            return Err(park(resp));
        };
        match self.buffer(resp).await {
            Buffered::Whole(parts, body) => {
                let entry = self
                    .store
                    .prepare(parts.status, parts.headers, body, ttl, key);
                if self.store.link(key, &entry, epoch) {
                    Ok(entry)
                } else {
                    Err(park(entry_response(&entry, false)))
                }
            }
            Buffered::Streaming(resp) => Err(park(resp)),
            Buffered::Failed(e) => Err(FetchError::Upstream(e)),
        }
    }

    /// Reads a body up to the entry cap. A declared length over the cap skips
    /// buffering; a chunked body over it is streamed on from where we stopped,
    /// so memory per request stays within the cap either way.
    async fn buffer(&self, resp: Response<Body>) -> Buffered {
        let cap = self.store.entry_cap;
        let declared = resp
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|len| len > cap as u64) {
            return Buffered::Streaming(resp);
        }
        let (mut parts, mut body) = resp.into_parts();
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut len = 0;
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(frame) => frame,
                Err(e) => return Buffered::Failed(UpstreamError::Body(e.into())),
            };
            // Trailers are dropped: nothing chirp serves sends them.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            len += data.len();
            chunks.push(data);
            if len > cap {
                let read = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, axum::Error>));
                let body = Body::from_stream(read.chain(body.into_data_stream()));
                return Buffered::Streaming(Response::from_parts(parts, body));
            }
        }
        let body = match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.swap_remove(0),
            _ => Bytes::from(chunks.concat()),
        };
        // The entry also answers HEAD, which has no body to count.
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        Buffered::Whole(parts, body)
    }

    async fn stats_response(&self, head: bool) -> Response<Body> {
        let stats = self.store.stats().await;
        let resp = ([(CACHE_CONTROL, "no-store")], Json(stats)).into_response();
        labeled(strip_body(resp, head), XCache::Bypass)
    }
}

/// Sends a request upstream and drops the hop-by-hop headers of the answer.
async fn forward<U: Upstream>(
    upstream: U,
    req: Request<Body>,
) -> Result<Response<Body>, UpstreamError> {
    let mut resp = upstream.call(req).await?;
    strip_hop_by_hop(resp.headers_mut());
    Ok(resp)
}

/// `uri` with its path and query replaced by `key` (a normalised path and
/// query, so always a valid one; should it not parse, `uri` is kept).
fn with_path_and_query(uri: &Uri, key: &str) -> Uri {
    let Ok(path_and_query) = key.parse::<PathAndQuery>() else {
        return uri.clone();
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

fn entry_response(entry: &Entry, head: bool) -> Response<Body> {
    let body = if head {
        Body::empty()
    } else {
        Body::from(entry.body.clone())
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = entry.status;
    *resp.headers_mut() = entry.headers.clone();
    resp
}

/// An answer from an entry: `X-Cache: HIT` and its `Age` in whole seconds.
fn hit_response(entry: &Entry, head: bool) -> Response<Body> {
    let mut resp = labeled(entry_response(entry, head), XCache::Hit);
    let age = tokio::time::Instant::now().saturating_duration_since(entry.stored_at);
    resp.headers_mut()
        .insert(AGE, HeaderValue::from(age.as_secs()));
    resp
}

fn strip_body(resp: Response<Body>, head: bool) -> Response<Body> {
    if !head {
        return resp;
    }
    let (parts, _) = resp.into_parts();
    Response::from_parts(parts, Body::empty())
}

fn labeled(mut resp: Response<Body>, label: XCache) -> Response<Body> {
    let value = match label {
        XCache::Hit => "HIT",
        XCache::Miss => "MISS",
        XCache::Bypass => "BYPASS",
    };
    resp.headers_mut()
        .insert(X_CACHE, HeaderValue::from_static(value));
    resp
}

fn error_body(code: &str, message: &str) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "error": { "code": code, "message": message } }))
}

/// 502 (or 504 on a timeout) in the API's error shape; the cause is logged,
/// not shown.
fn error_response(err: &UpstreamError, label: XCache) -> Response<Body> {
    tracing::warn!(error = %err, "upstream request failed");
    let (status, body) = match err {
        UpstreamError::Timeout(_) => (
            StatusCode::GATEWAY_TIMEOUT,
            error_body(
                "gateway_timeout",
                "the upstream server did not answer in time",
            ),
        ),
        _ => (
            StatusCode::BAD_GATEWAY,
            error_body("bad_gateway", "the upstream server could not be reached"),
        ),
    };
    let resp = (status, [(CACHE_CONTROL, "no-store")], body).into_response();
    labeled(resp, label)
}
