//! Key layout of the `bank` substore, in one place. Amounts are stored as decimal strings, as
//! Cosmos stores `math.Int`, so proofs over them are readable.

use crate::STORE;
use std::collections::BTreeMap;
use surety_framework::{sdk, Address, Coin, Coins, Ctx, Error};

const SUPPLY: u8 = 0x00;
const BALANCE: u8 = 0x02;

pub fn balance_key(address: &Address, denom: &str) -> Vec<u8> {
    let mut key = balance_prefix(address);
    key.extend_from_slice(denom.as_bytes());
    key
}

fn balance_prefix(address: &Address) -> Vec<u8> {
    let mut key = vec![BALANCE];
    key.extend_from_slice(&address.0);
    key
}

fn supply_key(denom: &str) -> Vec<u8> {
    let mut key = vec![SUPPLY];
    key.extend_from_slice(denom.as_bytes());
    key
}

fn parse_amount(bytes: &[u8]) -> Result<u128, Error> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| sdk::internal("corrupt amount in bank state"))
}

fn set_amount(ctx: &mut Ctx, key: Vec<u8>, amount: u128) -> Result<(), Error> {
    if amount == 0 {
        ctx.delete(STORE, key)
    } else {
        ctx.put(STORE, key, amount.to_string().into_bytes())
    }
}

pub fn balance(ctx: &mut Ctx, address: &Address, denom: &str) -> Result<u128, Error> {
    ctx.get(STORE, &balance_key(address, denom))?
        .map_or(Ok(0), |b| parse_amount(&b))
}

pub fn set_balance(
    ctx: &mut Ctx,
    address: &Address,
    denom: &str,
    amount: u128,
) -> Result<(), Error> {
    set_amount(ctx, balance_key(address, denom), amount)
}

pub fn balances(ctx: &mut Ctx, address: &Address) -> Result<Coins, Error> {
    let prefix = balance_prefix(address);
    let coins = ctx
        .prefix(STORE, &prefix)?
        .into_iter()
        .map(|(key, value)| {
            let denom = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            Ok(Coin::new(parse_amount(&value)?, denom))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Coins::from_vec(coins)
}

/// Every non-zero balance, by address then denom.
pub fn all_balances(ctx: &mut Ctx) -> Result<BTreeMap<Address, Coins>, Error> {
    let mut out: BTreeMap<Address, Vec<Coin>> = BTreeMap::new();
    for (key, value) in ctx.prefix(STORE, &[BALANCE])? {
        let corrupt = || sdk::internal("corrupt balance key");
        let address = Address(
            key.get(1..21)
                .ok_or_else(corrupt)?
                .try_into()
                .map_err(|_| corrupt())?,
        );
        let denom = String::from_utf8_lossy(key.get(21..).unwrap_or_default()).into_owned();
        out.entry(address)
            .or_default()
            .push(Coin::new(parse_amount(&value)?, denom));
    }
    out.into_iter()
        .map(|(a, c)| Ok((a, Coins::from_vec(c)?)))
        .collect()
}

pub fn supply(ctx: &mut Ctx, denom: &str) -> Result<u128, Error> {
    ctx.get(STORE, &supply_key(denom))?
        .map_or(Ok(0), |b| parse_amount(&b))
}

pub fn set_supply(ctx: &mut Ctx, denom: &str, amount: u128) -> Result<(), Error> {
    set_amount(ctx, supply_key(denom), amount)
}

pub fn total_supply(ctx: &mut Ctx) -> Result<Coins, Error> {
    let coins = ctx
        .prefix(STORE, &[SUPPLY])?
        .into_iter()
        .map(|(key, value)| {
            Ok(Coin::new(
                parse_amount(&value)?,
                String::from_utf8_lossy(&key[1..]).into_owned(),
            ))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Coins::from_vec(coins)
}

pub fn supply_matches_balances(ctx: &mut Ctx) -> Result<Result<(), String>, Error> {
    let mut summed: BTreeMap<String, u128> = BTreeMap::new();
    for coins in all_balances(ctx)?.values() {
        for coin in coins {
            let entry = summed.entry(coin.denom.clone()).or_default();
            *entry = surety_framework::math::add(*entry, coin.amount)?;
        }
    }
    let supply: BTreeMap<String, u128> = total_supply(ctx)?
        .iter()
        .map(|c| (c.denom.clone(), c.amount))
        .collect();
    if summed == supply {
        Ok(Ok(()))
    } else {
        Ok(Err(format!(
            "bank: total supply {supply:?} differs from the sum of balances {summed:?}"
        )))
    }
}
