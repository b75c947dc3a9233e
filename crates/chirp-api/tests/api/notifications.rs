//! Notifications (issue 10): each kind with its actor and subject, none
//! for your own doing, @mentions, unread counts and marking read, paging,
//! the bound per account, and privacy.

use chirp_store::NOTIFICATIONS_KEPT;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, both, newest_first};

async fn follow(app: &TestApp, token: &str, username: &str) -> Reply {
    app.post(
        &format!("/api/accounts/{username}/follow"),
        Some(token),
        json!({}),
    )
    .await
    .expect(200)
}

async fn protect(app: &TestApp, token: &str, on: bool) {
    app.patch("/api/me", token, json!({"protected": on}))
        .await
        .expect(200);
}

async fn message(app: &TestApp, token: &str, to: &str, text: &str) -> Value {
    app.post(
        "/api/messages",
        Some(token),
        json!({"to": to, "text": text}),
    )
    .await
    .expect(201)
    .body
}

/// The first page of `token`'s notifications (up to 100).
async fn inbox(app: &TestApp, token: &str) -> Reply {
    let reply = app
        .get_as(token, "/api/notifications?limit=100")
        .await
        .expect(200);
    assert_eq!(
        reply.headers["cache-control"], "private, no-store",
        "notifications are private"
    );
    reply
}

/// The kinds of `token`'s notifications, newest first.
async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    inbox(app, token)
        .await
        .items()
        .iter()
        .map(|n| n["kind"].as_str().expect("kind").to_owned())
        .collect()
}

async fn unread(app: &TestApp, token: &str) -> i64 {
    inbox(app, token).await.body["unread_count"]
        .as_i64()
        .expect("unread_count")
}

async fn mark_read(app: &TestApp, token: &str, body: Value) -> i64 {
    let reply = app
        .post("/api/notifications/read", Some(token), body)
        .await
        .expect(200);
    assert_eq!(reply.headers["cache-control"], "private, no-store");
    reply.body["unread_count"].as_i64().expect("unread_count")
}

/// Asserts a notification's kind and actor, and returns it.
#[track_caller]
fn assert_note<'a>(n: &'a Value, kind: &str, actor: &Value) -> &'a Value {
    assert_eq!(n["kind"], kind, "{n:?}");
    assert_eq!(n["actor"]["id"], actor["id"], "{n:?}");
    assert_eq!(n["actor"]["username"], actor["username"], "{n:?}");
    assert_eq!(n["actor"]["display_name"], actor["display_name"], "{n:?}");
    assert_eq!(n["read"], false, "{n:?}");
    assert!(n["created_at"].is_string(), "{n:?}");
    assert!(n["id"].is_i64(), "{n:?}");
    n
}

/// Every kind, with who did it and what it is about.
async fn each_kind_names_its_actor_and_subject(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let prot = app.user("prot").await;
    let carol = app.user("carol").await;
    let (bob_a, prot_a) = (app.account("bob").await, app.account("prot").await);
    protect(&app, &prot, true).await;

    follow(&app, &bob, "alice").await;
    let tweet = app.tweet_id(&alice, "what do you think?").await;
    let reply = app
        .tweet_with(&bob, json!({"text": "yes", "reply_to": tweet}))
        .await;
    let mention = app.tweet_id(&bob, "look, @alice").await;
    let sent = message(&app, &bob, "alice", "psst").await;

    let got = inbox(&app, &alice).await;
    assert_eq!(got.body["unread_count"], 4);
    assert!(got.body["next_cursor"].is_null());
    let items = got.items();
    assert_eq!(items.len(), 4, "{items:?}");
    assert!(newest_first(&got.ids()));
    let n = assert_note(&items[0], "message", &bob_a);
    assert_eq!(n["message"]["id"], sent["id"]);
    assert_eq!(n["message"]["text"], "psst");
    assert_eq!(n["message"]["from"]["username"], "bob");
    assert_eq!(n["message"]["to"]["username"], "alice");
    assert!(n["tweet"].is_null());
    let n = assert_note(&items[1], "mention", &bob_a);
    assert_eq!(n["tweet"]["id"], mention);
    assert_eq!(n["tweet"]["mentions"], json!(["alice"]));
    assert!(n["message"].is_null());
    let n = assert_note(&items[2], "reply", &bob_a);
    assert_eq!(n["tweet"]["id"], reply);
    assert_eq!(n["tweet"]["reply_to"], tweet);
    let n = assert_note(&items[3], "follow", &bob_a);
    assert!(n["tweet"].is_null() && n["message"].is_null());

    // A request to a protected account, and its approval.
    follow(&app, &bob, "prot").await;
    let got = inbox(&app, &prot).await;
    assert_eq!(got.items().len(), 1);
    assert_note(&got.items()[0], "follow_request", &bob_a);
    app.post("/api/follow-requests/bob/accept", Some(&prot), json!({}))
        .await
        .expect(204);
    let got = inbox(&app, &bob).await;
    assert_eq!(got.items().len(), 1, "{:?}", got.body);
    assert_note(&got.items()[0], "follow_accepted", &prot_a);
    // Turning public approves the pending ones, each requester told.
    follow(&app, &carol, "prot").await;
    protect(&app, &prot, false).await;
    let got = inbox(&app, &carol).await;
    assert_eq!(got.items().len(), 1, "{:?}", got.body);
    assert_note(&got.items()[0], "follow_accepted", &prot_a);
    // A rejection tells nobody.
    protect(&app, &prot, true).await;
    follow(&app, &alice, "prot").await;
    app.post("/api/follow-requests/alice/reject", Some(&prot), json!({}))
        .await
        .expect(204);
    assert_eq!(kinds(&app, &alice).await.len(), 4);
    assert_eq!(
        kinds(&app, &prot).await,
        ["follow_request", "follow_request", "follow_request"]
    );
}

