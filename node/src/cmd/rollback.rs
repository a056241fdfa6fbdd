//! `suretyd rollback`: steps a stopped node back one height — CometBFT's state and the app's —
//! so that it executes its last block again when it starts, e.g. with a binary that fixes why
//! its app hash went wrong.

use super::Context;
use crate::config::{load, AppToml};
use anyhow::{bail, Context as _, Result};
use surety_store::{Storage, StorageConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Also delete the last block from CometBFT's block store (it is fetched again from peers).
    #[arg(long)]
    hard: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let home = ctx.home();
    let cfg: AppToml = load(&home.app_toml())?;
    // Open the store first: it is locked while the node runs, so this refuses before CometBFT's
    // state is touched.
    let storage = Storage::open(
        home.data_dir().join("application.db"),
        // Keep everything: opening must not prune the version to roll back to.
        StorageConfig::default(),
    )
    .context("opening the state store (stop the node first: its store is locked while it runs)")?;
    let bin = crate::cometbft::binary(&cfg.cometbft_binary)?;
    let (height, hash) = crate::cometbft::rollback(&bin, &home.cometbft(), args.hard)?;
    let latest = storage.latest_version();
    if latest == height + 1 {
        storage
            .rollback()
            .with_context(|| format!("rolling the app's state back to height {height}"))?;
    } else if latest != height {
        bail!(
            "CometBFT is back at height {height}, but the app's state is at {latest}: it can \
             only follow one height back"
        );
    }
    let app_hash = hex::encode_upper(storage.latest_app_hash().unwrap_or_default());
    if app_hash != hash {
        bail!("at height {height} the app's state hashes to {app_hash}, CometBFT has {hash}");
    }
    ctx.print(&serde_json::json!({"height": height.to_string(), "app_hash": app_hash}));
    Ok(())
}
