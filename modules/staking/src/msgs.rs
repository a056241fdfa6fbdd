//! Staking messages with the Cosmos type URLs, so wallets work: create and edit a validator,
//! delegate, undelegate, redelegate, and governance's `MsgUpdateParams`.

use crate::delegation::{self, default_params};
use crate::{state, Staking, BOND_DENOM};
use prost::Message;
use surety_framework::{
    decode_msg, require_authority, sdk, signers_of, Address, Coin, Ctx, Dec, Error, Event,
    VALIDATOR_PREFIX,
};
use surety_proto::cosmos::crypto::ed25519::PubKey as Ed25519PubKey;
use surety_proto::cosmos::staking::v1beta1::{
    BondStatus, Commission, MsgBeginRedelegate, MsgBeginRedelegateResponse, MsgCreateValidator,
    MsgCreateValidatorResponse, MsgDelegate, MsgDelegateResponse, MsgEditValidator,
    MsgEditValidatorResponse, MsgUndelegate, MsgUndelegateResponse, MsgUpdateParams,
    MsgUpdateParamsResponse, Validator,
};
use surety_proto::{from_any, Any, TypeUrl};

pub const TYPES: &[&str] = &[
    MsgCreateValidator::TYPE_URL,
    MsgEditValidator::TYPE_URL,
    MsgDelegate::TYPE_URL,
    MsgUndelegate::TYPE_URL,
    MsgBeginRedelegate::TYPE_URL,
    MsgUpdateParams::TYPE_URL,
];

/// Decimals as Cosmos `LegacyDec` puts them on the wire: the value times 10^18, as an integer string.
const DEC_ONE: u128 = 1_000_000_000_000_000_000;

fn dec(s: &str, what: &str) -> Result<u128, Error> {
    s.parse::<u128>()
        .map_err(|_| sdk::invalid_request(format!("{what} {s:?} is not a decimal (value × 10^18)")))
}

fn bond(c: &Option<surety_proto::cosmos::base::v1beta1::Coin>) -> Result<u128, Error> {
    let c = c
        .as_ref()
        .ok_or_else(|| sdk::invalid_coins("amount is required"))
        .and_then(Coin::from_proto)?;
    if c.denom != BOND_DENOM || c.amount == 0 {
        return Err(sdk::invalid_coins(format!(
            "amount must be a positive amount of {BOND_DENOM}, got {c}"
        )));
    }
    Ok(c.amount)
}

fn validator_address(s: &str) -> Result<Address, Error> {
    Address::from_bech32_with(s, VALIDATOR_PREFIX)
        .map_err(|e| sdk::invalid_address(format!("invalid validator address: {}", e.log)))
}

struct Parsed {
    operator: Address,
    consensus_pubkey: [u8; 32],
    value: u128,
    msg: MsgCreateValidator,
}

