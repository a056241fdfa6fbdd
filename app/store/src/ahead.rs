//! A version's own entries written ahead of its commit, and discarded if the commit never comes.
//!
//! Everything a version adds to the trees is keyed by the version: its nodes, values, index
//! entries, stale marks and log entries (preimages are keyed by the key's hash alone, and are the
//! same whichever version writes them). No reader looks above the latest version, and pruning
//! stops at the oldest kept one, so these entries can be on disk before the version is the
//! latest. `Storage::write_ahead` writes them while a block executes; the commit then writes only
//! what makes the version the latest (`kv_latest`, the metadata), the part CometBFT waits for
//! with its mempool locked.
//!
//! A marker in the metadata names the version written ahead and the substores it creates; the
//! commit deletes it in its own batch. A marker found without its commit (the node died between
//! executing a block and committing it, or the block is executed again) means entries of a
//! version that may never be, or may be written differently: they go, before the next version
//! is written ahead and whenever the store opens.

use std::collections::BTreeSet;

use jmt::Version;

use crate::db::{cf, Batch, Db};
use crate::error::StoreError;
use crate::keys;
use crate::rollback::{stage_tree_removal, Latest};

/// Stages the removal of a version written ahead and not committed, if the marker names one,
/// and of the marker. `substores` are those of the latest version. Returns the version found.
pub(crate) fn stage_discard(
    db: &Db,
    batch: &mut Batch,
    latest: Version,
    substores: &BTreeSet<String>,
) -> Result<Option<Version>, StoreError> {
    let Some(raw) = db.get(cf::META, keys::META_WRITTEN_AHEAD)? else {
        return Ok(None);
    };
    let (version, created) = keys::decode_written_ahead(&raw)?;
    batch.delete(cf::META, keys::META_WRITTEN_AHEAD.to_vec());
    // A commit deletes the marker in the batch that makes its version the latest, so a marker at
    // or below the latest version is left over from nothing; only the marker goes.
    if version <= latest {
        return Ok(Some(version));
    }
    stage_tree_removal(db, batch, keys::MAIN_TREE_ID, version, Latest::None)?;
    let trees: BTreeSet<&String> = substores.iter().chain(&created).collect();
    for name in trees {
        let tree = keys::substore_tree_id(name)?;
        stage_tree_removal(db, batch, &tree, version, Latest::Untouched)?;
    }
    Ok(Some(version))
}
