//! The pool store's layout and its typed records.

use crate::reinsurance::Treaty;
use prost::Message;
use surety_framework::math::{apply_bps, mul_div, parse_amount, sub, Round};
use surety_framework::{packed, sdk, Ctx, DeadlineQueue, Error};
use surety_proto::surety::pool::v1::{Params, Pool, Position, Reinsurance, Tranche};

pub const STORE: &str = "pool";

const PARAMS: &[u8] = &[0x00];
const POOLS: u8 = 0x01;
pub const NEXT_POOL_ID: &[u8] = &[0x02];
const TRANCHES: u8 = 0x03;
const EXPOSURES: u8 = 0x04;
const POSITIONS: u8 = 0x05;
const INCIDENT_LOSSES: u8 = 0x06;
const EXPIRY_QUEUE: u8 = 0x07;
// 0x08 held each pool's expiry index; tranches keyed by their end are that index now.
// 0x09 held each pool's accrual; it is part of the pool's record now (one write per sale, not two).
const SHORTFALLS: u8 = 0x0A;
/// `[tag][product] → u128`: the product's cover in force across all pools, for its cap.
const IN_FORCE: u8 = 0x0B;
/// `[tag][incident len][incident][pool] → u128`: what each pool paid for an incident from its
/// capital, so that a recovery flows back to the payers.
const INCIDENT_PAID: u8 = 0x0C;
/// `[tag][incident] → u128`: what was recovered for an incident so far.
const RECOVERED: u8 = 0x0D;
/// `[tag][product][pool] → ()`: the pools that underwrite a product, so that a quote reads
/// those pools and not every pool there is. A pool's products are fixed when it is created.
const PRODUCT_POOLS: u8 = 0x0E;
/// `[tag][reinsurer][cedent] → ()`: the pools that cede to a reinsurer (fixed at creation too),
/// whose exposures weigh on its capital requirement.
const CEDENTS: u8 = 0x0F;
/// `→ u64`: the pool EndBlock pays the treasury from next, while there are more pools than it
/// pays in one block.
const TREASURY_CURSOR: &[u8] = &[0x10];
/// Most pools one incident's recovery is shared between (pools are created by governance).
pub const MAX_PAYERS: usize = 256;

/// Tranches by end time, `[pool][end][policy]` each: EndBlock retires them a budget per block.
pub const EXPIRIES: DeadlineQueue = DeadlineQueue::new(STORE, EXPIRY_QUEUE);

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![tag];
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub fn pool_key(id: u64) -> Vec<u8> {
    key(POOLS, &[&id.to_be_bytes()])
}
pub fn pools_prefix() -> Vec<u8> {
    vec![POOLS]
}
/// `[tag][pool][end][policy]`: a pool's tranches in the order they end, so that the pool's
/// first tranche is its next expiry and no separate index is written for it.
/// Records a new pool in the product and reinsurance indexes.
pub fn index_pool(ctx: &mut Ctx, pool: &PoolState) -> Result<(), Error> {
    let id = pool.id.to_be_bytes();
    for (product, _) in &pool.products {
        ctx.put(
            STORE,
            key(PRODUCT_POOLS, &[&product.to_be_bytes(), &id]),
            Vec::new(),
        )?;
    }
    if let Some(t) = &pool.treaty {
        ctx.put(
            STORE,
            key(CEDENTS, &[&t.reinsurer.to_be_bytes(), &id]),
            Vec::new(),
        )?;
    }
    Ok(())
}
/// The ids of the pools that underwrite `product`, ascending.
pub fn pools_of_product(ctx: &mut Ctx, product: u64) -> Result<Vec<u64>, Error> {
    ids_under(ctx, &key(PRODUCT_POOLS, &[&product.to_be_bytes()]))
}
/// The ids of the pools that cede to `reinsurer`, ascending.
pub fn cedents_of(ctx: &mut Ctx, reinsurer: u64) -> Result<Vec<u64>, Error> {
    ids_under(ctx, &key(CEDENTS, &[&reinsurer.to_be_bytes()]))
}
/// (first id, second id) pairs of an index.
pub type IdPairs = Vec<(u64, u64)>;

