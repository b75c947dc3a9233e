//! Direct messages (issue 10, SPEC §3): sending, the conversation, the
//! list of conversations with unread counts, the errors, and privacy: only
//! the two parties ever read a message, and no answer may be stored by a
//! shared cache.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, both, ids};

const PRIVATE: &str = "private, no-store";

#[track_caller]
fn assert_private(reply: &Reply) {
    assert_eq!(
        reply.headers.get("cache-control").map(|v| v.to_str().ok()),
        Some(Some(PRIVATE)),
        "a private answer: {:?}",
        reply.headers
    );
}

async fn send(app: &TestApp, token: &str, to: &str, text: &str) -> Value {
    let reply = app
        .post(
            "/api/messages",
            Some(token),
            json!({"to": to, "text": text}),
        )
        .await
        .expect(201);
    assert_private(&reply);
    reply.body
}

async fn send_id(app: &TestApp, token: &str, to: &str, text: &str) -> i64 {
    send(app, token, to, text).await["id"].as_i64().expect("id")
}

/// `token`'s conversation with `with`, first page of up to 100.
async fn conversation(app: &TestApp, token: &str, with: &str) -> Reply {
    let reply = app
        .get_as(token, &format!("/api/messages?with={with}&limit=100"))
        .await
        .expect(200);
    assert_private(&reply);
    reply
}

async fn conversations(app: &TestApp, token: &str) -> Reply {
    let reply = app
        .get_as(token, "/api/conversations?limit=100")
        .await
        .expect(200);
    assert_private(&reply);
    reply
}

/// `(with, last message id, unread_count)` of each conversation.
async fn summary(app: &TestApp, token: &str) -> Vec<(String, i64, i64)> {
    conversations(app, token)
        .await
        .items()
        .iter()
        .map(|c| {
            (
                c["with"]["username"].as_str().expect("with").to_owned(),
                c["last_message"]["id"].as_i64().expect("last_message"),
                c["unread_count"].as_i64().expect("unread_count"),
            )
        })
        .collect()
}

async fn a_message_is_sent_and_read_by_both_parties(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let first = send(&app, &alice, "BOB", "  hello bob  ").await;
    assert_eq!(first["text"], "hello bob", "trimmed");
    assert_eq!(first["from"]["username"], "alice");
    assert_eq!(first["to"]["username"], "bob");
    assert_eq!(first["from"]["id"], app.account("alice").await["id"]);
    assert_eq!(first["to"]["id"], app.account("bob").await["id"]);
    assert!(first["created_at"].is_string());
    let m1 = first["id"].as_i64().expect("id");
    let m2 = send_id(&app, &bob, "alice", "hi alice").await;
    let m3 = send_id(&app, &alice, "bob", "how are you?").await;
    assert!(m1 < m2 && m2 < m3);

    for (token, with) in [(&alice, "bob"), (&bob, "alice"), (&bob, "ALICE")] {
        let got = conversation(&app, token, with).await;
        assert_eq!(got.ids(), [m3, m2, m1], "{with}");
        let texts: Vec<&Value> = got.items().iter().map(|m| &m["text"]).collect();
        assert_eq!(texts, ["how are you?", "hi alice", "hello bob"]);
        assert_eq!(got.items()[2], first);
    }
    // Paged like every list.
    assert_eq!(
        ids(&app.walk_as(&alice, "/api/messages?with=bob", 2).await),
        [m3, m2, m1]
    );
    app.get_as(&alice, "/api/messages?with=bob&limit=0")
        .await
        .expect_error(422, "validation_failed");
}

