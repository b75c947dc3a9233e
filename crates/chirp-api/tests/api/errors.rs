//! Bad requests of every kind: each gets a JSON error with the right status,
//! and none a 5xx.

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::helpers::{Reply, TestApp, both};

/// Asserts a well-formed error reply in the 4xx range.
#[track_caller]
fn client_error(reply: &Reply, what: &str) {
    let status = reply.status.as_u16();
    assert!(
        (400..500).contains(&status),
        "{what}: status {status}, body {:?}",
        reply.body
    );
    assert!(
        !reply.code().is_empty(),
        "{what}: no error code in {:?}",
        reply.body
    );
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: no message in {:?}",
        reply.body
    );
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    for internal in [
        "Failed to",
        "deserialize",
        "Cannot parse",
        " at line ",
        "`i64`",
        "expected i64",
        "invalid type",
        "invalid digit",
        "struct ",
        "Invalid URL",
    ] {
        assert!(
            !message.contains(internal),
            "{what}: library text {internal:?} in {message:?}"
        );
    }
}

/// The message and `field` of an error reply.
fn said(reply: &Reply) -> (String, Option<String>) {
    let e = &reply.body["error"];
    (
        e["message"].as_str().unwrap_or_default().to_owned(),
        e["field"].as_str().map(str::to_owned),
    )
}

async fn bad_input_is_said_in_our_words_naming_the_field(app: TestApp) {
    let token = app.user("alice").await;
    let reply = app
        .post("/api/tweets", Some(&token), json!({"txt": "hello"}))
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(
        said(&reply),
        (
            "unknown field `txt`; expected one of text, reply_to, category".into(),
            Some("txt".into())
        )
    );
    let reply = app
        .post(
            "/api/tweets",
            Some(&token),
            json!({"text": "a", "reply_to": "1"}),
        )
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(
        said(&reply),
        (
            "`reply_to` must be a whole number, not the text \"1\"".into(),
            Some("reply_to".into())
        )
    );
    let reply = app
        .post("/api/accounts", None, json!({"username": "bob"}))
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(
        said(&reply),
        (
            "the field `password` is required".into(),
            Some("password".into())
        )
    );
    let reply = post_raw(
        &app,
        "/api/tweets",
        Some(&token),
        "application/json",
        b"{\"text\": }".to_vec(),
    )
    .await
    .expect_error(400, "bad_request");
    assert!(
        said(&reply).0.starts_with("the body is not valid JSON"),
        "{:?}",
        reply.body
    );
    let reply = app
        .get("/api/tweets/abc")
        .await
        .expect_error(400, "bad_request");
    assert_eq!(
        said(&reply).0,
        "the tweet id in the path must be a whole number"
    );
    let reply = app
        .get("/api/accounts?limit=1&limit=2")
        .await
        .expect_error(400, "bad_request");
    assert_eq!(
        said(&reply),
        (
            "the query parameter `limit` is given twice".into(),
            Some("limit".into())
        )
    );
}

