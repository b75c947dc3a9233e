//! `chirp serve` and `chirp api`: open the store, build the app, serve it
//! until SIGTERM or Ctrl-C, then drain and close.

use std::sync::Arc;

use anyhow::Context;
use chirp_api::rate_limit::class::RateLimits;
use chirp_api::rate_limit::clock::LimitClock;
use chirp_api::rate_limit::limiter::RateLimiter;
use chirp_api::rate_limit::shared::Shared;
use chirp_api::request_log::RequestLog;
use chirp_api::server::shutdown_signal;
use chirp_api::{ApiConfig, AppState};
use chirp_app::likes::batcher::BatcherConfig;
use chirp_app::{App, AppConfig, InProcessBus, Likes, LikesConfig, Metrics};
use chirp_store::cache::CachedStore;

use chirp_store::cache::backend::{CacheBackend, MemoryBackend, RedisBackend};
use chirp_store::sql::PoolConfig;
use chirp_store::{SqlStore, Store};
use tokio::net::TcpListener;

use crate::config::{CacheArgs, ServeArgs, WebArgs};

/// `chirp web`: the web site over an API reached by HTTP.
pub async fn web(args: WebArgs) -> anyhow::Result<()> {
    let api = chirp_client::Client::over_http(&args.api)
        .map_err(|e| anyhow::anyhow!("CHIRP_API {:?}: {e}", args.api))?
        .with_timeout(args.site.api_timeout);
    let app = chirp_web::router(api, args.site.config(&args.net));
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (CHIRP_LISTEN)", args.listen))?;
    let addr = listener.local_addr().context("listener address")?;
    tracing::info!(api = %args.api, "chirp web site on http://{addr}");
    chirp_http::serve(listener, app, args.net.serve_options(), shutdown_signal())
        .await
        .context("web server error")?;
    Ok(())
}

/// `chirp cache`: a response cache in front of `--upstream`.
pub async fn cache(args: CacheArgs) -> anyhow::Result<()> {
    let mut config = chirp_cache::CacheConfig::new(&args.upstream)
        .with_context(|| format!("CHIRP_UPSTREAM {:?}", args.upstream))?;
    config.cache.ttl = args.ttl;
    config.cache.max_bytes = args.max_bytes;
    config.trusted_proxies = args.net.trusted_proxies.clone();
    let proxy = chirp_cache::proxy(&config);
    let purges = match chirp_broker::BrokerKind::choose(
        args.broker_url.as_deref(),
        args.redis_url.as_deref(),
    )
    .context("CHIRP_BROKER_URL")?
    {
        chirp_broker::BrokerKind::InProcess => {
            tracing::warn!(
                "no broker (CHIRP_BROKER_URL or CHIRP_REDIS_URL): an account that turns \
                 protected stays in this cache until the TTL ends"
            );
            None
        }
        _ => {
            let namespace = args.broker_namespace.clone().context(
                "a response cache with a broker needs CHIRP_BROKER_NAMESPACE, \
                 the same as the API instances'",
            )?;
            let broker = chirp_broker::connect_with(
                args.broker_url.as_deref(),
                args.redis_url.as_deref(),
                chirp_broker::BrokerOptions {
                    namespace,
                    ..chirp_broker::BrokerOptions::default()
                },
            )
            .await
            .context("CHIRP_BROKER_URL")?;
            tracing::info!(broker = broker.name(), "purges heard on the broker");
            Some((
                crate::purge::purge_on_broker(&*broker, proxy.purger()),
                broker,
            ))
        }
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (CHIRP_LISTEN)", args.listen))?;
    let addr = listener.local_addr().context("listener address")?;
    tracing::info!(upstream = %args.upstream, "chirp response cache listening on http://{addr}");
    chirp_http::serve(
        listener,
        chirp_cache::router_over(proxy),
        args.net.serve_options(),
        shutdown_signal(),
    )
    .await
    .context("response cache server error")?;
    if let Some((task, _broker)) = purges {
        task.abort();
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Which process this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The all-in-one process.
    Embedded,
    /// One API instance of the scaled topology.
    Api,
}

/// The per-client rate limits: counted in Redis (CHIRP_REDIS_URL), shared
/// by every API instance under the broker's namespace, or in this process.
fn rate_limiter(args: &ServeArgs, limits: &RateLimits) -> anyhow::Result<RateLimiter> {
    let shared = match &args.cache.redis_url {
        Some(url) if limits.any() => {
            let namespace = args
                .broker_namespace
                .clone()
                .unwrap_or_else(|| broker_namespace(&args.database_url()));
            let shared = Shared::connect(url, &format!("{namespace}:rate:"))
                .with_context(|| format!("CHIRP_REDIS_URL {url:?} is not a Redis URL"))?;
            tracing::info!("rate limits counted in Redis, shared by the API instances");
            Some(shared)
        }
        _ => None,
    };
    Ok(RateLimiter::new(
        limits.clone(),
        LimitClock::default(),
        shared,
    ))
}

/// Puts the read cache in front of `store`, unless it is switched off.
fn read_cache(args: &ServeArgs, store: Arc<dyn Store>) -> anyhow::Result<Arc<dyn Store>> {
    let cache = &args.cache;
    if !cache.read_cache.on() {
        tracing::info!("read cache off: every read goes to the database");
        return Ok(store);
    }
    let backend: Arc<dyn CacheBackend> = match &cache.redis_url {
        Some(url) => Arc::new(
            RedisBackend::connect(url, cache.ttl)
                .with_context(|| format!("CHIRP_REDIS_URL {url:?} is not a Redis URL"))?,
        ),
        None => Arc::new(MemoryBackend::new(cache.ttl, cache.max_bytes)),
    };
    let namespace = cache_namespace(&args.database_url());
    tracing::info!(backend = backend.name(), ttl = ?cache.ttl, %namespace, "read cache on");
    Ok(Arc::new(CachedStore::namespaced(
        store, backend, &namespace,
    )))
}

/// Keys in a shared Redis start with the database they describe, so
/// pointing chirp at another database never serves the old one's entries.
fn cache_namespace(database_url: &str) -> String {
    let place = database_url
        .rsplit('@')
        .next()
        .unwrap_or(database_url)
        .split('?')
        .next()
        .unwrap_or_default();
    format!("chirp:{place}:")
}

/// The broker's channel names start with the database too: two sites
/// sharing a Redis or a RabbitMQ must never hear each other's
/// notifications (account ids repeat across databases).
fn broker_namespace(database_url: &str) -> String {
    let place: String = cache_namespace(database_url)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.:".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    place.trim_end_matches(':').chars().take(100).collect()
}

/// Creates the data folder, if missing, for its owner alone (0700): it
/// holds the database, the journal of acknowledged likes and the request log.
fn create_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| {
        format!(
            "cannot create the data folder {} (CHIRP_DATA_DIR)",
            dir.display()
        )
    })
}

