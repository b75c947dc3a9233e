//! Accounts and sessions.

use async_trait::async_trait;
use chirp_core::model::Account;
use chirp_core::page::{Page, Paged};
use chirp_core::text::{DisplayName, Username};
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::SqlStore;
use super::db::{self, Sql};
use super::rows::{self, account_columns, now_micros, to_micros};
use crate::{
    AccountPatch, AccountStore, Credentials, Missing, NewAccount, SessionStore, StoreError,
    StoreResult,
};

/// `%text%` for LIKE, with LIKE's own wildcards escaped by `\`.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let display_name = new.display_name.into_inner();
        let q = sqlx::query(concat!(
            "INSERT INTO accounts (username, username_lower, display_name, display_name_lower, bio, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
            account_columns!("")
        ))
        .bind(new.username.as_str().to_owned())
        .bind(new.username.lowercase())
        .bind(display_name.clone())
        .bind(display_name.to_lowercase())
        .bind(new.bio.into_inner())
        .bind(new.password_hash)
        .bind(now_micros());
        let row = db::write_returning(&self.stats, &self.write, q)
            .await
            .map_err(|e| StoreError::conflict_on_unique(e, "username"))?
            .ok_or(StoreError::NotFound(Missing::Account))?;
        Ok(rows::account(&row)?)
    }

    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>> {
        let q = sqlx::query(concat!(
            "SELECT ",
            account_columns!(""),
            " FROM accounts WHERE username_lower = $1"
        ))
        .bind(username.lowercase());
        let row = db::read_optional(&self.stats, &self.read, q).await?;
        Ok(row.as_ref().map(rows::account).transpose()?)
    }

    async fn account_by_id(&self, id: i64) -> StoreResult<Option<Account>> {
        let q = sqlx::query(concat!(
            "SELECT ",
            account_columns!(""),
            " FROM accounts WHERE id = $1"
        ))
        .bind(id);
        let row = db::read_optional(&self.stats, &self.read, q).await?;
        Ok(row.as_ref().map(rows::account).transpose()?)
    }

    async fn credentials(&self, username: &Username) -> StoreResult<Option<Credentials>> {
        let q = sqlx::query("SELECT id, password_hash FROM accounts WHERE username_lower = $1")
            .bind(username.lowercase());
        let row = db::read_optional(&self.stats, &self.read, q).await?;
        Ok(match row {
            Some(r) => Some(Credentials {
                account_id: r.try_get("id")?,
                password_hash: r.try_get("password_hash")?,
            }),
            None => None,
        })
    }

    async fn update_account(&self, id: i64, patch: AccountPatch) -> StoreResult<Account> {
        // A no-op first assignment so each change below starts with ", ".
        // Not `id = id`: PostgreSQL refuses any assignment to an identity column.
        let mut sql = Sql::new("UPDATE accounts SET created_at = created_at");
        if let Some(name) = patch.display_name.map(DisplayName::into_inner) {
            sql.push(", display_name_lower = ")
                .bind(name.to_lowercase())
                .push(", display_name = ")
                .bind(name);
        }
        if let Some(bio) = patch.bio {
            sql.push(", bio = ").bind(bio.into_inner());
        }
        if let Some(protected) = patch.protected {
            sql.push(", protected = ").bind(i64::from(protected));
        }
        sql.push(" WHERE id = ").bind(id);
        sql.push(concat!(" RETURNING ", account_columns!("")));
        let row = db::write_returning(&self.stats, &self.write, sql.build()?)
            .await?
            .ok_or(StoreError::NotFound(Missing::Account))?;
        Ok(rows::account(&row)?)
    }

    async fn list_accounts(&self, query: Option<&str>, page: Page) -> StoreResult<Paged<Account>> {
        let mut sql = Sql::new(concat!(
            "SELECT ",
            account_columns!(""),
            " FROM accounts WHERE id < "
        ));
        sql.bind(page.before_key());
        if let Some(q) = query {
            let pattern = like_pattern(q);
            sql.push(" AND (username_lower LIKE ")
                .bind(pattern.clone())
                .push(" ESCAPE '\\' OR display_name_lower LIKE ")
                .bind(pattern)
                .push(" ESCAPE '\\')");
        }
        sql.push(" ORDER BY id DESC LIMIT ")
            .bind(page.fetch_limit());
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        let accounts = rows
            .iter()
            .map(rows::account)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(accounts, |a| a.id))
    }

    async fn accounts_by_usernames(&self, usernames: &[Username]) -> StoreResult<Vec<Account>> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(concat!(
            "SELECT ",
            account_columns!(""),
            " FROM accounts WHERE username_lower IN ("
        ));
        for (i, name) in usernames.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(name.lowercase());
        }
        sql.push(")");
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        Ok(rows
            .iter()
            .map(rows::account)
            .collect::<Result<Vec<_>, _>>()?)
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(
        &self,
        token_hash: &str,
        account_id: i64,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let q = sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash.to_owned())
        .bind(account_id)
        .bind(now_micros())
        .bind(to_micros(expires_at));
        db::write(&self.stats, &self.write, q).await?;
        Ok(())
    }

    async fn session_account(&self, token_hash: &str) -> StoreResult<Option<i64>> {
        let q = sqlx::query(
            "SELECT account_id FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash.to_owned())
        .bind(now_micros());
        let row = db::read_optional(&self.stats, &self.read, q).await?;
        Ok(row.map(|r| r.try_get("account_id")).transpose()?)
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let q =
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash.to_owned());
        db::write(&self.stats, &self.write, q).await?;
        Ok(())
    }

    async fn purge_expired_sessions(&self) -> StoreResult<u64> {
        let q = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_micros());
        Ok(db::write(&self.stats, &self.write, q)
            .await?
            .rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Al_i%"), "%al\\_i\\%%");
    }
}
