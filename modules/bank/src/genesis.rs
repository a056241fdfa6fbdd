//! bank genesis, in the shape of Cosmos SDK genesis files.

use crate::{state, Bank};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use surety_framework::{sdk, Address, Coin, Coins, Ctx, Error};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CoinJson {
    pub denom: String,
    pub amount: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    pub address: String,
    pub coins: Vec<CoinJson>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct GenesisState {
    #[serde(default)]
    pub balances: Vec<Balance>,
    /// If given, must equal the sum of balances; if empty it is computed.
    #[serde(default)]
    pub supply: Vec<CoinJson>,
}

fn to_coins(coins: &[CoinJson]) -> Result<Coins, Error> {
    Coins::from_vec(
        coins
            .iter()
            .map(|c| {
                Coin::from_proto(&surety_proto::cosmos::base::v1beta1::Coin {
                    denom: c.denom.clone(),
                    amount: c.amount.clone(),
                })
            })
            .collect::<Result<_, _>>()?,
    )
}

fn to_json(coins: &Coins) -> Vec<CoinJson> {
    coins
        .iter()
        .map(|c| CoinJson {
            denom: c.denom.clone(),
            amount: c.amount.to_string(),
        })
        .collect()
}

impl GenesisState {
    pub fn parse(value: &serde_json::Value) -> Result<GenesisState, String> {
        serde_json::from_value(value.clone()).map_err(|e| format!("bank genesis: {e}"))
    }

    /// Adds coins to an address's genesis balance.
    pub fn add_balance(&mut self, address: &Address, coins: &Coins) -> Result<(), String> {
        let bech = address.to_bech32();
        match self.balances.iter_mut().find(|b| b.address == bech) {
            Some(existing) => {
                let sum = to_coins(&existing.coins)
                    .and_then(|c| c.checked_add(coins))
                    .map_err(|e| e.log)?;
                existing.coins = to_json(&sum);
            }
            None => self.balances.push(Balance {
                address: bech,
                coins: to_json(coins),
            }),
        }
        Ok(())
    }

    pub fn computed_supply(&self) -> Result<Coins, String> {
        let mut total = Coins::new();
        for b in &self.balances {
            let coins = to_coins(&b.coins)
                .map_err(|e| format!("bank genesis: balance of {}: {}", b.address, e.log))?;
            total = total.checked_add(&coins).map_err(|e| e.log)?;
        }
        Ok(total)
    }

    pub fn validate(&self) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for b in &self.balances {
            Address::from_bech32(&b.address).map_err(|e| format!("bank genesis: {}", e.log))?;
            if !seen.insert(&b.address) {
                return Err(format!("bank genesis: duplicate balance for {}", b.address));
            }
        }
        let computed = self.computed_supply()?;
        if !self.supply.is_empty() {
            let declared =
                to_coins(&self.supply).map_err(|e| format!("bank genesis: supply: {}", e.log))?;
            if declared != computed {
                return Err(format!(
                    "bank genesis: declared supply {declared} does not equal the sum of balances {computed}"
                ));
            }
        }
        Ok(())
    }

    pub fn init(&self, bank: &Bank, ctx: &mut Ctx) -> Result<(), Error> {
        self.validate().map_err(sdk::invalid_request)?;
        for b in &self.balances {
            let address = Address::from_bech32(&b.address)?;
            for coin in &to_coins(&b.coins)? {
                state::set_balance(ctx, &address, &coin.denom, coin.amount)?;
            }
            bank.auth.ensure_account(ctx, &address)?;
        }
        for coin in &self.computed_supply().map_err(sdk::invalid_request)? {
            state::set_supply(ctx, &coin.denom, coin.amount)?;
        }
        Ok(())
    }

    pub fn export(ctx: &mut Ctx) -> Result<GenesisState, Error> {
        Ok(GenesisState {
            balances: state::all_balances(ctx)?
                .iter()
                .map(|(address, coins)| Balance {
                    address: address.to_bech32(),
                    coins: to_json(coins),
                })
                .collect(),
            supply: to_json(&state::total_supply(ctx)?),
        })
    }
}
