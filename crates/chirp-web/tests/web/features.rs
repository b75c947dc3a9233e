//! The features behind the forms: follow, edit, delete, settings, search,
//! categories and the in-place like, each checked against what the API
//! then says.

use crate::helpers::{Browser, api_get, escaped, newest_tweet_id, spawn, spawn_with_dead_api};

#[tokio::test]
async fn follow_and_unfollow_from_the_profile() {
    let site = spawn().await;
    let alice = Browser::new(&site);
    alice.sign_up("alice", "Alice").await.expect(200);
    alice
        .post_tweet("only followers see me at home")
        .await
        .expect(200);
    let bob = Browser::new(&site);
    bob.sign_up("bob", "").await.expect(200);

    let before = bob.get("/@alice").await.expect(200);
    assert!(
        before
            .body
            .contains(r#"<input type="hidden" name="action" value="follow">"#)
    );
    assert!(!bob.get("/").await.body.contains("only followers see me"));

    let after = bob
        .submit("/@alice/follow", &[("action", "follow")])
        .await
        .expect(200);
    assert!(after.body.contains(">Unfollow</button>"), "{}", after.body);
    assert_eq!(
        api_get(&site.base, "/api/accounts/alice").await["followers_count"],
        1
    );
    assert!(bob.get("/").await.body.contains("only followers see me"));
    let followers = bob.get("/@alice/followers").await.expect(200);
    assert!(followers.body.contains(r#"href="/@bob""#));
    let following = bob.get("/@bob/following").await.expect(200);
    assert!(following.body.contains(r#"href="/@alice""#));

    bob.submit("/@alice/follow", &[("action", "unfollow")])
        .await
        .expect(200);
    assert_eq!(
        api_get(&site.base, "/api/accounts/alice").await["followers_count"],
        0
    );
    assert!(
        bob.get("/@alice/followers")
            .await
            .body
            .contains("Nobody follows @alice yet.")
    );

    // No button on your own profile, nor for visitors; odd input is refused.
    let own = alice.get("/@alice").await.expect(200);
    assert!(!own.body.contains(r#"name="action""#) && own.body.contains("Edit profile"));
    assert!(
        !Browser::new(&site)
            .get("/@alice")
            .await
            .body
            .contains(r#"name="action""#)
    );
    bob.submit("/@alice/follow", &[("action", "explode")])
        .await
        .expect(422);
    bob.submit("/@bob/follow", &[("action", "follow")])
        .await
        .expect(422);
    bob.submit("/@nobody/follow", &[("action", "follow")])
        .await
        .expect(404);
}

#[tokio::test]
async fn authors_edit_and_delete_their_tweets_and_nobody_else_can() {
    let site = spawn().await;
    let alice = Browser::new(&site);
    alice.sign_up("alice", "").await.expect(200);
    alice.post_tweet("first draft").await.expect(200);
    let id = newest_tweet_id(&site.base).await;
    let home = alice.get("/").await.expect(200);
    assert!(home.body.contains(&format!(r#"href="/tweets/{id}/edit""#)));

    let form = alice.get(&format!("/tweets/{id}/edit")).await.expect(200);
    assert!(form.body.contains(">first draft</textarea>"));
    let shown = alice
        .submit(
            &format!("/tweets/{id}/edit"),
            &[("text", "second <b>draft</b>")],
        )
        .await
        .expect(200);
    assert!(shown.body.contains(&escaped("second <b>draft</b>")));
    assert!(shown.body.contains(r#"class="edited""#));
    let tweet = api_get(&site.base, &format!("/api/tweets/{id}")).await;
    assert_eq!(tweet["text"], "second <b>draft</b>");

    // A bad edit says why and keeps the text.
    let long = "y".repeat(281);
    let failed = alice
        .submit(&format!("/tweets/{id}/edit"), &[("text", &long)])
        .await
        .expect(422);
    assert!(failed.body.contains("at most 280 characters") && failed.body.contains(&long));

    // Someone else sees no links, and is refused by the pages and the forms.
    let bob = Browser::new(&site);
    bob.sign_up("bob", "").await.expect(200);
    let seen = bob.get(&format!("/tweets/{id}")).await.expect(200);
    assert!(!seen.body.contains(&format!("/tweets/{id}/edit")));
    bob.get(&format!("/tweets/{id}/edit")).await.expect(403);
    bob.get(&format!("/tweets/{id}/delete")).await.expect(403);
    bob.submit(&format!("/tweets/{id}/edit"), &[("text", "hijacked")])
        .await
        .expect(403);
    bob.submit(&format!("/tweets/{id}/delete"), &[])
        .await
        .expect(403);
    let tweet = api_get(&site.base, &format!("/api/tweets/{id}")).await;
    assert_eq!(tweet["text"], "second <b>draft</b>");

    let confirm = alice.get(&format!("/tweets/{id}/delete")).await.expect(200);
    assert!(confirm.body.contains("Delete this chirp?"));
    let after = alice
        .submit(&format!("/tweets/{id}/delete"), &[])
        .await
        .expect(200);
    assert!(!after.body.contains("second"));
    alice.get(&format!("/tweets/{id}")).await.expect(404);
    alice
        .submit(&format!("/tweets/{id}/delete"), &[])
        .await
        .expect(404);
}

#[tokio::test]
async fn settings_change_the_profile_and_escape_it() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("carol", "Carol").await.expect(200);
    let form = b.get("/settings").await.expect(200);
    assert!(form.body.contains(r#"value="Carol""#));
    let saved = b
        .submit(
            "/settings",
            &[
                ("display_name", "<script>x</script>"),
                ("bio", "I \"like\" <i>tea</i>"),
            ],
        )
        .await
        .expect(200);
    assert!(saved.body.contains("Saved."));
    let profile = b.get("/@carol").await.expect(200);
    assert!(profile.body.contains(&escaped("<script>x</script>")));
    assert!(profile.body.contains(&escaped(r#"I "like" <i>tea</i>"#)));
    assert!(!profile.body.contains("<script>x"));
    let account = api_get(&site.base, "/api/accounts/carol").await;
    assert_eq!(account["bio"], "I \"like\" <i>tea</i>");

    let too_long = "z".repeat(51);
    let failed = b
        .submit("/settings", &[("display_name", &too_long), ("bio", "kept")])
        .await
        .expect(422);
    assert!(failed.body.contains(&too_long) && failed.body.contains(">kept</textarea>"));
    assert_eq!(
        api_get(&site.base, "/api/accounts/carol").await["bio"],
        "I \"like\" <i>tea</i>"
    );
}

#[tokio::test]
async fn search_finds_tweets_people_and_hashtags() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("dora_explorer", "Dora").await.expect(200);
    b.post_tweet("maps and #mapping tips").await.expect(200);
    b.post_tweet("nothing to see").await.expect(200);

    let found = b.get("/search?q=maps").await.expect(200);
    let tweets = section(&found.body, "search-tweets");
    assert!(tweets.contains("maps and") && !tweets.contains("nothing to see"));
    let people = b.get("/search?q=dora").await.expect(200);
    assert!(section(&people.body, "search-accounts").contains(r#"href="/@dora_explorer""#));
    let tags = b.get("/search?q=%23map").await.expect(200);
    assert!(section(&tags.body, "search-hashtags").contains(r#"href="/tags/mapping""#));
    // The empty search shows popular hashtags; the box keeps the query.
    let empty = b.get("/search").await.expect(200);
    assert!(empty.body.contains(r#"href="/tags/mapping""#));
    assert!(found.body.contains(r#"value="maps""#));
    // Hostile and odd queries are escaped or refused with a message.
    let hostile = b.get("/search?q=%3Cscript%3E").await.expect(200);
    assert!(hostile.body.contains(&escaped("<script>")) && !hostile.body.contains("<script>alert"));
    let long = "q".repeat(201);
    let refused = b.get(&format!("/search?q={long}")).await.expect(422);
    assert!(refused.body.contains("at most 200 characters"));
}

/// The HTML of `<section id="{id}">`, so a test checks the right list.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!(r#"<section id="{id}">"#))
        .unwrap_or_else(|| panic!("no section {id} in {body}"));
    let rest = &body[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn categories_are_created_browsed_and_posted_into() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("erin", "").await.expect(200);
    let list = b.get("/c").await.expect(200);
    assert!(list.body.contains("No categories yet."));
    let page = b
        .submit(
            "/c",
            &[
                ("slug", "rust-lang"),
                ("name", "Rust <3"),
                ("description", "all things"),
            ],
        )
        .await
        .expect(200);
    assert!(page.body.contains(&escaped("Rust <3")) && page.body.contains("all things"));
    assert!(page.body.contains(r#"name="category" value="rust-lang""#));
    let posted = b
        .submit(
            "/tweets",
            &[("text", "in the category"), ("category", "rust-lang")],
        )
        .await
        .expect(200);
    assert!(posted.body.contains("in the category"));
    let tweet = api_get(&site.base, "/api/tweets?category=rust-lang").await;
    assert_eq!(tweet["items"][0]["text"], "in the category");
    assert!(!b.get("/").await.body.contains(r#"name="category""#));

    let taken = b
        .submit("/c", &[("slug", "rust-lang"), ("name", "Again")])
        .await
        .expect(409);
    assert!(taken.body.contains(r#"value="Again""#));
    b.submit("/c", &[("slug", "Bad Slug!"), ("name", "x")])
        .await
        .expect(422);
}

#[tokio::test]
async fn the_like_form_answers_json_to_the_script() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("fay", "").await.expect(200);
    b.post_tweet("like me twice").await.expect(200);
    let id = newest_tweet_id(&site.base).await;
    let csrf = b.csrf().await;
    for expected in [1, 2] {
        let resp = like_as_script(&site.base, id, &csrf).await;
        assert_eq!(resp.status().as_u16(), 200);
        let body: serde_json::Value = resp.json().await.expect("JSON");
        assert_eq!(body["like_count"], expected);
        assert_eq!(body["tweet_id"], id);
    }
    let missing = like_as_script(&site.base, 999_999, &csrf).await;
    assert_eq!(missing.status().as_u16(), 404);
    let body: serde_json::Value = missing.json().await.expect("JSON");
    assert_eq!(
        body["error"]["message"], "chirp not found",
        "the site's word"
    );
    let script = b.get("/static/chirp.js").await.expect(200);
    assert!(script.header("content-type").starts_with("text/javascript"));
}

/// What chirp.js sends for a like: the form's fields, asking for JSON.
async fn like_as_script(base: &str, id: i64, csrf: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/tweets/{id}/like"))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("chirp_csrf={csrf}"))
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .expect("like")
}

#[tokio::test]
async fn a_page_shown_after_a_failed_post_sends_its_buttons_back_to_itself() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("gil", "").await.expect(200);
    b.post_tweet("a chirp to like").await.expect(200);
    let id = newest_tweet_id(&site.base).await;
    let long = "z".repeat(281);
    // Re-shown home after a failed post: the like form comes back to `/`.
    let home = b.post_tweet(&long).await.expect(422);
    assert!(
        home.body.contains(r#"name="next" value="/""#),
        "{}",
        home.body
    );
    assert!(!home.body.contains(r#"name="next" value="/tweets""#));
    // Re-shown tweet page after a failed reply: back to the tweet.
    let page = b
        .submit(&format!("/tweets/{id}/reply"), &[("text", &long)])
        .await
        .expect(422);
    assert!(
        page.body
            .contains(&format!(r#"name="next" value="/tweets/{id}""#))
    );
    assert!(!page.body.contains("Replying to a chirp"));
}

#[tokio::test]
async fn when_the_api_is_down_signed_in_people_are_told_so_not_logged_out() {
    let site = spawn_with_dead_api().await;
    let b = Browser::new(&site);
    b.put_cookie("chirp_session", "a-session-the-api-cannot-check");
    let page = b.get("/settings").await.expect(502);
    assert!(page.body.contains("try again"), "{}", page.body);
    let posted = b.submit("/tweets", &[("text", "kept?")]).await.expect(502);
    assert!(posted.body.contains("try again"));
    assert!(b.cookie("chirp_session").is_some(), "still logged in");
}

#[tokio::test]
async fn logging_in_goes_back_to_the_page_that_asked() {
    let site = spawn().await;
    Browser::new(&site).sign_up("hana", "").await.expect(200);
    let b = Browser::new(&site);
    let away = b.get("/settings").await.expect(303);
    let login_url = away.header("location").to_owned();
    assert_eq!(login_url, "/login?next=%2Fsettings");
    let form = b.get(&login_url).await.expect(200);
    assert!(form.body.contains(r#"name="next" value="/settings""#));
    let page = b
        .submit(
            "/login",
            &[
                ("username", "hana"),
                ("password", crate::helpers::PASSWORD),
                ("next", "/settings"),
            ],
        )
        .await
        .expect(200);
    assert!(page.body.contains("Your profile"), "{}", page.body);
    // Only paths on this site: anything else goes home.
    let c = Browser::new(&site);
    let home = c
        .submit(
            "/login",
            &[
                ("username", "hana"),
                ("password", crate::helpers::PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await
        .expect(200);
    assert!(home.body.contains("<h1>Home</h1>"), "{}", home.body);
}
