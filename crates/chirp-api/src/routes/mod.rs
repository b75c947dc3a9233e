//! The routes of the API, one module per resource; each exposes `router()`.

pub mod accounts;
pub mod categories;
pub mod follows;
pub mod health;
pub mod likes;
pub mod logs;
pub mod me;
pub mod messages;
pub mod notifications;
pub mod search;
pub mod sessions;
pub mod stream;
pub mod timelines;
pub mod tweets;

use chirp_core::page::Page;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::ApiResult;
use crate::state::AppState;

/// Every `/api` route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(accounts::router())
        .merge(follows::router())
        .merge(sessions::router())
        .merge(me::router())
        .merge(tweets::router())
        .merge(likes::router())
        .merge(search::router())
        .merge(timelines::router())
        .merge(categories::router())
        .merge(notifications::router())
        .merge(stream::router())
        .merge(messages::router())
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^(?:A[Q-Za-f][A-Za-z0-9_-]{10})?$")]
    pub cursor: Option<String>,
}

/// The OpenAPI document's cursor pattern is chirp-core's, spelled out
/// because an attribute takes only a literal.
#[cfg(test)]
#[test]
fn the_documented_cursor_pattern_is_the_parsers() {
    let doc = <PageParams as IntoParams>::into_params(|| None);
    let json = serde_json::to_string(&doc).unwrap_or_default();
    let pattern = serde_json::to_string(chirp_core::page::CURSOR_PATTERN).unwrap_or_default();
    assert!(json.contains(&pattern), "{json}");
}

impl PageParams {
    pub fn page(&self) -> ApiResult<Page> {
        Ok(Page::parse(self.limit.as_deref(), self.cursor.as_deref())?)
    }
}
