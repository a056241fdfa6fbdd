//! Parametric triggers: whether a policy's oracle condition holds, and the loss it pays.

use crate::errors;
use surety_framework::math::{apply_bps, mul_div, parse_amount, sub, Round, Wide};
use surety_framework::oracle::{OracleView, PricePoint};
use surety_framework::{sdk, Address, Ctx, Dec, Error, VALIDATOR_PREFIX};
use surety_proto::surety::policy::v1::{CoverType, Policy, Product, Trigger};

/// A triggered loss and the incident it belongs to (claims on one incident share the
/// excess-of-loss retention).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Triggered {
    /// The loss not yet paid: for an incident, its loss up to the cover that remains; for a
    /// price trigger (depeg, impermanent loss), how far the position's loss now exceeds what
    /// earlier claims paid for, so that a deepening loss pays only the difference.
    pub loss: u128,
    pub incident: String,
    /// An incident pays a policy once; a price trigger pays whenever the loss deepens.
    pub once_per_incident: bool,
}

const DAY: i64 = 86_400;

fn overflow(what: &str) -> Error {
    sdk::invalid_request(format!("{what} overflows"))
}

/// Evaluates the policy's trigger as of `time` (or at the end of its term, during the grace
/// period). Nothing counts before the product's waiting period after the start has passed.
pub fn evaluate(
    oracle: &dyn OracleView,
    ctx: &mut Ctx,
    policy: &Policy,
    terms: &Product,
    incident: &str,
    time: i64,
) -> Result<Triggered, Error> {
    let at = time.min(policy.end);
    let trigger = terms.trigger.clone().unwrap_or_default();
    let cover = parse_amount(&policy.cover, "cover")?;
    let remaining = surety_policy::remaining_cover(policy)?;
    let window = Window {
        from: policy
            .start
            .saturating_add(terms.waiting_period_secs.max(0)),
        end: policy.end,
        waiting: terms.waiting_period_secs,
    };
    let by_price = |hit: Triggered| -> Result<Triggered, Error> {
        let claimed = surety_policy::claimed_cover(policy)?;
        let loss = hit.loss.saturating_sub(claimed);
        if loss == 0 {
            return Err(errors::trigger_not_met(format!(
                "a loss of {} is no deeper than the {claimed} earlier claims paid for",
                hit.loss
            )));
        }
        Ok(Triggered { loss, ..hit })
    };
    match CoverType::try_from(terms.cover_type).unwrap_or(CoverType::Unspecified) {
        CoverType::Depeg => by_price(depeg(oracle, ctx, policy, &window, &trigger, cover, at)?),
        CoverType::Liquidity => by_price(impermanent_loss(
            oracle, ctx, policy, &window, &trigger, cover, at,
        )?),
        CoverType::Slashing => slash(ctx, policy, &window, remaining, incident),
        _ => confirmed_incident(oracle, ctx, &window, terms, remaining, incident),
    }
}

/// When a policy's cover counts: from its start plus the product's waiting period to its end.
struct Window {
    from: i64,
    end: i64,
    waiting: i64,
}

impl Window {
    fn check(&self, what: &str, time: i64) -> Result<(), Error> {
        if time < self.from || time >= self.end {
            return Err(errors::trigger_not_met(format!(
                "{what} at {time} is outside the cover, which counts from {} (after a {}s \
                 waiting period) to {}",
                self.from, self.waiting, self.end
            )));
        }
        Ok(())
    }
}

/// The time-weighted average of a price path over `[from, to]`, given the price in force at
/// `from` and the points after it.
pub fn twap(start: PricePoint, after: &[PricePoint], from: i64, to: i64) -> Result<Dec, Error> {
    // Σ price × seconds held, in 256 bits: prices up to 10³⁰ (scaled) times decades of seconds.
    let held = |since: i64, until: i64| -> Result<u128, Error> {
        let secs = until
            .checked_sub(since)
            .filter(|s| *s >= 0)
            .ok_or_else(|| sdk::internal(format!("price points out of order at {until}")))?;
        Ok(secs.unsigned_abs() as u128)
    };
    let mut total = Wide::default();
    let mut current = start.price;
    let mut since = from;
    for p in after {
        total = total.plus(Wide::product(&[current.0, held(since, p.time)?])?)?;
        current = p.price;
        since = p.time;
    }
    total = total.plus(Wide::product(&[current.0, held(since, to)?])?)?;
    let span = held(from, to)?.max(1);
    total.div(Wide::product(&[span])?, Round::Down).map(Dec)
}

