//! The Surety ABCI 2.0 application.
//!
//! CometBFT drives it through four connections (consensus, mempool, query, snapshot), each on its
//! own thread; [`App`] is a cheap handle to shared state behind its own locks. Blocks execute on a
//! copy-on-write overlay of the last committed version; Commit writes the block's changes, the new
//! height and the app hash in one RocksDB write batch.

mod abci;
pub mod abci_server;
pub mod block_gas;
pub mod export;
pub mod modules;
mod oracle;
mod query;
pub mod testing;
pub mod tx;

pub use query::GET_NODE_INFO;
pub use tx::{MinGasPrices, MAX_TX_BYTES};

use modules::Modules;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use surety_framework::{BlockInfo, Changes, Ctx, ExecMode, GasMeter, Overlay, StateRead};
use surety_store::{ChangeSet, PreparedCommit, Storage};

/// Where the chain id is kept, outside the merkle tree (it is not consensus state of its own).
const CHAIN_ID_KEY: &[u8] = b"chain_id";

#[derive(Clone, Debug, Default)]
pub struct AppConfig {
    pub min_gas_prices: MinGasPrices,
    /// Gas a query or a simulation may use (Cosmos's `query-gas-limit`); 0 means
    /// [`DEFAULT_QUERY_GAS_LIMIT`]. A query that needs more fails with out of gas.
    pub query_gas_limit: u64,
    /// Which event attributes CometBFT indexes (app.toml `no_index_events`).
    pub event_index: surety_framework::EventIndex,
}

/// Enough for any page of any query and for simulating any transaction of a third of a block;
/// a node serving queries spends at most about a third of a second on one.
pub const DEFAULT_QUERY_GAS_LIMIT: u64 = 100_000_000;

impl AppConfig {
    pub fn query_gas_limit(&self) -> u64 {
        if self.query_gas_limit == 0 {
            DEFAULT_QUERY_GAS_LIMIT
        } else {
            self.query_gas_limit
        }
    }
}

/// Asks a running CometBFT for this node's `GetNodeInfoResponse`; `None` while it is not up.
pub type NodeInfoSource = Box<dyn Fn() -> Option<Vec<u8>> + Send + Sync>;

#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Storage,
    modules: Modules,
    config: AppConfig,
    chain_id: RwLock<String>,
    consensus: Mutex<Consensus>,
    /// Changes CheckTx has made (sequences, fees) since the last commit.
    mempool: Mutex<Changes>,
    /// What every CheckTx against one committed version reads the same: read once per version.
    check_view: Mutex<Option<CheckView>>,
    /// `GetNodeInfoResponse`, from `node_info_source` the first time it answers.
    node_info: OnceLock<Vec<u8>>,
    /// Asks the node's CometBFT for its node info; set by the node that runs one.
    node_info_source: OnceLock<NodeInfoSource>,
    /// This node's latest oracle observations, for its vote extensions.
    observations: RwLock<oracle::Observations>,
    stats: Stats,
}

/// Where the time goes, for metrics and benchmarks. Wall-clock time is measured here only to be
/// reported; it never feeds back into consensus.
#[derive(Default)]
pub struct Stats {
    pub check_tx_count: AtomicU64,
    pub check_tx_nanos: AtomicU64,
    /// Of those, CometBFT's rechecks of what is left in its mempool after each block.
    pub recheck_count: AtomicU64,
    pub recheck_nanos: AtomicU64,
    pub blocks: AtomicU64,
    pub block_txs: AtomicU64,
    pub finalize_block_nanos: AtomicU64,
    /// Of FinalizeBlock, computing the app hash: updating the merkle trees with the block's writes.
    pub app_hash_nanos: AtomicU64,
    /// Of FinalizeBlock, writing the block's versioned state ahead of Commit
    /// (`Storage::write_ahead`).
    pub write_ahead_nanos: AtomicU64,
    pub commit_nanos: AtomicU64,
    /// From the start of each Commit to the first new transaction checked after it: how long
    /// CometBFT's mempool takes no transaction (it is locked for Commit and the recheck). Under
    /// a steady load; an idle spell between blocks counts too.
    pub mempool_stall_nanos: AtomicU64,
    pub mempool_stalls: AtomicU64,
    /// When the last Commit started ([`Stats::clock`]), until a new transaction is checked; 0 after.
    commit_started: AtomicU64,
}

