//! What `surety-localnet start --ibc` runs beside the main Surety network (`surety-a-1`, the
//! localnet root itself): a second Surety network `surety-b-1` (one validator, in
//! `<root>/surety-b`), a `simd-1` chain (`<root>/simd-1`) and Hermes (`<root>/hermes`), linked
//! by ICS-20 transfer channels surety-a-1↔simd-1, surety-b-1↔simd-1 and surety-a-1↔surety-b-1.
//!
//! Ports, for the main network's port offset `o` and validator count `n`:
//! - `surety-b-1` uses port offset `o + 100·n`, i.e. the ports validator `n` of the main network
//!   would have (its oracle feed server: `26690 + o + 100·n`);
//! - `simd-1` uses the block `20500 + o` … `20504 + o` (RPC, P2P, gRPC, API (off), pprof).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::{
    connect_surety, stop_leftovers, IbcLinks, IbcTools, SimdChain, SimdOptions, SimdPorts,
    SuretyChainRef, RELAYER_MNEMONIC,
};
use crate::{procs, Localnet, LocalnetOptions, Ports};

/// The main network's chain id under `--ibc` (`name-N`: IBC reads N as the revision).
pub const SURETY_A_CHAIN_ID: &str = "surety-a-1";
/// The second Surety network.
pub const SURETY_B_CHAIN_ID: &str = "surety-b-1";
/// The ibc-go chain.
pub const SIMD_CHAIN_ID: &str = "simd-1";
/// `surety-b-1`'s root, under the localnet root.
pub const SURETY_B_DIR: &str = "surety-b";
/// Hermes' home, under the localnet root.
pub const HERMES_DIR: &str = "hermes";
/// `simd-1`'s first port, before the port offset.
pub const SIMD_PORT_BASE: u16 = 20500;

/// `<root>/surety-b`.
pub fn surety_b_root(root: &Path) -> PathBuf {
    root.join(SURETY_B_DIR)
}

/// `<root>/simd-1` (where [`SimdOptions::new`] puts it).
pub fn simd_home(root: &Path) -> PathBuf {
    root.join(SIMD_CHAIN_ID)
}

/// `<root>/hermes`.
pub fn hermes_home(root: &Path) -> PathBuf {
    root.join(HERMES_DIR)
}

/// `surety-b-1`'s port offset: right after the main network's `validators` validators.
pub fn surety_b_offset(offset: u16, validators: usize) -> Result<u16> {
    u16::try_from(u64::from(offset) + 100 * validators as u64)
        .ok()
        .filter(|o| Ports::for_node(0, *o).is_ok())
        .with_context(|| {
            format!("port offset {offset} with {validators} validators leaves no room for {SURETY_B_CHAIN_ID}")
        })
}

/// `simd-1`'s ports for the main network's port offset.
pub fn simd_ports(offset: u16) -> Result<SimdPorts> {
    let base = SIMD_PORT_BASE.checked_add(offset).with_context(|| {
        format!("port offset {offset} is too large for --ibc (simd-1 listens on {SIMD_PORT_BASE} + offset)")
    })?;
    SimdPorts::block(base).with_context(|| {
        format!("port offset {offset} is too large for --ibc (simd-1 listens on {SIMD_PORT_BASE}–{} + offset)", SIMD_PORT_BASE + 4)
    })
}

/// Every port the three chains listen on, checked to be distinct.
fn check_no_clash(
    a_offset: u16,
    a_validators: usize,
    b_offset: u16,
    simd: &SimdPorts,
) -> Result<()> {
    let mut all: Vec<(String, u16)> = Vec::new();
    for (chain, offset, n) in [
        (SURETY_A_CHAIN_ID, a_offset, a_validators),
        (SURETY_B_CHAIN_ID, b_offset, 1),
    ] {
        for i in 0..n {
            for (what, port) in Ports::for_node(i, offset)?.named() {
                all.push((format!("{chain} validator {i} {what}"), port));
            }
        }
        let feed = u16::try_from(26690 + u32::from(offset))
            .with_context(|| format!("{chain}: oracle feed port out of range"))?;
        all.push((format!("{chain} oracle feed"), feed));
    }
    for (what, port) in [
        ("RPC", simd.rpc),
        ("P2P", simd.p2p),
        ("gRPC", simd.grpc),
        ("API", simd.api),
        ("pprof", simd.pprof),
    ] {
        all.push((format!("{SIMD_CHAIN_ID} {what}"), port));
    }
    all.sort_by_key(|(_, p)| *p);
    for w in all.windows(2) {
        if w[0].1 == w[1].1 {
            bail!("port {} would be used by {} and {}", w[0].1, w[0].0, w[1].0);
        }
    }
    Ok(())
}

