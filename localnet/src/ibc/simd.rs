//! A single-validator ibc-go v8 chain (`simd`) on loopback, made with the standard Cosmos
//! recipe (`init`, `keys add --recover`, `genesis add-genesis-account`, `gentx`,
//! `collect-gentxs`) and configured with `simd config set`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use toml_edit::{value, DocumentMut, Item};

use super::{busy_ports, stop_leftovers, BgProcess, RELAYER_MNEMONIC, TRANSFER_PORT};
use crate::cli::{self, json_u128, json_u64, CmdOutput};
use crate::rpc::{NodeStatus, Rpc};

/// Staking and fee denom.
pub const SIMD_DENOM: &str = "stake";
/// A second denom, standing for a stable coin a user pays cover with.
pub const SIMD_STABLE_DENOM: &str = "uusdc";
/// Every account's genesis balance.
pub const SIMD_ACCOUNT_COINS: &str = "100000000000000stake,100000000000000uusdc";
/// The validator's self-bond.
pub const SIMD_BOND: &str = "1000000000stake";
/// `minimum-gas-prices` in app.toml (Hermes' simd entries pay exactly this).
pub const SIMD_MIN_GAS_PRICES: &str = "0.0025stake";
/// Gas limit for an ICS-20 transfer (it uses about 100k).
pub const SIMD_TRANSFER_GAS: &str = "300000";
/// Fee for [`SIMD_TRANSFER_GAS`] at [`SIMD_MIN_GAS_PRICES`] (750 needed).
pub const SIMD_FEES: &str = "1000stake";

const VALIDATOR_MNEMONIC: &str = "turkey sword lake crawl learn maximum inch help cupboard sell gain bone scorpion nerve wreck tenant measure firm special pistol crawl student fade dad";
const USER_MNEMONIC: &str = "fiber upgrade december merit olympic veteran west banner subject fly limb clap need shove risk sugar major cause mom table any eagle section roast";

/// Loopback ports of a simd node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimdPorts {
    pub rpc: u16,
    pub p2p: u16,
    pub grpc: u16,
    /// REST API (only listened on when [`SimdOptions::api`] is set).
    pub api: u16,
    pub pprof: u16,
}

impl SimdPorts {
    /// Five consecutive ports from `base`: RPC, P2P, gRPC, API, pprof.
    pub fn block(base: u16) -> Result<SimdPorts> {
        if base == 0 || base > u16::MAX - 4 {
            bail!("port block {base}..{base}+4 is out of range");
        }
        Ok(SimdPorts {
            rpc: base,
            p2p: base + 1,
            grpc: base + 2,
            api: base + 3,
            pprof: base + 4,
        })
    }

    /// simd's default ports (RPC 26657, P2P 26656, gRPC 9090, API 1317, pprof 6060) plus `offset`.
    pub fn offset(offset: u16) -> Result<SimdPorts> {
        let p = |base: u16| {
            base.checked_add(offset)
                .ok_or_else(|| anyhow!("port {base} + offset {offset} is out of range"))
        };
        Ok(SimdPorts {
            rpc: p(26657)?,
            p2p: p(26656)?,
            grpc: p(9090)?,
            api: p(1317)?,
            pprof: p(6060)?,
        })
    }

    /// `(what, port)` of the ports the node listens on.
    fn listened(&self, api: bool) -> Vec<(&'static str, u16)> {
        let mut v = vec![
            ("simd RPC", self.rpc),
            ("simd P2P", self.p2p),
            ("simd gRPC", self.grpc),
            ("simd pprof", self.pprof),
        ];
        if api {
            v.push(("simd API", self.api));
        }
        v
    }
}

/// How to make and run a simd chain.
#[derive(Debug, Clone)]
pub struct SimdOptions {
    pub chain_id: String,
    /// The node's home (default `<root>/<chain id>`).
    pub home: PathBuf,
    pub ports: SimdPorts,
    /// CometBFT `consensus.timeout_commit`.
    pub timeout_commit: String,
    pub min_gas_prices: String,
    /// Serve the REST API (Hermes needs only RPC and gRPC).
    pub api: bool,
    /// `(key name, mnemonic)` of the accounts funded in genesis; the first is the validator.
    pub accounts: Vec<(String, String)>,
    /// Deadline for each CLI command.
    pub cmd_timeout: Duration,
    /// Deadline for the first blocks after `start`.
    pub start_timeout: Duration,
    /// Time to exit after SIGTERM before SIGKILL.
    pub stop_timeout: Duration,
}

