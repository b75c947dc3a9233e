//! `/messages`: your conversations, the latest first; and
//! `/messages/{username}`: one conversation, oldest message at the top as
//! people read a chat, with the form that sends the next one.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chirp_client::ClientError;
use chirp_client::wire::NewMessageBody;
use chirp_core::model::{Account, Conversation, Message};

use super::{Chrome, SignedIn, Visitor, error_page, not_found, valid_username};
use crate::WebState;

#[derive(Template, WebTemplate)]
#[template(path = "messages.html")]
pub struct ConversationsPage {
    pub chrome: Chrome,
    pub conversations: Vec<Conversation>,
}

/// `/messages`: the conversations list.
pub async fn conversations(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
) -> Response {
    match state.api.conversations(&token, None).await {
        Ok(page) => ConversationsPage {
            chrome: v.chrome,
            conversations: page.items,
        }
        .into_response(),
        Err(e) => error_page(v.chrome, &e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "conversation.html")]
pub struct ConversationPage {
    pub chrome: Chrome,
    pub with: Account,
    /// Oldest first.
    pub messages: Vec<Message>,
    pub draft: String,
    pub error: Option<String>,
}

impl ConversationPage {
    /// Whether the signed-in account sent `m` (its bubble sits on the right).
    pub fn mine(&self, m: &Message) -> bool {
        self.chrome.me.as_ref().is_some_and(|me| me.id == m.from.id)
    }
}

/// `/messages/{username}`: one conversation and the send form.
pub async fn conversation(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    Path(username): Path<String>,
) -> Response {
    render_conversation(&state, v, &token, &username, None, String::new()).await
}

/// The conversation page, optionally re-shown with a failed draft.
async fn render_conversation(
    state: &WebState,
    v: Visitor,
    token: &str,
    username: &str,
    error: Option<ClientError>,
    draft: String,
) -> Response {
    if !valid_username(username) {
        return not_found(v.chrome);
    }
    let mut v = v;
    if error.is_some() {
        v.chrome.path = format!("/messages/{username}");
    }
    let (with, messages) = tokio::join!(
        state.api.account(username),
        state.api.messages(token, username, None),
    );
    let (with, mut messages) = match (with, messages) {
        (Ok(a), Ok(m)) => (a, m.items),
        (Err(e), _) | (_, Err(e)) => return error_page(v.chrome, &e),
    };
    // The API answers newest first; a conversation reads top to bottom.
    messages.reverse();
    let status = error.as_ref().map_or(StatusCode::OK, ClientError::status);
    let page = ConversationPage {
        chrome: v.chrome,
        with,
        messages,
        draft,
        error: error.as_ref().map(crate::words::say),
    };
    (status, page).into_response()
}

#[derive(serde::Deserialize)]
pub struct MessageForm {
    text: String,
}

/// `POST /messages/{username}`: sends a message, then shows the
/// conversation again.
pub async fn send(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    Path(username): Path<String>,
    Form(f): Form<MessageForm>,
) -> Response {
    if !valid_username(&username) {
        return not_found(v.chrome);
    }
    let body = NewMessageBody {
        to: username.clone(),
        text: f.text.clone(),
    };
    match state.api.send_message(&token, &body).await {
        Ok(_) => Redirect::to(&format!("/messages/{username}")).into_response(),
        Err(e) => render_conversation(&state, v, &token, &username, Some(e), f.text).await,
    }
}
