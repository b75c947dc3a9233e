//! Every page renders, the main journey works, user text is escaped.

use crate::helpers::{Browser, CSP, PASSWORD, api_get, newest_tweet_id, spawn, spawn_over_http};

#[tokio::test]
async fn every_page_answers_with_csp_and_nosniff() {
    let site = spawn().await;
    let alice = Browser::new(&site);
    alice.sign_up("alice", "Alice").await.expect(200);
    alice.post_tweet("hello #world").await.expect(200);
    let id = newest_tweet_id(&site.base).await;
    alice
        .submit("/c", &[("slug", "news"), ("name", "News")])
        .await
        .expect(200);
    let visitor = Browser::new(&site);
    let paths = [
        "/".to_owned(),
        "/public".to_owned(),
        format!("/tweets/{id}"),
        "/@alice".to_owned(),
        "/@alice/followers".to_owned(),
        "/@alice/following".to_owned(),
        "/tags/world".to_owned(),
        "/c".to_owned(),
        "/c/news".to_owned(),
        "/search".to_owned(),
        "/search?q=hello".to_owned(),
        "/signup".to_owned(),
        "/login".to_owned(),
        "/static/chirp.css".to_owned(),
        "/static/chirp.js".to_owned(),
    ];
    for who in [&alice, &visitor] {
        for path in &paths {
            let page = who.get(path).await;
            assert_eq!(page.status, 200, "{path}: {}", page.body);
            assert_eq!(page.header("content-security-policy"), CSP, "{path}");
            assert_eq!(page.header("x-content-type-options"), "nosniff", "{path}");
        }
    }
    // Pages of your own: yours when logged in, the log-in page otherwise.
    for path in [
        "/settings".to_owned(),
        format!("/tweets/{id}/edit"),
        format!("/tweets/{id}/delete"),
    ] {
        let page = alice.get(&path).await.expect(200);
        assert_eq!(page.header("content-security-policy"), CSP, "{path}");
        let away = visitor.get(&path).await.expect(303);
        let back = serde_urlencoded::to_string([("next", path.as_str())]).expect("query");
        assert_eq!(away.header("location"), format!("/login?{back}"), "{path}");
    }
    for path in [
        "/@nobody",
        "/@nobody/followers",
        "/tweets/999999",
        "/tweets/abc",
        "/tweets/abc/edit",
        "/c/nothing",
        "/c/Not%20A%20Slug",
        "/tags/a%20b",
    ] {
        let missing = visitor.get(path).await.expect(404);
        assert_eq!(missing.header("content-security-policy"), CSP, "{path}");
    }
}

#[tokio::test]
async fn sign_up_log_in_post_and_read_it_everywhere() {
    let site = spawn().await;
    let b = Browser::new(&site);
    let home = b.sign_up("bob", "Bob").await.expect(200);
    assert!(home.body.contains("@bob"), "signed in after sign-up");
    let session = b.cookie("chirp_session").expect("session cookie");

    let out = b.submit("/logout", &[]).await.expect(200);
    assert!(
        b.cookie("chirp_session").is_none(),
        "logout drops the cookie"
    );
    assert!(out.body.contains("href=\"/login\""));
    let revoked = reqwest::Client::new()
        .get(format!("{}/api/me", site.base))
        .bearer_auth(&session)
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status().as_u16(), 401, "logout revokes the token");

    let csrf = b.csrf().await;
    let login = b
        .post_raw(
            "/login",
            &[("csrf", &csrf), ("username", "bob"), ("password", PASSWORD)],
        )
        .await
        .expect(303);
    assert_ne!(b.csrf().await, csrf, "login issues a new CSRF token");
    let cookie = login
        .set_cookie("chirp_session")
        .expect("session cookie set");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain HTTP by default");

    let home = b.post_tweet("my first chirp").await.expect(200);
    assert!(home.body.contains("my first chirp"), "on the home timeline");
    assert!(
        home.body
            .contains("class=\"compose card\" method=\"post\" action=\"/\""),
        "compose box shown, posting to the page it is on"
    );
    let id = newest_tweet_id(&site.base).await;
    let public = b.get("/public").await.expect(200);
    assert!(public.body.contains("my first chirp"));
    let page = b.get(&format!("/tweets/{id}")).await.expect(200);
    assert!(page.body.contains("my first chirp"));
    assert!(page.body.contains(&format!("action=\"/tweets/{id}\"")));

    let after = b
        .submit(&format!("/tweets/{id}"), &[("text", "answering myself")])
        .await
        .expect(200);
    assert!(
        after.body.contains("answering myself"),
        "reply on the tweet page"
    );
    let profile = b.get("/@bob").await.expect(200);
    assert!(profile.body.contains("my first chirp") && profile.body.contains("Bob"));
}

