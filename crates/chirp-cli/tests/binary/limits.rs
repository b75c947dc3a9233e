//! The real binary's rate limits: set by flag (or `CHIRP_RATE_LIMIT_*`),
//! applied per client address, and a bad setting stops it at start with a
//! message that shows how to write one.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;

use crate::server::{Backend, Server, free_port, fresh_database};

fn client_at(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("address"))
        .build()
        .expect("client")
}

#[tokio::test]
async fn sign_ups_are_limited_per_client_address() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let flags = ["--rate-limit", "on", "--rate-limit-signups", "2/1h"];
    let server = Server::start_with(&url, dir.path(), free_port(), &flags).await;
    let sign_up = |client: reqwest::Client, name: &str| {
        let req = client
            .post(format!("{}/api/accounts", server.base))
            .json(&json!({"username": name, "password": "correct horse"}));
        async move { req.send().await.expect("sign up") }
    };
    let two = client_at("127.0.0.2");
    for name in ["ann", "bea"] {
        assert_eq!(sign_up(two.clone(), name).await.status().as_u16(), 201);
    }
    let refused = sign_up(two.clone(), "cat").await;
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(refused.headers()["ratelimit-limit"], "2");
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=1800).contains(&retry), "{retry}");
    let other = sign_up(client_at("127.0.0.3"), "cat").await;
    assert_eq!(other.status().as_u16(), 201, "another address signs up");
}

#[tokio::test]
async fn a_bad_rate_limit_stops_chirp_at_start_with_an_example() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let flags = ["--rate-limit-logins", "25 per fortnight"];
    let mut server = Server::spawn(&url, dir.path(), free_port(), &flags);
    let status = server.wait_exit(Duration::from_secs(30)).await;
    assert!(!status.success());
    let log = server.log();
    assert!(
        log.contains("--rate-limit-logins") && log.contains("25/5min"),
        "{log}"
    );
}
