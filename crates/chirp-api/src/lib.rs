//! The HTTP API of chirp.
//!
//! * [`router`] builds the whole axum app from an [`AppState`]: the `/api`
//!   routes (one module per resource under [`routes`]), health checks, the
//!   OpenAPI document and its interactive docs, and the layers around them.
//! * [`error`] holds [`ApiError`], the one place HTTP statuses are chosen.
//! * [`extract`] wraps axum's extractors so bad input is answered in our JSON
//!   error shape, and authenticates requests ([`extract::CurrentUser`]).
//! * [`auth`] finds a request's session token (header or cookie).
//! * [`request_log`] is the request log behind `/logs` (SPEC §1.5).
//! * [`rate_limit`] limits each class of request per client address
//!   (SPEC §1.7); [`throttle`] stops password guessing per username.
//!
//! HTTP only: every handler parses its input, calls one operation of
//! [`chirp_app::App`] and shapes the answer. The operations, the like
//! batcher and the metrics live in chirp-app; this crate never touches the
//! store.
//!
//! Error policy: handlers return typed [`ApiError`]s; chirp-app's errors
//! convert into them in one place; `anyhow` appears only as the hidden cause
//! of a 500 or 503, which is logged and never shown to clients.

pub mod auth;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod rate_limit;
pub mod rejection;
pub mod request_log;
pub mod routes;
pub mod server;
pub mod state;
pub mod throttle;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use error::{ApiError, ApiResult};
pub use state::{ApiConfig, AppState};

/// The routes with their OpenAPI document, built from the handlers'
/// annotations. Calls to `/api/...` are recorded in the request log.
pub fn openapi_router(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = routes::router()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::layer::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::logs::record_calls,
        ));
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(api)
        .merge(routes::health::router())
        .split_for_parts();
    utoipa::Modify::modify(&openapi::ErrorResponses, &mut doc);
    utoipa::Modify::modify(&openapi::Links, &mut doc);
    (router, doc)
}

/// The complete API application, on its own (`chirp api`): every unknown
/// path is the API's JSON 404.
pub fn router(state: AppState) -> Router {
    build(state, true)
}

/// The API for merging with the web site (`chirp serve`): no fallback, so
/// the site's own 404 page answers unknown pages; unknown paths under
/// `/api/` still get the API's JSON 404.
pub fn embeddable_router(state: AppState) -> Router {
    build(state, false)
}

fn build(state: AppState, fallback: bool) -> Router {
    let body_limit = state.config.body_limit;
    let (api, doc) = openapi_router(&state);
    let docs = Router::from(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc));
    let unknown = || async { ApiError::NotFound("route") };
    let mut app = api
        .merge(docs_headers(docs))
        .route("/api/{*rest}", axum::routing::any(unknown))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed });
    if fallback {
        app = app.fallback(unknown);
    }
    app.layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The interactive docs are a page of ours like any other: no framing (no
/// clickjacking), no script but its own files. Swagger UI sets inline
/// styles and data: images, so those are allowed here (not on the site).
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn docs_headers<S: Clone + Send + Sync + 'static>(docs: Router<S>) -> Router<S> {
    use axum::http::{HeaderValue, header};
    use tower_http::set_header::SetResponseHeaderLayer;
    docs.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("DENY"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ))
}

/// A handler that panicked answers like any other internal error.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}
