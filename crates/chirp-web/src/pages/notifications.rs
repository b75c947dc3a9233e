//! `/notifications`: what happened to you, newest first, with the follow
//! requests waiting for your answer on top; the forms that mark them read
//! and answer requests; and `/notifications/stream`, the live feed the top
//! bar's badge listens to.
//!
//! The browser holds the site's session cookie, not an API token, so it
//! cannot open the API's stream itself: the site opens it with the
//! session's token and relays the bytes as they come.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chirp_core::model::{Account, Author, Notification, NotificationKind};

use super::{Chrome, ListQuery, SignedIn, Visitor, error_page, not_found, valid_username};
use crate::WebState;

/// One notification as the page shows it: who, what, and where it leads.
#[derive(Debug, Clone)]
pub struct NoteView {
    pub actor: Author,
    /// What the actor did, after their name ("mentioned you").
    pub what: &'static str,
    /// The tweet, profile or conversation it is about.
    pub href: String,
    /// The tweet or message text, when there is one.
    pub excerpt: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read: bool,
}

impl NoteView {
    fn new(n: Notification) -> Self {
        let actor_page = format!("/@{}", n.actor.username);
        let tweet = n
            .tweet
            .as_ref()
            .map(|t| (format!("/tweets/{}", t.id), t.text.clone()));
        let (what, href, excerpt) = match n.kind {
            NotificationKind::Follow => ("followed you", actor_page, None),
            NotificationKind::FollowRequest => ("asked to follow you", actor_page, None),
            NotificationKind::FollowAccepted => ("accepted your follow request", actor_page, None),
            NotificationKind::Reply | NotificationKind::Mention => {
                let what = if n.kind == NotificationKind::Reply {
                    "replied to your chirp"
                } else {
                    "mentioned you"
                };
                // The tweet may be gone, or hidden from you now.
                match tweet {
                    Some((href, text)) => (what, href, Some(text)),
                    None => (what, actor_page, None),
                }
            }
            NotificationKind::Message => (
                "sent you a message",
                format!("/messages/{}", n.actor.username),
                n.message.map(|m| m.text),
            ),
        };
        Self {
            actor: n.actor,
            what,
            href,
            excerpt,
            created_at: n.created_at,
            read: n.read,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub chrome: Chrome,
    pub requests: Vec<Account>,
    pub notes: Vec<NoteView>,
    pub older: Option<String>,
}

/// `/notifications`: the list, and the follow requests to answer.
pub async fn list(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    Query(q): Query<ListQuery>,
) -> Response {
    let (notes, requests) = tokio::join!(
        state.api.notifications(&token, q.cursor.as_deref()),
        state.api.follow_requests(&token, None),
    );
    let (notes, requests) = match (notes, requests) {
        (Ok(n), Ok(r)) => (n, r),
        (Err(e), _) | (_, Err(e)) => return error_page(v.chrome, &e),
    };
    let older = notes.next_cursor.as_deref().and_then(|c| {
        let q = super::query("cursor", c)?;
        Some(format!("/notifications?{q}"))
    });
    NotificationsPage {
        chrome: v.chrome,
        requests: requests.items,
        notes: notes.items.into_iter().map(NoteView::new).collect(),
        older,
    }
    .into_response()
}

/// `POST /notifications/read`: marks them all read.
pub async fn mark_read(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
) -> Response {
    match state.api.mark_notifications_read(&token, None).await {
        Ok(_) => Redirect::to("/notifications").into_response(),
        Err(e) => error_page(v.chrome, &e),
    }
}

/// `POST /follow-requests/{username}/accept`.
pub async fn accept(state: WebState, signed_in: SignedIn, path: Path<String>) -> Response {
    answer_request(state, signed_in, path, true).await
}

/// `POST /follow-requests/{username}/reject`.
pub async fn reject(state: WebState, signed_in: SignedIn, path: Path<String>) -> Response {
    answer_request(state, signed_in, path, false).await
}

async fn answer_request(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    Path(username): Path<String>,
    accept: bool,
) -> Response {
    if !valid_username(&username) {
        return not_found(v.chrome);
    }
    let done = if accept {
        state.api.accept_follow_request(&token, &username).await
    } else {
        state.api.reject_follow_request(&token, &username).await
    };
    match done {
        Ok(()) => Redirect::to("/notifications").into_response(),
        Err(e) => error_page(v.chrome, &e),
    }
}

/// `GET /notifications/stream`: the API's event stream for this session,
/// relayed as it comes. Never stored, and `X-Accel-Buffering: no` so nginx
/// in front passes each event on at once instead of filling a buffer.
pub async fn stream(state: WebState, v: Visitor, headers: HeaderMap) -> Response {
    // An EventSource cannot follow a redirect to the log-in page usefully.
    let Some(token) = v.token.filter(|_| v.chrome.me.is_some()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let resume = headers.get("last-event-id").cloned();
    match state.api.notification_stream(&token, resume).await {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/event-stream"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    HeaderName::from_static("x-accel-buffering"),
                    HeaderValue::from_static("no"),
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => e.status().into_response(),
    }
}