/// A POST of raw bytes with a content type.
async fn post_raw(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let mut req = app
        .request(Method::POST, path)
        .header(CONTENT_TYPE, content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    app.send(req).await
}

async fn malformed_json_is_400(app: TestApp) {
    let token = app.user("alice").await;
    for body in [
        "{",
        "{\"text\": }",
        "not json",
        "{\"text\": \"a\"",
        "",
        "{\"text\": \"a\"} trailing",
    ] {
        let reply = post_raw(
            &app,
            "/api/tweets",
            Some(&token),
            "application/json",
            body.into(),
        )
        .await;
        reply.expect_error(400, "bad_request");
    }
    let reply = post_raw(
        &app,
        "/api/accounts",
        None,
        "application/json",
        b"\xff\xfe{}".to_vec(),
    )
    .await;
    reply.expect_error(400, "bad_request");
    assert!(app.get("/api/tweets").await.expect(200).items().is_empty());
}

async fn json_of_the_wrong_shape_is_422(app: TestApp) {
    let token = app.user("alice").await;
    let cases = [
        (
            "/api/accounts",
            json!({"username": 5, "password": "correct horse"}),
        ),
        ("/api/accounts", json!({"username": "bob"})),
        (
            "/api/accounts",
            json!({"username": "bob", "password": "correct horse", "admin": true}),
        ),
        ("/api/accounts", json!([])),
        ("/api/accounts", json!("bob")),
        ("/api/accounts", json!(null)),
        ("/api/sessions", json!({})),
        ("/api/tweets", json!({"text": ["a"]})),
        ("/api/tweets", json!({"text": "a", "reply_to": "1"})),
        ("/api/tweets", json!({"text": "a", "reply_to": 1.5})),
        ("/api/tweets", json!({"text": "a", "reply_to": 1e30})),
        (
            "/api/tweets",
            json!({"text": "a", "reply_to": 9_223_372_036_854_775_808_u64}),
        ),
        ("/api/tweets", json!({"text": "a", "category": 7})),
        ("/api/tweets", json!({"body": "a"})),
        ("/api/categories", json!({"slug": "news"})),
        (
            "/api/categories",
            json!({"slug": "news", "name": "News", "description": false}),
        ),
    ];
    for (path, body) in cases {
        let reply = app.post(path, Some(&token), body.clone()).await;
        let what = format!("POST {path} {body}");
        client_error(&reply, &what);
        assert_eq!(reply.status.as_u16(), 422, "{what}: {:?}", reply.body);
        assert_eq!(reply.code(), "validation_failed", "{what}");
    }
    assert!(app.get("/api/tweets").await.expect(200).items().is_empty());
    assert!(
        app.get("/api/categories")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    assert_eq!(app.get("/api/accounts").await.expect(200).items().len(), 1);
}

async fn bodies_must_be_sent_as_json(app: TestApp) {
    let token = app.user("alice").await;
    let body = br#"{"text": "hello"}"#.to_vec();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/xml",
    ] {
        post_raw(
            &app,
            "/api/tweets",
            Some(&token),
            content_type,
            body.clone(),
        )
        .await
        .expect_error(415, "unsupported_media_type");
    }
    let req = app
        .request(Method::POST, "/api/tweets")
        .bearer_auth(&token)
        .body(body.clone());
    app.send(req)
        .await
        .expect_error(415, "unsupported_media_type");
    assert!(app.get("/api/tweets").await.expect(200).items().is_empty());
    // Parameters of the JSON media type are fine.
    post_raw(
        &app,
        "/api/tweets",
        Some(&token),
        "application/json; charset=utf-8",
        body,
    )
    .await
    .expect(201);
}

async fn bodies_over_64_kib_are_413(app: TestApp) {
    let token = app.user("alice").await;
    let big = json!({"text": "x".repeat(65 * 1024)});
    app.post("/api/tweets", Some(&token), big.clone())
        .await
        .expect_error(413, "payload_too_large");
    app.post(
        "/api/accounts",
        None,
        json!({"username": "bob", "password": "y".repeat(70_000)}),
    )
    .await
    .expect_error(413, "payload_too_large");
    app.patch("/api/me", &token, json!({"bio": "b".repeat(200_000)}))
        .await
        .expect_error(413, "payload_too_large");
    // Just under the limit the body is read, and the text judged on its own.
    let reply = app
        .post(
            "/api/tweets",
            Some(&token),
            json!({"text": "x".repeat(60 * 1024)}),
        )
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(reply.body["error"]["field"], "text");
    assert!(app.get("/api/tweets").await.expect(200).items().is_empty());
}

async fn unknown_routes_are_404_json(app: TestApp) {
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::GET, "/nope"),
        (Method::GET, "/api"),
        (Method::GET, "/api/tweets/1/nope"),
        (Method::POST, "/api/tweets/1/retweet"),
        (Method::GET, "/api/accounts/alice/tweets/extra"),
        (Method::DELETE, "/api/nothing/here"),
        (Method::GET, "/api/%00"),
    ] {
        app.call(method, path, None, None)
            .await
            .expect_error(404, "not_found");
    }
}

async fn wrong_methods_are_405_json(app: TestApp) {
    for (method, path) in [
        (Method::PUT, "/api/tweets"),
        (Method::DELETE, "/api/tweets"),
        (Method::PUT, "/api/tweets/1"),
        (Method::DELETE, "/api/accounts"),
        (Method::POST, "/api/me"),
        (Method::GET, "/api/sessions"),
        (Method::GET, "/api/sessions/current"),
        (Method::GET, "/api/tweets/1/likes"),
        (Method::PATCH, "/api/categories"),
        (Method::POST, "/api/hashtags"),
        (Method::POST, "/healthz"),
        (Method::POST, "/api/timelines/home"),
    ] {
        let what = format!("{method} {path}");
        let reply = app.call(method, path, None, None).await;
        assert_eq!(reply.status.as_u16(), 405, "{what}: {:?}", reply.body);
        assert_eq!(reply.code(), "method_not_allowed", "{what}");
    }
}

