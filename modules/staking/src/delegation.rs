//! Delegations, unbonding and redelegation, with Cosmos SDK's share accounting: a validator has
//! tokens and issued shares; a delegation holds shares, worth `shares × tokens / total shares`,
//! so a slash of the validator's tokens reaches every delegator in proportion. Shares are
//! `LegacyDec` values (× 10¹⁸) as on the wire.

use crate::{state, Staking, BONDED_POOL, BOND_DENOM, STORE};
use surety_framework::math::{mul_div, Round};
use surety_framework::{sdk, Address, Coins, Ctx, Dec, Error, Event, VALIDATOR_PREFIX};
use surety_proto::cosmos::staking::v1beta1::{
    Delegation, Params, Redelegation, RedelegationEntry, UnbondingDelegation,
    UnbondingDelegationEntry,
};
use tendermint_proto::google::protobuf::{Duration, Timestamp};

/// Holds the tokens of unbonding delegations until they complete.
pub const NOT_BONDED_POOL: &str = "not_bonded_tokens_pool";

const DELEGATIONS: u8 = 0x31;
const UNBONDINGS: u8 = 0x32;
const REDELEGATIONS: u8 = 0x33;
const UNBONDING_QUEUE: u8 = 0x41;
const PARAMS: &[u8] = &[0x51];

pub fn default_params() -> Params {
    Params {
        unbonding_time: Some(Duration {
            seconds: 21 * 24 * 3600,
            nanos: 0,
        }),
        max_validators: 100,
        max_entries: 7,
        historical_entries: 10_000,
        bond_denom: BOND_DENOM.to_string(),
        min_commission_rate: "0".to_string(),
    }
}

pub fn params(ctx: &mut Ctx) -> Result<Params, Error> {
    Ok(ctx.get_msg(STORE, PARAMS)?.unwrap_or_else(default_params))
}

pub fn set_params(ctx: &mut Ctx, p: &Params) -> Result<(), Error> {
    if p.max_validators == 0 || p.max_entries == 0 {
        return Err(sdk::invalid_request(
            "max_validators and max_entries must be positive",
        ));
    }
    if p.unbonding_time.as_ref().is_none_or(|d| d.seconds <= 0) {
        return Err(sdk::invalid_request("unbonding_time must be positive"));
    }
    if p.bond_denom != BOND_DENOM {
        return Err(sdk::invalid_request(format!(
            "bond_denom must stay {BOND_DENOM}"
        )));
    }
    ctx.put_msg(STORE, PARAMS.to_vec(), p)
}

fn delegation_key(delegator: &Address, operator: &Address) -> Vec<u8> {
    [&[DELEGATIONS][..], &delegator.0, &operator.0].concat()
}

fn unbonding_key(delegator: &Address, operator: &Address) -> Vec<u8> {
    [&[UNBONDINGS][..], &delegator.0, &operator.0].concat()
}

fn redelegation_key(delegator: &Address, src: &Address, dst: &Address) -> Vec<u8> {
    [&[REDELEGATIONS][..], &src.0, &delegator.0, &dst.0].concat()
}

fn queue_key(completion: i64, delegator: &Address, operator: &Address) -> Vec<u8> {
    [
        &[UNBONDING_QUEUE][..],
        &((completion as u64) ^ (1 << 63)).to_be_bytes(),
        &delegator.0,
        &operator.0,
    ]
    .concat()
}

fn shares_of(s: &str) -> Result<u128, Error> {
    if s.is_empty() {
        return Ok(0);
    }
    s.parse()
        .map_err(|_| sdk::internal(format!("corrupt shares {s:?}")))
}

fn valoper(operator: &Address) -> String {
    operator.to_bech32_with(VALIDATOR_PREFIX)
}

pub fn delegation(
    ctx: &mut Ctx,
    delegator: &Address,
    operator: &Address,
) -> Result<Option<Delegation>, Error> {
    ctx.get_msg(STORE, &delegation_key(delegator, operator))
}

pub fn delegations_by(ctx: &mut Ctx, delegator: &Address) -> Result<Vec<Delegation>, Error> {
    ctx.prefix(STORE, &[&[DELEGATIONS][..], &delegator.0].concat())?
        .into_iter()
        .map(|(_, v)| state::decode(&v))
        .collect()
}

pub fn all_delegations(ctx: &mut Ctx) -> Result<Vec<Delegation>, Error> {
    ctx.prefix(STORE, &[DELEGATIONS])?
        .into_iter()
        .map(|(_, v)| state::decode(&v))
        .collect()
}

pub fn unbondings_by(
    ctx: &mut Ctx,
    delegator: &Address,
) -> Result<Vec<UnbondingDelegation>, Error> {
    ctx.prefix(STORE, &[&[UNBONDINGS][..], &delegator.0].concat())?
        .into_iter()
        .map(|(_, v)| state::decode(&v))
        .collect()
}

