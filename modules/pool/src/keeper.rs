//! The pool keeper: what messages do, and what the policy and claims modules call.

use crate::errors;
use crate::reinsurance::Treaty;
use crate::state::{self, PoolState, STORE};
use std::collections::BTreeMap;
use surety_auth::FEE_COLLECTOR;
use surety_bank::Bank;
use surety_framework::math::{add, apply_bps, mul_div, sub, Round};
use surety_framework::{Address, Coins, Ctx, Error, Event};
use surety_proto::surety::pool::v1::{Position, Tranche};

/// The module account holding every pool's coins.
pub const POOL_ACCOUNT: &str = "pool";

/// A hypothetical sale, for checking the capital requirement before it happens.
#[derive(Clone, Copy, Debug)]
struct Sale {
    pool: u64,
    product: u64,
    cover: u128,
}

/// One claim's loss on one pool, paid to `recipient`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LossItem {
    pub pool_id: u64,
    pub amount: u128,
    pub recipient: Address,
}

/// A pool's exposure to one product: cover in force (direct and assumed) and what a total loss
/// would cost the pool after reinsurance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProductExposure {
    pub gross: u128,
    pub net: u128,
}

#[derive(Clone, Copy, Default)]
pub struct Keeper {
    pub bank: Bank,
}

impl Keeper {
    /// Loads a pool with its premiums earned up to the current block time.
    pub fn load(&self, ctx: &mut Ctx, id: u64) -> Result<PoolState, Error> {
        let mut pool = state::load_raw(ctx, id)?;
        if pool.accrued_to < ctx.block.time_unix_secs {
            self.accrue(ctx, &mut pool)?;
            state::save(ctx, &pool)?;
            // Earned premium and expired cover can lift the pool back over its requirement.
            self.refresh_selling(ctx, &mut pool)?;
        }
        Ok(pool)
    }

    pub fn pools(&self, ctx: &mut Ctx) -> Result<Vec<PoolState>, Error> {
        state::pool_ids(ctx)?
            .into_iter()
            .map(|id| self.load(ctx, id))
            .collect()
    }

    /// Earns each tranche's premium linearly over its term and retires expired tranches, which
    /// frees their cover.
    fn accrue(&self, ctx: &mut Ctx, pool: &mut PoolState) -> Result<(), Error> {
        let now = ctx.block.time_unix_secs;
        for mut t in state::tranches(ctx, pool.id)? {
            let premium = parse(&t.premium)?;
            let earned = parse(&t.earned)?;
            let target = if now >= t.end || t.end <= t.start {
                premium
            } else {
                let elapsed = (now.max(t.start) - t.start) as u128;
                mul_div(premium, elapsed, (t.end - t.start) as u128, Round::Down)?
            };
            pool.unearned = sub(
                pool.unearned,
                target.saturating_sub(earned),
                "unearned premium",
            )?;
            if now >= t.end {
                self.retire(ctx, pool, &t)?;
            } else if target != earned {
                t.earned = target.to_string();
                ctx.put_msg(STORE, state::tranche_key(pool.id, t.policy_id), &t)?;
            }
        }
        pool.accrued_to = now;
        Ok(())
    }

    /// Removes a tranche whose premium is fully earned, with its cover.
    fn retire(&self, ctx: &mut Ctx, pool: &mut PoolState, t: &Tranche) -> Result<(), Error> {
        let cover = parse(&t.cover)?;
        if cover > 0 {
            pool.active_cover = sub(pool.active_cover, cover, "active cover")?;
            let key = state::exposure_key(pool.id, t.product_id);
            let exposure = state::get_u128(ctx, &key)?;
            state::set_u128(ctx, key, sub(exposure, cover, "product exposure")?)?;
        }
        ctx.delete(STORE, state::tranche_key(pool.id, t.policy_id))
    }

