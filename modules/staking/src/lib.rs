//! staking: the validator set.
//!
//! For now validators come from genesis transactions (`MsgCreateValidator` in gentxs), each bonded
//! with its operator's self-delegation; delegation, unbonding and slashing arrive with the full
//! staking module, behind this same keeper API and the same `/cosmos.staking.v1beta1` types.

mod msgs;
mod query;
mod state;

pub use state::StoredValidator;

/// A validator as consensus sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusValidator {
    pub address: Vec<u8>,
    pub pubkey: [u8; 32],
    pub operator: Address,
    pub power: i64,
}

/// CometBFT's validator address: the first 20 bytes of sha256 of the ed25519 key.
pub fn consensus_address(pubkey: &[u8; 32]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(pubkey)[..20].to_vec()
}

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

    /// Every validator with its consensus address (the first 20 bytes of sha256 of the ed25519
    /// key, as CometBFT names validators) and power (0 when jailed).
    pub fn consensus_validators(&self, ctx: &mut Ctx) -> Result<Vec<ConsensusValidator>, Error> {
        Ok(state::all_validators(ctx)?
            .into_iter()
            .map(|v| ConsensusValidator {
                address: consensus_address(&v.consensus_pubkey),
                pubkey: v.consensus_pubkey,
                operator: v.operator,
                power: v.power(),
            })
            .collect())
    }

    /// Slashes a validator `bps` of its bonded tokens (burned) and jails it, which removes it
    /// from the validator set at the end of the block. Returns false if it was already jailed.
    pub fn slash_and_jail(
        &self,
        ctx: &mut Ctx,
        consensus_addr: &[u8],
        bps: u32,
        reason: &str,
    ) -> Result<bool, Error> {
        let Some(v) = state::all_validators(ctx)?
            .into_iter()
            .find(|v| consensus_address(&v.consensus_pubkey) == consensus_addr)
        else {
            return Ok(false);
        };
        if v.proto.jailed {
            return Ok(false);
        }
        let slashed = v.tokens * bps as u128 / 10_000;
        let mut proto = v.proto.clone();
        proto.jailed = true;
        proto.tokens = (v.tokens - slashed).to_string();
        state::save_validator(ctx, &proto)?;
        self.bank.burn(
            ctx,
            BONDED_POOL,
            &surety_framework::Coins::of(slashed, BOND_DENOM),
        )?;
        ctx.emit(
            surety_framework::Event::new("slash")
                .attr("validator", &proto.operator_address)
                .attr("reason", reason)
                .attr("burned", format!("{slashed}{BOND_DENOM}"))
                .attr("jailed", true),
        );
        Ok(true)
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
