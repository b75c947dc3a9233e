//! The social graph: follow, unfollow, followers, following, and the
//! follow requests of protected accounts.

use axum::extract::State;
use axum::http::StatusCode;
use chirp_client::wire::{FollowBody, FollowStatus};
use chirp_core::model::Account;
use chirp_core::page::Paged;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::PageParams;
use crate::ApiResult;
use crate::error::ErrorBody;
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(follow_status, follow, unfollow))
        .routes(routes!(followers))
        .routes(routes!(following))
        .routes(routes!(follow_requests))
        .routes(routes!(accept_request))
        .routes(routes!(reject_request))
}

/// Whether you follow an account (or have asked to).
#[utoipa::path(get, path = "/api/accounts/{username}/follow", tag = "social",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = FollowStatus),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn follow_status(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<Json<FollowStatus>> {
    let state = state.app.follow_state(me.id(), &username).await?;
    Ok(Json(FollowStatus { state }))
}

/// Follows an account. Following a protected account makes a request it
/// must approve; following again changes nothing.
#[utoipa::path(post, path = "/api/accounts/{username}/follow", tag = "social",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = FollowBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Following yourself", body = ErrorBody),
    ))]
async fn follow(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<Json<FollowBody>> {
    let state = state.app.follow(me.id(), &username).await?;
    Ok(Json(FollowBody { state }))
}

/// Stops following an account (or withdraws a request). 204 either way.
#[utoipa::path(delete, path = "/api/accounts/{username}/follow", tag = "social",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Not following any more"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn unfollow(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.unfollow(me.id(), &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accounts following this one, most recent first.
#[utoipa::path(get, path = "/api/accounts/{username}/followers", tag = "social",
    params(("username" = String, Path), PageParams),
    responses((status = 200, body = Paged<Account>), (status = 404, body = ErrorBody)))]
async fn followers(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<Paged<Account>>> {
    let page = params.page()?;
    Ok(Json(state.app.followers(&username, page).await?))
}

/// Accounts this one follows, most recent first.
#[utoipa::path(get, path = "/api/accounts/{username}/following", tag = "social",
    params(("username" = String, Path), PageParams),
    responses((status = 200, body = Paged<Account>), (status = 404, body = ErrorBody)))]
async fn following(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<Paged<Account>>> {
    let page = params.page()?;
    Ok(Json(state.app.following(&username, page).await?))
}

/// Accounts asking to follow you (your account is protected), most recent
/// first.
#[utoipa::path(get, path = "/api/follow-requests", tag = "social",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Paged<Account>), (status = 401, body = ErrorBody)))]
async fn follow_requests(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<Paged<Account>>> {
    let page = params.page()?;
    Ok(Json(state.app.follow_requests(me.id(), page).await?))
}

/// Approves an account's request to follow you; it is notified.
#[utoipa::path(post, path = "/api/follow-requests/{username}/accept", tag = "social",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Now a follower"),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "No pending request from that account", body = ErrorBody),
    ))]
async fn accept_request(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.accept_follow(me.id(), &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns down an account's request to follow you (it is not told).
#[utoipa::path(post, path = "/api/follow-requests/{username}/reject", tag = "social",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Request removed"),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "No pending request from that account", body = ErrorBody),
    ))]
async fn reject_request(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.reject_follow(me.id(), &username).await?;
    Ok(StatusCode::NO_CONTENT)
}