    /// Each product's exposure: written directly (net of this pool's own treaty) and assumed
    /// from the pools that cede to it.
    pub fn product_exposures(
        &self,
        ctx: &mut Ctx,
        pool: &PoolState,
    ) -> Result<BTreeMap<u64, ProductExposure>, Error> {
        self.exposures_with(ctx, pool, None)
    }

    /// Direct cover in force per product of pool `id`, plus a hypothetical sale.
    fn direct(ctx: &mut Ctx, id: u64, sale: Option<Sale>) -> Result<BTreeMap<u64, u128>, Error> {
        let mut direct: BTreeMap<u64, u128> = state::exposures(ctx, id)?.into_iter().collect();
        if let Some(sale) = sale.filter(|s| s.pool == id) {
            let e = direct.entry(sale.product).or_default();
            *e = add(*e, sale.cover)?;
        }
        Ok(direct)
    }

    /// [`Self::product_exposures`] as they would be after `sale`.
    fn exposures_with(
        &self,
        ctx: &mut Ctx,
        pool: &PoolState,
        sale: Option<Sale>,
    ) -> Result<BTreeMap<u64, ProductExposure>, Error> {
        let mut out: BTreeMap<u64, ProductExposure> = BTreeMap::new();
        for (product, cover) in Self::direct(ctx, pool.id, sale)? {
            let net = match &pool.treaty {
                Some(t) => t.split_exposure(cover)?.retained,
                None => cover,
            };
            let e = out.entry(product).or_default();
            e.gross = add(e.gross, cover)?;
            e.net = add(e.net, net)?;
        }
        for id in state::pool_ids(ctx)? {
            if id == pool.id {
                continue;
            }
            let cedent = self.load(ctx, id)?;
            let Some(treaty) = cedent.treaty.filter(|t| t.reinsurer == pool.id) else {
                continue;
            };
            for (product, cover) in Self::direct(ctx, cedent.id, sale)? {
                let ceded = treaty.split_exposure(cover)?.ceded();
                let e = out.entry(product).or_default();
                e.gross = add(e.gross, ceded)?;
                e.net = add(e.net, ceded)?;
            }
        }
        Ok(out)
    }

    /// What the pool must be able to pay: the sum of its k largest net product exposures.
    pub fn capital_requirement(&self, ctx: &mut Ctx, pool: &PoolState) -> Result<u128, Error> {
        self.requirement_with(ctx, pool, None)
    }

    fn requirement_with(
        &self,
        ctx: &mut Ctx,
        pool: &PoolState,
        sale: Option<Sale>,
    ) -> Result<u128, Error> {
        let k = state::params(ctx)?.capital_incidents as usize;
        let mut nets: Vec<u128> = self
            .exposures_with(ctx, pool, sale)?
            .values()
            .map(|e| e.net)
            .collect();
        nets.sort_unstable_by(|a, b| b.cmp(a));
        nets.into_iter().take(k).try_fold(0u128, add)
    }

    /// Checks that selling `cover` of `product` from `pool` keeps the pool and its reinsurer at
    /// or above their capital requirements. Premiums do not change capital (they enter the
    /// unearned reserve), so this is exactly the state after the sale.
    pub fn check_sale(
        &self,
        ctx: &mut Ctx,
        pool: &PoolState,
        product: u64,
        cover: u128,
    ) -> Result<(), Error> {
        let sale = Some(Sale {
            pool: pool.id,
            product,
            cover,
        });
        let requirement = self.requirement_with(ctx, pool, sale)?;
        if pool.capital() < requirement {
            return Err(errors::below_capital_requirement(format!(
                "selling {cover} of product {product} would require {requirement} of pool {}, which has {}",
                pool.id,
                pool.capital()
            )));
        }
        if let Some(treaty) = pool.treaty {
            let reinsurer = self.load(ctx, treaty.reinsurer)?;
            let requirement = self.requirement_with(ctx, &reinsurer, sale)?;
            if reinsurer.capital() < requirement {
                return Err(errors::below_capital_requirement(format!(
                    "selling {cover} of product {product} would require {requirement} of reinsurer pool {}, which has {}",
                    reinsurer.id,
                    reinsurer.capital()
                )));
            }
        }
        Ok(())
    }

