//! Regression tests for the findings of the security review (docs/SECURITY.md):
//! each reproduces an attack that worked before its fix.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::helpers::{Backend, TestApp, both, spawn_app, spawn_app_with_api};

both!(
    non_canonical_tweet_ids_are_not_found,
    a_cookie_change_from_another_scheme_is_refused,
);

/// `/api/tweets/03` used to answer tweet 3, so a shared cache held it under
/// a key that a write to `/api/tweets/3` does not evict.
async fn non_canonical_tweet_ids_are_not_found(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "one spelling only").await;
    app.get(&format!("/api/tweets/{id}")).await.expect(200);
    for alias in [format!("0{id}"), format!("+{id}"), format!("00{id}")] {
        app.get(&format!("/api/tweets/{alias}"))
            .await
            .expect_error(404, "not_found");
        app.get(&format!("/api/tweets/{alias}/replies"))
            .await
            .expect_error(404, "not_found");
        app.post(&format!("/api/tweets/{alias}/likes"), None, json!({}))
            .await
            .expect_error(404, "not_found");
        app.patch(
            &format!("/api/tweets/{alias}"),
            &token,
            json!({"text": "x"}),
        )
        .await
        .expect_error(404, "not_found");
        app.delete(&format!("/api/tweets/{alias}"), &token)
            .await
            .expect_error(404, "not_found");
    }
    app.get(&format!("/api/tweets/{id}")).await.expect(200);
}

/// The Origin check compared hosts only, so a page at `https://host` (or
/// any other scheme) passed on an `http://host` site.
async fn a_cookie_change_from_another_scheme_is_refused(app: TestApp) {
    let token = app.user("alice").await;
    let host = app.base.trim_start_matches("http://").to_owned();
    let post = |origin: String| {
        app.request(Method::POST, "/api/tweets")
            .header("cookie", format!("chirp_session={token}"))
            .header("origin", origin)
            .json(&json!({"text": "from a form"}))
    };
    app.send(post(format!("https://{host}")))
        .await
        .expect_error(403, "forbidden");
    app.send(post(format!("http://{host}"))).await.expect(201);
}

/// A client that is not one of our proxies could name any host in
/// `X-Forwarded-Host` and so pass the Origin check for a page on that host.
#[tokio::test]
async fn forwarded_host_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app_with_api(Backend::Sqlite, |c| {
        c.trusted_proxies = chirp_http::TrustedProxies::none();
    })
    .await;
    let token = app.user("alice").await;
    let reply = app
        .send(
            app.request(Method::POST, "/api/tweets")
                .header("cookie", format!("chirp_session={token}"))
                .header("origin", "http://evil.example")
                .header("x-forwarded-host", "evil.example")
                .json(&json!({"text": "forged"})),
        )
        .await;
    reply.expect_error(403, "forbidden");
}

/// A client bound to one loopback address (127.0.0.2, 127.0.0.3, ... are
/// loopback too), so tests can be several clients.
fn client_from(ip: &str) -> reqwest::Client {
    let ip: IpAddr = ip.parse().expect("address");
    reqwest::Client::builder()
        .local_address(ip)
        .build()
        .expect("client")
}

async fn try_login(app: &TestApp, client: &reqwest::Client, password: &str) -> u16 {
    client
        .post(format!("{}/api/sessions", app.base))
        .json(&json!({"username": "alice", "password": password}))
        .send()
        .await
        .expect("login request")
        .status()
        .as_u16()
}

/// Ten failed log-ins for a name used to lock that account for everyone for
/// 15 minutes. The guesser is throttled now, not the account.
#[tokio::test]
async fn a_guesser_is_throttled_without_locking_the_account_for_others() {
    let app = spawn_app(Backend::Sqlite).await;
    app.register("alice").await;
    let guesser = client_from("127.0.0.2");
    for _ in 0..10 {
        assert_eq!(try_login(&app, &guesser, "wrong guess").await, 401);
    }
    assert_eq!(try_login(&app, &guesser, "wrong guess").await, 429);
    assert_eq!(
        try_login(&app, &guesser, "correct horse").await,
        429,
        "the guesser stays throttled, even with the right password"
    );
    let owner = client_from("127.0.0.3");
    assert_eq!(
        try_login(&app, &owner, "correct horse").await,
        201,
        "the owner logs in from another address"
    );
}

