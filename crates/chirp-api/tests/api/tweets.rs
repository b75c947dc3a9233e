//! Tweets: post, show, list, edit, delete.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, both, ids, newest_first};

fn is_rfc3339(v: &serde_json::Value) -> bool {
    v.as_str()
        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
}

async fn posting_needs_a_login(app: TestApp) {
    app.post("/api/tweets", None, json!({"text": "hello"}))
        .await
        .expect_error(401, "unauthorized");
    assert!(app.get("/api/tweets").await.expect(200).items().is_empty());
}

async fn a_posted_tweet_is_returned_and_shown(app: TestApp) {
    let token = app.user("alice").await;
    app.patch("/api/me", &token, json!({"display_name": "Alice"}))
        .await
        .expect(200);
    let account = app.account("alice").await;
    let reply = app
        .post("/api/tweets", Some(&token), json!({"text": "Hello #World"}))
        .await
        .expect(201);
    let t = &reply.body;
    let id = t["id"].as_i64().expect("id");
    assert_eq!(
        reply.headers["location"],
        format!("/api/tweets/{id}").as_str()
    );
    assert_eq!(
        t["author"],
        json!({"id": account["id"], "username": "alice", "display_name": "Alice", "protected": false})
    );
    assert_eq!(t["text"], "Hello #World");
    assert_eq!(t["hashtags"], json!(["world"]));
    assert_eq!(t["like_count"], 0);
    assert_eq!(t["reply_count"], 0);
    assert!(t["reply_to"].is_null());
    assert!(t["category"].is_null());
    assert!(is_rfc3339(&t["created_at"]), "{t}");
    assert!(t["edited_at"].is_null());
    assert_eq!(
        app.get(&format!("/api/tweets/{id}")).await.expect(200).body,
        *t
    );
    assert_eq!(app.account("alice").await["tweets_count"], 1);
}

async fn text_is_trimmed_and_newlines_normalized(app: TestApp) {
    let token = app.user("alice").await;
    let t = app
        .tweet(&token, "  line one\r\nline two\rthree\tend  ")
        .await;
    assert_eq!(t["text"], "line one\nline two\nthree\tend");
}

async fn the_limit_is_280_characters_not_bytes(app: TestApp) {
    let token = app.user("alice").await;
    for unit in ["字", "🐦", "a", "é"] {
        let ok = unit.repeat(280);
        let t = app.tweet(&token, &ok).await;
        assert_eq!(t["text"], ok.as_str(), "text changed on the way");
        let reply = app
            .post(
                "/api/tweets",
                Some(&token),
                json!({"text": unit.repeat(281)}),
            )
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "text");
    }
    assert_eq!(app.account("alice").await["tweets_count"], 4);
}

async fn empty_and_control_text_is_422(app: TestApp) {
    let token = app.user("alice").await;
    for text in [
        "",
        "   ",
        "\n\t \r\n",
        "a\u{0}b",
        "\u{0}",
        "bell\u{7}",
        "esc\u{1b}[31m",
        "c1\u{85}x",
    ] {
        let reply = app
            .post("/api/tweets", Some(&token), json!({"text": text}))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "text", "for {text:?}");
    }
    assert!(app.get("/api/tweets").await.expect(200).items().is_empty());
    assert_eq!(app.account("alice").await["tweets_count"], 0);
}

async fn unknown_tweets_are_404_and_bad_ids_400(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "exists").await;
    for missing in [id + 1, 0, -1, i64::MAX, i64::MIN] {
        app.get(&format!("/api/tweets/{missing}"))
            .await
            .expect_error(404, "not_found");
    }
    for bad in ["abc", "1.5", "99999999999999999999", "1e3", "%00", "0x10"] {
        app.get(&format!("/api/tweets/{bad}"))
            .await
            .expect_error(400, "bad_request");
    }
}

async fn tweets_are_listed_newest_first_and_paged(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut posted = Vec::new();
    for i in 0..9 {
        let token = if i % 2 == 0 { &alice } else { &bob };
        posted.push(app.tweet_id(token, &format!("tweet number {i}")).await);
    }
    posted.reverse();
    let first = app.get("/api/tweets").await.expect(200);
    assert_eq!(first.ids(), posted);
    assert!(first.body["next_cursor"].is_null());
    for limit in [1, 2, 4, 9] {
        let all = ids(&app.walk("/api/tweets", limit).await);
        assert_eq!(all, posted, "limit {limit}");
    }
    let page = app.get("/api/tweets?limit=4").await.expect(200);
    assert_eq!(page.ids(), posted[..4]);
    assert!(page.body["next_cursor"].is_string());
    for bad in ["limit=0", "limit=101", "limit=abc", "cursor=nope"] {
        app.get(&format!("/api/tweets?{bad}"))
            .await
            .expect_error(422, "validation_failed");
    }
    // Twenty by default.
    for i in 0..12 {
        app.tweet_id(&alice, &format!("more {i}")).await;
    }
    let default = app.get("/api/tweets").await.expect(200);
    assert_eq!(default.items().len(), 20);
    assert!(newest_first(&default.ids()));
    assert!(default.body["next_cursor"].is_string());
}

