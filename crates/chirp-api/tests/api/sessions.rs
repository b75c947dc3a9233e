//! Sessions: logging in and out, and how requests authenticate.

use chirp_store::{AccountStore, SessionStore};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, COOKIE, HeaderValue};
use serde_json::json;

use crate::helpers::{TestApp, both};

async fn login_returns_a_token_and_the_account(app: TestApp) {
    let account = app.register("alice").await;
    let reply = app
        .post(
            "/api/sessions",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await
        .expect(201);
    let token = reply.body["token"].as_str().expect("token");
    assert!(token.len() >= 32, "token too short: {token}");
    assert_eq!(reply.body["account"], account);
    let me = app.get_as(token, "/api/me").await.expect(200);
    assert_eq!(me.body, account);
}

async fn login_takes_the_username_in_any_case(app: TestApp) {
    let account = app.register("Alice").await;
    let reply = app
        .post(
            "/api/sessions",
            None,
            json!({"username": "aLICE", "password": "correct horse"}),
        )
        .await
        .expect(201);
    assert_eq!(reply.body["account"]["id"], account["id"]);
}

async fn every_login_gets_its_own_token(app: TestApp) {
    app.register("alice").await;
    let first = app.login("alice").await;
    let second = app.login("alice").await;
    assert_ne!(first, second);
    for token in [&first, &second] {
        assert_eq!(
            app.get_as(token, "/api/me").await.expect(200).body["username"],
            "alice"
        );
    }
}

async fn bad_credentials_are_401_whatever_is_wrong(app: TestApp) {
    app.register("alice").await;
    let mut messages = Vec::new();
    for (username, password) in [
        ("alice", "wrong horse"),
        ("alice", "Correct horse"),
        ("alice", ""),
        ("nobody", "correct horse"),
        ("a b", "correct horse"),
        ("", ""),
    ] {
        let reply = app
            .post(
                "/api/sessions",
                None,
                json!({"username": username, "password": password}),
            )
            .await
            .expect_error(401, "bad_credentials");
        assert!(reply.body.get("token").is_none());
        messages.push(reply.body["error"]["message"].clone());
    }
    // The answer does not tell whether the account exists.
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");
}

async fn logout_revokes_only_the_token_it_was_sent_with(app: TestApp) {
    app.register("alice").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let reply = app
        .delete("/api/sessions/current", &laptop)
        .await
        .expect(204);
    assert!(reply.body.is_null(), "204 with a body: {:?}", reply.body);
    let revoked = app
        .get_as(&laptop, "/api/me")
        .await
        .expect_error(401, "invalid_token");
    assert!(
        message(&revoked).contains("token is not valid"),
        "a revoked token is said to be not valid: {:?}",
        revoked.body
    );
    app.post("/api/tweets", Some(&laptop), json!({"text": "still here?"}))
        .await
        .expect_error(401, "invalid_token");
    app.delete("/api/sessions/current", &laptop)
        .await
        .expect_error(401, "invalid_token");
    assert_eq!(
        app.get_as(&phone, "/api/me").await.expect(200).body["username"],
        "alice"
    );
    // Logging in again works after a logout.
    let again = app.login("alice").await;
    app.get_as(&again, "/api/me").await.expect(200);
}

async fn logout_needs_a_token(app: TestApp) {
    let none = app
        .call(Method::DELETE, "/api/sessions/current", None, None)
        .await
        .expect_error(401, "unauthorized");
    assert!(
        message(&none).starts_with("log in first"),
        "no token at all: {:?}",
        none.body
    );
}

fn message(reply: &crate::helpers::Reply) -> &str {
    reply.body["error"]["message"].as_str().unwrap_or_default()
}

async fn malformed_authorization_headers_are_401(app: TestApp) {
    let token = app.user("alice").await;
    let headers = [
        format!("Basic {token}"),
        format!("Token {token}"),
        format!("Bearer{token}"),
        token.clone(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Bearer    ".to_owned(),
        String::new(),
    ];
    for value in headers {
        let req = app.request(Method::GET, "/api/me").header(
            AUTHORIZATION,
            HeaderValue::from_str(&value).expect("header value"),
        );
        let bad = app.send(req).await.expect_error(401, "invalid_token");
        assert!(
            message(&bad).contains("token is not valid"),
            "{value:?}: {:?}",
            bad.body
        );
    }
    // Bytes that are not visible ASCII.
    let req = app.request(Method::GET, "/api/me").header(
        AUTHORIZATION,
        HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("header value"),
    );
    app.send(req).await.expect_error(401, "invalid_token");
}

async fn unknown_bearer_tokens_are_401(app: TestApp) {
    let real = app.user("alice").await;
    for fake in [
        "nonsense",
        "0000000000000000000000000000000000000000000",
        &real[1..],
        &format!("{real}x"),
    ] {
        let unknown = app
            .get_as(fake, "/api/me")
            .await
            .expect_error(401, "invalid_token");
        assert!(
            message(&unknown).contains("token is not valid"),
            "{fake}: {:?}",
            unknown.body
        );
        app.post("/api/tweets", Some(fake), json!({"text": "hi"}))
            .await
            .expect_error(401, "invalid_token");
    }
    // A token with the right shape but wrong case is a different token.
    let flipped: String = real
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if flipped != real {
        app.get_as(&flipped, "/api/me")
            .await
            .expect_error(401, "invalid_token");
    }
}

async fn the_session_cookie_authenticates_too(app: TestApp) {
    let token = app.user("alice").await;
    let req = app
        .request(Method::GET, "/api/me")
        .header(COOKIE, format!("theme=dark; chirp_session={token}"));
    assert_eq!(app.send(req).await.expect(200).body["username"], "alice");
    let req = app
        .request(Method::GET, "/api/me")
        .header(COOKIE, "chirp_session=not-a-session");
    app.send(req).await.expect_error(401, "invalid_token");
}

async fn other_sites_cannot_change_things_with_the_cookie(app: TestApp) {
    let token = app.user("alice").await;
    app.register("bob").await;
    let cookie = format!("chirp_session={token}");
    for site in ["cross-site", "same-site"] {
        let req = app
            .request(Method::POST, "/api/accounts/bob/follow")
            .header(COOKIE, &cookie)
            .header("sec-fetch-site", site);
        app.send(req).await.expect_error(403, "forbidden");
        // Reading is fine: a page elsewhere cannot see the answer anyway.
        let req = app
            .request(Method::GET, "/api/me")
            .header(COOKIE, &cookie)
            .header("sec-fetch-site", site);
        app.send(req).await.expect(200);
    }
    assert_eq!(app.account("bob").await["followers_count"], 0);
    // The same request from the site itself, or from a non-browser client.
    for site in [Some("same-origin"), None] {
        let mut req = app
            .request(Method::POST, "/api/accounts/bob/follow")
            .header(COOKIE, &cookie);
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site);
        }
        app.send(req).await.expect(200);
    }
    // Browsers without Sec-Fetch-Site: the Origin must be this host.
    app.delete("/api/accounts/bob/follow", &token)
        .await
        .expect(204);
    let host = app.base.trim_start_matches("http://").to_owned();
    for (origin, status) in [
        ("http://evil.example".to_owned(), 403),
        ("null".to_owned(), 403),
        (format!("http://{host}"), 200),
    ] {
        let req = app
            .request(Method::POST, "/api/accounts/bob/follow")
            .header(COOKIE, &cookie)
            .header("origin", &origin);
        let reply = app.send(req).await;
        assert_eq!(reply.status.as_u16(), status, "Origin {origin}");
    }
    // A bearer token is never sent by a browser on its own: no check.
    let req = app
        .request(Method::DELETE, "/api/accounts/bob/follow")
        .bearer_auth(&token)
        .header("sec-fetch-site", "cross-site");
    app.send(req).await.expect(204);
}

