//! The stock Hermes relayer (1.10.5): its `config.toml`, relayer keys, transfer channels and the
//! `hermes start` process. Everything lives under one home: `config.toml`, `keys/`,
//! `hermes.log`, `channels.json`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{stop_leftovers, toml_literal, BgProcess, SimdChain, SIMD_DENOM, TRANSFER_PORT};
use crate::cli::{self, CmdOutput};
use crate::{MIN_GAS_PRICES, STAKE_DENOM};

/// `jmt::ics23_spec()` twice (the `ibc` substore, then the main tree) as the JSON Hermes reads
/// in `proof_specs`; checked to deserialize to exactly that spec
/// (/work/shared/ibc/hermes-surety-chain.toml).
pub const SURETY_PROOF_SPECS: &str = r#"[{"leaf_spec":{"hash":"SHA256","prehash_key":"SHA256","prehash_value":"SHA256","length":"NO_PREFIX","prefix":"Sk1UOjpMZWFmTm9kZQ=="},"inner_spec":{"child_order":[0,1],"child_size":32,"min_prefix_length":16,"max_prefix_length":16,"empty_child":"U1BBUlNFX01FUktMRV9QTEFDRUhPTERFUl9IQVNIX18=","hash":"SHA256"},"max_depth":64,"min_depth":0,"prehash_key_before_comparison":true},
 {"leaf_spec":{"hash":"SHA256","prehash_key":"SHA256","prehash_value":"SHA256","length":"NO_PREFIX","prefix":"Sk1UOjpMZWFmTm9kZQ=="},"inner_spec":{"child_order":[0,1],"child_size":32,"min_prefix_length":16,"max_prefix_length":16,"empty_child":"U1BBUlNFX01FUktMRV9QTEFDRUhPTERFUl9IQVNIX18=","hash":"SHA256"},"max_depth":64,"min_depth":0,"prehash_key_before_comparison":true}]"#;

/// `max_block_time` of every chain entry (see [`HermesChain::max_block_time`]): the localnets
/// make blocks every ~0.5 s.
const FAST_HANDSHAKE_BLOCK_TIME: &str = "2s";

/// One `[[chains]]` entry (always `type = 'CosmosSdk'`, `store_prefix = 'ibc'`).
#[derive(Debug, Clone)]
pub struct HermesChain {
    pub id: String,
    pub rpc_port: u16,
    pub grpc_port: u16,
    pub account_prefix: String,
    pub gas_price: f64,
    pub gas_denom: String,
    pub default_gas: u64,
    pub max_gas: u64,
    /// Hermes waits `max_block_time / 5` between handshake steps (and `hermes start` replaces it
    /// with the chain's `max_expected_time_per_block`, 30 s on ibc-go, warning about it): 30 s
    /// makes `create channel` take ~55 s, 2 s ~13 s. Also part of the clients' max clock drift.
    pub max_block_time: String,
    /// `Some(json)` for non-IAVL stores (Surety's JMT); `None` = Hermes' default (IAVL + Tendermint).
    pub proof_specs: Option<String>,
    /// Key `relayer` is restored from this.
    pub relayer_mnemonic: String,
}

impl HermesChain {
    /// A simd chain: standard proof specs, gas in `stake`, its `relayer` account.
    pub fn simd(chain: &SimdChain) -> Result<HermesChain> {
        let min = &chain.options().min_gas_prices;
        let price = min
            .strip_suffix(SIMD_DENOM)
            .and_then(|p| p.parse::<f64>().ok())
            .ok_or_else(|| anyhow!("cannot read a {SIMD_DENOM} gas price from {min:?}"))?;
        Ok(HermesChain {
            id: chain.chain_id().to_owned(),
            rpc_port: chain.ports().rpc,
            grpc_port: chain.ports().grpc,
            account_prefix: "cosmos".into(),
            gas_price: price,
            gas_denom: SIMD_DENOM.into(),
            default_gas: 200_000,
            max_gas: 10_000_000,
            max_block_time: FAST_HANDSHAKE_BLOCK_TIME.into(),
            proof_specs: None,
            relayer_mnemonic: chain.account("relayer")?.mnemonic.clone(),
        })
    }