/// Locks `DATA_DIR/instance-NAME.lock` for as long as the returned file
/// lives: two processes with one data folder and one name would append to
/// one journal and truncate each other's request log, so the second one
/// stops at start.
fn lock_instance(args: &ServeArgs) -> anyhow::Result<std::fs::File> {
    let path = args.lock_path();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the instance lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another chirp instance named {:?} is running on the data folder {}: give each \
             instance its own CHIRP_DATA_DIR, or its own CHIRP_INSTANCE",
            args.instance_name(),
            args.data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Journals used to be named after the port (`likes-PORT.journal`). An
/// instance upgraded in place, on the port it had, takes its old journal
/// over, so the likes it acknowledged before the upgrade are replayed.
fn adopt_port_named_journal(
    data_dir: &std::path::Path,
    port: u16,
    journal: &std::path::Path,
) -> anyhow::Result<()> {
    let old = data_dir.join(format!("likes-{port}.journal"));
    if journal.exists() || !old.exists() {
        return Ok(());
    }
    std::fs::rename(&old, journal).with_context(|| {
        format!(
            "cannot rename the like journal {} to {}",
            old.display(),
            journal.display()
        )
    })?;
    tracing::warn!(from = %old.display(), to = %journal.display(), "took over the port-named like journal");
    Ok(())
}

pub async fn serve(args: ServeArgs, shape: Shape) -> anyhow::Result<()> {
    create_data_dir(&args.data_dir)?;
    // Held until the process exits (the OS lets go of it even on SIGKILL).
    let _lock = lock_instance(&args)?;
    let pool = PoolConfig {
        max_connections: args.db_max_connections,
        acquire_timeout: args.db_timeout,
    };
    let store = SqlStore::connect(&args.database_url(), &pool).await?;
    tracing::info!(database = ?store.dialect(), "database ready");
    let sql: Arc<dyn Store> = Arc::new(store);
    let store = read_cache(&args, sql)?;
    let port = args.listen.port();
    let metrics = Metrics::new();
    let likes_config = if args.likes.batching.on() {
        let journal = args.journal_path();
        if args.likes.journal.is_none() {
            adopt_port_named_journal(&args.data_dir, port, &journal)?;
        }
        tracing::info!(instance = args.instance_name(), journal = %journal.display(), "like batcher on");
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
    let instance = match &args.instance {
        Some(name) => name.as_str().to_owned(),
        None => {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
            format!("{host}:{port}")
        }
    };
    let log_path = args.request_log_path();
    let requests = RequestLog::with_limit(&log_path, instance, args.request_log_bytes)
        .with_context(|| format!("cannot create the request log {}", log_path.display()))?;
    let broker = chirp_broker::connect_with(
        args.broker_url.as_deref(),
        args.cache.redis_url.as_deref(),
        chirp_broker::BrokerOptions {
            namespace: args
                .broker_namespace
                .clone()
                .unwrap_or_else(|| broker_namespace(&args.database_url())),
            ..chirp_broker::BrokerOptions::default()
        },
    )
    .await
    .context("CHIRP_BROKER_URL")?;
    tracing::info!(broker = broker.name(), "live events through the broker");
    let app = App::new(
        store,
        likes,
        Arc::new(InProcessBus::default()),
        Arc::clone(&broker),
        metrics,
        AppConfig {
            session_ttl: args.session_ttl,
            ..AppConfig::default()
        },
    );
    let purge = app.purge_sessions_every(chirp_app::sessions::SESSION_PURGE_INTERVAL);
    let config = ApiConfig {
        body_limit: args.body_limit,
        rate_limit: args.rate_limit.on(),
        rate_limits: args.limits.limits(args.rate_limit.on()),
        trusted_proxies: args.net.trusted_proxies.clone(),
    };
    let limiter = rate_limiter(&args, &config.rate_limits)?;
    let state = AppState::with_limiter(app.clone(), config, requests, limiter);
    let mut router = match shape {
        Shape::Embedded => chirp_api::embeddable_router(state),
        Shape::Api => chirp_api::router(state),
    };
    if shape == Shape::Embedded && args.response_cache.on() {
        let options = chirp_cache::CacheOptions {
            ttl: args.cache.ttl,
            ..chirp_cache::CacheOptions::default()
        };
        let layer = chirp_cache::ResponseCacheLayer::new(options);
        crate::purge::purge_on_broker(&*broker, layer.purger());
        // `Router::layer` wraps only the routes there are, so the layer
        // never sees a path without one: the stats get a route of their
        // own, added after it (and so never cached).
        let stats = layer.clone();
        router = router.layer(layer).route(
            "/_cache/stats",
            axum::routing::get(move || {
                let stats = stats.clone();
                async move { axum::Json(stats.stats().await) }
            }),
        );
        tracing::info!(ttl = ?args.cache.ttl, "response cache on (stats at /_cache/stats)");
    }
    if shape == Shape::Embedded {
        // The web site reaches the API through the same router (and
        // response cache) an API client would, never through the store.
        let web = chirp_web::router(
            chirp_client::Client::in_process(router.clone()).with_timeout(args.site.api_timeout),
            args.site.config(&args.net),
        );
        router = web.merge(router);
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (CHIRP_LISTEN)", args.listen))?;
    let addr = listener.local_addr().context("listener address")?;
    match shape {
        Shape::Embedded => {
            tracing::info!(
                "chirp is up: open http://{addr}/ in your browser (API docs at http://{addr}/api/docs)"
            );
            tracing::info!(
                "to fill it with demo people and chirps, run from a second terminal: \
                 cargo run --release -- script scripts/demo.chirp --api http://{addr}"
            );
        }
        Shape::Api => tracing::info!("chirp API instance listening on http://{addr}"),
    }
    // On the signal, end the live streams at once: a browser holds one
    // open for as long as its tab is, and draining would wait for it.
    let streams = app.live().clone();
    let stop = async move {
        shutdown_signal().await;
        streams.shutdown();
    };
    chirp_http::serve(listener, router, args.net.serve_options(), stop)
        .await
        .context("server error")?;
    // Requests have drained; now write every like still held.
    purge.abort();
    app.shutdown().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_port_named_journal_is_taken_over_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (old, new) = (
            dir.path().join("likes-8080.journal"),
            dir.path().join("likes-default.journal"),
        );
        std::fs::write(&old, b"old").expect("write");
        super::adopt_port_named_journal(dir.path(), 8080, &new).expect("adopt");
        assert!(!old.exists());
        assert_eq!(std::fs::read(&new).expect("read"), b"old");

        // Another port's journal, or one when the named journal exists, is left alone.
        let other = dir.path().join("likes-9090.journal");
        std::fs::write(&other, b"other").expect("write");
        super::adopt_port_named_journal(dir.path(), 9090, &new).expect("adopt");
        super::adopt_port_named_journal(dir.path(), 7070, &new).expect("adopt");
        assert_eq!(std::fs::read(&new).expect("read"), b"old");
        assert!(other.exists());
    }

    #[test]
    fn cache_namespaces_name_the_database_without_credentials() {
        assert_eq!(
            super::cache_namespace("postgres://bob:secret@db:5432/chirp?sslmode=disable"),
            "chirp:db:5432/chirp:"
        );
        assert_eq!(
            super::cache_namespace("sqlite://chirp-data/chirp.db"),
            "chirp:sqlite://chirp-data/chirp.db:"
        );
    }

    #[test]
    fn broker_namespaces_are_valid_names_per_database() {
        let a = super::broker_namespace("postgres://bob:secret@db:5432/chirp");
        let b = super::broker_namespace("postgres://bob:secret@db:5432/other");
        assert_eq!(a, "chirp:db:5432_chirp");
        assert_ne!(a, b);
        assert!(!a.contains("secret"));
        let long = format!("sqlite://{}/chirp.db", "d".repeat(300));
        assert_eq!(super::broker_namespace(&long).len(), 100);
    }
}
