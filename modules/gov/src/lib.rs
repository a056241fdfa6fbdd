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

mod query;
mod tally;

use prost::Message;
use surety_framework::module::genesis_json;
use surety_framework::{
    decode_msg, gov_authority, require_authority, sdk, signers_of, Address, Coins, Ctx, Dec, Error,
    Event, Module, ValidatorUpdate,
};
use surety_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use surety_proto::cosmos::gov::v1::*;
use surety_proto::{Any, TypeUrl};
use tendermint_proto::google::protobuf::{Duration, Timestamp};

pub use tally::Tally;

pub const STORE: &str = "gov";
/// Deposits are held by the gov module account, which is also the authority proposals act as.
pub const GOV_ACCOUNT: &str = "gov";

const PARAMS: &[u8] = &[0x00];
const PROPOSALS: u8 = 0x01;
const NEXT_ID: &[u8] = &[0x02];
const DEPOSITS: u8 = 0x03;
const VOTES: u8 = 0x04;
const INACTIVE: u8 = 0x05;
const ACTIVE: u8 = 0x06;

surety_framework::errors! { "gov";
    unknown_proposal = 2, "unknown proposal";
    inactive_proposal = 3, "inactive proposal";
    invalid_proposal = 5, "invalid proposal content";
    invalid_vote = 8, "invalid vote option";
    invalid_signer = 12, "expected gov account as only signer for proposal message";
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

fn time_bytes(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
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

fn validate_params(p: &Params) -> Result<(), Error> {
    for (value, what) in [
        (&p.quorum, "quorum"),
        (&p.threshold, "threshold"),
        (&p.veto_threshold, "veto_threshold"),
        (&p.expedited_threshold, "expedited_threshold"),
    ] {
        let d = dec(value, what)?;
        if d == Dec::ZERO || d > Dec::ONE {
            return Err(sdk::invalid_request(format!(
                "gov {what} must be in (0, 1]"
            )));
        }
    }
    if dec(&p.expedited_threshold, "expedited_threshold")? <= dec(&p.threshold, "threshold")? {
        return Err(sdk::invalid_request(
            "expedited_threshold must exceed threshold",
        ));
    }
    if secs(&p.voting_period) <= 0 || secs(&p.max_deposit_period) <= 0 {
        return Err(sdk::invalid_request("gov periods must be positive"));
    }
    let expedited = secs(&p.expedited_voting_period);
    if expedited <= 0 || expedited >= secs(&p.voting_period) {
        return Err(sdk::invalid_request(
            "expedited_voting_period must be positive and shorter than voting_period",
        ));
    }
    Coins::from_proto(&p.min_deposit)?;
    Coins::from_proto(&p.expedited_min_deposit)?;
    Ok(())
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
        validate_params(p)?;
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

    pub fn submit(
        &self,
        ctx: &mut Ctx,
        proposer: &Address,
        m: MsgSubmitProposal,
    ) -> Result<u64, Error> {
        if m.messages.is_empty() {
            return Err(invalid_proposal("a proposal needs at least one message"));
        }
        if m.title.trim().is_empty() || m.title.len() > 140 || m.summary.len() > 10_000 {
            return Err(invalid_proposal(
                "title of 1 to 140 bytes, summary up to 10 000",
            ));
        }
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
        let deposit = Coins::from_proto(&m.initial_deposit)?;
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
        let deposit_end = now + secs(&params.max_deposit_period);
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
        ctx.put(
            STORE,
            key(INACTIVE, &[&time_bytes(deposit_end), &id.to_be_bytes()]),
            Vec::new(),
        )?;
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
        surety_auth::Auth.ensure_module_account(ctx, GOV_ACCOUNT)?;
        self.bank
            .send(ctx, depositor, &Address::module(GOV_ACCOUNT), amount)?;
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
        ctx.delete(
            STORE,
            key(INACTIVE, &[&time_bytes(deposit_end), &p.id.to_be_bytes()]),
        )?;
        let now = ctx.block.time_unix_secs;
        let period = if p.expedited {
            secs(&params.expedited_voting_period)
        } else {
            secs(&params.voting_period)
        };
        p.status = ProposalStatus::VotingPeriod as i32;
        p.voting_start_time = ts(now);
        p.voting_end_time = ts(now + period);
        ctx.put(
            STORE,
            key(ACTIVE, &[&time_bytes(now + period), &p.id.to_be_bytes()]),
            Vec::new(),
        )?;
        ctx.emit(
            Event::new("proposal_voting_started")
                .attr("proposal_id", p.id)
                .attr("voting_end", now + period),
        );
        Ok(())
    }

    /// Records (or replaces) a vote; weights are decimals summing to 1.
    pub fn vote(
        &self,
        ctx: &mut Ctx,
        id: u64,
        voter: &Address,
        options: Vec<WeightedVoteOption>,
        metadata: String,
    ) -> Result<(), Error> {
        let p = self.proposal(ctx, id)?;
        if p.status != ProposalStatus::VotingPeriod as i32 {
            return Err(inactive_proposal(format!(
                "{id} is not in its voting period"
            )));
        }
        if options.is_empty() {
            return Err(invalid_vote("no options"));
        }
        let mut sum = Dec::ZERO;
        let mut seen = Vec::new();
        for o in &options {
            let option = VoteOption::try_from(o.option).unwrap_or(VoteOption::Unspecified);
            if option == VoteOption::Unspecified || seen.contains(&o.option) {
                return Err(invalid_vote(format!("{}", o.option)));
            }
            seen.push(o.option);
            let w = dec(&o.weight, "vote weight")?;
            if w == Dec::ZERO {
                return Err(invalid_vote("weights must be positive"));
            }
            sum = Dec(sum.0 + w.0);
        }
        if sum != Dec::ONE {
            return Err(invalid_vote(format!("weights sum to {sum}, not 1")));
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
        let votes = self.votes(ctx, id)?;
        tally::tally(&self.staking, ctx, &votes)
    }

    fn settle_deposits(&self, ctx: &mut Ctx, id: u64, burn: bool) -> Result<(), Error> {
        for d in self.deposits(ctx, id)? {
            ctx.delete(
                STORE,
                key(
                    DEPOSITS,
                    &[&id.to_be_bytes(), &Address::from_bech32(&d.depositor)?.0],
                ),
            )?;
            let amount = Coins::from_proto(&d.amount)?;
            if burn {
                self.bank.burn(ctx, GOV_ACCOUNT, &amount)?;
            } else {
                let to = Address::from_bech32(&d.depositor)?;
                self.bank
                    .send(ctx, &Address::module(GOV_ACCOUNT), &to, &amount)?;
            }
        }
        Ok(())
    }

    /// Ends deposit periods and voting periods that are over.
    pub fn end_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let now = time_bytes(ctx.block.time_unix_secs);
        let params = self.params(ctx)?;
        for (k, _) in ctx.prefix(STORE, &[INACTIVE])? {
            if k[1..9] > now[..] {
                break;
            }
            ctx.delete(STORE, k.clone())?;
            let id = u64::from_be_bytes(
                k[9..17]
                    .try_into()
                    .map_err(|_| sdk::internal("corrupt queue"))?,
            );
            self.settle_deposits(ctx, id, params.burn_proposal_deposit_prevote)?;
            ctx.delete(STORE, key(PROPOSALS, &[&id.to_be_bytes()]))?;
            ctx.emit(
                Event::new("proposal_dropped")
                    .attr("proposal_id", id)
                    .attr("reason", "deposit period ended below the minimum"),
            );
        }
        for (k, _) in ctx.prefix(STORE, &[ACTIVE])? {
            if k[1..9] > now[..] {
                break;
            }
            ctx.delete(STORE, k.clone())?;
            let id = u64::from_be_bytes(
                k[9..17]
                    .try_into()
                    .map_err(|_| sdk::internal("corrupt queue"))?,
            );
            self.close_vote(ctx, id, &params)?;
        }
        Ok(())
    }

    fn close_vote(&self, ctx: &mut Ctx, id: u64, params: &Params) -> Result<(), Error> {
        let mut p = self.proposal(ctx, id)?;
        let tally = self.tally(ctx, id)?;
        let verdict = tally.verdict(params, p.expedited)?;
        if p.expedited && !verdict.passes && !verdict.burn {
            // A failed expedited proposal gets the regular voting period and threshold; votes stay.
            p.expedited = false;
            let start = p.voting_start_time.as_ref().map_or(0, |t| t.seconds);
            let end = start + secs(&params.voting_period);
            p.voting_end_time = ts(end);
            ctx.put(
                STORE,
                key(ACTIVE, &[&time_bytes(end), &id.to_be_bytes()]),
                Vec::new(),
            )?;
            self.save(ctx, &p)?;
            ctx.emit(Event::new("proposal_expedited_converted").attr("proposal_id", id));
            return Ok(());
        }
        for v in self.votes(ctx, id)? {
            ctx.delete(
                STORE,
                key(
                    VOTES,
                    &[&id.to_be_bytes(), &Address::from_bech32(&v.voter)?.0],
                ),
            )?;
        }
        self.settle_deposits(ctx, id, verdict.burn)?;
        p.final_tally_result = Some(tally.result());
        if verdict.passes {
            let router = ctx
                .router
                .ok_or_else(|| sdk::internal("gov needs the message router"))?;
            let messages = p.messages.clone();
            let executed = ctx.branch(|c| {
                for msg in &messages {
                    router.execute(c, msg, &gov_authority())?;
                }
                Ok(())
            });
            match executed {
                Ok(()) => p.status = ProposalStatus::Passed as i32,
                Err(e) => {
                    p.status = ProposalStatus::Failed as i32;
                    p.failed_reason = e.log;
                }
            }
        } else {
            p.status = ProposalStatus::Rejected as i32;
            p.failed_reason = verdict.reason.into();
        }
        self.save(ctx, &p)?;
        ctx.emit(
            Event::new("proposal_closed")
                .attr("proposal_id", id)
                .attr(
                    "status",
                    ProposalStatus::try_from(p.status)
                        .map(|s| s.as_str_name())
                        .unwrap_or("?"),
                )
                .attr("reason", &p.failed_reason),
        );
        Ok(())
    }
}

pub struct GovModule {
    pub keeper: Gov,
}

impl Module for GovModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msg_types(&self) -> &'static [&'static str] {
        &[
            MsgSubmitProposal::TYPE_URL,
            MsgDeposit::TYPE_URL,
            MsgVote::TYPE_URL,
            MsgVoteWeighted::TYPE_URL,
            MsgUpdateParams::TYPE_URL,
        ]
    }

    fn signers(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        signers_of!(msg;
            MsgSubmitProposal => proposer,
            MsgDeposit => depositor,
            MsgVote => voter,
            MsgVoteWeighted => voter,
            MsgUpdateParams => authority,
        )
    }

    fn deliver(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        let k = &self.keeper;
        Ok(match msg.type_url.as_str() {
            MsgSubmitProposal::TYPE_URL => {
                let m: MsgSubmitProposal = decode_msg(msg)?;
                let proposer = Address::from_bech32(&m.proposer)?;
                let proposal_id = k.submit(ctx, &proposer, m)?;
                MsgSubmitProposalResponse { proposal_id }.encode_to_vec()
            }
            MsgDeposit::TYPE_URL => {
                let m: MsgDeposit = decode_msg(msg)?;
                let depositor = Address::from_bech32(&m.depositor)?;
                k.deposit(
                    ctx,
                    m.proposal_id,
                    &depositor,
                    &Coins::from_proto(&m.amount)?,
                )?;
                MsgDepositResponse {}.encode_to_vec()
            }
            MsgVote::TYPE_URL => {
                let m: MsgVote = decode_msg(msg)?;
                let voter = Address::from_bech32(&m.voter)?;
                let options = vec![WeightedVoteOption {
                    option: m.option,
                    weight: "1".into(),
                }];
                k.vote(ctx, m.proposal_id, &voter, options, m.metadata)?;
                MsgVoteResponse {}.encode_to_vec()
            }
            MsgVoteWeighted::TYPE_URL => {
                let m: MsgVoteWeighted = decode_msg(msg)?;
                let voter = Address::from_bech32(&m.voter)?;
                k.vote(ctx, m.proposal_id, &voter, m.options, m.metadata)?;
                MsgVoteWeightedResponse {}.encode_to_vec()
            }
            MsgUpdateParams::TYPE_URL => {
                let m: MsgUpdateParams = decode_msg(msg)?;
                require_authority(&m.authority)?;
                k.set_params(ctx, &m.params.unwrap_or_default())?;
                MsgUpdateParamsResponse {}.encode_to_vec()
            }
            other => {
                return Err(sdk::unknown_request(format!(
                    "unrecognized gov message type: {other}"
                )))
            }
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
            validate_params(&p).map_err(|e| format!("gov params: {}", e.log))?;
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
