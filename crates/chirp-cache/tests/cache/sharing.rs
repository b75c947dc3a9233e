//! Never share what is not safe to share (SPEC §1.1): credentials, private
//! answers, operational paths.

use chirp_cache::CacheOptions;

use crate::helpers::{TestProxy, spawn_proxy, x_cache};

async fn get_with(proxy: &TestProxy, path: &str, name: &str, value: &str) -> reqwest::Response {
    proxy
        .client
        .get(format!("{}{path}", proxy.url))
        .header(name, value)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn authorization_bypasses_the_cache_and_its_answer_is_not_stored() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    for _ in 0..2 {
        let resp = get_with(&proxy, "/api/me", "authorization", "Bearer alice").await;
        assert_eq!(x_cache(&resp), "BYPASS");
    }
    assert_eq!(
        x_cache(&proxy.get("/api/me").await),
        "MISS",
        "nothing was stored"
    );
    assert_eq!(proxy.upstream.calls("GET /api/me"), 3);
}

#[tokio::test]
async fn a_session_cookie_is_never_served_a_shared_entry() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    assert_eq!(x_cache(&proxy.get("/api/tweets").await), "MISS");
    let cookie = "theme=dark; chirp_session=bob";
    let resp = get_with(&proxy, "/api/tweets", "cookie", cookie).await;
    assert_eq!(x_cache(&resp), "BYPASS");
    let body: serde_json::Value = resp.json().await.expect("JSON");
    assert_eq!(
        body["headers"]["cookie"], cookie,
        "the upstream saw the session"
    );
    assert_eq!(proxy.upstream.calls("GET /api/tweets"), 2);
    assert_eq!(x_cache(&proxy.get("/api/tweets").await), "HIT");
}

#[tokio::test]
async fn cookies_other_than_the_session_do_not_prevent_sharing() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    proxy.get("/api/tweets/4").await;
    let resp = get_with(&proxy, "/api/tweets/4", "cookie", "theme=dark").await;
    assert_eq!(x_cache(&resp), "HIT");
}

#[tokio::test]
async fn a_credentialed_answer_marked_public_is_stored_for_everyone() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    let path = "/api/categories?cc=public";
    let resp = get_with(&proxy, path, "authorization", "Bearer alice").await;
    assert_eq!(x_cache(&resp), "BYPASS");
    assert_eq!(x_cache(&proxy.get(path).await), "HIT");
    let again = get_with(&proxy, path, "authorization", "Bearer alice").await;
    assert_eq!(
        x_cache(&again),
        "BYPASS",
        "credentials never read the cache"
    );
    assert_eq!(proxy.upstream.calls("GET /api/categories"), 2);
}

#[tokio::test]
async fn private_no_store_no_cache_set_cookie_and_non_200_answers_are_not_stored() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    let cases = [
        ("/a", "?cc=private"),
        ("/b", "?cc=no-store"),
        ("/c", "?cc=no-cache"),
        ("/d", "?cc=public,%20private"),
        ("/e", "?set_cookie=1"),
        ("/f", "?status=404"),
        ("/g", "?status=500"),
        ("/h", "?status=201"),
    ];
    for (path, query) in cases {
        for _ in 0..2 {
            let resp = proxy.get(&format!("{path}{query}")).await;
            assert_eq!(x_cache(&resp), "MISS", "{path}{query}");
        }
        assert_eq!(
            proxy.upstream.calls(&format!("GET {path}")),
            2,
            "{path}{query}"
        );
    }
    assert_eq!(proxy.stats().await["entries"], 0);
}

#[tokio::test]
async fn logs_and_metrics_are_never_cached_even_without_no_store() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    for path in ["/logs", "/logs?offset=0&limit=5", "/metrics", "/readyz"] {
        for _ in 0..2 {
            assert_eq!(x_cache(&proxy.get(path).await), "BYPASS", "{path}");
        }
    }
    assert_eq!(proxy.upstream.calls("GET /logs"), 4);
    assert_eq!(proxy.upstream.calls("GET /metrics"), 2);
    assert_eq!(proxy.stats().await["entries"], 0);
}

#[tokio::test]
async fn the_secure_session_cookie_is_a_credential_too() {
    let proxy = spawn_proxy(CacheOptions::default()).await;
    assert_eq!(x_cache(&proxy.get("/api/tweets").await), "MISS");
    let resp = get_with(&proxy, "/api/tweets", "cookie", "__Host-chirp_session=bob").await;
    assert_eq!(x_cache(&resp), "BYPASS");
}
