//! `suretyd tx gov …` and `suretyd query gov …`, in Cosmos SDK's shapes.
//!
//! `submit-proposal` reads a JSON file as Cosmos SDK's CLI does:
//! `{"messages": [{"@type": "/surety.policy.v1.MsgSetProductPaused", "authority": "surety1…",
//! "product_id": "2", "paused": true}], "deposit": "10000000usure", "title": "…", "summary": "…",
//! "expedited": false}` — each message in proto3 JSON, turned into protobuf with the node's own
//! descriptors.

use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use crate::output::time;
use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use surety_framework::Coins;
use surety_proto::cosmos::gov::v1::*;
use surety_proto::{to_any, Any};

#[derive(clap::Subcommand)]
pub enum Tx {
    /// Submit a proposal from a JSON file (see `suretyd tx gov submit-proposal --help`).
    SubmitProposal {
        file: PathBuf,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Add to a proposal's deposit: `deposit <id> <amount>`.
    Deposit {
        proposal_id: u64,
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Split a vote: `weighted-vote <id> yes=0.6,no=0.3,abstain=0.1` (weights sum to 1).
    WeightedVote {
        proposal_id: u64,
        options: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Vote: `vote <id> yes|no|abstain|no_with_veto`.
    Vote {
        proposal_id: u64,
        #[arg(value_parser = ["yes", "no", "abstain", "no_with_veto"])]
        option: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// One proposal.
    Proposal {
        proposal_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every proposal.
    Proposals {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A proposal's votes.
    Votes {
        proposal_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A proposal's tally (live while voting, final after).
    Tally {
        proposal_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Gov parameters.
    Params {
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// A message in the SDK's JSON with its `@type`, as protobuf.
fn message_from_json(value: &Value) -> Result<Any> {
    let type_url = value["@type"]
        .as_str()
        .context("every message needs an \"@type\"")?
        .to_string();
    let descriptor = crate::protojson::message(type_url.trim_start_matches('/'))
        .map_err(|_| anyhow::anyhow!("unknown message type {type_url}"))?;
    let mut body = value.clone();
    body.as_object_mut().map(|o| o.remove("@type"));
    let value = crate::protojson::from_json(&descriptor, &body)
        .map_err(|e| anyhow::anyhow!("{type_url} does not match its proto: {e}"))?;
    Ok(Any { type_url, value })
}

/// `yes` → `VOTE_OPTION_YES`.
fn vote_option(name: &str) -> Result<VoteOption> {
    Ok(match name {
        "yes" => VoteOption::Yes,
        "no" => VoteOption::No,
        "abstain" => VoteOption::Abstain,
        "no_with_veto" => VoteOption::NoWithVeto,
        other => bail!("unknown vote option {other} (yes, no, abstain, no_with_veto)"),
    })
}

fn status_name(s: i32) -> &'static str {
    ProposalStatus::try_from(s)
        .map(|s| s.as_str_name())
        .unwrap_or("PROPOSAL_STATUS_UNSPECIFIED")
}

fn tally_json(t: &Option<TallyResult>) -> Value {
    let t = t.clone().unwrap_or_default();
    json!({"yes": t.yes_count, "abstain": t.abstain_count, "no": t.no_count, "no_with_veto": t.no_with_veto_count})
}

fn proposal_json(p: &Proposal) -> Value {
    let t = |ts: &Option<tendermint_proto::google::protobuf::Timestamp>| {
        time(ts.as_ref().map_or(0, |t| t.seconds))
    };
    json!({
        "id": p.id.to_string(),
        "title": p.title,
        "summary": p.summary,
        "status": status_name(p.status),
        "messages": p.messages.iter().map(|m| m.type_url.clone()).collect::<Vec<_>>(),
        "proposer": p.proposer,
        "total_deposit": Coins::from_proto(&p.total_deposit).map(|c| c.to_string()).unwrap_or_default(),
        "submit_time": t(&p.submit_time),
        "deposit_end_time": t(&p.deposit_end_time),
        "voting_end_time": t(&p.voting_end_time),
        "expedited": p.expedited,
        "final_tally_result": tally_json(&p.final_tally_result),
        "failed_reason": p.failed_reason,
    })
}

pub fn run_tx(ctx: &Context, command: Tx) -> Result<()> {
    let (from, tx, msg) = match command {
        Tx::SubmitProposal { file, from, tx } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let doc: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            let messages = doc["messages"]
                .as_array()
                .context("the proposal needs a \"messages\" list")?
                .iter()
                .map(message_from_json)
                .collect::<Result<Vec<_>>>()?;
            let deposit: Coins = doc["deposit"]
                .as_str()
                .unwrap_or("")
                .parse()
                .map_err(|e: surety_framework::Error| anyhow::anyhow!("deposit: {}", e.log))?;
            let msg = MsgSubmitProposal {
                messages,
                initial_deposit: deposit.to_proto(),
                proposer: key_address(ctx, &from, &tx)?,
                metadata: doc["metadata"].as_str().unwrap_or("").to_string(),
                title: doc["title"].as_str().unwrap_or("").to_string(),
                summary: doc["summary"].as_str().unwrap_or("").to_string(),
                expedited: doc["expedited"].as_bool().unwrap_or(false),
            };
            (from, tx, to_any(&msg))
        }
        Tx::Deposit {
            proposal_id,
            amount,
            from,
            tx,
        } => {
            let amount: Coins = amount
                .parse()
                .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?;
            let msg = MsgDeposit {
                proposal_id,
                depositor: key_address(ctx, &from, &tx)?,
                amount: amount.to_proto(),
            };
            (from, tx, to_any(&msg))
        }
        Tx::Vote {
            proposal_id,
            option,
            from,
            tx,
        } => {
            let msg = MsgVote {
                proposal_id,
                voter: key_address(ctx, &from, &tx)?,
                option: vote_option(&option)? as i32,
                metadata: String::new(),
            };
            (from, tx, to_any(&msg))
        }
        Tx::WeightedVote {
            proposal_id,
            options,
            from,
            tx,
        } => {
            let options = options
                .split(',')
                .map(|part| {
                    let (name, weight) = part.split_once('=').with_context(|| {
                        format!("{part:?}: write each option as option=weight, e.g. yes=0.6")
                    })?;
                    Ok(WeightedVoteOption {
                        option: vote_option(name.trim())? as i32,
                        weight: weight.trim().to_string(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let msg = MsgVoteWeighted {
                proposal_id,
                voter: key_address(ctx, &from, &tx)?,
                options,
                metadata: String::new(),
            };
            (from, tx, to_any(&msg))
        }
    };
    broadcast(ctx, &from, vec![msg], &tx)
}

pub fn run_query(ctx: &Context, command: Query) -> Result<()> {
    let value = match command {
        Query::Proposal { proposal_id, node } => {
            let r: QueryProposalResponse = node.client(ctx)?.query(
                "/cosmos.gov.v1.Query/Proposal",
                &QueryProposalRequest { proposal_id },
            )?;
            proposal_json(&r.proposal.context("empty response")?)
        }
        Query::Proposals { node } => {
            let r: QueryProposalsResponse = node.client(ctx)?.query(
                "/cosmos.gov.v1.Query/Proposals",
                &QueryProposalsRequest::default(),
            )?;
            json!({"proposals": r.proposals.iter().map(proposal_json).collect::<Vec<_>>()})
        }
        Query::Votes { proposal_id, node } => {
            let r: QueryVotesResponse = node.client(ctx)?.query(
                "/cosmos.gov.v1.Query/Votes",
                &QueryVotesRequest {
                    proposal_id,
                    pagination: None,
                },
            )?;
            json!({"votes": r.votes.iter().map(|v| json!({
                "voter": v.voter,
                "options": v.options.iter().map(|o| json!({
                    "option": VoteOption::try_from(o.option).map(|x| x.as_str_name()).unwrap_or("?"),
                    "weight": o.weight,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>()})
        }
        Query::Tally { proposal_id, node } => {
            let r: QueryTallyResultResponse = node.client(ctx)?.query(
                "/cosmos.gov.v1.Query/TallyResult",
                &QueryTallyResultRequest { proposal_id },
            )?;
            tally_json(&r.tally)
        }
        Query::Params { node } => {
            let r: QueryParamsResponse = node.client(ctx)?.query(
                "/cosmos.gov.v1.Query/Params",
                &QueryParamsRequest::default(),
            )?;
            let p = r.params.context("empty response")?;
            json!({
                "min_deposit": Coins::from_proto(&p.min_deposit).map(|c| c.to_string()).unwrap_or_default(),
                "max_deposit_period": format!("{}s", p.max_deposit_period.map_or(0, |d| d.seconds)),
                "voting_period": format!("{}s", p.voting_period.map_or(0, |d| d.seconds)),
                "expedited_voting_period": format!("{}s", p.expedited_voting_period.map_or(0, |d| d.seconds)),
                "quorum": p.quorum,
                "threshold": p.threshold,
                "veto_threshold": p.veto_threshold,
                "expedited_threshold": p.expedited_threshold,
            })
        }
    };
    ctx.print(&value);
    Ok(())
}