/// Whether anything of an `--ibc` localnet exists under `root`.
pub fn present(root: &Path) -> bool {
    surety_b_root(root).join("localnet.json").exists()
        || simd_home(root).exists()
        || hermes_home(root).exists()
}

/// Stops whatever of an `--ibc` localnet runs under `root` — Hermes, simd, `surety-b-1`'s
/// nodes — whoever started it. `opts` supplies the binaries and timeouts for `surety-b-1`.
/// Returns what was running.
pub fn stop_extras(root: &Path, opts: &LocalnetOptions) -> Result<Vec<String>> {
    let mut was = Vec::new();
    let hermes = hermes_home(root);
    if !procs::processes_using(&hermes, &["hermes"]).is_empty() {
        was.push("hermes".to_owned());
    }
    stop_leftovers(&hermes, &["hermes"], Duration::from_secs(10))?;
    let simd = simd_home(root);
    if !procs::processes_using(&simd, &["simd"]).is_empty() {
        was.push(SIMD_CHAIN_ID.to_owned());
    }
    stop_leftovers(&simd, &["simd"], Duration::from_secs(20))?;
    let b_root = surety_b_root(root);
    if b_root.join("localnet.json").exists() {
        let mut b = Localnet::open(LocalnetOptions {
            root: b_root,
            ..opts.clone()
        })?;
        if (0..b.validators()).any(|i| b.is_running(i)) {
            was.push(SURETY_B_CHAIN_ID.to_owned());
        }
        b.stop()?;
    }
    Ok(was)
}

/// How long each step took, for the summary.
#[derive(Debug, Clone, Default)]
pub struct IbcTimes {
    /// `surety-b-1`: `create()` (`None` when an existing one was reused), then start until
    /// block 2.
    pub surety_b_create: Option<Duration>,
    pub surety_b_start: Duration,
    /// `simd-1`: `create()` (`None` when an existing one was reused), then start until block 2.
    pub simd_create: Option<Duration>,
    pub simd_start: Duration,
    /// Hermes config, keys, the three channels (or checking recorded ones) and `hermes start`.
    pub link: Duration,
}

/// `surety-b-1`, `simd-1` and Hermes, as `start --ibc` runs them beside the main network.
/// Dropping it stops what it started.
#[derive(Debug)]
pub struct IbcSide {
    tools: IbcTools,
    root: PathBuf,
    pub surety_b: Localnet,
    pub simd: SimdChain,
    pub links: Option<IbcLinks>,
    pub times: IbcTimes,
    surety_b_spawned: Option<Instant>,
    simd_spawned: Option<Instant>,
    cancel: Option<Arc<AtomicBool>>,
    verbose: bool,
}

impl IbcSide {
    /// Plans the extra chains beside the main network `a` (its options as they will be: root,
    /// validator count, port offset, binaries), checking that no two ports clash. Nothing is
    /// created or started.
    pub fn new(tools: IbcTools, a: &LocalnetOptions) -> Result<IbcSide> {
        let root = a.root.clone();
        let b_offset = surety_b_offset(a.port_offset, a.validators)?;
        let ports = simd_ports(a.port_offset)?;
        check_no_clash(a.port_offset, a.validators, b_offset, &ports)?;
        let b_opts = LocalnetOptions {
            validators: 1,
            root: surety_b_root(&root),
            chain_id: SURETY_B_CHAIN_ID.to_owned(),
            port_offset: b_offset,
            // Its progress would read like the main network's; the launcher reports it.
            verbose: false,
            ..a.clone()
        };
        let simd = SimdChain::new(&tools.simd, SimdOptions::new(&root, SIMD_CHAIN_ID, ports));
        Ok(IbcSide {
            tools,
            root,
            surety_b: Localnet::new(b_opts)?,
            simd,
            links: None,
            times: IbcTimes::default(),
            surety_b_spawned: None,
            simd_spawned: None,
            cancel: None,
            verbose: a.verbose,
        })
    }

