//! The latest version as plain data (`kv_latest`: tree id ++ key -> value, deleted keys absent).
//!
//! Every commit writes it in the same batch as the version itself, so it always holds exactly the
//! version named by `latest_version` in the metadata. Reading the newest version, which is what
//! blocks and most queries do, is then one point lookup (with a bloom filter for absent keys) or
//! one forward scan, where the versioned index costs a backward seek per key that slows down as
//! deleted entries pile up between compactions.

use crate::db::{cf, iter_item, Batch, Db};
use crate::error::StoreError;
use crate::{keys, Version};

/// Writes are flushed at this many so that rebuilding a large store stays bounded in memory.
const MAX_BATCH_OPS: usize = 20_000;

/// Whether `key` has a value in `tree` at the latest committed version.
pub(crate) fn is_live(db: &Db, tree: &[u8], key: &[u8]) -> Result<bool, StoreError> {
    Ok(db.get(cf::LATEST, &keys::latest_key(tree, key))?.is_some())
}

/// Builds `kv_latest` from the versioned index for a store written before it existed; a no-op
/// once built. Safe to interrupt: the flag is written last and the rebuild starts over.
pub(crate) fn build_if_missing(db: &Db, latest: Version) -> Result<(), StoreError> {
    if db.get(cf::META, keys::META_LATEST_KV_BUILT)?.is_some() {
        return Ok(());
    }
    let mut batch = Batch::default();
    let mut built = 0usize;
    let mut it = db.raw_iter(cf::INDEX)?;
    it.seek_to_first();
    // The newest entry seen of the current key; the index lists a key's versions oldest first.
    let mut newest: Option<(Vec<u8>, Vec<u8>)> = None;
    let mut flush_key = |batch: &mut Batch, entry: Option<(Vec<u8>, Vec<u8>)>| {
        if let Some((key, raw)) = entry {
            if let Some(value) = keys::decode_value(&raw)? {
                batch.put(cf::LATEST, key, value);
                built += 1;
            }
        }
        if batch.len() >= MAX_BATCH_OPS {
            db.write(batch, false)?;
            batch.clear();
        }
        Ok::<(), StoreError>(())
    };
    while let Some((k, v)) = iter_item(&it)? {
        let (tree, rest) = split_tree(k)?;
        let (group, version) = keys::split_index_key(rest)?;
        if version > latest {
            return Err(StoreError::Corrupt(format!(
                "index entry at version {version}, past the latest {latest}"
            )));
        }
        let key = keys::latest_key(tree, &keys::unescape(&group[..group.len() - 2])?);
        if newest.as_ref().is_some_and(|(current, _)| *current != key) {
            flush_key(&mut batch, newest.take())?;
        }
        newest = Some((key, v.to_vec()));
        it.next();
    }
    flush_key(&mut batch, newest.take())?;
    batch.put(cf::META, keys::META_LATEST_KV_BUILT.to_vec(), Vec::new());
    db.write(&batch, true)?;
    if latest > 0 {
        tracing::info!(
            keys = built,
            version = latest,
            "built the latest-value table"
        );
    }
    Ok(())
}

/// Splits an index key into its substore tree id (tag, length, name) and the rest.
fn split_tree(key: &[u8]) -> Result<(&[u8], &[u8]), StoreError> {
    let len = key
        .get(1)
        .map(|&n| 2 + usize::from(n))
        .filter(|&len| len <= key.len())
        .ok_or_else(|| StoreError::Corrupt("malformed index key".into()))?;
    Ok(key.split_at(len))
}