    pub fn meets_requirement(&self, ctx: &mut Ctx, pool: &PoolState) -> Result<bool, Error> {
        Ok(pool.capital() >= self.capital_requirement(ctx, pool)?)
    }

    /// Stops sales when the pool is below its capital requirement and restarts them when it
    /// recovers, announcing each change.
    fn refresh_selling(&self, ctx: &mut Ctx, pool: &mut PoolState) -> Result<(), Error> {
        let meets = self.meets_requirement(ctx, pool)?;
        if meets != pool.selling {
            pool.selling = meets;
            let kind = if meets {
                "pool_sales_resumed"
            } else {
                "pool_sales_stopped"
            };
            ctx.emit(Event::new(kind).attr("pool_id", pool.id));
        }
        state::save(ctx, pool)
    }

    /// Re-checks a pool's capital requirement after losses.
    fn refresh(&self, ctx: &mut Ctx, id: u64) -> Result<(), Error> {
        let mut pool = self.load(ctx, id)?;
        self.refresh_selling(ctx, &mut pool)
    }

    pub fn deposit(
        &self,
        ctx: &mut Ctx,
        provider: &Address,
        pool_id: u64,
        amount: u128,
    ) -> Result<u128, Error> {
        if amount == 0 {
            return Err(surety_framework::sdk::invalid_coins(
                "deposit must be positive",
            ));
        }
        let mut pool = self.load(ctx, pool_id)?;
        let capital = pool.capital();
        let shares = if pool.total_shares == 0 {
            amount
        } else if capital == 0 {
            return Err(errors::insolvent(format!(
                "pool {pool_id} has lost all its capital; its shares are worthless"
            )));
        } else {
            mul_div(amount, pool.total_shares, capital, Round::Down)?
        };
        if shares == 0 {
            return Err(surety_framework::sdk::invalid_coins(format!(
                "deposit of {amount}{} buys no shares",
                pool.denom
            )));
        }
        self.bank
            .send_to_module(ctx, provider, POOL_ACCOUNT, &Coins::of(amount, &pool.denom))?;
        pool.cash = add(pool.cash, amount)?;
        pool.total_shares = add(pool.total_shares, shares)?;
        let mut position = state::position(ctx, pool_id, &provider.0)?.unwrap_or(Position {
            pool_id,
            owner: provider.to_string(),
            ..Default::default()
        });
        position.shares = add(parse(&position.shares)?, shares)?.to_string();
        ctx.put_msg(STORE, state::position_key(pool_id, &provider.0), &position)?;
        self.refresh_selling(ctx, &mut pool)?;
        ctx.emit(
            Event::new("pool_deposit")
                .attr("pool_id", pool_id)
                .attr("provider", provider)
                .attr("amount", format!("{amount}{}", pool.denom))
                .attr("shares", shares),
        );
        Ok(shares)
    }

    /// Starts (or extends) a withdrawal: the shares stay in the pool, bearing its losses, until
    /// the cooldown is over.
    pub fn request_withdraw(
        &self,
        ctx: &mut Ctx,
        provider: &Address,
        pool_id: u64,
        shares: u128,
    ) -> Result<i64, Error> {
        self.load(ctx, pool_id)?;
        let mut position = state::position(ctx, pool_id, &provider.0)?.ok_or_else(|| {
            errors::insufficient_shares(format!("{provider} has no position in pool {pool_id}"))
        })?;
        let owned = parse(&position.shares)?;
        let withdrawing = parse(&position.withdrawing_shares)?;
        if shares == 0 || add(withdrawing, shares)? > owned {
            return Err(errors::insufficient_shares(format!(
                "requested {shares}, of {owned} shares {withdrawing} are already withdrawing"
            )));
        }
        let unlock_time = ctx.block.time_unix_secs + state::params(ctx)?.cooldown_secs;
        position.withdrawing_shares = (withdrawing + shares).to_string();
        position.unlock_time = unlock_time;
        ctx.put_msg(STORE, state::position_key(pool_id, &provider.0), &position)?;
        ctx.emit(
            Event::new("pool_withdraw_requested")
                .attr("pool_id", pool_id)
                .attr("provider", provider)
                .attr("shares", shares)
                .attr("unlock_time", unlock_time),
        );
        Ok(unlock_time)
    }

