//! State access: reads against a committed snapshot, writes buffered in copy-on-write overlays.
//!
//! A block runs on an [`Overlay`] of the last committed version; each transaction runs on its own
//! overlay of the block's, which is merged on success and dropped on failure, so a failed
//! transaction leaves no writes behind.

use crate::error::Error;
use std::cell::RefCell;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use surety_store::Snapshot;

/// Pending writes: Some(value), or None for a delete, by substore and then key. Ordered, so
/// commits are deterministic; kept a map per substore so that a lookup, the commonest thing a
/// transaction does, borrows its key instead of building a `(store, key)` pair.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes(BTreeMap<&'static str, StoreChanges>);

/// One substore's pending writes.
pub type StoreChanges = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

impl Changes {
    pub fn new() -> Changes {
        Changes::default()
    }

    pub fn insert(&mut self, store: &'static str, key: Vec<u8>, change: Option<Vec<u8>>) {
        self.0.entry(store).or_default().insert(key, change);
    }

    /// The pending change of `key`: `Some(None)` for a delete, `None` if it has none.
    pub fn get(&self, store: &'static str, key: &[u8]) -> Option<&Option<Vec<u8>>> {
        self.0.get(store)?.get(key)
    }

    /// One substore's changes, in key order.
    pub fn store(&self, store: &'static str) -> Option<&StoreChanges> {
        self.0.get(store)
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(BTreeMap::is_empty)
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Applies `later` over these changes: its change of a key wins.
    pub fn extend(&mut self, later: Changes) {
        for (store, changes) in later.0 {
            match self.0.entry(store) {
                Entry::Vacant(e) => {
                    e.insert(changes);
                }
                Entry::Occupied(mut e) => e.get_mut().extend(changes),
            }
        }
    }

    /// Every change, by substore and then key.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Vec<u8>, &Option<Vec<u8>>)> {
        self.0
            .iter()
            .flat_map(|(store, changes)| changes.iter().map(move |(k, v)| (*store, k, v)))
    }
}

/// A value per key, by substore and then key: looked up with a borrowed key, never iterated.
pub type ByStore<V> = HashMap<&'static str, HashMap<Vec<u8>, V>>;

/// (key, value) pairs in ascending key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

