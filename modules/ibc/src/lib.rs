//! ibc: Surety as an IBC chain, and cover bought and paid across chains.
//!
//! - IBC core on ibc-rs ([`host`]): 07-tendermint light clients, connections, channels and
//!   packets in the `ibc` substore at their ICS-24 paths, proven by the store's two-level ics23
//!   proofs (`store/ibc/key`); this chain's own consensus state kept per height for handshakes.
//! - ICS-20 transfers ([`transfer`]) with escrow and `ibc/<hash>` vouchers.
//! - Cross-chain cover ([`cover`]): a transfer whose memo names a Surety action runs it as the
//!   sender's remote account; payouts and change go home over ICS-20 ([`remit`]), retried until
//!   acknowledged.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

pub mod cover;
pub mod errors;
mod events;
pub mod host;
pub mod keys;
mod msgs;
mod query;
pub mod remit;
pub mod router;
pub mod transfer;

pub use msgs::{CORE_TYPE_URLS, TRANSFER_TYPE_URL};

use surety_framework::module::{genesis_json, genesis_section};
use surety_framework::{Address, Coin, Ctx, Error, Module, Msgs, PayoutHooks, ValidatorUpdate};
use surety_proto::surety::ibc::v1::Params;

pub const STORE: &str = "ibc";

/// ibc-go's default `max_expected_time_per_block`, used for connection delays in blocks.
pub const MAX_EXPECTED_TIME_PER_BLOCK_SECS: u64 = 30;

const DEFAULT_REMIT_TIMEOUT_SECS: u64 = 600;
const DEFAULT_RETRY_DELAY_SECS: u64 = 60;

/// The module's params with zeros read as their defaults.
pub fn params(ctx: &mut Ctx) -> Result<Params, Error> {
    let mut p: Params = ctx.get_msg(STORE, keys::PARAMS)?.unwrap_or_default();
    if p.remit_timeout_secs == 0 {
        p.remit_timeout_secs = DEFAULT_REMIT_TIMEOUT_SECS;
    }
    if p.retry_delay_secs == 0 {
        p.retry_delay_secs = DEFAULT_RETRY_DELAY_SECS;
    }
    Ok(p)
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(default)]
pub struct GenesisState {
    pub params: Params,
}

/// The module, and the payout hook claims calls.
#[derive(Clone, Copy, Default)]
pub struct Ibc;

impl PayoutHooks for Ibc {
    fn after_payout(&self, ctx: &mut Ctx, recipient: &Address, paid: &Coin) -> Result<(), Error> {
        if cover::route(ctx, recipient)?.is_some() {
            remit::enqueue(
                ctx,
                recipient,
                &paid.denom,
                paid.amount,
                remit::Kind::Payout,
            )?;
        }
        Ok(())
    }
}

impl Module for Ibc {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        msgs::register(Msgs::new())
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::query(ctx, path, request)
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis_json(&GenesisState::default())
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        genesis_section::<GenesisState>(STORE, genesis).map(|_| ())
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let g: GenesisState =
            genesis_section(STORE, genesis).map_err(surety_framework::sdk::invalid_request)?;
        ctx.put_msg(STORE, keys::PARAMS.to_vec(), &g.params)?;
        // ICS-24's counters exist from the start, as ibc-go's InitGenesis writes them.
        for key in [
            keys::NEXT_CLIENT_SEQUENCE,
            keys::NEXT_CONNECTION_SEQUENCE,
            keys::NEXT_CHANNEL_SEQUENCE,
        ] {
            ctx.put(STORE, key.to_vec(), 0u64.to_be_bytes().to_vec())?;
        }
        Ok(())
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        let params = ctx.get_msg(STORE, keys::PARAMS)?.unwrap_or_default();
        Ok(genesis_json(&GenesisState { params }))
    }

    fn begin_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        // As many of this chain's consensus states as staking's `historical_entries` says (the
        // param relayers read), so a handshake can be checked against any of them.
        let keep = u64::from(surety_staking::delegation::params(ctx)?.historical_entries);
        let app_hash = ctx.block.last_app_hash.clone();
        let next_validators = ctx.block.next_validators_hash.clone();
        host::record_host_consensus_state(ctx, &app_hash, &next_validators, keep)
    }

    fn end_block(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        remit::send_due(ctx)?;
        Ok(Vec::new())
    }

    fn check_invariants(&self, ctx: &mut Ctx) -> Result<(), String> {
        remit::invariants(ctx).map_err(|e| e.log)?
    }
}
