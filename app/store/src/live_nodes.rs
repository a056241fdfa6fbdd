//! The internal nodes of the trees' latest versions, in memory.
//!
//! Updating a tree reads every internal node on the paths it touches, and it reads each of them
//! once only: the update replaces it by a node of the new version. So a cache filled by reads
//! would never be hit. This one is filled by commits, with the internal nodes a version writes,
//! and loses the nodes a version makes stale. What it holds is the live internal nodes, up to a
//! bound, and the next block's update finds its paths here instead of in RocksDB: at a million
//! policies those reads were about half of the app hash's time (docs/performance.md).
//!
//! Leaves are not kept: there is one per key, and an update reads at most one of them per new
//! key. The cache changes no answer: a node key names the same bytes for as long as it exists;
//! only a rollback rewrites a version, and it empties the cache.

use std::sync::Arc;

use jmt::storage::Node;
use quick_cache::sync::Cache;

/// Bytes of node keys and encoded nodes held at most (by [`ByBytes`]). The live internal nodes
/// of a book of 100 000 policies weigh 52 MB, of a million 525 MB (1.9 million nodes): this
/// holds half of those, the least used dropped first, and measured as fast as holding them all.
const CAPACITY_BYTES: u64 = 256 << 20;
/// Per entry beyond its key and node bytes (the cache's slot, the `Arc`'s counts).
const ENTRY_OVERHEAD: u64 = 64;

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<Vec<u8>, Arc<[u8]>> for ByBytes {
    fn weight(&self, key: &Vec<u8>, node: &Arc<[u8]>) -> u64 {
        (key.len() + node.len()) as u64 + ENTRY_OVERHEAD
    }
}

/// `nodes` column family key -> the node's stored (borsh) bytes.
pub(crate) struct LiveNodes {
    nodes: Cache<Vec<u8>, Arc<[u8]>, ByBytes>,
}

impl LiveNodes {
    pub(crate) fn new() -> LiveNodes {
        // About 400 bytes an entry.
        let entries = (CAPACITY_BYTES / 400) as usize;
        LiveNodes {
            nodes: Cache::with_weighter(entries, CAPACITY_BYTES, ByBytes),
        }
    }

    /// The stored bytes of the node at `key` (a `nodes` key), if it is held.
    pub(crate) fn get(&self, key: &[u8]) -> Option<Arc<[u8]>> {
        self.nodes.get(key)
    }

    /// After a commit was written: forget what it made stale, keep what it wrote.
    pub(crate) fn apply(&self, update: LiveNodesUpdate) {
        for key in &update.stale {
            self.nodes.remove(key.as_slice());
        }
        for (key, node) in update.written {
            self.nodes.insert(key, node);
        }
    }

    /// Forgets everything (a rollback rewrites versions).
    pub(crate) fn clear(&self) {
        self.nodes.clear();
    }

    /// Entries and bytes held.
    #[cfg(test)]
    pub(crate) fn held(&self) -> (usize, u64) {
        (self.nodes.len(), self.nodes.weight())
    }

    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<Vec<u8>> {
        self.nodes.iter().map(|(k, _)| k).collect()
    }
}

/// What one commit does to the live nodes; applied only once the commit is written.
#[derive(Clone, Debug, Default)]
pub(crate) struct LiveNodesUpdate {
    written: Vec<(Vec<u8>, Arc<[u8]>)>,
    stale: Vec<Vec<u8>>,
}

impl LiveNodesUpdate {
    /// A node the version writes at `key`; only internal nodes are kept.
    pub(crate) fn written(&mut self, key: &[u8], node: &Node, raw: &[u8]) {
        if matches!(node, Node::Internal(_)) {
            self.written.push((key.to_vec(), Arc::from(raw)));
        }
    }

    /// A node (its `nodes` key) the version makes stale.
    pub(crate) fn stale(&mut self, key: Vec<u8>) {
        self.stale.push(key);
    }

    pub(crate) fn append(&mut self, mut other: LiveNodesUpdate) {
        self.written.append(&mut other.written);
        self.stale.append(&mut other.stale);
    }
}
