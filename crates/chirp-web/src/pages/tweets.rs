//! One tweet: its page with replies, and the edit and delete pages its
//! author reaches from it.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chirp_client::ClientError;
use chirp_core::model::Tweet;

use super::{Chrome, SignedIn, TweetId, Visitor, error_page};
use crate::WebState;
/// The templates match on pieces of tweet text.
use crate::text::{Piece, RichText};

#[derive(Template, WebTemplate)]
#[template(path = "tweet.html")]
pub struct TweetPage {
    pub chrome: Chrome,
    pub id: i64,
    pub author: String,
    /// The tweet itself, as a one-item list so the shared partial renders it.
    pub main: Vec<Tweet>,
    pub replies: Vec<Tweet>,
    pub draft: String,
    pub error: Option<String>,
}

impl TweetPage {
    /// Where the reply box posts.
    pub fn reply_action(&self) -> String {
        format!("/tweets/{}", self.id)
    }
}

/// `/tweets/{id}`: a chirp, its replies, and a reply box.
pub async fn tweet(state: WebState, v: Visitor, TweetId(id): TweetId) -> Response {
    render_tweet(&state, v, id, None, String::new()).await
}

/// The tweet page, optionally re-shown with a failed reply and its error.
pub async fn render_tweet(
    state: &WebState,
    v: Visitor,
    id: i64,
    error: Option<ClientError>,
    draft: String,
) -> Response {
    let mut v = v;
    if error.is_some() {
        // Shown in answer to POST .../reply: buttons on it come back here.
        v.chrome.path = format!("/tweets/{id}");
    }
    let viewer = v.token.as_deref();
    let (tweet, replies) = tokio::join!(
        state.api.tweet(viewer, id),
        state.api.replies(viewer, id, None)
    );
    let (tweet, replies) = match (tweet, replies) {
        (Ok(t), Ok(r)) => (t, r.items),
        (Err(e), _) | (_, Err(e)) => return error_page(v.chrome, &e),
    };
    v.chrome.learn_replied_to(state, viewer, [&tweet]).await;
    let status = error.as_ref().map_or(StatusCode::OK, ClientError::status);
    let page = TweetPage {
        chrome: v.chrome,
        id,
        author: tweet.author.username.clone(),
        main: vec![tweet],
        replies,
        draft,
        error: error.as_ref().map(crate::words::say),
    };
    (status, page).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "edit.html")]
pub struct EditPage {
    pub chrome: Chrome,
    pub id: i64,
    pub draft: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "delete.html")]
pub struct DeletePage {
    pub chrome: Chrome,
    /// The tweet, as a one-item list so the shared partial renders it.
    pub main: Vec<Tweet>,
    pub id: i64,
}

/// The tweet `id` if the visitor wrote it; otherwise the page to show
/// instead (a 403 for someone else's tweet).
async fn own_tweet(state: &WebState, v: &Visitor, id: i64) -> Result<Tweet, Response> {
    let tweet = state
        .api
        .tweet(v.token.as_deref(), id)
        .await
        .map_err(|e| error_page(v.chrome.clone(), &e))?;
    if !v.chrome.owns(&tweet) {
        // Refused here, as the API would refuse it.
        let e = ClientError::Api {
            status: StatusCode::FORBIDDEN,
            code: "forbidden".into(),
            message: "only its author can change a chirp".into(),
            field: None,
        };
        return Err(error_page(v.chrome.clone(), &e));
    }
    Ok(tweet)
}

/// `/tweets/{id}/edit`: the author's edit form.
pub async fn edit(
    state: WebState,
    TweetId(id): TweetId,
    SignedIn { visitor: v, .. }: SignedIn,
) -> Response {
    match own_tweet(&state, &v, id).await {
        Ok(tweet) => render_edit(v, id, None, tweet.text),
        Err(resp) => resp,
    }
}

/// The edit form, optionally re-shown with a failed edit and its error.
pub fn render_edit(v: Visitor, id: i64, error: Option<ClientError>, draft: String) -> Response {
    let status = error.as_ref().map_or(StatusCode::OK, ClientError::status);
    let page = EditPage {
        chrome: v.chrome,
        id,
        draft,
        error: error.as_ref().map(crate::words::say),
    };
    (status, page).into_response()
}

/// `/tweets/{id}/delete`: asks the author to confirm.
pub async fn delete(
    state: WebState,
    TweetId(id): TweetId,
    SignedIn { visitor: v, .. }: SignedIn,
) -> Response {
    match own_tweet(&state, &v, id).await {
        Ok(tweet) => {
            let mut chrome = v.chrome;
            chrome
                .learn_replied_to(&state, v.token.as_deref(), [&tweet])
                .await;
            DeletePage {
                chrome,
                main: vec![tweet],
                id,
            }
            .into_response()
        }
        Err(resp) => resp,
    }
}
