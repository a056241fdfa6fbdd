//! `MsgCreateValidator`, with the Cosmos type URL so gentxs look like any Cosmos chain's.

use crate::{not_at_genesis, state, Staking, BONDED_POOL, BOND_DENOM};
use surety_framework::{
    decode_msg, sdk, Address, Coin, Coins, Ctx, Error, Event, ExecMode, VALIDATOR_PREFIX,
};
use surety_proto::cosmos::crypto::ed25519::PubKey as Ed25519PubKey;
use surety_proto::cosmos::staking::v1beta1::{
    BondStatus, Commission, MsgCreateValidator, Validator,
};
use surety_proto::{from_any, Any, TypeUrl};

pub const TYPES: &[&str] = &[MsgCreateValidator::TYPE_URL];

/// Decimals as Cosmos `LegacyDec` puts them on the wire: the value times 10^18, as an integer string.
const DEC_ONE: u128 = 1_000_000_000_000_000_000;

fn dec(s: &str, what: &str) -> Result<u128, Error> {
    s.parse::<u128>()
        .map_err(|_| sdk::invalid_request(format!("{what} {s:?} is not a decimal (value × 10^18)")))
}

struct Parsed {
    operator: Address,
    consensus_pubkey: [u8; 32],
    value: Coin,
    msg: MsgCreateValidator,
}

fn parse(any: &Any) -> Result<Parsed, Error> {
    let msg: MsgCreateValidator = decode_msg(any)?;
    let operator = Address::from_bech32_with(&msg.validator_address, VALIDATOR_PREFIX)?;
    let moniker = msg
        .description
        .as_ref()
        .map(|d| d.moniker.as_str())
        .unwrap_or("");
    if moniker.trim().is_empty() || moniker.len() > 70 {
        return Err(sdk::invalid_request(
            "validator moniker must be 1 to 70 characters",
        ));
    }
    let rates = msg
        .commission
        .as_ref()
        .ok_or_else(|| sdk::invalid_request("commission rates are required"))?;
    let (rate, max, change) = (
        dec(&rates.rate, "commission rate")?,
        dec(&rates.max_rate, "max commission rate")?,
        dec(&rates.max_change_rate, "max commission change rate")?,
    );
    if max > DEC_ONE || rate > max || change > max {
        return Err(sdk::invalid_request(
            "commission must satisfy rate <= max_rate <= 1 and max_change_rate <= max_rate",
        ));
    }
    let key = msg
        .pubkey
        .as_ref()
        .and_then(from_any::<Ed25519PubKey>)
        .ok_or_else(|| {
            sdk::invalid_pubkey("consensus key must be a /cosmos.crypto.ed25519.PubKey")
        })?
        .map_err(|e| sdk::invalid_pubkey(e.to_string()))?;
    let consensus_pubkey: [u8; 32] = key
        .key
        .try_into()
        .map_err(|_| sdk::invalid_pubkey("ed25519 consensus key must be 32 bytes"))?;
    let value = msg
        .value
        .as_ref()
        .ok_or_else(|| sdk::invalid_coins("self-delegation amount is required"))
        .and_then(Coin::from_proto)?;
    if value.denom != BOND_DENOM || value.amount == 0 {
        return Err(sdk::invalid_coins(format!(
            "self-delegation must be a positive amount of {BOND_DENOM}, got {value}"
        )));
    }
    let min_self = if msg.min_self_delegation.is_empty() {
        1
    } else {
        msg.min_self_delegation
            .parse::<u128>()
            .map_err(|_| sdk::invalid_request("min_self_delegation must be an integer"))?
    };
    if value.amount < min_self.max(1) {
        return Err(sdk::invalid_request(format!(
            "self-delegation {value} is below min_self_delegation {min_self}"
        )));
    }
    Ok(Parsed {
        operator,
        consensus_pubkey,
        value,
        msg,
    })
}

pub fn signers(msg: &Any) -> Result<Vec<Address>, Error> {
    Ok(vec![parse(msg)?.operator])
}

pub fn deliver(staking: &Staking, ctx: &mut Ctx, any: &Any) -> Result<Vec<u8>, Error> {
    if ctx.mode != ExecMode::Genesis {
        return Err(not_at_genesis("creating a validator"));
    }
    let p = parse(any)?;
    if state::load_validator(ctx, &p.operator)?.is_some() {
        return Err(sdk::invalid_request(format!(
            "validator {} already exists",
            p.msg.validator_address
        )));
    }
    if state::consensus_key_in_use(ctx, &p.consensus_pubkey)? {
        return Err(sdk::invalid_pubkey(
            "consensus key already used by another validator",
        ));
    }
    let bond = Coins::from_vec(vec![p.value.clone()])?;
    staking
        .bank
        .send_to_module(ctx, &p.operator, BONDED_POOL, &bond)?;
    let validator = Validator {
        operator_address: p.msg.validator_address.clone(),
        consensus_pubkey: p.msg.pubkey.clone(),
        jailed: false,
        status: BondStatus::Bonded as i32,
        tokens: p.value.amount.to_string(),
        delegator_shares: (p.value.amount * DEC_ONE).to_string(),
        description: p.msg.description.clone(),
        unbonding_height: 0,
        unbonding_time: None,
        commission: Some(Commission {
            commission_rates: p.msg.commission.clone(),
            update_time: None,
        }),
        min_self_delegation: if p.msg.min_self_delegation.is_empty() {
            "1".to_string()
        } else {
            p.msg.min_self_delegation.clone()
        },
        unbonding_on_hold_ref_count: 0,
        unbonding_ids: Vec::new(),
    };
    state::save_validator(ctx, &validator)?;
    ctx.emit(
        Event::new("create_validator")
            .attr("validator", &p.msg.validator_address)
            .attr("amount", &p.value),
    );
    Ok(Vec::new())
}
