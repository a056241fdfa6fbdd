//! staking: the validator set.
//!
//! For now validators come from genesis transactions (`MsgCreateValidator` in gentxs), each bonded
//! with its operator's self-delegation; delegation, unbonding and slashing arrive with the full
//! staking module, behind this same keeper API and the same `/cosmos.staking.v1beta1` types.

mod msgs;
mod query;
mod state;

pub use state::StoredValidator;

use surety_framework::{sdk, Address, Ctx, Error, Module, ValidatorUpdate};
use surety_proto::Any;

pub const STORE: &str = "staking";
pub const BONDED_POOL: &str = "bonded_tokens_pool";
pub const BOND_DENOM: &str = "usure";
/// Tokens per unit of consensus power, as Cosmos SDK's default `PowerReduction` (10^6).
pub const POWER_REDUCTION: u128 = 1_000_000;

#[derive(Clone, Copy, Default)]
pub struct Staking {
    bank: surety_bank::Bank,
}

impl Staking {
    pub fn validators(&self, ctx: &mut Ctx) -> Result<Vec<StoredValidator>, Error> {
        state::all_validators(ctx)
    }

    /// Total power of bonded validators.
    pub fn total_power(&self, ctx: &mut Ctx) -> Result<i64, Error> {
        Ok(state::all_validators(ctx)?
            .iter()
            .map(StoredValidator::power)
            .sum())
    }
}

impl Module for Staking {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msg_types(&self) -> &'static [&'static str] {
        msgs::TYPES
    }

    fn signers(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        msgs::signers(msg)
    }

    fn deliver(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        msgs::deliver(self, ctx, msg)
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(ctx, path, request)
    }

    /// Hands CometBFT every validator whose power changed since the last block.
    fn end_block(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        let mut updates = Vec::new();
        for validator in state::all_validators(ctx)? {
            let power = validator.power();
            if state::last_power(ctx, &validator.operator)? != Some(power) {
                state::set_last_power(ctx, &validator.operator, power)?;
                updates.push(ValidatorUpdate {
                    ed25519_pubkey: validator.consensus_pubkey,
                    power,
                });
            }
        }
        Ok(updates)
    }

    /// Bonded tokens held by the pool equal the validators' tokens.
    fn check_invariants(&self, ctx: &mut Ctx) -> Result<(), String> {
        let pool = self
            .bank
            .balance(ctx, &Address::module(BONDED_POOL), BOND_DENOM)
            .map_err(|e| e.log)?;
        let tokens: u128 = state::all_validators(ctx)
            .map_err(|e| e.log)?
            .iter()
            .map(|v| v.tokens)
            .sum();
        if pool != tokens {
            return Err(format!(
                "staking: bonded pool holds {pool}{BOND_DENOM} but validators have {tokens}"
            ));
        }
        Ok(())
    }
}

pub(crate) fn not_at_genesis(what: &str) -> Error {
    sdk::invalid_request(format!(
        "{what} is only possible in genesis transactions until the full staking module lands"
    ))
}
