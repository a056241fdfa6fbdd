//! The pool keeper: what messages do, and what the policy and claims modules call.

use crate::errors;
use crate::reinsurance::Treaty;
use crate::state::{self, Accrual, PoolState, TrancheState, RATE_SCALE, STORE};
use std::collections::{BTreeMap, BTreeSet};
use surety_auth::FEE_COLLECTOR;
use surety_bank::Bank;
use surety_framework::math::{add, apply_bps, mul_div, sub, Round, Wide};
use surety_framework::{sdk, Address, Coin, Coins, Ctx, Error, Event};
use surety_proto::surety::pool::v1::Position;

/// The module account holding every pool's coins.
pub const POOL_ACCOUNT: &str = surety_framework::accounts::POOL;

/// Tranches EndBlock retires per block at most; the rest wait, oldest first, for the next.
pub const EXPIRY_BUDGET: usize = 256;

/// Pools whose treasury share EndBlock pays per block at most; the rest are paid in the next
/// blocks, in turn.
pub const TREASURY_BUDGET: usize = 64;

/// A tranche whose retirement failed is tried again this much later. Its pool earns nothing past
/// the tranche's end meanwhile, so the delay can only hold premium back, never over-earn it.
pub const EXPIRY_RETRY_SECS: i64 = 3_600;

/// A sale, for checking the capital requirement before it happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sale {
    pub pool: u64,
    pub product: u64,
    pub cover: u128,
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

/// Which way [`Keeper::book_cover`] moves cover.
#[derive(Clone, Copy)]
enum Book {
    On,
    Off,
}

#[derive(Clone, Copy, Default)]
pub struct Keeper {
    pub bank: Bank,
}

fn seconds_between(from: i64, to: i64) -> Result<u128, Error> {
    to.checked_sub(from)
        .and_then(|d| u128::try_from(d).ok())
        .ok_or_else(|| sdk::internal(format!("time runs backwards: {from} to {to}")))
}

/// Whole units and the scaled remainder of a scaled amount.
fn units_and_carry(scaled: Wide) -> Result<(u128, u128), Error> {
    let scale = Wide::product(&[RATE_SCALE])?;
    let units = scaled.div(scale, Round::Down)?;
    let carry = scaled
        .minus(Wide::product(&[units, RATE_SCALE])?)?
        .div(Wide::product(&[1])?, Round::Down)?;
    Ok((units, carry))
}

