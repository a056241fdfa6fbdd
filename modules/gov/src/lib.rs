//! gov: on-chain proposals, Cosmos SDK `cosmos.gov.v1` compatible.
//!
//! A proposal carries messages that execute under the gov module's authority — any module's
//! `MsgUpdateParams`, product listings and pauses, pool creation, appeal decisions, treasury
//! spends. It collects deposits until the minimum, is voted on (yes / abstain / no /
//! no-with-veto, or weighted) by bonded stake for the voting period — delegators inheriting their
//! validator's vote unless they vote themselves — and is tallied in EndBlock against quorum,
//! threshold and veto. A passing proposal's messages execute atomically, all or none, and the
//! result is recorded. Deposits are refunded, or burned on a veto (and, if the params say so, on
//! a missed quorum or an expired deposit period). Expedited proposals vote for a shorter period
//! at a higher threshold; one that fails becomes a regular proposal.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

mod end_block;
mod msgs;
mod query;
mod tally;

use prost::Message;
use surety_framework::module::genesis_json;
use surety_framework::queue::DeadlineQueue;
use surety_framework::{
    gov_authority, sdk, Address, Coins, Ctx, Dec, Error, Event, Module, Msgs, ValidatorUpdate,
};
use surety_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use surety_proto::cosmos::gov::v1::*;
use tendermint_proto::google::protobuf::{Duration, Timestamp};

pub use msgs::{check_params, vote_options};
pub use tally::Tally;

pub const STORE: &str = "gov";
/// Deposits are held by the gov module account, which is also the authority proposals act as.
pub const GOV_ACCOUNT: &str = surety_framework::accounts::GOV;

const PARAMS: &[u8] = &[0x00];
const PROPOSALS: u8 = 0x01;
const NEXT_ID: &[u8] = &[0x02];
const DEPOSITS: u8 = 0x03;
const VOTES: u8 = 0x04;

/// Proposals in their deposit period, by deposit end time: `[0x05][time][id]`.
const INACTIVE: DeadlineQueue = DeadlineQueue::new(STORE, 0x05);
/// Proposals in their voting period, by voting end time: `[0x06][time][id]`.
const ACTIVE: DeadlineQueue = DeadlineQueue::new(STORE, 0x06);

surety_framework::errors! { "gov";
    unknown_proposal = 2, "unknown proposal";
    inactive_proposal = 3, "inactive proposal";
    invalid_proposal = 5, "invalid proposal content";
    invalid_vote = 8, "invalid vote option";
    invalid_signer = 12, "expected gov account as only signer for proposal message";
    metadata_too_long = 15, "metadata too long";
    min_deposit_too_small = 19, "minimum deposit is too small";
}

fn secs(d: &Option<Duration>) -> i64 {
    d.as_ref().map_or(0, |d| d.seconds)
}

fn ts(secs: i64) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: secs,
        nanos: 0,
    })
}

/// `start + period`; both are sane (block time, params of at most ten years), so an overflow is
/// internal.
fn after(start: i64, period: i64) -> Result<i64, Error> {
    start
        .checked_add(period)
        .ok_or_else(|| sdk::internal(format!("time {start} + {period}s overflows")))
}

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![tag];
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt gov state: {e}")))
}

fn usure(amount: u128) -> Vec<ProtoCoin> {
    vec![ProtoCoin {
        denom: "usure".into(),
        amount: amount.to_string(),
    }]
}

/// Cosmos SDK's defaults.
pub fn default_params() -> Params {
    Params {
        min_deposit: usure(10_000_000),
        max_deposit_period: Some(Duration {
            seconds: 2 * 86_400,
            nanos: 0,
        }),
        voting_period: Some(Duration {
            seconds: 2 * 86_400,
            nanos: 0,
        }),
        quorum: "0.334".into(),
        threshold: "0.5".into(),
        veto_threshold: "0.334".into(),
        min_initial_deposit_ratio: "0".into(),
        proposal_cancel_ratio: "0.5".into(),
        proposal_cancel_dest: String::new(),
        expedited_voting_period: Some(Duration {
            seconds: 86_400,
            nanos: 0,
        }),
        expedited_threshold: "0.667".into(),
        expedited_min_deposit: usure(50_000_000),
        burn_vote_quorum: false,
        burn_proposal_deposit_prevote: false,
        burn_vote_veto: true,
        min_deposit_ratio: "0.01".into(),
    }
}