async fn conversations_are_newest_first_with_unread_counts(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let b1 = send_id(&app, &bob, "alice", "b1").await;
    let b2 = send_id(&app, &bob, "alice", "b2").await;
    let c1 = send_id(&app, &carol, "alice", "c1").await;
    assert_eq!(
        summary(&app, &alice).await,
        [("carol".into(), c1, 1), ("bob".into(), b2, 2)]
    );
    // One's own messages are not unread to oneself.
    assert_eq!(summary(&app, &bob).await, [("alice".into(), b2, 0)]);
    let list = conversations(&app, &alice).await;
    assert_eq!(list.items()[0]["with"], app.account("carol").await);
    assert_eq!(list.items()[1]["last_message"]["text"], "b2");
    assert!(list.body["next_cursor"].is_null());

    // Reading a conversation marks the other's messages in it read, and
    // only those; the order stays.
    conversation(&app, &alice, "bob").await;
    assert_eq!(
        summary(&app, &alice).await,
        [("carol".into(), c1, 1), ("bob".into(), b2, 0)]
    );
    // Answering moves the conversation up, unread for the other side only.
    let a1 = send_id(&app, &alice, "bob", "a1").await;
    assert_eq!(
        summary(&app, &alice).await,
        [("bob".into(), a1, 0), ("carol".into(), c1, 1)]
    );
    assert_eq!(summary(&app, &bob).await, [("alice".into(), a1, 1)]);
    // Alice reading again does not mark her own message read for bob.
    conversation(&app, &alice, "bob").await;
    assert_eq!(summary(&app, &bob).await, [("alice".into(), a1, 1)]);
    conversation(&app, &bob, "alice").await;
    assert_eq!(summary(&app, &bob).await, [("alice".into(), a1, 0)]);
    assert_eq!(summary(&app, &alice).await[1], ("carol".into(), c1, 1));
    // Paged: one conversation a page.
    let pages = app.walk_as(&alice, "/api/conversations", 1).await;
    let with: Vec<&Value> = pages.iter().map(|c| &c["with"]["username"]).collect();
    assert_eq!(with, ["bob", "carol"]);
    assert!(b1 < b2);
}

async fn message_errors(app: TestApp) {
    let alice = app.user("alice").await;
    app.register("bob").await;
    let post = |token: Option<&str>, body: Value| {
        let token = token.map(str::to_owned);
        let app = &app;
        async move { app.post("/api/messages", token.as_deref(), body).await }
    };
    for text in ["", "   ", " \n\t "] {
        let reply = post(Some(&alice), json!({"to": "bob", "text": text}))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "text", "{text:?}");
    }
    for too_long in ["a".repeat(1001), "é".repeat(1001), "🐦".repeat(1001)] {
        let reply = post(Some(&alice), json!({"to": "bob", "text": too_long}))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "text");
    }
    for name in ["alice", "ALICE"] {
        let reply = post(Some(&alice), json!({"to": name, "text": "note to self"}))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "to");
    }
    post(Some(&alice), json!({"to": "nobody", "text": "hello?"}))
        .await
        .expect_error(404, "not_found");
    post(Some(&alice), json!({"text": "to whom?"}))
        .await
        .expect_error(422, "validation_failed");
    post(Some(&alice), json!({"to": "bob"}))
        .await
        .expect_error(422, "validation_failed");
    post(None, json!({"to": "bob", "text": "anonymous"}))
        .await
        .expect_error(401, "unauthorized");
    post(Some("not-a-token"), json!({"to": "bob", "text": "forged"}))
        .await
        .expect_error(401, "invalid_token");
    let reply = app
        .get_as(&alice, "/api/messages")
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(reply.body["error"]["field"], "with");
    app.get_as(&alice, "/api/messages?with=nobody")
        .await
        .expect_error(404, "not_found");
    for path in ["/api/messages?with=bob", "/api/conversations"] {
        app.get(path).await.expect_error(401, "unauthorized");
        app.get_as("not-a-token", path)
            .await
            .expect_error(401, "invalid_token");
    }
    // None of it was stored.
    assert!(conversation(&app, &alice, "bob").await.items().is_empty());
    let bob = app.login("bob").await;
    assert!(conversations(&app, &bob).await.items().is_empty());
    let inbox = app.get_as(&bob, "/api/notifications").await.expect(200);
    assert!(inbox.items().is_empty(), "{:?}", inbox.body);

    // 1000 characters are fine, counted as characters, not bytes.
    for exact in ["a".repeat(1000), "é".repeat(1000), "🐦".repeat(1000)] {
        let sent = send(&app, &alice, "bob", &exact).await;
        assert_eq!(sent["text"].as_str().map(|t| t.chars().count()), Some(1000));
        assert_eq!(sent["text"], exact.as_str());
    }
    assert_eq!(conversation(&app, &bob, "alice").await.items().len(), 3);
}

