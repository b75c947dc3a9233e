//! `spawn_app` and typed request helpers.

use std::sync::Arc;

use chirp_api::rate_limit::class::RateLimits;
use chirp_api::rate_limit::limiter::RateLimiter;
use chirp_api::request_log::RequestLog;
use chirp_api::{ApiConfig, AppState};
use chirp_app::Metrics;
use chirp_app::likes::Likes;
use chirp_app::likes::LikesConfig;
use chirp_app::likes::batcher::BatcherConfig;
use chirp_store::SqlStore;
use chirp_store::sql::PoolConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<SqlStore>,
    /// The server's state (likes, request log, metrics).
    pub state: AppState,
    /// Holds the SQLite file, the like journal and the request log.
    pub dir: tempfile::TempDir,
}

/// A response: status and JSON body (`Value::Null` when the body is empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, showing the body if it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected reply: {:?}",
            self.body
        );
        self
    }

    /// Asserts an error reply: status, JSON error shape and code.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Self {
        let reply = self.expect(status);
        assert_eq!(reply.code(), code, "body: {:?}", reply.body);
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "error without a message: {:?}",
            reply.body
        );
        reply
    }

    /// The `items` of a list reply.
    pub fn items(&self) -> &Vec<Value> {
        self.body["items"].as_array().expect("a list reply")
    }

    /// The ids of the items of a list reply.
    pub fn ids(&self) -> Vec<i64> {
        self.items()
            .iter()
            .map(|i| i["id"].as_i64().expect("id"))
            .collect()
    }
}

/// The API's settings in tests: the defaults, with the per-client rate
/// limits off (every test signs up its accounts from 127.0.0.1); the
/// per-username log-in throttle stays on. Tests of the limits set them.
pub fn test_config() -> ApiConfig {
    ApiConfig {
        rate_limits: RateLimits::off(),
        ..ApiConfig::default()
    }
}

/// Starts the API on a random port over a fresh database, with the like
/// batcher on and its default thresholds.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with the API's settings adjusted by `tune`.
pub async fn spawn_app_with_api(backend: Backend, tune: impl FnOnce(&mut ApiConfig)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(backend, &dir).await;
    let batcher = BatcherConfig {
        journal: dir.path().join("likes.journal"),
        ..BatcherConfig::default()
    };
    let mut config = test_config();
    tune(&mut config);
    serve_configured(
        url,
        LikesConfig::Batched(batcher),
        dir,
        Some(default_cache(backend)),
        config,
    )
    .await
}

/// Like [`spawn_app`], with the batcher's settings adjusted by `tune`.
pub async fn spawn_app_with(backend: Backend, tune: impl FnOnce(&mut BatcherConfig)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(backend, &dir).await;
    let mut batcher = BatcherConfig {
        journal: dir.path().join("likes.journal"),
        ..BatcherConfig::default()
    };
    tune(&mut batcher);
    serve_with_cache(
        url,
        LikesConfig::Batched(batcher),
        dir,
        Some(default_cache(backend)),
    )
    .await
}

/// Serves the API on `url` with the given like settings; files go in `dir`.
pub async fn serve_on(url: String, likes: LikesConfig, dir: tempfile::TempDir) -> TestApp {
    serve_with_cache(url, likes, dir, None).await
}

/// The read cache every test runs behind, as in production: in memory on
/// SQLite (the embedded shape), in Redis on PostgreSQL (the scaled shape).
pub fn default_cache(backend: Backend) -> Arc<dyn chirp_store::cache::backend::CacheBackend> {
    let ttl = std::time::Duration::from_secs(60);
    match backend {
        Backend::Sqlite => Arc::new(chirp_store::cache::backend::MemoryBackend::new(
            ttl,
            16 << 20,
        )),
        Backend::Postgres => {
            let url = std::env::var("CHIRP_TEST_REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
            Arc::new(
                chirp_store::cache::backend::RedisBackend::connect(&url, ttl).expect("redis url"),
            )
        }
    }
}

/// Like [`serve_on`], with the read cache in front of the database when
/// `cache` is given.
pub async fn serve_with_cache(
    url: String,
    likes: LikesConfig,
    dir: tempfile::TempDir,
    cache: Option<Arc<dyn chirp_store::cache::backend::CacheBackend>>,
) -> TestApp {
    serve_configured(url, likes, dir, cache, test_config()).await
}

/// Like [`serve_with_cache`], with the API's settings.
pub async fn serve_configured(
    url: String,
    likes: LikesConfig,
    dir: tempfile::TempDir,
    cache: Option<Arc<dyn chirp_store::cache::backend::CacheBackend>>,
    config: ApiConfig,
) -> TestApp {
    let broker = Arc::new(chirp_broker::InProcessBroker::default());
    serve_with_broker(url, likes, dir, cache, config, broker).await
}

/// Like [`serve_configured`], with the broker of live events: instances
/// given one (network) broker and one database act as a scaled topology's
/// API instances.
pub async fn serve_with_broker(
    url: String,
    likes: LikesConfig,
    dir: tempfile::TempDir,
    cache: Option<Arc<dyn chirp_store::cache::backend::CacheBackend>>,
    config: ApiConfig,
    broker: Arc<dyn chirp_broker::Broker>,
) -> TestApp {
    serve_limited(url, likes, dir, cache, config, broker, None).await
}

/// Like [`serve_with_broker`], with the rate limiter given (shared in
/// Redis, or on a clock the test moves); `None`: one built from `config`.
pub async fn serve_limited(
    url: String,
    likes: LikesConfig,
    dir: tempfile::TempDir,
    cache: Option<Arc<dyn chirp_store::cache::backend::CacheBackend>>,
    config: ApiConfig,
    broker: Arc<dyn chirp_broker::Broker>,
    limiter: Option<RateLimiter>,
) -> TestApp {
    let store = Arc::new(
        SqlStore::connect(&url, &PoolConfig::default())
            .await
            .expect("connect to the test database"),
    );
    let served: Arc<dyn chirp_store::Store> = match cache {
        Some(c) => {
            // One namespace per test database: tests share one Redis.
            let ns = format!("chirp-test:{}:", dir.path().display());
            Arc::new(chirp_store::cache::CachedStore::namespaced(
                store.clone(),
                c,
                &ns,
            ))
        }
        None => store.clone(),
    };
    let metrics = Metrics::new();
    let likes = Likes::start(likes, served.clone(), metrics.clone())
        .await
        .expect("start the like service");
    let requests =
        RequestLog::create(&dir.path().join("requests.log"), "test".into()).expect("request log");
    let app = chirp_app::App::new(
        served,
        likes,
        Arc::new(chirp_app::InProcessBus::default()),
        broker,
        metrics,
        chirp_app::AppConfig::default(),
    );
    let limiter = limiter.unwrap_or_else(|| RateLimiter::local(config.rate_limits.clone()));
    let state = AppState::with_limiter(app, config, requests, limiter);
    let app = chirp_api::router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        chirp_http::serve(
            listener,
            app,
            chirp_http::ServeOptions::default(),
            std::future::pending(),
        )
        .await
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        store,
        state,
        dir,
    }
}