/// Every (product, pool) and (reinsurer, cedent) pair in the indexes (invariant checks only).
pub fn index_pairs(ctx: &mut Ctx) -> Result<(IdPairs, IdPairs), Error> {
    let mut out = (Vec::new(), Vec::new());
    for (tag, list) in [(PRODUCT_POOLS, &mut out.0), (CEDENTS, &mut out.1)] {
        for (k, _) in ctx.prefix(STORE, &[tag])? {
            let pair = k.get(1..17).map(|b| {
                let (a, z) = b.split_at(8);
                (be_u64(a), be_u64(z))
            });
            list.push(
                pair.filter(|_| k.len() == 17)
                    .ok_or_else(|| sdk::internal("corrupt pool index key"))?,
            );
        }
    }
    Ok(out)
}
fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes(b.try_into().unwrap_or_default())
}
fn ids_under(ctx: &mut Ctx, prefix: &[u8]) -> Result<Vec<u64>, Error> {
    ctx.prefix(STORE, prefix)?
        .into_iter()
        .map(|(k, _)| {
            k.get(prefix.len()..)
                .filter(|id| id.len() == 8)
                .map(be_u64)
                .ok_or_else(|| sdk::internal("corrupt pool index key"))
        })
        .collect()
}
pub fn tranche_key(pool: u64, end: i64, policy: u64) -> Vec<u8> {
    key(
        TRANCHES,
        &[&pool.to_be_bytes(), &time_bytes(end), &policy.to_be_bytes()],
    )
}
pub fn tranches_prefix(pool: u64) -> Vec<u8> {
    key(TRANCHES, &[&pool.to_be_bytes()])
}
pub fn exposure_key(pool: u64, product: u64) -> Vec<u8> {
    key(EXPOSURES, &[&pool.to_be_bytes(), &product.to_be_bytes()])
}
fn incident_paid_prefix(incident: &str) -> Vec<u8> {
    // Length-prefixed, so that no incident's keys lie under another's.
    let len = u16::try_from(incident.len()).unwrap_or(u16::MAX);
    key(INCIDENT_PAID, &[&len.to_be_bytes(), incident.as_bytes()])
}
pub fn add_incident_paid(
    ctx: &mut Ctx,
    incident: &str,
    pool: u64,
    paid: u128,
) -> Result<(), Error> {
    if paid == 0 {
        return Ok(());
    }
    let k = [incident_paid_prefix(incident), pool.to_be_bytes().to_vec()].concat();
    let before = get_u128(ctx, &k)?;
    set_u128(ctx, k, surety_framework::math::add(before, paid)?)
}
/// The pools that paid for `incident`, ascending by id, with what each paid.
pub fn incident_payers(ctx: &mut Ctx, incident: &str) -> Result<Vec<(u64, u128)>, Error> {
    let prefix = incident_paid_prefix(incident);
    ctx.range(STORE, &prefix, None, MAX_PAYERS)?
        .into_iter()
        .map(|(k, v)| {
            let id = k
                .get(prefix.len()..)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| sdk::internal("corrupt incident payer key"))?;
            let paid = packed::amount_from_bytes(&v, || "incident payment".into())?;
            Ok((id, paid))
        })
        .collect()
}
pub fn recovered_key(incident: &str) -> Vec<u8> {
    key(RECOVERED, &[incident.as_bytes()])
}
pub fn in_force_key(product: u64) -> Vec<u8> {
    key(IN_FORCE, &[&product.to_be_bytes()])
}
pub fn exposures_prefix(pool: u64) -> Vec<u8> {
    key(EXPOSURES, &[&pool.to_be_bytes()])
}
pub fn position_key(pool: u64, owner: &[u8]) -> Vec<u8> {
    key(POSITIONS, &[&pool.to_be_bytes(), owner])
}
pub fn positions_prefix(pool: u64) -> Vec<u8> {
    key(POSITIONS, &[&pool.to_be_bytes()])
}
pub fn incident_loss_key(pool: u64, incident: &str) -> Vec<u8> {
    key(INCIDENT_LOSSES, &[&pool.to_be_bytes(), incident.as_bytes()])
}
pub fn shortfall_key(incident: &str) -> Vec<u8> {
    key(SHORTFALLS, &[incident.as_bytes()])
}
const SIGN: u64 = 0x8000_0000_0000_0000;
/// Sign-flipped big-endian, so that byte order is time order (as [`DeadlineQueue`] keys).
fn time_bytes(t: i64) -> [u8; 8] {
    ((t as u64) ^ SIGN).to_be_bytes()
}
/// The item a pool is queued under in [`EXPIRIES`]: its id. A pool is queued, not each tranche:
/// the pool's own tranche keys are already in order of expiry, so EndBlock needs only to know
/// which pools have something due, and a sale writes no queue entry unless its cover ends before
/// everything the pool already holds.
pub fn expiry_item(pool: u64) -> Vec<u8> {
    pool.to_be_bytes().to_vec()
}
/// The pool of an [`expiry_item`].
pub fn parse_expiry_item(item: &[u8]) -> Result<u64, Error> {
    item.try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| sdk::internal(format!("corrupt expiry item {}", hex_key(item))))
}

