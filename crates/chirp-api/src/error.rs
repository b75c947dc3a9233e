//! The API's one error type, and the only place statuses are chosen.
//!
//! Handlers return `Result<_, ApiError>`; extractor rejections (bad JSON,
//! bad path or query) are converted here too, so every error a client sees
//! has the same shape:
//! `{"error": {"code": "not_found", "message": "...", "field": "..."}}`.
//! Server-side failures are logged with their cause and answered with an
//! opaque message.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chirp_app::AppError;
/// The JSON error body, shared with chirp-client.
pub use chirp_client::wire::{ErrorBody, ErrorDetail};
use chirp_core::ValidationError;

use crate::rejection::{self, Said};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field broke a rule (422).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The request could not be read: malformed JSON, a bad path or query (400).
    #[error("{0}")]
    BadRequest(String),
    /// A path, query or body that does not read as the route's types (400),
    /// said in our words ([`crate::rejection`]), naming the field.
    #[error("{}", .0.message)]
    Unreadable(Said),
    /// Well-formed JSON of the wrong shape: a missing, unknown or mistyped
    /// field (422, like a field that breaks a rule).
    #[error("{}", .0.message)]
    InvalidBody(Said),
    /// The body is not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// No credentials at all (401).
    #[error("log in first: send `Authorization: Bearer TOKEN` (from POST /api/sessions)")]
    Unauthorized,
    /// A token that is no live session: unknown, expired, revoked, or not
    /// a token at all (401 `invalid_token`, distinct from no token at all).
    #[error(
        "this token is not valid (unknown, expired or logged out): log in again with POST /api/sessions"
    )]
    InvalidToken,
    /// Wrong credentials at login (401).
    #[error("wrong username or password")]
    BadCredentials,
    /// Logged in, but not allowed (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such thing (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No route has this method (405).
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    /// Clashes with what exists (409).
    #[error("{0}")]
    Conflict(String),
    /// Body over the limit (413).
    #[error("request body is too large")]
    PayloadTooLarge,
    /// Too many attempts; try again after `retry_after` (429).
    #[error("too many failed log-ins for this account; try again in {} minute(s)", retry_after.as_secs().div_ceil(60).max(1))]
    RateLimited { retry_after: std::time::Duration },
    /// A client address sent more requests of one class than its rate
    /// limit allows (429); `what` names the class.
    #[error("too many {what} from your address; try again in {} second(s)", crate::rate_limit::verdict::seconds(*retry_after).max(1))]
    TooManyRequests {
        what: &'static str,
        retry_after: std::time::Duration,
    },
    /// The account holds as many notification streams as it may (429).
    #[error("too many open notification streams (at most {0} per account); close one")]
    TooManyStreams(usize),
    /// A dependency (the database) is down (503).
    #[error("service temporarily unavailable, try again shortly")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or broken dependency (500); the cause is logged, not shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::InvalidBody(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) | Self::Unreadable(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized | Self::InvalidToken | Self::BadCredentials => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } | Self::TooManyRequests { .. } | Self::TooManyStreams(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) | Self::InvalidBody(_) => "validation_failed",
            Self::BadRequest(_) | Self::Unreadable(_) => "bad_request",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unauthorized => "unauthorized",
            Self::InvalidToken => "invalid_token",
            Self::BadCredentials => "bad_credentials",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited { .. } | Self::TooManyRequests { .. } => "rate_limited",
            Self::TooManyStreams(_) => "too_many_streams",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// A shorthand for rules checked in handlers.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(ValidationError::new(field, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(e) => tracing::error!(error = ?e, "request failed"),
            Self::Unavailable(e) => tracing::warn!(error = ?e, "dependency unavailable"),
            _ => {}
        }
        let (message, field) = match &self {
            Self::Validation(v) => (format!("{} {}", v.field, v.message), Some(v.field.into())),
            Self::Unreadable(said) | Self::InvalidBody(said) => {
                (said.message.clone(), said.field.clone())
            }
            other => (other.to_string(), None),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                field,
            },
        };
        let mut resp = (self.status(), Json(body)).into_response();
        if let Self::RateLimited { retry_after } | Self::TooManyRequests { retry_after, .. } = &self
        {
            let secs = crate::rate_limit::verdict::seconds(*retry_after)
                .max(1)
                .to_string();
            if let Ok(value) = axum::http::HeaderValue::from_str(&secs) {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
        }
        resp
    }
}

/// The one mapping from what went wrong in an operation to an HTTP answer.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(v) => Self::Validation(v),
            AppError::BadCredentials => Self::BadCredentials,
            AppError::NoSession => Self::InvalidToken,
            AppError::Forbidden(why) => Self::Forbidden(why),
            AppError::NotFound(what) => Self::NotFound(what.noun()),
            AppError::Conflict(what) => Self::Conflict(what),
            AppError::LikeRefused(why) => Self::Unavailable(why.into()),
            AppError::TooManyStreams(cap) => Self::TooManyStreams(cap),
            AppError::ShuttingDown => {
                Self::Unavailable(anyhow::anyhow!("this instance is shutting down"))
            }
            AppError::Unavailable(source) => Self::Unavailable(source),
            AppError::Internal(source) => Self::Internal(source),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType(
                "send the body as JSON with `Content-Type: application/json`".into(),
            ),
            status => match rejection::json(&r) {
                Some(said) if status == StatusCode::UNPROCESSABLE_ENTITY => Self::InvalidBody(said),
                Some(said) => Self::Unreadable(said),
                None => Self::BadRequest("the body could not be read".into()),
            },
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::Unreadable(rejection::path(&r))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::Unreadable(rejection::query(&r))
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
