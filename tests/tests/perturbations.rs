//! Perturbations under load: a 4-validator localnet of real `suretyd` +
//! `cometbft` processes with `suretyd loadgen` sending signed bank transfers
//! through all four nodes for the whole scenario, while the test
//!
//! (a) SIGKILLs a validator that is not the proposer, then restarts it;
//! (b) SIGKILLs the proposer of the height in progress, then restarts it;
//! (c) SIGSTOPs both processes of validator 0 (the loadgen's first node) for
//!     10 s, then SIGCONTs them;
//! (d) restarts a validator cleanly (SIGTERM, start).
//!
//! After each: the seconds until the others commit a new block (≤ 20 s), the
//! seconds until the perturbed node has caught up, and one app hash on all
//! four nodes at every height since the test began. At the end every
//! transaction the load generator recorded as committed must be in the block
//! at its height on every node (and a sample through `/tx?hash=` too).
//!
//! Knobs: `SURETY_PERTURB_SENDERS` (default 8), `SURETY_PERTURB_RATE`
//! (total tx/s offered, default 0 = as fast as the mempool takes them).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};
use surety_e2e::{cli, step, TestNet, WAIT};

const ALL: [usize; 4] = [0, 1, 2, 3];
/// The network must commit again within this many seconds of a perturbation.
const NEXT_COMMIT_LIMIT_SECS: f64 = 20.0;
/// How long a killed or stopped validator stays down.
const DOWN: Duration = Duration::from_secs(5);
/// How long the paused validator stays SIGSTOPped.
const PAUSE: Duration = Duration::from_secs(10);

#[test]
fn perturbations_under_load() {
    // The demo's 30-block liveness window would jail a validator that a slow machine keeps
    // down or catching up for 16 blocks; with one of four jailed, the clean restart of
    // another leaves 2 of 3 — short of the 2/3 that consensus needs. Recovery is what this
    // test measures, so the window is a mainnet-like 10 000 blocks.
    let mut net = TestNet::create_and_start_with("perturbations", 4, |opts| {
        opts.genesis_params = vec![(
            "slashing".into(),
            serde_json::json!({"signed_blocks_window": "10000"}),
        )]
    })
    .unwrap_or_else(|e| panic!("starting the localnet: {e:#}"));
    // Errors become panics while `net` is alive, so its Drop sees the failure,
    // prints the node logs and keeps the directory.
    if let Err(e) = scenario(&mut net) {
        panic!("{e:#}");
    }
}

/// The figures of one perturbation.
#[derive(Debug, Clone)]
struct Figures {
    what: String,
    node: usize,
    /// Highest height of the others when the perturbation began.
    h_start: u64,
    /// Highest height of the others when the node had caught up.
    h_end: u64,
    next_commit_secs: f64,
    catch_up_secs: f64,
    /// Longest interval between consecutive block times in (h_start, h_end].
    max_gap_secs: f64,
    /// Recorded (committed) load-generator txs with a height in (h_start, h_end].
    txs: usize,
    /// Heights (inclusive) whose app hash all four nodes were compared at.
    checked: (u64, u64),
    note: String,
}

