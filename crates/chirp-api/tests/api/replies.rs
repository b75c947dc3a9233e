//! Conversations: replies and reply counts.

use serde_json::json;

use crate::helpers::{TestApp, both, ids};

async fn reply_count(app: &TestApp, id: i64) -> i64 {
    app.get(&format!("/api/tweets/{id}")).await.expect(200).body["reply_count"]
        .as_i64()
        .expect("reply_count")
}

async fn replies_are_counted_and_listed(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let parent = app.tweet_id(&alice, "what do you think?").await;
    let other = app.tweet_id(&alice, "unrelated").await;
    let reply = app
        .post(
            "/api/tweets",
            Some(&bob),
            json!({"text": "great idea", "reply_to": parent}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(reply["reply_to"], parent);
    assert_eq!(reply["reply_count"], 0);
    let r1 = reply["id"].as_i64().expect("id");
    let r2 = app
        .tweet_with(&alice, json!({"text": "thanks!", "reply_to": parent}))
        .await;
    let nested = app
        .tweet_with(&bob, json!({"text": "you're welcome", "reply_to": r2}))
        .await;
    assert_eq!(reply_count(&app, parent).await, 2);
    assert_eq!(reply_count(&app, r2).await, 1);
    assert_eq!(reply_count(&app, other).await, 0);
    let list = app
        .get(&format!("/api/tweets/{parent}/replies"))
        .await
        .expect(200);
    assert_eq!(list.ids(), [r2, r1]);
    assert!(list.items().iter().all(|t| t["reply_to"] == parent));
    assert!(list.body["next_cursor"].is_null());
    assert_eq!(
        app.get(&format!("/api/tweets/{r2}/replies"))
            .await
            .expect(200)
            .ids(),
        [nested]
    );
    assert!(
        app.get(&format!("/api/tweets/{other}/replies"))
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    // Replies are tweets: they appear in the public timeline too.
    assert_eq!(
        app.get("/api/tweets").await.expect(200).ids(),
        [nested, r2, r1, other, parent]
    );
}

async fn deleting_a_reply_decrements_the_count(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let parent = app.tweet_id(&alice, "parent").await;
    let r1 = app
        .tweet_with(&bob, json!({"text": "one", "reply_to": parent}))
        .await;
    let r2 = app
        .tweet_with(&bob, json!({"text": "two", "reply_to": parent}))
        .await;
    assert_eq!(reply_count(&app, parent).await, 2);
    app.delete(&format!("/api/tweets/{r1}"), &bob)
        .await
        .expect(204);
    assert_eq!(reply_count(&app, parent).await, 1);
    assert_eq!(
        app.get(&format!("/api/tweets/{parent}/replies"))
            .await
            .expect(200)
            .ids(),
        [r2]
    );
    app.delete(&format!("/api/tweets/{r2}"), &bob)
        .await
        .expect(204);
    assert_eq!(reply_count(&app, parent).await, 0);
    assert!(
        app.get(&format!("/api/tweets/{parent}/replies"))
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    assert_eq!(app.account("bob").await["tweets_count"], 0);
}

async fn replies_outlive_their_parent(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let parent = app.tweet_id(&alice, "parent").await;
    let reply = app
        .tweet_with(&bob, json!({"text": "reply", "reply_to": parent}))
        .await;
    app.delete(&format!("/api/tweets/{parent}"), &alice)
        .await
        .expect(204);
    let shown = app
        .get(&format!("/api/tweets/{reply}"))
        .await
        .expect(200)
        .body;
    assert_eq!(shown["text"], "reply");
    assert!(
        shown["reply_to"].is_null(),
        "points at a deleted tweet: {shown}"
    );
    app.get(&format!("/api/tweets/{parent}/replies"))
        .await
        .expect_error(404, "not_found");
    // The reply can still be deleted, and nothing breaks.
    app.delete(&format!("/api/tweets/{reply}"), &bob)
        .await
        .expect(204);
    assert_eq!(app.account("bob").await["tweets_count"], 0);
}

async fn replies_to_missing_tweets_are_refused(app: TestApp) {
    let alice = app.user("alice").await;
    let id = app.tweet_id(&alice, "exists").await;
    for missing in [id + 1, 0, -5, i64::MAX] {
        let reply = app
            .post(
                "/api/tweets",
                Some(&alice),
                json!({"text": "hello?", "reply_to": missing}),
            )
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "reply_to");
        app.get(&format!("/api/tweets/{missing}/replies"))
            .await
            .expect_error(404, "not_found");
    }
    // Nothing was half-written.
    assert_eq!(app.get("/api/tweets").await.expect(200).ids(), [id]);
    assert_eq!(app.account("alice").await["tweets_count"], 1);
    app.get("/api/tweets/abc/replies")
        .await
        .expect_error(400, "bad_request");
}

async fn replies_are_paged(app: TestApp) {
    let alice = app.user("alice").await;
    let parent = app.tweet_id(&alice, "parent").await;
    let mut replies = Vec::new();
    for i in 0..5 {
        replies.push(
            app.tweet_with(
                &alice,
                json!({"text": format!("reply {i}"), "reply_to": parent}),
            )
            .await,
        );
    }
    replies.reverse();
    let path = format!("/api/tweets/{parent}/replies");
    assert_eq!(ids(&app.walk(&path, 2).await), replies);
    app.get(&format!("{path}?limit=0"))
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(reply_count(&app, parent).await, 5);
}

both!(
    replies_are_counted_and_listed,
    deleting_a_reply_decrements_the_count,
    replies_outlive_their_parent,
    replies_to_missing_tweets_are_refused,
    replies_are_paged,
);
