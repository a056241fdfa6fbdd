//! The policy keeper: products, quotes, purchases and transfers.

use crate::errors;
use crate::pricing::Curve;
use crate::state::{self, STORE};
use surety_framework::math::{add, mul_div, parse_amount, sub, Round, BPS};
use surety_framework::{sdk, Address, Coins, Ctx, Dec, Error, Event};
use surety_pool::{CheckedSales, Sale, POOL_ACCOUNT};
use surety_proto::surety::policy::v1::{Allocation, Policy, Product};

const SECONDS_PER_DAY: i64 = 86_400;

/// An optional cap: empty or zero means none.
fn cap_of(s: &str) -> Result<Option<u128>, Error> {
    if s.is_empty() {
        return Ok(None);
    }
    Ok(Some(parse_amount(s, "max_cover_in_force")?).filter(|c| *c > 0))
}

/// Cover a policy's paid claims have used.
pub fn claimed_cover(policy: &Policy) -> Result<u128, Error> {
    if policy.claimed_cover.is_empty() {
        return Ok(0);
    }
    parse_amount(&policy.claimed_cover, "claimed_cover")
}

/// Cover a policy still has for new claims.
pub fn remaining_cover(policy: &Policy) -> Result<u128, Error> {
    let cover = parse_amount(&policy.cover, "cover")?;
    Ok(cover.saturating_sub(claimed_cover(policy)?))
}

/// A priced purchase: how it fills across pools and what it costs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quote {
    pub premium: u128,
    /// (pool id, cover, premium), ascending by pool.
    pub allocations: Vec<(u64, u128, u128)>,
    pub annual_rate_bps: u32,
    /// The product's capacity now: its cover in force plus the room its pools have, within
    /// its cap on cover in force.
    pub capacity: u128,
    pub in_force: u128,
    /// The most one policy may take now (the per-policy share of the capacity).
    pub max_policy_cover: u128,
}

/// A product's capacity limits at the current state.
struct Limits {
    /// Cover that may still be sold.
    room: u128,
    capacity: u128,
    in_force: u128,
    max_policy_cover: u128,
}

/// What a buyer asks for.
#[derive(Clone, Debug)]
pub struct Order {
    pub product_id: u64,
    pub cover: u128,
    pub days: u32,
    /// The most the buyer will pay: the purchase fails if the premium moved above it.
    pub max_premium: u128,
    /// Liquidity cover: the trigger feed's price now, frozen on the policy.
    pub entry_price: Option<Dec>,
    /// Slashing cover: the validator insured.
    pub validator: Option<Address>,
}

#[derive(Clone, Copy, Default)]
pub struct Keeper {
    pub pool: surety_pool::Keeper,
}

impl Keeper {
    /// Checks a product's terms, with messages a proposer can act on.
    pub fn validate_product(&self, p: &Product) -> Result<(), Error> {
        crate::msgs::check_product(p)
    }

    pub fn create_product(&self, ctx: &mut Ctx, mut product: Product) -> Result<u64, Error> {
        product.id = ctx.next_id(STORE, state::NEXT_PRODUCT_ID)?;
        self.validate_product(&product)?;
        state::save_product(ctx, &product)?;
        ctx.emit(Event::new("product_listed").attr("product_id", product.id));
        Ok(product.id)
    }

    /// Replaces a product's terms; policies already sold keep theirs. Whether it is paused is
    /// not a term: only `MsgSetProductPaused` changes it, so a repricing written before a pause
    /// cannot lift it.
    pub fn update_product(&self, ctx: &mut Ctx, mut product: Product) -> Result<(), Error> {
        product.paused = state::product(ctx, product.id)?.paused;
        self.validate_product(&product)?;
        state::save_product(ctx, &product)?;
        ctx.emit(Event::new("product_updated").attr("product_id", product.id));
        Ok(())
    }

