//! Protected accounts (issue 10): who sees a protected account's tweets on
//! every read route, the follow-request flow, and the read cache.
//!
//! The visibility matrix is data: [`VIEWERS`] says, per viewer, whether it
//! may see the protected account's tweets, and [`routes`] lists every read
//! route with the protected item it must show or hide and the public
//! control it must always show. Adding a route is one line there.

use std::collections::HashMap;

use chirp_store::HealthStore;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, both};

/// Who reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Viewer {
    Anonymous,
    /// Logged in, no relation to the protected account.
    Stranger,
    /// Asked to follow; the request is pending.
    Requester,
    /// Asked to follow; the request was turned down.
    Rejected,
    /// Asked to follow; the request was approved.
    Follower,
    /// The protected account itself.
    Author,
}

/// Each viewer, and whether it may see the protected account's tweets.
const VIEWERS: [(Viewer, bool); 6] = [
    (Viewer::Anonymous, false),
    (Viewer::Stranger, false),
    (Viewer::Requester, false),
    (Viewer::Rejected, false),
    (Viewer::Follower, true),
    (Viewer::Author, true),
];

/// What a read route must answer.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// One tweet: 200 with this id when the viewer may see it, 404 when not.
    One(i64),
    /// The same, for a public tweet: 200 for everyone.
    Public(i64),
    /// A list: holds `secret` exactly when the viewer may see it, and
    /// `control` (a public tweet) always.
    List {
        secret: Option<i64>,
        control: Option<i64>,
    },
    /// A list under a protected tweet: 404 to whoever may not see the
    /// tweet, else a list holding `secret`.
    ListOr404 { secret: i64 },
}

/// A read route of the matrix.
struct Route {
    path: String,
    shape: Shape,
    /// Needs a login (anonymous gets 401).
    login: bool,
}

fn one(path: String, shape: Shape) -> Route {
    Route {
        path,
        shape,
        login: false,
    }
}

fn list(path: String, secret: Option<i64>, control: Option<i64>) -> Route {
    one(path, Shape::List { secret, control })
}

/// The protected account's tweets, their replies and the public controls.
struct Scene {
    tokens: HashMap<Viewer, String>,
    /// Public author's token.
    public_author: String,
    /// The protected account's tweet (#shared, "zebra", category `zoo`).
    secret: i64,
    /// The protected account's reply to its own tweet.
    secret_self_reply: i64,
    /// The protected account's reply to the public tweet.
    secret_reply: i64,
    /// The public account's tweet, with the same tag, word and category.
    public: i64,
    /// The public account's reply to its own tweet.
    public_reply: i64,
}

impl Scene {
    fn token(&self, viewer: Viewer) -> Option<&str> {
        self.tokens.get(&viewer).map(String::as_str)
    }
}

/// Every read route of tweets, each with what it must show; one line a route.
fn routes(s: &Scene) -> Vec<Route> {
    let (secret, public) = (s.secret, s.public);
    vec![
        one(format!("/api/tweets/{secret}"), Shape::One(secret)),
        one(format!("/api/tweets/{public}"), Shape::Public(public)),
        one(
            format!("/api/tweets/{secret}/replies?limit=100"),
            Shape::ListOr404 {
                secret: s.secret_self_reply,
            },
        ),
        list(
            format!("/api/tweets/{public}/replies?limit=100"),
            Some(s.secret_reply),
            Some(s.public_reply),
        ),
        list(
            "/api/accounts/prot/tweets?limit=100".into(),
            Some(secret),
            None,
        ),
        list(
            "/api/accounts/pub/tweets?limit=100".into(),
            None,
            Some(public),
        ),
        list(
            "/api/tweets?author=prot&limit=100".into(),
            Some(secret),
            None,
        ),
        list(
            "/api/tweets?author=pub&limit=100".into(),
            None,
            Some(public),
        ),
        list("/api/tweets?limit=100".into(), Some(secret), Some(public)),
        list(
            "/api/tweets?q=zebra&limit=100".into(),
            Some(secret),
            Some(public),
        ),
        list(
            "/api/tweets?hashtag=shared&limit=100".into(),
            Some(secret),
            Some(public),
        ),
        list(
            "/api/tweets?category=zoo&limit=100".into(),
            Some(secret),
            Some(public),
        ),
        list(
            "/api/tweets?q=zebra&hashtag=shared&category=zoo&limit=100".into(),
            Some(secret),
            Some(public),
        ),
        Route {
            login: true,
            ..list(
                "/api/timelines/home?limit=100".into(),
                Some(secret),
                Some(public),
            )
        },
    ]
}