fn dec(s: &str, what: &str) -> Result<Dec, Error> {
    s.parse()
        .map_err(|_| sdk::invalid_request(format!("gov {what} {s:?} is not a decimal")))
}

/// How many entries a paged read takes at a time.
const PAGE: usize = 256;

/// Calls `f` on every entry under `prefix`, reading a page at a time (so memory stays bounded
/// however many entries there are; `f` may delete the entry it is given). Returns the count.
fn for_each_entry(
    ctx: &mut Ctx,
    prefix: &[u8],
    mut f: impl FnMut(&mut Ctx, Vec<u8>, Vec<u8>) -> Result<(), Error>,
) -> Result<u64, Error> {
    let mut start: Option<Vec<u8>> = None;
    let mut count: u64 = 0;
    loop {
        let page = ctx.range(STORE, prefix, start.as_deref(), PAGE)?;
        let full = page.len() == PAGE;
        for (k, v) in page {
            count = count.saturating_add(1);
            let mut next = k.clone();
            next.push(0);
            start = Some(next);
            f(ctx, k, v)?;
        }
        if !full {
            return Ok(count);
        }
    }
}

#[derive(Clone, Copy, Default)]
pub struct Gov {
    bank: surety_bank::Bank,
    staking: surety_staking::Staking,
}

impl Gov {
    pub fn params(&self, ctx: &mut Ctx) -> Result<Params, Error> {
        Ok(ctx.get_msg(STORE, PARAMS)?.unwrap_or_else(default_params))
    }

    fn set_params(&self, ctx: &mut Ctx, p: &Params) -> Result<(), Error> {
        check_params(p)?;
        ctx.put_msg(STORE, PARAMS.to_vec(), p)
    }

    pub fn proposal(&self, ctx: &mut Ctx, id: u64) -> Result<Proposal, Error> {
        ctx.get_msg(STORE, &key(PROPOSALS, &[&id.to_be_bytes()]))?
            .ok_or_else(|| unknown_proposal(format!("{id}")))
    }

    fn save(&self, ctx: &mut Ctx, p: &Proposal) -> Result<(), Error> {
        ctx.put_msg(STORE, key(PROPOSALS, &[&p.id.to_be_bytes()]), p)
    }

    pub fn proposals(&self, ctx: &mut Ctx) -> Result<Vec<Proposal>, Error> {
        ctx.prefix(STORE, &[PROPOSALS])?
            .into_iter()
            .map(|(_, v)| decode(&v))
            .collect()
    }

    pub fn deposits(&self, ctx: &mut Ctx, id: u64) -> Result<Vec<Deposit>, Error> {
        ctx.prefix(STORE, &key(DEPOSITS, &[&id.to_be_bytes()]))?
            .into_iter()
            .map(|(_, v)| decode(&v))
            .collect()
    }

    pub fn votes(&self, ctx: &mut Ctx, id: u64) -> Result<Vec<Vote>, Error> {
        ctx.prefix(STORE, &key(VOTES, &[&id.to_be_bytes()]))?
            .into_iter()
            .map(|(_, v)| decode(&v))
            .collect()
    }

    fn min_deposit(&self, params: &Params, expedited: bool) -> Result<Coins, Error> {
        Coins::from_proto(if expedited {
            &params.expedited_min_deposit
        } else {
            &params.min_deposit
        })
    }

