//! [`SqlStore`]: the store on SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! Statements are written once, in SQL both databases accept; [`dialect`]
//! holds the few differences. SQLite gets one writer connection (SQLite
//! takes one writer at a time anyway, and a single writer never meets
//! `SQLITE_BUSY`) beside a pool of readers working off the WAL; PostgreSQL
//! uses one pool for both.

mod accounts;
mod categories;
pub(crate) mod db;
pub mod dialect;
mod health;
mod messages;
mod notifications;
mod rows;
mod social;
mod tweets;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

pub use dialect::{ConnectError, Dialect};

use crate::stats::DbStats;

/// The SQL store. Cheap to clone; clones share pools and counters.
#[derive(Clone)]
pub struct SqlStore {
    /// Pool for reads.
    read: AnyPool,
    /// Pool for writes: the read pool on PostgreSQL, one connection on SQLite.
    write: AnyPool,
    dialect: Dialect,
    /// Statement counters for `/logs`, bumped in [`db`].
    stats: Arc<DbStats>,
}

/// Tuning for [`SqlStore::connect`].
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most connections per pool (readers on SQLite).
    pub max_connections: u32,
    /// How long a request waits for a connection before "database unavailable".
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

impl SqlStore {
    /// Connects to `url` (`sqlite://...` or `postgres://...`) and brings the
    /// schema up to date. SQLite files and their directory are created.
    pub async fn connect(url: &str, config: &PoolConfig) -> Result<Self, ConnectError> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::from_url(url).ok_or_else(|| ConnectError::BadUrl(url.to_owned()))?;
        let url = dialect.prepare_url(url)?;
        let shown = dialect::redact(&url);
        let unreachable = |source| ConnectError::Unreachable {
            url: shown.clone(),
            source,
        };
        let options = || {
            AnyPoolOptions::new()
                .acquire_timeout(config.acquire_timeout)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if let Some(setup) = dialect.connection_setup() {
                            conn.execute(setup).await?;
                        }
                        Ok(())
                    })
                })
        };
        let (read, write) = match dialect {
            Dialect::Sqlite => {
                let write = options()
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .map_err(unreachable)?;
                let read = options()
                    .max_connections(config.max_connections)
                    .connect(&url)
                    .await
                    .map_err(unreachable)?;
                (read, write)
            }
            Dialect::Postgres => {
                let pool = options()
                    .max_connections(config.max_connections)
                    .connect(&url)
                    .await
                    .map_err(unreachable)?;
                (pool.clone(), pool)
            }
        };
        dialect
            .migrator()
            .run(&write)
            .await
            .map_err(|source| ConnectError::Migrate {
                url: shown.clone(),
                source,
            })?;
        Ok(Self {
            read,
            write,
            dialect,
            stats: Arc::new(DbStats::default()),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The statement counters (shared with every clone).
    pub fn stats(&self) -> &Arc<DbStats> {
        &self.stats
    }
}
