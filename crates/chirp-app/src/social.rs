//! The social graph: follow, unfollow, followers, following.

use chirp_core::model::{Account, FollowState};
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
    /// it must approve; following again changes nothing.
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
        let state = self.store().follow(me, target.id, wanted).await?;
        self.publish(Event::Followed {
            follower: me,
            followee: target.id,
            state,
        });
        Ok(state)
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
}