/// Depeg cover pays when the feed stayed below the threshold for the whole trigger duration,
/// inside the cover term: loss = cover × (1 − average price over that time), the price counted
/// no lower than the protected floor.
fn depeg(
    oracle: &dyn OracleView,
    ctx: &mut Ctx,
    policy: &Policy,
    window: &Window,
    t: &Trigger,
    cover: u128,
    at: i64,
) -> Result<Triggered, Error> {
    let threshold: Dec = t.threshold.parse()?;
    let floor: Dec = if t.floor.is_empty() {
        Dec::ZERO
    } else {
        t.floor.parse()?
    };
    let from = at
        .checked_sub(t.duration_secs)
        .ok_or_else(|| overflow("trigger duration"))?;
    if from < window.from {
        return Err(errors::trigger_not_met(format!(
            "a depeg must last {}s inside the cover, which counts from {} (policy {} began at \
             {}, with a {}s waiting period)",
            t.duration_secs, window.from, policy.id, policy.start, window.waiting
        )));
    }
    let start = oracle
        .price_at(ctx, &t.feed, from)?
        .ok_or_else(|| errors::no_price(format!("{} before {from}", t.feed)))?;
    let after = oracle.prices_after(ctx, &t.feed, from, at)?;
    if let Some(p) = std::iter::once(&start)
        .chain(&after)
        .find(|p| p.price >= threshold)
    {
        return Err(errors::trigger_not_met(format!(
            "{} was {} at {} — not below {threshold} for the last {}s",
            t.feed, p.price, p.time, t.duration_secs
        )));
    }
    let price = twap(start, &after, from, at)?.max(floor);
    Ok(Triggered {
        loss: Dec::ONE
            .saturating_sub(price)
            .mul_amount(cover, Round::Down)?,
        incident: format!("depeg:{}:{}", t.feed, from.div_euclid(DAY)),
        once_per_incident: false,
    })
}

/// Impermanent loss of a 50/50 position for price ratio r: 1 − 2·√r / (1 + r).
pub fn impermanent_loss_of(ratio: Dec) -> Result<Dec, Error> {
    let two_sqrt = ratio
        .sqrt()
        .0
        .checked_mul(2)
        .ok_or_else(|| overflow("price ratio"))?;
    let one_plus = Dec::ONE
        .0
        .checked_add(ratio.0)
        .ok_or_else(|| overflow("price ratio"))?;
    let value = Dec(two_sqrt).div(Dec(one_plus), Round::Up)?;
    // By AM–GM 2√r ≤ 1 + r, so the value is at most 1 (up to rounding, which saturates to 0).
    Ok(Dec::ONE.saturating_sub(value))
}

