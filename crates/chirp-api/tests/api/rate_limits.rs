//! Rate limits per client address, in the style of Mastodon's rack-attack
//! spec: up to the limit fine, past it 429 with `Retry-After`, after the
//! window fine again; per client address; forwarded addresses believed only
//! from trusted proxies; counted in Redis across instances, and per
//! instance while Redis is down. The clients are 127.0.0.2 and 127.0.0.3
//! (loopback too); time moves by the limiter's clock, never by sleeping.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chirp_api::ApiConfig;
use chirp_api::rate_limit::class::{Class, Limit, RateLimits};
use chirp_api::rate_limit::clock::LimitClock;
use chirp_api::rate_limit::limiter::RateLimiter;
use chirp_api::rate_limit::shared::Shared;
use chirp_app::likes::LikesConfig;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, Reply, TestApp, fresh_database, serve_limited, test_config};

fn limits(class: Class, limit: &str) -> RateLimits {
    RateLimits::off().with(class, limit.parse::<Limit>().expect("a limit"))
}

/// An API on SQLite whose limiter is `limiter`, with `tune` applied.
async fn spawn(limiter: RateLimiter, tune: impl FnOnce(&mut ApiConfig)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(Backend::Sqlite, &dir).await;
    let mut config = test_config();
    config.rate_limits = limiter.limits().clone();
    tune(&mut config);
    let broker = Arc::new(chirp_broker::InProcessBroker::default());
    let app = serve_limited(
        url,
        LikesConfig::WriteThrough,
        dir,
        None,
        config,
        broker,
        Some(limiter),
    )
    .await;
    // Not from 127.0.0.1: the machine itself is never limited.
    TestApp {
        client: client_at("127.0.0.4"),
        ..app
    }
}

/// A client whose connections come from `addr`.
fn client_at(addr: &str) -> reqwest::Client {
    let ip: IpAddr = addr.parse().expect("address");
    reqwest::Client::builder()
        .local_address(ip)
        .build()
        .expect("client")
}

/// A log-in attempt for an account that does not exist (401) by `client`.
async fn log_in(app: &TestApp, client: &reqwest::Client, forwarded: Option<&str>) -> Reply {
    let mut req = client
        .post(format!("{}/api/sessions", app.base))
        .json(&json!({"username": "nobody", "password": "not the password"}));
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    app.send(req).await
}

fn header(reply: &Reply, name: &str) -> u64 {
    reply.headers[name]
        .to_str()
        .expect("text")
        .parse()
        .expect("a number")
}

#[tokio::test]
async fn up_to_the_limit_then_429_with_retry_after_then_fine_after_the_window() {
    let clock = LimitClock::default();
    let limiter = RateLimiter::new(limits(Class::Signups, "3/30min"), clock.clone(), None);
    let app = spawn(limiter, |_| {}).await;
    for (i, left) in [2, 1, 0].into_iter().enumerate() {
        let reply = app
            .post(
                "/api/accounts",
                None,
                json!({"username": format!("user{i}"), "password": "correct horse"}),
            )
            .await
            .expect(201);
        assert_eq!(header(&reply, "ratelimit-limit"), 3);
        assert_eq!(header(&reply, "ratelimit-remaining"), left);
        assert!(header(&reply, "ratelimit-reset") <= 30 * 60);
    }
    let refused = app
        .post(
            "/api/accounts",
            None,
            json!({"username": "user3", "password": "correct horse"}),
        )
        .await
        .expect_error(429, "rate_limited");
    let retry = header(&refused, "retry-after");
    assert!(
        (1..=600).contains(&retry),
        "one sign-up back in 10 min: {retry}"
    );
    assert_eq!(header(&refused, "ratelimit-remaining"), 0);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("sign-ups")),
        "{:?}",
        refused.body
    );
    // Nothing was made by the refused request.
    app.get("/api/accounts/user3").await.expect(404);
    // Other classes are not counted: a log-in of a new account goes ahead.
    app.login("user0").await;

    clock.advance(Duration::from_secs(30 * 60));
    for i in 3..6 {
        app.register(&format!("user{i}")).await;
    }
}

#[tokio::test]
async fn each_client_address_has_its_own_count() {
    let limiter = RateLimiter::local(limits(Class::Logins, "2/5min"));
    let app = spawn(limiter, |_| {}).await;
    let (two, three) = (client_at("127.0.0.2"), client_at("127.0.0.3"));
    log_in(&app, &two, None).await.expect(401);
    log_in(&app, &two, None).await.expect(401);
    log_in(&app, &two, None)
        .await
        .expect_error(429, "rate_limited");
    let other = log_in(&app, &three, None).await.expect(401);
    assert_eq!(header(&other, "ratelimit-remaining"), 1);
}

#[tokio::test]
async fn a_trusted_proxys_forwarded_address_is_believed_and_an_untrusted_ones_ignored() {
    let limiter = RateLimiter::local(limits(Class::Logins, "2/5min"));
    let app = spawn(limiter, |c| {
        c.trusted_proxies = "127.0.0.2".parse().expect("proxies");
    })
    .await;
    let (proxy, stranger) = (client_at("127.0.0.2"), client_at("127.0.0.3"));
    // Behind the proxy: each browser its own count.
    for _ in 0..2 {
        log_in(&app, &proxy, Some("203.0.113.1")).await.expect(401);
    }
    log_in(&app, &proxy, Some("203.0.113.1"))
        .await
        .expect_error(429, "rate_limited");
    log_in(&app, &proxy, Some("203.0.113.2")).await.expect(401);
    // A client's own header, right-most hop or not, changes nothing.
    log_in(&app, &stranger, Some("198.51.100.1"))
        .await
        .expect(401);
    log_in(&app, &stranger, Some("198.51.100.2"))
        .await
        .expect(401);
    log_in(&app, &stranger, Some("198.51.100.3"))
        .await
        .expect_error(429, "rate_limited");
}

