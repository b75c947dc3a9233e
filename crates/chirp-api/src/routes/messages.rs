//! Direct messages and conversations. Private: only the two parties read
//! a conversation, and every answer says `no-store`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chirp_client::wire::NewMessageBody;
use chirp_core::model::{Conversation, Message};
use chirp_core::page::{Page, Paged};
use chirp_core::text::MessageText;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::PageParams;
use super::notifications::PRIVATE;
use crate::ApiResult;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentUser, Json, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send, conversation))
        .routes(routes!(conversations))
}

/// Sends a direct message; the recipient is notified, live.
#[utoipa::path(post, path = "/api/messages", tag = "messages",
    security(("bearer" = [])),
    request_body = NewMessageBody,
    responses(
        (status = 201, body = Message),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such recipient", body = ErrorBody),
        (status = 422, description = "Empty or over 1000 characters, or to yourself", body = ErrorBody),
    ))]
async fn send(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(body): Json<NewMessageBody>,
) -> ApiResult<impl IntoResponse> {
    let text = MessageText::parse(&body.text)?;
    let message = state.app.send_message(me.id(), &body.to, text).await?;
    Ok((StatusCode::CREATED, [PRIVATE], Json(message)))
}

/// `?with=username&limit=&cursor=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ConversationParams {
    /// The other party's username.
    #[param(required = true, pattern = r"^[A-Za-z0-9_]{3,30}$")]
    with: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^(?:A[Q-Za-f][A-Za-z0-9_-]{10})?$")]
    cursor: Option<String>,
}

/// Your conversation with one account, newest first; reading it marks
/// that account's messages to you read.
#[utoipa::path(get, path = "/api/messages", tag = "messages",
    params(ConversationParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Paged<Message>),
        (status = 422, description = "No `with`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
async fn conversation(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(params): Query<ConversationParams>,
) -> ApiResult<impl IntoResponse> {
    let with = params
        .with
        .as_deref()
        .ok_or_else(|| ApiError::invalid("with", "name the other party of the conversation"))?;
    let page = Page::parse(params.limit.as_deref(), params.cursor.as_deref())?;
    let messages = state.app.conversation(me.id(), with, page).await?;
    Ok(([PRIVATE], Json(messages)))
}

/// Your conversations, the one with the newest message first.
#[utoipa::path(get, path = "/api/conversations", tag = "messages",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Paged<Conversation>), (status = 401, body = ErrorBody)))]
async fn conversations(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(params): Query<PageParams>,
) -> ApiResult<impl IntoResponse> {
    let page = params.page()?;
    Ok((
        [PRIVATE],
        Json(state.app.conversations(me.id(), page).await?),
    ))
}
