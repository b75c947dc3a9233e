//! The limiter the API consults: the shared counters in Redis when there
//! are some and Redis answers, the per-instance limiter otherwise.

use std::net::{IpAddr, Ipv6Addr};

use super::class::{Class, RateLimits};
use super::clock::LimitClock;
use super::local::Local;
use super::shared::Shared;
use super::verdict::Verdict;

/// Every class's limit for this API instance.
pub struct RateLimiter {
    limits: RateLimits,
    /// Counts when there is no Redis, or while it is down.
    local: Local,
    /// Counts shared by the instances (the scaled shape).
    shared: Option<Shared>,
    clock: LimitClock,
}

impl RateLimiter {
    /// Limits of this instance alone, on real time.
    pub fn local(limits: RateLimits) -> Self {
        Self::new(limits, LimitClock::default(), None)
    }

    /// Limits counted in `shared` (falling back to this instance's own
    /// counts while it fails), on `clock`.
    pub fn new(limits: RateLimits, clock: LimitClock, shared: Option<Shared>) -> Self {
        Self {
            local: Local::new(&limits, clock.clone()),
            limits,
            shared,
            clock,
        }
    }

    /// Counts one request of `class` from `client`: `None` when the class
    /// is not limited.
    pub async fn check(&self, class: Class, client: IpAddr) -> Option<Verdict> {
        let rate = self.limits.rate(class)?;
        let client = key(client);
        if let Some(shared) = &self.shared
            && let Some(verdict) = shared.check(class, rate, client, &self.clock).await
        {
            return Some(verdict);
        }
        self.local.check(class, client)
    }

    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// The clock, which tests move forward.
    pub fn clock(&self) -> &LimitClock {
        &self.clock
    }

    /// The per-instance limiter, for tests of its bounds.
    pub fn local_limiter(&self) -> &Local {
        &self.local
    }
}

/// Who is counted: an IPv4 address, or an IPv6 address's /64 (one
/// subscriber's network gets a /64 and can pick any address in it).
pub fn key(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_network_is_one_client_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().expect("ip");
        assert_eq!(key(mapped), "203.0.113.7".parse::<IpAddr>().expect("ip"));
    }
}
