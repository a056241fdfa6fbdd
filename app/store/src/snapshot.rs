//! Read-only views of one committed version.

use std::sync::Arc;

use crate::db::{cf, iter_item, View};
use crate::error::StoreError;
use crate::storage::Inner;
use crate::tree::{key_hash, TreeStore, EMPTY_ROOT};
use crate::{keys, proof, AppHash, KeyValue, Version};

/// A view of the store at one version. Cheap to clone.
///
/// Versions are immutable once written, so a snapshot never sees later commits. If its version
/// gets pruned while a read is in flight, the read fails with [`StoreError::VersionPruned`]
/// instead of returning partial data.
#[derive(Clone)]
pub struct Snapshot {
    inner: Arc<Inner>,
    version: Version,
    app_hash: Option<AppHash>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.version)
            .field("app_hash", &self.app_hash.map(|h| crate::storage::hex(&h)))
            .finish()
    }
}

impl Snapshot {
    pub(crate) fn new(inner: Arc<Inner>, version: Version, app_hash: Option<AppHash>) -> Self {
        Snapshot {
            inner,
            version,
            app_hash,
        }
    }

    /// The version this snapshot reads.
    pub fn version(&self) -> Version {
        self.version
    }

    /// App hash of this version (`None` for the empty version 0).
    pub fn app_hash(&self) -> Option<AppHash> {
        self.app_hash
    }

    /// Runs `read`, failing if the version is (or became, during the read) pruned.
    fn guarded<T>(&self, read: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.check_not_pruned()?;
        let out = read()?;
        self.check_not_pruned()?;
        Ok(out)
    }

    fn check_not_pruned(&self) -> Result<(), StoreError> {
        let oldest = self.inner.oldest();
        if self.version != 0 && self.version < oldest {
            return Err(StoreError::VersionPruned {
                version: self.version,
                oldest,
            });
        }
        Ok(())
    }

    /// Value of `key` in `substore` at this version.
    pub fn get(&self, substore: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let tree = keys::substore_tree_id(substore)?;
        if self.version == 0 {
            return Ok(None);
        }
        self.guarded(|| {
            let latest =
                self.at_latest(|view| view.get(cf::LATEST, &keys::latest_key(&tree, key)))?;
            match latest {
                Some(value) => Ok(value),
                None => self.indexed_get(&tree, key),
            }
        })
    }

