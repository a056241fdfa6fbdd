//! auth genesis, in the shape of Cosmos SDK genesis files.

use crate::{state, Account};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use surety_framework::{serde_str, Address, Ctx, Error};
use surety_proto::cosmos::auth::v1beta1::Params;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ParamsJson {
    #[serde(with = "serde_str")]
    pub max_memo_characters: u64,
    #[serde(with = "serde_str")]
    pub tx_sig_limit: u64,
    #[serde(with = "serde_str")]
    pub tx_size_cost_per_byte: u64,
    #[serde(with = "serde_str")]
    pub sig_verify_cost_ed25519: u64,
    #[serde(with = "serde_str")]
    pub sig_verify_cost_secp256k1: u64,
}

impl From<&Params> for ParamsJson {
    fn from(p: &Params) -> Self {
        ParamsJson {
            max_memo_characters: p.max_memo_characters,
            tx_sig_limit: p.tx_sig_limit,
            tx_size_cost_per_byte: p.tx_size_cost_per_byte,
            sig_verify_cost_ed25519: p.sig_verify_cost_ed25519,
            sig_verify_cost_secp256k1: p.sig_verify_cost_secp256k1,
        }
    }
}

impl From<&ParamsJson> for Params {
    fn from(p: &ParamsJson) -> Self {
        Params {
            max_memo_characters: p.max_memo_characters,
            tx_sig_limit: p.tx_sig_limit,
            tx_size_cost_per_byte: p.tx_size_cost_per_byte,
            sig_verify_cost_ed25519: p.sig_verify_cost_ed25519,
            sig_verify_cost_secp256k1: p.sig_verify_cost_secp256k1,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GenesisAccount {
    #[serde(rename = "@type", default = "base_account_type")]
    pub type_url: String,
    pub address: String,
    #[serde(with = "serde_str", default)]
    pub account_number: u64,
    #[serde(with = "serde_str", default)]
    pub sequence: u64,
}

fn base_account_type() -> String {
    "/cosmos.auth.v1beta1.BaseAccount".to_string()
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GenesisState {
    pub params: ParamsJson,
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
}

impl Default for GenesisState {
    fn default() -> Self {
        GenesisState {
            params: ParamsJson::from(&crate::default_params()),
            accounts: Vec::new(),
        }
    }
}

impl GenesisState {
    pub fn parse(value: &serde_json::Value) -> Result<GenesisState, String> {
        serde_json::from_value(value.clone()).map_err(|e| format!("auth genesis: {e}"))
    }

    /// Adds a base account unless it is already listed.
    pub fn add_account(&mut self, address: &Address) -> Result<(), String> {
        let bech = address.to_bech32();
        if self.accounts.iter().any(|a| a.address == bech) {
            return Err(format!("account {bech} already exists in genesis"));
        }
        self.accounts.push(GenesisAccount {
            type_url: base_account_type(),
            address: bech,
            account_number: 0,
            sequence: 0,
        });
        Ok(())
    }

    pub fn validate(&self) -> Result<(), String> {
        crate::msgs::check_params(&Params::from(&self.params))
            .map_err(|e| format!("auth genesis: params: {}", e.log))?;
        let mut seen = BTreeSet::new();
        for account in &self.accounts {
            if account.type_url != base_account_type() {
                return Err(format!(
                    "auth genesis: account {} has unsupported type {}",
                    account.address, account.type_url
                ));
            }
            let address = Address::from_bech32(&account.address)
                .map_err(|e| format!("auth genesis: {}", e.log))?;
            if surety_framework::accounts::is_module_address(&address) {
                return Err(format!(
                    "auth genesis: {} is a module account's address",
                    account.address
                ));
            }
            if !seen.insert(&account.address) {
                return Err(format!(
                    "auth genesis: duplicate account {}",
                    account.address
                ));
            }
        }
        Ok(())
    }

    /// Creates the accounts in file order; like Cosmos, numbers are assigned afresh.
    pub fn init(&self, ctx: &mut Ctx) -> Result<(), Error> {
        state::save_params(ctx, &Params::from(&self.params))?;
        for genesis_account in &self.accounts {
            let address = Address::from_bech32(&genesis_account.address)?;
            let mut account = Account::new(address, state::next_account_number(ctx)?);
            account.sequence = genesis_account.sequence;
            state::save_account(ctx, &account)?;
        }
        Ok(())
    }

    pub fn export(ctx: &mut Ctx) -> Result<GenesisState, Error> {
        let mut accounts = state::all_accounts(ctx)?;
        accounts.retain(|a| a.module_name.is_none());
        accounts.sort_by_key(|a| a.account_number);
        Ok(GenesisState {
            params: ParamsJson::from(&state::load_params(ctx)?),
            accounts: accounts
                .into_iter()
                .map(|a| GenesisAccount {
                    type_url: base_account_type(),
                    address: a.address.to_bech32(),
                    account_number: a.account_number,
                    sequence: a.sequence,
                })
                .collect(),
        })
    }
}
