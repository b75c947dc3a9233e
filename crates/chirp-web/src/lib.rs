//! The chirp web site: server-rendered HTML over the chirp API.
//!
//! Layout:
//! * The site's only way to data is a [`chirp_client::Client`], the typed
//!   client of the public HTTP API: the API router called in-process in
//!   the embedded process, a hyper client in the scaled topology. So the
//!   site can never depend on the store directly, and what a browser sees
//!   is exactly what an API client sees.
//! * [`pages`]: the pages people read (askama templates in `templates/`,
//!   auto-escaped, so user text is never raw HTML), one module per area.
//! * [`forms`]: the POST handlers behind the forms; redirect on success,
//!   re-show the page with the API's error message otherwise. The newer
//!   areas (notifications, messages) keep their few forms beside their
//!   pages instead, so `forms.rs` stays under its size.
//! * [`text`]: tweet text cut into escaped runs, `#tag` and `@name` links.
//! * [`looks`]: generated avatars and relative times.
//! * [`words`]: the API's messages in the site's words ("chirp").
//! * [`security`]: session and CSRF cookies, the cross-site and CSRF
//!   checks on every POST, and the Content-Security-Policy and other headers
//!   on every response.
//!
//! Handlers take a [`WebState`], made per request from the router's
//! [`SharedState`]: its API client speaks for the request's browser, so
//! every API call carries the browser's address.
//!
//! [`router`]'s fallback is the site's 404 page; `chirp serve` merges it
//! with [`chirp_api::embeddable_router`], which has no fallback of its own
//! (unknown `/api/...` paths get the API's JSON 404 from a catch-all route).

pub mod forms;
pub mod looks;
pub mod pages;
pub mod security;
pub mod state;
pub mod text;
pub mod words;

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chirp_client::Client;

pub use state::{SharedState, WebConfig, WebState};

/// The site's one stylesheet, compiled in so the binary is self-contained.
const STYLESHEET: &str = include_str!("../static/chirp.css");
/// The site's one script: likes in place, the character counter and the
/// live unread badge. Every page works without it.
const SCRIPT: &str = include_str!("../static/chirp.js");
/// The site's icon, linked from every page; `/favicon.ico` (which browsers
/// ask for on their own) is sent here.
const FAVICON: &str = include_str!("../static/favicon.svg");
/// What crawlers may read: public pages, not the API or personal pages.
const ROBOTS: &str = include_str!("../static/robots.txt");

/// The web site's routes, reaching data only through `api`.
pub fn router(api: Client, config: WebConfig) -> Router {
    let config = Arc::new(config);
    let state = SharedState {
        api,
        config: Arc::clone(&config),
    };
    use pages::{accounts, messages, notifications, search, timelines, tweets};
    Router::new()
        // Compose boxes post to the page they are on, so a refused chirp
        // is shown again at that page's address, text kept.
        .route("/", get(timelines::home).post(forms::compose))
        .route("/public", get(timelines::public))
        .route("/tags/{tag}", get(timelines::hashtag))
        .route(
            "/c",
            get(timelines::categories).post(forms::create_category),
        )
        .route(
            "/c/{slug}",
            get(timelines::category).post(forms::compose_in_category),
        )
        .route("/search", get(search::search))
        // Where compose boxes posted before they posted to their own page.
        .route("/tweets", post(forms::compose))
        .route("/tweets/{id}", get(tweets::tweet).post(forms::reply))
        // The reply box's address before it posted to the tweet's page.
        .route("/tweets/{id}/reply", post(forms::reply))
        .route("/tweets/{id}/like", post(forms::like))
        .route("/tweets/{id}/edit", get(tweets::edit).post(forms::edit))
        .route(
            "/tweets/{id}/delete",
            get(tweets::delete).post(forms::delete),
        )
        .route("/@{username}", get(accounts::profile))
        .route("/@{username}/followers", get(accounts::followers))
        .route("/@{username}/following", get(accounts::following))
        .route("/@{username}/follow", post(forms::follow))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::mark_read))
        .route("/notifications/stream", get(notifications::stream))
        .route(
            "/follow-requests/{username}/accept",
            post(notifications::accept),
        )
        .route(
            "/follow-requests/{username}/reject",
            post(notifications::reject),
        )
        .route("/messages", get(messages::conversations))
        .route(
            "/messages/{username}",
            get(messages::conversation).post(messages::send),
        )
        .route("/settings", get(accounts::settings).post(forms::settings))
        .route("/signup", get(accounts::signup).post(forms::signup))
        .route("/login", get(accounts::login).post(forms::login))
        .route("/logout", post(forms::logout))
        .route("/static/chirp.css", get(stylesheet))
        .route("/static/chirp.js", get(script))
        .route("/favicon.svg", get(favicon))
        .route(
            "/favicon.ico",
            get(|| async { Redirect::permanent("/favicon.svg") }),
        )
        .route("/robots.txt", get(robots))
        .fallback(pages::page_not_found)
        .layer(from_fn_with_state(config, security::csrf))
        .layer(from_fn(security::headers))
        .with_state(state)
}

/// `/static/chirp.css`; shared caches may keep it for an hour.
async fn stylesheet() -> impl IntoResponse {
    static_file("text/css; charset=utf-8", STYLESHEET)
}

/// `/static/chirp.js`; shared caches may keep it for an hour.
async fn script() -> impl IntoResponse {
    static_file("text/javascript; charset=utf-8", SCRIPT)
}

/// `/favicon.svg`; shared caches may keep it for an hour.
async fn favicon() -> impl IntoResponse {
    static_file("image/svg+xml", FAVICON)
}

/// `/robots.txt`, plain text.
async fn robots() -> impl IntoResponse {
    static_file("text/plain; charset=utf-8", ROBOTS)
}

fn static_file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}