    /// Aborts `surety-b-1`'s bounded waits once `flag` is set (see [`Localnet::set_cancel_flag`]).
    pub fn set_cancel_flag(&mut self, flag: Arc<AtomicBool>) {
        self.surety_b.set_cancel_flag(flag.clone());
        self.cancel = Some(flag);
    }

    pub fn tools(&self) -> &IbcTools {
        &self.tools
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates `surety-b-1` unless a complete one with that chain id and port offset is in its
    /// root (`fresh` forces a new one), and `simd-1` unless a complete one is in its home.
    pub fn create(&mut self, fresh: bool) -> Result<()> {
        let b_opts = self.surety_b.options().clone();
        let reuse = !fresh
            && Localnet::read_manifest(&b_opts.root)?.is_some_and(|m| {
                m.chain_id == SURETY_B_CHAIN_ID && m.port_offset == b_opts.port_offset
            });
        let t = Instant::now();
        if reuse {
            self.say(format!(
                "{SURETY_B_CHAIN_ID}: reusing the network in {}",
                b_opts.root.display()
            ));
            self.surety_b = Localnet::open(b_opts)?;
            if let Some(c) = &self.cancel {
                self.surety_b.set_cancel_flag(c.clone());
            }
            self.times.surety_b_create = None;
        } else {
            self.say(format!(
                "{SURETY_B_CHAIN_ID}: creating 1 validator in {} (port offset {})",
                b_opts.root.display(),
                b_opts.port_offset
            ));
            self.surety_b.create()?;
            self.times.surety_b_create = Some(t.elapsed());
        }
        self.say(format!(
            "{SIMD_CHAIN_ID}: creating (or reusing) {} (ports {}–{})",
            self.simd.home().display(),
            self.simd.ports().rpc,
            self.simd.ports().pprof
        ));
        let t = Instant::now();
        let created = self.simd.create()?;
        self.times.simd_create = created.then(|| t.elapsed());
        Ok(())
    }

    /// Starts `surety-b-1` and `simd-1` without waiting for blocks.
    pub fn spawn(&mut self) -> Result<()> {
        self.say(format!(
            "starting {SURETY_B_CHAIN_ID} (log {}) and {SIMD_CHAIN_ID} (log {})",
            self.surety_b.log_path(0).display(),
            self.simd.log_path().display()
        ));
        self.surety_b.start()?;
        self.surety_b_spawned = Some(Instant::now());
        self.simd.spawn()?;
        self.simd_spawned = Some(Instant::now());
        Ok(())
    }

    /// Runs `main_wait` (the main network's wait for its first blocks) on this thread while
    /// two others wait for `surety-b-1` and `simd-1` to commit block 2, so that each chain's
    /// start time is measured on its own. Returns `main_wait`'s result, or the first error.
    pub fn wait_ready_while<T>(
        &mut self,
        timeout: Duration,
        main_wait: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let now = Instant::now();
        let b_from = self.surety_b_spawned.unwrap_or(now);
        let s_from = self.simd_spawned.unwrap_or(now);
        let (b, simd) = (&mut self.surety_b, &mut self.simd);
        let (main, b_ready, s_ready) = thread::scope(|sc| {
            let hb = sc.spawn(move || b.wait_for_height(2, timeout).map(|_| b_from.elapsed()));
            let hs = sc.spawn(move || simd.wait_for_height(2, timeout).map(|_| s_from.elapsed()));
            let main = main_wait();
            let join = |h: thread::ScopedJoinHandle<'_, Result<Duration>>| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("waiting thread panicked")))
            };
            (main, join(hb), join(hs))
        });
        let main = main?;
        self.times.surety_b_start = b_ready.context(SURETY_B_CHAIN_ID)?;
        self.times.simd_start = s_ready.context(SIMD_CHAIN_ID)?;
        Ok(main)
    }

    /// Links the main network `a` (through its validator 0), `surety-b-1` and `simd-1`: Hermes
    /// config and keys, the three transfer channels (recorded ones are reused while open and
    /// their clients active), `hermes start`.
    pub fn connect(&mut self, a: &Localnet) -> Result<&IbcLinks> {
        let t = Instant::now();
        let refs = [surety_ref(a), surety_ref(&self.surety_b)];
        let links = connect_surety(&self.tools, &self.root, &refs, &self.simd)?;
        self.times.link = t.elapsed();
        Ok(self.links.insert(links))
    }

