//! IBC on the localnet: a real ibc-go chain (`simd`, ibc-go v8.8.0 / Cosmos SDK 0.50), the stock
//! Hermes relayer (1.10.5), and the glue that links chains with ICS-20 `transfer` channels.
//!
//! Both binaries come from `scripts/install-ibc-tools.sh` (see [`IbcTools::locate`]).
//!
//! ```no_run
//! use std::path::Path;
//! use surety_localnet::ibc::{self, IbcTools, SimdChain, SimdOptions, SimdPorts, SuretyChainRef};
//!
//! let tools = IbcTools::locate()?;
//! let root = Path::new(".localnet/ibc");
//! let mut simd = SimdChain::new(&tools.simd, SimdOptions::new(root, "simd-1", SimdPorts::offset(1000)?));
//! simd.create()?;
//! simd.start()?;
//! let surety = [SuretyChainRef {
//!     chain_id: "surety-a-1".into(),
//!     rpc_port: 26657,
//!     grpc_port: 9090,
//!     relayer_mnemonic: ibc::RELAYER_MNEMONIC.into(),
//! }];
//! let links = ibc::connect_surety(&tools, root, &surety, &simd)?;
//! println!("{:?}", links.channel("surety-a-1", "simd-1"));
//! # anyhow::Ok(())
//! ```

mod hermes;
pub mod launch;
mod simd;

pub use hermes::{
    recorded_channels, ChannelEnd, ChannelPair, Hermes, HermesChain, SURETY_PROOF_SPECS,
};
pub use simd::{
    SimdAccount, SimdChain, SimdOptions, SimdPorts, SIMD_ACCOUNT_COINS, SIMD_BOND, SIMD_DENOM,
    SIMD_FEES, SIMD_MIN_GAS_PRICES, SIMD_STABLE_DENOM, SIMD_TRANSFER_GAS,
};

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::{cli, procs};

/// The ICS-20 port.
pub const TRANSFER_PORT: &str = "transfer";

/// [`RELAYER_MNEMONIC`]'s address on Surety chains (HD path m/44'/118'/0'/0/0): the bech32
/// `surety` form of simd's `cosmos1a2wwu9u6xx4fh2ngcq9yq0jc7e2mvqgcmhnfye`. Surety genesis must
/// fund it in `usure` for Hermes' fees.
pub const RELAYER_SURETY_ADDRESS: &str = "surety1a2wwu9u6xx4fh2ngcq9yq0jc7e2mvqgc8payqp";

/// Mnemonic of the relayer account, the same on every chain Hermes serves (`cosmos1a2wwu9u6…` on
/// simd, [`RELAYER_SURETY_ADDRESS`] on Surety chains).
pub const RELAYER_MNEMONIC: &str = "ladder galaxy club pulp plate hundred lava wait stumble catalog gown daughter oyster melody worth reopen rug energy betray chapter remain dawn lift person";

/// Where the `simd` and `hermes` binaries are.
#[derive(Debug, Clone)]
pub struct IbcTools {
    pub simd: PathBuf,
    pub hermes: PathBuf,
}

impl IbcTools {
    /// `$SURETY_SIMD` and `$SURETY_HERMES` if both are set, else what
    /// `scripts/install-ibc-tools.sh` prints (it builds them once into `~/.cache/surety-tools`,
    /// minutes on a cold cache, and returns at once afterwards).
    pub fn locate() -> Result<IbcTools> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let (Some(simd), Some(hermes)) = (env("SURETY_SIMD"), env("SURETY_HERMES")) {
            return Ok(IbcTools { simd, hermes });
        }
        let script = crate::manifest_dir().join("../scripts/install-ibc-tools.sh");
        let out = cli::run_ok(
            Command::new("bash").arg(&script),
            None,
            Duration::from_secs(1800),
        )?;
        let find = |key: &str| {
            out.stdout
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|p| PathBuf::from(p.trim()))
                .filter(|p| cli::is_executable(p))
                .ok_or_else(|| {
                    anyhow!(
                        "{} printed no usable {key}<path>:\n{}",
                        script.display(),
                        out.stdout
                    )
                })
        };
        Ok(IbcTools {
            simd: find("SIMD=")?,
            hermes: find("HERMES=")?,
        })
    }
}

