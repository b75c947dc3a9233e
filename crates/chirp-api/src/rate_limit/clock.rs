//! The limiters' clock: real time plus a skew that tests move forward, so a
//! window can pass without waiting for it. Clones share the skew.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Monotonic time for the per-instance limiter, and wall-clock time (whose
/// windows every instance agrees on) for the counters in Redis.
#[derive(Debug, Clone, Default)]
pub struct LimitClock {
    /// Nanoseconds added to both clocks; only tests change it.
    skew: Arc<AtomicU64>,
}

impl LimitClock {
    /// Moves this clock (and its clones) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.skew.fetch_add(nanos, Ordering::Relaxed);
    }

    fn skew(&self) -> Duration {
        Duration::from_nanos(self.skew.load(Ordering::Relaxed))
    }

    /// Time since the Unix epoch.
    pub fn unix(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + self.skew()
    }
}

impl governor::clock::Clock for LimitClock {
    type Instant = Instant;

    fn now(&self) -> Instant {
        Instant::now() + self.skew()
    }
}
