//! `surety-localnet`: create, start, stop, wipe and inspect a multi-validator
//! Surety network on loopback.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use surety_localnet::ibc::{self, launch, launch::IbcSide, IbcTools};
use surety_localnet::{cli, procs, Localnet, LocalnetOptions, DEFAULT_FEES, STAKE_DENOM};

#[derive(Parser, Debug)]
#[command(
    name = "surety-localnet",
    version,
    about = "One-command multi-validator Surety network on 127.0.0.1"
)]
struct Cli {
    /// Directory holding the node homes (default: <repo>/.localnet).
    #[arg(long, global = true, env = "SURETY_LOCALNET_ROOT")]
    root: Option<PathBuf>,
    /// The suretyd binary (default: beside this binary, then on PATH).
    #[arg(long, global = true, env = "SURETYD")]
    suretyd: Option<PathBuf>,
    /// The cometbft binary (default: on PATH, then ~/go/bin).
    #[arg(long, global = true, env = "SURETY_COMETBFT")]
    cometbft: Option<PathBuf>,
    /// A built web app (`web/dist`) for every node's REST port to serve (`localnet/run` builds
    /// and passes it).
    #[arg(long, global = true, env = "SURETY_WEB_DIST")]
    web: Option<PathBuf>,
    /// Print less progress.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Create the network if absent, start it, print its endpoints and demo
    /// accounts, and run until Ctrl-C (which stops the nodes).
    Start {
        /// Number of validators (only when creating; default 4).
        #[arg(long)]
        validators: Option<usize>,
        /// Delete any existing network under the root and create a new one.
        #[arg(long)]
        fresh: bool,
        /// Added to every port (only when creating; default 0).
        #[arg(long, visible_alias = "port-offset")]
        offset: Option<u16>,
        /// Chain id (only when creating; default surety-localnet, surety-a-1 with --ibc).
        #[arg(long, conflicts_with = "ibc")]
        chain_id: Option<String>,
        /// CometBFT consensus.timeout_commit (only when creating).
        #[arg(long)]
        timeout_commit: Option<String>,
        /// Seconds to wait for the first blocks.
        #[arg(long, default_value_t = 120)]
        wait: u64,
        /// Create the network without oracle vote extensions (to measure what they cost).
        #[arg(long)]
        no_vote_extensions: bool,
        /// IBC: run this network as surety-a-1 beside a second Surety network (surety-b-1, one
        /// validator), an ibc-go chain (simd-1) and the Hermes relayer, linked by ICS-20
        /// transfer channels. Needs simd and hermes ($SURETY_SIMD/$SURETY_HERMES, else
        /// scripts/install-ibc-tools.sh builds them).
        #[arg(long)]
        ibc: bool,
    },
    /// Stop a running network (keeps its data).
    Stop,
    /// Stop the network and delete its root directory.
    Wipe,
    /// Show each validator's processes, height, app hash and endpoints.
    Status,
    /// Move the simulated oracle feed: `set-price USDC/USD 0.95` (every validator, or one with
    /// --validator, e.g. to make it report a wild price).
    SetPrice {
        feed: String,
        price: String,
        #[arg(long)]
        validator: Option<usize>,
    },
    /// Freeze validator i's processes for a while, as a node that goes offline, then let it go
    /// on: `pause 3 30`. Long enough (more than half of the 30-block liveness window), it is
    /// slashed and jailed for downtime.
    Pause { validator: usize, secs: u64 },
    /// Make validators attest an incident in their vote extensions: `attest 3 yes`.
    Attest {
        incident: u64,
        #[arg(value_parser = ["yes", "no"])]
        option: String,
        #[arg(long)]
        validator: Option<usize>,
    },
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
        libc::signal(libc::SIGHUP, handler as libc::sighandler_t);
    }
}

/// "validators 0–3" or "validator 2", after checking that validator exists.
fn feed_targets(net: &Localnet, only: Option<usize>) -> Result<String> {
    let n = net.validators();
    match only {
        Some(i) if i >= n => bail!("no validator {i}: this localnet has validators 0–{}", n - 1),
        Some(i) => Ok(format!("validator {i}")),
        None if n == 1 => Ok("validator 0".into()),
        None => Ok(format!("validators 0–{}", n - 1)),
    }
}

