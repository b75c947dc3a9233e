//! No acknowledged like is lost (SPEC §1.3), tested on the real `chirp`
//! binary: stopped with SIGTERM in the middle of a like storm, and killed
//! with SIGKILL then restarted on the same data directory (on the same
//! port, and on another one: the journal belongs to the instance, not to
//! the port). On SQLite and on PostgreSQL; the database is read directly,
//! not through the API.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::{Backend, Server, db_like_counts, free_port, fresh_database};
use crate::storm::{Storm, Tally};

const TWEETS: usize = 20;
const CLIENTS: usize = 32;
/// Likes acknowledged before the server is stopped.
const BEFORE_STOP: i64 = 2_000;

/// Registers a user and posts the tweets to like; returns their ids.
async fn tweets(base: &str) -> Vec<i64> {
    let client = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut req = client.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let resp = req.send().await.expect("request");
            assert_eq!(resp.status().as_u16(), 201, "POST {}", resp.url());
            resp.json::<Value>().await.expect("JSON body")
        }
    };
    let login = json!({"username": "alice", "password": "correct horse"});
    post("/api/accounts", None, login.clone()).await;
    let session = post("/api/sessions", None, login).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let mut ids = Vec::new();
    for i in 0..TWEETS {
        let tweet = post(
            "/api/tweets",
            Some(&token),
            json!({"text": format!("tweet {i}")}),
        )
        .await;
        ids.push(tweet["id"].as_i64().expect("tweet id"));
    }
    ids
}

/// Waits (at most a minute) until the storm has `n` acknowledged likes.
async fn wait_for_acks(tally: &Tally, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally.total_acked() < n {
        assert!(
            Instant::now() < deadline,
            "only {} likes acknowledged",
            tally.total_acked()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Checks each tweet's like count in the database: at least every like
/// acknowledged, at most every like sent. Returns the counts.
async fn check_database(url: &str, ids: &[i64], tally: &Tally) -> Vec<i64> {
    let rows = db_like_counts(url).await;
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), ids);
    for (k, (id, count)) in rows.iter().enumerate() {
        let (acked, sent) = (tally.acked(k), tally.sent(k));
        assert!(
            acked <= *count && *count <= sent,
            "tweet {id}: {count} likes in the database; {acked} acknowledged, {sent} sent"
        );
    }
    rows.into_iter().map(|r| r.1).collect()
}

async fn sigterm_mid_storm_writes_every_acknowledged_like(backend: Backend) {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(backend, dir.path()).await;
    let mut server = Server::start(&url, dir.path(), free_port()).await;
    let ids = tweets(&server.base).await;

    let storm = Storm::start(&server.base, &ids, CLIENTS);
    wait_for_acks(&storm.tally, BEFORE_STOP).await;
    storm.tally.stopping.store(true, Ordering::SeqCst);
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(60)).await;
    let tally = storm.stop(Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "chirp exited with {status} after SIGTERM:\n{}",
        server.log()
    );

    let counts = check_database(&url, &ids, &tally).await;
    let total: i64 = counts.iter().sum();
    eprintln!(
        "{backend:?} SIGTERM: {} sent, {} acknowledged, {total} in the database ({:?})",
        tally.total_sent(),
        tally.total_acked(),
        started.elapsed()
    );
}

async fn sigkill_mid_storm_then_restart_loses_nothing(backend: Backend) {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(backend, dir.path()).await;
    let port = free_port();
    let mut server = Server::start(&url, dir.path(), port).await;
    let ids = tweets(&server.base).await;

    let storm = Storm::start(&server.base, &ids, CLIENTS);
    wait_for_acks(&storm.tally, BEFORE_STOP).await;
    storm.tally.stopping.store(true, Ordering::SeqCst);
    server.crash();
    let tally = storm.stop(Duration::from_secs(30)).await;
    let crashed_log = server.log();
    drop(server);

    // The database alone is missing acknowledged likes: they are only in
    // the journal (else this test would prove nothing).
    let in_db: i64 = db_like_counts(&url).await.iter().map(|r| r.1).sum();
    assert!(
        in_db < tally.total_acked(),
        "{in_db} likes in the database already; {} acknowledged",
        tally.total_acked()
    );

    // Restarted on the same data directory and port, it counts them again.
    let mut server = Server::start(&url, dir.path(), port).await;
    let shown = settled_counts(&server.base, &ids, &tally).await;
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(60)).await;
    assert!(
        status.success(),
        "chirp exited with {status} after SIGTERM:\n{crashed_log}\n---\n{}",
        server.log()
    );
    let counts = check_database(&url, &ids, &tally).await;
    assert_eq!(
        counts, shown,
        "the database vs the counts served after restart"
    );
    eprintln!(
        "{backend:?} SIGKILL: {} sent, {} acknowledged, {in_db} in the database after the \
         crash, {} after the restart ({:?})",
        tally.total_sent(),
        tally.total_acked(),
        counts.iter().sum::<i64>(),
        started.elapsed()
    );
}

/// Flags that keep every like pending while the process lives: nothing is
/// old or numerous enough to be flushed.
const HOLD: [&str; 4] = ["--likes-max-age", "1h", "--likes-max-pending", "1000000"];

