//! The form posts: each one calls the API, then redirects (303) on success
//! or re-shows its page with the API's error. CSRF has already been checked
//! by [`crate::security::csrf`] before any of these run.

use axum::Form;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use chirp_client::ClientError;
use chirp_client::wire::{
    EditTweetBody, LoginBody, NewAccountBody, NewCategoryBody, NewTweetBody, ProfilePatch,
};
use serde::Deserialize;

use crate::WebState;
use crate::pages::accounts::{LoginPage, SignupPage, render_settings};
use crate::pages::timelines::{CategoryFields, render_categories, render_category, render_home};
use crate::pages::tweets::{render_edit, render_tweet};
use crate::pages::{self, SignedIn, TweetId, Visitor, valid_slug, valid_username};
use crate::security::{CSRF_MAX_AGE, csrf_cookie, random_token, session_cookie, set_cookie};

/// How long the browser keeps the session cookie; the API's own session
/// lifetime (30 days by default) still decides when the token dies.
const SESSION_MAX_AGE: u64 = 60 * 60 * 24 * 30;

#[derive(Deserialize)]
pub struct TextForm {
    text: String,
}

#[derive(Deserialize)]
pub struct ComposeForm {
    text: String,
    /// Set by the compose box of a category page.
    #[serde(default)]
    category: String,
}

/// `POST /` (and the older `POST /tweets`): posts from the compose box on
/// `/` or, with `category`, on `/c/{slug}`, then goes back there. A refused
/// chirp re-shows that page with the error and the text.
pub async fn compose(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    Form(f): Form<ComposeForm>,
) -> Response {
    let category = Some(f.category.as_str()).filter(|c| valid_slug(c));
    let tweet = NewTweetBody {
        text: f.text.clone(),
        reply_to: None,
        category: category.map(str::to_owned),
    };
    match state.api.post_tweet(&token, &tweet).await {
        Ok(_) => match category {
            Some(slug) => Redirect::to(&format!("/c/{slug}")).into_response(),
            None => Redirect::to("/").into_response(),
        },
        Err(e) => match category {
            Some(slug) => render_category(&state, v, slug, Some(e), f.text, None).await,
            None => render_home(&state, v, Some(e), f.text, None).await,
        },
    }
}

/// `POST /c/{slug}`: posts from a category page's compose box into it.
pub async fn compose_in_category(
    state: WebState,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(f): Form<ComposeForm>,
) -> Response {
    let f = ComposeForm {
        category: slug,
        ..f
    };
    compose(state, signed_in, Form(f)).await
}

/// `POST /tweets/{id}` (and the older `.../reply`): posts a reply from the
/// tweet page; a refused one re-shows the page with it.
pub async fn reply(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    TweetId(id): TweetId,
    Form(f): Form<TextForm>,
) -> Response {
    let tweet = NewTweetBody {
        text: f.text.clone(),
        reply_to: Some(id),
        category: None,
    };
    match state.api.post_tweet(&token, &tweet).await {
        Ok(_) => Redirect::to(&format!("/tweets/{id}")).into_response(),
        Err(e) => render_tweet(&state, v, id, Some(e), f.text).await,
    }
}

/// `POST /tweets/{id}/edit`: saves the author's new text.
pub async fn edit(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    TweetId(id): TweetId,
    Form(f): Form<TextForm>,
) -> Response {
    let edit = EditTweetBody {
        text: f.text.clone(),
    };
    match state.api.edit_tweet(&token, id, &edit).await {
        Ok(_) => Redirect::to(&format!("/tweets/{id}")).into_response(),
        Err(e) => render_edit(v, id, Some(e), f.text),
    }
}

/// `POST /tweets/{id}/delete`: deletes after the confirmation page.
pub async fn delete(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    TweetId(id): TweetId,
) -> Response {
    match state.api.delete_tweet(&token, id).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => pages::error_page(v.chrome, &e),
    }
}

#[derive(Deserialize)]
pub struct LikeForm {
    next: Option<String>,
}

/// `POST /tweets/{id}/like`: +1, then back to the page the button was on.
/// The page's script asks for JSON instead and updates the count in place.
pub async fn like(
    state: WebState,
    v: Visitor,
    headers: HeaderMap,
    TweetId(id): TweetId,
    Form(f): Form<LikeForm>,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let liked = state.api.like(id).await;
    if wants_json {
        return match liked {
            Ok(count) => axum::Json(count).into_response(),
            Err(e) => {
                // Shown by the page's script: in the site's words too.
                let mut body = e.to_body();
                body.error.message = crate::words::say(&e);
                (e.status(), axum::Json(body)).into_response()
            }
        };
    }
    if let Err(e) = liked {
        return pages::error_page(v.chrome, &e);
    }
    let back = f
        .next
        .filter(|n| local_path(n))
        .unwrap_or_else(|| format!("/tweets/{id}"));
    Redirect::to(&format!("{back}#t{id}")).into_response()
}

