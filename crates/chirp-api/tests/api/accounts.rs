//! Accounts: sign-up, listing and search, looking one up.

use serde_json::json;

use crate::helpers::{TestApp, both, ids, newest_first};

async fn sign_up_returns_the_new_account(app: TestApp) {
    let reply = app
        .post(
            "/api/accounts",
            None,
            json!({"username": "Alice", "password": "correct horse", "display_name": "Alice L.", "bio": "hi"}),
        )
        .await
        .expect(201);
    let a = &reply.body;
    assert_eq!(a["username"], "Alice");
    assert_eq!(a["display_name"], "Alice L.");
    assert_eq!(a["bio"], "hi");
    assert_eq!(a["protected"], false);
    assert_eq!(a["followers_count"], 0);
    assert_eq!(a["following_count"], 0);
    assert_eq!(a["tweets_count"], 0);
    assert!(a["id"].as_i64().is_some());
    assert!(
        a["created_at"]
            .as_str()
            .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
    );
    assert!(a.get("password_hash").is_none(), "hash leaked: {a}");
    assert!(a.get("password").is_none(), "password leaked: {a}");
    assert_eq!(reply.headers["location"], "/api/accounts/Alice");
    // What sign-up answered is what the API shows from then on.
    assert_eq!(app.account("Alice").await, *a);
}

async fn optional_fields_default_to_empty_and_are_trimmed(app: TestApp) {
    let a = app.register("bob").await;
    assert_eq!(a["display_name"], "");
    assert_eq!(a["bio"], "");
    let c = app
        .post(
            "/api/accounts",
            None,
            json!({"username": "carol", "password": "correct horse", "display_name": "  Carol  ", "bio": " line one\r\nline two "}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(c["display_name"], "Carol");
    assert_eq!(c["bio"], "line one\nline two");
}

async fn usernames_are_unique_regardless_of_case(app: TestApp) {
    app.register("alice").await;
    for taken in ["alice", "ALICE", "aLiCe"] {
        app.post(
            "/api/accounts",
            None,
            json!({"username": taken, "password": "another pass"}),
        )
        .await
        .expect_error(409, "conflict");
    }
    assert_eq!(app.get("/api/accounts").await.expect(200).items().len(), 1);
}

async fn invalid_sign_up_fields_are_422_naming_the_field(app: TestApp) {
    let long = |n: usize| "x".repeat(n);
    let cases = [
        (
            json!({"username": "ab", "password": "correct horse"}),
            "username",
        ),
        (
            json!({"username": long(31), "password": "correct horse"}),
            "username",
        ),
        (
            json!({"username": "bob smith", "password": "correct horse"}),
            "username",
        ),
        (
            json!({"username": "bob-smith", "password": "correct horse"}),
            "username",
        ),
        (
            json!({"username": "bøb", "password": "correct horse"}),
            "username",
        ),
        (
            json!({"username": "bob\u{0}", "password": "correct horse"}),
            "username",
        ),
        (
            json!({"username": "", "password": "correct horse"}),
            "username",
        ),
        (json!({"username": "bob", "password": "short"}), "password"),
        (
            json!({"username": "bob", "password": long(129)}),
            "password",
        ),
        (
            json!({"username": "bob", "password": "Password123"}),
            "password",
        ),
        (
            json!({"username": "bob", "password": "correct\u{0}horse"}),
            "password",
        ),
        (
            json!({"username": "bob", "password": "correct horse", "display_name": long(51)}),
            "display_name",
        ),
        (
            json!({"username": "bob", "password": "correct horse", "display_name": "two\nlines"}),
            "display_name",
        ),
        (
            json!({"username": "bob", "password": "correct horse", "display_name": "nul\u{0}"}),
            "display_name",
        ),
        (
            json!({"username": "bob", "password": "correct horse", "bio": long(161)}),
            "bio",
        ),
        (
            json!({"username": "bob", "password": "correct horse", "bio": "bell\u{7}"}),
            "bio",
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .post("/api/accounts", None, body.clone())
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], field, "for {body}");
    }
    assert!(
        app.get("/api/accounts")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
}

async fn limits_of_names_and_passwords_are_inclusive(app: TestApp) {
    let name30 = "a".repeat(30);
    for (username, password) in [
        ("abc", "12345678x".to_owned()),
        (name30.as_str(), "y".repeat(128)),
        // Eight emoji are eight characters, though 32 bytes.
        ("emoji_pw", "🐦🐦🐦🐦🐦🐦🐦🐦".to_owned()),
    ] {
        app.post(
            "/api/accounts",
            None,
            json!({"username": username, "password": password}),
        )
        .await
        .expect(201);
        app.post(
            "/api/sessions",
            None,
            json!({"username": username, "password": password}),
        )
        .await
        .expect(201);
    }
    app.post(
        "/api/accounts",
        None,
        json!({"username": "fifty", "password": "correct horse", "display_name": "d".repeat(50), "bio": "b".repeat(160)}),
    )
    .await
    .expect(201);
}

async fn accounts_are_listed_newest_first(app: TestApp) {
    let mut created = Vec::new();
    for name in ["first", "second", "third"] {
        created.push(app.register(name).await["id"].as_i64().expect("id"));
    }
    let list = app.get("/api/accounts").await.expect(200);
    created.reverse();
    assert_eq!(list.ids(), created);
    assert_eq!(list.items()[0]["username"], "third");
    assert!(list.body["next_cursor"].is_null());
}

async fn search_matches_usernames_and_display_names_in_any_case(app: TestApp) {
    for (name, display) in [
        ("alice", "Alice in Wonderland"),
        ("bob", "Bobby Tables"),
        ("carol", "Wonderland Fan"),
        ("dave", ""),
    ] {
        app.post(
            "/api/accounts",
            None,
            json!({"username": name, "password": "correct horse", "display_name": display}),
        )
        .await
        .expect(201);
    }
    let names = |reply: crate::helpers::Reply| -> Vec<String> {
        reply
            .items()
            .iter()
            .map(|a| a["username"].as_str().expect("username").to_owned())
            .collect()
    };
    assert_eq!(
        names(app.get("/api/accounts?q=ALI").await.expect(200)),
        ["alice"]
    );
    assert_eq!(
        names(app.get("/api/accounts?q=tables").await.expect(200)),
        ["bob"]
    );
    // "wonder" is in alice's display name and carol's: newest first.
    assert_eq!(
        names(app.get("/api/accounts?q=WONDER").await.expect(200)),
        ["carol", "alice"]
    );
    assert!(
        app.get("/api/accounts?q=zed")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    // LIKE wildcards are matched literally, not as wildcards.
    assert!(
        app.get("/api/accounts?q=%25")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    assert!(
        app.get("/api/accounts?q=_")
            .await
            .expect(200)
            .items()
            .is_empty()
    );
    // A blank query lists everyone.
    assert_eq!(
        app.get("/api/accounts?q=%20%20")
            .await
            .expect(200)
            .items()
            .len(),
        4
    );
    // Case is ignored in any script, not only in ASCII.
    let token = app.user("emile").await;
    app.patch("/api/me", &token, json!({"display_name": "Émile Ärger"}))
        .await
        .expect(200);
    for q in ["Émile", "émile", "%C3%89MILE", "%C3%A4rger", "%C3%84RGER"] {
        assert_eq!(
            names(app.get(&format!("/api/accounts?q={q}")).await.expect(200)),
            ["emile"],
            "q={q}"
        );
    }
    let too_long = "q".repeat(201);
    let reply = app
        .get(&format!("/api/accounts?q={too_long}"))
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(reply.body["error"]["field"], "q");
}

async fn paging_walks_every_account_exactly_once(app: TestApp) {
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            app.register(&format!("user{i}")).await["id"]
                .as_i64()
                .expect("id"),
        );
    }
    created.reverse();
    for limit in [1, 3, 7, 100] {
        let all = ids(&app.walk("/api/accounts", limit).await);
        assert_eq!(all, created, "limit {limit}");
    }
    // Paging works on a search too.
    let found = ids(&app.walk("/api/accounts?q=user", 2).await);
    assert_eq!(found, created);
    assert!(newest_first(&found));
}

async fn bad_paging_parameters_are_422(app: TestApp) {
    app.register("alice").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("cursor=garbage", "cursor"),
        ("cursor=12345", "cursor"),
        ("cursor=%00", "cursor"),
    ] {
        let reply = app
            .get(&format!("/api/accounts?{query}"))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], field, "for {query}");
    }
    // The bounds themselves are fine.
    assert_eq!(
        app.get("/api/accounts?limit=1")
            .await
            .expect(200)
            .items()
            .len(),
        1
    );
    assert_eq!(
        app.get("/api/accounts?limit=100")
            .await
            .expect(200)
            .items()
            .len(),
        1
    );
}

