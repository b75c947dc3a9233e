//! Counts of the statements the store sends to the database.
//!
//! Every statement goes through `sql/db.rs`, which bumps these, so the
//! numbers in `/logs` are complete and nobody has to remember to count.

use std::sync::atomic::{AtomicU64, Ordering};

/// Statement counters, shared by every clone of a store.
#[derive(Debug, Default)]
pub struct DbStats {
    reads: AtomicU64,
    writes: AtomicU64,
}

/// A point-in-time copy of [`DbStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DbCounts {
    pub reads: u64,
    pub writes: u64,
}

impl DbStats {
    pub fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    pub fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> DbCounts {
        DbCounts {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
        }
    }
}