    /// Submits a proposal `msgs::check_submit` has checked; each of its messages must pass its
    /// own module's check and be signed by the gov authority alone.
    pub fn submit(
        &self,
        ctx: &mut Ctx,
        proposer: &Address,
        m: MsgSubmitProposal,
    ) -> Result<u64, Error> {
        let router = ctx
            .router
            .ok_or_else(|| sdk::internal("gov needs the message router"))?;
        for msg in &m.messages {
            let signers = router.signers(msg)?;
            if signers != [gov_authority()] {
                return Err(invalid_signer(format!(
                    "{} is signed by {signers:?}",
                    msg.type_url
                )));
            }
        }
        let params = self.params(ctx)?;
        let deposit = msgs::coins(&m.initial_deposit, "initial_deposit")?;
        let min = self.min_deposit(&params, m.expedited)?;
        let ratio = dec(
            &params.min_initial_deposit_ratio,
            "min_initial_deposit_ratio",
        )?;
        for c in &min {
            let needed = ratio.mul_amount(c.amount, surety_framework::Round::Up)?;
            if deposit.amount_of(&c.denom) < needed {
                return Err(min_deposit_too_small(format!(
                    "initial deposit {deposit} is below {needed}{}",
                    c.denom
                )));
            }
        }
        let id = ctx.next_id(STORE, NEXT_ID)?;
        let now = ctx.block.time_unix_secs;
        let deposit_end = after(now, secs(&params.max_deposit_period))?;
        let proposal = Proposal {
            id,
            messages: m.messages,
            status: ProposalStatus::DepositPeriod as i32,
            final_tally_result: Some(Tally::default().result()),
            submit_time: ts(now),
            deposit_end_time: ts(deposit_end),
            total_deposit: vec![],
            metadata: m.metadata,
            title: m.title,
            summary: m.summary,
            proposer: proposer.to_string(),
            expedited: m.expedited,
            ..Default::default()
        };
        self.save(ctx, &proposal)?;
        INACTIVE.push(ctx, deposit_end, &id.to_be_bytes())?;
        ctx.emit(
            Event::new("submit_proposal")
                .attr("proposal_id", id)
                .attr("proposer", proposer),
        );
        if !deposit.is_empty() {
            self.deposit(ctx, id, proposer, &deposit)?;
        }
        Ok(id)
    }

    /// Adds a deposit; reaching the minimum starts the voting period.
    pub fn deposit(
        &self,
        ctx: &mut Ctx,
        id: u64,
        depositor: &Address,
        amount: &Coins,
    ) -> Result<(), Error> {
        let mut p = self.proposal(ctx, id)?;
        if p.status != ProposalStatus::DepositPeriod as i32
            && p.status != ProposalStatus::VotingPeriod as i32
        {
            return Err(inactive_proposal(format!("{id}")));
        }
        if amount.is_empty() {
            return Err(sdk::invalid_coins("deposit must be positive"));
        }
        self.bank
            .send_to_module(ctx, depositor, GOV_ACCOUNT, amount)?;
        let dkey = key(DEPOSITS, &[&id.to_be_bytes(), &depositor.0]);
        let mut d: Deposit = ctx.get_msg(STORE, &dkey)?.unwrap_or(Deposit {
            proposal_id: id,
            depositor: depositor.to_string(),
            amount: vec![],
        });
        d.amount = Coins::from_proto(&d.amount)?
            .checked_add(amount)?
            .to_proto();
        ctx.put_msg(STORE, dkey, &d)?;
        let total = Coins::from_proto(&p.total_deposit)?.checked_add(amount)?;
        p.total_deposit = total.to_proto();
        let params = self.params(ctx)?;
        if p.status == ProposalStatus::DepositPeriod as i32
            && total.covers(&self.min_deposit(&params, p.expedited)?)
        {
            self.start_voting(ctx, &mut p, &params)?;
        }
        self.save(ctx, &p)?;
        ctx.emit(
            Event::new("proposal_deposit")
                .attr("proposal_id", id)
                .attr("depositor", depositor)
                .attr("amount", amount),
        );
        Ok(())
    }

    fn start_voting(&self, ctx: &mut Ctx, p: &mut Proposal, params: &Params) -> Result<(), Error> {
        let deposit_end = p.deposit_end_time.as_ref().map_or(0, |t| t.seconds);
        INACTIVE.remove(ctx, deposit_end, &p.id.to_be_bytes())?;
        let now = ctx.block.time_unix_secs;
        let period = if p.expedited {
            secs(&params.expedited_voting_period)
        } else {
            secs(&params.voting_period)
        };
        let end = after(now, period)?;
        p.status = ProposalStatus::VotingPeriod as i32;
        p.voting_start_time = ts(now);
        p.voting_end_time = ts(end);
        ACTIVE.push(ctx, end, &p.id.to_be_bytes())?;
        ctx.emit(
            Event::new("proposal_voting_started")
                .attr("proposal_id", p.id)
                .attr("voting_end", end),
        );
        Ok(())
    }

