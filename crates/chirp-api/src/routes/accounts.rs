//! Accounts: sign-up, listing and search, profiles.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chirp_app::accounts::Registration;
use chirp_client::wire::NewAccountBody;
use chirp_core::model::{Account, Tweet};
use chirp_core::page::Paged;
use chirp_core::text::{Bio, DisplayName, Password, Username, parse_query};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::PageParams;
use crate::ApiResult;
use crate::error::ErrorBody;
use crate::extract::{Json, MaybeUser, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_account, list_accounts))
        .routes(routes!(show_account))
        .routes(routes!(account_tweets))
}

/// Registers an account.
#[utoipa::path(post, path = "/api/accounts", tag = "accounts",
    request_body = NewAccountBody,
    responses(
        (status = 201, description = "Account created", body = Account),
        (status = 409, description = "Username taken", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
    ))]
async fn create_account(
    State(state): State<AppState>,
    Json(body): Json<NewAccountBody>,
) -> ApiResult<impl IntoResponse> {
    let registration = Registration {
        username: Username::parse(&body.username)?,
        password: Password::parse(&body.password)?,
        display_name: DisplayName::parse(body.display_name.as_deref().unwrap_or_default())?,
        bio: Bio::parse(body.bio.as_deref().unwrap_or_default())?,
    };
    let account = state.app.register(registration).await?;
    let location = format!("/api/accounts/{}", account.username);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(account),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountSearch {
    /// Part of a username or display name (case-insensitive; up to 200
    /// characters, no control characters).
    #[param(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub q: Option<String>,
}

/// Lists accounts, newest first, or searches them with `q`.
#[utoipa::path(get, path = "/api/accounts", tag = "accounts",
    params(AccountSearch, PageParams),
    responses(
        (status = 200, body = Paged<Account>),
        (status = 422, body = ErrorBody),
    ))]
async fn list_accounts(
    State(state): State<AppState>,
    Query(params): Query<AccountSearch>,
    Query(paging): Query<PageParams>,
) -> ApiResult<Json<Paged<Account>>> {
    let page = paging.page()?;
    let q = match params.q.as_deref() {
        Some(q) => parse_query("q", q)?,
        None => None,
    };
    Ok(Json(state.app.accounts(q.as_deref(), page).await?))
}

/// Shows one account.
#[utoipa::path(get, path = "/api/accounts/{username}", tag = "accounts",
    params(("username" = String, Path)),
    responses((status = 200, body = Account), (status = 404, body = ErrorBody)))]
async fn show_account(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> ApiResult<Json<Account>> {
    Ok(Json(state.app.account(&username).await?))
}

/// The account's tweets, newest first (its user timeline).
#[utoipa::path(get, path = "/api/accounts/{username}/tweets", tag = "timelines",
    params(("username" = String, Path), PageParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Empty for a protected account you do not follow", body = Paged<Tweet>),
        (status = 401, description = "A token was sent but is not a live session", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn account_tweets(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path(username): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<Paged<Tweet>>> {
    let page = params.page()?;
    let tweets = state.app.user_timeline(viewer.viewer(), &username, page);
    Ok(Json(tweets.await?))
}
