//! A record of every slash, in order, for those who insure delegations against them (slashing
//! cover): what the validator held just before and what was burned, so that any delegator's loss
//! follows from their shares without replaying the slash.

use crate::state;
use surety_framework::{Address, Ctx, Error};

const SLASHES: u8 = 0x61;
const NEXT_SLASH: &[u8] = &[0x62];

/// One slash of a validator's bonded tokens.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SlashRecord {
    #[prost(uint64, tag = "1")]
    pub seq: u64,
    /// The validator's operator address (raw bytes).
    #[prost(bytes = "vec", tag = "2")]
    pub operator: Vec<u8>,
    #[prost(int64, tag = "3")]
    pub time: i64,
    #[prost(uint64, tag = "4")]
    pub height: u64,
    /// The validator's bonded tokens just before the slash, and the part burned.
    #[prost(string, tag = "5")]
    pub tokens_before: String,
    #[prost(string, tag = "6")]
    pub burned: String,
    /// The validator's delegator shares (a slash does not change them).
    #[prost(string, tag = "7")]
    pub shares: String,
}

fn key(seq: u64) -> Vec<u8> {
    [&[SLASHES][..], &seq.to_be_bytes()].concat()
}

pub(crate) fn record(
    ctx: &mut Ctx,
    operator: &Address,
    tokens_before: u128,
    burned: u128,
    shares: u128,
) -> Result<u64, Error> {
    let seq = ctx.next_id(crate::STORE, NEXT_SLASH)?;
    let record = SlashRecord {
        seq,
        operator: operator.0.to_vec(),
        time: ctx.block.time_unix_secs,
        height: ctx.block.height,
        tokens_before: tokens_before.to_string(),
        burned: burned.to_string(),
        shares: shares.to_string(),
    };
    ctx.put_msg(crate::STORE, key(seq), &record)?;
    Ok(seq)
}

pub fn slash(ctx: &mut Ctx, seq: u64) -> Result<Option<SlashRecord>, Error> {
    ctx.get_msg(crate::STORE, &key(seq))
}

/// At most `limit` slashes after `after`, in order.
pub fn slashes_after(ctx: &mut Ctx, after: u64, limit: usize) -> Result<Vec<SlashRecord>, Error> {
    let Some(next) = after.checked_add(1) else {
        return Ok(Vec::new());
    };
    ctx.range(crate::STORE, &[SLASHES], Some(&key(next)), limit)?
        .into_iter()
        .map(|(_, v)| state::decode(&v))
        .collect()
}
