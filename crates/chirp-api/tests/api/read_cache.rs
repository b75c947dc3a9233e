//! The read cache (SPEC §1.4), in memory and in Redis: repeated reads stop
//! reaching the database, writes evict what they make stale, instances
//! sharing Redis see each other's evictions, and a dead Redis only costs speed.

use std::sync::Arc;
use std::time::Duration;

use chirp_app::likes::LikesConfig;
use chirp_app::likes::batcher::BatcherConfig;
use chirp_store::HealthStore;
use chirp_store::cache::backend::{CacheBackend, MemoryBackend, RedisBackend};
use serde_json::json;

use crate::helpers::{Backend, TestApp, fresh_database, serve_with_cache};

const TTL: Duration = Duration::from_secs(60);

fn redis_url() -> String {
    std::env::var("CHIRP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// An API on a fresh database with `cache` in front of it.
async fn cached_app(backend: Backend, cache: Arc<dyn CacheBackend>) -> TestApp {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(backend, &dir).await;
    let likes = LikesConfig::Batched(BatcherConfig {
        journal: dir.path().join("likes.journal"),
        ..BatcherConfig::default()
    });
    serve_with_cache(url, likes, dir, Some(cache)).await
}

fn memory() -> Arc<dyn CacheBackend> {
    Arc::new(MemoryBackend::new(TTL, 16 << 20))
}

fn redis() -> Arc<dyn CacheBackend> {
    Arc::new(RedisBackend::connect(&redis_url(), TTL).expect("redis url"))
}

fn reads(app: &TestApp) -> u64 {
    app.store.db_counts().reads
}

/// Reads repeat from the cache; a write evicts and the next read is fresh.
async fn repeated_reads_skip_the_database(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "cache me #cached").await;
    let tweet_path = format!("/api/tweets/{id}");
    for path in [
        tweet_path.as_str(),
        "/api/tweets",
        "/api/accounts/alice",
        "/api/tweets?hashtag=cached",
    ] {
        app.get(path).await.expect(200);
        let before = reads(&app);
        for _ in 0..5 {
            app.get(path).await.expect(200);
        }
        assert_eq!(reads(&app), before, "{path} reached the database again");
    }
    // An edit evicts: the next read shows the new text.
    app.patch(&tweet_path, &token, json!({"text": "edited"}))
        .await
        .expect(200);
    assert_eq!(
        app.get(&tweet_path).await.expect(200).body["text"],
        "edited"
    );
    let list = app.get("/api/tweets").await.expect(200);
    assert_eq!(list.items()[0]["text"], "edited");
    // A new tweet shows in the (cached) list at once.
    let second = app.tweet_id(&token, "second").await;
    assert_eq!(
        app.get("/api/tweets").await.expect(200).ids(),
        vec![second, id]
    );
    // A delete too.
    app.delete(&format!("/api/tweets/{second}"), &token)
        .await
        .expect(204);
    app.get(&format!("/api/tweets/{second}")).await.expect(404);
    assert_eq!(app.get("/api/tweets").await.expect(200).ids(), vec![id]);
}

/// Counters on cached accounts follow follows.
async fn follows_evict_both_accounts(app: TestApp) {
    let alice = app.user("alice").await;
    app.register("bob").await;
    assert_eq!(
        app.get("/api/accounts/bob").await.expect(200).body["followers_count"],
        0
    );
    app.post("/api/accounts/bob/follow", Some(&alice), json!({}))
        .await
        .expect(200);
    assert_eq!(
        app.get("/api/accounts/bob").await.expect(200).body["followers_count"],
        1
    );
    assert_eq!(
        app.get("/api/accounts/alice").await.expect(200).body["following_count"],
        1
    );
    let followers = app.get("/api/accounts/bob/followers").await.expect(200);
    assert_eq!(followers.items().len(), 1);
}

/// Likes flushed to the database show in cached reads (no stale count).
async fn flushed_likes_show_in_cached_reads(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "like me").await;
    let path = format!("/api/tweets/{id}");
    app.get(&path).await.expect(200);
    app.get("/api/tweets").await.expect(200);
    for _ in 0..25 {
        app.post(&format!("{path}/likes"), None, json!({}))
            .await
            .expect(202);
    }
    app.state.app.likes().shutdown().await; // everything is in the database now
    assert_eq!(app.get(&path).await.expect(200).body["like_count"], 25);
    assert_eq!(
        app.get("/api/tweets").await.expect(200).items()[0]["like_count"],
        25
    );
}

mod memory {
    use super::*;

    #[tokio::test]
    async fn repeated_reads_skip_the_database_on_sqlite() {
        super::repeated_reads_skip_the_database(cached_app(Backend::Sqlite, memory()).await).await;
    }

    #[tokio::test]
    async fn follows_evict_both_accounts_on_sqlite() {
        super::follows_evict_both_accounts(cached_app(Backend::Sqlite, memory()).await).await;
    }

    #[tokio::test]
    async fn flushed_likes_show_in_cached_reads_on_sqlite() {
        super::flushed_likes_show_in_cached_reads(cached_app(Backend::Sqlite, memory()).await)
            .await;
    }
}

mod redis {
    use super::*;

    #[tokio::test]
    async fn repeated_reads_skip_the_database_on_postgres() {
        super::repeated_reads_skip_the_database(cached_app(Backend::Postgres, redis()).await).await;
    }

    #[tokio::test]
    async fn follows_evict_both_accounts_on_postgres() {
        super::follows_evict_both_accounts(cached_app(Backend::Postgres, redis()).await).await;
    }

