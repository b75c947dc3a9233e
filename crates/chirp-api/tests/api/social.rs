//! The social graph: follow, unfollow, followers, following, home timeline.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, both, ids};

/// `(followers_count, following_count)` of an account.
async fn counts(app: &TestApp, username: &str) -> (i64, i64) {
    let a = app.account(username).await;
    (
        a["followers_count"].as_i64().expect("followers_count"),
        a["following_count"].as_i64().expect("following_count"),
    )
}

async fn follow(app: &TestApp, token: &str, username: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/api/accounts/{username}/follow"),
        Some(token),
        json!({}),
    )
    .await
}

/// What `GET /api/accounts/{username}/follow` says for `token`.
async fn follow_status(app: &TestApp, token: &str, username: &str) -> serde_json::Value {
    app.get_as(token, &format!("/api/accounts/{username}/follow"))
        .await
        .expect(200)
        .body
}

async fn following_updates_both_accounts(app: TestApp) {
    let alice = app.user("alice").await;
    app.register("bob").await;
    assert_eq!(
        follow_status(&app, &alice, "bob").await,
        json!({"state": null})
    );
    let reply = follow(&app, &alice, "bob").await.expect(200);
    assert_eq!(reply.body, json!({"state": "following"}));
    assert_eq!(
        follow_status(&app, &alice, "Bob").await,
        json!({"state": "following"})
    );
    assert_eq!(counts(&app, "alice").await, (0, 1));
    assert_eq!(counts(&app, "bob").await, (1, 0));
    // Following again changes nothing.
    let again = follow(&app, &alice, "BOB").await.expect(200);
    assert_eq!(again.body, json!({"state": "following"}));
    assert_eq!(counts(&app, "alice").await, (0, 1));
    assert_eq!(counts(&app, "bob").await, (1, 0));
    // The follow needs no body at all.
    let req = app
        .request(Method::POST, "/api/accounts/bob/follow")
        .bearer_auth(&alice);
    assert_eq!(
        app.send(req).await.expect(200).body,
        json!({"state": "following"})
    );
    assert_eq!(counts(&app, "bob").await, (1, 0));
}

async fn nobody_follows_themselves(app: TestApp) {
    let alice = app.user("Alice").await;
    for name in ["Alice", "alice", "ALICE"] {
        let reply = follow(&app, &alice, name)
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "username");
    }
    assert_eq!(counts(&app, "alice").await, (0, 0));
    assert!(
        app.get("/api/accounts/alice/followers")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
}

