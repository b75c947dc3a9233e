//! The pages people read: one askama template per page, filled from the
//! API. This module holds what every page shares (who is looking, error
//! pages); the pages themselves live in one module per area of the site.

pub mod accounts;
pub mod messages;
pub mod notifications;
pub mod search;
pub mod timelines;
pub mod tweets;

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chirp_client::ClientError;
use chirp_core::model::{Account, Tweet};
use futures_util::future::join_all;

use crate::security::CsrfToken;
use crate::{SharedState, WebState};

/// Who is looking at a page, and what every page's layout needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The signed-in account, if the session cookie is still valid.
    pub me: Option<Account>,
    /// This browser's CSRF token, repeated in every form.
    pub csrf: String,
    /// The path of this page, so forms (like) can come back to it.
    pub path: String,
    /// How many of the signed-in account's notifications are unread, for
    /// the badge in the top bar (0 when logged out or the count failed:
    /// a badge is not worth an error page).
    pub unread: i64,
    /// Who wrote the chirps the page's replies answer, by tweet id, so a
    /// card can say "Replying to @name" (see [`Chrome::learn_replied_to`]).
    pub replied_to: HashMap<i64, String>,
}

impl Chrome {
    /// Whether `account` is the one signed in.
    pub fn is_me(&self, account: &Account) -> bool {
        self.me.as_ref().is_some_and(|me| me.id == account.id)
    }

    /// Whether the signed-in account wrote `tweet`, so its edit and delete
    /// links show (the API still decides; these are only links).
    pub fn owns(&self, tweet: &Tweet) -> bool {
        self.me.as_ref().is_some_and(|me| me.id == tweet.author.id)
    }

    /// Whether this is the page of tweet `id` (its replies need not say
    /// what they reply to).
    pub fn is_at_tweet(&self, id: &i64) -> bool {
        self.path == format!("/tweets/{id}")
    }

    /// The author of tweet `parent`, if the page looked it up.
    pub fn replying_to(&self, parent: &i64) -> Option<&str> {
        self.replied_to.get(parent).map(String::as_str)
    }

    /// Looks up, side by side, who wrote the tweets that `tweets` reply
    /// to. One the viewer cannot see (deleted, protected) stays unnamed:
    /// its card says "Replying to a chirp", as the page works without it.
    pub async fn learn_replied_to<'a>(
        &mut self,
        state: &WebState,
        viewer: Option<&str>,
        tweets: impl IntoIterator<Item = &'a Tweet>,
    ) {
        let mut parents: Vec<i64> = tweets
            .into_iter()
            .filter_map(|t| t.reply_to)
            .filter(|p| !self.replied_to.contains_key(p) && !self.is_at_tweet(p))
            .collect();
        parents.sort_unstable();
        parents.dedup();
        let found = join_all(parents.iter().map(|&id| state.api.tweet(viewer, id))).await;
        for parent in found.into_iter().flatten() {
            self.replied_to.insert(parent.id, parent.author.username);
        }
    }

    /// Whether `account` is the signed-in one.
    pub fn owns_account(&self, account: &Account) -> bool {
        self.me.as_ref().is_some_and(|me| me.id == account.id)
    }
}

/// A request's visitor: the layout data plus the API token of their session.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub chrome: Chrome,
    /// The session token, unless the API said it is no good. Set with `me`
    /// unset when the API could not be asked (see `trouble`).
    pub token: Option<String>,
    /// Why the API could not say who this is (it is down, say): not a
    /// reason to treat them as logged out.
    pub trouble: Option<ClientError>,
}

impl FromRequestParts<SharedState> for Visitor {
    type Rejection = std::convert::Infallible;

    /// Asks the API who the session cookie belongs to; an expired or revoked
    /// session simply makes a logged-out visitor.
    async fn from_request_parts(
        parts: &mut Parts,
        shared: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(state) = WebState::from_request_parts(parts, shared).await;
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        // Under either name, as the CSRF check reads it.
        let mut token = chirp_http::cookies::session_token(&parts.headers).map(str::to_owned);
        let mut trouble = None;
        let mut unread = 0;
        let me = match token.clone() {
            Some(t) => {
                // Asked side by side, so the badge adds no round trip.
                let (me, count) = tokio::join!(state.api.me(&t), state.api.unread_count(&t));
                unread = count.unwrap_or(0);
                match me {
                    Ok(me) => Some(me),
                    // Expired or revoked: a logged-out visitor.
                    Err(e) if e.is_unauthorized() => {
                        token = None;
                        None
                    }
                    // The API could not say: keep the session, report the trouble.
                    Err(e) => {
                        trouble = Some(e);
                        None
                    }
                }
            }
            None => None,
        };
        let chrome = Chrome {
            me,
            csrf,
            unread,
            replied_to: HashMap::new(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
        };
        Ok(Self {
            chrome,
            token,
            trouble,
        })
    }
}

/// A signed-in visitor and their API token. Anyone else is sent to the
/// log-in page instead (303), which is what every form and page that
/// changes things wants; if the API cannot be asked, an error page says so.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub visitor: Visitor,
    pub token: String,
    pub me: Account,
}

impl FromRequestParts<SharedState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, Response> {
        let Ok(visitor) = Visitor::from_request_parts(parts, state).await;
        match (
            visitor.token.clone(),
            visitor.chrome.me.clone(),
            visitor.trouble,
        ) {
            (Some(token), Some(me), _) => Ok(Self {
                visitor: Visitor {
                    trouble: None,
                    ..visitor
                },
                token,
                me,
            }),
            // Logged in, but the API is not answering: say so rather than
            // ask them to log in again.
            (_, _, Some(trouble)) => Err(error_page(visitor.chrome, &trouble)),
            // Sent to log in; a page (not a form post) is where they come
            // back to afterwards.
            _ => {
                let back = (parts.method == axum::http::Method::GET)
                    .then(|| query("next", &visitor.chrome.path))
                    .flatten();
                let to = back.map_or_else(|| "/login".to_owned(), |q| format!("/login?{q}"));
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

/// A tweet id from the path. Anything else gets this site's 404 page
/// rather than a bare 400 from the router.
#[derive(Debug, Clone, Copy)]
pub struct TweetId(pub i64);

impl FromRequestParts<SharedState> for TweetId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, Response> {
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(Self(id)),
            Err(_) => {
                let Ok(v) = Visitor::from_request_parts(parts, state).await;
                Err(not_found(v.chrome))
            }
        }
    }
}

/// `?cursor=` of the list pages.
#[derive(Debug, serde::Deserialize)]
pub struct ListQuery {
    pub cursor: Option<String>,
}

/// The address of the page after `page`, at `base`.
pub(crate) fn older<T>(base: &str, page: &chirp_core::page::Paged<T>) -> Option<String> {
    let cursor = page.next_cursor.as_deref()?;
    Some(format!("{base}?{}", query("cursor", cursor)?))
}

/// `name=value`, URL-encoded, for the site's own addresses.
pub(crate) fn query(name: &str, value: &str) -> Option<String> {
    serde_urlencoded::to_string([(name, value)]).ok()
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
        message: crate::words::say(err),
    };
    (status, page).into_response()
}

/// The fallback: any address the site has no page for.
pub async fn page_not_found(v: Visitor) -> Response {
    not_found(v.chrome)
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

/// Only slugs the API could have created go into API paths.
pub fn valid_slug(slug: &str) -> bool {
    chirp_core::text::CategorySlug::parse(slug).is_ok()
}

/// Only names the API could have registered go into API paths, so a
/// crafted address cannot reach another API route.
pub fn valid_username(name: &str) -> bool {
    (1..=30).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
