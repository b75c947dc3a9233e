//! The entries: a moka cache bounded by bytes, an index path → keys so a write
//! evicts in O(keys of that path), and per-path write epochs so a miss that
//! raced with a write never stores the pre-write answer.
//!
//! Invariant: the index holds every key that is in the cache (it may hold a
//! bounded surplus). Keys are linked *before* the entry is inserted and
//! unlinked by moka's eviction listener *after* the entry is gone.

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use moka::future::Cache;
use moka::notification::RemovalCause;
use moka::ops::compute::Op;
use serde::Serialize;
use tokio::time::Instant;

use crate::config::CacheOptions;
use crate::index::PathIndex;
use crate::policy::key_path;

/// Weight added to each entry for the key's map slot, the `Arc`, moka's
/// bookkeeping and the index; it also caps the entry count at
/// `max_bytes / ENTRY_OVERHEAD`.
const ENTRY_OVERHEAD: usize = 256;
/// Write epochs are kept per hash bucket, not per path, so their memory is
/// fixed; a collision only makes a miss skip storing once.
const EPOCH_SLOTS: usize = 1024;

/// One stored response.
#[derive(Debug)]
pub(crate) struct Entry {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When it was stored (tokio's clock, so tests can pause time); `Age`.
    pub stored_at: Instant,
    /// Lazy expiry: checked on every read.
    pub expires_at: Instant,
    /// Tells the eviction listener which insertion a notification is about.
    generation: u64,
    /// Bytes charged against `max_bytes`.
    weight: u32,
}

/// Counters and sizes served at `/_cache/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Requests answered from an entry (including coalesced waiters).
    pub hits: u64,
    /// Requests that went upstream on behalf of the shared cache.
    pub misses: u64,
    /// Requests that went around the cache: credentials, writes, never-cached paths.
    pub bypasses: u64,
    /// Entries held.
    pub entries: u64,
    /// Summed weight of the entries (bodies, headers, keys and overhead).
    pub bytes: u64,
    /// Times the whole cache was dropped (an account turned protected, or
    /// the broker that announces that was out of reach for a while).
    pub purges: u64,
}

pub(crate) struct Store {
    cache: Cache<String, Arc<Entry>>,
    /// Shared with the eviction listener. Never held across a moka call: the
    /// listener runs inside those calls and takes this lock itself.
    index: Arc<Mutex<PathIndex>>,
    /// Bumped for a path's bucket each time a write evicts that path.
    epochs: Box<[AtomicU64]>,
    next_generation: AtomicU64,
    /// Largest body stored; bounded so one entry fits in a u32 weight and in
    /// `max_bytes`.
    pub entry_cap: usize,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub bypasses: AtomicU64,
    pub purges: AtomicU64,
}

impl Store {
    pub(crate) fn new(options: &CacheOptions) -> Self {
        let index: Arc<Mutex<PathIndex>> = Arc::default();
        let listener_index = Arc::clone(&index);
        let cache = Cache::builder()
            .max_capacity(options.max_bytes)
            .weigher(|_key: &String, entry: &Arc<Entry>| entry.weight)
            // Lazy expiry decides what is served; moka's own TTL (on the real
            // clock) only frees memory that nobody asks for again.
            .time_to_live(options.ttl.max(Duration::from_millis(1)))
            .eviction_listener(move |key: Arc<String>, entry: Arc<Entry>, cause| {
                if cause != RemovalCause::Replaced {
                    lock(&listener_index).unlink(&key, entry.generation);
                }
            })
            .build();
        let largest = usize::try_from(options.max_bytes).unwrap_or(usize::MAX);
        let entry_cap = options
            .max_entry_bytes
            .min(largest.saturating_sub(ENTRY_OVERHEAD))
            .min(u32::MAX as usize / 2);
        Self {
            cache,
            index,
            epochs: (0..EPOCH_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            next_generation: AtomicU64::new(0),
            entry_cap,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            bypasses: AtomicU64::new(0),
            purges: AtomicU64::new(0),
        }
    }

    /// A fresh entry for `key`; a stale one is removed (if nobody replaced it
    /// meanwhile) and reported as absent.
    pub(crate) async fn lookup(&self, key: &str) -> Option<Arc<Entry>> {
        let entry = self.cache.get(key).await?;
        if Instant::now() < entry.expires_at {
            return Some(entry);
        }
        self.remove_if_same(key, &entry).await;
        None
    }

    /// Runs `fetch` once for concurrent callers of the same key (moka's
    /// single-flight); every caller gets its `Ok` entry or shared error.
    pub(crate) async fn get_or_fetch<E: Send + Sync + 'static>(
        &self,
        key: String,
        fetch: impl Future<Output = Result<Arc<Entry>, E>>,
    ) -> Result<Arc<Entry>, Arc<E>> {
        self.cache.try_get_with(key, fetch).await
    }