impl Keeper {
    /// Loads a pool with its premiums earned up to the current block time (or up to the end of
    /// its earliest tranche still waiting to be retired).
    pub fn load(&self, ctx: &mut Ctx, id: u64) -> Result<PoolState, Error> {
        let mut pool = state::load_raw(ctx, id)?;
        // Accrued to the block time already (by an earlier load in this block): nothing to earn,
        // and no need to read the expiry index, which every sale loads pools through.
        if pool.accrued_to >= ctx.block.time_unix_secs {
            return Ok(pool);
        }
        let to = self.accrual_limit(ctx, &pool)?;
        if pool.accrued_to < to {
            self.accrue(&mut pool, to)?;
            state::save(ctx, &pool)?;
            // Earned premium can lift the pool back over its requirement.
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

    /// How far a pool may accrue now: to the block time, but never past the end of a tranche
    /// not yet retired (its rate must stop there). One bounded read.
    fn accrual_limit(&self, ctx: &mut Ctx, pool: &PoolState) -> Result<i64, Error> {
        let now = ctx.block.time_unix_secs;
        Ok(match state::next_expiry(ctx, pool.id)? {
            Some(end) => now.min(end),
            None => now,
        })
    }

    /// Earns premium from `pool.accrued_to` to `to` at the pool's aggregate rate: O(1), however
    /// many policies the pool has written.
    fn accrue(&self, pool: &mut PoolState, to: i64) -> Result<(), Error> {
        let acc = &mut pool.accrual;
        let elapsed = seconds_between(pool.accrued_to, to)?;
        let scaled = Wide::product(&[acc.rate, elapsed])?.plus(Wide::product(&[acc.carry])?)?;
        let (earned, carry) = units_and_carry(scaled)?;
        acc.carry = carry;
        pool.unearned = sub(pool.unearned, earned, "unearned premium")?;
        pool.accrued_to = to;
        Ok(())
    }

    /// Removes a tranche at `pool.accrued_to` (its end, or earlier when its claim was paid): the
    /// rest of its premium counts as earned and its cover no longer weighs on the pool.
    fn retire(&self, ctx: &mut Ctx, pool: &mut PoolState, t: &TrancheState) -> Result<(), Error> {
        let premium = t.premium;
        let rate = state::tranche_rate(premium, t.start, t.end)?;
        let mut acc = pool.accrual;
        // What the aggregate rate has not yet earned of this tranche: never negative, since a
        // pool never accrues past a live tranche's end.
        let earned_scaled = Wide::product(&[rate, seconds_between(t.start, pool.accrued_to)?])?;
        let rest = Wide::product(&[premium, RATE_SCALE])?.minus(earned_scaled)?;
        let (earned, carry) = units_and_carry(rest.plus(Wide::product(&[acc.carry])?)?)?;
        acc.carry = carry;
        acc.rate = sub(acc.rate, rate, "pool earning rate")?;
        pool.unearned = sub(pool.unearned, earned, "unearned premium")?;
        pool.accrual = acc;
        self.book_cover(ctx, pool, t.product, t.cover, Book::Off)?;
        ctx.delete(STORE, state::tranche_key(pool.id, t.end, t.policy))
    }

    /// Adds a policy's share to a pool: the premium enters the unearned reserve and starts
    /// earning now. A pool has one tranche of a policy, so [`Keeper::write`] sums its parts
    /// (direct and as reinsurer) before calling this once per pool.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_tranche(
        &self,
        ctx: &mut Ctx,
        pool: &mut PoolState,
        policy_id: u64,
        product_id: u64,
        cover: u128,
        premium: u128,
        end: i64,
    ) -> Result<(), Error> {
        let now = ctx.block.time_unix_secs;
        if pool.accrued_to != now {
            return Err(errors::busy(format!(
                "pool {} still has expired cover to retire; try again in a later block",
                pool.id
            )));
        }
        if end <= now {
            return Err(sdk::invalid_request(format!(
                "cover ending at {end} is not in the future"
            )));
        }
        // The pool is queued at or before its first expiry already, unless this cover ends
        // sooner (or is the pool's first).
        if state::next_expiry(ctx, pool.id)?.is_none_or(|first| end < first) {
            state::arm_expiry(ctx, pool.id, end)?;
        }
        pool.accrual.rate = add(pool.accrual.rate, state::tranche_rate(premium, now, end)?)?;
        state::save_tranche(
            ctx,
            &TrancheState {
                pool: pool.id,
                policy: policy_id,
                product: product_id,
                cover,
                premium,
                start: now,
                end,
            },
        )?;
        pool.cash = add(pool.cash, premium)?;
        pool.unearned = add(pool.unearned, premium)?;
        self.book_cover(ctx, pool, product_id, cover, Book::On)
    }

    /// Books `cover` of `product` on or off a pool: its active cover, its exposure to the
    /// product and the product's cover in force across all pools move together.
    fn book_cover(
        &self,
        ctx: &mut Ctx,
        pool: &mut PoolState,
        product: u64,
        cover: u128,
        book: Book,
    ) -> Result<(), Error> {
        if cover == 0 {
            return Ok(());
        }
        let apply = |value: u128, what: &str| match book {
            Book::On => add(value, cover),
            Book::Off => sub(value, cover, what),
        };
        pool.active_cover = apply(pool.active_cover, "active cover")?;
        for (key, what) in [
            (state::exposure_key(pool.id, product), "product exposure"),
            (state::in_force_key(product), "product cover in force"),
        ] {
            let value = state::get_u128(ctx, &key)?;
            state::set_u128(ctx, key, apply(value, what)?)?;
        }
        Ok(())
    }

    /// The cover of `product` in force across all pools.
    pub fn cover_in_force(&self, ctx: &mut Ctx, product: u64) -> Result<u128, Error> {
        state::get_u128(ctx, &state::in_force_key(product))
    }

    /// A paid claim used part of a policy's cover: each pool's tranche shrinks by its part, and
    /// the premium goes on earning over the term for the cover that remains.
    pub fn reduce_cover(
        &self,
        ctx: &mut Ctx,
        parts: &[(u64, u128)],
        policy_id: u64,
        end: i64,
    ) -> Result<(), Error> {
        for &(pool_id, part) in parts {
            let mut pool = self.load(ctx, pool_id)?;
            let Some(mut t) = state::tranche(ctx, pool_id, end, policy_id)? else {
                continue;
            };
            let used = part.min(t.cover);
            t.cover = sub(t.cover, used, "tranche cover")?;
            state::save_tranche(ctx, &t)?;
            self.book_cover(ctx, &mut pool, t.product, used, Book::Off)?;
            self.refresh_selling(ctx, &mut pool)?;
        }
        Ok(())
    }

    /// EndBlock: retires at most [`EXPIRY_BUDGET`] tranches whose term is over, taking at most
    /// as many pools off the queue, each tranche on its own branch. A pool is queued again at its
    /// next expiry, or [`EXPIRY_RETRY_SECS`] later if one of its tranches failed (the others go
    /// on). Returns how many tranches were retired.
    pub fn retire_expired(&self, ctx: &mut Ctx) -> Result<usize, Error> {
        let now = ctx.block.time_unix_secs;
        let mut touched = BTreeSet::new();
        let mut retired = 0usize;
        for _ in 0..EXPIRY_BUDGET {
            if retired >= EXPIRY_BUDGET {
                break;
            }
            let Some(due) = state::EXPIRIES.take_due(ctx, now, 1)?.pop() else {
                break;
            };
            // A malformed item can name no pool: it is dropped.
            let Ok(pool_id) = state::parse_expiry_item(&due.item) else {
                continue;
            };
            let mut failed = false;
            for (end, policy_id) in
                state::due_tranches(ctx, pool_id, now, EXPIRY_BUDGET.saturating_sub(retired))?
            {
                let label = format!("pool {pool_id} expiry of policy {policy_id}");
                match ctx.isolate(label, |c| self.expire(c, pool_id, end, policy_id))? {
                    Ok(()) => retired = retired.saturating_add(1),
                    Err(_) => failed = true,
                }
            }
            touched.insert(pool_id);
            if failed {
                state::arm_expiry(ctx, pool_id, now.saturating_add(EXPIRY_RETRY_SECS))?;
            } else if let Some(next) = state::next_expiry(ctx, pool_id)? {
                state::arm_expiry(ctx, pool_id, next)?;
            }
        }
        // Freed cover can lift a pool back over its requirement. A failure here only leaves
        // the flag to the pool's next load.
        for id in touched {
            let _flag_left_to_next_load =
                ctx.isolate(format!("pool {id} sales check"), |c| self.refresh(c, id))?;
        }
        Ok(retired)
    }

    /// EndBlock: pays the treasury's share of the premiums each pool sold to the fee collector,
    /// for at most [`TREASURY_BUDGET`] pools a block, in turn. Sales only add to what a pool owes
    /// (its state is written anyway), so a purchase moves no coins to the fee collector itself.
    /// A payment that fails leaves the amount owed for the pool's next turn. Returns how many
    /// pools were paid for.
    pub fn pay_treasury(&self, ctx: &mut Ctx) -> Result<usize, Error> {
        let from = state::treasury_cursor(ctx)?;
        let pools = state::pools_from(ctx, from, TREASURY_BUDGET)?;
        let next = match pools.last() {
            Some(last) if pools.len() == TREASURY_BUDGET => last.id.saturating_add(1),
            _ => 1,
        };
        if next != from {
            state::set_treasury_cursor(ctx, next)?;
        }
        let mut paid = 0usize;
        for mut pool in pools.into_iter().filter(|p| p.treasury_due > 0) {
            let label = format!("pool {} treasury payment", pool.id);
            let result = ctx.isolate(label, |c| {
                self.bank.send_from_module(
                    c,
                    POOL_ACCOUNT,
                    &Address::module(FEE_COLLECTOR),
                    &Coins::of(pool.treasury_due, &pool.denom),
                )?;
                pool.treasury_due = 0;
                state::save(c, &pool)
            })?;
            if result.is_ok() {
                paid = paid.saturating_add(1);
            }
        }
        Ok(paid)
    }

    /// Retires the pool's own tranches whose term is over, at most [`EXPIRY_BUDGET`], so that a
    /// sale in the block after an expiry need not wait for EndBlock. The transaction pays.
    pub(crate) fn catch_up(&self, ctx: &mut Ctx, pool_id: u64) -> Result<(), Error> {
        let now = ctx.block.time_unix_secs;
        for _ in 0..EXPIRY_BUDGET {
            match state::next_expiring(ctx, pool_id)? {
                Some((end, policy_id)) if end <= now => {
                    self.expire(ctx, pool_id, end, policy_id)?
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// Retires one tranche at its end (a no-op if a paid claim released it already).
    fn expire(&self, ctx: &mut Ctx, pool_id: u64, end: i64, policy_id: u64) -> Result<(), Error> {
        let Some(t) = state::tranche(ctx, pool_id, end, policy_id)? else {
            return Ok(());
        };
        let mut pool = state::load_raw(ctx, pool_id)?;
        let to = self.accrual_limit(ctx, &pool)?.min(t.end);
        if pool.accrued_to < to {
            self.accrue(&mut pool, to)?;
        }
        self.retire(ctx, &mut pool, &t)?;
        state::save(ctx, &pool)?;
        ctx.emit(
            Event::new("pool_cover_expired")
                .attr("pool_id", pool_id)
                .attr("policy_id", policy_id),
        );
        Ok(())
    }

    /// Each product's exposure: written directly (net of this pool's own treaty) and assumed
    /// from the pools that cede to it.
    pub fn product_exposures(
        &self,
        ctx: &mut Ctx,
        pool: &PoolState,
    ) -> Result<BTreeMap<u64, ProductExposure>, Error> {
        self.exposures_with(ctx, pool, &[], &BTreeMap::new())
    }

    /// Direct cover in force per product of pool `id`, plus the given sales of that pool.
    fn direct(ctx: &mut Ctx, id: u64, sales: &[Sale]) -> Result<BTreeMap<u64, u128>, Error> {
        let mut direct: BTreeMap<u64, u128> = state::exposures(ctx, id)?.into_iter().collect();
        for sale in sales.iter().filter(|s| s.pool == id) {
            let e = direct.entry(sale.product).or_default();
            *e = add(*e, sale.cover)?;
        }
        Ok(direct)
    }

    /// [`Self::product_exposures`] as they would be after `sales`. A reinsurer's capital backs
    /// both its own direct cover and what its cedents pass on, so both land on the same product
    /// line and are counted together: the same capital is never counted against two losses.
    /// Cedents in `loaded` are not read again.
    fn exposures_with(
        &self,
        ctx: &mut Ctx,
        pool: &PoolState,
        sales: &[Sale],
        loaded: &BTreeMap<u64, PoolState>,
    ) -> Result<BTreeMap<u64, ProductExposure>, Error> {
        let mut out: BTreeMap<u64, ProductExposure> = BTreeMap::new();
        for (product, cover) in Self::direct(ctx, pool.id, sales)? {
            let net = match &pool.treaty {
                Some(t) => t.split_exposure(cover)?.retained,
                None => cover,
            };
            let e = out.entry(product).or_default();
            e.gross = add(e.gross, cover)?;
            e.net = add(e.net, net)?;
        }
        for id in state::cedents_of(ctx, pool.id)? {
            // Only the treaty and the direct exposures are read: no accrual needed.
            let treaty = match loaded.get(&id) {
                Some(cedent) => cedent.treaty,
                None => state::load_raw(ctx, id)?.treaty,
            };
            let Some(treaty) = treaty.filter(|t| t.reinsurer == pool.id && id != pool.id) else {
                continue;
            };
            for (product, cover) in Self::direct(ctx, id, sales)? {
                let ceded = treaty.split_exposure(cover)?.ceded()?;
                let e = out.entry(product).or_default();
                e.gross = add(e.gross, ceded)?;
                e.net = add(e.net, ceded)?;
            }
        }
        Ok(out)
    }

    /// What the pool must be able to pay: the sum of its k largest net product exposures.
    pub fn capital_requirement(&self, ctx: &mut Ctx, pool: &PoolState) -> Result<u128, Error> {
        self.requirement_with(ctx, pool, &[], &BTreeMap::new())
    }

    fn requirement_with(
        &self,
        ctx: &mut Ctx,
        pool: &PoolState,
        sales: &[Sale],
        loaded: &BTreeMap<u64, PoolState>,
    ) -> Result<u128, Error> {
        let k = usize::try_from(state::params(ctx)?.capital_incidents).unwrap_or(usize::MAX);
        let mut nets: Vec<u128> = self
            .exposures_with(ctx, pool, sales, loaded)?
            .values()
            .map(|e| e.net)
            .collect();
        nets.sort_unstable_by(|a, b| b.cmp(a));
        nets.into_iter().take(k).try_fold(0u128, add)
    }

    /// Checks that `sales` together (one purchase split across pools) keep every pool they
    /// touch, and every reinsurer of those pools, at or above its capital requirement. Checking
    /// the parts one by one would let a reinsurer that also writes directly count its capital
    /// once for its own part and again for the part ceded to it. Premiums do not change capital
    /// (they enter the unearned reserve), so this is exactly the state after the sales.
    pub fn check_sales(&self, ctx: &mut Ctx, sales: &[Sale]) -> Result<(), Error> {
        let mut loaded = BTreeMap::new();
        for sale in sales {
            let pool = self.load(ctx, sale.pool)?;
            if let Some(t) = pool.treaty {
                loaded.insert(t.reinsurer, self.load(ctx, t.reinsurer)?);
            }
            loaded.insert(pool.id, pool);
        }
        self.check_loaded(ctx, &loaded, sales)
    }

    /// [`Self::check_sales`] on pools already loaded: the sales' pools and their reinsurers.
    pub(crate) fn check_loaded(
        &self,
        ctx: &mut Ctx,
        loaded: &BTreeMap<u64, PoolState>,
        sales: &[Sale],
    ) -> Result<(), Error> {
        let mut ids = BTreeSet::new();
        for sale in sales {
            let pool = loaded
                .get(&sale.pool)
                .ok_or_else(|| sdk::internal(format!("pool {} is not loaded", sale.pool)))?;
            ids.insert(pool.id);
            if let Some(t) = pool.treaty {
                ids.insert(t.reinsurer);
            }
        }
        for id in ids {
            let pool = loaded
                .get(&id)
                .ok_or_else(|| sdk::internal(format!("pool {id} is not loaded")))?;
            let requirement = self.requirement_with(ctx, pool, sales, loaded)?;
            if pool.capital() < requirement {
                let what = sales
                    .iter()
                    .map(|s| format!("{} of product {} from pool {}", s.cover, s.product, s.pool))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(errors::below_capital_requirement(format!(
                    "selling {what} would require {requirement} of pool {id}, which has {}",
                    pool.capital()
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
            return Err(sdk::invalid_coins("deposit must be positive"));
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
            return Err(sdk::invalid_coins(format!(
                "deposit of {amount}{} buys no shares",
                pool.denom
            )));
        }
        let too_large = |what: &str| {
            sdk::invalid_coins(format!("deposit of {amount} overflows the pool's {what}"))
        };
        let cash = pool
            .cash
            .checked_add(amount)
            .ok_or_else(|| too_large("cash"))?;
        let total_shares = pool
            .total_shares
            .checked_add(shares)
            .ok_or_else(|| too_large("shares"))?;
        self.bank
            .send_to_module(ctx, provider, POOL_ACCOUNT, &Coins::of(amount, &pool.denom))?;
        pool.cash = cash;
        pool.total_shares = total_shares;
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
        let total = withdrawing.checked_add(shares).filter(|t| *t <= owned);
        let Some(total) = total.filter(|_| shares > 0) else {
            return Err(errors::insufficient_shares(format!(
                "requested {shares}, of {owned} shares {withdrawing} are already withdrawing"
            )));
        };
        let unlock_time = ctx
            .block
            .time_unix_secs
            .checked_add(state::params(ctx)?.cooldown_secs)
            .ok_or_else(|| sdk::internal("unlock time overflows"))?;
        position.withdrawing_shares = total.to_string();
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
        let left = sub(pool.capital(), amount, "pool capital")?;
        if left < requirement {
            return Err(errors::below_capital_requirement(format!(
                "withdrawing {amount}{} leaves {left} against a requirement of {requirement}",
                pool.denom
            )));
        }
        pool.take_cash(amount)?;
        pool.total_shares = sub(pool.total_shares, shares, "pool shares")?;
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

    /// Ends a policy's cover early (its claim was paid): its premium counts as earned now and its
    /// cover no longer weighs on the pools.
    pub fn release(
        &self,
        ctx: &mut Ctx,
        pool_ids: &[u64],
        policy_id: u64,
        end: i64,
    ) -> Result<(), Error> {
        let mut ids = BTreeSet::new();
        for &id in pool_ids {
            ids.insert(id);
            if let Some(t) = state::load_raw(ctx, id)?.treaty {
                ids.insert(t.reinsurer);
            }
        }
        for id in ids {
            let mut pool = self.load(ctx, id)?;
            if let Some(t) = state::tranche(ctx, id, end, policy_id)? {
                self.retire(ctx, &mut pool, &t)?;
                self.refresh_selling(ctx, &mut pool)?;
            }
        }
        Ok(())
    }

    /// Pays the losses of one incident, and never fails for want of cash.
    ///
    /// Each pool's loss splits by its treaty into what it retains and what it cedes. Every
    /// paying pool — a reinsurer that also writes directly included — then owes the sum of its
    /// retained losses and the losses ceded to it, and pays it from its capital alone: in full,
    /// or, if its capital is short, the same fraction of each (pro rata). So no capital is
    /// counted twice, and the unearned-premium reserve is never touched. Each item is paid its
    /// pool's fraction; what it is not paid is recorded as the incident's shortfall
    /// ([`Self::shortfall`]) and announced in `pool_shortfall` events. Returns what each item
    /// was paid, in order.
    pub fn settle(
        &self,
        ctx: &mut Ctx,
        incident: &str,
        items: &[LossItem],
    ) -> Result<Vec<u128>, Error> {
        // Demand per direct pool.
        let mut demand: BTreeMap<u64, u128> = BTreeMap::new();
        for item in items {
            let d = demand.entry(item.pool_id).or_default();
            *d = add(*d, item.amount)?;
        }
        // Every pool that pays, loaded once: the direct pools and their reinsurers.
        let mut pools: BTreeMap<u64, PoolState> = BTreeMap::new();
        for &id in demand.keys() {
            let pool = self.load(ctx, id)?;
            if let Some(t) = pool.treaty {
                if let std::collections::btree_map::Entry::Vacant(e) = pools.entry(t.reinsurer) {
                    e.insert(self.load(ctx, t.reinsurer)?);
                }
            }
            pools.insert(id, pool);
        }
        // Each direct pool's loss, split: (retained, ceded, reinsurer).
        let mut splits: BTreeMap<u64, (u128, u128, Option<u64>)> = BTreeMap::new();
        // What each paying pool owes in all.
        let mut owed: BTreeMap<u64, u128> = BTreeMap::new();
        for (&id, &amount) in &demand {
            let treaty = pools.get(&id).and_then(|p| p.treaty);
            let (own, ceded, reinsurer) = match treaty {
                Some(t) => {
                    let key = state::incident_loss_key(id, incident);
                    let before = state::get_u128(ctx, &key)?;
                    let split = t.split_loss(before, amount)?;
                    let after_quota = sub(amount, split.quota_share, "loss after quota share")?;
                    state::set_u128(ctx, key, add(before, after_quota)?)?;
                    (split.retained, split.ceded()?, Some(t.reinsurer))
                }
                None => (amount, 0, None),
            };
            let o = owed.entry(id).or_default();
            *o = add(*o, own)?;
            if let Some(r) = reinsurer {
                let o = owed.entry(r).or_default();
                *o = add(*o, ceded)?;
            }
            splits.insert(id, (own, ceded, reinsurer));
        }
        // The fraction each paying pool can meet: min(owed, capital) / owed.
        let mut can: BTreeMap<u64, (u128, u128)> = BTreeMap::new();
        for (&id, &o) in &owed {
            let capital = pools.get(&id).map_or(0, PoolState::capital);
            can.insert(id, (o.min(capital), o));
        }
        let fraction_of = |id: u64, amount: u128| -> Result<u128, Error> {
            match can.get(&id) {
                Some(&(paid, owed)) if paid < owed => mul_div(amount, paid, owed, Round::Down),
                Some(_) => Ok(amount),
                None => Err(sdk::internal(format!("pool {id} missing from settlement"))),
            }
        };
        // What each direct pool's items can be paid: its own part and its reinsurer's.
        let mut available: BTreeMap<u64, (u128, u128)> = BTreeMap::new();
        for (&id, &(own, ceded, reinsurer)) in &splits {
            let own_paid = fraction_of(id, own)?;
            let ceded_paid = match reinsurer {
                Some(r) => fraction_of(r, ceded)?,
                None => 0,
            };
            available.insert(id, (own_paid, ceded_paid));
        }
        // Pay each item its pool's fraction; take exactly what was paid from the pools.
        let mut paid = Vec::with_capacity(items.len());
        let mut paid_per_pool: BTreeMap<u64, u128> = BTreeMap::new();
        for item in items {
            let (own_paid, ceded_paid) = available.get(&item.pool_id).copied().unwrap_or_default();
            let total = add(own_paid, ceded_paid)?;
            let asked = demand.get(&item.pool_id).copied().unwrap_or_default();
            let amount = if total >= asked {
                item.amount
            } else {
                mul_div(item.amount, total, asked, Round::Down)?
            };
            let t = paid_per_pool.entry(item.pool_id).or_default();
            *t = add(*t, amount)?;
            paid.push(amount);
        }
        let mut shortfall = 0u128;
        for (&id, &total) in &paid_per_pool {
            let (own_paid, ceded_paid) = available.get(&id).copied().unwrap_or_default();
            let both = add(own_paid, ceded_paid)?;
            // The reinsurer's part rounds down, the pool's up: neither exceeds what it can pay.
            let from_reinsurer = if both == 0 {
                0
            } else {
                mul_div(ceded_paid, total, both, Round::Down)?
            };
            let from_pool = sub(total, from_reinsurer, "loss paid by the pool")?;
            take(&mut pools, id, from_pool)?;
            state::add_incident_paid(ctx, incident, id, from_pool)?;
            let reinsurer = splits.get(&id).and_then(|s| s.2);
            if let Some(r) = reinsurer {
                take(&mut pools, r, from_reinsurer)?;
                state::add_incident_paid(ctx, incident, r, from_reinsurer)?;
            }
            let asked = demand.get(&id).copied().unwrap_or_default();
            let short = sub(asked, total, "shortfall")?;
            shortfall = add(shortfall, short)?;
            let mut event = Event::new("pool_loss")
                .attr("pool_id", id)
                .attr("incident", incident)
                .attr("paid_by_pool", from_pool)
                .attr("paid_by_reinsurer", from_reinsurer)
                .attr("asked", asked);
            if let Some(r) = reinsurer {
                event = event.attr("reinsurer_pool_id", r);
            }
            ctx.emit(event);
            if short > 0 {
                ctx.emit(
                    Event::new("pool_shortfall")
                        .attr("pool_id", id)
                        .attr("incident", incident)
                        .attr("asked", asked)
                        .attr("paid", total)
                        .attr("shortfall", short),
                );
            }
        }
        for pool in pools.values() {
            state::save(ctx, pool)?;
        }
        if shortfall > 0 {
            let key = state::shortfall_key(incident);
            let before = state::get_u128(ctx, &key)?;
            state::set_u128(ctx, key, add(before, shortfall)?)?;
        }
        for (item, &amount) in items.iter().zip(&paid) {
            if amount == 0 {
                continue;
            }
            let denom = pools
                .get(&item.pool_id)
                .map(|p| p.denom.clone())
                .ok_or_else(|| sdk::internal("paid pool not loaded"))?;
            self.bank.send_from_module(
                ctx,
                POOL_ACCOUNT,
                &item.recipient,
                &Coins::of(amount, &denom),
            )?;
        }
        for id in pools.keys().copied().collect::<Vec<_>>() {
            self.refresh(ctx, id)?;
        }
        Ok(paid)
    }

    /// Funds recovered after `incident` (stolen funds returned, a settlement) flow back to the
    /// pools that paid its claims, direct and reinsurers alike, pro rata to what each paid from
    /// its capital, so their providers' shares are worth more. At most what they paid comes
    /// back in all; `from` keeps the rest. Claimants keep what they were paid. Returns what was
    /// taken and shared out.
    pub fn recover(
        &self,
        ctx: &mut Ctx,
        incident: &str,
        from: &Address,
        offered: &Coin,
    ) -> Result<u128, Error> {
        let mut payers = Vec::new();
        for (pool_id, paid) in state::incident_payers(ctx, incident)? {
            let pool = self.load(ctx, pool_id)?;
            if pool.denom == offered.denom {
                payers.push((pool, paid));
            }
        }
        let paid = payers.iter().try_fold(0u128, |a, (_, p)| add(a, *p))?;
        let recovered_key = state::recovered_key(incident);
        let recovered = state::get_u128(ctx, &recovered_key)?;
        let amount = offered.amount.min(paid.saturating_sub(recovered));
        if amount == 0 {
            return Err(errors::nothing_to_recover(format!(
                "the pools paid {paid}{} for {incident:?} and have had {recovered} back",
                offered.denom
            )));
        }
        self.bank
            .send_to_module(ctx, from, POOL_ACCOUNT, &Coins::of(amount, &offered.denom))?;
        let mut shared = 0u128;
        let last = payers.len().saturating_sub(1);
        for (i, (mut pool, part_paid)) in payers.into_iter().enumerate() {
            // The last payer takes the rounding remainder, so every coin lands in a pool.
            let share = if i == last {
                sub(amount, shared, "recovery left")?
            } else {
                mul_div(amount, part_paid, paid, Round::Down)?
            };
            shared = add(shared, share)?;
            pool.cash = add(pool.cash, share)?;
            self.refresh_selling(ctx, &mut pool)?;
            ctx.emit(
                Event::new("pool_recovery")
                    .attr("pool_id", pool.id)
                    .attr("incident", incident)
                    .attr("amount", format!("{share}{}", offered.denom)),
            );
        }
        state::set_u128(ctx, recovered_key, add(recovered, amount)?)?;
        Ok(amount)
    }

    /// What the pools paid from their capital for `incident`, and what came back since.
    pub fn incident_account(&self, ctx: &mut Ctx, incident: &str) -> Result<(u128, u128), Error> {
        let paid = state::incident_payers(ctx, incident)?
            .into_iter()
            .try_fold(0u128, |a, (_, p)| add(a, p))?;
        Ok((paid, state::get_u128(ctx, &state::recovered_key(incident))?))
    }

    /// What the pools could not pay of the losses settled for `incident` so far (zero when
    /// every loss was paid in full).
    pub fn shortfall(&self, ctx: &mut Ctx, incident: &str) -> Result<u128, Error> {
        state::get_u128(ctx, &state::shortfall_key(incident))
    }

    /// Creates a pool (governance, or genesis): it starts empty and selling. Its reinsurer, if
    /// any, is checked by [`Self::check_treaty`] (genesis checks once every pool exists).
    pub fn create_pool(&self, ctx: &mut Ctx, mut pool: PoolState) -> Result<u64, Error> {
        crate::msgs::check_pool(&pool.to_proto()).map_err(|e| errors::invalid_pool(e.log))?;
        pool.id = ctx.next_id(STORE, state::NEXT_POOL_ID)?;
        pool.total_shares = 0;
        pool.cash = 0;
        pool.unearned = 0;
        pool.active_cover = 0;
        pool.selling = true;
        pool.accrued_to = ctx.block.time_unix_secs;
        pool.accrual = Accrual::default();
        pool.treasury_due = 0;
        if pool.treaty.is_some_and(|t| t.reinsurer == pool.id) {
            return Err(errors::invalid_pool("a pool cannot reinsure itself"));
        }
        surety_auth::Auth.ensure_module_account(ctx, POOL_ACCOUNT)?;
        state::save(ctx, &pool)?;
        state::index_pool(ctx, &pool)?;
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
        let mut out = Vec::new();
        for id in state::pools_of_product(ctx, product)? {
            let pool = self.load(ctx, id)?;
            if pool.denom == denom {
                out.push(pool);
            }
        }
        Ok(out)
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

    /// The premium a tranche has earned by its pool's accrual time, rounded down (for export
    /// and queries; the pool itself earns in aggregate).
    pub fn tranche_earned(pool: &PoolState, t: &TrancheState) -> Result<u128, Error> {
        let premium = t.premium;
        let rate = state::tranche_rate(premium, t.start, t.end)?;
        let elapsed = seconds_between(t.start, pool.accrued_to.max(t.start))?;
        let earned =
            Wide::product(&[rate, elapsed])?.div(Wide::product(&[RATE_SCALE])?, Round::Down)?;
        Ok(earned.min(premium))
    }

    /// The aggregate accrual of a pool (for invariant checks).
    pub fn accrual(&self, ctx: &mut Ctx, id: u64) -> Result<Accrual, Error> {
        Ok(state::load_raw(ctx, id)?.accrual)
    }
}

/// Takes `amount` of a loaded pool's cash.
fn take(pools: &mut BTreeMap<u64, PoolState>, id: u64, amount: u128) -> Result<(), Error> {
    pools
        .get_mut(&id)
        .ok_or_else(|| sdk::internal(format!("pool {id} missing from settlement")))?
        .take_cash(amount)
}

pub fn parse(s: &str) -> Result<u128, Error> {
    surety_framework::math::parse_amount(s, "amount")
}
