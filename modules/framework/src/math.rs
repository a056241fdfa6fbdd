//! Consensus arithmetic: integers only, with every rounding explicit and chosen to favour the
//! protocol (premiums round up, payouts and shares round down). Products go through 256 bits so
//! that `amount × amount × rate` never overflows.

use crate::error::{sdk, Error};
use ruint::aliases::U256;
use std::fmt;
use std::str::FromStr;

pub const BPS: u128 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    Down,
    Up,
}

fn to_u128(x: U256) -> Result<u128, Error> {
    u128::try_from(x).map_err(|_| sdk::invalid_request("amount overflows 128 bits"))
}

fn div(n: U256, d: U256, round: Round) -> Result<U256, Error> {
    if d.is_zero() {
        return Err(sdk::invalid_request("division by zero"));
    }
    Ok(match round {
        Round::Down => n / d,
        Round::Up => n.div_ceil(d),
    })
}

/// `a × b / d`, rounded as asked.
pub fn mul_div(a: u128, b: u128, d: u128, round: Round) -> Result<u128, Error> {
    to_u128(div(U256::from(a) * U256::from(b), U256::from(d), round)?)
}

/// `amount × bps / 10 000`.
pub fn apply_bps(amount: u128, bps: u32, round: Round) -> Result<u128, Error> {
    mul_div(amount, bps as u128, BPS, round)
}

/// A 256-bit accumulator for sums of products, divided down once at the end so that intermediate
/// results are never rounded. Overflow is an error, never a wrap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Wide(U256);

fn overflow() -> Error {
    sdk::invalid_request("amount too large for the arithmetic")
}

impl Wide {
    pub fn product(factors: &[u128]) -> Result<Wide, Error> {
        factors
            .iter()
            .try_fold(U256::from(1u8), |acc, f| acc.checked_mul(U256::from(*f)))
            .map(Wide)
            .ok_or_else(overflow)
    }
    pub fn plus(self, other: Wide) -> Result<Wide, Error> {
        self.0.checked_add(other.0).map(Wide).ok_or_else(overflow)
    }
    pub fn times(self, other: Wide) -> Result<Wide, Error> {
        self.0.checked_mul(other.0).map(Wide).ok_or_else(overflow)
    }
    /// `self − other`; callers guarantee `other ≤ self`, a violation is an internal error.
    pub fn minus(self, other: Wide) -> Result<Wide, Error> {
        self.0
            .checked_sub(other.0)
            .map(Wide)
            .ok_or_else(|| sdk::internal("negative intermediate in wide arithmetic"))
    }
    pub fn div(self, d: Wide, round: Round) -> Result<u128, Error> {
        to_u128(div(self.0, d.0, round)?)
    }
}

/// Integer square root, rounded down.
pub fn isqrt(n: u128) -> u128 {
    n.isqrt()
}

/// A non-negative decimal with 18 places, as Cosmos `Dec` prints it ("0.970000000000000000");
/// used for prices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dec(pub u128);

impl Dec {
    pub const SCALE: u128 = 1_000_000_000_000_000_000;
    pub const ONE: Dec = Dec(Dec::SCALE);
    pub const ZERO: Dec = Dec(0);

    /// `amount × self`, rounded as asked.
    pub fn mul_amount(self, amount: u128, round: Round) -> Result<u128, Error> {
        mul_div(amount, self.0, Dec::SCALE, round)
    }
    pub fn ratio(n: u128, d: u128, round: Round) -> Result<Dec, Error> {
        mul_div(n, Dec::SCALE, d, round).map(Dec)
    }
    pub fn mul(self, other: Dec, round: Round) -> Result<Dec, Error> {
        mul_div(self.0, other.0, Dec::SCALE, round).map(Dec)
    }
    pub fn div(self, other: Dec, round: Round) -> Result<Dec, Error> {
        mul_div(self.0, Dec::SCALE, other.0, round).map(Dec)
    }
    /// Square root, rounded down: √(x·10¹⁸)·10⁹ keeps nine exact digits.
    pub fn sqrt(self) -> Dec {
        Dec(isqrt(self.0) * 1_000_000_000)
    }
    pub fn saturating_sub(self, other: Dec) -> Dec {
        Dec(self.0.saturating_sub(other.0))
    }
    pub fn from_bps(bps: u32) -> Dec {
        Dec(bps as u128 * (Dec::SCALE / BPS))
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:018}", self.0 / Dec::SCALE, self.0 % Dec::SCALE)
    }
}

