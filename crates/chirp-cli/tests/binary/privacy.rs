//! `chirp serve`'s response cache lets go of an account the moment it turns
//! protected, though its TTL is 60 s: the purge travels on the in-process
//! broker, as it travels on Redis or RabbitMQ to `chirp cache`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::{Backend, Server, free_port, fresh_database};

#[tokio::test]
async fn a_protected_accounts_tweets_leave_the_embedded_response_cache_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let server = Server::start(&url, dir.path(), free_port()).await;
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{}/api{path}", server.base);
    let creds = json!({"username": "hush", "password": "correct horse"});
    let created = client
        .post(api("/accounts"))
        .json(&creds)
        .send()
        .await
        .expect("sign up");
    assert_eq!(created.status().as_u16(), 201);
    let session: Value = client
        .post(api("/sessions"))
        .json(&creds)
        .send()
        .await
        .expect("log in")
        .json()
        .await
        .expect("session");
    let token = session["token"].as_str().expect("token").to_owned();
    let tweet: Value = client
        .post(api("/tweets"))
        .bearer_auth(&token)
        .json(&json!({"text": "soon private"}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("tweet");
    let path = api(&format!("/tweets/{}", tweet["id"]));
    let anonymous = || async {
        let resp = client.get(&path).send().await.expect("read");
        let cache = resp
            .headers()
            .get("x-cache")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (resp.status().as_u16(), cache)
    };
    anonymous().await;
    assert_eq!(anonymous().await, (200, "HIT".to_owned()));

    let patched = client
        .patch(api("/me"))
        .bearer_auth(&token)
        .json(&json!({"protected": true}))
        .send()
        .await
        .expect("protect");
    assert_eq!(patched.status().as_u16(), 200);
    let protected_at = Instant::now();
    loop {
        let (status, _) = anonymous().await;
        if status == 404 {
            break;
        }
        assert!(
            protected_at.elapsed() < Duration::from_secs(1),
            "the cache still serves the tweet ({status})"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The startup log points at the cache's numbers; they are there and
    // count what happened: a hit, and the purge.
    let stats: Value = client
        .get(format!("{}/_cache/stats", server.base))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON");
    assert!(stats["hits"].as_u64() >= Some(1), "{stats}");
    assert!(stats["purges"].as_u64() >= Some(1), "{stats}");
}
