//! `GET /logs`, and the middleware that records every `/api` call in the
//! request log ([`crate::request_log`]).

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::extract::Query;
use crate::state::AppState;
use crate::{ApiError, ApiResult};

/// Records every call that passes (used on the `/api` routes).
pub async fn record_calls(State(state): State<AppState>, req: Request, next: Next) -> Response {
    state
        .requests
        .record(req.method().as_str(), req.uri().path());
    next.run(req).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// Index of the first call to show (default 0).
    #[param(value_type = Option<u64>)]
    pub offset: Option<String>,
    /// Most calls to show (default: all).
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
}

fn parse_count(field: &'static str, v: Option<&str>) -> ApiResult<Option<u64>> {
    match v {
        None => Ok(None),
        // Up to i64::MAX, the largest the document's int64 allows (and
        // far beyond any log).
        Some(s) => s
            .parse::<i64>()
            .ok()
            .and_then(|n| u64::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ApiError::invalid(field, "must be a whole number, 0 or more")),
    }
}

/// The request log of this API instance: every API call since it started,
/// in arrival order, with the database statements it has sent.
#[utoipa::path(get, path = "/logs", tag = "operations",
    params(LogsQuery),
    responses((status = 200, description = "`{instance, started_at, total, dropped, db: {reads, writes}, offset, calls: [[METHOD, PATH], ...]}`; `dropped` oldest calls are no longer kept (the log is bounded on disk)")))]
pub async fn logs(
    State(state): State<AppState>,
    Query(q): Query<LogsQuery>,
) -> ApiResult<Response> {
    let offset = parse_count("offset", q.offset.as_deref())?.unwrap_or(0);
    let limit = parse_count("limit", q.limit.as_deref())?;
    let body = state
        .requests
        .answer(offset, limit, state.app.db_counts())
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}