async fn follow(app: &TestApp, token: &str, username: &str) -> Reply {
    app.post(
        &format!("/api/accounts/{username}/follow"),
        Some(token),
        json!({}),
    )
    .await
}

async fn protect(app: &TestApp, token: &str, on: bool) -> Value {
    let me = app
        .patch("/api/me", token, json!({"protected": on}))
        .await
        .expect(200)
        .body;
    assert_eq!(me["protected"], on);
    me
}

async fn accept(app: &TestApp, token: &str, username: &str) -> Reply {
    app.post(
        &format!("/api/follow-requests/{username}/accept"),
        Some(token),
        json!({}),
    )
    .await
}

async fn reject(app: &TestApp, token: &str, username: &str) -> Reply {
    app.post(
        &format!("/api/follow-requests/{username}/reject"),
        Some(token),
        json!({}),
    )
    .await
}

/// `prot` (protected) with a follower, a pending requester and a rejected
/// one, a stranger, and `pub` (public) whom every logged-in viewer follows.
async fn scene(app: &TestApp) -> Scene {
    let author = app.user("prot").await;
    let public_author = app.user("pub").await;
    let mut tokens = HashMap::new();
    for (viewer, name) in [
        (Viewer::Stranger, "stranger"),
        (Viewer::Requester, "requester"),
        (Viewer::Rejected, "rejected"),
        (Viewer::Follower, "follower"),
    ] {
        let token = app.user(name).await;
        follow(app, &token, "pub").await.expect(200);
        tokens.insert(viewer, token);
    }
    follow(app, &author, "pub").await.expect(200);
    tokens.insert(Viewer::Author, author.clone());
    protect(app, &author, true).await;
    for v in [Viewer::Requester, Viewer::Rejected, Viewer::Follower] {
        let reply = follow(app, &tokens[&v], "prot").await.expect(200);
        assert_eq!(reply.body, json!({"state": "requested"}));
    }
    accept(app, &author, "follower").await.expect(204);
    reject(app, &author, "rejected").await.expect(204);
    app.category(&public_author, "zoo", "Zoo").await;
    let public = app
        .tweet_with(
            &public_author,
            json!({"text": "a public zebra #shared", "category": "zoo"}),
        )
        .await;
    let secret = app
        .tweet_with(
            &author,
            json!({"text": "a secret zebra #shared", "category": "zoo"}),
        )
        .await;
    let secret_self_reply = app
        .tweet_with(&author, json!({"text": "more secrets", "reply_to": secret}))
        .await;
    let secret_reply = app
        .tweet_with(
            &author,
            json!({"text": "a secret answer", "reply_to": public}),
        )
        .await;
    let public_reply = app
        .tweet_with(
            &public_author,
            json!({"text": "a public answer", "reply_to": public}),
        )
        .await;
    Scene {
        tokens,
        public_author,
        secret,
        secret_self_reply,
        secret_reply,
        public,
        public_reply,
    }
}

/// Checks one route for one viewer.
async fn check(app: &TestApp, route: &Route, viewer: Viewer, token: Option<&str>, sees: bool) {
    let what = format!("{viewer:?} on {}", route.path);
    let reply = app.call(Method::GET, &route.path, token, None).await;
    if route.login && token.is_none() {
        assert_eq!(reply.status.as_u16(), 401, "{what}: {:?}", reply.body);
        return;
    }
    match route.shape {
        Shape::One(id) | Shape::Public(id) => {
            let visible = sees || matches!(route.shape, Shape::Public(_));
            if visible {
                assert_eq!(reply.status.as_u16(), 200, "{what}: {:?}", reply.body);
                assert_eq!(reply.body["id"], id, "{what}");
            } else {
                assert_eq!(reply.status.as_u16(), 404, "{what}: {:?}", reply.body);
                assert_eq!(reply.code(), "not_found", "{what}");
            }
        }
        Shape::ListOr404 { secret } => {
            if sees {
                assert_eq!(reply.status.as_u16(), 200, "{what}: {:?}", reply.body);
                assert_eq!(reply.ids(), [secret], "{what}");
            } else {
                assert_eq!(reply.status.as_u16(), 404, "{what}: {:?}", reply.body);
                assert_eq!(reply.code(), "not_found", "{what}");
            }
        }
        Shape::List { secret, control } => {
            assert_eq!(reply.status.as_u16(), 200, "{what}: {:?}", reply.body);
            let ids = reply.ids();
            if let Some(secret) = secret {
                assert_eq!(ids.contains(&secret), sees, "{what}: {ids:?}");
            }
            if let Some(control) = control {
                assert!(ids.contains(&control), "{what}: control missing: {ids:?}");
            }
            // Nothing of the protected account's leaks by another way.
            if !sees {
                for item in reply.items() {
                    assert_ne!(item["author"]["username"], "prot", "{what}: {item:?}");
                }
            }
        }
    }
}

