//! Accounts: sign-up, profiles, listing and search.

use chirp_core::model::{Account, NotificationKind};
use chirp_core::page::{Page, Paged};
use chirp_core::text::{Bio, DisplayName, Password, Username};
use chirp_store::{AccountPatch, Missing, NewAccount};

use crate::{App, AppError, AppResult, Event};

/// A sign-up, its fields already checked against the rules.
#[derive(Debug)]
pub struct Registration {
    pub username: Username,
    pub password: Password,
    /// Empty shows the username instead.
    pub display_name: DisplayName,
    pub bio: Bio,
}

/// Profile changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub display_name: Option<DisplayName>,
    pub bio: Option<Bio>,
    /// Approve followers, and show tweets to approved followers only.
    pub protected: Option<bool>,
}

impl App {
    /// Registers an account. A taken name (in any letter case) is a
    /// conflict, found before the password is hashed so it costs no hash;
    /// the unique index still decides races.
    pub async fn register(&self, new: Registration) -> AppResult<Account> {
        if self
            .store()
            .account_by_username(&new.username)
            .await?
            .is_some()
        {
            return Err(AppError::Conflict("that username is already taken".into()));
        }
        let password_hash = self.0.passwords.hash(new.password.expose()).await?;
        Ok(self
            .store()
            .create_account(NewAccount {
                username: new.username,
                password_hash,
                display_name: new.display_name,
                bio: new.bio,
            })
            .await?)
    }

    /// The account named `username` in any letter case. A name that breaks
    /// the username rules cannot exist and is not looked up.
    pub async fn account(&self, username: &str) -> AppResult<Account> {
        let name = Username::parse(username).map_err(|_| AppError::NotFound(Missing::Account))?;
        self.store()
            .account_by_username(&name)
            .await?
            .ok_or(AppError::NotFound(Missing::Account))
    }

    /// The logged-in account itself; an account deleted under a live
    /// session has no session any more.
    pub async fn me(&self, me: i64) -> AppResult<Account> {
        self.store()
            .account_by_id(me)
            .await?
            .ok_or(AppError::NoSession)
    }

    /// All accounts newest first, or those whose username or display name
    /// contains `query`.
    pub async fn accounts(&self, query: Option<&str>, page: Page) -> AppResult<Paged<Account>> {
        Ok(self.store().list_accounts(query, page).await?)
    }

    /// Changes the logged-in account's profile. Turning protected makes
    /// shared caches drop its tweets (an event on the bus); turning public
    /// accepts every pending follow request, each requester notified.
    pub async fn update_profile(&self, me: i64, change: ProfileChange) -> AppResult<Account> {
        let before = self.me(me).await?;
        let patch = AccountPatch {
            display_name: change.display_name,
            bio: change.bio,
            protected: change.protected,
        };
        let mut account = self.store().update_account(me, patch).await?;
        self.publish(Event::ProfileChanged { account: me });
        if account.protected != before.protected {
            self.0.likes.forget_all();
            self.publish(Event::VisibilityChanged {
                account: me,
                protected: account.protected,
            });
            // Shared response caches of every instance drop what they hold
            // (they were free to keep the public pages of this account).
            if account.protected {
                self.broadcast(chirp_broker::Envelope::Purge { account: me });
            }
            if !account.protected {
                let accepted = self.store().accept_all_follows(me).await?;
                for follower in &accepted {
                    self.notify(*follower, NotificationKind::FollowAccepted, me, None, None)
                        .await;
                }
                if !accepted.is_empty() {
                    account = self.me(me).await?;
                }
            }
        }
        Ok(account)
    }
}
