//! The home timeline.

use axum::extract::State;
use chirp_core::model::Tweet;
use chirp_core::page::Paged;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::PageParams;
use crate::ApiResult;
use crate::error::ErrorBody;
use crate::extract::{CurrentUser, Json, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(home))
}

/// Tweets of the accounts you follow and your own, newest first.
#[utoipa::path(get, path = "/api/timelines/home", tag = "timelines",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Paged<Tweet>), (status = 401, body = ErrorBody)))]
async fn home(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(paging): Query<PageParams>,
) -> ApiResult<Json<Paged<Tweet>>> {
    let page = paging.page()?;
    Ok(Json(state.app.home(me.id(), page).await?))
}
