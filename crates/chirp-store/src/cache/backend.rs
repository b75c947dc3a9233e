//! Where the read cache keeps its entries: in this process (moka) or in
//! Redis, shared by every API instance.
//!
//! Both speak bytes (JSON of chirp-core values) under string keys, plus
//! *generation counters* (see the `cache` module): a list entry is stored
//! with the values of the counters it depends on and is good only while
//! they are unchanged. A counter may be forgotten (idle for a while, or
//! evicted), but a value it once had is never handed out again, so a
//! forgotten counter can never make an old entry look current.
//!
//! A backend never fails a read: an error is logged and reported as a miss,
//! so a dead Redis degrades to "every read goes to the database". Redis
//! calls pass a circuit breaker (`breaker.rs`): after a failure they
//! are skipped at once for a cool-down instead of each waiting its timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use super::breaker::BreakerState;
use super::breaker::{Breaker, Change};

#[async_trait]
pub trait CacheBackend: Send + Sync {
    async fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Values for `keys`, in order (`None` for misses).
    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>>;
    async fn set(&self, key: &str, value: Vec<u8>);
    async fn delete(&self, keys: &[String]);
    /// The generation counters `scopes`, in order, and the entry under
    /// `key`, in one round trip; `None` when the backend cannot answer.
    async fn stamped(&self, scopes: &[String], key: &str) -> Option<(Vec<u64>, Option<Vec<u8>>)>;
    /// Moves each counter in `scopes` to a value it never had.
    async fn bump(&self, scopes: &[String]);
    /// Which backend, for logs.
    fn name(&self) -> &'static str;
}

/// How long a generation counter lives after its last change, as a
/// multiple of the entry TTL: long enough that every entry stamped with
/// it has expired before it is forgotten.
const COUNTER_LIFE_IN_TTLS: u32 = 2;

/// In-process entries, bounded by bytes, expiring `ttl` after they were written.
pub struct MemoryBackend {
    entries: moka::future::Cache<String, Arc<Vec<u8>>>,
    /// Generation counters, apart from the entries so that big entries do
    /// not push them out. Every value comes from `next`, so none repeats:
    /// a counter forgotten (idle, or pushed out by the bound) and read
    /// again starts from a fresh value, which matches no old entry.
    generations: moka::sync::Cache<String, u64>,
    next: AtomicU64,
}

/// Generation counters kept in memory, at most.
const MAX_GENERATIONS: u64 = 1 << 20;

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
            generations: moka::sync::Cache::builder()
                .max_capacity(MAX_GENERATIONS)
                .time_to_idle(ttl * COUNTER_LIFE_IN_TTLS)
                .build(),
            next: AtomicU64::new(1),
        }
    }

    fn fresh(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
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

    async fn stamped(&self, scopes: &[String], key: &str) -> Option<(Vec<u64>, Option<Vec<u8>>)> {
        let stamp = scopes
            .iter()
            .map(|s| self.generations.get_with_by_ref(s, || self.fresh()))
            .collect();
        Some((stamp, self.get(key).await))
    }

    async fn bump(&self, scopes: &[String]) {
        for s in scopes {
            let value = self.fresh();
            self.generations.insert(s.clone(), value);
        }
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

/// Bumps the counters `KEYS` and gives each the life `ARGV[1]` (seconds).
/// A counter that does not exist (never bumped, or expired) starts from
/// Redis's clock in microseconds: above any value an earlier life of it
/// reached, as long as it was bumped less than a million times a second.
const BUMP_SCRIPT: &str = r"
local life = tonumber(ARGV[1])
for _, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', k, t[1] .. string.format('%06d', tonumber(t[2])))
  end
  redis.call('INCR', k)
  redis.call('EXPIRE', k, life)
end
return 0
";

/// How long the breaker skips Redis after a failure, unless configured.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(1);

/// Entries in Redis with a TTL, so every API instance shares them and an
/// eviction by one reaches all.
pub struct RedisBackend {
    conn: ConnectionManager,
    ttl_secs: u64,
    /// Skips Redis during an outage; logs its changes once each.
    breaker: Breaker,
    /// The breaker's clock (`Instant::now` unless a test drives it).
    clock: Arc<dyn Fn() -> Instant + Send + Sync>,
    /// Calls the breaker let through to Redis, for tests and diagnostics.
    attempts: AtomicU64,
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
            breaker: Breaker::new(DEFAULT_COOLDOWN),
            clock: Arc::new(Instant::now),
            attempts: AtomicU64::new(0),
        })
    }

    /// How long Redis is skipped after a failure before a probe.
    #[must_use]
    pub fn with_cooldown(mut self, cooldown: Duration) -> Self {
        self.breaker = Breaker::new(cooldown);
        self
    }

    /// The clock the breaker reads, for tests that move time by hand.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// How many calls went to Redis (the breaker skips the others).
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// A connection, if the breaker lets this call through.
    fn admit(&self) -> Option<ConnectionManager> {
        if !self.breaker.admit((self.clock)()) {
            return None;
        }
        self.attempts.fetch_add(1, Ordering::Relaxed);
        Some(self.conn.clone())
    }

    /// Feeds the outcome to the breaker and logs its changes.
    fn note<T>(&self, result: redis::RedisResult<T>) -> Option<T> {
        match result {
            Ok(v) => {
                if self.breaker.succeeded() == Some(Change::Recovered) {
                    tracing::info!("Redis is back: the read cache is shared again");
                }
                Some(v)
            }
            Err(e) if answered(&e) => {
                // Redis is up; this call was wrong (a bug, or a foreign key).
                tracing::warn!(error = %e, "Redis refused a read-cache command");
                None
            }
            Err(e) => {
                if self.breaker.failed((self.clock)()) == Some(Change::Opened) {
                    tracing::warn!(
                        error = %e,
                        "Redis unavailable: reading from the database, and trying Redis again now and then"
                    );
                }
                None
            }
        }
    }
}

