//! policy: covered products, priced cover and transferable policy certificates.
//!
//! Governance lists products; anyone buys cover at the price `Query/Quote` shows, filled across
//! the pools that underwrite the product. A policy freezes the product's terms at purchase and
//! can be transferred; it expires by block time.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

pub mod errors;
mod keeper;
pub mod msgs;
pub mod pricing;
mod query;
pub mod state;
#[cfg(test)]
mod tests;

pub use keeper::{claimed_cover, remaining_cover, Keeper, Order, Quote};
pub use state::STORE;

use surety_framework::module::{genesis_json, genesis_section};
use surety_framework::oracle::OracleView;
use surety_framework::{Ctx, Error, Module, Msgs};
use surety_proto::surety::policy::v1::*;

#[derive(Clone)]
pub struct PolicyModule {
    pub keeper: Keeper,
    /// Prices liquidity cover starts from.
    pub oracle: std::sync::Arc<dyn OracleView>,
}

impl Module for PolicyModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        let k = self.keeper;
        let oracle = self.oracle.clone();
        Msgs::new()
            .add(msgs::check_create_product, move |ctx, m| {
                msgs::create_product(&k, ctx, m)
            })
            .add(msgs::check_update_product, move |ctx, m| {
                msgs::update_product(&k, ctx, m)
            })
            .add(msgs::check_set_product_paused, move |ctx, m| {
                msgs::set_product_paused(&k, ctx, m)
            })
            .add(msgs::check_buy_cover, move |ctx, m| {
                msgs::buy_cover(&k, oracle.as_ref(), ctx, m)
            })
            .add(msgs::check_transfer_policy, move |ctx, m| {
                msgs::transfer_policy(&k, ctx, m)
            })
            .add(msgs::check_update_params, msgs::update_params)
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(&self.keeper, ctx, path, request)
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis_json(&GenesisState {
            params: Some(state::default_params()),
            ..Default::default()
        })
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        let g: GenesisState = genesis_section(STORE, genesis)?;
        msgs::check_params(&g.params.unwrap_or_else(state::default_params))
            .map_err(|e| format!("policy params: {}", e.log))?;
        for (n, p) in (1u64..).zip(&g.products) {
            msgs::check_product(p).map_err(|e| format!("product {n} ({}): {}", p.name, e.log))?;
        }
        if !g.policies.is_empty() {
            return Err("policy genesis: policies cannot be imported at genesis".into());
        }
        Ok(())
    }

    /// Genesis products are listed in order, with ids from 1.
    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let g: GenesisState =
            genesis_section(STORE, genesis).map_err(surety_framework::sdk::invalid_request)?;
        state::set_params(ctx, &g.params.unwrap_or_else(state::default_params))?;
        for p in g.products {
            self.keeper.create_product(ctx, p)?;
        }
        Ok(())
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        Ok(genesis_json(&GenesisState {
            params: Some(state::params(ctx)?),
            products: state::products(ctx)?,
            policies: state::all_policies(ctx)?,
        }))
    }
}