fn parse_create(any: &Any) -> Result<Parsed, Error> {
    let msg: MsgCreateValidator = decode_msg(any)?;
    let operator = validator_address(&msg.validator_address)?;
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
    let value = bond(&msg.value)?;
    let min_self = if msg.min_self_delegation.is_empty() {
        1
    } else {
        msg.min_self_delegation
            .parse::<u128>()
            .map_err(|_| sdk::invalid_request("min_self_delegation must be an integer"))?
    };
    if value < min_self.max(1) {
        return Err(sdk::invalid_request(format!(
            "self-delegation {value}{BOND_DENOM} is below min_self_delegation {min_self}"
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
    if msg.type_url == MsgCreateValidator::TYPE_URL {
        return Ok(vec![parse_create(msg)?.operator]);
    }
    if msg.type_url == MsgEditValidator::TYPE_URL {
        let m: MsgEditValidator = decode_msg(msg)?;
        return Ok(vec![validator_address(&m.validator_address)?]);
    }
    signers_of!(msg;
        MsgDelegate => delegator_address,
        MsgUndelegate => delegator_address,
        MsgBeginRedelegate => delegator_address,
        MsgUpdateParams => authority,
    )
}

fn create(staking: &Staking, ctx: &mut Ctx, any: &Any) -> Result<(), Error> {
    let p = parse_create(any)?;
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
    let validator = Validator {
        operator_address: p.msg.validator_address.clone(),
        consensus_pubkey: p.msg.pubkey.clone(),
        jailed: false,
        status: BondStatus::Unbonded as i32,
        tokens: "0".into(),
        delegator_shares: "0".into(),
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
    // The operator's account has the same bytes as its validator address.
    staking.delegate(ctx, &p.operator, &p.operator, p.value)?;
    ctx.emit(
        Event::new("create_validator")
            .attr("validator", &p.msg.validator_address)
            .attr("amount", format!("{}{BOND_DENOM}", p.value)),
    );
    Ok(())
}

/// `[do-not-modify]` leaves a description field as it is, as in Cosmos SDK.
fn edit(ctx: &mut Ctx, m: MsgEditValidator) -> Result<(), Error> {
    let operator = validator_address(&m.validator_address)?;
    let mut v = state::load_validator(ctx, &operator)?.ok_or_else(|| {
        sdk::invalid_request(format!("validator {} does not exist", m.validator_address))
    })?;
    if let Some(new) = m.description {
        let old = v.proto.description.get_or_insert_with(Default::default);
        let keep = |s: &str| s == "[do-not-modify]";
        if !keep(&new.moniker) {
            if new.moniker.trim().is_empty() || new.moniker.len() > 70 {
                return Err(sdk::invalid_request(
                    "validator moniker must be 1 to 70 characters",
                ));
            }
            old.moniker = new.moniker;
        }
        if !keep(&new.identity) {
            old.identity = new.identity;
        }
        if !keep(&new.website) {
            old.website = new.website;
        }
        if !keep(&new.security_contact) {
            old.security_contact = new.security_contact;
        }
        if !keep(&new.details) {
            old.details = new.details;
        }
    }
    if !m.commission_rate.is_empty() {
        let new = dec(&m.commission_rate, "commission rate")?;
        let rates = v
            .proto
            .commission
            .as_mut()
            .and_then(|c| c.commission_rates.as_mut())
            .ok_or_else(|| sdk::internal("validator without commission rates"))?;
        let (old, max, change) = (
            dec(&rates.rate, "rate")?,
            dec(&rates.max_rate, "max rate")?,
            dec(&rates.max_change_rate, "max change rate")?,
        );
        if new > max || new.abs_diff(old) > change {
            return Err(sdk::invalid_request(format!(
                "commission {} must stay within max_rate {} and change at most {}",
                Dec(new),
                Dec(max),
                Dec(change)
            )));
        }
        rates.rate = new.to_string();
    }
    if !m.min_self_delegation.is_empty() {
        m.min_self_delegation
            .parse::<u128>()
            .map_err(|_| sdk::invalid_request("min_self_delegation must be an integer"))?;
        v.proto.min_self_delegation = m.min_self_delegation;
    }
    state::save_stored(ctx, &v)?;
    ctx.emit(Event::new("edit_validator").attr("validator", &m.validator_address));
    Ok(())
}

pub fn deliver(staking: &Staking, ctx: &mut Ctx, any: &Any) -> Result<Vec<u8>, Error> {
    Ok(match any.type_url.as_str() {
        MsgCreateValidator::TYPE_URL => {
            create(staking, ctx, any)?;
            MsgCreateValidatorResponse {}.encode_to_vec()
        }
        MsgEditValidator::TYPE_URL => {
            edit(ctx, decode_msg(any)?)?;
            MsgEditValidatorResponse {}.encode_to_vec()
        }
        MsgDelegate::TYPE_URL => {
            let m: MsgDelegate = decode_msg(any)?;
            staking.delegate(
                ctx,
                &Address::from_bech32(&m.delegator_address)?,
                &validator_address(&m.validator_address)?,
                bond(&m.amount)?,
            )?;
            MsgDelegateResponse {}.encode_to_vec()
        }
        MsgUndelegate::TYPE_URL => {
            let m: MsgUndelegate = decode_msg(any)?;
            let amount = bond(&m.amount)?;
            let completion = staking.undelegate(
                ctx,
                &Address::from_bech32(&m.delegator_address)?,
                &validator_address(&m.validator_address)?,
                amount,
            )?;
            MsgUndelegateResponse {
                completion_time: Some(tendermint_proto::google::protobuf::Timestamp {
                    seconds: completion,
                    nanos: 0,
                }),
                amount: m.amount,
            }
            .encode_to_vec()
        }
        MsgBeginRedelegate::TYPE_URL => {
            let m: MsgBeginRedelegate = decode_msg(any)?;
            staking.redelegate(
                ctx,
                &Address::from_bech32(&m.delegator_address)?,
                &validator_address(&m.validator_src_address)?,
                &validator_address(&m.validator_dst_address)?,
                bond(&m.amount)?,
            )?;
            MsgBeginRedelegateResponse {
                completion_time: Some(tendermint_proto::google::protobuf::Timestamp {
                    seconds: ctx.block.time_unix_secs,
                    nanos: 0,
                }),
            }
            .encode_to_vec()
        }
        MsgUpdateParams::TYPE_URL => {
            let m: MsgUpdateParams = decode_msg(any)?;
            require_authority(&m.authority)?;
            delegation::set_params(ctx, &m.params.unwrap_or_else(default_params))?;
            MsgUpdateParamsResponse {}.encode_to_vec()
        }
        other => {
            return Err(sdk::unknown_request(format!(
                "unrecognized staking message type: {other}"
            )))
        }
    })
}