/// Queues the pool for EndBlock at `time`. Queuing it twice at the same time is one entry; an
/// entry that finds nothing due re-arms the pool at its next expiry, so an early one is harmless.
pub fn arm_expiry(ctx: &mut Ctx, pool: u64, time: i64) -> Result<(), Error> {
    EXPIRIES.push(ctx, time, &expiry_item(pool))
}

/// The pool's tranches that end at or before `now`, oldest first, at most `limit`: their keys'
/// (end, policy), read from the keys alone so that an unreadable tranche is still named.
pub fn due_tranches(
    ctx: &mut Ctx,
    pool: u64,
    now: i64,
    limit: usize,
) -> Result<Vec<(i64, u64)>, Error> {
    let prefix = tranches_prefix(pool);
    let mut due = Vec::new();
    for (k, _) in ctx.range(STORE, &prefix, None, limit)? {
        let (end, policy) = parse_tranche_suffix(&k[prefix.len().min(k.len())..])?;
        if end > now {
            break;
        }
        due.push((end, policy));
    }
    Ok(due)
}

/// (end, policy) from the part of a tranche key after the pool's prefix.
fn parse_tranche_suffix(rest: &[u8]) -> Result<(i64, u64), Error> {
    let corrupt = || sdk::internal("corrupt tranche key");
    let time: [u8; 8] = rest
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(corrupt)?;
    let policy: [u8; 8] = rest
        .get(8..)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(corrupt)?;
    Ok((
        (u64::from_be_bytes(time) ^ SIGN) as i64,
        u64::from_be_bytes(policy),
    ))
}

/// The end of the pool's earliest tranche not yet retired, if any.
pub fn next_expiry(ctx: &mut Ctx, pool: u64) -> Result<Option<i64>, Error> {
    Ok(next_expiring(ctx, pool)?.map(|(end, _)| end))
}

/// The pool's earliest tranche not yet retired, as (end, policy id).
pub fn next_expiring(ctx: &mut Ctx, pool: u64) -> Result<Option<(i64, u64)>, Error> {
    let prefix = tranches_prefix(pool);
    let Some((k, _)) = ctx.range(STORE, &prefix, None, 1)?.into_iter().next() else {
        return Ok(None);
    };
    parse_tranche_suffix(&k[prefix.len().min(k.len())..]).map(Some)
}

/// The pools queued in [`EXPIRIES`], whatever time each is queued at (invariant checks only: it
/// scans).
pub fn queued_pools(ctx: &mut Ctx) -> Result<std::collections::BTreeSet<u64>, Error> {
    ctx.prefix(STORE, &[EXPIRY_QUEUE])?
        .into_iter()
        .map(|(k, _)| parse_expiry_item(k.get(9..).unwrap_or_default()))
        .collect()
}

/// Earning rates are premium units per second, scaled by this.
pub const RATE_SCALE: u128 = 1_000_000_000;

/// A pool's premium accrual in aggregate: the sum of its live tranches' earning rates and the
/// fraction of a unit earned but not yet moved out of the unearned reserve (`< RATE_SCALE`).
/// The reserve in scaled units is `unearned × RATE_SCALE − carry`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accrual {
    pub rate: u128,
    pub carry: u128,
}

