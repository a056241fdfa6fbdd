//! The claims store's layout.

use surety_framework::validate::{self, MAX_AMOUNT};
use surety_framework::{sdk, Address, Coin, Ctx, DeadlineQueue, Error};
use surety_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use surety_proto::surety::claims::v1::{Assessor, Claim, ClaimStatus, Params, Vote};

pub const STORE: &str = "claims";

const PARAMS: &[u8] = &[0x00];
const CLAIMS: u8 = 0x01;
pub const NEXT_CLAIM_ID: &[u8] = &[0x02];
const VOTES: u8 = 0x03;
const ASSESSORS: u8 = 0x04;
const OPEN_BY_POLICY: u8 = 0x05;
/// Claims with a deadline: (deadline, claim id), processed in order in EndBlock.
const DEADLINES: u8 = 0x06;
pub const TOTAL_STAKE: &[u8] = &[0x07];
/// Automatic payouts of a triggered product, by job id (see [`crate::payouts`]).
pub const PAYOUT_JOBS: u8 = 0x08;
pub const NEXT_JOB_ID: &[u8] = &[0x09];
/// (product, incident) → job id: one running job per trigger.
pub const JOB_BY_TRIGGER: u8 = 0x0a;
/// Policy id → why its automatic payout failed (its holder may still file).
pub const PAYOUT_FAILED: u8 = 0x0b;
/// Claim id → failed attempts at its deadline (tally, forfeiture, appeal expiry).
pub const DEADLINE_FAILED: u8 = 0x0c;

/// The deadline queue: keys `[DEADLINES][time][claim id]`, as [`DeadlineQueue`] reads them.
/// `[tag][claim id] → RewardRound`: assessment fees being paid out.
pub const REWARD_ROUNDS: u8 = 0x0d;
pub const DEADLINE_QUEUE: DeadlineQueue = DeadlineQueue::new(STORE, DEADLINES);
/// `[tag][policy id][claim id] → ()`: every claim of a policy, for `Query/Claims` by policy.
const CLAIMS_BY_POLICY: u8 = 0x0e;
/// `[tag][claim id] → ()`: the claims now appealed to governance, for `Query/Appeals`.
const APPEALED: u8 = 0x0f;
/// The last slash (staking's sequence number) turned into slashing-cover payouts.
pub const SLASH_CURSOR: &[u8] = &[0x11];
/// `[tag][policy id][incident] → claim id`: an incident pays a policy once, however many claims
/// name it.
const PAID_INCIDENTS: u8 = 0x10;

pub fn claim_key(id: u64) -> Vec<u8> {
    [&[CLAIMS][..], &id.to_be_bytes()].concat()
}
pub fn claims_prefix() -> Vec<u8> {
    vec![CLAIMS]
}
pub fn policy_claim_key(policy: u64, claim: u64) -> Vec<u8> {
    [
        &[CLAIMS_BY_POLICY][..],
        &policy.to_be_bytes(),
        &claim.to_be_bytes(),
    ]
    .concat()
}
pub fn by_policy_prefix() -> Vec<u8> {
    vec![CLAIMS_BY_POLICY]
}
pub fn policy_claims_prefix(policy: u64) -> Vec<u8> {
    [&[CLAIMS_BY_POLICY][..], &policy.to_be_bytes()].concat()
}
pub fn appealed_key(claim: u64) -> Vec<u8> {
    [&[APPEALED][..], &claim.to_be_bytes()].concat()
}
pub fn appealed_prefix() -> Vec<u8> {
    vec![APPEALED]
}
pub fn vote_key(claim: u64, assessor: &Address) -> Vec<u8> {
    [&[VOTES][..], &claim.to_be_bytes(), &assessor.0].concat()
}
pub fn votes_prefix(claim: u64) -> Vec<u8> {
    [&[VOTES][..], &claim.to_be_bytes()].concat()
}
pub fn assessor_key(a: &Address) -> Vec<u8> {
    [&[ASSESSORS][..], &a.0].concat()
}
fn paid_incident_key(policy: u64, incident: &str) -> Vec<u8> {
    [
        &[PAID_INCIDENTS][..],
        &policy.to_be_bytes(),
        incident.as_bytes(),
    ]
    .concat()
}
/// The claim that was paid for `incident` on `policy`, if one was.
pub fn paid_incident(ctx: &mut Ctx, policy: u64, incident: &str) -> Result<Option<u64>, Error> {
    ctx.get(STORE, &paid_incident_key(policy, incident))?
        .map(|v| {
            <[u8; 8]>::try_from(v.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| sdk::internal("corrupt paid-incident index"))
        })
        .transpose()
}
pub fn record_paid_incident(
    ctx: &mut Ctx,
    policy: u64,
    incident: &str,
    claim: u64,
) -> Result<(), Error> {
    ctx.put(
        STORE,
        paid_incident_key(policy, incident),
        claim.to_be_bytes().to_vec(),
    )
}
pub fn refuse_paid_incident(ctx: &mut Ctx, policy: u64, incident: &str) -> Result<(), Error> {
    match paid_incident(ctx, policy, incident)? {
        Some(claim) => Err(crate::errors::not_claimable(format!(
            "policy {policy} was already paid for {incident} (claim {claim})"
        ))),
        None => Ok(()),
    }
}
pub fn open_key(policy: u64) -> Vec<u8> {
    [&[OPEN_BY_POLICY][..], &policy.to_be_bytes()].concat()
}
pub fn push_deadline(ctx: &mut Ctx, deadline: i64, claim: u64) -> Result<(), Error> {
    DEADLINE_QUEUE.push(ctx, deadline, &claim.to_be_bytes())
}
pub fn remove_deadline(ctx: &mut Ctx, deadline: i64, claim: u64) -> Result<(), Error> {
    DEADLINE_QUEUE.remove(ctx, deadline, &claim.to_be_bytes())
}

