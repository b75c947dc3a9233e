//! Turning rows into domain values.
//!
//! The column lists live here as macros so statements can `concat!` them into
//! `'static` SQL, and the decoders below always agree with them.

use chirp_core::model::{Account, Author, Category, Message, NotificationKind, Tweet};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::StoredNotification;

/// Columns of an account, each prefixed by `$p` (`""` or `"a."`).
macro_rules! account_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "username, ",
            $p,
            "display_name, ",
            $p,
            "bio, ",
            $p,
            "protected, ",
            $p,
            "created_at, ",
            $p,
            "followers_count, ",
            $p,
            "following_count, ",
            $p,
            "tweets_count"
        )
    };
}

/// `SELECT` of a tweet with its author and category, ready for a `WHERE`.
macro_rules! tweet_select {
    () => {
        "SELECT t.id, t.author_id, a.username, a.display_name, a.protected AS author_protected, \
         t.text, t.hashtags, t.mentions, t.like_count, t.reply_count, t.reply_to, c.slug AS category, t.created_at, t.edited_at \
         FROM tweets t JOIN accounts a ON a.id = t.author_id \
         LEFT JOIN categories c ON c.id = t.category_id "
    };
}

/// `SELECT` of a direct message with both parties, ready for a `WHERE`.
macro_rules! message_select {
    () => {
        "SELECT m.id, m.text, m.created_at, \
         m.sender_id, s.username AS s_username, s.display_name AS s_display_name, s.protected AS s_protected, \
         m.recipient_id, r.username AS r_username, r.display_name AS r_display_name, r.protected AS r_protected \
         FROM messages m JOIN accounts s ON s.id = m.sender_id JOIN accounts r ON r.id = m.recipient_id "
    };
}

/// `SELECT` of a notification with its actor, ready for a `WHERE`.
macro_rules! notification_select {
    () => {
        "SELECT n.id, n.recipient_id, n.kind, n.tweet_id, n.message_id, n.created_at, n.is_read, \
         n.actor_id, a.username AS a_username, a.display_name AS a_display_name, a.protected AS a_protected \
         FROM notifications n JOIN accounts a ON a.id = n.actor_id "
    };
}

/// Columns of a category.
macro_rules! category_columns {
    () => {
        "id, slug, name, description, created_at"
    };
}

pub(crate) use {
    account_columns, category_columns, message_select, notification_select, tweet_select,
};

/// Times are stored as unix microseconds.
pub(crate) fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

pub(crate) fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

pub(crate) fn account(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        bio: row.try_get("bio")?,
        protected: row.try_get::<i64, _>("protected")? != 0,
        created_at: time(row.try_get("created_at")?),
        followers_count: row.try_get("followers_count")?,
        following_count: row.try_get("following_count")?,
        tweets_count: row.try_get("tweets_count")?,
    })
}

pub(crate) fn tweet(row: &AnyRow) -> Result<Tweet, sqlx::Error> {
    let tags: String = row.try_get("hashtags")?;
    let mentions: String = row.try_get("mentions")?;
    Ok(Tweet {
        id: row.try_get("id")?,
        author: Author {
            id: row.try_get("author_id")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            protected: row.try_get::<i64, _>("author_protected")? != 0,
        },
        text: row.try_get("text")?,
        hashtags: tags.split_whitespace().map(str::to_owned).collect(),
        mentions: mentions.split_whitespace().map(str::to_owned).collect(),
        like_count: row.try_get("like_count")?,
        reply_count: row.try_get("reply_count")?,
        reply_to: row.try_get("reply_to")?,
        category: row.try_get("category")?,
        created_at: time(row.try_get("created_at")?),
        edited_at: row.try_get::<Option<i64>, _>("edited_at")?.map(time),
    })
}

pub(crate) fn category(row: &AnyRow) -> Result<Category, sqlx::Error> {
    Ok(Category {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: time(row.try_get("created_at")?),
    })
}

/// The author whose columns are `{p}id` (or `id_column`), `{p}username`, ...
fn author(row: &AnyRow, id_column: &str, p: &str) -> Result<Author, sqlx::Error> {
    Ok(Author {
        id: row.try_get(id_column)?,
        username: row.try_get(format!("{p}username").as_str())?,
        display_name: row.try_get(format!("{p}display_name").as_str())?,
        protected: row.try_get::<i64, _>(format!("{p}protected").as_str())? != 0,
    })
}

pub(crate) fn message(row: &AnyRow) -> Result<Message, sqlx::Error> {
    Ok(Message {
        id: row.try_get("id")?,
        from: author(row, "sender_id", "s_")?,
        to: author(row, "recipient_id", "r_")?,
        text: row.try_get("text")?,
        created_at: time(row.try_get("created_at")?),
    })
}

pub(crate) fn notification(row: &AnyRow) -> Result<StoredNotification, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    Ok(StoredNotification {
        id: row.try_get("id")?,
        recipient: row.try_get("recipient_id")?,
        kind: NotificationKind::from_db(&kind).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "kind".into(),
            source: format!("unknown notification kind {kind:?}").into(),
        })?,
        actor: author(row, "actor_id", "a_")?,
        tweet: row.try_get("tweet_id")?,
        message: row.try_get("message_id")?,
        created_at: time(row.try_get("created_at")?),
        read: row.try_get::<i64, _>("is_read")? != 0,
    })
}
