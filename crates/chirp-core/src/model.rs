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

/// The part of an account shown next to each tweet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Author {
    pub id: i64,
    pub username: String,
    pub display_name: String,
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
