//! The pool's messages: their stateless checks (every field, before anything runs) and their
//! execution.

use crate::keeper::Keeper;
use crate::state::{self, PoolState};
use surety_framework::coins::validate_denom;
use surety_framework::math::BPS;
use surety_framework::validate::{self, MAX_LIST, MAX_NAME};
use surety_framework::{require_authority, sdk, signer, Address, Ctx, Error};
use surety_proto::surety::pool::v1::*;

/// The most a pool may lever its capital: capacity at most 10× capital.
pub const MAX_LEVERAGE_BPS: u32 = 100_000;
/// The most simultaneous incidents the capital requirement may ask pools to survive.
pub const MAX_CAPITAL_INCIDENTS: u32 = 64;
/// The longest withdrawal cooldown: a year.
pub const MAX_COOLDOWN_SECS: i64 = 365 * 24 * 3600;

fn invalid(field: &str, why: impl std::fmt::Display) -> Error {
    sdk::invalid_request(format!("{field}: {why}"))
}

/// A pool's terms. The amounts a pool accumulates (shares, cash, cover) are ignored on creation
/// but must still be well-formed amounts.
pub fn check_pool(p: &Pool) -> Result<(), Error> {
    validate::name(&p.name, "pool.name", MAX_NAME)?;
    validate_denom(&p.denom)?;
    if p.leverage_bps == 0 || p.leverage_bps > MAX_LEVERAGE_BPS {
        return Err(invalid(
            "pool.leverage_bps",
            format!("{} is not in 1..={MAX_LEVERAGE_BPS}", p.leverage_bps),
        ));
    }
    validate::unique_list(&p.products, "pool.products", MAX_LIST, |w| w.product_id)?;
    for w in &p.products {
        validate::id(w.product_id, "pool.products.product_id")?;
        if w.weight_bps == 0 || u128::from(w.weight_bps) > BPS {
            return Err(invalid(
                "pool.products.weight_bps",
                format!(
                    "{} for product {} is not in 1..={BPS}",
                    w.weight_bps, w.product_id
                ),
            ));
        }
    }
    if let Some(r) = &p.reinsurance {
        validate::id(r.reinsurer_pool_id, "pool.reinsurance.reinsurer_pool_id")?;
        if r.reinsurer_pool_id == p.id && p.id != 0 {
            return Err(invalid("pool.reinsurance", "a pool cannot reinsure itself"));
        }
        validate::bps(r.quota_share_bps, "pool.reinsurance.quota_share_bps")?;
        validate::bps(r.xol_premium_bps, "pool.reinsurance.xol_premium_bps")?;
        validate::amount_or_zero(&r.xol_retention, "pool.reinsurance.xol_retention")?;
        let limit = validate::amount_or_zero(&r.xol_limit, "pool.reinsurance.xol_limit")?;
        if limit == 0 && r.xol_premium_bps > 0 {
            return Err(invalid(
                "pool.reinsurance.xol_premium_bps",
                "an excess-of-loss premium needs an excess-of-loss limit",
            ));
        }
        if limit == 0 && r.quota_share_bps == 0 {
            return Err(invalid("pool.reinsurance", "the treaty cedes nothing"));
        }
    }
    validate::amount_or_zero(&p.total_shares, "pool.total_shares")?;
    validate::amount_or_zero(&p.cash, "pool.cash")?;
    validate::amount_or_zero(&p.unearned_premium, "pool.unearned_premium")?;
    validate::amount_or_zero(&p.active_cover, "pool.active_cover")?;
    Ok(())
}

pub fn check_params(p: &Params) -> Result<(), Error> {
    if p.cooldown_secs < 0 || p.cooldown_secs > MAX_COOLDOWN_SECS {
        return Err(invalid(
            "params.cooldown_secs",
            format!("{} is not in 0..={MAX_COOLDOWN_SECS}", p.cooldown_secs),
        ));
    }
    validate::bps(p.treasury_bps, "params.treasury_bps")?;
    if p.capital_incidents == 0 || p.capital_incidents > MAX_CAPITAL_INCIDENTS {
        return Err(invalid(
            "params.capital_incidents",
            format!(
                "{} is not in 1..={MAX_CAPITAL_INCIDENTS}",
                p.capital_incidents
            ),
        ));
    }
    Ok(())
}

pub fn check_create_pool(m: &MsgCreatePool) -> Result<Vec<Address>, Error> {
    let authority = require_authority(&m.authority)?;
    check_pool(m.pool.as_ref().ok_or_else(|| invalid("pool", "missing"))?)?;
    Ok(vec![authority])
}

pub fn check_deposit(m: &MsgDeposit) -> Result<Vec<Address>, Error> {
    validate::id(m.pool_id, "pool_id")?;
    validate::amount(&m.amount, "amount")?;
    signer(&m.provider, "provider")
}

pub fn check_request_withdraw(m: &MsgRequestWithdraw) -> Result<Vec<Address>, Error> {
    validate::id(m.pool_id, "pool_id")?;
    validate::amount(&m.shares, "shares")?;
    signer(&m.provider, "provider")
}

