//! `suretyd init`: a new node home.

use super::Context;
use crate::config::{save, AppToml, ClientToml};
use anyhow::{bail, Context as _, Result};
use surety_genesis::{AppState, GenesisFile};

#[derive(clap::Args)]
pub struct Args {
    /// The node's name, shown to peers and used as the validator moniker.
    moniker: String,
    #[arg(long)]
    chain_id: String,
    /// Overwrite an existing home's configuration and genesis.
    #[arg(long)]
    overwrite: bool,
    /// The first height whose votes carry oracle vote extensions (0 turns them off).
    #[arg(long, default_value_t = 1)]
    vote_extensions_height: u64,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let home = ctx.home();
    if home.genesis().exists() && !args.overwrite {
        bail!(
            "{} already exists; use --overwrite to replace it",
            home.genesis().display()
        );
    }
    if args.chain_id.is_empty() || args.chain_id.len() > 50 {
        bail!("--chain-id must be 1 to 50 characters");
    }
    std::fs::create_dir_all(home.config_dir())?;
    std::fs::create_dir_all(home.data_dir())?;
    let app = AppToml::default();
    let bin = crate::cometbft::binary(&app.cometbft_binary)?;
    crate::cometbft::check_version(&bin)?;
    if args.overwrite {
        let _ = std::fs::remove_file(home.genesis());
    }
    crate::cometbft::init(&bin, &home.cometbft())?;

    save(&home.app_toml(), &app, "# Surety node settings")?;
    let client = ClientToml {
        chain_id: args.chain_id.clone(),
        ..ClientToml::default()
    };
    save(
        &home.client_toml(),
        &client,
        "# Defaults for suretyd commands run against this home",
    )?;

    let cfg = home.cometbft_config_toml();
    crate::config::set_key(&cfg, "moniker", &args.moniker)?;
    crate::config::set_key(&cfg, "proxy_app", &format!("tcp://{}", app.abci_address))?;

    // The app sets the validator set from gentxs; the engine's genesis starts without one.
    let mut genesis = GenesisFile::load(&home.genesis()).map_err(anyhow::Error::msg)?;
    genesis.doc["chain_id"] = args.chain_id.clone().into();
    genesis.doc["validators"] = serde_json::json!([]);
    // Validators' oracle votes ride in vote extensions from the first block.
    genesis.doc["consensus_params"]["abci"]["vote_extensions_enable_height"] =
        args.vote_extensions_height.to_string().into();
    // A block gas limit bounds the metered work of every block (the app enforces it in
    // PrepareProposal and ProcessProposal).
    genesis.doc["consensus_params"]["block"]["max_gas"] =
        surety_app::block_gas::DEFAULT_BLOCK_MAX_GAS
            .to_string()
            .into();
    genesis.set_app_state(&AppState::default());
    genesis.save(&home.genesis()).map_err(anyhow::Error::msg)?;

    let node_id =
        crate::cometbft::node_id(&bin, &home.cometbft()).context("reading the node id")?;
    ctx.print(&serde_json::json!({
        "moniker": args.moniker,
        "chain_id": args.chain_id,
        "node_id": node_id,
        "home": ctx.home.display().to_string(),
        "genesis": home.genesis().display().to_string(),
    }));
    Ok(())
}
