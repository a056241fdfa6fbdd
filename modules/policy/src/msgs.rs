//! The policy module's messages: their stateless checks (every field, before anything runs) and
//! their execution.

use crate::keeper::Keeper;
use crate::{errors, state};
use surety_bank::Bank;
use surety_framework::coins::validate_denom;
use surety_framework::math::{Dec, BPS};
use surety_framework::oracle::OracleView;
use surety_framework::validate::{self, MAX_NAME};
use surety_framework::{require_authority, sdk, signer, Address, Ctx, Error};
use surety_proto::surety::policy::v1::*;

/// The longest cover term: five years.
pub const MAX_TERM_DAYS: u32 = 365 * 5;
/// The longest grace period for claims after a term ends: a year.
pub const MAX_GRACE_PERIOD_SECS: i64 = 365 * 24 * 3600;
/// The longest waiting period before new cover counts: 90 days.
pub const MAX_WAITING_PERIOD_SECS: i64 = 90 * 24 * 3600;
/// The highest annual rate a product or the curve may charge per component: 100% a year.
pub const MAX_RATE_BPS: u32 = 10_000;

fn bad_product(why: impl std::fmt::Display) -> Error {
    errors::invalid_product(why)
}

fn rate_bps(v: u32, field: &str) -> Result<u32, Error> {
    if v > MAX_RATE_BPS {
        return Err(sdk::invalid_request(format!(
            "{field}: {v} bps is above {MAX_RATE_BPS}"
        )));
    }
    Ok(v)
}

/// A decimal field that may be left empty (meaning zero), else a fraction in [0, 1].
fn optional_fraction(s: &str, field: &str) -> Result<Dec, Error> {
    if s.is_empty() {
        return Ok(Dec::ZERO);
    }
    validate::fraction(s, field)
}

