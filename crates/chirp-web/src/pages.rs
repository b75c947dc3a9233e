//! The pages people read: one askama template per page, filled from the API.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chirp_core::model::{Account, Tweet};

use crate::WebState;
use crate::client::ClientError;
use crate::security::{CsrfToken, SESSION_COOKIE, cookie};
/// The templates match on pieces of tweet text.
use crate::text::{Piece, RichText};

/// Who is looking at a page, and what every page's layout needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The signed-in account, if the session cookie is still valid.
    pub me: Option<Account>,
    /// This browser's CSRF token, repeated in every form.
    pub csrf: String,
    /// The path of this page, so forms (like) can come back to it.
    pub path: String,
}

/// A request's visitor: the layout data plus the API token of their session.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub chrome: Chrome,
    /// Only set when the API accepted it (so `me` is set too).
    pub token: Option<String>,
}

impl FromRequestParts<WebState> for Visitor {
    type Rejection = std::convert::Infallible;

    /// Asks the API who the session cookie belongs to; an expired or revoked
    /// session simply makes a logged-out visitor.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        let mut token = cookie(&parts.headers, SESSION_COOKIE);
        let me = match &token {
            Some(t) => state.api.me(t).await.ok(),
            None => None,
        };
        if me.is_none() {
            token = None;
        }
        let chrome = Chrome {
            me,
            csrf,
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
        };
        Ok(Self { chrome, token })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "timeline.html")]
pub struct TimelinePage {
    pub chrome: Chrome,
    pub heading: String,
    pub compose: bool,
    pub draft: String,
    pub error: Option<String>,
    pub tweets: Vec<Tweet>,
    /// Link to the next (older) page, if there is one.
    pub older: Option<String>,
}

/// `?cursor=` of the list pages.
#[derive(Debug, serde::Deserialize)]
pub struct ListQuery {
    pub cursor: Option<String>,
}

/// The address of the page after `page`, at `base`.
fn older<T>(base: &str, page: &chirp_core::page::Paged<T>) -> Option<String> {
    let cursor = page.next_cursor.as_deref()?;
    let query = crate::client::query("cursor", cursor).ok()?;
    Some(format!("{base}?{query}"))
}

#[derive(Template, WebTemplate)]
#[template(path = "tweet.html")]
pub struct TweetPage {
    pub chrome: Chrome,
    pub id: i64,
    pub author: String,
    pub reply_to: Option<i64>,
    /// The tweet itself, as a one-item list so the shared partial renders it.
    pub main: Vec<Tweet>,
    pub replies: Vec<Tweet>,
    pub draft: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub chrome: Chrome,
    pub account: Account,
    pub tweets: Vec<Tweet>,
    pub older: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub chrome: Chrome,
    pub error: Option<String>,
    pub username: String,
    pub display_name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub error: Option<String>,
    pub username: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub title: String,
    pub message: String,
}

/// A page explaining `err`, with the API's status.
pub fn error_page(chrome: Chrome, err: &ClientError) -> Response {
    let status = err.status();
    let title = match status {
        StatusCode::NOT_FOUND => "Not found".to_owned(),
        s => s
            .canonical_reason()
            .unwrap_or("Something went wrong")
            .to_owned(),
    };
    let page = ErrorPage {
        chrome,
        title,
        message: err.to_string(),
    };
    (status, page).into_response()
}

/// A page that does not exist on the site.
pub fn not_found(chrome: Chrome) -> Response {
    let page = ErrorPage {
        chrome,
        title: "Not found".into(),
        message: "There is nothing at this address.".into(),
    };
    (StatusCode::NOT_FOUND, page).into_response()
}

