//! auth: accounts, their public keys, account numbers and sequences.
//!
//! Accounts are stored as the `Any` Cosmos clients expect from `Query/Account`
//! (`/cosmos.auth.v1beta1.BaseAccount` or `ModuleAccount`), so queries return them unchanged.

mod account;
mod genesis;
mod params;
mod query;
mod signing;
mod state;

pub use account::Account;
pub use genesis::{GenesisAccount, GenesisState};
pub use params::default_params;
pub use signing::{sign_doc_bytes, verify_secp256k1};

use surety_framework::{sdk, Address, Ctx, Error, Module};
use surety_proto::cosmos::auth::v1beta1::Params;

pub const STORE: &str = "auth";
pub const FEE_COLLECTOR: &str = "fee_collector";

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

    /// The module account named `name`, created on first use.
    pub fn ensure_module_account(&self, ctx: &mut Ctx, name: &str) -> Result<Account, Error> {
        let address = Address::module(name);
        match state::load_account(ctx, &address)? {
            Some(account) if account.module_name.is_some() => Ok(account),
            Some(_) => Err(sdk::invalid_address(format!(
                "account {address} exists but is not the module account {name}"
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

    fn msg_types(&self) -> &'static [&'static str] {
        &[<surety_proto::cosmos::auth::v1beta1::MsgUpdateParams as surety_proto::TypeUrl>::TYPE_URL]
    }

    fn signers(&self, msg: &surety_proto::Any) -> Result<Vec<surety_framework::Address>, Error> {
        surety_framework::signers_of!(msg; surety_proto::cosmos::auth::v1beta1::MsgUpdateParams => authority)
    }

    /// Governance's `MsgUpdateParams`: memo and signature limits and signature gas costs.
    fn deliver(&self, ctx: &mut Ctx, msg: &surety_proto::Any) -> Result<Vec<u8>, Error> {
        use surety_proto::cosmos::auth::v1beta1::{MsgUpdateParams, MsgUpdateParamsResponse};
        let m: MsgUpdateParams = surety_framework::decode_msg(msg)?;
        surety_framework::require_authority(&m.authority)?;
        let p = m
            .params
            .ok_or_else(|| sdk::invalid_request("missing params"))?;
        if p.max_memo_characters == 0 || p.tx_sig_limit == 0 || p.tx_size_cost_per_byte == 0 {
            return Err(sdk::invalid_request("auth params must be positive"));
        }
        state::save_params(ctx, &p)?;
        Ok(prost::Message::encode_to_vec(&MsgUpdateParamsResponse {}))
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
        self.ensure_module_account(ctx, FEE_COLLECTOR)?;
        Ok(())
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        let genesis = GenesisState::export(ctx)?;
        serde_json::to_value(genesis).map_err(|e| sdk::internal(e.to_string()))
    }
}
