//! The social graph: follow, unfollow, followers, following, and the
//! follow requests protected accounts approve.

use chirp_core::model::{Account, FollowState, NotificationKind};
use chirp_core::page::{Page, Paged};

use crate::{App, AppError, AppResult, Event};

impl App {
    /// Where `me`'s follow of `username` stands; `None` when it does not
    /// follow it.
    pub async fn follow_state(&self, me: i64, username: &str) -> AppResult<Option<FollowState>> {
        let target = self.account(username).await?;
        Ok(self.store().follow_state(me, target.id).await?)
    }

    /// Follows an account. Following a protected account makes a request
    /// it must approve; following again changes nothing (and notifies
    /// nobody twice).
    pub async fn follow(&self, me: i64, username: &str) -> AppResult<FollowState> {
        let target = self.account(username).await?;
        if target.id == me {
            return Err(AppError::invalid("username", "you cannot follow yourself"));
        }
        let wanted = if target.protected {
            FollowState::Requested
        } else {
            FollowState::Following
        };
        let followed = self.store().follow(me, target.id, wanted).await?;
        if followed.created {
            self.publish(Event::Followed {
                follower: me,
                followee: target.id,
                state: followed.state,
            });
            let kind = match followed.state {
                FollowState::Following => NotificationKind::Follow,
                FollowState::Requested => NotificationKind::FollowRequest,
            };
            self.notify(target.id, kind, me, None, None).await;
        }
        Ok(followed.state)
    }

    /// Stops following an account, or withdraws a request.
    pub async fn unfollow(&self, me: i64, username: &str) -> AppResult<()> {
        let target = self.account(username).await?;
        if self.store().unfollow(me, target.id).await? {
            self.publish(Event::Unfollowed {
                follower: me,
                followee: target.id,
            });
        }
        Ok(())
    }

    /// Accounts following `username`, most recent first.
    pub async fn followers(&self, username: &str, page: Page) -> AppResult<Paged<Account>> {
        let account = self.account(username).await?;
        Ok(self.store().followers(account.id, page).await?)
    }

    /// Accounts `username` follows, most recent first.
    pub async fn following(&self, username: &str, page: Page) -> AppResult<Paged<Account>> {
        let account = self.account(username).await?;
        Ok(self.store().following(account.id, page).await?)
    }

    /// Accounts asking to follow `me`, most recent first.
    pub async fn follow_requests(&self, me: i64, page: Page) -> AppResult<Paged<Account>> {
        Ok(self.store().follow_requests(me, page).await?)
    }

    /// Approves `username`'s request to follow `me`; the requester is
    /// notified. No pending request is a conflict (409).
    pub async fn accept_follow(&self, me: i64, username: &str) -> AppResult<()> {
        let requester = self.account(username).await?;
        if !self.store().accept_follow(requester.id, me).await? {
            return Err(no_request(username));
        }
        self.publish(Event::Followed {
            follower: requester.id,
            followee: me,
            state: FollowState::Following,
        });
        self.notify(
            requester.id,
            NotificationKind::FollowAccepted,
            me,
            None,
            None,
        )
        .await;
        Ok(())
    }

    /// Turns down `username`'s request to follow `me` (silently: the
    /// requester is not told). No pending request is a conflict (409).
    pub async fn reject_follow(&self, me: i64, username: &str) -> AppResult<()> {
        let requester = self.account(username).await?;
        if !self.store().reject_follow(requester.id, me).await? {
            return Err(no_request(username));
        }
        self.publish(Event::Unfollowed {
            follower: requester.id,
            followee: me,
        });
        Ok(())
    }
}

fn no_request(username: &str) -> AppError {
    AppError::Conflict(format!("{username} has no pending request to follow you"))
}
