//! The tower-layer shape over an in-process router, where paused tokio time
//! drives the TTL.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::routing::get;
use chirp_cache::{CacheOptions, ResponseCacheLayer};
use http_body_util::BodyExt;
use tower::{Layer, Service, ServiceExt};

use crate::helpers::{UpstreamLog, upstream_router};

async fn call<S>(svc: &S, method: &str, path: &str) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = std::convert::Infallible> + Clone,
{
    let req = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("request");
    svc.clone().oneshot(req).await.expect("infallible")
}

fn x_cache(resp: &Response<Body>) -> &str {
    resp.headers()["x-cache"].to_str().expect("X-Cache is text")
}

#[tokio::test(start_paused = true)]
async fn an_entry_is_served_until_its_ttl_then_fetched_again() {
    let log = UpstreamLog::default();
    let svc = ResponseCacheLayer::new(CacheOptions::default()).layer(upstream_router(log.clone()));
    assert_eq!(x_cache(&call(&svc, "GET", "/api/tweets/7").await), "MISS");

    tokio::time::advance(Duration::from_secs(59)).await;
    let hit = call(&svc, "GET", "/api/tweets/7").await;
    assert_eq!(x_cache(&hit), "HIT");
    assert_eq!(hit.headers()["age"], "59");
    assert_eq!(log.calls("GET /api/tweets/7"), 1);

    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(x_cache(&call(&svc, "GET", "/api/tweets/7").await), "MISS");
    assert_eq!(log.calls("GET /api/tweets/7"), 2);
    assert_eq!(x_cache(&call(&svc, "GET", "/api/tweets/7").await), "HIT");
}

#[tokio::test(start_paused = true)]
async fn the_ttl_is_configurable_and_max_age_can_shorten_it() {
    let log = UpstreamLog::default();
    let options = CacheOptions {
        ttl: Duration::from_secs(5),
        ..CacheOptions::default()
    };
    let svc = ResponseCacheLayer::new(options).layer(upstream_router(log.clone()));
    call(&svc, "GET", "/a").await;
    call(&svc, "GET", "/b?cc=max-age=2").await;
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(x_cache(&call(&svc, "GET", "/a").await), "HIT");
    assert_eq!(x_cache(&call(&svc, "GET", "/b?cc=max-age=2").await), "MISS");
    tokio::time::advance(Duration::from_secs(3)).await;
    assert_eq!(x_cache(&call(&svc, "GET", "/a").await), "MISS");
}

#[tokio::test]
async fn the_layer_wraps_an_axum_router_and_answers_its_stats() {
    let layer = ResponseCacheLayer::new(CacheOptions::default());
    let app = Router::new()
        .route(
            "/api/tweets/{id}",
            get(|| async { "tweet" }).patch(|| async { "edited" }),
        )
        .layer(layer.clone());
    let first = call(&app, "GET", "/api/tweets/1").await;
    assert_eq!(x_cache(&first), "MISS");
    let hit = call(&app, "GET", "/api/tweets/1").await;
    assert_eq!(x_cache(&hit), "HIT");
    let body = hit.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"tweet");
    assert_eq!(
        x_cache(&call(&app, "PATCH", "/api/tweets/1").await),
        "BYPASS"
    );
    assert_eq!(x_cache(&call(&app, "GET", "/api/tweets/1").await), "MISS");

    let stats = call(&app, "GET", "/_cache/stats").await;
    assert_eq!(stats.status(), StatusCode::OK);
    let body = stats.into_body().collect().await.expect("body").to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        (json["hits"].as_u64(), json["misses"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(json["bypasses"], 1);
    assert_eq!(json["entries"], 1);
    let direct = layer.stats().await;
    assert_eq!((direct.hits, direct.misses, direct.entries), (1, 2, 1));
}

#[tokio::test(start_paused = true)]
async fn a_purge_empties_the_cache_long_before_the_ttl() {
    let log = UpstreamLog::default();
    let layer = ResponseCacheLayer::new(CacheOptions::default());
    let svc = layer.layer(upstream_router(log.clone()));
    for path in ["/api/tweets/7", "/api/tweets?limit=5"] {
        assert_eq!(x_cache(&call(&svc, "GET", path).await), "MISS");
        assert_eq!(x_cache(&call(&svc, "GET", path).await), "HIT");
    }
    layer.purger().purge_all();
    for path in ["/api/tweets/7", "/api/tweets?limit=5"] {
        assert_eq!(x_cache(&call(&svc, "GET", path).await), "MISS", "{path}");
    }
    // The upstream's log names paths without their query.
    assert_eq!(log.calls("GET /api/tweets/7"), 2);
    assert_eq!(log.calls("GET /api/tweets"), 2);
    assert_eq!(layer.stats().await.purges, 1);
}

#[tokio::test]
async fn a_failing_inner_service_is_a_502() {
    let failing = tower::service_fn(|_req: Request<Body>| async {
        Err::<Response<Body>, _>(std::io::Error::other("inner service broke"))
    });
    let svc = ResponseCacheLayer::new(CacheOptions::default()).layer(failing);
    let resp = call(&svc, "GET", "/api/tweets").await;
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(x_cache(&resp), "MISS");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(json["error"]["code"], "bad_gateway");
}

#[tokio::test(start_paused = true)]
async fn a_stalled_shared_fetch_gives_up_before_a_client_would() {
    let stalled = tower::service_fn(|_req: Request<Body>| async {
        tokio::time::sleep(Duration::from_secs(120)).await;
        Ok::<_, std::convert::Infallible>(Response::new(Body::from("late")))
    });
    let svc = ResponseCacheLayer::new(CacheOptions::default()).layer(stalled);
    let started = tokio::time::Instant::now();
    let answers =
        futures_util::future::join_all((0..3).map(|_| call(&svc, "GET", "/api/tweets?limit=7")))
            .await;
    let waited = started.elapsed();
    for resp in &answers {
        assert_eq!(resp.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(x_cache(resp), "MISS");
    }
    // Clients (and nginx in front) give up after 30 s; the leader and its
    // waiters must hear back well before.
    assert!(waited < Duration::from_secs(30), "waited {waited:?}");
}
