//! [`Client`]: one call path over either transport, with a timeout on
//! every call, the bearer token when one is given, the browser's address
//! when the client speaks for one, and the API's answers decoded into
//! types or a [`ClientError`].

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::BoxError;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::{Service, ServiceExt};

use crate::ClientError;
use crate::transport::{self, Transport};

/// Largest API answer a client reads; pages of lists hold at most 100 items.
const MAX_BODY: usize = 4 << 20;

/// A typed client of the chirp API. Cheap to clone: clones share the
/// transport (and, over HTTP, its connection pool).
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    /// The browser this client speaks for, passed on with every call (see
    /// [`Self::for_client`]).
    client: Option<IpAddr>,
    /// How long a call may take, from sending the request to the last
    /// byte of the answer.
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client", &self.client)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// How long a call may take unless [`Self::with_timeout`] says otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Calls the API in-process: requests go straight into `service`,
    /// typically the API's `axum::Router`.
    pub fn in_process<S, B>(service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self::with_transport(transport::boxed(service))
    }

    /// Calls the API over HTTP at `base` (e.g. `http://127.0.0.1:8081`),
    /// through a connection pool. Nothing is sent yet: an API that is down
    /// shows as [`ClientError::Transport`] on the first call.
    pub fn over_http(base: &str) -> Result<Self, ClientError> {
        Ok(Self::with_transport(transport::over_http(base)?))
    }

    fn with_transport(transport: Transport) -> Self {
        Self {
            transport,
            client: None,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// The same client with every call limited to `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a call may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The same API, called on behalf of the browser at `addr` (none: on
    /// nobody's behalf), so the API's per-client rules (the log-in
    /// throttle) see the browser rather than the caller. In-process the
    /// address is the request's peer (`ConnectInfo`); over HTTP it travels
    /// in `X-Forwarded-For`, believed when the caller is one of the API's
    /// trusted proxies.
    pub fn for_client(&self, addr: Option<IpAddr>) -> Self {
        Self {
            client: addr,
            ..self.clone()
        }
    }

    /// Sends one request and reads the answer, within the timeout; a 2xx
    /// status and body are returned, anything else becomes a
    /// [`ClientError`].
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let req = self.request(&method, path, token, body)?;
        let answer = tokio::time::timeout(self.timeout, self.deliver(req)).await;
        let result = match answer {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout(self.timeout)),
        };
        if let Err(e @ (ClientError::Transport(_) | ClientError::Timeout(_))) = &result {
            tracing::warn!(%method, path, error = %e, "API call failed");
        }
        result
    }

    fn request(
        &self,
        method: &Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Request<Body>, ClientError> {
        let mut req = Request::builder().method(method.clone()).uri(path);
        if let Some(addr) = self.client {
            // The API sees the browser as its peer (port unknown, so 0).
            req = req.extension(ConnectInfo(SocketAddr::new(addr, 0)));
        }
        if let Some(token) = token {
            // A token no header can carry is no session the API issued.
            let value =
                HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| not_logged_in())?;
            req = req.header(header::AUTHORIZATION, value);
        }
        let req = match body {
            Some(json) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json)),
            None => req.body(Body::empty()),
        };
        req.map_err(|e| ClientError::Request(format!("{method} {path}: {e}")))
    }

    async fn deliver(&self, req: Request<Body>) -> Result<(StatusCode, Bytes), ClientError> {
        let resp = self
            .transport
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| ClientError::Transport(with_causes(&*e)))?;
        let status = resp.status();
        let bytes = http_body_util::Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| ClientError::Transport(format!("reading the answer: {e}")))?
            .to_bytes();
        if status.is_success() {
            Ok((status, bytes))
        } else {
            Err(ClientError::from_answer(status, &bytes))
        }
    }

    /// Opens a long-lived answer, such as the notification stream, and
    /// hands back its body unread so the caller can relay it as it comes.
    /// The timeout covers only the wait for the status line: the body of a
    /// stream has no end to wait for. `headers` go with the request (say,
    /// `Last-Event-ID`).
    pub async fn open_stream(
        &self,
        path: &str,
        token: &str,
        headers: &[(header::HeaderName, HeaderValue)],
    ) -> Result<Body, ClientError> {
        let mut req = self.request(&Method::GET, path, Some(token), None)?;
        for (name, value) in headers {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        let answer = tokio::time::timeout(self.timeout, self.transport.clone().oneshot(req)).await;
        let resp = match answer {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => return Err(ClientError::Transport(with_causes(&*e))),
            Err(_) => return Err(ClientError::Timeout(self.timeout)),
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(resp.into_body());
        }
        // An error answer is small and complete: read it for its message.
        let bytes = http_body_util::Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| ClientError::Transport(format!("reading the answer: {e}")))?
            .to_bytes();
        Err(ClientError::from_answer(status, &bytes))
    }

    /// A call without a body whose answer is ignored (204s).
    pub(crate) async fn act(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> Result<(), ClientError> {
        self.send(method, path, token, None).await.map(|_| ())
    }

    /// A call without a body, answered with a `T`.
    pub(crate) async fn read<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> Result<T, ClientError> {
        let (status, bytes) = self.send(method, path, token, None).await?;
        decode(status, &bytes)
    }

    /// A call with a JSON body, answered with a `T`.
    pub(crate) async fn write<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> Result<T, ClientError> {
        let json = serde_json::to_vec(body)
            .map_err(|e| ClientError::Request(format!("{method} {path}: {e}")))?;
        let (status, bytes) = self.send(method, path, token, Some(json)).await?;
        decode(status, &bytes)
    }
}

/// `e` and what caused it: hyper's own message ("client error (Connect)")
/// says little without the `connection refused` beneath it.
fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let _ = write!(text, ": {c}");
        cause = c.source();
    }
    text
}

fn decode<T: DeserializeOwned>(status: StatusCode, bytes: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(bytes).map_err(|e| ClientError::Unexpected {
        status,
        detail: format!("unreadable API answer: {e}"),
    })
}

/// What the API would say to a token it never issued.
fn not_logged_in() -> ClientError {
    ClientError::Api {
        status: StatusCode::UNAUTHORIZED,
        code: "invalid_token".into(),
        message: "please log in again".into(),
        field: None,
    }
}
