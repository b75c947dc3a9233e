//! Tweets, their hashtags, likes and search.

use async_trait::async_trait;
use chirp_core::model::{HashtagCount, Tweet};
use chirp_core::page::{Page, Paged};
use sqlx::AnyConnection;
use sqlx::Row;

use super::SqlStore;
use super::db::{self, Sql};
use super::rows::{self, now_micros, tweet_select};
use crate::stats::DbStats;
use crate::{
    LandedLikes, Missing, NewTweet, StoreError, StoreResult, TweetEdit, TweetFilter, TweetStore,
};

/// Reads one tweet on `conn` (inside a transaction, so the writer sees its
/// own changes).
async fn tweet_on(stats: &DbStats, conn: &mut AnyConnection, id: i64) -> StoreResult<Tweet> {
    let q = sqlx::query(concat!(tweet_select!(), "WHERE t.id = $1")).bind(id);
    let row = db::read_optional(stats, conn, q)
        .await?
        .ok_or(StoreError::NotFound(Missing::Tweet))?;
    Ok(rows::tweet(&row)?)
}

/// Indexes `tags` for tweet `id` in one multi-row insert.
async fn insert_tags(
    stats: &DbStats,
    conn: &mut AnyConnection,
    id: i64,
    tags: &[String],
) -> StoreResult<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("INSERT INTO tweet_hashtags (tweet_id, tag) VALUES ");
    for (i, tag) in tags.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(")
            .bind(id)
            .push(", ")
            .bind(tag.clone())
            .push(")");
    }
    sql.push(" ON CONFLICT DO NOTHING");
    db::write(stats, conn, sql.build()?).await?;
    Ok(())
}

/// Tweets per bulk like statement: two bound values each, well under the
/// parameter limits of both databases.
const LIKES_PER_STATEMENT: usize = 1000;

/// How long applied batch ids are remembered: longer than any instance
/// stays down with a journal to replay.
const BATCH_ID_RETENTION_MICROS: i64 = 30 * 24 * 3600 * 1_000_000;

/// The bulk statements adding `likes`: repeated ids merged, one statement
/// per chunk, each a VALUES list joined to tweets by id.
fn like_statements(likes: &[(i64, i64)]) -> Vec<Result<db::Query<'static>, sqlx::Error>> {
    let mut merged = std::collections::BTreeMap::<i64, i64>::new();
    for &(id, n) in likes {
        *merged.entry(id).or_default() += n;
    }
    let merged: Vec<(i64, i64)> = merged.into_iter().collect();
    merged
        .chunks(LIKES_PER_STATEMENT)
        .map(|chunk| {
            let mut sql = Sql::new("WITH v (id, n) AS (VALUES ");
            for (i, (id, n)) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(").bind(*id).push(", ").bind(*n).push(")");
            }
            sql.push(
                ") UPDATE tweets SET like_count = like_count + (SELECT v.n FROM v WHERE v.id = tweets.id) \
                 WHERE id IN (SELECT v.id FROM v) RETURNING id, like_count",
            );
            sql.build()
        })
        .collect()
}

/// `(id, like_count)` of rows a like statement returned.
fn like_counts(rows: &[sqlx::any::AnyRow]) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("like_count")?)))
        .collect()
}

/// The exclusive upper bound of strings starting with `prefix`, in byte order.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

