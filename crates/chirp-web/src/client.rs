//! [`ApiClient`]: the only way the web site reaches chirp's data.
//!
//! The site never touches the store; it speaks the public HTTP API, so what
//! a browser sees is exactly what an API client sees. The client sends
//! `http::Request`s to any `tower::Service`: in the embedded process that
//! service is the API's own `axum::Router` (no socket, no serialization of
//! the connection), and in the scaled topology it is a hyper client pointed
//! at the API's address. One code path, two transports.
//!
//! A client can speak for one browser ([`ApiClient::for_client`]): its
//! calls then carry the browser's address, so the API sees who it is
//! serving (its per-client log-in throttling needs that) rather than the
//! web site. In-process the address is the request's peer
//! (`ConnectInfo`); over HTTP it is the `X-Forwarded-For` header, which
//! the API believes when the web site is one of its trusted proxies.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use chirp_core::model::{Account, Category, FollowState, HashtagCount, Tweet};
use chirp_core::page::Paged;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

/// Largest API answer the site will read; pages show at most 100 tweets.
const MAX_BODY: usize = 4 << 20;

/// Why an API call failed, in a form a page can show.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The API answered with its JSON error shape.
    #[error("{message}")]
    Api {
        status: StatusCode,
        code: String,
        message: String,
        field: Option<String>,
    },
    /// The API could not be reached or answered something unreadable.
    #[error("chirp is having trouble right now ({0}); please try again")]
    Unavailable(String),
}

impl ClientError {
    /// The status a page showing this error should answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Api { status, .. } => *status,
            Self::Unavailable(_) => StatusCode::BAD_GATEWAY,
        }
    }

    /// A refusal the site decides itself, shaped like the API's.
    pub fn forbidden(message: &str) -> Self {
        Self::Api {
            status: StatusCode::FORBIDDEN,
            code: "forbidden".into(),
            message: message.into(),
            field: None,
        }
    }

    /// Whether the API said "not logged in" (an expired or revoked session).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == StatusCode::UNAUTHORIZED
    }
}

/// `{"error": {...}}` as the API writes it.
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    field: Option<String>,
}

/// A new session as `POST /api/sessions` returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    pub token: String,
    pub account: Account,
}

/// The answer to a like.
#[derive(Debug, Clone, Deserialize)]
pub struct LikeCount {
    pub tweet_id: i64,
    pub like_count: i64,
}

/// Whether the signed-in account follows another.
#[derive(Debug, Clone, Deserialize)]
struct FollowStatus {
    state: Option<FollowState>,
}

/// Anything that answers API requests: the API router, or an HTTP client.
pub type ApiService = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

/// The header the browser's address travels in over HTTP.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// A typed client of the chirp API over any [`ApiService`].
#[derive(Clone)]
pub struct ApiClient {
    service: ApiService,
    /// The browser this client speaks for, passed on with every call as
    /// the request's `ConnectInfo` (see [`Self::for_client`]).
    client: Option<IpAddr>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client over any service that answers HTTP requests.
    pub fn new<S>(service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        Self {
            service: BoxCloneSyncService::new(service),
            client: None,
        }
    }

    /// The same API, called on behalf of the browser at `addr` (none: on
    /// nobody's behalf). Cheap: the transport is shared.
    pub fn for_client(&self, addr: Option<IpAddr>) -> Self {
        Self {
            service: self.service.clone(),
            client: addr,
        }
    }

    /// Calls the API in-process: requests go straight into its router.
    pub fn in_process(api: axum::Router) -> Self {
        Self::new(api)
    }

    /// Calls an API over HTTP at `base` (e.g. `http://127.0.0.1:8081`);
    /// a connection failure becomes a 502 answer, hence
    /// [`ClientError::Unavailable`].
    pub fn over_http(base: &str) -> Result<Self, ClientError> {
        let base: Uri = base
            .parse()
            .map_err(|e| ClientError::Unavailable(format!("bad API address {base:?}: {e}")))?;
        let (Some(scheme), Some(authority)) = (base.scheme().cloned(), base.authority().cloned())
        else {
            return Err(ClientError::Unavailable(format!(
                "API address {base} needs a scheme and host"
            )));
        };
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Body>();
        let service = tower::service_fn(move |mut req: Request<Body>| {
            let client = client.clone();
            let (scheme, authority) = (scheme.clone(), authority.clone());
            forward_client(&mut req);
            async move {
                let mut parts = req.uri().clone().into_parts();
                parts.scheme = Some(scheme);
                parts.authority = Some(authority);
                match Uri::from_parts(parts) {
                    Ok(uri) => *req.uri_mut() = uri,
                    Err(e) => return Ok(gateway_error(&e.to_string())),
                }
                match client.request(req).await {
                    Ok(resp) => Ok::<_, Infallible>(resp.map(Body::new)),
                    Err(e) => Ok(gateway_error(&e.to_string())),
                }
            }
        });
        Ok(Self::new(service))
    }

