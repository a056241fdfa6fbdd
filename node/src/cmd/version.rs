//! `suretyd version`: this binary's version, and with `--long` what it was built from.

use super::Context;
use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {
    /// Also the commit, the CometBFT version it expects and the protocol versions.
    #[arg(long)]
    long: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    if !args.long {
        println!("{}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    ctx.print(&serde_json::json!({
        "name": "surety",
        "server_name": "suretyd",
        "version": env!("CARGO_PKG_VERSION"),
        "commit": env!("SURETY_COMMIT"),
        "cometbft_version": include_str!("../../../COMETBFT_VERSION").trim(),
        "abci": "2.0",
    }));
    Ok(())
}
