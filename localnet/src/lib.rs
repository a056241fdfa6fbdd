//! `surety-localnet`: a multi-validator Surety network on loopback, built the
//! way operators build one — by running the `suretyd` CLI (`init`, `keys add`,
//! `genesis add-account`, `gentx`, `collect-gentxs`, `config set`) — and run as
//! real `suretyd start` processes, each supervising its own `cometbft` child.
//!
//! Validator *i* (from 0) listens on CometBFT P2P `26656 + 100·i`, RPC
//! `26657 + 100·i`, ABCI `26658 + 100·i`, Prometheus `26660 + 100·i`, gRPC
//! `9090 + 100·i`, REST (LCD) `1317 + 100·i` and app metrics `9100 + 100·i`, each plus
//! [`LocalnetOptions::port_offset`], all on 127.0.0.1.
//!
//! ```no_run
//! use std::time::Duration;
//! use surety_localnet::{Localnet, LocalnetOptions};
//!
//! let mut net = Localnet::new(LocalnetOptions { port_offset: 2000, ..Default::default() })?;
//! net.create()?;
//! net.start()?;
//! net.wait_for_height(3, Duration::from_secs(120))?;
//! println!("{:?}", net.status(0)?);
//! net.stop()?;
//! # anyhow::Ok(())
//! ```

pub mod cli;
pub mod ibc;
pub mod procs;
pub mod rpc;

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod feeds;

pub use cli::CmdOutput;
pub use rpc::{NodeStatus, Rpc};

/// Chain id used unless told otherwise.
pub const DEFAULT_CHAIN_ID: &str = "surety-localnet";
/// Name of each validator's key in its own home's keyring.
pub const VALIDATOR_KEY: &str = "validator";
/// Demo accounts created (in node 0's keyring) and funded at genesis.
pub const DEMO_ACCOUNTS: [&str; 3] = ["alice", "bob", "carol"];
/// Staking / fee denom.
pub const STAKE_DENOM: &str = "usure";
/// Test stable asset denom.
pub const STABLE_DENOM: &str = "uusdc";
/// Every validator account's genesis balance.
pub const VALIDATOR_COINS: &str = "1000000000000usure,1000000000000uusdc";
/// Every validator's self-bond.
pub const VALIDATOR_BOND: &str = "100000000000usure";
/// Every demo account's genesis balance.
pub const DEMO_COINS: &str = "100000000000usure,1000000000000uusdc";
/// Capital the localnet puts into the demo pools on first start: (pool id, amount), from the
/// last demo account.
pub const SEED_CAPITAL: [(u64, &str); 3] = [
    (2, "300000000000uusdc"),
    (1, "500000000000uusdc"),
    (3, "50000000000usure"),
];
/// Nodes' minimum gas prices.
pub const MIN_GAS_PRICES: &str = "0.0025usure";
/// A fee that covers a simple transaction at [`MIN_GAS_PRICES`] with 200k gas.
pub const DEFAULT_FEES: &str = "2000usure";

/// The loopback ports of one validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    pub p2p: u16,
    pub rpc: u16,
    pub abci: u16,
    pub prometheus: u16,
    pub grpc: u16,
    /// Cosmos REST (LCD) gateway; 0 in manifests written before it existed.
    #[serde(default)]
    pub rest: u16,
    pub metrics: u16,
}

impl Ports {
    /// Ports of validator `index` with every port shifted by `offset`.
    pub fn for_node(index: usize, offset: u16) -> Result<Ports> {
        let p = |base: u32| -> Result<u16> {
            let port = base + 100 * index as u32 + u32::from(offset);
            u16::try_from(port).ok().filter(|p| *p != 0).ok_or_else(|| {
                anyhow!("port {port} of validator {index} (offset {offset}) is out of range")
            })
        };
        Ok(Ports {
            p2p: p(26656)?,
            rpc: p(26657)?,
            abci: p(26658)?,
            prometheus: p(26660)?,
            grpc: p(9090)?,
            rest: p(1317)?,
            metrics: p(9100)?,
        })
    }

    /// `(what, port)` pairs, for messages.
    pub fn named(&self) -> [(&'static str, u16); 7] {
        [
            ("CometBFT P2P", self.p2p),
            ("CometBFT RPC", self.rpc),
            ("ABCI", self.abci),
            ("CometBFT Prometheus", self.prometheus),
            ("gRPC", self.grpc),
            ("REST", self.rest),
            ("app metrics", self.metrics),
        ]
    }
}

/// Addresses of one validator's services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// CometBFT RPC, e.g. `http://127.0.0.1:26657`.
    pub rpc: String,
    /// gRPC, e.g. `127.0.0.1:9090`.
    pub grpc: String,
    /// Cosmos REST (LCD) gateway, e.g. `http://127.0.0.1:1317`.
    pub rest: String,
    /// CometBFT P2P, e.g. `tcp://127.0.0.1:26656`.
    pub p2p: String,
    /// ABCI socket, e.g. `127.0.0.1:26658`.
    pub abci: String,
    /// CometBFT Prometheus metrics URL.
    pub prometheus: String,
    /// App metrics URL.
    pub metrics: String,
}

impl Endpoints {
    pub fn from_ports(p: &Ports) -> Endpoints {
        Endpoints {
            rpc: format!("http://127.0.0.1:{}", p.rpc),
            grpc: format!("127.0.0.1:{}", p.grpc),
            rest: format!("http://127.0.0.1:{}", p.rest),
            p2p: format!("tcp://127.0.0.1:{}", p.p2p),
            abci: format!("127.0.0.1:{}", p.abci),
            prometheus: format!("http://127.0.0.1:{}/metrics", p.prometheus),
            metrics: format!("http://127.0.0.1:{}/metrics", p.metrics),
        }
    }
}

/// One validator as created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeInfo {
    pub index: usize,
    pub moniker: String,
    pub home: PathBuf,
    /// CometBFT node id (`cometbft show-node-id`).
    pub node_id: String,
    /// Operator account address (`surety1…`).
    pub address: String,
    /// Operator address (`suretyvaloper1…`), if `keys show --bech val` gave one.
    pub valoper: Option<String>,
    pub mnemonic: String,
    pub ports: Ports,
}

/// A funded genesis account with its key in node 0's test keyring.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub address: String,
    pub mnemonic: String,
    pub coins: String,
    /// The home whose `test` keyring holds the key.
    pub home: PathBuf,
}

/// What `create()` made, saved as `<root>/localnet.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub chain_id: String,
    pub validators: usize,
    pub port_offset: u16,
    pub timeout_commit: String,
    pub created_unix: u64,
    pub nodes: Vec<NodeInfo>,
    pub accounts: Vec<Account>,
}

impl Manifest {
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }
}

/// How to build and run a localnet.
#[derive(Debug, Clone)]
pub struct LocalnetOptions {
    /// Number of validators (default 4).
    pub validators: usize,
    /// Where the node homes live (default `<repo>/.localnet`, or
    /// `$SURETY_LOCALNET_ROOT`).
    pub root: PathBuf,
    pub chain_id: String,
    /// Added to every port, so that tests can run beside a user's localnet.
    pub port_offset: u16,
    /// CometBFT `consensus.timeout_commit` (default `500ms`).
    pub timeout_commit: String,
    /// The `suretyd` binary.
    pub suretyd: PathBuf,
    /// The `cometbft` binary (passed to `suretyd` as `$SURETY_COMETBFT`).
    pub cometbft: PathBuf,
    /// Demo accounts to create and fund.
    pub demo_accounts: Vec<String>,
    /// How long a node gets to exit after SIGTERM before SIGKILL.
    pub stop_timeout: Duration,
    /// Deadline for each CLI command run while creating the network.
    pub cmd_timeout: Duration,
    /// Print progress to stderr.
    pub verbose: bool,
    /// `RUST_LOG` for the nodes (inherited from the environment when `None`).
    pub log_filter: Option<String>,
    /// Oracle votes in ABCI vote extensions (on by default; off only to measure their cost).
    pub vote_extensions: bool,
    /// A built web app (`web/dist`): `start()` copies it to `<root>/web` with a
    /// `localnet.json` (chain id, endpoints, demo keys) and every node's REST gateway serves
    /// it at `/`.
    pub web: Option<PathBuf>,
    /// Module params set in the genesis over the demo market's, as `(module, params)`: each
    /// field of `params` replaces that field of `app_state.<module>.params` (e.g. a longer
    /// liveness window for a test that keeps validators down on purpose).
    pub genesis_params: Vec<(String, Value)>,
}

