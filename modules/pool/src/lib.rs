//! pool: capital that underwrites cover.
//!
//! Providers deposit a pool's denom for shares; premiums are earned linearly over each policy's
//! term; a pool may cede part of its premiums and losses to a reinsurer pool; and it must always
//! be able to pay, net of reinsurance, its k largest simultaneous product incidents — sales and
//! withdrawals that would break this are refused, and a pool that losses push below it stops
//! selling until its capital returns.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

pub mod errors;
mod keeper;
pub mod msgs;
mod query;
pub mod reinsurance;
mod sale;
pub mod state;
#[cfg(test)]
mod tests;

pub use keeper::{
    Keeper, LossItem, ProductExposure, Sale, EXPIRY_BUDGET, EXPIRY_RETRY_SECS, POOL_ACCOUNT,
    TREASURY_BUDGET,
};
pub use sale::{CheckedSales, Desk};
pub use state::{PoolState, STORE};

use surety_framework::math::add;
use surety_framework::module::{genesis_json, genesis_section};
use surety_framework::{Address, Ctx, Error, Module, Msgs, ValidatorUpdate};
use surety_proto::surety::pool::v1::*;

#[derive(Clone, Copy, Default)]
pub struct PoolModule {
    pub keeper: Keeper,
}

impl Module for PoolModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        let k = self.keeper;
        Msgs::new()
            .add(msgs::check_create_pool, move |ctx, m| {
                msgs::create_pool(&k, ctx, m)
            })
            .add(msgs::check_deposit, move |ctx, m| msgs::deposit(&k, ctx, m))
            .add(msgs::check_request_withdraw, move |ctx, m| {
                msgs::request_withdraw(&k, ctx, m)
            })
            .add(msgs::check_complete_withdraw, move |ctx, m| {
                msgs::complete_withdraw(&k, ctx, m)
            })
            .add(msgs::check_update_params, msgs::update_params)
    }

    /// Retires a bounded number of expired tranches (see [`Keeper::retire_expired`]) and pays
    /// the treasury what a bounded number of pools owe it ([`Keeper::pay_treasury`]).
    fn end_block(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        self.keeper.retire_expired(ctx)?;
        self.keeper.pay_treasury(ctx)?;
        Ok(Vec::new())
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(&self.keeper, ctx, path, request)
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis_json(&GenesisState {
            params: Some(state::default_params()),
            ..Default::default()
        })
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        let g: GenesisState = genesis_section(STORE, genesis)?;
        msgs::check_params(&g.params.unwrap_or_else(state::default_params))
            .map_err(|e| format!("pool params: {}", e.log))?;
        for (n, p) in (1u64..).zip(&g.pools) {
            msgs::check_pool(p).map_err(|e| format!("pool {n}: {}", e.log))?;
            let pool = PoolState::from_proto(p).map_err(|e| format!("pool {n}: {}", e.log))?;
            if let Some(t) = &pool.treaty {
                if t.reinsurer == n {
                    return Err(format!("pool {n}: a pool cannot reinsure itself"));
                }
                let reinsurer = t
                    .reinsurer
                    .checked_sub(1)
                    .and_then(|r| usize::try_from(r).ok())
                    .and_then(|r| g.pools.get(r));
                let Some(reinsurer) = reinsurer else {
                    return Err(format!(
                        "pool {n}: reinsurer pool {} is not among the {} genesis pools",
                        t.reinsurer,
                        g.pools.len()
                    ));
                };
                if reinsurer.denom != pool.denom || reinsurer.reinsurance.is_some() {
                    return Err(format!(
                        "pool {n}: reinsurer pool {} must hold {} and not cede onward",
                        t.reinsurer, pool.denom
                    ));
                }
            }
            if pool.cash > 0
                || pool.total_shares > 0
                || pool.treasury_due > 0
                || !g.positions.is_empty()
            {
                return Err(format!(
                    "pool {n}: genesis pools start empty; fund them with deposits"
                ));
            }
        }
        Ok(())
    }

    /// Genesis pools are created empty, in order, with ids from 1.
    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let g: GenesisState =
            genesis_section(STORE, genesis).map_err(surety_framework::sdk::invalid_request)?;
        state::set_params(ctx, &g.params.unwrap_or_else(state::default_params))?;
        let mut ids = Vec::new();
        for p in &g.pools {
            ids.push(self.keeper.create_pool(ctx, PoolState::from_proto(p)?)?);
        }
        for id in ids {
            self.keeper.check_treaty(ctx, id)?;
        }
        Ok(())
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        let pools = self.keeper.pools(ctx)?;
        let mut positions = Vec::new();
        let mut tranches = Vec::new();
        for p in &pools {
            positions.extend(state::positions(ctx, p.id)?);
            for t in state::tranches(ctx, p.id)? {
                tranches.push(t.to_proto(Keeper::tranche_earned(p, &t)?));
            }
        }
        Ok(genesis_json(&GenesisState {
            params: Some(state::params(ctx)?),
            pools: pools.iter().map(PoolState::to_proto).collect(),
            positions,
            tranches,
        }))
    }

    fn check_invariants(&self, ctx: &mut Ctx) -> Result<(), String> {
        invariants(&self.keeper, ctx).map_err(|e| e.log)?
    }
}

