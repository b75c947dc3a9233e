//! A write passing through evicts what it obviously makes stale.

use chirp_cache::CacheOptions;
use reqwest::Method;

use crate::helpers::{spawn_proxy, x_cache};

#[tokio::test]
async fn patching_a_tweet_evicts_it_and_the_tweet_lists() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    for path in ["/api/tweets/7", "/api/tweets?limit=5", "/api/tweets/8"] {
        assert_eq!(x_cache(&proxy.get(path).await), "MISS", "{path}");
        assert_eq!(x_cache(&proxy.get(path).await), "HIT", "{path}");
    }
    let patch = proxy.send(Method::PATCH, "/api/tweets/7").await;
    assert_eq!(x_cache(&patch), "BYPASS");
    assert_eq!(proxy.upstream.calls("PATCH /api/tweets/7"), 1);

    assert_eq!(x_cache(&proxy.get("/api/tweets/7").await), "MISS");
    assert_eq!(x_cache(&proxy.get("/api/tweets?limit=5").await), "MISS");
    assert_eq!(
        x_cache(&proxy.get("/api/tweets/8").await),
        "HIT",
        "another tweet stays"
    );
    assert_eq!(proxy.upstream.calls("GET /api/tweets/7"), 2);
}

#[tokio::test]
async fn liking_a_tweet_evicts_the_tweet() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    proxy.get("/api/tweets/7").await;
    assert_eq!(x_cache(&proxy.get("/api/tweets/7").await), "HIT");
    proxy.send(Method::POST, "/api/tweets/7/likes").await;
    assert_eq!(x_cache(&proxy.get("/api/tweets/7").await), "MISS");
}

#[tokio::test]
async fn a_failed_write_still_evicts_and_writes_always_go_upstream() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    proxy.get("/api/tweets/7").await;
    for _ in 0..2 {
        let resp = proxy.send(Method::DELETE, "/api/tweets/7?status=403").await;
        assert_eq!(resp.status(), 403);
        assert_eq!(x_cache(&resp), "BYPASS");
    }
    assert_eq!(proxy.upstream.calls("DELETE /api/tweets/7"), 2);
    assert_eq!(x_cache(&proxy.get("/api/tweets/7").await), "MISS");
}

#[tokio::test]
async fn a_preflight_options_request_passes_through_without_evicting() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    proxy.get("/api/tweets/7").await;
    let resp = proxy.send(Method::OPTIONS, "/api/tweets/7").await;
    assert_eq!(x_cache(&resp), "BYPASS");
    assert_eq!(proxy.upstream.calls("OPTIONS /api/tweets/7"), 1);
    assert_eq!(x_cache(&proxy.get("/api/tweets/7").await), "HIT");
}

#[tokio::test]
async fn a_write_evicts_the_percent_encoded_aliases_of_its_path() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    // `%33` is `3`, `%2d` is `-`: the same resources, one entry each.
    for alias in ["/api/tweets/%33", "/api/tweets?tag=a%2db"] {
        assert_eq!(x_cache(&proxy.get(alias).await), "MISS", "{alias}");
        assert_eq!(x_cache(&proxy.get(alias).await), "HIT", "{alias}");
    }
    let delete = proxy.send(Method::DELETE, "/api/tweets/3").await;
    assert_eq!(x_cache(&delete), "BYPASS");
    for alias in ["/api/tweets/%33", "/api/tweets?tag=a%2db"] {
        assert_ne!(
            x_cache(&proxy.get(alias).await),
            "HIT",
            "{alias} was served from before the delete"
        );
    }
}

#[tokio::test]
async fn a_write_to_an_encoded_path_evicts_the_plain_one() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    proxy.get("/api/tweets/3").await;
    assert_eq!(x_cache(&proxy.get("/api/tweets/3").await), "HIT");
    proxy.send(Method::PATCH, "/api/tweets/%33").await;
    assert_eq!(x_cache(&proxy.get("/api/tweets/3").await), "MISS");
}

#[tokio::test]
async fn spellings_of_one_path_share_one_entry() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    assert_eq!(x_cache(&proxy.get("/api/tweets/%33").await), "MISS");
    assert_eq!(x_cache(&proxy.get("/api/tweets/3").await), "HIT");
    assert_eq!(x_cache(&proxy.get("/api/%74weets/3").await), "HIT");
    assert_eq!(
        proxy.upstream.calls("GET /api/tweets/3"),
        1,
        "fetched as /3"
    );
}
