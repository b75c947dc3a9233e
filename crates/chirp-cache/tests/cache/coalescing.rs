//! Request coalescing: concurrent misses for one key share one upstream
//! request, unless its answer may not be shared.

use std::collections::HashSet;
use std::time::Duration;

use chirp_cache::CacheOptions;
use futures_util::future::join_all;

use crate::helpers::{spawn_proxy, x_cache};

#[tokio::test]
async fn a_hundred_concurrent_misses_make_one_upstream_request() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    let path = "/api/tweets/42?sleep_ms=300";
    let answers = join_all((0..100).map(|_| async {
        let resp = proxy.get(path).await;
        let label = x_cache(&resp).to_owned();
        (label, resp.text().await.expect("body"))
    }))
    .await;
    assert_eq!(proxy.upstream.calls("GET /api/tweets/42"), 1);
    assert_eq!(proxy.upstream.total(), 1, "and nothing else went upstream");
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
    let proxy = spawn_proxy(CacheOptions::default()).await;
    let path = "/api/me/feed?sleep_ms=300&cc=private";
    let answers = join_all((0..20).map(|_| async {
        let resp = proxy.get(path).await;
        assert_eq!(x_cache(&resp), "MISS");
        let body: serde_json::Value = resp.json().await.expect("JSON");
        body["call"].as_u64().expect("call number")
    }))
    .await;
    assert_eq!(proxy.upstream.calls("GET /api/me/feed"), 20);
    let distinct: HashSet<u64> = answers.into_iter().collect();
    assert_eq!(
        distinct.len(),
        20,
        "nobody received another request's answer"
    );
}

#[tokio::test]
async fn concurrent_writes_are_never_coalesced() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    join_all((0..10).map(|_| async {
        let resp = proxy
            .send(reqwest::Method::POST, "/api/tweets/1/likes?sleep_ms=100")
            .await;
        assert_eq!(x_cache(&resp), "BYPASS");
    }))
    .await;
    assert_eq!(proxy.upstream.calls("POST /api/tweets/1/likes"), 10);
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
