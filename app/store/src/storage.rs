//! The versioned multistore: opening, preparing and committing versions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::db::{cf, iter_item, Batch, Db, Encoded};
use crate::error::StoreError;
use crate::live_nodes::LiveNodesUpdate;
use crate::pruner::Background;
use crate::rollback::{stage_tree_removal, Latest};
use crate::snapshot::Snapshot;
use crate::tree::{stage_tree_version, TreeStore};
use crate::{keys, prune, AppHash, Version};

/// A substore with at least this many changed keys in a version has its tree updated on a
/// thread of its own (measured: a block of purchases changes thousands of keys in two trees).
const PARALLEL_TREE_MIN_CHANGES: usize = 256;

/// One substore's part of a new version.
struct SubstoreJob<'a> {
    name: &'a str,
    exists: bool,
    changes: &'a BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

struct StagedSubstore {
    batch: Batch,
    root: jmt::RootHash,
    /// The root differs from the last version's (always, for a new substore).
    changed: bool,
}

impl SubstoreJob<'_> {
    fn stage(
        &self,
        db: &Db,
        version: Version,
        latest: Version,
    ) -> Result<StagedSubstore, StoreError> {
        let tree = keys::substore_tree_id(self.name)?;
        // Deleting a key that is not there changes no root; dropping it saves the tree walk
        // and the tombstones in the index, which readers would otherwise step over.
        let mut kvs = Vec::new();
        for (k, v) in self.changes {
            if v.is_some() || (self.exists && crate::latest::is_live(db, &tree, k)?) {
                kvs.push((k.as_slice(), v.as_deref()));
            }
        }
        let mut batch = Batch::default();
        let root = stage_tree_version(db, &mut batch, &tree, self.exists, version, kvs, true)?;
        let changed = !self.exists
            || crate::tree::Jmt::new(&TreeStore::new(db, &tree))
                .get_root_hash(latest)
                .map_err(crate::error::tree_err)?
                != root;
        Ok(StagedSubstore {
            batch,
            root,
            changed,
        })
    }
}

/// Storage options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageConfig {
    /// Number of most recent versions kept readable; 0 keeps everything. After committing
    /// version `v`, versions below `v + 1 - keep_recent` are pruned.
    pub keep_recent: u64,
    /// Prune on a thread of its own after each commit instead of inside it (what a node does;
    /// see [`crate::pruner`]). [`Storage::wait_for_pruning`] waits for it.
    pub prune_in_background: bool,
}

/// The changes that make up one new version.
#[derive(Default, Clone, Debug)]
pub struct ChangeSet {
    /// substore -> key -> Some(value) to set, None to delete. BTreeMaps: deterministic order.
    ///
    /// Keys must be non-empty. Naming a substore (even with no keys) creates it at this version.
    pub verifiable: BTreeMap<String, BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    /// local, unproven data: key -> Some(value)/None
    pub nonverifiable: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

/// A fully computed next version, not yet written. Dropping it leaves the store untouched, but
/// for what [`Storage::write_ahead`] wrote of it, which no reader sees and the store discards.
#[derive(Clone)]
pub struct PreparedCommit {
    store_id: u64,
    /// Tells this prepared version (and its clones) from any other, for [`Inner::written_ahead`].
    token: u64,
    prepared_on: Version,
    version: Version,
    app_hash: AppHash,
    /// The entries keyed by the new version, with the marker that names it (see
    /// [`crate::ahead`]); taken when written ahead.
    ahead: Option<Encoded>,
    /// What makes the version the latest: `kv_latest`, the metadata, the non-verifiable data.
    /// Both halves are encoded while the block is prepared, so that writing is all that is left.
    batch: Encoded,
    live_nodes: LiveNodesUpdate,
    new_substores: Vec<String>,
    oldest: Version,
}

impl std::fmt::Debug for PreparedCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedCommit")
            .field("version", &self.version)
            .field("app_hash", &hex(&self.app_hash))
            .field(
                "writes",
                &(self.batch.len() + self.ahead.as_ref().map_or(0, Encoded::len)),
            )
            .finish()
    }
}