fn options(cli: &Cli) -> LocalnetOptions {
    let mut o = LocalnetOptions::default();
    if let Some(r) = &cli.root {
        o.root = r.clone();
    }
    if let Some(s) = &cli.suretyd {
        o.suretyd = s.clone();
    }
    if let Some(c) = &cli.cometbft {
        o.cometbft = c.clone();
    }
    o.web = cli.web.clone();
    o.verbose = !cli.quiet;
    o
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Cmd::Start {
            validators,
            fresh,
            offset,
            chain_id,
            timeout_commit,
            wait,
            no_vote_extensions,
            ibc,
        } => start(
            &cli,
            *validators,
            *fresh,
            *offset,
            chain_id.clone(),
            timeout_commit.clone(),
            (Duration::from_secs(*wait), !no_vote_extensions, *ibc),
        ),
        Cmd::Stop => stop(&cli).map(|_| ()),
        Cmd::Wipe => wipe(&cli),
        Cmd::Status => status(&cli),
        Cmd::SetPrice {
            feed,
            price,
            validator,
        } => Localnet::open(options(&cli)).and_then(|net| {
            let who = feed_targets(&net, *validator)?;
            net.set_price(*validator, feed, price)?;
            println!(
                "{who} now report {feed} at {price} in their vote extensions; the chain's price \
                 (the median of the votes) follows within a block or two: \
                 `suretyd query oracle price {feed}`"
            );
            Ok(())
        }),
        Cmd::Pause { validator, secs } => {
            Localnet::open(options(&cli)).and_then(|net| pause(&net, *validator, *secs))
        }
        Cmd::Attest {
            incident,
            option,
            validator,
        } => Localnet::open(options(&cli)).and_then(|net| {
            let who = feed_targets(&net, *validator)?;
            net.attest(*validator, *incident, option == "yes")?;
            println!(
                "{who} now attest {option} to incident {incident} in their vote extensions; \
                 it resolves once attestations reach the oracle's threshold: \
                 `suretyd query oracle incident {incident}`"
            );
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("surety-localnet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// SIGSTOP to validator `i`'s `suretyd` and `cometbft` for `secs` seconds, then SIGCONT, also
/// when interrupted: a paused node signs nothing, as if it were offline.
fn pause(net: &Localnet, i: usize, secs: u64) -> Result<()> {
    feed_targets(net, Some(i))?;
    let pids = net.node_pids(i);
    if pids.is_empty() {
        bail!("validator {i} is not running");
    }
    let signal_all = |signal: libc::c_int| {
        for (_, pid) in &pids {
            // SAFETY: kill(2) with a pid we read from the node's own processes.
            unsafe { libc::kill(*pid, signal) };
        }
    };
    install_signal_handlers();
    signal_all(libc::SIGSTOP);
    println!("validator {i} paused for {secs} s (it signs no blocks meanwhile)");
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until && !INTERRUPTED.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(100));
    }
    signal_all(libc::SIGCONT);
    println!("validator {i} resumed; its missed blocks: `suretyd query slashing signing-infos`");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn start(
    cli: &Cli,
    validators: Option<usize>,
    fresh: bool,
    offset: Option<u16>,
    chain_id: Option<String>,
    timeout_commit: Option<String>,
    (wait, vote_extensions, ibc): (Duration, bool, bool),
) -> Result<()> {
    let mut opts = options(cli);
    opts.vote_extensions = vote_extensions;
    if let Some(n) = validators {
        opts.validators = n;
    }
    if let Some(o) = offset {
        opts.port_offset = o;
    }
    // Under --ibc the main network must be surety-a-1 (clap refuses --chain-id with --ibc).
    let chain_id_given = chain_id.is_some() || ibc;
    if let Some(c) = chain_id {
        opts.chain_id = c;
    }
    if ibc {
        opts.chain_id = launch::SURETY_A_CHAIN_ID.to_owned();
    }
    if let Some(t) = timeout_commit {
        opts.timeout_commit = t;
    }
    let tools = if ibc {
        Some(IbcTools::locate().context(
            "--ibc needs simd and hermes: set $SURETY_SIMD and $SURETY_HERMES, or run scripts/install-ibc-tools.sh",
        )?)
    } else {
        None
    };
    install_signal_handlers();
    let interrupted = Arc::new(AtomicBool::new(false));
    // Relay the signal flag into the Localnet's cancel flag.
    {
        let interrupted = interrupted.clone();
        thread::spawn(move || loop {
            if INTERRUPTED.load(Ordering::SeqCst) {
                interrupted.store(true, Ordering::SeqCst);
                return;
            }
            thread::sleep(Duration::from_millis(100));
        });
    }

    let probe = Localnet::new(opts.clone())?;
    if let Some(pid) = probe.live_launcher() {
        bail!(
            "a localnet launcher (pid {pid}) is already running for {}; use `surety-localnet status` or `stop`",
            probe.root().display()
        );
    }
    let existing = Localnet::read_manifest(probe.root())?;
    drop(probe);

    let reuse = match &existing {
        Some(m) if !fresh => {
            if validators.is_some_and(|n| n != m.validators)
                || offset.is_some_and(|o| o != m.port_offset)
                || (chain_id_given && opts.chain_id != m.chain_id)
            {
                bail!(
                    "the localnet in {} has {} validators, port offset {} and chain id {}{}; \
                     pass --fresh to recreate it with other settings",
                    opts.root.display(),
                    m.validators,
                    m.port_offset,
                    m.chain_id,
                    if ibc && m.chain_id != opts.chain_id {
                        format!(" (--ibc needs {})", opts.chain_id)
                    } else {
                        String::new()
                    }
                );
            }
            eprintln!(
                "[localnet] reusing the network in {} (use --fresh for a new one)",
                opts.root.display()
            );
            true
        }
        _ => false,
    };
    let mut net = if reuse {
        Localnet::open(opts)?
    } else {
        Localnet::new(opts)?
    };
    net.set_cancel_flag(interrupted.clone());
    // The IBC side is planned (ports checked) before anything is created.
    let mut side = match tools {
        Some(tools) => {
            let mut side = IbcSide::new(tools, net.options())?;
            side.set_cancel_flag(interrupted.clone());
            Some(side)
        }
        None => None,
    };
    let t_create = Instant::now();
    if !reuse {
        if existing.is_some() {
            eprintln!(
                "[localnet] --fresh: stopping and deleting {}",
                net.root().display()
            );
            net.stop()?;
        }
        // Creating deletes the root, with whatever an earlier --ibc run left in it.
        let was = launch::stop_extras(net.root(), net.options())?;
        if !was.is_empty() {
            eprintln!("[localnet] stopped leftovers: {}", was.join(", "));
        }
        net.create()?;
    }
    let a_create = (!reuse).then(|| t_create.elapsed());
    if let Some(side) = side.as_mut() {
        side.create(!reuse)?;
    }
    net.set_launcher_pid(Some(std::process::id()));

    net.start()?;
    let a_spawned = Instant::now();
    let run = (|| -> Result<()> {
        let mut a_start = Duration::ZERO;
        let mut wait_main = || -> Result<()> {
            net.wait_for_height(1, wait)?;
            let h = net
                .heights(&net.running_nodes())?
                .into_iter()
                .max()
                .unwrap_or(1);
            net.wait_for_height(h + 1, wait)?;
            a_start = a_spawned.elapsed();
            Ok(())
        };
        match side.as_mut() {
            Some(side) => {
                side.spawn()?;
                side.wait_ready_while(wait, wait_main)?;
                net.seed_market()?;
                eprintln!(
                    "[localnet] linking {}, {} and {} with Hermes (about 15 s per new channel)…",
                    net.chain_id(),
                    launch::SURETY_B_CHAIN_ID,
                    launch::SIMD_CHAIN_ID
                );
                side.connect(&net)?;
            }
            None => {
                wait_main()?;
                net.seed_market()?;
            }
        }
        print_summary(&net);
        if let Some(side) = &side {
            print_ibc_summary(&net, side, (a_create, a_start));
        }
        println!(
            "\nRunning. Press Ctrl-C to stop (data is kept; `surety-localnet wipe` deletes it)."
        );
        let mut last_check = Instant::now();
        let mut reported = vec![false; net.validators()];
        let mut side_reported = Vec::new();
        while !interrupted.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(200));
            if last_check.elapsed() >= Duration::from_secs(2) {
                last_check = Instant::now();
                for (i, seen) in reported.iter_mut().enumerate() {
                    if !*seen && !net.is_running(i) {
                        *seen = true;
                        eprintln!(
                            "[localnet] validator {i} has exited!\n--- tail of {} ---\n{}",
                            net.log_path(i).display(),
                            net.log_tail(i, 30)
                        );
                    }
                }
                if let Some(side) = side.as_mut() {
                    for msg in side.newly_exited(&mut side_reported) {
                        eprintln!("[localnet] {msg}");
                    }
                }
            }
        }
        Ok(())
    })();
    let mut stopped_side = Ok(());
    if let Some(side) = side.as_mut() {
        eprintln!(
            "\n[localnet] stopping hermes, {} and {}…",
            launch::SIMD_CHAIN_ID,
            launch::SURETY_B_CHAIN_ID
        );
        stopped_side = side.stop();
    }
    eprintln!("\n[localnet] stopping the nodes…");
    net.set_launcher_pid(None);
    let stopped = net.stop().and(stopped_side);
    match (&run, &stopped) {
        (_, Err(e)) => eprintln!("[localnet] stop: {e:#}"),
        (_, Ok(())) => eprintln!("[localnet] stopped; data kept in {}", net.root().display()),
    }
    if let Err(e) = &run {
        if interrupted.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut msg = format!("{e:#}");
        if !msg.contains("--- tail of") {
            for i in 0..net.validators() {
                msg.push_str(&format!(
                    "\n--- tail of {} ---\n{}",
                    net.log_path(i).display(),
                    net.log_tail(i, 15)
                ));
            }
        }
        bail!(msg);
    }
    stopped
}

/// The IBC part of `start --ibc`'s summary: chains, channels, logs, the simd CLI, times.
fn print_ibc_summary(
    net: &Localnet,
    side: &IbcSide,
    (a_create, a_start): (Option<Duration>, Duration),
) {
    let b = &side.surety_b;
    let simd = &side.simd;
    println!();
    println!("IBC: three chains linked by Hermes over ICS-20 `transfer` channels");
    println!();
    println!("{:<12} {:<24} {:<17} data", "chain", "RPC", "gRPC");
    for (id, rpc, grpc, data) in [
        (
            net.chain_id(),
            net.endpoints(0).rpc,
            net.endpoints(0).grpc,
            format!("{} (validators above)", net.root().display()),
        ),
        (
            b.chain_id(),
            b.endpoints(0).rpc,
            b.endpoints(0).grpc,
            b.node_home(0).display().to_string(),
        ),
        (
            simd.chain_id(),
            simd.rpc_url(),
            format!("127.0.0.1:{}", simd.ports().grpc),
            simd.home().display().to_string(),
        ),
    ] {
        println!("{id:<12} {rpc:<24} {grpc:<17} {data}");
    }
    println!();
    println!("Channels (port transfer on both sides):");
    let channels = side.links.as_ref().map(|l| &l.channels[..]).unwrap_or(&[]);
    let created_in = side
        .links
        .as_ref()
        .map(|l| &l.created_in[..])
        .unwrap_or(&[]);
    for (i, c) in channels.iter().enumerate() {
        println!(
            "  {:<11} {:<11} <-> {:<11} {:<11} ({} / {}; {})",
            c.a.chain_id,
            c.a.channel_id,
            c.b.chain_id,
            c.b.channel_id,
            c.a.connection_id,
            c.b.connection_id,
            match created_in.get(i).copied().flatten() {
                Some(d) => format!("created in {:.1} s", d.as_secs_f64()),
                None => "reused".to_owned(),
            }
        );
    }
    println!();
    println!("Logs:");
    println!(
        "  {:<11} {}/node<i>/node.log",
        net.chain_id(),
        net.root().display()
    );
    println!("  {:<11} {}", b.chain_id(), b.log_path(0).display());
    println!("  {:<11} {}", simd.chain_id(), simd.log_path().display());
    if let Some(l) = &side.links {
        println!(
            "  {:<11} {} (config {})",
            "hermes",
            l.hermes.log_path().display(),
            l.hermes.config_path().display()
        );
    }
    let tools = side.tools();
    let simd_bin = tools.simd.display();
    let home = simd.home().display();
    let rpc = simd.rpc_url();
    println!();
    println!(
        "{} CLI (it does not read client.toml: pass --node, and --keyring-backend test for keys and txs):",
        simd.chain_id()
    );
    println!("  {simd_bin} --home {home} <command> --node {rpc}");
    if let Ok(user) = simd.account("user") {
        println!(
            "  account `user`: {} (key in the test keyring of {home})",
            user.address
        );
        println!(
            "  {simd_bin} --home {home} query bank balances {} --node {rpc}",
            user.address
        );
    }
    let to_a = channels
        .iter()
        .find_map(|c| c.oriented(simd.chain_id(), net.chain_id()));
    if let (Some(ch), Ok(alice)) = (to_a, net.account("alice")) {
        println!(
            "  {simd_bin} --home {home} tx ibc-transfer transfer transfer {} {} 1000000{} --from user --keyring-backend test --chain-id {} --node {rpc} --fees {} --yes",
            ch.a.channel_id,
            alice.address,
            ibc::SIMD_STABLE_DENOM,
            simd.chain_id(),
            ibc::SIMD_FEES
        );
        println!(
            "    (alice receives it on {} as {})",
            net.chain_id(),
            ibc::ibc_denom(ibc::TRANSFER_PORT, &ch.b.channel_id, ibc::SIMD_STABLE_DENOM)
        );
    }
    let sd = suretyd_for_display(net);
    println!(
        "Surety: {sd} query ibc channels --node {}",
        net.endpoints(0).rpc
    );
    if let Some(l) = &side.links {
        println!(
            "Hermes: {} --config {} query channels --chain {}",
            tools.hermes.display(),
            l.hermes.config_path().display(),
            net.chain_id()
        );
    }
    let t = &side.times;
    let s = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    let made = |d: Option<Duration>| match d {
        Some(d) => format!("created in {}", s(d)),
        None => "reused".to_owned(),
    };
    println!();
    println!("Times:");
    println!(
        "  {:<11} {}, first blocks {} after start",
        net.chain_id(),
        made(a_create),
        s(a_start)
    );
    println!(
        "  {:<11} {}, block 2 {} after start",
        b.chain_id(),
        made(t.surety_b_create),
        s(t.surety_b_start)
    );
    println!(
        "  {:<11} {}, block 2 {} after start",
        simd.chain_id(),
        made(t.simd_create),
        s(t.simd_start)
    );
    if let Some(l) = &side.links {
        println!(
            "  {:<11} config, keys, {} channel(s) and `hermes start` ({}) in {}",
            "hermes",
            channels.len(),
            s(l.start_time),
            s(t.link)
        );
    }
}

fn print_summary(net: &Localnet) {
    let Some(m) = net.manifest() else { return };
    println!();
    println!(
        "Surety localnet `{}` — {} validator(s), data in {}",
        m.chain_id,
        m.validators,
        net.root().display()
    );
    println!();
    println!(
        "{:<13} {:<24} {:<17} {:<23} {:<24} {:<8} {:<8}",
        "validator", "RPC", "gRPC", "REST", "P2P", "height", "pid"
    );
    let pids = net.read_pids();
    for node in &m.nodes {
        let e = net.endpoints(node.index);
        let height = net
            .status(node.index)
            .map(|s| s.height.to_string())
            .unwrap_or_else(|_| "?".into());
        let pid = pids
            .nodes
            .iter()
            .find(|(i, _, _)| *i == node.index)
            .map(|(_, p, _)| p.to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<13} {:<24} {:<17} {:<23} {:<24} {:<8} {:<8}",
            node.moniker, e.rpc, e.grpc, e.rest, e.p2p, height, pid
        );
    }
    println!();
    let e0 = net.endpoints(0);
    if net.options().web.is_some() {
        println!(
            "Web app: {}/  (every validator's REST port serves it)",
            e0.rest
        );
    }
    println!("Logs:    {}/node<i>/node.log", net.root().display());
    println!(
        "Metrics: CometBFT {} and app {} (validator 0; ports +100 per validator)",
        e0.prometheus, e0.metrics
    );
    println!();
    println!(
        "Demo accounts (keys in the `test` keyring of {}):",
        m.nodes[0].home.display()
    );
    for a in &m.accounts {
        println!("  {:<6} {}", a.name, a.address);
        println!("         mnemonic: {}", a.mnemonic);
    }
    let sd = suretyd_for_display(net);
    let node0 = &m.nodes[0];
    let rpc0 = net.rpc_url(0);
    if let (Some(from), Some(to)) = (m.accounts.first(), m.accounts.get(1)) {
        println!();
        println!("Try:");
        println!(
            "  {sd} tx bank send {} {} 1000000{STAKE_DENOM} --chain-id {} --node {rpc0} --home {} --keyring-backend test --fees {DEFAULT_FEES} --output json",
            from.name,
            to.address,
            m.chain_id,
            node0.home.display()
        );
        println!(
            "  {sd} query bank balances {} --node {rpc0} --output json",
            to.address
        );
        println!();
        println!("Insurance (see the README's walkthrough):");
        println!("  {sd} query pool pools --node {rpc0}");
        println!("  {sd} query policy products --node {rpc0}");
        println!("  {sd} query policy quote 4 10000000000uusdc 90 --node {rpc0}");
        println!(
            "  {sd} tx policy buy 4 10000000000uusdc 90 --from {} --home {} --keyring-backend test --node {rpc0} --chain-id {} --gas auto --fees {DEFAULT_FEES}",
            to.name,
            node0.home.display(),
            m.chain_id
        );
    }
}

