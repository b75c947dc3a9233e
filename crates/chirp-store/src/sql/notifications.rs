//! Notifications: a bounded inbox per account, newest first.

use async_trait::async_trait;
use chirp_core::page::{Page, Paged};

use super::SqlStore;
use super::db::{self, Sql};
use super::rows::{self, notification_select, now_micros};
use crate::{
    Missing, NOTIFICATIONS_KEPT, NewNotification, NotificationStore, StoreError, StoreResult,
    StoredNotification,
};

#[async_trait]
impl NotificationStore for SqlStore {
    async fn create_notification(&self, new: NewNotification) -> StoreResult<StoredNotification> {
        let stats = &*self.stats;
        let mut tx = self.write.begin().await?;
        let q = sqlx::query(
            "INSERT INTO notifications (recipient_id, kind, actor_id, tweet_id, message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(new.recipient)
        .bind(new.kind.as_str())
        .bind(new.actor)
        .bind(new.tweet)
        .bind(new.message)
        .bind(now_micros());
        let row = db::write_returning(stats, &mut *tx, q)
            .await?
            .ok_or(StoreError::NotFound(Missing::Notification))?;
        let id: i64 = sqlx::Row::try_get(&row, "id")?;
        // Keep the newest NOTIFICATIONS_KEPT: everything at or below the
        // id just past them goes.
        let q = sqlx::query(
            "DELETE FROM notifications WHERE recipient_id = $1 AND id <= \
             (SELECT id FROM notifications WHERE recipient_id = $2 ORDER BY id DESC LIMIT 1 OFFSET $3)",
        )
        .bind(new.recipient)
        .bind(new.recipient)
        .bind(NOTIFICATIONS_KEPT);
        db::write(stats, &mut *tx, q).await?;
        let q = sqlx::query(concat!(notification_select!(), "WHERE n.id = $1")).bind(id);
        let row = db::read_optional(stats, &mut *tx, q)
            .await?
            .ok_or(StoreError::NotFound(Missing::Notification))?;
        let stored = rows::notification(&row)?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn notifications(
        &self,
        recipient: i64,
        page: Page,
    ) -> StoreResult<Paged<StoredNotification>> {
        let mut sql = Sql::new(concat!(notification_select!(), "WHERE n.recipient_id = "));
        sql.bind(recipient)
            .push(" AND n.id < ")
            .bind(page.before_key())
            .push(" ORDER BY n.id DESC LIMIT ")
            .bind(page.fetch_limit());
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        let items = rows
            .iter()
            .map(rows::notification)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |n| n.id))
    }

    async fn notifications_after(
        &self,
        recipient: i64,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredNotification>> {
        let q = sqlx::query(concat!(
            notification_select!(),
            "WHERE n.recipient_id = $1 AND n.id > $2 ORDER BY n.id LIMIT $3"
        ))
        .bind(recipient)
        .bind(after)
        .bind(i64::from(limit));
        let rows = db::read_all(&self.stats, &self.read, q).await?;
        Ok(rows
            .iter()
            .map(rows::notification)
            .collect::<Result<Vec<_>, _>>()?)
    }

    async fn unread_notifications(&self, recipient: i64) -> StoreResult<i64> {
        let q = sqlx::query(
            "SELECT COUNT(*) AS n FROM notifications WHERE recipient_id = $1 AND is_read = 0",
        )
        .bind(recipient);
        let row = db::read_optional(&self.stats, &self.read, q).await?;
        Ok(match row {
            Some(r) => sqlx::Row::try_get(&r, "n")?,
            None => 0,
        })
    }

    async fn mark_notifications_read(
        &self,
        recipient: i64,
        up_to: Option<i64>,
    ) -> StoreResult<u64> {
        let q = sqlx::query(
            "UPDATE notifications SET is_read = 1 WHERE recipient_id = $1 AND is_read = 0 AND id <= $2",
        )
        .bind(recipient)
        .bind(up_to.unwrap_or(i64::MAX));
        Ok(db::write(&self.stats, &self.write, q)
            .await?
            .rows_affected())
    }
}
