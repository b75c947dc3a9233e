//! Lists of tweets: home, public, a hashtag, a category; and the list of
//! categories.

use std::collections::HashSet;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chirp_client::{ClientError, FollowList};
use chirp_core::model::{Account, Category, HashtagCount, Tweet};
use chirp_core::page::Paged;

use super::{Chrome, ListQuery, Visitor, error_page, not_found, older, valid_slug};
use crate::WebState;
/// The templates match on pieces of tweet text.
use crate::text::{Piece, RichText};

/// The compose box on a timeline: what it posts into and what it holds.
#[derive(Debug, Clone, Default)]
pub struct Compose {
    /// The category slug new chirps go into (on a category page).
    pub category: Option<String>,
    /// Text to put back in the box after a failed post.
    pub draft: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "timeline.html")]
pub struct TimelinePage {
    pub chrome: Chrome,
    pub heading: String,
    /// A line under the heading (a category's description).
    pub intro: String,
    /// Shown when someone is signed in and the page takes new chirps.
    pub compose: Option<Compose>,
    pub error: Option<String>,
    pub tweets: Vec<Tweet>,
    /// Link to the next (older) page, if there is one.
    pub older: Option<String>,
    /// What to say when there are no tweets.
    pub empty: String,
    /// The home page's empty state, with its links (public timeline, who
    /// to follow).
    pub empty_home: bool,
    /// Greets a logged-out visitor on `/` with the way in.
    pub welcome: bool,
    /// The side column (trending hashtags, who to follow), on wide screens
    /// beside the timeline, on phones below it.
    pub side: Option<Side>,
}

/// The side column: only public things (hashtag counts; names, handles and
/// avatars of accounts), never a protected account's chirps.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub tags: Vec<HashtagCount>,
    pub people: Vec<Account>,
}

/// How many hashtags and accounts the side column lists.
const SIDE_ITEMS: usize = 5;
/// How many of the newest accounts "who to follow" chooses from.
const CANDIDATES: u32 = 50;
/// How many of the viewer's follows are looked up to leave out of "who to
/// follow" (the API's largest page). Someone who follows more may be shown
/// one of the rest; a side column is not worth paging through them all.
const FOLLOWS_CHECKED: u32 = 100;

/// Looks up the side column; asked side by side with a page's main data.
/// "Who to follow" leaves out the viewer and whom they already follow.
/// A failed lookup leaves its half empty rather than failing the page.
/// `token` is the viewer's, so their follows are read fresh (a shared
/// cache keeps only answers to calls without one).
pub async fn side(state: &WebState, token: Option<&str>, me: Option<&Account>) -> Side {
    let followed = async {
        match me {
            Some(me) => state
                .api
                .follow_list_first(token, &me.username, FollowList::Following, FOLLOWS_CHECKED)
                .await
                .map(|p| p.items.into_iter().map(|a| a.id).collect()),
            None => Ok(HashSet::new()),
        }
    };
    let (tags, people, followed) = tokio::join!(
        state.api.hashtags("", SIDE_ITEMS as u32),
        state.api.newest_accounts(CANDIDATES),
        followed
    );
    let me = me.map(|a| a.id);
    let people = match (people, followed) {
        (Ok(people), Ok(followed)) => people
            .items
            .into_iter()
            .filter(|a| Some(a.id) != me && !followed.contains(&a.id))
            .take(SIDE_ITEMS)
            .collect(),
        // Without the viewer's follows, suggesting anyone could suggest
        // someone they follow already.
        _ => Vec::new(),
    };
    Side {
        tags: tags.map(|p| p.items).unwrap_or_default(),
        people,
    }
}

impl TimelinePage {
    /// Where the compose box posts: the page it is on (`/`, `/c/{slug}`),
    /// so a refused chirp is shown again here.
    pub fn compose_action(&self) -> String {
        match self.compose.as_ref().and_then(|c| c.category.as_deref()) {
            Some(slug) => format!("/c/{slug}"),
            None => "/".to_owned(),
        }
    }

    fn new(chrome: Chrome, heading: String, base: &str, page: Paged<Tweet>) -> Self {
        Self {
            chrome,
            heading,
            intro: String::new(),
            compose: None,
            error: None,
            older: older(base, &page),
            tweets: page.items,
            empty: "No chirps yet.".into(),
            empty_home: false,
            welcome: false,
            side: None,
        }
    }
}

/// `/`: your home timeline with a compose box, or the public timeline.
pub async fn home(state: WebState, v: Visitor, Query(q): Query<ListQuery>) -> Response {
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
    let mut v = v;
    if error.is_some() {
        // Shown in answer to POST /tweets: buttons on it come back to `/`.
        v.chrome.path = "/".into();
    }
    let cursor = cursor.as_deref();
    let main = async {
        match &v.token {
            Some(token) => ("Home", state.api.home_timeline(token, cursor).await),
            None => (
                "Latest chirps",
                state.api.public_timeline(None, cursor).await,
            ),
        }
    };
    let ((heading, tweets), side) =
        tokio::join!(main, side(state, v.token.as_deref(), v.chrome.me.as_ref()));
    let tweets = match tweets {
        Ok(page) => page,
        Err(e) => return error_page(v.chrome, &e),
    };
    v.chrome
        .learn_replied_to(state, v.token.as_deref(), &tweets.items)
        .await;
    let status = error.as_ref().map_or(StatusCode::OK, ClientError::status);
    let mut page = TimelinePage::new(v.chrome, heading.into(), "/", tweets);
    page.side = Some(side);
    if v.token.is_some() {
        page.compose = Some(Compose {
            category: None,
            draft,
        });
        page.empty_home = true;
    } else {
        page.welcome = true;
    }
    page.error = error.as_ref().map(crate::words::say);
    (status, page).into_response()
}