/// `suretyd` if that is what is on PATH, else the full path in use.
fn suretyd_for_display(net: &Localnet) -> String {
    let bin = &net.options().suretyd;
    match cli::which("suretyd") {
        Some(p) if p.canonicalize().ok() == bin.canonicalize().ok() => "suretyd".into(),
        _ => bin.display().to_string(),
    }
}

/// Stops the network under the root. Returns whether anything was running.
fn stop(cli: &Cli) -> Result<bool> {
    let opts = options(cli);
    let mut net = match Localnet::open(opts.clone()) {
        Ok(net) => net,
        Err(_) => Localnet::new(opts)?,
    };
    let mut anything = false;
    if let Some(pid) = net.live_launcher() {
        anything = true;
        eprintln!("[localnet] asking the launcher (pid {pid}) to stop the nodes…");
        procs::signal(pid, libc::SIGTERM);
        let mut limit = net.options().stop_timeout + Duration::from_secs(15);
        if launch::present(net.root()) {
            // It stops Hermes, simd-1 and surety-b-1 first.
            limit += Duration::from_secs(60);
        }
        if !procs::wait_until(limit, || !procs::is_alive(pid)) {
            eprintln!("[localnet] the launcher did not exit within {limit:?}; stopping the nodes directly");
        }
    }
    // What an --ibc launcher runs beside the network (Hermes, simd-1, surety-b-1), if left.
    let extras = launch::stop_extras(net.root(), net.options())?;
    if !extras.is_empty() {
        anything = true;
        eprintln!("[localnet] stopped {}", extras.join(", "));
    }
    let running: Vec<usize> = (0..net.validators())
        .filter(|i| net.is_running(*i))
        .collect();
    if !running.is_empty() {
        anything = true;
        eprintln!("[localnet] stopping validators {running:?}…");
    }
    net.stop()?;
    if anything {
        eprintln!("[localnet] stopped; data kept in {}", net.root().display());
    } else {
        eprintln!("[localnet] no localnet running in {}", net.root().display());
    }
    Ok(anything)
}

