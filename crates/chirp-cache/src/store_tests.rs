//! Unit tests of the store: bounds, the path index and write epochs.

use super::*;
use crate::config::DEFAULT_TTL;

fn options(max_bytes: u64) -> CacheOptions {
    CacheOptions {
        max_bytes,
        ..CacheOptions::default()
    }
}

async fn put(store: &Store, key: &str, body_len: usize) -> Arc<Entry> {
    let epoch = store.epoch(key_path(key));
    let body = Bytes::from(vec![b'x'; body_len]);
    let entry = store.prepare(StatusCode::OK, HeaderMap::new(), body, DEFAULT_TTL, key);
    store
        .insert(key.to_owned(), Arc::clone(&entry), epoch)
        .await;
    entry
}

#[tokio::test]
async fn total_weight_stays_within_max_bytes_and_the_index_follows_evictions() {
    let max_bytes = 64 * 1024;
    let store = Store::new(&options(max_bytes));
    for i in 0..100 {
        put(&store, &format!("/api/tweets/{i}"), 4096).await;
    }
    let stats = store.stats().await;
    assert!(stats.bytes <= max_bytes, "{} > {max_bytes}", stats.bytes);
    assert!(stats.entries > 0, "a bounded cache still keeps something");
    assert!(stats.entries < 100, "100 x 4 KiB cannot fit in 64 KiB");
    assert_eq!(
        store.indexed_keys() as u64,
        stats.entries,
        "the eviction listener keeps the path index in step with moka"
    );
}

#[tokio::test]
async fn entry_cap_never_exceeds_max_bytes() {
    let store = Store::new(&CacheOptions {
        max_bytes: 4096,
        max_entry_bytes: 1 << 20,
        ..CacheOptions::default()
    });
    assert_eq!(store.entry_cap, 4096 - ENTRY_OVERHEAD);
}

#[tokio::test]
async fn evicting_a_path_removes_all_its_query_strings_and_nothing_else() {
    let store = Store::new(&options(1 << 20));
    put(&store, "/api/tweets?limit=5", 10).await;
    put(&store, "/api/tweets?limit=6", 10).await;
    put(&store, "/api/tweets/8", 10).await;
    store.evict_paths(&["/api/tweets".to_owned()]).await;
    assert!(store.lookup("/api/tweets?limit=5").await.is_none());
    assert!(store.lookup("/api/tweets?limit=6").await.is_none());
    assert!(store.lookup("/api/tweets/8").await.is_some());
    store.cache.run_pending_tasks().await;
    assert_eq!(store.indexed_keys(), 1);
}

#[tokio::test]
async fn a_response_read_before_a_write_is_not_stored_after_it() {
    let store = Store::new(&options(1 << 20));
    let key = "/api/tweets/7";
    let epoch = store.epoch(key);
    store.evict_paths(&[key.to_owned()]).await;
    let entry = store.prepare(
        StatusCode::OK,
        HeaderMap::new(),
        Bytes::new(),
        DEFAULT_TTL,
        key,
    );
    assert!(!store.link(key, &entry, epoch), "the epoch moved on");
    assert_eq!(store.indexed_keys(), 0, "a refused link leaves no trace");
    store.insert(key.to_owned(), entry, epoch).await;
    assert!(store.lookup(key).await.is_none());
}

#[tokio::test]
async fn a_purge_drops_every_entry_and_a_read_from_before_it_is_not_stored() {
    let store = Store::new(&options(1 << 20));
    put(&store, "/api/tweets/7", 10).await;
    put(&store, "/api/tweets?author=ada", 10).await;
    let in_flight = "/api/accounts/ada/tweets";
    let epoch = store.epoch(in_flight);
    store.purge_all();
    assert!(store.lookup("/api/tweets/7").await.is_none());
    assert!(store.lookup("/api/tweets?author=ada").await.is_none());
    let read_before = store.prepare(
        StatusCode::OK,
        HeaderMap::new(),
        Bytes::new(),
        DEFAULT_TTL,
        in_flight,
    );
    store.insert(in_flight.to_owned(), read_before, epoch).await;
    assert!(
        store.lookup(in_flight).await.is_none(),
        "read before the purge"
    );
    let stats = store.stats().await;
    assert_eq!((stats.entries, stats.purges), (0, 1));
    // Afterwards the cache fills again as usual.
    put(&store, "/api/tweets/7", 10).await;
    assert!(store.lookup("/api/tweets/7").await.is_some());
}

#[tokio::test]
async fn replacing_an_entry_keeps_its_key_indexed() {
    let store = Store::new(&options(1 << 20));
    put(&store, "/api/tweets/7", 10).await;
    put(&store, "/api/tweets/7", 20).await;
    store.cache.run_pending_tasks().await;
    assert_eq!(store.indexed_keys(), 1);
    store.evict_paths(&["/api/tweets/7".to_owned()]).await;
    assert!(store.lookup("/api/tweets/7").await.is_none());
}

#[tokio::test(start_paused = true)]
async fn entries_expire_lazily_on_tokio_time() {
    let store = Store::new(&options(1 << 20));
    put(&store, "/api/tweets/7", 10).await;
    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(store.lookup("/api/tweets/7").await.is_some());
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(store.lookup("/api/tweets/7").await.is_none());
    store.cache.run_pending_tasks().await;
    assert_eq!(
        store.cache.entry_count(),
        0,
        "a stale entry is removed when read"
    );
    assert_eq!(store.indexed_keys(), 0);
}

#[tokio::test]
async fn links_whose_insertion_never_happened_do_not_pile_up() {
    let store = Store::new(&options(1 << 20));
    for i in 0..5000 {
        let key = format!("/api/tweets/{i}");
        let epoch = store.epoch(&key);
        let entry = store.prepare(
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::new(),
            DEFAULT_TTL,
            &key,
        );
        // As if the request were cancelled between linking and inserting.
        assert!(store.link(&key, &entry, epoch));
    }
    assert!(
        store.indexed_keys() <= 2 * 1024 + 1,
        "{}",
        store.indexed_keys()
    );
}
