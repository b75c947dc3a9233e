//! The resources chirp serves, exactly as the API's JSON shows them.
//!
//! They derive `Deserialize` too, so the web front end and the load tester
//! read the API with the very types it writes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A registered account with its counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub bio: String,
    /// Protected accounts approve their followers.
    pub protected: bool,
    pub created_at: DateTime<Utc>,
    pub followers_count: i64,
    pub following_count: i64,
    pub tweets_count: i64,
}

/// The part of an account shown next to each tweet, notification and
/// message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Author {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// Whether the account is protected (its tweets are shown only to its
    /// approved followers). Also how the read cache knows a tweet must not
    /// be kept in a shared entry.
    #[serde(default)]
    pub protected: bool,
}

/// A tweet. `like_count` includes likes the answering instance still holds
/// in its batcher; `edited_at` is set once the author has edited it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tweet {
    pub id: i64,
    pub author: Author,
    pub text: String,
    /// Distinct hashtags, lower-cased, in order of appearance.
    pub hashtags: Vec<String>,
    /// Usernames of the existing accounts it mentions (`@name`), as they
    /// are spelled, in order of appearance.
    #[serde(default)]
    pub mentions: Vec<String>,
    pub like_count: i64,
    pub reply_count: i64,
    /// The tweet this one answers, if it is a reply.
    pub reply_to: Option<i64>,
    /// Slug of the category it was posted in.
    pub category: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

/// A topic tweets can be posted in, browsed at `/c/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// A hashtag and how many live tweets carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HashtagCount {
    pub tag: String,
    pub tweet_count: i64,
}

/// Where a follow stands: established, or waiting for a protected account's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FollowState {
    Following,
    Requested,
}

impl FollowState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Following => "following",
            Self::Requested => "requested",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "following" => Some(Self::Following),
            "requested" => Some(Self::Requested),
            _ => None,
        }
    }
}

/// What a notification tells its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// `actor` follows you now.
    Follow,
    /// `actor` asks to follow your protected account.
    FollowRequest,
    /// `actor` accepted your follow request.
    FollowAccepted,
    /// `actor` replied to your tweet (`tweet` is the reply).
    Reply,
    /// `actor` mentioned you (`tweet` mentions you).
    Mention,
    /// `actor` sent you a direct message (`message`).
    Message,
}

impl NotificationKind {
    pub const ALL: [Self; 6] = [
        Self::Follow,
        Self::FollowRequest,
        Self::FollowAccepted,
        Self::Reply,
        Self::Mention,
        Self::Message,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Follow => "follow",
            Self::FollowRequest => "follow_request",
            Self::FollowAccepted => "follow_accepted",
            Self::Reply => "reply",
            Self::Mention => "mention",
            Self::Message => "message",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Something that happened to an account: a row first, then an event
/// pushed to the account's open streams (SPEC §1.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    /// Increasing: a stream resumes after the last id it saw.
    pub id: i64,
    pub kind: NotificationKind,
    /// Who did it.
    pub actor: Author,
    /// The reply or the mentioning tweet, while it exists and the
    /// recipient may see it.
    pub tweet: Option<Tweet>,
    /// The direct message, for `message`.
    pub message: Option<Message>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// A direct message; only its two parties can read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: i64,
    pub from: Author,
    pub to: Author,
    /// 1–1000 characters.
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// One conversation of an account: the other party, the latest message
/// either way, and how many of the other's messages are unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub with: Account,
    pub last_message: Message,
    pub unread_count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_state_serializes_in_snake_case() {
        let json = serde_json::to_string(&FollowState::Requested).ok();
        assert_eq!(json.as_deref(), Some("\"requested\""));
        assert_eq!(
            FollowState::from_db("following"),
            Some(FollowState::Following)
        );
    }

    #[test]
    fn notification_kinds_round_trip_through_their_names() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::from_db(kind.as_str()), Some(kind));
            let json = serde_json::to_value(kind).unwrap_or_default();
            assert_eq!(json, kind.as_str());
        }
        assert_eq!(NotificationKind::from_db("like"), None);
    }

    #[test]
    fn times_serialize_as_rfc3339() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let cat = Category {
            id: 1,
            slug: "news".into(),
            name: "News".into(),
            description: String::new(),
            created_at: at,
        };
        let json = serde_json::to_value(&cat).unwrap_or_default();
        assert_eq!(json["created_at"], "2023-11-14T22:13:20Z");
    }
}
