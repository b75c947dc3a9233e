//! Notifications: the list, marking read. (The live stream is in
//! `routes::stream`.) Private: every answer says `no-store`.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chirp_client::wire::{MarkReadBody, NotificationList, UnreadCount};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::PageParams;
use crate::ApiResult;
use crate::error::ErrorBody;
use crate::extract::{CurrentUser, Json, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
}

/// What private answers carry, so no shared cache on the way keeps them.
pub(crate) const PRIVATE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "private, no-store");

/// Your notifications, newest first, with how many are unread.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = NotificationList), (status = 401, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(params): Query<PageParams>,
) -> ApiResult<impl IntoResponse> {
    let page = params.page()?;
    let found = state.app.notifications(me.id(), page).await?;
    Ok((
        [PRIVATE],
        Json(NotificationList {
            items: found.page.items,
            next_cursor: found.page.next_cursor,
            unread_count: found.unread_count,
        }),
    ))
}

/// Marks your notifications read, up to `up_to` (all of them with `{}`).
#[utoipa::path(post, path = "/api/notifications/read", tag = "notifications",
    security(("bearer" = [])),
    request_body = MarkReadBody,
    responses(
        (status = 200, description = "How many are still unread", body = UnreadCount),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
async fn mark_read(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(body): Json<MarkReadBody>,
) -> ApiResult<impl IntoResponse> {
    let unread_count = state
        .app
        .mark_notifications_read(me.id(), body.up_to)
        .await?;
    Ok(([PRIVATE], Json(UnreadCount { unread_count })))
}