pub fn check_complete_withdraw(m: &MsgCompleteWithdraw) -> Result<Vec<Address>, Error> {
    validate::id(m.pool_id, "pool_id")?;
    signer(&m.provider, "provider")
}

pub fn check_update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(&m.authority, m.params.as_ref(), check_params)
}

pub fn create_pool(
    k: &Keeper,
    ctx: &mut Ctx,
    m: MsgCreatePool,
) -> Result<MsgCreatePoolResponse, Error> {
    let pool = m.pool.ok_or_else(|| invalid("pool", "missing"))?;
    let pool_id = k.create_pool(ctx, PoolState::from_proto(&pool)?)?;
    k.check_treaty(ctx, pool_id)?;
    Ok(MsgCreatePoolResponse { pool_id })
}

pub fn deposit(k: &Keeper, ctx: &mut Ctx, m: MsgDeposit) -> Result<MsgDepositResponse, Error> {
    let provider = validate::address(&m.provider, "provider")?;
    let amount = validate::amount(&m.amount, "amount")?;
    let shares = k.deposit(ctx, &provider, m.pool_id, amount)?;
    Ok(MsgDepositResponse {
        shares: shares.to_string(),
    })
}

pub fn request_withdraw(
    k: &Keeper,
    ctx: &mut Ctx,
    m: MsgRequestWithdraw,
) -> Result<MsgRequestWithdrawResponse, Error> {
    let provider = validate::address(&m.provider, "provider")?;
    let shares = validate::amount(&m.shares, "shares")?;
    let unlock_time = k.request_withdraw(ctx, &provider, m.pool_id, shares)?;
    Ok(MsgRequestWithdrawResponse { unlock_time })
}

pub fn complete_withdraw(
    k: &Keeper,
    ctx: &mut Ctx,
    m: MsgCompleteWithdraw,
) -> Result<MsgCompleteWithdrawResponse, Error> {
    let provider = validate::address(&m.provider, "provider")?;
    let amount = k.complete_withdraw(ctx, &provider, m.pool_id)?;
    Ok(MsgCompleteWithdrawResponse {
        amount: amount.to_string(),
    })
}