/// The URL of a new, empty database: an SQLite file in `dir`, or a fresh
/// PostgreSQL database.
pub async fn fresh_database(backend: Backend, dir: &tempfile::TempDir) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("chirp.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    }
}

/// A new, empty PostgreSQL database for one test.
pub async fn fresh_postgres_database() -> String {
    chirp_testkit::fresh_postgres_database("api").await
}

impl TestApp {
    /// A request to `path` on this server, for tests that need to set
    /// headers or bodies by hand; send it with [`TestApp::send`].
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// Sends a hand-built request.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.request(method, path);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Registers `username` (password "correct horse") and returns the account.
    pub async fn register(&self, username: &str) -> Value {
        self.post(
            "/api/accounts",
            None,
            json!({"username": username, "password": "correct horse"}),
        )
        .await
        .expect(201)
        .body
    }

    /// Logs `username` in and returns a token.
    pub async fn login(&self, username: &str) -> String {
        let reply = self
            .post(
                "/api/sessions",
                None,
                json!({"username": username, "password": "correct horse"}),
            )
            .await
            .expect(201);
        reply.body["token"].as_str().expect("token").to_owned()
    }

    /// Registers and logs in; returns the token.
    pub async fn user(&self, username: &str) -> String {
        self.register(username).await;
        self.login(username).await
    }

    /// Posts a tweet and returns it.
    pub async fn tweet(&self, token: &str, text: &str) -> Value {
        self.post("/api/tweets", Some(token), json!({"text": text}))
            .await
            .expect(201)
            .body
    }

    /// Posts a tweet and returns its id.
    pub async fn tweet_id(&self, token: &str, text: &str) -> i64 {
        self.tweet(token, text).await["id"]
            .as_i64()
            .expect("tweet id")
    }
}

impl TestApp {
    /// An account as the API shows it now.
    pub async fn account(&self, username: &str) -> Value {
        self.get(&format!("/api/accounts/{username}"))
            .await
            .expect(200)
            .body
    }

    /// Posts a tweet with extra fields (`reply_to`, `category`) and returns its id.
    pub async fn tweet_with(&self, token: &str, body: Value) -> i64 {
        self.post("/api/tweets", Some(token), body)
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .expect("tweet id")
    }

    /// Creates a category and returns it.
    pub async fn category(&self, token: &str, slug: &str, name: &str) -> Value {
        self.post(
            "/api/categories",
            Some(token),
            json!({"slug": slug, "name": name}),
        )
        .await
        .expect(201)
        .body
    }

    /// Follows every page of the list at `path` (which may already carry a
    /// query) with `limit` items a page; returns the pages' items in order.
    /// Asserts that every page but the last is full and has a cursor.
    pub async fn walk(&self, path: &str, limit: u32) -> Vec<Value> {
        self.walk_with(None, path, limit).await
    }

    /// [`TestApp::walk`] with a login.
    pub async fn walk_as(&self, token: &str, path: &str, limit: u32) -> Vec<Value> {
        self.walk_with(Some(token), path, limit).await
    }

    async fn walk_with(&self, token: Option<&str>, path: &str, limit: u32) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
                None => format!("{path}{sep}limit={limit}"),
            };
            let page = self.call(Method::GET, &url, token, None).await.expect(200);
            let got = page.items().clone();
            assert!(got.len() <= limit as usize, "page over the limit: {url}");
            match page.body["next_cursor"].as_str() {
                Some(next) => {
                    assert_eq!(got.len(), limit as usize, "short page with a cursor: {url}");
                    cursor = Some(next.to_owned());
                    items.extend(got);
                }
                None => {
                    assert!(
                        page.body["next_cursor"].is_null(),
                        "bad cursor: {:?}",
                        page.body
                    );
                    items.extend(got);
                    return items;
                }
            }
        }
        panic!("paging {path} did not end");
    }
}

/// The `id`s of list items.
pub fn ids(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}

/// Whether `ids` is strictly decreasing (newest first, no duplicates).
pub fn newest_first(ids: &[i64]) -> bool {
    ids.windows(2).all(|w| w[0] > w[1])
}

/// Runs each named `async fn(TestApp)` on SQLite and on PostgreSQL.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                    super::$name(app).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await;
                    super::$name(app).await
                }
            )*
        }
    };
}
pub(crate) use both;