/// Every viewer × every read route, twice (the second pass meets what the
/// read cache kept from the first), with the viewers who see the protected
/// tweets first, so what they read is in the cache when the others read.
async fn visibility_matrix(app: TestApp) {
    let s = scene(&app).await;
    let order = [4, 5, 0, 1, 2, 3, 3, 2, 1, 0, 5, 4];
    let table = routes(&s);
    for &i in &order {
        let (viewer, sees) = VIEWERS[i];
        for route in &table {
            check(&app, route, viewer, s.token(viewer), sees).await;
        }
    }
}

/// The matrix can fail: the protected tweets are there, and turning public
/// shows them to everyone on the same routes (home aside: it shows only
/// the accounts one follows); turning protected again hides them at once.
async fn turning_public_opens_every_route(app: TestApp) {
    let s = scene(&app).await;
    let author = &s.tokens[&Viewer::Author];
    let table = routes(&s);
    // Read (and cached) before: the requester's home lacks the tweet.
    let home = "/api/timelines/home?limit=100";
    let has = |reply: Reply| reply.expect(200).ids().contains(&s.secret);
    assert!(!has(app.get_as(&s.tokens[&Viewer::Requester], home).await));
    protect(&app, author, false).await;
    for (viewer, _) in VIEWERS {
        for route in table.iter().filter(|r| !r.login) {
            check(&app, route, viewer, s.token(viewer), true).await;
        }
    }
    // The pending request was approved by turning public: the requester's
    // home has the tweet now; the rejected one's does not.
    assert!(has(app.get_as(&s.tokens[&Viewer::Requester], home).await));
    assert!(!has(app.get_as(&s.tokens[&Viewer::Rejected], home).await));

    protect(&app, author, true).await;
    for (viewer, sees) in VIEWERS {
        let sees = sees || viewer == Viewer::Requester;
        for route in &table {
            check(&app, route, viewer, s.token(viewer), sees).await;
        }
    }
}

/// `/api/hashtags` counts public accounts' tweets only, whoever asks.
async fn hashtag_counts_exclude_protected_tweets(app: TestApp) {
    let s = scene(&app).await;
    let prot = &s.tokens[&Viewer::Author];
    app.tweet_id(prot, "only mine #hushhush").await;
    app.tweet_id(&s.public_author, "another #shared").await;
    for (viewer, _) in VIEWERS {
        let reply = app
            .call(Method::GET, "/api/hashtags?q=", s.token(viewer), None)
            .await
            .expect(200);
        let counts: HashMap<String, i64> = reply
            .items()
            .iter()
            .map(|c| {
                (
                    c["tag"].as_str().expect("tag").to_owned(),
                    c["tweet_count"].as_i64().expect("count"),
                )
            })
            .collect();
        assert_eq!(counts.get("shared"), Some(&2), "{viewer:?}: {counts:?}");
        assert_eq!(counts.get("hushhush"), None, "{viewer:?}: {counts:?}");
    }
    // Turning public counts them.
    protect(&app, prot, false).await;
    let reply = app.get("/api/hashtags?q=hush").await.expect(200);
    assert_eq!(
        reply.body["items"],
        json!([{"tag": "hushhush", "tweet_count": 1}])
    );
    assert_eq!(
        app.get("/api/hashtags?q=shared").await.expect(200).body["items"],
        json!([{"tag": "shared", "tweet_count": 3}])
    );
}

