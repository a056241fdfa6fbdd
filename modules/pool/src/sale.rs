//! One purchase's pools: opened (brought up to date and loaded once), checked, and written
//! (each pool saved once). A sale used to reload each pool in every check it passed through,
//! and a purchase paid for each of those reads.

use crate::errors;
use crate::keeper::{Keeper, Sale};
use crate::reinsurance::PremiumSplit;
use crate::state::{self, PoolState};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use surety_framework::math::{add, apply_bps, sub, Round};
use surety_framework::{sdk, Ctx, Error};

/// The pools a purchase of one product draws on: the pools that write it in its denom, and
/// their reinsurers, each caught up with its expired cover and accrued to the block time.
/// Nothing else may write these pools while a desk holds them: [`Keeper::write`] saves the
/// states the desk loaded.
#[derive(Debug)]
pub struct Desk {
    product: u64,
    /// Writers of the product, ascending by id.
    writers: Vec<u64>,
    pools: BTreeMap<u64, PoolState>,
}

impl Desk {
    pub fn product(&self) -> u64 {
        self.product
    }

    /// The pools that write the product, ascending by id.
    pub fn writers(&self) -> impl Iterator<Item = &PoolState> {
        self.writers.iter().filter_map(|id| self.pools.get(id))
    }

    pub fn pool(&self, id: u64) -> Option<&PoolState> {
        self.pools.get(&id)
    }
}

/// Sales on a desk that passed every check (each pool selling, within its room, and every pool
/// and reinsurer touched above its capital requirement after all of them): the only thing
/// [`Keeper::write`] takes.
#[derive(Debug)]
pub struct CheckedSales {
    desk: Desk,
    sales: Vec<Sale>,
}

impl CheckedSales {
    pub fn desk(&self) -> &Desk {
        &self.desk
    }

    pub fn sales(&self) -> &[Sale] {
        &self.sales
    }
}

impl Keeper {
    /// Opens a desk on the pools that write `product` in `denom`.
    pub fn open_desk(&self, ctx: &mut Ctx, product: u64, denom: &str) -> Result<Desk, Error> {
        let ids = state::pools_of_product(ctx, product)?;
        self.desk_of(ctx, product, ids, denom)
    }

    /// A desk on the given pools (those in `denom`) and their reinsurers.
    pub(crate) fn desk_of(
        &self,
        ctx: &mut Ctx,
        product: u64,
        ids: Vec<u64>,
        denom: &str,
    ) -> Result<Desk, Error> {
        let mut desk = Desk {
            product,
            writers: Vec::new(),
            pools: BTreeMap::new(),
        };
        for id in ids {
            let pool = self.open(ctx, &mut desk.pools, id)?;
            if pool.denom != denom {
                continue;
            }
            desk.writers.push(id);
            if let Some(t) = pool.treaty {
                self.open(ctx, &mut desk.pools, t.reinsurer)?;
            }
        }
        Ok(desk)
    }

    /// A pool caught up and loaded, once per desk.
    fn open<'a>(
        &self,
        ctx: &mut Ctx,
        pools: &'a mut BTreeMap<u64, PoolState>,
        id: u64,
    ) -> Result<&'a PoolState, Error> {
        Ok(match pools.entry(id) {
            Entry::Occupied(on_desk) => on_desk.into_mut(),
            Entry::Vacant(slot) => {
                self.catch_up(ctx, id)?;
                slot.insert(self.load(ctx, id)?)
            }
        })
    }

    /// Checks `sales` of the desk's product together: each from a writer that is selling, within
    /// its room, and every pool they touch and every reinsurer of those above its capital
    /// requirement afterwards.
    pub fn check(
        &self,
        ctx: &mut Ctx,
        desk: Desk,
        sales: Vec<Sale>,
    ) -> Result<CheckedSales, Error> {
        let mut seen = BTreeSet::new();
        for sale in &sales {
            if sale.product != desk.product
                || !desk.writers.contains(&sale.pool)
                || !seen.insert(sale.pool)
            {
                return Err(sdk::internal(format!(
                    "sale of product {} from pool {} is not one of the desk's (product {})",
                    sale.product, sale.pool, desk.product
                )));
            }
            let pool = desk
                .pool(sale.pool)
                .ok_or_else(|| sdk::internal(format!("pool {} left the desk", sale.pool)))?;
            if !pool.selling {
                return Err(errors::not_selling(format!("pool {}", sale.pool)));
            }
            let room = self.room(ctx, pool, sale.product)?;
            if sale.cover > room {
                return Err(errors::insufficient_capacity(format!(
                    "pool {} can take {room} more cover of product {}, not {}",
                    sale.pool, sale.product, sale.cover
                )));
            }
        }
        self.check_loaded(ctx, &desk.pools, &sales)?;
        Ok(CheckedSales { desk, sales })
    }

    /// Writes checked sales of policy `policy_id`, whose premiums (one per sale) the pool account
    /// has already received: the treasury's share is owed to it until the end of the block, each
    /// reinsurer takes its ceded part, and the rest is earned over the term. A pool's parts of
    /// the policy (as writer and as reinsurer) are summed into its one tranche, so no tranche is
    /// read back to be merged; each pool is saved once.
    pub fn write(
        &self,
        ctx: &mut Ctx,
        checked: CheckedSales,
        policy_id: u64,
        premiums: &[u128],
        end: i64,
    ) -> Result<(), Error> {
        let CheckedSales { desk, sales } = checked;
        let Desk {
            mut pools, product, ..
        } = desk;
        if premiums.len() != sales.len() {
            return Err(sdk::internal(format!(
                "{} premiums for {} sales",
                premiums.len(),
                sales.len()
            )));
        }
        let treasury_bps = state::params(ctx)?.treasury_bps;
        // Each pool's (cover, premium) of the policy.
        let mut shares: BTreeMap<u64, (u128, u128)> = BTreeMap::new();
        let mut take = |pool: u64, cover: u128, premium: u128| -> Result<(), Error> {
            let share = shares.entry(pool).or_default();
            *share = (add(share.0, cover)?, add(share.1, premium)?);
            Ok(())
        };
        for (sale, &premium) in sales.iter().zip(premiums) {
            if sale.product != product {
                return Err(sdk::internal(format!(
                    "a sale of product {} on the desk of product {product}",
                    sale.product
                )));
            }
            let pool = on_desk(&mut pools, sale.pool)?;
            // Paid at the end of the block (`Keeper::pay_treasury`); the pool account holds it.
            let treasury = apply_bps(premium, treasury_bps, Round::Down)?;
            pool.treasury_due = add(pool.treasury_due, treasury)?;
            let after_treasury = sub(premium, treasury, "premium after treasury")?;
            let split = match &pool.treaty {
                Some(t) => t.split_premium(after_treasury)?,
                None => PremiumSplit {
                    retained: after_treasury,
                    ceded: 0,
                },
            };
            take(pool.id, sale.cover, split.retained)?;
            if let Some(treaty) = pool.treaty.filter(|_| split.ceded > 0) {
                take(treaty.reinsurer, 0, split.ceded)?;
            }
        }
        for (id, (cover, premium)) in shares {
            let pool = on_desk(&mut pools, id)?;
            self.add_tranche(ctx, pool, policy_id, product, cover, premium, end)?;
            state::save(ctx, pool)?;
        }
        Ok(())
    }
}

fn on_desk(pools: &mut BTreeMap<u64, PoolState>, id: u64) -> Result<&mut PoolState, Error> {
    pools
        .get_mut(&id)
        .ok_or_else(|| sdk::internal(format!("pool {id} is not on the desk")))
}