    /// Records (or replaces) a vote. The options are checked again here, whoever calls: each
    /// weight in (0, 1], summing to exactly 1.
    pub fn vote(
        &self,
        ctx: &mut Ctx,
        id: u64,
        voter: &Address,
        options: Vec<WeightedVoteOption>,
        metadata: String,
    ) -> Result<(), Error> {
        vote_options(&options)?;
        let p = self.proposal(ctx, id)?;
        if p.status != ProposalStatus::VotingPeriod as i32 {
            return Err(inactive_proposal(format!(
                "{id} is not in its voting period"
            )));
        }
        ctx.put_msg(
            STORE,
            key(VOTES, &[&id.to_be_bytes(), &voter.0]),
            &Vote {
                proposal_id: id,
                voter: voter.to_string(),
                options,
                metadata,
            },
        )?;
        ctx.emit(
            Event::new("proposal_vote")
                .attr("proposal_id", id)
                .attr("voter", voter),
        );
        Ok(())
    }

    /// The tally of a proposal's votes by bonded stake, with inheritance.
    pub fn tally(&self, ctx: &mut Ctx, id: u64) -> Result<Tally, Error> {
        self.count_votes(ctx, id).map(|(t, _)| t)
    }

    /// The tally and how many votes it read, a page of votes at a time.
    fn count_votes(&self, ctx: &mut Ctx, id: u64) -> Result<(Tally, u64), Error> {
        let mut tallier = tally::Tallier::new(&self.staking, ctx)?;
        let staking = self.staking;
        let votes = for_each_entry(ctx, &key(VOTES, &[&id.to_be_bytes()]), |c, _, v| {
            tallier.count(&staking, c, &decode(&v)?)
        })?;
        Ok((tallier.finish()?, votes))
    }

    /// Refunds (or burns) and deletes every deposit on a proposal; returns how many there were.
    fn settle_deposits(&self, ctx: &mut Ctx, id: u64, burn: bool) -> Result<u64, Error> {
        let bank = self.bank;
        for_each_entry(ctx, &key(DEPOSITS, &[&id.to_be_bytes()]), |c, k, v| {
            let d: Deposit = decode(&v)?;
            c.delete(STORE, k)?;
            let amount = Coins::from_proto(&d.amount)?;
            if burn {
                bank.burn(c, GOV_ACCOUNT, &amount)
            } else {
                let to = Address::from_bech32(&d.depositor)?;
                bank.send_from_module(c, GOV_ACCOUNT, &to, &amount)
            }
        })
    }
}

pub struct GovModule {
    pub keeper: Gov,
}

