//! Logging in and out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chirp_core::model::Account;
use chirp_core::text::Username;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth;
use crate::error::ErrorBody;
use crate::extract::{ClientAddr, CurrentUser, Json};
use crate::state::AppState;
use crate::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

/// A new session: send `token` as `Authorization: Bearer TOKEN`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionBody {
    pub token: String,
    pub account: Account,
}

/// Logs in: a fresh token for every login.
#[utoipa::path(post, path = "/api/sessions", tag = "sessions",
    request_body = LoginBody,
    responses(
        (status = 201, body = SessionBody),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many failed log-ins for this username from this address; see Retry-After", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<LoginBody>,
) -> ApiResult<impl IntoResponse> {
    let account = log_in(&state, client, &body.username, &body.password).await?;
    let token = auth::new_token();
    let ttl = chrono::Duration::from_std(state.config.session_ttl)
        .unwrap_or_else(|_| chrono::Duration::days(30));
    state
        .store
        .create_session(&auth::hash_token(&token), account.id, Utc::now() + ttl)
        .await?;
    Ok((StatusCode::CREATED, Json(SessionBody { token, account })))
}

/// Checks a username and password; the same error (and about the same time)
/// whether the account is missing or the password is wrong. A name that
/// breaks the username rules cannot have an account and is refused at once
/// (the rules are public, so the quicker answer tells nothing), which also
/// keeps it out of the throttle. Refused with 429, before any password is
/// checked, once this client has had too many failures for the name
/// ([`crate::throttle`]).
async fn log_in(
    state: &AppState,
    client: std::net::IpAddr,
    username: &str,
    password: &str,
) -> ApiResult<Account> {
    let Ok(username) = Username::parse(username) else {
        return Err(ApiError::BadCredentials);
    };
    state.logins.check(client, &username)?;
    let result = check_password(state, &username, password).await;
    match &result {
        Ok(_) => state.logins.succeeded(client, &username),
        Err(ApiError::BadCredentials) => state.logins.failed(client, &username),
        Err(_) => {}
    }
    result
}

async fn check_password(
    state: &AppState,
    username: &Username,
    password: &str,
) -> ApiResult<Account> {
    let Some(creds) = state.store.credentials(username).await? else {
        state.passwords.verify_decoy(password).await?;
        return Err(ApiError::BadCredentials);
    };
    if !state
        .passwords
        .verify(password, &creds.password_hash)
        .await?
    {
        return Err(ApiError::BadCredentials);
    }
    state
        .store
        .account_by_id(creds.account_id)
        .await?
        .ok_or(ApiError::BadCredentials)
}

/// Logs out: the token used for this request stops working.
#[utoipa::path(delete, path = "/api/sessions/current", tag = "sessions",
    security(("bearer" = [])),
    responses((status = 204, description = "Token revoked"), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, me: CurrentUser) -> ApiResult<StatusCode> {
    state.store.delete_session(&me.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}