async fn odd_paths_and_queries_never_yield_5xx(app: TestApp) {
    let alice = app.user("alice").await;
    let id = app.tweet_id(&alice, "something #tag").await;
    // Requests go out as someone else, so none may change alice's tweet.
    let token = app.user("bob").await;
    let huge = "99999999999999999999999999999";
    let max = i64::MAX.to_string();
    let min = i64::MIN.to_string();
    let ids = [
        "%00",
        huge,
        &max,
        &min,
        "-0",
        "+1",
        "%FF",
        "%C0%80",
        "1%00",
        " 1",
        "%F0%9F%90%A6",
        &"9".repeat(5000),
    ];
    let mut requests = Vec::new();
    for i in ids {
        for (method, path) in [
            (Method::GET, format!("/api/tweets/{i}")),
            (Method::GET, format!("/api/tweets/{i}/replies")),
            (Method::POST, format!("/api/tweets/{i}/likes")),
            (Method::DELETE, format!("/api/tweets/{i}")),
            (Method::GET, format!("/api/accounts/{i}")),
            (Method::GET, format!("/api/accounts/{i}/tweets")),
            (Method::GET, format!("/api/accounts/{i}/followers")),
            (Method::POST, format!("/api/accounts/{i}/follow")),
            (Method::DELETE, format!("/api/accounts/{i}/follow")),
            (Method::GET, format!("/api/categories/{i}")),
        ] {
            requests.push((method, path, None));
        }
        requests.push((
            Method::PATCH,
            format!("/api/tweets/{i}"),
            Some(json!({"text": "x"})),
        ));
        for param in ["limit", "cursor", "q", "hashtag", "author", "category"] {
            requests.push((Method::GET, format!("/api/tweets?{param}={i}"), None));
        }
        for path in [
            "/api/accounts",
            "/api/categories",
            "/api/timelines/home",
            "/api/accounts/alice/followers",
        ] {
            requests.push((Method::GET, format!("{path}?limit={i}&cursor={i}"), None));
        }
        requests.push((Method::GET, format!("/api/accounts?q={i}"), None));
        requests.push((Method::GET, format!("/api/hashtags?q={i}&limit={i}"), None));
    }
    for cursor in [
        "azE6OTIyMzM3MjAzNjg1NDc3NTgwNw",
        "azE6LTkyMjMzNzIwMzY4NTQ3NzU4MDg",
        "azE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk",
    ] {
        requests.push((Method::GET, format!("/api/tweets?cursor={cursor}"), None));
    }
    for body in [
        json!({"text": "x", "reply_to": i64::MAX}),
        json!({"text": "x", "reply_to": i64::MIN}),
        json!({"text": "x\u{0}y", "category": "x\u{0}"}),
        json!({"text": "\u{0}".repeat(300)}),
        json!({"text": "\u{fffd}\u{feff}\u{202e}\u{200b}"}),
        json!({"text": format!("#{}", "t".repeat(5000))}),
    ] {
        requests.push((Method::POST, "/api/tweets".to_owned(), Some(body)));
    }
    requests.push((
        Method::PATCH,
        "/api/me".to_owned(),
        Some(json!({"display_name": "\u{0}", "bio": "\u{0}"})),
    ));
    requests.push((
        Method::PATCH,
        format!("/api/tweets/{id}"),
        Some(json!({"text": "a\u{0}"})),
    ));
    requests.push((
        Method::POST,
        "/api/accounts".to_owned(),
        Some(json!({"username": "\u{0}\u{0}\u{0}", "password": "\u{0}".repeat(8)})),
    ));
    requests.push((
        Method::POST,
        "/api/sessions".to_owned(),
        Some(json!({"username": "alice\u{0}", "password": "\u{0}"})),
    ));
    requests.push((
        Method::POST,
        "/api/categories".to_owned(),
        Some(json!({"slug": "x", "name": "\u{0}"})),
    ));

    for (method, path, body) in requests {
        let what = format!("{method} {path}");
        let reply = app.call(method, &path, Some(&token), body).await;
        let status = reply.status.as_u16();
        assert!(status < 500, "{what}: {status} {:?}", reply.body);
        if status >= 400 {
            client_error(&reply, &what);
        }
    }
    // The tweet is untouched by all of that.
    let t = app.get(&format!("/api/tweets/{id}")).await.expect(200).body;
    assert_eq!(t["text"], "something #tag");
    assert!(t["like_count"].as_i64().is_some());
}

both!(
    bad_input_is_said_in_our_words_naming_the_field,
    malformed_json_is_400,
    json_of_the_wrong_shape_is_422,
    bodies_must_be_sent_as_json,
    bodies_over_64_kib_are_413,
    unknown_routes_are_404_json,
    wrong_methods_are_405_json,
    odd_paths_and_queries_never_yield_5xx,
);
