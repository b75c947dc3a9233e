//! Storage for chirp: the [`Store`] trait and its SQL implementation.
//!
//! * [`store`] — the traits the API talks to, one per resource, gathered in
//!   [`Store`], plus the inputs they take. The API holds an
//!   `Arc<dyn Store>`, so a caching layer can wrap the database without the
//!   handlers knowing.
//! * [`sql`] — [`SqlStore`], one implementation for both SQLite (embedded)
//!   and PostgreSQL (scaled) on sqlx's `Any` driver. The SQL text is shared;
//!   the few places where the dialects differ (full-text search, connection
//!   set-up, migrations) sit side by side in [`sql::dialect`].
//! * [`cache`] — the read cache: [`cache::CachedStore`] wraps any store
//!   and keeps reads in memory or in Redis.
//! * [`stats`] — counts of database reads and writes, kept in the one place
//!   every statement passes through, for `/logs`.
//!
//! Errors are typed ([`StoreError`]); the API maps them to HTTP statuses.

pub mod cache;
pub mod error;
pub mod sql;
pub mod stats;
pub mod store;

pub use error::{Missing, StoreError, StoreResult};
pub use sql::SqlStore;
pub use stats::{DbCounts, DbStats};
pub use store::*;
