//! Who may see a tweet: the rule for protected accounts, in one place.
//!
//! A public account's tweets are everyone's to see. A protected account's
//! tweets are shown only to the account itself and to the followers it
//! approved. Lists apply the rule in the store's query (`TweetFilter::viewer`);
//! single tweets, notifications and everything else that holds a tweet
//! come through here. A tweet the viewer may not see is answered as if it
//! did not exist (404), so its existence leaks nothing.

use std::collections::HashMap;

use chirp_core::model::{Author, FollowState, Tweet};

use crate::{App, AppResult, Viewer};

impl App {
    /// Whether `viewer` may see the tweets of `author`.
    pub async fn may_see(&self, viewer: Viewer, author: &Author) -> AppResult<bool> {
        self.may_see_account(viewer, author.id, author.protected)
            .await
    }

    /// [`App::may_see`], given the author's id and whether it is protected.
    pub(crate) async fn may_see_account(
        &self,
        viewer: Viewer,
        author: i64,
        protected: bool,
    ) -> AppResult<bool> {
        if !protected {
            return Ok(true);
        }
        let Some(me) = viewer.account() else {
            return Ok(false);
        };
        if me == author {
            return Ok(true);
        }
        let state = self.store().follow_state(me, author).await?;
        Ok(state == Some(FollowState::Following))
    }

    /// The tweets of `tweets` that `viewer` may see, in order; each
    /// protected author is looked up once.
    pub(crate) async fn visible(
        &self,
        viewer: Viewer,
        tweets: Vec<Tweet>,
    ) -> AppResult<Vec<Tweet>> {
        let mut decided: HashMap<i64, bool> = HashMap::new();
        let mut out = Vec::with_capacity(tweets.len());
        for tweet in tweets {
            let seen = match decided.get(&tweet.author.id) {
                Some(&seen) => seen,
                None => {
                    let seen = self.may_see(viewer, &tweet.author).await?;
                    decided.insert(tweet.author.id, seen);
                    seen
                }
            };
            if seen {
                out.push(tweet);
            }
        }
        Ok(out)
    }
}
