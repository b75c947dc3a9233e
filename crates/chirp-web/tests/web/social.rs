//! The social pages: protected accounts and follow requests, notifications
//! (the list, marking read, the relayed live stream) and direct messages,
//! each checked against what the API then says.

use std::time::Duration;

use crate::helpers::{Browser, api_get, escaped, spawn};

/// Alice, protected through the settings form, with one chirp.
async fn protected_alice(site: &crate::helpers::TestSite) -> Browser {
    let alice = Browser::new(site);
    alice.sign_up("alice", "Alice").await.expect(200);
    let saved = alice
        .submit(
            "/settings",
            &[("display_name", "Alice"), ("bio", ""), ("protected", "on")],
        )
        .await
        .expect(200);
    assert!(
        saved
            .body
            .contains(r#"name="protected" type="checkbox" value="on" checked"#)
    );
    assert_eq!(
        api_get(&site.base, "/api/accounts/alice").await["protected"],
        true
    );
    alice
        .post_tweet("zebra secret for followers")
        .await
        .expect(200);
    alice
}

#[tokio::test]
async fn the_protected_switch_in_settings_turns_on_and_off() {
    let site = spawn().await;
    let alice = protected_alice(&site).await;
    assert!(
        alice
            .get("/@alice")
            .await
            .body
            .contains(r#"aria-label="Protected account""#)
    );
    // Unticked boxes are not sent: saving without it makes the account public.
    let saved = alice
        .submit("/settings", &[("display_name", "Alice"), ("bio", "")])
        .await
        .expect(200);
    assert!(!saved.body.contains("checked"));
    assert_eq!(
        api_get(&site.base, "/api/accounts/alice").await["protected"],
        false
    );
    assert!(
        !alice
            .get("/@alice")
            .await
            .body
            .contains(r#"aria-label="Protected account""#)
    );
}

#[tokio::test]
async fn an_approved_follower_sees_protected_chirps_and_others_do_not() {
    let site = spawn().await;
    let alice = protected_alice(&site).await;
    // The author sees her own chirps.
    assert!(alice.get("/@alice").await.body.contains("zebra secret"));

    let bob = Browser::new(&site);
    bob.sign_up("bob", "Bob").await.expect(200);
    let anonymous = Browser::new(&site);
    for who in [&bob, &anonymous] {
        let page = who.get("/@alice").await.expect(200);
        assert!(!page.body.contains("zebra secret"), "{}", page.body);
        assert!(page.body.contains("chirps are protected"));
    }

    // Bob asks; the button says so.
    let asked = bob
        .submit("/@alice/follow", &[("action", "follow")])
        .await
        .expect(200);
    assert!(asked.body.contains(">Requested<"), "{}", asked.body);
    assert!(!asked.body.contains("zebra secret"));

    // Alice sees the request on her notifications page and accepts it.
    let notes = alice.get("/notifications").await.expect(200);
    assert!(notes.body.contains("asked to follow you"), "{}", notes.body);
    assert!(
        notes
            .body
            .contains(r#"action="/follow-requests/bob/accept""#)
    );
    let after = alice
        .submit("/follow-requests/bob/accept", &[])
        .await
        .expect(200);
    assert!(
        !after
            .body
            .contains(r#"action="/follow-requests/bob/accept""#)
    );
    assert_eq!(
        api_get(&site.base, "/api/accounts/alice").await["followers_count"],
        1
    );

    // Now bob reads her chirps on the profile, the tweet page, search and
    // his home timeline; a stranger and a visitor still do not.
    let profile = bob.get("/@alice").await.expect(200);
    assert!(profile.body.contains("zebra secret"), "{}", profile.body);
    assert!(profile.body.contains(">Unfollow</button>"));
    assert!(
        bob.get("/search?q=zebra")
            .await
            .body
            .contains("zebra secret")
    );
    assert!(bob.get("/").await.body.contains("zebra secret"));
    // Bob was told the request was accepted.
    assert!(
        bob.get("/notifications")
            .await
            .body
            .contains("accepted your follow request")
    );

    let carol = Browser::new(&site);
    carol.sign_up("carol", "").await.expect(200);
    for who in [&carol, &anonymous] {
        assert!(!who.get("/@alice").await.body.contains("zebra secret"));
        assert!(
            !who.get("/search?q=zebra")
                .await
                .body
                .contains("zebra secret")
        );
    }
}

#[tokio::test]
async fn a_rejected_request_leaves_the_chirps_hidden() {
    let site = spawn().await;
    let alice = protected_alice(&site).await;
    let carol = Browser::new(&site);
    carol.sign_up("carol", "").await.expect(200);
    carol
        .submit("/@alice/follow", &[("action", "follow")])
        .await
        .expect(200);
    alice
        .submit("/follow-requests/carol/reject", &[])
        .await
        .expect(200);
    let page = carol.get("/@alice").await.expect(200);
    assert!(page.body.contains(r#"value="follow""#), "{}", page.body);
    assert!(!page.body.contains("zebra secret"));
    assert_eq!(
        api_get(&site.base, "/api/accounts/alice").await["followers_count"],
        0
    );
    // Answering a request that is not there is an error page, not a crash.
    alice
        .submit("/follow-requests/carol/accept", &[])
        .await
        .expect(409);
}

#[tokio::test]
async fn notifications_are_listed_linked_and_marked_read() {
    let site = spawn().await;
    let alice = Browser::new(&site);
    alice.sign_up("alice", "Alice").await.expect(200);
    let bob = Browser::new(&site);
    bob.sign_up("bob", "Bob").await.expect(200);
    bob.post_tweet("hello @alice <b>bold</b>").await.expect(200);
    let id = crate::helpers::newest_tweet_id(&site.base).await;

    let home = alice.get("/").await.expect(200);
    assert!(
        home.body
            .contains(r#"id="unread" class="badge unread-badge" data-count="1">1"#),
        "{}",
        home.body
    );
    let notes = alice.get("/notifications").await.expect(200);
    assert!(notes.body.contains("mentioned you"));
    assert!(notes.body.contains(&format!(r#"href="/tweets/{id}""#)));
    assert!(notes.body.contains(&escaped("<b>bold</b>")) && !notes.body.contains("<b>bold"));
    assert!(notes.header("cache-control").contains("no-store"));
    // The mention itself links to the profile.
    let tweet = alice.get(&format!("/tweets/{id}")).await.expect(200);
    assert!(
        tweet.body.contains(r#"<a href="/@alice">@alice</a>"#),
        "{}",
        tweet.body
    );

    let read = alice.submit("/notifications/read", &[]).await.expect(200);
    assert!(!read.body.contains("Mark all as read"));
    assert!(read.body.contains(r#"data-count="0" hidden"#));
    let api = alice_unread(&site.base).await;
    assert_eq!(api, 0);
    // Logged out, the page sends you to log in.
    Browser::new(&site).get("/notifications").await.expect(303);
}

/// Alice's unread count as the API reports it.
async fn alice_unread(base: &str) -> i64 {
    let client = reqwest::Client::new();
    let session: serde_json::Value = client
        .post(format!("{base}/api/sessions"))
        .json(&serde_json::json!({"username": "alice", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .expect("log in")
        .json()
        .await
        .expect("session");
    let token = session["token"].as_str().expect("token");
    let list: serde_json::Value = client
        .get(format!("{base}/api/notifications"))
        .bearer_auth(token)
        .send()
        .await
        .expect("notifications")
        .json()
        .await
        .expect("list");
    list["unread_count"].as_i64().expect("count")
}

#[tokio::test]
async fn messages_are_sent_listed_and_read_by_their_two_parties() {
    let site = spawn().await;
    let alice = Browser::new(&site);
    alice.sign_up("alice", "Alice").await.expect(200);
    let bob = Browser::new(&site);
    bob.sign_up("bob", "Bob").await.expect(200);

    assert!(
        bob.get("/@alice")
            .await
            .body
            .contains(r#"href="/messages/alice""#)
    );
    let sent = bob
        .submit("/messages/alice", &[("text", "hi <alice> & co")])
        .await
        .expect(200);
    assert!(
        sent.body.contains(&escaped("hi <alice> & co")),
        "{}",
        sent.body
    );
    assert!(sent.header("cache-control").contains("no-store"));

    let list = alice.get("/messages").await.expect(200);
    assert!(
        list.body.contains(r#"href="/messages/bob""#),
        "{}",
        list.body
    );
    assert!(list.body.contains(&escaped("hi <alice> & co")));
    let notes = alice.get("/notifications").await.expect(200);
    assert!(
        notes.body.contains("sent you a message") && notes.body.contains(r#"href="/messages/bob""#)
    );
    alice
        .submit("/messages/bob", &[("text", "hello bob")])
        .await
        .expect(200);
    let convo = bob.get("/messages/alice").await.expect(200);
    let (first, second) = (
        convo
            .body
            .find(&escaped("hi <alice>"))
            .expect("first message"),
        convo.body.find("hello bob").expect("second message"),
    );
    assert!(first < second, "oldest first");

    // An empty message is re-shown with the API's reason; bad names are 404s.
    let empty = bob
        .submit("/messages/alice", &[("text", "  ")])
        .await
        .expect(422);
    assert!(empty.body.contains(r#"role="alert""#));
    bob.get("/messages/no%2Fsuch").await.expect(404);
    bob.get("/messages/nobody").await.expect(404);
    Browser::new(&site).get("/messages").await.expect(303);
}

#[tokio::test]
async fn the_new_forms_need_the_csrf_token() {
    let site = spawn().await;
    let alice = Browser::new(&site);
    alice.sign_up("alice", "Alice").await.expect(200);
    let bob = Browser::new(&site);
    bob.sign_up("bob", "").await.expect(200);
    for (path, fields) in [
        ("/notifications/read", vec![]),
        ("/follow-requests/bob/accept", vec![]),
        ("/follow-requests/bob/reject", vec![]),
        ("/messages/bob", vec![("text", "forged")]),
        (
            "/settings",
            vec![("display_name", "x"), ("protected", "on")],
        ),
    ] {
        alice.post_raw(path, &fields).await.expect(403);
        let mut wrong = vec![("csrf", "wrongwrongwrongwrong")];
        wrong.extend(fields);
        alice.post_raw(path, &wrong).await.expect(403);
    }
    assert!(!bob.get("/messages/alice").await.body.contains("forged"));
    assert_eq!(
        api_get(&site.base, "/api/accounts/alice").await["protected"],
        false
    );
}

#[tokio::test]
async fn the_stream_relays_notifications_live_and_is_never_stored() {
    let site = spawn().await;
    let alice = Browser::new(&site);
    alice.sign_up("alice", "Alice").await.expect(200);
    let bob = Browser::new(&site);
    bob.sign_up("bob", "").await.expect(200);

    let session = alice.cookie("chirp_session").expect("session cookie");
    let mut stream = reqwest::Client::new()
        .get(format!("{}/notifications/stream", site.base))
        .header("cookie", format!("chirp_session={session}"))
        .send()
        .await
        .expect("open the stream");
    assert_eq!(stream.status(), 200);
    let h = |name: &str| {
        stream
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(h("content-type").starts_with("text/event-stream"));
    assert_eq!(h("cache-control"), "no-store");
    assert_eq!(h("x-accel-buffering"), "no");

    bob.post_tweet("live @alice").await.expect(200);
    let mut seen = String::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains("live @alice") {
            match stream.chunk().await {
                Ok(Some(bytes)) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                _ => break,
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no event within 10 s: {seen}");
    assert!(seen.contains("event: notification"), "{seen}");

    // Nobody's stream without a session.
    let anonymous = Browser::new(&site).get("/notifications/stream").await;
    assert_eq!(anonymous.status, 401);
}