pub fn all_unbondings(ctx: &mut Ctx) -> Result<Vec<UnbondingDelegation>, Error> {
    ctx.prefix(STORE, &[UNBONDINGS])?
        .into_iter()
        .map(|(_, v)| state::decode(&v))
        .collect()
}

impl Staking {
    /// The value in tokens of `shares` of a validator.
    pub fn tokens_of(
        &self,
        validator: &state::StoredValidator,
        shares: u128,
    ) -> Result<u128, Error> {
        if validator.shares.0 == 0 {
            return Ok(0);
        }
        mul_div(shares, validator.tokens, validator.shares.0, Round::Down)
    }

    /// Adds `amount` to a validator's stake from `delegator`, issuing shares at the current rate.
    pub fn delegate(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
        operator: &Address,
        amount: u128,
    ) -> Result<u128, Error> {
        let mut v = state::load_validator(ctx, operator)?.ok_or_else(|| {
            sdk::invalid_request(format!("validator {} does not exist", valoper(operator)))
        })?;
        if amount == 0 {
            return Err(sdk::invalid_coins("delegation amount must be positive"));
        }
        if v.tokens == 0 && v.shares.0 > 0 {
            return Err(sdk::invalid_request(
                "validator has no tokens left; its shares are worthless",
            ));
        }
        let hooks = ctx.router.and_then(|r| r.staking_hooks());
        if let Some(h) = hooks {
            h.before_delegation_modified(ctx, delegator, operator)?;
        }
        self.bank
            .send_to_module(ctx, delegator, BONDED_POOL, &Coins::of(amount, BOND_DENOM))?;
        let shares = if v.shares.0 == 0 {
            amount * Dec::SCALE
        } else {
            mul_div(amount, v.shares.0, v.tokens, Round::Down)?
        };
        v.tokens += amount;
        v.shares = Dec(v.shares.0 + shares);
        state::save_stored(ctx, &v)?;
        let key = delegation_key(delegator, operator);
        let mut d = ctx
            .get_msg::<Delegation>(STORE, &key)?
            .unwrap_or(Delegation {
                delegator_address: delegator.to_string(),
                validator_address: valoper(operator),
                shares: "0".into(),
            });
        d.shares = (shares_of(&d.shares)? + shares).to_string();
        ctx.put_msg(STORE, key, &d)?;
        if let Some(h) = hooks {
            h.after_delegation_modified(ctx, delegator, operator)?;
        }
        ctx.emit(
            Event::new("delegate")
                .attr("validator", valoper(operator))
                .attr("delegator", delegator)
                .attr("amount", format!("{amount}{BOND_DENOM}"))
                .attr("new_shares", Dec(shares)),
        );
        Ok(shares)
    }

    /// Takes `amount` of tokens' worth of shares out of a delegation; returns the tokens.
    fn unbond(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
        operator: &Address,
        amount: u128,
    ) -> Result<u128, Error> {
        let mut v = state::load_validator(ctx, operator)?.ok_or_else(|| {
            sdk::invalid_request(format!("validator {} does not exist", valoper(operator)))
        })?;
        let key = delegation_key(delegator, operator);
        let mut d = ctx.get_msg::<Delegation>(STORE, &key)?.ok_or_else(|| {
            sdk::not_found(format!(
                "no delegation from {delegator} to {}",
                valoper(operator)
            ))
        })?;
        if amount == 0 || v.tokens == 0 {
            return Err(sdk::invalid_coins("amount must be positive"));
        }
        let held = shares_of(&d.shares)?;
        let shares = mul_div(amount, v.shares.0, v.tokens, Round::Up)?.min(held);
        let worth = self.tokens_of(&v, held)?;
        if amount > worth {
            return Err(sdk::invalid_request(format!(
                "invalid shares amount: {amount}{BOND_DENOM} asked, the delegation is worth {worth}{BOND_DENOM}"
            )));
        }
        let hooks = ctx.router.and_then(|r| r.staking_hooks());
        if let Some(h) = hooks {
            h.before_delegation_modified(ctx, delegator, operator)?;
        }
        let tokens = self.tokens_of(&v, shares)?;
        v.tokens -= tokens;
        v.shares = Dec(v.shares.0 - shares);
        state::save_stored(ctx, &v)?;
        if held == shares {
            ctx.delete(STORE, key)?;
        } else {
            d.shares = (held - shares).to_string();
            ctx.put_msg(STORE, key, &d)?;
        }
        if let Some(h) = hooks {
            h.after_delegation_modified(ctx, delegator, operator)?;
        }
        Ok(tokens)
    }

