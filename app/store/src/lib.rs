//! Versioned merkle multistore for Surety: Jellyfish Merkle Trees over RocksDB with ics23 proofs.
//!
//! - Versions are block heights; version 0 is the empty store before the first commit.
//! - Each named substore ("auth", "bank", ...) is a JMT (SHA-256). A main JMT maps each substore
//!   name to its root hash; the app hash of a version is the main tree's root hash.
//! - Every committed version gives every known substore a version; a substore named for the
//!   first time at version `v` starts empty there.
//! - Reads (point, prefix, range, proofs) work at any retained version; a versioned key index
//!   makes ordered iteration possible (the JMT itself is ordered by key hash).
//! - [`Storage::prepare`] computes a version without writing; [`Storage::write_ahead`] may write
//!   the entries keyed by it, which no reader sees yet; [`Storage::commit`] writes the rest
//!   atomically in one RocksDB write batch, making it the latest version, then prunes versions
//!   older than `keep_recent`.
//!
//! Caller rules: verifiable keys must be non-empty (prepare rejects them); empty values are
//! stored but cannot be proven with ics23. Every `Storage` clone and `Snapshot` keeps the
//! RocksDB database open, so drop them all before reopening the same path.
//!
//! Module map: `keys` (byte encodings), `db` (column families and batches), `tree` (jmt reader
//! and staging), `live_nodes` (the trees' internal nodes in memory), `latest` (the newest
//! version as plain data), `storage` (open/prepare/commit), `ahead` (a version written before
//! its commit), `snapshot` (reads), `proof` (ics23), `prune`, `rollback`.

mod ahead;
mod db;
mod error;
mod keys;
mod latest;
mod live_nodes;
mod proof;
mod prune;
mod pruner;
mod rollback;
mod snapshot;
mod storage;
mod tree;

#[cfg(test)]
mod tests;

pub use error::StoreError;
pub use proof::{proof_spec, verify_membership, verify_non_membership, EMPTY_ROOT_HASH};
pub use snapshot::Snapshot;
pub use storage::{ChangeSet, PreparedCommit, Storage, StorageConfig};

/// A version: the block height.
pub type Version = u64;
/// The app hash: root hash of the main tree.
pub type AppHash = [u8; 32];
/// A (key, value) pair returned by iteration.
pub type KeyValue = (Vec<u8>, Vec<u8>);
