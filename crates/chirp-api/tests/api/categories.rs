//! Categories, and tweets posted in them.

use serde_json::json;

use crate::helpers::{TestApp, both, ids};

async fn creating_a_category_needs_a_login(app: TestApp) {
    app.post(
        "/api/categories",
        None,
        json!({"slug": "rust", "name": "Rust"}),
    )
    .await
    .expect_error(401, "unauthorized");
    app.post(
        "/api/categories",
        Some("nonsense"),
        json!({"slug": "rust", "name": "Rust"}),
    )
    .await
    .expect_error(401, "invalid_token");
    assert!(
        app.get("/api/categories")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
}

async fn a_created_category_is_returned_and_shown(app: TestApp) {
    let token = app.user("alice").await;
    let c = app
        .post(
            "/api/categories",
            Some(&token),
            json!({"slug": "rust-lang", "name": "  Rust  ", "description": " All about Rust.\r\nAnd crabs. "}),
        )
        .await
        .expect(201)
        .body;
    assert!(c["id"].as_i64().is_some());
    assert_eq!(c["slug"], "rust-lang");
    assert_eq!(c["name"], "Rust");
    assert_eq!(c["description"], "All about Rust.\nAnd crabs.");
    assert!(
        c["created_at"]
            .as_str()
            .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
    );
    assert_eq!(
        app.get("/api/categories/rust-lang").await.expect(200).body,
        c
    );
    let plain = app.category(&token, "news", "News").await;
    assert_eq!(plain["description"], "");
}

async fn slugs_are_unique(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let first = app.category(&alice, "news", "News").await;
    app.post(
        "/api/categories",
        Some(&bob),
        json!({"slug": "news", "name": "Other news"}),
    )
    .await
    .expect_error(409, "conflict");
    assert_eq!(
        app.get("/api/categories/news").await.expect(200).body,
        first
    );
    assert_eq!(
        app.get("/api/categories").await.expect(200).items().len(),
        1
    );
}

async fn bad_categories_are_422_naming_the_field(app: TestApp) {
    let token = app.user("alice").await;
    let cases = [
        (json!({"slug": "Rust", "name": "Rust"}), "slug"),
        (json!({"slug": "", "name": "Rust"}), "slug"),
        (json!({"slug": "a/b", "name": "Rust"}), "slug"),
        (json!({"slug": "with space", "name": "Rust"}), "slug"),
        (json!({"slug": "snake_case", "name": "Rust"}), "slug"),
        (json!({"slug": "é", "name": "Rust"}), "slug"),
        (json!({"slug": "s".repeat(41), "name": "Rust"}), "slug"),
        (json!({"slug": "nul\u{0}", "name": "Rust"}), "slug"),
        (json!({"slug": "rust", "name": ""}), "name"),
        (json!({"slug": "rust", "name": "   "}), "name"),
        (json!({"slug": "rust", "name": "n".repeat(51)}), "name"),
        (json!({"slug": "rust", "name": "two\nlines"}), "name"),
        (
            json!({"slug": "rust", "name": "Rust", "description": "d".repeat(281)}),
            "description",
        ),
        (
            json!({"slug": "rust", "name": "Rust", "description": "nul\u{0}"}),
            "description",
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .post("/api/categories", Some(&token), body.clone())
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], field, "for {body}");
    }
    assert!(
        app.get("/api/categories")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    // The limits themselves are fine.
    app.post(
        "/api/categories",
        Some(&token),
        json!({"slug": "s".repeat(40), "name": "n".repeat(50), "description": "d".repeat(280)}),
    )
    .await
    .expect(201);
}

async fn categories_are_listed_newest_first(app: TestApp) {
    let token = app.user("alice").await;
    let mut created = Vec::new();
    for slug in ["a", "b", "c", "d", "e"] {
        created.push(
            app.category(&token, slug, &slug.to_uppercase()).await["id"]
                .as_i64()
                .expect("id"),
        );
    }
    created.reverse();
    let list = app.get("/api/categories").await.expect(200);
    assert_eq!(list.ids(), created);
    assert_eq!(list.items()[0]["slug"], "e");
    assert!(list.body["next_cursor"].is_null());
    assert_eq!(ids(&app.walk("/api/categories", 2).await), created);
    app.get("/api/categories?limit=0")
        .await
        .expect_error(422, "validation_failed");
}

async fn unknown_categories_are_404(app: TestApp) {
    let token = app.user("alice").await;
    app.category(&token, "news", "News").await;
    for slug in [
        "sports",
        "NEWS",
        "News",
        "a%20b",
        "%00",
        &"s".repeat(41),
        "%F0%9F%90%A6",
    ] {
        app.get(&format!("/api/categories/{slug}"))
            .await
            .expect_error(404, "not_found");
    }
}

/// Ids of `GET /api/tweets?{query}`.
async fn in_cat(app: &TestApp, query: &str) -> Vec<i64> {
    app.get(&format!("/api/tweets?{query}"))
        .await
        .expect(200)
        .ids()
}

async fn tweets_can_be_posted_in_a_category(app: TestApp) {
    let token = app.user("alice").await;
    app.category(&token, "news", "News").await;
    app.category(&token, "sports", "Sports").await;
    let t = app
        .post(
            "/api/tweets",
            Some(&token),
            json!({"text": "Big news", "category": "news"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(t["category"], "news");
    let id = t["id"].as_i64().expect("id");
    assert_eq!(
        app.get(&format!("/api/tweets/{id}")).await.expect(200).body["category"],
        "news"
    );
    let sport = app
        .tweet_with(
            &token,
            json!({"text": "Goal! #football", "category": "sports"}),
        )
        .await;
    let news2 = app
        .tweet_with(
            &token,
            json!({"text": "More news #football", "category": "news"}),
        )
        .await;
    let plain = app.tweet_id(&token, "no category #football").await;
    assert_eq!(in_cat(&app, "category=news").await, [news2, id]);
    assert_eq!(in_cat(&app, "category=sports").await, [sport]);
    assert_eq!(
        in_cat(&app, "category=news&hashtag=football").await,
        [news2]
    );
    assert_eq!(in_cat(&app, "category=news&q=big").await, [id]);
    assert_eq!(
        in_cat(&app, "category=news&author=alice").await,
        [news2, id]
    );
    assert!(in_cat(&app, "category=news&author=bob_x").await.is_empty());
    assert!(in_cat(&app, "category=empty").await.is_empty());
    assert_eq!(
        in_cat(&app, "hashtag=football").await,
        [plain, news2, sport]
    );
    assert_eq!(
        ids(&app.walk("/api/tweets?category=news", 1).await),
        [news2, id]
    );
    for bad in ["News", "a%20b", "%00"] {
        let reply = app
            .get(&format!("/api/tweets?category={bad}"))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "category");
    }
}

async fn unknown_or_bad_categories_are_refused_on_post(app: TestApp) {
    let token = app.user("alice").await;
    app.category(&token, "news", "News").await;
    for slug in ["nope", "NEWS", "bad slug", "nul\u{0}"] {
        let reply = app
            .post(
                "/api/tweets",
                Some(&token),
                json!({"text": "lost", "category": slug}),
            )
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "category", "for {slug:?}");
    }
    assert!(app.get("/api/tweets").await.expect(200).items().is_empty());
    assert_eq!(app.account("alice").await["tweets_count"], 0);
}

both!(
    creating_a_category_needs_a_login,
    a_created_category_is_returned_and_shown,
    slugs_are_unique,
    bad_categories_are_422_naming_the_field,
    categories_are_listed_newest_first,
    unknown_categories_are_404,
    tweets_can_be_posted_in_a_category,
    unknown_or_bad_categories_are_refused_on_post,
);
