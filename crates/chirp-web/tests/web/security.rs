//! Forms without a matching CSRF token are refused and change nothing.

use crate::helpers::{Browser, api_get, newest_tweet_id, spawn};

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
    let csrf = b.csrf();
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