/// A tranche's earning rate: its premium over its term, scaled and rounded down (the remainder
/// is earned when the tranche retires, so rounding only ever delays earning).
pub fn tranche_rate(premium: u128, start: i64, end: i64) -> Result<u128, Error> {
    let term = end.checked_sub(start).filter(|d| *d > 0);
    match term {
        None => Ok(0),
        Some(d) => mul_div(premium, RATE_SCALE, d as u128, Round::Down),
    }
}

pub fn params(ctx: &mut Ctx) -> Result<Params, Error> {
    Ok(ctx.get_msg(STORE, PARAMS)?.unwrap_or_else(default_params))
}

pub fn set_params(ctx: &mut Ctx, params: &Params) -> Result<(), Error> {
    crate::msgs::check_params(params)?;
    ctx.put_msg(STORE, PARAMS.to_vec(), params)
}

pub fn default_params() -> Params {
    Params {
        cooldown_secs: 14 * 24 * 3600,
        treasury_bps: 1_000,
        capital_incidents: 2,
    }
}

/// An amount stored alone under `key` as [`packed`] bytes (a sale rewrites two: the pool's
/// exposure to the product and the product's cover in force); 0 when absent.
pub fn get_u128(ctx: &mut Ctx, key: &[u8]) -> Result<u128, Error> {
    match ctx.get(STORE, key)? {
        None => Ok(0),
        Some(b) => packed::amount_from_bytes(&b, || format!("pool amount at {}", hex_key(key))),
    }
}

pub fn set_u128(ctx: &mut Ctx, key: Vec<u8>, value: u128) -> Result<(), Error> {
    if value == 0 {
        ctx.delete(STORE, key)
    } else {
        ctx.put(STORE, key, packed::amount_bytes(value))
    }
}

fn hex_key(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// A pool with its amounts parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolState {
    pub id: u64,
    pub name: String,
    pub denom: String,
    /// (product id, weight in bps), ascending by product.
    pub products: Vec<(u64, u32)>,
    pub leverage_bps: u32,
    pub treaty: Option<Treaty>,
    pub total_shares: u128,
    pub cash: u128,
    pub unearned: u128,
    pub active_cover: u128,
    pub selling: bool,
    pub accrued_to: i64,
    pub accrual: Accrual,
    /// The treasury's share of premiums sold, held for it until the end of the block.
    pub treasury_due: u128,
}

impl PoolState {
    pub fn from_proto(p: &Pool) -> Result<PoolState, Error> {
        let mut products: Vec<(u64, u32)> = p
            .products
            .iter()
            .map(|w| (w.product_id, w.weight_bps))
            .collect();
        products.sort();
        Ok(PoolState {
            id: p.id,
            name: p.name.clone(),
            denom: p.denom.clone(),
            products,
            leverage_bps: p.leverage_bps,
            treaty: p.reinsurance.as_ref().map(Treaty::from_proto).transpose()?,
            total_shares: parse_amount(&p.total_shares, "total_shares")?,
            cash: parse_amount(&p.cash, "cash")?,
            unearned: parse_amount(&p.unearned_premium, "unearned_premium")?,
            active_cover: parse_amount(&p.active_cover, "active_cover")?,
            selling: p.selling,
            accrued_to: p.accrued_to,
            accrual: Accrual {
                rate: parse_amount(&p.earning_rate, "earning_rate")?,
                carry: parse_amount(&p.accrual_carry, "accrual_carry")?,
            },
            treasury_due: parse_amount(&p.treasury_due, "treasury_due")?,
        })
    }

    pub fn to_proto(&self) -> Pool {
        Pool {
            id: self.id,
            name: self.name.clone(),
            denom: self.denom.clone(),
            products: self
                .products
                .iter()
                .map(
                    |&(product_id, weight_bps)| surety_proto::surety::pool::v1::ProductWeight {
                        product_id,
                        weight_bps,
                    },
                )
                .collect(),
            leverage_bps: self.leverage_bps,
            reinsurance: self.treaty.map(|t| Reinsurance {
                reinsurer_pool_id: t.reinsurer,
                quota_share_bps: t.quota_share_bps,
                xol_retention: t.xol_retention.to_string(),
                xol_limit: t.xol_limit.to_string(),
                xol_premium_bps: t.xol_premium_bps,
            }),
            total_shares: self.total_shares.to_string(),
            cash: self.cash.to_string(),
            unearned_premium: self.unearned.to_string(),
            active_cover: self.active_cover.to_string(),
            selling: self.selling,
            accrued_to: self.accrued_to,
            earning_rate: self.accrual.rate.to_string(),
            accrual_carry: self.accrual.carry.to_string(),
            treasury_due: self.treasury_due.to_string(),
        }
    }

