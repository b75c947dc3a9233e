//! Liveness and readiness, for nginx and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use chirp_client::wire::Health;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(super::logs::logs))
        .routes(routes!(metrics))
}

/// Prometheus metrics of this instance (likes, batches, database
/// statements, live streams, the broker).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text format", content_type = "application/openmetrics-text")))]
async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    let metrics = state.app.metrics();
    let db = state.app.db_counts();
    metrics.db_reads.set(db.reads as i64);
    metrics.db_writes.set(db.writes as i64);
    metrics
        .live_streams
        .set(state.app.live().open_streams() as i64);
    let broker = state.app.broker().stats();
    metrics.broker_published.set(broker.published as i64);
    metrics.broker_dropped.set(broker.dropped as i64);
    metrics.broker_received.set(broker.received as i64);
    metrics.broker_connected.set(i64::from(broker.connected));
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        metrics.render(),
    )
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// The process can serve: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.app.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok".into(),
            }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable".into(),
                }),
            )
        }
    }
}
