//! Staking messages with the Cosmos type URLs, so wallets work: create and edit a validator,
//! delegate, undelegate, redelegate, and governance's `MsgUpdateParams`. Each has a stateless
//! check (every field) and an execution (what needs state).

use crate::delegation;
use crate::{state, Staking, BOND_DENOM};
use surety_framework::validate;
use surety_framework::{sdk, Address, Ctx, Dec, Error, Event};
use surety_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use surety_proto::cosmos::crypto::ed25519::PubKey as Ed25519PubKey;
use surety_proto::cosmos::staking::v1beta1::{
    BondStatus, Commission, CommissionRates, Description, MsgBeginRedelegate,
    MsgBeginRedelegateResponse, MsgCreateValidator, MsgCreateValidatorResponse, MsgDelegate,
    MsgDelegateResponse, MsgEditValidator, MsgEditValidatorResponse, MsgUndelegate,
    MsgUndelegateResponse, MsgUpdateParams, MsgUpdateParamsResponse, Params, Validator,
};
use surety_proto::from_any;
use tendermint_proto::google::protobuf::Timestamp;

/// Cosmos SDK's description limits, in bytes.
const MAX_MONIKER: usize = 70;
const MAX_IDENTITY: usize = 3000;
const MAX_WEBSITE: usize = 140;
const MAX_SECURITY_CONTACT: usize = 140;
const MAX_DETAILS: usize = 280;
/// Leaves a description field as it is in `MsgEditValidator`, as in Cosmos SDK.
const DO_NOT_MODIFY: &str = "[do-not-modify]";
/// A validator's commission rate changes at most once a day, as in Cosmos SDK, so `max_change_rate`
/// bounds the change per day and not per transaction.
const COMMISSION_UPDATE_INTERVAL: i64 = 24 * 3600;

/// Upper bounds of the params: the active set is ranked every block and CometBFT does not run
/// well with thousands of validators; unbonding entries per pair are scanned on each change.
pub const MAX_VALIDATORS: u32 = 1_000;
pub const MAX_ENTRIES: u32 = 100;
pub const MAX_HISTORICAL_ENTRIES: u32 = 100_000;

/// A `LegacyDec` as Cosmos puts it on the wire (the value × 10¹⁸ as an integer string), in [0, 1].
pub fn legacy_fraction(s: &str, field: &str) -> Result<Dec, Error> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(sdk::invalid_request(format!(
            "{field}: {s:?} is not a decimal (value × 10^18)"
        )));
    }
    let d = Dec(s
        .parse::<u128>()
        .map_err(|_| sdk::invalid_request(format!("{field}: {s:?} is above 1")))?);
    if d > Dec::ONE {
        return Err(sdk::invalid_request(format!("{field}: {d} is above 1")));
    }
    Ok(d)
}

/// An amount of the bond denom in (0, `MAX_AMOUNT`].
fn bond(c: Option<&ProtoCoin>, field: &str) -> Result<u128, Error> {
    let c = c.ok_or_else(|| sdk::invalid_coins(format!("{field}: missing")))?;
    if c.denom != BOND_DENOM {
        return Err(sdk::invalid_coins(format!(
            "{field}: denom must be {BOND_DENOM}, got {:?}",
            c.denom
        )));
    }
    validate::amount(&c.amount, field)
}

fn check_rates(r: Option<&CommissionRates>) -> Result<(Dec, Dec, Dec), Error> {
    let r = r.ok_or_else(|| sdk::invalid_request("commission: missing"))?;
    let rate = legacy_fraction(&r.rate, "commission.rate")?;
    let max = legacy_fraction(&r.max_rate, "commission.max_rate")?;
    let change = legacy_fraction(&r.max_change_rate, "commission.max_change_rate")?;
    if rate > max || change > max {
        return Err(sdk::invalid_request(
            "commission must satisfy rate <= max_rate <= 1 and max_change_rate <= max_rate",
        ));
    }
    Ok((rate, max, change))
}

