//! Notifications: stored first (the source of truth), then delivered live.
//!
//! [`App::notify`] is how every operation tells an account something: it
//! never notifies an account of its own doing, stores the row (the store
//! keeps the newest `NOTIFICATIONS_KEPT` per account), and sends it through
//! the broker to every instance, whose feed hands it to the recipient's
//! open streams (see [`crate::live`]). A notification carries its
//! tweet only while the recipient may see it, and its message only for the
//! message's recipient, who is the notification's.

use std::collections::HashMap;

use chirp_core::model::{Message, Notification, NotificationKind, Tweet};
use chirp_core::page::{Page, Paged};
use chirp_store::{NewNotification, StoredNotification};

use chirp_broker::Envelope;

use crate::{App, AppResult, Viewer};

/// A page of notifications with the count of unread ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationPage {
    pub page: Paged<Notification>,
    pub unread_count: i64,
}

/// Most notifications a stream replays at once from the table.
pub const REPLAY_MAX: u32 = 100;

impl App {
    /// Tells `recipient` that `actor` did `kind`; nothing when they are the
    /// same account. Stored, then announced; a failure to store is logged
    /// and swallowed, because the write that caused it already happened.
    pub(crate) async fn notify(
        &self,
        recipient: i64,
        kind: NotificationKind,
        actor: i64,
        tweet: Option<i64>,
        message: Option<i64>,
    ) {
        if recipient == actor {
            return;
        }
        let new = NewNotification {
            recipient,
            kind,
            actor,
            tweet,
            message,
        };
        let stored = match self.store().create_notification(new).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(error = %e, recipient, kind = kind.as_str(), "cannot store a notification");
                return;
            }
        };
        match self.assemble(recipient, vec![stored]).await {
            Ok(mut done) => {
                if let Some(notification) = done.pop() {
                    self.broadcast(Envelope::Notification {
                        recipient,
                        notification: Box::new(notification),
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, recipient, "cannot read back a notification"),
        }
    }

    /// `me`'s notifications, newest first, with the unread count.
    pub async fn notifications(&self, me: i64, page: Page) -> AppResult<NotificationPage> {
        let stored = self.store().notifications(me, page).await?;
        let unread_count = self.store().unread_notifications(me).await?;
        let items = self.assemble(me, stored.items).await?;
        Ok(NotificationPage {
            page: Paged {
                items,
                next_cursor: stored.next_cursor,
            },
            unread_count,
        })
    }

    /// `me`'s notifications after id `after`, oldest first (at most
    /// [`REPLAY_MAX`]): what a stream resuming from `Last-Event-ID` missed.
    pub async fn notifications_after(&self, me: i64, after: i64) -> AppResult<Vec<Notification>> {
        let stored = self
            .store()
            .notifications_after(me, after, REPLAY_MAX)
            .await?;
        self.assemble(me, stored).await
    }

    /// How many of `me`'s notifications are unread.
    pub async fn unread_notifications(&self, me: i64) -> AppResult<i64> {
        Ok(self.store().unread_notifications(me).await?)
    }

    /// Marks `me`'s notifications read up to id `up_to` (all when `None`);
    /// returns the unread count left.
    pub async fn mark_notifications_read(&self, me: i64, up_to: Option<i64>) -> AppResult<i64> {
        self.store().mark_notifications_read(me, up_to).await?;
        Ok(self.store().unread_notifications(me).await?)
    }

    /// Stored notifications of `recipient` as the API shows them: tweets
    /// the recipient may see (with their like counts), messages.
    async fn assemble(
        &self,
        recipient: i64,
        stored: Vec<StoredNotification>,
    ) -> AppResult<Vec<Notification>> {
        let tweet_ids: Vec<i64> = stored.iter().filter_map(|n| n.tweet).collect();
        let message_ids: Vec<i64> = stored.iter().filter_map(|n| n.message).collect();
        let mut tweets: HashMap<i64, Tweet> = HashMap::new();
        if !tweet_ids.is_empty() {
            let mut found = self.store().tweets_by_ids(&tweet_ids).await?;
            self.0.likes.count(&mut found).await;
            let found = self.visible(Viewer::Account(recipient), found).await?;
            tweets.extend(found.into_iter().map(|t| (t.id, t)));
        }
        let mut messages: HashMap<i64, Message> = HashMap::new();
        if !message_ids.is_empty() {
            let found = self.store().messages_by_ids(&message_ids).await?;
            // Only the message's own recipient is ever told of it.
            messages.extend(
                found
                    .into_iter()
                    .filter(|m| m.to.id == recipient)
                    .map(|m| (m.id, m)),
            );
        }
        Ok(stored
            .into_iter()
            .map(|n| Notification {
                id: n.id,
                kind: n.kind,
                actor: n.actor,
                tweet: n.tweet.and_then(|id| tweets.get(&id).cloned()),
                message: n.message.and_then(|id| messages.get(&id).cloned()),
                created_at: n.created_at,
                read: n.read,
            })
            .collect())
    }
}