    /// Providers' capital: what the pool holds less the premium it has not yet earned.
    pub fn capital(&self) -> u128 {
        self.cash.saturating_sub(self.unearned)
    }

    pub fn capacity(&self) -> Result<u128, Error> {
        apply_bps(self.capital(), self.leverage_bps, Round::Down)
    }

    pub fn weight_of(&self, product: u64) -> Option<u32> {
        self.products
            .iter()
            .find(|(p, _)| *p == product)
            .map(|(_, w)| *w)
    }

    pub fn utilisation_bps(&self) -> Result<u32, Error> {
        let capacity = self.capacity()?;
        if capacity == 0 {
            return Ok(if self.active_cover == 0 { 0 } else { u32::MAX });
        }
        let u = surety_framework::math::mul_div(self.active_cover, 10_000, capacity, Round::Up)?;
        Ok(u.min(u32::MAX as u128) as u32)
    }

    /// Takes `amount` of cash; an internal error if the pool does not hold it.
    pub fn take_cash(&mut self, amount: u128) -> Result<(), Error> {
        self.cash = sub(self.cash, amount, "pool cash")?;
        Ok(())
    }
}

/// A pool's record under its key, amounts as [`packed`] bytes. Every purchase rewrites the
/// pools it sells on at 30 gas a byte: as the `Pool` clients see it, with decimal strings, the
/// demo's ceding pool was 168 bytes.
#[derive(Clone, PartialEq, prost::Message)]
struct StoredPool {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    denom: String,
    /// (product, weight in bps) pairs, flattened.
    #[prost(uint64, repeated, tag = "3")]
    products: Vec<u64>,
    #[prost(uint32, tag = "4")]
    leverage_bps: u32,
    #[prost(message, optional, tag = "5")]
    treaty: Option<StoredTreaty>,
    #[prost(bytes = "vec", tag = "6")]
    total_shares: Vec<u8>,
    #[prost(bytes = "vec", tag = "7")]
    cash: Vec<u8>,
    #[prost(bytes = "vec", tag = "8")]
    unearned: Vec<u8>,
    #[prost(bytes = "vec", tag = "9")]
    active_cover: Vec<u8>,
    #[prost(bool, tag = "10")]
    selling: bool,
    #[prost(int64, tag = "11")]
    accrued_to: i64,
    #[prost(bytes = "vec", tag = "12")]
    earning_rate: Vec<u8>,
    #[prost(bytes = "vec", tag = "13")]
    accrual_carry: Vec<u8>,
    #[prost(bytes = "vec", tag = "14")]
    treasury_due: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StoredTreaty {
    #[prost(uint64, tag = "1")]
    reinsurer: u64,
    #[prost(uint32, tag = "2")]
    quota_share_bps: u32,
    #[prost(bytes = "vec", tag = "3")]
    xol_retention: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    xol_limit: Vec<u8>,
    #[prost(uint32, tag = "5")]
    xol_premium_bps: u32,
}

impl StoredPool {
    fn of(p: &PoolState) -> StoredPool {
        use packed::amount_bytes as b;
        StoredPool {
            name: p.name.clone(),
            denom: p.denom.clone(),
            products: p
                .products
                .iter()
                .flat_map(|&(product, weight)| [product, weight.into()])
                .collect(),
            leverage_bps: p.leverage_bps,
            treaty: p.treaty.map(|t| StoredTreaty {
                reinsurer: t.reinsurer,
                quota_share_bps: t.quota_share_bps,
                xol_retention: b(t.xol_retention),
                xol_limit: b(t.xol_limit),
                xol_premium_bps: t.xol_premium_bps,
            }),
            total_shares: b(p.total_shares),
            cash: b(p.cash),
            unearned: b(p.unearned),
            active_cover: b(p.active_cover),
            selling: p.selling,
            accrued_to: p.accrued_to,
            earning_rate: b(p.accrual.rate),
            accrual_carry: b(p.accrual.carry),
            treasury_due: b(p.treasury_due),
        }
    }

