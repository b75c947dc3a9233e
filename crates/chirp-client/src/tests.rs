//! The client against a small in-process stand-in for the API: what it
//! sends, how it reads answers and errors, and when it gives up.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use crate::model::{Author, FollowState, Tweet};
use crate::wire::{ErrorBody, ErrorDetail, LoginBody, NewTweetBody, ProfilePatch};
use crate::{Client, ClientError};

const TOKEN: &str = "tok-123";

fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    field: Option<&str>,
) -> axum::response::Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message: message.into(),
            field: field.map(str::to_owned),
        },
    };
    (status, Json(body)).into_response()
}

fn signed_in(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some("Bearer tok-123")
}

/// What the stub API answers `POST /api/tweets` with: the tweet as sent.
async fn create_tweet(
    headers: HeaderMap,
    Json(body): Json<NewTweetBody>,
) -> axum::response::Response {
    if !signed_in(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in first",
            None,
        )
        .into_response();
    }
    let tweet = Tweet {
        id: 7,
        author: Author {
            id: 1,
            username: "ann".into(),
            display_name: "Ann".into(),
            protected: false,
        },
        text: body.text,
        hashtags: Vec::new(),
        mentions: Vec::new(),
        like_count: 0,
        reply_count: 0,
        reply_to: body.reply_to,
        category: body.category,
        created_at: "2026-01-01T00:00:00Z".parse().expect("time"),
        edited_at: None,
    };
    (StatusCode::CREATED, Json(tweet)).into_response()
}

/// A stand-in for the API with a few of its routes and some misbehaviour.
fn stub() -> axum::Router {
    axum::Router::new()
        .route("/api/tweets", post(create_tweet))
        // The raw body as it arrived, with its content type.
        .route(
            "/api/me",
            axum::routing::patch(|headers: HeaderMap, body: String| async move {
                let kind = headers.get(header::CONTENT_TYPE).cloned();
                let value: Value = serde_json::from_str(&body).expect("JSON body");
                error(
                    StatusCode::IM_A_TEAPOT,
                    "echo",
                    &json!({"content_type": kind.and_then(|k| k.to_str().ok().map(str::to_owned)), "body": value}).to_string(),
                    None,
                )
            }),
        )
        .route(
            "/api/sessions",
            post(|| async {
                error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "password must be 8–128 characters",
                    Some("password"),
                )
            }),
        )
        .route(
            "/api/sessions/current",
            delete(|headers: HeaderMap| async move {
                if signed_in(&headers) {
                    StatusCode::NO_CONTENT.into_response()
                } else {
                    error(StatusCode::UNAUTHORIZED, "unauthorized", "log in first", None).into_response()
                }
            }),
        )
        .route(
            "/api/accounts/{name}/follow",
            post(|| async { Json(json!({"state": "requested"})) }),
        )
        .route(
            "/api/accounts/{name}",
            get(|axum::extract::Path(name): axum::extract::Path<String>| async move {
                error(StatusCode::NOT_FOUND, "not_found", &format!("no {name}"), None)
            }),
        )
        .route("/api/tweets/{id}", get(|| async { (StatusCode::BAD_GATEWAY, "<h1>nginx</h1>") }))
        .route("/api/tweets/{id}/likes", post(|| async { (StatusCode::ACCEPTED, "not json") }))
        .route("/healthz", get(std::future::pending::<()>))
        .route("/who", get(who_answer))
}

/// `GET /who`: the peer the stub sees (in-process: the `ConnectInfo`
/// given) and the `X-Forwarded-For` it was sent, as an error to read back.
async fn who_answer(req: Request) -> impl IntoResponse {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_default();
    let xff = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    error(
        StatusCode::IM_A_TEAPOT,
        "who",
        &format!("peer={peer} xff={xff}"),
        None,
    )
}

async fn who(api: &Client) -> String {
    match api.send(axum::http::Method::GET, "/who", None, None).await {
        Err(ClientError::Api { message, .. }) => message,
        other => panic!("unexpected {other:?}"),
    }
}

fn browser() -> IpAddr {
    "203.0.113.7".parse().expect("address")
}

#[tokio::test]
async fn bodies_go_as_the_api_reads_them_with_the_bearer_token() {
    let api = Client::in_process(stub());
    let body = NewTweetBody {
        text: "hello #rust".into(),
        reply_to: Some(3),
        category: None,
    };
    let tweet = api.post_tweet(TOKEN, &body).await.expect("posted");
    assert_eq!((tweet.id, tweet.text.as_str()), (7, "hello #rust"));
    assert_eq!((tweet.reply_to, tweet.category), (Some(3), None));
    let refused = api.post_tweet("someone-else", &body).await.unwrap_err();
    assert!(refused.is_unauthorized(), "{refused:?}");
}