fn wipe(cli: &Cli) -> Result<()> {
    stop(cli)?;
    let net = Localnet::new(options(cli))?;
    if net.root().exists() {
        surety_localnet::remove_localnet_dir(net.root())?;
        eprintln!("[localnet] deleted {}", net.root().display());
    } else {
        eprintln!("[localnet] nothing to delete at {}", net.root().display());
    }
    Ok(())
}

fn status(cli: &Cli) -> Result<()> {
    // Die quietly when piped into `head` instead of panicking on EPIPE.
    // SAFETY: restoring the default disposition of SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let opts = options(cli);
    let mut net = match Localnet::open(opts) {
        Ok(net) => net,
        Err(e) => {
            println!("{e:#}");
            return Ok(());
        }
    };
    if net.manifest().is_none() {
        return Ok(());
    }
    if let Some(pid) = net.live_launcher() {
        println!("launcher: pid {pid}");
    }
    print_network_status(&mut net);
    if launch::present(net.root()) {
        ibc_status(&net);
    }
    net.detach();
    Ok(())
}

/// One network's validators: state, endpoints, height, peers, app hash, processes.
fn print_network_status(net: &mut Localnet) {
    let Some(m) = net.manifest().cloned() else {
        return;
    };
    println!(
        "Surety localnet `{}` — {} validator(s) in {}",
        m.chain_id,
        m.validators,
        net.root().display()
    );
    println!();
    println!(
        "{:<13} {:<9} {:<24} {:<17} {:<8} {:<6} {:<5} app hash",
        "validator", "state", "RPC", "gRPC", "height", "peers", "sync"
    );
    for node in &m.nodes {
        let i = node.index;
        let running = net.is_running(i);
        let e = net.endpoints(i);
        let (height, hash, sync) = match net.status(i) {
            Ok(s) => (
                s.height.to_string(),
                s.app_hash,
                if s.catching_up { "catch" } else { "ok" }.to_owned(),
            ),
            Err(_) => ("-".into(), String::new(), "-".into()),
        };
        let peers = net
            .rpc()
            .n_peers(&e.rpc)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "-".into());
        let pids: Vec<String> = net
            .node_pids(i)
            .iter()
            .map(|(p, pid)| format!("{p}:{pid}"))
            .collect();
        println!(
            "{:<13} {:<9} {:<24} {:<17} {:<8} {:<6} {:<5} {}",
            node.moniker,
            if running { "running" } else { "stopped" },
            e.rpc,
            e.grpc,
            height,
            peers,
            sync,
            hash
        );
        if !pids.is_empty() {
            println!("{:<13} processes {}", "", pids.join(" "));
        }
    }
    let up: Vec<usize> = (0..m.validators)
        .filter(|&i| net.status(i).is_ok())
        .collect();
    if up.len() > 1 {
        match net.check_same_app_hash(&up) {
            Ok((h, hash)) => {
                println!("\nvalidators {up:?} agree on the app hash after block {h}: {hash}")
            }
            Err(e) => println!("\napp hash check: {e:#}"),
        }
    }
}