    /// Pays out shares whose cooldown is over at the share price of now, unless that would take
    /// the pool below its capital requirement.
    pub fn complete_withdraw(
        &self,
        ctx: &mut Ctx,
        provider: &Address,
        pool_id: u64,
    ) -> Result<u128, Error> {
        let mut pool = self.load(ctx, pool_id)?;
        let key = state::position_key(pool_id, &provider.0);
        let mut position = state::position(ctx, pool_id, &provider.0)?
            .filter(|p| !p.withdrawing_shares.is_empty() && p.withdrawing_shares != "0")
            .ok_or_else(|| errors::no_withdrawal(format!("{provider} in pool {pool_id}")))?;
        let now = ctx.block.time_unix_secs;
        if now < position.unlock_time {
            return Err(errors::cooldown_not_over(format!(
                "shares unlock at {} (block time now {now})",
                position.unlock_time
            )));
        }
        let shares = parse(&position.withdrawing_shares)?;
        let amount = mul_div(shares, pool.capital(), pool.total_shares, Round::Down)?;
        let requirement = self.capital_requirement(ctx, &pool)?;
        if pool.capital() - amount < requirement {
            return Err(errors::below_capital_requirement(format!(
                "withdrawing {amount}{} leaves {} against a requirement of {requirement}",
                pool.denom,
                pool.capital() - amount
            )));
        }
        pool.take_cash(amount)?;
        pool.total_shares -= shares;
        let remaining = sub(parse(&position.shares)?, shares, "position shares")?;
        if remaining == 0 {
            ctx.delete(STORE, key)?;
        } else {
            position.shares = remaining.to_string();
            position.withdrawing_shares = String::new();
            position.unlock_time = 0;
            ctx.put_msg(STORE, key, &position)?;
        }
        self.bank
            .send_from_module(ctx, POOL_ACCOUNT, provider, &Coins::of(amount, &pool.denom))?;
        self.refresh_selling(ctx, &mut pool)?;
        ctx.emit(
            Event::new("pool_withdraw_completed")
                .attr("pool_id", pool_id)
                .attr("provider", provider)
                .attr("shares", shares)
                .attr("amount", format!("{amount}{}", pool.denom)),
        );
        Ok(amount)
    }

    /// Cover `product` may still take in `pool`: the capacity left, within the product's weight.
    pub fn room(&self, ctx: &mut Ctx, pool: &PoolState, product: u64) -> Result<u128, Error> {
        let Some(weight) = pool.weight_of(product) else {
            return Ok(0);
        };
        if !pool.selling {
            return Ok(0);
        }
        let capacity = pool.capacity()?;
        let product_cap = apply_bps(capacity, weight, Round::Down)?;
        let product_active = state::get_u128(ctx, &state::exposure_key(pool.id, product))?;
        Ok(capacity
            .saturating_sub(pool.active_cover)
            .min(product_cap.saturating_sub(product_active)))
    }

