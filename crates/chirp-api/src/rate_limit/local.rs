//! The per-instance limiter: one keyed GCRA limiter (governor) per class,
//! keyed by client. A rate of N per P lets a client send N at once, then
//! one more every P/N; after a quiet P it has all N again.
//!
//! Memory: governor keeps one small state (a timestamp) per key it has
//! seen. Every [`SWEEP_EVERY`] checks a class drops the keys that are
//! back to a full quota (`retain_recent`), so what stays is the clients
//! active within the last period.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::Clock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use super::class::{Class, RateLimits};
use super::clock::LimitClock;
use super::verdict::Verdict;

/// Checks of a class between two sweeps of its idle keys.
pub const SWEEP_EVERY: u64 = 4096;

type Keyed = RateLimiter<IpAddr, DashMapStateStore<IpAddr>, LimitClock, StateInformationMiddleware>;

struct PerClass {
    limiter: Keyed,
    checks: AtomicU64,
}

/// Per-instance limits of every class that is on.
pub struct Local {
    classes: [Option<PerClass>; 7],
    clock: LimitClock,
}

impl Local {
    pub fn new(limits: &RateLimits, clock: LimitClock) -> Self {
        let classes = Class::ALL.map(|class| {
            let rate = limits.rate(class)?;
            let quota = Quota::with_period(rate.period / rate.count.get())?.allow_burst(rate.count);
            Some(PerClass {
                limiter: RateLimiter::dashmap_with_clock(quota, clock.clone())
                    .with_middleware::<StateInformationMiddleware>(),
                checks: AtomicU64::new(0),
            })
        });
        Self { classes, clock }
    }

    /// Counts one request of `class` from `client`; `None` if the class is off.
    pub fn check(&self, class: Class, client: IpAddr) -> Option<Verdict> {
        let per = self.classes[class as usize].as_ref()?;
        if per.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            per.limiter.retain_recent();
            per.limiter.shrink_to_fit();
        }
        let quota_of = |q: Quota| (q.burst_size().get(), q.replenish_interval());
        Some(match per.limiter.check_key(&client) {
            Ok(snapshot) => {
                let (limit, interval) = quota_of(snapshot.quota());
                let remaining = snapshot.remaining_burst_capacity();
                Verdict {
                    allowed: true,
                    limit,
                    remaining,
                    reset: interval * (limit - remaining),
                }
            }
            Err(not_until) => Verdict {
                allowed: false,
                limit: quota_of(not_until.quota()).0,
                remaining: 0,
                reset: not_until.wait_time_from(self.clock.now()),
            },
        })
    }

    /// Clients tracked for `class`, for tests of the memory bound.
    pub fn tracked(&self, class: Class) -> usize {
        self.classes[class as usize]
            .as_ref()
            .map_or(0, |p| p.limiter.len())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::rate_limit::class::Limit;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 2));

    fn local(limit: &str) -> (Local, LimitClock) {
        let limit: Limit = limit.parse().expect("limit");
        let limits = RateLimits::off().with(Class::Logins, limit);
        let clock = LimitClock::default();
        (Local::new(&limits, clock.clone()), clock)
    }

    #[test]
    fn up_to_the_limit_then_refused_until_the_period_passes() {
        let (l, clock) = local("3/1min");
        for left in [2, 1, 0] {
            let v = l.check(Class::Logins, A).expect("on");
            assert!(v.allowed);
            assert_eq!((v.limit, v.remaining), (3, left));
        }
        let refused = l.check(Class::Logins, A).expect("on");
        assert!(!refused.allowed);
        assert!(
            refused.reset > Duration::from_secs(19) && refused.reset <= Duration::from_secs(20),
            "one comes back every 20 s: {refused:?}"
        );
        assert!(l.check(Class::Logins, B).expect("on").allowed, "per client");
        clock.advance(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(l.check(Class::Logins, A).expect("on").allowed);
        }
    }

    #[test]
    fn a_class_that_is_off_is_not_counted() {
        let (l, _) = local("3/1min");
        assert_eq!(l.check(Class::Reads, A), None);
        assert_eq!(l.tracked(Class::Reads), 0);
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let (l, clock) = local("3/1min");
        for i in 0..1000u32 {
            l.check(Class::Logins, IpAddr::from(i.to_be_bytes()));
        }
        assert_eq!(l.tracked(Class::Logins), 1000);
        clock.advance(Duration::from_secs(61));
        for _ in 0..SWEEP_EVERY {
            l.check(Class::Logins, A);
        }
        assert_eq!(l.tracked(Class::Logins), 1, "only the active client stays");
    }
}
