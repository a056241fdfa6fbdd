//! Coins: integer amounts of a denom. Sets of coins are kept sorted by denom with no zeros,
//! as Cosmos SDK `sdk.Coins` are, so their encoding is canonical.

use crate::error::{sdk, Error};
use std::fmt;
use std::str::FromStr;
use surety_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Coin {
    pub denom: String,
    pub amount: u128,
}

impl Coin {
    pub fn new(amount: u128, denom: impl Into<String>) -> Coin {
        Coin {
            denom: denom.into(),
            amount,
        }
    }

    pub fn from_proto(c: &ProtoCoin) -> Result<Coin, Error> {
        validate_denom(&c.denom)?;
        let amount = c.amount.parse::<u128>().map_err(|_| {
            sdk::invalid_coins(format!("invalid amount {:?} for {}", c.amount, c.denom))
        })?;
        Ok(Coin::new(amount, c.denom.clone()))
    }

    pub fn to_proto(&self) -> ProtoCoin {
        ProtoCoin {
            denom: self.denom.clone(),
            amount: self.amount.to_string(),
        }
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.denom)
    }
}

impl FromStr for Coin {
    type Err = Error;
    fn from_str(s: &str) -> Result<Coin, Error> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (amount, denom) = s.split_at(split);
        if amount.is_empty() {
            return Err(sdk::invalid_coins(format!(
                "invalid coin expression: {s:?}"
            )));
        }
        validate_denom(denom)?;
        let amount = amount
            .parse::<u128>()
            .map_err(|_| sdk::invalid_coins(format!("amount out of range: {s:?}")))?;
        Ok(Coin::new(amount, denom))
    }
}

/// Denoms as Cosmos allows them: a letter, then 2–127 of letters, digits, `/ : . _ -`.
pub fn validate_denom(denom: &str) -> Result<(), Error> {
    let mut chars = denom.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "/:._-".contains(c));
    if !first_ok || !rest_ok || !(3..=128).contains(&denom.len()) {
        return Err(sdk::invalid_coins(format!("invalid denom: {denom:?}")));
    }
    Ok(())
}

/// A canonical set of coins: sorted by denom, unique, all positive.
#[derive(Clone, PartialEq, Eq, Default, Debug)]
pub struct Coins(Vec<Coin>);

impl Coins {
    pub fn new() -> Coins {
        Coins(Vec::new())
    }

    /// Builds a canonical set, rejecting duplicates and zero amounts as Cosmos `Coins.Validate` does.
    pub fn from_vec(mut coins: Vec<Coin>) -> Result<Coins, Error> {
        coins.sort_by(|a, b| a.denom.cmp(&b.denom));
        for pair in coins.windows(2) {
            if pair[0].denom == pair[1].denom {
                return Err(sdk::invalid_coins(format!(
                    "duplicate denomination {}",
                    pair[0].denom
                )));
            }
        }
        if let Some(zero) = coins.iter().find(|c| c.amount == 0) {
            return Err(sdk::invalid_coins(format!(
                "coin {zero} amount is not positive"
            )));
        }
        Ok(Coins(coins))
    }

    /// One denom's amount; empty when the amount is zero.
    pub fn of(amount: u128, denom: &str) -> Coins {
        if amount == 0 {
            Coins::new()
        } else {
            Coins(vec![Coin::new(amount, denom)])
        }
    }

    pub fn from_proto(coins: &[ProtoCoin]) -> Result<Coins, Error> {
        Coins::from_vec(
            coins
                .iter()
                .map(Coin::from_proto)
                .collect::<Result<_, _>>()?,
        )
    }

    pub fn to_proto(&self) -> Vec<ProtoCoin> {
        self.0.iter().map(Coin::to_proto).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Coin> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn amount_of(&self, denom: &str) -> u128 {
        self.0
            .iter()
            .find(|c| c.denom == denom)
            .map_or(0, |c| c.amount)
    }

    /// Adds, failing on overflow rather than wrapping.
    pub fn checked_add(&self, other: &Coins) -> Result<Coins, Error> {
        let mut out = self.0.clone();
        for c in other.iter() {
            match out.iter_mut().find(|o| o.denom == c.denom) {
                Some(o) => {
                    o.amount = o
                        .amount
                        .checked_add(c.amount)
                        .ok_or_else(|| sdk::invalid_coins(format!("overflow adding {c}")))?
                }
                None => out.push(c.clone()),
            }
        }
        Coins::from_vec(out)
    }

    /// True when every denom of `other` is covered by at least that amount here.
    pub fn covers(&self, other: &Coins) -> bool {
        other.iter().all(|c| self.amount_of(&c.denom) >= c.amount)
    }
}

impl fmt::Display for Coins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(Coin::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Coins {
    type Err = Error;
    /// Parses `"10usure,5uusdc"`; the empty string is the empty set.
    fn from_str(s: &str) -> Result<Coins, Error> {
        if s.trim().is_empty() {
            return Ok(Coins::new());
        }
        Coins::from_vec(s.split(',').map(Coin::from_str).collect::<Result<_, _>>()?)
    }
}

impl<'a> IntoIterator for &'a Coins {
    type Item = &'a Coin;
    type IntoIter = std::slice::Iter<'a, Coin>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_sorts_and_validates() {
        let c: Coins = "5uusdc,10usure".parse().unwrap();
        assert_eq!(c.to_string(), "10usure,5uusdc");
        assert_eq!(c.amount_of("uusdc"), 5);
        assert_eq!("0usure".parse::<Coins>().unwrap_err().code, 10);
        assert_eq!("1usure,2usure".parse::<Coins>().unwrap_err().code, 10);
        assert_eq!("usure".parse::<Coins>().unwrap_err().code, 10);
        assert_eq!("10u".parse::<Coins>().unwrap_err().code, 10);
        assert!("".parse::<Coins>().unwrap().is_empty());
    }

    #[test]
    fn add_and_cover() {
        let a: Coins = "10usure".parse().unwrap();
        let b: Coins = "5usure,1uusdc".parse().unwrap();
        let sum = a.checked_add(&b).unwrap();
        assert_eq!(sum.to_string(), "15usure,1uusdc");
        assert!(sum.covers(&b));
        assert!(!a.covers(&b));
        let max = Coins::from_vec(vec![Coin::new(u128::MAX, "usure")]).unwrap();
        assert!(max.checked_add(&a).is_err());
    }
}