    pub fn set_paused(&self, ctx: &mut Ctx, id: u64, paused: bool) -> Result<(), Error> {
        let mut product = state::product(ctx, id)?;
        product.paused = paused;
        state::save_product(ctx, &product)?;
        ctx.emit(
            Event::new("product_paused")
                .attr("product_id", id)
                .attr("paused", paused),
        );
        Ok(())
    }

    /// Prices `cover` of a product for `days` at the current state: fills the pools that
    /// underwrite it in proportion to the room each has, and charges each pool's part at the
    /// rate its utilisation rises through.
    pub fn quote(
        &self,
        ctx: &mut Ctx,
        product_id: u64,
        cover: u128,
        days: u32,
    ) -> Result<Quote, Error> {
        let product = state::product(ctx, product_id)?;
        Ok(self.price(ctx, &product, cover, days)?.0)
    }

    /// [`Self::quote`], with the sales it prices checked and ready to write.
    fn price(
        &self,
        ctx: &mut Ctx,
        product: &Product,
        cover: u128,
        days: u32,
    ) -> Result<(Quote, CheckedSales), Error> {
        let product_id = product.id;
        if product.paused {
            return Err(errors::product_paused(format!("product {product_id}")));
        }
        if days < product.min_term_days || days > product.max_term_days {
            return Err(errors::invalid_term(format!(
                "{days} days; product {product_id} allows {} to {}",
                product.min_term_days, product.max_term_days
            )));
        }
        let max_cover = parse_amount(&product.max_cover, "max_cover")?;
        if cover == 0 || cover > max_cover {
            return Err(errors::invalid_cover(format!(
                "{cover}{}; product {product_id} allows 1 to {max_cover}",
                product.denom
            )));
        }
        let desk = self.pool.open_desk(ctx, product_id, &product.denom)?;
        let mut rooms = Vec::new();
        for pool in desk.writers() {
            let room = self.pool.room(ctx, pool, product_id)?;
            if room > 0 {
                rooms.push((pool.id, room));
            }
        }
        let pools_room = rooms.iter().try_fold(0u128, |acc, (_, r)| add(acc, *r))?;
        let limits = self.limits(ctx, product, pools_room)?;
        if limits.room < cover {
            return Err(errors::insufficient_capacity(format!(
                "{}{} of product {product_id} available, {cover} asked",
                limits.room, product.denom
            )));
        }
        if cover > limits.max_policy_cover {
            return Err(errors::policy_too_large(format!(
                "{cover}{d} asked; one policy may take at most {} bps of product {product_id}'s \
                 capacity of {}{d}, {}{d}",
                product.max_policy_share_bps,
                limits.capacity,
                limits.max_policy_cover,
                d = product.denom
            )));
        }
        let total_room = pools_room;
        let mut parts: Vec<u128> = rooms
            .iter()
            .map(|(_, room)| mul_div(cover, *room, total_room, Round::Down))
            .collect::<Result<_, _>>()?;
        // Rounding leaves less than one unit per pool: give it to the first pools with room.
        let mut left = sub(
            cover,
            parts.iter().try_fold(0u128, |a, p| add(a, *p))?,
            "cover",
        )?;
        for (part, (_, room)) in parts.iter_mut().zip(&rooms) {
            let extra = left.min(room.saturating_sub(*part));
            *part = add(*part, extra)?;
            left = sub(left, extra, "cover left")?;
        }
        // The parts are one sale: checked together, so that a reinsurer that also writes
        // directly cannot count its capital once for each part.
        let sales: Vec<Sale> = rooms
            .iter()
            .zip(&parts)
            .filter(|(_, part)| **part > 0)
            .map(|(&(pool, _), &part)| Sale {
                pool,
                product: product_id,
                cover: part,
            })
            .collect();
        let checked = self.pool.check(ctx, desk, sales)?;
        let params = state::params(ctx)?;
        let curve = Curve {
            base_bps: product.annual_base_rate_bps,
            slope1_bps: params.slope1_bps,
            slope2_bps: params.slope2_bps,
            kink_bps: params.kink_bps,
        };
        let mut quote = Quote {
            capacity: limits.capacity,
            in_force: limits.in_force,
            max_policy_cover: limits.max_policy_cover,
            ..Quote::default()
        };
        for sale in checked.sales() {
            let pool = checked
                .desk()
                .pool(sale.pool)
                .ok_or_else(|| sdk::internal(format!("pool {} left the desk", sale.pool)))?;
            let premium = curve.premium(pool.capacity()?, pool.active_cover, sale.cover, days)?;
            quote.premium = add(quote.premium, premium)?;
            quote.allocations.push((pool.id, sale.cover, premium));
        }
        let per_year = mul_div(quote.premium, 365 * 10_000, cover, Round::Up)?;
        let rate = mul_div(per_year, 1, u128::from(days), Round::Up)?;
        quote.annual_rate_bps = u32::try_from(rate).unwrap_or(u32::MAX);
        Ok((quote, checked))
    }

