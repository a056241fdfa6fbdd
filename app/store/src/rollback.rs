//! Undoing the latest version, for `suretyd rollback`: a node that committed a block it must
//! not keep (an app hash the network did not agree on, a bug fixed since) steps back one height
//! and executes that block again.
//!
//! A version's writes are all findable by version: its jmt nodes are keyed by it, the nodes it
//! made stale carry it in their stale marks, and every key it wrote is in the `superseded` log
//! under it. So undoing version `v` reads only what `v` wrote:
//! - its nodes, values, index entries and log entries go, and so do its stale marks (the nodes
//!   they name are live again: pruning only deletes nodes stale since a version it dropped);
//! - `kv_latest` gets each key's value as of `v - 1` back from the index.
//!
//! The caller adds the metadata (latest version, app hash, substores `v` created) and writes
//! everything in one batch, so a crash leaves either version whole.
//!
//! The same removal discards a version written ahead and never committed (`crate::ahead`),
//! leaving `kv_latest` as it is.

use jmt::Version;

use crate::db::{cf, iter_item, Batch, Db};
use crate::error::StoreError;
use crate::keys;
use crate::tree::key_hash;

/// What removing a version means for a tree's versioned index and `kv_latest`.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Latest {
    /// The main tree: it has neither.
    None,
    /// The version was the latest (a rollback): `kv_latest` gets the values from before it back.
    Restore,
    /// The version never became the latest (written ahead, never committed): `kv_latest` does
    /// not hold it, so it is left alone.
    Untouched,
}

/// Stages the deletion of everything `version` wrote to `tree`.
pub(crate) fn stage_tree_removal(
    db: &Db,
    batch: &mut Batch,
    tree: &[u8],
    version: Version,
    latest: Latest,
) -> Result<(), StoreError> {
    let prefix = keys::tree_version_prefix(tree, version);
    for cf_name in [cf::NODES, cf::STALE] {
        delete_prefixed(db, batch, cf_name, &prefix)?;
    }
    let mut it = db.raw_iter(cf::SUPERSEDED)?;
    it.seek(&prefix);
    while let Some((k, _)) = iter_item(&it)? {
        let Some(key) = k.strip_prefix(prefix.as_slice()) else {
            break;
        };
        batch.delete(cf::VALUES, keys::value_key(tree, &key_hash(key), version));
        if latest != Latest::None {
            batch.delete(cf::INDEX, keys::index_key(tree, key, version));
        }
        if latest == Latest::Restore {
            let latest = keys::latest_key(tree, key);
            match value_before(db, tree, key, version)? {
                Some(value) => batch.put(cf::LATEST, latest, value),
                None => batch.delete(cf::LATEST, latest),
            }
        }
        batch.delete(cf::SUPERSEDED, k.to_vec());
        it.next();
    }
    Ok(())
}

/// `key`'s value at the version before `version`, from the versioned index (`None`: absent).
fn value_before(
    db: &Db,
    tree: &[u8],
    key: &[u8],
    version: Version,
) -> Result<Option<Vec<u8>>, StoreError> {
    let prefix = keys::index_key_prefix(tree, key);
    let mut it = db.raw_iter(cf::INDEX)?;
    it.seek_for_prev(keys::index_key(tree, key, version - 1));
    match iter_item(&it)? {
        Some((k, raw)) if k.len() == prefix.len() + 8 && k.starts_with(&prefix) => {
            keys::decode_value(raw)
        }
        _ => Ok(None),
    }
}

fn delete_prefixed(
    db: &Db,
    batch: &mut Batch,
    cf_name: &'static str,
    prefix: &[u8],
) -> Result<(), StoreError> {
    let mut it = db.raw_iter(cf_name)?;
    it.seek(prefix);
    while let Some((k, _)) = iter_item(&it)? {
        if !k.starts_with(prefix) {
            break;
        }
        batch.delete(cf_name, k.to_vec());
        it.next();
    }
    Ok(())
}
