//! auth: accounts, their public keys, account numbers and sequences.
//!
//! Accounts are stored compactly under their address (`account::Stored`); queries return the
//! `Any` Cosmos clients expect from `Query/Account` (`/cosmos.auth.v1beta1.BaseAccount` or
//! `ModuleAccount`).

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

mod account;
mod amino_json;
mod genesis;
mod msgs;
mod params;
mod pubkey;
mod query;
mod signing;
mod state;

pub use account::Account;
pub use amino_json::amino_json_sign_bytes;
pub use genesis::{GenesisAccount, GenesisState};
pub use params::default_params;
pub use pubkey::{Multisig, PublicKey, MAX_MULTISIG_KEYS, MULTISIG_TYPE_URL};
pub use signing::{sign_doc_bytes, verify_secp256k1};

use surety_framework::{sdk, Address, Ctx, Error, Module, Msgs};
use surety_proto::cosmos::auth::v1beta1::{MsgUpdateParams, MsgUpdateParamsResponse, Params};

pub const STORE: &str = "auth";
pub const FEE_COLLECTOR: &str = surety_framework::accounts::FEE_COLLECTOR;

/// The auth module and its keeper API.
#[derive(Clone, Copy, Default)]
pub struct Auth;

impl Auth {
    pub fn account(&self, ctx: &mut Ctx, address: &Address) -> Result<Option<Account>, Error> {
        state::load_account(ctx, address)
    }

    /// The account at `address`, created with the next account number if it does not exist yet.
    pub fn ensure_account(&self, ctx: &mut Ctx, address: &Address) -> Result<Account, Error> {
        if let Some(account) = state::load_account(ctx, address)? {
            return Ok(account);
        }
        let number = state::next_account_number(ctx)?;
        let account = Account::new(*address, number);
        state::save_account(ctx, &account)?;
        Ok(account)
    }

    /// The module account named `name`. Every declared one is created at genesis; this also
    /// creates one a later upgrade declares. A plain account found at the address (coins sent
    /// there before the transfer block existed) becomes the module's, keeping its number and
    /// balance: no key can sign for a module address, so nobody loses control of anything.
    pub fn ensure_module_account(&self, ctx: &mut Ctx, name: &str) -> Result<Account, Error> {
        let address = Address::module(name);
        match state::load_account(ctx, &address)? {
            Some(account) if account.module_name.as_deref() == Some(name) => Ok(account),
            Some(account) if account.module_name.is_none() && account.pubkey.is_none() => {
                let account = Account::new_module(name, account.account_number);
                state::save_account(ctx, &account)?;
                Ok(account)
            }
            Some(_) => Err(sdk::internal(format!(
                "account {address} belongs to something other than module account {name}"
            ))),
            None => {
                let number = state::next_account_number(ctx)?;
                let account = Account::new_module(name, number);
                state::save_account(ctx, &account)?;
                Ok(account)
            }
        }
    }

    pub fn set_account(&self, ctx: &mut Ctx, account: &Account) -> Result<(), Error> {
        state::save_account(ctx, account)
    }

    pub fn params(&self, ctx: &mut Ctx) -> Result<Params, Error> {
        state::load_params(ctx)
    }
}

impl Module for Auth {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        // Governance's params: memo and signature limits and signature gas costs.
        Msgs::new().add(msgs::check_update_params, |ctx, m: MsgUpdateParams| {
            let params = surety_framework::msgs::present(m.params)?;
            state::save_params(ctx, &params)?;
            Ok(MsgUpdateParamsResponse {})
        })
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
        let genesis = GenesisState::parse(genesis).map_err(sdk::invalid_request)?;
        genesis.init(ctx)?;
        for name in surety_framework::accounts::ALL {
            self.ensure_module_account(ctx, name)?;
        }
        Ok(())
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        let genesis = GenesisState::export(ctx)?;
        serde_json::to_value(genesis).map_err(|e| sdk::internal(e.to_string()))
    }
}
