//! People: profiles with their follow button, follower and following
//! lists, your settings, and the sign-up and log-in forms.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chirp_client::{ClientError, FollowList};
use chirp_core::model::{Account, FollowState, Tweet};

use super::{Chrome, ListQuery, SignedIn, Visitor, error_page, not_found, older, valid_username};
use crate::WebState;
/// The templates match on pieces of tweet text.
use crate::text::{Piece, RichText};

/// What the follow button on a profile offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowButton {
    /// Your own profile, or nobody is signed in: no button.
    None,
    Follow,
    /// Following, or a request is waiting: the button undoes it.
    Unfollow(FollowState),
}

impl FollowButton {
    /// The text of the button that undoes a follow or a request.
    pub fn undo_label(&self) -> &'static str {
        match self {
            Self::Unfollow(FollowState::Requested) => "Requested",
            _ => "Unfollow",
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub chrome: Chrome,
    pub account: Account,
    pub button: FollowButton,
    pub tweets: Vec<Tweet>,
    pub older: Option<String>,
    /// A protected account seen by someone who may not read its chirps:
    /// the page says so instead of "No chirps yet".
    pub hidden: bool,
}

/// `/@{username}`: a profile and its chirps (the API leaves a protected
/// account's out for anyone but the account and its approved followers).
pub async fn profile(
    state: WebState,
    mut v: Visitor,
    Path(username): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    if !valid_username(&username) {
        return not_found(v.chrome);
    }
    let follow_state = async {
        match &v.token {
            Some(token) => state.api.follow_state(token, &username).await.map(Some),
            None => Ok(None),
        }
    };
    let (account, tweets, follow_state) = tokio::join!(
        state.api.account(&username),
        state
            .api
            .account_tweets(v.token.as_deref(), &username, q.cursor.as_deref()),
        follow_state,
    );
    let (account, tweets, follow_state) = match (account, tweets, follow_state) {
        (Ok(a), Ok(t), Ok(f)) => (a, t, f),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return error_page(v.chrome, &e),
    };
    v.chrome
        .learn_replied_to(&state, v.token.as_deref(), &tweets.items)
        .await;
    let mine = v.chrome.me.as_ref().is_some_and(|me| me.id == account.id);
    let button = match follow_state {
        _ if mine => FollowButton::None,
        None if v.token.is_none() => FollowButton::None,
        Some(None) | None => FollowButton::Follow,
        Some(Some(s)) => FollowButton::Unfollow(s),
    };
    let hidden = account.protected && !mine && follow_state != Some(Some(FollowState::Following));
    ProfilePage {
        hidden,
        chrome: v.chrome,
        older: older(&format!("/@{}", account.username), &tweets),
        account,
        button,
        tweets: tweets.items,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts.html")]
pub struct AccountsPage {
    pub chrome: Chrome,
    pub heading: String,
    /// Where "back" goes (the profile these lists belong to).
    pub back: Option<String>,
    pub accounts: Vec<Account>,
    pub older: Option<String>,
    pub empty: String,
}

/// `/@{username}/followers`.
pub async fn followers(
    state: WebState,
    v: Visitor,
    path: Path<String>,
    q: Query<ListQuery>,
) -> Response {
    follow_list(state, v, path, q, FollowList::Followers).await
}

/// `/@{username}/following`.
pub async fn following(
    state: WebState,
    v: Visitor,
    path: Path<String>,
    q: Query<ListQuery>,
) -> Response {
    follow_list(state, v, path, q, FollowList::Following).await
}

async fn follow_list(
    state: WebState,
    v: Visitor,
    Path(username): Path<String>,
    Query(q): Query<ListQuery>,
    list: FollowList,
) -> Response {
    if !valid_username(&username) {
        return not_found(v.chrome);
    }
    let page = match state
        .api
        .follow_list(&username, list, q.cursor.as_deref())
        .await
    {
        Ok(page) => page,
        Err(e) => return error_page(v.chrome, &e),
    };
    let (heading, empty) = match list {
        FollowList::Followers => (
            format!("People following @{username}"),
            format!("Nobody follows @{username} yet."),
        ),
        FollowList::Following => (
            format!("People @{username} follows"),
            format!("@{username} follows nobody yet."),
        ),
    };
    let base = format!("/@{username}/{}", list.as_str());
    AccountsPage {
        chrome: v.chrome,
        heading,
        back: Some(format!("/@{username}")),
        older: older(&base, &page),
        accounts: page.items,
        empty,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    pub chrome: Chrome,
    pub display_name: String,
    pub bio: String,
    /// Whether the "Protected account" box is ticked.
    pub protected: bool,
    pub error: Option<String>,
    /// Set right after a successful save.
    pub saved: bool,
}

#[derive(Debug, serde::Deserialize)]
pub struct SettingsQuery {
    #[serde(default)]
    pub saved: Option<String>,
}

/// `/settings`: display name, bio and the protected switch.
pub async fn settings(
    SignedIn { visitor: v, me, .. }: SignedIn,
    Query(q): Query<SettingsQuery>,
) -> Response {
    render_settings(
        v,
        None,
        me.display_name,
        me.bio,
        me.protected,
        q.saved.is_some(),
    )
}

/// The settings form, optionally re-shown with a failed save.
pub fn render_settings(
    v: Visitor,
    error: Option<ClientError>,
    display_name: String,
    bio: String,
    protected: bool,
    saved: bool,
) -> Response {
    let status = error.as_ref().map_or(StatusCode::OK, ClientError::status);
    let page = SettingsPage {
        chrome: v.chrome,
        display_name,
        bio,
        protected,
        error: error.as_ref().map(crate::words::say),
        saved,
    };
    (status, page).into_response()
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
    /// Where to go after logging in (a path on this site), or empty.
    pub next: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    pub next: String,
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
pub async fn login(v: Visitor, Query(q): Query<LoginQuery>) -> Response {
    LoginPage {
        chrome: v.chrome,
        error: None,
        username: String::new(),
        next: q.next,
    }
    .into_response()
}
