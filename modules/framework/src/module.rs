//! The interface between a module and the app that composes it.

use crate::address::Address;
use crate::context::Ctx;
use crate::error::{sdk, Error};
use prost::Message;
use surety_proto::Any;

/// A change of a validator's voting power, handed to CometBFT at the end of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorUpdate {
    pub ed25519_pubkey: [u8; 32],
    pub power: i64,
}

pub trait Module: Send + Sync {
    /// The module's name, which is also its substore name.
    fn name(&self) -> &'static str;

    /// The messages this module handles, each with its stateless check and its execution. The
    /// app calls this once, when it composes the modules.
    fn msgs(&self) -> crate::Msgs {
        crate::Msgs::new()
    }

    /// Full gRPC method names this module answers, e.g. `/cosmos.bank.v1beta1.Query/Balance`.
    fn query_paths(&self) -> &'static [&'static str] {
        &[]
    }

    fn query(&self, _ctx: &mut Ctx, path: &str, _request: &[u8]) -> Result<Vec<u8>, Error> {
        Err(sdk::unknown_request(format!("unknown query path {path}")))
    }

    fn default_genesis(&self) -> serde_json::Value {
        serde_json::json!({})
    }

    /// Checks a genesis section without touching state, with messages a person can act on.
    fn validate_genesis(&self, _genesis: &serde_json::Value) -> Result<(), String> {
        Ok(())
    }

    fn init_genesis(&self, _ctx: &mut Ctx, _genesis: &serde_json::Value) -> Result<(), Error> {
        Ok(())
    }

    fn export_genesis(&self, _ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        Ok(self.default_genesis())
    }

    fn begin_block(&self, _ctx: &mut Ctx) -> Result<(), Error> {
        Ok(())
    }

    fn end_block(&self, _ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        Ok(Vec::new())
    }

    /// Properties that must hold after every block; a violation names what broke.
    fn check_invariants(&self, _ctx: &mut Ctx) -> Result<(), String> {
        Ok(())
    }
}

/// Decodes a message from its `Any`, reporting malformed bytes as a tx decode error.
pub fn decode_msg<M: Message + Default>(msg: &Any) -> Result<M, Error> {
    M::decode(msg.value.as_slice())
        .map_err(|e| sdk::tx_decode(format!("invalid {}: {e}", msg.type_url)))
}

/// Decodes a query request.
pub fn decode_query<M: Message + Default>(request: &[u8]) -> Result<M, Error> {
    M::decode(request).map_err(|e| sdk::invalid_request(format!("invalid query request: {e}")))
}

/// The account whose messages only governance may send: the gov module's address.
pub fn gov_authority() -> Address {
    Address::module(crate::accounts::GOV)
}

/// Checks that a governance-only message is signed by the gov authority.
pub fn require_authority(authority: &str) -> Result<Address, Error> {
    let expected = gov_authority();
    let given = Address::from_bech32(authority)?;
    if given != expected {
        return Err(sdk::unauthorized(format!(
            "invalid authority; expected {expected}, got {given}"
        )));
    }
    Ok(given)
}

/// A module's genesis section parsed into its type; errors name the module.
pub fn genesis_section<T: serde::de::DeserializeOwned>(
    module: &str,
    section: &serde_json::Value,
) -> Result<T, String> {
    serde_json::from_value(section.clone()).map_err(|e| format!("{module} genesis: {e}"))
}

/// A genesis section as JSON.
pub fn genesis_json<T: serde::Serialize>(section: &T) -> serde_json::Value {
    serde_json::to_value(section).expect("genesis types serialize to JSON")
}
