//! staking: validators, delegations, unbonding and redelegation, with the `/cosmos.staking.v1beta1`
//! types so wallets work.
//!
//! Validators come from gentxs at genesis and from `MsgCreateValidator` after it. The
//! `max_validators` with the most stake (and not jailed) are bonded; EndBlock hands CometBFT every
//! change of power. Undelegated tokens wait out the unbonding period in the not-bonded pool.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

pub mod delegation;
mod msgs;
mod query;
pub mod slashes;
pub mod state;

pub use delegation::{delegated_tokens, NOT_BONDED_POOL};
pub use slashes::SlashRecord;
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

use surety_framework::math;
use surety_framework::{Address, Ctx, Error, Module, Msgs, ValidatorUpdate};
use surety_proto::cosmos::staking::v1beta1::BondStatus;

pub const STORE: &str = "staking";
pub const BONDED_POOL: &str = surety_framework::accounts::BONDED_POOL;
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

    /// The validators CometBFT was last given, with their consensus addresses (the first 20
    /// bytes of sha256 of the ed25519 key, as CometBFT names validators) and powers: at most
    /// `max_validators`, however many validators exist.
    pub fn consensus_validators(&self, ctx: &mut Ctx) -> Result<Vec<ConsensusValidator>, Error> {
        let mut out = Vec::new();
        for (v, power) in self.last_set(ctx)? {
            out.push(ConsensusValidator {
                address: consensus_address(&v.consensus_pubkey),
                pubkey: v.consensus_pubkey,
                operator: v.operator,
                power,
            });
        }
        Ok(out)
    }

    /// Validators in the active set.
    pub fn bonded_validators(&self, ctx: &mut Ctx) -> Result<Vec<StoredValidator>, Error> {
        Ok(self
            .last_set(ctx)?
            .into_iter()
            .map(|(v, _)| v)
            .filter(|v| v.proto.status == BondStatus::Bonded as i32 && !v.proto.jailed)
            .collect())
    }

    fn last_set(&self, ctx: &mut Ctx) -> Result<Vec<(StoredValidator, i64)>, Error> {
        let mut out = Vec::new();
        for (operator, power) in state::last_powers(ctx)? {
            let v = state::load_validator(ctx, &operator)?.ok_or_else(|| {
                surety_framework::error::fatal::invariant(format!(
                    "staking: {operator} has power but no validator"
                ))
            })?;
            out.push((v, power));
        }
        Ok(out)
    }

    /// The validator CometBFT names by `address` in votes and evidence.
    pub fn by_consensus_address(
        &self,
        ctx: &mut Ctx,
        address: &[u8],
    ) -> Result<Option<StoredValidator>, Error> {
        state::validator_by_consensus_address(ctx, address)
    }

    /// Burns `fraction` of a validator's tokens — and of every unbonding entry from it created at
    /// or after `infraction_height`, which left after the infraction. Returns false if no
    /// validator has that consensus address.
    pub fn slash(
        &self,
        ctx: &mut Ctx,
        address: &[u8],
        fraction: surety_framework::Dec,
        infraction_height: i64,
        reason: &str,
    ) -> Result<bool, Error> {
        use surety_framework::Round;
        let Some(mut v) = self.by_consensus_address(ctx, address)? else {
            return Ok(false);
        };
        if let Some(h) = ctx.router.and_then(|r| r.staking_hooks()) {
            h.before_validator_slashed(ctx, &v.operator, fraction)?;
        }
        let burned = fraction.mul_amount(v.tokens, Round::Down)?;
        let seq = slashes::record(ctx, &v.operator, v.tokens, burned, v.shares.0)?;
        v.tokens = math::sub(v.tokens, burned, "validator tokens")?;
        state::save_stored(ctx, &v)?;
        self.bank.burn(
            ctx,
            BONDED_POOL,
            &surety_framework::Coins::of(burned, BOND_DENOM),
        )?;
        let unbonding =
            delegation::slash_unbondings(ctx, &v.operator, fraction, infraction_height)?;
        let redelegated =
            self.slash_redelegations(ctx, &v.operator, fraction, infraction_height)?;
        self.bank.burn(
            ctx,
            NOT_BONDED_POOL,
            &surety_framework::Coins::of(unbonding, BOND_DENOM),
        )?;
        ctx.emit(
            surety_framework::Event::new("slash")
                .attr("slash", seq)
                .attr("validator", &v.proto.operator_address)
                .attr("reason", reason)
                .attr(
                    "burned",
                    format!(
                        "{}{BOND_DENOM}",
                        math::add(math::add(burned, unbonding)?, redelegated)?
                    ),
                ),
        );
        Ok(true)
    }

    /// Jails a validator: it leaves the active set at the end of the block.
    pub fn jail(&self, ctx: &mut Ctx, address: &[u8]) -> Result<(), Error> {
        if let Some(mut v) = self.by_consensus_address(ctx, address)? {
            v.proto.jailed = true;
            state::save_stored(ctx, &v)?;
        }
        Ok(())
    }

    pub fn is_jailed_consensus(&self, ctx: &mut Ctx, address: &[u8]) -> Result<bool, Error> {
        Ok(self
            .by_consensus_address(ctx, address)?
            .is_some_and(|v| v.proto.jailed))
    }

    pub fn is_jailed(&self, ctx: &mut Ctx, operator: &Address) -> Result<bool, Error> {
        Ok(state::load_validator(ctx, operator)?.is_some_and(|v| v.proto.jailed))
    }

    pub fn unjail(&self, ctx: &mut Ctx, operator: &Address) -> Result<(), Error> {
        if let Some(mut v) = state::load_validator(ctx, operator)? {
            v.proto.jailed = false;
            state::save_stored(ctx, &v)?;
        }
        Ok(())
    }

    /// Slashes a validator `bps` of its stake and jails it (the oracle's penalty for missed
    /// votes). Returns false if it was already jailed.
    pub fn slash_and_jail(
        &self,
        ctx: &mut Ctx,
        consensus_addr: &[u8],
        bps: u32,
        reason: &str,
    ) -> Result<bool, Error> {
        let Some(v) = self.by_consensus_address(ctx, consensus_addr)? else {
            return Ok(false);
        };
        if v.proto.jailed {
            return Ok(false);
        }
        let height = i64::try_from(ctx.block.height)
            .map_err(|_| surety_framework::sdk::internal("block height beyond i64"))?;
        self.slash(
            ctx,
            consensus_addr,
            surety_framework::Dec::from_bps(bps),
            height,
            reason,
        )?;
        self.jail(ctx, consensus_addr)?;
        Ok(true)
    }

    /// Total power of bonded validators.
    pub fn total_power(&self, ctx: &mut Ctx) -> Result<i64, Error> {
        self.consensus_validators(ctx)?
            .iter()
            .try_fold(0i64, |sum, v| sum.checked_add(v.power))
            .ok_or_else(|| surety_framework::sdk::internal("total power overflows"))
    }
}