impl Default for LocalnetOptions {
    fn default() -> Self {
        LocalnetOptions {
            validators: 4,
            root: default_root(),
            chain_id: DEFAULT_CHAIN_ID.to_owned(),
            port_offset: 0,
            timeout_commit: "500ms".to_owned(),
            suretyd: find_suretyd(),
            cometbft: find_cometbft(),
            demo_accounts: DEMO_ACCOUNTS.iter().map(|s| s.to_string()).collect(),
            stop_timeout: Duration::from_secs(30),
            cmd_timeout: Duration::from_secs(120),
            verbose: false,
            log_filter: None,
            vote_extensions: true,
            web: None,
            genesis_params: Vec::new(),
        }
    }
}

/// `$SURETY_LOCALNET_ROOT`, else `<repo>/.localnet`.
pub fn default_root() -> PathBuf {
    if let Some(r) = std::env::var_os("SURETY_LOCALNET_ROOT").filter(|r| !r.is_empty()) {
        return PathBuf::from(r);
    }
    let manifest_dir = manifest_dir();
    manifest_dir
        .parent()
        .unwrap_or(&manifest_dir)
        .join(".localnet")
}

/// This crate's directory: as cargo tells a test or `cargo run` at run time, else as it was at
/// compile time — which can name another checkout that built into the same shared target dir.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// `$SURETYD`, else a `suretyd` beside (or one level above) the running
/// executable, else in `$CARGO_TARGET_DIR` / `~/.cache/surety-target`
/// (release, then debug), else on `PATH`.
pub fn find_suretyd() -> PathBuf {
    if let Some(p) = std::env::var_os("SURETYD").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join("suretyd"));
            if let Some(up) = dir.parent() {
                candidates.push(up.join("suretyd"));
            }
        }
    }
    let mut target_dirs = Vec::new();
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR").filter(|t| !t.is_empty()) {
        target_dirs.push(PathBuf::from(t));
    }
    if let Some(home) = std::env::var_os("HOME") {
        target_dirs.push(Path::new(&home).join(".cache/surety-target"));
    }
    for t in target_dirs {
        candidates.push(t.join("release/suretyd"));
        candidates.push(t.join("debug/suretyd"));
    }
    candidates
        .into_iter()
        .find(|c| cli::is_executable(c))
        .or_else(|| cli::which("suretyd"))
        .unwrap_or_else(|| PathBuf::from("suretyd"))
}

/// `$SURETY_COMETBFT`, else `cometbft` on `PATH`, else in `$GOBIN`,
/// `$GOPATH/bin` or `~/go/bin`.
pub fn find_cometbft() -> PathBuf {
    if let Some(p) = std::env::var_os("SURETY_COMETBFT").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = cli::which("cometbft") {
        return p;
    }
    let mut candidates = Vec::new();
    if let Some(d) = std::env::var_os("GOBIN").filter(|d| !d.is_empty()) {
        candidates.push(PathBuf::from(d).join("cometbft"));
    }
    if let Some(d) = std::env::var_os("GOPATH").filter(|d| !d.is_empty()) {
        for part in std::env::split_paths(&d) {
            candidates.push(part.join("bin/cometbft"));
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join("go/bin/cometbft"));
    }
    candidates
        .into_iter()
        .find(|c| cli::is_executable(c))
        .unwrap_or_else(|| PathBuf::from("cometbft"))
}

/// Makes `p` absolute, resolving symlinks in the longest existing prefix,
/// so the same root always yields the same strings in process arguments.
fn absolute(p: &Path) -> Result<PathBuf> {
    let abs =
        std::path::absolute(p).with_context(|| format!("cannot make {} absolute", p.display()))?;
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(out);
        }
        match (
            existing.file_name().map(|f| f.to_owned()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return Ok(abs),
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Runs the `suretyd` CLI.
#[derive(Debug, Clone)]
pub struct Suretyd {
    pub bin: PathBuf,
    /// Passed as `$SURETY_COMETBFT`.
    pub cometbft: PathBuf,
    /// Deadline for each command.
    pub timeout: Duration,
}

impl Suretyd {
    /// A `suretyd` command with the environment the localnet uses.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).env("SURETY_COMETBFT", &self.cometbft);
        if let Some(dir) = self.cometbft.parent().filter(|d| !d.as_os_str().is_empty()) {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let joined = std::env::join_paths(
                std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&path)),
            );
            if let Ok(joined) = joined {
                cmd.env("PATH", joined);
            }
        }
        cmd
    }

    /// Runs `suretyd <args>`; a non-zero exit is not an error.
    pub fn run(&self, args: &[&str]) -> Result<CmdOutput> {
        cli::run(&mut self.command(args), None, self.timeout)
    }

    /// Runs `suretyd <args>` and fails on a non-zero exit.
    pub fn run_ok(&self, args: &[&str]) -> Result<CmdOutput> {
        cli::run_ok(&mut self.command(args), None, self.timeout)
    }

    /// Runs `suretyd <args>` with `stdin`, failing on a non-zero exit.
    pub fn run_ok_stdin(&self, args: &[&str], stdin: &str) -> Result<CmdOutput> {
        cli::run_ok(&mut self.command(args), Some(stdin), self.timeout)
    }

    /// Runs `suretyd <args>` and parses its JSON output (stdout, else stderr,
    /// where some Cosmos CLIs print `keys add` output).
    pub fn run_json(&self, args: &[&str]) -> Result<Value> {
        let out = self.run_ok(args)?;
        out.json()
            .or_else(|e| cli::parse_json(&out.stderr).map_err(|_| e))
    }
}

/// A running node process that this `Localnet` spawned.
#[derive(Debug)]
struct NodeProc {
    child: Child,
    pid: i32,
    start_time: u64,
}

/// The pids file `<root>/pids`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PidsFile {
    /// The `surety-localnet start` process that owns the nodes, if any.
    pub launcher: Option<i32>,
    /// `(node index, suretyd pid, start time)`.
    pub nodes: Vec<(usize, i32, u64)>,
}

impl PidsFile {
    pub fn parse(text: &str) -> PidsFile {
        let mut out = PidsFile::default();
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                ["launcher", pid, ..] => out.launcher = pid.parse().ok(),
                [node, pid, rest @ ..] if node.starts_with("node") => {
                    if let (Ok(i), Ok(pid)) = (node[4..].parse(), pid.parse()) {
                        let st = rest.first().and_then(|s| s.parse().ok()).unwrap_or(0);
                        out.nodes.push((i, pid, st));
                    }
                }
                _ => {}
            }
        }
        out
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        if let Some(l) = self.launcher {
            let _ = writeln!(s, "launcher {l}");
        }
        for (i, pid, st) in &self.nodes {
            let _ = writeln!(s, "node{i} {pid} {st}");
        }
        s
    }
}

/// A multi-validator network on loopback.
///
/// Dropping a `Localnet` stops the nodes it started (SIGTERM, then SIGKILL).
#[derive(Debug)]
pub struct Localnet {
    opts: LocalnetOptions,
    manifest: Option<Manifest>,
    procs: Vec<Option<NodeProc>>,
    rpc: Rpc,
    cancel: Option<Arc<AtomicBool>>,
    launcher_pid: Option<i32>,
    feed_server: Option<feeds::FeedServer>,
}

