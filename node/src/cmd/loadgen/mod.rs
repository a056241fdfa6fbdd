//! `suretyd loadgen`: drives a node as hard as it accepts transactions and measures the rate at
//! which they are *committed* (from block contents over a steady window, not the send rate).
//!
//! `--mode surety` sends a `--workload` (bank sends, cover purchases, deposits, or a mix; see
//! [`workload`]) from many funded accounts, each account a sequential pipeline so sequences stay
//! in order, its transactions signed before the load starts; `--mode kvstore` sends CometBFT's
//! built-in kvstore app transactions of the same size, the consensus engine's ceiling on this
//! machine. The output says how much CPU the load generator itself used while measuring.
//!
//! `--node` may list several nodes (comma-separated): senders start spread over them and every
//! RPC call that fails (a refused or reset connection, a paused node that does not answer in
//! time) moves on to the next node with a growing back-off instead of giving up, so the load
//! rides out a node that is killed, paused or restarted. `--record <file>` appends the hash and
//! height of every transaction of this load generator that it sees in a committed block, read
//! back from the block contents and their results. SIGINT/SIGTERM end the measurement early
//! (for a load that runs in the background until its caller stops it) and still print it.

mod workload;

use super::{Context, KeyringArgs};
use crate::client::Client;
use anyhow::{bail, Context as _, Result};
use cosmrs::crypto::secp256k1::SigningKey;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tendermint_rpc::{client::CompatMode, Client as _, HttpClient};
use workload::{address_of, Plan, Workload};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Surety,
    Kvstore,
}

#[derive(clap::Args)]
pub struct Args {
    /// CometBFT RPC address of the node under load; a comma-separated list spreads the senders
    /// over several nodes and fails over to the next one when a node does not answer.
    #[arg(long, default_value = "http://127.0.0.1:26657")]
    node: String,
    #[arg(long, value_enum, default_value_t = Mode::Surety)]
    mode: Mode,
    /// What the transactions do (surety mode).
    #[arg(long, value_enum, default_value_t = Workload::Send)]
    workload: Workload,
    /// The product cover is bought on (buy-cover, mix).
    #[arg(long, default_value_t = 1)]
    product_id: u64,
    /// The pool deposited into (deposit, mix); it and its reinsurer (`--reinsurer-pool-id`) are
    /// kept capitalised for purchases.
    #[arg(long, default_value_t = 1)]
    pool_id: u64,
    #[arg(long, default_value_t = 2)]
    reinsurer_pool_id: u64,
    /// Transactions signed ahead per sender (0: enough for `--rate`, or 4 000 tx/s, over warm-up
    /// and measurement, up to 200 000 in all); a sender that runs out signs as it goes.
    #[arg(long, default_value_t = 0)]
    presign: usize,
    /// Funded key that pays the load accounts (surety mode).
    #[arg(long, default_value = "alice")]
    from: String,
    #[command(flatten)]
    keyring: KeyringArgs,
    /// Concurrent senders (accounts in surety mode).
    #[arg(long, default_value_t = 32)]
    senders: usize,
    #[arg(long, default_value_t = 5)]
    warmup_secs: u64,
    /// Length of the measurement (and of the load after the warm-up); SIGINT or SIGTERM ends it
    /// early.
    #[arg(long, visible_alias = "duration-secs", default_value_t = 20)]
    measure_secs: u64,
    /// Appends `<HASH> <height> <code>` for every transaction of this load generator seen in a
    /// committed block (the hash as CometBFT reports it: uppercase hex sha256 of the tx bytes).
    #[arg(long, value_name = "FILE")]
    record: Option<std::path::PathBuf>,
    /// Total transactions per second to offer, spread over the senders (0: as fast as the
    /// mempool accepts them).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Transaction size in kvstore mode.
    #[arg(long, default_value_t = 250)]
    tx_size: usize,
    /// The bech32 prefix of the chain's accounts: another Cosmos SDK chain's (e.g. `cosmos` for
    /// `simd`) runs the send workload there, for comparison.
    #[arg(long, default_value = surety_framework::address::ACCOUNT_PREFIX)]
    bech32_prefix: String,
    /// Gas each transaction asks for (0: simulated once per kind of message, × 1.2, as a wallet's
    /// `--gas auto`; a chain that does not answer simulations over ABCI, as `simd`, needs it).
    #[arg(long, default_value_t = 0)]
    gas: u64,
    /// The denom of fees and sends (e.g. `stake` on `simd`).
    #[arg(long, default_value = "usure")]
    fee_denom: String,
}