/// `status` of what `start --ibc` runs beside the main network: surety-b-1, simd-1, Hermes
/// and the recorded channels.
fn ibc_status(net: &Localnet) {
    let root = net.root();
    println!();
    let b_opts = LocalnetOptions {
        root: launch::surety_b_root(root),
        ..net.options().clone()
    };
    if let Ok(mut b) = Localnet::open(b_opts) {
        print_network_status(&mut b);
        b.detach();
        println!();
    }
    let pids = |home: &std::path::Path, prog: &str| -> Vec<String> {
        procs::processes_using(home, &[prog])
            .iter()
            .map(|p| p.pid.to_string())
            .collect()
    };
    let state = |pids: &[String]| {
        if pids.is_empty() {
            "stopped".to_owned()
        } else {
            format!("running (pid {})", pids.join(" "))
        }
    };
    let simd_home = launch::simd_home(root);
    if simd_home.exists() {
        let p = pids(&simd_home, "simd");
        match launch::simd_ports(net.options().port_offset) {
            Ok(ports) => {
                let rpc = format!("http://127.0.0.1:{}", ports.rpc);
                let height = net
                    .rpc()
                    .status(&rpc)
                    .map(|s| s.height.to_string())
                    .unwrap_or_else(|_| "-".into());
                println!(
                    "{:<11} {}, RPC {rpc}, gRPC 127.0.0.1:{}, height {height}, home {}",
                    launch::SIMD_CHAIN_ID,
                    state(&p),
                    ports.grpc,
                    simd_home.display()
                );
            }
            Err(_) => println!("{:<11} {}", launch::SIMD_CHAIN_ID, state(&p)),
        }
    }
    let hermes_home = launch::hermes_home(root);
    if hermes_home.exists() {
        println!(
            "{:<11} {}, log {}",
            "hermes",
            state(&pids(&hermes_home, "hermes")),
            hermes_home.join("hermes.log").display()
        );
        let channels = ibc::recorded_channels(&hermes_home);
        if !channels.is_empty() {
            println!("channels (port transfer):");
            for c in channels {
                println!(
                    "  {:<11} {:<11} <-> {:<11} {}",
                    c.a.chain_id, c.a.channel_id, c.b.chain_id, c.b.channel_id
                );
            }
        }
    }
}
