//! Throttling of password guessing, per guesser: after [`MAX_FAILURES`]
//! failed log-ins from one client address for one username within
//! [`WINDOW`], that address gets 429 for that name until the window
//! (counted from its first failure) has passed. So a guesser cannot lock
//! the owner out: the owner logs in from another address as usual.
//!
//! A guesser spread over many addresses meets a second, wider limit: after
//! [`MAX_ACCOUNT_FAILURES`] failures for one username from all addresses
//! together, log-ins for it get 429 from everyone who has failed for it.
//! Reaching that takes ten addresses working together; a
//! success clears both counts.
//!
//! Only well-formed usernames are tracked (a name that breaks the rules
//! cannot have an account, and is refused before any password is checked),
//! so each entry is a 30-byte name and an address: with the entry caps
//! below, the throttle holds at most a few tens of MB however it is
//! flooded. Failures count for names that do not exist too, so a 429
//! reveals nothing.
//!
//! Per instance: with M API instances a guesser gets at most
//! M × [`MAX_FAILURES`] tries per window (issue: counters in Redis).
//! The client address is the one `chirp_http::client_addr` finds, so it
//! is the browser's behind our nginx, caches and web site.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use chirp_core::text::Username;

use crate::ApiError;

/// Failed log-ins allowed per client address and username in a window.
pub const MAX_FAILURES: u32 = 10;
/// Failed log-ins allowed per username from all addresses in a window.
pub const MAX_ACCOUNT_FAILURES: u32 = 100;
/// How long failures are remembered, from the first one.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most (address, username) pairs tracked at once: about 100 bytes each.
const MAX_PAIRS: u64 = 200_000;
/// Most usernames tracked at once: about 80 bytes each.
const MAX_ACCOUNTS: u64 = 100_000;

/// Failures of one key since `since`.
#[derive(Debug)]
struct Failures {
    since: Instant,
    count: AtomicU32,
}

impl Failures {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            since: Instant::now(),
            count: AtomicU32::new(0),
        })
    }

    fn refusal(&self, limit: u32) -> Option<ApiError> {
        (self.count.load(Ordering::Relaxed) >= limit).then(|| ApiError::RateLimited {
            retry_after: WINDOW.saturating_sub(self.since.elapsed()),
        })
    }
}

type Counts<K> = moka::sync::Cache<K, Arc<Failures>>;

/// Failures per (client address, lower-case username), and per username.
struct Tables {
    pairs: Counts<(IpAddr, String)>,
    accounts: Counts<String>,
}

/// The failed log-ins of one API instance.
#[derive(Clone)]
pub struct LoginThrottle {
    /// `None` when rate limiting is off (`CHIRP_RATE_LIMIT=off`).
    counts: Option<Arc<Tables>>,
}

fn counts<K>(capacity: u64) -> Counts<K>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
{
    moka::sync::Cache::builder()
        .max_capacity(capacity)
        // Entries expire a window after they were made, whatever happened
        // since: the window runs from the first failure.
        .time_to_live(WINDOW)
        .build()
}

impl LoginThrottle {
    pub fn new(on: bool) -> Self {
        let counts = on.then(|| {
            Arc::new(Tables {
                pairs: counts(MAX_PAIRS),
                accounts: counts(MAX_ACCOUNTS),
            })
        });
        Self { counts }
    }

    fn key(username: &Username) -> String {
        username.as_str().to_ascii_lowercase()
    }

    /// 429 if `client` has used up its failures for `username`, or the
    /// name has had too many from everyone and `client` is one of them.
    pub fn check(&self, client: IpAddr, username: &Username) -> Result<(), ApiError> {
        let Some(counts) = &self.counts else {
            return Ok(());
        };
        let name = Self::key(username);
        let pair = counts.pairs.get(&(client, name.clone()));
        if let Some(refused) = pair.as_ref().and_then(|f| f.refusal(MAX_FAILURES)) {
            return Err(refused);
        }
        if pair.is_some()
            && let Some(refused) = counts
                .accounts
                .get(&name)
                .and_then(|f| f.refusal(MAX_ACCOUNT_FAILURES))
        {
            return Err(refused);
        }
        Ok(())
    }

    /// Counts a failed log-in by `client` for `username`.
    pub fn failed(&self, client: IpAddr, username: &Username) {
        if let Some(counts) = &self.counts {
            let name = Self::key(username);
            for entry in [
                counts.pairs.get_with((client, name.clone()), Failures::new),
                counts.accounts.get_with(name, Failures::new),
            ] {
                entry.count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Forgets the failures for `username` after a successful log-in.
    pub fn succeeded(&self, client: IpAddr, username: &Username) {
        if let Some(counts) = &self.counts {
            let name = Self::key(username);
            counts.pairs.invalidate(&(client, name.clone()));
            counts.accounts.invalidate(&name);
        }
    }

    /// Entries held (pairs, usernames), for tests of the bounds.
    pub fn tracked(&self) -> (u64, u64) {
        self.counts.as_ref().map_or((0, 0), |c| {
            c.pairs.run_pending_tasks();
            c.accounts.run_pending_tasks();
            (c.pairs.entry_count(), c.accounts.entry_count())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Username {
        Username::parse(s).expect("valid name")
    }

    const GUESSER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));
    const OWNER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1));

    #[test]
    fn the_eleventh_try_from_one_address_is_refused_until_a_success() {
        let t = LoginThrottle::new(true);
        for _ in 0..MAX_FAILURES {
            assert!(t.check(GUESSER, &name("Alice")).is_ok());
            t.failed(GUESSER, &name("Alice"));
        }
        let refused = t.check(GUESSER, &name("alice")).expect_err("throttled");
        assert_eq!(refused.status().as_u16(), 429);
        assert!(
            t.check(GUESSER, &name("bob")).is_ok(),
            "other names are not affected"
        );
        assert!(
            t.check(OWNER, &name("alice")).is_ok(),
            "nor other addresses"
        );
        t.succeeded(GUESSER, &name("ALICE"));
        assert!(t.check(GUESSER, &name("alice")).is_ok());
    }

    #[test]
    fn many_addresses_together_meet_the_account_limit_but_a_fresh_address_does_not() {
        let t = LoginThrottle::new(true);
        for i in 0..MAX_ACCOUNT_FAILURES {
            let ip = IpAddr::from([10, 0, (i / 250) as u8, (i % 250) as u8]);
            t.failed(ip, &name("alice"));
        }
        let one_of_them = IpAddr::from([10, 0, 0, 1]);
        assert!(t.check(one_of_them, &name("alice")).is_err());
        assert!(
            t.check(OWNER, &name("alice")).is_ok(),
            "the owner was never refused"
        );
    }

    #[test]
    fn off_never_refuses() {
        let t = LoginThrottle::new(false);
        for _ in 0..MAX_FAILURES * 3 {
            t.failed(GUESSER, &name("alice"));
        }
        assert!(t.check(GUESSER, &name("alice")).is_ok());
        assert_eq!(t.tracked(), (0, 0));
    }
}
