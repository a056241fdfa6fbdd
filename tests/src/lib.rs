//! End-to-end test harness: finds (or builds) the real `suretyd` and
//! `cometbft` binaries, creates and runs localnets on ports offset away from
//! a developer's own localnet, drives the `suretyd` CLI and reads its JSON.
//!
//! Environment knobs:
//! - `SURETYD`: use this `suretyd` binary instead of the one in the target dir.
//! - `SURETY_COMETBFT`: the `cometbft` binary (else PATH, `~/go/bin`).
//! - `SURETY_E2E_PORT_OFFSET`: added to every localnet port (default: the
//!   first free one of 2000, 2500, … 5500).
//! - `SURETY_E2E_NO_BUILD=1`: use an existing `suretyd` even if it looks stale.
//! - `SURETY_E2E_KEEP=1`: keep the localnet directory even when the test passes.
//! - `SURETY_E2E_SKIP=1`: skip the end-to-end tests.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

pub use surety_localnet::{
    cli, procs, Account, Localnet, LocalnetOptions, NodeStatus, Suretyd, DEFAULT_FEES,
    STABLE_DENOM, STAKE_DENOM,
};

/// Default bound on every wait in the e2e tests.
pub const WAIT: Duration = Duration::from_secs(120);

/// Prints a progress line with the time since the first call.
pub fn step(msg: impl AsRef<str>) {
    static START: OnceLock<Instant> = OnceLock::new();
    let t = START.get_or_init(Instant::now).elapsed();
    eprintln!("[e2e {:>6.1}s] {}", t.as_secs_f64(), msg.as_ref());
}

/// The workspace root (`/…/main`).
pub fn workspace_root() -> PathBuf {
    // Cargo sets it when it runs the test; the compile-time value can name another checkout
    // that built into the same (shared, cached) target directory.
    let here = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    here.parent().map_or(here.clone(), Path::to_path_buf)
}

/// The cargo profile directory the test executable was built into
/// (`<target>/debug` for `<target>/debug/deps/localnet-<hash>`).
pub fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("current_exe")?;
    let deps = exe
        .parent()
        .ok_or_else(|| anyhow!("test executable has no parent dir"))?;
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().unwrap_or(deps)
    } else {
        deps
    };
    Ok(dir.to_path_buf())
}

/// The `suretyd` to test: `$SURETYD`, else `suretyd` in the test's own
/// target/profile dir — built there with `cargo build --workspace
/// --all-targets` when it is missing or older than its sources (never
/// rebuilt with `SURETY_E2E_NO_BUILD=1` if present).
pub fn suretyd_bin() -> Result<PathBuf> {
    static BIN: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| locate_suretyd().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

fn locate_suretyd() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SURETYD").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !cli::is_executable(&p) {
            bail!("$SURETYD={} is not an executable", p.display());
        }
        return Ok(p);
    }
    let profile = profile_dir()?;
    let bin = profile.join("suretyd");
    let no_build = std::env::var("SURETY_E2E_NO_BUILD").is_ok_and(|v| !v.is_empty() && v != "0");
    if cli::is_executable(&bin) && (no_build || !is_stale(&bin)) {
        return Ok(bin);
    }
    let target = profile
        .parent()
        .ok_or_else(|| anyhow!("no target dir above {}", profile.display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = |args: &[&str]| -> Result<()> {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(workspace_root())
            .arg("build")
            .args(args)
            .env("CARGO_TARGET_DIR", target);
        match profile.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                cmd.arg("--release");
            }
            Some(other) => {
                cmd.args(["--profile", other]);
            }
        }
        step(format!("building suretyd: {}", cli::describe(&cmd)));
        cli::run_ok(&mut cmd, None, Duration::from_secs(60 * 60)).map(drop)
    };
    // The whole workspace with all targets first, as scripts/test builds it:
    // a subset (`-p suretyd`) unifies dependency features differently and
    // rebuilds RocksDB. If some other crate does not compile right now, fall
    // back to building suretyd alone.
    if let Err(e) = build(&["--workspace", "--all-targets"]) {
        step(format!(
            "workspace build failed; building suretyd alone\n{}",
            cli::tail(&format!("{e:#}"), 15)
        ));
        build(&["-p", "suretyd"]).context("building suretyd for the e2e test")?;
    }
    if !cli::is_executable(&bin) {
        bail!(
            "`cargo build` succeeded but {} does not exist",
            bin.display()
        );
    }
    Ok(bin)
}

