//! The standalone proxy: headers, HEAD, size limits, failures, connections.

use std::time::Duration;

use chirp_cache::{CacheConfig, CacheOptions};
use reqwest::Method;
use reqwest::header::CONTENT_LENGTH;

use crate::helpers::{spawn_proxy, spawn_proxy_to, x_cache};

#[tokio::test]
async fn a_miss_is_stored_and_the_next_get_is_a_hit_with_age() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    let first = proxy.get("/api/tweets/7").await;
    assert_eq!(first.status(), 200);
    assert_eq!(x_cache(&first), "MISS");
    assert!(first.headers().get("age").is_none(), "Age is for hits");
    let first_body = first.text().await.expect("body");

    let second = proxy.get("/api/tweets/7").await;
    assert_eq!(x_cache(&second), "HIT");
    assert_eq!(second.headers()["age"], "0");
    assert_eq!(second.headers()["content-type"], "application/json");
    assert_eq!(second.text().await.expect("body"), first_body);
    assert_eq!(proxy.upstream.calls("GET /api/tweets/7"), 1);
}

#[tokio::test]
async fn the_query_string_is_part_of_the_key() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    assert_eq!(x_cache(&proxy.get("/api/tweets?limit=5").await), "MISS");
    assert_eq!(x_cache(&proxy.get("/api/tweets?limit=6").await), "MISS");
    assert_eq!(x_cache(&proxy.get("/api/tweets?limit=5").await), "HIT");
    assert_eq!(proxy.upstream.calls("GET /api/tweets"), 2);
}

#[tokio::test]
async fn head_is_served_from_the_get_entry_without_a_body() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    let get = proxy.get("/api/tweets/7").await;
    let len = get.text().await.expect("body").len();

    let head = proxy.send(Method::HEAD, "/api/tweets/7").await;
    assert_eq!(x_cache(&head), "HIT");
    assert_eq!(head.headers()[CONTENT_LENGTH], len.to_string().as_str());
    assert!(head.bytes().await.expect("body").is_empty());
    assert_eq!(proxy.upstream.calls("GET /api/tweets/7"), 1);
    assert_eq!(proxy.upstream.calls("HEAD /api/tweets/7"), 0);
}