/// Only the two parties read a conversation; a third account sees its own
/// (empty) conversation with each, and nothing of theirs by any route.
async fn only_the_two_parties_read_a_conversation(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let m1 = send_id(&app, &alice, "bob", "the secret is xyzzy").await;
    let m2 = send_id(&app, &bob, "alice", "xyzzy, got it").await;
    assert_eq!(conversation(&app, &alice, "bob").await.ids(), [m2, m1]);

    for with in ["alice", "bob"] {
        let got = conversation(&app, &carol, with).await;
        assert!(got.items().is_empty(), "{with}: {:?}", got.body);
        assert!(got.body["next_cursor"].is_null());
    }
    assert!(conversations(&app, &carol).await.items().is_empty());
    let inbox = app.get_as(&carol, "/api/notifications").await.expect(200);
    assert!(inbox.items().is_empty(), "{:?}", inbox.body);
    // Messages are not tweets: no search or timeline finds them.
    for path in [
        "/api/tweets?q=xyzzy",
        "/api/tweets",
        "/api/accounts/alice/tweets",
    ] {
        assert!(app.get(path).await.expect(200).items().is_empty(), "{path}");
        assert!(
            app.get_as(&carol, path)
                .await
                .expect(200)
                .items()
                .is_empty(),
            "{path}"
        );
    }
    // The sender is not notified of their own message; the recipient is,
    // with the message.
    let bobs = app.get_as(&bob, "/api/notifications").await.expect(200);
    assert_eq!(bobs.items().len(), 1);
    assert_eq!(bobs.items()[0]["message"]["id"], m1);
    let alices = app.get_as(&alice, "/api/notifications").await.expect(200);
    assert_eq!(alices.items().len(), 1);
    assert_eq!(alices.items()[0]["message"]["id"], m2);
    // Carol's own message to alice starts a conversation of its own,
    // which the alice–bob one does not mix with.
    let m3 = send_id(&app, &carol, "alice", "hi, it's carol").await;
    assert_eq!(conversation(&app, &carol, "alice").await.ids(), [m3]);
    assert!(conversation(&app, &carol, "bob").await.items().is_empty());
    assert_eq!(conversation(&app, &bob, "alice").await.ids(), [m2, m1]);
    assert_eq!(conversation(&app, &alice, "carol").await.ids(), [m3]);
    let summary_bob = summary(&app, &bob).await;
    assert_eq!(summary_bob, [("alice".into(), m2, 0)]);
    // A third party's reading marks nothing read for the parties.
    let m4 = send_id(&app, &alice, "bob", "one more").await;
    conversation(&app, &carol, "alice").await;
    conversation(&app, &carol, "bob").await;
    assert_eq!(summary(&app, &bob).await, [("alice".into(), m4, 1)]);
    // No route answers for a message id directly.
    let reply = app.get_as(&carol, &format!("/api/messages/{m1}")).await;
    assert!(
        !reply.status.is_success() && reply.body.to_string().find("xyzzy").is_none(),
        "{} {:?}",
        reply.status,
        reply.body
    );
}

/// Every private answer says `private, no-store`.
async fn private_answers_are_not_stored(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    send(&app, &alice, "bob", "hello").await;
    for (method, path, body) in [
        (Method::GET, "/api/messages?with=alice", None),
        (Method::GET, "/api/conversations", None),
        (Method::GET, "/api/notifications", None),
        (Method::POST, "/api/notifications/read", Some(json!({}))),
        (
            Method::POST,
            "/api/messages",
            Some(json!({"to": "alice", "text": "hi"})),
        ),
    ] {
        let reply = app.call(method.clone(), path, Some(&bob), body).await;
        assert!(
            reply.status.is_success(),
            "{method} {path}: {:?}",
            reply.body
        );
        assert_private(&reply);
    }
}

both!(
    a_message_is_sent_and_read_by_both_parties,
    conversations_are_newest_first_with_unread_counts,
    message_errors,
    only_the_two_parties_read_a_conversation,
    private_answers_are_not_stored,
);
