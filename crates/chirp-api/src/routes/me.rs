//! The logged-in account's own profile.

use axum::extract::State;
use chirp_app::accounts::ProfileChange;
use chirp_client::wire::ProfilePatch;
use chirp_core::model::Account;
use chirp_core::text::{Bio, DisplayName};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiResult;
use crate::error::ErrorBody;
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show_me, update_me))
}

/// The logged-in account.
#[utoipa::path(get, path = "/api/me", tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, body = Account), (status = 401, body = ErrorBody)))]
async fn show_me(State(state): State<AppState>, me: CurrentUser) -> ApiResult<Json<Account>> {
    Ok(Json(state.app.me(me.id()).await?))
}

/// Edits the logged-in account's profile. `protected: true` makes follows
/// need approval and hides the tweets from all but approved followers.
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
    let change = ProfileChange {
        display_name: body
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?,
        bio: body.bio.as_deref().map(Bio::parse).transpose()?,
        protected: body.protected,
    };
    Ok(Json(state.app.update_profile(me.id(), change).await?))
}
