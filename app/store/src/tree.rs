//! Jellyfish Merkle Trees over RocksDB: a `TreeReader` for one tree, and the staging of one
//! tree's changes for a new version into a [`Batch`].

use jmt::storage::{HasPreimage, LeafNode, Node, NodeKey, TreeReader};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, Version};
use sha2::Sha256;

use crate::db::{cf, iter_item, Batch, Db};
use crate::error::{tree_err, StoreError};
use crate::keys;

/// A JMT with the store's hasher.
pub(crate) type Jmt<'a> = JellyfishMerkleTree<'a, TreeStore<'a>, Sha256>;

/// Root hash of an empty tree (jmt's sparse-merkle placeholder).
pub(crate) const EMPTY_ROOT: [u8; 32] = Jmt::<'static>::EMPTY_ROOT.0;

/// Hash of a key as used by the trees.
pub(crate) fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash::with::<Sha256>(key)
}

/// Reads one tree (main tree or a substore) from RocksDB.
///
/// Versions are immutable once written, so reads at a committed version need no locking; new
/// commits only add higher versions.
pub(crate) struct TreeStore<'a> {
    db: &'a Db,
    tree: &'a [u8],
    /// For a tree that does not exist yet (first commit, or a substore added by an upgrade):
    /// jmt's `TreeCache::new(reader, v)` starts from the root at `v - 1`, so we report an empty
    /// (Null) root there. It is never written to disk.
    virtual_empty_root: Option<Version>,
}

impl<'a> TreeStore<'a> {
    pub(crate) fn new(db: &'a Db, tree: &'a [u8]) -> Self {
        TreeStore {
            db,
            tree,
            virtual_empty_root: None,
        }
    }

    fn node(&self, node_key: &NodeKey) -> Result<Option<Node>, StoreError> {
        if self.virtual_empty_root == Some(node_key.version()) && node_key.nibble_path().is_empty()
        {
            return Ok(Some(Node::Null));
        }
        let key = keys::node_key(self.tree, node_key);
        let decode = |raw: &[u8]| {
            borsh::from_slice::<Node>(raw)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("undecodable jmt node: {e}")))
        };
        if let Some(raw) = self.db.live_nodes.get(&key) {
            return decode(&raw);
        }
        match self.db.get(cf::NODES, &key)? {
            None => Ok(None),
            Some(raw) => decode(&raw),
        }
    }

    /// Newest value of `key_hash` at a version `<= max_version` (`None` if absent or deleted).
    pub(crate) fn value_at(
        &self,
        max_version: Version,
        key_hash: &KeyHash,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let prefix = keys::value_key_prefix(self.tree, key_hash);
        let upper = keys::prefix_end(&prefix);
        let mut it = self
            .db
            .raw_iter_bounded(cf::VALUES, prefix.clone(), upper)?;
        it.seek_for_prev(keys::value_key(self.tree, key_hash, max_version));
        match iter_item(&it)? {
            Some((k, v)) if k.len() == prefix.len() + 8 && k.starts_with(&prefix) => {
                keys::decode_value(v)
            }
            _ => Ok(None),
        }
    }

    /// Whether the root node of `version` is stored.
    pub(crate) fn has_root(&self, version: Version) -> Result<bool, StoreError> {
        Ok(self
            .db
            .get(cf::NODES, &keys::root_node_key(self.tree, version))?
            .is_some())
    }
}

impl TreeReader for TreeStore<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.node(node_key)?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.value_at(max_version, &key_hash)?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used by jmt's state-sync restore, which this store does not support.
        anyhow::bail!("get_rightmost_leaf is not supported by this store")
    }
}

impl HasPreimage for TreeStore<'_> {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self
            .db
            .get(cf::PREIMAGES, &keys::preimage_key(self.tree, &key_hash))?)
    }
}

/// Applies one version's changes to a tree. Without deletions the changes go in as one batch:
/// every node on the touched paths is read and hashed once, where jmt's `put_value_set` inserts
/// key by key and rehashes the whole path (the root included) for each one. Both give the same
/// tree, as it depends only on its keys and values; jmt's batch insert takes no deletions, so a
/// version that deletes goes key by key.
fn put_value_set(
    jmt: &Jmt<'_>,
    value_set: Vec<(KeyHash, Option<OwnedValue>)>,
    version: Version,
) -> Result<(RootHash, jmt::storage::TreeUpdateBatch), StoreError> {
    if value_set.is_empty() || value_set.iter().any(|(_, v)| v.is_none()) {
        return jmt.put_value_set(value_set, version).map_err(tree_err);
    }
    let inserts = value_set
        .into_iter()
        .map(|(k, v)| (k, v.expect("no deletions")))
        .collect();
    let (roots, update) = jmt
        .batch_put_value_sets(vec![inserts], None, version)
        .map_err(tree_err)?;
    let root = roots
        .first()
        .copied()
        .ok_or_else(|| StoreError::Tree("jmt returned no root for a batch".into()))?;
    Ok((root, update))
}

