//! Price history: stored per feed in day buckets, kept for a retention window and pruned a
//! bounded amount per block.
//!
//! Keys are `[PRICES][len][feed][day][time]` with times as sign-flipped big-endian `i64`, so a
//! feed's prices sort in time order. Pruning deletes a feed's oldest prices but always keeps the
//! last one at or before the cutoff: it is the price in force when the window starts, so a TWAP
//! over any span inside the window stays exact. `FIRST` holds the oldest price kept.

use crate::{decode, STORE};
use surety_framework::error::fatal;
use surety_framework::oracle::PricePoint;
use surety_framework::{sdk, Ctx, Error};
use surety_proto::surety::oracle::v1::Price;

pub(crate) const PRICES: u8 = 0x01;
pub(crate) const LATEST: u8 = 0x07;
pub(crate) const FIRST: u8 = 0x0c;
/// The last feed pruned, so that pruning goes round the feeds a few per block.
const PRUNE_CURSOR: &[u8] = &[0x0d];

pub const DAY: i64 = 86_400;

/// How long price history is kept when params say 0: a week. Triggers and TWAPs may look back
/// this far.
pub const DEFAULT_RETENTION_SECS: i64 = 7 * DAY;
/// Bounds of a governance-set retention window.
pub const MIN_RETENTION_SECS: i64 = 3_600;
pub const MAX_RETENTION_SECS: i64 = 365 * DAY;
/// Feeds visited per block by pruning, and prices deleted per feed visited.
pub const PRUNE_FEEDS_PER_BLOCK: usize = 16;
pub const PRUNE_PER_FEED: usize = 64;
/// Most prices one window read returns (a day of one-second blocks is 86 400).
pub const MAX_WINDOW_POINTS: usize = 200_000;

/// The history retention window in force.
pub fn retention_secs(params: &surety_proto::surety::oracle::v1::Params) -> i64 {
    match params.price_retention_secs {
        0 => DEFAULT_RETENTION_SECS,
        secs => secs,
    }
}

