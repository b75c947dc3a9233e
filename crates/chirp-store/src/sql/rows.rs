//! Turning rows into domain values.
//!
//! The column lists live here as macros so statements can `concat!` them into
//! `'static` SQL, and the decoders below always agree with them.

use chirp_core::model::{Account, Author, Category, Tweet};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

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

/// Columns of a category.
macro_rules! category_columns {
    () => {
        "id, slug, name, description, created_at"
    };
}

pub(crate) use {account_columns, category_columns, tweet_select};

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