#[tokio::test]
async fn anonymous_reads_are_limited_and_signed_in_reads_and_other_routes_are_not() {
    let limiter = RateLimiter::local(limits(Class::Reads, "2/5min"));
    let app = spawn(limiter, |_| {}).await;
    let token = app.user("reader").await;
    app.get("/api/tweets").await.expect(200);
    app.get("/api/tweets").await.expect(200);
    app.get("/api/tweets")
        .await
        .expect_error(429, "rate_limited");
    let signed_in = app.get_as(&token, "/api/tweets").await.expect(200);
    assert!(!signed_in.headers.contains_key("ratelimit-limit"));
    app.get("/healthz").await.expect(200);
    app.call(
        Method::PATCH,
        "/api/me",
        Some(&token),
        Some(json!({"bio": "hi"})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn off_limits_nothing() {
    let limiter = RateLimiter::local(limits(Class::Logins, "1/5min"));
    let app = spawn(limiter, |c| c.rate_limit = false).await;
    for _ in 0..3 {
        let reply = log_in(&app, &app.client, None).await.expect(401);
        assert!(!reply.headers.contains_key("ratelimit-limit"));
    }
}

fn redis_url() -> String {
    std::env::var("CHIRP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A key prefix no other test (or run) uses.
fn unique_prefix() -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "chirp-test:{}:{}:{}:rl:",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

#[tokio::test]
async fn the_count_in_redis_holds_across_two_instances() {
    let clock = LimitClock::default();
    let prefix = unique_prefix();
    let instance = || {
        let shared = Shared::connect(&redis_url(), &prefix).expect("redis url");
        RateLimiter::new(limits(Class::Logins, "3/5min"), clock.clone(), Some(shared))
    };
    let (a, b) = (
        spawn(instance(), |_| {}).await,
        spawn(instance(), |_| {}).await,
    );
    // Start at the beginning of a window, so none ends half-way.
    let into = clock.unix().as_secs() % 300;
    clock.advance(Duration::from_secs(300 - into));
    let client = client_at("127.0.0.2");
    log_in(&a, &client, None).await.expect(401);
    log_in(&b, &client, None).await.expect(401);
    let last = log_in(&a, &client, None).await.expect(401);
    assert_eq!(header(&last, "ratelimit-remaining"), 0);
    let refused = log_in(&b, &client, None)
        .await
        .expect_error(429, "rate_limited");
    assert!((1..=300).contains(&header(&refused, "retry-after")));
    log_in(&a, &client_at("127.0.0.3"), None).await.expect(401);
    // The next window starts afresh for everyone.
    clock.advance(Duration::from_secs(5 * 60));
    log_in(&b, &client, None).await.expect(401);
}

#[tokio::test]
async fn with_redis_down_each_instance_counts_on_its_own() {
    // Nothing listens on port 1: every Redis call fails at once.
    let shared = Shared::connect("redis://127.0.0.1:1", &unique_prefix()).expect("redis url");
    let limiter = RateLimiter::new(
        limits(Class::Logins, "2/5min"),
        LimitClock::default(),
        Some(shared),
    );
    let app = spawn(limiter, |_| {}).await;
    let client = client_at("127.0.0.2");
    // Not refusing everyone...
    log_in(&app, &client, None).await.expect(401);
    log_in(&app, &client, None).await.expect(401);
    // ... and not limiting no one.
    log_in(&app, &client, None)
        .await
        .expect_error(429, "rate_limited");
    log_in(&app, &client_at("127.0.0.3"), None)
        .await
        .expect(401);
}

#[tokio::test]
async fn the_openapi_document_lists_the_429_of_every_limited_operation() {
    let app = spawn(RateLimiter::local(RateLimits::default()), |_| {}).await;
    let doc = app.get("/api/openapi.json").await.expect(200).body;
    let responses = |path: &str, method: &str| doc["paths"][path][method]["responses"].clone();
    for (path, method) in [
        ("/api/sessions", "post"),
        ("/api/accounts", "post"),
        ("/api/tweets", "post"),
        ("/api/tweets/{id}/likes", "post"),
        ("/api/messages", "post"),
        ("/api/notifications/stream", "get"),
        ("/api/tweets", "get"),
        ("/api/accounts/{username}", "get"),
    ] {
        assert!(
            responses(path, method).get("429").is_some(),
            "{method} {path}: {}",
            responses(path, method)
        );
    }
    assert!(responses("/api/me", "patch").get("429").is_none());
    assert!(responses("/healthz", "get").get("429").is_none());
}

#[tokio::test]
async fn the_machine_itself_is_never_limited() {
    let limiter = RateLimiter::local(limits(Class::Logins, "1/5min"));
    let app = spawn(limiter, |_| {}).await;
    let here = client_at("127.0.0.1");
    for _ in 0..3 {
        let reply = log_in(&app, &here, None).await.expect(401);
        assert!(!reply.headers.contains_key("ratelimit-limit"));
    }
    log_in(&app, &client_at("127.0.0.2"), None)
        .await
        .expect(401);
    log_in(&app, &client_at("127.0.0.2"), None)
        .await
        .expect_error(429, "rate_limited");
}