    /// A Surety chain as in /work/shared/ibc/hermes-surety-chain.toml: JMT proof specs, gas in
    /// `usure` at the nodes' minimum price, prefix `surety`.
    pub fn surety(id: &str, rpc_port: u16, grpc_port: u16, relayer_mnemonic: &str) -> HermesChain {
        let price = MIN_GAS_PRICES
            .strip_suffix(STAKE_DENOM)
            .and_then(|p| p.parse::<f64>().ok())
            .expect("MIN_GAS_PRICES is <decimal>usure");
        HermesChain {
            id: id.to_owned(),
            rpc_port,
            grpc_port,
            account_prefix: "surety".into(),
            gas_price: price,
            gas_denom: STAKE_DENOM.into(),
            default_gas: 400_000,
            max_gas: 10_000_000,
            max_block_time: FAST_HANDSHAKE_BLOCK_TIME.into(),
            proof_specs: Some(SURETY_PROOF_SPECS.to_owned()),
            relayer_mnemonic: relayer_mnemonic.to_owned(),
        }
    }

    /// The `[[chains]]` table, keys kept in `key_store`.
    pub fn to_toml(&self, key_store: &Path) -> Result<String> {
        let lit = toml_literal;
        let (rpc, grpc) = (self.rpc_port, self.grpc_port);
        let mut s = String::new();
        writeln!(s, "[[chains]]")?;
        writeln!(s, "id = {}", lit(&self.id)?)?;
        writeln!(s, "type = 'CosmosSdk'")?;
        writeln!(s, "compat_mode = '0.38'")?;
        writeln!(s, "rpc_addr = 'http://127.0.0.1:{rpc}'")?;
        writeln!(s, "grpc_addr = 'http://127.0.0.1:{grpc}'")?;
        writeln!(
            s,
            "event_source = {{ mode = 'push', url = 'ws://127.0.0.1:{rpc}/websocket', batch_delay = '200ms' }}"
        )?;
        writeln!(s, "rpc_timeout = '10s'")?;
        writeln!(s, "account_prefix = {}", lit(&self.account_prefix)?)?;
        writeln!(s, "key_name = 'relayer'")?;
        // Without this Hermes keeps keys in ~/.hermes/keys, shared by every localnet.
        writeln!(
            s,
            "key_store_folder = {}",
            lit(&key_store.to_string_lossy())?
        )?;
        writeln!(s, "address_type = {{ derivation = 'cosmos' }}")?;
        writeln!(s, "store_prefix = 'ibc'")?;
        writeln!(s, "default_gas = {}", self.default_gas)?;
        writeln!(s, "max_gas = {}", self.max_gas)?;
        writeln!(
            s,
            "gas_price = {{ price = {:?}, denom = {} }}",
            self.gas_price,
            lit(&self.gas_denom)?
        )?;
        writeln!(s, "gas_multiplier = 1.3")?;
        writeln!(s, "max_msg_num = 30")?;
        writeln!(s, "max_tx_size = 2097152")?;
        writeln!(s, "clock_drift = '5s'")?;
        writeln!(s, "max_block_time = {}", lit(&self.max_block_time)?)?;
        writeln!(s, "trust_threshold = '2/3'")?;
        if let Some(specs) = &self.proof_specs {
            if specs.contains("'''") {
                bail!("proof_specs must not contain '''");
            }
            writeln!(s, "proof_specs = '''\n{specs}\n'''")?;
        }
        Ok(s)
    }
}

/// One end of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelEnd {
    pub chain_id: String,
    pub port_id: String,
    pub channel_id: String,
    pub connection_id: String,
    pub client_id: String,
}

/// A channel between chains `a.chain_id` and `b.chain_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelPair {
    pub a: ChannelEnd,
    pub b: ChannelEnd,
}

impl ChannelPair {
    /// This channel with `.a` on chain `a` and `.b` on chain `b`, if it links them.
    pub fn oriented(&self, a: &str, b: &str) -> Option<ChannelPair> {
        if self.a.chain_id == a && self.b.chain_id == b {
            Some(self.clone())
        } else if self.a.chain_id == b && self.b.chain_id == a {
            Some(ChannelPair {
                a: self.b.clone(),
                b: self.a.clone(),
            })
        } else {
            None
        }
    }
}

