//! Counters in Redis, shared by every API instance, so a client meets one
//! limit however nginx spreads its requests. A fixed window per class:
//! the key names the class, the client and the window (`unix time /
//! period`); `INCR` and `EXPIRE` go in one `MULTI`/`EXEC`, so a counter
//! never outlives its window by more than one period. (A fixed window
//! lets a client send up to twice the count across a window's edge; the
//! per-instance limiter, GCRA, does not, and the price is one round trip.)
//!
//! When Redis fails, the caller falls back to the per-instance limiter
//! for [`COOLDOWN`]; then one request tries Redis again. The change is
//! logged once each way, not per request.

use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::class::{Class, Rate};
use super::clock::LimitClock;
use super::verdict::Verdict;

/// How long Redis is skipped after a failure.
pub const COOLDOWN: Duration = Duration::from_secs(1);

/// The counters of one site in one Redis.
pub struct Shared {
    conn: ConnectionManager,
    /// Starts every key, so sites (and tests) sharing a Redis do not meet.
    prefix: String,
    /// `Some(t)`: Redis failed, and is skipped until `t` (a real instant,
    /// not the limiter's clock: the cool-down is about Redis, not clients).
    down_until: Mutex<Option<Instant>>,
    /// Whether the outage has been logged (once, until Redis is back).
    logged_down: AtomicBool,
}

impl Shared {
    /// Connects lazily (chirp starts while Redis is down); fails only on a
    /// URL that is not Redis's.
    pub fn connect(url: &str, prefix: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1);
        Ok(Self {
            conn: ConnectionManager::new_lazy_with_config(client, config)?,
            prefix: prefix.to_owned(),
            down_until: Mutex::new(None),
            logged_down: AtomicBool::new(false),
        })
    }

    fn down(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.down_until.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one request; `None` when Redis is skipped or failed (the
    /// caller then counts it per instance).
    pub async fn check(
        &self,
        class: Class,
        rate: Rate,
        client: IpAddr,
        clock: &LimitClock,
    ) -> Option<Verdict> {
        {
            let mut down = self.down();
            match *down {
                Some(until) if Instant::now() < until => return None,
                // This request probes; the others skip for another cool-down.
                Some(_) => *down = Some(Instant::now() + COOLDOWN),
                None => {}
            }
        }
        let period = rate.period.as_secs().max(1);
        let now = clock.unix();
        let window = now.as_secs() / period;
        let key = format!("{}{}:{client}:{window}", self.prefix, class.name());
        let mut conn = self.conn.clone();
        let counted: redis::RedisResult<(u64,)> = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(period + 1)
            .ignore()
            .query_async(&mut conn)
            .await;
        match counted {
            Ok((n,)) => {
                *self.down() = None;
                if self.logged_down.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        "Redis is back: rate limits are shared by the API instances again"
                    );
                }
                let limit = rate.count.get();
                let ends = Duration::from_secs((window + 1) * period);
                Some(Verdict {
                    allowed: n <= u64::from(limit),
                    limit,
                    remaining: limit.saturating_sub(u32::try_from(n).unwrap_or(u32::MAX)),
                    reset: ends.saturating_sub(now),
                })
            }
            Err(e) => {
                *self.down() = Some(Instant::now() + COOLDOWN);
                if !self.logged_down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %e,
                        "Redis unavailable: rate limits are per API instance until it is back"
                    );
                }
                None
            }
        }
    }
}
