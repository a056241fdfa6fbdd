//! State access: reads against a committed snapshot, writes buffered in copy-on-write overlays.
//!
//! A block runs on an [`Overlay`] of the last committed version; each transaction runs on its own
//! overlay of the block's, which is merged on success and dropped on failure, so a failed
//! transaction leaves no writes behind.

use crate::error::Error;
use std::collections::BTreeMap;
use surety_store::Snapshot;

/// Pending writes: (substore, key) -> Some(value) or None for a delete. Ordered, so commits are
/// deterministic.
pub type Changes = BTreeMap<(&'static str, Vec<u8>), Option<Vec<u8>>>;

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
        match self.changes.get(&(store, key.to_vec())) {
            Some(change) => Ok(change.clone()),
            None => self.base.get(store, key),
        }
    }

    fn prefix(&self, store: &'static str, prefix: &[u8]) -> Result<Entries, Error> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> =
            self.base.prefix(store, prefix)?.into_iter().collect();
        let pending = self
            .changes
            .range((store, prefix.to_vec())..)
            .take_while(|((s, k), _)| *s == store && k.starts_with(prefix));
        for ((_, key), change) in pending {
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
            let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = chunk.into_iter().collect();
            let pending =
                self.changes
                    .range((store, cursor.clone())..)
                    .take_while(|((s, k), _)| {
                        *s == store && k.starts_with(prefix) && end.as_ref().is_none_or(|e| k <= e)
                    });
            for ((_, key), change) in pending {
                match change {
                    Some(value) => merged.insert(key.clone(), value.clone()),
                    None => merged.remove(key),
                };
            }
            for entry in merged {
                if out.len() == limit {
                    break;
                }
                out.push(entry);
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
        self.changes.insert((store, key), Some(value));
    }

    fn delete(&mut self, store: &'static str, key: Vec<u8>) {
        self.changes.insert((store, key), None);
    }

    fn apply(&mut self, changes: Changes) {
        if self.changes.is_empty() {
            self.changes = changes;
        } else {
            self.changes.extend(changes);
        }
    }
}
