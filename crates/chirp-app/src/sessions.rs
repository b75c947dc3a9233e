//! Logging in and out, and telling who a session token belongs to.

use std::sync::Arc;
use std::time::Duration;

use chirp_core::model::Account;
use chirp_core::text::Username;
use chirp_store::Store;
use chrono::Utc;

use crate::passwords::{hash_token, new_token};
use crate::{App, AppError, AppResult};

/// A new log-in: the token is handed to the client once and never stored.
#[derive(Debug)]
pub struct Session {
    pub token: String,
    pub account: Account,
}

/// Whose request this is, from a live session.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: i64,
    /// Hash of the token the request used, so log-out revokes just it.
    pub token_hash: String,
}

/// How often expired sessions are deleted.
pub const SESSION_PURGE_INTERVAL: Duration = Duration::from_secs(3600);

impl App {
    /// Checks a username and password and opens a session: a fresh token
    /// for every log-in. The same error (and about the same time) whether
    /// the account is missing or the password is wrong.
    pub async fn log_in(&self, username: &Username, password: &str) -> AppResult<Session> {
        let account = self.check_password(username, password).await?;
        let token = new_token();
        let ttl = chrono::Duration::from_std(self.0.config.session_ttl)
            .unwrap_or_else(|_| chrono::Duration::days(30));
        self.store()
            .create_session(&hash_token(&token), account.id, Utc::now() + ttl)
            .await?;
        Ok(Session { token, account })
    }

    async fn check_password(&self, username: &Username, password: &str) -> AppResult<Account> {
        let passwords = &self.0.passwords;
        let Some(creds) = self.store().credentials(username).await? else {
            passwords.verify_decoy(password).await?;
            return Err(AppError::BadCredentials);
        };
        if !passwords.verify(password, &creds.password_hash).await? {
            return Err(AppError::BadCredentials);
        }
        self.store()
            .account_by_id(creds.account_id)
            .await?
            .ok_or(AppError::BadCredentials)
    }

    /// The account a token's live session belongs to, or `NoSession`.
    pub async fn authenticate(&self, token: &str) -> AppResult<SessionUser> {
        let token_hash = hash_token(token);
        match self.store().session_account(&token_hash).await? {
            Some(id) => Ok(SessionUser { id, token_hash }),
            None => Err(AppError::NoSession),
        }
    }

    /// Ends the session the request came with.
    pub async fn log_out(&self, user: &SessionUser) -> AppResult<()> {
        Ok(self.store().delete_session(&user.token_hash).await?)
    }

    /// Deletes expired sessions now and then every `every`, for as long as
    /// the returned task runs (the caller aborts it at shutdown). An expired
    /// session already fails to authenticate; this keeps the table from
    /// growing with every log-in ever made. Failures are logged and retried
    /// at the next tick.
    pub fn purge_sessions_every(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        purge_every(self.0.store.clone(), every)
    }
}

fn purge_every(store: Arc<dyn Store>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match store.purge_expired_sessions().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "expired sessions deleted"),
                Err(e) => tracing::warn!(error = %e, "cannot delete expired sessions"),
            }
        }
    })
}
