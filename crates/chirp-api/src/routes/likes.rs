//! The like button: every click is +1.

use axum::extract::State;
use axum::http::StatusCode;
use chirp_client::wire::LikeBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiResult;
use crate::error::ErrorBody;
use crate::extract::{Json, MaybeUser, TweetId};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(like))
}

/// Adds one like to a tweet. No login needed and no limit per person: the
/// button is a counter. 202 means the like is journaled and will be
/// counted; the database sees it with the tweet's next batch. A protected
/// account's tweet is 404 to those who may not see it.
#[utoipa::path(post, path = "/api/tweets/{id}/likes", tag = "likes",
    params(("id" = i64, Path)),
    security((), ("bearer" = [])),
    responses(
        (status = 202, description = "Like accepted", body = LikeBody),
        (status = 401, description = "A token was sent but is not a live session", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, description = "Too many likes waiting for the database", body = ErrorBody),
    ))]
async fn like(
    State(state): State<AppState>,
    viewer: MaybeUser,
    TweetId(id): TweetId,
) -> ApiResult<(StatusCode, Json<LikeBody>)> {
    let like_count = state.app.like(viewer.viewer(), id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(LikeBody {
            tweet_id: id,
            like_count,
        }),
    ))
}