    /// The product's caps applied to the room its pools have: cover in force across pools at
    /// most `max_cover_in_force`, one policy at most `max_policy_share_bps` of the capacity.
    fn limits(&self, ctx: &mut Ctx, product: &Product, pools_room: u128) -> Result<Limits, Error> {
        let in_force = self.pool.cover_in_force(ctx, product.id)?;
        let mut capacity = add(in_force, pools_room)?;
        if let Some(cap) = cap_of(&product.max_cover_in_force)? {
            capacity = capacity.min(cap);
        }
        let room = pools_room.min(capacity.saturating_sub(in_force));
        let max_policy_cover = match product.max_policy_share_bps {
            0 => room,
            share => mul_div(capacity, u128::from(share), BPS, Round::Down)?.min(room),
        };
        Ok(Limits {
            room,
            capacity,
            in_force,
            max_policy_cover,
        })
    }

    /// Sells cover: charges the quoted premium (at most `max_premium`), writes the cover into
    /// the pools and issues the policy certificate, naming the version of the product's terms
    /// it was sold on.
    pub fn buy(&self, ctx: &mut Ctx, buyer: &Address, order: Order) -> Result<(u64, u128), Error> {
        let Order {
            product_id,
            cover,
            days,
            max_premium,
            entry_price,
            validator,
        } = order;
        let product = state::product(ctx, product_id)?;
        let (quote, checked) = self.price(ctx, &product, cover, days)?;
        if quote.premium > max_premium {
            return Err(errors::premium_exceeds_max(format!(
                "premium {} > max_premium {max_premium}",
                quote.premium
            )));
        }
        self.pool.bank.send_to_module(
            ctx,
            buyer,
            POOL_ACCOUNT,
            &Coins::of(quote.premium, &product.denom),
        )?;
        let id = ctx.next_id(STORE, state::NEXT_POLICY_ID)?;
        let start = ctx.block.time_unix_secs;
        let end = SECONDS_PER_DAY
            .checked_mul(i64::from(days))
            .and_then(|term| start.checked_add(term))
            .ok_or_else(|| sdk::invalid_request(format!("a {days}-day term overflows time")))?;
        let premiums: Vec<u128> = quote.allocations.iter().map(|a| a.2).collect();
        self.pool.write(ctx, checked, id, &premiums, end)?;
        let policy = Policy {
            id,
            owner: buyer.to_string(),
            product_id,
            cover: cover.to_string(),
            denom: product.denom.clone(),
            start,
            end,
            entry_price: entry_price.map(|p| p.to_string()).unwrap_or_default(),
            premium: quote.premium.to_string(),
            allocations: quote
                .allocations
                .iter()
                .map(|&(pool_id, cover, premium)| Allocation {
                    pool_id,
                    cover: cover.to_string(),
                    premium: premium.to_string(),
                })
                .collect(),
            terms_hash: state::terms_hash(&product),
            terms: Some(product),
            claimed: false,
            claimed_cover: String::new(),
            validator: validator
                .map(|v| v.to_bech32_with(surety_framework::VALIDATOR_PREFIX))
                .unwrap_or_default(),
        };
        state::save_policy(ctx, &policy)?;
        ctx.put(STORE, state::owner_key(buyer, id), Vec::new())?;
        ctx.put(STORE, state::product_policy_key(product_id, id), Vec::new())?;
        ctx.emit(
            Event::new("cover_bought")
                .attr("policy_id", id)
                .attr("owner", buyer)
                .attr("product_id", product_id)
                .attr("cover", format!("{cover}{}", policy.denom))
                .attr("premium", format!("{}{}", quote.premium, policy.denom))
                .attr("end", end),
        );
        Ok((id, quote.premium))
    }