    fn say(&self, msg: String) {
        if self.verbose {
            eprintln!("[localnet] {msg}");
        }
    }

    /// Descriptions of the processes (of `surety-b-1`, `simd-1`, Hermes) that have exited
    /// since the last call.
    pub fn newly_exited(&mut self, seen: &mut Vec<String>) -> Vec<String> {
        let mut out = Vec::new();
        let mut note = |what: String, tail: String| {
            if !seen.contains(&what) {
                seen.push(what.clone());
                out.push(format!("{what} has exited!\n{tail}"));
            }
        };
        for i in 0..self.surety_b.validators() {
            if !self.surety_b.is_running(i) {
                note(
                    format!("{SURETY_B_CHAIN_ID} validator {i}"),
                    format!(
                        "--- tail of {} ---\n{}",
                        self.surety_b.log_path(i).display(),
                        self.surety_b.log_tail(i, 30)
                    ),
                );
            }
        }
        if !self.simd.is_running() {
            note(
                SIMD_CHAIN_ID.to_owned(),
                format!(
                    "--- tail of {} ---\n{}",
                    self.simd.log_path().display(),
                    self.simd.log_tail(30)
                ),
            );
        }
        if let Some(l) = self.links.as_mut() {
            if !l.hermes.is_running() {
                note(
                    "hermes".to_owned(),
                    format!(
                        "--- tail of {} ---\n{}",
                        l.hermes.log_path().display(),
                        l.hermes.log_tail(30)
                    ),
                );
            }
        }
        out
    }

    /// Stops Hermes, then `simd-1`, then `surety-b-1` (and any leftover of theirs); every step
    /// is tried, the first error returned.
    pub fn stop(&mut self) -> Result<()> {
        let mut first: Option<anyhow::Error> = None;
        let mut keep = |r: Result<()>| {
            if let Err(e) = r {
                first.get_or_insert(e);
            }
        };
        if let Some(mut l) = self.links.take() {
            keep(l.hermes.stop());
        } else {
            keep(stop_leftovers(
                &hermes_home(&self.root),
                &["hermes"],
                Duration::from_secs(10),
            ));
        }
        keep(self.simd.stop());
        keep(self.surety_b.stop());
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// How Hermes reaches Surety network `net`: its validator 0.
fn surety_ref(net: &Localnet) -> SuretyChainRef {
    let p = net.ports(0);
    SuretyChainRef {
        chain_id: net.chain_id().to_owned(),
        rpc_port: p.rpc,
        grpc_port: p.grpc,
        relayer_mnemonic: RELAYER_MNEMONIC.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_do_not_clash() {
        // Defaults: 4 validators at offset 0.
        assert_eq!(surety_b_offset(0, 4).unwrap(), 400);
        let simd = simd_ports(0).unwrap();
        assert_eq!((simd.rpc, simd.grpc), (20500, 20502));
        check_no_clash(0, 4, 400, &simd).unwrap();
        // The brief's test layout: one validator at offset 7000.
        assert_eq!(surety_b_offset(7000, 1).unwrap(), 7100);
        let simd = simd_ports(7000).unwrap();
        assert_eq!((simd.rpc, simd.pprof), (27500, 27504));
        check_no_clash(7000, 1, 7100, &simd).unwrap();
        // Too many validators for the room left, or too large an offset.
        assert!(simd_ports(45100).is_err());
        assert!(surety_b_offset(38000, 9).is_err());
        // A clash is found.
        assert!(check_no_clash(0, 4, 300, &simd_ports(0).unwrap()).is_err());
    }

    #[test]
    fn layout() {
        let root = Path::new("/x/.localnet");
        assert_eq!(surety_b_root(root), Path::new("/x/.localnet/surety-b"));
        assert_eq!(simd_home(root), Path::new("/x/.localnet/simd-1"));
        assert_eq!(hermes_home(root), Path::new("/x/.localnet/hermes"));
        let o = SimdOptions::new(root, SIMD_CHAIN_ID, simd_ports(0).unwrap());
        assert_eq!(o.home, simd_home(root));
    }
}
