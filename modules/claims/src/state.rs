//! The claims store's layout.

use surety_framework::{sdk, Address, Coin, Ctx, Error};
use surety_proto::surety::claims::v1::{Assessor, Claim, Params, Vote};

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

pub fn claim_key(id: u64) -> Vec<u8> {
    [&[CLAIMS][..], &id.to_be_bytes()].concat()
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
pub fn open_key(policy: u64) -> Vec<u8> {
    [&[OPEN_BY_POLICY][..], &policy.to_be_bytes()].concat()
}
fn time_bytes(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}
pub fn deadline_key(deadline: i64, claim: u64) -> Vec<u8> {
    [
        &[DEADLINES][..],
        &time_bytes(deadline),
        &claim.to_be_bytes(),
    ]
    .concat()
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

pub fn validate_params(p: &Params) -> Result<(), Error> {
    let bad = |m: &str| Err(sdk::invalid_request(m.to_string()));
    if p.voting_period_secs <= 0 || p.appeal_window_secs < 0 || p.appeal_period_secs <= 0 {
        return bad("claims periods must be positive");
    }
    if p.quorum_bps > 10_000 || p.threshold_bps > 10_000 {
        return bad("quorum_bps and threshold_bps must be at most 10000");
    }
    surety_framework::coins::validate_denom(&p.assessor_denom)?;
    for c in [&p.claim_deposit, &p.claim_fee, &p.appeal_bond]
        .into_iter()
        .flatten()
    {
        Coin::from_proto(c)?;
    }
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

pub fn save_claim(ctx: &mut Ctx, c: &Claim) -> Result<(), Error> {
    ctx.put_msg(STORE, claim_key(c.id), c)
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

/// Claim ids whose deadline is at or before `now`, in deadline order, with their keys.
pub fn due(ctx: &mut Ctx, now: i64) -> Result<Vec<(Vec<u8>, u64)>, Error> {
    let limit = time_bytes(now);
    let mut out = Vec::new();
    for (k, _) in ctx.prefix(STORE, &[DEADLINES])? {
        if k[1..9] > limit[..] {
            break;
        }
        let id = u64::from_be_bytes(
            k[9..17]
                .try_into()
                .map_err(|_| sdk::internal("corrupt deadline key"))?,
        );
        out.push((k, id));
    }
    Ok(out)
}

pub fn decode<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt claims state: {e}")))
}
