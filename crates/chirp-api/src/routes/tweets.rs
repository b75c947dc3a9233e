//! Tweets: post, read, list and filter, edit, delete, replies.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chirp_app::TweetFilter;
use chirp_app::tweets::NewPost;
use chirp_client::wire::{EditTweetBody, NewTweetBody};
use chirp_core::hashtags::parse_tag;
use chirp_core::model::Tweet;
use chirp_core::page::Paged;
use chirp_core::text::{CategorySlug, TweetText, Username, parse_query};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::PageParams;
use crate::error::ErrorBody;
use crate::extract::{CurrentUser, Json, MaybeUser, Query, TweetId};
use crate::state::AppState;
use crate::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tweet, list_tweets))
        .routes(routes!(show_tweet, edit_tweet, delete_tweet))
        .routes(routes!(list_replies))
}

/// Posts a tweet (or a reply, with `reply_to`).
#[utoipa::path(post, path = "/api/tweets", tag = "tweets",
    security(("bearer" = [])),
    request_body = NewTweetBody,
    responses(
        (status = 201, body = Tweet),
        (status = 401, body = ErrorBody),
        (status = 422, description = "Bad text, or no such category or tweet to reply to", body = ErrorBody),
    ))]
async fn create_tweet(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(body): Json<NewTweetBody>,
) -> ApiResult<impl IntoResponse> {
    let post = NewPost {
        text: TweetText::parse(&body.text)?,
        reply_to: body.reply_to,
        category: body
            .category
            .as_deref()
            .map(CategorySlug::parse)
            .transpose()?,
    };
    let tweet = state.app.post(me.id(), post).await?;
    let location = format!("/api/tweets/{}", tweet.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(tweet),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TweetQuery {
    /// Full-text search: tweets containing every word (up to 200
    /// characters, no control characters).
    #[param(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub q: Option<String>,
    /// Tweets carrying this hashtag (with or without `#`).
    #[param(pattern = r"^(?:#?[A-Za-z0-9_]{1,100})?$")]
    pub hashtag: Option<String>,
    /// Tweets by this username.
    #[param(pattern = r"^(?:[A-Za-z0-9_]{3,30})?$")]
    pub author: Option<String>,
    /// Tweets in this category (slug).
    #[param(pattern = r"^[a-z0-9-]{0,40}$")]
    pub category: Option<String>,
}

impl TweetQuery {
    fn filter(&self) -> ApiResult<TweetFilter> {
        let nonblank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(TweetFilter {
            search: match self.q.as_deref() {
                Some(q) => parse_query("q", q)?,
                None => None,
            },
            hashtag: nonblank(&self.hashtag)
                .map(|t| parse_tag("hashtag", &t, false))
                .transpose()?,
            author: nonblank(&self.author)
                .map(|a| Username::parse(&a))
                .transpose()
                .map_err(|e| ApiError::invalid("author", e.message))?,
            category: nonblank(&self.category)
                .map(|c| CategorySlug::parse(&c))
                .transpose()?,
            ..TweetFilter::default()
        })
    }
}

/// Tweets, newest first; the filters combine.
#[utoipa::path(get, path = "/api/tweets", tag = "tweets",
    params(TweetQuery, PageParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = Paged<Tweet>),
        (status = 401, description = "A token was sent but is not a live session", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
async fn list_tweets(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Query(query): Query<TweetQuery>,
    Query(paging): Query<PageParams>,
) -> ApiResult<Json<Paged<Tweet>>> {
    let filter = query.filter()?;
    let page = paging.page()?;
    Ok(Json(
        state.app.tweets(viewer.viewer(), &filter, page).await?,
    ))
}

/// One tweet.
#[utoipa::path(get, path = "/api/tweets/{id}", tag = "tweets",
    params(("id" = i64, Path)),
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = Tweet),
        (status = 401, description = "A token was sent but is not a live session", body = ErrorBody),
        (status = 404, description = "No such tweet, or one you may not see", body = ErrorBody),
    ))]
async fn show_tweet(
    State(state): State<AppState>,
    viewer: MaybeUser,
    TweetId(id): TweetId,
) -> ApiResult<Json<Tweet>> {
    Ok(Json(state.app.tweet(viewer.viewer(), id).await?))
}

/// Edits a tweet's text (author only); sets `edited_at`.
#[utoipa::path(patch, path = "/api/tweets/{id}", tag = "tweets",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    request_body = EditTweetBody,
    responses(
        (status = 200, body = Tweet),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
async fn edit_tweet(
    State(state): State<AppState>,
    me: CurrentUser,
    TweetId(id): TweetId,
    Json(body): Json<EditTweetBody>,
) -> ApiResult<Json<Tweet>> {
    let text = TweetText::parse(&body.text)?;
    Ok(Json(state.app.edit(me.id(), id, text).await?))
}

/// Deletes a tweet (author only). Replies to it stay.
#[utoipa::path(delete, path = "/api/tweets/{id}", tag = "tweets",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn delete_tweet(
    State(state): State<AppState>,
    me: CurrentUser,
    TweetId(id): TweetId,
) -> ApiResult<StatusCode> {
    state.app.delete(me.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replies to a tweet, newest first.
#[utoipa::path(get, path = "/api/tweets/{id}/replies", tag = "tweets",
    params(("id" = i64, Path), PageParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = Paged<Tweet>),
        (status = 401, description = "A token was sent but is not a live session", body = ErrorBody),
        (status = 404, description = "No such tweet, or one you may not see", body = ErrorBody),
    ))]
async fn list_replies(
    State(state): State<AppState>,
    viewer: MaybeUser,
    TweetId(id): TweetId,
    Query(paging): Query<PageParams>,
) -> ApiResult<Json<Paged<Tweet>>> {
    let page = paging.page()?;
    Ok(Json(state.app.replies(viewer.viewer(), id, page).await?))
}
