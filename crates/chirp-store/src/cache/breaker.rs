//! A circuit breaker for the Redis backend, as a plain state machine.
//!
//! Closed: every call goes to Redis. The first failure opens it: for a
//! cool-down every call is skipped at once (a miss, or a no-op) instead of
//! waiting out its timeout. After the cool-down one call goes through as a
//! probe while the others keep skipping; its success closes the breaker,
//! its failure opens it for another cool-down. A probe that never reports
//! (its request was cancelled) is replaced after one more cool-down.
//!
//! Time is passed in, so the tests drive it without sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go to Redis.
    Closed,
    /// Calls are skipped until the cool-down ends.
    Open,
    /// One probe is on its way; other calls are skipped.
    Probing,
}

/// A change worth one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Opened,
    Recovered,
}

pub(crate) struct Breaker {
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed,
    /// Skipping until `until`.
    Open {
        until: Instant,
    },
    /// A probe went out; another may go at `until`.
    Probing {
        until: Instant,
    },
}

impl Breaker {
    pub(crate) fn new(cooldown: Duration) -> Self {
        Self {
            cooldown,
            state: Mutex::new(State::Closed),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn state(&self) -> BreakerState {
        match *self.lock() {
            State::Closed => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::Probing { .. } => BreakerState::Probing,
        }
    }

    /// Whether a call may go to Redis now.
    pub(crate) fn admit(&self, now: Instant) -> bool {
        let mut state = self.lock();
        match *state {
            State::Closed => true,
            State::Open { until } | State::Probing { until } if now < until => false,
            State::Open { .. } | State::Probing { .. } => {
                *state = State::Probing {
                    until: now + self.cooldown,
                };
                true
            }
        }
    }

    /// Redis answered.
    pub(crate) fn succeeded(&self) -> Option<Change> {
        let mut state = self.lock();
        let was_closed = matches!(*state, State::Closed);
        *state = State::Closed;
        (!was_closed).then_some(Change::Recovered)
    }

    /// Redis did not answer (or not in time).
    pub(crate) fn failed(&self, now: Instant) -> Option<Change> {
        let mut state = self.lock();
        let was_closed = matches!(*state, State::Closed);
        *state = State::Open {
            until: now + self.cooldown,
        };
        was_closed.then_some(Change::Opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(1);

    #[test]
    fn a_closed_breaker_admits_everything() {
        let b = Breaker::new(COOLDOWN);
        let now = Instant::now();
        assert!(b.admit(now));
        assert!(b.admit(now));
        assert_eq!(b.succeeded(), None, "nothing to report");
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_failure_skips_calls_for_the_cooldown() {
        let b = Breaker::new(COOLDOWN);
        let t0 = Instant::now();
        assert_eq!(b.failed(t0), Some(Change::Opened));
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.admit(t0));
        assert!(!b.admit(t0 + COOLDOWN / 2));
        assert_eq!(b.failed(t0), None, "an outage is reported once");
    }

    #[test]
    fn after_the_cooldown_one_probe_goes_through() {
        let b = Breaker::new(COOLDOWN);
        let t0 = Instant::now();
        b.failed(t0);
        let later = t0 + COOLDOWN;
        assert!(b.admit(later), "the probe");
        assert_eq!(b.state(), BreakerState::Probing);
        assert!(!b.admit(later), "only one probe at a time");
    }

    #[test]
    fn a_probe_that_answers_closes_the_breaker() {
        let b = Breaker::new(COOLDOWN);
        let t0 = Instant::now();
        b.failed(t0);
        assert!(b.admit(t0 + COOLDOWN));
        assert_eq!(b.succeeded(), Some(Change::Recovered));
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.admit(t0 + COOLDOWN));
    }

    #[test]
    fn a_probe_that_fails_opens_it_again_quietly() {
        let b = Breaker::new(COOLDOWN);
        let t0 = Instant::now();
        b.failed(t0);
        let t1 = t0 + COOLDOWN;
        assert!(b.admit(t1));
        assert_eq!(b.failed(t1), None, "still the same outage");
        assert!(!b.admit(t1 + COOLDOWN / 2));
        assert!(b.admit(t1 + COOLDOWN));
    }

    #[test]
    fn a_lost_probe_is_replaced_after_another_cooldown() {
        let b = Breaker::new(COOLDOWN);
        let t0 = Instant::now();
        b.failed(t0);
        assert!(b.admit(t0 + COOLDOWN)); // never reports
        assert!(!b.admit(t0 + COOLDOWN + COOLDOWN / 2));
        assert!(b.admit(t0 + COOLDOWN * 2));
    }
}
