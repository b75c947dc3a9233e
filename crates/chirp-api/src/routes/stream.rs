//! `GET /api/notifications/stream`: notifications as they happen, as
//! Server-Sent Events (SPEC §1.6).
//!
//! Each event is `id: <notification id>`, `event: notification`,
//! `data: <Notification JSON>`, with a keep-alive comment every 15 s. A
//! client that reconnects with `Last-Event-ID` first gets, from the table,
//! every notification after that id; so does a stream told to resync after
//! a broker outage. The stream subscribes before it reads the table and
//! skips ids it already sent, so nothing falls between the two. Private:
//! `Cache-Control: no-store`, and `X-Accel-Buffering: no` so nginx passes
//! each event on at once.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chirp_app::notifications::REPLAY_MAX;
use chirp_app::{App, LiveStream, Push};
use chirp_core::model::Notification;
use chirp_core::page::Page;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiResult;
use crate::error::{ApiError, ErrorBody};
use crate::extract::CurrentUser;
use crate::state::AppState;

/// How often an idle stream sends a comment, so proxies keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream))
}

/// Your notifications, live (`text/event-stream`). Send `Last-Event-ID` to
/// get first everything after that notification id.
#[utoipa::path(get, path = "/api/notifications/stream", tag = "notifications",
    security(("bearer" = [])),
    params(("Last-Event-ID" = Option<i64>, Header,
        description = "Id of the last notification seen; those after it are replayed first")),
    responses(
        (status = 200, content_type = "text/event-stream",
            description = "`id: <id>`, `event: notification`, `data: <Notification>` per event"),
        (status = 400, description = "Last-Event-ID is not an id", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 429, description = "Too many streams open for this account", body = ErrorBody),
    ))]
async fn stream(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let resume = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::BadRequest("Last-Event-ID must be a notification id".into())
                })?,
        ),
    };
    // Subscribe first: whatever is stored from here on reaches the queue.
    let live = state.app.live().open(me.id())?;
    let (last, replay) = match resume {
        Some(id) => (id, true),
        // A fresh stream starts after the newest notification there is, so
        // a later resync replays only what is new.
        None => {
            let newest = state.app.notifications(me.id(), Page::first(1)).await?;
            (newest.page.items.first().map_or(0, |n| n.id), false)
        }
    };
    let feed = Feed {
        app: state.app.clone(),
        me: me.id(),
        live,
        last,
        replay,
        pending: VecDeque::new(),
    };
    let events = futures_util::stream::unfold(feed, Feed::next_event);
    let sse = Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        sse,
    )
        .into_response())
}

/// One stream's state: what it sent last, and what is waiting.
struct Feed {
    app: App,
    me: i64,
    live: LiveStream,
    /// Id of the last notification sent (or the resume point).
    last: i64,
    /// Whether to read the table after `last` before waiting again.
    replay: bool,
    pending: VecDeque<Notification>,
}

impl Feed {
    /// The next event, or `None` to end the stream (the hub dropped it, or
    /// the table cannot be read): the client reconnects with its last id.
    async fn next_event(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(n) = self.pending.pop_front() {
                if n.id <= self.last {
                    continue;
                }
                self.last = n.id;
                match Event::default()
                    .id(n.id.to_string())
                    .event("notification")
                    .json_data(&n)
                {
                    Ok(event) => return Some((Ok(event), self)),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot encode a notification");
                        continue;
                    }
                }
            }
            if self.replay {
                match self.app.notifications_after(self.me, self.last).await {
                    Ok(missed) => {
                        // A full batch may have more behind it.
                        self.replay = missed.len() >= REPLAY_MAX as usize;
                        self.pending.extend(missed);
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot replay notifications; ending the stream");
                        return None;
                    }
                }
            }
            match self.live.next().await? {
                Push::Notification(n) => self.pending.push_back(*n),
                Push::Resync => self.replay = true,
            }
        }
    }
}
