//! Finding tweets: the filters of GET /api/tweets, full-text search and
//! the hashtag index.

use serde_json::{Value, json};

use crate::helpers::{TestApp, both, ids};

/// Ids of `GET /api/tweets?{query}`.
async fn found(app: &TestApp, query: &str) -> Vec<i64> {
    app.get(&format!("/api/tweets?{query}"))
        .await
        .expect(200)
        .ids()
}

async fn filter_by_author_in_any_case(app: TestApp) {
    let alice = app.user("Alice").await;
    let bob = app.user("bob").await;
    let a1 = app.tweet_id(&alice, "one").await;
    let b1 = app.tweet_id(&bob, "two").await;
    let a2 = app.tweet_id(&alice, "three").await;
    for name in ["Alice", "alice", "ALICE", "%20alice%20"] {
        assert_eq!(
            found(&app, &format!("author={name}")).await,
            [a2, a1],
            "author={name}"
        );
    }
    assert_eq!(found(&app, "author=bob").await, [b1]);
    assert!(found(&app, "author=nobody").await.is_empty());
    // An empty filter is no filter.
    assert_eq!(found(&app, "author=").await, [a2, b1, a1]);
    for bad in ["a%20b", "ab", "%00", "bob-smith"] {
        let reply = app
            .get(&format!("/api/tweets?author={bad}"))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "author");
    }
}

async fn filter_by_hashtag_with_or_without_hash(app: TestApp) {
    let token = app.user("alice").await;
    let rust = app.tweet_id(&token, "I like #Rust").await;
    app.tweet_id(&token, "I like rust without a tag").await;
    let both = app
        .tweet_id(&token, "#rustlang is not #RUST's prefix twin")
        .await;
    app.tweet_id(&token, "only #rustlang here").await;
    for tag in ["rust", "Rust", "RUST", "%23rust", "%23Rust", "%20rust"] {
        assert_eq!(
            found(&app, &format!("hashtag={tag}")).await,
            [both, rust],
            "hashtag={tag}"
        );
    }
    assert!(
        found(&app, "hashtag=rus").await.is_empty(),
        "a tag filter is exact, not a prefix"
    );
    assert!(found(&app, "hashtag=python").await.is_empty());
    let tokyo = app.tweet_id(&token, "#東京 tonight").await;
    assert_eq!(found(&app, "hashtag=%E6%9D%B1%E4%BA%AC").await, [tokyo]);
    for bad in ["no%20spaces", "%23", "a-b", "%00", &"t".repeat(101)] {
        let reply = app
            .get(&format!("/api/tweets?hashtag={bad}"))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "hashtag", "hashtag={bad}");
    }
}

async fn full_text_search_needs_every_word(app: TestApp) {
    let token = app.user("alice").await;
    let a = app.tweet_id(&token, "The quick brown fox").await;
    let b = app.tweet_id(&token, "A quick lunch, then a nap").await;
    let c = app.tweet_id(&token, "Slow brown bear").await;
    assert_eq!(found(&app, "q=quick").await, [b, a]);
    assert_eq!(found(&app, "q=QUICK").await, [b, a]);
    assert_eq!(found(&app, "q=brown").await, [c, a]);
    assert_eq!(found(&app, "q=quick%20brown").await, [a]);
    assert_eq!(found(&app, "q=brown%20quick").await, [a]);
    assert_eq!(
        found(&app, "q=lunch").await,
        [b],
        "punctuation is not part of a word"
    );
    assert!(found(&app, "q=zebra").await.is_empty());
    assert!(found(&app, "q=quick%20zebra").await.is_empty());
    assert_eq!(
        found(&app, "q=%20%20").await,
        [c, b, a],
        "a blank query is no filter"
    );
    assert_eq!(ids(&app.walk("/api/tweets?q=brown", 1).await), [c, a]);
}

async fn search_syntax_in_queries_is_just_text(app: TestApp) {
    let token = app.user("alice").await;
    let id = app
        .tweet_id(&token, "quotes \"and\" stars* OR NOT (parens)")
        .await;
    for q in [
        "%22",
        "%22%22",
        "*",
        "OR",
        "NOT",
        "AND",
        "NEAR",
        "(",
        ")",
        "a%20OR",
        "-",
        "%5E",
        ":",
        "quotes%3A",
        "!!!",
        "%26%7C%21",
        "%27",
        "%5C",
        "%E2%80%8B",
        "text%3Aquotes",
        "%7B%7D",
    ] {
        let reply = app.get(&format!("/api/tweets?q={q}")).await;
        assert_eq!(reply.status.as_u16(), 200, "q={q}: {:?}", reply.body);
        let ids = reply.ids();
        assert!(ids.is_empty() || ids == [id], "q={q} found {ids:?}");
    }
    assert_eq!(found(&app, "q=quotes").await, [id]);
    assert_eq!(found(&app, "q=stars").await, [id]);
    for bad in ["%00", "a%07", &"q".repeat(201)] {
        let reply = app
            .get(&format!("/api/tweets?q={bad}"))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], "q");
    }
}