/// Description fields within Cosmos's limits; in an edit, `[do-not-modify]` passes.
fn check_description(d: &Description, edit: bool) -> Result<(), Error> {
    let keep = |s: &str| edit && s == DO_NOT_MODIFY;
    if !keep(&d.moniker) {
        validate::name(&d.moniker, "description.moniker", MAX_MONIKER)?;
    }
    for (s, field, max) in [
        (&d.identity, "description.identity", MAX_IDENTITY),
        (&d.website, "description.website", MAX_WEBSITE),
        (
            &d.security_contact,
            "description.security_contact",
            MAX_SECURITY_CONTACT,
        ),
        (&d.details, "description.details", MAX_DETAILS),
    ] {
        validate::text(s, field, max)?;
    }
    Ok(())
}

/// `min_self_delegation`: empty means 1, as the CLI and gentxs have always sent it.
fn min_self_delegation(s: &str) -> Result<u128, Error> {
    if s.is_empty() {
        return Ok(1);
    }
    validate::amount(s, "min_self_delegation")
}

fn consensus_key(m: &MsgCreateValidator) -> Result<[u8; 32], Error> {
    let key = m
        .pubkey
        .as_ref()
        .and_then(from_any::<Ed25519PubKey>)
        .ok_or_else(|| {
            sdk::invalid_pubkey("pubkey: consensus key must be a /cosmos.crypto.ed25519.PubKey")
        })?
        .map_err(|e| sdk::invalid_pubkey(format!("pubkey: {e}")))?;
    key.key
        .try_into()
        .map_err(|_| sdk::invalid_pubkey("pubkey: ed25519 consensus key must be 32 bytes"))
}

#[allow(deprecated)] // delegator_address
pub fn check_create_validator(m: &MsgCreateValidator) -> Result<Vec<Address>, Error> {
    let operator = validate::validator(&m.validator_address, "validator_address")?;
    // Deprecated in Cosmos; when given it must be the operator's own account.
    if !m.delegator_address.is_empty()
        && validate::address(&m.delegator_address, "delegator_address")? != operator
    {
        return Err(sdk::invalid_request(
            "delegator_address: must be the operator's account",
        ));
    }
    check_description(
        m.description
            .as_ref()
            .ok_or_else(|| sdk::invalid_request("description: missing"))?,
        false,
    )?;
    check_rates(m.commission.as_ref())?;
    consensus_key(m)?;
    let value = bond(m.value.as_ref(), "value")?;
    let min_self = min_self_delegation(&m.min_self_delegation)?;
    if value < min_self {
        return Err(sdk::invalid_request(format!(
            "self-delegation {value}{BOND_DENOM} is below min_self_delegation {min_self}"
        )));
    }
    Ok(vec![operator])
}

pub fn check_edit_validator(m: &MsgEditValidator) -> Result<Vec<Address>, Error> {
    let operator = validate::validator(&m.validator_address, "validator_address")?;
    if let Some(d) = &m.description {
        check_description(d, true)?;
    }
    if !m.commission_rate.is_empty() {
        legacy_fraction(&m.commission_rate, "commission_rate")?;
    }
    if !m.min_self_delegation.is_empty() {
        validate::amount(&m.min_self_delegation, "min_self_delegation")?;
    }
    Ok(vec![operator])
}

pub fn check_delegate(m: &MsgDelegate) -> Result<Vec<Address>, Error> {
    validate::validator(&m.validator_address, "validator_address")?;
    bond(m.amount.as_ref(), "amount")?;
    surety_framework::signer(&m.delegator_address, "delegator_address")
}

pub fn check_undelegate(m: &MsgUndelegate) -> Result<Vec<Address>, Error> {
    validate::validator(&m.validator_address, "validator_address")?;
    bond(m.amount.as_ref(), "amount")?;
    surety_framework::signer(&m.delegator_address, "delegator_address")
}