    #[tokio::test]
    async fn flushed_likes_show_in_cached_reads_on_postgres() {
        super::flushed_likes_show_in_cached_reads(cached_app(Backend::Postgres, redis()).await)
            .await;
    }

    /// With Redis unreachable the API still answers, from the database.
    #[tokio::test]
    async fn a_dead_redis_degrades_to_database_reads() {
        let dead: Arc<dyn CacheBackend> =
            Arc::new(RedisBackend::connect("redis://127.0.0.1:1", TTL).expect("url"));
        let app = cached_app(Backend::Sqlite, dead).await;
        let token = app.user("alice").await;
        let id = app.tweet_id(&token, "still here").await;
        let before = reads(&app);
        for _ in 0..3 {
            let reply = app.get(&format!("/api/tweets/{id}")).await.expect(200);
            assert_eq!(reply.body["text"], "still here");
        }
        assert!(reads(&app) >= before + 3, "reads must go to the database");
        app.get("/api/tweets").await.expect(200);
    }
}

/// Redis cut off and back: reads keep working from the database while it is
/// gone, and come from Redis again once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_comes_back_is_used_again() {
    let redis_addr = url::Url::parse(&redis_url())
        .expect("redis URL")
        .socket_addrs(|| Some(6379))
        .expect("redis address")
        .into_iter()
        .next()
        .expect("an address");
    assert!(
        redis_addr.ip().is_loopback(),
        "tests talk to 127.0.0.1 only"
    );
    let proxy = crate::like_outage::Proxy::start(redis_addr).await;
    let via_proxy: Arc<dyn CacheBackend> = Arc::new(
        RedisBackend::connect(&format!("redis://{}", proxy.addr), TTL).expect("redis url"),
    );
    let app = cached_app(Backend::Sqlite, via_proxy).await;
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "survives redis").await;
    let path = format!("/api/tweets/{id}");

    // Up: the second read is a hit.
    app.get(&path).await.expect(200);
    let before = reads(&app);
    app.get(&path).await.expect(200);
    assert_eq!(reads(&app), before, "served from Redis");

    // Down: every read goes to the database, and still succeeds.
    proxy.set_down(true);
    let before = reads(&app);
    for _ in 0..3 {
        assert_eq!(
            app.get(&path).await.expect(200).body["text"],
            "survives redis"
        );
    }
    assert!(
        reads(&app) >= before + 3,
        "reads must fall back to the database"
    );

    // Back: after a read that refills the entry, reads are hits again.
    proxy.set_down(false);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        app.get(&path).await.expect(200);
        let before = reads(&app);
        app.get(&path).await.expect(200);
        if reads(&app) == before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Redis was not used again after it came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Redis cut off: after the first failure the breaker skips Redis, so reads
/// are answered from the database without each waiting out the Redis
/// timeout; once Redis is back, a probe after the cool-down closes the
/// breaker and reads are hits again. The cool-down runs on a clock the test
/// moves by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_redis_is_skipped_until_a_probe_finds_it_back() {
    use chirp_store::cache::backend::BreakerState;
    use std::sync::atomic::{AtomicU64, Ordering};

    const COOLDOWN: Duration = Duration::from_secs(30);
    let redis_addr = url::Url::parse(&redis_url())
        .expect("redis URL")
        .socket_addrs(|| Some(6379))
        .expect("redis address")
        .into_iter()
        .next()
        .expect("an address");
    assert!(
        redis_addr.ip().is_loopback(),
        "tests talk to 127.0.0.1 only"
    );
    let proxy = crate::like_outage::Proxy::start(redis_addr).await;
    let start = std::time::Instant::now();
    let skipped_ms = Arc::new(AtomicU64::new(0));
    let clock = skipped_ms.clone();
    let backend = Arc::new(
        RedisBackend::connect(&format!("redis://{}", proxy.addr), TTL)
            .expect("redis url")
            .with_cooldown(COOLDOWN)
            .with_clock(move || start + Duration::from_millis(clock.load(Ordering::SeqCst))),
    );
    let app = cached_app(Backend::Sqlite, backend.clone()).await;
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "survives redis").await;
    let path = format!("/api/tweets/{id}");
    app.get(&path).await.expect(200);
    let before = reads(&app);
    app.get(&path).await.expect(200);
    assert_eq!(reads(&app), before, "served from Redis");
    assert_eq!(backend.breaker_state(), BreakerState::Closed);

    // Cut: the first read that reaches Redis fails and opens the breaker.
    proxy.set_down(true);
    app.get(&path).await.expect(200);
    assert_eq!(backend.breaker_state(), BreakerState::Open);
    let attempts = backend.attempts();
    let before = reads(&app);
    for _ in 0..5 {
        let reply = app.get(&path).await.expect(200);
        assert_eq!(reply.body["text"], "survives redis");
    }
    assert_eq!(
        backend.attempts(),
        attempts,
        "no call went to Redis while the breaker was open"
    );
    assert!(reads(&app) >= before + 5, "reads come from the database");

    // Back: each cool-down lets one probe through; one that answers closes
    // the breaker (the first may still meet the broken connection).
    proxy.set_down(false);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while backend.breaker_state() != BreakerState::Closed {
        assert!(
            std::time::Instant::now() < deadline,
            "the breaker did not close after Redis came back"
        );
        skipped_ms.fetch_add(COOLDOWN.as_millis() as u64, Ordering::SeqCst);
        app.get(&path).await.expect(200);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.get(&path).await.expect(200);
    let before = reads(&app);
    app.get(&path).await.expect(200);
    assert_eq!(reads(&app), before, "served from Redis again");
}