impl Localnet {
    /// A localnet with these options; nothing is created or started yet.
    pub fn new(mut opts: LocalnetOptions) -> Result<Localnet> {
        if opts.validators == 0 {
            bail!("a localnet needs at least one validator");
        }
        for i in 0..opts.validators {
            Ports::for_node(i, opts.port_offset)?;
        }
        opts.root = absolute(&opts.root)?;
        let procs = (0..opts.validators).map(|_| None).collect();
        Ok(Localnet {
            opts,
            manifest: None,
            procs,
            rpc: Rpc::new(),
            cancel: None,
            feed_server: None,
            launcher_pid: None,
        })
    }

    /// Opens the network already created under `opts.root`, adopting its
    /// validator count, chain id, port offset and timeout_commit.
    pub fn open(opts: LocalnetOptions) -> Result<Localnet> {
        let mut net = Localnet::new(opts)?;
        let manifest = Self::read_manifest(&net.opts.root)?.ok_or_else(|| {
            anyhow!(
                "no localnet in {} (no localnet.json)",
                net.opts.root.display()
            )
        })?;
        net.opts.validators = manifest.validators;
        net.opts.chain_id = manifest.chain_id.clone();
        net.opts.port_offset = manifest.port_offset;
        net.opts.timeout_commit = manifest.timeout_commit.clone();
        net.procs = (0..manifest.validators).map(|_| None).collect();
        net.manifest = Some(manifest);
        Ok(net)
    }