/// Block times as big-endian bytes that sort in time order, negatives included.
pub(crate) fn time_bytes(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

fn time_of(bytes: &[u8]) -> Result<i64, Error> {
    let raw: [u8; 8] = bytes
        .try_into()
        .map_err(|_| fatal::invariant("corrupt oracle price key"))?;
    Ok((u64::from_be_bytes(raw) ^ (1 << 63)) as i64)
}

pub(crate) fn feed_prefix(feed: &str) -> Vec<u8> {
    // Feed names are at most MAX_NAME (128) bytes, so the length fits its byte.
    let len = u8::try_from(feed.len()).unwrap_or(u8::MAX);
    let mut k = vec![PRICES, len];
    k.extend_from_slice(feed.as_bytes());
    k
}

fn day_prefix(feed: &str, day: i64) -> Vec<u8> {
    let mut k = feed_prefix(feed);
    k.extend_from_slice(&time_bytes(day));
    k
}

pub(crate) fn price_key(feed: &str, time: i64) -> Vec<u8> {
    let mut k = day_prefix(feed, time.div_euclid(DAY));
    k.extend_from_slice(&time_bytes(time));
    k
}

pub(crate) fn latest_key(feed: &str) -> Vec<u8> {
    [&[LATEST][..], feed.as_bytes()].concat()
}

fn first_key(feed: &str) -> Vec<u8> {
    [&[FIRST][..], feed.as_bytes()].concat()
}

/// The time of a price key: its last 8 bytes.
fn key_time(key: &[u8]) -> Result<i64, Error> {
    let at = key
        .len()
        .checked_sub(8)
        .ok_or_else(|| fatal::invariant("short oracle price key"))?;
    time_of(&key[at..])
}

pub(crate) fn point(p: Price) -> Result<PricePoint, Error> {
    Ok(PricePoint {
        price: p.price.parse()?,
        time: p.time,
    })
}

pub(crate) fn store(ctx: &mut Ctx, p: &Price) -> Result<(), Error> {
    let first = first_key(&p.feed);
    if ctx.get(STORE, &first)?.is_none() {
        ctx.put_msg(STORE, first, p)?;
    }
    ctx.put_msg(STORE, price_key(&p.feed, p.time), p)?;
    ctx.put_msg(STORE, latest_key(&p.feed), p)
}

pub(crate) fn latest(ctx: &mut Ctx, feed: &str) -> Result<Option<Price>, Error> {
    ctx.get_msg(STORE, &latest_key(feed))
}

pub(crate) fn first(ctx: &mut Ctx, feed: &str) -> Result<Option<Price>, Error> {
    ctx.get_msg(STORE, &first_key(feed))
}

fn day_points(ctx: &mut Ctx, feed: &str, day: i64) -> Result<Vec<Price>, Error> {
    ctx.prefix(STORE, &day_prefix(feed, day))?
        .into_iter()
        .map(|(_, v)| decode(&v))
        .collect()
}

/// The price of `feed` in force at `time`: the last recorded at or before it. Walks back day
/// by day, at most the retention window and two days: anything older than that has been
/// pruned down to the oldest price kept.
pub(crate) fn price_at(
    ctx: &mut Ctx,
    feed: &str,
    time: i64,
    retention: i64,
) -> Result<Option<PricePoint>, Error> {
    let Some(latest) = latest(ctx, feed)? else {
        return Ok(None);
    };
    if latest.time <= time {
        return point(latest).map(Some);
    }
    let first = match first(ctx, feed)? {
        Some(p) if p.time <= time => p,
        _ => return Ok(None),
    };
    let day = time.div_euclid(DAY);
    let walk = retention.div_euclid(DAY).saturating_add(2);
    let oldest = first.time.div_euclid(DAY).max(day.saturating_sub(walk));
    let mut d = day;
    while d >= oldest {
        if let Some(p) = day_points(ctx, feed, d)?
            .into_iter()
            .take_while(|p| p.time <= time)
            .last()
        {
            return point(p).map(Some);
        }
        d = d.saturating_sub(1);
        if d == i64::MIN {
            break;
        }
    }
    point(first).map(Some)
}

/// Every price of `feed` in `(from, to]`, ascending: one bounded range read.
pub(crate) fn prices_after(
    ctx: &mut Ctx,
    feed: &str,
    from: i64,
    to: i64,
) -> Result<Vec<PricePoint>, Error> {
    let Some(start) = from.checked_add(1) else {
        return Ok(Vec::new());
    };
    if start > to {
        return Ok(Vec::new());
    }
    let entries = ctx.range(
        STORE,
        &feed_prefix(feed),
        Some(&price_key(feed, start)),
        MAX_WINDOW_POINTS,
    )?;
    let full = entries.len() == MAX_WINDOW_POINTS;
    let mut out = Vec::new();
    for (key, value) in entries {
        if key_time(&key)? > to {
            return Ok(out);
        }
        out.push(point(decode(&value)?)?);
    }
    if full {
        return Err(sdk::invalid_request(format!(
            "more than {MAX_WINDOW_POINTS} prices of {feed} between {from} and {to}"
        )));
    }
    Ok(out)
}

/// The newest `limit` prices of `feed`, newest first, reading back day by day no further than
/// the oldest price kept.
pub(crate) fn newest(
    ctx: &mut Ctx,
    feed: &str,
    limit: usize,
    retention: i64,
) -> Result<Vec<Price>, Error> {
    let (Some(latest), Some(first)) = (latest(ctx, feed)?, first(ctx, feed)?) else {
        return Ok(Vec::new());
    };
    let top = latest.time.div_euclid(DAY);
    let walk = retention.div_euclid(DAY).saturating_add(2);
    let bottom = first.time.div_euclid(DAY).max(top.saturating_sub(walk));
    let mut out = Vec::new();
    let mut d = top;
    while d >= bottom && out.len() < limit {
        let mut day = day_points(ctx, feed, d)?;
        day.reverse();
        let room = limit.saturating_sub(out.len());
        out.extend(day.into_iter().take(room));
        d = d.saturating_sub(1);
        if d == i64::MIN {
            break;
        }
    }
    if out.len() < limit && out.last().is_none_or(|p| p.time > first.time) {
        out.push(first);
    }
    Ok(out)
}

/// All kept prices of `feed` (genesis export: at most the retention window).
pub(crate) fn all(ctx: &mut Ctx, feed: &str) -> Result<Vec<Price>, Error> {
    ctx.prefix(STORE, &feed_prefix(feed))?
        .into_iter()
        .map(|(_, v)| decode(&v))
        .collect()
}

/// Deletes `feed`'s prices older than the last one at or before `cutoff`, at most `budget`;
/// returns how many it deleted.
pub(crate) fn prune_feed(
    ctx: &mut Ctx,
    feed: &str,
    cutoff: i64,
    budget: usize,
) -> Result<usize, Error> {
    let entries = ctx.range(STORE, &feed_prefix(feed), None, budget.saturating_add(1))?;
    let mut deleted = 0usize;
    let mut kept = None;
    for pair in entries.windows(2) {
        let [(old, _), (next, next_value)] = pair else {
            break;
        };
        // `old` may go only if a later price also falls at or before the cutoff.
        if key_time(next)? > cutoff {
            break;
        }
        ctx.delete(STORE, old.clone())?;
        kept = Some(next_value);
        deleted = deleted.saturating_add(1);
    }
    if let Some(first) = kept {
        ctx.put(STORE, first_key(feed), first.clone())?;
    }
    Ok(deleted)
}

/// One block's pruning: the next few feeds (by their latest price's key, round the feeds
/// ever reported), each pruned by at most [`PRUNE_PER_FEED`] prices.
pub(crate) fn prune(ctx: &mut Ctx, now: i64, retention: i64) -> Result<(), Error> {
    let cutoff = now.saturating_sub(retention);
    let start = match ctx.get(STORE, PRUNE_CURSOR)? {
        Some(mut last) => {
            last.push(0);
            Some(last)
        }
        None => None,
    };
    let feeds = ctx.range(STORE, &[LATEST], start.as_deref(), PRUNE_FEEDS_PER_BLOCK)?;
    let wrapped = feeds.len() < PRUNE_FEEDS_PER_BLOCK;
    let mut last = None;
    for (key, _) in feeds {
        let feed = String::from_utf8(key[1..].to_vec())
            .map_err(|_| fatal::invariant("corrupt oracle feed key"))?;
        prune_feed(ctx, &feed, cutoff, PRUNE_PER_FEED)?;
        last = Some(key);
    }
    match (wrapped, last) {
        (false, Some(key)) => ctx.put(STORE, PRUNE_CURSOR.to_vec(), key),
        _ => ctx.delete(STORE, PRUNE_CURSOR.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block, Empty};
    use surety_framework::state::Overlay;
    use surety_framework::Dec;

    const FEED: &str = "USDC/USD";
    const T0: i64 = 1_700_000_000;
    const STEP: i64 = 600;

    fn record(ctx: &mut Ctx, feed: &str, time: i64, price: Dec) {
        let p = Price {
            feed: feed.into(),
            price: price.to_string(),
            time,
            height: 1,
        };
        store(ctx, &p).unwrap();
    }

    /// The time-weighted average over [from, to], from what the keeper returns.
    fn twap(ctx: &mut Ctx, from: i64, to: i64) -> u128 {
        let start = price_at(ctx, FEED, from, DEFAULT_RETENTION_SECS)
            .unwrap()
            .expect("a price in force");
        let mut total = 0u128;
        let (mut current, mut since) = (start.price.0, from);
        for p in prices_after(ctx, FEED, from, to).unwrap() {
            total += current * (p.time - since) as u128;
            current = p.price.0;
            since = p.time;
        }
        total += current * (to - since) as u128;
        total / (to - from) as u128
    }

    fn kept_before(ctx: &mut Ctx, cutoff: i64) -> usize {
        all(ctx, FEED)
            .unwrap()
            .iter()
            .filter(|p| p.time <= cutoff)
            .count()
    }

    #[test]
    fn pruning_is_bounded_and_keeps_twaps_inside_the_window_exact() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let days = 10;
        let now = T0 + days * DAY;
        let cutoff = now - DEFAULT_RETENTION_SECS;
        let mut ctx = block(&mut state, 1, now);
        let mut t = T0;
        let mut i = 0u128;
        while t <= now {
            // A wandering price, so that any lost point would move the average.
            let price = Dec(Dec::SCALE - (i * 7_919 % 50) * 1_000_000_000_000_000);
            record(&mut ctx, FEED, t, price);
            t += STEP;
            i += 1;
        }
        // A quiet feed: one price long ago, one recently.
        record(&mut ctx, "QUIET", T0, Dec::ONE);
        record(&mut ctx, "QUIET", now - DAY, Dec(2 * Dec::SCALE));

        let windows = [
            (cutoff, now),
            (cutoff + 1, now),
            (cutoff + 333, now - 77),
            (now - DAY, now),
            (now - 3_600, now - 1_800),
        ];
        let before: Vec<u128> = windows.iter().map(|&(f, t)| twap(&mut ctx, f, t)).collect();
        let quiet_before =
            price_at(&mut ctx, "QUIET", cutoff + 10, DEFAULT_RETENTION_SECS).unwrap();
        let total = all(&mut ctx, FEED).unwrap().len();

        let mut blocks = 0;
        loop {
            let deleted = prune_feed(&mut ctx, FEED, cutoff, PRUNE_PER_FEED).unwrap();
            assert!(deleted <= PRUNE_PER_FEED);
            if deleted == 0 {
                break;
            }
            blocks += 1;
        }
        let expected_deleted = total - all(&mut ctx, FEED).unwrap().len();
        assert_eq!(expected_deleted, ((cutoff - T0) / STEP) as usize);
        assert!(blocks > 1, "spread over blocks");
        // Only the price in force at the cutoff remains from before it, and it is the first.
        assert_eq!(kept_before(&mut ctx, cutoff), 1);
        let first = first(&mut ctx, FEED).unwrap().unwrap();
        assert_eq!(first.time, cutoff - (cutoff - T0) % STEP);
        let after: Vec<u128> = windows.iter().map(|&(f, t)| twap(&mut ctx, f, t)).collect();
        assert_eq!(before, after);
        assert_eq!(
            price_at(&mut ctx, FEED, first.time - 1, DEFAULT_RETENTION_SECS).unwrap(),
            None
        );

        // The round-robin pruner leaves the quiet feed's old price: it is still in force.
        prune(&mut ctx, now, DEFAULT_RETENTION_SECS).unwrap();
        let quiet_after = price_at(&mut ctx, "QUIET", cutoff + 10, DEFAULT_RETENTION_SECS).unwrap();
        assert_eq!(quiet_before, quiet_after);
        assert_eq!(quiet_after.unwrap().time, T0);
    }

    #[test]
    fn history_reads_are_bounded_newest_first() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let now = T0 + 3 * DAY;
        let mut ctx = block(&mut state, 1, now);
        let mut t = T0;
        while t <= now {
            record(&mut ctx, FEED, t, Dec::ONE);
            t += STEP;
        }
        let newest = newest(&mut ctx, FEED, 10, DEFAULT_RETENTION_SECS).unwrap();
        assert_eq!(newest.len(), 10);
        assert_eq!(newest[0].time, now - (now - T0) % STEP);
        assert!(newest.windows(2).all(|w| w[0].time > w[1].time));
        let everything = super::newest(&mut ctx, FEED, 100_000, DEFAULT_RETENTION_SECS).unwrap();
        assert_eq!(everything.len(), all(&mut ctx, FEED).unwrap().len());
        assert_eq!(prices_after(&mut ctx, FEED, now, now - 5).unwrap(), vec![]);
        assert_eq!(
            prices_after(&mut ctx, FEED, i64::MAX, i64::MAX).unwrap(),
            vec![]
        );
        assert_eq!(
            price_at(&mut ctx, "NONE", now, DEFAULT_RETENTION_SECS).unwrap(),
            None
        );
    }
}
