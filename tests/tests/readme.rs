//! The README's shell blocks, run as written against a real 4-validator localnet, so the README
//! cannot drift from the product. The blocks run in order in one bash session (they share `H`,
//! `PATH` and the keys they make), from a directory where `.localnet` is this test's network and
//! `localnet/`, `docs/` and `scripts/` are the repository's. One line is adapted: the README puts
//! the release `suretyd` on `PATH`; here it is the binary under test. The sleeps stay: they are
//! the localnet's periods (claim voting, the depeg window, the gov vote).
//!
//! Blocks that need something else are skipped, and say so: starting or wiping the localnet
//! itself (this test runs one), the IBC walkthrough (the `--ibc` network; `tests/ibc.rs` covers
//! it), starting a node by hand (it runs until stopped), the fuzzer (`./scripts/test` runs it).
//! The node-by-hand setup runs with `HOME` in the test's directory (it writes `~/.surety`) and
//! the file keyring's passphrase in `SURETY_KEYRING_PASSPHRASE`, as the README says a script
//! may.

use anyhow::{ensure, Context, Result};
use std::process::Command;
use surety_e2e::{step, suretyd_bin, workspace_root, TestNet};

/// A fenced ```sh block: its first line number and text.
fn shell_blocks(readme: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in readme.lines().enumerate() {
        match &mut current {
            None if line.trim_start() == "```sh" => current = Some((i + 2, String::new())),
            Some(_) if line.trim_start() == "```" => blocks.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// Why a block is not run here, if it is not.
fn skip_reason(block: &str) -> Option<&'static str> {
    [
        (
            "./localnet/run start",
            "starts a localnet (this test runs its own)",
        ),
        ("./localnet/run wipe", "wipes the localnet"),
        ("SIMD", "needs the --ibc localnet (tests/ibc.rs covers it)"),
        ("suretyd start --home", "runs a node until stopped"),
        ("./scripts/fuzz", "the fuzzer (./scripts/test runs it)"),
    ]
    .into_iter()
    .find(|(marker, _)| block.contains(marker))
    .map(|(_, why)| why)
}

#[test]
fn every_readme_shell_block_runs_as_written() -> Result<()> {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md"))?;
    let blocks = shell_blocks(&readme);
    ensure!(
        blocks.len() >= 6,
        "found only {} shell blocks",
        blocks.len()
    );

    let mut t = TestNet::create_and_start("readme", 4)?;
    t.net().seed_market()?;
    let net_root = t.net().root().to_path_buf();
    let work = net_root.join("readme-cwd");
    std::fs::create_dir_all(work.join("home"))?;
    for (link, target) in [
        (".localnet", net_root.clone()),
        ("localnet", root.join("localnet")),
        ("docs", root.join("docs")),
        ("scripts", root.join("scripts")),
    ] {
        std::os::unix::fs::symlink(&target, work.join(link))
            .with_context(|| format!("linking {link}"))?;
    }
    let bin_dir = suretyd_bin()?
        .parent()
        .context("suretyd has no directory")?
        .to_path_buf();

    let mut script = String::from("set -eo pipefail\n");
    let mut ran = 0;
    for (line, block) in &blocks {
        if let Some(why) = skip_reason(block) {
            step(format!("README line {line}: skipped — {why}"));
            continue;
        }
        ran += 1;
        let block = block.replace(
            "export PATH=\"$HOME/.cache/surety-target/release:$PATH\"",
            &format!("export PATH=\"{}:$PATH\"", bin_dir.display()),
        );
        script.push_str(&format!("echo '[readme] ---- README line {line}' >&2\n"));
        // A block that writes `~/…` runs in a subshell whose HOME is the test's.
        let own_home = block.contains("~/");
        if own_home {
            script.push_str(&format!("(\nexport HOME={}\n", work.join("home").display()));
        }
        for cmd in block.lines() {
            script.push_str(cmd);
            script.push('\n');
        }
        if own_home {
            script.push_str(")\n");
        }
    }
    ensure!(ran >= 4, "only {ran} blocks ran");
    step(format!("running {ran} README blocks in {}", work.display()));
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("SURETY_LOCALNET_ROOT", &net_root)
        .env("SURETYD", bin_dir.join("suretyd"))
        .env("SURETY_LOCALNET", bin_dir.join("surety-localnet"))
        .env("RUST_BACKTRACE", "0")
        .env("SURETY_KEYRING_PASSPHRASE", "readme-test-passphrase")
        .env("SURETY_COMETBFT", surety_e2e::cometbft_bin()?)
        .output()
        .context("running bash")?;
    // What the commands printed, kept for reading after a failure.
    let log = net_root
        .parent()
        .unwrap_or(&net_root)
        .join("readme-last-run.log");
    let _ = std::fs::write(&log, [&out.stdout[..], &out.stderr[..]].concat());
    step(format!("the commands' output: {}", log.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
    ensure!(
        out.status.success(),
        "a README command failed (exit {}); the last lines:\n{}",
        out.status,
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    step("every README block ran");
    Ok(())
}

#[test]
fn the_readme_parser_finds_blocks_and_their_lines() {
    let text = "# x\n```sh\necho a\n```\ntext\n```toml\nk = 1\n```\n```sh\necho b\necho c\n```\n";
    assert_eq!(
        shell_blocks(text),
        vec![
            (3, "echo a\n".to_string()),
            (10, "echo b\necho c\n".to_string())
        ]
    );
}
