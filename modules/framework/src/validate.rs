//! Stateless validation (Cosmos's `ValidateBasic`): the checks every message passes before it
//! touches state, in CheckTx and again before execution. Each returns the parsed value, so a
//! handler never re-parses what was checked.

use crate::address::Address;
use crate::error::{sdk, Error};
use crate::math::{Dec, BPS};

/// The largest amount a message may carry: 10³⁰ base units (10¹² tokens of 18 decimals). Far
/// beyond any real supply, and small enough that a product of two amounts and a rate fits the
/// 256-bit intermediates of [`crate::math`].
pub const MAX_AMOUNT: u128 = 1_000_000_000_000_000_000_000_000_000_000;

/// The largest price a message or vote may carry, as a decimal: 10¹².
pub const MAX_PRICE: Dec = Dec(1_000_000_000_000 * Dec::SCALE);

/// Longest free-text field (descriptions, evidence, metadata), in bytes.
pub const MAX_TEXT: usize = 10_240;
/// Longest name-like field (monikers, protocol names, feed ids), in bytes.
pub const MAX_NAME: usize = 128;
/// Most entries in a list a message carries.
pub const MAX_LIST: usize = 64;

fn invalid(field: &str, why: impl std::fmt::Display) -> Error {
    sdk::invalid_request(format!("{field}: {why}"))
}

/// An account address (`surety1…`).
pub fn address(s: &str, field: &str) -> Result<Address, Error> {
    Address::from_bech32(s).map_err(|e| sdk::invalid_address(format!("invalid {field}: {}", e.log)))
}

/// A validator operator address (`suretyvaloper1…`).
pub fn validator(s: &str, field: &str) -> Result<Address, Error> {
    Address::from_bech32_with(s, crate::VALIDATOR_PREFIX)
        .map_err(|e| sdk::invalid_address(format!("invalid {field}: {}", e.log)))
}

/// An amount in base units: an integer in (0, [`MAX_AMOUNT`]].
pub fn amount(s: &str, field: &str) -> Result<u128, Error> {
    let v = amount_or_zero(s, field)?;
    if v == 0 {
        return Err(sdk::invalid_coins(format!("{field} must be positive")));
    }
    Ok(v)
}

/// An amount that may be zero (a limit such as `max_premium`), at most [`MAX_AMOUNT`].
pub fn amount_or_zero(s: &str, field: &str) -> Result<u128, Error> {
    let v = crate::math::parse_amount(s, field)?;
    if v > MAX_AMOUNT {
        return Err(sdk::invalid_coins(format!(
            "{field} {v} is above the maximum {MAX_AMOUNT}"
        )));
    }
    Ok(v)
}

/// A decimal in [0, 1].
pub fn fraction(s: &str, field: &str) -> Result<Dec, Error> {
    let d: Dec = s
        .parse()
        .map_err(|_| invalid(field, format!("{s:?} is not a decimal")))?;
    if d > Dec::ONE {
        return Err(invalid(field, format!("{d} is above 1")));
    }
    Ok(d)
}

/// A decimal in (0, 1].
pub fn positive_fraction(s: &str, field: &str) -> Result<Dec, Error> {
    let d = fraction(s, field)?;
    if d == Dec::ZERO {
        return Err(invalid(field, "must be positive"));
    }
    Ok(d)
}

/// A price: a decimal in (0, [`MAX_PRICE`]].
pub fn price(s: &str, field: &str) -> Result<Dec, Error> {
    let d: Dec = s
        .parse()
        .map_err(|_| invalid(field, format!("{s:?} is not a decimal")))?;
    if d == Dec::ZERO || d > MAX_PRICE {
        return Err(invalid(field, format!("{d} is not in (0, {MAX_PRICE}]")));
    }
    Ok(d)
}

/// Basis points in [0, 10 000].
pub fn bps(v: u32, field: &str) -> Result<u32, Error> {
    if v as u128 > BPS {
        return Err(invalid(field, format!("{v} bps is above {BPS}")));
    }
    Ok(v)
}

/// An id: ids count from 1, so 0 names nothing.
pub fn id(v: u64, field: &str) -> Result<u64, Error> {
    if v == 0 {
        return Err(invalid(field, "must be set (ids start at 1)"));
    }
    Ok(v)
}

/// A string of at most `max` bytes.
pub fn text<'a>(s: &'a str, field: &str, max: usize) -> Result<&'a str, Error> {
    if s.len() > max {
        return Err(invalid(
            field,
            format!("{} bytes, the maximum is {max}", s.len()),
        ));
    }
    Ok(s)
}

/// A non-blank string of at most `max` bytes.
pub fn name<'a>(s: &'a str, field: &str, max: usize) -> Result<&'a str, Error> {
    if s.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    text(s, field, max)
}

/// A list of at most `max` entries with no entry twice (by `key`).
pub fn unique_list<T, K: Ord>(
    items: &[T],
    field: &str,
    max: usize,
    key: impl Fn(&T) -> K,
) -> Result<(), Error> {
    if items.len() > max {
        return Err(invalid(
            field,
            format!("{} entries, the maximum is {max}", items.len()),
        ));
    }
    let mut keys: Vec<K> = items.iter().map(key).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(invalid(field, "an entry appears twice"));
    }
    Ok(())
}

/// A duration or period in seconds: positive and at most ten years.
pub fn seconds(v: i64, field: &str) -> Result<i64, Error> {
    const TEN_YEARS: i64 = 10 * 365 * 24 * 3600;
    if v <= 0 || v > TEN_YEARS {
        return Err(invalid(field, format!("{v}s is not in (0, {TEN_YEARS}]")));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_are_refused() {
        assert!(amount("0", "a").is_err());
        assert!(amount("1", "a").is_ok());
        assert!(amount(&MAX_AMOUNT.to_string(), "a").is_ok());
        assert!(amount(&(MAX_AMOUNT + 1).to_string(), "a").is_err());
        assert!(amount(&u128::MAX.to_string(), "a").is_err());
        assert!(amount("340282366920938463463374607431768211456", "a").is_err());
        assert!(amount("-1", "a").is_err());
        assert!(fraction("1.000000000000000001", "f").is_err());
        assert!(fraction("1", "f").is_ok());
        assert!(positive_fraction("0", "f").is_err());
        assert!(price("0", "p").is_err());
        assert!(price("1000000000001", "p").is_err());
        assert!(bps(10_001, "b").is_err());
        assert!(id(0, "id").is_err());
        assert!(name(" ", "n", 8).is_err());
        assert!(text("123456789", "t", 8).is_err());
        assert!(unique_list(&[1, 2, 1], "l", 8, |x| *x).is_err());
        assert!(unique_list(&[1, 2, 3], "l", 2, |x| *x).is_err());
        assert!(seconds(0, "s").is_err());
    }
}
