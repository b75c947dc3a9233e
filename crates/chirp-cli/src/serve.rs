//! `chirp serve` and `chirp api`: open the store, build the app, serve it
//! until SIGTERM or Ctrl-C, then drain and close.

use std::sync::Arc;

use anyhow::Context;
use chirp_api::server::{serve as serve_app, shutdown_signal};
use chirp_api::{ApiConfig, AppState};
use chirp_store::sql::PoolConfig;
use chirp_store::{HealthStore, SqlStore};
use tokio::net::TcpListener;

use crate::config::ServeArgs;

/// Which process this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The all-in-one process.
    Embedded,
    /// One API instance of the scaled topology.
    Api,
}

pub async fn serve(args: ServeArgs, shape: Shape) -> anyhow::Result<()> {
    let pool = PoolConfig {
        max_connections: args.db_max_connections,
        acquire_timeout: args.db_timeout,
    };
    let store = SqlStore::connect(&args.database_url, &pool)
        .await
        .context("CHIRP_DATABASE_URL")?;
    tracing::info!(database = ?store.dialect(), "database ready");
    let store = Arc::new(store);
    let state = AppState::new(
        store.clone(),
        ApiConfig {
            body_limit: args.body_limit,
            session_ttl: args.session_ttl,
        },
    );
    let app = chirp_api::router(state);
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (CHIRP_LISTEN)", args.listen))?;
    let addr = listener.local_addr().context("listener address")?;
    match shape {
        Shape::Embedded => tracing::info!(
            "chirp is up: open http://{addr}/ in your browser (API docs at http://{addr}/api/docs)"
        ),
        Shape::Api => tracing::info!("chirp API instance listening on http://{addr}"),
    }
    serve_app(listener, app, shutdown_signal())
        .await
        .context("server error")?;
    store.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}