    /// The manifest under `root`, if a network was created there.
    pub fn read_manifest(root: &Path) -> Result<Option<Manifest>> {
        let path = root.join("localnet.json");
        match fs::read_to_string(&path) {
            Ok(text) => {
                Ok(Some(serde_json::from_str(&text).with_context(|| {
                    format!("cannot parse {}", path.display())
                })?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn options(&self) -> &LocalnetOptions {
        &self.opts
    }

    pub fn root(&self) -> &Path {
        &self.opts.root
    }

    pub fn chain_id(&self) -> &str {
        &self.opts.chain_id
    }

    pub fn validators(&self) -> usize {
        self.opts.validators
    }

    /// What `create()` made (or `open()` found).
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// Demo account `name` (e.g. `alice`).
    pub fn account(&self, name: &str) -> Result<&Account> {
        self.manifest
            .as_ref()
            .and_then(|m| m.account(name))
            .ok_or_else(|| anyhow!("no demo account {name:?} in this localnet"))
    }

    /// Aborts the bounded waits (with an error) once `flag` is set, e.g. by
    /// a Ctrl-C handler.
    pub fn set_cancel_flag(&mut self, flag: Arc<AtomicBool>) {
        self.cancel = Some(flag);
    }

    /// Records `pid` as the launcher in the pids file, so that
    /// `surety-localnet stop` from another shell asks it to stop the nodes.
    pub fn set_launcher_pid(&mut self, pid: Option<u32>) {
        self.launcher_pid = pid.map(|p| p as i32);
    }

    /// A runner for the `suretyd` CLI with this network's binaries.
    pub fn suretyd(&self) -> Suretyd {
        Suretyd {
            bin: self.opts.suretyd.clone(),
            cometbft: self.opts.cometbft.clone(),
            timeout: self.opts.cmd_timeout,
        }
    }

    pub fn rpc(&self) -> &Rpc {
        &self.rpc
    }

    pub fn node_home(&self, i: usize) -> PathBuf {
        self.opts.root.join(format!("node{i}"))
    }

    pub fn log_path(&self, i: usize) -> PathBuf {
        self.node_home(i).join("node.log")
    }

    pub fn pids_path(&self) -> PathBuf {
        self.opts.root.join("pids")
    }

    pub fn ports(&self, i: usize) -> Ports {
        Ports::for_node(i, self.opts.port_offset).expect("ports validated in Localnet::new")
    }

    pub fn endpoints(&self, i: usize) -> Endpoints {
        Endpoints::from_ports(&self.ports(i))
    }

    /// CometBFT RPC URL of validator `i`.
    /// Funds the demo pools from the last demo account, once: a pool that already has capital is
    /// left alone.
    pub fn seed_market(&self) -> Result<()> {
        let Some(m) = self.manifest() else {
            return Ok(());
        };
        let Some(funder) = m.accounts.last() else {
            return Ok(());
        };
        let home = m.nodes[0].home.to_str().unwrap_or_default().to_owned();
        let rpc = self.rpc_url(0);
        let sd = self.suretyd();
        for (pool, amount) in SEED_CAPITAL {
            let id = pool.to_string();
            let view = sd.run_json(&[
                "query", "pool", "pool", &id, "--node", &rpc, "--output", "json",
            ])?;
            if view["total_shares"].as_str().unwrap_or("0") != "0" {
                continue;
            }
            self.say(format!(
                "seeding pool {pool} with {amount} from {}",
                funder.name
            ));
            sd.run_ok(&[
                "tx",
                "pool",
                "deposit",
                &id,
                amount,
                "--from",
                &funder.name,
                "--home",
                &home,
                "--keyring-backend",
                "test",
                "--node",
                &rpc,
                "--chain-id",
                &m.chain_id,
                "--gas",
                "400000",
                "--fees",
                "1000usure",
                "--output",
                "json",
            ])?;
        }
        Ok(())
    }

    /// The simulated oracle feed's port: 26690 plus the port offset.
    pub fn feed_port(&self) -> u16 {
        26690 + self.opts.port_offset
    }

    /// Moves a feed's price for every validator, or only for `validator`.
    pub fn set_price(&self, validator: Option<usize>, feed: &str, price: &str) -> Result<()> {
        feeds::set_price(
            &self.opts.root,
            self.opts.validators,
            validator,
            feed,
            price,
        )
    }

    /// Makes every validator (or one) attest an incident in its vote extensions.
    pub fn attest(&self, validator: Option<usize>, incident: u64, confirm: bool) -> Result<()> {
        feeds::attest(
            &self.opts.root,
            self.opts.validators,
            validator,
            incident,
            confirm,
        )
    }

    pub fn rpc_url(&self, i: usize) -> String {
        self.endpoints(i).rpc
    }

    /// The last `n` lines of validator `i`'s node.log.
    pub fn log_tail(&self, i: usize, n: usize) -> String {
        cli::tail_file(&self.log_path(i), n)
    }

    fn say(&self, msg: impl AsRef<str>) {
        if self.opts.verbose {
            eprintln!("[localnet] {}", msg.as_ref());
        }
    }

    fn check_cancel(&self) -> Result<()> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
        {
            bail!("interrupted");
        }
        Ok(())
    }

    fn check_binaries(&self) -> Result<()> {
        for (what, p, hint) in [
            (
                "suretyd",
                &self.opts.suretyd,
                "build it with `cargo build -p suretyd` or set $SURETYD",
            ),
            (
                "cometbft",
                &self.opts.cometbft,
                "install it with scripts/install-prereqs.sh or set $SURETY_COMETBFT",
            ),
        ] {
            let found = if p.components().count() > 1 {
                cli::is_executable(p)
            } else {
                cli::which(p).is_some()
            };
            if !found {
                bail!("{what} binary not found at {}: {hint}", p.display());
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------
    // create
    // ------------------------------------------------------------------

    /// Creates the network from scratch under the root (deleting a previous
    /// localnet there, which must not be running): the standard Cosmos
    /// multi-validator genesis recipe, run through the `suretyd` CLI.
    pub fn create(&mut self) -> Result<&Manifest> {
        self.check_binaries()?;
        if let Some(running) = self.running_elsewhere() {
            bail!(
                "a localnet is running in {} ({running}); stop it first (`surety-localnet stop`)",
                self.opts.root.display()
            );
        }
        remove_localnet_dir(&self.opts.root)?;
        fs::create_dir_all(&self.opts.root)
            .with_context(|| format!("cannot create {}", self.opts.root.display()))?;
        self.opts.root = absolute(&self.opts.root)?;
        let n = self.opts.validators;
        let chain_id = self.opts.chain_id.clone();
        let sd = self.suretyd();
        self.say(format!(
            "creating {n} validators in {} (chain id {chain_id}, port offset {})",
            self.opts.root.display(),
            self.opts.port_offset
        ));

        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            self.check_cancel()?;
            let home = self.node_home(i);
            let h = home
                .to_str()
                .ok_or_else(|| anyhow!("non-UTF-8 path {}", home.display()))?;
            let moniker = format!("validator-{i}");
            let ve_height = if self.opts.vote_extensions { "1" } else { "0" };
            sd.run_ok(&[
                "init",
                &moniker,
                "--chain-id",
                &chain_id,
                "--home",
                h,
                "--vote-extensions-height",
                ve_height,
            ])?;
            self.configure_node(i)?;
            let key = sd.run_json(&[
                "keys",
                "add",
                VALIDATOR_KEY,
                "--keyring-backend",
                "test",
                "--home",
                h,
                "--output",
                "json",
            ])?;
            let (address, mnemonic) = key_fields(&key)?;
            let valoper = sd
                .run_ok(&[
                    "keys",
                    "show",
                    VALIDATOR_KEY,
                    "-a",
                    "--bech",
                    "val",
                    "--keyring-backend",
                    "test",
                    "--home",
                    h,
                ])
                .map(|o| o.stdout.trim().to_owned())
                .map_err(|e| self.say(format!("note: `keys show --bech val` failed: {e:#}")))
                .ok()
                .filter(|s| !s.is_empty());
            let comet_home = home.join("cometbft");
            let node_id = cli::run_ok(
                Command::new(&self.opts.cometbft)
                    .arg("show-node-id")
                    .arg("--home")
                    .arg(&comet_home),
                None,
                self.opts.cmd_timeout,
            )?
            .stdout
            .trim()
            .to_owned();
            if node_id.len() != 40 || !node_id.chars().all(|c| c.is_ascii_hexdigit()) {
                bail!(
                    "unexpected node id {node_id:?} from `cometbft show-node-id --home {}`",
                    comet_home.display()
                );
            }
            self.say(format!("validator {i}: {address} node {node_id}"));
            nodes.push(NodeInfo {
                index: i,
                moniker,
                home,
                node_id,
                address,
                valoper,
                mnemonic,
                ports: self.ports(i),
            });
        }

        // Everyone dials everyone else.
        for i in 0..n {
            let peers: Vec<String> = nodes
                .iter()
                .filter(|o| o.index != i)
                .map(|o| format!("{}@127.0.0.1:{}", o.node_id, o.ports.p2p))
                .collect();
            self.config_set(i, "cometbft", "p2p.persistent_peers", &peers.join(","))?;
        }

        // Genesis accounts: all validators in node 0's genesis; each validator
        // also in its own home's genesis, which its gentx is checked against.
        let home0 = self.node_home(0);
        let h0 = home0.to_str().expect("utf-8 checked above").to_owned();
        for node in &nodes {
            sd.run_ok(&[
                "genesis",
                "add-account",
                &node.address,
                VALIDATOR_COINS,
                "--home",
                &h0,
            ])?;
            if node.index != 0 {
                let h = node.home.to_str().expect("utf-8 checked above");
                sd.run_ok(&[
                    "genesis",
                    "add-account",
                    &node.address,
                    VALIDATOR_COINS,
                    "--home",
                    h,
                ])?;
            }
        }

        // Demo accounts, keys in node 0's keyring.
        let mut accounts = Vec::new();
        for name in self.opts.demo_accounts.clone() {
            self.check_cancel()?;
            let key = sd.run_json(&[
                "keys",
                "add",
                &name,
                "--keyring-backend",
                "test",
                "--home",
                &h0,
                "--output",
                "json",
            ])?;
            let (address, mnemonic) = key_fields(&key)?;
            sd.run_ok(&[
                "genesis",
                "add-account",
                &address,
                DEMO_COINS,
                "--home",
                &h0,
            ])?;
            self.say(format!("account {name}: {address}"));
            accounts.push(Account {
                name,
                address,
                mnemonic,
                coins: DEMO_COINS.to_owned(),
                home: home0.clone(),
            });
        }

        // The IBC relayer's account (Hermes's key, `ibc::RELAYER_MNEMONIC`), so `--ibc` and the
        // cross-chain tests can relay without a funding step.
        sd.run_ok(&[
            "genesis",
            "add-account",
            ibc::RELAYER_SURETY_ADDRESS,
            DEMO_COINS,
            "--home",
            &h0,
        ])?;

        // The demo market: pools, products, oracle feeds and short claim periods; and the
        // simulated feed every validator reads its prices from.
        sd.run_ok(&["genesis", "demo-market", "--home", &h0])?;
        set_genesis_params(&home0, &self.opts.genesis_params)?;
        feeds::init(&self.opts.root, n)?;

        // gentx in every home; gather them in node 0.
        let gentx0 = home0.join("config/gentx");
        for node in &nodes {
            self.check_cancel()?;
            let h = node.home.to_str().expect("utf-8 checked above");
            sd.run_ok(&[
                "genesis",
                "gentx",
                VALIDATOR_KEY,
                VALIDATOR_BOND,
                "--chain-id",
                &chain_id,
                "--home",
                h,
                "--keyring-backend",
                "test",
            ])?;
            let dir = node.home.join("config/gentx");
            let files: Vec<PathBuf> = fs::read_dir(&dir)
                .with_context(|| format!("gentx wrote no {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            if files.is_empty() {
                bail!("no gentx file in {} after `genesis gentx`", dir.display());
            }
            if node.index != 0 {
                fs::create_dir_all(&gentx0)?;
                for f in files {
                    let name = f.file_name().expect("file name");
                    let mut dest = gentx0.join(name);
                    if dest.exists() {
                        dest = gentx0.join(format!("gentx-node{}.json", node.index));
                    }
                    fs::copy(&f, &dest).with_context(|| format!("cannot copy {}", f.display()))?;
                }
            }
        }
        let collected = fs::read_dir(&gentx0).map(|d| d.count()).unwrap_or(0);
        if collected != n {
            bail!(
                "expected {n} gentx files in {}, found {collected}",
                gentx0.display()
            );
        }
        sd.run_ok(&["genesis", "collect-gentxs", "--home", &h0])?;
        sd.run_ok(&["genesis", "validate", "--home", &h0])?;

        let genesis0 = home0.join("cometbft/config/genesis.json");
        for node in nodes.iter().skip(1) {
            let dest = node.home.join("cometbft/config/genesis.json");
            fs::copy(&genesis0, &dest)
                .with_context(|| format!("cannot copy genesis to {}", dest.display()))?;
        }

        let manifest = Manifest {
            chain_id,
            validators: n,
            port_offset: self.opts.port_offset,
            timeout_commit: self.opts.timeout_commit.clone(),
            created_unix: unix_now(),
            nodes,
            accounts,
        };
        let path = self.opts.root.join("localnet.json");
        fs::write(&path, serde_json::to_string_pretty(&manifest)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.say("created");
        Ok(self.manifest.insert(manifest))
    }

    fn config_set(&self, i: usize, file: &str, key: &str, value: &str) -> Result<()> {
        let home = self.node_home(i);
        let h = home
            .to_str()
            .ok_or_else(|| anyhow!("non-UTF-8 path {}", home.display()))?;
        self.suretyd()
            .run_ok(&["config", "set", file, key, value, "--home", h])
            .map(|_| ())
    }

    fn configure_node(&self, i: usize) -> Result<()> {
        let p = self.ports(i);
        let settings: Vec<(&str, &str, String)> = vec![
            (
                "cometbft",
                "p2p.laddr",
                format!("tcp://127.0.0.1:{}", p.p2p),
            ),
            (
                "cometbft",
                "rpc.laddr",
                format!("tcp://127.0.0.1:{}", p.rpc),
            ),
            (
                "cometbft",
                "proxy_app",
                format!("tcp://127.0.0.1:{}", p.abci),
            ),
            ("cometbft", "p2p.allow_duplicate_ip", "true".into()),
            ("cometbft", "p2p.addr_book_strict", "false".into()),
            (
                "cometbft",
                "consensus.timeout_commit",
                self.opts.timeout_commit.clone(),
            ),
            ("cometbft", "instrumentation.prometheus", "true".into()),
            (
                "cometbft",
                "instrumentation.prometheus_listen_addr",
                format!("127.0.0.1:{}", p.prometheus),
            ),
            ("cometbft", "rpc.pprof_laddr", String::new()),
            ("app", "abci_address", format!("127.0.0.1:{}", p.abci)),
            ("app", "grpc_address", format!("127.0.0.1:{}", p.grpc)),
            ("app", "rest_address", format!("127.0.0.1:{}", p.rest)),
            ("app", "metrics_address", format!("127.0.0.1:{}", p.metrics)),
            ("app", "minimum_gas_prices", MIN_GAS_PRICES.into()),
            (
                "app",
                "oracle_source",
                format!("http://127.0.0.1:{}/node{i}", self.feed_port()),
            ),
            ("client", "node", format!("http://127.0.0.1:{}", p.rpc)),
            ("client", "chain_id", self.opts.chain_id.clone()),
            ("client", "keyring_backend", "test".into()),
        ];
        for (file, key, value) in settings {
            self.config_set(i, file, key, &value)?;
        }
        Ok(())
    }

    // ------------------------------------------------------------------
    // processes
    // ------------------------------------------------------------------

    /// Node processes found running in this root that this `Localnet` did
    /// not start, described for a message.
    fn running_elsewhere(&self) -> Option<String> {
        let mut found = Vec::new();
        for i in 0..self.node_dirs_count() {
            for p in procs::node_processes(&self.node_home(i)) {
                if !self.procs.iter().flatten().any(|own| own.pid == p.pid) {
                    found.push(format!("node{i}: {} pid {}", p.program(), p.pid));
                }
            }
        }
        (!found.is_empty()).then(|| found.join(", "))
    }

    /// How many `node<i>` homes to consider: the configured count, or more
    /// if the root holds more.
    fn node_dirs_count(&self) -> usize {
        let mut n = self.opts.validators;
        while self.node_home(n).is_dir() {
            n += 1;
        }
        n
    }

    /// Starts every validator as `suretyd start --home <root>/node<i>` in its
    /// own process group, output appended to `<root>/node<i>/node.log`.
    pub fn start(&mut self) -> Result<()> {
        if self.manifest.is_none() {
            self.manifest = Self::read_manifest(&self.opts.root)?;
        }
        let Some(m) = &self.manifest else {
            bail!(
                "no localnet created in {}; call create() first",
                self.opts.root.display()
            );
        };
        if m.validators != self.opts.validators {
            bail!(
                "{} holds {} validators, options say {}",
                self.opts.root.display(),
                m.validators,
                self.opts.validators
            );
        }
        self.check_binaries()?;
        if let Some(running) = self.running_elsewhere() {
            bail!(
                "a localnet is already running in {} ({running}); stop it first",
                self.opts.root.display()
            );
        }
        let mut busy = Vec::new();
        for i in 0..self.opts.validators {
            busy.extend(self.busy_ports(i));
        }
        if !busy.is_empty() {
            bail!(
                "ports already in use: {} — is another localnet (or a test run) using them? Choose another port offset",
                busy.join(", ")
            );
        }
        if self.feed_server.is_none() {
            if !feeds::feed_file(&self.opts.root, 0).exists() {
                feeds::init(&self.opts.root, self.opts.validators)?;
            }
            self.feed_server = Some(feeds::FeedServer::start(&self.opts.root, self.feed_port())?);
        }
        if let Some(dist) = self.opts.web.clone() {
            self.install_web(&dist)?;
        }
        for i in 0..self.opts.validators {
            if let Err(e) = self.start_node(i) {
                let _ = self.stop();
                return Err(e);
            }
        }
        self.write_pids()?;
        self.say(format!("started {} validators", self.opts.validators));
        Ok(())
    }

    /// Where nodes serve the web app from, when [`LocalnetOptions::web`] is set.
    pub fn web_dir(&self) -> PathBuf {
        self.opts.root.join("web")
    }

    /// Copies the built web app beside the nodes with this network's `localnet.json`, and
    /// points every node's REST gateway at it.
    fn install_web(&self, dist: &Path) -> Result<()> {
        ensure!(
            dist.join("index.html").is_file(),
            "{} holds no built web app (index.html); build it with `npm run build` in web/",
            dist.display()
        );
        let web = self.web_dir();
        if web.exists() {
            fs::remove_dir_all(&web).with_context(|| format!("removing {}", web.display()))?;
        }
        copy_dir(dist, &web)?;
        let m = self
            .manifest
            .as_ref()
            .ok_or_else(|| anyhow!("no manifest: create() first"))?;
        let e = self.endpoints(0);
        let info = serde_json::json!({
            "chain_id": m.chain_id,
            "rpc": e.rpc,
            "rest": e.rest,
            "accounts": m.accounts.iter().map(|a| serde_json::json!({
                "name": a.name,
                "address": a.address,
                "mnemonic": a.mnemonic,
            })).collect::<Vec<_>>(),
        });
        fs::write(
            web.join("localnet.json"),
            serde_json::to_string_pretty(&info)?,
        )?;
        let dir = web
            .to_str()
            .ok_or_else(|| anyhow!("non-UTF-8 path {}", web.display()))?;
        for i in 0..self.opts.validators {
            self.config_set(i, "app", "web_dir", dir)?;
        }
        Ok(())
    }

    /// Ports of validator `i` that cannot be bound now, described.
    fn busy_ports(&self, i: usize) -> Vec<String> {
        busy_ports(i, self.opts.port_offset)
    }

    fn start_node(&mut self, i: usize) -> Result<()> {
        if self.procs[i].is_some() {
            bail!("validator {i} is already running");
        }
        let home = self.node_home(i);
        let log_path = self.log_path(i);
        let mut log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let banner = format!(
            "\n===== surety-localnet: starting validator {i} at unix time {} =====\n",
            unix_now()
        );
        log.write_all(banner.as_bytes())?;
        let mut cmd = self.suretyd().command(["start", "--home"]);
        cmd.arg(&home)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // Plain text in node.log (tracing-subscriber honours NO_COLOR).
        cmd.env("NO_COLOR", "1");
        if let Some(filter) = &self.opts.log_filter {
            cmd.env("RUST_LOG", filter);
        }
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", cli::describe(&cmd)))?;
        let pid = child.id() as i32;
        let start_time = procs::proc_info(pid).map(|p| p.start_time).unwrap_or(0);
        self.say(format!(
            "validator {i}: suretyd pid {pid}, log {}",
            log_path.display()
        ));
        self.procs[i] = Some(NodeProc {
            child,
            pid,
            start_time,
        });
        Ok(())
    }

    fn write_pids(&self) -> Result<()> {
        let pids = PidsFile {
            launcher: self.launcher_pid,
            nodes: self
                .procs
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.as_ref().map(|p| (i, p.pid, p.start_time)))
                .collect(),
        };
        let path = self.pids_path();
        if pids.launcher.is_none() && pids.nodes.is_empty() {
            let _ = fs::remove_file(&path);
            return Ok(());
        }
        fs::write(&path, pids.render()).with_context(|| format!("cannot write {}", path.display()))
    }

    /// The pids file, if present.
    pub fn read_pids(&self) -> PidsFile {
        fs::read_to_string(self.pids_path())
            .map(|t| PidsFile::parse(&t))
            .unwrap_or_default()
    }

    /// The launcher recorded in the pids file, if it is alive and really a
    /// `surety-localnet` process other than this one.
    pub fn live_launcher(&self) -> Option<i32> {
        let pid = self.read_pids().launcher?;
        let me = std::process::id() as i32;
        let p = procs::proc_info(pid)?;
        (pid != me && p.is_live() && p.program().contains("surety-localnet")).then_some(pid)
    }

    /// Whether validator `i` is running: its process if this `Localnet`
    /// started it, else any `suretyd`/`cometbft` process using its home.
    pub fn is_running(&mut self, i: usize) -> bool {
        if let Some(p) = self.procs[i].as_mut() {
            return matches!(p.child.try_wait(), Ok(None));
        }
        !procs::node_processes(&self.node_home(i)).is_empty()
    }

    /// Pids of validator `i`'s live processes (`suretyd` and `cometbft`).
    pub fn node_pids(&self, i: usize) -> Vec<(String, i32)> {
        procs::node_processes(&self.node_home(i))
            .into_iter()
            .map(|p| (p.program().to_owned(), p.pid))
            .collect()
    }

    /// Fails, with the tail of its log, if validator `i` was started by us
    /// and has exited.
    fn check_alive(&mut self, i: usize) -> Result<()> {
        let exited = match self.procs[i].as_mut() {
            Some(p) => p.child.try_wait()?.map(|st| (p.pid, st)),
            None => None,
        };
        if let Some((pid, st)) = exited {
            self.procs[i] = None;
            let _ = self.write_pids();
            bail!(
                "validator {i} (suretyd pid {pid}) exited: {st}\n--- tail of {} ---\n{}",
                self.log_path(i).display(),
                self.log_tail(i, 40)
            );
        }
        Ok(())
    }

    /// Validators this `Localnet` started and that have not been stopped or
    /// killed.
    pub fn running_nodes(&self) -> Vec<usize> {
        (0..self.procs.len())
            .filter(|i| self.procs[*i].is_some())
            .collect()
    }

    /// Stops every node of the network — ours and any found in the pids file
    /// or by their home paths: SIGTERM to `suretyd` (which stops its
    /// `cometbft`), then SIGKILL to whatever is left after `stop_timeout`.
    pub fn stop(&mut self) -> Result<()> {
        let all: Vec<usize> = (0..self.node_dirs_count().max(self.procs.len())).collect();
        let res = self.stop_nodes(&all);
        self.feed_server = None;
        let _ = self.write_pids();
        if self.read_pids().nodes.is_empty() && self.launcher_pid.is_none() {
            let _ = fs::remove_file(self.pids_path());
        }
        res
    }

    /// Gracefully stops validator `i` (SIGTERM, then SIGKILL after `stop_timeout`).
    pub fn stop_node(&mut self, i: usize) -> Result<()> {
        let r = self.stop_nodes(&[i]);
        let _ = self.write_pids();
        r
    }

    fn stop_nodes(&mut self, nodes: &[usize]) -> Result<()> {
        let from_file = self.read_pids();
        // 1. SIGTERM to every suretyd of these nodes; to orphaned cometbfts too.
        for &i in nodes {
            let home = self.node_home(i);
            if let Some(Some(p)) = self.procs.get(i) {
                procs::signal(p.pid, libc::SIGTERM);
            }
            for (n, pid, st) in &from_file.nodes {
                if *n == i && (*st == 0 || procs::is_same_alive(*pid, *st)) {
                    if let Some(info) = procs::proc_info(*pid).filter(|p| p.is_live()) {
                        if info.program().contains("suretyd") {
                            procs::signal(*pid, libc::SIGTERM);
                        }
                    }
                }
            }
            let found = procs::node_processes(&home);
            for p in &found {
                let parent_is_suretyd = found.iter().any(|q| q.pid == p.ppid);
                if p.program().contains("suretyd") || !parent_is_suretyd {
                    procs::signal(p.pid, libc::SIGTERM);
                }
            }
        }
        // 2. Wait for them to go.
        let timeout = self.opts.stop_timeout;
        let gone = |net: &mut Localnet| {
            nodes.iter().all(|&i| {
                let own_done = match net.procs.get_mut(i).and_then(|p| p.as_mut()) {
                    Some(p) => !matches!(p.child.try_wait(), Ok(None)),
                    None => true,
                };
                own_done && procs::node_processes(&net.node_home(i)).is_empty()
            })
        };
        let mut clean = procs::wait_until(timeout, || gone(self));
        // 3. SIGKILL the rest.
        let mut forced = Vec::new();
        if !clean {
            for &i in nodes {
                let mut killed = false;
                if let Some(Some(p)) = self.procs.get(i) {
                    if procs::is_alive(p.pid) {
                        procs::signal_group(p.pid, libc::SIGKILL);
                        procs::signal(p.pid, libc::SIGKILL);
                        killed = true;
                    }
                }
                for p in procs::node_processes(&self.node_home(i)) {
                    procs::signal(p.pid, libc::SIGKILL);
                    killed = true;
                }
                if killed {
                    forced.push(i);
                }
            }
            clean = procs::wait_until(Duration::from_secs(10), || gone(self));
        }
        for &i in nodes {
            if let Some(mut p) = self.procs.get_mut(i).and_then(|p| p.take()) {
                if matches!(p.child.try_wait(), Ok(None)) {
                    let _ = p.child.kill();
                }
                let _ = p.child.wait();
            }
        }
        if !forced.is_empty() {
            self.say(format!(
                "validators {forced:?} did not exit within {timeout:?} of SIGTERM; sent SIGKILL"
            ));
        }
        if !clean {
            let left: Vec<String> = nodes
                .iter()
                .flat_map(|&i| {
                    self.node_pids(i)
                        .into_iter()
                        .map(move |(p, pid)| format!("node{i} {p} {pid}"))
                })
                .collect();
            bail!("processes still alive after SIGKILL: {}", left.join(", "));
        }
        Ok(())
    }

    /// SIGKILLs validator `i`'s `suretyd` and its `cometbft` child (its
    /// whole process group, plus any descendant that left the group).
    pub fn kill_node(&mut self, i: usize) -> Result<()> {
        let mut p = self.procs[i].take().ok_or_else(|| {
            anyhow!("validator {i} was not started by this localnet (or already stopped)")
        })?;
        let desc = procs::descendants(p.pid);
        procs::signal_group(p.pid, libc::SIGKILL);
        procs::signal(p.pid, libc::SIGKILL);
        for d in &desc {
            if procs::is_same_alive(d.pid, d.start_time) {
                procs::signal(d.pid, libc::SIGKILL);
            }
        }
        let _ = p.child.wait();
        let home = self.node_home(i);
        for q in procs::node_processes(&home) {
            procs::signal(q.pid, libc::SIGKILL);
        }
        let dead = procs::wait_until(Duration::from_secs(10), || {
            procs::node_processes(&home).is_empty()
                && desc
                    .iter()
                    .all(|d| !procs::is_same_alive(d.pid, d.start_time))
        });
        self.write_pids()?;
        self.note_in_log(i, "SIGKILLed suretyd and cometbft (kill_node)");
        if !dead {
            bail!(
                "validator {i}: processes survived SIGKILL: {:?}",
                self.node_pids(i)
            );
        }
        Ok(())
    }

    /// SIGKILLs only validator `i`'s `suretyd` process. Its `cometbft` child
    /// loses the ABCI connection and exits by itself; `restart_node` waits
    /// for that.
    pub fn kill_app_only(&mut self, i: usize) -> Result<()> {
        let mut p = self.procs[i].take().ok_or_else(|| {
            anyhow!("validator {i} was not started by this localnet (or already stopped)")
        })?;
        procs::signal(p.pid, libc::SIGKILL);
        let _ = p.child.wait();
        self.write_pids()?;
        self.note_in_log(i, "SIGKILLed suretyd only (kill_app_only)");
        Ok(())
    }

    /// SIGSTOPs every process of validator `i` (`suretyd` and `cometbft`): it
    /// keeps its sockets but answers nothing until [`Localnet::resume_node`].
    /// Returns the pids it stopped.
    pub fn pause_node(&mut self, i: usize) -> Result<Vec<i32>> {
        self.signal_node(
            i,
            libc::SIGSTOP,
            "SIGSTOPped suretyd and cometbft (pause_node)",
        )
    }

    /// SIGCONTs every process of validator `i` (after [`Localnet::pause_node`]).
    pub fn resume_node(&mut self, i: usize) -> Result<Vec<i32>> {
        self.signal_node(
            i,
            libc::SIGCONT,
            "SIGCONTed suretyd and cometbft (resume_node)",
        )
    }

    fn signal_node(&mut self, i: usize, sig: i32, what: &str) -> Result<Vec<i32>> {
        let pids: Vec<i32> = self.node_pids(i).into_iter().map(|(_, pid)| pid).collect();
        if pids.is_empty() {
            bail!("validator {i} has no running process to signal");
        }
        for &pid in &pids {
            if !procs::signal(pid, sig) {
                bail!("validator {i}: cannot send signal {sig} to pid {pid}");
            }
        }
        self.note_in_log(i, &format!("{what}: pids {pids:?}"));
        Ok(pids)
    }

    /// Restarts validator `i`: stops it if running, waits (bounded) for any
    /// leftover process of it to exit and its ports to free up, then starts it.
    pub fn restart_node(&mut self, i: usize) -> Result<()> {
        if self.procs[i].is_some() {
            self.stop_node(i)?;
        }
        let home = self.node_home(i);
        if !procs::wait_until(self.opts.stop_timeout, || {
            procs::node_processes(&home).is_empty()
        }) {
            let left = self.node_pids(i);
            self.note_in_log(
                i,
                &format!("leftover processes {left:?} did not exit; SIGKILL"),
            );
            for q in procs::node_processes(&home) {
                procs::signal(q.pid, libc::SIGKILL);
            }
            if !procs::wait_until(Duration::from_secs(10), || {
                procs::node_processes(&home).is_empty()
            }) {
                bail!(
                    "validator {i}: leftover processes survived SIGKILL: {:?}",
                    self.node_pids(i)
                );
            }
        }
        let mut busy = Vec::new();
        if !procs::wait_until(Duration::from_secs(30), || {
            busy = self.busy_ports(i);
            busy.is_empty()
        }) {
            bail!(
                "validator {i}: ports still in use 30 s after it stopped: {}",
                busy.join(", ")
            );
        }
        self.start_node(i)?;
        self.write_pids()
    }

    fn note_in_log(&self, i: usize, what: &str) {
        if let Ok(mut f) = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.log_path(i))
        {
            // One write, so it does not interleave with the node's own output.
            let line = format!(
                "\n===== surety-localnet: {what} at unix time {} =====\n",
                unix_now()
            );
            let _ = f.write_all(line.as_bytes());
        }
        self.say(format!("validator {i}: {what}"));
    }

    /// Forgets the processes this `Localnet` started without stopping them
    /// (they keep running; `stop()` from a later `open()` finds them).
    pub fn detach(&mut self) {
        for p in &mut self.procs {
            *p = None;
        }
    }

    // ------------------------------------------------------------------
    // observing
    // ------------------------------------------------------------------

    /// `/status` of validator `i`.
    pub fn status(&self, i: usize) -> Result<NodeStatus> {
        self.rpc.status(&self.rpc_url(i))
    }

    /// The app hash produced by executing block `height` on validator `i`,
    /// read from the header of block `height + 1` (so the node must have
    /// committed `height + 1`).
    pub fn app_hash_at(&self, i: usize, height: u64) -> Result<String> {
        self.rpc
            .header_app_hash(&self.rpc_url(i), height + 1)
            .with_context(|| format!("app hash after block {height} on validator {i}"))
    }

    /// Waits until every running validator (started by this `Localnet`) has
    /// committed block `height`.
    pub fn wait_for_height(&mut self, height: u64, timeout: Duration) -> Result<()> {
        let nodes = self.running_nodes();
        if nodes.is_empty() {
            bail!("no validator is running");
        }
        self.wait_nodes_height(&nodes, height, timeout)
    }

    /// Waits until validator `i` has committed block `height`.
    pub fn wait_node_height(&mut self, i: usize, height: u64, timeout: Duration) -> Result<()> {
        self.wait_nodes_height(&[i], height, timeout)
    }

    /// Waits until each of `nodes` has committed block `height`; fails early
    /// if one of them exits, and on timeout with every node's last status and
    /// the log tails of those behind.
    pub fn wait_nodes_height(
        &mut self,
        nodes: &[usize],
        height: u64,
        timeout: Duration,
    ) -> Result<()> {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut last: Vec<(usize, Result<NodeStatus, String>)> = Vec::new();
        loop {
            self.check_cancel()?;
            last.clear();
            for &i in nodes {
                self.check_alive(i)?;
                last.push((i, self.status(i).map_err(|e| format!("{e:#}"))));
            }
            if last
                .iter()
                .all(|(_, s)| s.as_ref().is_ok_and(|s| s.height >= height))
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let mut msg = format!("timed out after {timeout:?} waiting for validators {nodes:?} to reach height {height}:");
                for (i, s) in &last {
                    let _ = match s {
                        Ok(s) => write!(
                            msg,
                            "\n  validator {i}: height {} catching_up {}",
                            s.height, s.catching_up
                        ),
                        Err(e) => write!(msg, "\n  validator {i}: {e}"),
                    };
                }
                for (i, s) in &last {
                    if !s.as_ref().is_ok_and(|s| s.height >= height) {
                        let _ = write!(
                            msg,
                            "\n--- tail of {} ---\n{}",
                            self.log_path(*i).display(),
                            self.log_tail(*i, 30)
                        );
                    }
                }
                bail!(msg);
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// Highest and lowest committed heights among `nodes`.
    pub fn heights(&self, nodes: &[usize]) -> Result<Vec<u64>> {
        nodes
            .iter()
            .map(|&i| {
                self.status(i)
                    .map(|s| s.height)
                    .with_context(|| format!("status of validator {i}"))
            })
            .collect()
    }

    /// Checks that `nodes` agree on the app hash after the highest block they
    /// have all executed (and whose successor they have all committed).
    /// Returns that height and hash.
    pub fn check_same_app_hash(&self, nodes: &[usize]) -> Result<(u64, String)> {
        let heights = self.heights(nodes)?;
        let common = heights.iter().copied().min().unwrap_or(0);
        if common < 2 {
            bail!("validators {nodes:?} have not all committed block 2 yet (heights {heights:?})");
        }
        self.check_same_app_hash_at(nodes, common - 1)
    }

    /// Checks that `nodes` agree on the app hash after block `height`.
    pub fn check_same_app_hash_at(&self, nodes: &[usize], height: u64) -> Result<(u64, String)> {
        let hashes: Vec<(usize, String)> = nodes
            .iter()
            .map(|&i| self.app_hash_at(i, height).map(|h| (i, h)))
            .collect::<Result<_>>()?;
        let first = hashes[0].1.clone();
        if hashes.iter().any(|(_, h)| *h != first) {
            let table: Vec<String> = hashes
                .iter()
                .map(|(i, h)| format!("validator {i}: {h}"))
                .collect();
            bail!(
                "app hashes after block {height} differ:\n  {}",
                table.join("\n  ")
            );
        }
        if first.is_empty() {
            bail!("empty app hash after block {height}");
        }
        Ok((height, first))
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        if self.procs.iter().any(|p| p.is_some()) {
            if let Err(e) = self.stop() {
                eprintln!("[localnet] stopping on drop: {e:#}");
            }
        }
    }
}

/// Ports of validator `index` (with `offset`) that cannot be bound on
/// 127.0.0.1 right now, described.
pub fn busy_ports(index: usize, offset: u16) -> Vec<String> {
    let Ok(ports) = Ports::for_node(index, offset) else {
        return vec![format!(
            "validator {index}: ports out of range with offset {offset}"
        )];
    };
    ports
        .named()
        .iter()
        .filter_map(|(what, port)| port_in_use(&format!("validator {index} {what}"), *port))
        .collect()
}

/// Linux's default range of ephemeral ports, used when `/proc` does not say.
const DEFAULT_EPHEMERAL: (u16, u16) = (32768, 60999);

/// The kernel's range of ephemeral ports: the local ports it hands to outgoing connections.
pub fn ephemeral_ports() -> (u16, u16) {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(str::parse::<u16>);
            Some((it.next()?.ok()?, it.next()?.ok()?))
        })
        .unwrap_or(DEFAULT_EPHEMERAL)
}

/// `127.0.0.1:<port> (<what>)` if the port cannot be bound now, else `None`. A port in the
/// ephemeral range can be held by any outgoing connection on the machine, so the message says
/// so: such a clash is chance, not a leftover process, and ports below the range avoid it.
pub fn port_in_use(what: &str, port: u16) -> Option<String> {
    if TcpListener::bind(("127.0.0.1", port)).is_ok() {
        return None;
    }
    let (lo, hi) = ephemeral_ports();
    let why = if (lo..=hi).contains(&port) {
        format!(", inside the ephemeral range {lo}–{hi}, where an outgoing connection may hold it")
    } else {
        String::new()
    };
    Some(format!("127.0.0.1:{port} ({what}{why})"))
}

/// True if every port of `validators` validators with `offset` is free now.
pub fn ports_free(validators: usize, offset: u16) -> bool {
    (0..validators).all(|i| busy_ports(i, offset).is_empty())
}

/// Reads `address` and `mnemonic` from `keys add --output json`.
fn key_fields(key: &Value) -> Result<(String, String)> {
    let address = key["address"]
        .as_str()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| anyhow!("`keys add` output has no address: {key}"))?;
    let mnemonic = key["mnemonic"].as_str().unwrap_or_default();
    Ok((address.to_owned(), mnemonic.to_owned()))
}

/// Sets `(module, params)` fields in the genesis under `home` (see
/// [`LocalnetOptions::genesis_params`]); `genesis validate` checks the result afterwards.
fn set_genesis_params(home: &Path, overrides: &[(String, Value)]) -> Result<()> {
    if overrides.is_empty() {
        return Ok(());
    }
    let path = home.join("cometbft/config/genesis.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut genesis: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for (module, fields) in overrides {
        let fields = fields
            .as_object()
            .ok_or_else(|| anyhow!("genesis params of {module}: {fields} is not an object"))?;
        let section = genesis
            .pointer_mut(&format!("/app_state/{module}"))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| anyhow!("the genesis has no app_state.{module} section"))?;
        let params = section
            .entry("params")
            .or_insert_with(|| Value::Object(Default::default()));
        let params = params
            .as_object_mut()
            .ok_or_else(|| anyhow!("app_state.{module}.params is not an object"))?;
        for (k, v) in fields {
            params.insert(k.clone(), v.clone());
        }
    }
    fs::write(&path, serde_json::to_string_pretty(&genesis)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// Deletes a localnet root — refusing anything that does not look like one.
pub fn remove_localnet_dir(root: &Path) -> Result<()> {
    if !root.exists() {
        return Ok(());
    }
    let looks_like_ours = root.join("localnet.json").exists()
        || root.join("node0").is_dir()
        || fs::read_dir(root)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
    if !looks_like_ours {
        bail!(
            "{} exists and does not look like a localnet (no localnet.json or node0/); not deleting it",
            root.display()
        );
    }
    fs::remove_dir_all(root).with_context(|| format!("cannot delete {}", root.display()))
}

/// Copies the tree at `from` to `to` (which must not exist).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_follow_the_layout() {
        let p = Ports::for_node(0, 0).unwrap();
        assert_eq!(
            (p.p2p, p.rpc, p.abci, p.prometheus, p.grpc, p.metrics),
            (26656, 26657, 26658, 26660, 9090, 9100)
        );
        assert_eq!(p.rest, 1317);
        let p = Ports::for_node(3, 1000).unwrap();
        assert_eq!(
            (p.p2p, p.rpc, p.abci, p.prometheus, p.grpc, p.metrics),
            (27956, 27957, 27958, 27960, 10390, 10400)
        );
        assert_eq!(p.rest, 2617);
        assert!(Ports::for_node(1, 40000).is_err());
    }

    #[test]
    fn pids_file_round_trip() {
        let f = PidsFile {
            launcher: Some(10),
            nodes: vec![(0, 11, 111), (3, 14, 144)],
        };
        assert_eq!(PidsFile::parse(&f.render()), f);
        assert_eq!(PidsFile::parse("garbage\nnode2 7\n").nodes, vec![(2, 7, 0)]);
    }

    #[test]
    fn refuses_to_delete_foreign_dirs() {
        let dir = std::env::temp_dir().join(format!("surety-localnet-unit-{}", std::process::id()));
        fs::create_dir_all(dir.join("precious")).unwrap();
        assert!(remove_localnet_dir(&dir).is_err());
        fs::create_dir_all(dir.join("node0")).unwrap();
        remove_localnet_dir(&dir).unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn genesis_params_replace_only_the_fields_given() {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("cometbft/config");
        fs::create_dir_all(&config).unwrap();
        let genesis = config.join("genesis.json");
        let before = serde_json::json!({"app_state": {"slashing": {"params": {
            "signed_blocks_window": "30", "min_signed_per_window": "0.5"}}}});
        fs::write(&genesis, before.to_string()).unwrap();
        let set = |module: &str, params: Value| {
            set_genesis_params(home.path(), &[(module.to_owned(), params)])
        };
        set(
            "slashing",
            serde_json::json!({"signed_blocks_window": "10000"}),
        )
        .unwrap();
        let after: Value = serde_json::from_str(&fs::read_to_string(&genesis).unwrap()).unwrap();
        assert_eq!(
            after["app_state"]["slashing"]["params"],
            serde_json::json!({"signed_blocks_window": "10000", "min_signed_per_window": "0.5"})
        );
        let err = set("nosuch", serde_json::json!({})).unwrap_err();
        assert!(err.to_string().contains("app_state.nosuch"), "{err:#}");
        assert!(set("slashing", serde_json::json!(7)).is_err());
    }

    #[test]
    fn a_busy_port_is_named_and_an_ephemeral_one_says_so() {
        // Port 0: the kernel picks a free port from its ephemeral range.
        let held = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        let (lo, hi) = ephemeral_ports();
        assert!((lo..=hi).contains(&port), "{port} outside {lo}–{hi}");
        let busy = port_in_use("test", port).expect("a held port is in use");
        assert!(busy.starts_with(&format!(
            "127.0.0.1:{port} (test, inside the ephemeral range"
        )));
        drop(held);
    }

    #[test]
    fn absolute_paths() {
        let p = absolute(Path::new("/definitely/not/here")).unwrap();
        assert_eq!(p, PathBuf::from("/definitely/not/here"));
        assert!(absolute(Path::new("x/y")).unwrap().is_absolute());
    }
}