    pub fn transfer(
        &self,
        ctx: &mut Ctx,
        owner: &Address,
        policy_id: u64,
        recipient: &Address,
    ) -> Result<(), Error> {
        let mut policy = state::policy(ctx, policy_id)?;
        if policy.owner != owner.to_string() {
            return Err(errors::not_owner(format!(
                "policy {policy_id} belongs to {}",
                policy.owner
            )));
        }
        if recipient == owner {
            return Err(surety_framework::sdk::invalid_address(
                "cannot transfer a policy to its owner",
            ));
        }
        ctx.delete(STORE, state::owner_key(owner, policy_id))?;
        ctx.put(STORE, state::owner_key(recipient, policy_id), Vec::new())?;
        policy.owner = recipient.to_string();
        state::save_policy(ctx, &policy)?;
        ctx.emit(
            Event::new("policy_transferred")
                .attr("policy_id", policy_id)
                .attr("from", owner)
                .attr("to", recipient),
        );
        Ok(())
    }

    pub fn policy(&self, ctx: &mut Ctx, id: u64) -> Result<Policy, Error> {
        state::policy(ctx, id)
    }

    /// A paid claim used `used` of a policy's cover (at most what remains): the pools' tranches
    /// shrink by their shares of it, and once nothing remains the policy is spent and its pools
    /// release it at once.
    pub fn use_cover(&self, ctx: &mut Ctx, id: u64, used: u128) -> Result<(), Error> {
        let mut policy = state::policy(ctx, id)?;
        let cover = parse_amount(&policy.cover, "cover")?;
        let before = claimed_cover(&policy)?;
        let after = add(before, used)?.min(cover);
        policy.claimed_cover = after.to_string();
        policy.claimed = after == cover;
        state::save_policy(ctx, &policy)?;
        if policy.claimed {
            let pools: Vec<u64> = policy.allocations.iter().map(|a| a.pool_id).collect();
            return self.pool.release(ctx, &pools, id, policy.end);
        }
        // Each pool's part follows the cumulative split, so rounding never drains one pool's
        // tranche faster than its share.
        let mut parts = Vec::new();
        for a in &policy.allocations {
            let share = parse_amount(&a.cover, "allocation")?;
            let part = sub(
                mul_div(after, share, cover, Round::Down)?,
                mul_div(before, share, cover, Round::Down)?,
                "cover used",
            )?;
            parts.push((a.pool_id, part));
        }
        self.pool.reduce_cover(ctx, &parts, id, policy.end)
    }

    /// Policies of a product that are in force now, ascending by id.
    pub fn active_policies(&self, ctx: &mut Ctx, product_id: u64) -> Result<Vec<Policy>, Error> {
        let now = ctx.block.time_unix_secs;
        let mut out = Vec::new();
        for id in state::ids_under(ctx, &state::product_policies_prefix(product_id))? {
            let p = state::policy(ctx, id)?;
            if !p.claimed && p.start <= now && now < p.end {
                out.push(p);
            }
        }
        Ok(out)
    }
}

impl surety_framework::oracle::ProtocolRegistry for Keeper {
    fn is_listed(&self, ctx: &mut Ctx, protocol: &str) -> Result<bool, Error> {
        Ok(state::products(ctx)?.iter().any(|p| p.protocol == protocol))
    }
}
