//! Throttling of password guessing: after [`MAX_FAILURES`] failed log-ins
//! for one username within [`WINDOW`], further attempts for it are refused
//! with 429 until the window (counted from the first failure) has passed;
//! a successful log-in clears the count.
//!
//! Keyed by username, not by client address, so it works the same behind
//! nginx, the response caches and the web site (which all hide the
//! browser's address), and it stops a guesser spread over many addresses.
//! The price: someone can lock an account's log-in for the window by
//! failing on purpose; the window is short for that reason. Failures count
//! for names that do not exist too, so a 429 reveals nothing.
//!
//! Per instance and bounded: with M API instances a guesser gets at most
//! M × [`MAX_FAILURES`] tries per window.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::ApiError;

/// Failed log-ins allowed per username and window.
pub const MAX_FAILURES: u32 = 10;
/// How long failures are remembered, from the first one.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most usernames tracked at once (memory stays bounded under a flood).
const MAX_TRACKED: u64 = 100_000;

/// Failures of one username since `since`.
#[derive(Debug)]
struct Failures {
    since: Instant,
    count: AtomicU32,
}

/// The failed log-ins of one API instance.
#[derive(Clone)]
pub struct LoginThrottle {
    /// `None` when rate limiting is off (`CHIRP_RATE_LIMIT=off`).
    failures: Option<moka::sync::Cache<String, Arc<Failures>>>,
}

impl LoginThrottle {
    pub fn new(on: bool) -> Self {
        let failures = on.then(|| {
            moka::sync::Cache::builder()
                .max_capacity(MAX_TRACKED)
                // Entries expire a window after they were made, whatever
                // happened since: the window runs from the first failure.
                .time_to_live(WINDOW)
                .build()
        });
        Self { failures }
    }

    fn key(username: &str) -> String {
        username.to_ascii_lowercase()
    }

    /// 429 if `username` has used up its failures for this window.
    pub fn check(&self, username: &str) -> Result<(), ApiError> {
        let Some(failures) = &self.failures else {
            return Ok(());
        };
        match failures.get(&Self::key(username)) {
            Some(f) if f.count.load(Ordering::Relaxed) >= MAX_FAILURES => {
                Err(ApiError::RateLimited {
                    retry_after: WINDOW.saturating_sub(f.since.elapsed()),
                })
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed log-in for `username`.
    pub fn failed(&self, username: &str) {
        if let Some(failures) = &self.failures {
            let entry = failures.get_with(Self::key(username), || {
                Arc::new(Failures {
                    since: Instant::now(),
                    count: AtomicU32::new(0),
                })
            });
            entry.count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Forgets the failures of `username` after a successful log-in.
    pub fn succeeded(&self, username: &str) {
        if let Some(failures) = &self.failures {
            failures.invalidate(&Self::key(username));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_try_is_refused_until_a_success_or_the_window_ends() {
        let t = LoginThrottle::new(true);
        for _ in 0..MAX_FAILURES {
            assert!(t.check("Alice").is_ok());
            t.failed("Alice");
        }
        let refused = t.check("alice").expect_err("throttled");
        assert_eq!(refused.status().as_u16(), 429);
        assert!(t.check("bob").is_ok(), "other names are not affected");
        t.succeeded("ALICE");
        assert!(t.check("alice").is_ok());
    }

    #[test]
    fn off_never_refuses() {
        let t = LoginThrottle::new(false);
        for _ in 0..MAX_FAILURES * 3 {
            t.failed("alice");
        }
        assert!(t.check("alice").is_ok());
    }
}