impl FromStr for Dec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Dec, Error> {
        let bad = || sdk::invalid_request(format!("invalid decimal {s:?}"));
        let (int, frac) = match s.split_once('.') {
            Some((_, "")) => return Err(bad()),
            Some(parts) => parts,
            None => (s, ""),
        };
        if int.is_empty()
            || frac.len() > 18
            || !(int.chars().chain(frac.chars())).all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let int: u128 = int.parse().map_err(|_| bad())?;
        let frac_value: u128 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        let frac_scaled = frac_value * 10u128.pow(18 - frac.len() as u32);
        int.checked_mul(Dec::SCALE)
            .and_then(|i| i.checked_add(frac_scaled))
            .map(Dec)
            .ok_or_else(bad)
    }
}

/// Parses an integer amount field (Cosmos `Int` as a decimal string); empty means zero.
pub fn parse_amount(s: &str, field: &str) -> Result<u128, Error> {
    if s.is_empty() {
        return Ok(0);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(sdk::invalid_request(format!(
            "invalid {field} {s:?}: not a non-negative integer"
        )));
    }
    s.parse()
        .map_err(|_| sdk::invalid_request(format!("invalid {field} {s:?}: too large")))
}

/// `a + b` or an internal error (amounts that overflow 128 bits cannot arise from real supply).
pub fn add(a: u128, b: u128) -> Result<u128, Error> {
    a.checked_add(b)
        .ok_or_else(|| sdk::internal("amount overflow"))
}

/// `a − b` or an internal error naming what would go negative.
pub fn sub(a: u128, b: u128, what: &str) -> Result<u128, Error> {
    a.checked_sub(b)
        .ok_or_else(|| sdk::internal(format!("{what} would go negative")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_rounds_as_asked_and_does_not_overflow() {
        assert_eq!(mul_div(10, 1, 3, Round::Down).unwrap(), 3);
        assert_eq!(mul_div(10, 1, 3, Round::Up).unwrap(), 4);
        assert_eq!(mul_div(9, 1, 3, Round::Up).unwrap(), 3);
        let big = u128::MAX / 2;
        assert_eq!(mul_div(big, big, big, Round::Down).unwrap(), big);
        assert!(mul_div(1, 1, 0, Round::Down).is_err());
        assert!(mul_div(u128::MAX, 2, 1, Round::Down).is_err());
    }

    #[test]
    fn decimals_parse_and_print_like_cosmos() {
        let d: Dec = "0.97".parse().unwrap();
        assert_eq!(d.0, 970_000_000_000_000_000);
        assert_eq!(d.to_string(), "0.970000000000000000");
        assert_eq!("12".parse::<Dec>().unwrap(), Dec(12 * Dec::SCALE));
        for bad in [
            "",
            ".5",
            "1.",
            "-1",
            "1.2.3",
            "0.1234567890123456789",
            "abc",
        ] {
            assert!(bad.parse::<Dec>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn square_roots_are_exact_to_nine_places() {
        assert_eq!(isqrt(0), 0);
        assert_eq!(isqrt(15), 3);
        assert_eq!(isqrt(16), 4);
        assert_eq!(isqrt(u128::MAX), 18_446_744_073_709_551_615);
        assert_eq!(Dec(4 * Dec::SCALE).sqrt(), Dec(2 * Dec::SCALE));
        let two_sqrt = Dec(2 * Dec::SCALE).sqrt();
        assert_eq!(two_sqrt.0 / 1_000_000_000, 1_414_213_562);
    }

    #[test]
    fn amounts_parse_strictly() {
        assert_eq!(parse_amount("", "x").unwrap(), 0);
        assert_eq!(parse_amount("42", "x").unwrap(), 42);
        assert!(parse_amount("-1", "x").is_err());
        assert!(parse_amount("1e3", "x").is_err());
        assert!(parse_amount("999999999999999999999999999999999999999999", "x").is_err());
    }
}
