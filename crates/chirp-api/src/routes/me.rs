//! The logged-in account's own profile.

use axum::extract::State;
use chirp_core::model::Account;
use chirp_core::text::{Bio, DisplayName};
use chirp_store::AccountPatch;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;
use crate::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show_me, update_me))
}

/// Profile changes; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// Up to 50 characters; empty shows the username instead.
    pub display_name: Option<String>,
    /// Up to 160 characters.
    pub bio: Option<String>,
}

/// The logged-in account.
#[utoipa::path(get, path = "/api/me", tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, body = Account), (status = 401, body = ErrorBody)))]
async fn show_me(State(state): State<AppState>, me: CurrentUser) -> ApiResult<Json<Account>> {
    let account = state
        .store
        .account_by_id(me.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Json(account))
}

/// Edits the logged-in account's profile.
#[utoipa::path(patch, path = "/api/me", tag = "accounts",
    security(("bearer" = [])),
    request_body = ProfilePatch,
    responses(
        (status = 200, body = Account),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
async fn update_me(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(body): Json<ProfilePatch>,
) -> ApiResult<Json<Account>> {
    let patch = AccountPatch {
        display_name: body
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?,
        bio: body.bio.as_deref().map(Bio::parse).transpose()?,
        protected: None,
    };
    Ok(Json(state.store.update_account(me.id, patch).await?))
}
