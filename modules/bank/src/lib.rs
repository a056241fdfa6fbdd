//! bank: balances, total supply, `MsgSend` and `MsgMultiSend`.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

mod genesis;
mod msgs;
mod query;
mod state;

pub use genesis::{Balance, CoinJson, GenesisState};
pub use msgs::check_coins;
pub use state::balance_key;

use surety_auth::Auth;
use surety_framework::{sdk, Address, Coins, Ctx, Error, Event, Module, Msgs};

pub const STORE: &str = "bank";

/// The bank module and its keeper API.
#[derive(Clone, Copy, Default)]
pub struct Bank {
    auth: Auth,
}

impl Bank {
    pub fn balance(&self, ctx: &mut Ctx, address: &Address, denom: &str) -> Result<u128, Error> {
        state::balance(ctx, address, denom)
    }

    pub fn balances(&self, ctx: &mut Ctx, address: &Address) -> Result<Coins, Error> {
        state::balances(ctx, address)
    }

    pub fn supply_of(&self, ctx: &mut Ctx, denom: &str) -> Result<u128, Error> {
        state::supply(ctx, denom)
    }

    /// Moves coins between accounts, creating the recipient's account if it is new.
    pub fn send(
        &self,
        ctx: &mut Ctx,
        from: &Address,
        to: &Address,
        amount: &Coins,
    ) -> Result<(), Error> {
        self.subtract(ctx, from, amount)?;
        self.add(ctx, to, amount)?;
        self.auth.ensure_account(ctx, to)?;
        ctx.emit(
            Event::new("transfer")
                .attr("recipient", to)
                .attr("sender", from)
                .attr("amount", amount),
        );
        Ok(())
    }

    pub fn send_to_module(
        &self,
        ctx: &mut Ctx,
        from: &Address,
        module: &str,
        amount: &Coins,
    ) -> Result<(), Error> {
        declared(module)?;
        self.auth.ensure_module_account(ctx, module)?;
        self.send(ctx, from, &Address::module(module), amount)
    }

    pub fn send_from_module(
        &self,
        ctx: &mut Ctx,
        module: &str,
        to: &Address,
        amount: &Coins,
    ) -> Result<(), Error> {
        declared(module)?;
        self.send(ctx, &Address::module(module), to, amount)
    }

    /// Creates coins in a module account, raising the supply.
    pub fn mint(&self, ctx: &mut Ctx, module: &str, amount: &Coins) -> Result<(), Error> {
        declared(module)?;
        let account = self.auth.ensure_module_account(ctx, module)?;
        for coin in amount {
            let supply = state::supply(ctx, &coin.denom)?
                .checked_add(coin.amount)
                .ok_or_else(|| sdk::invalid_coins(format!("supply of {} overflows", coin.denom)))?;
            state::set_supply(ctx, &coin.denom, supply)?;
        }
        self.add(ctx, &account.address, amount)?;
        ctx.emit(
            Event::new("coinbase")
                .attr("minter", account.address)
                .attr("amount", amount),
        );
        Ok(())
    }

    /// Destroys coins held by a module account, lowering the supply.
    pub fn burn(&self, ctx: &mut Ctx, module: &str, amount: &Coins) -> Result<(), Error> {
        declared(module)?;
        let address = Address::module(module);
        self.subtract(ctx, &address, amount)?;
        for coin in amount {
            let supply = surety_framework::math::sub(
                state::supply(ctx, &coin.denom)?,
                coin.amount,
                "total supply",
            )?;
            state::set_supply(ctx, &coin.denom, supply)?;
        }
        ctx.emit(
            Event::new("burn")
                .attr("burner", address)
                .attr("amount", amount),
        );
        Ok(())
    }

    fn subtract(&self, ctx: &mut Ctx, address: &Address, amount: &Coins) -> Result<(), Error> {
        for coin in amount {
            let have = state::balance(ctx, address, &coin.denom)?;
            let left = have.checked_sub(coin.amount).ok_or_else(|| {
                sdk::insufficient_funds(format!(
                    "spendable balance {have}{} is smaller than {coin}",
                    coin.denom
                ))
            })?;
            state::set_balance(ctx, address, &coin.denom, left)?;
        }
        ctx.emit(
            Event::new("coin_spent")
                .attr("spender", address)
                .attr("amount", amount),
        );
        Ok(())
    }

    fn add(&self, ctx: &mut Ctx, address: &Address, amount: &Coins) -> Result<(), Error> {
        for coin in amount {
            let have = state::balance(ctx, address, &coin.denom)?;
            let sum = have.checked_add(coin.amount).ok_or_else(|| {
                sdk::invalid_coins(format!("balance of {address} in {} overflows", coin.denom))
            })?;
            state::set_balance(ctx, address, &coin.denom, sum)?;
        }
        ctx.emit(
            Event::new("coin_received")
                .attr("receiver", address)
                .attr("amount", amount),
        );
        Ok(())
    }

    /// Module accounts receive funds only through their module's own logic, never from a user's send.
    /// Users may not send to a module account, whether or not it exists yet (Cosmos's blocked
    /// addresses): coins there would be outside every module's accounting, and an account
    /// created first by a user could not become the module's.
    pub fn check_receiver(to: &Address) -> Result<(), Error> {
        if surety_framework::accounts::is_module_address(to) {
            return Err(sdk::unauthorized(format!(
                "{to} is a module account and is not allowed to receive funds"
            )));
        }
        Ok(())
    }
}

/// Module code may move coins only through declared module accounts.
fn declared(module: &str) -> Result<(), Error> {
    if !surety_framework::accounts::is_declared(module) {
        return Err(sdk::internal(format!(
            "{module} is not a declared module account (surety_framework::accounts)"
        )));
    }
    Ok(())
}

impl Module for Bank {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        let bank = *self;
        Msgs::new()
            .add(msgs::check_send, move |ctx, m| msgs::send(&bank, ctx, m))
            .add(msgs::check_multi_send, move |ctx, m| {
                msgs::multi_send(&bank, ctx, m)
            })
            .add(msgs::check_update_params, msgs::update_params)
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(ctx, path, request)
    }

    fn default_genesis(&self) -> serde_json::Value {
        serde_json::to_value(GenesisState::default()).expect("genesis serializes")
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        GenesisState::parse(genesis)?.validate()
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        GenesisState::parse(genesis)
            .map_err(sdk::invalid_request)?
            .init(self, ctx)
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        serde_json::to_value(GenesisState::export(ctx)?).map_err(|e| sdk::internal(e.to_string()))
    }

    /// The sum of all balances equals the total supply, denom by denom.
    fn check_invariants(&self, ctx: &mut Ctx) -> Result<(), String> {
        state::supply_matches_balances(ctx).map_err(|e| e.log)?
    }
}
