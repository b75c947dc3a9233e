//! `chirp serve` and `chirp api`: open the store, build the app, serve it
//! until SIGTERM or Ctrl-C, then drain and close.

use std::sync::Arc;

use anyhow::Context;
use chirp_api::likes::batcher::BatcherConfig;
use chirp_api::likes::{Likes, LikesConfig};
use chirp_api::metrics::Metrics;
use chirp_api::requests::RequestLog;
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
    let store = SqlStore::connect(&args.database_url, &pool).await?;
    tracing::info!(database = ?store.dialect(), "database ready");
    let store = Arc::new(store);
    let port = args.listen.port();
    let metrics = Metrics::new();
    let likes_config = if args.likes.batching.on() {
        let journal = args
            .likes
            .journal
            .clone()
            .unwrap_or_else(|| args.data_dir.join(format!("likes-{port}.journal")));
        tracing::info!(journal = %journal.display(), "like batcher on");
        LikesConfig::Batched(BatcherConfig {
            max_pending: args.likes.max_pending,
            max_age: args.likes.max_age,
            max_backlog: args.likes.max_backlog,
            journal,
            fsync: args.likes.fsync.on(),
            flush_gap: args.likes.flush_gap,
            ..BatcherConfig::default()
        })
    } else {
        tracing::info!("like batcher off: every like is written through");
        LikesConfig::WriteThrough
    };
    let likes = Likes::start(likes_config, store.clone(), metrics.clone())
        .await
        .context("starting the like batcher (CHIRP_LIKES_JOURNAL)")?;
    let instance = args.instance.clone().unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        format!("{host}:{port}")
    });
    let log_path = args.data_dir.join(format!("requests-{port}.log"));
    let requests = RequestLog::create(&log_path, instance)
        .with_context(|| format!("cannot create the request log {}", log_path.display()))?;
    let state = AppState::new(
        store.clone(),
        ApiConfig {
            body_limit: args.body_limit,
            session_ttl: args.session_ttl,
        },
        likes.clone(),
        requests,
        metrics,
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
    // Requests have drained; now write every like still held.
    likes.shutdown().await;
    store.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}
