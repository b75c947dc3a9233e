//! A test site (the real API behind the web router) and a tiny browser
//! that keeps cookies and fills in the CSRF field like a real form would.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chirp_api::request_log::RequestLog;
use chirp_api::{ApiConfig, AppState};
use chirp_app::Metrics;
use chirp_app::likes::batcher::BatcherConfig;
use chirp_app::likes::{Likes, LikesConfig};
use chirp_client::Client;
use chirp_store::sql::PoolConfig;
use chirp_store::{SqlStore, Store};
use chirp_web::WebConfig;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::Value;

/// The exact policy every page must send.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub const PASSWORD: &str = "correct horse";

/// A running site; `dir` holds the database, journal and request log.
pub struct TestSite {
    pub base: String,
    pub _dir: tempfile::TempDir,
}

/// The API app on a fresh SQLite database, set up as `chirp serve` does:
/// `embeddable` (no fallback, for merging with the site) or whole.
async fn api_app(dir: &tempfile::TempDir, embeddable: bool) -> axum::Router {
    let url = format!("sqlite://{}", dir.path().join("chirp.db").display());
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::connect(&url, &PoolConfig::default())
            .await
            .expect("connect to the test database"),
    );
    let metrics = Metrics::new();
    let batcher = BatcherConfig {
        journal: dir.path().join("likes.journal"),
        ..BatcherConfig::default()
    };
    let likes = Likes::start(
        LikesConfig::Batched(batcher),
        store.clone(),
        metrics.clone(),
    )
    .await
    .expect("start the like service");
    let requests =
        RequestLog::create(&dir.path().join("requests.log"), "test".into()).expect("request log");
    let app = chirp_app::App::new(
        store,
        likes,
        Arc::new(chirp_app::InProcessBus::default()),
        Arc::new(chirp_broker::InProcessBroker::default()),
        metrics,
        chirp_app::AppConfig::default(),
    );
    // Each test signs up its accounts from one address: no per-client
    // rate limits (the log-in throttle per username stays).
    let config = ApiConfig {
        rate_limits: chirp_api::rate_limit::class::RateLimits::off(),
        ..ApiConfig::default()
    };
    let state = AppState::new(app, config, requests);
    if embeddable {
        chirp_api::embeddable_router(state)
    } else {
        chirp_api::router(state)
    }
}

/// Serves `app` on a random port as `chirp serve` does (handlers see the
/// peer's address); returns its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options = chirp_http::ServeOptions::default();
    tokio::spawn(chirp_http::serve(
        listener,
        app,
        options,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

/// The embedded shape: web and API in one app, the site calling the API
/// router in-process.
pub async fn spawn() -> TestSite {
    spawn_with(WebConfig::default()).await
}

/// [`spawn`] with the site's settings given.
pub async fn spawn_with(config: WebConfig) -> TestSite {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = api_app(&dir, true).await;
    let web = chirp_web::router(Client::in_process(api.clone()), config);
    let base = serve(web.merge(api)).await;
    TestSite { base, _dir: dir }
}

/// The scaled shape: the API on its own port, the site reaching it over HTTP.
/// Returns the site and the API's base URL.
pub async fn spawn_over_http() -> (TestSite, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let api_base = serve(api_app(&dir, false).await).await;
    let client = Client::over_http(&api_base).expect("API address");
    let base = serve(chirp_web::router(client, WebConfig::default())).await;
    (TestSite { base, _dir: dir }, api_base)
}

/// The site over an API that does not answer (nothing listens on port 9).
pub async fn spawn_with_dead_api() -> TestSite {
    let dir = tempfile::tempdir().expect("temp dir");
    let client = Client::over_http("http://127.0.0.1:9").expect("API address");
    let base = serve(chirp_web::router(client, WebConfig::default())).await;
    TestSite { base, _dir: dir }
}

/// One HTTP answer, body as text.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `Set-Cookie` line for `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

/// A cookie-keeping client that does not follow redirects by itself, so
/// tests see each 303 and every `Set-Cookie`.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    pub fn new(site: &TestSite) -> Self {
        Self::at(&site.base)
    }

    pub fn at(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base: base.to_owned(),
            client,
            jar: Mutex::new(BTreeMap::new()),
        }
    }

    /// The CSRF token the site puts in this browser's forms now, read from
    /// the log-in page (which every visitor, logged in or not, can open).
    pub async fn csrf(&self) -> String {
        let page = self.get("/login").await.expect(200);
        form_token(&page.body).expect("a CSRF field on the log-in page")
    }

    /// Puts a cookie in the jar, as if a page had set it.
    pub fn put_cookie(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .expect("jar")
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().expect("jar").get(name).cloned()
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let cookies = {
            let jar = self.jar.lock().expect("jar");
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let req = if cookies.is_empty() {
            req
        } else {
            req.header(reqwest::header::COOKIE, cookies)
        };
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        {
            let mut jar = self.jar.lock().expect("jar");
            for line in headers.get_all(SET_COOKIE).iter() {
                let line = line.to_str().expect("ascii cookie");
                let first = line.split(';').next().unwrap_or_default();
                let (name, value) = first.split_once('=').expect("name=value");
                if line.contains("Max-Age=0") || value.is_empty() {
                    jar.remove(name);
                } else {
                    jar.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let body = resp.text().await.expect("body");
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    /// Posts exactly `fields` as a form (no CSRF field added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with_headers(path, fields, &[]).await
    }

    /// [`Self::post_raw`] with extra request headers, such as the
    /// `Sec-Fetch-Site` or `Origin` a browser adds.
    pub async fn post_with_headers(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.send(req).await
    }

    /// Submits a form like a browser: with the CSRF field, following a 303.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let page = self.post_raw(path, &all).await;
        if page.status == 303 {
            let to = page.header(LOCATION.as_str()).to_owned();
            let to = to.split('#').next().unwrap_or_default().to_owned();
            return self.get(&to).await;
        }
        page
    }

    pub async fn sign_up(&self, username: &str, display_name: &str) -> Page {
        self.submit(
            "/signup",
            &[
                ("username", username),
                ("password", PASSWORD),
                ("display_name", display_name),
            ],
        )
        .await
    }

    /// Posts from the compose box on Home, as the page's form does.
    pub async fn post_tweet(&self, text: &str) -> Page {
        self.submit("/", &[("text", text)]).await
    }
}

/// The value of the first hidden `csrf` field in a page.
pub fn form_token(body: &str) -> Option<String> {
    let marker = r#"name="csrf" value=""#;
    let start = body.find(marker)? + marker.len();
    let len = body[start..].find('"')?;
    Some(body[start..start + len].to_owned())
}

/// Reads the API directly, to check what a page did (or did not) change.
pub async fn api_get(base: &str, path: &str) -> Value {
    reqwest::get(format!("{base}{path}"))
        .await
        .expect("API request")
        .json()
        .await
        .expect("API JSON")
}

/// The id of the newest public tweet.
pub async fn newest_tweet_id(base: &str) -> i64 {
    api_get(base, "/api/tweets").await["items"][0]["id"]
        .as_i64()
        .expect("a tweet")
}

/// `text` as askama escapes it (numeric entities), to find it in a page.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}