impl Staking {
    /// The `max_validators` with the most stake, not jailed and with at least one unit of power,
    /// are bonded. Reads the top of the power index and the set CometBFT was last given — both
    /// at most `max_validators` — however many validators exist.
    fn validator_updates(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        let max = delegation::params(ctx)?.max_validators as usize;
        let top = state::top_by_power(ctx, max)?;
        let last: std::collections::BTreeMap<Address, i64> =
            state::last_powers(ctx)?.into_iter().collect();
        let mut updates = Vec::new();
        for operator in &top {
            let mut v = state::load_validator(ctx, operator)?.ok_or_else(|| {
                surety_framework::error::fatal::invariant(format!(
                    "staking: the power index names {operator}, which is no validator"
                ))
            })?;
            if v.proto.status != BondStatus::Bonded as i32 {
                v.proto.status = BondStatus::Bonded as i32;
                state::save_stored(ctx, &v)?;
            }
            let power = v.power();
            if last.get(operator) != Some(&power) {
                state::set_last_power(ctx, operator, power)?;
                updates.push(ValidatorUpdate {
                    ed25519_pubkey: v.consensus_pubkey,
                    power,
                });
            }
        }
        for operator in last.keys().filter(|op| !top.contains(op)) {
            let Some(mut v) = state::load_validator(ctx, operator)? else {
                continue;
            };
            if v.proto.status != BondStatus::Unbonded as i32 {
                v.proto.status = BondStatus::Unbonded as i32;
                state::save_stored(ctx, &v)?;
            }
            state::set_last_power(ctx, operator, 0)?;
            updates.push(ValidatorUpdate {
                ed25519_pubkey: v.consensus_pubkey,
                power: 0,
            });
        }
        Ok(updates)
    }
}