    /// Writes `cover` of a policy into a pool, which has already received `premium` in its
    /// account: the treasury takes its share, the reinsurer its ceded part, and the rest is
    /// earned over the term. Fails if the sale takes the pool or its reinsurer below the capital
    /// requirement.
    #[allow(clippy::too_many_arguments)]
    pub fn write_cover(
        &self,
        ctx: &mut Ctx,
        pool_id: u64,
        policy_id: u64,
        product_id: u64,
        cover: u128,
        premium: u128,
        end: i64,
    ) -> Result<(), Error> {
        let mut pool = self.load(ctx, pool_id)?;
        if !pool.selling {
            return Err(errors::not_selling(format!("pool {pool_id}")));
        }
        let room = self.room(ctx, &pool, product_id)?;
        if cover > room {
            return Err(errors::insufficient_capacity(format!(
                "pool {pool_id} can take {room} more cover of product {product_id}, not {cover}"
            )));
        }
        self.check_sale(ctx, &pool, product_id, cover)?;
        let treasury = apply_bps(premium, state::params(ctx)?.treasury_bps, Round::Down)?;
        self.bank.send_from_module(
            ctx,
            POOL_ACCOUNT,
            &Address::module(FEE_COLLECTOR),
            &Coins::of(treasury, &pool.denom),
        )?;
        let after_treasury = premium - treasury;
        let split = match &pool.treaty {
            Some(t) => t.split_premium(after_treasury)?,
            None => crate::reinsurance::PremiumSplit {
                retained: after_treasury,
                ceded: 0,
            },
        };
        let start = ctx.block.time_unix_secs;
        let tranche = |pool_id, cover: u128, premium: u128| Tranche {
            pool_id,
            policy_id,
            product_id,
            cover: cover.to_string(),
            premium: premium.to_string(),
            earned: "0".into(),
            start,
            end,
        };
        ctx.put_msg(
            STORE,
            state::tranche_key(pool_id, policy_id),
            &tranche(pool_id, cover, split.retained),
        )?;
        pool.cash = add(pool.cash, split.retained)?;
        pool.unearned = add(pool.unearned, split.retained)?;
        pool.active_cover = add(pool.active_cover, cover)?;
        let key = state::exposure_key(pool_id, product_id);
        let exposure = state::get_u128(ctx, &key)?;
        state::set_u128(ctx, key, add(exposure, cover)?)?;
        state::save(ctx, &pool)?;

        if let Some(treaty) = pool.treaty {
            let mut reinsurer = self.load(ctx, treaty.reinsurer)?;
            if split.ceded > 0 {
                ctx.put_msg(
                    STORE,
                    state::tranche_key(reinsurer.id, policy_id),
                    &tranche(reinsurer.id, 0, split.ceded),
                )?;
                reinsurer.cash = add(reinsurer.cash, split.ceded)?;
                reinsurer.unearned = add(reinsurer.unearned, split.ceded)?;
                state::save(ctx, &reinsurer)?;
            }
        }
        Ok(())
    }

