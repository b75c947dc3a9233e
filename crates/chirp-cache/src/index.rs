//! The path → keys index that lets a write evict every query string of a path
//! without scanning the cache.
//!
//! Each key maps to the generation of the entry last linked under it, so a
//! late eviction notification for an older entry never unlinks a newer one.
//! The index may hold keys the cache has dropped (an insertion cancelled after
//! linking); [`PathIndex::bloated`] and [`PathIndex::prune`] keep that
//! surplus bounded.

use std::collections::HashMap;

use crate::policy::key_path;

#[derive(Debug, Default)]
pub(crate) struct PathIndex {
    /// path → (key → generation).
    by_path: HashMap<String, HashMap<String, u64>>,
    /// Keys held, over all paths.
    keys: usize,
    /// Generations below this were all settled (inserted or abandoned) when
    /// the last prune ran; only those may be pruned, so a key linked just
    /// before its insertion is never mistaken for a leftover.
    settled_below: u64,
}

impl PathIndex {
    /// Links `key` to `generation`; returns the generation it replaced.
    pub(crate) fn link(&mut self, key: &str, generation: u64) -> Option<u64> {
        let bucket = self.by_path.entry(key_path(key).to_owned()).or_default();
        let previous = bucket.insert(key.to_owned(), generation);
        if previous.is_none() {
            self.keys += 1;
        }
        previous
    }

    /// Undoes [`Self::link`] when the entry will not be stored, restoring the
    /// previous link: that older entry may still be cached and must stay
    /// evictable.
    pub(crate) fn unlink_to(&mut self, key: &str, generation: u64, previous: Option<u64>) {
        match previous {
            Some(older) => {
                let bucket = self.by_path.get_mut(key_path(key));
                if let Some(current) = bucket.and_then(|b| b.get_mut(key))
                    && *current == generation
                {
                    *current = older;
                }
            }
            None => self.unlink(key, generation),
        }
    }

    /// Forgets `key` if it is still linked to `generation`.
    pub(crate) fn unlink(&mut self, key: &str, generation: u64) {
        let path = key_path(key);
        let Some(bucket) = self.by_path.get_mut(path) else {
            return;
        };
        if bucket.get(key) == Some(&generation) {
            bucket.remove(key);
            self.keys -= 1;
            if bucket.is_empty() {
                self.by_path.remove(path);
            }
        }
    }

    /// Removes and returns every key under `paths`.
    pub(crate) fn take(&mut self, paths: &[String]) -> Vec<String> {
        let keys: Vec<String> = paths
            .iter()
            .filter_map(|path| self.by_path.remove(path))
            .flat_map(HashMap::into_keys)
            .collect();
        self.keys -= keys.len();
        keys
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys
    }

    /// More keys than the cache can plausibly hold: time to prune.
    pub(crate) fn bloated(&self, cached_entries: u64) -> bool {
        self.keys as u64 > 2 * cached_entries + 1024
    }

    /// Drops settled keys the cache no longer holds; `next_generation` marks
    /// what counts as settled at the next prune.
    pub(crate) fn prune(&mut self, cached: impl Fn(&str) -> bool, next_generation: u64) {
        let settled_below = self.settled_below;
        let mut removed = 0;
        self.by_path.retain(|_, bucket| {
            bucket.retain(|key, generation| {
                let keep = *generation >= settled_below || cached(key);
                removed += usize::from(!keep);
                keep
            });
            !bucket.is_empty()
        });
        self.keys -= removed;
        self.settled_below = next_generation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_notification_for_an_old_generation_keeps_the_new_link() {
        let mut index = PathIndex::default();
        index.link("/a?x=1", 1);
        index.link("/a?x=1", 2);
        index.unlink("/a?x=1", 1);
        assert_eq!(index.len(), 1);
        index.unlink("/a?x=1", 2);
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn a_refused_link_restores_the_older_entry() {
        let mut index = PathIndex::default();
        index.link("/a", 1);
        let previous = index.link("/a", 2);
        index.unlink_to("/a", 2, previous);
        assert_eq!(index.take(&["/a".to_owned()]), ["/a"]);
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn pruning_spares_keys_linked_since_the_last_prune() {
        let mut index = PathIndex::default();
        index.link("/gone", 0);
        index.prune(|_| false, 1);
        assert_eq!(index.len(), 1, "generation 0 was not yet settled");
        index.link("/new", 1);
        index.prune(|_| false, 2);
        assert_eq!(
            index.len(),
            1,
            "only /new, linked after the first prune, is left"
        );
        assert!(!index.bloated(0));
    }
}