/// The site's only script element.
const OUR_SCRIPT: &str = r#"<script src="/static/chirp.js" defer></script>"#;

#[tokio::test]
async fn hostile_text_is_escaped_everywhere() {
    let site = spawn().await;
    let evil = "<script>alert(1)</script>";
    // askama writes numeric entities; either spelling is safe.
    let escaped = [
        "&#60;script&#62;alert(1)&#60;/script&#62;",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ];
    let b = Browser::new(&site);
    b.sign_up("mallory", evil).await.expect(200);
    b.post_tweet(evil).await.expect(200);
    let id = newest_tweet_id(&site.base).await;
    b.submit(&format!("/tweets/{id}/reply"), &[("text", evil)])
        .await
        .expect(200);
    for path in [
        "/".to_owned(),
        "/public".to_owned(),
        format!("/tweets/{id}"),
        format!("/tweets/{id}/edit"),
        format!("/tweets/{id}/delete"),
        "/@mallory".to_owned(),
        "/search?q=alert".to_owned(),
        "/settings".to_owned(),
    ] {
        let page = b.get(&path).await.expect(200);
        // The one script element is our own, loaded from /static.
        assert_eq!(
            page.body.matches("<script").count(),
            1,
            "{path} has a raw script: {}",
            page.body
        );
        assert!(page.body.contains(OUR_SCRIPT), "{path}");
        let shown = escaped
            .iter()
            .map(|e| page.body.matches(e).count())
            .sum::<usize>();
        // The edit form holds only the text, settings only the name.
        let expected = if path.ends_with("/edit") || path == "/settings" {
            1
        } else {
            2
        };
        assert!(
            shown >= expected,
            "{path} lost the text or the name: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn hashtags_and_mentions_are_links() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("heidi", "").await.expect(200);
    b.post_tweet("loving #Rust, thanks @heidi")
        .await
        .expect(200);
    let page = b.get("/public").await.expect(200);
    assert!(
        page.body.contains("<a href=\"/tags/rust\">#Rust</a>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<a href=\"/@heidi\">@heidi</a>"));
    let tag = b.get("/tags/RUST").await.expect(200);
    assert!(tag.body.contains("#rust") && tag.body.contains("thanks"));
    let none = b.get("/tags/other").await.expect(200);
    assert!(!none.body.contains("thanks"));
    b.get("/tags/no%20such").await.expect(404);
}

#[tokio::test]
async fn the_like_form_adds_one_and_goes_back() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("carol", "").await.expect(200);
    b.post_tweet("like me").await.expect(200);
    let id = newest_tweet_id(&site.base).await;
    b.get("/public").await.expect(200);
    let csrf = b.csrf().await;
    let path = format!("/tweets/{id}/like");
    let back = b
        .post_raw(&path, &[("csrf", &csrf), ("next", "/public")])
        .await
        .expect(303);
    assert_eq!(back.header("location"), format!("/public#t{id}"));
    let page = b.submit(&path, &[("next", "/public")]).await.expect(200);
    // The button: a heart icon, then "Like, 2 likes" to a screen reader.
    let button = format!(
        r#"<span class="visually-hidden">Like, </span><span class="count" id="likes-{id}">2</span><span class="visually-hidden like-noun"> likes</span></button>"#
    );
    assert!(page.body.contains(&button), "{}", page.body);
    assert!(
        page.body
            .contains(r#"<button type="submit" class="like"><svg class="heart""#),
        "an SVG heart, not a text glyph"
    );
    let tweet = api_get(&site.base, &format!("/api/tweets/{id}")).await;
    assert_eq!(tweet["like_count"], 2);
    let offsite = b
        .post_raw(&path, &[("csrf", &csrf), ("next", "//evil.example")])
        .await
        .expect(303);
    assert_eq!(offsite.header("location"), format!("/tweets/{id}#t{id}"));
}

#[tokio::test]
async fn logged_out_home_shows_the_public_timeline() {
    let site = spawn().await;
    let author = Browser::new(&site);
    author.sign_up("dave", "Dave").await.expect(200);
    author.post_tweet("for everyone").await.expect(200);
    let page = Browser::new(&site).get("/").await.expect(200);
    assert!(page.body.contains("for everyone"));
    assert!(
        !page.body.contains("class=\"compose card\""),
        "no compose box"
    );
    assert!(page.body.contains("href=\"/login\""));
    assert!(page.body.contains("Welcome to chirp"), "the way in");
    let home = author.get("/").await.expect(200);
    assert!(!home.body.contains("Welcome to chirp"));
}

#[tokio::test]
async fn api_errors_are_shown_on_the_form() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("erin", "").await.expect(200);
    let again = Browser::new(&site);
    let taken = again.sign_up("ERIN", "").await.expect(409);
    assert!(taken.body.contains("class=\"error\""), "{}", taken.body);
    assert!(
        taken.body.contains("value=\"ERIN\""),
        "the form keeps its input"
    );
    let bad = again
        .submit(
            "/login",
            &[("username", "erin"), ("password", "wrong password")],
        )
        .await
        .expect(401);
    assert!(bad.body.contains("class=\"error\""));
    let long = "x".repeat(300);
    let too_long = b.post_tweet(&long).await;
    assert!(
        too_long.status == 400 || too_long.status == 422,
        "{}",
        too_long.status
    );
    assert!(too_long.body.contains("class=\"error\"") && too_long.body.contains(&long));
}

#[tokio::test]
async fn the_site_also_reaches_the_api_over_http() {
    let (site, api) = spawn_over_http().await;
    let b = Browser::new(&site);
    b.sign_up("frank", "Frank").await.expect(200);
    b.post_tweet("sent over the wire").await.expect(200);
    let id = newest_tweet_id(&api).await;
    let page = Browser::new(&site)
        .get(&format!("/tweets/{id}"))
        .await
        .expect(200);
    assert!(page.body.contains("sent over the wire"));
}

#[tokio::test]
async fn long_timelines_page_back_with_older_links() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("ivan", "").await.expect(200);
    for i in 0..21 {
        b.post_tweet(&format!("chirp number {i}."))
            .await
            .expect(200);
    }
    for path in ["/", "/public", "/@ivan"] {
        let first = b.get(path).await.expect(200);
        assert!(first.body.contains("chirp number 20."));
        assert!(!first.body.contains("chirp number 0."), "{path}: 20 a page");
        let href = first
            .body
            .split("class=\"button\" href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("an Older link")
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        let older = b.get(&href).await.expect(200);
        assert!(older.body.contains("chirp number 0."), "{path} → {href}");
        assert!(!older.body.contains("chirp number 20."));
    }
}

#[tokio::test]
async fn timelines_have_a_side_column_of_hashtags_and_people() {
    let site = spawn().await;
    let carol = Browser::new(&site);
    carol.sign_up("carol", "").await.expect(200);
    carol.post_tweet("#tea time").await.expect(200);
    let dave = Browser::new(&site);
    dave.sign_up("dave", "").await.expect(200);
    for path in ["/", "/public", "/tags/tea"] {
        let page = dave.get(path).await.expect(200);
        assert_eq!(
            page.body.matches("<aside").count(),
            1,
            "{path}: one side column"
        );
        let title = page.body.split_once("</title>").expect("a title").0;
        assert!(!title.contains("aside"), "{path}: {title}");
        let side = page
            .body
            .split_once(r#"<aside class="side""#)
            .unwrap_or_else(|| panic!("{path}: no side column: {}", page.body))
            .1;
        let side = side.split_once("</aside>").expect("closed").0;
        assert!(side.contains("Trending hashtags"), "{path}: {side}");
        assert!(
            side.contains(r#"<a href="/tags/tea">#tea</a>"#),
            "{path}: {side}"
        );
        assert!(side.contains("1 chirp</span>"), "{path}: {side}");
        assert!(side.contains("Who to follow"), "{path}: {side}");
        assert!(side.contains(r#"href="/@carol""#), "{path}: {side}");
        assert!(!side.contains("@dave"), "{path}: not yourself: {side}");
    }
}

/// The "who to follow" card of a page's side column.
fn who_to_follow(body: &str) -> &str {
    body.split_once(r#"id="who-to-follow""#)
        .unwrap_or_else(|| panic!("no who to follow: {body}"))
        .1
        .split_once("</section>")
        .expect("closed")
        .0
}

#[tokio::test]
async fn who_to_follow_leaves_out_people_you_follow() {
    let site = spawn().await;
    for name in ["carol", "erin"] {
        Browser::new(&site).sign_up(name, "").await.expect(200);
    }
    let dave = Browser::new(&site);
    dave.sign_up("dave", "").await.expect(200);
    let before = dave.get("/").await.expect(200);
    let before = who_to_follow(&before.body);
    assert!(before.contains(r#"href="/@carol""#), "{before}");
    assert!(before.contains(r#"href="/@erin""#), "{before}");

    dave.submit("/@carol/follow", &[("action", "follow")])
        .await
        .expect(200);
    for path in ["/", "/public"] {
        let page = dave.get(path).await.expect(200);
        let side = who_to_follow(&page.body);
        assert!(!side.contains("@carol"), "{path}: followed already: {side}");
        assert!(!side.contains("@dave"), "{path}: not yourself: {side}");
        assert!(side.contains(r#"href="/@erin""#), "{path}: {side}");
    }
    // Someone else still sees carol suggested.
    let erin = Browser::new(&site);
    erin.submit("/login", &[("username", "erin"), ("password", PASSWORD)])
        .await
        .expect(200);
    let page = erin.get("/").await.expect(200);
    assert!(who_to_follow(&page.body).contains(r#"href="/@carol""#));

    dave.submit("/@carol/follow", &[("action", "unfollow")])
        .await
        .expect(200);
    let page = dave.get("/").await.expect(200);
    assert!(
        who_to_follow(&page.body).contains(r#"href="/@carol""#),
        "unfollowed: suggested again"
    );
}

#[tokio::test]
async fn empty_pages_say_what_to_do_next() {
    let site = spawn().await;
    let erin = Browser::new(&site);
    erin.sign_up("erin", "").await.expect(200);
    let home = erin.get("/").await.expect(200);
    assert!(
        home.body
            .contains("Follow people to see their chirps here: try the <a href=\"/public\">public timeline</a> or <a href=\"#who-to-follow\">who to follow</a>"),
        "{}",
        home.body
    );
    assert!(home.body.contains(r#"id="who-to-follow""#));
    let own = erin.get("/@erin").await.expect(200);
    assert!(
        own.body
            .contains(r#"You have not chirped yet: <a href="/">write your first chirp</a>."#)
    );
    let fred = Browser::new(&site);
    fred.sign_up("fred", "").await.expect(200);
    let other = fred.get("/@erin").await.expect(200);
    assert!(
        other.body.contains("@erin has not chirped yet."),
        "{}",
        other.body
    );
    let notes = erin.get("/notifications").await.expect(200);
    assert!(
        notes
            .body
            .contains(r#"<a href="/public">find people to follow"#)
    );
    let messages = erin.get("/messages").await.expect(200);
    assert!(
        messages
            .body
            .contains(r#"<a href="/search">find people</a>"#)
    );
    let search = erin.get("/search?q=nothingmatches").await.expect(200);
    assert!(
        search
            .body
            .contains("No chirps match. Try fewer or other words, or a #hashtag.")
    );
}