/// Liquidity cover pays the impermanent loss between the price at purchase and now beyond the
/// threshold, capped.
fn impermanent_loss(
    oracle: &dyn OracleView,
    ctx: &mut Ctx,
    policy: &Policy,
    window: &Window,
    t: &Trigger,
    cover: u128,
    at: i64,
) -> Result<Triggered, Error> {
    window.check("the exit price", at)?;
    // Frozen at purchase; policies sold before it was, read the oracle's history.
    let entry = if policy.entry_price.is_empty() {
        oracle
            .price_at(ctx, &t.feed, policy.start)?
            .ok_or_else(|| errors::no_price(format!("{} at the policy's start", t.feed)))?
    } else {
        PricePoint {
            time: policy.start,
            price: policy
                .entry_price
                .parse()
                .map_err(|_| errors::no_price(format!("{} entry price is corrupt", t.feed)))?,
        }
    };
    let exit = oracle
        .price_at(ctx, &t.feed, at)?
        .ok_or_else(|| errors::no_price(format!("{} now", t.feed)))?;
    if entry.price == Dec::ZERO {
        return Err(errors::no_price(format!("{} entry price is zero", t.feed)));
    }
    let il = impermanent_loss_of(exit.price.div(entry.price, Round::Down)?)?;
    let beyond = il
        .saturating_sub(Dec::from_bps(t.il_threshold_bps))
        .min(Dec::from_bps(t.il_cap_bps));
    if beyond == Dec::ZERO {
        return Err(errors::trigger_not_met(format!(
            "impermanent loss {il} is within the {} bps threshold",
            t.il_threshold_bps
        )));
    }
    Ok(Triggered {
        loss: beyond.mul_amount(cover, Round::Down)?,
        incident: format!("il:{}:{}", t.feed, at.div_euclid(DAY)),
        once_per_incident: false,
    })
}

/// The number a claim names its incident by: an oracle incident's id, a slash's sequence number.
fn number(incident: &str, what: &str) -> Result<u64, Error> {
    incident
        .parse()
        .map_err(|_| errors::invalid_claim(format!("incident must be {what}, got {incident:?}")))
}

/// Incident cover pays the cover that remains for an oracle-confirmed incident of the covered
/// protocol that happened while the cover counted.
fn confirmed_incident(
    oracle: &dyn OracleView,
    ctx: &mut Ctx,
    window: &Window,
    terms: &Product,
    remaining: u128,
    incident: &str,
) -> Result<Triggered, Error> {
    let id = number(incident, "an oracle incident id")?;
    let found = oracle
        .incident(ctx, id)?
        .ok_or_else(|| errors::trigger_not_met(format!("no oracle incident {id}")))?;
    if !found.confirmed {
        return Err(errors::trigger_not_met(format!(
            "incident {id} is not confirmed"
        )));
    }
    if found.protocol != terms.protocol {
        return Err(errors::trigger_not_met(format!(
            "incident {id} concerns {}, the policy covers {}",
            found.protocol, terms.protocol
        )));
    }
    window.check(&format!("incident {id}"), found.time)?;
    Ok(Triggered {
        loss: remaining,
        incident: format!("incident:{id}"),
        once_per_incident: true,
    })
}

/// Slashing cover pays what a slash of the insured validator took of the holder's delegation,
/// counting at most the remaining cover: tokens × burned ÷ the validator's tokens before it.
fn slash(
    ctx: &mut Ctx,
    policy: &Policy,
    window: &Window,
    remaining: u128,
    incident: &str,
) -> Result<Triggered, Error> {
    let seq = number(
        incident,
        "the number of a slash (the `slash` attribute of staking's `slash` events)",
    )?;
    let record = surety_staking::slashes::slash(ctx, seq)?
        .ok_or_else(|| errors::trigger_not_met(format!("no slash {seq}")))?;
    let operator = Address(
        record
            .operator
            .as_slice()
            .try_into()
            .map_err(|_| sdk::internal("corrupt slash record"))?,
    );
    let insured = Address::from_bech32_with(&policy.validator, VALIDATOR_PREFIX)
        .map_err(|_| errors::trigger_not_met("the policy names no validator"))?;
    if operator != insured {
        return Err(errors::trigger_not_met(format!(
            "slash {seq} hit {}, the policy insures {}",
            operator.to_bech32_with(VALIDATOR_PREFIX),
            policy.validator
        )));
    }
    window.check(&format!("slash {seq}"), record.time)?;
    let owner = Address::from_bech32(&policy.owner)?;
    let (before, burned, shares) = (
        parse_amount(&record.tokens_before, "tokens_before")?,
        parse_amount(&record.burned, "burned")?,
        parse_amount(&record.shares, "shares")?,
    );
    // The holder's delegation as it stood before the slash (a slash leaves shares unchanged),
    // counted up to the remaining cover: delegating more afterwards cannot raise the payout.
    let held = surety_staking::delegation::delegation(ctx, &owner, &operator)?
        .map(|d| surety_staking::delegation::shares_of(&d.shares))
        .transpose()?
        .unwrap_or(0);
    let worth = if shares == 0 {
        0
    } else {
        mul_div(held, before, shares, Round::Down)?
    };
    let loss = if before == 0 {
        0
    } else {
        mul_div(worth.min(remaining), burned, before, Round::Down)?
    };
    if loss == 0 {
        return Err(errors::trigger_not_met(format!(
            "slash {seq} took nothing the policy covers from {}",
            policy.owner
        )));
    }
    Ok(Triggered {
        loss,
        incident: format!("slash:{seq}"),
        once_per_incident: true,
    })
}

