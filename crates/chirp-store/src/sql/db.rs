//! The one gate every statement passes through.
//!
//! Each helper runs one statement on any executor (pool or transaction) and
//! counts it as a read or a write in [`DbStats`]; store code never calls
//! sqlx's `fetch_*`/`execute` directly, so `/logs` stays complete.
//!
//! [`Sql`] builds statements whose shape depends on the request (optional
//! filters, multi-row inserts) from `'static` fragments only, numbering the
//! placeholders `$1, $2, ...` as both PostgreSQL and SQLite accept.

use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow};
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, Executor, Type};

use crate::stats::DbStats;

pub(crate) type Query<'q> = sqlx::query::Query<'q, Any, AnyArguments>;

pub(crate) async fn read_optional<'e, E>(
    stats: &DbStats,
    ex: E,
    q: Query<'_>,
) -> Result<Option<AnyRow>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    stats.read();
    q.fetch_optional(ex).await
}

pub(crate) async fn read_all<'e, E>(
    stats: &DbStats,
    ex: E,
    q: Query<'_>,
) -> Result<Vec<AnyRow>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    stats.read();
    q.fetch_all(ex).await
}

pub(crate) async fn write<'e, E>(
    stats: &DbStats,
    ex: E,
    q: Query<'_>,
) -> Result<AnyQueryResult, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    stats.write();
    q.execute(ex).await
}

/// A write with `RETURNING`: the row it touched, if any.
pub(crate) async fn write_returning<'e, E>(
    stats: &DbStats,
    ex: E,
    q: Query<'_>,
) -> Result<Option<AnyRow>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    stats.write();
    q.fetch_optional(ex).await
}

/// A write with `RETURNING` that may touch many rows: all of them.
pub(crate) async fn write_all<'e, E>(
    stats: &DbStats,
    ex: E,
    q: Query<'_>,
) -> Result<Vec<AnyRow>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    stats.write();
    q.fetch_all(ex).await
}

/// A statement assembled from `'static` SQL fragments and bound values.
#[derive(Default)]
pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    binds: usize,
    error: Option<sqlx::error::BoxDynError>,
}

impl Sql {
    pub(crate) fn new(fragment: &'static str) -> Self {
        Self {
            text: fragment.to_owned(),
            ..Self::default()
        }
    }

    /// Appends SQL text. Only `'static` strings: user data goes in `bind`.
    pub(crate) fn push(&mut self, fragment: &'static str) -> &mut Self {
        self.text.push_str(fragment);
        self
    }

    /// Appends a placeholder and binds `value` to it.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + Send + 'static,
    {
        self.binds += 1;
        self.text.push('$');
        self.text.push_str(&self.binds.to_string());
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e);
        }
        self
    }

    /// The statement, or the first error met while binding values.
    pub(crate) fn build(self) -> Result<Query<'static>, sqlx::Error> {
        match self.error {
            None => Ok(sqlx::query_with(AssertSqlSafe(self.text), self.args)),
            Some(e) => Err(sqlx::Error::Encode(e)),
        }
    }
}