    /// Runs `read` on `kv_latest` if it holds this snapshot's version; `None` once a later
    /// commit has overwritten it. One RocksDB view covers both the version check and the read.
    fn at_latest<T>(
        &self,
        read: impl FnOnce(&View<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let view = self.inner.db.view();
        match view.get(cf::META, keys::META_LATEST_VERSION)? {
            Some(raw) if keys::decode_version(&raw)? == self.version => read(&view).map(Some),
            _ => Ok(None),
        }
    }

    /// `key` at this version from the versioned index: its newest entry at or before it.
    fn indexed_get(&self, tree: &[u8], key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let group = keys::index_key_prefix(tree, key);
        let upper = keys::prefix_end(&group);
        let mut it = self
            .inner
            .db
            .raw_iter_bounded(cf::INDEX, group.clone(), upper)?;
        it.seek_for_prev(keys::index_key(tree, key, self.version));
        match iter_item(&it)? {
            Some((k, v)) if k.len() == group.len() + 8 && k.starts_with(&group) => {
                keys::decode_value(v)
            }
            _ => Ok(None),
        }
    }

    /// All (key, value) with key starting with `prefix`, ascending by key, as of this version.
    pub fn prefix(&self, substore: &str, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        self.range(substore, prefix, None, usize::MAX)
    }

    /// Like [`Snapshot::prefix`] but starting at `start` (inclusive) and stopping after `limit`
    /// items (so `limit == 0` returns nothing): for paginated queries.
    pub fn range(
        &self,
        substore: &str,
        prefix: &[u8],
        start: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        let tree = keys::substore_tree_id(substore)?;
        if self.version == 0 || limit == 0 {
            return Ok(Vec::new());
        }
        self.guarded(|| {
            let latest = self.at_latest(|view| latest_range(view, &tree, prefix, start, limit))?;
            match latest {
                Some(entries) => Ok(entries),
                None => self.indexed_range(&tree, prefix, start, limit),
            }
        })
    }

    /// [`Snapshot::range`] from the versioned index, for a version a commit has overtaken.
    fn indexed_range(
        &self,
        tree: &[u8],
        prefix: &[u8],
        start: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        {
            let scan = keys::index_scan_prefix(tree, prefix);
            let seek_to = match start {
                Some(s) if s > prefix => keys::index_scan_prefix(tree, s),
                _ => scan.clone(),
            };
            // The iterator reads from one implicit RocksDB snapshot, so the scan is consistent.
            let upper = keys::prefix_end(&scan);
            let mut it = self
                .inner
                .db
                .raw_iter_bounded(cf::INDEX, scan.clone(), upper)?;
            it.seek(&seek_to);
            let mut out = Vec::new();
            while out.len() < limit {
                // Each loop handles one key: all its versions are contiguous, oldest first.
                let (group, first_version) = match iter_item(&it)? {
                    Some((k, _)) if k.starts_with(&scan) => {
                        let (group, v) = keys::split_index_key(&k[tree.len()..])?;
                        (group.to_vec(), v)
                    }
                    _ => break,
                };
                let mut group_key = tree.to_vec();
                group_key.extend_from_slice(&group);
                if first_version <= self.version {
                    // Newest entry of this key at or before our version.
                    let mut target = group_key.clone();
                    target.extend_from_slice(&self.version.to_be_bytes());
                    it.seek_for_prev(&target);
                    if let Some((k, v)) = iter_item(&it)? {
                        if k.len() == group_key.len() + 8 && k.starts_with(&group_key) {
                            if let Some(value) = keys::decode_value(v)? {
                                let key = keys::unescape(&group[..group.len() - 2])?;
                                out.push((key, value));
                            }
                        }
                    }
                }
                // Jump past every version of this key: escape(key) ++ 00 00 ++ version sorts
                // before escape(key) ++ 00 01, which sorts before any greater key.
                let last = group_key.len() - 1;
                group_key[last] = 1;
                it.seek(&group_key);
            }
            Ok(out)
        }
    }

    /// Value plus two ics23 proofs: `[key in substore tree (existence or non-existence),
    /// substore root in main tree]`. See [`crate::verify_membership`] and
    /// [`crate::verify_non_membership`] for how to check them, including the empty-substore case.
    pub fn get_with_proof(
        &self,
        substore: &str,
        key: &[u8],
    ) -> Result<(Option<Vec<u8>>, [ics23::CommitmentProof; 2]), StoreError> {
        keys::validate_substore(substore)?;
        if key.is_empty() {
            return Err(StoreError::InvalidInput("cannot prove an empty key".into()));
        }
        if self.version == 0 {
            return Err(StoreError::VersionNotFound {
                version: 0,
                latest: 0,
            });
        }
        self.guarded(|| proof::prove(&self.inner.db, self.version, substore, key))
    }

    /// Latest value of a nonverifiable key (this data is not versioned).
    pub fn get_nonverifiable(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.db.get(cf::NONVERIFIABLE, key)
    }

    /// All nonverifiable (key, value) with key starting with `prefix`, ascending (latest data,
    /// not versioned).
    pub fn prefix_nonverifiable(&self, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        let mut it = self.inner.db.raw_iter(cf::NONVERIFIABLE)?;
        it.seek(prefix);
        let mut out = Vec::new();
        while let Some((k, v)) = iter_item(&it)? {
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k.to_vec(), v.to_vec()));
            it.next();
        }
        Ok(out)
    }

    /// Root hash of `substore` at this version; the empty-tree root ([`crate::EMPTY_ROOT_HASH`])
    /// if the substore does not exist (yet) or is empty.
    pub fn substore_root(&self, substore: &str) -> Result<[u8; 32], StoreError> {
        keys::validate_substore(substore)?;
        if self.version == 0 {
            return Ok(EMPTY_ROOT);
        }
        self.guarded(|| {
            let main = TreeStore::new(&self.inner.db, keys::MAIN_TREE_ID);
            match main.value_at(self.version, &key_hash(substore.as_bytes()))? {
                None => Ok(EMPTY_ROOT),
                Some(raw) => raw.as_slice().try_into().map_err(|_| {
                    StoreError::Corrupt(format!("root of substore {substore:?} is not 32 bytes"))
                }),
            }
        })
    }
}

/// [`Snapshot::range`] over `kv_latest`: one forward scan, one step per key.
fn latest_range(
    view: &View<'_>,
    tree: &[u8],
    prefix: &[u8],
    start: Option<&[u8]>,
    limit: usize,
) -> Result<Vec<KeyValue>, StoreError> {
    let scan = keys::latest_key(tree, prefix);
    let seek_to = match start {
        Some(s) if s > prefix => keys::latest_key(tree, s),
        _ => scan.clone(),
    };
    let mut it = view.raw_iter_bounded(cf::LATEST, scan.clone(), keys::prefix_end(&scan))?;
    it.seek(&seek_to);
    let mut out = Vec::new();
    while out.len() < limit {
        let Some((k, v)) = iter_item(&it)? else { break };
        out.push((k[tree.len()..].to_vec(), v.to_vec()));
        it.next();
    }
    Ok(out)
}
