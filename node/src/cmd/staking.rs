//! `suretyd tx staking …` and `suretyd query staking …`, in Cosmos SDK's shapes.

use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use surety_framework::{Address, Coin, VALIDATOR_PREFIX};
use surety_proto::cosmos::staking::v1beta1::*;
use surety_proto::to_any;

#[derive(clap::Subcommand)]
pub enum Tx {
    /// Become a validator with this node's consensus key, bonding AMOUNT (e.g. 100000000usure).
    CreateValidator {
        amount: String,
        #[arg(long)]
        moniker: Option<String>,
        #[arg(long, default_value = "0.1")]
        commission_rate: String,
        #[arg(long, default_value = "0.2")]
        commission_max_rate: String,
        #[arg(long, default_value = "0.01")]
        commission_max_change_rate: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Change your validator's description, commission rate (at most once a day, within its
    /// max change rate) or minimum self-delegation; what you do not pass stays as it is.
    EditValidator {
        #[arg(long)]
        moniker: Option<String>,
        #[arg(long)]
        identity: Option<String>,
        #[arg(long)]
        website: Option<String>,
        #[arg(long)]
        security_contact: Option<String>,
        #[arg(long)]
        details: Option<String>,
        /// New commission rate, e.g. 0.05.
        #[arg(long)]
        commission_rate: Option<String>,
        /// New minimum self-delegation (it may only rise).
        #[arg(long)]
        min_self_delegation: Option<String>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Delegate to a validator: `delegate <suretyvaloper…> <amount>`.
    Delegate {
        validator: String,
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Start unbonding from a validator: `unbond <suretyvaloper…> <amount>`.
    Unbond {
        validator: String,
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Move stake between validators: `redelegate <src> <dst> <amount>`.
    Redelegate {
        src: String,
        dst: String,
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// The validators.
    Validators {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One validator.
    Validator {
        validator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A delegation: `delegation <delegator> <validator>`.
    Delegation {
        delegator: String,
        validator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A delegator's delegations.
    Delegations {
        delegator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A delegator's unbonding delegations.
    UnbondingDelegations {
        delegator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Staking parameters.
    Params {
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn coin(amount: &str) -> Result<surety_proto::cosmos::base::v1beta1::Coin> {
    let c: Coin = amount
        .parse()
        .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?;
    Ok(c.to_proto())
}

/// A decimal such as 0.1 as `LegacyDec` puts it on the wire (× 10¹⁸).
fn legacy_dec(s: &str) -> Result<String> {
    let d: surety_framework::Dec = s
        .parse()
        .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?;
    Ok(d.0.to_string())
}

fn validator_json(v: &Validator) -> Value {
    let dec = |s: &str| {
        s.parse::<u128>()
            .map(|d| surety_framework::Dec(d).to_string())
            .unwrap_or_default()
    };
    json!({
        "operator_address": v.operator_address,
        "moniker": v.description.as_ref().map(|d| d.moniker.clone()).unwrap_or_default(),
        "status": BondStatus::try_from(v.status).map(|s| s.as_str_name()).unwrap_or("BOND_STATUS_UNSPECIFIED"),
        "jailed": v.jailed,
        "tokens": format!("{}usure", v.tokens),
        "delegator_shares": dec(&v.delegator_shares),
        "commission_rate": v.commission.as_ref().and_then(|c| c.commission_rates.as_ref()).map(|r| dec(&r.rate)),
    })
}

fn delegation_json(r: &DelegationResponse) -> Value {
    let d = r.delegation.clone().unwrap_or_default();
    json!({
        "delegator_address": d.delegator_address,
        "validator_address": d.validator_address,
        "shares": d.shares.parse::<u128>().map(|s| surety_framework::Dec(s).to_string()).unwrap_or_default(),
        "balance": r.balance.as_ref().map(|c| format!("{}{}", c.amount, c.denom)),
    })
}

pub fn run_tx(ctx: &Context, command: Tx) -> Result<()> {
    let (from, tx, msg) = match command {
        Tx::CreateValidator {
            amount,
            moniker,
            commission_rate,
            commission_max_rate,
            commission_max_change_rate,
            from,
            tx,
        } => {
            let account = key_address(ctx, &from, &tx)?;
            let operator = Address::from_bech32(&account).map_err(|e| anyhow::anyhow!(e.log))?;
            let moniker = match moniker {
                Some(m) => m,
                None => super::genesis::moniker(ctx)?,
            };
            #[allow(deprecated)]
            let msg = MsgCreateValidator {
                description: Some(Description {
                    moniker,
                    ..Default::default()
                }),
                commission: Some(CommissionRates {
                    rate: legacy_dec(&commission_rate)?,
                    max_rate: legacy_dec(&commission_max_rate)?,
                    max_change_rate: legacy_dec(&commission_max_change_rate)?,
                }),
                min_self_delegation: "1".into(),
                delegator_address: String::new(),
                validator_address: operator.to_bech32_with(VALIDATOR_PREFIX),
                pubkey: Some(to_any(&surety_proto::cosmos::crypto::ed25519::PubKey {
                    key: super::genesis::consensus_pubkey(ctx)?,
                })),
                value: Some(coin(&amount)?),
            };
            (from, tx, to_any(&msg))
        }
        Tx::EditValidator {
            moniker,
            identity,
            website,
            security_contact,
            details,
            commission_rate,
            min_self_delegation,
            from,
            tx,
        } => {
            let account = key_address(ctx, &from, &tx)?;
            let operator = Address::from_bech32(&account).map_err(|e| anyhow::anyhow!(e.log))?;
            // Cosmos's marker for a description field left as it is.
            let keep = |v: Option<String>| v.unwrap_or_else(|| "[do-not-modify]".into());
            let msg = MsgEditValidator {
                description: Some(Description {
                    moniker: keep(moniker),
                    identity: keep(identity),
                    website: keep(website),
                    security_contact: keep(security_contact),
                    details: keep(details),
                }),
                validator_address: operator.to_bech32_with(VALIDATOR_PREFIX),
                commission_rate: commission_rate
                    .as_deref()
                    .map(legacy_dec)
                    .transpose()?
                    .unwrap_or_default(),
                min_self_delegation: min_self_delegation.unwrap_or_default(),
            };
            (from, tx, to_any(&msg))
        }
        Tx::Delegate {
            validator,
            amount,
            from,
            tx,
        } => {
            let msg = MsgDelegate {
                delegator_address: key_address(ctx, &from, &tx)?,
                validator_address: validator,
                amount: Some(coin(&amount)?),
            };
            (from, tx, to_any(&msg))
        }
        Tx::Unbond {
            validator,
            amount,
            from,
            tx,
        } => {
            let msg = MsgUndelegate {
                delegator_address: key_address(ctx, &from, &tx)?,
                validator_address: validator,
                amount: Some(coin(&amount)?),
            };
            (from, tx, to_any(&msg))
        }
        Tx::Redelegate {
            src,
            dst,
            amount,
            from,
            tx,
        } => {
            let msg = MsgBeginRedelegate {
                delegator_address: key_address(ctx, &from, &tx)?,
                validator_src_address: src,
                validator_dst_address: dst,
                amount: Some(coin(&amount)?),
            };
            (from, tx, to_any(&msg))
        }
    };
    broadcast(ctx, &from, vec![msg], &tx)
}

pub fn run_query(ctx: &Context, command: Query) -> Result<()> {
    let value = match command {
        Query::Validators { node } => {
            let r: QueryValidatorsResponse = node.client(ctx)?.query(
                "/cosmos.staking.v1beta1.Query/Validators",
                &QueryValidatorsRequest::default(),
            )?;
            json!({"validators": r.validators.iter().map(validator_json).collect::<Vec<_>>()})
        }
        Query::Validator { validator, node } => {
            let r: QueryValidatorResponse = node.client(ctx)?.query(
                "/cosmos.staking.v1beta1.Query/Validator",
                &QueryValidatorRequest {
                    validator_addr: validator,
                },
            )?;
            validator_json(&r.validator.context("empty response")?)
        }
        Query::Delegation {
            delegator,
            validator,
            node,
        } => {
            let r: QueryDelegationResponse = node.client(ctx)?.query(
                "/cosmos.staking.v1beta1.Query/Delegation",
                &QueryDelegationRequest {
                    delegator_addr: delegator,
                    validator_addr: validator,
                },
            )?;
            delegation_json(&r.delegation_response.context("empty response")?)
        }
        Query::Delegations { delegator, node } => {
            let r: QueryDelegatorDelegationsResponse = node.client(ctx)?.query(
                "/cosmos.staking.v1beta1.Query/DelegatorDelegations",
                &QueryDelegatorDelegationsRequest {
                    delegator_addr: delegator,
                    pagination: None,
                },
            )?;
            json!({"delegation_responses": r.delegation_responses.iter().map(delegation_json).collect::<Vec<_>>()})
        }
        Query::UnbondingDelegations { delegator, node } => {
            let r: QueryDelegatorUnbondingDelegationsResponse = node.client(ctx)?.query(
                "/cosmos.staking.v1beta1.Query/DelegatorUnbondingDelegations",
                &QueryDelegatorUnbondingDelegationsRequest {
                    delegator_addr: delegator,
                    pagination: None,
                },
            )?;
            json!({"unbonding_responses": r.unbonding_responses.iter().map(|u| json!({
                "validator_address": u.validator_address,
                "entries": u.entries.iter().map(|e| json!({
                    "balance": format!("{}usure", e.balance),
                    "completion_time": crate::output::time(e.completion_time.as_ref().map_or(0, |t| t.seconds)),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>()})
        }
        Query::Params { node } => {
            let r: QueryParamsResponse = node.client(ctx)?.query(
                "/cosmos.staking.v1beta1.Query/Params",
                &QueryParamsRequest {},
            )?;
            let p = r.params.context("empty response")?;
            json!({
                "unbonding_time": format!("{}s", p.unbonding_time.map_or(0, |d| d.seconds)),
                "max_validators": p.max_validators,
                "max_entries": p.max_entries,
                "historical_entries": p.historical_entries,
                "bond_denom": p.bond_denom,
            })
        }
    };
    ctx.print(&value);
    Ok(())
}
