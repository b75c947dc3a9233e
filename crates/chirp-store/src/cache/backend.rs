//! Where the read cache keeps its entries: in this process (moka) or in
//! Redis, shared by every API instance.
//!
//! Both speak bytes (JSON of chirp-core values) under string keys. A
//! backend never fails a read: an error is logged and reported as a miss,
//! so a dead Redis degrades to "every read goes to the database".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

#[async_trait]
pub trait CacheBackend: Send + Sync {
    async fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Values for `keys`, in order (`None` for misses).
    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>>;
    async fn set(&self, key: &str, value: Vec<u8>);
    async fn delete(&self, keys: &[String]);
    /// The value of a counter that never expires (0 when never bumped);
    /// `None` when the backend cannot answer.
    async fn generation(&self, key: &str) -> Option<u64>;
    /// Adds one to that counter.
    async fn bump(&self, key: &str);
    /// Which backend, for logs.
    fn name(&self) -> &'static str;
}

/// In-process entries, bounded by bytes, expiring `ttl` after they were written.
pub struct MemoryBackend {
    entries: moka::future::Cache<String, Arc<Vec<u8>>>,
    /// Generation counters: a handful of keys, kept outside the entries so
    /// they never expire (a counter that restarted could revive old entries).
    generations: std::sync::Mutex<std::collections::HashMap<String, u64>>,
}

impl MemoryBackend {
    pub fn new(ttl: Duration, max_bytes: u64) -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .weigher(|k: &String, v: &Arc<Vec<u8>>| {
                    u32::try_from(k.len() + v.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(max_bytes)
                .time_to_live(ttl)
                .build(),
            generations: std::sync::Mutex::default(),
        }
    }
}

#[async_trait]
impl CacheBackend for MemoryBackend {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.entries.get(key).await.map(|v| v.as_ref().clone())
    }

    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.get(k).await);
        }
        out
    }

    async fn set(&self, key: &str, value: Vec<u8>) {
        self.entries.insert(key.to_owned(), Arc::new(value)).await;
    }

    async fn delete(&self, keys: &[String]) {
        for k in keys {
            self.entries.invalidate(k).await;
        }
    }

    async fn generation(&self, key: &str) -> Option<u64> {
        let g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        Some(g.get(key).copied().unwrap_or(0))
    }

    async fn bump(&self, key: &str) {
        let mut g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        *g.entry(key.to_owned()).or_default() += 1;
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

/// Entries in Redis with a TTL, so every API instance shares them and an
/// eviction by one reaches all.
pub struct RedisBackend {
    conn: ConnectionManager,
    ttl_secs: u64,
    /// Whether the last call failed, so an outage is logged once, not per request.
    down: AtomicBool,
}

impl RedisBackend {
    /// Connects lazily: chirp starts (and serves from the database) even
    /// when Redis is down, and uses it once it answers.
    pub fn connect(url: &str, ttl: Duration) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            conn,
            ttl_secs: ttl.as_secs().max(1),
            down: AtomicBool::new(false),
        })
    }

    /// Logs the first failure of an outage and the recovery after it.
    fn note<T>(&self, result: redis::RedisResult<T>) -> Option<T> {
        match result {
            Ok(v) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis is back: the read cache is shared again");
                }
                Some(v)
            }
            Err(e) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Redis unavailable: reading from the database until it is back");
                }
                None
            }
        }
    }
}

#[async_trait]
impl CacheBackend for RedisBackend {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut c = self.conn.clone();
        self.note(c.get::<_, Option<Vec<u8>>>(key).await).flatten()
    }

    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let mut c = self.conn.clone();
        let found: Option<Vec<Option<Vec<u8>>>> = self.note(c.mget(keys).await);
        found.unwrap_or_else(|| vec![None; keys.len()])
    }

    async fn set(&self, key: &str, value: Vec<u8>) {
        let mut c = self.conn.clone();
        self.note(c.set_ex::<_, _, ()>(key, value, self.ttl_secs).await);
    }

    async fn delete(&self, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        let mut c = self.conn.clone();
        self.note(c.del::<_, ()>(keys).await);
    }

    async fn generation(&self, key: &str) -> Option<u64> {
        let mut c = self.conn.clone();
        self.note(c.get::<_, Option<u64>>(key).await)
            .map(|g| g.unwrap_or(0))
    }

    async fn bump(&self, key: &str) {
        let mut c = self.conn.clone();
        self.note(c.incr::<_, _, ()>(key, 1u64).await);
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
