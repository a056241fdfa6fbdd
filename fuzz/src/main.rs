//! `surety-fuzz --iterations N [--seed S]`: a long fuzzing run; prints how many inputs it tried
//! and what it found, and exits non-zero if it found anything.

use clap::Parser;
use std::time::Instant;
use surety_fuzz::{run_twice, Config};

#[derive(Parser)]
#[command(about = "Fuzz Surety through its ABCI methods")]
struct Args {
    /// Inputs to try (signed transactions plus raw decoder inputs), per run.
    #[arg(long, default_value_t = 100_000)]
    iterations: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 24)]
    txs_per_block: usize,
    #[arg(long, default_value_t = 200)]
    raw_per_block: usize,
    /// Blocks before starting over from genesis (0: one chain for the whole run).
    #[arg(long, default_value_t = 400)]
    blocks_per_chain: u64,
}

fn main() {
    let args = Args::parse();
    let cfg = Config {
        seed: args.seed,
        iterations: args.iterations,
        txs_per_block: args.txs_per_block,
        raw_per_block: args.raw_per_block,
        blocks_per_chain: args.blocks_per_chain,
    };
    let started = Instant::now();
    let mut last = Instant::now();
    let report = run_twice(&cfg, |r| {
        if last.elapsed().as_secs() >= 10 {
            last = Instant::now();
            eprintln!(
                "[{:>6.0}s] {} inputs: {} txs ({} ok) in {} blocks, {} raw",
                started.elapsed().as_secs_f64(),
                r.inputs(),
                r.txs,
                r.txs_ok,
                r.blocks,
                r.raw_inputs
            );
        }
    });
    println!("seed                 {}", cfg.seed);
    println!(
        "chains               {} of up to {} blocks, each ending at the same app hash in both runs",
        report.chain_hashes.len(),
        cfg.blocks_per_chain
    );
    println!(
        "inputs tried         {} (each run twice for determinism)",
        report.inputs()
    );
    println!(
        "  signed txs         {} in {} blocks",
        report.txs, report.blocks
    );
    println!("  txs that succeeded {}", report.txs_ok);
    println!("  refused in CheckTx {}", report.check_tx_rejected);
    println!("  raw decoder inputs {}", report.raw_inputs);
    println!(
        "message types that succeeded at least once: {}",
        report.ok_by_type.len()
    );
    for (t, n) in &report.ok_by_type {
        println!("  {n:>8}  {t}");
    }
    println!("errors by codespace/code (count, an example):");
    for (code, (n, example)) in &report.errors_by_code {
        println!("  {n:>8}  {code:<14} {example}");
    }
    println!(
        "elapsed              {:.0} s",
        started.elapsed().as_secs_f64()
    );
    println!("findings             {}", report.findings.len());
    for f in &report.findings {
        println!("  {f}");
    }
    if !report.findings.is_empty() {
        std::process::exit(1);
    }
}