/// Your own reply, mention, or follow-back of yourself notifies nobody.
async fn nobody_is_notified_of_their_own_doing(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let own = app.tweet_id(&alice, "thinking aloud").await;
    app.tweet_with(&alice, json!({"text": "me again @alice", "reply_to": own}))
        .await;
    app.tweet_id(&alice, "@alice @Alice @ALICE").await;
    app.post("/api/accounts/alice/follow", Some(&alice), json!({}))
        .await
        .expect(422);
    app.post(
        "/api/messages",
        Some(&alice),
        json!({"to": "alice", "text": "hi"}),
    )
    .await
    .expect(422);
    let got = inbox(&app, &alice).await;
    assert!(got.items().is_empty(), "{:?}", got.body);
    assert_eq!(got.body["unread_count"], 0);
    // A reply that mentions the author it answers tells it once, as a reply.
    app.tweet_with(&bob, json!({"text": "@alice indeed", "reply_to": own}))
        .await;
    assert_eq!(kinds(&app, &alice).await, ["reply"]);
    assert!(kinds(&app, &bob).await.is_empty());
}

/// Only existing accounts are mentioned, spelled as they registered.
async fn mentions_keep_existing_accounts_as_registered(app: TestApp) {
    let bob = app.user("bob").await;
    let camel = app.user("CamelCase").await;
    let tweet = app
        .tweet(&bob, "hi @camelcase, @ghost and @CAMELCASE!")
        .await;
    assert_eq!(tweet["mentions"], json!(["CamelCase"]));
    let id = tweet["id"].as_i64().expect("id");
    assert_eq!(
        app.get(&format!("/api/tweets/{id}")).await.expect(200).body["mentions"],
        json!(["CamelCase"])
    );
    assert_eq!(kinds(&app, &camel).await, ["mention"]);
    // Registering the missing name later does not mention it after the fact.
    let ghost = app.user("ghost").await;
    assert!(kinds(&app, &ghost).await.is_empty());
    assert_eq!(
        app.get(&format!("/api/tweets/{id}")).await.expect(200).body["mentions"],
        json!(["CamelCase"])
    );
    // An edit that adds a mention tells the newly mentioned, and only them.
    let edited = app
        .patch(
            &format!("/api/tweets/{id}"),
            &bob,
            json!({"text": "hi @ghost and @CamelCase"}),
        )
        .await
        .expect(200);
    assert_eq!(edited.body["mentions"], json!(["ghost", "CamelCase"]));
    assert_eq!(kinds(&app, &ghost).await, ["mention"]);
    assert_eq!(kinds(&app, &camel).await, ["mention"]);
    // No mention without an account: an email address is not one either.
    let plain = app.tweet(&bob, "write to bob@camelcase.example").await;
    assert_eq!(plain["mentions"], json!([]));
    assert_eq!(kinds(&app, &camel).await, ["mention"]);
}

/// Following twice, or asking twice, notifies once.
async fn a_repeated_follow_notifies_once(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let prot = app.user("prot").await;
    protect(&app, &prot, true).await;
    for _ in 0..3 {
        follow(&app, &bob, "alice").await;
        follow(&app, &bob, "prot").await;
    }
    assert_eq!(kinds(&app, &alice).await, ["follow"]);
    assert_eq!(kinds(&app, &prot).await, ["follow_request"]);
}