impl PreparedCommit {
    /// The version this commit will create.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The app hash of that version (main tree root).
    pub fn app_hash(&self) -> AppHash {
        self.app_hash
    }
}

/// In-memory view of the committed state, updated after each successful write.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub(crate) latest: Version,
    pub(crate) latest_app_hash: Option<AppHash>,
    /// Oldest readable version (meaningful once `latest > 0`).
    pub(crate) oldest: Version,
    pub(crate) substores: BTreeSet<String>,
}

pub(crate) struct Inner {
    pub(crate) db: Db,
    id: u64,
    config: StorageConfig,
    state: RwLock<State>,
    /// Serialises commits.
    commit_lock: Mutex<()>,
    /// The token of the prepared version whose entries are on disk ahead of its commit (0:
    /// none). Changed only under `commit_lock`.
    written_ahead: AtomicU64,
    /// Serialises pruning runs (a commit's, the background thread's, the one on open), and holds
    /// the version from which the next run reads the logs (see [`prune::prune_to`]).
    prune_lock: Mutex<Version>,
}

impl Inner {
    pub(crate) fn state(&self) -> RwLockReadGuard<'_, State> {
        // State is only replaced wholesale, so a panic elsewhere cannot leave it half-updated.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn state_mut(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Oldest version still readable right now.
    pub(crate) fn oldest(&self) -> Version {
        self.state().oldest
    }

    /// Deletes what versions from `oldest` on cannot read; one run at a time.
    pub(crate) fn prune_to(&self, oldest: Version) -> Result<(), StoreError> {
        let mut from = self.prune_lock.lock().unwrap_or_else(|e| e.into_inner());
        *from = prune::prune_to(self, *from, oldest)?;
        Ok(())
    }
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);
static NEXT_PREPARED_TOKEN: AtomicU64 = AtomicU64::new(1);

/// A versioned merkle multistore over RocksDB. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
    background: Option<Arc<Background>>,
}

