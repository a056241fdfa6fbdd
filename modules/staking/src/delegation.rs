//! Delegations, unbonding and redelegation, with Cosmos SDK's share accounting: a validator has
//! tokens and issued shares; a delegation holds shares, worth `shares × tokens / total shares`,
//! so a slash of the validator's tokens reaches every delegator in proportion. Shares are
//! `LegacyDec` values (× 10¹⁸) as on the wire.

use crate::{state, Staking, BONDED_POOL, BOND_DENOM, STORE};
use surety_framework::math::{self, mul_div, Round};
use surety_framework::{
    sdk, Address, Coins, Ctx, DeadlineQueue, Dec, Error, Event, VALIDATOR_PREFIX,
};
use surety_proto::cosmos::staking::v1beta1::{
    Delegation, Params, Redelegation, RedelegationEntry, UnbondingDelegation,
    UnbondingDelegationEntry,
};
use tendermint_proto::google::protobuf::{Duration, Timestamp};

/// Holds the tokens of unbonding delegations until they complete.
pub const NOT_BONDED_POOL: &str = surety_framework::accounts::NOT_BONDED_POOL;

const DELEGATIONS: u8 = 0x31;
const UNBONDINGS: u8 = 0x32;
const REDELEGATIONS: u8 = 0x33;
/// `[tag][operator][delegator]`: the unbondings from a validator, which a slash reaches.
const UNBONDINGS_BY_VALIDATOR: u8 = 0x34;
const PARAMS: &[u8] = &[0x51];

/// Unbondings by completion time; an item is `delegator ‖ operator`.
const UNBONDING_QUEUE: DeadlineQueue = DeadlineQueue::new(STORE, 0x41);
/// Redelegations by completion time, to forget their entries; an item is
/// `src ‖ delegator ‖ dst` (the redelegation's key without its tag).
const REDELEGATION_QUEUE: DeadlineQueue = DeadlineQueue::new(STORE, 0x42);
/// Most queue items EndBlock takes per block; the rest wait for the next block.
pub const UNBONDING_BUDGET: usize = 500;
pub const REDELEGATION_BUDGET: usize = 500;
/// An unbonding that cannot be paid out is tried again this much later.
pub const RETRY_AFTER: i64 = 3600;

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
    crate::msgs::check_params(p)?;
    ctx.put_msg(STORE, PARAMS.to_vec(), p)
}

/// Block time plus the unbonding period.
fn completion_time(ctx: &mut Ctx) -> Result<i64, Error> {
    let period = params(ctx)?.unbonding_time.map_or(0, |d| d.seconds);
    ctx.block
        .time_unix_secs
        .checked_add(period)
        .ok_or_else(|| sdk::internal("unbonding completion time overflows"))
}

fn balance_of(s: &str) -> Result<u128, Error> {
    s.parse()
        .map_err(|_| sdk::internal(format!("corrupt unbonding balance {s:?}")))
}

fn delegation_key(delegator: &Address, operator: &Address) -> Vec<u8> {
    [&[DELEGATIONS][..], &delegator.0, &operator.0].concat()
}

fn unbonding_key(delegator: &Address, operator: &Address) -> Vec<u8> {
    [&[UNBONDINGS][..], &delegator.0, &operator.0].concat()
}

fn unbonding_index_key(delegator: &Address, operator: &Address) -> Vec<u8> {
    [&[UNBONDINGS_BY_VALIDATOR][..], &operator.0, &delegator.0].concat()
}

fn redelegation_item(delegator: &Address, src: &Address, dst: &Address) -> Vec<u8> {
    [&src.0[..], &delegator.0, &dst.0].concat()
}

fn redelegation_key(delegator: &Address, src: &Address, dst: &Address) -> Vec<u8> {
    [
        &[REDELEGATIONS][..],
        &redelegation_item(delegator, src, dst),
    ]
    .concat()
}

/// The two addresses of an unbonding queue item.
fn pair_of(item: &[u8]) -> Result<(Address, Address), Error> {
    let corrupt = || sdk::internal("corrupt unbonding queue item");
    let delegator = item.get(0..20).ok_or_else(corrupt)?;
    let operator = item.get(20..40).ok_or_else(corrupt)?;
    Ok((
        Address(delegator.try_into().map_err(|_| corrupt())?),
        Address(operator.try_into().map_err(|_| corrupt())?),
    ))
}