impl SimdOptions {
    /// Defaults for chain `chain_id` in `<root>/<chain_id>`: 500 ms blocks and accounts
    /// `validator`, `user` and `relayer` (fixed mnemonics).
    pub fn new(root: &Path, chain_id: &str, ports: SimdPorts) -> SimdOptions {
        SimdOptions {
            chain_id: chain_id.to_owned(),
            home: root.join(chain_id),
            ports,
            timeout_commit: "500ms".to_owned(),
            min_gas_prices: SIMD_MIN_GAS_PRICES.to_owned(),
            api: false,
            accounts: [
                ("validator", VALIDATOR_MNEMONIC),
                ("user", USER_MNEMONIC),
                ("relayer", RELAYER_MNEMONIC),
            ]
            .iter()
            .map(|(n, m)| (n.to_string(), m.to_string()))
            .collect(),
            cmd_timeout: Duration::from_secs(60),
            start_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(20),
        }
    }
}

/// A genesis account whose key is in the chain's `test` keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimdAccount {
    pub name: String,
    /// `cosmos1…`.
    pub address: String,
    pub mnemonic: String,
}

/// `<home>/ibc-chain.json`: written last by `create`, so its presence means a complete chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SimdManifest {
    chain_id: String,
    ports: SimdPorts,
    api: bool,
    accounts: Vec<SimdAccount>,
}

/// A single-validator simd chain. Dropping it stops the node it started.
#[derive(Debug)]
pub struct SimdChain {
    bin: PathBuf,
    opts: SimdOptions,
    accounts: Vec<SimdAccount>,
    proc: Option<BgProcess>,
    rpc: Rpc,
}

impl SimdChain {
    /// A chain with these options; nothing is created or started yet.
    pub fn new(bin: &Path, opts: SimdOptions) -> SimdChain {
        SimdChain {
            bin: bin.to_owned(),
            opts,
            accounts: Vec::new(),
            proc: None,
            rpc: Rpc::new(),
        }
    }

    pub fn chain_id(&self) -> &str {
        &self.opts.chain_id
    }

    pub fn options(&self) -> &SimdOptions {
        &self.opts
    }

    pub fn home(&self) -> &Path {
        &self.opts.home
    }

    pub fn ports(&self) -> SimdPorts {
        self.opts.ports
    }