pub fn check_redelegate(m: &MsgBeginRedelegate) -> Result<Vec<Address>, Error> {
    let src = validate::validator(&m.validator_src_address, "validator_src_address")?;
    let dst = validate::validator(&m.validator_dst_address, "validator_dst_address")?;
    if src == dst {
        return Err(sdk::invalid_request(
            "cannot redelegate to the same validator",
        ));
    }
    bond(m.amount.as_ref(), "amount")?;
    surety_framework::signer(&m.delegator_address, "delegator_address")
}

/// Every staking param in its range; also checks genesis.
pub fn check_params(p: &Params) -> Result<(), Error> {
    let unbonding = p
        .unbonding_time
        .as_ref()
        .ok_or_else(|| sdk::invalid_request("unbonding_time: missing"))?;
    validate::seconds(unbonding.seconds, "unbonding_time")?;
    if !(0..1_000_000_000).contains(&unbonding.nanos) {
        return Err(sdk::invalid_request("unbonding_time: nanos out of range"));
    }
    for (v, field, max) in [
        (p.max_validators, "max_validators", MAX_VALIDATORS),
        (p.max_entries, "max_entries", MAX_ENTRIES),
    ] {
        if v == 0 || v > max {
            return Err(sdk::invalid_request(format!(
                "{field}: {v} is not in [1, {max}]"
            )));
        }
    }
    if p.historical_entries > MAX_HISTORICAL_ENTRIES {
        return Err(sdk::invalid_request(format!(
            "historical_entries: {} is above {MAX_HISTORICAL_ENTRIES}",
            p.historical_entries
        )));
    }
    if p.bond_denom != BOND_DENOM {
        return Err(sdk::invalid_request(format!(
            "bond_denom: must stay {BOND_DENOM}"
        )));
    }
    legacy_fraction(&p.min_commission_rate, "min_commission_rate")?;
    Ok(())
}

pub fn check_update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(&m.authority, m.params.as_ref(), check_params)
}