async fn unfollowing_restores_the_counters(app: TestApp) {
    let alice = app.user("alice").await;
    app.register("bob").await;
    follow(&app, &alice, "bob").await.expect(200);
    let reply = app
        .delete("/api/accounts/bob/follow", &alice)
        .await
        .expect(204);
    assert!(reply.body.is_null());
    assert_eq!(
        follow_status(&app, &alice, "bob").await,
        json!({"state": null})
    );
    assert_eq!(counts(&app, "alice").await, (0, 0));
    assert_eq!(counts(&app, "bob").await, (0, 0));
    assert!(
        app.get("/api/accounts/bob/followers")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    // Unfollowing someone you do not follow is fine and changes nothing.
    app.delete("/api/accounts/bob/follow", &alice)
        .await
        .expect(204);
    assert_eq!(counts(&app, "alice").await, (0, 0));
    assert_eq!(counts(&app, "bob").await, (0, 0));
    // And following again counts again.
    follow(&app, &alice, "bob").await.expect(200);
    assert_eq!(counts(&app, "bob").await, (1, 0));
}

async fn unknown_accounts_cannot_be_followed(app: TestApp) {
    let alice = app.user("alice").await;
    for name in ["nobody", "a%20b", "%00"] {
        follow(&app, &alice, name)
            .await
            .expect_error(404, "not_found");
        app.delete(&format!("/api/accounts/{name}/follow"), &alice)
            .await
            .expect_error(404, "not_found");
        app.get_as(&alice, &format!("/api/accounts/{name}/follow"))
            .await
            .expect_error(404, "not_found");
    }
    assert_eq!(counts(&app, "alice").await, (0, 0));
}

async fn the_graph_needs_a_login(app: TestApp) {
    app.register("bob").await;
    app.call(Method::POST, "/api/accounts/bob/follow", None, None)
        .await
        .expect_error(401, "unauthorized");
    app.call(Method::DELETE, "/api/accounts/bob/follow", None, None)
        .await
        .expect_error(401, "unauthorized");
    app.get("/api/accounts/bob/follow")
        .await
        .expect_error(401, "unauthorized");
    app.get("/api/timelines/home")
        .await
        .expect_error(401, "unauthorized");
    app.get_as("not-a-token", "/api/timelines/home")
        .await
        .expect_error(401, "invalid_token");
    assert_eq!(counts(&app, "bob").await, (0, 0));
}

async fn followers_and_following_are_listed_most_recent_first(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    let id = |a: serde_json::Value| a["id"].as_i64().expect("id");
    let (a_id, b_id, c_id, d_id) = (
        id(app.account("alice").await),
        id(app.account("bob").await),
        id(app.account("carol").await),
        id(app.account("dave").await),
    );
    follow(&app, &bob, "alice").await.expect(200);
    follow(&app, &dave, "alice").await.expect(200);
    follow(&app, &carol, "alice").await.expect(200);
    follow(&app, &alice, "dave").await.expect(200);
    follow(&app, &alice, "bob").await.expect(200);

    let followers = app.get("/api/accounts/ALICE/followers").await.expect(200);
    assert_eq!(followers.ids(), [c_id, d_id, b_id]);
    assert!(followers.body["next_cursor"].is_null());
    // The items are whole accounts, counters included.
    assert_eq!(followers.items()[0], app.account("carol").await);
    assert_eq!(
        ids(&app.walk("/api/accounts/alice/followers", 2).await),
        [c_id, d_id, b_id]
    );
    assert_eq!(
        ids(&app.walk("/api/accounts/alice/followers", 1).await),
        [c_id, d_id, b_id]
    );
    assert_eq!(
        app.get("/api/accounts/alice/following")
            .await
            .expect(200)
            .ids(),
        [b_id, d_id]
    );
    assert_eq!(
        app.get("/api/accounts/dave/followers")
            .await
            .expect(200)
            .ids(),
        [a_id]
    );
    assert_eq!(
        app.get("/api/accounts/dave/following")
            .await
            .expect(200)
            .ids(),
        [a_id]
    );
    assert!(
        app.get("/api/accounts/carol/followers")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    assert_eq!(counts(&app, "alice").await, (3, 2));

    app.delete("/api/accounts/alice/follow", &dave)
        .await
        .expect(204);
    assert_eq!(
        app.get("/api/accounts/alice/followers")
            .await
            .expect(200)
            .ids(),
        [c_id, b_id]
    );
    app.get("/api/accounts/alice/followers?limit=101")
        .await
        .expect_error(422, "validation_failed");
    app.get("/api/accounts/alice/following?cursor=bad")
        .await
        .expect_error(422, "validation_failed");
}

async fn home_shows_own_and_followed_tweets_only(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let stranger = app.user("stranger").await;
    let a1 = app.tweet_id(&alice, "alice 1").await;
    let b1 = app.tweet_id(&bob, "bob 1").await;
    let s1 = app.tweet_id(&stranger, "stranger 1").await;
    // Before following: only your own.
    assert_eq!(
        app.get_as(&alice, "/api/timelines/home")
            .await
            .expect(200)
            .ids(),
        [a1]
    );
    follow(&app, &alice, "bob").await.expect(200);
    let b2 = app.tweet_id(&bob, "bob 2").await;
    let a2 = app.tweet_id(&alice, "alice 2").await;
    app.tweet_id(&stranger, "stranger 2").await;
    let home = app.get_as(&alice, "/api/timelines/home").await.expect(200);
    assert_eq!(home.ids(), [a2, b2, b1, a1]);
    assert_eq!(
        ids(&app.walk_as(&alice, "/api/timelines/home", 3).await),
        [a2, b2, b1, a1]
    );
    // Following is one-way: bob does not see alice.
    assert_eq!(
        app.get_as(&bob, "/api/timelines/home")
            .await
            .expect(200)
            .ids(),
        [b2, b1]
    );
    // The stranger's tweets are public all the same.
    assert!(app.get("/api/tweets").await.expect(200).ids().contains(&s1));
    app.delete("/api/accounts/bob/follow", &alice)
        .await
        .expect(204);
    assert_eq!(
        app.get_as(&alice, "/api/timelines/home")
            .await
            .expect(200)
            .ids(),
        [a2, a1]
    );
    app.get_as(&alice, "/api/timelines/home?limit=0")
        .await
        .expect_error(422, "validation_failed");
}

/// Everyone following everyone at once, then unfollowing at once: each
/// follow touches two accounts' rows, and two follows in opposite
/// directions must not deadlock (PostgreSQL used to fail one of them with
/// a 500 when a load test seeded its follow graph concurrently).
async fn crossing_follows_at_once_all_succeed(app: TestApp) {
    let names: Vec<String> = (0..6).map(|i| format!("cross{i}")).collect();
    let mut tokens = Vec::new();
    for name in &names {
        tokens.push(app.user(name).await);
    }
    let pairs: Vec<(usize, usize)> = (0..names.len())
        .flat_map(|a| {
            (0..names.len())
                .filter(move |&b| b != a)
                .map(move |b| (a, b))
        })
        .collect();
    let all = pairs
        .iter()
        .map(|&(a, b)| follow(&app, &tokens[a], &names[b]));
    for reply in futures_util::future::join_all(all).await {
        reply.expect(200);
    }
    for name in &names {
        assert_eq!(counts(&app, name).await, (5, 5), "{name}");
    }
    let all = pairs.iter().map(|&(a, b)| {
        app.request(
            Method::DELETE,
            &format!("/api/accounts/{}/follow", names[b]),
        )
        .bearer_auth(&tokens[a])
    });
    let sent = all.map(|req| app.send(req));
    for reply in futures_util::future::join_all(sent).await {
        reply.expect(204);
    }
    for name in &names {
        assert_eq!(counts(&app, name).await, (0, 0), "{name}");
    }
}

both!(
    crossing_follows_at_once_all_succeed,
    following_updates_both_accounts,
    nobody_follows_themselves,
    unfollowing_restores_the_counters,
    unknown_accounts_cannot_be_followed,
    the_graph_needs_a_login,
    followers_and_following_are_listed_most_recent_first,
    home_shows_own_and_followed_tweets_only,
);
