//! The follow graph and its counters.

use async_trait::async_trait;
use chirp_core::model::{Account, FollowState};
use chirp_core::page::{Page, Paged};
use sqlx::Row;

use super::SqlStore;
use super::db::{self, Sql};
use super::rows::{self, account_columns, now_micros};
use crate::{Followed, Missing, SocialStore, StoreError, StoreResult};

fn state_of(s: &str) -> StoreResult<FollowState> {
    FollowState::from_db(s).ok_or(StoreError::NotFound(Missing::FollowState))
}

/// Adds `delta` to both counters of an established edge, the account with
/// the lower id first. Every transaction that touches two accounts' rows
/// locks them in that order, so "alice follows bob" and "bob follows alice"
/// at the same moment wait for each other instead of deadlocking (which
/// PostgreSQL breaks by failing one of them).
fn counters(follower: i64, followee: i64, delta: i64) -> [db::Query<'static>; 2] {
    let following =
        sqlx::query("UPDATE accounts SET following_count = following_count + $1 WHERE id = $2")
            .bind(delta)
            .bind(follower);
    let followers =
        sqlx::query("UPDATE accounts SET followers_count = followers_count + $1 WHERE id = $2")
            .bind(delta)
            .bind(followee);
    if follower < followee {
        [following, followers]
    } else {
        [followers, following]
    }
}

impl SqlStore {
    /// One side of the graph: `edge_column` is the column holding `account`,
    /// `other_column` the accounts to list.
    async fn edges(
        &self,
        account: i64,
        page: Page,
        followers: bool,
        state: FollowState,
    ) -> StoreResult<Paged<Account>> {
        let mut sql = if followers {
            Sql::new(concat!(
                "SELECT f.id AS edge_id, ",
                account_columns!("a."),
                " FROM follows f JOIN accounts a ON a.id = f.follower_id WHERE f.followee_id = "
            ))
        } else {
            Sql::new(concat!(
                "SELECT f.id AS edge_id, ",
                account_columns!("a."),
                " FROM follows f JOIN accounts a ON a.id = f.followee_id WHERE f.follower_id = "
            ))
        };
        sql.bind(account)
            .push(" AND f.state = ")
            .bind(state.as_str().to_owned())
            .push(" AND f.id < ")
            .bind(page.before_key())
            .push(" ORDER BY f.id DESC LIMIT ")
            .bind(page.fetch_limit());
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        let items = rows
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>("edge_id")?, rows::account(r)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(page.finish(items, |(edge, _)| *edge).map(|(_, a)| a))
    }
}

#[async_trait]
impl SocialStore for SqlStore {
    async fn follow(
        &self,
        follower: i64,
        followee: i64,
        state: FollowState,
    ) -> StoreResult<Followed> {
        let stats = &*self.stats;
        let mut tx = self.write.begin().await?;
        let q = sqlx::query(
            "INSERT INTO follows (follower_id, followee_id, state, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (follower_id, followee_id) DO NOTHING RETURNING state",
        )
        .bind(follower)
        .bind(followee)
        .bind(state.as_str())
        .bind(now_micros());
        let inserted = db::write_returning(stats, &mut *tx, q).await?;
        let followed = match inserted {
            Some(_) => {
                if state == FollowState::Following {
                    for q in counters(follower, followee, 1) {
                        db::write(stats, &mut *tx, q).await?;
                    }
                }
                Followed {
                    state,
                    created: true,
                }
            }
            None => {
                let q = sqlx::query(
                    "SELECT state FROM follows WHERE follower_id = $1 AND followee_id = $2",
                )
                .bind(follower)
                .bind(followee);
                let row = db::read_optional(stats, &mut *tx, q)
                    .await?
                    .ok_or(StoreError::NotFound(Missing::Follow))?;
                Followed {
                    state: state_of(&row.try_get::<String, _>("state")?)?,
                    created: false,
                }
            }
        };
        tx.commit().await?;
        Ok(followed)
    }

