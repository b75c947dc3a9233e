//! What the cache sends upstream for a shared fetch is framed on its own: a
//! GET's body is not forwarded, so neither are the headers that describe
//! one. An upstream that reads what `Content-Length` declares (nginx) must
//! never wait for a body that is not coming, or the single-flight leader
//! hangs and every anonymous reader of that key waits with it.

use std::time::Duration;

use chirp_cache::CacheConfig;
use futures_util::future::join_all;

use crate::helpers::{spawn_proxy_to, spawn_strict_upstream, x_cache};

/// Far below the proxy's 30 s response timeout: a stalled leader fails the
/// test instead of answering late.
const PROMPTLY: Duration = Duration::from_secs(5);

async fn strict_proxy() -> (String, reqwest::Client) {
    let upstream = spawn_strict_upstream().await;
    let config = CacheConfig::new(&format!("http://{upstream}")).expect("config");
    let client = reqwest::Client::builder()
        .timeout(PROMPTLY)
        .build()
        .expect("client");
    (spawn_proxy_to(config).await, client)
}

#[tokio::test]
async fn a_get_with_a_body_does_not_stall_its_key_for_everyone() {
    let (url, client) = strict_proxy().await;
    let target = format!("{url}/api/tweets?limit=7");
    // Its own client, waiting longer: were it to give up first, dropping
    // its connection would cancel the stalled leader and free the waiters.
    let patient = reqwest::Client::builder()
        .timeout(4 * PROMPTLY)
        .build()
        .expect("client");
    let with_body = {
        let req = patient.get(&target).body("x");
        tokio::spawn(async move { req.send().await })
    };
    // Let it become the single-flight leader, then read the key plainly.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let plain = join_all((0..3).map(|_| client.get(&target).send())).await;
    for (i, resp) in plain.into_iter().enumerate() {
        let resp = resp.unwrap_or_else(|e| panic!("plain GET {i}: {e:?}"));
        assert_eq!(resp.status(), 200, "plain GET {i}");
        assert!(["HIT", "MISS"].contains(&x_cache(&resp)), "plain GET {i}");
    }
    let resp = with_body
        .await
        .expect("task")
        .expect("the GET with a body is answered");
    assert_eq!(resp.status(), 200);
    let seen: serde_json::Value = resp.json().await.expect("JSON");
    assert_eq!(seen["body_bytes"], 0, "the body was not forwarded: {seen}");
}

#[tokio::test]
async fn body_framing_headers_of_a_get_are_not_forwarded() {
    let (url, client) = strict_proxy().await;
    for (name, value) in [
        ("content-length", "5"),
        ("transfer-encoding", "chunked"),
        ("expect", "100-continue"),
    ] {
        // Written by hand: a client library would frame the body itself.
        let mut stream = tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
            .await
            .expect("connect");
        let body = if name == "content-length" {
            "hello"
        } else if name == "transfer-encoding" {
            "5\r\nhello\r\n0\r\n\r\n"
        } else {
            ""
        };
        let request = format!(
            "GET /api/framing/{name} HTTP/1.1\r\nhost: x\r\n{name}: {value}\r\nconnection: close\r\n\r\n{body}"
        );
        let answer = tokio::time::timeout(PROMPTLY, async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            stream.write_all(request.as_bytes()).await?;
            let mut out = Vec::new();
            stream.read_to_end(&mut out).await?;
            std::io::Result::Ok(out)
        })
        .await
        .unwrap_or_else(|_| panic!("a GET with {name} was not answered in time"))
        .expect("I/O");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 200"), "{name}: {text}");
        // The same key, plainly, is served too.
        let resp = client
            .get(format!("{url}/api/framing/{name}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("plain GET after {name}: {e}"));
        assert_eq!(resp.status(), 200, "{name}");
    }
}