async fn unread_count_and_marking_read(app: TestApp) {
    let alice = app.user("alice").await;
    let mut others = Vec::new();
    for name in ["bob", "carol", "dave"] {
        let token = app.user(name).await;
        follow(&app, &token, "alice").await;
        others.push(token);
    }
    let got = inbox(&app, &alice).await;
    assert_eq!(got.body["unread_count"], 3);
    let ids = got.ids(); // newest first: dave, carol, bob
    assert!(got.items().iter().all(|n| n["read"] == false));
    // Up to the middle one: it and the older are read.
    assert_eq!(mark_read(&app, &alice, json!({"up_to": ids[1]})).await, 1);
    let got = inbox(&app, &alice).await;
    assert_eq!(got.body["unread_count"], 1);
    let read: Vec<&Value> = got.items().iter().map(|n| &n["read"]).collect();
    assert_eq!(read, [&json!(false), &json!(true), &json!(true)]);
    // Again: nothing changes.
    assert_eq!(mark_read(&app, &alice, json!({"up_to": ids[1]})).await, 1);
    // Another account marking its own changes nothing of alice's.
    assert_eq!(mark_read(&app, &others[0], json!({})).await, 0);
    assert_eq!(unread(&app, &alice).await, 1);
    // All.
    assert_eq!(mark_read(&app, &alice, json!({})).await, 0);
    let got = inbox(&app, &alice).await;
    assert!(got.items().iter().all(|n| n["read"] == true));
    assert_eq!(got.body["unread_count"], 0);
    // A new one is unread.
    let erin = app.user("erin").await;
    follow(&app, &erin, "alice").await;
    assert_eq!(unread(&app, &alice).await, 1);
    assert_eq!(inbox(&app, &alice).await.items()[0]["read"], false);
    // A bad body is refused.
    app.post(
        "/api/notifications/read",
        Some(&alice),
        json!({"up_to": "x"}),
    )
    .await
    .expect_error(422, "validation_failed");
    assert_eq!(unread(&app, &alice).await, 1);
}

async fn notifications_are_paged_newest_first(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut sent = Vec::new();
    for i in 0..25 {
        sent.push(message(&app, &bob, "alice", &format!("note {i}")).await["id"].clone());
    }
    sent.reverse();
    let items = app.walk_as(&alice, "/api/notifications", 10).await;
    assert_eq!(items.len(), 25);
    let ids: Vec<i64> = items
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect();
    assert!(newest_first(&ids));
    let messages: Vec<Value> = items.iter().map(|n| n["message"]["id"].clone()).collect();
    assert_eq!(messages, sent);
    // The default page is 20, with a cursor to the rest.
    let first = app.get_as(&alice, "/api/notifications").await.expect(200);
    assert_eq!(first.items().len(), 20);
    assert!(first.body["next_cursor"].is_string());
    assert_eq!(first.body["unread_count"], 25);
    app.get_as(&alice, "/api/notifications?limit=101")
        .await
        .expect_error(422, "validation_failed");
    app.get_as(&alice, "/api/notifications?cursor=bad")
        .await
        .expect_error(422, "validation_failed");
}

/// Past NOTIFICATIONS_KEPT, the oldest go. Five messages first, one by
/// one (the oldest, to be pruned), then NOTIFICATIONS_KEPT more from
/// several senders at once (quick; their order among themselves is the
/// store's to decide).
async fn only_the_newest_notifications_are_kept(app: TestApp) {
    const EXTRA: usize = 5;
    const WORKERS: usize = 8;
    let kept = usize::try_from(NOTIFICATIONS_KEPT).expect("a small bound");
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut oldest = Vec::new();
    for i in 0..EXTRA {
        let m = message(&app, &bob, "alice", &format!("old {i}")).await;
        oldest.push(m["id"].as_i64().expect("id"));
    }
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let (client, url, token) = (
            app.client.clone(),
            format!("{}/api/messages", app.base),
            bob.clone(),
        );
        workers.spawn(async move {
            let mut sent = Vec::new();
            for i in (w..kept).step_by(WORKERS) {
                let resp = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"to": "alice", "text": format!("m{i}")}))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(resp.status().as_u16(), 201);
                let body: Value = resp.json().await.expect("a message");
                sent.push(body["id"].as_i64().expect("id"));
            }
            sent
        });
    }
    let mut newest: Vec<i64> = workers.join_all().await.concat();
    assert_eq!(newest.len(), kept);
    // One more, alone: whatever writes that raced each other left, it
    // leaves exactly the newest NOTIFICATIONS_KEPT, itself first.
    let carol = app.user("carol").await;
    let last = message(&app, &carol, "alice", "one more").await;
    newest.push(last["id"].as_i64().expect("id"));

    let items = app.walk_as(&alice, "/api/notifications", 100).await;
    assert_eq!(items.len(), kept);
    assert_eq!(items[0]["message"]["id"], last["id"]);
    let ids: Vec<i64> = items
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect();
    assert!(newest_first(&ids));
    let got: Vec<i64> = items
        .iter()
        .map(|n| n["message"]["id"].as_i64().expect("a message"))
        .collect();
    assert!(got.iter().all(|m| newest.contains(m)), "only the newest");
    assert!(oldest.iter().all(|m| !got.contains(m)), "the oldest went");
    assert_eq!(unread(&app, &alice).await, NOTIFICATIONS_KEPT);
    // The bound is per account: bob's inbox is apart.
    message(&app, &carol, "bob", "hello").await;
    assert_eq!(kinds(&app, &bob).await, ["message"]);
    assert_eq!(unread(&app, &alice).await, NOTIFICATIONS_KEPT);
    // One more pushes out exactly one, the oldest left.
    message(&app, &carol, "alice", "and another").await;
    let items = app.walk_as(&alice, "/api/notifications", 100).await;
    let now: Vec<i64> = items
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect();
    assert!(now[0] > ids[0]);
    assert_eq!(now[1..], ids[..kept - 1], "the oldest one went");
}

