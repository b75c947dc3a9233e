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
    NotFound(Missing),
    /// The database did not answer in time or refused the connection.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else the database reported.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a [`StoreError::NotFound`] did not find, so callers match on a
/// value instead of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Account,
    Tweet,
    /// The tweet a new tweet answers (`reply_to`).
    ReplyTarget,
    Category,
    Follow,
    /// A follow edge whose state the database holds in a form we do not know.
    FollowState,
    /// A pending follow request (to accept or reject).
    FollowRequest,
    Notification,
    Message,
}

impl Missing {
    /// The noun for messages: "tweet", "category", ...
    pub fn noun(self) -> &'static str {
        match self {
            Missing::Account => "account",
            Missing::Tweet => "tweet",
            Missing::ReplyTarget => "tweet to reply to",
            Missing::Category => "category",
            Missing::Follow => "follow",
            Missing::FollowState => "follow state",
            Missing::FollowRequest => "follow request",
            Missing::Notification => "notification",
            Missing::Message => "message",
        }
    }
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.noun())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e)
            }
            // PostgreSQL going away: SQLSTATE class 08 (connection
            // exception) and 57P (an administrator's shutdown or restart,
            // a crash, "the database system is starting up"). Seen as a
            // 500 when a restart met a query in flight (tests/faults.rs).
            sqlx::Error::Database(ref db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")) =>
            {
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
