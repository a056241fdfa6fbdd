//! `suretyd tx claims …` and `suretyd query claims …`.

use super::policy::split_amount;
use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use crate::output::time;
use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};
use surety_proto::cosmos::base::v1beta1::Coin;
use surety_proto::surety::claims::v1::*;
use surety_proto::to_any;

#[derive(clap::Subcommand)]
pub enum Tx {
    /// File a claim on a policy you own. Parametric cover is decided and paid in the same block
    /// (name the oracle incident for protocol cover); assessed cover goes to a vote.
    File {
        policy_id: u64,
        /// The oracle incident id (protocol cover), or what happened (assessed cover).
        #[arg(long, default_value = "")]
        incident: String,
        /// Your loss, e.g. 400000000uusdc (assessed cover).
        #[arg(long, default_value = "0")]
        loss: String,
        #[arg(long, default_value = "")]
        evidence: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Vote on an assessed claim with your assessor stake: `vote <claim-id> yes|no`.
    Vote {
        claim_id: u64,
        #[arg(value_parser = ["yes", "no"])]
        option: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Appeal a rejected claim to governance, posting the appeal bond.
    Appeal {
        claim_id: u64,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Stake as a claim assessor, e.g. `stake 1000000usure`.
    Stake {
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Withdraw assessor stake (once the claims it voted on have closed).
    Unstake {
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Return funds recovered after an incident (e.g. `recover incident:3 5000000000uusdc`):
    /// they go to the pools that paid its claims, pro rata; at most what they paid is taken.
    Recover {
        /// The incident as its paid claims name it: incident:<id>, claim:<id>, slash:<n>, ...
        incident: String,
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// One claim, with its votes.
    Claim {
        claim_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// All claims, or one policy's.
    Claims {
        #[arg(long)]
        policy: Option<u64>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Parametric payouts still running: which product and trigger, and how far they got.
    PayoutJobs {
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn coin(c: &Option<Coin>) -> String {
    c.as_ref()
        .map(|c| format!("{}{}", c.amount, c.denom))
        .unwrap_or_else(|| "-".into())
}

pub fn status_name(s: i32) -> &'static str {
    match ClaimStatus::try_from(s).unwrap_or(ClaimStatus::Unspecified) {
        ClaimStatus::Voting => "voting",
        ClaimStatus::Paid => "paid",
        ClaimStatus::Rejected => "rejected",
        ClaimStatus::Appealed => "appealed",
        ClaimStatus::Unspecified => "unspecified",
    }
}

fn claim_json(c: &Claim, denom: &str) -> Value {
    let with_denom = |a: &str| crate::output::amount(if a.is_empty() { "0" } else { a }, denom);
    let mut v = json!({
        "id": c.id.to_string(),
        "policy_id": c.policy_id.to_string(),
        "claimant": c.claimant,
        "status": status_name(c.status),
        "incident": c.incident,
        "loss": with_denom(&c.loss),
        "payout": with_denom(&c.payout),
        "filed_at": time(c.filed_at),
        "evidence": c.evidence,
    });
    if c.voting_ends > 0 {
        v["voting_ends"] = json!(time(c.voting_ends));
        v["approve_weight"] = json!(c.approve_weight);
        v["reject_weight"] = json!(c.reject_weight);
        v["deposit"] = json!(coin(&c.deposit));
        v["fee"] = json!(coin(&c.fee));
    }
    if c.appeal_deadline > 0 {
        v["appeal_deadline"] = json!(time(c.appeal_deadline));
    }
    v
}

/// An amount in the given denom (a bare number is taken to be in it).
fn amount_in(s: &str, denom: Option<&str>) -> Result<String> {
    let (value, given) = split_amount(s)?;
    if let (Some(g), Some(d)) = (given.as_deref(), denom) {
        if g != d {
            bail!("amount must be in {d}, not {g}");
        }
    }
    Ok(value.to_string())
}

pub fn run_tx(ctx: &Context, command: Tx) -> Result<()> {
    let (from, tx, msg) = match command {
        Tx::File {
            policy_id,
            incident,
            loss,
            evidence,
            from,
            tx,
        } => {
            let msg = to_any(&MsgFileClaim {
                claimant: key_address(ctx, &from, &tx)?,
                policy_id,
                incident,
                loss: amount_in(&loss, None)?,
                evidence,
            });
            (from, tx, msg)
        }
        Tx::Vote {
            claim_id,
            option,
            from,
            tx,
        } => {
            let msg = to_any(&MsgVoteClaim {
                assessor: key_address(ctx, &from, &tx)?,
                claim_id,
                approve: option == "yes",
            });
            (from, tx, msg)
        }
        Tx::Appeal { claim_id, from, tx } => {
            let msg = to_any(&MsgAppealClaim {
                claimant: key_address(ctx, &from, &tx)?,
                claim_id,
            });
            (from, tx, msg)
        }
        Tx::Stake { amount, from, tx } => {
            let msg = to_any(&MsgStakeAssessor {
                assessor: key_address(ctx, &from, &tx)?,
                amount: amount_in(&amount, Some("usure"))?,
            });
            (from, tx, msg)
        }
        Tx::Recover {
            incident,
            amount,
            from,
            tx,
        } => {
            let (value, denom) = split_amount(&amount)?;
            let Some(denom) = denom else {
                bail!("{amount:?} needs a denom, e.g. 5000000000uusdc");
            };
            let msg = to_any(&MsgRecordRecovery {
                sender: key_address(ctx, &from, &tx)?,
                incident,
                amount: Some(Coin {
                    denom,
                    amount: value.to_string(),
                }),
            });
            (from, tx, msg)
        }
        Tx::Unstake { amount, from, tx } => {
            let msg = to_any(&MsgUnstakeAssessor {
                assessor: key_address(ctx, &from, &tx)?,
                amount: amount_in(&amount, Some("usure"))?,
            });
            (from, tx, msg)
        }
    };
    broadcast(ctx, &from, vec![msg], &tx)
}

/// The denom a claim pays in: its policy's.
fn denom_of(client: &crate::client::Client, policy_id: u64) -> Result<String> {
    use surety_proto::surety::policy::v1::{QueryPolicyRequest, QueryPolicyResponse};
    let r: QueryPolicyResponse = client.query(
        "/surety.policy.v1.Query/Policy",
        &QueryPolicyRequest { policy_id },
    )?;
    Ok(r.policy.context("empty response")?.denom)
}

pub fn run_query(ctx: &Context, command: Query) -> Result<()> {
    let value = match command {
        Query::Claim { claim_id, node } => {
            let client = node.client(ctx)?;
            let r: QueryClaimResponse = client.query(
                "/surety.claims.v1.Query/Claim",
                &QueryClaimRequest { claim_id },
            )?;
            let claim = r.claim.context("empty response")?;
            let mut v = claim_json(&claim, &denom_of(&client, claim.policy_id)?);
            v["votes"] = json!(r
                .votes
                .iter()
                .map(|vote| json!({
                    "assessor": vote.assessor,
                    "vote": if vote.approve { "yes" } else { "no" },
                    "weight": vote.weight,
                }))
                .collect::<Vec<_>>());
            v
        }
        Query::PayoutJobs { node } => {
            let jobs = node.client(ctx)?.query_all(
                "/surety.claims.v1.Query/PayoutJobs",
                |page| QueryPayoutJobsRequest {
                    pagination: Some(page),
                },
                |r: QueryPayoutJobsResponse| (r.jobs, r.pagination),
            )?;
            json!({"jobs": jobs.iter().map(|j| json!({
                "id": j.id.to_string(),
                "product_id": j.product_id.to_string(),
                "incident": j.incident,
                "triggered": crate::output::time(j.time),
                "paid_through_policy": j.cursor.to_string(),
            })).collect::<Vec<_>>()})
        }
        Query::Claims { policy, node } => {
            let client = node.client(ctx)?;
            let all = client.query_all(
                "/surety.claims.v1.Query/Claims",
                |page| QueryClaimsRequest {
                    policy_id: policy.unwrap_or(0),
                    pagination: Some(page),
                },
                |r: QueryClaimsResponse| (r.claims, r.pagination),
            )?;
            let mut denoms = std::collections::BTreeMap::new();
            let mut claims = Vec::new();
            for c in &all {
                let denom = match denoms.entry(c.policy_id) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(denom_of(&client, c.policy_id)?)
                    }
                };
                claims.push(claim_json(c, denom));
            }
            json!({ "claims": claims })
        }
    };
    ctx.print(&value);
    Ok(())
}