    /// Ends a policy's cover early (its claim was paid): its premium counts as earned now and its
    /// cover no longer weighs on the pools.
    pub fn release(&self, ctx: &mut Ctx, pool_ids: &[u64], policy_id: u64) -> Result<(), Error> {
        let mut ids: Vec<u64> = pool_ids.to_vec();
        for &id in pool_ids {
            if let Some(t) = state::load_raw(ctx, id)?.treaty {
                ids.push(t.reinsurer);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let mut pool = self.load(ctx, id)?;
            let key = state::tranche_key(id, policy_id);
            if let Some(t) = ctx.get_msg::<Tranche>(STORE, &key)? {
                let unearned = parse(&t.premium)?.saturating_sub(parse(&t.earned)?);
                pool.unearned = sub(pool.unearned, unearned, "unearned premium")?;
                self.retire(ctx, &mut pool, &t)?;
                self.refresh_selling(ctx, &mut pool)?;
            }
        }
        Ok(())
    }

    /// Pays the losses of one incident. Each pool pays its retained part and its reinsurer the
    /// ceded part; if either cannot pay in full, every loss on that pool is paid the same
    /// fraction (pro rata). Returns what each item was paid, in order.
    pub fn settle(
        &self,
        ctx: &mut Ctx,
        incident: &str,
        items: &[LossItem],
    ) -> Result<Vec<u128>, Error> {
        // Demand per pool, split by treaty.
        let mut demand: BTreeMap<u64, u128> = BTreeMap::new();
        for item in items {
            let d = demand.entry(item.pool_id).or_default();
            *d = add(*d, item.amount)?;
        }
        struct Share {
            own: u128,
            ceded: u128,
            reinsurer: Option<u64>,
        }
        let mut shares: BTreeMap<u64, Share> = BTreeMap::new();
        let mut reinsurer_demand: BTreeMap<u64, u128> = BTreeMap::new();
        for (&pool_id, &amount) in &demand {
            let pool = self.load(ctx, pool_id)?;
            let share = match pool.treaty {
                Some(t) => {
                    let key = state::incident_loss_key(pool_id, incident);
                    let before = state::get_u128(ctx, &key)?;
                    let split = t.split_loss(before, amount)?;
                    state::set_u128(ctx, key, add(before, amount - split.quota_share)?)?;
                    let r = reinsurer_demand.entry(t.reinsurer).or_default();
                    *r = add(*r, split.ceded())?;
                    Share {
                        own: split.retained,
                        ceded: split.ceded(),
                        reinsurer: Some(t.reinsurer),
                    }
                }
                None => Share {
                    own: amount,
                    ceded: 0,
                    reinsurer: None,
                },
            };
            shares.insert(pool_id, share);
        }
        // What each reinsurer can pay, as a fraction of what is asked of it.
        let mut reinsurer_paid: BTreeMap<u64, (u128, u128)> = BTreeMap::new();
        for (&id, &asked) in &reinsurer_demand {
            let capital = self.load(ctx, id)?.capital();
            reinsurer_paid.insert(id, (asked.min(capital), asked));
        }

        let mut paid_per_pool: BTreeMap<u64, (u128, u128)> = BTreeMap::new();
        for (&pool_id, share) in &shares {
            let capital = self.load(ctx, pool_id)?.capital();
            let own_paid = share.own.min(capital);
            let ceded_paid = match share.reinsurer {
                Some(r) => {
                    let (can, asked) = reinsurer_paid[&r];
                    if asked == 0 {
                        0
                    } else {
                        mul_div(share.ceded, can, asked, Round::Down)?
                    }
                }
                None => 0,
            };
            paid_per_pool.insert(pool_id, (own_paid, ceded_paid));
        }

        // Pay each item its pool's fraction, and take exactly what was paid from the pools.
        let mut paid = Vec::with_capacity(items.len());
        let mut taken: BTreeMap<u64, u128> = BTreeMap::new();
        for item in items {
            let (own_paid, ceded_paid) = paid_per_pool[&item.pool_id];
            let available = own_paid + ceded_paid;
            let asked = demand[&item.pool_id];
            let amount = if available >= asked {
                item.amount
            } else {
                mul_div(item.amount, available, asked, Round::Down)?
            };
            let t = taken.entry(item.pool_id).or_default();
            *t += amount;
            paid.push(amount);
        }
        for (&pool_id, &total) in &taken {
            let (own_paid, ceded_paid) = paid_per_pool[&pool_id];
            let from_reinsurer = if own_paid + ceded_paid == 0 {
                0
            } else {
                mul_div(ceded_paid, total, own_paid + ceded_paid, Round::Down)?
            };
            let from_pool = total - from_reinsurer;
            let mut pool = self.load(ctx, pool_id)?;
            pool.take_cash(from_pool)?;
            state::save(ctx, &pool)?;
            if let Some(r) = shares[&pool_id].reinsurer {
                let mut reinsurer = self.load(ctx, r)?;
                reinsurer.take_cash(from_reinsurer)?;
                state::save(ctx, &reinsurer)?;
            }
            ctx.emit(
                Event::new("pool_loss")
                    .attr("pool_id", pool_id)
                    .attr("incident", incident)
                    .attr("paid_by_pool", from_pool)
                    .attr("paid_by_reinsurer", from_reinsurer)
                    .attr("asked", demand[&pool_id]),
            );
        }
        for (item, &amount) in items.iter().zip(&paid) {
            let denom = state::load_raw(ctx, item.pool_id)?.denom;
            self.bank.send_from_module(
                ctx,
                POOL_ACCOUNT,
                &item.recipient,
                &Coins::of(amount, &denom),
            )?;
        }
        let mut touched: Vec<u64> = shares.keys().copied().collect();
        touched.extend(reinsurer_demand.keys());
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            self.refresh(ctx, id)?;
        }
        Ok(paid)
    }