    /// Starts unbonding: the tokens leave the validator now and reach the delegator after the
    /// unbonding period. Returns the completion time.
    pub fn undelegate(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
        operator: &Address,
        amount: u128,
    ) -> Result<i64, Error> {
        let p = params(ctx)?;
        let key = unbonding_key(delegator, operator);
        let mut u =
            ctx.get_msg::<UnbondingDelegation>(STORE, &key)?
                .unwrap_or(UnbondingDelegation {
                    delegator_address: delegator.to_string(),
                    validator_address: valoper(operator),
                    entries: vec![],
                });
        if u.entries.len() >= p.max_entries as usize {
            return Err(sdk::invalid_request(format!(
                "too many unbonding delegation entries for this pair (max {})",
                p.max_entries
            )));
        }
        let tokens = self.unbond(ctx, delegator, operator, amount)?;
        surety_auth::Auth.ensure_module_account(ctx, NOT_BONDED_POOL)?;
        self.bank.send(
            ctx,
            &Address::module(BONDED_POOL),
            &Address::module(NOT_BONDED_POOL),
            &Coins::of(tokens, BOND_DENOM),
        )?;
        let completion = ctx.block.time_unix_secs + p.unbonding_time.map_or(0, |d| d.seconds);
        u.entries.push(UnbondingDelegationEntry {
            creation_height: ctx.block.height as i64,
            completion_time: Some(Timestamp {
                seconds: completion,
                nanos: 0,
            }),
            initial_balance: tokens.to_string(),
            balance: tokens.to_string(),
            unbonding_id: 0,
            unbonding_on_hold_ref_count: 0,
        });
        ctx.put_msg(STORE, key, &u)?;
        ctx.put(
            STORE,
            queue_key(completion, delegator, operator),
            Vec::new(),
        )?;
        ctx.emit(
            Event::new("unbond")
                .attr("validator", valoper(operator))
                .attr("delegator", delegator)
                .attr("amount", format!("{tokens}{BOND_DENOM}"))
                .attr("completion_time", completion),
        );
        Ok(completion)
    }

    /// Moves stake from one validator to another at once.
    pub fn redelegate(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
        src: &Address,
        dst: &Address,
        amount: u128,
    ) -> Result<(), Error> {
        if src == dst {
            return Err(sdk::invalid_request(
                "cannot redelegate to the same validator",
            ));
        }
        if state::load_validator(ctx, dst)?.is_none() {
            return Err(sdk::invalid_request(format!(
                "validator {} does not exist",
                valoper(dst)
            )));
        }
        let tokens = self.unbond(ctx, delegator, src, amount)?;
        // The tokens never leave the bonded pool: take them back out and delegate them again.
        self.bank.send(
            ctx,
            &Address::module(BONDED_POOL),
            delegator,
            &Coins::of(tokens, BOND_DENOM),
        )?;
        let shares_dst = self.delegate(ctx, delegator, dst, tokens)?;
        // Remembered until the unbonding period is over: an infraction of the source validator
        // committed before now still reaches this stake.
        let completion =
            ctx.block.time_unix_secs + params(ctx)?.unbonding_time.map_or(0, |d| d.seconds);
        let rkey = redelegation_key(delegator, src, dst);
        let mut r = ctx
            .get_msg::<Redelegation>(STORE, &rkey)?
            .unwrap_or(Redelegation {
                delegator_address: delegator.to_string(),
                validator_src_address: valoper(src),
                validator_dst_address: valoper(dst),
                entries: vec![],
            });
        r.entries.push(RedelegationEntry {
            creation_height: ctx.block.height as i64,
            completion_time: Some(Timestamp {
                seconds: completion,
                nanos: 0,
            }),
            initial_balance: tokens.to_string(),
            shares_dst: shares_dst.to_string(),
            unbonding_id: 0,
            unbonding_on_hold_ref_count: 0,
        });
        ctx.put_msg(STORE, rkey, &r)?;
        ctx.emit(
            Event::new("redelegate")
                .attr("source_validator", valoper(src))
                .attr("destination_validator", valoper(dst))
                .attr("delegator", delegator)
                .attr("amount", format!("{tokens}{BOND_DENOM}")),
        );
        Ok(())
    }

