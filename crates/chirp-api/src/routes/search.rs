//! Hashtag search.

use axum::extract::State;
use chirp_core::hashtags::parse_tag;
use chirp_core::model::HashtagCount;
use chirp_core::page::Paged;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::extract::{Json, Query};
use crate::state::AppState;
use crate::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(hashtags))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HashtagQuery {
    /// Start of the tag, with or without `#`; empty lists the most used.
    #[param(pattern = r"^#?[A-Za-z0-9_]{0,100}$")]
    pub q: Option<String>,
    /// How many tags, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// Hashtags starting with `q`, most used first, with their tweet counts.
/// One page only: `next_cursor` is always null.
#[utoipa::path(get, path = "/api/hashtags", tag = "search",
    params(HashtagQuery),
    responses((status = 200, body = Paged<HashtagCount>), (status = 422, body = ErrorBody)))]
async fn hashtags(
    State(state): State<AppState>,
    Query(query): Query<HashtagQuery>,
) -> ApiResult<Json<Paged<HashtagCount>>> {
    let page = chirp_core::page::Page::parse(query.limit.as_deref(), None)?;
    let prefix = parse_tag("q", query.q.as_deref().unwrap_or_default(), true)
        .map_err(|e| ApiError::invalid("q", e.message))?;
    let items = state.app.hashtags(&prefix, page.limit).await?;
    Ok(Json(Paged {
        items,
        next_cursor: None,
    }))
}