    fn state(self, id: u64) -> Result<PoolState, Error> {
        let amount = |bytes: &[u8], what: &str| {
            packed::amount_from_bytes(bytes, || format!("{what} of pool {id}"))
        };
        let corrupt = || sdk::internal(format!("corrupt products of pool {id}"));
        let pairs = self.products.chunks_exact(2);
        if !pairs.remainder().is_empty() {
            return Err(corrupt());
        }
        let products = pairs
            .map(|pair| {
                u32::try_from(pair[1])
                    .map(|weight| (pair[0], weight))
                    .map_err(|_| corrupt())
            })
            .collect::<Result<_, _>>()?;
        let treaty = match self.treaty {
            None => None,
            Some(t) => Some(Treaty {
                reinsurer: t.reinsurer,
                quota_share_bps: t.quota_share_bps,
                xol_retention: amount(&t.xol_retention, "xol retention")?,
                xol_limit: amount(&t.xol_limit, "xol limit")?,
                xol_premium_bps: t.xol_premium_bps,
            }),
        };
        Ok(PoolState {
            id,
            name: self.name,
            denom: self.denom,
            products,
            leverage_bps: self.leverage_bps,
            treaty,
            total_shares: amount(&self.total_shares, "total shares")?,
            cash: amount(&self.cash, "cash")?,
            unearned: amount(&self.unearned, "unearned premium")?,
            active_cover: amount(&self.active_cover, "active cover")?,
            selling: self.selling,
            accrued_to: self.accrued_to,
            accrual: Accrual {
                rate: amount(&self.earning_rate, "earning rate")?,
                carry: amount(&self.accrual_carry, "accrual carry")?,
            },
            treasury_due: amount(&self.treasury_due, "treasury due")?,
        })
    }
}

fn decode_pool(id: u64, bytes: &[u8]) -> Result<PoolState, Error> {
    decode::<StoredPool>(bytes)?.state(id)
}

pub fn load_raw(ctx: &mut Ctx, id: u64) -> Result<PoolState, Error> {
    let bytes = ctx
        .get(STORE, &pool_key(id))?
        .ok_or_else(|| crate::errors::pool_not_found(format!("pool {id}")))?;
    decode_pool(id, &bytes)
}

pub fn save(ctx: &mut Ctx, pool: &PoolState) -> Result<(), Error> {
    ctx.put(
        STORE,
        pool_key(pool.id),
        StoredPool::of(pool).encode_to_vec(),
    )
}

pub fn pool_ids(ctx: &mut Ctx) -> Result<Vec<u64>, Error> {
    ctx.prefix(STORE, &pools_prefix())?
        .into_iter()
        .map(|(k, _)| pool_id_of(&k))
        .collect()
}

fn pool_id_of(key: &[u8]) -> Result<u64, Error> {
    key.get(1..)
        .and_then(|id| id.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| sdk::internal("corrupt pool key"))
}

/// At most `limit` pools from id `from` on, ascending.
pub fn pools_from(ctx: &mut Ctx, from: u64, limit: usize) -> Result<Vec<PoolState>, Error> {
    ctx.range(STORE, &pools_prefix(), Some(&pool_key(from)), limit)?
        .into_iter()
        .map(|(k, v)| decode_pool(pool_id_of(&k)?, &v))
        .collect()
}

/// The first pool the next treasury payment looks at (1 when it starts from the first).
pub fn treasury_cursor(ctx: &mut Ctx) -> Result<u64, Error> {
    Ok(ctx
        .get(STORE, TREASURY_CURSOR)?
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(1))
}

pub fn set_treasury_cursor(ctx: &mut Ctx, next: u64) -> Result<(), Error> {
    if next <= 1 {
        return ctx.delete(STORE, TREASURY_CURSOR.to_vec());
    }
    ctx.put(STORE, TREASURY_CURSOR.to_vec(), next.to_be_bytes().to_vec())
}

/// One policy's share of a pool, with its amounts parsed. Stored under
/// `tranche_key(pool, end, policy)`, which already holds three of its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrancheState {
    pub pool: u64,
    pub policy: u64,
    pub product: u64,
    pub cover: u128,
    pub premium: u128,
    pub start: i64,
    pub end: i64,
}