pub trait StateRead {
    fn get(&self, store: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, Error>;
    /// Every (key, value) under `prefix` in ascending key order.
    fn prefix(&self, store: &'static str, prefix: &[u8]) -> Result<Entries, Error>;

    /// At most `limit` entries under `prefix`, ascending, from `start` (inclusive) on: bounded
    /// reads for queues and pages. The default reads the whole prefix; stores override it.
    fn range(
        &self,
        store: &'static str,
        prefix: &[u8],
        start: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, Error> {
        let mut all = self.prefix(store, prefix)?;
        if let Some(start) = start {
            all.retain(|(k, _)| k.as_slice() >= start);
        }
        all.truncate(limit);
        Ok(all)
    }
}

pub trait StateWrite: StateRead {
    fn put(&mut self, store: &'static str, key: Vec<u8>, value: Vec<u8>);
    fn delete(&mut self, store: &'static str, key: Vec<u8>);
    fn apply(&mut self, changes: Changes);
}

fn store_error(e: surety_store::StoreError) -> Error {
    crate::error::fatal::store(e)
}

impl StateRead for Snapshot {
    fn get(&self, store: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        Snapshot::get(self, store, key).map_err(store_error)
    }

    fn prefix(&self, store: &'static str, prefix: &[u8]) -> Result<Entries, Error> {
        Snapshot::prefix(self, store, prefix).map_err(store_error)
    }

    fn range(
        &self,
        store: &'static str,
        prefix: &[u8],
        start: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, Error> {
        Snapshot::range(self, store, prefix, start, limit).map_err(store_error)
    }
}

/// Reads of a base that never changes underneath (a committed snapshot), remembered for as long
/// as this lives. A block reads the same keys and short ranges (pools, their exposures and next
/// expiry, params, products, busy senders' accounts) in almost every transaction, and each miss
/// is RocksDB seeks whose cost grows with the store. Results and gas are exactly those of the
/// base; what is remembered is bounded: at most [`CachedReads::MAX_ENTRIES`] answers and
/// [`CachedReads::MAX_BYTES`], and ranges only when short.
pub struct CachedReads<'a> {
    base: &'a dyn StateRead,
    // Looked up by key only, never iterated: their order cannot reach consensus. By store, then
    // key, so that a lookup borrows its key.
    gets: RefCell<ByStore<Option<Vec<u8>>>>,
    /// Answers held in `gets`, against [`CachedReads::MAX_ENTRIES`].
    held: std::cell::Cell<usize>,
    ranges: RefCell<HashMap<RangeQuery, Entries>>,
    /// Bytes of keys and values held, against [`CachedReads::MAX_BYTES`].
    bytes: std::cell::Cell<usize>,
}

/// (store, prefix, start, limit); `prefix` reads use a limit of `usize::MAX`.
type RangeQuery = (&'static str, Vec<u8>, Option<Vec<u8>>, usize);

impl<'a> CachedReads<'a> {
    pub const MAX_ENTRIES: usize = 200_000;
    /// And at most this many bytes of keys and values, however large the values read.
    pub const MAX_BYTES: usize = 256 << 20;
    /// Longer ranges are rare (genesis, invariants, EndBlock queues) and read once.
    pub const MAX_RANGE_LEN: usize = 64;

    pub fn new(base: &'a dyn StateRead) -> CachedReads<'a> {
        CachedReads {
            base,
            gets: Default::default(),
            held: Default::default(),
            ranges: Default::default(),
            bytes: Default::default(),
        }
    }

    /// Whether `more` bytes still fit; counts them if so.
    fn reserve(&self, more: usize) -> bool {
        let total = self.bytes.get().saturating_add(more);
        if total > Self::MAX_BYTES {
            return false;
        }
        self.bytes.set(total);
        true
    }

    fn cached_range(
        &self,
        query: RangeQuery,
        read: impl FnOnce() -> Result<Entries, Error>,
    ) -> Result<Entries, Error> {
        if let Some(hit) = self.ranges.borrow().get(&query) {
            return Ok(hit.clone());
        }
        let entries = read()?;
        let mut ranges = self.ranges.borrow_mut();
        let size = |e: &Entries| e.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        if entries.len() <= Self::MAX_RANGE_LEN
            && ranges.len() < Self::MAX_ENTRIES
            && self.reserve(query.1.len() + size(&entries))
        {
            ranges.insert(query, entries.clone());
        }
        Ok(entries)
    }
}

impl StateRead for CachedReads<'_> {
    fn get(&self, store: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        if let Some(hit) = self.gets.borrow().get(store).and_then(|s| s.get(key)) {
            return Ok(hit.clone());
        }
        let value = self.base.get(store, key)?;
        if self.held.get() < Self::MAX_ENTRIES
            && self.reserve(key.len() + value.as_ref().map_or(0, Vec::len))
        {
            let mut gets = self.gets.borrow_mut();
            gets.entry(store)
                .or_default()
                .insert(key.to_vec(), value.clone());
            self.held.set(self.held.get() + 1);
        }
        Ok(value)
    }

    fn prefix(&self, store: &'static str, prefix: &[u8]) -> Result<Entries, Error> {
        self.cached_range((store, prefix.to_vec(), None, usize::MAX), || {
            self.base.prefix(store, prefix)
        })
    }

    fn range(
        &self,
        store: &'static str,
        prefix: &[u8],
        start: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, Error> {
        let query = (store, prefix.to_vec(), start.map(<[u8]>::to_vec), limit);
        self.cached_range(query, || self.base.range(store, prefix, start, limit))
    }
}

/// Buffered writes over a base that is never modified.
pub struct Overlay<'a> {
    base: &'a dyn StateRead,
    changes: Changes,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn StateRead) -> Overlay<'a> {
        Overlay {
            base,
            changes: Changes::new(),
        }
    }

    /// An overlay that starts from changes already made (e.g. the mempool's since the last commit).
    pub fn with_changes(base: &'a dyn StateRead, changes: Changes) -> Overlay<'a> {
        Overlay { base, changes }
    }

    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    pub fn into_changes(self) -> Changes {
        self.changes
    }
}

impl StateRead for Overlay<'_> {
    fn get(&self, store: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        match self.changes.get(store, key) {
            Some(change) => Ok(change.clone()),
            None => self.base.get(store, key),
        }
    }

    fn prefix(&self, store: &'static str, prefix: &[u8]) -> Result<Entries, Error> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> =
            self.base.prefix(store, prefix)?.into_iter().collect();
        let pending = self
            .changes
            .store(store)
            .into_iter()
            .flat_map(|c| c.range(prefix.to_vec()..))
            .take_while(|(k, _)| k.starts_with(prefix));
        for (key, change) in pending {
            match change {
                Some(value) => merged.insert(key.clone(), value.clone()),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().collect())
    }

    /// Reads the base in chunks of `limit`, merging this overlay's changes over each chunk's
    /// key span, until `limit` live entries are found or the prefix ends.
    fn range(
        &self,
        store: &'static str,
        prefix: &[u8],
        start: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, Error> {
        let mut out: Entries = Vec::new();
        let mut cursor: Vec<u8> = match start {
            Some(s) if s > prefix => s.to_vec(),
            _ => prefix.to_vec(),
        };
        while out.len() < limit {
            let chunk = self.base.range(store, prefix, Some(&cursor), limit)?;
            let exhausted = chunk.len() < limit;
            // The span this chunk covers: up to its last key, or to the end of the prefix.
            let end: Option<Vec<u8>> = if exhausted {
                None
            } else {
                chunk.last().map(|(k, _)| k.clone())
            };
            // Merged lazily, in key order, until `limit`: a block's overlay may hold thousands
            // of changes under the prefix (a pool's new tranches), and a range of one must not
            // walk them all.
            let mut pending = self
                .changes
                .store(store)
                .into_iter()
                .flat_map(|c| c.range(cursor.clone()..))
                .take_while(|(k, _)| k.starts_with(prefix) && end.as_ref().is_none_or(|e| *k <= e))
                .peekable();
            let mut base = chunk.into_iter().peekable();
            while out.len() < limit {
                let change_first = match (base.peek(), pending.peek()) {
                    (None, None) => break,
                    (Some(_), None) => false,
                    (None, Some(_)) => true,
                    (Some((b, _)), Some((c, _))) => *c <= b,
                };
                if !change_first {
                    out.extend(base.next());
                    continue;
                }
                let Some((key, change)) = pending.next() else {
                    break;
                };
                // The change replaces (or deletes) the base's entry of the same key.
                if base.peek().is_some_and(|(b, _)| b == key) {
                    base.next();
                }
                if let Some(value) = change {
                    out.push((key.clone(), value.clone()));
                }
            }
            match end {
                None => break,
                Some(mut e) => {
                    e.push(0);
                    cursor = e;
                }
            }
        }
        Ok(out)
    }
}

impl StateWrite for Overlay<'_> {
    fn put(&mut self, store: &'static str, key: Vec<u8>, value: Vec<u8>) {
        self.changes.insert(store, key, Some(value));
    }

    fn delete(&mut self, store: &'static str, key: Vec<u8>) {
        self.changes.insert(store, key, None);
    }

    fn apply(&mut self, changes: Changes) {
        if self.changes.is_empty() {
            self.changes = changes;
        } else {
            self.changes.extend(changes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A base in memory that counts how often it is read.
    #[derive(Default)]
    struct Counted {
        data: BTreeMap<Vec<u8>, Vec<u8>>,
        reads: Cell<usize>,
    }

    impl StateRead for Counted {
        fn get(&self, _: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
            self.reads.set(self.reads.get() + 1);
            Ok(self.data.get(key).cloned())
        }
        fn prefix(&self, _: &'static str, prefix: &[u8]) -> Result<Entries, Error> {
            self.reads.set(self.reads.get() + 1);
            Ok(self
                .data
                .range(prefix.to_vec()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect())
        }
    }

    fn filled() -> Counted {
        let mut b = Counted::default();
        for i in 0u16..200 {
            let group = if i < 10 { b'a' } else { b'b' };
            b.data.insert(
                vec![group, (i >> 8) as u8, i as u8],
                i.to_be_bytes().to_vec(),
            );
        }
        b
    }

    #[test]
    fn cached_reads_answer_as_the_base_and_read_it_once() {
        let base = filled();
        let cached = CachedReads::new(&base);
        let reference = filled();
        let queries: Vec<Vec<u8>> = vec![vec![b'a', 0, 3], vec![b'a', 9, 9], vec![b'b', 0, 150]];
        for round in 0..3 {
            for key in &queries {
                assert_eq!(
                    cached.get("s", key).unwrap(),
                    reference.get("s", key).unwrap()
                );
            }
            assert_eq!(
                cached.prefix("s", b"a").unwrap(),
                reference.prefix("s", b"a").unwrap()
            );
            for (start, limit) in [(None, 1), (Some(&[b'a', 0, 5][..]), 3), (None, 0)] {
                assert_eq!(
                    cached.range("s", b"a", start, limit).unwrap(),
                    reference.range("s", b"a", start, limit).unwrap()
                );
            }
            // First round: 3 gets, 1 prefix, 3 ranges (each a prefix read of the base).
            assert_eq!(base.reads.get(), 7, "round {round} read the base again");
        }
    }

    #[test]
    fn long_ranges_are_not_remembered() {
        let base = filled();
        let cached = CachedReads::new(&base);
        assert!(base.prefix("s", b"b").unwrap().len() > CachedReads::MAX_RANGE_LEN);
        let before = base.reads.get();
        for _ in 0..2 {
            assert_eq!(cached.prefix("s", b"b").unwrap().len(), 190);
        }
        assert_eq!(base.reads.get(), before + 2);
    }

    /// Overlays two deep (a transaction's over a block's), with puts and deletes over a base,
    /// answer every range as the same writes applied to a plain map would.
    #[test]
    fn overlay_ranges_match_the_writes_applied_in_full() {
        let base = filled();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = base.data.clone();
        let mut block = Overlay::new(&base);
        // A deterministic scramble of keys in and around both groups.
        let mut x: u32 = 7;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            x >> 8
        };
        let write = |o: &mut Overlay, model: &mut BTreeMap<Vec<u8>, Vec<u8>>, n: u32| {
            let key = vec![
                [b'a', b'b', b'c'][(n % 3) as usize],
                (n >> 4) as u8 % 2,
                n as u8,
            ];
            if n.is_multiple_of(5) {
                o.delete("s", key.clone());
                model.remove(&key);
            } else {
                o.put("s", key.clone(), n.to_be_bytes().to_vec());
                model.insert(key, n.to_be_bytes().to_vec());
            }
        };
        for _ in 0..300 {
            let n = next();
            write(&mut block, &mut model, n);
        }
        let mut tx = Overlay::new(&block);
        for _ in 0..100 {
            let n = next();
            write(&mut tx, &mut model, n);
        }
        for prefix in [&b"a"[..], b"b", b"c", b"a\x01", b""] {
            let all: Entries = model
                .range(prefix.to_vec()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(tx.prefix("s", prefix).unwrap(), all);
            for limit in [0, 1, 2, 7, 64, 1_000] {
                for start in [None, Some(vec![b'a', 0, 100]), Some(vec![b'b', 1])] {
                    let from = |k: &Vec<u8>| start.as_ref().is_none_or(|s| k >= s);
                    let want: Entries = all
                        .iter()
                        .filter(|(k, _)| from(k))
                        .take(limit)
                        .cloned()
                        .collect();
                    assert_eq!(
                        tx.range("s", prefix, start.as_deref(), limit).unwrap(),
                        want,
                        "prefix {prefix:?} from {start:?} limit {limit}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_overlay_on_cached_reads_still_sees_its_own_writes() {
        let base = filled();
        let cached = CachedReads::new(&base);
        let mut overlay = Overlay::new(&cached);
        let key = vec![b'a', 0, 3];
        assert_eq!(
            overlay.get("s", &key).unwrap(),
            Some(3u16.to_be_bytes().to_vec())
        );
        overlay.put("s", key.clone(), b"new".to_vec());
        overlay.delete("s", vec![b'a', 0, 4]);
        assert_eq!(overlay.get("s", &key).unwrap(), Some(b"new".to_vec()));
        let a = overlay.prefix("s", b"a").unwrap();
        assert_eq!(a.len(), 9);
        assert!(a.contains(&(key, b"new".to_vec())));
        // The cache under it still holds the committed value.
        assert_eq!(
            cached.get("s", &[b'a', 0, 3]).unwrap(),
            Some(3u16.to_be_bytes().to_vec())
        );
    }
}