impl Module for GovModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        let k = self.keeper;
        Msgs::new()
            .add(msgs::check_submit, move |ctx, m: MsgSubmitProposal| {
                let proposer = Address::from_bech32(&m.proposer)?;
                let proposal_id = k.submit(ctx, &proposer, m)?;
                Ok(MsgSubmitProposalResponse { proposal_id })
            })
            .add(msgs::check_deposit, move |ctx, m: MsgDeposit| {
                let depositor = Address::from_bech32(&m.depositor)?;
                let amount = msgs::coins(&m.amount, "amount")?;
                k.deposit(ctx, m.proposal_id, &depositor, &amount)?;
                Ok(MsgDepositResponse {})
            })
            .add(msgs::check_vote, move |ctx, m: MsgVote| {
                let voter = Address::from_bech32(&m.voter)?;
                let options = vec![WeightedVoteOption {
                    option: m.option,
                    weight: "1".into(),
                }];
                k.vote(ctx, m.proposal_id, &voter, options, m.metadata)?;
                Ok(MsgVoteResponse {})
            })
            .add(msgs::check_vote_weighted, move |ctx, m: MsgVoteWeighted| {
                let voter = Address::from_bech32(&m.voter)?;
                k.vote(ctx, m.proposal_id, &voter, m.options, m.metadata)?;
                Ok(MsgVoteWeightedResponse {})
            })
            .add(msgs::check_update_params, move |ctx, m: MsgUpdateParams| {
                let params = surety_framework::msgs::present(m.params)?;
                k.set_params(ctx, &params)?;
                Ok(MsgUpdateParamsResponse {})
            })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(&self.keeper, ctx, path, request)
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis_json(&serde_json::json!({ "params": serde_json::Value::Null }))
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        if let Some(p) = params_from_json(genesis)? {
            check_params(&p).map_err(|e| format!("gov params: {}", e.log))?;
        }
        Ok(())
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let params = params_from_json(genesis)
            .map_err(sdk::invalid_request)?
            .unwrap_or_else(default_params);
        surety_auth::Auth.ensure_module_account(ctx, GOV_ACCOUNT)?;
        self.keeper.set_params(ctx, &params)
    }

    fn end_block(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        self.keeper.end_block(ctx)?;
        Ok(Vec::new())
    }
}

/// Gov params in genesis, in Cosmos JSON (durations as "172800s", decimals as strings).
fn params_from_json(genesis: &serde_json::Value) -> Result<Option<Params>, String> {
    let p = &genesis["params"];
    if p.is_null() {
        return Ok(None);
    }
    let duration = |field: &str, default: &Option<Duration>| -> Result<Option<Duration>, String> {
        match p[field].as_str() {
            None => Ok(*default),
            Some(s) => s
                .trim_end_matches('s')
                .parse::<i64>()
                .map(|seconds| Some(Duration { seconds, nanos: 0 }))
                .map_err(|_| format!("gov genesis: {field} {s:?} is not like \"172800s\"")),
        }
    };
    let text = |field: &str, default: &str| p[field].as_str().unwrap_or(default).to_string();
    let coins = |field: &str, default: &[ProtoCoin]| -> Result<Vec<ProtoCoin>, String> {
        match p.get(field) {
            None => Ok(default.to_vec()),
            Some(v) => serde_json::from_value::<Vec<serde_json::Value>>(v.clone())
                .map_err(|e| format!("gov genesis: {field}: {e}"))?
                .into_iter()
                .map(|c| {
                    Ok(ProtoCoin {
                        denom: c["denom"].as_str().unwrap_or_default().to_string(),
                        amount: c["amount"].as_str().unwrap_or_default().to_string(),
                    })
                })
                .collect(),
        }
    };
    let d = default_params();
    Ok(Some(Params {
        min_deposit: coins("min_deposit", &d.min_deposit)?,
        max_deposit_period: duration("max_deposit_period", &d.max_deposit_period)?,
        voting_period: duration("voting_period", &d.voting_period)?,
        quorum: text("quorum", &d.quorum),
        threshold: text("threshold", &d.threshold),
        veto_threshold: text("veto_threshold", &d.veto_threshold),
        min_initial_deposit_ratio: text("min_initial_deposit_ratio", &d.min_initial_deposit_ratio),
        proposal_cancel_ratio: d.proposal_cancel_ratio,
        proposal_cancel_dest: d.proposal_cancel_dest,
        expedited_voting_period: duration("expedited_voting_period", &d.expedited_voting_period)?,
        expedited_threshold: text("expedited_threshold", &d.expedited_threshold),
        expedited_min_deposit: coins("expedited_min_deposit", &d.expedited_min_deposit)?,
        burn_vote_quorum: p["burn_vote_quorum"]
            .as_bool()
            .unwrap_or(d.burn_vote_quorum),
        burn_proposal_deposit_prevote: p["burn_proposal_deposit_prevote"]
            .as_bool()
            .unwrap_or(d.burn_proposal_deposit_prevote),
        burn_vote_veto: p["burn_vote_veto"].as_bool().unwrap_or(d.burn_vote_veto),
        min_deposit_ratio: d.min_deposit_ratio,
    }))
}