    /// Sends one request; a 2xx body is returned, anything else becomes a
    /// [`ClientError`].
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Result<Bytes, ClientError> {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(addr) = self.client {
            // The API sees the browser as its peer (port unknown, so 0).
            req = req.extension(ConnectInfo(SocketAddr::new(addr, 0)));
        }
        if let Some(token) = token {
            let value =
                HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| unauthorized())?;
            req = req.header(header::AUTHORIZATION, value);
        }
        let req = match body {
            Some(json) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string())),
            None => req.body(Body::empty()),
        }
        .map_err(|e| ClientError::Unavailable(e.to_string()))?;
        let Ok(resp) = self.service.clone().oneshot(req).await;
        let status = resp.status();
        let bytes = http_body_util::Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| ClientError::Unavailable(e.to_string()))?
            .to_bytes();
        if status.is_success() {
            return Ok(bytes);
        }
        Err(match serde_json::from_slice::<ErrorEnvelope>(&bytes) {
            Ok(ErrorEnvelope { error }) => ClientError::Api {
                status,
                code: error.code,
                message: error.message,
                field: error.field,
            },
            Err(_) => ClientError::Unavailable(format!("API answered {status}")),
        })
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Result<T, ClientError> {
        let bytes = self.call(method, path, token, body).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Unavailable(format!("unreadable API answer: {e}")))
    }

    /// Newest tweets of everyone (`GET /api/tweets`).
    pub async fn public_timeline(&self, cursor: Option<&str>) -> Result<Paged<Tweet>, ClientError> {
        let path = with_cursor("/api/tweets".into(), cursor)?;
        self.json(Method::GET, &path, None, None).await
    }

    /// Newest tweets carrying `tag` (`GET /api/tweets?hashtag=`).
    pub async fn hashtag(
        &self,
        tag: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>, ClientError> {
        let path = format!("/api/tweets?{}", query("hashtag", tag)?);
        let path = with_cursor(path, cursor)?;
        self.json(Method::GET, &path, None, None).await
    }

    /// The signed-in account's home timeline.
    pub async fn home_timeline(
        &self,
        token: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>, ClientError> {
        let path = with_cursor("/api/timelines/home".into(), cursor)?;
        self.json(Method::GET, &path, Some(token), None).await
    }

    pub async fn tweet(&self, id: i64) -> Result<Tweet, ClientError> {
        self.json(Method::GET, &format!("/api/tweets/{id}"), None, None)
            .await
    }

    pub async fn replies(&self, id: i64) -> Result<Paged<Tweet>, ClientError> {
        let path = format!("/api/tweets/{id}/replies");
        self.json(Method::GET, &path, None, None).await
    }

    /// `username` must already be validated: it is put in the path as is.
    pub async fn account(&self, username: &str) -> Result<Account, ClientError> {
        let path = format!("/api/accounts/{username}");
        self.json(Method::GET, &path, None, None).await
    }

    pub async fn account_tweets(
        &self,
        username: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>, ClientError> {
        let path = with_cursor(format!("/api/accounts/{username}/tweets"), cursor)?;
        self.json(Method::GET, &path, None, None).await
    }

    /// Who a session token belongs to.
    pub async fn me(&self, token: &str) -> Result<Account, ClientError> {
        self.json(Method::GET, "/api/me", Some(token), None).await
    }

    pub async fn sign_up(
        &self,
        username: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Result<Account, ClientError> {
        #[derive(Serialize)]
        struct Body<'a> {
            username: &'a str,
            password: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            display_name: Option<&'a str>,
        }
        let body = serde_json::to_value(Body {
            username,
            password,
            display_name,
        })
        .map_err(|e| ClientError::Unavailable(e.to_string()))?;
        self.json(Method::POST, "/api/accounts", None, Some(body))
            .await
    }

    pub async fn log_in(&self, username: &str, password: &str) -> Result<Session, ClientError> {
        let body = json!({"username": username, "password": password});
        self.json(Method::POST, "/api/sessions", None, Some(body))
            .await
    }

    /// Revokes the token server-side.
    pub async fn log_out(&self, token: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, "/api/sessions/current", Some(token), None)
            .await
            .map(|_| ())
    }

    /// Posts a tweet, a reply when `reply_to` is set, in `category` if given.
    pub async fn post_tweet(
        &self,
        token: &str,
        text: &str,
        reply_to: Option<i64>,
        category: Option<&str>,
    ) -> Result<Tweet, ClientError> {
        let mut body = json!({"text": text});
        if let Some(id) = reply_to {
            body["reply_to"] = json!(id);
        }
        if let Some(slug) = category {
            body["category"] = json!(slug);
        }
        self.json(Method::POST, "/api/tweets", Some(token), Some(body))
            .await
    }

    /// Replaces a tweet's text; the API refuses anyone but its author.
    pub async fn edit_tweet(&self, token: &str, id: i64, text: &str) -> Result<Tweet, ClientError> {
        let path = format!("/api/tweets/{id}");
        let body = json!({ "text": text });
        self.json(Method::PATCH, &path, Some(token), Some(body))
            .await
    }

    /// Deletes a tweet; the API refuses anyone but its author.
    pub async fn delete_tweet(&self, token: &str, id: i64) -> Result<(), ClientError> {
        let path = format!("/api/tweets/{id}");
        self.call(Method::DELETE, &path, Some(token), None)
            .await
            .map(|_| ())
    }

    /// Changes the signed-in account's display name and bio.
    pub async fn update_profile(
        &self,
        token: &str,
        display_name: &str,
        bio: &str,
    ) -> Result<Account, ClientError> {
        let body = json!({"display_name": display_name, "bio": bio});
        self.json(Method::PATCH, "/api/me", Some(token), Some(body))
            .await
    }

    /// Whether the signed-in account follows `username` (validated), or
    /// has asked to.
    pub async fn follow_state(
        &self,
        token: &str,
        username: &str,
    ) -> Result<Option<FollowState>, ClientError> {
        let path = format!("/api/accounts/{username}/follow");
        let status: FollowStatus = self.json(Method::GET, &path, Some(token), None).await?;
        Ok(status.state)
    }

    pub async fn follow(&self, token: &str, username: &str) -> Result<(), ClientError> {
        let path = format!("/api/accounts/{username}/follow");
        self.call(Method::POST, &path, Some(token), None)
            .await
            .map(|_| ())
    }

    pub async fn unfollow(&self, token: &str, username: &str) -> Result<(), ClientError> {
        let path = format!("/api/accounts/{username}/follow");
        self.call(Method::DELETE, &path, Some(token), None)
            .await
            .map(|_| ())
    }

    /// Accounts following `username` (validated), or followed by it.
    pub async fn follow_list(
        &self,
        username: &str,
        list: FollowList,
        cursor: Option<&str>,
    ) -> Result<Paged<Account>, ClientError> {
        let path = with_cursor(
            format!("/api/accounts/{username}/{}", list.as_str()),
            cursor,
        )?;
        self.json(Method::GET, &path, None, None).await
    }

    /// Full-text search of tweets.
    pub async fn search_tweets(
        &self,
        q: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>, ClientError> {
        let path = with_cursor(format!("/api/tweets?{}", query("q", q)?), cursor)?;
        self.json(Method::GET, &path, None, None).await
    }

    /// Accounts whose name matches `q`.
    pub async fn search_accounts(
        &self,
        q: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Account>, ClientError> {
        let path = with_cursor(format!("/api/accounts?{}", query("q", q)?), cursor)?;
        self.json(Method::GET, &path, None, None).await
    }

    /// Hashtags starting with `prefix`, most used first.
    pub async fn hashtags(&self, prefix: &str) -> Result<Paged<HashtagCount>, ClientError> {
        let path = format!("/api/hashtags?{}&limit=10", query("q", prefix)?);
        self.json(Method::GET, &path, None, None).await
    }

    /// Every category, newest first (one page of up to 100).
    pub async fn categories(&self) -> Result<Paged<Category>, ClientError> {
        self.json(Method::GET, "/api/categories?limit=100", None, None)
            .await
    }

    /// Starts a category.
    pub async fn create_category(
        &self,
        token: &str,
        slug: &str,
        name: &str,
        description: &str,
    ) -> Result<Category, ClientError> {
        let body = json!({"slug": slug, "name": name, "description": description});
        self.json(Method::POST, "/api/categories", Some(token), Some(body))
            .await
    }

    /// One category; `slug` must already be validated.
    pub async fn category(&self, slug: &str) -> Result<Category, ClientError> {
        let path = format!("/api/categories/{slug}");
        self.json(Method::GET, &path, None, None).await
    }

    /// Newest tweets posted in the category `slug`.
    pub async fn category_tweets(
        &self,
        slug: &str,
        cursor: Option<&str>,
    ) -> Result<Paged<Tweet>, ClientError> {
        let path = with_cursor(format!("/api/tweets?{}", query("category", slug)?), cursor)?;
        self.json(Method::GET, &path, None, None).await
    }

    pub async fn like(&self, id: i64) -> Result<LikeCount, ClientError> {
        let path = format!("/api/tweets/{id}/likes");
        self.json(Method::POST, &path, None, None).await
    }
}

/// The two lists of the social graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowList {
    Followers,
    Following,
}

impl FollowList {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Followers => "followers",
            Self::Following => "following",
        }
    }
}