#[tokio::test]
async fn json_bodies_are_labelled_and_leave_out_what_is_not_set() {
    let api = Client::in_process(stub());
    let patch = ProfilePatch {
        display_name: Some("Ann".into()),
        bio: None,
        protected: None,
    };
    let Err(ClientError::Api { message, .. }) = api.update_profile(TOKEN, &patch).await else {
        panic!("the stub echoes as an error");
    };
    let echo: Value = serde_json::from_str(&message).expect("echo");
    assert_eq!(
        echo,
        json!({"content_type": "application/json", "body": {"display_name": "Ann"}})
    );
}

#[tokio::test]
async fn the_api_error_shape_becomes_its_status_code_message_and_field() {
    let api = Client::in_process(stub());
    let login = LoginBody {
        username: "ann".into(),
        password: "short".into(),
    };
    let e = api.log_in(&login).await.unwrap_err();
    assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e.code(), "validation_failed");
    assert_eq!(e.field(), Some("password"));
    assert_eq!(e.to_string(), "password must be 8–128 characters");
    assert_eq!(e.to_body().error.field.as_deref(), Some("password"));

    let e = api.account("bob").await.unwrap_err();
    assert_eq!((e.status(), e.code()), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(e.field(), None);
}

#[tokio::test]
async fn answers_that_are_not_the_api_s_are_reported_as_unexpected() {
    let api = Client::in_process(stub());
    let e = api.tweet(None, 1).await.unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::Unexpected {
                status: StatusCode::BAD_GATEWAY,
                ..
            }
        ),
        "an error page from a proxy: {e:?}"
    );
    assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
    let e = api.like(1).await.unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::Unexpected {
                status: StatusCode::ACCEPTED,
                ..
            }
        ),
        "a success that does not read as its type: {e:?}"
    );
    assert!(e.to_string().contains("try again"), "{e}");
}

#[tokio::test]
async fn typed_answers_and_empty_ones_are_read() {
    let api = Client::in_process(stub());
    let state = api.follow(TOKEN, "bob").await.expect("followed");
    assert_eq!(state, FollowState::Requested);
    api.log_out(TOKEN).await.expect("204 is a success");
    assert!(api.log_out("stale").await.unwrap_err().is_unauthorized());
}

#[tokio::test]
async fn a_token_no_header_can_carry_is_not_logged_in() {
    let api = Client::in_process(stub());
    let e = api.log_out("bad\ntoken").await.unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    assert_eq!(
        e.code(),
        "invalid_token",
        "like the API's answer to a bad token"
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_that_gets_no_answer_times_out() {
    let api = Client::in_process(stub());
    assert_eq!(api.timeout(), Client::DEFAULT_TIMEOUT);
    let api = api.with_timeout(Duration::from_secs(3));
    let started = tokio::time::Instant::now();
    let e = api.health().await.unwrap_err();
    assert!(
        matches!(e, ClientError::Timeout(d) if d == Duration::from_secs(3)),
        "{e:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert_eq!(e.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(e.to_string().contains("try again"), "{e}");
}

#[tokio::test]
async fn in_process_the_api_sees_the_browser_as_its_peer() {
    let api = Client::in_process(stub());
    assert_eq!(who(&api).await, "peer= xff=", "nobody's behalf: nothing");
    let api = api.for_client(Some(browser()));
    assert_eq!(who(&api).await, "peer=203.0.113.7 xff=");
}

async fn serve_stub() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = stub().into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn over_http_the_browser_travels_in_x_forwarded_for() {
    let addr = serve_stub().await;
    let api = Client::over_http(&format!("http://{addr}")).expect("client");
    assert_eq!(who(&api).await, "peer=127.0.0.1 xff=");
    let api = api.for_client(Some(browser()));
    assert_eq!(who(&api).await, "peer=127.0.0.1 xff=203.0.113.7");
    let e = api.account("bob").await.unwrap_err();
    assert_eq!((e.status(), e.code()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn an_api_that_is_down_is_a_transport_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let api = Client::over_http(&format!("http://{addr}")).expect("client");
    let e = api.account("bob").await.unwrap_err();
    let ClientError::Transport(why) = &e else {
        panic!("{e:?}");
    };
    assert!(
        why.to_lowercase().contains("refused"),
        "the cause is told: {why}"
    );
    assert_eq!(
        (e.status(), e.code()),
        (StatusCode::BAD_GATEWAY, "unavailable")
    );
    assert!(e.to_string().contains("try again"), "{e}");
}
