//! Direct messages: only their two parties read them, and they are never
//! cached (the read cache passes them through).

use chirp_core::model::{Conversation, Message, NotificationKind};
use chirp_core::page::{Page, Paged};
use chirp_core::text::MessageText;

use crate::{App, AppError, AppResult};

impl App {
    /// Sends `text` from `me` to `to`; the recipient is notified.
    pub async fn send_message(&self, me: i64, to: &str, text: MessageText) -> AppResult<Message> {
        let recipient = self.account(to).await?;
        if recipient.id == me {
            return Err(AppError::invalid("to", "you cannot message yourself"));
        }
        let message = self.store().create_message(me, recipient.id, &text).await?;
        self.notify(
            recipient.id,
            NotificationKind::Message,
            me,
            None,
            Some(message.id),
        )
        .await;
        Ok(message)
    }

    /// The conversation of `me` with `with`, newest first; reading it
    /// marks the other's messages read.
    pub async fn conversation(&self, me: i64, with: &str, page: Page) -> AppResult<Paged<Message>> {
        let other = self.account(with).await?;
        let messages = self.store().messages_between(me, other.id, page).await?;
        if page.before.is_none() {
            self.store().mark_messages_read(me, other.id).await?;
        }
        Ok(messages)
    }

    /// `me`'s conversations, the one with the newest message first.
    pub async fn conversations(&self, me: i64, page: Page) -> AppResult<Paged<Conversation>> {
        Ok(self.store().conversations(me, page).await?)
    }
}
