//! Multi-denom decimal amounts (Cosmos `DecCoins`): each amount × 10¹⁸, exact until paid out.

use std::collections::BTreeMap;
use surety_framework::math::{mul_div, Round};
use surety_framework::{sdk, Coins, Dec, Error};
use surety_proto::cosmos::base::v1beta1::DecCoin;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecCoins(pub BTreeMap<String, u128>);

impl DecCoins {
    pub fn from_proto(list: &[DecCoin]) -> Result<DecCoins, Error> {
        let mut out = BTreeMap::new();
        for c in list {
            let amount: u128 = c
                .amount
                .parse()
                .map_err(|_| sdk::internal(format!("corrupt decimal amount {:?}", c.amount)))?;
            out.insert(c.denom.clone(), amount);
        }
        Ok(DecCoins(out))
    }

    pub fn to_proto(&self) -> Vec<DecCoin> {
        self.0
            .iter()
            .filter(|(_, a)| **a > 0)
            .map(|(denom, amount)| DecCoin {
                denom: denom.clone(),
                amount: amount.to_string(),
            })
            .collect()
    }

    /// Whole coins as decimals; an amount above `u128::MAX / 10¹⁸` (3.4 × 10²⁰) cannot be held.
    pub fn from_coins(coins: &Coins) -> Result<DecCoins, Error> {
        Ok(DecCoins(
            coins
                .iter()
                .map(|c| {
                    let amount = c.amount.checked_mul(Dec::SCALE).ok_or_else(|| {
                        sdk::invalid_coins(format!("{c} is too large for reward accounting"))
                    })?;
                    Ok((c.denom.clone(), amount))
                })
                .collect::<Result<_, Error>>()?,
        ))
    }

    /// `self + other`; an error rather than a wrap if any amount would overflow.
    pub fn add(&mut self, other: &DecCoins) -> Result<(), Error> {
        for (denom, amount) in &other.0 {
            let e = self.0.entry(denom.clone()).or_default();
            *e = e
                .checked_add(*amount)
                .ok_or_else(|| sdk::internal(format!("distribution: {denom} overflows")))?;
        }
        Ok(())
    }

    /// `self − other`; an internal error if any amount would go negative.
    pub fn sub(&mut self, other: &DecCoins) -> Result<(), Error> {
        for (denom, amount) in &other.0 {
            let e = self.0.entry(denom.clone()).or_default();
            *e = e
                .checked_sub(*amount)
                .ok_or_else(|| sdk::internal(format!("distribution: {denom} would go negative")))?;
        }
        self.0.retain(|_, a| *a > 0);
        Ok(())
    }

    /// Each amount × n / d, rounded down.
    pub fn scale(&self, n: u128, d: u128) -> Result<DecCoins, Error> {
        Ok(DecCoins(
            self.0
                .iter()
                .map(|(denom, a)| Ok((denom.clone(), mul_div(*a, n, d, Round::Down)?)))
                .collect::<Result<_, Error>>()?,
        ))
    }

    /// The whole coins, and what is left below one unit.
    pub fn truncate(&self) -> (Coins, DecCoins) {
        let mut whole = Vec::new();
        let mut rest = BTreeMap::new();
        for (denom, a) in &self.0 {
            if a / Dec::SCALE > 0 {
                whole.push(surety_framework::Coin::new(a / Dec::SCALE, denom.clone()));
            }
            if a % Dec::SCALE > 0 {
                rest.insert(denom.clone(), a % Dec::SCALE);
            }
        }
        (Coins::from_vec(whole).unwrap_or_default(), DecCoins(rest))
    }

    pub fn is_zero(&self) -> bool {
        self.0.values().all(|a| *a == 0)
    }
}
