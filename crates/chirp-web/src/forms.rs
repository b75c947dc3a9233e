//! The form posts: each one calls the API, then redirects (303) on success
//! or re-shows its page with the API's error. CSRF has already been checked
//! by [`crate::security::csrf`] before any of these run.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::WebState;
use crate::client::ClientError;
use crate::pages::{self, LoginPage, SignupPage, Visitor};
use crate::security::{CSRF_COOKIE, CSRF_MAX_AGE, SESSION_COOKIE, random_token, set_cookie};

/// How long the browser keeps the session cookie; the API's own session
/// lifetime (30 days by default) still decides when the token dies.
const SESSION_MAX_AGE: u64 = 60 * 60 * 24 * 30;

#[derive(Deserialize)]
pub struct TextForm {
    text: String,
}

/// `POST /tweets`: posts from the compose box on `/`.
pub async fn compose(
    State(state): State<WebState>,
    v: Visitor,
    Form(f): Form<TextForm>,
) -> Response {
    let Some(token) = v.token.clone() else {
        return Redirect::to("/login").into_response();
    };
    match state.api.post_tweet(&token, &f.text, None).await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => pages::render_home(&state, v, Some(e), f.text, None).await,
    }
}

/// `POST /tweets/{id}/reply`: posts a reply from the tweet page.
pub async fn reply(
    State(state): State<WebState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(f): Form<TextForm>,
) -> Response {
    let Some(token) = v.token.clone() else {
        return Redirect::to("/login").into_response();
    };
    match state.api.post_tweet(&token, &f.text, Some(id)).await {
        Ok(_) => Redirect::to(&format!("/tweets/{id}")).into_response(),
        Err(e) => pages::render_tweet(&state, v, id, Some(e), f.text).await,
    }
}

#[derive(Deserialize)]
pub struct LikeForm {
    next: Option<String>,
}

/// `POST /tweets/{id}/like`: +1, then back to the page the button was on.
pub async fn like(
    State(state): State<WebState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(f): Form<LikeForm>,
) -> Response {
    if let Err(e) = state.api.like(id).await {
        return pages::error_page(v.chrome, &e);
    }
    let back = f
        .next
        .filter(|n| local_path(n))
        .unwrap_or_else(|| format!("/tweets/{id}"));
    Redirect::to(&format!("{back}#t{id}")).into_response()
}

/// Only paths on this site: no `//host` or `/\host` open redirects.
fn local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
}

#[derive(Deserialize)]
pub struct SignupForm {
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
}

/// `POST /signup`: creates the account and logs it in.
pub async fn signup(
    State(state): State<WebState>,
    v: Visitor,
    Form(f): Form<SignupForm>,
) -> Response {
    let display = Some(f.display_name.trim()).filter(|d| !d.is_empty());
    let created = state.api.sign_up(&f.username, &f.password, display).await;
    let result = match created {
        Ok(_) => state.api.log_in(&f.username, &f.password).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(session) => logged_in(&state, &session.token),
        Err(e) => {
            let status = e.status();
            let page = SignupPage {
                chrome: v.chrome,
                error: Some(e.to_string()),
                username: f.username,
                display_name: f.display_name,
            };
            (status, page).into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

/// `POST /login`: a new API session, kept in the session cookie.
pub async fn login(
    State(state): State<WebState>,
    v: Visitor,
    Form(f): Form<LoginForm>,
) -> Response {
    match state.api.log_in(&f.username, &f.password).await {
        Ok(session) => logged_in(&state, &session.token),
        Err(e) => login_failed(v, e, f.username),
    }
}

fn login_failed(v: Visitor, e: ClientError, username: String) -> Response {
    let status = e.status();
    let page = LoginPage {
        chrome: v.chrome,
        error: Some(e.to_string()),
        username,
    };
    (status, page).into_response()
}

/// Sets the session cookie and goes home. The CSRF token is replaced too,
/// so a token seen before login (e.g. planted by someone else) is useless
/// after it.
fn logged_in(state: &WebState, token: &str) -> Response {
    let secure = state.config.secure_cookies;
    let session = set_cookie(SESSION_COOKIE, token, SESSION_MAX_AGE, secure);
    let csrf = set_cookie(CSRF_COOKIE, &random_token(), CSRF_MAX_AGE, secure);
    (
        AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, csrf)]),
        Redirect::to("/"),
    )
        .into_response()
}

/// `POST /logout`: revokes the token in the API and drops the cookie.
pub async fn logout(State(state): State<WebState>, v: Visitor) -> Response {
    if let Some(token) = &v.token
        && let Err(e) = state.api.log_out(token).await
    {
        tracing::warn!(error = %e, "logout: the API did not revoke the session");
    }
    let cookie = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed() {
        assert!(local_path("/tweets/3"));
        assert!(!local_path("//evil.example"));
        assert!(!local_path("/\\evil.example"));
        assert!(!local_path("https://evil.example"));
    }
}