fn load_key(i: usize) -> Result<SigningKey> {
    let seed = Sha256::digest(format!("surety-loadgen-{i}"));
    SigningKey::from_slice(&seed).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Transactions signed ahead in all, at most (about 60 MB of bank sends).
const PRESIGN_BUDGET: usize = 200_000;

/// A load account: its key, its next sequence, and its transactions signed ahead from sequence
/// `first_signed` on (kept after they are sent: a node that drops one asks for it again).
struct Sender {
    key: SigningKey,
    account_number: u64,
    sequence: u64,
    first_signed: u64,
    signed: Vec<Vec<u8>>,
}

impl Sender {
    /// The transaction of the next sequence: signed ahead, or signed now.
    fn next_tx(&self, plan: &Plan, signed_live: &AtomicU64) -> Result<Vec<u8>> {
        let ahead = self
            .sequence
            .checked_sub(self.first_signed)
            .and_then(|i| self.signed.get(usize::try_from(i).ok()?));
        match ahead {
            Some(tx) => Ok(tx.clone()),
            None => {
                signed_live.fetch_add(1, Ordering::Relaxed);
                plan.sign(&self.key, self.account_number, self.sequence)
            }
        }
    }
}

/// Tops up the load accounts (and the pools purchases draw on), simulates the workload's gas,
/// and signs each account's first transactions, on every core.
fn prepare_senders(
    ctx: &Context,
    args: &Args,
    client: &Client,
    chain_id: &str,
) -> Result<(Plan, Vec<Sender>, f64)> {
    // A previous load may still be in the mempool: its sequences are not committed yet.
    let drained_by = Instant::now() + RETRY_FOR;
    while client.mempool_size()? > 0 {
        if Instant::now() > drained_by {
            bail!(
                "the node's mempool did not empty in {}s",
                RETRY_FOR.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let keys: Vec<SigningKey> = (0..args.senders).map(load_key).collect::<Result<_>>()?;
    let funder = args.keyring.open(ctx)?.signing_key(&args.from)?;
    let addresses: Vec<_> = keys.iter().map(address_of).collect();
    let chain = workload::Chain {
        prefix: args.bech32_prefix.clone(),
        denom: args.fee_denom.clone(),
    };
    if chain.prefix != surety_framework::address::ACCOUNT_PREFIX && args.workload != Workload::Send
    {
        bail!("only the send workload runs on another chain");
    }
    workload::top_up(client, &chain, &funder, chain_id, &addresses, args.workload)?;
    if matches!(args.workload, Workload::BuyCover | Workload::Mix) {
        workload::capitalise(
            client,
            &funder,
            chain_id,
            &[args.pool_id, args.reinsurer_pool_id],
        )?;
    }
    let first = keys.first().context("--senders must be at least 1")?;
    let plan = workload::plan(
        client,
        &chain,
        first,
        chain_id,
        args.gas,
        args.workload,
        args.product_id,
        args.pool_id,
    )?;
    let accounts = keys
        .iter()
        .map(|key| {
            client
                .account(&chain.address(&address_of(key)))?
                .context("load account missing")
        })
        .collect::<Result<Vec<_>>>()?;
    let per_sender = if args.presign > 0 {
        args.presign
    } else {
        // What the run can send (at `--rate`, or at most 4 000 tx/s), within a memory budget:
        // a long background load signs the rest as it goes.
        let rate = if args.rate > 0.0 { args.rate } else { 4_000.0 };
        let run = (rate * (args.warmup_secs + args.measure_secs) as f64).ceil() as usize;
        run.min(PRESIGN_BUDGET).div_ceil(args.senders.max(1))
    };
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut groups: Vec<Vec<_>> = (0..cores).map(|_| Vec::new()).collect();
    for (i, pair) in keys.into_iter().zip(accounts).enumerate() {
        groups[i % cores].push((i, pair));
    }
    let mut senders: Vec<(usize, Sender)> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| {
                let plan = &plan;
                scope.spawn(move || {
                    group
                        .into_iter()
                        .map(|(i, (key, a))| {
                            let signed =
                                plan.presign(&key, a.account_number, a.sequence, per_sender)?;
                            Ok((
                                i,
                                Sender {
                                    key,
                                    account_number: a.account_number,
                                    sequence: a.sequence,
                                    first_signed: a.sequence,
                                    signed,
                                },
                            ))
                        })
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signing thread"))
            .collect::<Result<Vec<Vec<_>>>>()
    })?
    .into_iter()
    .flatten()
    .collect();
    senders.sort_by_key(|(i, _)| *i);
    let senders = senders.into_iter().map(|(_, s)| s).collect();
    Ok((plan, senders, started.elapsed().as_secs_f64()))
}

/// CPU time (user + system) this process has used so far, in seconds.
fn cpu_secs() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn expected_sequence(log: &str) -> Option<u64> {
    let rest = log.split("expected ").nth(1)?;
    rest.split(',').next()?.trim().parse().ok()
}

/// How long a call keeps failing over between nodes before the load generator gives up.
const RETRY_FOR: Duration = Duration::from_secs(180);
/// Back-off between attempts after an RPC failure: doubles from the first to the last.
const BACKOFF_MIN: Duration = Duration::from_millis(20);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Per-request timeout when there are nodes to fail over to (a paused node accepts the TCP
/// connection and then never answers).
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(4);

/// Hashes (sha256 of the tx bytes) of transactions this load generator broadcast and has not yet
/// seen committed; `None` when nothing is recorded.
type Ours = Option<Arc<Mutex<HashSet<[u8; 32]>>>>;

fn note_ours(ours: &Ours, tx: &[u8]) {
    if let Some(set) = ours {
        let hash: [u8; 32] = Sha256::digest(tx).into();
        set.lock().expect("tx set lock").insert(hash);
    }
}

/// The nodes under load, each RPC call failing over to the next node (with back-off) when the
/// current one does not answer.
struct Nodes {
    urls: Vec<String>,
    clients: Vec<HttpClient>,
    current: AtomicUsize,
    failovers: AtomicU64,
}

impl Nodes {
    fn new(list: &str) -> Result<Nodes> {
        let urls: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        if urls.is_empty() {
            bail!("--node lists no node");
        }
        let clients = urls
            .iter()
            .map(|u| {
                let url: tendermint_rpc::Url = u
                    .parse()
                    .with_context(|| format!("invalid node address {u}"))?;
                let mut b = HttpClient::builder(url.try_into()?).compat_mode(CompatMode::V0_38);
                if urls.len() > 1 {
                    b = b.timeout(FAILOVER_TIMEOUT);
                }
                Ok(b.build()?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Nodes {
            urls,
            clients,
            current: AtomicUsize::new(0),
            failovers: AtomicU64::new(0),
        })
    }

    fn len(&self) -> usize {
        self.clients.len()
    }

    /// Index of the node after `k` (counting a fail-over when there is another node).
    fn next_after(&self, k: usize) -> usize {
        if self.len() > 1 {
            self.failovers.fetch_add(1, Ordering::Relaxed);
        }
        (k + 1) % self.len()
    }

    /// Runs `call` on the current node; on an error moves on to the next node and tries again,
    /// backing off, until a node answers or [`RETRY_FOR`] has passed.
    async fn call<T, E, F, Fut>(&self, what: &str, mut call: F) -> Result<T>
    where
        F: FnMut(HttpClient) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, E>>,
        E: std::fmt::Display,
    {
        let deadline = Instant::now() + RETRY_FOR;
        let mut backoff = BACKOFF_MIN * 5;
        loop {
            let k = self.current.load(Ordering::Relaxed) % self.len();
            match call(self.clients[k].clone()).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    if Instant::now() > deadline {
                        bail!(
                            "{what}: no node answered for {}s (last error, from {}: {e})",
                            RETRY_FOR.as_secs(),
                            self.urls[k]
                        );
                    }
                    let next = self.next_after(k);
                    let _ = self.current.compare_exchange(
                        k,
                        next,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX * 2);
                }
            }
        }
    }

    /// The latest height of a node that is not catching up.
    async fn latest_height(&self) -> Result<u64> {
        self.call("reading the latest height", |c| async move {
            let s = c.status().await.map_err(|e| e.to_string())?;
            if s.sync_info.catching_up {
                return Err("the node is catching up".to_string());
            }
            Ok::<u64, String>(s.sync_info.latest_block_height.value())
        })
        .await
    }

    /// The transactions of block `h` with their result codes.
    async fn block_txs(&self, h: u64) -> Result<Vec<(Vec<u8>, u32)>> {
        let height = tendermint::block::Height::try_from(h)?;
        self.call(&format!("reading block {h}"), |c| async move {
            let block = c.block(height).await.map_err(|e| e.to_string())?;
            let results = c.block_results(height).await.map_err(|e| e.to_string())?;
            let results = results.txs_results.unwrap_or_default();
            let txs = block.block.data;
            if txs.len() != results.len() {
                return Err(format!(
                    "block {h} has {} txs but {} results",
                    txs.len(),
                    results.len()
                ));
            }
            Ok::<Vec<(Vec<u8>, u32)>, String>(
                txs.into_iter()
                    .zip(results)
                    .map(|(tx, r)| (tx, r.code.value()))
                    .collect(),
            )
        })
        .await
    }

    async fn block_time(&self, h: u64) -> Result<tendermint::Time> {
        let height = tendermint::block::Height::try_from(h)?;
        self.call(&format!("reading block {h}"), |c| async move {
            c.block(height).await.map(|b| b.block.header.time)
        })
        .await
    }

    /// `app/stats` of the current node, tagged with that node (deltas only make sense on one).
    async fn app_stats(&self) -> Option<(usize, serde_json::Value)> {
        let k = self.current.load(Ordering::Relaxed) % self.len();
        let r = self.clients[k]
            .abci_query(Some("app/stats".into()), Vec::new(), None, false)
            .await
            .ok()?;
        serde_json::from_slice(&r.value).ok().map(|v| (k, v))
    }
}

/// How long the node took to answer each accepted `broadcast_tx_sync` (its CheckTx), in µs.
#[derive(Clone, Default)]
struct Latencies(Arc<Mutex<Vec<u32>>>);

impl Latencies {
    fn note(&self, asked: Instant) {
        let us = asked.elapsed().as_micros().min(u32::MAX as u128) as u32;
        self.0.lock().expect("latency lock").push(us);
    }

    /// Forgets what was noted so far (the warm-up).
    fn reset(&self) {
        self.0.lock().expect("latency lock").clear();
    }

    /// The 50th, 90th and 99th percentiles and the maximum, in ms.
    fn summary(&self) -> serde_json::Value {
        let mut v = self.0.lock().expect("latency lock").clone();
        if v.is_empty() {
            return json!(null);
        }
        v.sort_unstable();
        let at = |q: usize| f64::from(v[(v.len() - 1) * q / 100]) / 1000.0;
        let r = |x: f64| (x * 100.0).round() / 100.0;
        json!({ "p50": r(at(50)), "p90": r(at(90)), "p99": r(at(99)), "max": r(at(100)) })
    }
}

/// Why a `broadcast_tx_sync` failed at the RPC level, which decides what a sender does next.
enum Refusal {
    /// CometBFT's mempool holds its maximum: it has room again after the next block, so the
    /// sender retries shortly on the same node. (Backing off as from a dead node would leave the
    /// mempool short for most of the next block.)
    MempoolFull,
    /// The node already has this transaction in its cache.
    AlreadyHeld,
    /// The node did not answer (down, paused, restarting): fail over, backing off.
    NoAnswer,
}

fn refusal(e: &tendermint_rpc::Error) -> Refusal {
    // CometBFT reports both as a JSON-RPC error whose data is its mempool error's text.
    let text = e.to_string();
    if text.contains("mempool is full") {
        Refusal::MempoolFull
    } else if text.contains("tx already exists in cache") {
        Refusal::AlreadyHeld
    } else {
        Refusal::NoAnswer
    }
}

/// What a sender does after a broadcast failed at the RPC level: waits as the refusal asks,
/// moving on to the next node `k` (with a growing `backoff`) when this one did not answer.
/// Returns true when the node already holds the transaction, which then counts as sent.
async fn after_rpc_error(
    nodes: &Nodes,
    e: &tendermint_rpc::Error,
    k: &mut usize,
    backoff: &mut Duration,
) -> bool {
    match refusal(e) {
        Refusal::MempoolFull => {
            tokio::time::sleep(BACKOFF_MIN).await;
            false
        }
        // An earlier attempt reached the node although its answer did not reach us.
        Refusal::AlreadyHeld => true,
        Refusal::NoAnswer => {
            *k = nodes.next_after(*k);
            tokio::time::sleep(*backoff).await;
            *backoff = (*backoff * 2).min(BACKOFF_MAX);
            false
        }
    }
}

/// Paces a sender to its share of `--rate`.
fn pacer(pace: Option<Duration>) -> Option<tokio::time::Interval> {
    pace.map(|p| {
        let mut i = tokio::time::interval(p);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    })
}

#[allow(clippy::too_many_arguments)]
async fn surety_sender(
    nodes: Arc<Nodes>,
    first_node: usize,
    mut s: Sender,
    plan: Arc<Plan>,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    signed_live: Arc<AtomicU64>,
    ours: Ours,
    pace: Option<Duration>,
    latencies: Latencies,
) {
    let mut k = first_node % nodes.len();
    let mut backoff = BACKOFF_MIN;
    let mut pacer = pacer(pace);
    while !stop.load(Ordering::Relaxed) {
        if let Some(p) = pacer.as_mut() {
            p.tick().await;
        }
        let Ok(tx) = s.next_tx(&plan, &signed_live) else {
            return;
        };
        // Noted before it is sent: a node may take it and then fail to answer.
        note_ours(&ours, &tx);
        let asked = Instant::now();
        match nodes.clients[k].broadcast_tx_sync(tx).await {
            Ok(r) if r.code.is_ok() => {
                latencies.note(asked);
                s.sequence += 1;
                sent.fetch_add(1, Ordering::Relaxed);
                backoff = BACKOFF_MIN;
            }
            Ok(r) if r.code.value() == 32 => {
                if let Some(expected) = expected_sequence(&r.log) {
                    s.sequence = expected;
                }
            }
            // Refused by CheckTx for a reason time cures: back off briefly, as a wallet would.
            Ok(_) => tokio::time::sleep(BACKOFF_MIN).await,
            Err(e) => {
                if after_rpc_error(&nodes, &e, &mut k, &mut backoff).await {
                    s.sequence += 1;
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn kvstore_sender(
    nodes: Arc<Nodes>,
    id: usize,
    size: usize,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    ours: Ours,
    pace: Option<Duration>,
    latencies: Latencies,
) {
    let mut n: u64 = 0;
    let mut k = id % nodes.len();
    let mut backoff = BACKOFF_MIN;
    let mut pacer = pacer(pace);
    while !stop.load(Ordering::Relaxed) {
        if let Some(p) = pacer.as_mut() {
            p.tick().await;
        }
        let mut tx = format!("k{id}-{n}=").into_bytes();
        tx.resize(size.max(tx.len() + 1), b'v');
        note_ours(&ours, &tx);
        let asked = Instant::now();
        match nodes.clients[k].broadcast_tx_sync(tx).await {
            Ok(r) if r.code.is_ok() => {
                latencies.note(asked);
                n += 1;
                sent.fetch_add(1, Ordering::Relaxed);
                backoff = BACKOFF_MIN;
            }
            Ok(_) => n += 1,
            Err(e) => {
                if after_rpc_error(&nodes, &e, &mut k, &mut backoff).await {
                    n += 1;
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Reads every committed block from `from` on and writes `<HASH> <height> <code>` for each of our
/// transactions in it, flushing after every block. Once `drain` is set it reads up to the latest
/// height it then sees and returns how many transactions it recorded.
async fn record_committed(
    nodes: Arc<Nodes>,
    from: u64,
    ours: Arc<Mutex<HashSet<[u8; 32]>>>,
    mut out: std::io::BufWriter<std::fs::File>,
    drain: Arc<AtomicBool>,
) -> Result<u64> {
    use std::io::Write as _;
    let mut next = from;
    let mut recorded = 0u64;
    loop {
        let draining = drain.load(Ordering::Relaxed);
        let latest = nodes.latest_height().await?;
        while next <= latest {
            let txs = nodes.block_txs(next).await?;
            {
                let mut set = ours.lock().expect("tx set lock");
                for (tx, code) in txs {
                    let hash: [u8; 32] = Sha256::digest(&tx).into();
                    if set.remove(&hash) {
                        writeln!(out, "{} {next} {code}", hex::encode_upper(hash))?;
                        recorded += 1;
                    }
                }
            }
            out.flush()?;
            next += 1;
        }
        if draining {
            return Ok(recorded);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Successful transactions committed in heights (from, to], and the block-time window they span.
async fn committed_between(nodes: &Nodes, from: u64, to: u64) -> Result<(u64, u64, f64)> {
    let mut ok = 0;
    let mut all = 0;
    for h in from + 1..=to {
        for (_, code) in nodes.block_txs(h).await? {
            all += 1;
            if code == 0 {
                ok += 1;
            }
        }
    }
    let t0 = nodes.block_time(from).await?;
    let t1 = nodes.block_time(to).await?;
    let window = t1
        .duration_since(t0)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .as_secs_f64();
    Ok((ok, all, window))
}

fn per(delta_nanos: f64, count: f64) -> f64 {
    if count > 0.0 {
        delta_nanos / count / 1000.0
    } else {
        0.0
    }
}

/// A client of the first listed node that answers (retrying for a while: a node may be down).
fn first_reachable(nodes: &str) -> Result<(Client, String)> {
    let urls: Vec<&str> = nodes
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    let deadline = Instant::now() + RETRY_FOR;
    let mut backoff = BACKOFF_MIN * 5;
    loop {
        let mut last = None;
        for u in &urls {
            match Client::new(u).and_then(|c| c.chain_id().map(|id| (c, id))) {
                Ok(found) => return Ok(found),
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) if Instant::now() > deadline => return Err(e),
            None => bail!("--node lists no node"),
            Some(_) => std::thread::sleep(backoff),
        }
        backoff = (backoff * 2).min(BACKOFF_MAX * 2);
    }
}

/// Sleeps for `d` unless SIGINT or SIGTERM comes first; true if one did.
async fn sleep_or_signal(d: Duration, term: &mut tokio::signal::unix::Signal) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = tokio::signal::ctrl_c() => true,
        _ = term.recv() => true,
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let (client, chain_id) = first_reachable(&args.node)?;
    let (plan, senders, presign_secs) = if args.mode == Mode::Surety {
        let (plan, senders, secs) = prepare_senders(ctx, &args, &client, &chain_id)?;
        (Some(Arc::new(plan)), senders, secs)
    } else {
        (None, Vec::new(), 0.0)
    };
    let tx_bytes = match (&plan, senders.first()) {
        (Some(plan), Some(s)) => plan.tx_bytes(&s.key, s.account_number, s.sequence)?,
        _ => args.tx_size,
    };
    let presigned: usize = senders.iter().map(|s| s.signed.len()).sum();
    drop(client);
    let record = match &args.record {
        Some(path) => Some((
            path.clone(),
            std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
            ),
        )),
        None => None,
    };
    let pace =
        (args.rate > 0.0).then(|| Duration::from_secs_f64(args.senders.max(1) as f64 / args.rate));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let nodes = Arc::new(Nodes::new(&args.node)?);
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let signed_live = Arc::new(AtomicU64::new(0));
        let ours: Ours = record
            .as_ref()
            .map(|_| Arc::new(Mutex::new(HashSet::new())));
        let drain = Arc::new(AtomicBool::new(false));
        let recorder = match (record, &ours) {
            (Some((path, out)), Some(set)) => {
                let from = nodes.latest_height().await? + 1;
                Some((
                    path,
                    tokio::spawn(record_committed(
                        nodes.clone(),
                        from,
                        set.clone(),
                        out,
                        drain.clone(),
                    )),
                ))
            }
            _ => None,
        };
        let latencies = Latencies::default();
        let mut tasks = Vec::new();
        match args.mode {
            Mode::Surety => {
                let plan = plan.clone().expect("a plan in surety mode");
                for (i, s) in senders.into_iter().enumerate() {
                    tasks.push(tokio::spawn(surety_sender(
                        nodes.clone(),
                        i,
                        s,
                        plan.clone(),
                        stop.clone(),
                        sent.clone(),
                        signed_live.clone(),
                        ours.clone(),
                        pace,
                        latencies.clone(),
                    )));
                }
            }
            Mode::Kvstore => {
                for id in 0..args.senders {
                    tasks.push(tokio::spawn(kvstore_sender(
                        nodes.clone(),
                        id,
                        args.tx_size,
                        stop.clone(),
                        sent.clone(),
                        ours.clone(),
                        pace,
                        latencies.clone(),
                    )));
                }
            }
        }
        let mut interrupted =
            sleep_or_signal(Duration::from_secs(args.warmup_secs), &mut term).await;
        let h0 = nodes.latest_height().await?;
        latencies.reset();
        let stats0 = nodes.app_stats().await;
        let started = Instant::now();
        let cpu0 = cpu_secs();
        if !interrupted {
            interrupted = sleep_or_signal(Duration::from_secs(args.measure_secs), &mut term).await;
        }
        let h1 = nodes.latest_height().await?;
        let stats1 = nodes.app_stats().await;
        let cpu = cpu_secs() - cpu0;
        let measured = started.elapsed().as_secs_f64();
        let accepted = sent.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        let recorded = match recorder {
            Some((path, task)) => {
                drain.store(true, Ordering::Relaxed);
                let n = task
                    .await
                    .map_err(|e| anyhow::anyhow!("the recorder task failed: {e}"))?
                    .with_context(|| format!("recording committed txs to {}", path.display()))?;
                Some((path, n))
            }
            None => None,
        };
        if h1 <= h0 + 1 {
            bail!("the chain did not advance during the measurement ({h0} → {h1})");
        }
        let (ok, all, window) = committed_between(&nodes, h0, h1).await?;
        let mut out = json!({
            "mode": if args.mode == Mode::Surety { "surety" } else { "kvstore" },
            "workload": if args.mode == Mode::Surety { args.workload.name() } else { "kvstore" },
            "committed_tps": (ok as f64 / window * 10.0).round() / 10.0,
            "committed_txs": ok,
            "failed_txs": all - ok,
            "blocks": h1 - h0,
            "window_secs": (window * 100.0).round() / 100.0,
            "tx_bytes": tx_bytes,
            "senders": args.senders,
            "accepted_by_mempool": accepted,
            "wall_secs": started.elapsed().as_secs(),
            // The load generator's own CPU while measuring, in cores (1.0 = one core busy).
            "loadgen_cores": (cpu / measured.max(1e-9) * 100.0).round() / 100.0,
            // How long each accepted transaction waited for the node's CheckTx answer (ms).
            "broadcast_ms": latencies.summary(),
        });
        if let Some(plan) = &plan {
            out["presigned_txs"] = json!(presigned);
            out["presign_secs"] = json!((presign_secs * 10.0).round() / 10.0);
            out["signed_during_load"] = json!(signed_live.load(Ordering::Relaxed));
            out["gas_per_tx"] = json!(plan.gas());
        }
        if nodes.len() > 1 {
            out["nodes"] = json!(nodes.len());
            out["rpc_failovers"] = json!(nodes.failovers.load(Ordering::Relaxed));
        }
        if let Some((path, n)) = recorded {
            out["recorded_txs"] = json!(n);
            out["record_file"] = json!(path.display().to_string());
        }
        if interrupted {
            out["stopped_by_signal"] = json!(true);
        }
        if let (Some((ka, a)), Some((kb, b))) = (stats0, stats1) {
            if ka == kb {
                let d = |k: &str| {
                    b[k].as_u64()
                        .unwrap_or(0)
                        .saturating_sub(a[k].as_u64().unwrap_or(0)) as f64
                };
                out["check_tx_us_per_tx"] =
                    json!((per(d("check_tx_nanos"), d("check_tx_count")) * 10.0).round() / 10.0);
                out["rechecks_per_tx"] =
                    json!((d("recheck_count") / d("block_txs").max(1.0) * 100.0).round() / 100.0);
                out["recheck_us_each"] =
                    json!((per(d("recheck_nanos"), d("recheck_count")) * 10.0).round() / 10.0);
                out["finalize_block_us_per_tx"] =
                    json!((per(d("finalize_block_nanos"), d("block_txs")) * 10.0).round() / 10.0);
                out["write_ahead_ms_per_block"] =
                    json!((per(d("write_ahead_nanos"), d("blocks")) / 10.0).round() / 100.0);
                out["commit_ms_per_block"] =
                    json!((per(d("commit_nanos"), d("blocks")) / 10.0).round() / 100.0);
                out["mempool_stall_ms_per_block"] = json!(
                    (per(d("mempool_stall_nanos"), d("mempool_stalls")) / 10.0).round() / 100.0
                );
            }
        }
        ctx.print(&out);
        Ok(())
    })
}
