//! The CometBFT binary: finding it, initialising its home, and supervising it as a child.

use anyhow::{bail, Context as _, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The CometBFT release this node is built and tested against (also pinned in COMETBFT_VERSION).
pub const VERSION_PREFIX: &str = "0.38.";

/// Finds the binary: the configured path, `$SURETY_COMETBFT`, `cometbft` on PATH, then
/// `$GOPATH/bin` / `~/go/bin` where `go install` puts it.
pub fn binary(configured: &str) -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if !configured.is_empty() {
        candidates.push(configured.into());
    }
    if let Some(env) = std::env::var_os("SURETY_COMETBFT") {
        candidates.push(env.into());
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("cometbft")));
    }
    if let Some(gopath) = std::env::var_os("GOPATH") {
        candidates.push(PathBuf::from(gopath).join("bin/cometbft"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join("go/bin/cometbft"));
    }
    candidates.into_iter().find(|p| p.is_file()).context(
        "cometbft binary not found; install it with `go install github.com/cometbft/cometbft/cmd/cometbft@v0.38.26` \
         (scripts/install-prereqs.sh does) or set SURETY_COMETBFT",
    )
}

fn run(bin: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(bin)
        .args(args)
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} {} failed: {}",
            bin.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn check_version(bin: &Path) -> Result<String> {
    let version = run(bin, &["version"])?;
    if !version.starts_with(VERSION_PREFIX) {
        bail!(
            "{} is CometBFT {version}; Surety needs v{VERSION_PREFIX}x",
            bin.display()
        );
    }
    Ok(version)
}

/// Writes CometBFT's config, node key and validator key into `home`.
pub fn init(bin: &Path, home: &Path) -> Result<()> {
    run(bin, &["init", "--home", &home.to_string_lossy()]).map(drop)
}

pub fn node_id(bin: &Path, home: &Path) -> Result<String> {
    run(bin, &["show-node-id", "--home", &home.to_string_lossy()])
}

/// Rolls CometBFT's state back one height (`--hard`: its block too); returns the height it
/// is at now and that height's app hash, as CometBFT prints them.
pub fn rollback(bin: &Path, home: &Path, hard: bool) -> Result<(u64, String)> {
    let home = home.to_string_lossy();
    let mut args = vec!["rollback", "--home", &home];
    if hard {
        args.push("--hard");
    }
    let out = run(bin, &args)?;
    // "Rolled back state to height 41 and hash 7A3F…"
    let words: Vec<&str> = out.split_whitespace().collect();
    let after = |word: &str| {
        words
            .iter()
            .position(|w| *w == word)
            .and_then(|i| words.get(i + 1))
            .copied()
    };
    let height = after("height").and_then(|h| h.parse().ok());
    let hash = after("hash");
    match (height, hash) {
        (Some(height), Some(hash)) => Ok((height, hash.to_uppercase())),
        _ => bail!("unexpected output from cometbft rollback: {out}"),
    }
}

/// Heights re-indexed on every start, up to the app's last committed one.
pub const REINDEX_TAIL: u64 = 5;

/// Re-indexes the events of the last [`REINDEX_TAIL`] blocks up to `height`, before CometBFT
/// starts. CometBFT indexes a block's transactions and events after committing it, in the
/// background, and drops what is pending when it stops, even cleanly: a node stopped right after a
/// large block could answer `tx?hash=` and `tx_search` without that block's transactions for
/// good. Re-indexing is idempotent and reads only the stored blocks and results.
pub fn reindex_tail(bin: &Path, home: &Path, height: u64) -> Result<()> {
    if height == 0 {
        return Ok(());
    }
    let start = height.saturating_sub(REINDEX_TAIL - 1).max(1).to_string();
    let end = height.to_string();
    run(
        bin,
        &[
            "reindex-event",
            "--home",
            &home.to_string_lossy(),
            "--start-height",
            &start,
            "--end-height",
            &end,
        ],
    )
    .map(drop)
}
