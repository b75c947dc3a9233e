//! A PostgreSQL outage in the middle of a like storm (SPEC §1.3: an outage
//! delays flushes, never drops them). The API reaches PostgreSQL through a
//! small TCP proxy that can cut every connection and refuse new ones.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chirp_app::likes::LikesConfig;
use chirp_app::likes::batcher::BatcherConfig;
use sqlx::Connection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{fresh_postgres_database, serve_on};
use crate::storm::Storm;

/// A TCP proxy to one upstream address, with a switch to take it down.
pub(crate) struct Proxy {
    pub(crate) addr: SocketAddr,
    down: watch::Sender<bool>,
}

impl Proxy {
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (down, watch_down) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watch_down.borrow() {
                    drop(inbound); // down: refuse
                    continue;
                }
                let mut watch_down = watch_down.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        // Taken down: drop both ends of every live connection.
                        _ = watch_down.wait_for(|&d| d) => {}
                    }
                });
            }
        });
        Self { addr, down }
    }

    pub(crate) fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }
}

/// Like counts per tweet, read straight from PostgreSQL (not via the proxy).
async fn db_counts(url: &str) -> BTreeMap<i64, i64> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL directly");
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT id, like_count FROM tweets")
        .fetch_all(&mut conn)
        .await
        .expect("read like counts");
    rows.into_iter().collect()
}

/// Polls until `cond` holds, for at most `limit`.
async fn wait_until(what: &str, limit: Duration, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

const TWEETS: usize = 20;
const OUTAGE: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_mid_storm_loses_no_acknowledged_like() {
    let direct = fresh_postgres_database().await;
    let mut via_proxy = url::Url::parse(&direct).expect("database URL");
    let upstream = via_proxy
        .socket_addrs(|| Some(5432))
        .expect("PostgreSQL address")
        .into_iter()
        .next()
        .expect("an address");
    assert!(upstream.ip().is_loopback(), "tests talk to 127.0.0.1 only");
    let proxy = Proxy::start(upstream).await;
    via_proxy
        .set_port(Some(proxy.addr.port()))
        .expect("set port");
    let dir = tempfile::tempdir().expect("temp dir");
    let batcher = BatcherConfig {
        journal: dir.path().join("likes.journal"),
        ..BatcherConfig::default()
    };
    let app = serve_on(via_proxy.to_string(), LikesConfig::Batched(batcher), dir).await;
    let token = app.user("alice").await;
    let mut tweets = Vec::new();
    for i in 0..TWEETS {
        tweets.push(app.tweet_id(&token, &format!("tweet {i}")).await);
    }

    let storm = Storm::start(&app.base, &tweets, 200_000, 16);
    let tally = storm.tally.clone();
    // Every tweet liked once (so the like service knows it), and flushes
    // going on, before the outage.
    wait_until("likes before the outage", Duration::from_secs(30), || {
        (0..TWEETS).all(|k| tally.acked(k) > 0) && tally.total_acked() >= 400
    })
    .await;
    assert!(app.metric("chirp_like_flushes_total").await > 0.0);

    proxy.set_down(true);
    let down_at = tally.total_acked();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let db_early = db_counts(&direct).await;
    tokio::time::sleep(OUTAGE - Duration::from_millis(300)).await;
    let db_late = db_counts(&direct).await;
    let up_at = tally.total_acked();
    let pending_in_outage = app.metric("chirp_likes_pending").await;
    proxy.set_down(false);
    assert_eq!(
        db_early, db_late,
        "the database changed during the outage: the proxy did not cut it off"
    );
    assert!(
        up_at > down_at + 100,
        "only {} likes acknowledged during the outage",
        up_at - down_at
    );

    // Likes go on after the database is back, then the storm ends.
    wait_until("likes after the outage", Duration::from_secs(30), || {
        tally.total_acked() >= up_at + 300
    })
    .await;
    storm.stop();
    let tally = storm.join(Duration::from_secs(60)).await;
    assert_eq!(
        tally.failed(),
        0,
        "likes refused during the outage: {:?}",
        tally.failures.lock().expect("failures")
    );
    tally.assert_no_overcount();

    let drained = Instant::now();
    app.state.app.likes().shutdown().await;
    let errors = app.metric("chirp_like_flush_errors_total").await;
    eprintln!(
        "{} likes ({} during the {OUTAGE:?} outage, {pending_in_outage} held at its end); \
         {errors} failed flush attempts; drained in {:?}",
        tally.total_acked(),
        up_at - down_at,
        drained.elapsed()
    );
    assert_eq!(app.metric("chirp_likes_pending").await, 0.0);
    let db = db_counts(&direct).await;
    for (k, id) in tweets.iter().enumerate() {
        let (acked, sent) = (tally.acked(k), tally.sent(k));
        assert_eq!(acked, sent, "every like was answered 202");
        assert_eq!(db[id], acked, "tweet {id}: database vs acknowledged likes");
    }
}
