//! policy: covered products, priced cover and transferable policy certificates.
//!
//! Governance lists products; anyone buys cover at the price `Query/Quote` shows, filled across
//! the pools that underwrite the product. A policy freezes the product's terms at purchase and
//! can be transferred; it expires by block time.

pub mod errors;
mod keeper;
pub mod pricing;
mod query;
pub mod state;

pub use keeper::{Keeper, Quote};
pub use state::STORE;

use prost::Message;
use surety_framework::math::parse_amount;
use surety_framework::module::{genesis_json, genesis_section};
use surety_framework::{
    decode_msg, require_authority, sdk, signers_of, Address, Ctx, Error, Module,
};
use surety_proto::surety::policy::v1::*;
use surety_proto::{Any, TypeUrl};

#[derive(Clone, Copy, Default)]
pub struct PolicyModule {
    pub keeper: Keeper,
}

impl Module for PolicyModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msg_types(&self) -> &'static [&'static str] {
        &[
            MsgCreateProduct::TYPE_URL,
            MsgUpdateProduct::TYPE_URL,
            MsgSetProductPaused::TYPE_URL,
            MsgBuyCover::TYPE_URL,
            MsgTransferPolicy::TYPE_URL,
            MsgUpdateParams::TYPE_URL,
        ]
    }

    fn signers(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        signers_of!(msg;
        MsgCreateProduct => authority,
        MsgUpdateProduct => authority,
        MsgSetProductPaused => authority,
        MsgBuyCover => buyer,
        MsgTransferPolicy => owner,
        MsgUpdateParams => authority,
            )
    }

    fn deliver(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        let k = &self.keeper;
        Ok(match msg.type_url.as_str() {
            MsgCreateProduct::TYPE_URL => {
                let m: MsgCreateProduct = decode_msg(msg)?;
                require_authority(&m.authority)?;
                let product = m
                    .product
                    .ok_or_else(|| errors::invalid_product("missing product"))?;
                let product_id = k.create_product(ctx, product)?;
                MsgCreateProductResponse { product_id }.encode_to_vec()
            }
            MsgUpdateProduct::TYPE_URL => {
                let m: MsgUpdateProduct = decode_msg(msg)?;
                require_authority(&m.authority)?;
                let product = m
                    .product
                    .ok_or_else(|| errors::invalid_product("missing product"))?;
                k.update_product(ctx, product)?;
                MsgUpdateProductResponse {}.encode_to_vec()
            }
            MsgSetProductPaused::TYPE_URL => {
                let m: MsgSetProductPaused = decode_msg(msg)?;
                require_authority(&m.authority)?;
                k.set_paused(ctx, m.product_id, m.paused)?;
                MsgSetProductPausedResponse {}.encode_to_vec()
            }
            MsgBuyCover::TYPE_URL => {
                let m: MsgBuyCover = decode_msg(msg)?;
                let buyer = Address::from_bech32(&m.buyer)?;
                let (policy_id, premium) = k.buy(
                    ctx,
                    &buyer,
                    m.product_id,
                    parse_amount(&m.cover, "cover")?,
                    m.term_days,
                    parse_amount(&m.max_premium, "max_premium")?,
                )?;
                MsgBuyCoverResponse {
                    policy_id,
                    premium: premium.to_string(),
                }
                .encode_to_vec()
            }
            MsgTransferPolicy::TYPE_URL => {
                let m: MsgTransferPolicy = decode_msg(msg)?;
                let owner = Address::from_bech32(&m.owner)?;
                let recipient = Address::from_bech32(&m.recipient)
                    .map_err(|e| sdk::invalid_address(format!("invalid recipient: {}", e.log)))?;
                k.transfer(ctx, &owner, m.policy_id, &recipient)?;
                MsgTransferPolicyResponse {}.encode_to_vec()
            }
            MsgUpdateParams::TYPE_URL => {
                let m: MsgUpdateParams = decode_msg(msg)?;
                require_authority(&m.authority)?;
                state::set_params(ctx, &m.params.unwrap_or_default())?;
                MsgUpdateParamsResponse {}.encode_to_vec()
            }
            other => {
                return Err(sdk::unknown_request(format!(
                    "unrecognized policy message type: {other}"
                )))
            }
        })
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
        for (i, p) in g.products.iter().enumerate() {
            self.keeper
                .validate_product(p)
                .map_err(|e| format!("product {} ({}): {}", i + 1, p.name, e.log))?;
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
