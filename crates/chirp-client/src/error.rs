//! [`ClientError`]: why a call failed, one variant per kind of failure.
//!
//! The API's own refusals ([`ClientError::Api`]) carry what its JSON error
//! said, so a caller can branch on the status or `code` and show the
//! message. Everything else is a failure to get such an answer: the API
//! could not be reached, did not answer in time, or answered something
//! this client cannot read. Their messages are written so that a web page
//! can show them as they are.

use std::time::Duration;

use axum::http::StatusCode;

use crate::wire::{ErrorBody, ErrorDetail};

/// Why an API call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The API answered with its JSON error shape.
    #[error("{message}")]
    Api {
        status: StatusCode,
        /// Stable machine-readable code, e.g. `not_found`.
        code: String,
        /// What went wrong, for people.
        message: String,
        /// The request field at fault, for validation errors.
        field: Option<String>,
    },
    /// The API could not be reached: no connection, or it broke off.
    #[error("chirp cannot reach its API right now ({0}); please try again in a moment")]
    Transport(String),
    /// The API did not answer within the client's timeout.
    #[error("chirp's API did not answer within {0:?}; please try again in a moment")]
    Timeout(Duration),
    /// The API answered, but not in a shape this client knows: an error
    /// that is not its JSON (a proxy's page, say), or a body that does not
    /// read as the documented type.
    #[error("chirp is having trouble right now ({detail}); please try again")]
    Unexpected { status: StatusCode, detail: String },
    /// The request could not be made: a bad API address, or a body that
    /// does not serialize.
    #[error("the API request could not be made: {0}")]
    Request(String),
}

impl ClientError {
    /// The status a page or proxy showing this error should answer with:
    /// the API's own, or a gateway error when there was no usable answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Api { status, .. } => *status,
            Self::Transport(_) | Self::Unexpected { .. } => StatusCode::BAD_GATEWAY,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Request(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The API's error code, or one in the same style for failures that
    /// did not come from the API.
    pub fn code(&self) -> &str {
        match self {
            Self::Api { code, .. } => code,
            Self::Transport(_) => "unavailable",
            Self::Timeout(_) => "timeout",
            Self::Unexpected { .. } => "bad_gateway",
            Self::Request(_) => "internal",
        }
    }

    /// The request field at fault, when the API named one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Api { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// Whether the API said "not logged in" (401: no token, `unauthorized`,
    /// or an unknown, expired or revoked one, `invalid_token`).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == StatusCode::UNAUTHORIZED
    }

    /// The error as the API's JSON error body, e.g. to pass it on to a
    /// browser.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                field: self.field().map(str::to_owned),
            },
        }
    }

    /// The API's answer `status` with `body`, which is not a success.
    pub(crate) fn from_answer(status: StatusCode, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody { error }) => Self::Api {
                status,
                code: error.code,
                message: error.message,
                field: error.field,
            },
            Err(_) => Self::Unexpected {
                status,
                detail: format!("the API answered {status}"),
            },
        }
    }
}
