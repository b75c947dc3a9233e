//! Request coalescing: concurrent misses for one key share one upstream
//! request, unless its answer may not be shared.
//!
//! A request that reaches the cache after the entry is stored is a hit too,
//! so counting upstream calls proves nothing unless every request is known
//! to be in the cache while the upstream is still answering the first. The
//! proxy here is therefore gated: a middleware outside the cache counts the
//! requests reaching it, and the upstream answers nothing on the gated path
//! until all of them have. The count is taken in the request's own task just
//! before the cache sees it, and the tests run on a current-thread runtime,
//! so the last request has joined the fetch in flight (or, were coalescing
//! gone, sent its own) before the upstream can answer.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chirp_cache::{CacheConfig, CacheOptions};
use futures_util::future::join_all;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::helpers::{spawn_proxy, x_cache};

/// A proxy whose upstream holds every request on `path` until `expected`
/// requests for `path` have reached the cache.
struct GatedProxy {
    url: String,
    client: reqwest::Client,
    /// Requests the upstream received, on any path.
    upstream_calls: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Upstream {
    path: &'static str,
    expected: usize,
    arrived: watch::Receiver<usize>,
    calls: Arc<AtomicUsize>,
}

/// Answers `{"call": n}` (a fresh number per call, so answers from two calls
/// differ), with `Cache-Control: {cc}` when the query has `cc`, once the
/// gate is open.
async fn gated_answer(
    State(up): State<Upstream>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> Response {
    let call = up.calls.fetch_add(1, Ordering::SeqCst) + 1;
    if req.uri().path() == up.path {
        let mut arrived = up.arrived.clone();
        arrived
            .wait_for(|n| *n >= up.expected)
            .await
            .expect("the proxy is alive");
    }
    let mut resp = axum::Json(serde_json::json!({ "call": call })).into_response();
    if let Some(cc) = q.get("cc") {
        let value = HeaderValue::try_from(cc.as_str()).expect("header value");
        resp.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    resp
}

async fn serve(listener: TcpListener, app: Router) {
    tokio::spawn(chirp_http::serve(
        listener,
        app,
        chirp_http::ServeOptions::default(),
        std::future::pending(),
    ));
}

async fn spawn_gated_proxy(path: &'static str, expected: usize) -> GatedProxy {
    let (count, arrived) = watch::channel(0);
    let calls = Arc::new(AtomicUsize::new(0));
    let upstream = Upstream {
        path,
        expected,
        arrived,
        calls: calls.clone(),
    };
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let upstream_url = format!("http://{}", listener.local_addr().expect("upstream addr"));
    serve(
        listener,
        Router::new().fallback(gated_answer).with_state(upstream),
    )
    .await;

    let config = CacheConfig::new(&upstream_url).expect("config");
    let count = Arc::new(count);
    let counting = axum::middleware::from_fn(move |req: Request, next: Next| {
        if req.uri().path() == path {
            count.send_modify(|n| *n += 1);
        }
        next.run(req)
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let url = format!("http://{}", listener.local_addr().expect("proxy addr"));
    serve(listener, chirp_cache::router(&config).layer(counting)).await;
    GatedProxy {
        url,
        client: reqwest::Client::new(),
        upstream_calls: calls,
    }
}

impl GatedProxy {
    async fn send(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.client
            .request(method, format!("{}{path}", self.url))
            .send()
            .await
            .expect("request to the proxy")
    }

    async fn stats(&self) -> serde_json::Value {
        let resp = self.send(reqwest::Method::GET, "/_cache/stats").await;
        resp.json().await.expect("stats JSON")
    }
}

#[tokio::test]
async fn a_hundred_concurrent_misses_make_one_upstream_request() {
    let proxy = spawn_gated_proxy("/api/tweets/42", 100).await;
    let answers = join_all((0..100).map(|_| async {
        let resp = proxy.send(reqwest::Method::GET, "/api/tweets/42").await;
        assert_eq!(resp.status(), 200);
        let label = x_cache(&resp).to_owned();
        (label, resp.text().await.expect("body"))
    }))
    .await;
    assert_eq!(
        proxy.upstream_calls.load(Ordering::SeqCst),
        1,
        "all 100 were in the cache before the upstream answered: one request for all"
    );
    let bodies: HashSet<&String> = answers.iter().map(|(_, body)| body).collect();
    assert_eq!(bodies.len(), 1, "everyone got the one answer");
    let misses = answers.iter().filter(|(label, _)| label == "MISS").count();
    let hits = answers.iter().filter(|(label, _)| label == "HIT").count();
    assert_eq!((misses, hits), (1, 99));
    let stats = proxy.stats().await;
    assert_eq!(
        (stats["misses"].as_u64(), stats["hits"].as_u64()),
        (Some(1), Some(99))
    );
}

#[tokio::test]
async fn waiters_on_an_unshareable_answer_fetch_their_own() {
    // All 20 wait behind the first, whose answer is private: each then
    // fetches its own (the gate is open by then).
    let proxy = spawn_gated_proxy("/api/me/feed", 20).await;
    let answers = join_all((0..20).map(|_| async {
        let resp = proxy
            .send(reqwest::Method::GET, "/api/me/feed?cc=private")
            .await;
        assert_eq!(x_cache(&resp), "MISS");
        let body: serde_json::Value = resp.json().await.expect("JSON");
        body["call"].as_u64().expect("call number")
    }))
    .await;
    assert_eq!(proxy.upstream_calls.load(Ordering::SeqCst), 20);
    let distinct: HashSet<u64> = answers.into_iter().collect();
    assert_eq!(
        distinct.len(),
        20,
        "nobody received another request's answer"
    );
}

#[tokio::test]
async fn concurrent_writes_are_never_coalesced() {
    // The upstream answers no write until all ten are in the cache, so
    // they are concurrent there; each must still go upstream.
    let proxy = spawn_gated_proxy("/api/tweets/1/likes", 10).await;
    join_all((0..10).map(|_| async {
        let resp = proxy
            .send(reqwest::Method::POST, "/api/tweets/1/likes")
            .await;
        assert_eq!(x_cache(&resp), "BYPASS");
    }))
    .await;
    assert_eq!(proxy.upstream_calls.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn a_slow_shared_fetch_times_out_for_leader_and_waiters_but_a_bypass_waits() {
    let proxy = spawn_proxy(CacheOptions {
        shared_fetch_timeout: Duration::from_millis(300),
        ..CacheOptions::default()
    })
    .await;
    let slow = "/api/tweets?limit=7&sleep_ms=3000";
    let answers = tokio::time::timeout(
        Duration::from_secs(2),
        join_all((0..3).map(|_| proxy.get(slow))),
    )
    .await
    .expect("the shared fetch gave up within 2 s");
    for resp in &answers {
        assert_eq!(resp.status(), 504);
        assert_eq!(x_cache(resp), "MISS");
    }
    assert_eq!(proxy.upstream.calls("GET /api/tweets"), 1, "one leader");
    // A request of its own (credentials) is not held to the shared bound.
    let own = proxy
        .client
        .get(format!("{}/api/tweets?limit=7&sleep_ms=600", proxy.url))
        .header("authorization", "Bearer alice")
        .send()
        .await
        .expect("request");
    assert_eq!(own.status(), 200);
    assert_eq!(x_cache(&own), "BYPASS");
}