/// `name=value`, URL-encoded.
pub fn query(name: &str, value: &str) -> Result<String, ClientError> {
    serde_urlencoded::to_string([(name, value)])
        .map_err(|e| ClientError::Unavailable(e.to_string()))
}

/// `path` continued at `cursor` (the `next_cursor` of the previous page).
fn with_cursor(path: String, cursor: Option<&str>) -> Result<String, ClientError> {
    let Some(cursor) = cursor else {
        return Ok(path);
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    Ok(format!("{path}{sep}{}", query("cursor", cursor)?))
}

fn unauthorized() -> ClientError {
    ClientError::Api {
        status: StatusCode::UNAUTHORIZED,
        code: "unauthorized".into(),
        message: "please log in again".into(),
        field: None,
    }
}

/// Over HTTP the peer is the web site itself: the browser's address (the
/// `ConnectInfo` an [`ApiClient::for_client`] call carries) goes in
/// `X-Forwarded-For` instead, replacing any value, and the API believes it
/// if the web site is one of its trusted proxies.
fn forward_client(req: &mut Request<Body>) {
    req.headers_mut().remove(X_FORWARDED_FOR);
    let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&addr.ip().to_string()) {
        req.headers_mut().insert(X_FORWARDED_FOR, value);
    }
}

/// What the HTTP transport answers when the API cannot be reached.
fn gateway_error(why: &str) -> Response<Body> {
    tracing::warn!(error = why, "API unreachable");
    let mut resp = Response::new(Body::from(
        json!({"error": {"code": "unavailable", "message": "chirp cannot reach its API right now; please try again in a moment"}}).to_string(),
    ));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp
}

