//! `bench-scale`: what cover costs as the book grows. One chain, driven the way CometBFT drives a
//! validator (`surety_app::testing::TestChain`: CheckTx, PrepareProposal, ProcessProposal,
//! FinalizeBlock and Commit over the real RocksDB/JMT store, real signatures), is filled with
//! live policies through ordinary purchases in large blocks. At each size it measures blocks of
//! purchases (the median of `--sample-blocks` is printed) — FinalizeBlock µs per purchase and,
//! of it, the app hash's (the merkle trees' update), gas per purchase, the block's FinalizeBlock
//! and Commit ms —
//! the store's size on disk (pruned to the last `--keep-recent` versions) and bytes per policy,
//! and the process's memory, and what a unit of gas costs in time (beside a signature check
//! that misses the memo of verified signatures). At the largest size
//! an incident on the insured protocol is confirmed and every policy is paid: the payout's
//! blocks are counted and the slowest is reported.
//!
//!   ./scripts/bench-scale [--sizes 1000,100000,1000000]

use anyhow::{bail, Result};
use clap::Parser;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;
use surety_app::testing::{self, TestChain, Tx};
use surety_framework::Coins;
use surety_genesis::AppState;
use surety_proto::surety::{policy, pool};
use surety_proto::to_any;

#[derive(Parser)]
struct Args {
    /// Live policies at which to measure, ascending.
    #[arg(long, value_delimiter = ',', default_value = "1000,100000,1000000")]
    sizes: Vec<u64>,
    /// Purchases per block while filling the book (the test chain's block gas limit, 10⁹,
    /// holds 3 333 of them).
    #[arg(long, default_value_t = 3_000)]
    fill_block: u64,
    /// Purchases in each measured block (bought on top of the book of that size).
    #[arg(long, default_value_t = 1_000)]
    sample: u64,
    /// Measured blocks at each size; the median block is reported (compactions come and go).
    #[arg(long, default_value_t = 5)]
    sample_blocks: usize,
    /// Versions the store keeps (pruning, as a node's `pruning_keep_recent`).
    #[arg(long, default_value_t = 10)]
    keep_recent: u64,
    /// Skip the payout of the whole book at the largest size.
    #[arg(long)]
    no_payout: bool,
}

const GENESIS_TIME: i64 = 1_800_000_000;
const USDC: u128 = 1_000_000;
/// The demo market's Aave v3 protocol cover: parametric, paid when an incident is confirmed.
const PRODUCT: u64 = 1;
const PROTOCOL: &str = "aave-v3";
/// Buyers are test accounts 1..=BUYERS; the capital provider and the reporter follow.
const BUYERS: u8 = 240;
const PROVIDER: u8 = 241;
const REPORTER: u8 = 242;
const VALIDATOR: u8 = 250;