/// The ICS-20 voucher denom of `base_denom` received over `port/channel`:
/// `ibc/` + upper-case hex SHA-256 of `port/channel/base_denom`.
pub fn ibc_denom(port: &str, channel: &str, base_denom: &str) -> String {
    let digest = Sha256::digest(format!("{port}/{channel}/{base_denom}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
    format!("ibc/{hex}")
}

/// A running Surety chain as Hermes needs to know it.
#[derive(Debug, Clone)]
pub struct SuretyChainRef {
    /// `name-N` (N = IBC revision), e.g. `surety-a-1`.
    pub chain_id: String,
    /// CometBFT RPC port of one of its nodes (127.0.0.1).
    pub rpc_port: u16,
    /// gRPC port of the same node.
    pub grpc_port: u16,
    /// Mnemonic of an account funded (in `usure`) in its genesis.
    pub relayer_mnemonic: String,
}

/// Chains linked by a running Hermes.
#[derive(Debug)]
pub struct IbcLinks {
    pub hermes: Hermes,
    /// One transfer channel per requested pair, `a` on the first chain of the pair.
    pub channels: Vec<ChannelPair>,
    /// For each of `channels`: how long `create channel` took, or `None` if a recorded open
    /// channel was reused.
    pub created_in: Vec<Option<Duration>>,
    /// How long `hermes start` took to report that it has started.
    pub start_time: Duration,
}

impl IbcLinks {
    /// The channel between `a` and `b`, oriented so that `.a` is on chain `a`.
    pub fn channel(&self, a: &str, b: &str) -> Option<ChannelPair> {
        self.channels.iter().find_map(|c| c.oriented(a, b))
    }
}

/// Links Surety chains to a simd chain and to each other: writes the Hermes config under
/// `<root>/hermes`, adds the relayer keys, creates (or reuses, see [`link_chains`]) transfer
/// channels Surety↔simd for every Surety chain and Surety↔Surety for every pair of them, and
/// starts `hermes start`.
pub fn connect_surety(
    tools: &IbcTools,
    root: &Path,
    surety: &[SuretyChainRef],
    simd: &SimdChain,
) -> Result<IbcLinks> {
    let (chains, pairs) = surety_plan(surety, HermesChain::simd(simd)?);
    link_chains(&tools.hermes, &root.join("hermes"), chains, &pairs)
}

/// Hermes entries (Surety chains, then simd) and channel pairs for [`connect_surety`]: each
/// Surety chain with simd first, then every pair of Surety chains.
fn surety_plan(
    surety: &[SuretyChainRef],
    simd: HermesChain,
) -> (Vec<HermesChain>, Vec<(String, String)>) {
    let mut pairs: Vec<(String, String)> = surety
        .iter()
        .map(|s| (s.chain_id.clone(), simd.id.clone()))
        .collect();
    for (i, a) in surety.iter().enumerate() {
        for b in &surety[i + 1..] {
            pairs.push((a.chain_id.clone(), b.chain_id.clone()));
        }
    }
    let mut chains: Vec<HermesChain> = surety
        .iter()
        .map(|s| HermesChain::surety(&s.chain_id, s.rpc_port, s.grpc_port, &s.relayer_mnemonic))
        .collect();
    chains.push(simd);
    (chains, pairs)
}

/// The general form of [`connect_surety`]: any chains, any pairs. Channels recorded in
/// `<home>/channels.json` by an earlier run are reused while both ends are still open and their
/// clients active (not expired: see [`Hermes::clients_active`]).
pub fn link_chains(
    hermes_bin: &Path,
    home: &Path,
    chains: Vec<HermesChain>,
    pairs: &[(String, String)],
) -> Result<IbcLinks> {
    let mut hermes = Hermes::new(hermes_bin, home, chains);
    // A Hermes left over from an earlier launcher would race ours for the relayer's sequence.
    hermes.stop()?;
    hermes.write_config()?;
    hermes.add_keys()?;
    let known = hermes.recorded_channels();
    let mut channels = Vec::new();
    let mut created_in = Vec::new();
    for (a, b) in pairs {
        let reusable = known
            .iter()
            .filter_map(|c| c.oriented(a, b))
            .find(|c| hermes.is_open(c) && hermes.clients_active(c));
        let t = Instant::now();
        let (pair, took) = match reusable {
            Some(c) => (c, None),
            None => (hermes.create_channel(a, b)?, Some(t.elapsed())),
        };
        channels.push(pair);
        created_in.push(took);
        hermes.record_channels(&channels)?;
    }
    let t = Instant::now();
    hermes.start()?;
    Ok(IbcLinks {
        hermes,
        channels,
        created_in,
        start_time: t.elapsed(),
    })
}

// ----------------------------------------------------------------------
// background processes shared by simd and Hermes
// ----------------------------------------------------------------------

/// A child in its own process group, output appended to a log file.
#[derive(Debug)]
struct BgProcess {
    child: Child,
    pid: i32,
}

impl BgProcess {
    /// Spawns `cmd` in a new process group with stdout and stderr appended to `log`, after a
    /// banner line.
    fn spawn(mut cmd: Command, log: &Path, what: &str) -> Result<BgProcess> {
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let banner = format!(
            "\n===== surety-localnet: starting {what} at unix time {} =====\n",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        );
        file.write_all(banner.as_bytes())?;
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", cli::describe(&cmd)))?;
        let pid = child.id() as i32;
        Ok(BgProcess { child, pid })
    }

    /// `Some(status)` once the process has exited.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM to the group, SIGKILL after `timeout`; reaps the child.
    fn stop(mut self, timeout: Duration) {
        procs::signal_group(self.pid, libc::SIGTERM);
        if !procs::wait_until(timeout, || self.child.try_wait().ok().flatten().is_some()) {
            procs::signal_group(self.pid, libc::SIGKILL);
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Stops processes of `programs` using `home` that we did not spawn (e.g. left by an earlier
/// launcher): SIGTERM, then SIGKILL after `timeout`.
fn stop_leftovers(home: &Path, programs: &[&str], timeout: Duration) -> Result<()> {
    let found = procs::processes_using(home, programs);
    if found.is_empty() {
        return Ok(());
    }
    for p in &found {
        procs::signal(p.pid, libc::SIGTERM);
    }
    let gone = |t| procs::wait_until(t, || procs::processes_using(home, programs).is_empty());
    if !gone(timeout) {
        for p in procs::processes_using(home, programs) {
            procs::signal(p.pid, libc::SIGKILL);
        }
        if !gone(Duration::from_secs(10)) {
            bail!(
                "processes using {} survived SIGKILL: {:?}",
                home.display(),
                procs::processes_using(home, programs)
                    .iter()
                    .map(|p| p.pid)
                    .collect::<Vec<_>>()
            );
        }
    }
    Ok(())
}

/// The `(what, port)` pairs that cannot be bound on 127.0.0.1 now, described.
fn busy_ports(ports: &[(&str, u16)]) -> Vec<String> {
    ports
        .iter()
        .filter_map(|(what, p)| crate::port_in_use(what, *p))
        .collect()
}

/// `s` as a TOML literal string (single quotes: no escapes, so `'` and newlines are refused).
fn toml_literal(s: &str) -> Result<String> {
    if s.contains('\'') || s.contains('\n') || s.contains('\r') {
        bail!("{s:?} cannot be written as a TOML literal string");
    }
    Ok(format!("'{s}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voucher_denom() {
        // Same hash simd printed for 1000stake sent over channel-0.
        assert_eq!(
            ibc_denom("transfer", "channel-0", "stake"),
            "ibc/C053D637CCA2A2BA030E2C5EE1B28A16F71CCB0E45E8BE52766DC1B241B77878"
        );
    }

    #[test]
    fn surety_links_plan() {
        let r = |id: &str, port: u16| SuretyChainRef {
            chain_id: id.into(),
            rpc_port: port,
            grpc_port: port + 1,
            relayer_mnemonic: RELAYER_MNEMONIC.into(),
        };
        let mut simd = HermesChain::surety("simd-1", 1, 2, "m");
        simd.account_prefix = "cosmos".into();
        let (chains, pairs) = surety_plan(&[r("surety-a-1", 10), r("surety-b-1", 20)], simd);
        let ids: Vec<&str> = chains.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["surety-a-1", "surety-b-1", "simd-1"]);
        assert_eq!(chains[1].grpc_port, 21);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (&a[..], &b[..])).collect();
        assert_eq!(
            pairs,
            [
                ("surety-a-1", "simd-1"),
                ("surety-b-1", "simd-1"),
                ("surety-a-1", "surety-b-1")
            ]
        );
    }

    #[test]
    fn literal_strings() {
        assert_eq!(toml_literal("simd-1").unwrap(), "'simd-1'");
        assert!(toml_literal("a'b").is_err());
    }
}