/// Only paths on this site: no `//host` or `/\host` open redirects.
pub(crate) fn local_path(next: &str) -> bool {
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
pub async fn signup(state: WebState, v: Visitor, Form(f): Form<SignupForm>) -> Response {
    let display = Some(f.display_name.trim()).filter(|d| !d.is_empty());
    let account = NewAccountBody {
        username: f.username.clone(),
        password: f.password.clone(),
        display_name: display.map(str::to_owned),
        bio: None,
    };
    let created = state.api.sign_up(&account).await;
    let result = match created {
        Ok(_) => {
            state
                .api
                .log_in(&login_body(&f.username, &f.password))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(session) => logged_in(&state, &session.token, "/"),
        Err(e) => {
            let status = e.status();
            let page = SignupPage {
                chrome: v.chrome,
                error: Some(crate::words::say(&e)),
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
    /// The page that sent them to log in, to go back to.
    #[serde(default)]
    next: String,
}

/// `POST /login`: a new API session, kept in the session cookie; then back
/// to the page that asked for it.
pub async fn login(state: WebState, v: Visitor, Form(f): Form<LoginForm>) -> Response {
    match state
        .api
        .log_in(&login_body(&f.username, &f.password))
        .await
    {
        Ok(session) => logged_in(&state, &session.token, &f.next),
        Err(e) => login_failed(v, e, f.username, f.next),
    }
}

fn login_body(username: &str, password: &str) -> LoginBody {
    LoginBody {
        username: username.to_owned(),
        password: password.to_owned(),
    }
}

fn login_failed(v: Visitor, e: ClientError, username: String, next: String) -> Response {
    let status = e.status();
    let page = LoginPage {
        chrome: v.chrome,
        error: Some(crate::words::say(&e)),
        username,
        next,
    };
    (status, page).into_response()
}

/// Sets the session cookie and goes to `next` (a path on this site) or
/// home, whose forms carry the token of the new session (see
/// [`crate::security`]). The logged-out CSRF cookie is replaced too, so a
/// token seen before login (e.g. planted by someone else) is useless after
/// logout as well.
fn logged_in(state: &WebState, token: &str, next: &str) -> Response {
    let to = if local_path(next) { next } else { "/" };
    let secure = state.config.secure_cookies;
    let session = set_cookie(session_cookie(secure), token, SESSION_MAX_AGE, secure);
    let csrf = set_cookie(csrf_cookie(secure), &random_token(), CSRF_MAX_AGE, secure);
    (
        AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, csrf)]),
        Redirect::to(to),
    )
        .into_response()
}

/// `POST /logout`: revokes the token in the API and drops the cookie
/// (under the other name too, if the browser still has one from before
/// `Secure` was switched, lest it log them back in).
pub async fn logout(state: WebState, v: Visitor, headers: HeaderMap) -> Response {
    if let Some(token) = &v.token
        && let Err(e) = state.api.log_out(token).await
    {
        tracing::warn!(error = %e, "logout: the API did not revoke the session");
    }
    let secure = state.config.secure_cookies;
    let mut cookies = vec![set_cookie(session_cookie(secure), "", 0, secure)];
    let other = session_cookie(!secure);
    if chirp_http::cookies::has_cookie(&headers, other) {
        // A `__Host-` cookie is only deleted with `Secure` on.
        cookies.push(set_cookie(other, "", 0, !secure));
    }
    let mut resp = Redirect::to("/").into_response();
    for cookie in cookies {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp
}

#[derive(Deserialize)]
pub struct FollowForm {
    /// `follow` or `unfollow`.
    action: String,
}

/// `POST /@{username}/follow`: the profile's Follow / Unfollow button.
pub async fn follow(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    Path(username): Path<String>,
    Form(f): Form<FollowForm>,
) -> Response {
    if !valid_username(&username) {
        return pages::not_found(v.chrome);
    }
    let done = match f.action.as_str() {
        "follow" => state.api.follow(&token, &username).await.map(|_| ()),
        "unfollow" => state.api.unfollow(&token, &username).await,
        _ => {
            let e = ClientError::Api {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "validation_failed".into(),
                message: "action must be follow or unfollow".into(),
                field: Some("action".into()),
            };
            return pages::error_page(v.chrome, &e);
        }
    };
    match done {
        Ok(()) => Redirect::to(&format!("/@{username}")).into_response(),
        Err(e) => pages::error_page(v.chrome, &e),
    }
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    bio: String,
    /// The "Protected account" checkbox: browsers send it only when it is
    /// ticked, so its absence means public.
    #[serde(default)]
    protected: Option<String>,
}

/// `POST /settings`: saves display name, bio and whether the account is
/// protected.
pub async fn settings(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    Form(f): Form<SettingsForm>,
) -> Response {
    let patch = ProfilePatch {
        display_name: Some(f.display_name.clone()),
        bio: Some(f.bio.clone()),
        protected: Some(f.protected.is_some()),
    };
    match state.api.update_profile(&token, &patch).await {
        Ok(_) => Redirect::to("/settings?saved=1").into_response(),
        Err(e) => render_settings(
            v,
            Some(e),
            f.display_name,
            f.bio,
            f.protected.is_some(),
            false,
        ),
    }
}

/// `POST /c`: starts a category, then opens it.
pub async fn create_category(
    state: WebState,
    SignedIn {
        visitor: v, token, ..
    }: SignedIn,
    Form(f): Form<CategoryFields>,
) -> Response {
    let category = NewCategoryBody {
        slug: f.slug.trim().to_owned(),
        name: f.name.trim().to_owned(),
        description: Some(f.description.trim().to_owned()),
    };
    match state.api.create_category(&token, &category).await {
        Ok(c) => Redirect::to(&format!("/c/{}", c.slug)).into_response(),
        Err(e) => render_categories(&state, v, Some(e), f).await,
    }
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