/// `/`: your home timeline with a compose box, or the public timeline.
pub async fn home(
    State(state): State<WebState>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> Response {
    render_home(&state, v, None, String::new(), q.cursor).await
}

/// The home page, optionally re-shown with a failed draft and its error.
pub async fn render_home(
    state: &WebState,
    v: Visitor,
    error: Option<ClientError>,
    draft: String,
    cursor: Option<String>,
) -> Response {
    let cursor = cursor.as_deref();
    let (heading, tweets) = match &v.token {
        Some(token) => (
            "Home".to_owned(),
            state.api.home_timeline(token, cursor).await,
        ),
        None => (
            "Latest chirps".to_owned(),
            state.api.public_timeline(cursor).await,
        ),
    };
    let (older, tweets) = match tweets {
        Ok(page) => (older("/", &page), page.items),
        Err(e) => return error_page(v.chrome, &e),
    };
    let status = error.as_ref().map_or(StatusCode::OK, ClientError::status);
    let page = TimelinePage {
        compose: v.token.is_some(),
        chrome: v.chrome,
        heading,
        draft,
        error: error.map(|e| e.to_string()),
        tweets,
        older,
    };
    (status, page).into_response()
}

/// `/public`: everyone's newest chirps.
pub async fn public(
    State(state): State<WebState>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> Response {
    match state.api.public_timeline(q.cursor.as_deref()).await {
        Ok(page) => TimelinePage {
            chrome: v.chrome,
            heading: "Public timeline".into(),
            compose: false,
            draft: String::new(),
            error: None,
            older: older("/public", &page),
            tweets: page.items,
        }
        .into_response(),
        Err(e) => error_page(v.chrome, &e),
    }
}

/// `/tags/{tag}`: the chirps carrying a hashtag.
pub async fn hashtag(
    State(state): State<WebState>,
    v: Visitor,
    Path(tag): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let Ok(tag) = chirp_core::hashtags::parse_tag("tag", &tag, false) else {
        return not_found(v.chrome);
    };
    match state.api.hashtag(&tag, q.cursor.as_deref()).await {
        Ok(page) => TimelinePage {
            chrome: v.chrome,
            heading: format!("#{tag}"),
            compose: false,
            draft: String::new(),
            error: None,
            older: older(&format!("/tags/{tag}"), &page),
            tweets: page.items,
        }
        .into_response(),
        Err(e) => error_page(v.chrome, &e),
    }
}

/// `/tweets/{id}`: a chirp, its replies, and a reply box.
pub async fn tweet(State(state): State<WebState>, v: Visitor, Path(id): Path<i64>) -> Response {
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
    let (tweet, replies) = tokio::join!(state.api.tweet(id), state.api.replies(id));
    let (tweet, replies) = match (tweet, replies) {
        (Ok(t), Ok(r)) => (t, r.items),
        (Err(e), _) | (_, Err(e)) => return error_page(v.chrome, &e),
    };
    let status = error.as_ref().map_or(StatusCode::OK, ClientError::status);
    let page = TweetPage {
        chrome: v.chrome,
        id,
        author: tweet.author.username.clone(),
        reply_to: tweet.reply_to,
        main: vec![tweet],
        replies,
        draft,
        error: error.map(|e| e.to_string()),
    };
    (status, page).into_response()
}

/// `/@{username}`: a profile and its chirps.
pub async fn profile(
    State(state): State<WebState>,
    v: Visitor,
    Path(username): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    if !valid_username(&username) {
        return not_found(v.chrome);
    }
    let (account, tweets) = tokio::join!(
        state.api.account(&username),
        state.api.account_tweets(&username, q.cursor.as_deref()),
    );
    match (account, tweets) {
        (Ok(account), Ok(tweets)) => ProfilePage {
            chrome: v.chrome,
            older: older(&format!("/@{username}"), &tweets),
            account,
            tweets: tweets.items,
        }
        .into_response(),
        (Err(e), _) | (_, Err(e)) => error_page(v.chrome, &e),
    }
}

/// Only names the API could have registered go into API paths, so a
/// crafted address cannot reach another API route.
pub fn valid_username(name: &str) -> bool {
    (1..=30).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `/signup`: the sign-up form.
pub async fn signup(v: Visitor) -> Response {
    SignupPage {
        chrome: v.chrome,
        error: None,
        username: String::new(),
        display_name: String::new(),
    }
    .into_response()
}

/// `/login`: the log-in form.
pub async fn login(v: Visitor) -> Response {
    LoginPage {
        chrome: v.chrome,
        error: None,
        username: String::new(),
    }
    .into_response()
}
