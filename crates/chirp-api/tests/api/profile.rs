//! Profiles: the logged-in account (`/api/me`) and user timelines.

use serde_json::json;

use crate::helpers::{TestApp, both, ids};

async fn me_needs_a_token(app: TestApp) {
    app.get("/api/me").await.expect_error(401, "unauthorized");
    app.call(
        reqwest::Method::PATCH,
        "/api/me",
        None,
        Some(json!({"bio": "x"})),
    )
    .await
    .expect_error(401, "unauthorized");
}

async fn me_shows_and_edits_the_own_profile(app: TestApp) {
    let token = app.user("alice").await;
    let me = app.get_as(&token, "/api/me").await.expect(200).body;
    assert_eq!(me, app.account("alice").await);

    let after = app
        .patch("/api/me", &token, json!({"display_name": "  Alice L.  "}))
        .await
        .expect(200)
        .body;
    assert_eq!(after["display_name"], "Alice L.");
    assert_eq!(after["bio"], "");
    let after = app
        .patch("/api/me", &token, json!({"bio": "Curious.\r\nVery."}))
        .await
        .expect(200)
        .body;
    assert_eq!(after["display_name"], "Alice L.", "an absent field stays");
    assert_eq!(after["bio"], "Curious.\nVery.");
    assert_eq!(after["id"], me["id"]);
    assert_eq!(app.account("alice").await, after);
    assert_eq!(app.get_as(&token, "/api/me").await.expect(200).body, after);

    // An empty display name is allowed (the username is shown instead).
    let cleared = app
        .patch("/api/me", &token, json!({"display_name": ""}))
        .await
        .expect(200)
        .body;
    assert_eq!(cleared["display_name"], "");
    // An empty patch changes nothing.
    assert_eq!(
        app.patch("/api/me", &token, json!({}))
            .await
            .expect(200)
            .body,
        cleared
    );
}

async fn bad_profile_edits_are_422_and_change_nothing(app: TestApp) {
    let token = app.user("alice").await;
    let before = app.account("alice").await;
    for (body, field) in [
        (json!({"bio": "b".repeat(161)}), Some("bio")),
        (
            json!({"display_name": "d".repeat(51)}),
            Some("display_name"),
        ),
        (json!({"display_name": "a\nb"}), Some("display_name")),
        (json!({"bio": "nul\u{0}"}), Some("bio")),
        (json!({"nickname": "al"}), None),
        (json!({"bio": 5}), None),
    ] {
        let reply = app
            .patch("/api/me", &token, body.clone())
            .await
            .expect_error(422, "validation_failed");
        if let Some(field) = field {
            assert_eq!(reply.body["error"]["field"], field, "for {body}");
        }
    }
    assert_eq!(app.account("alice").await, before);
}

async fn user_timeline_shows_only_that_users_tweets(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let a1 = app.tweet_id(&alice, "alice one").await;
    let b1 = app.tweet_id(&bob, "bob one").await;
    let a2 = app.tweet_id(&alice, "alice two").await;
    let a3 = app.tweet_id(&alice, "alice three").await;
    let list = app.get("/api/accounts/ALICE/tweets").await.expect(200);
    assert_eq!(list.ids(), [a3, a2, a1]);
    assert!(
        list.items()
            .iter()
            .all(|t| t["author"]["username"] == "alice")
    );
    assert_eq!(
        app.get("/api/accounts/bob/tweets").await.expect(200).ids(),
        [b1]
    );
    assert_eq!(
        ids(&app.walk("/api/accounts/alice/tweets", 2).await),
        [a3, a2, a1]
    );
    app.get("/api/accounts/carol/tweets")
        .await
        .expect_error(404, "not_found");
    app.get("/api/accounts/alice/tweets?limit=0")
        .await
        .expect_error(422, "validation_failed");
    app.register("carol").await;
    let empty = app.get("/api/accounts/carol/tweets").await.expect(200);
    assert!(empty.items().is_empty());
    assert!(empty.body["next_cursor"].is_null());
}

both!(
    me_needs_a_token,
    me_shows_and_edits_the_own_profile,
    bad_profile_edits_are_422_and_change_nothing,
    user_timeline_shows_only_that_users_tweets,
);
