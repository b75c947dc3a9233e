//! Readiness, counters and shutdown.

use async_trait::async_trait;

use super::SqlStore;
use super::db;
use crate::stats::DbCounts;
use crate::{HealthStore, StoreResult};

#[async_trait]
impl HealthStore for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        db::read_optional(&self.stats, &self.read, sqlx::query("SELECT 1")).await?;
        Ok(())
    }

    fn db_counts(&self) -> DbCounts {
        self.stats.snapshot()
    }

    async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}
