//! `suretyd tx slashing unjail` and `suretyd query slashing …`.

use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use crate::output::time;
use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use std::thread;
use std::time::{Duration, Instant};
use surety_framework::{Address, VALIDATOR_PREFIX};
use surety_proto::cosmos::slashing::v1beta1::*;
use surety_proto::to_any;

#[derive(clap::Subcommand)]
pub enum Tx {
    /// Bring your jailed validator back once its jail time is over.
    Unjail {
        #[arg(long)]
        from: String,
        /// If the validator is still jailed, wait for its jail time to end (retrying every few
        /// seconds, for at most 15 minutes) instead of failing at once.
        #[arg(long)]
        wait: bool,
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

/// How long `unjail --wait` waits at most, and how often it tries again.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
const RETRY_EVERY: Duration = Duration::from_secs(3);

/// The node refused an unjail because the jail time is not over (slashing error 4): the one
/// refusal that time cures. The block time, not this machine's clock, decides when it is over,
/// so `--wait` asks the chain again rather than sleeping until a computed moment.
fn still_jailed(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("(codespace slashing, code 4)")
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
        Tx::Unjail { from, wait, tx } => {
            let account = Address::from_bech32(&key_address(ctx, &from, &tx)?)
                .map_err(|e| anyhow::anyhow!(e.log))?;
            let msg = MsgUnjail {
                validator_addr: account.to_bech32_with(VALIDATOR_PREFIX),
            };
            let deadline = Instant::now() + MAX_WAIT;
            loop {
                match broadcast(ctx, &from, vec![to_any(&msg)], &tx) {
                    Err(e) if wait && still_jailed(&e) && Instant::now() < deadline => {
                        eprintln!("{e:#}; waiting");
                        thread::sleep(RETRY_EVERY);
                    }
                    result => return result,
                }
            }
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

#[cfg(test)]
mod tests {
    use super::still_jailed;

    #[test]
    fn unjail_waits_only_while_the_jail_time_runs() {
        // As the node refuses in simulation and in a block (texts from a real run).
        for text in [
            "simulating the transaction: rpc error: code = InvalidArgument desc = failed to \
             execute message; message index: 0: jailed until 1795810166: validator still \
             jailed; cannot be unjailed (codespace slashing, code 4)",
            "transaction failed in block 9: jailed until 1795810166 (codespace slashing, code 4)",
        ] {
            assert!(still_jailed(&anyhow::anyhow!(text)), "{text}");
        }
        // Refusals that waiting cannot cure end the command at once.
        for text in [
            "validator is tombstoned and cannot be unjailed (codespace slashing, code 7)",
            "validator not jailed; cannot be unjailed (codespace slashing, code 5)",
            "insufficient funds (codespace sdk, code 5)",
            "a code 4 of another module (codespace staking, code 4)",
        ] {
            assert!(!still_jailed(&anyhow::anyhow!(text)), "{text}");
        }
    }
}