async fn filters_combine(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let a_rust = app.tweet_id(&alice, "shipping a crate today #rust").await;
    let a_go = app.tweet_id(&alice, "shipping a binary today #go").await;
    let b_rust = app.tweet_id(&bob, "reading the book #rust").await;
    let b_rust2 = app.tweet_id(&bob, "shipping my first crate #Rust").await;
    assert_eq!(found(&app, "author=alice&hashtag=rust").await, [a_rust]);
    assert_eq!(
        found(&app, "author=bob&hashtag=%23rust").await,
        [b_rust2, b_rust]
    );
    assert_eq!(
        found(&app, "hashtag=rust&q=shipping").await,
        [b_rust2, a_rust]
    );
    assert_eq!(found(&app, "author=alice&q=shipping").await, [a_go, a_rust]);
    assert_eq!(
        found(&app, "author=bob&hashtag=rust&q=crate").await,
        [b_rust2]
    );
    assert!(
        found(&app, "author=alice&hashtag=rust&q=book")
            .await
            .is_empty()
    );
    assert!(found(&app, "author=bob&hashtag=go").await.is_empty());
    assert_eq!(
        ids(&app.walk("/api/tweets?hashtag=rust", 1).await),
        [b_rust2, b_rust, a_rust]
    );
}

async fn edits_update_the_search_index(app: TestApp) {
    let token = app.user("alice").await;
    let id = app.tweet_id(&token, "first words about elephants").await;
    app.patch(
        &format!("/api/tweets/{id}"),
        &token,
        json!({"text": "second words about giraffes"}),
    )
    .await
    .expect(200);
    assert!(found(&app, "q=elephants").await.is_empty());
    assert_eq!(found(&app, "q=giraffes").await, [id]);
    assert_eq!(found(&app, "q=words").await, [id]);
}

/// The items of `GET /api/hashtags?{query}` as `(tag, count)`.
async fn tags(app: &TestApp, query: &str) -> Vec<(String, i64)> {
    let reply = app.get(&format!("/api/hashtags?{query}")).await.expect(200);
    assert!(reply.body["next_cursor"].is_null(), "{:?}", reply.body);
    reply
        .items()
        .iter()
        .map(|t: &Value| {
            (
                t["tag"].as_str().expect("tag").to_owned(),
                t["tweet_count"].as_i64().expect("tweet_count"),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected
        .iter()
        .map(|(t, n)| ((*t).to_owned(), *n))
        .collect()
}

async fn hashtags_are_searched_by_prefix_with_counts(app: TestApp) {
    let token = app.user("alice").await;
    for text in [
        "#rust #ruby",
        "#Rust again",
        "#RUST and #rustacean",
        "#ruby #go",
        "#go #rust",
        "#東京 #東北",
        "#rust #rust #RUST counted once",
    ] {
        app.tweet_id(&token, text).await;
    }
    assert_eq!(
        tags(&app, "q=ru").await,
        pairs(&[("rust", 5), ("ruby", 2), ("rustacean", 1)])
    );
    assert_eq!(
        tags(&app, "q=rust").await,
        pairs(&[("rust", 5), ("rustacean", 1)])
    );
    assert_eq!(
        tags(&app, "q=%23RUST").await,
        pairs(&[("rust", 5), ("rustacean", 1)])
    );
    assert_eq!(tags(&app, "q=rusta").await, pairs(&[("rustacean", 1)]));
    assert!(tags(&app, "q=python").await.is_empty());
    assert_eq!(
        tags(&app, "q=%E6%9D%B1").await,
        pairs(&[("東京", 1), ("東北", 1)])
    );
    // No prefix: every tag, most used first (ties by name).
    let all = tags(&app, "").await;
    assert_eq!(
        all,
        pairs(&[
            ("rust", 5),
            ("go", 2),
            ("ruby", 2),
            ("rustacean", 1),
            ("東京", 1),
            ("東北", 1)
        ])
    );
    assert_eq!(tags(&app, "q=").await, all);
    assert_eq!(tags(&app, "limit=2").await, all[..2]);
    for (query, field) in [
        ("q=a%20b", "q"),
        ("q=%00", "q"),
        ("q=a-", "q"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
    ] {
        let reply = app
            .get(&format!("/api/hashtags?{query}"))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], field, "{query}");
    }
}

async fn hashtag_counts_follow_edits_and_deletes(app: TestApp) {
    let token = app.user("alice").await;
    let a = app.tweet_id(&token, "#alpha #beta").await;
    let b = app.tweet_id(&token, "#alpha").await;
    assert_eq!(tags(&app, "").await, pairs(&[("alpha", 2), ("beta", 1)]));
    app.patch(
        &format!("/api/tweets/{a}"),
        &token,
        json!({"text": "#beta #gamma"}),
    )
    .await
    .expect(200);
    assert_eq!(
        tags(&app, "").await,
        pairs(&[("alpha", 1), ("beta", 1), ("gamma", 1)])
    );
    app.delete(&format!("/api/tweets/{b}"), &token)
        .await
        .expect(204);
    assert_eq!(tags(&app, "").await, pairs(&[("beta", 1), ("gamma", 1)]));
    assert!(tags(&app, "q=alpha").await.is_empty());
}

both!(
    filter_by_author_in_any_case,
    filter_by_hashtag_with_or_without_hash,
    full_text_search_needs_every_word,
    search_syntax_in_queries_is_just_text,
    filters_combine,
    edits_update_the_search_index,
    hashtags_are_searched_by_prefix_with_counts,
    hashtag_counts_follow_edits_and_deletes,
);