async fn accounts_are_found_by_name_in_any_case(app: TestApp) {
    let created = app.register("Alice").await;
    for name in ["Alice", "alice", "ALICE"] {
        let a = app.account(name).await;
        assert_eq!(a, created);
        assert_eq!(a["username"], "Alice", "the original spelling is kept");
    }
}

async fn unknown_and_impossible_names_are_404(app: TestApp) {
    app.register("alice").await;
    for name in [
        "nobody",
        "a%20b",
        "%00",
        "ab",
        "al",
        &"a".repeat(31),
        "%F0%9F%90%A6",
        "alice%00",
    ] {
        for suffix in ["", "/tweets", "/followers", "/following"] {
            app.get(&format!("/api/accounts/{name}{suffix}"))
                .await
                .expect_error(404, "not_found");
        }
    }
}

both!(
    sign_up_returns_the_new_account,
    optional_fields_default_to_empty_and_are_trimmed,
    usernames_are_unique_regardless_of_case,
    invalid_sign_up_fields_are_422_naming_the_field,
    limits_of_names_and_passwords_are_inclusive,
    accounts_are_listed_newest_first,
    search_matches_usernames_and_display_names_in_any_case,
    paging_walks_every_account_exactly_once,
    bad_paging_parameters_are_422,
    accounts_are_found_by_name_in_any_case,
    unknown_and_impossible_names_are_404,
);
