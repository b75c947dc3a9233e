//! Logging in and out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chirp_app::AppError;
use chirp_app::sessions::Session;
use chirp_client::wire::{LoginBody, SessionBody};
use chirp_core::text::Username;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::extract::{ClientAddr, CurrentUser, Json};
use crate::state::AppState;
use crate::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
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
    let session = log_in(&state, client, &body.username, &body.password).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionBody {
            token: session.token,
            account: session.account,
        }),
    ))
}

/// Logs in through the throttle ([`crate::throttle`]). A name that
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
) -> ApiResult<Session> {
    let Ok(username) = Username::parse(username) else {
        return Err(ApiError::BadCredentials);
    };
    state.logins.check(client, &username)?;
    let result = state.app.log_in(&username, password).await;
    match &result {
        Ok(_) => state.logins.succeeded(client, &username),
        Err(AppError::BadCredentials) => state.logins.failed(client, &username),
        Err(_) => {}
    }
    Ok(result?)
}

/// Logs out: the token used for this request stops working.
#[utoipa::path(delete, path = "/api/sessions/current", tag = "sessions",
    security(("bearer" = [])),
    responses((status = 204, description = "Token revoked"), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, me: CurrentUser) -> ApiResult<StatusCode> {
    state.app.log_out(&me.0).await?;
    Ok(StatusCode::NO_CONTENT)
}