fn timestamp(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

pub fn create(
    staking: &Staking,
    ctx: &mut Ctx,
    m: MsgCreateValidator,
) -> Result<MsgCreateValidatorResponse, Error> {
    let operator = validate::validator(&m.validator_address, "validator_address")?;
    let consensus_pubkey = consensus_key(&m)?;
    let value = bond(m.value.as_ref(), "value")?;
    let (rate, _, _) = check_rates(m.commission.as_ref())?;
    if state::load_validator(ctx, &operator)?.is_some() {
        return Err(sdk::invalid_request(format!(
            "validator {} already exists",
            m.validator_address
        )));
    }
    if state::consensus_key_in_use(ctx, &consensus_pubkey)? {
        return Err(sdk::invalid_pubkey(
            "consensus key already used by another validator",
        ));
    }
    let min_rate = legacy_fraction(
        &delegation::params(ctx)?.min_commission_rate,
        "min_commission_rate",
    )?;
    if rate < min_rate {
        return Err(sdk::invalid_request(format!(
            "commission rate {rate} is below the minimum {min_rate}"
        )));
    }
    let validator = Validator {
        operator_address: m.validator_address.clone(),
        consensus_pubkey: m.pubkey.clone(),
        jailed: false,
        status: BondStatus::Unbonded as i32,
        tokens: "0".into(),
        delegator_shares: "0".into(),
        description: m.description.clone(),
        unbonding_height: 0,
        unbonding_time: None,
        commission: Some(Commission {
            commission_rates: m.commission.clone(),
            update_time: timestamp(ctx.block.time_unix_secs),
        }),
        min_self_delegation: min_self_delegation(&m.min_self_delegation)?.to_string(),
        unbonding_on_hold_ref_count: 0,
        unbonding_ids: Vec::new(),
    };
    state::save_validator(ctx, &validator)?;
    // The operator's account has the same bytes as its validator address.
    staking.delegate(ctx, &operator, &operator, value)?;
    ctx.emit(
        Event::new("create_validator")
            .attr("validator", &m.validator_address)
            .attr("amount", format!("{value}{BOND_DENOM}")),
    );
    Ok(MsgCreateValidatorResponse {})
}

pub fn edit(ctx: &mut Ctx, m: MsgEditValidator) -> Result<MsgEditValidatorResponse, Error> {
    let operator = validate::validator(&m.validator_address, "validator_address")?;
    let mut v = state::load_validator(ctx, &operator)?.ok_or_else(|| {
        sdk::invalid_request(format!("validator {} does not exist", m.validator_address))
    })?;
    if let Some(new) = m.description {
        let old = v.proto.description.get_or_insert_with(Default::default);
        for (slot, value) in [
            (&mut old.moniker, new.moniker),
            (&mut old.identity, new.identity),
            (&mut old.website, new.website),
            (&mut old.security_contact, new.security_contact),
            (&mut old.details, new.details),
        ] {
            if value != DO_NOT_MODIFY {
                *slot = value;
            }
        }
    }
    if !m.commission_rate.is_empty() {
        let new = legacy_fraction(&m.commission_rate, "commission_rate")?;
        let now = ctx.block.time_unix_secs;
        let commission = v
            .proto
            .commission
            .as_mut()
            .ok_or_else(|| sdk::internal("validator without commission"))?;
        if let Some(last) = &commission.update_time {
            if now < last.seconds.saturating_add(COMMISSION_UPDATE_INTERVAL) {
                return Err(sdk::invalid_request(
                    "commission cannot be changed more than once in 24h",
                ));
            }
        }
        let rates = commission
            .commission_rates
            .as_mut()
            .ok_or_else(|| sdk::internal("validator without commission rates"))?;
        let old = legacy_fraction(&rates.rate, "rate")?;
        let max = legacy_fraction(&rates.max_rate, "max_rate")?;
        let change = legacy_fraction(&rates.max_change_rate, "max_change_rate")?;
        if new > max || new.0.abs_diff(old.0) > change.0 {
            return Err(sdk::invalid_request(format!(
                "commission {new} must stay within max_rate {max} and change at most {change}"
            )));
        }
        rates.rate = new.0.to_string();
        commission.update_time = timestamp(now);
    }
    if !m.min_self_delegation.is_empty() {
        let new = validate::amount(&m.min_self_delegation, "min_self_delegation")?;
        let old = surety_framework::math::parse_amount(&v.proto.min_self_delegation, "stored")?;
        if new <= old {
            return Err(sdk::invalid_request(format!(
                "min_self_delegation can only increase: {new} ≤ {old}"
            )));
        }
        if new > v.tokens {
            return Err(sdk::invalid_request(format!(
                "min_self_delegation {new} is above the validator's tokens {}",
                v.tokens
            )));
        }
        v.proto.min_self_delegation = new.to_string();
    }
    state::save_stored(ctx, &v)?;
    ctx.emit(Event::new("edit_validator").attr("validator", &m.validator_address));
    Ok(MsgEditValidatorResponse {})
}

pub fn delegate(
    staking: &Staking,
    ctx: &mut Ctx,
    m: MsgDelegate,
) -> Result<MsgDelegateResponse, Error> {
    staking.delegate(
        ctx,
        &validate::address(&m.delegator_address, "delegator_address")?,
        &validate::validator(&m.validator_address, "validator_address")?,
        bond(m.amount.as_ref(), "amount")?,
    )?;
    Ok(MsgDelegateResponse {})
}

pub fn undelegate(
    staking: &Staking,
    ctx: &mut Ctx,
    m: MsgUndelegate,
) -> Result<MsgUndelegateResponse, Error> {
    let completion = staking.undelegate(
        ctx,
        &validate::address(&m.delegator_address, "delegator_address")?,
        &validate::validator(&m.validator_address, "validator_address")?,
        bond(m.amount.as_ref(), "amount")?,
    )?;
    Ok(MsgUndelegateResponse {
        completion_time: timestamp(completion),
        amount: m.amount,
    })
}

pub fn redelegate(
    staking: &Staking,
    ctx: &mut Ctx,
    m: MsgBeginRedelegate,
) -> Result<MsgBeginRedelegateResponse, Error> {
    let completion = staking.redelegate(
        ctx,
        &validate::address(&m.delegator_address, "delegator_address")?,
        &validate::validator(&m.validator_src_address, "validator_src_address")?,
        &validate::validator(&m.validator_dst_address, "validator_dst_address")?,
        bond(m.amount.as_ref(), "amount")?,
    )?;
    Ok(MsgBeginRedelegateResponse {
        completion_time: timestamp(completion),
    })
}

pub fn update_params(ctx: &mut Ctx, m: MsgUpdateParams) -> Result<MsgUpdateParamsResponse, Error> {
    let p = surety_framework::msgs::present(m.params)?;
    delegation::set_params(ctx, &p)?;
    Ok(MsgUpdateParamsResponse {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::validate::MAX_AMOUNT;
    use surety_framework::VALIDATOR_PREFIX;

    const ONE: &str = "1000000000000000000";

    fn valoper(n: u8) -> String {
        Address([n; 20]).to_bech32_with(VALIDATOR_PREFIX)
    }

    fn usure(amount: impl ToString) -> Option<ProtoCoin> {
        Some(ProtoCoin {
            denom: BOND_DENOM.into(),
            amount: amount.to_string(),
        })
    }

    #[allow(deprecated)]
    fn create_msg(f: impl FnOnce(&mut MsgCreateValidator)) -> MsgCreateValidator {
        let mut m = MsgCreateValidator {
            description: Some(Description {
                moniker: "v".into(),
                ..Default::default()
            }),
            commission: Some(CommissionRates {
                rate: "100000000000000000".into(),
                max_rate: "200000000000000000".into(),
                max_change_rate: "10000000000000000".into(),
            }),
            min_self_delegation: "1".into(),
            delegator_address: String::new(),
            validator_address: valoper(1),
            pubkey: Some(surety_proto::to_any(&Ed25519PubKey { key: vec![9; 32] })),
            value: usure(1),
        };
        f(&mut m);
        m
    }

    fn rates(rate: &str, max: &str, change: &str) -> Option<CommissionRates> {
        Some(CommissionRates {
            rate: rate.into(),
            max_rate: max.into(),
            max_change_rate: change.into(),
        })
    }

    #[test]
    #[allow(deprecated)]
    fn create_validator_extremes() {
        assert_eq!(
            check_create_validator(&create_msg(|_| {})).unwrap(),
            vec![Address([1; 20])]
        );
        assert!(check_create_validator(&create_msg(|m| m.value = usure(MAX_AMOUNT))).is_ok());
        assert!(
            check_create_validator(&create_msg(|m| m.commission = rates(ONE, ONE, ONE))).is_ok()
        );
        assert!(
            check_create_validator(&create_msg(|m| m.commission = rates("0", "0", "0"))).is_ok()
        );
        assert!(check_create_validator(&create_msg(|m| {
            m.delegator_address = Address([1; 20]).to_bech32()
        }))
        .is_ok());
        let bad: Vec<(&str, MsgCreateValidator)> = vec![
            ("zero value", create_msg(|m| m.value = usure(0))),
            (
                "value above max",
                create_msg(|m| m.value = usure(MAX_AMOUNT + 1)),
            ),
            ("u128::MAX", create_msg(|m| m.value = usure(u128::MAX))),
            ("no value", create_msg(|m| m.value = None)),
            (
                "foreign denom",
                create_msg(|m| {
                    m.value = Some(ProtoCoin {
                        denom: "uusdc".into(),
                        amount: "1".into(),
                    })
                }),
            ),
            (
                "min self above value",
                create_msg(|m| m.min_self_delegation = "2".into()),
            ),
            (
                "min self zero",
                create_msg(|m| m.min_self_delegation = "0".into()),
            ),
            (
                "min self junk",
                create_msg(|m| m.min_self_delegation = "x".into()),
            ),
            (
                "min self above max",
                create_msg(|m| m.min_self_delegation = (MAX_AMOUNT + 1).to_string()),
            ),
            (
                "rate above max",
                create_msg(|m| m.commission = rates("3", "2", "1")),
            ),
            (
                "change above max",
                create_msg(|m| m.commission = rates("1", "2", "3")),
            ),
            (
                "max above 1",
                create_msg(|m| m.commission = rates("1", "1000000000000000001", "1")),
            ),
            (
                "u128 overflow rate",
                create_msg(|m| m.commission = rates(&"9".repeat(40), ONE, "0")),
            ),
            (
                "empty rate",
                create_msg(|m| m.commission = rates("", ONE, "0")),
            ),
            (
                "decimal point",
                create_msg(|m| m.commission = rates("0.1", ONE, "0")),
            ),
            ("no commission", create_msg(|m| m.commission = None)),
            ("no description", create_msg(|m| m.description = None)),
            (
                "blank moniker",
                create_msg(|m| m.description.as_mut().unwrap().moniker = " ".into()),
            ),
            (
                "long moniker",
                create_msg(|m| m.description.as_mut().unwrap().moniker = "m".repeat(71)),
            ),
            (
                "long details",
                create_msg(|m| m.description.as_mut().unwrap().details = "d".repeat(281)),
            ),
            (
                "long website",
                create_msg(|m| m.description.as_mut().unwrap().website = "w".repeat(141)),
            ),
            (
                "short key",
                create_msg(|m| {
                    m.pubkey = Some(surety_proto::to_any(&Ed25519PubKey { key: vec![9; 31] }))
                }),
            ),
            (
                "long key",
                create_msg(|m| {
                    m.pubkey = Some(surety_proto::to_any(&Ed25519PubKey { key: vec![9; 33] }))
                }),
            ),
            ("no key", create_msg(|m| m.pubkey = None)),
            (
                "account address",
                create_msg(|m| m.validator_address = Address([1; 20]).to_bech32()),
            ),
            (
                "other delegator",
                create_msg(|m| m.delegator_address = Address([2; 20]).to_bech32()),
            ),
        ];
        for (what, m) in bad {
            assert!(check_create_validator(&m).is_err(), "{what} passed");
        }
    }

    #[test]
    fn edit_validator_extremes() {
        let msg = |f: &dyn Fn(&mut MsgEditValidator)| {
            let mut m = MsgEditValidator {
                description: None,
                validator_address: valoper(1),
                commission_rate: String::new(),
                min_self_delegation: String::new(),
            };
            f(&mut m);
            m
        };
        assert!(check_edit_validator(&msg(&|_| {})).is_ok());
        assert!(check_edit_validator(&msg(&|m| m.commission_rate = ONE.into())).is_ok());
        assert!(check_edit_validator(&msg(&|m| {
            m.description = Some(Description {
                moniker: DO_NOT_MODIFY.into(),
                identity: DO_NOT_MODIFY.into(),
                ..Default::default()
            })
        }))
        .is_ok());
        assert!(
            check_edit_validator(&msg(&|m| m.commission_rate = "1000000000000000001".into()))
                .is_err()
        );
        assert!(check_edit_validator(&msg(&|m| m.commission_rate = "-1".into())).is_err());
        assert!(check_edit_validator(&msg(&|m| m.min_self_delegation = "0".into())).is_err());
        assert!(
            check_edit_validator(&msg(&|m| { m.min_self_delegation = u128::MAX.to_string() }))
                .is_err()
        );
        assert!(check_edit_validator(&msg(&|m| {
            m.description = Some(Description {
                moniker: String::new(),
                ..Default::default()
            })
        }))
        .is_err());
        assert!(check_edit_validator(&msg(&|m| {
            m.description = Some(Description {
                moniker: DO_NOT_MODIFY.into(),
                identity: "i".repeat(MAX_IDENTITY + 1),
                ..Default::default()
            })
        }))
        .is_err());
        assert!(check_edit_validator(&msg(&|m| m.validator_address = String::new())).is_err());
    }

    #[test]
    fn delegation_amount_extremes() {
        let delegate = |amount: Option<ProtoCoin>| MsgDelegate {
            delegator_address: Address([2; 20]).to_bech32(),
            validator_address: valoper(1),
            amount,
        };
        assert_eq!(
            check_delegate(&delegate(usure(1))).unwrap(),
            vec![Address([2; 20])]
        );
        assert!(check_delegate(&delegate(usure(MAX_AMOUNT))).is_ok());
        for bad in [
            usure(0),
            usure(MAX_AMOUNT + 1),
            usure(u128::MAX),
            usure(""),
            None,
            Some(ProtoCoin {
                denom: "uusdc".into(),
                amount: "1".into(),
            }),
        ] {
            assert!(check_delegate(&delegate(bad.clone())).is_err(), "{bad:?}");
            let undelegate = MsgUndelegate {
                delegator_address: Address([2; 20]).to_bech32(),
                validator_address: valoper(1),
                amount: bad.clone(),
            };
            assert!(check_undelegate(&undelegate).is_err(), "{bad:?}");
        }
        let mut m = delegate(usure(1));
        m.validator_address = Address([1; 20]).to_bech32();
        assert!(check_delegate(&m).is_err());
        let redelegate = |src: u8, dst: u8, amount| MsgBeginRedelegate {
            delegator_address: Address([2; 20]).to_bech32(),
            validator_src_address: valoper(src),
            validator_dst_address: valoper(dst),
            amount,
        };
        assert!(check_redelegate(&redelegate(1, 3, usure(1))).is_ok());
        assert!(check_redelegate(&redelegate(1, 1, usure(1))).is_err());
        assert!(check_redelegate(&redelegate(1, 3, usure(0))).is_err());
        assert!(check_redelegate(&redelegate(1, 3, usure(u128::MAX))).is_err());
    }

    #[test]
    fn update_params_extremes() {
        let msg = |f: &dyn Fn(&mut Params)| {
            let mut p = delegation::default_params();
            f(&mut p);
            MsgUpdateParams {
                authority: surety_framework::gov_authority().to_bech32(),
                params: Some(p),
            }
        };
        assert!(check_update_params(&msg(&|_| {})).is_ok());
        assert!(check_update_params(&msg(&|p| p.max_validators = 1)).is_ok());
        assert!(check_update_params(&msg(&|p| p.min_commission_rate = ONE.into())).is_ok());
        for (what, f) in [
            (
                "zero validators",
                &(|p: &mut Params| p.max_validators = 0) as &dyn Fn(&mut Params),
            ),
            ("too many validators", &|p| p.max_validators = u32::MAX),
            ("zero entries", &|p| p.max_entries = 0),
            ("too many entries", &|p| p.max_entries = MAX_ENTRIES + 1),
            ("history", &|p| p.historical_entries = u32::MAX),
            ("denom", &|p| p.bond_denom = "uusdc".into()),
            ("min rate", &|p| {
                p.min_commission_rate = "1000000000000000001".into()
            }),
            ("empty min rate", &|p| p.min_commission_rate = String::new()),
            ("no unbonding", &|p| p.unbonding_time = None),
            ("zero unbonding", &|p| {
                p.unbonding_time.as_mut().unwrap().seconds = 0
            }),
            ("negative unbonding", &|p| {
                p.unbonding_time.as_mut().unwrap().seconds = i64::MIN
            }),
            ("huge unbonding", &|p| {
                p.unbonding_time.as_mut().unwrap().seconds = i64::MAX
            }),
        ] {
            assert!(check_update_params(&msg(f)).is_err(), "{what} passed");
        }
        let mut m = msg(&|_| {});
        m.authority = Address([2; 20]).to_bech32();
        assert_eq!(check_update_params(&m).unwrap_err().code, 4);
        m.authority = surety_framework::gov_authority().to_bech32();
        m.params = None;
        assert!(check_update_params(&m).is_err());
    }
}