impl Module for Staking {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        let staking = *self;
        Msgs::new()
            .add(msgs::check_create_validator, move |ctx, m| {
                msgs::create(&staking, ctx, m)
            })
            .add(msgs::check_edit_validator, msgs::edit)
            .add(msgs::check_delegate, move |ctx, m| {
                msgs::delegate(&staking, ctx, m)
            })
            .add(msgs::check_undelegate, move |ctx, m| {
                msgs::undelegate(&staking, ctx, m)
            })
            .add(msgs::check_redelegate, move |ctx, m| {
                msgs::redelegate(&staking, ctx, m)
            })
            .add(msgs::check_update_params, msgs::update_params)
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        params_from_genesis(genesis).map(|_| ())
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let params =
            params_from_genesis(genesis).map_err(surety_framework::sdk::invalid_request)?;
        delegation::set_params(ctx, &params)
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(ctx, path, request)
    }

    /// Completes matured unbondings and forgets expired redelegations (each a bounded number per
    /// block, item by item), then ranks the validators and hands CometBFT every change of power.
    /// If the ranking fails, the set stays as it is for this block.
    fn end_block(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        self.complete_unbondings(ctx)?;
        self.prune_redelegations(ctx)?;
        Ok(ctx
            .isolate("validator set update", |ctx| self.validator_updates(ctx))?
            .unwrap_or_default())
    }

    /// The bonded pool holds the validators' tokens, the not-bonded pool the unbonding
    /// balances, and each validator's shares are exactly its delegations'.
    fn check_invariants(&self, ctx: &mut Ctx) -> Result<(), String> {
        let check = |ctx: &mut Ctx| -> Result<Result<(), String>, Error> {
            let validators = state::all_validators(ctx)?;
            let pool = self
                .bank
                .balance(ctx, &Address::module(BONDED_POOL), BOND_DENOM)?;
            let tokens = validators
                .iter()
                .try_fold(0u128, |sum, v| math::add(sum, v.tokens))?;
            if pool != tokens {
                return Ok(Err(format!(
                    "staking: bonded pool holds {pool}{BOND_DENOM} but validators have {tokens}"
                )));
            }
            let unbonding = delegation::all_unbondings(ctx)?
                .iter()
                .flat_map(|u| &u.entries)
                .try_fold(0u128, |sum, e| {
                    math::add(sum, math::parse_amount(&e.balance, "unbonding balance")?)
                })?;
            let held = self
                .bank
                .balance(ctx, &Address::module(NOT_BONDED_POOL), BOND_DENOM)?;
            if held != unbonding {
                return Ok(Err(format!("staking: not-bonded pool holds {held}{BOND_DENOM}, unbonding entries {unbonding}")));
            }
            let mut expected: Vec<Vec<u8>> = validators
                .iter()
                .filter_map(state::power_index_entry)
                .collect();
            expected.sort();
            if state::power_index(ctx)? != expected {
                return Ok(Err(
                    "staking: the power index does not match the validators' stake".into(),
                ));
            }
            let delegations = delegation::all_delegations(ctx)?;
            for v in &validators {
                let valoper = v
                    .operator
                    .to_bech32_with(surety_framework::VALIDATOR_PREFIX);
                let shares = delegations
                    .iter()
                    .filter(|d| d.validator_address == valoper)
                    .try_fold(0u128, |sum, d| {
                        math::add(sum, math::parse_amount(&d.shares, "delegation shares")?)
                    })?;
                if shares != v.shares.0 {
                    return Ok(Err(format!(
                        "staking: {valoper} issued {} shares, delegations hold {shares}",
                        v.shares.0
                    )));
                }
            }
            Ok(Ok(()))
        };
        check(ctx).map_err(|e| e.log)?
    }
}