pub fn shares_of(s: &str) -> Result<u128, Error> {
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

/// The bonded tokens `delegator`'s shares in `operator` are worth now; 0 when it has none.
pub fn delegated_tokens(
    ctx: &mut Ctx,
    delegator: &Address,
    operator: &Address,
) -> Result<u128, Error> {
    let (Some(d), Some(v)) = (
        delegation(ctx, delegator, operator)?,
        state::load_validator(ctx, operator)?,
    ) else {
        return Ok(0);
    };
    if v.shares.0 == 0 {
        return Ok(0);
    }
    mul_div(shares_of(&d.shares)?, v.tokens, v.shares.0, Round::Down)
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
            amount
                .checked_mul(Dec::SCALE)
                .ok_or_else(|| sdk::invalid_coins(format!("{amount}{BOND_DENOM} is too large")))?
        } else {
            mul_div(amount, v.shares.0, v.tokens, Round::Down)?
        };
        let too_large = || sdk::invalid_coins("the validator's stake would overflow");
        v.tokens = v.tokens.checked_add(amount).ok_or_else(too_large)?;
        v.shares = Dec(v.shares.0.checked_add(shares).ok_or_else(too_large)?);
        state::save_stored(ctx, &v)?;
        let key = delegation_key(delegator, operator);
        let mut d = ctx
            .get_msg::<Delegation>(STORE, &key)?
            .unwrap_or(Delegation {
                delegator_address: delegator.to_string(),
                validator_address: valoper(operator),
                shares: "0".into(),
            });
        d.shares = math::add(shares_of(&d.shares)?, shares)?.to_string();
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
        v.tokens = math::sub(v.tokens, tokens, "validator tokens")?;
        v.shares = Dec(math::sub(v.shares.0, shares, "validator shares")?);
        state::save_stored(ctx, &v)?;
        if held == shares {
            ctx.delete(STORE, key)?;
        } else {
            d.shares = math::sub(held, shares, "delegation shares")?.to_string();
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
        let completion = completion_time(ctx)?;
        u.entries.push(UnbondingDelegationEntry {
            creation_height: block_height(ctx)?,
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
        ctx.put(STORE, unbonding_index_key(delegator, operator), Vec::new())?;
        UNBONDING_QUEUE.push(ctx, completion, &[delegator.0, operator.0].concat())?;
        ctx.emit(
            Event::new("unbond")
                .attr("validator", valoper(operator))
                .attr("delegator", delegator)
                .attr("amount", format!("{tokens}{BOND_DENOM}"))
                .attr("completion_time", completion),
        );
        Ok(completion)
    }

    /// Moves stake from one validator to another at once. Returns when the source validator's
    /// infractions stop reaching the stake.
    pub fn redelegate(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
        src: &Address,
        dst: &Address,
        amount: u128,
    ) -> Result<i64, Error> {
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
        let now = ctx.block.time_unix_secs;
        let rkey = redelegation_key(delegator, src, dst);
        let mut r = ctx
            .get_msg::<Redelegation>(STORE, &rkey)?
            .unwrap_or(Redelegation {
                delegator_address: delegator.to_string(),
                validator_src_address: valoper(src),
                validator_dst_address: valoper(dst),
                entries: vec![],
            });
        r.entries
            .retain(|e| e.completion_time.as_ref().is_some_and(|t| t.seconds > now));
        let max_entries = params(ctx)?.max_entries;
        if r.entries.len() >= max_entries as usize {
            return Err(sdk::invalid_request(format!(
                "too many redelegation entries for this pair (max {max_entries})"
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
        let completion = completion_time(ctx)?;
        r.entries.push(RedelegationEntry {
            creation_height: block_height(ctx)?,
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
        REDELEGATION_QUEUE.push(ctx, completion, &redelegation_item(delegator, src, dst))?;
        ctx.emit(
            Event::new("redelegate")
                .attr("source_validator", valoper(src))
                .attr("destination_validator", valoper(dst))
                .attr("delegator", delegator)
                .attr("amount", format!("{tokens}{BOND_DENOM}")),
        );
        Ok(completion)
    }

    /// Pays out matured unbondings: at most [`UNBONDING_BUDGET`] queue items per block, oldest
    /// first, each on its own branch. An item that fails keeps its entries and is queued again
    /// [`RETRY_AFTER`] later (its failure is in an `item_failed` event); only a fatal error
    /// stops the block.
    pub fn complete_unbondings(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let now = ctx.block.time_unix_secs;
        for due in UNBONDING_QUEUE.take_due(ctx, now, UNBONDING_BUDGET)? {
            let item = format!("unbonding {}", hex::encode(&due.item));
            let outcome = ctx.isolate(item, |ctx| {
                let (delegator, operator) = pair_of(&due.item)?;
                self.complete_unbonding(ctx, &delegator, &operator, now)
            })?;
            if outcome.is_err() {
                UNBONDING_QUEUE.push(ctx, now.saturating_add(RETRY_AFTER), &due.item)?;
            }
        }
        Ok(())
    }

    /// Pays `delegator` every entry of its unbonding from `operator` due by `now`.
    fn complete_unbonding(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
        operator: &Address,
        now: i64,
    ) -> Result<(), Error> {
        let key = unbonding_key(delegator, operator);
        let Some(mut u) = ctx.get_msg::<UnbondingDelegation>(STORE, &key)? else {
            return Ok(());
        };
        let mut paid = 0u128;
        let mut left = Vec::with_capacity(u.entries.len());
        for e in u.entries {
            if e.completion_time.as_ref().is_some_and(|t| t.seconds <= now) {
                paid = math::add(paid, balance_of(&e.balance)?)?;
            } else {
                left.push(e);
            }
        }
        u.entries = left;
        if u.entries.is_empty() {
            ctx.delete(STORE, key)?;
            ctx.delete(STORE, unbonding_index_key(delegator, operator))?;
        } else {
            ctx.put_msg(STORE, key, &u)?;
        }
        if paid > 0 {
            self.bank.send(
                ctx,
                &Address::module(NOT_BONDED_POOL),
                delegator,
                &Coins::of(paid, BOND_DENOM),
            )?;
        }
        ctx.emit(
            Event::new("complete_unbonding")
                .attr("validator", valoper(operator))
                .attr("delegator", delegator)
                .attr("amount", format!("{paid}{BOND_DENOM}")),
        );
        Ok(())
    }

    /// Forgets redelegation entries past their unbonding period: at most
    /// [`REDELEGATION_BUDGET`] per block, each on its own branch. One that fails keeps its stale
    /// entries, which only a slash of the source validator would read (and skip).
    pub fn prune_redelegations(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let now = ctx.block.time_unix_secs;
        for due in REDELEGATION_QUEUE.take_due(ctx, now, REDELEGATION_BUDGET)? {
            let item = format!("redelegation {}", hex::encode(&due.item));
            let _ = ctx.isolate(item, |ctx| {
                let key = [&[REDELEGATIONS][..], &due.item].concat();
                let Some(mut r) = ctx.get_msg::<Redelegation>(STORE, &key)? else {
                    return Ok(());
                };
                r.entries
                    .retain(|e| e.completion_time.as_ref().is_some_and(|t| t.seconds > now));
                if r.entries.is_empty() {
                    ctx.delete(STORE, key)
                } else {
                    ctx.put_msg(STORE, key, &r)
                }
            })?;
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
    let prefix = [&[UNBONDINGS_BY_VALIDATOR][..], &operator.0].concat();
    for (index, _) in ctx.prefix(STORE, &prefix)? {
        let delegator = Address(
            index
                .get(prefix.len()..)
                .and_then(|d| d.try_into().ok())
                .ok_or_else(|| sdk::internal("corrupt unbonding index"))?,
        );
        let key = unbonding_key(&delegator, operator);
        let Some(mut u) = ctx.get_msg::<UnbondingDelegation>(STORE, &key)? else {
            continue;
        };
        let mut changed = false;
        for e in u.entries.iter_mut().filter(|e| e.creation_height >= height) {
            let initial = balance_of(&e.initial_balance)?;
            let balance = balance_of(&e.balance)?;
            let cut = fraction.mul_amount(initial, Round::Down)?.min(balance);
            e.balance = math::sub(balance, cut, "unbonding balance")?.to_string();
            burned = math::add(burned, cut)?;
            changed |= cut > 0;
        }
        if changed {
            ctx.put_msg(STORE, key, &u)?;
        }
    }
    Ok(burned)
}

fn block_height(ctx: &Ctx) -> Result<i64, Error> {
    i64::try_from(ctx.block.height).map_err(|_| sdk::internal("block height beyond i64"))
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
                let initial = balance_of(&e.initial_balance)?;
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
                burned = math::add(burned, tokens)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::state::{Entries, Overlay, StateRead};
    use surety_framework::{BlockInfo, ExecMode, GasMeter};

    struct Empty;
    impl StateRead for Empty {
        fn get(&self, _: &'static str, _: &[u8]) -> Result<Option<Vec<u8>>, Error> {
            Ok(None)
        }
        fn prefix(&self, _: &'static str, _: &[u8]) -> Result<Entries, Error> {
            Ok(Vec::new())
        }
    }

    const OPERATOR: Address = Address([9; 20]);

    fn unbond_at(ctx: &mut Ctx, delegator: Address, balance: &str, completion: i64) {
        let entry = UnbondingDelegationEntry {
            creation_height: 1,
            completion_time: Some(Timestamp {
                seconds: completion,
                nanos: 0,
            }),
            initial_balance: balance.into(),
            balance: balance.into(),
            unbonding_id: 0,
            unbonding_on_hold_ref_count: 0,
        };
        let u = UnbondingDelegation {
            delegator_address: delegator.to_string(),
            validator_address: valoper(&OPERATOR),
            entries: vec![entry],
        };
        ctx.put_msg(STORE, unbonding_key(&delegator, &OPERATOR), &u)
            .unwrap();
        ctx.put(
            STORE,
            unbonding_index_key(&delegator, &OPERATOR),
            Vec::new(),
        )
        .unwrap();
        UNBONDING_QUEUE
            .push(ctx, completion, &[delegator.0, OPERATOR.0].concat())
            .unwrap();
    }

    fn with_ctx(test: impl FnOnce(&mut Ctx)) {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let block = BlockInfo {
            height: 5,
            time_unix_secs: 1_000,
            ..Default::default()
        };
        let mut ctx = Ctx::new(&mut state, block, ExecMode::Deliver, GasMeter::infinite());
        test(&mut ctx);
    }

    fn pool(ctx: &mut Ctx) -> u128 {
        surety_bank::Bank::default()
            .balance(ctx, &Address::module(NOT_BONDED_POOL), BOND_DENOM)
            .unwrap()
    }

    #[test]
    fn a_poisoned_unbonding_fails_alone_and_is_retried_later() {
        with_ctx(|ctx| {
            let bank = surety_bank::Bank::default();
            bank.mint(ctx, NOT_BONDED_POOL, &Coins::of(40, BOND_DENOM))
                .unwrap();
            let [a, b, c, d] = [1u8, 2, 3, 4].map(|n| Address([n; 20]));
            unbond_at(ctx, a, "10", 900);
            unbond_at(ctx, b, "not a number", 950);
            unbond_at(ctx, c, "10", 1_000);
            unbond_at(ctx, d, "10", 1_001);
            Staking::default().complete_unbondings(ctx).unwrap();

            assert_eq!(bank.balance(ctx, &a, BOND_DENOM).unwrap(), 10);
            assert_eq!(bank.balance(ctx, &c, BOND_DENOM).unwrap(), 10);
            assert_eq!(bank.balance(ctx, &b, BOND_DENOM).unwrap(), 0);
            assert_eq!(bank.balance(ctx, &d, BOND_DENOM).unwrap(), 0);
            assert_eq!(pool(ctx), 20);
            let failed = ctx.events().iter().filter(|e| e.kind == "item_failed");
            assert_eq!(failed.count(), 1);
            // The poisoned item keeps its entry and is queued again, after the next due one.
            assert!(ctx
                .get(STORE, &unbonding_key(&b, &OPERATOR))
                .unwrap()
                .is_some());
            assert!(ctx
                .get(STORE, &unbonding_key(&a, &OPERATOR))
                .unwrap()
                .is_none());
            assert!(!UNBONDING_QUEUE.any_due(ctx, 1_000).unwrap());
            let rest = UNBONDING_QUEUE
                .take_due(ctx, 1_000 + RETRY_AFTER, 10)
                .unwrap();
            let items: Vec<_> = rest
                .iter()
                .map(|due| pair_of(&due.item).unwrap().0)
                .collect();
            assert_eq!(items, vec![d, b]);
            assert_eq!(rest[1].time, 1_000 + RETRY_AFTER);
        });
    }

    #[test]
    fn at_most_a_budget_of_unbondings_per_block() {
        with_ctx(|ctx| {
            let n = UNBONDING_BUDGET + 1;
            surety_bank::Bank::default()
                .mint(ctx, NOT_BONDED_POOL, &Coins::of(n as u128, BOND_DENOM))
                .unwrap();
            for i in 0..n {
                let mut bytes = [1u8; 20];
                bytes[..8].copy_from_slice(&(i as u64).to_be_bytes());
                unbond_at(ctx, Address(bytes), "1", 900);
            }
            let staking = Staking::default();
            staking.complete_unbondings(ctx).unwrap();
            assert_eq!(pool(ctx), 1);
            staking.complete_unbondings(ctx).unwrap();
            assert_eq!(pool(ctx), 0);
        });
    }

    #[test]
    fn slashing_reaches_unbondings_through_the_index() {
        with_ctx(|ctx| {
            let a = Address([1; 20]);
            unbond_at(ctx, a, "1000", 2_000);
            let burned = slash_unbondings(ctx, &OPERATOR, Dec::from_bps(1_000), 0).unwrap();
            assert_eq!(burned, 100);
            let u: UnbondingDelegation = ctx
                .get_msg(STORE, &unbonding_key(&a, &OPERATOR))
                .unwrap()
                .unwrap();
            assert_eq!(u.entries[0].balance, "900");
            assert_eq!(
                slash_unbondings(ctx, &Address([8; 20]), Dec::ONE, 0).unwrap(),
                0
            );
        });
    }
}
