//! How often the list cache answers while tweets arrive at a steady rate
//! (docs/PERFORMANCE.md, "List cache under a steady posting rate").
//!
//! A [`CachedStore`] over SQLite with the memory backend. One loop ticks
//! every 10 ms: every 20th tick posts a tweet (5 posts/s) by one of 50
//! accounts, a fifth of them tagged `#rust`; every other tick reads one
//! list, in turn: the public timeline, three user timelines, `#rust`, and
//! three home timelines (each reader follows 10 accounts). A read counts as
//! a hit when it sent no statement to the database (`db_counts()`), which
//! also needs its tweets to be cached. One task does both, so the counts of
//! a read are its own.
//!
//! ```text
//! CHIRP_BENCH_SECS=30 cargo test -p chirp-store --test list_cache_rate -- --ignored --nocapture
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chirp_core::hashtags::extract_hashtags;
use chirp_core::model::{Account, FollowState};
use chirp_core::page::Page;
use chirp_core::text::{Bio, DisplayName, TweetText, Username};
use chirp_store::cache::CachedStore;
use chirp_store::cache::backend::{CacheBackend, MemoryBackend};
use chirp_store::sql::PoolConfig;
use chirp_store::{
    AccountStore, HealthStore, NewAccount, NewTweet, SocialStore, SqlStore, Store, TweetFilter,
    TweetStore,
};

const ACCOUNTS: usize = 50;
const FOLLOWS_PER_READER: usize = 10;
const TICK: Duration = Duration::from_millis(10);
/// One post every this many ticks: 5 posts/s.
const POST_EVERY: u64 = 20;

/// A small deterministic generator, so every run posts the same sequence.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn new_account(name: &str) -> NewAccount {
    NewAccount {
        username: Username::parse(name).expect("name"),
        password_hash: "x".into(),
        display_name: DisplayName::parse("").expect("display name"),
        bio: Bio::parse("").expect("bio"),
    }
}

fn new_tweet(author: i64, text: &str) -> NewTweet {
    NewTweet {
        author_id: author,
        text: TweetText::parse(text).expect("text"),
        hashtags: extract_hashtags(text),
        mentions: Vec::new(),
        reply_to: None,
        category: None,
    }
}

fn by(name: &str) -> TweetFilter {
    TweetFilter {
        author: Some(Username::parse(name).expect("name")),
        ..TweetFilter::default()
    }
}

fn tagged(tag: &str) -> TweetFilter {
    TweetFilter {
        hashtag: Some(tag.to_owned()),
        ..TweetFilter::default()
    }
}

fn home(of: &Account) -> TweetFilter {
    TweetFilter {
        home_of: Some(of.id),
        ..TweetFilter::default()
    }
}

#[tokio::test]
#[ignore = "a measurement: run it by hand (see the module doc)"]
async fn list_cache_hit_ratio_under_a_steady_posting_rate() {
    let secs: u64 = std::env::var("CHIRP_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sql: Arc<dyn Store> = Arc::new(
        SqlStore::connect(&url, &PoolConfig::default())
            .await
            .expect("db"),
    );
    let backend: Arc<dyn CacheBackend> =
        Arc::new(MemoryBackend::new(Duration::from_secs(60), 64 << 20));
    let store = CachedStore::new(sql, backend);

    let mut rng = Lcg(42);
    let mut accounts = Vec::new();
    for i in 0..ACCOUNTS {
        accounts.push(
            store
                .create_account(new_account(&format!("user{i}")))
                .await
                .expect("account"),
        );
    }
    let readers = [&accounts[0], &accounts[1], &accounts[2]];
    for reader in readers {
        for _ in 0..FOLLOWS_PER_READER {
            let followee = &accounts[rng.below(ACCOUNTS)];
            if followee.id != reader.id {
                store
                    .follow(reader.id, followee.id, FollowState::Following)
                    .await
                    .expect("follow");
            }
        }
    }
    for i in 0..100 {
        let author = &accounts[rng.below(ACCOUNTS)];
        let text = format!("warm-up {i} #rust");
        store
            .create_tweet(new_tweet(author.id, &text))
            .await
            .expect("tweet");
    }

    let lists: Vec<(&str, TweetFilter)> = vec![
        ("public", TweetFilter::default()),
        ("user", by("user3")),
        ("user", by("user4")),
        ("user", by("user5")),
        ("hashtag", tagged("rust")),
        ("home", home(readers[0])),
        ("home", home(readers[1])),
        ("home", home(readers[2])),
    ];
    // kind -> (reads, hits)
    let mut tally: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ticks = secs * 1000 / TICK.as_millis() as u64;
    let mut next_list = 0;
    let mut posts = 0;
    let started = std::time::Instant::now();
    for tick in 0..ticks {
        ticker.tick().await;
        if tick % POST_EVERY == 0 {
            let author = &accounts[rng.below(ACCOUNTS)];
            let tag = if rng.below(5) == 0 { "#rust" } else { "#other" };
            let text = format!("post {tick} {tag}");
            store
                .create_tweet(new_tweet(author.id, &text))
                .await
                .expect("tweet");
            posts += 1;
            continue;
        }
        let (kind, filter) = &lists[next_list % lists.len()];
        next_list += 1;
        let before = store.db_counts().reads;
        store
            .list_tweets(filter, Page::default())
            .await
            .expect("list");
        let hit = store.db_counts().reads == before;
        let entry = tally.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += u64::from(hit);
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{posts} posts and {} list reads in {elapsed:.1} s ({:.1} posts/s)",
        tally.values().map(|(r, _)| r).sum::<u64>(),
        f64::from(posts) / elapsed
    );
    let (mut all_reads, mut all_hits) = (0, 0);
    for (kind, (reads, hits)) in &tally {
        all_reads += reads;
        all_hits += hits;
        println!(
            "{kind:8} reads {reads:5}  hits {hits:5}  misses {:5}  hit ratio {:5.1}%",
            reads - hits,
            100.0 * *hits as f64 / *reads as f64
        );
    }
    println!(
        "{:8} reads {all_reads:5}  hits {all_hits:5}  misses {:5}  hit ratio {:5.1}%",
        "all",
        all_reads - all_hits,
        100.0 * all_hits as f64 / all_reads as f64
    );
}
