//! The stale-fill guard: which entity keys were evicted while a read was
//! on its way from the database.
//!
//! A read that missed takes a [`Ticket`] before it asks the database, and
//! stores what it got only if no eviction of *that key* happened since
//! (otherwise it might put back a value the eviction just removed: read
//! old, write, evict, store old). Evictions of other keys do not matter, so
//! a like batch touching a hundred tweets does not drop the fill of a
//! hundred-and-first.
//!
//! Marks are kept per key, for recent evictions only: when there are more
//! than [`MAX_MARKS`], they are all dropped and every ticket older than that
//! moment counts as stale (a few fills lost, never a stale one stored).

use std::collections::HashMap;
use std::sync::Mutex;

/// Recent evictions remembered, at most (a few hundred kilobytes of keys).
const MAX_MARKS: usize = 16_384;

/// When a read began, in eviction sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

#[derive(Default)]
pub(crate) struct Evictions {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Sequence number of the latest eviction.
    seq: u64,
    /// Tickets below this are stale: the marks they would need were dropped.
    floor: u64,
    /// Key → sequence number of its latest eviction.
    marks: HashMap<String, u64>,
}

impl Evictions {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Taken before a read goes to the database.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.state().seq)
    }

    /// Records that `keys` are being evicted; called after the write and
    /// before the delete.
    pub(crate) fn mark(&self, keys: &[String]) {
        let mut s = self.state();
        s.seq += 1;
        let seq = s.seq;
        if s.marks.len() + keys.len() > MAX_MARKS {
            s.marks.clear();
            s.floor = seq;
        }
        for k in keys {
            s.marks.insert(k.clone(), seq);
        }
    }

    /// Whether `key` may have been evicted since `ticket` was taken.
    pub(crate) fn stale(&self, key: &str, ticket: Ticket) -> bool {
        let s = self.state();
        ticket.0 < s.floor || s.marks.get(key).is_some_and(|&m| m > ticket.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ks: &[&str]) -> Vec<String> {
        ks.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn an_eviction_after_the_ticket_makes_that_key_stale() {
        let e = Evictions::default();
        let t = e.ticket();
        e.mark(&keys(&["t:1"]));
        assert!(e.stale("t:1", t));
    }

    #[test]
    fn evictions_of_other_keys_leave_a_fill_alone() {
        let e = Evictions::default();
        let t = e.ticket();
        e.mark(&keys(&["t:2", "t:3"]));
        assert!(!e.stale("t:1", t));
    }

    #[test]
    fn an_eviction_before_the_ticket_does_not_count() {
        let e = Evictions::default();
        e.mark(&keys(&["t:1"]));
        let t = e.ticket();
        assert!(!e.stale("t:1", t));
    }

    #[test]
    fn dropping_the_marks_makes_older_tickets_stale() {
        let e = Evictions::default();
        let old = e.ticket();
        let many: Vec<String> = (0..=MAX_MARKS).map(|i| format!("t:{i}")).collect();
        e.mark(&many[..MAX_MARKS / 2]);
        e.mark(&many[MAX_MARKS / 2..]);
        assert!(e.stale("unrelated", old), "its mark may have been dropped");
        let new = e.ticket();
        assert!(!e.stale("unrelated", new));
    }
}