/// `/public`: everyone's newest chirps.
pub async fn public(state: WebState, mut v: Visitor, Query(q): Query<ListQuery>) -> Response {
    let (tweets, side) = tokio::join!(
        state
            .api
            .public_timeline(v.token.as_deref(), q.cursor.as_deref()),
        side(&state, v.token.as_deref(), v.chrome.me.as_ref())
    );
    match tweets {
        Ok(page) => {
            v.chrome
                .learn_replied_to(&state, v.token.as_deref(), &page.items)
                .await;
            let mut page = TimelinePage::new(v.chrome, "Public timeline".into(), "/public", page);
            page.side = Some(side);
            page.into_response()
        }
        Err(e) => error_page(v.chrome, &e),
    }
}

/// `/tags/{tag}`: the chirps carrying a hashtag.
pub async fn hashtag(
    state: WebState,
    mut v: Visitor,
    Path(tag): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let Ok(tag) = chirp_core::hashtags::parse_tag("tag", &tag, false) else {
        return not_found(v.chrome);
    };
    let (tweets, side) = tokio::join!(
        state
            .api
            .hashtag(v.token.as_deref(), &tag, q.cursor.as_deref()),
        side(&state, v.token.as_deref(), v.chrome.me.as_ref())
    );
    match tweets {
        Ok(page) => {
            v.chrome
                .learn_replied_to(&state, v.token.as_deref(), &page.items)
                .await;
            let base = format!("/tags/{tag}");
            let mut page = TimelinePage::new(v.chrome, format!("#{tag}"), &base, page);
            page.empty = format!("No chirps carry #{tag} yet.");
            page.side = Some(side);
            page.into_response()
        }
        Err(e) => error_page(v.chrome, &e),
    }
}

/// `/c/{slug}`: a category's chirps, with a compose box that posts into it.
pub async fn category(
    state: WebState,
    v: Visitor,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    render_category(&state, v, &slug, None, String::new(), q.cursor).await
}

/// The category page, optionally re-shown with a failed draft and its error.
pub async fn render_category(
    state: &WebState,
    v: Visitor,
    slug: &str,
    error: Option<ClientError>,
    draft: String,
    cursor: Option<String>,
) -> Response {
    if !valid_slug(slug) {
        return not_found(v.chrome);
    }
    let mut v = v;
    if error.is_some() {
        // Shown in answer to POST /tweets: buttons on it come back here.
        v.chrome.path = format!("/c/{slug}");
    }
    let (category, tweets) = tokio::join!(
        state.api.category(slug),
        state
            .api
            .category_tweets(v.token.as_deref(), slug, cursor.as_deref()),
    );
    let (category, tweets) = match (category, tweets) {
        (Ok(c), Ok(t)) => (c, t),
        (Err(e), _) | (_, Err(e)) => return error_page(v.chrome, &e),
    };
    v.chrome
        .learn_replied_to(state, v.token.as_deref(), &tweets.items)
        .await;
    let status = error.as_ref().map_or(StatusCode::OK, ClientError::status);
    let signed_in = v.token.is_some();
    let base = format!("/c/{slug}");
    let mut page = TimelinePage::new(v.chrome, category.name, &base, tweets);
    page.intro = category.description;
    page.empty = "No chirps in this category yet.".into();
    page.error = error.as_ref().map(crate::words::say);
    if signed_in {
        page.compose = Some(Compose {
            category: Some(category.slug),
            draft,
        });
    }
    (status, page).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "categories.html")]
pub struct CategoriesPage {
    pub chrome: Chrome,
    pub categories: Vec<Category>,
    pub error: Option<String>,
    /// The new-category form's fields, kept after a failed attempt.
    pub slug: String,
    pub name: String,
    pub description: String,
}

/// `/c`: every category, and a form to start one.
pub async fn categories(state: WebState, v: Visitor) -> Response {
    render_categories(&state, v, None, Default::default()).await
}

/// The new-category form's fields.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CategoryFields {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// The categories page, optionally re-shown with a failed form.
pub async fn render_categories(
    state: &WebState,
    v: Visitor,
    error: Option<ClientError>,
    fields: CategoryFields,
) -> Response {
    match state.api.categories().await {
        Ok(list) => {
            let status = error.as_ref().map_or(StatusCode::OK, ClientError::status);
            let page = CategoriesPage {
                chrome: v.chrome,
                categories: list.items,
                error: error.as_ref().map(crate::words::say),
                slug: fields.slug,
                name: fields.name,
                description: fields.description,
            };
            (status, page).into_response()
        }
        Err(e) => error_page(v.chrome, &e),
    }
}