/// Hermes with its home, chains and (once started) `hermes start` process. Dropping it stops the
/// process it started.
#[derive(Debug)]
pub struct Hermes {
    bin: PathBuf,
    home: PathBuf,
    chains: Vec<HermesChain>,
    proc: Option<BgProcess>,
    /// Deadline for short commands (keys, queries).
    pub cmd_timeout: Duration,
    /// Deadline for `create channel` (about 13 s between two simd chains).
    pub channel_timeout: Duration,
    /// Deadline for "Hermes has started" after `start`.
    pub start_timeout: Duration,
}

impl Hermes {
    pub fn new(bin: &Path, home: &Path, chains: Vec<HermesChain>) -> Hermes {
        Hermes {
            bin: bin.to_owned(),
            home: home.to_owned(),
            chains,
            proc: None,
            cmd_timeout: Duration::from_secs(60),
            channel_timeout: Duration::from_secs(300),
            start_timeout: Duration::from_secs(60),
        }
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn chains(&self) -> &[HermesChain] {
        &self.chains
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.join("config.toml")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.home.join("keys")
    }

    pub fn log_path(&self) -> PathBuf {
        self.home.join("hermes.log")
    }

    pub fn log_tail(&self, n: usize) -> String {
        cli::tail_file(&self.log_path(), n)
    }

    fn channels_path(&self) -> PathBuf {
        self.home.join("channels.json")
    }

    /// The whole `config.toml`: clients refreshed, packets relayed (and cleared on start),
    /// no connection/channel handshake workers, REST and telemetry off (no extra ports).
    pub fn render_config(&self) -> Result<String> {
        let mut s = String::from(
            "# Written by surety-localnet (ibc.rs); rewritten on every link.\n\
             [global]\nlog_level = 'info'\n\n\
             [mode.clients]\nenabled = true\nrefresh = true\nmisbehaviour = false\n\n\
             [mode.connections]\nenabled = false\n\n\
             [mode.channels]\nenabled = false\n\n\
             [mode.packets]\nenabled = true\nclear_interval = 100\nclear_on_start = true\ntx_confirmation = false\n\n\
             [rest]\nenabled = false\nhost = '127.0.0.1'\nport = 3000\n\n\
             [telemetry]\nenabled = false\nhost = '127.0.0.1'\nport = 3001\n",
        );
        for c in &self.chains {
            s.push('\n');
            s.push_str(&c.to_toml(&self.keys_dir())?);
        }
        Ok(s)
    }

    /// Writes `config.toml` and checks it with `hermes config validate`.
    pub fn write_config(&self) -> Result<PathBuf> {
        fs::create_dir_all(&self.home)
            .with_context(|| format!("cannot create {}", self.home.display()))?;
        let path = self.config_path();
        fs::write(&path, self.render_config()?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.run(&["config", "validate"], None, self.cmd_timeout)?;
        Ok(path)
    }

    /// Runs `hermes --config <home>/config.toml <args>`; fails on a non-zero exit.
    fn run(&self, args: &[&str], stdin: Option<&str>, timeout: Duration) -> Result<CmdOutput> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config").arg(self.config_path()).args(args);
        cli::run_ok(&mut cmd, stdin, timeout)
    }

    /// Runs a command with `--json` and returns its `result`, failing unless `status` is
    /// `success`. Hermes prints its log as JSON lines on stdout too; the answer is the line with
    /// a `status` field.
    fn run_json(&self, args: &[&str], timeout: Duration) -> Result<Value> {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config").arg(self.config_path()).args(&full);
        let line = cli::describe(&cmd);
        let out = cli::run(&mut cmd, None, timeout)?;
        let answer = out
            .stdout
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .find(|v| v.get("status").is_some());
        match answer {
            Some(v) if v["status"] == "success" && out.success() => Ok(v["result"].clone()),
            Some(v) => bail!(
                "`{line}` failed: {}\n--- its last log lines ---\n{}",
                v["result"],
                cli::tail(&log_lines(&out.stdout, &out.stderr), 12)
            ),
            None => bail!(
                "`{line}` gave no answer ({})\nstdout:\n{}\nstderr:\n{}",
                out.status,
                cli::tail(&out.stdout, 20),
                cli::tail(&out.stderr, 20)
            ),
        }
    }

    /// Restores key `relayer` on every chain from its mnemonic (through stdin, so the mnemonic
    /// is never written to a file), replacing any earlier one.
    pub fn add_keys(&self) -> Result<()> {
        for c in &self.chains {
            self.run(
                &[
                    "keys",
                    "add",
                    "--chain",
                    &c.id,
                    "--mnemonic-file",
                    "/dev/stdin",
                    "--overwrite",
                ],
                Some(&c.relayer_mnemonic),
                self.cmd_timeout,
            )
            .with_context(|| format!("adding the relayer key for {}", c.id))?;
        }
        Ok(())
    }

    /// The address of key `relayer` on chain `chain_id` (as derived by Hermes).
    pub fn key_address(&self, chain_id: &str) -> Result<String> {
        // `keys list` also prints the private key; only the account is kept.
        let r = self.run_json(&["keys", "list", "--chain", chain_id], self.cmd_timeout)?;
        r["relayer"]["account"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no key `relayer` for {chain_id} in the Hermes keyring"))
    }

    /// Creates new clients, a connection and an unordered `transfer`↔`transfer` channel between
    /// chains `a` and `b` (`hermes create channel … --new-client-connection --yes`).
    pub fn create_channel(&self, a: &str, b: &str) -> Result<ChannelPair> {
        let r = self
            .run_json(
                &[
                    "create",
                    "channel",
                    "--a-chain",
                    a,
                    "--b-chain",
                    b,
                    "--a-port",
                    TRANSFER_PORT,
                    "--b-port",
                    TRANSFER_PORT,
                    "--new-client-connection",
                    "--yes",
                ],
                self.channel_timeout,
            )
            .with_context(|| format!("creating a transfer channel {a} <-> {b}"))?;
        let side = |v: &Value, chain: &str| -> Result<ChannelEnd> {
            let field = |k: &str| {
                v[k].as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("no {k} in `create channel` result {r}"))
            };
            Ok(ChannelEnd {
                chain_id: chain.to_owned(),
                port_id: field("port_id")?,
                channel_id: field("channel_id")?,
                connection_id: field("connection_id")?,
                client_id: field("client_id")?,
            })
        };
        Ok(ChannelPair {
            a: side(&r["a_side"], a)?,
            b: side(&r["b_side"], b)?,
        })
    }

    /// Whether both ends of `c` exist, are open and point at each other.
    pub fn is_open(&self, c: &ChannelPair) -> bool {
        let end_ok = |e: &ChannelEnd, other: &ChannelEnd| {
            self.run_json(
                &[
                    "query",
                    "channel",
                    "end",
                    "--chain",
                    &e.chain_id,
                    "--port",
                    &e.port_id,
                    "--channel",
                    &e.channel_id,
                ],
                self.cmd_timeout,
            )
            .is_ok_and(|v| {
                v["state"] == "Open"
                    && v["remote"]["channel_id"] == other.channel_id.as_str()
                    && v["remote"]["port_id"] == other.port_id.as_str()
            })
        };
        end_ok(&c.a, &c.b) && end_ok(&c.b, &c.a)
    }

    /// Whether the light clients under both ends of `c` are `Active` (not expired or frozen):
    /// a client of a Surety chain expires after the trusting period (2/3 of its unbonding
    /// period, 120 s on the localnet) without an update, e.g. while the localnet is stopped.
    pub fn clients_active(&self, c: &ChannelPair) -> bool {
        [&c.a, &c.b].iter().all(|e| {
            self.run_json(
                &[
                    "query",
                    "client",
                    "status",
                    "--chain",
                    &e.chain_id,
                    "--client",
                    &e.client_id,
                ],
                self.cmd_timeout,
            )
            .is_ok_and(|v| v == "Active")
        })
    }

    /// Channels saved by [`Hermes::record_channels`] (empty if none).
    pub fn recorded_channels(&self) -> Vec<ChannelPair> {
        recorded_channels(&self.home)
    }

    /// Saves `channels` as `<home>/channels.json`.
    pub fn record_channels(&self, channels: &[ChannelPair]) -> Result<()> {
        fs::write(
            self.channels_path(),
            serde_json::to_string_pretty(channels)?,
        )
        .with_context(|| format!("cannot write {}", self.channels_path().display()))
    }

    /// Starts `hermes start` (own process group, log appended to `hermes.log`) and waits for
    /// "Hermes has started".
    pub fn start(&mut self) -> Result<()> {
        if self.proc.is_some() {
            bail!("hermes is already running");
        }
        stop_leftovers(&self.home, &["hermes"], Duration::from_secs(10))?;
        let log = self.log_path();
        let from = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config").arg(self.config_path()).arg("start");
        self.proc = Some(BgProcess::spawn(cmd, &log, "hermes start")?);
        let deadline = Instant::now() + self.start_timeout;
        loop {
            if let Some(st) = self.proc.as_mut().and_then(|p| p.exited()) {
                self.proc = None;
                bail!(
                    "hermes start exited ({st})\n--- tail of {} ---\n{}",
                    log.display(),
                    self.log_tail(40)
                );
            }
            let new = fs::read(&log)
                .map(|b| b.get(from as usize..).unwrap_or_default().to_vec())
                .unwrap_or_default();
            if String::from_utf8_lossy(&new).contains("Hermes has started") {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "hermes did not report \"Hermes has started\" within {:?}\n--- tail of {} ---\n{}",
                    self.start_timeout,
                    log.display(),
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Whether the `hermes start` we started is still running.
    pub fn is_running(&mut self) -> bool {
        self.proc.as_mut().is_some_and(|p| p.exited().is_none())
    }

    /// Stops the `hermes start` we started and any other Hermes using this home.
    pub fn stop(&mut self) -> Result<()> {
        if let Some(p) = self.proc.take() {
            p.stop(Duration::from_secs(10));
        }
        stop_leftovers(&self.home, &["hermes"], Duration::from_secs(10))
    }
}

/// The log lines of a `--json` run (stdout lines without a `status`, then stderr).
fn log_lines(stdout: &str, stderr: &str) -> String {
    let mut lines: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            serde_json::from_str::<Value>(l.trim()).map_or(true, |v| v.get("status").is_none())
        })
        .collect();
    lines.extend(stderr.lines());
    lines.join("\n")
}

/// Channels saved in `<home>/channels.json` by [`Hermes::record_channels`] (empty if none), for
/// readers without a [`Hermes`] (e.g. `surety-localnet status`).
pub fn recorded_channels(home: &Path) -> Vec<ChannelPair> {
    fs::read_to_string(home.join("channels.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

impl Drop for Hermes {
    fn drop(&mut self) {
        if let Some(p) = self.proc.take() {
            p.stop(Duration::from_secs(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surety_entry_matches_the_shared_one() {
        let c = HermesChain::surety("surety-a-1", 26657, 9090, "m");
        let t = c.to_toml(Path::new("/k")).unwrap();
        for line in [
            "id = 'surety-a-1'",
            "rpc_addr = 'http://127.0.0.1:26657'",
            "grpc_addr = 'http://127.0.0.1:9090'",
            "account_prefix = 'surety'",
            "store_prefix = 'ibc'",
            "gas_price = { price = 0.0025, denom = 'usure' }",
            "proof_specs = '''",
        ] {
            assert!(t.contains(line), "missing {line:?} in\n{t}");
        }
        let specs: Value = serde_json::from_str(SURETY_PROOF_SPECS).unwrap();
        assert_eq!(specs.as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn orientation() {
        let end = |c: &str, ch: &str| ChannelEnd {
            chain_id: c.into(),
            port_id: "transfer".into(),
            channel_id: ch.into(),
            connection_id: "connection-0".into(),
            client_id: "07-tendermint-0".into(),
        };
        let p = ChannelPair {
            a: end("x", "channel-0"),
            b: end("y", "channel-3"),
        };
        assert_eq!(p.oriented("y", "x").unwrap().a.channel_id, "channel-3");
        assert!(p.oriented("x", "z").is_none());
    }
}
