//! What travels between instances, and what a subscriber receives.

use chirp_core::model::Notification;
use serde::{Deserialize, Serialize};

/// A live event, as it goes over the broker: JSON, tagged by `type`
/// (`{"type": "purge", "account": 7}`), so that instances of different
/// versions can tell an envelope they do not know from a broken one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Envelope {
    /// A stored notification, to push to `recipient`'s open streams. The
    /// row is already in the database: an instance that misses this
    /// envelope loses only promptness. Boxed: a notification (with its
    /// tweet) is large, a purge is two words.
    Notification {
        recipient: i64,
        notification: Box<Notification>,
    },
    /// An account's visibility changed (it turned protected): shared
    /// response caches drop what they hold of it.
    Purge { account: i64 },
}

/// What a subscription yields: an envelope from some instance (this one
/// included), or the local news that the subscription is back after an
/// outage.
///
/// Delivery is at most once. What was published while this instance's
/// subscription was down is gone, so on [`Delivery::Resumed`] (and on a
/// `broadcast` `Lagged` error, which also means envelopes were missed) a
/// consumer re-reads what it needs from the database. Publications queued
/// during an outage may still arrive after `Resumed`, so a stream skips
/// notification ids it has already sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// An envelope published on the broker.
    Envelope(Envelope),
    /// The subscription was (re)established after it had been lost or had
    /// failed to start: envelopes published in between were missed. Never
    /// published, never sent over the wire; the in-process broker never
    /// sends it.
    Resumed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chirp_core::model::{Author, NotificationKind};
    use chrono::DateTime;

    fn notification() -> Notification {
        Notification {
            id: 42,
            kind: NotificationKind::Follow,
            actor: Author {
                id: 3,
                username: "alice".into(),
                display_name: "Alice".into(),
                protected: false,
            },
            tweet: None,
            message: None,
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            read: false,
        }
    }

    #[test]
    fn a_purge_is_tagged_json_on_the_wire() {
        let json = serde_json::to_value(Envelope::Purge { account: 7 }).ok();
        assert_eq!(
            json,
            Some(serde_json::json!({"type": "purge", "account": 7}))
        );
    }

    #[test]
    fn a_notification_round_trips_with_the_api_shape_inside() {
        let envelope = Envelope::Notification {
            recipient: 9,
            notification: Box::new(notification()),
        };
        let json = serde_json::to_value(&envelope).unwrap_or_default();
        assert_eq!(json["type"], "notification");
        assert_eq!(json["recipient"], 9);
        assert_eq!(json["notification"]["kind"], "follow");
        assert_eq!(json["notification"]["actor"]["username"], "alice");
        let back: Option<Envelope> = serde_json::from_value(json).ok();
        assert_eq!(back, Some(envelope));
    }

    #[test]
    fn an_unknown_type_is_an_error_not_a_guess() {
        let parsed = serde_json::from_str::<Envelope>(r#"{"type":"like","tweet":1}"#);
        assert!(parsed.is_err());
    }
}