/// Computes version `version` of one tree from version `version - 1` plus `changes`, and adds
/// every resulting write (nodes, values, preimages, stale index, superseded log and, if
/// `with_index`, the ordered key index and the latest values) to `batch`. Nothing is written to the database.
///
/// `exists` tells whether the tree already has a root at `version - 1`; if not, it starts empty.
pub(crate) fn stage_tree_version<'c>(
    db: &Db,
    batch: &mut Batch,
    tree: &[u8],
    exists: bool,
    version: Version,
    changes: impl IntoIterator<Item = (&'c [u8], Option<&'c [u8]>)> + Clone,
    with_index: bool,
) -> Result<RootHash, StoreError> {
    if version == 0 {
        return Err(StoreError::InvalidInput(
            "version 0 cannot be written".into(),
        ));
    }
    let base = version - 1;
    let mut store = TreeStore::new(db, tree);
    if exists {
        // jmt would silently treat a missing root as an empty tree; refuse instead.
        if !store.has_root(base)? {
            return Err(StoreError::Corrupt(format!(
                "root node of version {base} is missing for an existing tree"
            )));
        }
    } else {
        store.virtual_empty_root = Some(base);
    }

    let jmt = Jmt::new(&store);
    let value_set: Vec<(KeyHash, Option<OwnedValue>)> = changes
        .clone()
        .into_iter()
        .map(|(k, v)| (key_hash(k), v.map(<[u8]>::to_vec)))
        .collect();
    let (root, update) = put_value_set(&jmt, value_set, version)?;

    for (node_key, node) in update.node_batch.nodes() {
        let raw = borsh::to_vec(node).map_err(|e| StoreError::Tree(e.to_string()))?;
        let key = keys::node_key(tree, node_key);
        batch.live_nodes.written(&key, node, &raw);
        batch.put(cf::NODES, key, raw);
    }
    for ((v, kh), value) in update.node_batch.values() {
        batch.put(
            cf::VALUES,
            keys::value_key(tree, kh, *v),
            keys::encode_value(value.as_deref()),
        );
    }
    let mut base_root_marked = false;
    for stale in &update.stale_node_index_batch {
        let suffix = keys::node_key_suffix(&stale.node_key);
        base_root_marked |=
            stale.node_key.version() == base && stale.node_key.nibble_path().is_empty();
        batch
            .live_nodes
            .stale(keys::node_key_with_suffix(tree, &suffix));
        batch.put(
            cf::STALE,
            keys::stale_key(tree, stale.stale_since_version, &suffix),
            Vec::new(),
        );
    }
    // When a version leaves a tree unchanged (or starts from a Null root), jmt copies the root to
    // the new version without marking the old root stale. Every root is referenced by its own
    // version only, so mark it here, or unchanged substores would never have their roots pruned.
    if exists && !base_root_marked {
        batch.live_nodes.stale(keys::root_node_key(tree, base));
        batch.put(
            cf::STALE,
            keys::stale_key(tree, version, &keys::root_node_key_suffix(base)),
            Vec::new(),
        );
    }

    for (key, value) in changes {
        if value.is_some() {
            batch.put(
                cf::PREIMAGES,
                keys::preimage_key(tree, &key_hash(key)),
                key.to_vec(),
            );
        }
        if with_index {
            batch.put(
                cf::INDEX,
                keys::index_key(tree, key, version),
                keys::encode_value(value),
            );
            let latest = keys::latest_key(tree, key);
            match value {
                Some(v) => batch.put(cf::LATEST, latest, v.to_vec()),
                None => batch.delete(cf::LATEST, latest),
            }
        }
        // Lets pruning find older entries of this key without scanning everything. A deletion
        // also supersedes itself: once it is older than every kept version it can go too.
        let flag = u8::from(value.is_none());
        batch.put(
            cf::SUPERSEDED,
            keys::superseded_key(tree, version, key),
            vec![flag],
        );
    }
    Ok(root)
}
