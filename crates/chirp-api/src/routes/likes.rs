//! The like button: every click is +1.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tweets::find_tweet;
use crate::error::ErrorBody;
use crate::extract::{Json, Path};
use crate::state::AppState;
use crate::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(like))
}

/// The like was accepted; `like_count` is the count as this instance sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LikeBody {
    pub tweet_id: i64,
    pub like_count: i64,
}

/// Adds one like to a tweet. No login needed and no limit per person: the
/// button is a counter.
#[utoipa::path(post, path = "/api/tweets/{id}/likes", tag = "likes",
    params(("id" = i64, Path)),
    responses(
        (status = 202, description = "Like accepted", body = LikeBody),
        (status = 404, body = ErrorBody),
    ))]
async fn like(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<LikeBody>)> {
    if state.store.add_likes(&[(id, 1)]).await? == 0 {
        return Err(ApiError::NotFound("tweet"));
    }
    let tweet = find_tweet(&state, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(LikeBody {
            tweet_id: id,
            like_count: tweet.like_count,
        }),
    ))
}