/// Readers of `/logs` that never read held a thread of the blocking pool
/// each (the one password hashing uses) until log-ins hung. Here the pool
/// has two threads and four readers stall.
#[test]
fn stalled_log_readers_do_not_starve_log_ins() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let app = spawn_app(Backend::Sqlite).await;
        app.register("alice").await;
        // A log bigger than the socket buffers of both ends.
        for i in 0..400_000u32 {
            app.state
                .requests
                .record("GET", &format!("/api/tweets/{i:08}"));
        }
        let addr: std::net::SocketAddr = app
            .base
            .trim_start_matches("http://")
            .parse()
            .expect("addr");
        let mut stalled = Vec::new();
        for _ in 0..4 {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket.set_recv_buffer_size(4096).expect("small buffer");
            let mut stream = socket.connect(addr).await.expect("connect");
            stream
                .write_all(b"GET /logs HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("send");
            stalled.push(stream); // and never read
        }
        // Give the server time to fill the readers' buffers and stall.
        let logs = app.get("/logs?limit=1").await;
        assert_eq!(logs.status.as_u16(), 200);
        let login = tokio::time::timeout(Duration::from_secs(30), app.login("alice")).await;
        assert!(
            login.is_ok(),
            "a log-in got no answer while /logs readers stalled"
        );
        drop(stalled);
    });
}

/// The interactive docs had no Content-Security-Policy and could be framed.
#[tokio::test]
async fn the_api_docs_forbid_framing_and_foreign_scripts() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in ["/api/docs/", "/api/docs/swagger-initializer.js"] {
        let reply = app.send(app.request(Method::GET, path)).await.expect(200);
        let csp = reply.headers["content-security-policy"]
            .to_str()
            .expect("csp");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(reply.headers["x-frame-options"], "DENY", "{path}");
    }
}

/// Failed log-ins with huge names were each remembered for 15 minutes
/// (800 of 60,000 characters grew the process by 47 MB).
#[tokio::test]
async fn failed_log_ins_with_huge_names_are_not_remembered() {
    let app = spawn_app(Backend::Sqlite).await;
    let huge = "a".repeat(60_000);
    for _ in 0..50 {
        app.post(
            "/api/sessions",
            None,
            json!({"username": huge, "password": "whatever1"}),
        )
        .await
        .expect_error(401, "bad_credentials");
    }
    assert_eq!(app.state.logins.tracked(), (0, 0));
    app.post(
        "/api/sessions",
        None,
        json!({"username": "nobody", "password": "whatever1"}),
    )
    .await
    .expect_error(401, "bad_credentials");
    assert_eq!(
        app.state.logins.tracked(),
        (1, 1),
        "well-formed names are tracked"
    );
}

/// Each call's full path went to the request log: 200 requests for a
/// 65,000-character path added 13 MB.
#[tokio::test]
async fn huge_paths_take_bounded_room_in_the_request_log() {
    let app = spawn_app(Backend::Sqlite).await;
    let path = format!("/api/accounts/{}", "a".repeat(65_000));
    for _ in 0..200 {
        app.get(&path).await;
    }
    let kept = app.state.requests.kept_bytes();
    assert!(kept < 200 * 600, "{kept} bytes for 200 calls");
    let logs = app.get("/logs").await.expect(200);
    let calls = logs.body["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 200);
    assert!(
        calls[0][1]
            .as_str()
            .is_some_and(|p| p.starts_with("/api/accounts/aaa") && p.ends_with('…'))
    );
}

/// The database, the like journal and the request log were created 0644:
/// readable by every user of the machine.
#[cfg(unix)]
#[tokio::test]
async fn data_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "hello").await;
    app.post(&format!("/api/tweets/{id}/likes"), None, json!({}))
        .await
        .expect(202);
    for name in [
        "chirp.db",
        "chirp.db-wal",
        "likes.journal",
        "requests.log.0",
    ] {
        let mode = std::fs::metadata(app.dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "{name} is open to others: {:o}",
            mode & 0o777
        );
    }
}

/// An expired token is "not valid" (`invalid_token`), not "log in first"
/// (`unauthorized`, for no token at all).
#[tokio::test]
async fn an_expired_token_is_invalid_token() {
    use chirp_store::SessionStore;
    let app = spawn_app(Backend::Sqlite).await;
    let alice = app.register("alice").await["id"].as_i64().expect("id");
    let token = "an-expired-session-token";
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    app.store
        .create_session(&chirp_app::passwords::hash_token(token), alice, past)
        .await
        .expect("session");
    let expired = app
        .get_as(token, "/api/me")
        .await
        .expect_error(401, "invalid_token");
    let message = expired.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("not valid"), "{:?}", expired.body);
    app.get("/api/me").await.expect_error(401, "unauthorized");
}

/// Expired sessions were never deleted.
#[tokio::test]
async fn expired_sessions_are_purged() {
    use chirp_store::SessionStore;
    let app = spawn_app(Backend::Sqlite).await;
    let alice = app.register("alice").await["id"].as_i64().expect("id");
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let future = chrono::Utc::now() + chrono::Duration::days(1);
    app.store
        .create_session("expired-hash", alice, past)
        .await
        .expect("session");
    app.store
        .create_session("live-hash", alice, future)
        .await
        .expect("session");
    assert_eq!(app.store.purge_expired_sessions().await.expect("purge"), 1);
    assert_eq!(
        app.store.purge_expired_sessions().await.expect("purge"),
        0,
        "it was deleted"
    );
    assert_eq!(
        app.store.session_account("live-hash").await.expect("read"),
        Some(alice)
    );
}