/// Liking a tweet one may not see is 404; one may see, 202.
async fn liking_a_hidden_tweet_is_404(app: TestApp) {
    let s = scene(&app).await;
    let path = format!("/api/tweets/{}/likes", s.secret);
    // Both ways round: what a follower's like puts in the like service's
    // memory of the tweet must not let the others through.
    for (viewer, sees) in VIEWERS.into_iter().chain(VIEWERS.into_iter().rev()) {
        let reply = app.post(&path, s.token(viewer), json!({})).await;
        if sees {
            reply.expect(202);
        } else {
            reply.expect_error(404, "not_found");
        }
    }
    // The public one, by anyone.
    for (viewer, _) in VIEWERS {
        app.post(
            &format!("/api/tweets/{}/likes", s.public),
            s.token(viewer),
            json!({}),
        )
        .await
        .expect(202);
    }
    app.state.app.likes().shutdown().await;
    let seen = app
        .get_as(
            &s.tokens[&Viewer::Author],
            &format!("/api/tweets/{}", s.secret),
        )
        .await
        .expect(200);
    assert_eq!(
        seen.body["like_count"], 4,
        "the follower's and the author's, twice"
    );
}

/// Replying to a tweet one may not see is 422 on `reply_to`.
async fn replying_to_a_hidden_tweet_is_422(app: TestApp) {
    let s = scene(&app).await;
    let body = json!({"text": "hello?", "reply_to": s.secret});
    app.post("/api/tweets", None, body.clone())
        .await
        .expect_error(401, "unauthorized");
    for (viewer, sees) in VIEWERS {
        let Some(token) = s.token(viewer) else {
            continue;
        };
        let reply = app.post("/api/tweets", Some(token), body.clone()).await;
        if sees {
            assert_eq!(reply.expect(201).body["reply_to"], s.secret);
        } else {
            let reply = reply.expect_error(422, "validation_failed");
            assert_eq!(reply.body["error"]["field"], "reply_to", "{viewer:?}");
        }
    }
    // Only the two allowed replies (and the author's first) are there.
    let replies = app
        .get_as(
            &s.tokens[&Viewer::Author],
            &format!("/api/tweets/{}/replies", s.secret),
        )
        .await
        .expect(200);
    assert_eq!(replies.items().len(), 3);
}

/// `(followers_count, following_count)` of an account.
async fn counts(app: &TestApp, username: &str) -> (i64, i64) {
    let a = app.account(username).await;
    (
        a["followers_count"].as_i64().expect("followers_count"),
        a["following_count"].as_i64().expect("following_count"),
    )
}

async fn follow_state(app: &TestApp, token: &str, username: &str) -> Value {
    app.get_as(token, &format!("/api/accounts/{username}/follow"))
        .await
        .expect(200)
        .body["state"]
        .clone()
}

async fn requests(app: &TestApp, token: &str) -> Vec<String> {
    app.get_as(token, "/api/follow-requests")
        .await
        .expect(200)
        .items()
        .iter()
        .map(|a| a["username"].as_str().expect("username").to_owned())
        .collect()
}