/// Whether Redis itself answered with this error (so it is not down).
fn answered(e: &redis::RedisError) -> bool {
    matches!(
        e.kind(),
        redis::ErrorKind::UnexpectedReturnType | redis::ErrorKind::Server(_)
    )
}

/// A counter's value as Redis stores it (decimal text); `None` if it is not one.
fn counter(bytes: Option<&[u8]>) -> Option<u64> {
    match bytes {
        None => Some(0),
        Some(b) => std::str::from_utf8(b).ok()?.parse().ok(),
    }
}

#[async_trait]
impl CacheBackend for RedisBackend {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut c = self.admit()?;
        self.note(c.get::<_, Option<Vec<u8>>>(key).await).flatten()
    }

    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let found = match self.admit() {
            Some(mut c) => self.note(c.mget::<_, Vec<Option<Vec<u8>>>>(keys).await),
            None => None,
        };
        found.unwrap_or_else(|| vec![None; keys.len()])
    }

    async fn set(&self, key: &str, value: Vec<u8>) {
        if let Some(mut c) = self.admit() {
            self.note(c.set_ex::<_, _, ()>(key, value, self.ttl_secs).await);
        }
    }

    async fn delete(&self, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        if let Some(mut c) = self.admit() {
            self.note(c.del::<_, ()>(keys).await);
        }
    }

    async fn stamped(&self, scopes: &[String], key: &str) -> Option<(Vec<u64>, Option<Vec<u8>>)> {
        let mut c = self.admit()?;
        let mut keys: Vec<&str> = scopes.iter().map(String::as_str).collect();
        keys.push(key);
        let mut values = self.note(c.mget::<_, Vec<Option<Vec<u8>>>>(&keys).await)?;
        let entry = values.pop()?;
        let stamp = values
            .iter()
            .map(|v| counter(v.as_deref()))
            .collect::<Option<Vec<u64>>>()?;
        (stamp.len() == scopes.len()).then_some((stamp, entry))
    }

    async fn bump(&self, scopes: &[String]) {
        if scopes.is_empty() {
            return;
        }
        if let Some(mut c) = self.admit() {
            let life = self.ttl_secs * u64::from(COUNTER_LIFE_IN_TTLS);
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(BUMP_SCRIPT).arg(scopes.len()).arg(scopes).arg(life);
            self.note(cmd.query_async::<()>(&mut c).await);
        }
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