pub fn default_params() -> Params {
    Params {
        claim_deposit: Some(Coin::new(10_000_000, "uusdc").to_proto()),
        claim_fee: Some(Coin::new(1_000_000, "uusdc").to_proto()),
        assessor_denom: "usure".into(),
        voting_period_secs: 3 * 24 * 3600,
        quorum_bps: 2_000,
        threshold_bps: 5_000,
        appeal_window_secs: 7 * 24 * 3600,
        appeal_bond: Some(Coin::new(100_000_000, "uusdc").to_proto()),
        appeal_period_secs: 14 * 24 * 3600,
    }
}

fn param_coin(c: &Option<ProtoCoin>, field: &str, required: bool) -> Result<(), Error> {
    match c {
        None if required => Err(sdk::invalid_request(format!("{field} must be set"))),
        None => Ok(()),
        Some(c) => {
            let coin = Coin::from_proto(c)?;
            if coin.amount > MAX_AMOUNT {
                return Err(sdk::invalid_coins(format!(
                    "{field} {} is above the maximum {MAX_AMOUNT}",
                    coin.amount
                )));
            }
            Ok(())
        }
    }
}

/// Every param in range: shares at most 100%, periods positive (the appeal window may be 0)
/// and at most ten years, coins well-formed and bounded.
pub fn validate_params(p: &Params) -> Result<(), Error> {
    validate::seconds(p.voting_period_secs, "voting_period_secs")?;
    validate::seconds(p.appeal_period_secs, "appeal_period_secs")?;
    if p.appeal_window_secs != 0 {
        validate::seconds(p.appeal_window_secs, "appeal_window_secs")?;
    }
    validate::bps(p.quorum_bps, "quorum_bps")?;
    validate::bps(p.threshold_bps, "threshold_bps")?;
    surety_framework::coins::validate_denom(&p.assessor_denom)?;
    param_coin(&p.claim_deposit, "claim_deposit", false)?;
    param_coin(&p.claim_fee, "claim_fee", false)?;
    param_coin(&p.appeal_bond, "appeal_bond", false)?;
    Ok(())
}

pub fn params(ctx: &mut Ctx) -> Result<Params, Error> {
    Ok(ctx.get_msg(STORE, PARAMS)?.unwrap_or_else(default_params))
}

pub fn set_params(ctx: &mut Ctx, p: &Params) -> Result<(), Error> {
    validate_params(p)?;
    ctx.put_msg(STORE, PARAMS.to_vec(), p)
}

pub fn claim(ctx: &mut Ctx, id: u64) -> Result<Claim, Error> {
    ctx.get_msg(STORE, &claim_key(id))?
        .ok_or_else(|| crate::errors::claim_not_found(format!("claim {id}")))
}

/// Saves a claim; an appealed one also goes into the appeals index (which [`close_appeal`]
/// takes it out of when the appeal ends).
pub fn save_claim(ctx: &mut Ctx, c: &Claim) -> Result<(), Error> {
    ctx.put_msg(STORE, claim_key(c.id), c)?;
    if c.status == ClaimStatus::Appealed as i32 {
        ctx.put(STORE, appealed_key(c.id), Vec::new())?;
    }
    Ok(())
}

/// Indexes a new claim under its policy.
pub fn index_new_claim(ctx: &mut Ctx, policy: u64, claim: u64) -> Result<(), Error> {
    ctx.put(STORE, policy_claim_key(policy, claim), Vec::new())
}

/// Takes a claim whose appeal ended (decided or expired) out of the appeals index.
pub fn close_appeal(ctx: &mut Ctx, claim: u64) -> Result<(), Error> {
    ctx.delete(STORE, appealed_key(claim))
}

pub fn claims(ctx: &mut Ctx) -> Result<Vec<Claim>, Error> {
    ctx.prefix(STORE, &[CLAIMS])?
        .into_iter()
        .map(|(_, v)| decode(&v))
        .collect()
}

pub fn votes(ctx: &mut Ctx, claim: u64) -> Result<Vec<Vote>, Error> {
    ctx.prefix(STORE, &votes_prefix(claim))?
        .into_iter()
        .map(|(_, v)| decode(&v))
        .collect()
}

pub fn assessor(ctx: &mut Ctx, a: &Address) -> Result<Option<Assessor>, Error> {
    ctx.get_msg(STORE, &assessor_key(a))
}

pub fn assessors(ctx: &mut Ctx) -> Result<Vec<Assessor>, Error> {
    ctx.prefix(STORE, &[ASSESSORS])?
        .into_iter()
        .map(|(_, v)| decode(&v))
        .collect()
}

pub fn decode<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt claims state: {e}")))
}