fn genesis() -> Result<serde_json::Value> {
    let mut state = AppState::default();
    let buyer: Coins = "1000000000000usure,100000000000uusdc"
        .parse()
        .map_err(err)?;
    for n in 1..=BUYERS {
        state
            .add_account(&testing::account(n), &buyer)
            .map_err(err)?;
    }
    let rich: Coins = "1000000000000usure,1000000000000000uusdc"
        .parse()
        .map_err(err)?;
    state
        .add_account(&testing::account(PROVIDER), &rich)
        .map_err(err)?;
    state
        .add_account(&testing::account(REPORTER), &rich)
        .map_err(err)?;
    state
        .add_account(&testing::account(VALIDATOR), &rich)
        .map_err(err)?;
    state.genutil.gen_txs = vec![testing::gentx(
        &testing::account_key(VALIDATOR),
        testing::create_validator_msg(
            &testing::account(VALIDATOR),
            "validator",
            testing::consensus_pubkey(VALIDATOR),
            "1000000usure",
        ),
        testing::CHAIN_ID,
    )];
    surety_genesis::demo::apply(&mut state);
    Ok(serde_json::to_value(&state)?)
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Gas a purchase asks for: room above the ~176 000 it uses.
const BUY_GAS: u64 = 300_000;

fn buy(n: u64) -> Tx {
    let who = testing::account(1 + (n % u64::from(BUYERS)) as u8);
    let mut tx = Tx::new(
        &who,
        to_any(&policy::v1::MsgBuyCover {
            buyer: who.to_bech32(),
            product_id: PRODUCT,
            cover: USDC.to_string(),
            term_days: 365,
            max_premium: USDC.to_string(),
            validator: String::new(),
        }),
    );
    tx.gas = BUY_GAS;
    tx
}

/// Commits a block of `count` purchases, numbered from `first`; fails on any refusal.
fn purchases(h: &mut TestChain, first: u64, count: u64) -> Result<()> {
    let txs = (first..first + count).map(buy).collect();
    let t = h.time + 1;
    for (i, r) in h.block(t, txs).into_iter().enumerate() {
        r.map_err(|e| {
            anyhow::anyhow!(
                "purchase {}: {}/{}: {}",
                first + i as u64,
                e.codespace,
                e.code,
                e.log
            )
        })?;
    }
    Ok(())
}

/// One measured block of purchases.
struct Sample {
    finalize_ns: f64,
    /// Of FinalizeBlock, updating the merkle trees.
    app_hash_ns: f64,
    commit_ns: f64,
    /// The pruning its commit handed to the background (a version that fell out of the kept
    /// window): work the node still does, beside the next block.
    prune_ms: f64,
    gas: u64,
    txs: u64,
}

fn measured_block(h: &mut TestChain, first: u64, count: u64) -> Result<Sample> {
    let (f0, c0, t0) = counters(h);
    let a0 = h.app().stats().app_hash_nanos.load(Ordering::Relaxed);
    purchases(h, first, count)?;
    let (f1, c1, t1) = counters(h);
    let a1 = h.app().stats().app_hash_nanos.load(Ordering::Relaxed);
    let pruning = Instant::now();
    h.app().storage().wait_for_pruning();
    let gas = h
        .last_block
        .tx_results
        .iter()
        .map(|r| u64::try_from(r.gas_used).unwrap_or(0))
        .sum();
    Ok(Sample {
        finalize_ns: (f1 - f0) as f64,
        app_hash_ns: (a1 - a0) as f64,
        commit_ns: (c1 - c0) as f64,
        prune_ms: pruning.elapsed().as_secs_f64() * 1e3,
        gas,
        txs: (t1 - t0).max(1),
    })
}

/// (FinalizeBlock ns, Commit ns, transactions) so far.
fn counters(h: &TestChain) -> (u64, u64, u64) {
    let s = h.app().stats();
    (
        s.finalize_block_nanos.load(Ordering::Relaxed),
        s.commit_nanos.load(Ordering::Relaxed),
        s.block_txs.load(Ordering::Relaxed),
    )
}

/// What a signature check costs when the memo of verified signatures misses (a transaction this
/// validator never saw in its mempool), in µs, beside the gas the ante handler charges for it:
/// the price a block of such transactions is bounded by.
fn signature_check() -> Result<(f64, u64)> {
    use k256::ecdsa::signature::Signer;
    const N: u32 = 2_000;
    let key = k256::ecdsa::SigningKey::from_slice(&[7u8; 32]).map_err(err)?;
    let pubkey = key.verifying_key().to_encoded_point(true);
    let signed: Vec<(Vec<u8>, Vec<u8>)> = (0..N)
        .map(|i| {
            let doc = surety_auth::sign_doc_bytes(&i.to_be_bytes(), b"auth", "bench", 1);
            let sig: k256::ecdsa::Signature = key.sign(&doc);
            (doc, sig.to_bytes().to_vec())
        })
        .collect();
    let started = Instant::now();
    for (doc, sig) in &signed {
        surety_auth::verify_secp256k1(pubkey.as_bytes(), doc, sig).map_err(|e| err(e.log))?;
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(N);
    Ok((
        micros,
        surety_auth::default_params().sig_verify_cost_secp256k1,
    ))
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Resident memory of this process (the node's app and store live in it), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Claims filed so far (each automatic payout files one).
fn claims_filed(h: &TestChain) -> u64 {
    h.read(|ctx| {
        ctx.get(
            surety_claims::state::STORE,
            surety_claims::state::NEXT_CLAIM_ID,
        )
        .expect("reading the claim counter")
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map_or(0, u64::from_be_bytes)
    })
}

fn payout_jobs(h: &TestChain) -> usize {
    h.read(|ctx| {
        ctx.prefix(
            surety_claims::state::STORE,
            &[surety_claims::state::PAYOUT_JOBS],
        )
        .expect("reading the payout jobs")
        .len()
    })
}

/// mimalloc rather than the system allocator: the node allocates for nearly every read, write
/// and event, and glibc's malloc and free were 15 % of its CPU under cover purchases.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    let args = Args::parse();
    if args.sizes.windows(2).any(|w| w[0] >= w[1]) {
        bail!("--sizes must be ascending");
    }
    let mut h = TestChain::open(
        testing::CHAIN_ID,
        &genesis()?,
        GENESIS_TIME,
        surety_store::StorageConfig {
            keep_recent: args.keep_recent,
            // As a node prunes: after Commit, beside the next block.
            prune_in_background: true,
        },
    );
    let provider = testing::account(PROVIDER);
    for pool_id in [1, 2] {
        let t = h.time + 1;
        let deposit = Tx::new(
            &provider,
            to_any(&pool::v1::MsgDeposit {
                provider: provider.to_bech32(),
                pool_id,
                amount: (100_000_000 * USDC).to_string(),
            }),
        );
        h.block(t, vec![deposit])
            .remove(0)
            .map_err(|e| anyhow::anyhow!("capital: {}", e.log))?;
    }
    let (sig_us, sig_gas) = signature_check()?;
    println!(
        "signature check, memo missed: {sig_us:.1} µs for {sig_gas} gas = {:.1} ns per gas",
        sig_us * 1e3 / sig_gas as f64
    );
    println!(
        "{:>10} {:>10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "policies",
        "fill_s",
        "finalize_us",
        "app_hash_us",
        "gas_per_buy",
        "ns_per_gas",
        "block_ms",
        "commit_ms",
        "prune_ms",
        "disk_mib",
        "B/policy",
        "rss_mib"
    );
    let mut sold = 0u64;
    for &size in &args.sizes {
        let started = Instant::now();
        while sold < size {
            let n = args.fill_block.min(size - sold);
            purchases(&mut h, sold, n)?;
            sold += n;
        }
        let fill = started.elapsed().as_secs_f64();
        h.app().storage().wait_for_pruning();
        let mut samples = Vec::new();
        for _ in 0..args.sample_blocks.max(1) {
            samples.push(measured_block(&mut h, sold, args.sample)?);
            sold += args.sample;
        }
        // The median block by FinalizeBlock time.
        samples.sort_by(|a, b| a.finalize_ns.total_cmp(&b.finalize_ns));
        let m = &samples[samples.len() / 2];
        let disk = dir_bytes(h.data_dir());
        println!(
            "{:>10} {:>10.1} {:>12.1} {:>12.1} {:>12} {:>12.2} {:>12.1} {:>12.1} {:>12.1} {:>12.1} {:>10} {:>10.0}",
            size,
            fill,
            m.finalize_ns / m.txs as f64 / 1e3,
            m.app_hash_ns / m.txs as f64 / 1e3,
            m.gas / m.txs,
            // FinalizeBlock and Commit, what a block of purchases costs the node per unit of gas.
            (m.finalize_ns + m.commit_ns) / m.gas.max(1) as f64,
            m.finalize_ns / 1e6,
            m.commit_ns / 1e6,
            m.prune_ms,
            disk as f64 / (1 << 20) as f64,
            disk / sold,
            rss_mib()
        );
    }
    if args.no_payout {
        return Ok(());
    }
    // Every policy is on the insured protocol: confirming an incident pays them all, a
    // budget of policies per block.
    // The incident happens in the last block of purchases: every policy was in force then
    // (cover bought after an incident does not pay for it).
    // The block that confirms the incident already pays the first budget of policies.
    let reporter = testing::account(REPORTER);
    let claims_before = claims_filed(&h);
    let incident_time = h.time;
    h.confirm_incident(&reporter, PROTOCOL, incident_time);
    let started = Instant::now();
    let (mut blocks, mut slowest_ms) = (0u64, 0f64);
    let mut last = counters(&h);
    while payout_jobs(&h) > 0 {
        let t = h.time + 1;
        h.block(t, vec![]);
        let now = counters(&h);
        slowest_ms = slowest_ms.max((now.0 - last.0) as f64 / 1e6);
        last = now;
        blocks += 1;
        if blocks % 100 == 0 {
            eprintln!(
                "  payout: {blocks} blocks, slowest FinalizeBlock {slowest_ms:.1} ms, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        if blocks > 1_000_000 {
            bail!("the payout did not finish");
        }
    }
    let paid = claims_filed(&h) - claims_before;
    println!(
        "payout of {sold} policies: {paid} paid in the confirming block and {blocks} more ({} per block), slowest FinalizeBlock {slowest_ms:.1} ms, {:.0} s here",
        surety_claims::payouts::BUDGET,
        started.elapsed().as_secs_f64()
    );
    if paid != sold {
        bail!("{} policies were not paid", sold - paid);
    }
    Ok(())
}