    /// Pays out unbonding entries whose time has come.
    pub fn complete_unbondings(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let now = ctx.block.time_unix_secs;
        let limit = ((now as u64) ^ (1 << 63)).to_be_bytes();
        for (k, _) in ctx.prefix(STORE, &[UNBONDING_QUEUE])? {
            if k[1..9] > limit[..] {
                break;
            }
            ctx.delete(STORE, k.clone())?;
            let delegator = Address(
                k[9..29]
                    .try_into()
                    .map_err(|_| sdk::internal("corrupt queue"))?,
            );
            let operator = Address(
                k[29..49]
                    .try_into()
                    .map_err(|_| sdk::internal("corrupt queue"))?,
            );
            let key = unbonding_key(&delegator, &operator);
            let Some(mut u) = ctx.get_msg::<UnbondingDelegation>(STORE, &key)? else {
                continue;
            };
            let mut paid = 0u128;
            u.entries.retain(|e| {
                let due = e.completion_time.as_ref().is_some_and(|t| t.seconds <= now);
                if due {
                    paid += e.balance.parse::<u128>().unwrap_or(0);
                }
                !due
            });
            if u.entries.is_empty() {
                ctx.delete(STORE, key)?;
            } else {
                ctx.put_msg(STORE, key, &u)?;
            }
            self.bank.send(
                ctx,
                &Address::module(NOT_BONDED_POOL),
                &delegator,
                &Coins::of(paid, BOND_DENOM),
            )?;
            ctx.emit(
                Event::new("complete_unbonding")
                    .attr("validator", valoper(&operator))
                    .attr("delegator", delegator)
                    .attr("amount", format!("{paid}{BOND_DENOM}")),
            );
        }
        Ok(())
    }

    /// Each bonded validator's delegations as (validator, shares) of `delegator`.
    pub fn delegations_of(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
    ) -> Result<Vec<(Address, Dec)>, Error> {
        delegations_by(ctx, delegator)?
            .into_iter()
            .map(|d| {
                Ok((
                    Address::from_bech32_with(&d.validator_address, VALIDATOR_PREFIX)?,
                    Dec(shares_of(&d.shares)?),
                ))
            })
            .collect()
    }
}

/// Burns `fraction` of the initial balance of each unbonding entry from `operator` created at or
/// after `height`. Returns the total burned.
pub fn slash_unbondings(
    ctx: &mut Ctx,
    operator: &Address,
    fraction: Dec,
    height: i64,
) -> Result<u128, Error> {
    let mut burned = 0u128;
    for (key, value) in ctx.prefix(STORE, &[UNBONDINGS])? {
        let mut u: UnbondingDelegation = state::decode(&value)?;
        if key[21..41] != operator.0 {
            continue;
        }
        let mut changed = false;
        for e in u.entries.iter_mut().filter(|e| e.creation_height >= height) {
            let initial: u128 = e.initial_balance.parse().unwrap_or(0);
            let balance: u128 = e.balance.parse().unwrap_or(0);
            let cut = fraction.mul_amount(initial, Round::Down)?.min(balance);
            e.balance = (balance - cut).to_string();
            burned += cut;
            changed |= cut > 0;
        }
        if changed {
            ctx.put_msg(STORE, key, &u)?;
        }
    }
    Ok(burned)
}

impl Staking {
    /// Slashes stake redelegated away from `src` at or after `height`: `fraction` of each
    /// entry's initial balance, taken from the delegation it went to and burned. Entries past
    /// their unbonding period are forgotten here. Returns the total burned.
    pub fn slash_redelegations(
        &self,
        ctx: &mut Ctx,
        src: &Address,
        fraction: Dec,
        height: i64,
    ) -> Result<u128, Error> {
        let now = ctx.block.time_unix_secs;
        let mut burned = 0u128;
        for (key, value) in ctx.prefix(STORE, &[&[REDELEGATIONS][..], &src.0].concat())? {
            let mut r: Redelegation = state::decode(&value)?;
            r.entries
                .retain(|e| e.completion_time.as_ref().is_some_and(|t| t.seconds > now));
            let delegator = Address::from_bech32(&r.delegator_address)?;
            let dst = Address::from_bech32_with(&r.validator_dst_address, VALIDATOR_PREFIX)?;
            for e in r.entries.iter().filter(|e| e.creation_height >= height) {
                let initial: u128 = e.initial_balance.parse().unwrap_or(0);
                let owed = fraction.mul_amount(initial, Round::Down)?;
                let Some(d) = delegation(ctx, &delegator, &dst)? else {
                    continue;
                };
                let v = state::load_validator(ctx, &dst)?
                    .ok_or_else(|| sdk::internal("redelegation to a missing validator"))?;
                let worth = self.tokens_of(&v, shares_of(&d.shares)?)?;
                let take = owed.min(worth);
                if take == 0 {
                    continue;
                }
                let tokens = self.unbond(ctx, &delegator, &dst, take)?;
                self.bank
                    .burn(ctx, BONDED_POOL, &Coins::of(tokens, BOND_DENOM))?;
                burned += tokens;
            }
            if r.entries.is_empty() {
                ctx.delete(STORE, key)?;
            } else {
                ctx.put_msg(STORE, key, &r)?;
            }
        }
        Ok(burned)
    }
}
