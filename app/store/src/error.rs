use crate::Version;

/// Errors returned by the store. No operation panics on bad input; it returns one of these.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The version existed but has been pruned (`keep_recent`).
    #[error("version {version} has been pruned; the oldest readable version is {oldest}")]
    VersionPruned { version: Version, oldest: Version },
    /// The version was never committed (it is newer than the latest, or 0 after the first commit).
    #[error("version {version} does not exist; the latest committed version is {latest}")]
    VersionNotFound { version: Version, latest: Version },
    /// `prepare` was asked for a version other than `latest_version() + 1`.
    #[error("cannot prepare version {requested}: the next version must be {expected}")]
    InvalidVersion {
        requested: Version,
        expected: Version,
    },
    /// Another commit happened between `prepare` and `commit`.
    #[error(
        "commit conflict: the commit was prepared on top of version {prepared_on}, \
         but the latest version is now {latest}"
    )]
    Conflict {
        prepared_on: Version,
        latest: Version,
    },
    /// The prepared commit was produced by a different `Storage`.
    #[error("the prepared commit belongs to a different storage instance")]
    ForeignCommit,
    /// Bad caller input (empty key, bad substore name, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// RocksDB failure.
    #[error("database error: {0}")]
    Db(String),
    /// Jellyfish Merkle Tree failure.
    #[error("merkle tree error: {0}")]
    Tree(String),
    /// Stored data does not decode or is inconsistent.
    #[error("corrupt store: {0}")]
    Corrupt(String),
}

impl From<rocksdb::Error> for StoreError {
    fn from(e: rocksdb::Error) -> Self {
        StoreError::Db(e.into_string())
    }
}

/// Maps a jmt (anyhow) error. Our own errors raised inside the tree reader come back unchanged;
/// others keep their context chain in the message.
pub(crate) fn tree_err(e: anyhow::Error) -> StoreError {
    match e.downcast::<StoreError>() {
        Ok(store_error) => store_error,
        Err(e) => StoreError::Tree(format!("{e:#}")),
    }
}