/// A protected author's mention or reply is not notified to those who may
/// not see it; a notification whose tweet turned hidden loses the tweet.
async fn hidden_tweets_are_not_notified(app: TestApp) {
    let prot = app.user("prot").await;
    let fan = app.user("fan").await;
    let stranger = app.user("stranger").await;
    protect(&app, &prot, true).await;
    follow(&app, &fan, "prot").await;
    app.post("/api/follow-requests/fan/accept", Some(&prot), json!({}))
        .await
        .expect(204);
    let asker = app.user("asker").await;
    follow(&app, &asker, "prot").await;
    let fan_before = kinds(&app, &fan).await.len();
    let tweet = app
        .tweet(&prot, "hello @fan and @stranger and @asker")
        .await;
    assert_eq!(tweet["mentions"], json!(["fan", "stranger", "asker"]));
    // Asking to follow is not being allowed to see.
    assert!(kinds(&app, &asker).await.is_empty());
    let strangers = app.tweet_id(&stranger, "a public thought").await;
    app.tweet_with(
        &prot,
        json!({"text": "a hidden answer", "reply_to": strangers}),
    )
    .await;
    // Nor an edit that mentions them.
    let plain = app.tweet_id(&prot, "plain words").await;
    app.patch(
        &format!("/api/tweets/{plain}"),
        &prot,
        json!({"text": "plain words, @stranger"}),
    )
    .await
    .expect(200);
    assert!(kinds(&app, &stranger).await.is_empty());
    let got = inbox(&app, &fan).await;
    assert_eq!(got.items().len(), fan_before + 1);
    assert_eq!(got.items()[0]["kind"], "mention");
    assert_eq!(got.items()[0]["tweet"]["id"], tweet["id"]);

    // A public author's mention, and then the author turns protected: the
    // notification stays but no longer shows the tweet to a non-follower.
    let alice = app.user("alice").await;
    let mention = app.tweet_id(&alice, "hey @stranger").await;
    let got = inbox(&app, &stranger).await;
    assert_eq!(got.items()[0]["tweet"]["id"], mention);
    protect(&app, &alice, true).await;
    let got = inbox(&app, &stranger).await;
    assert_eq!(got.items().len(), 1);
    assert_eq!(got.items()[0]["kind"], "mention");
    assert!(got.items()[0]["tweet"].is_null(), "{:?}", got.body);
}

async fn notifications_need_a_login(app: TestApp) {
    for (token, code) in [
        (None, "unauthorized"),
        (Some("not-a-token"), "invalid_token"),
    ] {
        app.call(Method::GET, "/api/notifications", token, None)
            .await
            .expect_error(401, code);
        app.call(
            Method::POST,
            "/api/notifications/read",
            token,
            Some(json!({})),
        )
        .await
        .expect_error(401, code);
    }
}

both!(
    each_kind_names_its_actor_and_subject,
    nobody_is_notified_of_their_own_doing,
    mentions_keep_existing_accounts_as_registered,
    a_repeated_follow_notifies_once,
    unread_count_and_marking_read,
    notifications_are_paged_newest_first,
    only_the_newest_notifications_are_kept,
    hidden_tweets_are_not_notified,
    notifications_need_a_login,
);
