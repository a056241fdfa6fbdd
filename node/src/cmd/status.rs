//! `suretyd status`: the node's CometBFT status.

use super::{Context, NodeArgs};
use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let status = args.node.client(ctx)?.status()?;
    ctx.print(&serde_json::to_value(status)?);
    Ok(())
}