async fn password_guessing_is_throttled_per_username(app: TestApp) {
    app.register("alice").await;
    app.register("bob").await;
    let login = |name: &str, password: &str| {
        app.post(
            "/api/sessions",
            None,
            json!({"username": name, "password": password}),
        )
    };
    for i in 0..10 {
        login("alice", &format!("guess number {i}"))
            .await
            .expect_error(401, "bad_credentials");
    }
    // Now even the right password waits, in any letter case.
    for name in ["alice", "ALICE"] {
        let refused = login(name, "correct horse").await;
        let retry_after: u64 = refused.headers["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=900).contains(&retry_after), "{retry_after}");
        refused.expect_error(429, "rate_limited");
    }
    // Nobody else is affected.
    login("bob", "correct horse").await.expect(201);
    // Names that do not exist are throttled alike, so a 429 tells nothing.
    for _ in 0..10 {
        login("nobody", "whatever1")
            .await
            .expect_error(401, "bad_credentials");
    }
    login("nobody", "whatever1")
        .await
        .expect_error(429, "rate_limited");
}

async fn a_good_login_clears_the_failures(app: TestApp) {
    app.register("alice").await;
    for round in 0..3 {
        for i in 0..9 {
            app.post(
                "/api/sessions",
                None,
                json!({"username": "alice", "password": format!("wrong {round} {i}")}),
            )
            .await
            .expect_error(401, "bad_credentials");
        }
        app.login("alice").await;
    }
}

async fn login_bodies_must_have_both_fields(app: TestApp) {
    app.register("alice").await;
    for body in [
        json!({"username": "alice"}),
        json!({"password": "correct horse"}),
        json!({"username": "alice", "password": "correct horse", "remember": true}),
        json!({"username": "alice", "password": 12345678}),
    ] {
        let reply = app.post("/api/sessions", None, body.clone()).await;
        assert_eq!(reply.status.as_u16(), 422, "for {body}: {:?}", reply.body);
        assert_eq!(reply.code(), "validation_failed", "for {body}");
    }
}

async fn passwords_and_tokens_are_stored_only_as_hashes(app: TestApp) {
    let token = app.user("alice").await;
    let creds = app
        .store
        .credentials(&chirp_core::text::Username::parse("alice").expect("name"))
        .await
        .expect("read credentials")
        .expect("alice has credentials");
    assert!(
        creds.password_hash.starts_with("$argon2id$"),
        "{}",
        creds.password_hash
    );
    assert!(!creds.password_hash.contains("correct horse"));
    let hashed = chirp_app::passwords::hash_token(&token);
    let owner = app
        .store
        .session_account(&hashed)
        .await
        .expect("read session");
    assert_eq!(owner, Some(creds.account_id));
    let raw = app
        .store
        .session_account(&token)
        .await
        .expect("read session");
    assert_eq!(raw, None, "the token itself is stored");
}

both!(
    passwords_and_tokens_are_stored_only_as_hashes,
    login_returns_a_token_and_the_account,
    login_takes_the_username_in_any_case,
    every_login_gets_its_own_token,
    bad_credentials_are_401_whatever_is_wrong,
    logout_revokes_only_the_token_it_was_sent_with,
    logout_needs_a_token,
    malformed_authorization_headers_are_401,
    unknown_bearer_tokens_are_401,
    the_session_cookie_authenticates_too,
    other_sites_cannot_change_things_with_the_cookie,
    password_guessing_is_throttled_per_username,
    a_good_login_clears_the_failures,
    login_bodies_must_have_both_fields,
);