pub fn update_params(ctx: &mut Ctx, m: MsgUpdateParams) -> Result<MsgUpdateParamsResponse, Error> {
    let params = surety_framework::msgs::present(m.params)?;
    state::set_params(ctx, &params)?;
    Ok(MsgUpdateParamsResponse {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::gov_authority;
    use surety_framework::validate::MAX_AMOUNT;

    fn gov() -> String {
        gov_authority().to_bech32()
    }
    fn user() -> String {
        Address([7; 20]).to_bech32()
    }
    fn pool() -> Pool {
        Pool {
            name: "Blue".into(),
            denom: "uusdc".into(),
            products: vec![
                ProductWeight {
                    product_id: 1,
                    weight_bps: 6_000,
                },
                ProductWeight {
                    product_id: 2,
                    weight_bps: 10_000,
                },
            ],
            leverage_bps: 20_000,
            reinsurance: Some(Reinsurance {
                reinsurer_pool_id: 2,
                quota_share_bps: 2_000,
                xol_retention: "20000".into(),
                xol_limit: "30000".into(),
                xol_premium_bps: 500,
            }),
            ..Default::default()
        }
    }
    fn create(p: Pool) -> Result<Vec<Address>, Error> {
        check_create_pool(&MsgCreatePool {
            authority: gov(),
            pool: Some(p),
        })
    }
    fn amounts() -> [(String, bool); 6] {
        [
            ("0".into(), false),
            ("1".into(), true),
            (MAX_AMOUNT.to_string(), true),
            ((MAX_AMOUNT + 1).to_string(), false),
            (u128::MAX.to_string(), false),
            ("".into(), false),
        ]
    }

    #[test]
    fn create_pool_checks_every_term() {
        assert_eq!(create(pool()).unwrap(), vec![gov_authority()]);
        assert!(check_create_pool(&MsgCreatePool {
            authority: user(),
            pool: Some(pool())
        })
        .is_err());
        assert!(check_create_pool(&MsgCreatePool {
            authority: gov(),
            pool: None
        })
        .is_err());
        type Spoil = Box<dyn Fn(&mut Pool)>;
        let bad: Vec<Spoil> = vec![
            Box::new(|p| p.name = String::new()),
            Box::new(|p| p.name = " ".into()),
            Box::new(|p| p.name = "x".repeat(MAX_NAME + 1)),
            Box::new(|p| p.denom = String::new()),
            Box::new(|p| p.denom = "u".repeat(200)),
            Box::new(|p| p.leverage_bps = 0),
            Box::new(|p| p.leverage_bps = MAX_LEVERAGE_BPS + 1),
            Box::new(|p| p.leverage_bps = u32::MAX),
            Box::new(|p| p.products[1].product_id = 1),
            Box::new(|p| p.products[0].product_id = 0),
            Box::new(|p| p.products[0].weight_bps = 0),
            Box::new(|p| p.products[0].weight_bps = 10_001),
            Box::new(|p| {
                p.products = (1..=MAX_LIST as u64 + 1)
                    .map(|product_id| ProductWeight {
                        product_id,
                        weight_bps: 1,
                    })
                    .collect()
            }),
            Box::new(|p| p.reinsurance.as_mut().unwrap().reinsurer_pool_id = 0),
            Box::new(|p| p.reinsurance.as_mut().unwrap().quota_share_bps = 10_001),
            Box::new(|p| p.reinsurance.as_mut().unwrap().xol_premium_bps = 10_001),
            Box::new(|p| p.reinsurance.as_mut().unwrap().xol_retention = "-1".into()),
            Box::new(|p| {
                p.reinsurance.as_mut().unwrap().xol_retention = (MAX_AMOUNT + 1).to_string()
            }),
            Box::new(|p| p.reinsurance.as_mut().unwrap().xol_limit = u128::MAX.to_string()),
            Box::new(|p| p.reinsurance.as_mut().unwrap().xol_limit = "0".into()),
            Box::new(|p| {
                let r = p.reinsurance.as_mut().unwrap();
                (r.quota_share_bps, r.xol_limit, r.xol_premium_bps) = (0, "0".into(), 0);
            }),
            Box::new(|p| p.cash = "1e9".into()),
            Box::new(|p| p.total_shares = u128::MAX.to_string()),
        ];
        for (i, spoil) in bad.iter().enumerate() {
            let mut p = pool();
            spoil(&mut p);
            assert!(create(p).is_err(), "case {i} passed");
        }
        // Extremes that are allowed.
        let mut p = pool();
        p.leverage_bps = MAX_LEVERAGE_BPS;
        p.products.clear();
        let r = p.reinsurance.as_mut().unwrap();
        (r.quota_share_bps, r.xol_premium_bps) = (10_000, 10_000);
        r.xol_retention = MAX_AMOUNT.to_string();
        r.xol_limit = MAX_AMOUNT.to_string();
        assert!(create(p).is_ok());
    }

    #[test]
    fn deposits_and_withdrawals_check_amounts_ids_and_signers() {
        for (amount, ok) in amounts() {
            let m = MsgDeposit {
                provider: user(),
                pool_id: 1,
                amount: amount.clone(),
            };
            assert_eq!(check_deposit(&m).is_ok(), ok, "deposit {amount:?}");
            let m = MsgRequestWithdraw {
                provider: user(),
                pool_id: 1,
                shares: amount.clone(),
            };
            assert_eq!(check_request_withdraw(&m).is_ok(), ok, "shares {amount:?}");
        }
        let d = MsgDeposit {
            provider: user(),
            pool_id: 0,
            amount: "5".into(),
        };
        assert!(check_deposit(&d).is_err());
        assert!(check_deposit(&MsgDeposit {
            provider: "nobody".into(),
            pool_id: 1,
            ..d.clone()
        })
        .is_err());
        assert_eq!(
            check_deposit(&MsgDeposit { pool_id: 1, ..d }).unwrap(),
            vec![Address([7; 20])]
        );
        let c = MsgCompleteWithdraw {
            provider: user(),
            pool_id: 0,
        };
        assert!(check_complete_withdraw(&c).is_err());
        assert!(check_complete_withdraw(&MsgCompleteWithdraw { pool_id: 1, ..c }).is_ok());
        assert!(check_complete_withdraw(&MsgCompleteWithdraw {
            provider: String::new(),
            pool_id: 1
        })
        .is_err());
    }

    #[test]
    fn params_are_checked_in_range() {
        let ok = state::default_params();
        let update = |p: Option<Params>| {
            check_update_params(&MsgUpdateParams {
                authority: gov(),
                params: p,
            })
        };
        assert!(update(Some(ok)).is_ok());
        assert!(update(None).is_err());
        assert!(check_update_params(&MsgUpdateParams {
            authority: user(),
            params: Some(ok)
        })
        .is_err());
        for bad in [
            Params {
                cooldown_secs: -1,
                ..ok
            },
            Params {
                cooldown_secs: MAX_COOLDOWN_SECS + 1,
                ..ok
            },
            Params {
                cooldown_secs: i64::MIN,
                ..ok
            },
            Params {
                treasury_bps: 10_001,
                ..ok
            },
            Params {
                treasury_bps: u32::MAX,
                ..ok
            },
            Params {
                capital_incidents: 0,
                ..ok
            },
            Params {
                capital_incidents: MAX_CAPITAL_INCIDENTS + 1,
                ..ok
            },
        ] {
            assert!(update(Some(bad)).is_err(), "{bad:?}");
        }
        for good in [
            Params {
                cooldown_secs: 0,
                treasury_bps: 10_000,
                capital_incidents: MAX_CAPITAL_INCIDENTS,
            },
            Params {
                cooldown_secs: MAX_COOLDOWN_SECS,
                treasury_bps: 0,
                capital_incidents: 1,
            },
        ] {
            assert!(update(Some(good)).is_ok());
        }
    }
}
