//! The hot loop's HTTP: a pooled hyper client that sends one request and
//! reports its status, nothing more. The typed `chirp_client::Client`
//! decodes JSON into types, which a load generator does not need and whose
//! cost would compete with the server on a small machine.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::LoadError;

/// How one request ended, as the summary counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// The server answered with this status.
    Status(u16),
    /// No answer: the connection failed or broke off.
    Transport,
    /// No answer within the request timeout.
    Timeout,
    /// Not sent: the open model's in-flight cap was reached, so the request
    /// counts as an error rather than silently being sent late.
    Overflow,
}

impl Outcome {
    /// Whether this counts as a success (a 2xx answer).
    pub fn is_ok(self) -> bool {
        matches!(self, Self::Status(s) if (200..300).contains(&s))
    }

    /// The key of this outcome in the summary's `status` map.
    pub fn label(self) -> String {
        match self {
            Self::Status(s) => s.to_string(),
            Self::Transport => "transport".into(),
            Self::Timeout => "timeout".into(),
            Self::Overflow => "overflow".into(),
        }
    }
}

/// A pooled keep-alive HTTP/1 client bound to one target. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    timeout: Duration,
}

impl Http {
    /// A client of `target` (`http://host:port`), every request limited to
    /// `timeout`.
    pub fn new(target: &str, timeout: Duration) -> Result<Self, LoadError> {
        let base = target.trim_end_matches('/').to_string();
        let uri: Uri = base
            .parse()
            .map_err(|_| LoadError::BadTarget(target.into()))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() {
            return Err(LoadError::BadTarget(target.into()));
        }
        let mut connector = HttpConnector::new();
        // Small requests on many connections: do not wait for Nagle.
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(usize::MAX)
            .build(connector);
        Ok(Self {
            client,
            base,
            timeout,
        })
    }

    /// The target's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request and reads the whole answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<(Outcome, Bytes), LoadError> {
        let uri = format!("{}{path}", self.base);
        let mut req = Request::builder().method(method).uri(&uri);
        if let Some(token) = token {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| LoadError::Request(format!("{uri}: {e}")))?;
            req = req.header(AUTHORIZATION, value);
        }
        let req = match body {
            Some(json) => req
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(json))),
            None => req.body(Full::new(Bytes::new())),
        }
        .map_err(|e| LoadError::Request(format!("{uri}: {e}")))?;
        let exchange = async {
            let resp = self.client.request(req).await.ok()?;
            let status: StatusCode = resp.status();
            let bytes = resp.into_body().collect().await.ok()?.to_bytes();
            Some((Outcome::Status(status.as_u16()), bytes))
        };
        Ok(match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Some(answer)) => answer,
            Ok(None) => (Outcome::Transport, Bytes::new()),
            Err(_) => (Outcome::Timeout, Bytes::new()),
        })
    }
}
