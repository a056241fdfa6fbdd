//! `suretyd tx slashing unjail` and `suretyd query slashing …`.

use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use crate::output::time;
use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use surety_framework::{Address, VALIDATOR_PREFIX};
use surety_proto::cosmos::slashing::v1beta1::*;
use surety_proto::to_any;

#[derive(clap::Subcommand)]
pub enum Tx {
    /// Bring your jailed validator back once its jail time is over.
    Unjail {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// Every validator's liveness record.
    SigningInfos {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Slashing parameters.
    Params {
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn info_json(i: &ValidatorSigningInfo) -> Value {
    json!({
        "address": i.address,
        "start_height": i.start_height.to_string(),
        "missed_blocks_counter": i.missed_blocks_counter.to_string(),
        "jailed_until": time(i.jailed_until.as_ref().map_or(0, |t| t.seconds)),
        "tombstoned": i.tombstoned,
    })
}

pub fn run_tx(ctx: &Context, command: Tx) -> Result<()> {
    match command {
        Tx::Unjail { from, tx } => {
            let account = Address::from_bech32(&key_address(ctx, &from, &tx)?)
                .map_err(|e| anyhow::anyhow!(e.log))?;
            let msg = MsgUnjail {
                validator_addr: account.to_bech32_with(VALIDATOR_PREFIX),
            };
            broadcast(ctx, &from, vec![to_any(&msg)], &tx)
        }
    }
}

pub fn run_query(ctx: &Context, command: Query) -> Result<()> {
    let value = match command {
        Query::SigningInfos { node } => {
            let r: QuerySigningInfosResponse = node.client(ctx)?.query(
                "/cosmos.slashing.v1beta1.Query/SigningInfos",
                &QuerySigningInfosRequest { pagination: None },
            )?;
            json!({"info": r.info.iter().map(info_json).collect::<Vec<_>>()})
        }
        Query::Params { node } => {
            let r: QueryParamsResponse = node.client(ctx)?.query(
                "/cosmos.slashing.v1beta1.Query/Params",
                &QueryParamsRequest {},
            )?;
            let p = r.params.context("empty response")?;
            let dec = |b: &[u8]| {
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| s.parse::<u128>().ok())
                    .map(|d| surety_framework::Dec(d).to_string())
                    .unwrap_or_default()
            };
            json!({
                "signed_blocks_window": p.signed_blocks_window.to_string(),
                "min_signed_per_window": dec(&p.min_signed_per_window),
                "downtime_jail_duration": format!("{}s", p.downtime_jail_duration.map_or(0, |d| d.seconds)),
                "slash_fraction_double_sign": dec(&p.slash_fraction_double_sign),
                "slash_fraction_downtime": dec(&p.slash_fraction_downtime),
            })
        }
    };
    ctx.print(&value);
    Ok(())
}