/// Staking params in genesis, in Cosmos JSON: `{"params": {"unbonding_time": "1814400s",
/// "max_validators": 100, "max_entries": 7}}`; what is absent keeps its default.
fn params_from_genesis(
    genesis: &serde_json::Value,
) -> Result<surety_proto::cosmos::staking::v1beta1::Params, String> {
    let mut p = delegation::default_params();
    let g = &genesis["params"];
    if let Some(s) = g["unbonding_time"].as_str() {
        let seconds = s.trim_end_matches('s').parse().map_err(|_| {
            format!("staking genesis: unbonding_time {s:?} is not like \"1814400s\"")
        })?;
        p.unbonding_time = Some(tendermint_proto::google::protobuf::Duration { seconds, nanos: 0 });
    }
    for (field, slot) in [
        ("max_validators", &mut p.max_validators),
        ("max_entries", &mut p.max_entries),
    ] {
        match &g[field] {
            serde_json::Value::Null => {}
            v => {
                *slot = v
                    .as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| format!("staking genesis: {field} must be a number"))?
            }
        }
    }
    msgs::check_params(&p).map_err(|e| format!("staking genesis: params: {}", e.log))?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::state::Overlay;
    use surety_framework::testing::{block, EmptyState};
    use surety_framework::VALIDATOR_PREFIX;
    use surety_proto::cosmos::crypto::ed25519::PubKey;
    use surety_proto::cosmos::staking::v1beta1::Validator;

    fn validator(n: u16, tokens: u128) -> Validator {
        let mut bytes = [0u8; 20];
        bytes[..2].copy_from_slice(&n.to_be_bytes());
        let mut key = vec![1u8; 32];
        key[..2].copy_from_slice(&n.to_be_bytes());
        Validator {
            operator_address: Address(bytes).to_bech32_with(VALIDATOR_PREFIX),
            consensus_pubkey: Some(surety_proto::to_any(&PubKey { key })),
            tokens: tokens.to_string(),
            delegator_shares: tokens.to_string(),
            status: BondStatus::Unbonded as i32,
            ..Default::default()
        }
    }

    /// Bonds the top three of `count` validators (validator n has 1000 + n SURE: the same number
    /// of digits, so the same bytes read), then returns the set and the gas a steady-state
    /// EndBlock's validator-set update costs.
    fn steady_state(count: u16) -> (Vec<i64>, u64) {
        let mut overlay = Overlay::new(&EmptyState);
        let mut ctx = block(&mut overlay, 2, 1_000);
        let params = surety_proto::cosmos::staking::v1beta1::Params {
            max_validators: 3,
            ..delegation::default_params()
        };
        delegation::set_params(&mut ctx, &params).unwrap();
        for n in 1..=count {
            state::save_validator(
                &mut ctx,
                &validator(n, u128::from(1_000 + n) * POWER_REDUCTION),
            )
            .unwrap();
        }
        let staking = Staking::default();
        let first = staking.validator_updates(&mut ctx).unwrap();
        let powers = first.iter().map(|u| u.power).collect();
        let before = ctx.gas.used();
        assert!(staking.validator_updates(&mut ctx).unwrap().is_empty());
        (powers, ctx.gas.used() - before)
    }

    #[test]
    fn the_validator_set_update_reads_only_the_top_of_the_ranking() {
        let (few, few_gas) = steady_state(5);
        let (many, many_gas) = steady_state(2_000);
        assert_eq!(few, vec![1_005, 1_004, 1_003]);
        assert_eq!(many, vec![3_000, 2_999, 2_998]);
        // Two thousand validators cost an EndBlock what five do.
        assert_eq!(few_gas, many_gas);
    }
}