async fn hashtags_are_lowercased_and_deduplicated(app: TestApp) {
    let token = app.user("alice").await;
    let t = app
        .tweet(
            &token,
            "#Rust and #rust and #RUST, then #Tokio! #東京 #Ünïcode_1",
        )
        .await;
    assert_eq!(t["hashtags"], json!(["rust", "tokio", "東京", "ünïcode_1"]));
    let id = t["id"].as_i64().expect("id");
    assert_eq!(
        app.get(&format!("/api/tweets/{id}")).await.expect(200).body["hashtags"],
        t["hashtags"]
    );
    let none = app.tweet(&token, "C# and issue#12 and # alone").await;
    assert_eq!(none["hashtags"], json!([]));
}

async fn the_author_can_edit(app: TestApp) {
    let token = app.user("alice").await;
    let t = app.tweet(&token, "first draft #old").await;
    let id = t["id"].as_i64().expect("id");
    let path = format!("/api/tweets/{id}");
    let edited = app
        .patch(&path, &token, json!({"text": "  final text #New #new  "}))
        .await
        .expect(200)
        .body;
    assert_eq!(edited["id"], id);
    assert_eq!(edited["text"], "final text #New #new");
    assert_eq!(edited["hashtags"], json!(["new"]));
    assert_eq!(edited["created_at"], t["created_at"]);
    assert!(is_rfc3339(&edited["edited_at"]), "{edited}");
    let created = chrono::DateTime::parse_from_rfc3339(t["created_at"].as_str().expect("created"))
        .expect("created_at");
    let edited_at =
        chrono::DateTime::parse_from_rfc3339(edited["edited_at"].as_str().expect("edited"))
            .expect("edited_at");
    assert!(edited_at >= created);
    assert_eq!(app.get(&path).await.expect(200).body, edited);
    assert!(
        app.get("/api/tweets?hashtag=old")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    assert_eq!(
        app.get("/api/tweets?hashtag=new").await.expect(200).ids(),
        [id]
    );
    // Editing does not add a tweet.
    assert_eq!(app.account("alice").await["tweets_count"], 1);
}

async fn edits_are_checked_like_new_tweets(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "original").await;
    let path = format!("/api/tweets/{id}");
    for text in ["", "  ", "a\u{0}b"] {
        let reply = app
            .patch(&path, &token, json!({"text": text}))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "text");
    }
    app.patch(&path, &token, json!({"text": "x".repeat(281)}))
        .await
        .expect_error(422, "validation_failed");
    app.call(Method::PATCH, &path, None, Some(json!({"text": "anon"})))
        .await
        .expect_error(401, "unauthorized");
    app.patch(
        &format!("/api/tweets/{}", id + 1),
        &token,
        json!({"text": "ghost"}),
    )
    .await
    .expect_error(404, "not_found");
    let t = app.get(&path).await.expect(200).body;
    assert_eq!(t["text"], "original");
    assert!(t["edited_at"].is_null());
}

async fn only_the_author_may_edit_or_delete(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let id = app.tweet_id(&alice, "mine").await;
    let path = format!("/api/tweets/{id}");
    app.patch(&path, &bob, json!({"text": "yours now"}))
        .await
        .expect_error(403, "forbidden");
    app.delete(&path, &bob).await.expect_error(403, "forbidden");
    let t = app.get(&path).await.expect(200).body;
    assert_eq!(t["text"], "mine");
    assert!(t["edited_at"].is_null());
    assert_eq!(app.account("alice").await["tweets_count"], 1);
}

async fn a_deleted_tweet_is_gone_everywhere(app: TestApp) {
    let alice = app.user("alice").await;
    let keep = app.tweet_id(&alice, "keep this #topic").await;
    let gone = app
        .tweet_id(&alice, "delete this unicorn #topic #doomed")
        .await;
    assert_eq!(app.account("alice").await["tweets_count"], 2);
    let path = format!("/api/tweets/{gone}");
    let reply = app.delete(&path, &alice).await.expect(204);
    assert!(reply.body.is_null());
    app.get(&path).await.expect_error(404, "not_found");
    app.delete(&path, &alice)
        .await
        .expect_error(404, "not_found");
    app.patch(&path, &alice, json!({"text": "revived"}))
        .await
        .expect_error(404, "not_found");
    assert_eq!(app.get("/api/tweets").await.expect(200).ids(), [keep]);
    assert_eq!(
        app.get("/api/accounts/alice/tweets")
            .await
            .expect(200)
            .ids(),
        [keep]
    );
    assert!(
        app.get("/api/tweets?q=unicorn")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    assert!(
        app.get("/api/tweets?hashtag=doomed")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    assert_eq!(
        app.get("/api/tweets?hashtag=topic").await.expect(200).ids(),
        [keep]
    );
    let tags = app.get("/api/hashtags").await.expect(200);
    assert_eq!(
        tags.body["items"],
        json!([{"tag": "topic", "tweet_count": 1}])
    );
    assert_eq!(app.account("alice").await["tweets_count"], 1);
    app.call(Method::DELETE, &format!("/api/tweets/{keep}"), None, None)
        .await
        .expect_error(401, "unauthorized");
}

both!(
    posting_needs_a_login,
    a_posted_tweet_is_returned_and_shown,
    text_is_trimmed_and_newlines_normalized,
    the_limit_is_280_characters_not_bytes,
    empty_and_control_text_is_422,
    unknown_tweets_are_404_and_bad_ids_400,
    tweets_are_listed_newest_first_and_paged,
    hashtags_are_lowercased_and_deduplicated,
    the_author_can_edit,
    edits_are_checked_like_new_tweets,
    only_the_author_may_edit_or_delete,
    a_deleted_tweet_is_gone_everywhere,
);
