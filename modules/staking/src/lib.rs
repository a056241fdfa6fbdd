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
pub mod state;

pub use delegation::NOT_BONDED_POOL;
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

    /// Every validator with its consensus address (the first 20 bytes of sha256 of the ed25519
    /// key, as CometBFT names validators) and the power CometBFT last got for it (0 when not
    /// bonded).
    pub fn consensus_validators(&self, ctx: &mut Ctx) -> Result<Vec<ConsensusValidator>, Error> {
        let mut out = Vec::new();
        for v in state::all_validators(ctx)? {
            let power = state::last_power(ctx, &v.operator)?.unwrap_or(0);
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
        Ok(state::all_validators(ctx)?
            .into_iter()
            .filter(|v| v.proto.status == BondStatus::Bonded as i32 && !v.proto.jailed)
            .collect())
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
    /// are bonded. This reads every validator: creating one costs a self-bond, and the number
    /// is noted as a known limit (a power index would read only the top of the ranking).
    fn validator_updates(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        let max = delegation::params(ctx)?.max_validators as usize;
        let mut ranked: Vec<StoredValidator> = state::all_validators(ctx)?;
        ranked.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(a.operator.cmp(&b.operator)));
        let mut updates = Vec::new();
        let mut seats = max;
        for mut validator in ranked {
            let bonded = seats > 0 && validator.power() > 0;
            if bonded {
                seats = seats.saturating_sub(1);
            }
            let status = if bonded {
                BondStatus::Bonded
            } else {
                BondStatus::Unbonded
            } as i32;
            if validator.proto.status != status {
                validator.proto.status = status;
                state::save_stored(ctx, &validator)?;
            }
            let power = if bonded { validator.power() } else { 0 };
            let last = state::last_power(ctx, &validator.operator)?;
            if last != Some(power) && !(last.is_none() && power == 0) {
                state::set_last_power(ctx, &validator.operator, power)?;
                updates.push(ValidatorUpdate {
                    ed25519_pubkey: validator.consensus_pubkey,
                    power,
                });
            }
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
