//! What can go wrong in the store, typed so the API can answer precisely.

/// A store failure. `Conflict` and `NotFound` are the caller's fault and
/// become 409/404; `Unavailable` means the database cannot be reached (503);
/// anything else is a bug or a broken database (500, details only in logs).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is already taken (username, category slug, ...).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The row the operation needs does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The database did not answer in time or refused the connection.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else the database reported.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e)
            }
            other => StoreError::Database(other),
        }
    }
}

impl StoreError {
    /// Turns a unique-constraint violation into `Conflict(what)`, where it
    /// happens, and leaves every other error alone.
    pub(crate) fn conflict_on_unique(e: sqlx::Error, what: &'static str) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Conflict(what);
        }
        e.into()
    }
}