fn scenario(net: &mut TestNet) -> Result<()> {
    // The decoders the checks below rely on.
    ensure!(base64_decode("aGVsbG8=").as_deref() == Some(&b"hello"[..]));
    ensure!(parse_time("2024-03-01T00:00:01.5Z") == Some(1_709_251_201.5));
    let addresses = validator_addresses(net)?;
    step(format!("validator addresses: {addresses:?}"));
    let first_height = net.max_height(&ALL)?;
    // Every height in [first_height, checked_to] has one app hash on all nodes.
    let mut checked_to = first_height - 1;
    let mut times: BTreeMap<u64, f64> = BTreeMap::new();

    let mut load = Loadgen::start(net)?;
    load.wait_recorded(20, 120)?;
    step(format!(
        "load flowing: {} txs recorded committed so far",
        load.recorded()?.len()
    ));
    let mut figures: Vec<Figures> = Vec::new();

    // --- (a) SIGKILL a validator that is not the proposer; restart it. ---
    let (_, proposer, _) = current_proposer(net, &addresses, &[0, 1, 2, 3])?;
    let victim = if proposer == Some(3) { 2 } else { 3 };
    let mut f = kill_and_restart(
        net,
        victim,
        format!("kill -9 validator {victim} (not the proposer)"),
    )?;
    load.check_running()?;
    f.checked = check_app_hashes(net, &mut checked_to, &mut times)?;
    ensure_all_validators(net, &addresses)?;
    figures.push(f);

    // --- (b) SIGKILL the proposer of the height in progress; restart it. ---
    // Wait for a height to be in its NewHeight step (the timeout_commit
    // pause), when its proposer is known and has not proposed yet.
    let mut picked = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let (hrs, p, _) = current_proposer(net, &addresses, &[1, 2, 3])?;
        if let (Some(p), Some((h, round, step_no))) = (p, parse_hrs(&hrs)) {
            if round == 0 && step_no <= 2 {
                picked = Some((p, h, hrs));
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (proposer, in_progress, hrs) =
        picked.ok_or_else(|| anyhow!("no height seen before its proposal within 30 s"))?;
    let header_proposer = proposer_of_block(net, &addresses, 1, in_progress - 1)?;
    let mut f = kill_and_restart(
        net,
        proposer,
        format!("kill -9 validator {proposer} (proposer of {in_progress})"),
    )?;
    let round = commit_round(net, (proposer + 1) % 4, in_progress)?;
    f.note = format!(
        "consensus state {hrs}; proposer of block {} was validator {}; block {in_progress} \
         committed in round {round}",
        in_progress - 1,
        header_proposer.map_or("?".into(), |i| i.to_string()),
    );
    load.check_running()?;
    f.checked = check_app_hashes(net, &mut checked_to, &mut times)?;
    ensure_all_validators(net, &addresses)?;
    figures.push(f);

    // --- (c) SIGSTOP validator 0 (both processes) for 10 s, then SIGCONT. ---
    let mut f = pause_and_resume(net, 0)?;
    load.check_running()?;
    f.checked = check_app_hashes(net, &mut checked_to, &mut times)?;
    ensure_all_validators(net, &addresses)?;
    figures.push(f);

    // --- (d) A clean restart (SIGTERM, then start) of a validator. ---
    let victim = [1, 2, 3]
        .into_iter()
        .find(|i| figures.iter().all(|f| f.node != *i))
        .unwrap_or(1);
    let mut f = stop_and_restart(net, victim)?;
    load.check_running()?;
    f.checked = check_app_hashes(net, &mut checked_to, &mut times)?;
    ensure_all_validators(net, &addresses)?;
    figures.push(f);

    // --- The load stops; everything it saw committed is in every node's chain. ---
    step("stopping the load generator (SIGTERM)");
    let summary = load.stop()?;
    step(format!("loadgen: {summary}"));
    let recorded = read_record(&load.record)?;
    ensure!(!recorded.is_empty(), "the load generator recorded nothing");
    let last = recorded.iter().map(|r| r.1).max().unwrap_or(0);
    net.wait_nodes_height(&ALL, last.max(checked_to + 1) + 1, WAIT)?;
    let final_checked = check_app_hashes(net, &mut checked_to, &mut times)?;
    let killed: Vec<usize> = figures
        .iter()
        .filter(|f| f.what.starts_with("kill -9"))
        .map(|f| f.node)
        .collect();
    let (blocks_read, tx_sampled, index_misses) = verify_recorded(net, &recorded, &killed)?;

    // --- Figures. ---
    for f in &mut figures {
        f.txs = recorded
            .iter()
            .filter(|r| r.1 > f.h_start && r.1 <= f.h_end)
            .count();
        f.max_gap_secs = max_gap(&times, f.h_start, f.h_end);
    }
    let failed = recorded.iter().filter(|r| r.2 != 0).count();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "\n{:<44} {:>4} {:>13} {:>12} {:>9} {:>9} {:>8} {:>17}",
        "perturbation (under load)",
        "node",
        "next commit s",
        "caught up s",
        "max gap s",
        "heights",
        "txs",
        "app hash heights"
    );
    for f in &figures {
        let _ = writeln!(
            table,
            "{:<44} {:>4} {:>13.1} {:>12.1} {:>9.1} {:>9} {:>8} {:>17}",
            f.what,
            f.node,
            f.next_commit_secs,
            f.catch_up_secs,
            f.max_gap_secs,
            format!("{}-{}", f.h_start + 1, f.h_end),
            f.txs,
            format!("{}-{} one", f.checked.0, f.checked.1),
        );
    }
    for f in figures.iter().filter(|f| !f.note.is_empty()) {
        let _ = writeln!(table, "  {}: {}", f.what, f.note);
    }
    let _ = writeln!(
        table,
        "app hash: one value on all 4 nodes at each of heights {first_height}-{} \
         ({} heights)",
        final_checked.1,
        final_checked.1 + 1 - first_height
    );
    let _ = writeln!(
        table,
        "load: {} txs recorded committed ({} with a non-zero code), committed_tps {} \
         over {} s, {} RPC fail-overs; all {} found in their block on all 4 nodes \
         ({} blocks read); {} looked up with /tx?hash= on all 4 nodes: {}",
        recorded.len(),
        failed,
        summary["committed_tps"],
        summary["window_secs"],
        summary["rpc_failovers"],
        recorded.len(),
        blocks_read,
        tx_sampled,
        if index_misses.is_empty() {
            "found on every node"
        } else {
            &index_misses
        }
    );
    println!("{table}");
    step("figures printed");

    for f in &figures {
        ensure!(
            f.next_commit_secs <= NEXT_COMMIT_LIMIT_SECS,
            "{}: the network took {:.1} s to commit again (limit {NEXT_COMMIT_LIMIT_SECS} s)",
            f.what,
            f.next_commit_secs
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// perturbations
// ---------------------------------------------------------------------------

fn others(i: usize) -> Vec<usize> {
    ALL.into_iter().filter(|&j| j != i).collect()
}

fn kill_and_restart(net: &mut TestNet, i: usize, what: String) -> Result<Figures> {
    let rest = others(i);
    let h_start = net.max_height(&rest)?;
    step(format!(
        "{what}: SIGKILL suretyd + cometbft at height {h_start}"
    ));
    let t0 = Instant::now();
    net.kill_node(i)?;
    ensure!(
        net.node_pids(i).is_empty(),
        "validator {i} still has processes: {:?}",
        net.node_pids(i)
    );
    let next_commit_secs = wait_next_commit(net, &rest, h_start, t0)?;
    step(format!(
        "{what}: the others committed {} after {next_commit_secs:.1} s",
        h_start + 1
    ));
    sleep_until(t0 + DOWN);
    step(format!("{what}: restarting validator {i}"));
    let t1 = Instant::now();
    net.restart_node(i)?;
    let (catch_up_secs, h_end) = wait_caught_up(net, i, t1)?;
    step(format!(
        "{what}: validator {i} caught up at height {h_end} {catch_up_secs:.1} s after its restart"
    ));
    Ok(make_figures(
        what,
        i,
        h_start,
        h_end,
        next_commit_secs,
        catch_up_secs,
    ))
}

fn pause_and_resume(net: &mut TestNet, i: usize) -> Result<Figures> {
    let what = format!("SIGSTOP validator {i} for {} s", PAUSE.as_secs());
    let rest = others(i);
    let h_start = net.max_height(&rest)?;
    step(format!("{what}: at height {h_start}"));
    let t0 = Instant::now();
    let pids = net.pause_node(i)?;
    let during = wait_next_commit(net, &rest, h_start, t0);
    sleep_until(t0 + PAUSE);
    // Resume whatever happened, so a failure does not leave stopped processes.
    let resumed = net.resume_node(i);
    let t1 = Instant::now();
    let next_commit_secs = during?;
    resumed?;
    step(format!(
        "{what}: pids {pids:?}; the others committed {} after {next_commit_secs:.1} s; SIGCONT",
        h_start + 1
    ));
    let (catch_up_secs, h_end) = wait_caught_up(net, i, t1)?;
    step(format!(
        "{what}: validator {i} caught up at height {h_end} {catch_up_secs:.1} s after SIGCONT"
    ));
    Ok(make_figures(
        what,
        i,
        h_start,
        h_end,
        next_commit_secs,
        catch_up_secs,
    ))
}

fn stop_and_restart(net: &mut TestNet, i: usize) -> Result<Figures> {
    let what = format!("clean restart of validator {i}");
    let rest = others(i);
    let h_start = net.max_height(&rest)?;
    step(format!("{what}: SIGTERM at height {h_start}"));
    let t0 = Instant::now();
    net.stop_node(i)?;
    let stopped_secs = t0.elapsed().as_secs_f64();
    let next_commit_secs = wait_next_commit(net, &rest, h_start, t0)?;
    let t1 = Instant::now();
    net.restart_node(i)?;
    let (catch_up_secs, h_end) = wait_caught_up(net, i, t1)?;
    step(format!(
        "{what}: stopped in {stopped_secs:.1} s, others committed after {next_commit_secs:.1} s, \
         caught up at height {h_end} {catch_up_secs:.1} s after its start"
    ));
    let mut f = make_figures(what, i, h_start, h_end, next_commit_secs, catch_up_secs);
    f.note = format!("SIGTERM to exit took {stopped_secs:.1} s");
    Ok(f)
}

fn make_figures(
    what: String,
    node: usize,
    h_start: u64,
    h_end: u64,
    next_commit_secs: f64,
    catch_up_secs: f64,
) -> Figures {
    Figures {
        what,
        node,
        h_start,
        h_end,
        next_commit_secs,
        catch_up_secs,
        max_gap_secs: 0.0,
        txs: 0,
        checked: (0, 0),
        note: String::new(),
    }
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

/// Seconds from `t0` until one of `nodes` has committed a block above `above`.
fn wait_next_commit(net: &TestNet, nodes: &[usize], above: u64, t0: Instant) -> Result<f64> {
    let limit = Duration::from_secs(60);
    loop {
        let h = nodes
            .iter()
            .filter_map(|&i| net.status(i).ok().map(|s| s.height))
            .max()
            .unwrap_or(0);
        if h > above {
            return Ok(t0.elapsed().as_secs_f64());
        }
        if t0.elapsed() > limit {
            bail!("validators {nodes:?} committed nothing above {above} within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Seconds from `t0` until validator `i` has the highest height of the
/// others (read just before it), and that height.
fn wait_caught_up(net: &mut TestNet, i: usize, t0: Instant) -> Result<(f64, u64)> {
    let rest = others(i);
    loop {
        let target = net.max_height(&rest)?;
        if let Ok(s) = net.status(i) {
            if s.height >= target {
                return Ok((t0.elapsed().as_secs_f64(), target));
            }
        }
        if t0.elapsed() > WAIT {
            let h = net.status(i).map(|s| s.height).unwrap_or(0);
            bail!(
                "validator {i} did not catch up within {WAIT:?} (at {h}, the others at {target})\n\
                 --- tail of its log ---\n{}",
                net.log_tail(i, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------
// consensus observations
// ---------------------------------------------------------------------------

/// All four validators are still in the set: a jailed one would leave the others unable to
/// survive the next perturbation, and the test should say so rather than time out.
fn ensure_all_validators(net: &TestNet, addresses: &[String]) -> Result<()> {
    let v = net.rpc().get(&net.rpc_url(1), "validators")?;
    let set: Vec<String> = v["validators"]
        .as_array()
        .ok_or_else(|| anyhow!("no validators in {v}"))?
        .iter()
        .filter_map(|x| x["address"].as_str().map(str::to_uppercase))
        .collect();
    let missing: Vec<usize> = ALL
        .into_iter()
        .filter(|&i| !set.contains(&addresses[i]))
        .collect();
    ensure!(
        missing.is_empty(),
        "validators {missing:?} left the set at height {} (jailed? `suretyd query slashing \
         signing-infos`)",
        v["block_height"].as_str().unwrap_or("?")
    );
    Ok(())
}

/// CometBFT address (uppercase hex) of each validator, from `/status`.
fn validator_addresses(net: &TestNet) -> Result<Vec<String>> {
    ALL.iter()
        .map(|&i| {
            let s = net.rpc().get(&net.rpc_url(i), "status")?;
            s["validator_info"]["address"]
                .as_str()
                .map(str::to_uppercase)
                .ok_or_else(|| anyhow!("validator {i}: no validator_info.address in {s}"))
        })
        .collect()
}

fn node_of(addresses: &[String], address: &str) -> Option<usize> {
    addresses
        .iter()
        .position(|a| a.eq_ignore_ascii_case(address))
}

/// `(height/round/step, proposer's node, proposer's address)` from
/// `/consensus_state` of the first of `ask` that answers.
fn current_proposer(
    net: &TestNet,
    addresses: &[String],
    ask: &[usize],
) -> Result<(String, Option<usize>, String)> {
    let mut last = None;
    for &i in ask {
        match net.rpc().get(&net.rpc_url(i), "consensus_state") {
            Ok(r) => {
                let rs = &r["round_state"];
                let hrs = rs["height/round/step"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let address = rs["proposer"]["address"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                return Ok((hrs, node_of(addresses, &address), address));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| anyhow!("no node to ask")))
}

/// `(height, round, step)` from `"12/0/1"`.
fn parse_hrs(s: &str) -> Option<(u64, u64, u64)> {
    let mut it = s.split('/').map(|p| p.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// The validator that proposed block `height` (its header's `proposer_address`).
fn proposer_of_block(
    net: &TestNet,
    addresses: &[String],
    ask: usize,
    height: u64,
) -> Result<Option<usize>> {
    let header = net.rpc().header(&net.rpc_url(ask), height)?;
    Ok(header["proposer_address"]
        .as_str()
        .and_then(|a| node_of(addresses, a)))
}

/// The round in which block `height` was committed (from block `height + 1`'s
/// last commit).
fn commit_round(net: &mut TestNet, ask: usize, height: u64) -> Result<u64> {
    net.wait_node_height(ask, height + 1, WAIT)?;
    let b = net
        .rpc()
        .get(&net.rpc_url(ask), &format!("block?height={}", height + 1))?;
    cli::json_u64(&b["block"]["last_commit"]["round"])
        .ok_or_else(|| anyhow!("block {} without last_commit.round", height + 1))
}

/// Compares the app hash after every height from `*checked_to + 1` to the
/// highest one all four nodes have executed (and committed the next block
/// of) on all four nodes; also records block times (from validator 0's headers).
/// Returns the range checked.
fn check_app_hashes(
    net: &TestNet,
    checked_to: &mut u64,
    times: &mut BTreeMap<u64, f64>,
) -> Result<(u64, u64)> {
    let common = net.heights(&ALL)?.into_iter().min().unwrap_or(0);
    let from = *checked_to + 1;
    let to = common.saturating_sub(1);
    ensure!(to >= from, "nothing new to check ({from}..={to})");
    for h in from..=to {
        let mut first: Option<String> = None;
        for i in ALL {
            let header = net.rpc().header(&net.rpc_url(i), h + 1)?;
            let hash = header["app_hash"].as_str().unwrap_or_default().to_owned();
            ensure!(
                !hash.is_empty(),
                "validator {i}: empty app hash after block {h}"
            );
            match &first {
                None => {
                    first = Some(hash);
                    if let Some(t) = header["time"].as_str().and_then(parse_time) {
                        times.insert(h + 1, t);
                    }
                }
                Some(f) if *f != hash => {
                    let all: Vec<String> = ALL
                        .iter()
                        .map(|&j| format!("validator {j}: {:?}", net.app_hash_at(j, h).ok()))
                        .collect();
                    bail!("app hashes after block {h} differ:\n  {}", all.join("\n  "));
                }
                Some(_) => {}
            }
        }
    }
    *checked_to = to;
    step(format!(
        "one app hash on all 4 nodes at each height {from}-{to}"
    ));
    Ok((from, to))
}

/// Longest interval between consecutive block times with heights in (from, to].
fn max_gap(times: &BTreeMap<u64, f64>, from: u64, to: u64) -> f64 {
    let mut best = 0.0f64;
    for h in from + 1..=to {
        if let (Some(a), Some(b)) = (times.get(&(h - 1)), times.get(&h)) {
            best = best.max(b - a);
        }
    }
    best
}

/// Seconds since the epoch of an RFC 3339 UTC time such as
/// `2025-01-02T03:04:05.123456789Z`.
fn parse_time(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    let frac: f64 = format!("0.{frac}").parse().ok()?;
    // Days from the civil date (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64 + frac)
}

// ---------------------------------------------------------------------------
// the load generator
// ---------------------------------------------------------------------------

/// `suretyd loadgen` running in the background; killed if dropped running.
struct Loadgen {
    child: Option<Child>,
    record: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Loadgen {
    fn start(net: &TestNet) -> Result<Loadgen> {
        // Its own home (a keyring with alice): an argument pointing into a
        // node's home would make it one of that node's processes for
        // kill_node / pause_node.
        let dir = net.root().join("loadgen");
        std::fs::create_dir_all(&dir)?;
        let home = dir.to_string_lossy().into_owned();
        let alice = net.account("alice")?.clone();
        net.suretyd()
            .run_ok_stdin(
                &[
                    "keys",
                    "add",
                    "alice",
                    "--recover",
                    "--keyring-backend",
                    "test",
                    "--home",
                    &home,
                    "--output",
                    "json",
                ],
                &format!("{}\n", alice.mnemonic),
            )
            .context("importing alice into the load generator's keyring")?;
        let senders: usize = std::env::var("SURETY_PERTURB_SENDERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(8);
        let rate: f64 = std::env::var("SURETY_PERTURB_RATE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let nodes: Vec<String> = ALL.iter().map(|&i| net.rpc_url(i)).collect();
        let record = dir.join("committed.txt");
        let stdout = dir.join("stdout.json");
        let stderr = dir.join("stderr.log");
        let mut cmd: Command = net.suretyd().command([
            "loadgen",
            "--home",
            &home,
            "--node",
            &nodes.join(","),
            "--from",
            "alice",
            "--keyring-backend",
            "test",
            "--senders",
            &senders.to_string(),
            "--rate",
            &rate.to_string(),
            "--warmup-secs",
            "0",
            "--duration-secs",
            "3600",
            "--record",
            &record.to_string_lossy(),
            "-o",
            "json",
        ]);
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout)?)
            .stderr(std::fs::File::create(&stderr)?);
        step(format!(
            "starting the load generator: {senders} senders, rate {}, nodes {}",
            if rate > 0.0 {
                format!("{rate} tx/s")
            } else {
                "unlimited".into()
            },
            nodes.join(",")
        ));
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", cli::describe(&cmd)))?;
        Ok(Loadgen {
            child: Some(child),
            record,
            stdout,
            stderr,
        })
    }

    fn output(&self) -> String {
        format!(
            "--- loadgen stdout ---\n{}\n--- loadgen stderr ---\n{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            cli::tail(
                &std::fs::read_to_string(&self.stderr).unwrap_or_default(),
                30
            )
        )
    }

    /// Fails if the load generator has exited.
    fn check_running(&mut self) -> Result<()> {
        let child = self
            .child
            .as_mut()
            .ok_or_else(|| anyhow!("loadgen already stopped"))?;
        if let Some(st) = child.try_wait()? {
            self.child = None;
            bail!("the load generator exited early: {st}\n{}", self.output());
        }
        Ok(())
    }

    fn recorded(&self) -> Result<Vec<(String, u64, u32)>> {
        if !self.record.exists() {
            return Ok(Vec::new());
        }
        read_record(&self.record)
    }

    /// Waits until at least `n` committed txs are recorded; fails early if
    /// the load generator exits.
    fn wait_recorded(&mut self, n: usize, secs: u64) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.recorded()?.len() < n {
            self.check_running()?;
            if Instant::now() > deadline {
                bail!(
                    "the load generator recorded fewer than {n} committed txs in {secs} s\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(())
    }

    /// SIGTERM; waits for it to drain and print its summary (JSON).
    fn stop(&mut self) -> Result<Value> {
        let mut child = self
            .child
            .take()
            .ok_or_else(|| anyhow!("loadgen already stopped"))?;
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(300);
        let st = loop {
            if let Some(st) = child.try_wait()? {
                break st;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "the load generator did not exit within 300 s of SIGTERM\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        ensure!(
            st.success(),
            "the load generator failed: {st}\n{}",
            self.output()
        );
        let out = std::fs::read_to_string(&self.stdout)?;
        serde_json::from_str(out.trim())
            .with_context(|| format!("loadgen output is not JSON\n{}", self.output()))
    }
}

impl Drop for Loadgen {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            eprintln!("[e2e] load generator killed\n{}", self.output());
        }
    }
}

/// `(HASH, height, code)` lines of a `--record` file.
fn read_record(path: &Path) -> Result<Vec<(String, u64, u32)>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split_whitespace();
            let hash = f.next().unwrap_or_default().to_owned();
            let height = f.next().and_then(|h| h.parse().ok());
            let code = f.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            match height {
                Some(h) if hash.len() == 64 => Ok((hash, h, code)),
                _ => Err(anyhow!("bad record line {l:?} in {}", path.display())),
            }
        })
        .collect()
}

/// Every recorded tx is in the block at its height on every node; every 10th
/// is also looked up with `/tx?hash=0x…` on every node. Returns (blocks read,
/// txs looked up, indexer misses).
fn verify_recorded(
    net: &TestNet,
    recorded: &[(String, u64, u32)],
    killed: &[usize],
) -> Result<(usize, usize, String)> {
    let mut by_height: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for (hash, h, _) in recorded {
        by_height.entry(*h).or_default().push(hash);
    }
    // A transaction that failed in a block (a sequence a failover left behind) leaves the
    // mempool, and the load generator may send the same bytes again: it can be committed once
    // more. What must never happen is a transaction succeeding twice.
    let succeeded: Vec<&str> = recorded
        .iter()
        .filter(|r| r.2 == 0)
        .map(|r| r.0.as_str())
        .collect();
    let unique: HashSet<&str> = succeeded.iter().copied().collect();
    ensure!(
        unique.len() == succeeded.len(),
        "{} successful txs recorded but {} distinct hashes",
        succeeded.len(),
        unique.len()
    );
    let mut blocks = 0;
    for (&h, hashes) in &by_height {
        for i in ALL {
            let b = net
                .rpc()
                .get(&net.rpc_url(i), &format!("block?height={h}"))?;
            blocks += 1;
            let in_block: HashSet<String> = b["block"]["data"]["txs"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or_default()
                .iter()
                .filter_map(|t| t.as_str())
                .map(|t| {
                    base64_decode(t)
                        .map(|bytes| hex_upper(&Sha256::digest(bytes)))
                        .ok_or_else(|| anyhow!("block {h}: tx is not base64: {t}"))
                })
                .collect::<Result<_>>()?;
            for hash in hashes {
                ensure!(
                    in_block.contains(*hash),
                    "recorded tx {hash} is not in block {h} on validator {i}"
                );
            }
        }
    }
    // The tx indexer is written after the block is committed: a node
    // SIGKILLed in between loses those index entries (the txs stay in its
    // blocks). So every sampled tx must be found on some node, with the
    // recorded height and code on every node that has it, and misses are
    // allowed only on the nodes in `killed`; they are reported.
    let mut looked_up = 0;
    let mut misses: BTreeMap<usize, BTreeMap<u64, usize>> = BTreeMap::new();
    for (hash, h, code) in recorded.iter().step_by(10) {
        let mut found = 0;
        for i in ALL {
            let r = match net.rpc().get(&net.rpc_url(i), &format!("tx?hash=0x{hash}")) {
                Ok(r) => r,
                Err(e) if format!("{e:#}").contains("not found") => {
                    *misses.entry(i).or_default().entry(*h).or_default() += 1;
                    continue;
                }
                Err(e) => return Err(e.context(format!("looking up tx {hash} on validator {i}"))),
            };
            let got_h = cli::json_u64(&r["height"]);
            let got_code = cli::json_u64(&r["tx_result"]["code"]).unwrap_or(0) as u32;
            ensure!(
                got_h == Some(*h) && got_code == *code,
                "validator {i} has tx {hash} at height {got_h:?} code {got_code}, \
                 recorded at {h} code {code}"
            );
            found += 1;
        }
        ensure!(
            found > 0,
            "recorded tx {hash} (height {h}) is indexed on no node"
        );
        looked_up += 1;
    }
    let mut note = String::new();
    for (i, by_h) in &misses {
        let n: usize = by_h.values().sum();
        let _ = write!(
            note,
            "validator {i}: {n} not in its tx index (heights {:?}); ",
            by_h.keys().collect::<Vec<_>>()
        );
        ensure!(
            killed.contains(i),
            "validator {i} was never SIGKILLed but its tx index lacks {n} sampled txs at \
             heights {:?}",
            by_h.keys().collect::<Vec<_>>()
        );
    }
    step(format!(
        "all {} recorded txs found in their blocks on all 4 nodes; {looked_up} looked up \
         with /tx on all 4 nodes; {}",
        recorded.len(),
        if note.is_empty() {
            "every lookup found".to_string()
        } else {
            note.clone()
        }
    ));
    Ok((blocks, looked_up, note))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