impl Stats {
    pub fn to_json(&self) -> serde_json::Value {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "check_tx_count": get(&self.check_tx_count),
            "check_tx_nanos": get(&self.check_tx_nanos),
            "recheck_count": get(&self.recheck_count),
            "recheck_nanos": get(&self.recheck_nanos),
            "blocks": get(&self.blocks),
            "block_txs": get(&self.block_txs),
            "finalize_block_nanos": get(&self.finalize_block_nanos),
            "app_hash_nanos": get(&self.app_hash_nanos),
            "write_ahead_nanos": get(&self.write_ahead_nanos),
            "commit_nanos": get(&self.commit_nanos),
            "mempool_stall_nanos": get(&self.mempool_stall_nanos),
            "mempool_stalls": get(&self.mempool_stalls),
        })
    }

    /// Nanoseconds on a monotonic clock that starts with the process (never 0).
    fn clock() -> u64 {
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_nanos() as u64
            + 1
    }

    pub(crate) fn commit_started(&self) {
        self.commit_started.store(Self::clock(), Ordering::Relaxed);
    }

    /// A new (not rechecked) transaction arrived: the mempool takes transactions again.
    pub(crate) fn new_tx_checked(&self) {
        let started = self.commit_started.swap(0, Ordering::Relaxed);
        if started != 0 {
            let stall = Self::clock().saturating_sub(started);
            self.mempool_stall_nanos.fetch_add(stall, Ordering::Relaxed);
            self.mempool_stalls.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
struct Consensus {
    /// State written by InitChain; it is committed with the first block, as Cosmos does.
    genesis: Option<Changes>,
    /// The executed but not yet committed block.
    pending: Option<PreparedCommit>,
    /// The genesis's first height: 1, or the height after an export's.
    initial_height: u64,
    /// InitChain's app hash, which the first block's header carries.
    genesis_app_hash: Vec<u8>,
}

impl App {
    pub fn new(storage: Storage, config: AppConfig) -> App {
        let chain_id = storage
            .latest_snapshot()
            .get_nonverifiable(CHAIN_ID_KEY)
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        App {
            inner: Arc::new(Inner {
                storage,
                modules: Modules::surety(),
                config,
                chain_id: RwLock::new(chain_id),
                consensus: Mutex::new(Consensus::default()),
                mempool: Mutex::new(Changes::new()),
                check_view: Mutex::new(None),
                node_info: OnceLock::new(),
                node_info_source: OnceLock::new(),
                observations: RwLock::new(oracle::Observations::default()),
                stats: Stats::default(),
            }),
        }
    }

    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    pub fn modules(&self) -> &Modules {
        &self.inner.modules
    }

    pub fn chain_id(&self) -> String {
        self.inner.chain_id.read().expect("lock").clone()
    }

    /// InitChain's chain id. CheckTx's view of the pending block carries it, so that view is
    /// dropped too.
    fn set_chain_id(&self, chain_id: &str) {
        *self.inner.chain_id.write().expect("lock") = chain_id.to_string();
        *self.inner.check_view.lock().expect("lock") = None;
    }

    /// Sets where `GetNodeInfo`'s answer (an encoded `GetNodeInfoResponse`) comes from. It is
    /// asked when a client first wants it, not polled: a client that has seen blocks committed
    /// must get an answer, however soon after start it asks.
    pub fn set_node_info_source(&self, source: NodeInfoSource) {
        // Set once at start; a second source would answer the same.
        let _ = self.inner.node_info_source.set(source);
    }

    /// The node info, asking the source until it answers once (CometBFT's is fixed for its run).
    pub(crate) fn node_info_bytes(&self) -> Option<Vec<u8>> {
        if let Some(info) = self.inner.node_info.get() {
            return Some(info.clone());
        }
        let info = (self.inner.node_info_source.get()?)()?;
        Some(self.inner.node_info.get_or_init(|| info).clone())
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    fn runner(&self) -> tx::Runner<'_> {
        tx::Runner {
            modules: &self.inner.modules,
            min_gas_prices: &self.inner.config.min_gas_prices,
            simulate_gas_limit: self.inner.config.query_gas_limit(),
        }
    }

    /// Checks every module's invariants against the latest committed state.
    pub fn check_invariants(&self) -> Result<(), String> {
        let snapshot = self.inner.storage.latest_snapshot();
        let mut overlay = Overlay::new(&snapshot);
        let mut ctx = Ctx::new(
            &mut overlay,
            BlockInfo::default(),
            ExecMode::Query,
            GasMeter::infinite(),
        );
        for module in self.inner.modules.iter() {
            module.check_invariants(&mut ctx)?;
        }
        Ok(())
    }

    /// Runs `f` read-only against the state at `height` (0 = latest), with unlimited gas: for
    /// the node's own reads. Users' queries go through [`App::query_at`].
    pub fn read_at<T>(
        &self,
        height: u64,
        f: impl FnOnce(&mut Ctx) -> T,
    ) -> Result<(T, u64), surety_store::StoreError> {
        self.read_metered(height, GasMeter::infinite(), f)
    }

    /// Like [`App::read_at`], within the configured query gas limit.
    pub fn query_at<T>(
        &self,
        height: u64,
        f: impl FnOnce(&mut Ctx) -> T,
    ) -> Result<(T, u64), surety_store::StoreError> {
        let limit = self.inner.config.query_gas_limit();
        self.read_metered(height, GasMeter::new(limit), f)
    }

    fn read_metered<T>(
        &self,
        height: u64,
        gas: GasMeter,
        f: impl FnOnce(&mut Ctx) -> T,
    ) -> Result<(T, u64), surety_store::StoreError> {
        let snapshot = if height == 0 {
            self.inner.storage.latest_snapshot()
        } else {
            self.inner.storage.snapshot(height)?
        };
        let version = snapshot.version();
        let block = BlockInfo {
            height: version,
            ..self.next_block(&snapshot)
        };
        let prover = query::SnapshotProver(&snapshot);
        let mut overlay = Overlay::new(&snapshot);
        let mut ctx = Ctx::new(&mut overlay, block, ExecMode::Query, gas);
        ctx.prover = Some(&prover);
        Ok((f(&mut ctx), version))
    }
}

/// Where the last committed block's time is kept: outside the merkle tree (it is in every block
/// header already, and an empty block must not change the app hash), for queries, CheckTx and
/// Simulate to run on the chain's clock.
const LAST_BLOCK_TIME_KEY: &[u8] = b"last_block_time";

fn record_block_time(set: &mut ChangeSet, block: &BlockInfo) {
    let mut value = block.time_unix_secs.to_be_bytes().to_vec();
    value.extend_from_slice(&block.time_nanos.to_be_bytes());
    set.nonverifiable
        .insert(LAST_BLOCK_TIME_KEY.to_vec(), Some(value));
}

/// The pending block and the block gas limit as CheckTx sees them at one committed version.
/// Committed state never changes, so they are read once per version, not three store reads per
/// transaction checked.
#[derive(Clone)]
struct CheckView {
    version: u64,
    block: BlockInfo,
    block_max_gas: u64,
}

impl App {
    /// [`App::pending_block`] and the block gas limit at `snapshot`, from the view kept for its
    /// version.
    fn check_view(&self, snapshot: &surety_store::Snapshot) -> (BlockInfo, u64) {
        let mut kept = self.inner.check_view.lock().expect("lock");
        match &*kept {
            Some(view) if view.version == snapshot.version() => {
                (view.block.clone(), view.block_max_gas)
            }
            _ => {
                let view = CheckView {
                    version: snapshot.version(),
                    block: self.pending_block(snapshot),
                    block_max_gas: self.block_max_gas_at(snapshot),
                };
                let answer = (view.block.clone(), view.block_max_gas);
                *kept = Some(view);
                answer
            }
        }
    }

    /// The block after `snapshot` as CheckTx and Simulate see it: its height, and a time one
    /// second after the last committed block's — later, as the real block's will be, so that
    /// work that happens whenever time passes (premiums accruing, say) is paid for in the
    /// estimate too.
    fn pending_block(&self, snapshot: &surety_store::Snapshot) -> BlockInfo {
        let mut block = self.next_block(snapshot);
        block.time_unix_secs += 1;
        block
    }

    /// The block after `snapshot` as far as it is known before it is proposed: its height, and
    /// the time of the last committed block.
    fn next_block(&self, snapshot: &surety_store::Snapshot) -> BlockInfo {
        let (time_unix_secs, time_nanos) = match snapshot.get_nonverifiable(LAST_BLOCK_TIME_KEY) {
            Ok(Some(v)) if v.len() == 12 => (
                i64::from_be_bytes(v[..8].try_into().expect("8 bytes")),
                u32::from_be_bytes(v[8..].try_into().expect("4 bytes")),
            ),
            _ => (0, 0),
        };
        BlockInfo {
            height: snapshot.version() + 1,
            time_unix_secs,
            time_nanos,
            chain_id: self.chain_id(),
            ..BlockInfo::default()
        }
    }
}

fn to_change_set(changes: &Changes) -> ChangeSet {
    let mut set = ChangeSet::default();
    for (store, key, value) in changes.iter() {
        set.verifiable
            .entry(store.to_string())
            .or_default()
            .insert(key.clone(), value.clone());
    }
    set
}

/// An overlay whose base is a snapshot and whose changes are handed back afterwards.
fn with_overlay<T>(
    base: &dyn StateRead,
    changes: Changes,
    f: impl FnOnce(&mut Overlay) -> T,
) -> (T, Changes) {
    let mut overlay = Overlay::with_changes(base, changes);
    let out = f(&mut overlay);
    (out, overlay.into_changes())
}