/// True if a source file of a crate `suretyd` is built from (or the
/// workspace manifest / lock file) is newer than `bin`.
fn is_stale(bin: &Path) -> bool {
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return true;
    };
    let root = workspace_root();
    let mut stack: Vec<PathBuf> = ["node", "app", "modules", "genesis", "proto"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    let mut files = vec![root.join("Cargo.toml"), root.join("Cargo.lock")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            if p.is_dir() {
                if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    stack.push(p);
                }
            } else if [".rs", ".toml", ".proto"].iter().any(|x| name.ends_with(x)) {
                files.push(p);
            }
        }
    }
    files.iter().any(|f| {
        std::fs::metadata(f)
            .and_then(|m| m.modified())
            .is_ok_and(|m| m > built)
    })
}

/// The `cometbft` binary, or an error saying how to install it.
pub fn cometbft_bin() -> Result<PathBuf> {
    let p = surety_localnet::find_cometbft();
    let ok = if p.components().count() > 1 {
        cli::is_executable(&p)
    } else {
        cli::which(&p).is_some()
    };
    if !ok {
        bail!(
            "cometbft not found (PATH, $SURETY_COMETBFT, ~/go/bin): run scripts/install-prereqs.sh \
             (go install github.com/cometbft/cometbft/cmd/cometbft@$(cat COMETBFT_VERSION))"
        );
    }
    Ok(p)
}

/// A port offset held for one test network: tests of one binary run in parallel (and a
/// developer may run two binaries), so "the first free range" must be claimed, not just
/// observed free. The claim is an exclusive lock on a file named after the offset; it ends when
/// the lease is dropped or the process dies.
pub struct PortLease {
    pub offset: u16,
    _lock: Option<std::fs::File>,
}

