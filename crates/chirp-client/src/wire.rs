//! The request and response bodies of the API that are not domain models
//! (those are in [`crate::model`]).
//!
//! The API's handlers read and write these very types, so a client cannot
//! drift from the server: a field renamed here is renamed on both sides.
//! Their doc comments become the descriptions in the OpenAPI document.
//! Request bodies refuse unknown fields (a typo is an error, not a
//! silently ignored value); absent optional fields are left out of the
//! JSON rather than sent as `null`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{Account, FollowState, Notification};

/// Sign-up form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountBody {
    /// 3–30 of A-Z, a-z, 0-9 and `_`; unique regardless of case.
    #[schema(pattern = r"^[A-Za-z0-9_]{3,30}$")]
    pub username: String,
    /// 8–128 characters, no NUL; the commonest passwords are refused.
    #[schema(min_length = 8, max_length = 128, pattern = r"^[^\u0000]*$")]
    pub password: String,
    /// Up to 50 characters on one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 50,
        pattern = r"^(?:[^\s\u0000-\u001F\u007F-\u009F](?:[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?)?$"
    )]
    pub display_name: Option<String>,
    /// Up to 160 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 160,
        pattern = r"^(?:[^\s\u0000-\u001F\u007F-\u009F](?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?)?$"
    )]
    pub bio: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

/// A new session: send `token` as `Authorization: Bearer TOKEN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionBody {
    pub token: String,
    pub account: Account,
}

/// Profile changes; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// Up to 50 characters; empty shows the username instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 50,
        pattern = r"^(?:[^\s\u0000-\u001F\u007F-\u009F](?:[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?)?$"
    )]
    pub display_name: Option<String>,
    /// Up to 160 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 160,
        pattern = r"^(?:[^\s\u0000-\u001F\u007F-\u009F](?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?)?$"
    )]
    pub bio: Option<String>,
    /// Protected accounts approve each follower, and only approved
    /// followers see their tweets. Turning it off accepts every pending
    /// request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTweetBody {
    /// 1–280 characters; newlines and tabs allowed, no other control characters.
    #[schema(
        min_length = 1,
        max_length = 280,
        pattern = r"^[^\s\u0000-\u001F\u007F-\u009F](?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?$"
    )]
    pub text: String,
    /// Id of the tweet this one answers.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole::option"
    )]
    pub reply_to: Option<i64>,
    /// Slug of an existing category.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[a-z0-9-]{1,40}$")]
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditTweetBody {
    /// The new text, 1–280 characters.
    #[schema(
        min_length = 1,
        max_length = 280,
        pattern = r"^[^\s\u0000-\u001F\u007F-\u009F](?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?$"
    )]
    pub text: String,
}

/// Where a follow stands after the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FollowBody {
    pub state: FollowState,
}

/// Where the logged-in account's follow of this one stands; `state` is
/// null when it does not follow it. Lets a page show Follow or Unfollow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FollowStatus {
    pub state: Option<FollowState>,
}

/// A page of notifications, newest first, with how many of all the
/// account's notifications are unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<Notification>,
    pub next_cursor: Option<String>,
    pub unread_count: i64,
}

/// Which notifications to mark read: those up to and including `up_to`,
/// or all of them when it is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadBody {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole::option"
    )]
    pub up_to: Option<i64>,
}

/// How many notifications are still unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnreadCount {
    pub unread_count: i64,
}

/// A direct message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessageBody {
    /// The recipient's username.
    #[schema(pattern = r"^[A-Za-z0-9_]{3,30}$")]
    pub to: String,
    /// 1–1000 characters.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\s\u0000-\u001F\u007F-\u009F](?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?$"
    )]
    pub text: String,
}

/// The like was accepted; `like_count` is the count as this instance sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LikeBody {
    pub tweet_id: i64,
    pub like_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategoryBody {
    /// 1–40 of a-z, 0-9 and `-`; the category's address is `/c/{slug}`.
    #[schema(pattern = r"^[a-z0-9-]{1,40}$")]
    pub slug: String,
    /// 1–50 characters on one line.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\s\u0000-\u001F\u007F-\u009F](?:[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?$"
    )]
    pub name: String,
    /// Up to 280 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 280,
        pattern = r"^(?:[^\s\u0000-\u001F\u007F-\u009F](?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?)?$"
    )]
    pub description: Option<String>,
}

/// Integer fields of request bodies. JSON has one number type and JSON
/// Schema counts `40.0` as the integer 40, so a whole number written with
/// a fraction part is read as that integer; `40.5` is still refused.
mod whole {
    use serde::de::{Error, Unexpected};
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// Errors say "expected i64", as serde's own would, so the API's
    /// rejection text ("must be a whole number, not ...") stays the same.
    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let value = Option::<Value>::deserialize(d)?;
        let Some(value) = value else {
            return Ok(None);
        };
        if let Some(n) = value.as_i64() {
            return Ok(Some(n));
        }
        if let Some(f) = value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
        {
            // Whole and within i64, so the cast is exact.
            return Ok(Some(f as i64));
        }
        let unexpected = match &value {
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(n) => match n.as_f64() {
                Some(f) => Unexpected::Float(f),
                None => Unexpected::Other("number"),
            },
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
            Value::Null => Unexpected::Unit,
        };
        Err(D::Error::invalid_type(unexpected, &"i64"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when a dependency is down.
    pub status: String,
}

/// The JSON error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `validation_failed`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The request field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn absent_optional_fields_are_left_out_not_sent_as_null() {
        let body = NewTweetBody {
            text: "hi".into(),
            reply_to: None,
            category: None,
        };
        assert_eq!(serde_json::to_value(&body).unwrap(), json!({"text": "hi"}));
        let patch = ProfilePatch {
            bio: Some("b".into()),
            ..ProfilePatch::default()
        };
        assert_eq!(serde_json::to_value(&patch).unwrap(), json!({"bio": "b"}));
    }

    #[test]
    fn request_bodies_refuse_unknown_fields() {
        let typo = json!({"username": "ann", "password": "secret", "pasword": "x"});
        assert!(serde_json::from_value::<LoginBody>(typo).is_err());
        let typo = json!({"text": "hi", "replyto": 1});
        assert!(serde_json::from_value::<NewTweetBody>(typo).is_err());
    }

    #[test]
    fn an_error_body_reads_with_or_without_a_field() {
        let plain: ErrorBody =
            serde_json::from_value(json!({"error": {"code": "not_found", "message": "m"}}))
                .unwrap();
        assert_eq!(plain.error.field, None);
        let detail = ErrorDetail {
            code: "validation_failed".into(),
            message: "text is too long".into(),
            field: Some("text".into()),
        };
        let back: ErrorDetail =
            serde_json::from_value(serde_json::to_value(&detail).unwrap()).unwrap();
        assert_eq!(back, detail);
    }
}