    async fn unfollow(&self, follower: i64, followee: i64) -> StoreResult<bool> {
        let stats = &*self.stats;
        let mut tx = self.write.begin().await?;
        let q = sqlx::query(
            "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2 RETURNING state",
        )
        .bind(follower)
        .bind(followee);
        let Some(row) = db::write_returning(stats, &mut *tx, q).await? else {
            return Ok(false);
        };
        if state_of(&row.try_get::<String, _>("state")?)? == FollowState::Following {
            for q in counters(follower, followee, -1) {
                db::write(stats, &mut *tx, q).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn follow_state(&self, follower: i64, followee: i64) -> StoreResult<Option<FollowState>> {
        let q =
            sqlx::query("SELECT state FROM follows WHERE follower_id = $1 AND followee_id = $2")
                .bind(follower)
                .bind(followee);
        let row = db::read_optional(&self.stats, &self.read, q).await?;
        row.map(|r| state_of(&r.try_get::<String, _>("state")?))
            .transpose()
    }

    async fn followers(&self, account: i64, page: Page) -> StoreResult<Paged<Account>> {
        self.edges(account, page, true, FollowState::Following)
            .await
    }

    async fn following(&self, account: i64, page: Page) -> StoreResult<Paged<Account>> {
        self.edges(account, page, false, FollowState::Following)
            .await
    }

    async fn follow_requests(&self, account: i64, page: Page) -> StoreResult<Paged<Account>> {
        self.edges(account, page, true, FollowState::Requested)
            .await
    }

    async fn accept_follow(&self, follower: i64, followee: i64) -> StoreResult<bool> {
        let stats = &*self.stats;
        let mut tx = self.write.begin().await?;
        let q = sqlx::query(
            "UPDATE follows SET state = 'following' \
             WHERE follower_id = $1 AND followee_id = $2 AND state = 'requested'",
        )
        .bind(follower)
        .bind(followee);
        if db::write(stats, &mut *tx, q).await?.rows_affected() == 0 {
            return Ok(false);
        }
        for q in counters(follower, followee, 1) {
            db::write(stats, &mut *tx, q).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn reject_follow(&self, follower: i64, followee: i64) -> StoreResult<bool> {
        let q = sqlx::query(
            "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2 AND state = 'requested'",
        )
        .bind(follower)
        .bind(followee);
        Ok(db::write(&self.stats, &self.write, q)
            .await?
            .rows_affected()
            > 0)
    }

    async fn accept_all_follows(&self, account: i64) -> StoreResult<Vec<i64>> {
        let stats = &*self.stats;
        let mut tx = self.write.begin().await?;
        let q = sqlx::query(
            "UPDATE follows SET state = 'following' \
             WHERE followee_id = $1 AND state = 'requested' RETURNING follower_id",
        )
        .bind(account);
        let rows = db::write_all(stats, &mut *tx, q).await?;
        let followers = rows
            .iter()
            .map(|r| r.try_get::<i64, _>("follower_id"))
            .collect::<Result<Vec<_>, _>>()?;
        if !followers.is_empty() {
            // One row at a time in id order, like every other transaction
            // that touches several accounts (see `counters`), so none of
            // them can deadlock with this one.
            let n = followers.len() as i64;
            let mut rows: Vec<i64> = followers.clone();
            rows.push(account);
            rows.sort_unstable();
            for id in rows {
                let q = if id == account {
                    sqlx::query(
                        "UPDATE accounts SET followers_count = followers_count + $1 WHERE id = $2",
                    )
                    .bind(n)
                } else {
                    sqlx::query(
                        "UPDATE accounts SET following_count = following_count + $1 WHERE id = $2",
                    )
                    .bind(1_i64)
                };
                db::write(stats, &mut *tx, q.bind(id)).await?;
            }
        }
        tx.commit().await?;
        Ok(followers)
    }

    async fn sees_protected(&self, viewer: i64) -> StoreResult<bool> {
        let q = sqlx::query(
            "SELECT 1 AS yes FROM accounts WHERE id = $1 AND protected = 1 \
             UNION ALL SELECT 1 AS yes FROM follows f JOIN accounts a ON a.id = f.followee_id \
             WHERE f.follower_id = $2 AND f.state = 'following' AND a.protected = 1 LIMIT 1",
        )
        .bind(viewer)
        .bind(viewer);
        Ok(db::read_optional(&self.stats, &self.read, q)
            .await?
            .is_some())
    }
}