#[tokio::test]
async fn a_head_miss_fetches_the_get_and_leaves_an_entry_for_both() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    let head = proxy.send(Method::HEAD, "/api/tweets/9").await;
    assert_eq!(x_cache(&head), "MISS");
    assert!(head.bytes().await.expect("body").is_empty());
    let get = proxy.get("/api/tweets/9").await;
    assert_eq!(x_cache(&get), "HIT");
    assert!(!get.text().await.expect("body").is_empty());
    assert_eq!(proxy.upstream.calls("GET /api/tweets/9"), 1);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_in_the_api_error_shape() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let config = CacheConfig::new(&format!("http://{addr}")).expect("config");
    let url = spawn_proxy_to(config).await;
    let client = reqwest::Client::new();
    for (method, label) in [(Method::GET, "MISS"), (Method::POST, "BYPASS")] {
        let resp = client
            .request(method, format!("{url}/api/tweets"))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 502);
        assert_eq!(x_cache(&resp), label);
        let body: serde_json::Value = resp.json().await.expect("JSON error");
        assert_eq!(body["error"]["code"], "bad_gateway");
        assert!(body["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn hop_by_hop_headers_stay_behind_and_forwarding_headers_are_added() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    let resp = proxy
        .client
        .get(format!("{}/api/echo?cc=no-store", proxy.url))
        .header("connection", "keep-alive, x-hop")
        .header("x-hop", "secret")
        .header("keep-alive", "timeout=5")
        .header("x-end-to-end", "kept")
        .send()
        .await
        .expect("request");
    let seen: serde_json::Value = resp.json().await.expect("JSON");
    let headers = &seen["headers"];
    assert!(
        headers.get("x-hop").is_none(),
        "named by Connection: {headers}"
    );
    assert!(headers.get("keep-alive").is_none(), "{headers}");
    assert_eq!(headers["x-end-to-end"], "kept");
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");
    let proxy_host = proxy.url.trim_start_matches("http://");
    assert_eq!(headers["x-forwarded-host"], proxy_host);
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_replaced() {
    let (upstream, _log) = crate::helpers::spawn_upstream().await;
    let mut config = CacheConfig::new(&format!("http://{upstream}")).expect("config");
    config.trusted_proxies = chirp_http::TrustedProxies::none();
    let url = spawn_proxy_to(config).await;
    let resp = reqwest::Client::new()
        .get(format!("{url}/api/echo?cc=no-store"))
        .header("x-forwarded-for", "198.51.100.7")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("request");
    let seen: serde_json::Value = resp.json().await.expect("JSON");
    let headers = &seen["headers"];
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1", "{headers}");
    assert_eq!(
        headers["x-forwarded-host"],
        url.trim_start_matches("http://"),
        "{headers}"
    );
    assert_eq!(headers["x-forwarded-proto"], "http", "{headers}");
}

#[tokio::test]
async fn forwarding_headers_from_a_trusted_proxy_are_kept_and_extended() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    let resp = proxy
        .client
        .get(format!("{}/api/echo?cc=no-store", proxy.url))
        .header("x-forwarded-for", "198.51.100.7")
        .header("x-forwarded-host", "chirp.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("request");
    let seen: serde_json::Value = resp.json().await.expect("JSON");
    let headers = &seen["headers"];
    assert_eq!(headers["x-forwarded-for"], "198.51.100.7, 127.0.0.1");
    assert_eq!(headers["x-forwarded-host"], "chirp.example");
    assert_eq!(headers["x-forwarded-proto"], "https");
}

#[tokio::test]
async fn upstream_connections_are_kept_alive_and_reused() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    for _ in 0..20 {
        let resp = proxy.get("/api/echo?cc=no-store").await;
        assert_eq!(resp.status(), 200);
        resp.bytes().await.expect("body");
    }
    assert_eq!(proxy.upstream.calls("GET /api/echo"), 20);
    assert_eq!(
        proxy.upstream.connections(),
        1,
        "one pooled connection served all 20"
    );
}

#[tokio::test]
async fn responses_over_the_entry_cap_pass_through_whole_and_uncached() {
    let proxy = spawn_proxy(CacheOptions {
        max_entry_bytes: 8 * 1024,
        ..CacheOptions::default()
    })
    .await;
    for path in ["/big?bytes=20000", "/chunked?bytes=20000&chunked=1"] {
        for _ in 0..2 {
            let resp = proxy.get(path).await;
            assert_eq!(x_cache(&resp), "MISS", "{path}");
            assert_eq!(resp.bytes().await.expect("body").len(), 20000, "{path}");
        }
    }
    assert_eq!(proxy.upstream.calls("GET /big"), 2);
    assert_eq!(proxy.upstream.calls("GET /chunked"), 2);
    let small = "/chunked?bytes=3000&chunked=1";
    proxy.get(small).await.bytes().await.expect("body");
    let again = proxy.get(small).await;
    assert_eq!(
        x_cache(&again),
        "HIT",
        "a chunked body under the cap is stored"
    );
    assert_eq!(again.bytes().await.expect("body").len(), 3000);
}

#[tokio::test]
async fn total_weight_stays_within_max_bytes() {
    let max_bytes = 64 * 1024;
    let proxy = spawn_proxy(CacheOptions {
        max_bytes,
        ..CacheOptions::default()
    })
    .await;
    for i in 0..40 {
        proxy
            .get(&format!("/page/{i}?bytes=4096"))
            .await
            .bytes()
            .await
            .expect("body");
    }
    let stats = proxy.stats().await;
    let bytes = stats["bytes"].as_u64().expect("bytes");
    let entries = stats["entries"].as_u64().expect("entries");
    assert!(bytes <= max_bytes, "{bytes} > {max_bytes}");
    assert!(
        (1..40).contains(&entries),
        "40 x 4 KiB cannot all fit: {entries}"
    );
}

#[tokio::test]
async fn stats_count_hits_misses_bypasses_entries_and_bytes() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    proxy.get("/api/tweets/1").await;
    proxy.get("/api/tweets/1").await;
    proxy.get("/api/tweets/2").await;
    proxy.send(Method::POST, "/api/tweets/3/likes").await;
    proxy.get("/logs").await;
    let resp = proxy.get("/_cache/stats").await;
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let stats: serde_json::Value = resp.json().await.expect("JSON");
    assert_eq!(stats["hits"], 1);
    assert_eq!(stats["misses"], 2);
    assert_eq!(stats["bypasses"], 2);
    assert_eq!(stats["entries"], 2);
    assert!(stats["bytes"].as_u64().expect("bytes") > 0);
    assert_eq!(
        proxy.upstream.calls("GET /_cache/stats"),
        0,
        "answered by the cache"
    );
}

#[tokio::test]
async fn serve_returns_once_shutdown_completes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let config = CacheConfig::new("http://127.0.0.1:9").expect("config");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(chirp_cache::serve(
        listener,
        config,
        chirp_http::ServeOptions::default(),
        async {
            stopped.await.ok();
        },
    ));
    stop.send(()).expect("server is waiting");
    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve stops within 5 s")
        .expect("serve task");
    result.expect("serve returns Ok");
}
