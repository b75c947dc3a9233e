//! Direct messages and the conversations they make.

use std::collections::HashMap;

use async_trait::async_trait;
use chirp_core::model::{Account, Conversation, Message};
use chirp_core::page::{Page, Paged};
use chirp_core::text::MessageText;
use sqlx::Row;

use super::SqlStore;
use super::db::{self, Sql};
use super::rows::{self, account_columns, message_select, now_micros};
use crate::{MessageStore, Missing, StoreError, StoreResult};

impl SqlStore {
    async fn accounts_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Account>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(concat!(
            "SELECT ",
            account_columns!(""),
            " FROM accounts WHERE id IN ("
        ));
        push_ids(&mut sql, ids);
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        Ok(rows
            .iter()
            .map(rows::account)
            .collect::<Result<Vec<_>, _>>()?)
    }
}

/// `id, id, ...)` for an `IN (` list.
fn push_ids(sql: &mut Sql, ids: &[i64]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(")");
}

#[async_trait]
impl MessageStore for SqlStore {
    async fn create_message(&self, from: i64, to: i64, text: &MessageText) -> StoreResult<Message> {
        let stats = &*self.stats;
        let mut tx = self.write.begin().await?;
        let q = sqlx::query(
            "INSERT INTO messages (sender_id, recipient_id, text, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(from)
        .bind(to)
        .bind(text.as_str().to_owned())
        .bind(now_micros());
        let row = db::write_returning(stats, &mut *tx, q)
            .await?
            .ok_or(StoreError::NotFound(Missing::Message))?;
        let id: i64 = row.try_get("id")?;
        let q = sqlx::query(concat!(message_select!(), "WHERE m.id = $1")).bind(id);
        let row = db::read_optional(stats, &mut *tx, q)
            .await?
            .ok_or(StoreError::NotFound(Missing::Message))?;
        let message = rows::message(&row)?;
        tx.commit().await?;
        Ok(message)
    }

    async fn messages_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Message>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(concat!(message_select!(), "WHERE m.id IN ("));
        push_ids(&mut sql, ids);
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        Ok(rows
            .iter()
            .map(rows::message)
            .collect::<Result<Vec<_>, _>>()?)
    }

    async fn messages_between(
        &self,
        me: i64,
        other: i64,
        page: Page,
    ) -> StoreResult<Paged<Message>> {
        let mut sql = Sql::new(concat!(message_select!(), "WHERE ((m.sender_id = "));
        sql.bind(me)
            .push(" AND m.recipient_id = ")
            .bind(other)
            .push(") OR (m.sender_id = ")
            .bind(other)
            .push(" AND m.recipient_id = ")
            .bind(me)
            .push(")) AND m.id < ")
            .bind(page.before_key())
            .push(" ORDER BY m.id DESC LIMIT ")
            .bind(page.fetch_limit());
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        let items = rows
            .iter()
            .map(rows::message)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |m| m.id))
    }

    async fn mark_messages_read(&self, me: i64, from: i64) -> StoreResult<u64> {
        let q = sqlx::query(
            "UPDATE messages SET is_read = 1 WHERE recipient_id = $1 AND sender_id = $2 AND is_read = 0",
        )
        .bind(me)
        .bind(from);
        Ok(db::write(&self.stats, &self.write, q)
            .await?
            .rows_affected())
    }

    async fn conversations(&self, me: i64, page: Page) -> StoreResult<Paged<Conversation>> {
        let mut sql = Sql::new(
            "SELECT other, MAX(id) AS last_id, \
             SUM(CASE WHEN recipient_id = other_me AND is_read = 0 THEN 1 ELSE 0 END) AS unread \
             FROM (SELECT id, recipient_id, is_read, ",
        );
        sql.bind(me)
            .push(" AS other_me, CASE WHEN sender_id = ")
            .bind(me)
            .push(" THEN recipient_id ELSE sender_id END AS other FROM messages WHERE sender_id = ")
            .bind(me)
            .push(" OR recipient_id = ")
            .bind(me)
            .push(") m GROUP BY other HAVING MAX(id) < ")
            .bind(page.before_key())
            .push(" ORDER BY last_id DESC LIMIT ")
            .bind(page.fetch_limit());
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        let found = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>("other")?,
                    r.try_get::<i64, _>("last_id")?,
                    r.try_get::<i64, _>("unread")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let page_rows = page.finish(found, |&(_, last, _)| last);
        let others: Vec<i64> = page_rows.items.iter().map(|r| r.0).collect();
        let lasts: Vec<i64> = page_rows.items.iter().map(|r| r.1).collect();
        let mut accounts: HashMap<i64, Account> = self
            .accounts_by_ids(&others)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut messages: HashMap<i64, Message> = self
            .messages_by_ids(&lasts)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let items = page_rows
            .items
            .iter()
            .filter_map(|&(other, last, unread)| {
                Some(Conversation {
                    with: accounts.remove(&other)?,
                    last_message: messages.remove(&last)?,
                    unread_count: unread,
                })
            })
            .collect();
        Ok(Paged {
            items,
            next_cursor: page_rows.next_cursor,
        })
    }
}