#[cfg(test)]
mod tests {
    use axum::extract::Request as AxumRequest;
    use axum::routing::get;

    use super::*;

    /// An API stub answering `/who` with the peer it sees (in-process) or
    /// the `X-Forwarded-For` it was sent (over HTTP).
    fn stub() -> axum::Router {
        axum::Router::new().route(
            "/who",
            get(|req: AxumRequest| async move {
                let peer = chirp_http::serve::peer(req.extensions());
                let xff = req.headers().get(X_FORWARDED_FOR).cloned();
                let xff = xff.and_then(|v| v.to_str().ok().map(str::to_owned));
                format!(
                    "peer={} xff={}",
                    peer.map(|p| p.ip().to_string()).unwrap_or_default(),
                    xff.unwrap_or_default()
                )
            }),
        )
    }

    async fn who(api: &ApiClient) -> String {
        let bytes = api
            .call(Method::GET, "/who", None, None)
            .await
            .expect("call");
        String::from_utf8(bytes.to_vec()).expect("text")
    }

    fn browser() -> IpAddr {
        "203.0.113.7".parse().expect("address")
    }

    #[tokio::test]
    async fn in_process_the_api_sees_the_browser_as_its_peer() {
        let api = ApiClient::in_process(stub());
        assert_eq!(who(&api).await, "peer= xff=", "nobody's behalf: nothing");
        let api = api.for_client(Some(browser()));
        assert_eq!(who(&api).await, "peer=203.0.113.7 xff=");
    }

    #[tokio::test]
    async fn over_http_the_browser_travels_in_x_forwarded_for() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let options = chirp_http::ServeOptions::default();
        tokio::spawn(chirp_http::serve(
            listener,
            stub(),
            options,
            std::future::pending(),
        ));
        let api = ApiClient::over_http(&format!("http://{addr}")).expect("client");
        assert_eq!(who(&api).await, "peer=127.0.0.1 xff=");
        let api = api.for_client(Some(browser()));
        assert_eq!(who(&api).await, "peer=127.0.0.1 xff=203.0.113.7");
    }

    #[test]
    fn a_forwarded_address_replaces_whatever_the_request_had() {
        let mut req = Request::new(Body::empty());
        req.headers_mut()
            .insert(X_FORWARDED_FOR, HeaderValue::from_static("6.6.6.6"));
        forward_client(&mut req);
        assert!(req.headers().get(X_FORWARDED_FOR).is_none());
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(browser(), 0)));
        forward_client(&mut req);
        assert_eq!(req.headers()[X_FORWARDED_FOR], "203.0.113.7");
    }
}