/// Request, list, accept: the counters move only on approval, and the
/// follower sees the tweets from then on.
async fn follow_requests_wait_for_approval(app: TestApp) {
    let prot = app.user("prot").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    protect(&app, &prot, true).await;
    let secret = app.tweet_id(&prot, "for approved eyes").await;
    let path = format!("/api/tweets/{secret}");

    assert_eq!(
        follow(&app, &bob, "prot").await.expect(200).body,
        json!({"state": "requested"})
    );
    assert_eq!(follow_state(&app, &bob, "prot").await, "requested");
    // Asking again changes nothing.
    assert_eq!(
        follow(&app, &bob, "PROT").await.expect(200).body,
        json!({"state": "requested"})
    );
    follow(&app, &carol, "prot").await.expect(200);
    assert_eq!(requests(&app, &prot).await, ["carol", "bob"]);
    // The list is the protected account's own: nobody else sees it.
    assert!(requests(&app, &bob).await.is_empty());
    assert_eq!(counts(&app, "prot").await, (0, 0));
    assert_eq!(counts(&app, "bob").await, (0, 0));
    assert!(
        app.get("/api/accounts/prot/followers")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    app.get_as(&bob, &path).await.expect_error(404, "not_found");
    // What bob reads while waiting (and the cache may keep) is empty.
    for list in [
        "/api/tweets",
        "/api/timelines/home",
        "/api/accounts/prot/tweets",
    ] {
        let got = app.get_as(&bob, list).await.expect(200);
        assert!(got.items().is_empty(), "{list}: {:?}", got.body);
    }
    // The list is a page of whole accounts.
    let page = app
        .get_as(&prot, "/api/follow-requests?limit=1")
        .await
        .expect(200);
    assert_eq!(page.items()[0], app.account("carol").await);
    assert!(page.body["next_cursor"].is_string());

    accept(&app, &prot, "Bob").await.expect(204);
    assert_eq!(follow_state(&app, &bob, "prot").await, "following");
    assert_eq!(counts(&app, "prot").await, (1, 0));
    assert_eq!(counts(&app, "bob").await, (0, 1));
    assert_eq!(requests(&app, &prot).await, ["carol"]);
    assert_eq!(app.get_as(&bob, &path).await.expect(200).body["id"], secret);
    for list in [
        "/api/tweets",
        "/api/timelines/home",
        "/api/accounts/prot/tweets",
    ] {
        assert_eq!(
            app.get_as(&bob, list).await.expect(200).ids(),
            [secret],
            "{list}"
        );
    }
    // A new tweet shows in what bob read before; not to anonymous readers.
    let newer = app.tweet_id(&prot, "and another").await;
    for list in [
        "/api/tweets",
        "/api/timelines/home",
        "/api/accounts/prot/tweets",
    ] {
        let got = app.get_as(&bob, list).await.expect(200);
        assert_eq!(got.ids(), [newer, secret], "{list}");
        let anonymous = app.get(list).await;
        if list == "/api/timelines/home" {
            anonymous.expect_error(401, "unauthorized");
        } else {
            assert!(anonymous.expect(200).items().is_empty(), "{list}");
        }
    }
    // Carol, still waiting, does not.
    app.get_as(&carol, &path)
        .await
        .expect_error(404, "not_found");
    assert!(
        app.get_as(&carol, "/api/timelines/home")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    // Accepting again: there is no request any more.
    accept(&app, &prot, "bob")
        .await
        .expect_error(409, "conflict");
    assert_eq!(counts(&app, "prot").await, (1, 0));
    // Following an account you already follow stays "following".
    assert_eq!(
        follow(&app, &bob, "prot").await.expect(200).body,
        json!({"state": "following"})
    );
    // Unfollowing ends it at once.
    app.delete("/api/accounts/prot/follow", &bob)
        .await
        .expect(204);
    app.get_as(&bob, &path).await.expect_error(404, "not_found");
    for list in [
        "/api/tweets",
        "/api/timelines/home",
        "/api/accounts/prot/tweets",
    ] {
        let got = app.get_as(&bob, list).await.expect(200);
        assert!(got.items().is_empty(), "{list}: {:?}", got.body);
    }
    assert_eq!(counts(&app, "prot").await, (0, 0));
}

async fn rejected_requests_leave_no_trace(app: TestApp) {
    let prot = app.user("prot").await;
    let bob = app.user("bob").await;
    protect(&app, &prot, true).await;
    let secret = app.tweet_id(&prot, "not for bob").await;
    follow(&app, &bob, "prot").await.expect(200);
    reject(&app, &prot, "bob").await.expect(204);
    assert!(follow_state(&app, &bob, "prot").await.is_null());
    assert!(requests(&app, &prot).await.is_empty());
    assert_eq!(counts(&app, "prot").await, (0, 0));
    assert_eq!(counts(&app, "bob").await, (0, 0));
    app.get_as(&bob, &format!("/api/tweets/{secret}"))
        .await
        .expect_error(404, "not_found");
    // Nothing left to reject or accept.
    reject(&app, &prot, "bob")
        .await
        .expect_error(409, "conflict");
    accept(&app, &prot, "bob")
        .await
        .expect_error(409, "conflict");
    // Bob may ask again.
    assert_eq!(
        follow(&app, &bob, "prot").await.expect(200).body,
        json!({"state": "requested"})
    );
    assert_eq!(requests(&app, &prot).await, ["bob"]);
}

async fn unfollowing_withdraws_a_request(app: TestApp) {
    let prot = app.user("prot").await;
    let bob = app.user("bob").await;
    protect(&app, &prot, true).await;
    follow(&app, &bob, "prot").await.expect(200);
    app.delete("/api/accounts/prot/follow", &bob)
        .await
        .expect(204);
    assert!(follow_state(&app, &bob, "prot").await.is_null());
    assert!(requests(&app, &prot).await.is_empty());
    accept(&app, &prot, "bob")
        .await
        .expect_error(409, "conflict");
    assert_eq!(counts(&app, "prot").await, (0, 0));
    assert_eq!(counts(&app, "bob").await, (0, 0));
}

async fn follow_request_errors(app: TestApp) {
    let prot = app.user("prot").await;
    let bob = app.user("bob").await;
    protect(&app, &prot, true).await;
    // An account that never asked; a follower of a public account.
    accept(&app, &prot, "bob")
        .await
        .expect_error(409, "conflict");
    reject(&app, &prot, "bob")
        .await
        .expect_error(409, "conflict");
    follow(&app, &prot, "bob").await.expect(200);
    accept(&app, &bob, "prot")
        .await
        .expect_error(409, "conflict");
    // A request is accepted by its addressee only.
    follow(&app, &bob, "prot").await.expect(200);
    let carol = app.user("carol").await;
    accept(&app, &carol, "bob")
        .await
        .expect_error(409, "conflict");
    assert_eq!(follow_state(&app, &bob, "prot").await, "requested");
    // Unknown accounts.
    for name in ["nobody", "a%20b"] {
        accept(&app, &prot, name)
            .await
            .expect_error(404, "not_found");
        reject(&app, &prot, name)
            .await
            .expect_error(404, "not_found");
    }
    // A login is needed.
    app.get("/api/follow-requests")
        .await
        .expect_error(401, "unauthorized");
    for action in ["accept", "reject"] {
        app.post(
            &format!("/api/follow-requests/bob/{action}"),
            None,
            json!({}),
        )
        .await
        .expect_error(401, "unauthorized");
    }
    app.patch("/api/me", "not-a-token", json!({"protected": false}))
        .await
        .expect_error(401, "invalid_token");
    for bad in [json!("yes"), json!(1)] {
        app.patch("/api/me", &prot, json!({"protected": bad}))
            .await
            .expect_error(422, "validation_failed");
    }
    assert_eq!(requests(&app, &prot).await, ["bob"]);
    assert!(
        app.account("prot").await["protected"]
            .as_bool()
            .expect("protected")
    );
}

/// Turning public approves every pending request; a rejected one stays out.
async fn turning_public_accepts_pending_requests(app: TestApp) {
    let prot = app.user("prot").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    protect(&app, &prot, true).await;
    follow(&app, &bob, "prot").await.expect(200);
    follow(&app, &carol, "prot").await.expect(200);
    follow(&app, &dave, "prot").await.expect(200);
    reject(&app, &prot, "dave").await.expect(204);
    assert_eq!(counts(&app, "prot").await, (0, 0));
    let me = protect(&app, &prot, false).await;
    assert_eq!(me["followers_count"], 2, "the answer counts them: {me:?}");
    assert_eq!(counts(&app, "prot").await, (2, 0));
    assert_eq!(follow_state(&app, &bob, "prot").await, "following");
    assert_eq!(follow_state(&app, &carol, "prot").await, "following");
    assert!(follow_state(&app, &dave, "prot").await.is_null());
    assert!(requests(&app, &prot).await.is_empty());
    let followers: Vec<Value> = app
        .get("/api/accounts/prot/followers")
        .await
        .expect(200)
        .items()
        .iter()
        .map(|a| a["username"].clone())
        .collect();
    assert_eq!(followers.len(), 2);
    assert!(followers.contains(&json!("bob")) && followers.contains(&json!("carol")));
    // New follows are immediate again.
    assert_eq!(
        follow(&app, &dave, "prot").await.expect(200).body,
        json!({"state": "following"})
    );
}

/// A follower reads the protected tweet (and lists) first; the cache must
/// not hand what it read to anonymous readers or strangers afterwards.
async fn the_read_cache_never_serves_protected_tweets_to_others(app: TestApp) {
    let s = scene(&app).await;
    let table = routes(&s);
    let follower = s.token(Viewer::Follower);
    for _ in 0..3 {
        for route in &table {
            check(&app, route, Viewer::Follower, follower, true).await;
        }
    }
    for viewer in [Viewer::Anonymous, Viewer::Stranger, Viewer::Requester] {
        for _ in 0..2 {
            for route in &table {
                check(&app, route, viewer, s.token(viewer), false).await;
            }
        }
    }
}

/// A public account's tweet, cached for anonymous readers, is gone for them
/// the moment the account turns protected (and back when it turns public).
async fn turning_protected_evicts_cached_tweets_at_once(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    follow(&app, &bob, "alice").await.expect(200);
    let id = app.tweet_id(&alice, "soon private #later").await;
    let paths = [
        format!("/api/tweets/{id}"),
        "/api/tweets".to_owned(),
        "/api/accounts/alice/tweets".to_owned(),
        "/api/tweets?author=alice".to_owned(),
        "/api/tweets?hashtag=later".to_owned(),
        "/api/tweets?q=private".to_owned(),
    ];
    for path in &paths {
        app.get(path).await.expect(200);
        app.get_as(&carol, path).await.expect(200);
        app.get_as(&bob, path).await.expect(200);
        app.get_as(&alice, path).await.expect(200);
        // The second read is served by the cache: the eviction matters.
        let before = app.store.db_counts().reads;
        let reply = app.get(path).await.expect(200);
        assert_eq!(app.store.db_counts().reads, before, "{path} was not cached");
        if path.starts_with("/api/tweets/") {
            assert_eq!(reply.body["id"], id);
        } else {
            assert_eq!(reply.ids(), [id], "{path}");
        }
    }
    assert_eq!(
        app.get("/api/hashtags?q=later").await.expect(200).body["items"],
        json!([{"tag": "later", "tweet_count": 1}])
    );
    app.post(&format!("/api/tweets/{id}/likes"), None, json!({}))
        .await
        .expect(202);

    let home = "/api/timelines/home";
    assert_eq!(app.get_as(&bob, home).await.expect(200).ids(), [id]);
    // The account itself says so too, cached or not.
    assert_eq!(app.account("alice").await["protected"], false);
    assert_eq!(app.account("alice").await["protected"], false);
    assert!(app.get_as(&carol, home).await.expect(200).ids().is_empty());

    protect(&app, &alice, true).await;
    assert_eq!(app.account("alice").await["protected"], true);
    assert_eq!(app.get_as(&bob, home).await.expect(200).ids(), [id]);
    for path in &paths {
        let reply = app.get(path).await;
        if path.starts_with("/api/tweets/") {
            reply.expect_error(404, "not_found");
        } else {
            assert!(reply.expect(200).items().is_empty(), "{path}");
        }
        // A stranger logged in does not see it either.
        let hidden = app.get_as(&carol, path).await;
        if path.starts_with("/api/tweets/") {
            hidden.expect_error(404, "not_found");
        } else {
            assert!(hidden.expect(200).items().is_empty(), "{path}");
        }
        // Bob, who followed while it was public, still sees it; so does
        // alice herself.
        for token in [&bob, &alice] {
            let seen = app.get_as(token, path).await.expect(200);
            if path.starts_with("/api/tweets/") {
                assert_eq!(seen.body["id"], id);
            } else {
                assert_eq!(seen.ids(), [id], "{path}");
            }
        }
    }
    assert_eq!(
        app.get("/api/hashtags?q=later").await.expect(200).body["items"],
        json!([])
    );
    app.post(&format!("/api/tweets/{id}/likes"), None, json!({}))
        .await
        .expect_error(404, "not_found");

    protect(&app, &alice, false).await;
    for path in &paths {
        let reply = app.get(path).await.expect(200);
        if path.starts_with("/api/tweets/") {
            assert_eq!(reply.body["id"], id);
        } else {
            assert_eq!(reply.ids(), [id], "{path}");
        }
    }
    app.post(&format!("/api/tweets/{id}/likes"), None, json!({}))
        .await
        .expect(202);
}

both!(
    visibility_matrix,
    turning_public_opens_every_route,
    hashtag_counts_exclude_protected_tweets,
    liking_a_hidden_tweet_is_404,
    replying_to_a_hidden_tweet_is_422,
    follow_requests_wait_for_approval,
    rejected_requests_leave_no_trace,
    unfollowing_withdraws_a_request,
    follow_request_errors,
    turning_public_accepts_pending_requests,
    the_read_cache_never_serves_protected_tweets_to_others,
    turning_protected_evicts_cached_tweets_at_once,
);
