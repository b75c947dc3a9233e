//! A scripted upstream that counts its calls, and a proxy in front of it on
//! port 0.
//!
//! The upstream answers every method and path with JSON naming the request
//! and a global call number (so two answers from two upstream calls always
//! differ). Query parameters script the answer: `sleep_ms`, `status`, `cc`
//! (Cache-Control), `set_cookie`, `bytes` (a body of that many bytes) with
//! `chunked` (no Content-Length).
//!
//! [`spawn_strict_upstream`] is a second, raw one that frames requests the
//! way nginx does.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chirp_cache::{CacheConfig, CacheOptions};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What the upstream saw.
#[derive(Clone, Default)]
pub struct UpstreamLog {
    /// `"METHOD /path"` → number of calls.
    calls: Arc<Mutex<HashMap<String, usize>>>,
    /// Distinct client sockets: how many connections the proxy opened.
    peers: Arc<Mutex<HashSet<SocketAddr>>>,
    total: Arc<AtomicUsize>,
}

impl UpstreamLog {
    /// Calls for `"GET /api/tweets/7"` (method, space, path without query).
    pub fn calls(&self, method_and_path: &str) -> usize {
        let calls = self.calls.lock().expect("calls lock");
        calls.get(method_and_path).copied().unwrap_or(0)
    }

    pub fn connections(&self) -> usize {
        self.peers.lock().expect("peers lock").len()
    }
}

pub fn upstream_router(log: UpstreamLog) -> Router {
    Router::new().fallback(answer).with_state(log)
}

async fn answer(
    State(log): State<UpstreamLog>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> Response {
    let call = log.total.fetch_add(1, Ordering::SeqCst) + 1;
    let name = format!("{} {}", req.method(), req.uri().path());
    *log.calls
        .lock()
        .expect("calls lock")
        .entry(name)
        .or_default() += 1;
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        log.peers.lock().expect("peers lock").insert(*peer);
    }
    if let Some(ms) = q.get("sleep_ms").and_then(|v| v.parse().ok()) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = q
        .get("status")
        .and_then(|s| s.parse().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut resp = match q.get("bytes").and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if q.contains_key("chunked") => {
            let chunks = vec![b'x'; n]
                .chunks(1024)
                .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>();
            Body::from_stream(futures_util::stream::iter(chunks)).into_response()
        }
        Some(n) => vec![b'x'; n].into_response(),
        None => {
            let headers: HashMap<String, String> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_owned()))
                .collect();
            axum::Json(serde_json::json!({
                "method": req.method().as_str(),
                "uri": req.uri().to_string(),
                "call": call,
                "headers": headers,
            }))
            .into_response()
        }
    };
    *resp.status_mut() = status;
    if let Some(cc) = q.get("cc") {
        let value = HeaderValue::try_from(cc.as_str()).expect("header value");
        resp.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    if q.contains_key("set_cookie") {
        let cookie = HeaderValue::from_static("csrf=abc; HttpOnly");
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    resp
}

/// Serves the upstream on port 0; it lives as long as the test's runtime.
pub async fn spawn_upstream() -> (SocketAddr, UpstreamLog) {
    let log = UpstreamLog::default();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("upstream addr");
    let app = upstream_router(log.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.expect("upstream serve") });
    (addr, log)
}

/// The proxy under test, in front of a counting upstream.
pub struct TestProxy {
    pub url: String,
    pub upstream: UpstreamLog,
    pub client: reqwest::Client,
}

impl TestProxy {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path).await
    }

    pub async fn send(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        let url = format!("{}{path}", self.url);
        self.client
            .request(method, url)
            .send()
            .await
            .expect("request to the proxy")
    }

    pub async fn stats(&self) -> serde_json::Value {
        self.get("/_cache/stats")
            .await
            .json()
            .await
            .expect("stats JSON")
    }
}

pub async fn spawn_proxy(options: CacheOptions) -> TestProxy {
    let (upstream_addr, upstream) = spawn_upstream().await;
    let mut config = CacheConfig::new(&format!("http://{upstream_addr}")).expect("config");
    config.cache = options;
    TestProxy {
        url: spawn_proxy_to(config).await,
        upstream,
        client: reqwest::Client::new(),
    }
}

/// Starts the proxy with `config`; returns its base URL.
pub async fn spawn_proxy_to(config: CacheConfig) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let addr = listener.local_addr().expect("proxy addr");
    tokio::spawn(chirp_cache::serve(
        listener,
        config,
        chirp_http::ServeOptions::default(),
        std::future::pending(),
    ));
    format!("http://{addr}")
}

pub fn x_cache(resp: &reqwest::Response) -> &str {
    resp.headers()
        .get("x-cache")
        .expect("every response carries X-Cache")
        .to_str()
        .expect("X-Cache is text")
}

/// An upstream that, like nginx, reads the body a request declares before it
/// answers, and waits for it as long as it takes: `Content-Length: 5` with no
/// body stalls it (and a body nobody declared would be read as the next
/// request). It answers every request with 200 and JSON naming the request
/// line and the number of body bytes it read; connections are kept alive.
pub async fn spawn_strict_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind strict upstream");
    let addr = listener.local_addr().expect("strict upstream addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_strictly(stream));
        }
    });
    addr
}

/// One connection of [`spawn_strict_upstream`]; any I/O error ends it.
async fn serve_strictly(stream: TcpStream) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if stream.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let (mut declared, mut chunked) = (0usize, false);
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            if name.eq_ignore_ascii_case("content-length") {
                declared = value.trim().parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = true;
            }
        }
        let read = if chunked {
            read_chunked(&mut stream).await?
        } else {
            let mut body = vec![0; declared];
            stream.read_exact(&mut body).await?;
            declared
        };
        let body = serde_json::json!({
            "request": request_line.trim_end(),
            "body_bytes": read,
        })
        .to_string();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        stream.get_mut().write_all(head.as_bytes()).await?;
        stream.get_mut().write_all(body.as_bytes()).await?;
    }
}

/// Reads a chunked body through its last chunk and trailers; returns its size.
async fn read_chunked(stream: &mut BufReader<TcpStream>) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let mut size_line = String::new();
        stream.read_line(&mut size_line).await?;
        let size = size_line.trim().split(';').next().unwrap_or("0");
        let size = usize::from_str_radix(size, 16).unwrap_or(0);
        if size == 0 {
            loop {
                let mut trailer = String::new();
                if stream.read_line(&mut trailer).await? == 0 || trailer.trim_end().is_empty() {
                    return Ok(total);
                }
            }
        }
        let mut chunk = vec![0; size + 2];
        stream.read_exact(&mut chunk).await?;
        total += size;
    }
}