/// Port offset for a test network of `validators` validators:
/// `$SURETY_E2E_PORT_OFFSET` if set, else the first of 2000, 2500, … 5500
/// that no other test holds and whose ports are all free (so a developer's localnet on the
/// default ports, or another e2e run, does not clash).
pub fn port_offset(validators: usize) -> Result<PortLease> {
    if let Some(v) = std::env::var("SURETY_E2E_PORT_OFFSET")
        .ok()
        .filter(|v| !v.is_empty())
    {
        let offset = v
            .parse()
            .map_err(|_| anyhow!("SURETY_E2E_PORT_OFFSET={v:?} is not a port offset"))?;
        return Ok(PortLease {
            offset,
            _lock: None,
        });
    }
    let dir = std::env::temp_dir().join("surety-e2e-ports");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for offset in (2000..=5500).step_by(500) {
        let path = dir.join(format!("offset-{offset}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        // `flock` locks are per open file, so two tests of this process exclude each other too.
        if file.try_lock().is_ok() && surety_localnet::ports_free(validators, offset) {
            return Ok(PortLease {
                offset,
                _lock: Some(file),
            });
        }
    }
    bail!("no free port range for {validators} validators at offsets 2000..=5500")
}

/// A fresh directory for a test network, under the target dir.
pub fn e2e_root(name: &str) -> Result<PathBuf> {
    let base = profile_dir()?
        .parent()
        .map(|t| t.join("surety-e2e"))
        .unwrap_or_else(|| std::env::temp_dir().join("surety-e2e"));
    Ok(base.join(format!("{name}-{}", std::process::id())))
}

/// `suretyd tx … --output json` result.
#[derive(Debug, Clone)]
pub struct TxResult {
    pub txhash: String,
    pub code: u32,
    pub height: u64,
    pub raw_log: String,
    pub gas_used: u64,
    pub gas_wanted: u64,
    pub json: Value,
}

impl TxResult {
    pub fn from_json(v: Value) -> Result<TxResult> {
        let txhash = v["txhash"]
            .as_str()
            .ok_or_else(|| anyhow!("tx output without txhash: {v}"))?
            .to_owned();
        Ok(TxResult {
            txhash,
            code: cli::json_u64(&v["code"]).unwrap_or(0) as u32,
            height: cli::json_u64(&v["height"]).unwrap_or(0),
            raw_log: v["raw_log"].as_str().unwrap_or_default().to_owned(),
            gas_used: cli::json_u64(&v["gas_used"]).unwrap_or(0),
            gas_wanted: cli::json_u64(&v["gas_wanted"]).unwrap_or(0),
            json: v,
        })
    }
}

/// CLI operations against a running localnet (cheap to clone, `Send`, so a
/// thread can send transactions while the test kills nodes).
#[derive(Debug, Clone)]
pub struct Client {
    pub suretyd: Suretyd,
    pub chain_id: String,
    /// The home whose `test` keyring holds the demo keys (node 0's).
    pub keyring_home: PathBuf,
    /// RPC URL of each validator.
    pub rpc: Vec<String>,
}

impl Client {
    pub fn new(net: &Localnet) -> Client {
        Client {
            suretyd: net.suretyd(),
            chain_id: net.chain_id().to_owned(),
            keyring_home: net.node_home(0),
            rpc: (0..net.validators()).map(|i| net.rpc_url(i)).collect(),
        }
    }

    /// `suretyd tx bank send <from-key> <to> <coins>` through validator
    /// `node`; waits for the commit (as the CLI does) and fails on a
    /// non-zero code.
    pub fn bank_send(&self, from: &str, to: &str, coins: &str, node: usize) -> Result<TxResult> {
        let home = self.keyring_home.to_string_lossy().into_owned();
        let args = [
            "tx",
            "bank",
            "send",
            from,
            to,
            coins,
            "--chain-id",
            &self.chain_id,
            "--node",
            &self.rpc[node],
            "--home",
            &home,
            "--keyring-backend",
            "test",
            "--fees",
            DEFAULT_FEES,
            "--gas",
            "200000",
            "--output",
            "json",
        ];
        let v = self
            .suretyd
            .run_json(&args)
            .with_context(|| format!("sending {coins} from {from} to {to} via validator {node}"))?;
        let tx = TxResult::from_json(v)?;
        if tx.code != 0 {
            bail!(
                "tx {} failed with code {}: {}",
                tx.txhash,
                tx.code,
                tx.raw_log
            );
        }
        Ok(tx)
    }

    /// Any `suretyd tx …` signed by `from` through validator 0, waiting for the commit; fails
    /// on a non-zero code.
    pub fn tx(&self, args: &[&str], from: &str) -> Result<TxResult> {
        self.tx_in(args, from, &self.keyring_home.clone())
    }

    /// [`Client::tx`] with the key from another home's keyring (a validator's operator key).
    pub fn tx_in(&self, args: &[&str], from: &str, keyring_home: &Path) -> Result<TxResult> {
        let home = keyring_home.to_string_lossy().into_owned();
        let mut all: Vec<&str> = args.to_vec();
        all.extend([
            "--from",
            from,
            "--chain-id",
            &self.chain_id,
            "--node",
            &self.rpc[0],
            "--home",
            &home,
            "--keyring-backend",
            "test",
            "--gas",
            "auto",
            "--gas-prices",
            "0.0025usure",
            "--output",
            "json",
        ]);
        let v = self
            .suretyd
            .run_json(&all)
            .with_context(|| format!("suretyd {}", args.join(" ")))?;
        let tx = TxResult::from_json(v)?;
        if tx.code != 0 {
            bail!(
                "tx {} failed with code {}: {}",
                tx.txhash,
                tx.code,
                tx.raw_log
            );
        }
        Ok(tx)
    }

    /// Any `suretyd query …` against validator 0, as JSON.
    pub fn query(&self, args: &[&str]) -> Result<Value> {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--node", &self.rpc[0], "--output", "json"]);
        self.suretyd
            .run_json(&all)
            .with_context(|| format!("suretyd {}", args.join(" ")))
    }

    /// Balance of `denom` for `address` as validator `node` sees it.
    pub fn balance(&self, address: &str, denom: &str, node: usize) -> Result<u128> {
        let v = self
            .suretyd
            .run_json(&[
                "query",
                "bank",
                "balances",
                address,
                "--node",
                &self.rpc[node],
                "--output",
                "json",
            ])
            .with_context(|| format!("querying balances of {address} via validator {node}"))?;
        let list = v["balances"]
            .as_array()
            .ok_or_else(|| anyhow!("balances output without a `balances` list: {v}"))?;
        for c in list {
            if c["denom"] == denom {
                return cli::json_u128(&c["amount"]).ok_or_else(|| anyhow!("bad amount in {c}"));
            }
        }
        Ok(0)
    }
}

/// A localnet for one test: stopped when dropped (even on panic), its
/// directory deleted on success and kept — with log tails printed — on
/// failure.
pub struct TestNet {
    net: Localnet,
    pub client: Client,
    /// Dropped after the nodes stop (fields drop after `Drop::drop`), so no other test starts
    /// on these ports while they are still bound.
    _ports: PortLease,
}

impl TestNet {
    /// Creates and starts `validators` validators under a fresh directory
    /// named after `name`, on offset ports, and waits for block 2.
    pub fn create_and_start(name: &str, validators: usize) -> Result<TestNet> {
        TestNet::create_and_start_chain(name, validators, surety_localnet::DEFAULT_CHAIN_ID)
    }

    /// As [`TestNet::create_and_start`], with the chain id given (IBC reads `name-N` as
    /// revision N).
    pub fn create_and_start_chain(
        name: &str,
        validators: usize,
        chain_id: &str,
    ) -> Result<TestNet> {
        TestNet::create_and_start_with(name, validators, |opts| opts.chain_id = chain_id.to_owned())
    }

    /// As [`TestNet::create_and_start`], with `configure` changing the options first (e.g.
    /// `opts.web` to serve the web app).
    pub fn create_and_start_with(
        name: &str,
        validators: usize,
        configure: impl FnOnce(&mut LocalnetOptions),
    ) -> Result<TestNet> {
        let ports = port_offset(validators)?;
        let mut opts = LocalnetOptions {
            validators,
            root: e2e_root(name)?,
            port_offset: ports.offset,
            timeout_commit: "500ms".into(),
            suretyd: suretyd_bin()?,
            cometbft: cometbft_bin()?,
            verbose: true,
            ..LocalnetOptions::default()
        };
        configure(&mut opts);
        step(format!(
            "creating a {validators}-validator localnet in {} (port offset {})",
            opts.root.display(),
            opts.port_offset
        ));
        let mut net = Localnet::new(opts)?;
        net.create()?;
        let client = Client::new(&net);
        let mut t = TestNet {
            net,
            client,
            _ports: ports,
        };
        step("starting it");
        t.net.start()?;
        t.net.wait_for_height(2, WAIT)?;
        step("blocks are being committed");
        Ok(t)
    }

    pub fn net(&mut self) -> &mut Localnet {
        &mut self.net
    }

    /// The highest height among `nodes`.
    pub fn max_height(&self, nodes: &[usize]) -> Result<u64> {
        Ok(self.net.heights(nodes)?.into_iter().max().unwrap_or(0))
    }

    /// Waits until validator `i` has caught up with the highest height among
    /// `others` (as of now) and all of them agree on the app hash.
    pub fn wait_caught_up(&mut self, i: usize, others: &[usize]) -> Result<(u64, String)> {
        let target = self.max_height(others)?;
        self.net
            .wait_node_height(i, target, WAIT)
            .with_context(|| format!("validator {i} catching up to height {target}"))?;
        let mut all: Vec<usize> = others.to_vec();
        all.push(i);
        all.sort_unstable();
        all.dedup();
        // Make sure every node has the block after `target` (app_hash_at).
        self.net.wait_nodes_height(&all, target + 1, WAIT)?;
        self.net.check_same_app_hash_at(&all, target)
    }
}

impl Deref for TestNet {
    type Target = Localnet;
    fn deref(&self) -> &Localnet {
        &self.net
    }
}

impl DerefMut for TestNet {
    fn deref_mut(&mut self) -> &mut Localnet {
        &mut self.net
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        step("stopping the localnet");
        if let Err(e) = self.net.stop() {
            eprintln!("[e2e] stopping the localnet: {e:#}");
        }
        let keep =
            failed || std::env::var("SURETY_E2E_KEEP").is_ok_and(|v| !v.is_empty() && v != "0");
        if failed {
            for i in 0..self.net.validators() {
                eprintln!(
                    "--- tail of {} ---\n{}",
                    self.net.log_path(i).display(),
                    self.net.log_tail(i, 25)
                );
            }
        }
        if keep {
            eprintln!("[e2e] localnet kept in {}", self.net.root().display());
        } else if let Err(e) = surety_localnet::remove_localnet_dir(self.net.root()) {
            eprintln!("[e2e] {e:#}");
        }
    }
}

// --- helpers for scenario tests ---

/// The integer at the start of an amount string such as `1500000uusdc`.
pub fn amount(v: &Value) -> anyhow::Result<u128> {
    let s = v.as_str().with_context(|| format!("{v} is not a string"))?;
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    Ok(digits.parse()?)
}

pub fn event_attr(tx: &TxResult, kind: &str, key: &str) -> anyhow::Result<String> {
    tx.json["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["type"] == kind))
        .and_then(|e| e["attributes"][key].as_str())
        .map(str::to_owned)
        .with_context(|| format!("no {kind}.{key} in {}", tx.json))
}

/// Polls `check` every second until it returns Some, or fails after `secs`.
pub fn eventually<T>(
    what: &str,
    secs: u64,
    mut check: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(t) = check()? {
            return Ok(t);
        }
        if std::time::Instant::now() > deadline {
            bail!("timed out after {secs}s waiting for {what}");
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