/// A product's terms, with messages a proposer can act on. The id is not checked here (it is
/// assigned on creation, and must name a product on update).
pub fn check_product(p: &Product) -> Result<(), Error> {
    validate::name(&p.name, "product.name", MAX_NAME)?;
    validate::text(&p.protocol, "product.protocol", MAX_NAME)?;
    validate_denom(&p.denom)?;
    let cover_type = CoverType::try_from(p.cover_type).unwrap_or(CoverType::Unspecified);
    if cover_type == CoverType::Unspecified {
        return Err(bad_product(format!("unknown cover type {}", p.cover_type)));
    }
    let mode = ClaimMode::try_from(p.claim_mode).unwrap_or(ClaimMode::Unspecified);
    if mode == ClaimMode::Unspecified {
        return Err(bad_product(format!("unknown claim mode {}", p.claim_mode)));
    }
    rate_bps(p.annual_base_rate_bps, "product.annual_base_rate_bps")?;
    if p.min_term_days == 0 || p.min_term_days > p.max_term_days || p.max_term_days > MAX_TERM_DAYS
    {
        return Err(bad_product(format!(
            "terms must satisfy 1 <= min ({}) <= max ({}) <= {MAX_TERM_DAYS} days",
            p.min_term_days, p.max_term_days
        )));
    }
    validate::amount(&p.max_cover, "product.max_cover")?;
    if u128::from(p.deductible_bps) >= BPS {
        return Err(bad_product(format!(
            "deductible_bps {} must be below {BPS}",
            p.deductible_bps
        )));
    }
    if p.grace_period_secs < 0 || p.grace_period_secs > MAX_GRACE_PERIOD_SECS {
        return Err(bad_product(format!(
            "grace_period_secs {} is not in 0..={MAX_GRACE_PERIOD_SECS}",
            p.grace_period_secs
        )));
    }
    if p.waiting_period_secs < 0 || p.waiting_period_secs > MAX_WAITING_PERIOD_SECS {
        return Err(bad_product(format!(
            "waiting_period_secs {} is not in 0..={MAX_WAITING_PERIOD_SECS}",
            p.waiting_period_secs
        )));
    }
    if !p.max_cover_in_force.is_empty() && p.max_cover_in_force != "0" {
        validate::amount(&p.max_cover_in_force, "product.max_cover_in_force")?;
    }
    if u128::from(p.max_policy_share_bps) > BPS {
        return Err(bad_product(format!(
            "max_policy_share_bps {} is above {BPS}",
            p.max_policy_share_bps
        )));
    }
    if let Some(t) = &p.trigger {
        check_trigger_fields(t)?;
    }
    if cover_type == CoverType::Slashing {
        if mode != ClaimMode::Parametric {
            return Err(bad_product(
                "slashing cover is parametric: it pays from the chain's own slashes",
            ));
        }
        if p.denom != surety_staking::BOND_DENOM {
            return Err(bad_product(format!(
                "slashing cover insures delegations, so its denom must be {}",
                surety_staking::BOND_DENOM
            )));
        }
    }
    if mode == ClaimMode::Parametric {
        let t = p.trigger.clone().unwrap_or_default();
        match cover_type {
            CoverType::Depeg => {
                if t.feed.trim().is_empty() {
                    return Err(bad_product("a depeg trigger needs a feed"));
                }
                validate::seconds(t.duration_secs, "product.trigger.duration_secs")?;
                let threshold =
                    validate::positive_fraction(&t.threshold, "product.trigger.threshold")?;
                let floor = optional_fraction(&t.floor, "product.trigger.floor")?;
                if floor >= threshold {
                    return Err(bad_product(
                        "a depeg trigger needs 0 <= floor < threshold <= 1",
                    ));
                }
            }
            CoverType::Liquidity => {
                if t.feed.trim().is_empty() || t.il_cap_bps == 0 {
                    return Err(bad_product(
                        "an impermanent-loss trigger needs a feed and a cap",
                    ));
                }
                if t.il_threshold_bps >= t.il_cap_bps {
                    return Err(bad_product(
                        "the impermanent-loss threshold must be below the cap",
                    ));
                }
            }
            CoverType::Slashing => {}
            _ => {
                if p.protocol.trim().is_empty() {
                    return Err(bad_product(
                        "incident-triggered cover must name its protocol",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Every field of a trigger, whichever cover uses it: bounded text, fractions, durations.
fn check_trigger_fields(t: &Trigger) -> Result<(), Error> {
    validate::text(&t.feed, "product.trigger.feed", MAX_NAME)?;
    optional_fraction(&t.threshold, "product.trigger.threshold")?;
    optional_fraction(&t.floor, "product.trigger.floor")?;
    if t.duration_secs != 0 {
        validate::seconds(t.duration_secs, "product.trigger.duration_secs")?;
    }
    validate::bps(t.il_threshold_bps, "product.trigger.il_threshold_bps")?;
    validate::bps(t.il_cap_bps, "product.trigger.il_cap_bps")?;
    Ok(())
}

pub fn check_params(p: &Params) -> Result<(), Error> {
    rate_bps(p.slope1_bps, "params.slope1_bps")?;
    rate_bps(p.slope2_bps, "params.slope2_bps")?;
    if p.kink_bps == 0 || u128::from(p.kink_bps) > BPS {
        return Err(sdk::invalid_request(format!(
            "params.kink_bps: {} is not in 1..={BPS}",
            p.kink_bps
        )));
    }
    Ok(())
}

fn product_of(p: &Option<Product>) -> Result<&Product, Error> {
    p.as_ref().ok_or_else(|| bad_product("product: missing"))
}

pub fn check_create_product(m: &MsgCreateProduct) -> Result<Vec<Address>, Error> {
    let authority = require_authority(&m.authority)?;
    check_product(product_of(&m.product)?)?;
    Ok(vec![authority])
}

pub fn check_update_product(m: &MsgUpdateProduct) -> Result<Vec<Address>, Error> {
    let authority = require_authority(&m.authority)?;
    let product = product_of(&m.product)?;
    validate::id(product.id, "product.id")?;
    check_product(product)?;
    Ok(vec![authority])
}

pub fn check_set_product_paused(m: &MsgSetProductPaused) -> Result<Vec<Address>, Error> {
    let authority = require_authority(&m.authority)?;
    validate::id(m.product_id, "product_id")?;
    Ok(vec![authority])
}

/// A term in days: 1 to [`MAX_TERM_DAYS`] (the product narrows it further).
pub fn term_days(days: u32, field: &str) -> Result<u32, Error> {
    if days == 0 || days > MAX_TERM_DAYS {
        return Err(errors::invalid_term(format!(
            "{field}: {days} days is not in 1..={MAX_TERM_DAYS}"
        )));
    }
    Ok(days)
}

/// The buyer's slippage limit: only ever compared with the premium, so any amount is a valid
/// limit, `u128::MAX` meaning none.
fn max_premium(s: &str) -> Result<u128, Error> {
    surety_framework::math::parse_amount(s, "max_premium")
}

pub fn check_buy_cover(m: &MsgBuyCover) -> Result<Vec<Address>, Error> {
    validate::id(m.product_id, "product_id")?;
    validate::amount(&m.cover, "cover")?;
    term_days(m.term_days, "term_days")?;
    max_premium(&m.max_premium)?;
    if !m.validator.is_empty() {
        Address::from_bech32_with(&m.validator, surety_framework::VALIDATOR_PREFIX)
            .map_err(|e| sdk::invalid_address(format!("validator: {e}")))?;
    }
    signer(&m.buyer, "buyer")
}

/// The recipient of a policy: an account that no module owns, and not the owner.
fn recipient(m: &MsgTransferPolicy) -> Result<Address, Error> {
    let to = validate::address(&m.recipient, "recipient")?;
    Bank::check_receiver(&to)?;
    Ok(to)
}

pub fn check_transfer_policy(m: &MsgTransferPolicy) -> Result<Vec<Address>, Error> {
    validate::id(m.policy_id, "policy_id")?;
    let to = recipient(m)?;
    let signers = signer(&m.owner, "owner")?;
    if signers.contains(&to) {
        return Err(sdk::invalid_address(
            "cannot transfer a policy to its owner",
        ));
    }
    Ok(signers)
}

pub fn check_update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(&m.authority, m.params.as_ref(), check_params)
}

pub fn create_product(
    k: &Keeper,
    ctx: &mut Ctx,
    m: MsgCreateProduct,
) -> Result<MsgCreateProductResponse, Error> {
    let product = m.product.ok_or_else(|| bad_product("product: missing"))?;
    let product_id = k.create_product(ctx, product)?;
    Ok(MsgCreateProductResponse { product_id })
}

pub fn update_product(
    k: &Keeper,
    ctx: &mut Ctx,
    m: MsgUpdateProduct,
) -> Result<MsgUpdateProductResponse, Error> {
    let product = m.product.ok_or_else(|| bad_product("product: missing"))?;
    k.update_product(ctx, product)?;
    Ok(MsgUpdateProductResponse {})
}

pub fn set_product_paused(
    k: &Keeper,
    ctx: &mut Ctx,
    m: MsgSetProductPaused,
) -> Result<MsgSetProductPausedResponse, Error> {
    k.set_paused(ctx, m.product_id, m.paused)?;
    Ok(MsgSetProductPausedResponse {})
}

pub fn buy_cover(
    k: &Keeper,
    oracle: &dyn OracleView,
    ctx: &mut Ctx,
    m: MsgBuyCover,
) -> Result<MsgBuyCoverResponse, Error> {
    let buyer = validate::address(&m.buyer, "buyer")?;
    let product = state::product(ctx, m.product_id)?;
    refuse_known_loss(oracle, ctx, &product)?;
    let entry = entry_price(oracle, ctx, &product)?;
    let cover = validate::amount(&m.cover, "cover")?;
    let validator = insured_validator(ctx, &product, &buyer, &m.validator, cover)?;
    let order = crate::Order {
        product_id: m.product_id,
        cover,
        days: m.term_days,
        max_premium: max_premium(&m.max_premium)?,
        entry_price: entry,
        validator,
    };
    let (policy_id, premium) = k.buy(ctx, &buyer, order)?;
    Ok(MsgBuyCoverResponse {
        policy_id,
        premium: premium.to_string(),
    })
}

/// No cover is sold for a loss already under way (adverse selection): protocol cover while an
/// incident on its protocol is reported and not yet decided, depeg cover while its feed is below
/// the trigger.
fn refuse_known_loss(
    oracle: &dyn OracleView,
    ctx: &mut Ctx,
    product: &Product,
) -> Result<(), Error> {
    if !product.protocol.is_empty() {
        if let Some(id) = oracle.open_incident(ctx, &product.protocol)? {
            return Err(errors::sales_frozen(format!(
                "incident {id} on {} is reported and not yet decided: its cover is not sold \
                 until it is",
                product.protocol
            )));
        }
    }
    let Some(trigger) = product
        .trigger
        .as_ref()
        .filter(|_| product.cover_type == CoverType::Depeg as i32)
    else {
        return Ok(());
    };
    let Ok(threshold) = trigger.threshold.parse::<Dec>() else {
        return Ok(());
    };
    let now = ctx.block.time_unix_secs;
    match oracle.price_at(ctx, &trigger.feed, now)? {
        Some(p) if p.price < threshold => {
            let price = p.price.to_string();
            Err(errors::sales_frozen(format!(
                "{} is at {}, below the {} trigger: depeg cover is not sold during a depeg",
                trigger.feed,
                price.trim_end_matches('0').trim_end_matches('.'),
                trigger.threshold
            )))
        }
        _ => Ok(()),
    }
}

/// Slashing cover names a validator the buyer delegates at least the cover to; other cover names
/// none.
fn insured_validator(
    ctx: &mut Ctx,
    product: &Product,
    buyer: &Address,
    validator: &str,
    cover: u128,
) -> Result<Option<Address>, Error> {
    if product.cover_type != CoverType::Slashing as i32 {
        if !validator.is_empty() {
            return Err(sdk::invalid_request(format!(
                "product {} is not slashing cover: it takes no validator",
                product.id
            )));
        }
        return Ok(None);
    }
    let operator = Address::from_bech32_with(validator, surety_framework::VALIDATOR_PREFIX)
        .map_err(|e| sdk::invalid_address(format!("validator: {e}")))?;
    let delegated = surety_staking::delegated_tokens(ctx, buyer, &operator)?;
    if delegated < cover {
        return Err(errors::not_delegated(format!(
            "{cover}{d} of cover asked; {buyer} delegates {delegated}{d} to {validator}",
            d = product.denom
        )));
    }
    Ok(Some(operator))
}

/// Liquidity cover starts from the trigger feed's current price, frozen on the policy; it is not
/// sold while the oracle has none.
fn entry_price(
    oracle: &dyn OracleView,
    ctx: &mut Ctx,
    product: &Product,
) -> Result<Option<Dec>, Error> {
    if product.cover_type != CoverType::Liquidity as i32 {
        return Ok(None);
    }
    let feed = product
        .trigger
        .as_ref()
        .map(|t| t.feed.as_str())
        .unwrap_or_default();
    let now = ctx.block.time_unix_secs;
    match oracle.price_at(ctx, feed, now)? {
        Some(p) if p.price > Dec::ZERO => Ok(Some(p.price)),
        _ => Err(errors::no_entry_price(format!(
            "{feed} has no price to start liquidity cover from"
        ))),
    }
}

pub fn transfer_policy(
    k: &Keeper,
    ctx: &mut Ctx,
    m: MsgTransferPolicy,
) -> Result<MsgTransferPolicyResponse, Error> {
    let owner = validate::address(&m.owner, "owner")?;
    let to = recipient(&m)?;
    k.transfer(ctx, &owner, m.policy_id, &to)?;
    Ok(MsgTransferPolicyResponse {})
}

pub fn update_params(ctx: &mut Ctx, m: MsgUpdateParams) -> Result<MsgUpdateParamsResponse, Error> {
    let params = surety_framework::msgs::present(m.params)?;
    state::set_params(ctx, &params)?;
    Ok(MsgUpdateParamsResponse {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::validate::MAX_AMOUNT;
    use surety_framework::{accounts, gov_authority};

    fn gov() -> String {
        gov_authority().to_bech32()
    }
    fn user(n: u8) -> String {
        Address([n; 20]).to_bech32()
    }
    fn protocol() -> Product {
        Product {
            name: "Aave".into(),
            protocol: "aave-v3".into(),
            cover_type: CoverType::Protocol as i32,
            denom: "uusdc".into(),
            annual_base_rate_bps: 250,
            min_term_days: 28,
            max_term_days: 365,
            max_cover: "1000000".into(),
            deductible_bps: 500,
            claim_mode: ClaimMode::Parametric as i32,
            grace_period_secs: 3_600,
            ..Default::default()
        }
    }
    fn depeg() -> Product {
        Product {
            cover_type: CoverType::Depeg as i32,
            trigger: Some(Trigger {
                feed: "USDC/USD".into(),
                threshold: "0.97".into(),
                duration_secs: 60,
                floor: "0.5".into(),
                ..Default::default()
            }),
            ..protocol()
        }
    }
    fn liquidity() -> Product {
        Product {
            cover_type: CoverType::Liquidity as i32,
            trigger: Some(Trigger {
                feed: "ETH/USD".into(),
                il_threshold_bps: 200,
                il_cap_bps: 5_000,
                ..Default::default()
            }),
            ..protocol()
        }
    }
    fn create(p: Product) -> Result<Vec<Address>, Error> {
        check_create_product(&MsgCreateProduct {
            authority: gov(),
            product: Some(p),
        })
    }

    #[test]
    fn products_are_checked_field_by_field() {
        for p in [protocol(), depeg(), liquidity()] {
            assert_eq!(create(p).unwrap(), vec![gov_authority()]);
        }
        type Spoil = Box<dyn Fn(&mut Product)>;
        fn trig(p: &mut Product) -> &mut Trigger {
            p.trigger.as_mut().unwrap()
        }
        let cases: Vec<(fn() -> Product, Spoil)> = vec![
            (protocol, Box::new(|p| p.name = String::new())),
            (protocol, Box::new(|p| p.name = "n".repeat(MAX_NAME + 1))),
            (
                protocol,
                Box::new(|p| p.protocol = "p".repeat(MAX_NAME + 1)),
            ),
            (protocol, Box::new(|p| p.protocol = " ".into())),
            (protocol, Box::new(|p| p.denom = String::new())),
            (protocol, Box::new(|p| p.cover_type = 0)),
            (protocol, Box::new(|p| p.cover_type = 99)),
            (protocol, Box::new(|p| p.claim_mode = 0)),
            (protocol, Box::new(|p| p.claim_mode = -1)),
            (
                protocol,
                Box::new(|p| p.annual_base_rate_bps = MAX_RATE_BPS + 1),
            ),
            (protocol, Box::new(|p| p.annual_base_rate_bps = u32::MAX)),
            (protocol, Box::new(|p| p.min_term_days = 0)),
            (protocol, Box::new(|p| p.min_term_days = 366)),
            (protocol, Box::new(|p| p.max_term_days = MAX_TERM_DAYS + 1)),
            (protocol, Box::new(|p| p.max_term_days = u32::MAX)),
            (protocol, Box::new(|p| p.max_cover = "0".into())),
            (protocol, Box::new(|p| p.max_cover = String::new())),
            (
                protocol,
                Box::new(|p| p.max_cover = (MAX_AMOUNT + 1).to_string()),
            ),
            (protocol, Box::new(|p| p.max_cover = u128::MAX.to_string())),
            (protocol, Box::new(|p| p.deductible_bps = 10_000)),
            (protocol, Box::new(|p| p.deductible_bps = u32::MAX)),
            (protocol, Box::new(|p| p.grace_period_secs = -1)),
            (protocol, Box::new(|p| p.grace_period_secs = i64::MAX)),
            (
                protocol,
                Box::new(|p| {
                    p.trigger = Some(Trigger {
                        feed: "f".repeat(MAX_NAME + 1),
                        ..Default::default()
                    })
                }),
            ),
            (
                depeg,
                Box::new(|p| trig(p).threshold = "1.000000000000000001".into()),
            ),
            (depeg, Box::new(|p| trig(p).threshold = "0".into())),
            (depeg, Box::new(|p| trig(p).threshold = "-0.5".into())),
            (depeg, Box::new(|p| trig(p).threshold = String::new())),
            (depeg, Box::new(|p| trig(p).floor = "0.97".into())),
            (depeg, Box::new(|p| trig(p).floor = "2".into())),
            (depeg, Box::new(|p| trig(p).floor = "nan".into())),
            (depeg, Box::new(|p| trig(p).duration_secs = 0)),
            (depeg, Box::new(|p| trig(p).duration_secs = -5)),
            (depeg, Box::new(|p| trig(p).duration_secs = i64::MAX)),
            (depeg, Box::new(|p| trig(p).feed = String::new())),
            (depeg, Box::new(|p| p.trigger = None)),
            (liquidity, Box::new(|p| trig(p).il_cap_bps = 0)),
            (liquidity, Box::new(|p| trig(p).il_cap_bps = 10_001)),
            (liquidity, Box::new(|p| trig(p).il_threshold_bps = 5_000)),
            (liquidity, Box::new(|p| trig(p).il_threshold_bps = u32::MAX)),
            (liquidity, Box::new(|p| trig(p).feed = " ".into())),
        ];
        for (i, (base, spoil)) in cases.iter().enumerate() {
            let mut p = base();
            spoil(&mut p);
            assert!(create(p).is_err(), "case {i} passed");
        }
        // The extremes that are allowed.
        let mut p = protocol();
        (p.min_term_days, p.max_term_days) = (MAX_TERM_DAYS, MAX_TERM_DAYS);
        p.max_cover = MAX_AMOUNT.to_string();
        p.deductible_bps = 9_999;
        p.annual_base_rate_bps = MAX_RATE_BPS;
        p.grace_period_secs = MAX_GRACE_PERIOD_SECS;
        assert!(create(p).is_ok());
        let mut p = depeg();
        trig(&mut p).threshold = "1".into();
        trig(&mut p).floor = String::new();
        assert!(create(p).is_ok());

        // Updates name their product; creation and updates are governance's.
        let update = |id, authority: String| {
            check_update_product(&MsgUpdateProduct {
                authority,
                product: Some(Product { id, ..protocol() }),
            })
        };
        assert!(update(0, gov()).is_err());
        assert!(update(1, gov()).is_ok());
        assert!(update(1, user(1)).is_err());
        assert!(check_create_product(&MsgCreateProduct {
            authority: user(1),
            product: Some(protocol())
        })
        .is_err());
        assert!(create_missing().is_err());
    }

    fn create_missing() -> Result<Vec<Address>, Error> {
        check_create_product(&MsgCreateProduct {
            authority: gov(),
            product: None,
        })
    }

    #[test]
    fn pausing_names_a_product() {
        let m = |product_id, authority| MsgSetProductPaused {
            authority,
            product_id,
            paused: true,
        };
        assert!(check_set_product_paused(&m(0, gov())).is_err());
        assert!(check_set_product_paused(&m(u64::MAX, gov())).is_ok());
        assert!(check_set_product_paused(&m(1, user(2))).is_err());
    }

    #[test]
    fn buying_checks_amounts_terms_and_ids() {
        let ok = MsgBuyCover {
            buyer: user(3),
            product_id: 1,
            cover: "1000".into(),
            term_days: 30,
            max_premium: "50".into(),
            validator: String::new(),
        };
        assert_eq!(check_buy_cover(&ok).unwrap(), vec![Address([3; 20])]);
        for (cover, fine) in [
            ("0".to_string(), false),
            ("1".to_string(), true),
            (MAX_AMOUNT.to_string(), true),
            ((MAX_AMOUNT + 1).to_string(), false),
            (u128::MAX.to_string(), false),
            (String::new(), false),
            ("1.5".to_string(), false),
        ] {
            let m = MsgBuyCover {
                cover: cover.clone(),
                ..ok.clone()
            };
            assert_eq!(check_buy_cover(&m).is_ok(), fine, "cover {cover:?}");
        }
        for (max_premium, fine) in [
            ("0".to_string(), true),
            (String::new(), true),
            (MAX_AMOUNT.to_string(), true),
            ((MAX_AMOUNT + 1).to_string(), true),
            (u128::MAX.to_string(), true),
            ("340282366920938463463374607431768211456".to_string(), false),
            ("-1".to_string(), false),
        ] {
            let m = MsgBuyCover {
                max_premium: max_premium.clone(),
                ..ok.clone()
            };
            assert_eq!(
                check_buy_cover(&m).is_ok(),
                fine,
                "max_premium {max_premium:?}"
            );
        }
        for (term_days, fine) in [
            (0, false),
            (1, true),
            (MAX_TERM_DAYS, true),
            (MAX_TERM_DAYS + 1, false),
            (u32::MAX, false),
        ] {
            let m = MsgBuyCover {
                term_days,
                ..ok.clone()
            };
            assert_eq!(check_buy_cover(&m).is_ok(), fine, "{term_days} days");
        }
        assert!(check_buy_cover(&MsgBuyCover {
            product_id: 0,
            ..ok.clone()
        })
        .is_err());
        assert!(check_buy_cover(&MsgBuyCover {
            buyer: "surety1nothing".into(),
            ..ok.clone()
        })
        .is_err());
        assert!(
            check_buy_cover(&MsgBuyCover {
                validator: user(5),
                ..ok.clone()
            })
            .is_err(),
            "an account address is not a validator's"
        );
    }

    #[test]
    fn transfers_refuse_module_accounts_the_owner_and_zero_ids() {
        let ok = MsgTransferPolicy {
            owner: user(4),
            policy_id: 1,
            recipient: user(5),
        };
        assert_eq!(check_transfer_policy(&ok).unwrap(), vec![Address([4; 20])]);
        for name in accounts::ALL {
            let m = MsgTransferPolicy {
                recipient: Address::module(name).to_bech32(),
                ..ok.clone()
            };
            assert!(check_transfer_policy(&m).is_err(), "to module {name}");
        }
        for bad in [
            MsgTransferPolicy {
                policy_id: 0,
                ..ok.clone()
            },
            MsgTransferPolicy {
                recipient: user(4),
                ..ok.clone()
            },
            MsgTransferPolicy {
                recipient: String::new(),
                ..ok.clone()
            },
            MsgTransferPolicy {
                owner: "x".repeat(1000),
                ..ok.clone()
            },
        ] {
            assert!(check_transfer_policy(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn params_are_checked_in_range() {
        let ok = state::default_params();
        let update = |params: Option<Params>| {
            check_update_params(&MsgUpdateParams {
                authority: gov(),
                params,
            })
        };
        assert!(update(Some(ok)).is_ok());
        assert!(update(None).is_err());
        assert!(check_update_params(&MsgUpdateParams {
            authority: user(1),
            params: Some(ok)
        })
        .is_err());
        for bad in [
            Params { kink_bps: 0, ..ok },
            Params {
                kink_bps: 10_001,
                ..ok
            },
            Params {
                slope1_bps: MAX_RATE_BPS + 1,
                ..ok
            },
            Params {
                slope2_bps: u32::MAX,
                ..ok
            },
        ] {
            assert!(update(Some(bad)).is_err(), "{bad:?}");
        }
        assert!(update(Some(Params {
            slope1_bps: MAX_RATE_BPS,
            slope2_bps: 0,
            kink_bps: 10_000
        }))
        .is_ok());
    }
}