impl TrancheState {
    /// As clients see it, with what it has `earned` (the pool earns in aggregate, so a
    /// tranche's part is computed, not stored).
    pub fn to_proto(&self, earned: u128) -> Tranche {
        Tranche {
            pool_id: self.pool,
            policy_id: self.policy,
            product_id: self.product,
            cover: self.cover.to_string(),
            premium: self.premium.to_string(),
            earned: earned.to_string(),
            start: self.start,
            end: self.end,
        }
    }
}

/// A tranche's record: what its key does not hold, amounts as [`packed`] bytes. Every purchase
/// writes one per pool at 30 gas a byte; as the `Tranche` clients see it was 29–36 bytes in
/// the demo market, this is 12–17.
#[derive(Clone, PartialEq, prost::Message)]
struct StoredTranche {
    #[prost(uint64, tag = "1")]
    product: u64,
    #[prost(bytes = "vec", tag = "2")]
    cover: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    premium: Vec<u8>,
    #[prost(int64, tag = "4")]
    start: i64,
}

pub fn tranche(
    ctx: &mut Ctx,
    pool: u64,
    end: i64,
    policy: u64,
) -> Result<Option<TrancheState>, Error> {
    ctx.get(STORE, &tranche_key(pool, end, policy))?
        .map(|bytes| decode_tranche(pool, end, policy, &bytes))
        .transpose()
}

pub fn save_tranche(ctx: &mut Ctx, t: &TrancheState) -> Result<(), Error> {
    let stored = StoredTranche {
        product: t.product,
        cover: packed::amount_bytes(t.cover),
        premium: packed::amount_bytes(t.premium),
        start: t.start,
    };
    ctx.put(
        STORE,
        tranche_key(t.pool, t.end, t.policy),
        stored.encode_to_vec(),
    )
}

fn decode_tranche(pool: u64, end: i64, policy: u64, bytes: &[u8]) -> Result<TrancheState, Error> {
    let s: StoredTranche = decode(bytes)?;
    Ok(TrancheState {
        pool,
        policy,
        product: s.product,
        cover: packed::amount_from_bytes(&s.cover, || {
            format!("cover of tranche {pool}/{end}/{policy}")
        })?,
        premium: packed::amount_from_bytes(&s.premium, || {
            format!("premium of tranche {pool}/{end}/{policy}")
        })?,
        start: s.start,
        end,
    })
}

pub fn tranches(ctx: &mut Ctx, pool: u64) -> Result<Vec<TrancheState>, Error> {
    let prefix = tranches_prefix(pool);
    ctx.prefix(STORE, &prefix)?
        .into_iter()
        .map(|(k, v)| {
            let (end, policy) = parse_tranche_suffix(&k[prefix.len().min(k.len())..])?;
            decode_tranche(pool, end, policy, &v)
        })
        .collect()
}

pub fn position(ctx: &mut Ctx, pool: u64, owner: &[u8; 20]) -> Result<Option<Position>, Error> {
    ctx.get_msg(STORE, &position_key(pool, owner))
}

pub fn positions(ctx: &mut Ctx, pool: u64) -> Result<Vec<Position>, Error> {
    ctx.prefix(STORE, &positions_prefix(pool))?
        .into_iter()
        .map(|(_, v)| decode(&v))
        .collect()
}

pub fn decode<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt pool state: {e}")))
}

/// Direct cover in force per product, ascending by product.
pub fn exposures(ctx: &mut Ctx, pool: u64) -> Result<Vec<(u64, u128)>, Error> {
    let prefix = exposures_prefix(pool);
    ctx.prefix(STORE, &prefix)?
        .into_iter()
        .map(|(k, v)| {
            let product = u64::from_be_bytes(
                k.get(prefix.len()..)
                    .and_then(|p| p.try_into().ok())
                    .ok_or_else(|| sdk::internal("corrupt exposure key"))?,
            );
            let amount = packed::amount_from_bytes(&v, || format!("exposure of pool {pool}"))?;
            Ok((product, amount))
        })
        .collect()
}