impl Storage {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: impl AsRef<Path>, config: StorageConfig) -> Result<Storage, StoreError> {
        let db = Db::open(path.as_ref())?;
        let latest = match db.get(cf::META, keys::META_LATEST_VERSION)? {
            Some(raw) => keys::decode_version(&raw)?,
            None => 0,
        };
        let latest_app_hash = if latest > 0 {
            Some(read_app_hash(&db, latest)?.ok_or_else(|| {
                StoreError::Corrupt(format!("app hash of latest version {latest} is missing"))
            })?)
        } else {
            None
        };
        let stored_oldest = match db.get(cf::META, keys::META_OLDEST_VERSION)? {
            Some(raw) => keys::decode_version(&raw)?,
            None => 1,
        };
        let substores = read_substores(&db)?;
        // A version executed but never committed: the node died between the two.
        let mut discard = Batch::default();
        if let Some(version) = crate::ahead::stage_discard(&db, &mut discard, latest, &substores)? {
            db.write(&discard, true)?;
            tracing::info!(
                version,
                "discarded a version written ahead but not committed"
            );
        }
        crate::latest::build_if_missing(&db, latest)?;
        let oldest = next_oldest(stored_oldest, latest, config.keep_recent);
        let inner = Arc::new(Inner {
            db,
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            config,
            state: RwLock::new(State {
                latest,
                latest_app_hash,
                oldest,
                substores,
            }),
            commit_lock: Mutex::new(()),
            written_ahead: AtomicU64::new(0),
            prune_lock: Mutex::new(0),
        });
        let background = if config.prune_in_background && config.keep_recent > 0 {
            Some(Arc::new(Background::start(inner.clone()).map_err(|e| {
                StoreError::Db(format!("starting the pruning thread: {e}"))
            })?))
        } else {
            None
        };
        let storage = Storage { inner, background };
        // Finish pruning interrupted by a crash, or apply a smaller keep_recent.
        if latest > 0 && config.keep_recent > 0 {
            storage.prune()?;
        }
        tracing::info!(latest, oldest, "opened store");
        Ok(storage)
    }

    /// The substores the latest version has, by name.
    pub fn substores(&self) -> Vec<String> {
        self.inner.state().substores.iter().cloned().collect()
    }

    /// Latest committed version; 0 if nothing was committed.
    pub fn latest_version(&self) -> Version {
        self.inner.state().latest
    }

    /// App hash of the latest version, `None` if nothing was committed.
    pub fn latest_app_hash(&self) -> Option<AppHash> {
        self.inner.state().latest_app_hash
    }

    /// Oldest readable version (0 if nothing was committed).
    pub fn oldest_version(&self) -> Version {
        let state = self.inner.state();
        if state.latest == 0 {
            0
        } else {
            state.oldest
        }
    }

    /// App hash of a committed, retained version.
    pub fn app_hash(&self, version: Version) -> Result<AppHash, StoreError> {
        self.check_readable(version)?;
        if version == 0 {
            return Err(StoreError::VersionNotFound { version, latest: 0 });
        }
        let hash = read_app_hash(&self.inner.db, version)?;
        // Pruning may have removed it after the check above.
        self.check_readable(version)?;
        hash.ok_or_else(|| StoreError::Corrupt(format!("app hash of version {version} is missing")))
    }

    /// A read-only view of `version`. Errors if it is pruned or newer than the latest.
    pub fn snapshot(&self, version: Version) -> Result<Snapshot, StoreError> {
        self.check_readable(version)?;
        let app_hash = if version == 0 {
            None
        } else {
            Some(self.app_hash(version)?)
        };
        Ok(Snapshot::new(self.inner.clone(), version, app_hash))
    }

    /// A view of the latest version (version 0, empty, before the first commit).
    pub fn latest_snapshot(&self) -> Snapshot {
        let state = self.inner.state();
        Snapshot::new(self.inner.clone(), state.latest, state.latest_app_hash)
    }

    fn check_readable(&self, version: Version) -> Result<(), StoreError> {
        let state = self.inner.state();
        if version > state.latest || (version == 0 && state.latest > 0) {
            return Err(StoreError::VersionNotFound {
                version,
                latest: state.latest,
            });
        }
        if version != 0 && version < state.oldest {
            return Err(StoreError::VersionPruned {
                version,
                oldest: state.oldest,
            });
        }
        Ok(())
    }

    /// Computes version `version` (must be `latest_version() + 1`; an empty store may start at
    /// any version, as a chain restarted from an export starts at its `initial_height`) from
    /// the latest version plus `changes`, without writing anything.
    pub fn prepare(
        &self,
        version: Version,
        changes: &ChangeSet,
    ) -> Result<PreparedCommit, StoreError> {
        let state = self.inner.state().clone();
        let expected = state.latest + 1;
        if version != expected && !(state.latest == 0 && version > 0) {
            return Err(StoreError::InvalidVersion {
                requested: version,
                expected,
            });
        }
        validate(changes)?;

        let db = &self.inner.db;
        let mut batch = Batch::default();

        // Every known substore gets this version, changed or not (as jmt requires); the union
        // is a BTreeSet so the order is deterministic.
        let names: BTreeSet<&str> = state
            .substores
            .iter()
            .map(String::as_str)
            .chain(changes.verifiable.keys().map(String::as_str))
            .collect();
        let empty = BTreeMap::new();
        let jobs: Vec<SubstoreJob<'_>> = names
            .into_iter()
            .map(|name| SubstoreJob {
                name,
                exists: state.substores.contains(name),
                changes: changes.verifiable.get(name).unwrap_or(&empty),
            })
            .collect();
        // The trees are independent, so the busiest ones are updated on threads of their own;
        // the results are gathered in name order, so the batch and the root are the same as
        // one thread would make.
        let staged: Vec<Result<StagedSubstore, StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .iter()
                .map(|job| {
                    if job.changes.len() >= PARALLEL_TREE_MIN_CHANGES {
                        Err(scope.spawn(|| job.stage(db, version, state.latest)))
                    } else {
                        Ok(job)
                    }
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h {
                    Ok(job) => job.stage(db, version, state.latest),
                    Err(thread) => thread
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                })
                .collect()
        });
        let mut root_updates: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut new_substores = Vec::new();
        for (job, result) in jobs.iter().zip(staged) {
            let staged = result?;
            batch.append(staged.batch);
            if !job.exists {
                new_substores.push(job.name.to_string());
                batch.put(
                    cf::META,
                    keys::substore_meta_key(job.name),
                    version.to_be_bytes().to_vec(),
                );
            }
            if staged.changed {
                root_updates.push((job.name.as_bytes().to_vec(), staged.root.0.to_vec()));
            }
        }

        let main_root = stage_tree_version(
            db,
            &mut batch,
            keys::MAIN_TREE_ID,
            state.latest > 0,
            version,
            root_updates
                .iter()
                .map(|(k, v)| (k.as_slice(), Some(v.as_slice()))),
            false,
        )?;
        let app_hash: AppHash = main_root.0;

        for (key, value) in &changes.nonverifiable {
            match value {
                Some(v) => batch.put(cf::NONVERIFIABLE, key.clone(), v.clone()),
                None => batch.delete(cf::NONVERIFIABLE, key.clone()),
            }
        }

        // The first version is the oldest there is, whatever its number.
        let first = if state.latest == 0 { version } else { 1 };
        let oldest = next_oldest(
            state.oldest.max(first),
            version,
            self.inner.config.keep_recent,
        );
        batch.put(
            cf::META,
            keys::META_LATEST_VERSION.to_vec(),
            version.to_be_bytes().to_vec(),
        );
        batch.put(
            cf::META,
            keys::META_OLDEST_VERSION.to_vec(),
            oldest.to_be_bytes().to_vec(),
        );
        batch.put(cf::META, keys::app_hash_key(version), app_hash.to_vec());

        // Everything but the latest values and the metadata is keyed by the new version, so it
        // can be written ahead of the commit (see `crate::ahead`).
        let mut commit = batch.split_off(&[cf::LATEST, cf::META, cf::NONVERIFIABLE]);
        batch.put(
            cf::META,
            keys::META_WRITTEN_AHEAD.to_vec(),
            keys::encode_written_ahead(version, &new_substores),
        );
        commit.delete(cf::META, keys::META_WRITTEN_AHEAD.to_vec());

        Ok(PreparedCommit {
            store_id: self.inner.id,
            token: NEXT_PREPARED_TOKEN.fetch_add(1, Ordering::Relaxed),
            prepared_on: state.latest,
            version,
            app_hash,
            ahead: Some(db.encode(&batch)?),
            batch: db.encode(&commit)?,
            live_nodes: std::mem::take(&mut batch.live_nodes),
            new_substores,
            oldest,
        })
    }

    /// Writes the entries keyed by the prepared version (its tree nodes, values, index and log
    /// entries: nearly all of a version's writes), which no reader sees until [`Storage::commit`]
    /// makes it the latest. A node calls it while it executes the block, so that the commit,
    /// during which CometBFT admits no transactions, writes only the rest. Not synced: the
    /// commit's sync makes both durable. If the commit never comes, the next `write_ahead` or
    /// open discards these entries; what another prepared version wrote ahead is discarded
    /// first. Fails as [`Storage::commit`] does if another commit happened since `prepare`.
    pub fn write_ahead(&self, prepared: &mut PreparedCommit) -> Result<(), StoreError> {
        let _guard = self
            .inner
            .commit_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.check_prepared_on_latest(prepared)?;
        self.write_ahead_locked(prepared)
    }

    /// [`Storage::write_ahead`], `commit_lock` held.
    fn write_ahead_locked(&self, prepared: &mut PreparedCommit) -> Result<(), StoreError> {
        let inner = &self.inner;
        if inner.written_ahead.load(Ordering::Relaxed) == prepared.token {
            return Ok(());
        }
        if prepared.ahead.is_none() {
            return Err(StoreError::InvalidInput(format!(
                "version {} was written ahead, then discarded for another; prepare it again",
                prepared.version
            )));
        }
        let mut discard = Batch::default();
        let found = {
            let state = inner.state();
            crate::ahead::stage_discard(&inner.db, &mut discard, state.latest, &state.substores)?
        };
        if found.is_some() {
            inner.db.write(&discard, false)?;
        }
        inner.written_ahead.store(0, Ordering::Relaxed);
        if let Some(ahead) = prepared.ahead.take() {
            inner.db.write_encoded(ahead, false)?;
        }
        inner.written_ahead.store(prepared.token, Ordering::Relaxed);
        Ok(())
    }

    fn check_prepared_on_latest(&self, prepared: &PreparedCommit) -> Result<(), StoreError> {
        if prepared.store_id != self.inner.id {
            return Err(StoreError::ForeignCommit);
        }
        let latest = self.latest_version();
        if latest != prepared.prepared_on {
            return Err(StoreError::Conflict {
                prepared_on: prepared.prepared_on,
                latest,
            });
        }
        Ok(())
    }

    /// Makes a prepared version the latest: writes what [`Storage::write_ahead`] has not, the
    /// last write synced and atomic (one RocksDB write batch), then prunes old versions. Fails
    /// with [`StoreError::Conflict`] if another commit happened since `prepare`.
    pub fn commit(&self, mut prepared: PreparedCommit) -> Result<AppHash, StoreError> {
        let _guard = self
            .inner
            .commit_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.check_prepared_on_latest(&prepared)?;
        self.write_ahead_locked(&mut prepared)?;
        self.inner.db.write_encoded(prepared.batch, true)?;
        self.inner.written_ahead.store(0, Ordering::Relaxed);
        self.inner.db.live_nodes.apply(prepared.live_nodes);
        {
            let mut state = self.inner.state_mut();
            state.latest = prepared.version;
            state.latest_app_hash = Some(prepared.app_hash);
            state.oldest = prepared.oldest;
            state.substores.extend(prepared.new_substores);
        }
        tracing::debug!(
            version = prepared.version,
            app_hash = %hex(&prepared.app_hash),
            "committed version"
        );
        // The commit is durable at this point; a pruning failure only delays space reclamation
        // (the next commit or open retries), so it must not be reported as a failed commit.
        match &self.background {
            Some(background) => background.prune_to(prepared.oldest),
            None => {
                if let Err(e) = self.inner.prune_to(prepared.oldest) {
                    tracing::warn!(error = %e, "pruning failed; it will be retried");
                }
            }
        }
        Ok(prepared.app_hash)
    }

    /// Undoes the latest version (see [`crate::rollback`]): `latest - 1` becomes the latest,
    /// as if the latest had never been committed. Returns the new latest version. Refuses when
    /// there is no earlier version or it was pruned.
    pub fn rollback(&self) -> Result<Version, StoreError> {
        self.wait_for_pruning();
        let _commit = self
            .inner
            .commit_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let _prune = self
            .inner
            .prune_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let state = self.inner.state().clone();
        let version = state.latest;
        if version <= 1 {
            return Err(StoreError::InvalidInput(format!(
                "no version before {version} to roll back to"
            )));
        }
        let target = version - 1;
        if target < state.oldest {
            return Err(StoreError::VersionPruned {
                version: target,
                oldest: state.oldest,
            });
        }
        let db = &self.inner.db;
        let mut batch = Batch::default();
        // A version written ahead on top of the one undone would be on top of nothing.
        crate::ahead::stage_discard(db, &mut batch, version, &state.substores)?;
        stage_tree_removal(db, &mut batch, keys::MAIN_TREE_ID, version, Latest::None)?;
        let mut created = Vec::new();
        for name in &state.substores {
            let tree = keys::substore_tree_id(name)?;
            stage_tree_removal(db, &mut batch, &tree, version, Latest::Restore)?;
            let meta = keys::substore_meta_key(name);
            let since = match db.get(cf::META, &meta)? {
                Some(raw) => keys::decode_version(&raw)?,
                None => 0,
            };
            if since == version {
                batch.delete(cf::META, meta);
                created.push(name.clone());
            }
        }
        batch.delete(cf::META, keys::app_hash_key(version));
        batch.put(
            cf::META,
            keys::META_LATEST_VERSION.to_vec(),
            target.to_be_bytes().to_vec(),
        );
        let app_hash = read_app_hash(db, target)?.ok_or_else(|| {
            StoreError::Corrupt(format!("app hash of version {target} is missing"))
        })?;
        db.write(&batch, true)?;
        self.inner.written_ahead.store(0, Ordering::Relaxed);
        // The rolled-back version's nodes are gone from disk, and the version will be written
        // again, differently.
        db.live_nodes.clear();
        let mut state = self.inner.state_mut();
        state.latest = target;
        state.latest_app_hash = Some(app_hash);
        for name in &created {
            state.substores.remove(name);
        }
        tracing::info!(from = version, to = target, "rolled back");
        Ok(target)
    }

    /// Returns once the background pruning asked for so far is done (at once without it).
    pub fn wait_for_pruning(&self) {
        if let Some(background) = &self.background {
            background.flush();
        }
    }

    /// Deletes data of versions below the oldest kept one.
    fn prune(&self) -> Result<(), StoreError> {
        let _guard = self
            .inner
            .commit_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let oldest = self.inner.oldest();
        // Persist the (possibly raised) oldest version before deleting anything.
        let mut batch = Batch::default();
        batch.put(
            cf::META,
            keys::META_OLDEST_VERSION.to_vec(),
            oldest.to_be_bytes().to_vec(),
        );
        self.inner.db.write(&batch, false)?;
        self.inner.prune_to(oldest)
    }

    #[cfg(test)]
    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

