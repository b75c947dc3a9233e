//! The one error type of the operations. It says what went wrong in the
//! domain's terms; the API maps each variant to an HTTP status in one place
//! (`chirp_api::error`), and any other front end can do its own mapping.

use chirp_core::ValidationError;
use chirp_store::{Missing, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// An input broke a rule.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Wrong username or password at log-in; the same for both, on purpose.
    #[error("wrong username or password")]
    BadCredentials,
    /// The session is unknown, expired or revoked.
    #[error("no valid session")]
    NoSession,
    /// The viewer may not do this (someone else's tweet, say).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such thing.
    #[error("{} not found", .0.noun())]
    NotFound(Missing),
    /// Clashes with what exists (a taken username or slug).
    #[error("{0}")]
    Conflict(String),
    /// The like was not taken: too much waiting, a failing journal, or
    /// shutdown. Worth retrying shortly.
    #[error(transparent)]
    LikeRefused(#[from] LikeRefused),
    /// The account has as many live streams open as it may.
    #[error("too many open notification streams (at most {0} per account); close one")]
    TooManyStreams(usize),
    /// This instance is stopping; try another (or again shortly).
    #[error("this instance is shutting down")]
    ShuttingDown,
    /// A dependency (the database) is down; worth retrying.
    #[error("a dependency is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or broken dependency; the cause is for the log, not for users.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// A shorthand for rules checked by the operations.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(ValidationError::new(field, message))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::Conflict(format!("that {what} is already taken")),
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Unavailable(source) => Self::Unavailable(source.into()),
            StoreError::Database(source) => Self::Internal(source.into()),
        }
    }
}

/// Why a like was not accepted (all worth retrying shortly).
#[derive(Debug, thiserror::Error)]
pub enum LikeRefused {
    #[error("too many likes are waiting for the database; try again shortly")]
    Backlog,
    #[error("the like journal cannot be written")]
    Journal,
    #[error("this instance is shutting down")]
    ShuttingDown,
}

/// What the operations return.
pub type AppResult<T> = Result<T, AppError>;
