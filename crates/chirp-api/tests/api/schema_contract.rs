//! What schemathesis with every check found (scripts/schemathesis): places
//! where the server and its OpenAPI document disagreed. Each test failed
//! before its fix.

use serde_json::json;

use crate::helpers::{TestApp, both};

/// JSON has one number type and JSON Schema counts `3.0` as the integer 3:
/// a whole number written with a fraction part is that integer. `3.5` is not.
async fn whole_numbers_written_with_a_fraction_are_integers(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "first").await;
    let reply = app
        .post(
            "/api/tweets",
            Some(&token),
            json!({"text": "an answer", "reply_to": id as f64}),
        )
        .await
        .expect(201);
    assert_eq!(reply.body["reply_to"], id);
    app.post(
        "/api/tweets",
        Some(&token),
        json!({"text": "an answer", "reply_to": id as f64 + 0.5}),
    )
    .await
    .expect_error(422, "validation_failed");
    app.post(
        "/api/notifications/read",
        Some(&token),
        json!({"up_to": 40.0}),
    )
    .await
    .expect(200);
    app.post(
        "/api/notifications/read",
        Some(&token),
        json!({"up_to": 40.5}),
    )
    .await
    .expect_error(422, "validation_failed");
}

/// The document says `limit` and `/logs`' counts are integers (int64):
/// an empty value or one beyond int64 is refused, not read as a default.
async fn counts_outside_their_documented_type_are_refused(app: TestApp) {
    app.get("/api/accounts?limit=")
        .await
        .expect_error(422, "validation_failed");
    app.get("/api/hashtags?limit=")
        .await
        .expect_error(422, "validation_failed");
    app.get("/logs?offset=9223372036854775808")
        .await
        .expect_error(422, "validation_failed");
    app.get("/logs?limit=")
        .await
        .expect_error(422, "validation_failed");
    app.get("/logs?offset=9223372036854775807")
        .await
        .expect(200);
}

/// Cursors are 12 characters of one documented pattern: every string of
/// it is a cursor (a forged one just pages from its key), nothing else is,
/// and an empty cursor is the first page.
async fn cursors_are_exactly_the_documented_pattern(app: TestApp) {
    let token = app.user("alice").await;
    for i in 0..3 {
        app.tweet_id(&token, &format!("tweet {i}")).await;
    }
    let first = app.get("/api/tweets?limit=2").await.expect(200).body;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    assert_eq!(cursor.len(), 12, "{cursor}");
    let next = app
        .get(&format!("/api/tweets?limit=2&cursor={cursor}"))
        .await
        .expect(200)
        .body;
    assert_eq!(next["items"].as_array().map(Vec::len), Some(1));
    app.get("/api/tweets?cursor=").await.expect(200);
    app.get("/api/tweets?cursor=Af__________").await.expect(200);
    for forged in ["AP__________", "Ag__________", "azE6MTIz", "AQAAAAAAAAAAAA"] {
        app.get(&format!("/api/tweets?cursor={forged}"))
            .await
            .expect_error(422, "validation_failed");
    }
    let doc = app.get("/api/openapi.json").await.expect(200).body;
    let params = doc["paths"]["/api/tweets"]["get"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let documented = params
        .iter()
        .find(|p| p["name"] == "cursor")
        .map(|p| p["schema"]["pattern"].clone());
    assert_eq!(
        documented,
        Some(json!(chirp_core::page::CURSOR_PATTERN)),
        "{params:?}"
    );
}

/// The request bodies' rules are in the document, so a generated
/// "valid" body is one the server takes: lengths, patterns, required
/// query parameters.
async fn the_document_states_the_rules_of_each_field(app: TestApp) {
    let doc = app.get("/api/openapi.json").await.expect(200).body;
    let schema = |name: &str| doc["components"]["schemas"][name]["properties"].clone();
    let tweet = schema("NewTweetBody");
    assert_eq!(tweet["text"]["minLength"], 1);
    assert_eq!(tweet["text"]["maxLength"], 280);
    assert!(tweet["text"]["pattern"].is_string(), "{tweet}");
    let account = schema("NewAccountBody");
    assert_eq!(account["username"]["pattern"], "^[A-Za-z0-9_]{3,30}$");
    assert_eq!(account["password"]["minLength"], 8);
    assert_eq!(account["password"]["maxLength"], 128);
    assert_eq!(schema("NewMessageBody")["text"]["maxLength"], 1000);
    assert_eq!(
        schema("NewCategoryBody")["slug"]["pattern"],
        "^[a-z0-9-]{1,40}$"
    );
    let with = doc["paths"]["/api/messages"]["get"]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "with")
        .cloned()
        .unwrap_or_default();
    assert_eq!(with["required"], true, "{with}");
}

/// Text the document calls valid is taken as it is: inner newlines and
/// tabs, letters of any script; text it calls invalid (blank, a control
/// character) is refused.
async fn text_that_fits_the_documented_pattern_is_accepted(app: TestApp) {
    let token = app.user("alice").await;
    for ok in [
        "a",
        "line one\nline two",
        "tab\there",
        "żółw 🐢",
        "a\u{2028}b",
    ] {
        app.post("/api/tweets", Some(&token), json!({"text": ok}))
            .await
            .expect(201);
    }
    for bad in ["", "a\u{0007}b", "a\u{0085}b"] {
        app.post("/api/tweets", Some(&token), json!({"text": bad}))
            .await
            .expect_error(422, "validation_failed");
    }
}

both!(
    whole_numbers_written_with_a_fraction_are_integers,
    counts_outside_their_documented_type_are_refused,
    cursors_are_exactly_the_documented_pattern,
    the_document_states_the_rules_of_each_field,
    text_that_fits_the_documented_pattern_is_accepted,
);