    /// Creates a pool (governance, or genesis): it starts empty and selling. Its reinsurer, if
    /// any, is checked by [`Self::check_treaty`] (genesis checks once every pool exists).
    pub fn create_pool(&self, ctx: &mut Ctx, mut pool: PoolState) -> Result<u64, Error> {
        pool.id = ctx.next_id(STORE, state::NEXT_POOL_ID)?;
        pool.total_shares = 0;
        pool.cash = 0;
        pool.unearned = 0;
        pool.active_cover = 0;
        pool.selling = true;
        pool.accrued_to = ctx.block.time_unix_secs;
        state::validate_pool_terms(&pool).map_err(|e| errors::invalid_pool(e.log))?;
        surety_auth::Auth.ensure_module_account(ctx, POOL_ACCOUNT)?;
        state::save(ctx, &pool)?;
        ctx.emit(Event::new("pool_created").attr("pool_id", pool.id));
        Ok(pool.id)
    }

    /// A pool's reinsurer must exist, hold the same denom and not cede onward (no chains or
    /// cycles of reinsurance).
    pub fn check_treaty(&self, ctx: &mut Ctx, id: u64) -> Result<(), Error> {
        let pool = state::load_raw(ctx, id)?;
        let Some(t) = pool.treaty else {
            return Ok(());
        };
        let reinsurer = state::load_raw(ctx, t.reinsurer).map_err(|_| {
            errors::invalid_pool(format!(
                "pool {id}: reinsurer pool {} does not exist",
                t.reinsurer
            ))
        })?;
        if reinsurer.denom != pool.denom {
            return Err(errors::invalid_pool(format!(
                "pool {id}: reinsurer pool {} holds {}, not {}",
                reinsurer.id, reinsurer.denom, pool.denom
            )));
        }
        if reinsurer.treaty.is_some() {
            return Err(errors::invalid_pool(format!(
                "pool {id}: reinsurer pool {} itself cedes to a reinsurer",
                reinsurer.id
            )));
        }
        Ok(())
    }

    /// Pools that underwrite `product` in `denom`, ascending by id.
    pub fn pools_for_product(
        &self,
        ctx: &mut Ctx,
        product: u64,
        denom: &str,
    ) -> Result<Vec<PoolState>, Error> {
        Ok(self
            .pools(ctx)?
            .into_iter()
            .filter(|p| p.denom == denom && p.weight_of(product).is_some())
            .collect())
    }

    pub fn position_value(&self, pool: &PoolState, shares: u128) -> Result<u128, Error> {
        if pool.total_shares == 0 {
            return Ok(0);
        }
        mul_div(shares, pool.capital(), pool.total_shares, Round::Down)
    }

    pub fn treaty_of(&self, ctx: &mut Ctx, id: u64) -> Result<Option<Treaty>, Error> {
        Ok(state::load_raw(ctx, id)?.treaty)
    }
}

pub fn parse(s: &str) -> Result<u128, Error> {
    surety_framework::math::parse_amount(s, "amount")
}
