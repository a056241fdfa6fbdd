//! `suretyd tx distribution …` and `suretyd query distribution …`.

use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use surety_framework::{Address, Dec, VALIDATOR_PREFIX};
use surety_proto::cosmos::base::v1beta1::DecCoin;
use surety_proto::cosmos::distribution::v1beta1::*;
use surety_proto::{to_any, Any};

#[derive(clap::Subcommand)]
pub enum Tx {
    /// Withdraw your rewards from a validator (and, with --commission, your validator's
    /// commission).
    WithdrawRewards {
        validator: String,
        #[arg(long)]
        commission: bool,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// A delegator's rewards, per validator and in total.
    Rewards {
        delegator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A validator's accumulated commission.
    Commission {
        validator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The community pool.
    CommunityPool {
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn dec_coins(list: &[DecCoin]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| {
                let amount = c
                    .amount
                    .parse::<u128>()
                    .map(|a| Dec(a).to_string())
                    .unwrap_or_default();
                json!(format!("{amount}{}", c.denom))
            })
            .collect(),
    )
}

pub fn run_tx(ctx: &Context, command: Tx) -> Result<()> {
    match command {
        Tx::WithdrawRewards {
            validator,
            commission,
            from,
            tx,
        } => {
            let delegator = key_address(ctx, &from, &tx)?;
            let mut msgs: Vec<Any> = vec![to_any(&MsgWithdrawDelegatorReward {
                delegator_address: delegator.clone(),
                validator_address: validator.clone(),
            })];
            if commission {
                let own = Address::from_bech32(&delegator)
                    .map_err(|e| anyhow::anyhow!(e.log))?
                    .to_bech32_with(VALIDATOR_PREFIX);
                msgs.push(to_any(&MsgWithdrawValidatorCommission {
                    validator_address: own,
                }));
            }
            broadcast(ctx, &from, msgs, &tx)
        }
    }
}

pub fn run_query(ctx: &Context, command: Query) -> Result<()> {
    let value = match command {
        Query::Rewards { delegator, node } => {
            let r: QueryDelegationTotalRewardsResponse = node.client(ctx)?.query(
                "/cosmos.distribution.v1beta1.Query/DelegationTotalRewards",
                &QueryDelegationTotalRewardsRequest {
                    delegator_address: delegator,
                },
            )?;
            json!({
                "rewards": r.rewards.iter().map(|x| json!({
                    "validator_address": x.validator_address,
                    "reward": dec_coins(&x.reward),
                })).collect::<Vec<_>>(),
                "total": dec_coins(&r.total),
            })
        }
        Query::Commission { validator, node } => {
            let r: QueryValidatorCommissionResponse = node.client(ctx)?.query(
                "/cosmos.distribution.v1beta1.Query/ValidatorCommission",
                &QueryValidatorCommissionRequest {
                    validator_address: validator,
                },
            )?;
            json!({"commission": dec_coins(&r.commission.context("empty response")?.commission)})
        }
        Query::CommunityPool { node } => {
            let r: QueryCommunityPoolResponse = node.client(ctx)?.query(
                "/cosmos.distribution.v1beta1.Query/CommunityPool",
                &QueryCommunityPoolRequest {},
            )?;
            json!({"pool": dec_coins(&r.pool)})
        }
    };
    ctx.print(&value);
    Ok(())
}