#[async_trait]
impl TweetStore for SqlStore {
    async fn create_tweet(&self, new: NewTweet) -> StoreResult<Tweet> {
        let stats = &*self.stats;
        let mut tx = self.write.begin().await?;
        let category_id: Option<i64> = match &new.category {
            None => None,
            Some(slug) => {
                let q = sqlx::query("SELECT id FROM categories WHERE slug = $1")
                    .bind(slug.as_str().to_owned());
                let row = db::read_optional(stats, &mut *tx, q)
                    .await?
                    .ok_or(StoreError::NotFound(Missing::Category))?;
                Some(row.try_get("id")?)
            }
        };
        if let Some(parent) = new.reply_to {
            let q = sqlx::query("UPDATE tweets SET reply_count = reply_count + 1 WHERE id = $1")
                .bind(parent);
            if db::write(stats, &mut *tx, q).await?.rows_affected() == 0 {
                return Err(StoreError::NotFound(Missing::ReplyTarget));
            }
        }
        let q = sqlx::query(
            "INSERT INTO tweets (author_id, text, hashtags, mentions, reply_to, category_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new.author_id)
        .bind(new.text.into_inner())
        .bind(new.hashtags.join(" "))
        .bind(new.mentions.join(" "))
        .bind(new.reply_to)
        .bind(category_id)
        .bind(now_micros());
        let row = db::write_returning(stats, &mut *tx, q)
            .await?
            .ok_or(StoreError::NotFound(Missing::Tweet))?;
        let id: i64 = row.try_get("id")?;
        insert_tags(stats, &mut tx, id, &new.hashtags).await?;
        let q = sqlx::query("UPDATE accounts SET tweets_count = tweets_count + 1 WHERE id = $1")
            .bind(new.author_id);
        db::write(stats, &mut *tx, q).await?;
        let tweet = tweet_on(stats, &mut tx, id).await?;
        tx.commit().await?;
        Ok(tweet)
    }

    async fn tweet(&self, id: i64) -> StoreResult<Option<Tweet>> {
        let q = sqlx::query(concat!(tweet_select!(), "WHERE t.id = $1")).bind(id);
        let row = db::read_optional(&self.stats, &self.read, q).await?;
        Ok(row.as_ref().map(rows::tweet).transpose()?)
    }

    async fn tweets_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Tweet>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(concat!(tweet_select!(), "WHERE t.id IN ("));
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(*id);
        }
        sql.push(")");
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        Ok(rows
            .iter()
            .map(rows::tweet)
            .collect::<Result<Vec<_>, _>>()?)
    }

    async fn edit_tweet(&self, id: i64, edit: &TweetEdit) -> StoreResult<Tweet> {
        let stats = &*self.stats;
        let hashtags = &edit.hashtags;
        let mut tx = self.write.begin().await?;
        let q = sqlx::query(
            "UPDATE tweets SET text = $1, hashtags = $2, mentions = $3, edited_at = $4 WHERE id = $5",
        )
        .bind(edit.text.as_str().to_owned())
        .bind(hashtags.join(" "))
        .bind(edit.mentions.join(" "))
        .bind(now_micros())
        .bind(id);
        if db::write(stats, &mut *tx, q).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound(Missing::Tweet));
        }
        let q = sqlx::query("DELETE FROM tweet_hashtags WHERE tweet_id = $1").bind(id);
        db::write(stats, &mut *tx, q).await?;
        insert_tags(stats, &mut tx, id, hashtags).await?;
        let tweet = tweet_on(stats, &mut tx, id).await?;
        tx.commit().await?;
        Ok(tweet)
    }

    async fn delete_tweet(&self, id: i64) -> StoreResult<Vec<i64>> {
        let stats = &*self.stats;
        let mut tx = self.write.begin().await?;
        // What `ON DELETE SET NULL` would do, but telling which rows.
        let q = sqlx::query("UPDATE tweets SET reply_to = NULL WHERE reply_to = $1 RETURNING id")
            .bind(id);
        let replies = db::write_all(stats, &mut *tx, q)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<Result<Vec<_>, _>>()?;
        let q =
            sqlx::query("DELETE FROM tweets WHERE id = $1 RETURNING author_id, reply_to").bind(id);
        let row = db::write_returning(stats, &mut *tx, q)
            .await?
            .ok_or(StoreError::NotFound(Missing::Tweet))?;
        let author: i64 = row.try_get("author_id")?;
        let parent: Option<i64> = row.try_get("reply_to")?;
        let q = sqlx::query("UPDATE accounts SET tweets_count = tweets_count - 1 WHERE id = $1")
            .bind(author);
        db::write(stats, &mut *tx, q).await?;
        if let Some(parent) = parent {
            let q = sqlx::query("UPDATE tweets SET reply_count = reply_count - 1 WHERE id = $1")
                .bind(parent);
            db::write(stats, &mut *tx, q).await?;
        }
        tx.commit().await?;
        Ok(replies)
    }

    async fn tweet_ids_by_author(&self, author: i64) -> StoreResult<Vec<i64>> {
        let q = sqlx::query("SELECT id FROM tweets WHERE author_id = $1").bind(author);
        let rows = db::read_all(&self.stats, &self.read, q).await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?)
    }

    async fn list_tweets(&self, filter: &TweetFilter, page: Page) -> StoreResult<Paged<Tweet>> {
        let mut sql = Sql::new(concat!(tweet_select!(), "WHERE t.id < "));
        sql.bind(page.before_key());
        // Who may see what: the one place lists apply it.
        match filter.viewer {
            None => {
                sql.push(" AND a.protected = 0");
            }
            Some(viewer) => {
                sql.push(" AND (a.protected = 0 OR t.author_id = ")
                    .bind(viewer)
                    .push(
                        " OR t.author_id IN (SELECT followee_id FROM follows WHERE follower_id = ",
                    )
                    .bind(viewer)
                    .push(" AND state = 'following'))");
            }
        }
        if let Some(author) = &filter.author {
            sql.push(" AND a.username_lower = ")
                .bind(author.lowercase());
        }
        if let Some(tag) = &filter.hashtag {
            sql.push(" AND t.id IN (SELECT tweet_id FROM tweet_hashtags WHERE tag = ")
                .bind(tag.clone())
                .push(")");
        }
        if let Some(slug) = &filter.category {
            sql.push(" AND c.slug = ").bind(slug.as_str().to_owned());
        }
        if let Some(text) = &filter.search {
            let (before, after) = self.dialect.search_condition();
            sql.push(" AND ")
                .push(before)
                .bind(self.dialect.search_query(text))
                .push(after);
        }
        if let Some(parent) = filter.reply_to {
            sql.push(" AND t.reply_to = ").bind(parent);
        }
        if let Some(me) = filter.home_of {
            sql.push(" AND (t.author_id = ")
                .bind(me)
                .push(" OR t.author_id IN (SELECT followee_id FROM follows WHERE follower_id = ")
                .bind(me)
                .push(" AND state = 'following'))");
        }
        sql.push(" ORDER BY t.id DESC LIMIT ")
            .bind(page.fetch_limit());
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        let tweets = rows
            .iter()
            .map(rows::tweet)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(tweets, |t| t.id))
    }

    async fn add_likes(&self, likes: &[(i64, i64)]) -> StoreResult<Vec<(i64, i64)>> {
        let mut counts = Vec::with_capacity(likes.len());
        for statement in like_statements(likes) {
            let rows = db::write_all(&self.stats, &self.write, statement?).await?;
            counts.extend(like_counts(&rows)?);
        }
        Ok(counts)
    }

    async fn apply_like_batch(&self, batch: i64, likes: &[(i64, i64)]) -> StoreResult<LandedLikes> {
        let stats = &*self.stats;
        let mut tx = self.write.begin().await?;
        let now = now_micros();
        let q = sqlx::query(
            "INSERT INTO like_batches (batch_id, created_at) VALUES ($1, $2) \
             ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id",
        )
        .bind(batch)
        .bind(now);
        if db::write_returning(stats, &mut *tx, q).await?.is_none() {
            // Applied before: the counts are what the database holds now.
            let mut counts = Vec::with_capacity(likes.len());
            let mut statements = 1;
            for chunk in likes.chunks(LIKES_PER_STATEMENT) {
                let mut sql = Sql::new("SELECT id, like_count FROM tweets WHERE id IN (");
                for (i, (id, _)) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.bind(*id);
                }
                sql.push(")");
                counts.extend(like_counts(
                    &db::read_all(stats, &mut *tx, sql.build()?).await?,
                )?);
                statements += 1;
            }
            tx.commit().await?;
            return Ok(LandedLikes {
                applied: false,
                statements,
                counts,
            });
        }
        let mut statements = 1;
        let mut counts = Vec::with_capacity(likes.len());
        for statement in like_statements(likes) {
            let rows = db::write_all(stats, &mut *tx, statement?).await?;
            counts.extend(like_counts(&rows)?);
            statements += 1;
        }
        // Batch ids matter only while a journal may replay them; forget
        // old ones now and then so the table stays small.
        if batch % 1024 == 0 {
            let q = sqlx::query("DELETE FROM like_batches WHERE created_at < $1")
                .bind(now - BATCH_ID_RETENTION_MICROS);
            db::write(stats, &mut *tx, q).await?;
        }
        tx.commit().await?;
        Ok(LandedLikes {
            applied: true,
            statements,
            counts,
        })
    }

    async fn hashtags(&self, prefix: &str, limit: u32) -> StoreResult<Vec<HashtagCount>> {
        let mut sql = Sql::new(
            "SELECT h.tag, COUNT(*) AS n FROM tweet_hashtags h \
             JOIN tweets t ON t.id = h.tweet_id JOIN accounts a ON a.id = t.author_id \
             WHERE a.protected = 0",
        );
        if !prefix.is_empty() {
            sql.push(" AND h.tag >= ")
                .bind(prefix.to_owned())
                .push(" AND h.tag < ")
                .bind(prefix_end(prefix));
        }
        sql.push(" GROUP BY h.tag ORDER BY n DESC, h.tag LIMIT ")
            .bind(i64::from(limit));
        let rows = db::read_all(&self.stats, &self.read, sql.build()?).await?;
        rows.iter()
            .map(|r| {
                Ok(HashtagCount {
                    tag: r.try_get("tag")?,
                    tweet_count: r.try_get("n")?,
                })
            })
            .collect()
    }
}
