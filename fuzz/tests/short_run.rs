//! A short fuzzing run as part of the test suite: extreme messages of every type and random
//! decoder inputs find no panic, no broken invariant, no failed transaction that leaves more
//! than its fee and sequence, and the same seed reaches the same app hash twice.

use surety_fuzz::{run_twice, Config};

#[test]
fn short_fuzz_run_finds_nothing_and_is_deterministic() {
    let cfg = Config {
        seed: 20261126,
        iterations: 6_000,
        txs_per_block: 24,
        raw_per_block: 150,
        blocks_per_chain: 20,
    };
    let report = run_twice(&cfg, |_| {});
    assert!(
        report.findings.is_empty(),
        "findings: {:#?}",
        report.findings
    );
    assert!(report.inputs() >= cfg.iterations);
    assert!(
        report.chain_hashes.len() >= 2,
        "the run should start over at least once"
    );
    assert!(report.blocks > 10, "too few blocks: {}", report.blocks);
    assert!(
        report.txs_ok > 0 && report.ok_by_type.len() >= 3,
        "the generator should get some transactions through: {:?}",
        report.ok_by_type
    );
}
