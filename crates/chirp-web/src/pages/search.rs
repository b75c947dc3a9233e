//! `/search?q=`: tweets, accounts and hashtags at once.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use chirp_core::model::{Account, HashtagCount, Tweet};

use super::{Chrome, Visitor};
use crate::WebState;
/// The templates match on pieces of tweet text.
use crate::text::{Piece, RichText};

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    /// The query as typed (empty: nothing searched yet).
    pub q: String,
    pub tweets: Vec<Tweet>,
    pub accounts: Vec<Account>,
    /// Hashtags starting with the query, or the most used ones when the
    /// query is empty.
    pub hashtags: Vec<HashtagCount>,
    /// Link to more matching tweets.
    pub more_tweets: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    pub cursor: Option<String>,
}

/// `/search?q=`: one box that finds chirps (full text), people (by name)
/// and hashtags (by prefix).
pub async fn search(state: WebState, v: Visitor, Query(query): Query<SearchQuery>) -> Response {
    let q = query.q.trim().to_owned();
    // A hashtag prefix only makes sense for words that could be a tag.
    let tag = chirp_core::hashtags::parse_tag("q", &q, true).ok();
    let mut page = SearchPage {
        chrome: v.chrome,
        q: q.clone(),
        tweets: Vec::new(),
        accounts: Vec::new(),
        hashtags: Vec::new(),
        more_tweets: None,
        error: None,
    };
    let hashtags = async {
        match &tag {
            Some(prefix) => state.api.hashtags(prefix, 10).await.map(|p| p.items),
            None => Ok(Vec::new()),
        }
    };
    if q.is_empty() {
        // Nothing asked yet: show what people talk about.
        page.hashtags = hashtags.await.unwrap_or_default();
        return page.into_response();
    }
    let (tweets, accounts, hashtags) = tokio::join!(
        state
            .api
            .search_tweets(v.token.as_deref(), &q, query.cursor.as_deref()),
        state.api.accounts(Some(&q), None),
        hashtags,
    );
    match (tweets, accounts, hashtags) {
        (Ok(tweets), Ok(accounts), Ok(hashtags)) => {
            if let Some(cursor) = &tweets.next_cursor {
                let query = serde_urlencoded::to_string([("q", q.as_str()), ("cursor", cursor)]);
                page.more_tweets = query.ok().map(|query| format!("/search?{query}"));
            }
            page.chrome
                .learn_replied_to(&state, v.token.as_deref(), &tweets.items)
                .await;
            page.tweets = tweets.items;
            page.accounts = accounts.items;
            page.hashtags = hashtags;
            page.into_response()
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            let status = e.status();
            page.error = Some(crate::words::say(&e));
            (status, page).into_response()
        }
    }
}
