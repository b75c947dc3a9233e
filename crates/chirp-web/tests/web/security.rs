//! Forms without a matching CSRF token, or that a browser says came from
//! another site, are refused and change nothing; cookies carry the
//! `__Host-` prefix when they are `Secure`.

use std::sync::{Arc, Mutex};

use chirp_client::Client;
use chirp_web::WebConfig;

use crate::helpers::{Browser, api_get, form_token, newest_tweet_id, serve, spawn, spawn_with};

#[tokio::test]
async fn posts_without_a_matching_csrf_token_are_refused() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("grace", "").await.expect(200);
    b.post_tweet("the only one").await.expect(200);
    let id = newest_tweet_id(&site.base).await;
    let like = format!("/tweets/{id}/like");

    let missing = b
        .post_raw("/tweets", &[("text", "forged")])
        .await
        .expect(403);
    assert!(
        missing
            .header("content-security-policy")
            .contains("default-src")
    );
    b.post_raw(
        "/tweets",
        &[("csrf", "wrongwrongwrongwrong"), ("text", "forged")],
    )
    .await
    .expect(403);
    b.post_raw(&like, &[]).await.expect(403);
    b.post_raw(&like, &[("csrf", "wrongwrongwrongwrong")])
        .await
        .expect(403);
    b.post_raw("/logout", &[]).await.expect(403);

    // A browser with no CSRF cookie at all (a cross-site first visit).
    let stranger = Browser::new(&site);
    let csrf = b.csrf().await;
    stranger
        .post_raw(&like, &[("csrf", &csrf)])
        .await
        .expect(403);
    stranger
        .post_raw(
            "/login",
            &[("csrf", &csrf), ("username", "grace"), ("password", "x")],
        )
        .await
        .expect(403);

    let tweets = api_get(&site.base, "/api/tweets").await;
    assert_eq!(
        tweets["items"].as_array().map(Vec::len),
        Some(1),
        "no tweet added"
    );
    let tweet = api_get(&site.base, &format!("/api/tweets/{id}")).await;
    assert_eq!(tweet["like_count"], 0, "no like counted");
    assert!(b.cookie("chirp_session").is_some(), "still logged in");
    assert!(b.get("/").await.expect(200).body.contains("@grace"));
}

#[tokio::test]
async fn the_csrf_cookie_is_http_only_and_lax() {
    let site = spawn().await;
    let page = Browser::new(&site).get("/").await.expect(200);
    let cookie = page.set_cookie("chirp_csrf").expect("CSRF cookie issued");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(page.body.contains("chirp.css"));
    // Static files are shared by caches: no cookie on them.
    for path in ["/static/chirp.css", "/static/chirp.js"] {
        let file = Browser::new(&site).get(path).await.expect(200);
        assert!(file.set_cookie("chirp_csrf").is_none(), "{path}");
        assert!(file.header("cache-control").starts_with("public"));
    }
}

/// The display name the API has for `username`.
async fn display_name(base: &str, username: &str) -> String {
    let account = api_get(base, &format!("/api/accounts/{username}")).await;
    account["display_name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_planted_csrf_cookie_does_not_let_a_forged_form_change_settings() {
    let site = spawn().await;
    let victim = Browser::new(&site);
    victim.sign_up("victim", "Victim").await.expect(200);
    // An attacker who can set cookies for the site (a sibling subdomain, a
    // man in the middle on plain HTTP) but cannot read the HttpOnly session
    // plants a well-formed token of their choosing, and their page posts
    // the same value in the field.
    let planted = "AttackerChosenToken_22";
    victim.put_cookie("chirp_csrf", planted);
    victim
        .post_raw(
            "/settings",
            &[("csrf", planted), ("display_name", "Pwned"), ("bio", "")],
        )
        .await
        .expect(403);
    assert_eq!(display_name(&site.base, "victim").await, "Victim");
    // The token the site itself put in the victim's forms still works.
    victim
        .submit("/settings", &[("display_name", "Still me"), ("bio", "")])
        .await
        .expect(200);
    assert_eq!(display_name(&site.base, "victim").await, "Still me");
}

#[tokio::test]
async fn form_posts_a_browser_says_came_from_another_site_are_refused() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("ivy", "Ivy").await.expect(200);
    let csrf = b.csrf().await;
    let form = [
        ("csrf", csrf.as_str()),
        ("display_name", "Changed"),
        ("bio", ""),
    ];
    for headers in [
        [("sec-fetch-site", "cross-site")].as_slice(),
        &[("sec-fetch-site", "same-site")],
        &[("origin", "http://evil.example")],
        &[("origin", "null")],
    ] {
        let page = b.post_with_headers("/settings", &form, headers).await;
        assert_eq!(page.status, 403, "{headers:?}");
        assert!(page.body.contains("did not"), "the site's 403 page");
    }
    assert_eq!(display_name(&site.base, "ivy").await, "Ivy");

    // Logged out, the log-in form is guarded the same way (login CSRF).
    let stranger = Browser::new(&site);
    let token = stranger.csrf().await;
    let login = [
        ("csrf", token.as_str()),
        ("username", "ivy"),
        ("password", crate::helpers::PASSWORD),
    ];
    stranger
        .post_with_headers("/login", &login, &[("sec-fetch-site", "cross-site")])
        .await
        .expect(403);
    assert!(stranger.cookie("chirp_session").is_none());
}