    /// The write epoch of `path`: read before going upstream, compared after.
    pub(crate) fn epoch(&self, path: &str) -> u64 {
        self.slot(path).load(Ordering::Acquire)
    }

    fn slot(&self, path: &str) -> &AtomicU64 {
        use std::hash::BuildHasher;
        // A fixed hasher, not a random one per call: same path, same slot.
        let hash = FIXED_HASHER.hash_one(path);
        &self.epochs[(hash % EPOCH_SLOTS as u64) as usize]
    }

    pub(crate) fn prepare(
        &self,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        ttl: Duration,
        key: &str,
    ) -> Arc<Entry> {
        let header_bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        let weight = body.len() + header_bytes + key.len() + ENTRY_OVERHEAD;
        let now = Instant::now();
        Arc::new(Entry {
            status,
            headers,
            body,
            stored_at: now,
            expires_at: now + ttl,
            generation: self.next_generation.fetch_add(1, Ordering::Relaxed),
            weight: u32::try_from(weight).unwrap_or(u32::MAX),
        })
    }

    /// Adds `entry` to the index if no write touched its path since `epoch`;
    /// `false` means the response may predate the write and must not be stored.
    pub(crate) fn link(&self, key: &str, entry: &Entry, epoch: u64) -> bool {
        let mut index = lock(&self.index);
        if index.bloated(self.cache.entry_count()) {
            // `contains_key` never calls the listener, so holding the lock is safe.
            let next = self.next_generation.load(Ordering::Relaxed);
            index.prune(|key| self.cache.contains_key(key), next);
        }
        let previous = index.link(key, entry.generation);
        if self.epoch(key_path(key)) == epoch {
            return true;
        }
        index.unlink_to(key, entry.generation, previous);
        false
    }

    /// After insertion: a write that landed between [`Self::link`] and the
    /// insert may have missed the entry, so check the epoch once more.
    pub(crate) async fn confirm(&self, key: &str, entry: &Arc<Entry>, epoch: u64) {
        if self.epoch(key_path(key)) != epoch {
            self.remove_if_same(key, entry).await;
        }
    }

    /// Stores an entry outside the single-flight path (a credentialed
    /// response the upstream marked public).
    pub(crate) async fn insert(&self, key: String, entry: Arc<Entry>, epoch: u64) {
        if self.link(&key, &entry, epoch) {
            self.cache.insert(key.clone(), Arc::clone(&entry)).await;
            self.confirm(&key, &entry, epoch).await;
        }
    }

    /// Evicts every key under each of `paths`, after bumping their epochs so
    /// misses already in flight do not store what they read before the write.
    pub(crate) async fn evict_paths(&self, paths: &[String]) {
        for path in paths {
            self.slot(path).fetch_add(1, Ordering::AcqRel);
        }
        let keys = lock(&self.index).take(paths);
        for key in keys {
            self.cache.invalidate(&key).await;
        }
    }

    /// Drops every entry, after bumping every epoch so that no miss in
    /// flight stores what it read before the purge. For a change the cache
    /// cannot map to paths: an account turning protected hides its tweets
    /// from every timeline, search and hashtag page that listed them.
    pub(crate) fn purge_all(&self) {
        for slot in &self.epochs {
            slot.fetch_add(1, Ordering::AcqRel);
        }
        // Entries inserted before this call are invisible at once; moka
        // frees their memory (and calls the listener, which unlinks them
        // from the index) as it goes.
        self.cache.invalidate_all();
        self.purges.fetch_add(1, Ordering::Relaxed);
    }

    /// Removes `key` only while it still holds `entry`, so a stale read never
    /// removes the fresh entry another request just stored.
    async fn remove_if_same(&self, key: &str, entry: &Arc<Entry>) {
        self.cache
            .entry(key.to_owned())
            .and_compute_with(|current| async move {
                match current {
                    Some(current) if Arc::ptr_eq(current.value(), entry) => Op::Remove,
                    _ => Op::Nop,
                }
            })
            .await;
    }

    /// Settles moka's pending evictions first, so `entries` and `bytes` are exact.
    pub(crate) async fn stats(&self) -> CacheStats {
        self.cache.run_pending_tasks().await;
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bypasses: self.bypasses.load(Ordering::Relaxed),
            entries: self.cache.entry_count(),
            bytes: self.cache.weighted_size(),
            purges: self.purges.load(Ordering::Relaxed),
        }
    }

    #[cfg(test)]
    pub(crate) fn indexed_keys(&self) -> usize {
        lock(&self.index).len()
    }
}

/// Deterministic (SipHash with fixed keys): epochs need stability, not DoS
/// resistance, since a collision only skips one store.
static FIXED_HASHER: BuildHasherDefault<DefaultHasher> = BuildHasherDefault::new();

/// The index is plain data; a panic elsewhere cannot leave it half-updated in
/// a way that matters more than losing the cache, so poisoning is ignored.
fn lock(index: &Mutex<PathIndex>) -> std::sync::MutexGuard<'_, PathIndex> {
    index.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