/// Oldest readable version after `latest` is committed.
fn next_oldest(current: Version, latest: Version, keep_recent: u64) -> Version {
    let floor = if keep_recent == 0 {
        1
    } else {
        (latest + 1).saturating_sub(keep_recent).max(1)
    };
    current.max(floor)
}

fn validate(changes: &ChangeSet) -> Result<(), StoreError> {
    for (name, kvs) in &changes.verifiable {
        keys::validate_substore(name)?;
        if kvs.contains_key(&Vec::new()) {
            return Err(StoreError::InvalidInput(format!(
                "empty key in substore {name:?}: keys must be non-empty"
            )));
        }
    }
    Ok(())
}

pub(crate) fn read_app_hash(db: &Db, version: Version) -> Result<Option<AppHash>, StoreError> {
    match db.get(cf::META, &keys::app_hash_key(version))? {
        None => Ok(None),
        Some(raw) => {
            let hash: AppHash = raw.as_slice().try_into().map_err(|_| {
                StoreError::Corrupt(format!("app hash of version {version} is not 32 bytes"))
            })?;
            Ok(Some(hash))
        }
    }
}

fn read_substores(db: &Db) -> Result<BTreeSet<String>, StoreError> {
    let prefix = keys::substore_meta_prefix();
    let mut it = db.raw_iter(cf::META)?;
    it.seek(prefix);
    let mut out = BTreeSet::new();
    while let Some((k, _)) = iter_item(&it)? {
        let Some(name) = k.strip_prefix(prefix) else {
            break;
        };
        let name = String::from_utf8(name.to_vec())
            .map_err(|_| StoreError::Corrupt("substore name is not UTF-8".into()))?;
        out.insert(name);
        it.next();
    }
    Ok(out)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