#[tokio::test]
async fn same_origin_form_posts_and_clients_without_browser_headers_are_accepted() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("jay", "Jay").await.expect(200);
    let csrf = b.csrf().await;
    let origin = site.base.clone();
    for (name, headers) in [
        ("One", [("origin", origin.as_str())].as_slice()),
        ("Two", &[("sec-fetch-site", "same-origin")]),
        (
            "Three",
            &[
                ("sec-fetch-site", "same-origin"),
                ("origin", origin.as_str()),
            ],
        ),
        // What curl sends: neither header.
        ("Four", &[]),
    ] {
        let form = [("csrf", csrf.as_str()), ("display_name", name), ("bio", "")];
        b.post_with_headers("/settings", &form, headers)
            .await
            .expect(303);
        assert_eq!(display_name(&site.base, "jay").await, name, "{headers:?}");
    }
}

#[tokio::test]
async fn secure_cookies_are_host_prefixed_and_logged_in_forms_work_with_them() {
    let config = WebConfig {
        secure_cookies: true,
        ..WebConfig::default()
    };
    let site = spawn_with(config).await;
    let b = Browser::new(&site);
    let first = b.get("/signup").await.expect(200);
    let csrf = first
        .set_cookie("__Host-chirp_csrf")
        .expect("a __Host- CSRF cookie");
    assert!(first.set_cookie("chirp_csrf").is_none(), "no plain name");
    let token = form_token(&first.body).expect("a CSRF field");
    let signed_up = b
        .post_raw(
            "/signup",
            &[
                ("csrf", &token),
                ("username", "kim"),
                ("password", crate::helpers::PASSWORD),
            ],
        )
        .await
        .expect(303);
    let session = signed_up
        .set_cookie("__Host-chirp_session")
        .expect("a __Host- session cookie");
    assert!(signed_up.set_cookie("chirp_session").is_none());
    for cookie in [&csrf, &session] {
        // What a browser demands of a `__Host-` cookie.
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(cookie.contains("; Path=/;"), "{cookie}");
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
    }
    let home = b.post_tweet("over https").await.expect(200);
    assert!(home.body.contains("@kim") && home.body.contains("over https"));
    let out = b.submit("/logout", &[]).await.expect(200);
    assert!(b.cookie("__Host-chirp_session").is_none(), "logged out");
    assert!(out.body.contains("href=\"/login\""));
}

/// An API stub whose public timeline is empty and which remembers, per
/// call, the client it was told about: the peer in-process, or the
/// `X-Forwarded-For` it was sent over HTTP.
fn recording_api() -> (axum::Router, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/api/tweets",
        axum::routing::get(move |req: axum::extract::Request| {
            let log = Arc::clone(&log);
            async move {
                let xff = req.headers().get("x-forwarded-for");
                let who = match xff.and_then(|v| v.to_str().ok()) {
                    Some(xff) => format!("xff {xff}"),
                    None => match chirp_http::serve::peer(req.extensions()) {
                        Some(peer) => format!("peer {}", peer.ip()),
                        None => "nobody".to_owned(),
                    },
                };
                log.lock().expect("log").push(who);
                axum::Json(serde_json::json!({"items": [], "next_cursor": null}))
            }
        }),
    );
    (app, seen)
}

/// `/public` as a browser behind a proxy at `forwarded_for` would ask.
async fn view_public(base: &str, forwarded_for: Option<&str>) {
    let mut req = reqwest::Client::new().get(format!("{base}/public"));
    if let Some(addr) = forwarded_for {
        req = req.header("x-forwarded-for", addr);
    }
    let resp = req.send().await.expect("request");
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn the_api_is_told_the_browsers_address() {
    // In-process: the API sees the browser as its peer. The test client is
    // on loopback, which the site trusts as a proxy by default.
    let (api, seen) = recording_api();
    let base = serve(chirp_web::router(
        Client::in_process(api),
        WebConfig::default(),
    ))
    .await;
    view_public(&base, Some("203.0.113.7")).await;
    view_public(&base, None).await;
    assert_eq!(
        *seen.lock().expect("log"),
        ["peer 203.0.113.7", "peer 127.0.0.1"]
    );

    // Trusting no proxy, a forged X-Forwarded-For is not passed on.
    let (api, seen) = recording_api();
    let config = WebConfig {
        trusted_proxies: chirp_http::TrustedProxies::none(),
        ..WebConfig::default()
    };
    let base = serve(chirp_web::router(Client::in_process(api), config)).await;
    view_public(&base, Some("203.0.113.7")).await;
    assert_eq!(*seen.lock().expect("log"), ["peer 127.0.0.1"]);

    // Over HTTP: in X-Forwarded-For, replacing what the browser sent.
    let (api, seen) = recording_api();
    let api_base = serve(api).await;
    let client = Client::over_http(&api_base).expect("API address");
    let base = serve(chirp_web::router(client, WebConfig::default())).await;
    view_public(&base, Some("6.6.6.6, 203.0.113.7")).await;
    assert_eq!(*seen.lock().expect("log"), ["xff 203.0.113.7"]);
}