/// What a claim pays: min(loss, cover) × (1 − deductible), rounded down.
pub fn payout(loss: u128, cover: u128, deductible_bps: u32) -> Result<u128, Error> {
    let covered = loss.min(cover);
    let deducted = apply_bps(covered, deductible_bps.min(10_000), Round::Up)?;
    sub(covered, deducted, "payout after deductible")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Dec {
        s.parse().unwrap()
    }

    #[test]
    fn impermanent_loss_matches_the_formula() {
        assert_eq!(impermanent_loss_of(Dec::ONE).unwrap(), Dec::ZERO);
        // r = 4: 1 − 2·2/5 = 0.2
        assert_eq!(impermanent_loss_of(dec("4")).unwrap(), dec("0.2"));
        // r = 0.25: 1 − 2·0.5/1.25 = 0.2, symmetric in r and 1/r
        assert_eq!(impermanent_loss_of(dec("0.25")).unwrap(), dec("0.2"));
        // r = 2: 1 − 2√2/3 ≈ 0.0571909584
        let il = impermanent_loss_of(dec("2")).unwrap();
        assert_eq!(il.0 / 1_000_000_000, 57_190_958);
    }

    #[test]
    fn payout_applies_the_deductible_to_the_covered_loss() {
        assert_eq!(payout(1_000, 800, 1_000).unwrap(), 720);
        assert_eq!(payout(500, 800, 1_000).unwrap(), 450);
        assert_eq!(
            payout(999, 10_000, 1).unwrap(),
            998,
            "rounds toward the pool"
        );
        assert_eq!(payout(0, 800, 0).unwrap(), 0);
        assert_eq!(payout(u128::MAX, u128::MAX, 10_000).unwrap(), 0);
        assert_eq!(
            payout(1_000, 800, u32::MAX).unwrap(),
            0,
            "deductible capped at 100%"
        );
        assert_eq!(payout(u128::MAX, 5, 0).unwrap(), 5);
    }

    #[test]
    fn extreme_prices_give_errors_not_panics() {
        assert!(impermanent_loss_of(Dec(u128::MAX)).is_err());
        assert_eq!(impermanent_loss_of(Dec::ZERO).unwrap(), Dec::ONE);
        let p = |price: u128, time| PricePoint {
            price: Dec(price),
            time,
        };
        // The largest prices over decades fit the 256-bit sum.
        let max = surety_framework::validate::MAX_PRICE.0;
        let t = 40 * 365 * DAY;
        assert_eq!(twap(p(max, 0), &[p(max, t / 2)], 0, t).unwrap(), Dec(max));
        assert!(
            twap(p(1, 0), &[p(1, 50)], 100, 10).is_err(),
            "time going backwards"
        );
        assert_eq!(twap(p(7, 0), &[], 5, 5).unwrap(), Dec(0), "an empty window");
    }

    #[test]
    fn twap_weights_prices_by_how_long_they_held() {
        let p = |price: &str, time| PricePoint {
            price: dec(price),
            time,
        };
        // 0.9 for 100s, then 0.8 for 300s: (90 + 240) / 400 = 0.825
        let avg = twap(p("0.9", 0), &[p("0.8", 100)], 0, 400).unwrap();
        assert_eq!(avg, dec("0.825"));
        assert_eq!(twap(p("0.97", -50), &[], 0, 10).unwrap(), dec("0.97"));
    }
}
