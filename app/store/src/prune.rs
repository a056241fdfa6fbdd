//! Deleting data that no retained version can read.
//!
//! Given the oldest kept version `k`:
//! - a jmt node marked stale since `s <= k` belongs only to versions `< s`, so it goes;
//! - an entry (value or index) of a key written again at `v <= k` is hidden by the newer entry
//!   for every version `>= k`, so it goes; a deletion at `v <= k` also removes its own
//!   tombstone, since "no entry" reads the same as a tombstone;
//! - app hashes of versions `< k` go.
//!
//! Pruning only ever touches data invisible to versions `>= k`, readers refuse versions `< k`
//! before it starts (the in-memory oldest version is raised first), and it is idempotent, so it
//! may run in several batches and be resumed after a crash.

use jmt::Version;

use crate::db::{cf, iter_item, Batch, Db};
use crate::error::StoreError;
use crate::keys;
use crate::storage::Inner;
use crate::tree::key_hash;
use rocksdb::DBRawIterator;

/// Batches are flushed at this size so that pruning a large backlog stays bounded in memory.
const MAX_BATCH_OPS: usize = 20_000;

/// Prunes everything only needed by versions below `oldest`. `from`: every log entry of a
/// version below it was handled by an earlier run that finished (0 when unknown). Returns the
/// `from` of the next run.
pub(crate) fn prune_to(
    inner: &Inner,
    from: Version,
    oldest: Version,
) -> Result<Version, StoreError> {
    if oldest <= 1 {
        return Ok(from);
    }
    let mut trees = vec![keys::MAIN_TREE_ID.to_vec()];
    let substores: Vec<String> = inner.state().substores.iter().cloned().collect();
    for name in &substores {
        trees.push(keys::substore_tree_id(name)?);
    }
    let mut pruner = Pruner {
        db: &inner.db,
        from,
        iterators: Vec::new(),
        batch: Batch::default(),
        deleted: 0,
    };
    for tree in &trees {
        pruner.stale_nodes(tree, oldest)?;
        pruner.superseded_entries(tree, oldest, tree.as_slice() != keys::MAIN_TREE_ID)?;
    }
    pruner.app_hashes(oldest)?;
    pruner.flush()?;
    if pruner.deleted > 0 {
        tracing::debug!(oldest, deleted = pruner.deleted, "pruned old versions");
    }
    Ok(from.max(oldest.saturating_add(1)))
}

struct Pruner<'a> {
    db: &'a Db,
    /// Log entries of earlier versions were all handled by a finished run: the scans start here
    /// rather than step over what that run deleted.
    from: Version,
    /// Reused across keys: see [`Pruner::newest_up_to`].
    iterators: Vec<(&'static str, DBRawIterator<'a>)>,
    batch: Batch,
    deleted: usize,
}

impl Pruner<'_> {
    fn delete(&mut self, cf: &'static str, key: Vec<u8>) -> Result<(), StoreError> {
        self.batch.delete(cf, key);
        self.deleted += 1;
        if self.batch.len() >= MAX_BATCH_OPS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if !self.batch.is_empty() {
            self.db.write(&self.batch, false)?;
            self.batch.clear();
        }
        Ok(())
    }

    /// Deletes nodes stale since a version `<= oldest`, then their stale-index entries (in that
    /// order, so an interrupted run leaves an index entry to retry rather than a leaked node).
    fn stale_nodes(&mut self, tree: &[u8], oldest: Version) -> Result<(), StoreError> {
        let mut it = self.db.raw_iter(cf::STALE)?;
        it.seek(keys::tree_version_prefix(tree, self.from));
        let end = keys::tree_version_prefix(tree, oldest);
        while let Some((k, _)) = iter_item(&it)? {
            if !k.starts_with(tree) || k.len() < tree.len() + 8 || k[..tree.len() + 8] > *end {
                break;
            }
            let mut node = tree.to_vec();
            node.extend_from_slice(&k[tree.len() + 8..]);
            let stale_entry = k.to_vec();
            self.delete(cf::NODES, node)?;
            self.delete(cf::STALE, stale_entry)?;
            it.next();
        }
        Ok(())
    }

    /// Deletes value and index entries hidden by a write at a version `<= oldest`.
    fn superseded_entries(
        &mut self,
        tree: &[u8],
        oldest: Version,
        with_index: bool,
    ) -> Result<(), StoreError> {
        let mut it = self.db.raw_iter(cf::SUPERSEDED)?;
        it.seek(keys::tree_version_prefix(tree, self.from));
        let end = keys::tree_version_prefix(tree, oldest);
        while let Some((k, flag)) = iter_item(&it)? {
            if !k.starts_with(tree) || k.len() < tree.len() + 8 || k[..tree.len() + 8] > *end {
                break;
            }
            let version = keys::decode_version(&k[tree.len()..tree.len() + 8])?;
            let key = k[tree.len() + 8..].to_vec();
            let tombstone = flag == [1];
            let log_entry = k.to_vec();
            // Entries strictly older than `version`, plus the tombstone at `version` itself.
            let last = if tombstone {
                Some(version)
            } else {
                version.checked_sub(1)
            };
            let count = if tombstone { 2 } else { 1 };
            if let Some(last) = last {
                let kh = key_hash(&key);
                let values = keys::value_key_prefix(tree, &kh);
                self.newest_up_to(cf::VALUES, &values, last, count)?;
                if with_index {
                    let index = keys::index_key_prefix(tree, &key);
                    self.newest_up_to(cf::INDEX, &index, last, count)?;
                }
            }
            self.delete(cf::SUPERSEDED, log_entry)?;
            it.next();
        }
        Ok(())
    }

    /// Deletes the newest `prefix ++ version` entries with version `<= last`, at most `count`,
    /// newest first. Every older entry of the key went with the log entry of the version that
    /// superseded it, so the newest is all there is to delete (the tombstone of a deletion and
    /// the value before it: two). Reading back from `last` lands on them at once, with one
    /// iterator per column family for the whole run (creating one per key cost more than the
    /// deletes).
    fn newest_up_to(
        &mut self,
        cf_name: &'static str,
        prefix: &[u8],
        last: Version,
        count: usize,
    ) -> Result<(), StoreError> {
        let it = match self.iterators.iter().position(|(name, _)| *name == cf_name) {
            Some(i) => &mut self.iterators[i].1,
            None => {
                self.iterators.push((cf_name, self.db.raw_iter(cf_name)?));
                &mut self.iterators.last_mut().expect("just pushed").1
            }
        };
        it.seek_for_prev([prefix, &last.to_be_bytes()[..]].concat());
        let mut doomed = Vec::new();
        while doomed.len() < count {
            let Some((k, _)) = iter_item(it)? else {
                break;
            };
            if k.len() != prefix.len() + 8 || !k.starts_with(prefix) {
                break;
            }
            doomed.push(k.to_vec());
            it.prev();
        }
        for entry in doomed {
            self.delete(cf_name, entry)?;
        }
        Ok(())
    }

    fn app_hashes(&mut self, oldest: Version) -> Result<(), StoreError> {
        let prefix = keys::app_hash_key_prefix();
        let mut it = self.db.raw_iter(cf::META)?;
        it.seek(prefix);
        while let Some((k, _)) = iter_item(&it)? {
            let Some(version) = k.strip_prefix(prefix) else {
                break;
            };
            if keys::decode_version(version)? >= oldest {
                break;
            }
            let entry = k.to_vec();
            self.delete(cf::META, entry)?;
            it.next();
        }
        Ok(())
    }
}
