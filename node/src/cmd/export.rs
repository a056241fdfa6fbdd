//! `suretyd export`: the node's latest state as a genesis file a chain restarts (or forks) from
//! at the next height, with the same app hash. Run it with the node stopped.

use super::Context;
use anyhow::{Context as _, Result};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::Digest as _;
use std::path::PathBuf;
use surety_app::{App, AppConfig};
use surety_store::{Storage, StorageConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Write the genesis to this file instead of standard output.
    #[arg(long)]
    output_document: Option<PathBuf>,
    /// The chain id the new genesis names (default: this chain's).
    #[arg(long)]
    chain_id: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let home = ctx.home();
    let storage = Storage::open(
        home.data_dir().join("application.db"),
        // Keep everything: opening must not prune what the node kept.
        StorageConfig::default(),
    )
    .context("opening the state store (stop the node first: its store is locked while it runs)")?;
    let app = App::new(storage, AppConfig::default());
    let (export, validators) = app.export().map_err(anyhow::Error::msg)?;
    let old: Value = serde_json::from_str(
        &std::fs::read_to_string(home.genesis())
            .with_context(|| format!("reading {}", home.genesis().display()))?,
    )
    .context("the current genesis file is not JSON")?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let genesis = json!({
        // Not earlier than the exported blocks: state only moves forward in time.
        "genesis_time": tendermint::Time::now().to_rfc3339(),
        "chain_id": args.chain_id.clone().unwrap_or_else(|| old["chain_id"].as_str().unwrap_or_default().to_string()),
        "initial_height": (export.height + 1).to_string(),
        "consensus_params": old["consensus_params"],
        "validators": validators.iter().map(|v| json!({
            "address": hex::encode_upper(&sha2::Sha256::digest(v.ed25519_pubkey)[..20]),
            "pub_key": {"type": "tendermint/PubKeyEd25519", "value": b64.encode(v.ed25519_pubkey)},
            "power": v.power.to_string(),
            "name": "",
        })).collect::<Vec<_>>(),
        "app_hash": export.app_hash,
        "app_state": { surety_app::export::SECTION: export },
    });
    let text = serde_json::to_string_pretty(&genesis)? + "\n";
    match &args.output_document {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "exported height {} ({} validators) to {}",
                export.height,
                validators.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}