/// The pool account holds exactly the pools' cash and what they owe the treasury; each pool's shares, cover and aggregate
/// accrual add up from its positions and tranches (its earning rate is the sum of theirs, and its
/// unearned reserve exactly what they have not earned by its accrual time); every pool holding a
/// tranche is queued to expire it, and none lies past it; no pool owes more than it holds; each product's cover
/// in force is what the pools hold of it; the product and reinsurance indexes match the pools.
fn invariants(k: &Keeper, ctx: &mut Ctx) -> Result<Result<(), String>, Error> {
    use std::collections::BTreeMap;
    use surety_framework::math::Wide;
    let mut cash_by_denom: BTreeMap<String, u128> = BTreeMap::new();
    let mut in_force: BTreeMap<u64, u128> = BTreeMap::new();
    let queued = state::queued_pools(ctx)?;
    let (mut product_pools, mut cedents) = (Vec::new(), Vec::new());
    for id in state::pool_ids(ctx)? {
        let pool = state::load_raw(ctx, id)?;
        product_pools.extend(pool.products.iter().map(|&(product, _)| (product, id)));
        cedents.extend(pool.treaty.map(|t| (t.reinsurer, id)));
        let cash = cash_by_denom.entry(pool.denom.clone()).or_default();
        *cash = add(add(*cash, pool.cash)?, pool.treasury_due)?;
        let mut shares = 0u128;
        for p in state::positions(ctx, id)? {
            shares = add(shares, keeper::parse(&p.shares)?)?;
        }
        if shares != pool.total_shares {
            return Ok(Err(format!(
                "pool {id}: positions hold {shares} shares, pool counts {}",
                pool.total_shares
            )));
        }
        let acc = k.accrual(ctx, id)?;
        let (mut rate, mut cover) = (0u128, 0u128);
        let mut unearned_scaled = Wide::default();
        let mut earned_scaled = Wide::default();
        let tranches = state::tranches(ctx, id)?;
        for t in &tranches {
            let premium = t.premium;
            let r = state::tranche_rate(premium, t.start, t.end)?;
            if pool.accrued_to < t.start || pool.accrued_to > t.end {
                return Ok(Err(format!(
                    "pool {id}: accrued to {} outside the term {}..{} of policy {}",
                    pool.accrued_to, t.start, t.end, t.policy
                )));
            }
            let elapsed = u128::try_from(pool.accrued_to.saturating_sub(t.start)).unwrap_or(0);
            rate = add(rate, r)?;
            cover = add(cover, t.cover)?;
            unearned_scaled =
                unearned_scaled.plus(Wide::product(&[premium, state::RATE_SCALE])?)?;
            earned_scaled = earned_scaled.plus(Wide::product(&[r, elapsed])?)?;
        }
        // unearned × scale − carry = Σ (premium × scale − rate × elapsed)
        let lhs = Wide::product(&[pool.unearned, state::RATE_SCALE])?.plus(earned_scaled)?;
        let rhs = unearned_scaled.plus(Wide::product(&[acc.carry])?)?;
        if rate != acc.rate || lhs != rhs || acc.carry >= state::RATE_SCALE {
            return Ok(Err(format!(
                "pool {id}: tranches earn {rate}/s and leave {:?} unearned (scaled); pool counts \
                 {}/s, {} unearned and carry {}",
                unearned_scaled.minus(earned_scaled).ok(),
                acc.rate,
                pool.unearned,
                acc.carry
            )));
        }
        if cover != pool.active_cover {
            return Ok(Err(format!(
                "pool {id}: tranches hold {cover} cover, pool counts {}",
                pool.active_cover
            )));
        }
        if !tranches.is_empty() && !queued.contains(&id) {
            return Ok(Err(format!(
                "pool {id} holds {} tranches but is not queued to expire them",
                tranches.len()
            )));
        }
        let mut exposure = 0u128;
        for (product, a) in state::exposures(ctx, id)? {
            exposure = add(exposure, a)?;
            let total = in_force.entry(product).or_default();
            *total = add(*total, a)?;
        }
        if exposure != pool.active_cover {
            return Ok(Err(format!(
                "pool {id}: product exposures sum to {exposure}, active cover is {}",
                pool.active_cover
            )));
        }
        if pool.unearned > pool.cash {
            return Ok(Err(format!(
                "pool {id}: unearned premium {} exceeds cash {}",
                pool.unearned, pool.cash
            )));
        }
    }
    product_pools.sort_unstable();
    cedents.sort_unstable();
    if state::index_pairs(ctx)? != (product_pools, cedents) {
        return Ok(Err(
            "the product and reinsurance indexes do not match the pools' terms".into(),
        ));
    }
    for (product, total) in in_force {
        let counted = k.cover_in_force(ctx, product)?;
        if counted != total {
            return Ok(Err(format!(
                "product {product}: pools hold {total} of its cover, its cover in force counts \
                 {counted}"
            )));
        }
    }
    let account = Address::module(POOL_ACCOUNT);
    for (denom, cash) in cash_by_denom {
        let held = k.bank.balance(ctx, &account, &denom)?;
        if held != cash {
            return Ok(Err(format!(
                "pool account holds {held}{denom}, pools count {cash}{denom} (cash and treasury \
                 due)"
            )));
        }
    }
    Ok(Ok(()))
}
