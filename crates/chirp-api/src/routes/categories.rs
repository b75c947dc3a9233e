//! Categories tweets can be posted in.

use axum::extract::State;
use axum::http::StatusCode;
use chirp_app::categories::NewCategory;
use chirp_client::wire::NewCategoryBody;
use chirp_core::model::Category;
use chirp_core::page::Paged;
use chirp_core::text::{CategoryName, CategorySlug, parse_description};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::PageParams;
use crate::error::ErrorBody;
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;
use crate::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(show_category))
}

/// All categories, newest first.
#[utoipa::path(get, path = "/api/categories", tag = "categories",
    params(PageParams),
    responses((status = 200, body = Paged<Category>), (status = 422, body = ErrorBody)))]
async fn list_categories(
    State(state): State<AppState>,
    Query(paging): Query<PageParams>,
) -> ApiResult<Json<Paged<Category>>> {
    Ok(Json(state.app.categories(paging.page()?).await?))
}

/// Creates a category.
#[utoipa::path(post, path = "/api/categories", tag = "categories",
    security(("bearer" = [])),
    request_body = NewCategoryBody,
    responses(
        (status = 201, body = Category),
        (status = 401, body = ErrorBody),
        (status = 409, description = "Slug taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
async fn create_category(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(body): Json<NewCategoryBody>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    let slug = CategorySlug::parse(&body.slug).map_err(|e| ApiError::invalid("slug", e.message))?;
    let name = CategoryName::parse(&body.name)?;
    let description = parse_description(body.description.as_deref().unwrap_or_default())?;
    let new = NewCategory {
        slug,
        name,
        description,
    };
    let category = state.app.create_category(me.id(), new).await?;
    Ok((StatusCode::CREATED, Json(category)))
}

/// One category.
#[utoipa::path(get, path = "/api/categories/{slug}", tag = "categories",
    params(("slug" = String, Path)),
    responses((status = 200, body = Category), (status = 404, body = ErrorBody)))]
async fn show_category(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Category>> {
    Ok(Json(state.app.category(&slug).await?))
}
