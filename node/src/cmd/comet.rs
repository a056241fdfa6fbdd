//! `suretyd comet …`: this node's CometBFT identity, read from its home.

use super::Context;
use anyhow::Result;
use base64::Engine as _;
use sha2::Digest as _;

#[derive(clap::Subcommand)]
#[allow(clippy::enum_variant_names)] // CometBFT's own command names
pub enum Command {
    /// The node's P2P id (for `persistent_peers`: `<id>@host:26656`).
    ShowNodeId,
    /// The validator's consensus public key, as `tx staking create-validator` sends it.
    ShowValidator,
    /// The validator's consensus address in hex, as CometBFT and the slashing module show it.
    ShowAddress,
}

pub fn run(ctx: &Context, command: Command) -> Result<()> {
    match command {
        Command::ShowNodeId => {
            let cfg: crate::config::AppToml = crate::config::load(&ctx.home().app_toml())?;
            let bin = crate::cometbft::binary(&cfg.cometbft_binary)?;
            println!(
                "{}",
                crate::cometbft::node_id(&bin, &ctx.home().cometbft())?
            );
        }
        Command::ShowValidator => {
            let key = super::genesis::consensus_pubkey(ctx)?;
            ctx.print(&serde_json::json!({
                "@type": "/cosmos.crypto.ed25519.PubKey",
                "key": base64::engine::general_purpose::STANDARD.encode(key),
            }));
        }
        Command::ShowAddress => {
            let key = super::genesis::consensus_pubkey(ctx)?;
            let hash = sha2::Sha256::digest(&key);
            println!("{}", hex::encode_upper(&hash[..20]));
        }
    }
    Ok(())
}