/// Likes `tweets[k]` `k + 1` times, each answered 202; returns the counts.
async fn like_each(base: &str, tweets: &[i64]) -> Vec<i64> {
    let client = reqwest::Client::new();
    let mut counts = Vec::new();
    for (k, id) in tweets.iter().enumerate() {
        for _ in 0..=k {
            let resp = client
                .post(format!("{base}/api/tweets/{id}/likes"))
                .send()
                .await
                .expect("like");
            assert_eq!(resp.status().as_u16(), 202, "like tweet {id}");
        }
        counts.push(k as i64 + 1);
    }
    counts
}

/// Each tweet's like count as this instance serves it.
async fn served_counts(base: &str, ids: &[i64]) -> Vec<i64> {
    let client = reqwest::Client::new();
    let mut counts = Vec::new();
    for id in ids {
        let tweet: Value = client
            .get(format!("{base}/api/tweets/{id}"))
            .send()
            .await
            .expect("read a tweet")
            .json()
            .await
            .expect("tweet body");
        counts.push(tweet["like_count"].as_i64().expect("like_count"));
    }
    counts
}

/// The database's like counts of `ids`, in that order.
async fn db_counts(url: &str, ids: &[i64]) -> Vec<i64> {
    let rows = db_like_counts(url).await;
    ids.iter()
        .map(|id| {
            let row = rows.iter().find(|r| r.0 == *id);
            row.unwrap_or_else(|| panic!("tweet {id} is not in the database"))
                .1
        })
        .collect()
}

/// The journal is the instance's, not the port's: likes acknowledged by an
/// instance killed before it flushed anything are replayed when it comes
/// back on the same data folder but another port, and counted once.
async fn sigkill_then_restart_on_another_port_replays_once(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(backend, dir.path()).await;
    let mut server = Server::start_with(&url, dir.path(), free_port(), &HOLD).await;
    let ids = tweets(&server.base).await;
    let ids = &ids[..4];
    let acked = like_each(&server.base, ids).await;
    server.crash();
    drop(server);
    assert_eq!(
        db_counts(&url, ids).await,
        [0; 4],
        "nothing may be flushed before the crash, or this proves nothing"
    );

    // Back on a new port: the likes are replayed (held, not yet flushed).
    let mut server = Server::start_with(&url, dir.path(), free_port(), &HOLD).await;
    assert_eq!(
        served_counts(&server.base, ids).await,
        acked,
        "counts served after the restart on a new port:\n{}",
        server.log()
    );
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(60)).await;
    assert!(
        status.success(),
        "after SIGTERM: {status}\n{}",
        server.log()
    );
    drop(server);
    assert_eq!(db_counts(&url, ids).await, acked, "written at SIGTERM");

    // A third start, on a third port, finds nothing left to replay.
    let mut server = Server::start(&url, dir.path(), free_port()).await;
    assert_eq!(served_counts(&server.base, ids).await, acked);
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(60)).await;
    assert!(
        status.success(),
        "after SIGTERM: {status}\n{}",
        server.log()
    );
    assert_eq!(db_counts(&url, ids).await, acked, "counted once");
}

/// Two processes on one data folder under one name would write one journal:
/// the second stops at start, saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_with_the_same_name_and_data_folder_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let first = Server::start(&url, dir.path(), free_port()).await;
    let mut second = Server::spawn(&url, dir.path(), free_port(), &[]);
    let status = second.wait_exit(Duration::from_secs(60)).await;
    assert!(
        !status.success(),
        "a second instance ran:\n{}",
        second.log()
    );
    assert!(
        second
            .log()
            .contains("another chirp instance named \"default\" is running"),
        "{}",
        second.log()
    );
    // Under another name it may share the folder.
    let third = Server::start_with(&url, dir.path(), free_port(), &["--instance", "b"]).await;
    drop((first, third));
}

/// Reads every tweet's like count over the API until two reads in a row
/// agree (a read during a flush may fall short for a moment) and each is
/// within what was acknowledged and sent.
async fn settled_counts(base: &str, ids: &[i64], tally: &Tally) -> Vec<i64> {
    let client = reqwest::Client::new();
    let mut last: Option<Vec<i64>> = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut now = Vec::new();
        for id in ids {
            let tweet: Value = client
                .get(format!("{base}/api/tweets/{id}"))
                .send()
                .await
                .expect("read a tweet")
                .json()
                .await
                .expect("tweet body");
            now.push(tweet["like_count"].as_i64().expect("like_count"));
        }
        for (k, n) in now.iter().enumerate() {
            assert!(
                *n <= tally.sent(k),
                "tweet {}: {n} shown, more than sent",
                ids[k]
            );
        }
        let within = (0..ids.len()).all(|k| now[k] >= tally.acked(k));
        if within && last.as_ref() == Some(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "counts after restart never settled at or above the acknowledged likes: {now:?}"
        );
        last = Some(now);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

mod sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigterm_mid_storm() {
        sigterm_mid_storm_writes_every_acknowledged_like(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_mid_storm_then_restart() {
        sigkill_mid_storm_then_restart_loses_nothing(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_then_restart_on_another_port() {
        sigkill_then_restart_on_another_port_replays_once(Backend::Sqlite).await;
    }
}

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigterm_mid_storm() {
        sigterm_mid_storm_writes_every_acknowledged_like(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_mid_storm_then_restart() {
        sigkill_mid_storm_then_restart_loses_nothing(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_then_restart_on_another_port() {
        sigkill_then_restart_on_another_port_replays_once(Backend::Postgres).await;
    }
}
