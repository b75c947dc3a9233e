//! What a newcomer reads: counts with the right nouns, "chirp" for what
//! the API calls a tweet, who a reply answers, the counter, a refused
//! chirp shown again where it was written, and the small files every
//! browser and crawler asks for.

use crate::helpers::{Browser, TestSite, newest_tweet_id, spawn, spawn_over_http};

#[tokio::test]
async fn counts_say_one_follower_and_two_chirps() {
    let site = spawn().await;
    let ann = Browser::new(&site);
    ann.sign_up("ann", "").await.expect(200);
    let ben = Browser::new(&site);
    ben.sign_up("ben", "").await.expect(200);
    ben.submit("/@ann/follow", &[("action", "follow")])
        .await
        .expect(200);
    ann.post_tweet("one").await.expect(200);
    let id = newest_tweet_id(&site.base).await;
    ann.post_tweet("two #words").await.expect(200);
    ben.submit(&format!("/tweets/{id}"), &[("text", "a reply")])
        .await
        .expect(200);

    let profile = ben.get("/@ann").await.expect(200);
    assert!(
        profile.body.contains("<strong>1</strong> follower</a>"),
        "{}",
        profile.body
    );
    assert!(profile.body.contains("<strong>2</strong> chirps</span>"));
    let own = ben.get("/@ben").await.expect(200);
    assert!(own.body.contains("<strong>0</strong> followers</a>"));
    assert!(own.body.contains("<strong>1</strong> chirp</span>"));
    let page = ben.get(&format!("/tweets/{id}")).await.expect(200);
    assert!(page.body.contains(">1 reply</a>"), "{}", page.body);
    assert!(
        page.body.contains(">0 replies</a>"),
        "the reply's own count"
    );
    assert!(
        page.body
            .contains(r#"<span class="visually-hidden like-noun"> likes</span>"#)
    );
    let search = ben.get("/search?q=words").await.expect(200);
    assert!(search.body.contains("1 chirp</span>"), "{}", search.body);
    ann.submit(&format!("/tweets/{id}/like"), &[]).await;
    let liked = ben.get(&format!("/tweets/{id}")).await.expect(200);
    assert!(
        liked
            .body
            .contains(r#"<span class="visually-hidden like-noun"> like</span>"#)
    );
}

#[tokio::test]
async fn the_site_says_chirp_and_who_a_reply_answers() {
    let site = spawn().await;
    let ann = Browser::new(&site);
    ann.sign_up("ann", "").await.expect(200);
    ann.post_tweet("the first word").await.expect(200);
    let id = newest_tweet_id(&site.base).await;
    let ben = Browser::new(&site);
    ben.sign_up("ben", "").await.expect(200);
    ben.submit(&format!("/tweets/{id}"), &[("text", "the second word")])
        .await
        .expect(200);
    let reply = newest_tweet_id(&site.base).await;

    let public = ben.get("/public").await.expect(200);
    assert!(
        public
            .body
            .contains(&format!(r#"<a href="/tweets/{id}">Replying to @ann</a>"#)),
        "{}",
        public.body
    );
    assert!(!public.body.contains("Replying to a chirp"));
    let alone = ben.get(&format!("/tweets/{reply}")).await.expect(200);
    assert!(alone.body.contains("Replying to @ann"), "{}", alone.body);
    let profile = ben.get("/@ben").await.expect(200);
    assert!(profile.body.contains("Replying to @ann"));

    // The API's "tweet not found", in the site's word.
    let missing = ben.get("/tweets/999999").await.expect(404);
    assert!(missing.body.contains("chirp not found"), "{}", missing.body);
    assert!(
        !missing.body.to_lowercase().contains("tweet"),
        "{}",
        missing.body
    );
}

#[tokio::test]
async fn a_refused_chirp_is_shown_again_where_it_was_written() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("cat", "").await.expect(200);
    b.submit("/c", &[("slug", "cats"), ("name", "Cats")])
        .await
        .expect(200);
    let long = "y".repeat(281);

    let home = b.get("/").await.expect(200);
    assert!(
        home.body.contains(r#"method="post" action="/""#),
        "{}",
        home.body
    );
    assert!(home.body.contains(">280 characters left</output>"));
    let refused = b.submit("/", &[("text", &long)]).await.expect(422);
    assert!(refused.body.contains(&long), "the text is kept");
    assert!(refused.body.contains(r#"class="error""#));
    assert!(refused.body.contains(">1 character too many</output>"));

    let category = b.get("/c/cats").await.expect(200);
    assert!(category.body.contains(r#"method="post" action="/c/cats""#));
    let refused = b.submit("/c/cats", &[("text", "  ")]).await;
    assert!(
        refused.status == 422 || refused.status == 400,
        "{}",
        refused.status
    );
    assert!(refused.body.contains("<h1>Cats</h1>"), "{}", refused.body);
    let posted = b.submit("/c/cats", &[("text", "in the right place")]).await;
    assert!(posted.expect(200).body.contains("in the right place"));
    let id = newest_tweet_id(&site.base).await;
    let tweet = crate::helpers::api_get(&site.base, &format!("/api/tweets/{id}")).await;
    assert_eq!(tweet["category"], "cats");

    let page = b.get(&format!("/tweets/{id}")).await.expect(200);
    assert!(page.body.contains(&format!(r#"action="/tweets/{id}""#)));
    let refused = b.submit(&format!("/tweets/{id}"), &[("text", &long)]).await;
    let refused = refused.expect(422);
    assert!(refused.body.contains(&long) && refused.body.contains("in the right place"));
}

async fn small_files_and_unknown_pages(site: &TestSite) {
    let b = Browser::new(site);
    let icon = b.get("/favicon.svg").await.expect(200);
    assert_eq!(icon.header("content-type"), "image/svg+xml");
    assert!(icon.body.starts_with("<svg"));
    let ico = b.get("/favicon.ico").await;
    assert!(ico.status == 301 || ico.status == 308, "{}", ico.status);
    assert_eq!(ico.header("location"), "/favicon.svg");
    let robots = b.get("/robots.txt").await.expect(200);
    assert_eq!(robots.header("content-type"), "text/plain; charset=utf-8");
    assert!(robots.body.contains("User-agent: *"));
    let home = b.get("/").await.expect(200);
    assert!(
        home.body
            .contains(r#"<link rel="icon" href="/favicon.svg""#)
    );
    for path in ["/no-such-page", "/static/nothing.css", "/tweets/1/nothing"] {
        let page = b.get(path).await.expect(404);
        assert!(
            page.header("content-type").starts_with("text/html"),
            "{path}: {}",
            page.header("content-type")
        );
        assert!(
            page.body.contains("There is nothing at this address."),
            "{path}"
        );
    }
}

#[tokio::test]
async fn favicon_robots_and_unknown_pages_in_the_embedded_shape() {
    small_files_and_unknown_pages(&spawn().await).await;
}

#[tokio::test]
async fn favicon_robots_and_unknown_pages_over_http() {
    small_files_and_unknown_pages(&spawn_over_http().await.0).await;
}

#[tokio::test]
async fn cards_show_a_generated_avatar_and_a_relative_time() {
    let site = spawn().await;
    let b = Browser::new(&site);
    b.sign_up("ada", "Ada").await.expect(200);
    b.post_tweet("just now").await.expect(200);
    let home = b.get("/").await.expect(200);
    let card = &home.body[home.body.find("<article class=\"tweet\"").expect("a card")..];
    assert!(card.contains(r#"<svg class="avatar""#), "{card}");
    assert!(card.contains(r#"aria-hidden="true""#));
    assert!(card.contains(">A</text>"), "the initial: {card}");
    assert!(card.contains(" data-relative>now</time>"), "{card}");
    assert!(card.contains(r#"title="20"#), "the exact time on hover");
    // The same colour wherever ada appears.
    let hue = |page: &str| {
        let at = page.find("fill=\"hsl(").expect("an avatar") + "fill=\"hsl(".len();
        page[at..at + page[at..].find(',').expect("hue")].to_owned()
    };
    let profile = b.get("/@ada").await.expect(200);
    assert!(profile.body.contains(r#"<svg class="avatar large""#));
    assert_eq!(hue(&profile.body), hue(card));
    let people = b.get("/search?q=ada").await.expect(200);
    let people = &people.body[people.body.find("search-accounts").expect("people")..];
    assert_eq!(hue(people), hue(card));
}