    /// `http://127.0.0.1:<rpc>`.
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.opts.ports.rpc)
    }

    /// `http://127.0.0.1:<grpc>`.
    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.opts.ports.grpc)
    }

    /// `<home>/simd.log`.
    pub fn log_path(&self) -> PathBuf {
        self.opts.home.join("simd.log")
    }

    pub fn log_tail(&self, n: usize) -> String {
        cli::tail_file(&self.log_path(), n)
    }

    /// The genesis accounts (after `create`).
    pub fn accounts(&self) -> &[SimdAccount] {
        &self.accounts
    }

    pub fn account(&self, name: &str) -> Result<&SimdAccount> {
        self.accounts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| anyhow!("{}: no account {name:?}", self.opts.chain_id))
    }

    /// Runs `simd <args> --home <home>`; fails on a non-zero exit.
    pub fn cli(&self, args: &[&str]) -> Result<CmdOutput> {
        self.cli_stdin(args, None)
    }

    fn cli_stdin(&self, args: &[&str], stdin: Option<&str>) -> Result<CmdOutput> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).arg("--home").arg(&self.opts.home);
        cli::run_ok(&mut cmd, stdin, self.opts.cmd_timeout)
    }

    fn manifest_path(&self) -> PathBuf {
        self.opts.home.join("ibc-chain.json")
    }

    /// Creates the chain unless a complete one is already in its home (then only re-applies the
    /// port settings if they changed). Returns whether it created a new chain.
    pub fn create(&mut self) -> Result<bool> {
        let path = self.manifest_path();
        if path.exists() {
            let text = fs::read_to_string(&path)?;
            let m: SimdManifest = serde_json::from_str(&text)
                .with_context(|| format!("cannot parse {}", path.display()))?;
            if m.chain_id != self.opts.chain_id {
                bail!(
                    "{} holds chain {}, not {}",
                    self.opts.home.display(),
                    m.chain_id,
                    self.opts.chain_id
                );
            }
            if m.ports != self.opts.ports || m.api != self.opts.api {
                self.configure()?;
            }
            self.accounts = m.accounts;
            self.write_manifest()?;
            return Ok(false);
        }
        self.remove_partial_home()?;
        fs::create_dir_all(&self.opts.home)
            .with_context(|| format!("cannot create {}", self.opts.home.display()))?;
        let id = self.opts.chain_id.clone();
        self.cli(&[
            "init",
            &id,
            "--chain-id",
            &id,
            "--default-denom",
            SIMD_DENOM,
        ])?;
        self.configure()?;
        let mut accounts = Vec::new();
        for (name, mnemonic) in self.opts.accounts.clone() {
            let out = self.cli_stdin(
                &[
                    "keys",
                    "add",
                    &name,
                    "--recover",
                    "--keyring-backend",
                    "test",
                    "--output",
                    "json",
                ],
                Some(&format!("{mnemonic}\n")),
            )?;
            let key = out
                .json()
                .or_else(|e| cli::parse_json(&out.stderr).map_err(|_| e))?;
            let address = key["address"]
                .as_str()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| anyhow!("`keys add {name}` printed no address: {key}"))?
                .to_owned();
            self.cli(&[
                "genesis",
                "add-genesis-account",
                &address,
                SIMD_ACCOUNT_COINS,
            ])?;
            accounts.push(SimdAccount {
                name,
                address,
                mnemonic,
            });
        }
        let validator = accounts
            .first()
            .ok_or_else(|| anyhow!("a simd chain needs at least one account (the validator)"))?
            .name
            .clone();
        self.cli(&[
            "genesis",
            "gentx",
            &validator,
            SIMD_BOND,
            "--chain-id",
            &id,
            "--keyring-backend",
            "test",
        ])?;
        self.cli(&["genesis", "collect-gentxs"])?;
        self.cli(&["genesis", "validate"])?;
        self.accounts = accounts;
        self.write_manifest()?;
        Ok(true)
    }

    fn write_manifest(&self) -> Result<()> {
        let m = SimdManifest {
            chain_id: self.opts.chain_id.clone(),
            ports: self.opts.ports,
            api: self.opts.api,
            accounts: self.accounts.clone(),
        };
        fs::write(self.manifest_path(), serde_json::to_string_pretty(&m)?)
            .with_context(|| format!("cannot write {}", self.manifest_path().display()))
    }

    /// Deletes a home left half-made by an interrupted `create`, refusing anything that does not
    /// look like a simd home.
    fn remove_partial_home(&self) -> Result<()> {
        let home = &self.opts.home;
        if !home.exists() {
            return Ok(());
        }
        let empty = fs::read_dir(home)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !home.join("config").is_dir() {
            bail!(
                "{} exists and is not a simd home; not deleting it",
                home.display()
            );
        }
        fs::remove_dir_all(home).with_context(|| format!("cannot delete {}", home.display()))
    }

    /// Ports, fast blocks, gas price and client defaults, written straight into the three TOML
    /// files (28 `simd config set` runs cost ~4 s; also, confix refuses `config set config …`
    /// without `--skip-validate`).
    fn configure(&self) -> Result<()> {
        let p = self.opts.ports;
        let o = &self.opts;
        let dir = o.home.join("config");
        edit_toml(
            &dir.join("config.toml"),
            vec![
                ("rpc.laddr", value(format!("tcp://127.0.0.1:{}", p.rpc))),
                ("p2p.laddr", value(format!("tcp://127.0.0.1:{}", p.p2p))),
                ("rpc.pprof_laddr", value(format!("127.0.0.1:{}", p.pprof))),
                ("p2p.pex", value(false)),
                ("consensus.timeout_commit", value(o.timeout_commit.clone())),
            ],
        )?;
        edit_toml(
            &dir.join("app.toml"),
            vec![
                ("minimum-gas-prices", value(o.min_gas_prices.clone())),
                ("grpc.enable", value(true)),
                ("grpc.address", value(format!("127.0.0.1:{}", p.grpc))),
                ("api.enable", value(o.api)),
                ("api.address", value(format!("tcp://127.0.0.1:{}", p.api))),
                ("grpc-web.enable", value(false)),
            ],
        )?;
        edit_toml(
            &dir.join("client.toml"),
            vec![
                ("node", value(format!("tcp://127.0.0.1:{}", p.rpc))),
                ("chain-id", value(o.chain_id.clone())),
                ("keyring-backend", value("test")),
            ],
        )
    }

    /// Starts the node (see [`SimdChain::spawn`]) and waits for block 2.
    pub fn start(&mut self) -> Result<()> {
        self.spawn()?;
        self.wait_for_height(2, self.opts.start_timeout).map(|_| ())
    }

    /// Starts `simd start` in its own process group, output appended to `<home>/simd.log`,
    /// without waiting for blocks.
    pub fn spawn(&mut self) -> Result<()> {
        if self.proc.is_some() {
            bail!("{} is already running", self.opts.chain_id);
        }
        if self.accounts.is_empty() {
            bail!("{}: create() first", self.opts.chain_id);
        }
        stop_leftovers(&self.opts.home, &["simd"], self.opts.stop_timeout)?;
        let busy = busy_ports(&self.opts.ports.listened(self.opts.api));
        if !busy.is_empty() {
            bail!(
                "{}: ports already in use: {}",
                self.opts.chain_id,
                busy.join(", ")
            );
        }
        let mut cmd = Command::new(&self.bin);
        cmd.arg("start")
            .arg("--home")
            .arg(&self.opts.home)
            .arg("--log_no_color");
        self.proc = Some(BgProcess::spawn(
            cmd,
            &self.log_path(),
            &format!("simd {}", self.opts.chain_id),
        )?);
        Ok(())
    }

    /// Whether the node we started is still running.
    pub fn is_running(&mut self) -> bool {
        self.proc.as_mut().is_some_and(|p| p.exited().is_none())
    }

    /// Stops the node we started and any other simd using this home.
    pub fn stop(&mut self) -> Result<()> {
        if let Some(p) = self.proc.take() {
            p.stop(self.opts.stop_timeout);
        }
        stop_leftovers(&self.opts.home, &["simd"], self.opts.stop_timeout)
    }

    pub fn status(&self) -> Result<NodeStatus> {
        self.rpc.status(&self.rpc_url())
    }

    /// Waits until the node has committed `height`; fails early, with the log tail, if the node
    /// we started exits. Returns the height reached.
    pub fn wait_for_height(&mut self, height: u64, timeout: Duration) -> Result<u64> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.proc.as_mut().and_then(|p| p.exited()) {
                self.proc = None;
                bail!(
                    "{} exited ({st}) before height {height}\n--- tail of {} ---\n{}",
                    self.opts.chain_id,
                    self.log_path().display(),
                    self.log_tail(40)
                );
            }
            let last = match self.status() {
                Ok(s) if s.height >= height => return Ok(s.height),
                Ok(s) => format!("height {}", s.height),
                Err(e) => format!("{e:#}"),
            };
            if Instant::now() >= deadline {
                bail!(
                    "{} did not reach height {height} within {timeout:?} (last: {last})\n--- tail of {} ---\n{}",
                    self.opts.chain_id,
                    self.log_path().display(),
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// All balances of `address` as `(denom, amount)`.
    pub fn balances(&self, address: &str) -> Result<Vec<(String, u128)>> {
        let rpc = self.rpc_url();
        let v = self
            .cli(&[
                "query", "bank", "balances", address, "--node", &rpc, "--output", "json",
            ])?
            .json()?;
        let list = v["balances"]
            .as_array()
            .ok_or_else(|| anyhow!("no balances in {v}"))?;
        list.iter()
            .map(|c| {
                let denom = c["denom"].as_str().unwrap_or_default().to_owned();
                let amount = json_u128(&c["amount"]).ok_or_else(|| anyhow!("bad coin {c}"))?;
                Ok((denom, amount))
            })
            .collect()
    }

    /// The balance of `address` in `denom` (0 if none).
    pub fn balance(&self, address: &str, denom: &str) -> Result<u128> {
        Ok(self
            .balances(address)?
            .into_iter()
            .find(|(d, _)| d == denom)
            .map(|(_, a)| a)
            .unwrap_or(0))
    }

    /// Sends an ICS-20 transfer of `amount` (e.g. `1000stake`) from key `from` over
    /// `transfer/<channel>` to `receiver`, with packet memo `memo`, and waits until the
    /// transaction is committed with code 0. Returns its hash.
    pub fn ibc_transfer(
        &self,
        from: &str,
        channel: &str,
        receiver: &str,
        amount: &str,
        memo: Option<&str>,
    ) -> Result<String> {
        let rpc = self.rpc_url();
        // In ibc-go v8's CLI `--memo` is the packet memo; the tx memo is `--note`.
        let mut args = vec![
            "tx",
            "ibc-transfer",
            "transfer",
            TRANSFER_PORT,
            channel,
            receiver,
            amount,
            "--from",
            from,
            "--keyring-backend",
            "test",
            "--node",
            &rpc,
            "--chain-id",
            &self.opts.chain_id,
            "--gas",
            SIMD_TRANSFER_GAS,
            "--fees",
            SIMD_FEES,
            "--yes",
            "--output",
            "json",
        ];
        if let Some(m) = memo {
            args.extend(["--memo", m]);
        }
        let out = self.cli(&args)?.json()?;
        if json_u64(&out["code"]) != Some(0) {
            bail!("ibc transfer rejected by {}: {out}", self.opts.chain_id);
        }
        let hash = out["txhash"]
            .as_str()
            .ok_or_else(|| anyhow!("no txhash in {out}"))?
            .to_owned();
        let res = self.wait_for_tx(&hash, Duration::from_secs(30))?;
        if json_u64(&res["tx_result"]["code"]) != Some(0) {
            bail!(
                "ibc transfer {hash} failed on {}: {}",
                self.opts.chain_id,
                res["tx_result"]
            );
        }
        Ok(hash)
    }

    /// Waits for transaction `hash` to be committed; returns CometBFT's `/tx` result.
    pub fn wait_for_tx(&self, hash: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.rpc.get(&self.rpc_url(), &format!("tx?hash=0x{hash}")) {
                Ok(v) => return Ok(v),
                Err(e) if Instant::now() >= deadline => {
                    return Err(e.context(format!(
                        "tx {hash} not committed on {} within {timeout:?}",
                        self.opts.chain_id
                    )))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }
}

impl Drop for SimdChain {
    fn drop(&mut self) {
        if let Some(p) = self.proc.take() {
            p.stop(self.opts.stop_timeout);
        }
    }
}

/// Sets existing `section.key` (or top-level `key`) entries of a TOML file, keeping its layout;
/// a key that is not there is an error (a typo, or a simd whose config changed).
fn edit_toml(path: &Path, settings: Vec<(&str, Item)>) -> Result<()> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("cannot parse {}", path.display()))?;
    for (key, item) in settings {
        let mut slot = doc.as_item_mut();
        for part in key.split('.') {
            slot = slot
                .get_mut(part)
                .filter(|i| !i.is_none())
                .ok_or_else(|| anyhow!("no {key} in {}", path.display()))?;
        }
        *slot = item;
    }
    fs::write(path, doc.to_string()).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_layouts() {
        let b = SimdPorts::block(21000).unwrap();
        assert_eq!(
            (b.rpc, b.p2p, b.grpc, b.api, b.pprof),
            (21000, 21001, 21002, 21003, 21004)
        );
        let o = SimdPorts::offset(1000).unwrap();
        assert_eq!(
            (o.rpc, o.p2p, o.grpc, o.api, o.pprof),
            (27657, 27656, 10090, 2317, 7060)
        );
        assert!(SimdPorts::offset(60000).is_err());
        assert!(SimdPorts::block(65534).is_err());
    }

    #[test]
    fn edits_toml_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.toml");
        fs::write(
            &f,
            "# keep\nnode = \"a\"\n\n[p2p]\n# doc\npex = true\nladdr = \"x\"\n",
        )
        .unwrap();
        edit_toml(&f, vec![("node", value("b")), ("p2p.pex", value(false))]).unwrap();
        let t = fs::read_to_string(&f).unwrap();
        assert!(t.contains("# keep") && t.contains("# doc"));
        assert!(
            t.contains("node = \"b\"") && t.contains("pex = false") && t.contains("laddr = \"x\"")
        );
        assert!(edit_toml(&f, vec![("p2p.nope", value(1))]).is_err());
    }
}
