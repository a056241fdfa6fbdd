//! distribution: `cosmos.distribution.v1beta1`. Each block the fee collector's balance — gas fees
//! and the protocol's share of premiums — goes to the validators that were in the last commit in
//! proportion to their power, less the community tax; each validator keeps its commission and
//! its delegators share the rest in proportion to stake. Accounting is lazy (F1, as Cosmos SDK
//! does it): a validator's rewards per unit of stake accumulate in periods, a delegation
//! remembers the period and stake it started with, and withdrawing pays stake × (ratio now −
//! ratio then), adjusted for any slash in between. Staking calls in through
//! [`surety_framework::StakingHooks`] whenever a delegation changes or a validator is slashed.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

mod dec_coins;
mod msgs;

pub use dec_coins::DecCoins;

use prost::Message;
use surety_framework::math::{self, mul_div, Round};
use surety_framework::{
    decode_query, sdk, validate, Address, Ctx, Dec, Error, Event, Module, Msgs, StakingHooks,
    ValidatorUpdate, VALIDATOR_PREFIX,
};
use surety_proto::cosmos::distribution::v1beta1::*;

pub const STORE: &str = "distribution";
/// Holds every reward not yet withdrawn, and the community pool.
pub const DISTRIBUTION_ACCOUNT: &str = surety_framework::accounts::DISTRIBUTION;

const PARAMS: &[u8] = &[0x00];
const CURRENT: u8 = 0x01;
const HISTORICAL: u8 = 0x02;
const COMMISSION: u8 = 0x03;
const STARTING: u8 = 0x04;
const SLASHES: u8 = 0x05;
const OUTSTANDING: u8 = 0x06;
const FEE_POOL: &[u8] = &[0x07];

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![tag];
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

fn valoper(a: &Address) -> String {
    a.to_bech32_with(VALIDATOR_PREFIX)
}

#[allow(deprecated)] // The proposer rewards are gone from Cosmos SDK too; they stay zero.
pub fn default_params() -> Params {
    Params {
        community_tax: "0.02".into(),
        base_proposer_reward: "0".into(),
        bonus_proposer_reward: "0".into(),
        withdraw_addr_enabled: false,
    }
}

fn community_tax(p: &Params) -> Result<Dec, Error> {
    validate::fraction(&p.community_tax, "community_tax")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[derive(Clone, Copy, Default)]
pub struct Distribution {
    bank: surety_bank::Bank,
    staking: surety_staking::Staking,
}

impl Distribution {
    pub fn params(&self, ctx: &mut Ctx) -> Result<Params, Error> {
        Ok(ctx.get_msg(STORE, PARAMS)?.unwrap_or_else(default_params))
    }

    fn dec_coins(&self, ctx: &mut Ctx, k: &[u8]) -> Result<DecCoins, Error> {
        match ctx.get(STORE, k)? {
            None => Ok(DecCoins::default()),
            Some(bytes) => DecCoins::from_proto(
                &ValidatorOutstandingRewards::decode(bytes.as_slice())
                    .map_err(|e| sdk::internal(e.to_string()))?
                    .rewards,
            ),
        }
    }

    /// Amounts stored under `k` (outstanding, commission and the community pool share a shape).
    fn put_dec_coins(&self, ctx: &mut Ctx, k: Vec<u8>, c: &DecCoins) -> Result<(), Error> {
        ctx.put_msg(
            STORE,
            k,
            &ValidatorOutstandingRewards {
                rewards: c.to_proto(),
            },
        )
    }

    pub fn community_pool(&self, ctx: &mut Ctx) -> Result<DecCoins, Error> {
        self.dec_coins(ctx, FEE_POOL)
    }

    fn add_to_pool(&self, ctx: &mut Ctx, c: &DecCoins) -> Result<(), Error> {
        let mut pool = self.community_pool(ctx)?;
        pool.add(c)?;
        self.put_dec_coins(ctx, FEE_POOL.to_vec(), &pool)
    }

    pub fn outstanding(&self, ctx: &mut Ctx, v: &Address) -> Result<DecCoins, Error> {
        self.dec_coins(ctx, &key(OUTSTANDING, &[&v.0]))
    }

    pub fn commission(&self, ctx: &mut Ctx, v: &Address) -> Result<DecCoins, Error> {
        self.dec_coins(ctx, &key(COMMISSION, &[&v.0]))
    }

    fn current(&self, ctx: &mut Ctx, v: &Address) -> Result<ValidatorCurrentRewards, Error> {
        match ctx.get_msg::<ValidatorCurrentRewards>(STORE, &key(CURRENT, &[&v.0]))? {
            Some(c) => Ok(c),
            None => {
                // A validator's first period starts from a zero ratio.
                ctx.put_msg(
                    STORE,
                    key(HISTORICAL, &[&v.0, &0u64.to_be_bytes()]),
                    &ValidatorHistoricalRewards {
                        cumulative_reward_ratio: vec![],
                        reference_count: 1,
                    },
                )?;
                Ok(ValidatorCurrentRewards {
                    rewards: vec![],
                    period: 1,
                })
            }
        }
    }

    fn ratio(&self, ctx: &mut Ctx, v: &Address, period: u64) -> Result<DecCoins, Error> {
        let h: ValidatorHistoricalRewards = ctx
            .get_msg(STORE, &key(HISTORICAL, &[&v.0, &period.to_be_bytes()]))?
            .ok_or_else(|| {
                sdk::internal(format!(
                    "no historical rewards for {} period {period}",
                    valoper(v)
                ))
            })?;
        DecCoins::from_proto(&h.cumulative_reward_ratio)
    }

    /// Closes the validator's current period: its rewards per unit of stake join the cumulative
    /// ratio. Returns the period closed.
    fn increment_period(&self, ctx: &mut Ctx, v: &Address) -> Result<u64, Error> {
        let current = self.current(ctx, v)?;
        let rewards = DecCoins::from_proto(&current.rewards)?;
        let tokens = surety_staking::state::load_validator(ctx, v)?.map_or(0, |v| v.tokens);
        let per_token = if tokens == 0 {
            // Nobody to pay: the period's rewards go to the community pool.
            self.add_to_pool(ctx, &rewards)?;
            DecCoins::default()
        } else {
            rewards.scale(1, tokens)?
        };
        let previous = current
            .period
            .checked_sub(1)
            .ok_or_else(|| sdk::internal("reward period 0 is never current"))?;
        let mut ratio = self.ratio(ctx, v, previous)?;
        ratio.add(&per_token)?;
        ctx.put_msg(
            STORE,
            key(HISTORICAL, &[&v.0, &current.period.to_be_bytes()]),
            &ValidatorHistoricalRewards {
                cumulative_reward_ratio: ratio.to_proto(),
                reference_count: 1,
            },
        )?;
        ctx.put_msg(
            STORE,
            key(CURRENT, &[&v.0]),
            &ValidatorCurrentRewards {
                rewards: vec![],
                period: current
                    .period
                    .checked_add(1)
                    .ok_or_else(|| sdk::internal("reward period overflows"))?,
            },
        )?;
        Ok(current.period)
    }

    /// What `stake` earned between two periods: the difference of cumulative ratios.
    fn earned(
        &self,
        ctx: &mut Ctx,
        v: &Address,
        from: u64,
        to: u64,
        stake: u128,
    ) -> Result<DecCoins, Error> {
        let start = self.ratio(ctx, v, from)?;
        let mut end = self.ratio(ctx, v, to)?;
        end.sub(&start)?;
        end.scale(stake, Dec::SCALE)
    }

    /// A delegation's rewards up to now, adjusted for slashes since it started; closes the
    /// validator's period.
    fn rewards(&self, ctx: &mut Ctx, delegator: &Address, v: &Address) -> Result<DecCoins, Error> {
        let Some(start) =
            ctx.get_msg::<DelegatorStartingInfo>(STORE, &key(STARTING, &[&delegator.0, &v.0]))?
        else {
            return Ok(DecCoins::default());
        };
        let end = self.increment_period(ctx, v)?;
        let mut stake: u128 = start
            .stake
            .parse()
            .map_err(|_| sdk::internal("corrupt stake"))?;
        let mut from = start.previous_period;
        let mut total = DecCoins::default();
        let prefix = key(SLASHES, &[&v.0]);
        for (k, value) in ctx.prefix(STORE, &prefix)? {
            let period = u64::from_be_bytes(
                k[prefix.len()..]
                    .try_into()
                    .map_err(|_| sdk::internal("corrupt slash key"))?,
            );
            if period <= from || period > end {
                continue;
            }
            let fraction = Dec(u128::from_be_bytes(
                value
                    .as_slice()
                    .try_into()
                    .map_err(|_| sdk::internal("corrupt slash"))?,
            ));
            total.add(&self.earned(ctx, v, from, period, stake)?)?;
            let kept = math::sub(Dec::ONE.0, fraction.0, "slash fraction above 1")?;
            stake = mul_div(stake, kept, Dec::SCALE, Round::Down)?;
            from = period;
        }
        total.add(&self.earned(ctx, v, from, end, stake)?)?;
        Ok(total)
    }

    /// Pays a delegation's rewards to the delegator (whole coins; the fractions go to the
    /// community pool) and forgets its starting point.
    pub fn withdraw(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
        v: &Address,
    ) -> Result<surety_framework::Coins, Error> {
        let rewards = self.rewards(ctx, delegator, v)?;
        ctx.delete(STORE, key(STARTING, &[&delegator.0, &v.0]))?;
        let mut outstanding = self.outstanding(ctx, v)?;
        // Rounding can leave a delegation a hair above what is outstanding; never pay more.
        let rewards = DecCoins(
            rewards
                .0
                .into_iter()
                .map(|(d, a)| {
                    let cap = outstanding.0.get(&d).copied().unwrap_or(0);
                    (d, a.min(cap))
                })
                .collect(),
        );
        outstanding.sub(&rewards)?;
        self.put_dec_coins(ctx, key(OUTSTANDING, &[&v.0]), &outstanding)?;
        let (paid, dust) = rewards.truncate();
        self.add_to_pool(ctx, &dust)?;
        if !paid.is_empty() {
            self.bank.send(
                ctx,
                &Address::module(DISTRIBUTION_ACCOUNT),
                delegator,
                &paid,
            )?;
        }
        ctx.emit(
            Event::new("withdraw_rewards")
                .attr("delegator", delegator)
                .attr("validator", valoper(v))
                .attr("amount", &paid),
        );
        Ok(paid)
    }

    pub fn withdraw_commission(
        &self,
        ctx: &mut Ctx,
        v: &Address,
    ) -> Result<surety_framework::Coins, Error> {
        let commission = self.commission(ctx, v)?;
        let (paid, rest) = commission.truncate();
        if paid.is_empty() {
            return Err(sdk::invalid_request("no validator commission to withdraw"));
        }
        self.put_dec_coins(ctx, key(COMMISSION, &[&v.0]), &rest)?;
        let mut outstanding = self.outstanding(ctx, v)?;
        outstanding.sub(&DecCoins::from_coins(&paid)?)?;
        self.put_dec_coins(ctx, key(OUTSTANDING, &[&v.0]), &outstanding)?;
        self.bank
            .send(ctx, &Address::module(DISTRIBUTION_ACCOUNT), v, &paid)?;
        ctx.emit(
            Event::new("withdraw_commission")
                .attr("validator", valoper(v))
                .attr("amount", &paid),
        );
        Ok(paid)
    }

    /// Moves the fee collector's balance here and allocates it over the last commit's votes
    /// (as many as CometBFT's validator set, which `max_validators` bounds). Each validator's
    /// share is credited on its own branch; a share that cannot be credited goes to the community
    /// pool with the tax.
    fn allocate(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let collector = Address::module(surety_auth::FEE_COLLECTOR);
        let fees = self.bank.balances(ctx, &collector)?;
        if fees.is_empty() {
            return Ok(());
        }
        self.bank.send(
            ctx,
            &collector,
            &Address::module(DISTRIBUTION_ACCOUNT),
            &fees,
        )?;
        let total = DecCoins::from_coins(&fees)?;
        let votes: Vec<_> = ctx
            .block
            .last_commit
            .iter()
            .filter(|v| v.power > 0)
            .cloned()
            .collect();
        let total_power = votes.iter().try_fold(0u128, |sum, v| {
            math::add(sum, u128::try_from(v.power).unwrap_or(0))
        })?;
        if total_power == 0 {
            return self.add_to_pool(ctx, &total);
        }
        let tax = community_tax(&self.params(ctx)?)?;
        let to_validators =
            total.scale(math::sub(Dec::ONE.0, tax.0, "community tax")?, Dec::SCALE)?;
        let mut remaining = total.clone();
        for vote in &votes {
            let power = u128::try_from(vote.power).unwrap_or(0);
            let reward = to_validators.scale(power, total_power)?;
            let credited = ctx.isolate(format!("rewards of {}", hex(&vote.address)), |ctx| {
                self.credit(ctx, &vote.address, &reward)
            })?;
            if credited == Ok(true) {
                remaining.sub(&reward)?;
            }
        }
        // The tax, and whatever rounding, absent or failed validators left.
        self.add_to_pool(ctx, &remaining)
    }

    /// Credits `reward` to the validator CometBFT names by `address`: its commission, the rest to
    /// its delegators' current period. False if there is no such validator.
    fn credit(&self, ctx: &mut Ctx, address: &[u8], reward: &DecCoins) -> Result<bool, Error> {
        let Some(val) = self.staking.by_consensus_address(ctx, address)? else {
            return Ok(false);
        };
        let rate = val
            .proto
            .commission
            .as_ref()
            .and_then(|c| c.commission_rates.as_ref())
            .map_or(Ok(0), |r| math::parse_amount(&r.rate, "commission rate"))?;
        let commission = reward.scale(rate.min(Dec::SCALE), Dec::SCALE)?;
        let mut shared = reward.clone();
        shared.sub(&commission)?;
        let op = val.operator;
        let mut c = self.commission(ctx, &op)?;
        c.add(&commission)?;
        self.put_dec_coins(ctx, key(COMMISSION, &[&op.0]), &c)?;
        let mut current = self.current(ctx, &op)?;
        let mut rewards = DecCoins::from_proto(&current.rewards)?;
        rewards.add(&shared)?;
        current.rewards = rewards.to_proto();
        ctx.put_msg(STORE, key(CURRENT, &[&op.0]), &current)?;
        let mut out = self.outstanding(ctx, &op)?;
        out.add(reward)?;
        self.put_dec_coins(ctx, key(OUTSTANDING, &[&op.0]), &out)?;
        Ok(true)
    }
}

impl StakingHooks for Distribution {
    fn before_delegation_modified(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
        validator: &Address,
    ) -> Result<(), Error> {
        if ctx
            .get(STORE, &key(STARTING, &[&delegator.0, &validator.0]))?
            .is_some()
        {
            self.withdraw(ctx, delegator, validator)?;
        }
        Ok(())
    }

    fn after_delegation_modified(
        &self,
        ctx: &mut Ctx,
        delegator: &Address,
        validator: &Address,
    ) -> Result<(), Error> {
        let Some(d) = surety_staking::delegation::delegation(ctx, delegator, validator)? else {
            ctx.delete(STORE, key(STARTING, &[&delegator.0, &validator.0]))?;
            return Ok(());
        };
        let v = surety_staking::state::load_validator(ctx, validator)?
            .ok_or_else(|| sdk::internal("delegation to a missing validator"))?;
        let shares: u128 = d
            .shares
            .parse()
            .map_err(|_| sdk::internal("corrupt shares"))?;
        let stake = self.staking.tokens_of(&v, shares)?;
        let previous_period = self.increment_period(ctx, validator)?;
        ctx.put_msg(
            STORE,
            key(STARTING, &[&delegator.0, &validator.0]),
            &DelegatorStartingInfo {
                previous_period,
                stake: stake
                    .checked_mul(Dec::SCALE)
                    .ok_or_else(|| sdk::internal("delegation stake overflows"))?
                    .to_string(),
                height: ctx.block.height,
            },
        )
    }

    fn before_validator_slashed(
        &self,
        ctx: &mut Ctx,
        validator: &Address,
        fraction: Dec,
    ) -> Result<(), Error> {
        let period = self.increment_period(ctx, validator)?;
        // Rewards up to the period just closed were earned at the old stake.
        ctx.put(
            STORE,
            key(SLASHES, &[&validator.0, &period.to_be_bytes()]),
            fraction.0.to_be_bytes().to_vec(),
        )
    }
}

pub struct DistributionModule {
    pub keeper: Distribution,
}

pub const QUERY_PARAMS: &str = "/cosmos.distribution.v1beta1.Query/Params";
pub const QUERY_REWARDS: &str = "/cosmos.distribution.v1beta1.Query/DelegationRewards";
pub const QUERY_TOTAL_REWARDS: &str = "/cosmos.distribution.v1beta1.Query/DelegationTotalRewards";
pub const QUERY_COMMISSION: &str = "/cosmos.distribution.v1beta1.Query/ValidatorCommission";
pub const QUERY_OUTSTANDING: &str =
    "/cosmos.distribution.v1beta1.Query/ValidatorOutstandingRewards";
pub const QUERY_POOL: &str = "/cosmos.distribution.v1beta1.Query/CommunityPool";

impl Module for DistributionModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        let k = self.keeper;
        Msgs::new()
            .add(
                msgs::check_withdraw_reward,
                move |ctx, m: MsgWithdrawDelegatorReward| {
                    let delegator = validate::address(&m.delegator_address, "delegator_address")?;
                    let v = validate::validator(&m.validator_address, "validator_address")?;
                    if surety_staking::delegation::delegation(ctx, &delegator, &v)?.is_none() {
                        return Err(sdk::not_found(format!(
                            "no delegation from {delegator} to {}",
                            m.validator_address
                        )));
                    }
                    let paid = k.withdraw(ctx, &delegator, &v)?;
                    k.after_delegation_modified(ctx, &delegator, &v)?;
                    Ok(MsgWithdrawDelegatorRewardResponse {
                        amount: paid.to_proto(),
                    })
                },
            )
            .add(
                msgs::check_withdraw_commission,
                move |ctx, m: MsgWithdrawValidatorCommission| {
                    let v = validate::validator(&m.validator_address, "validator_address")?;
                    let paid = k.withdraw_commission(ctx, &v)?;
                    Ok(MsgWithdrawValidatorCommissionResponse {
                        amount: paid.to_proto(),
                    })
                },
            )
            .add(
                msgs::check_pool_spend,
                move |ctx, m: MsgCommunityPoolSpend| {
                    let recipient = validate::address(&m.recipient, "recipient")?;
                    let amount = surety_bank::check_coins(&m.amount, "amount")?;
                    let mut pool = k.community_pool(ctx)?;
                    pool.sub(&DecCoins::from_coins(&amount)?).map_err(|_| {
                        sdk::insufficient_funds(format!(
                            "the community pool holds less than {amount}"
                        ))
                    })?;
                    k.put_dec_coins(ctx, FEE_POOL.to_vec(), &pool)?;
                    k.bank.send(
                        ctx,
                        &Address::module(DISTRIBUTION_ACCOUNT),
                        &recipient,
                        &amount,
                    )?;
                    ctx.emit(
                        Event::new("community_pool_spend")
                            .attr("recipient", recipient)
                            .attr("amount", &amount),
                    );
                    Ok(MsgCommunityPoolSpendResponse {})
                },
            )
            .add(msgs::check_update_params, |ctx, m: MsgUpdateParams| {
                let p = surety_framework::msgs::present(m.params)?;
                ctx.put_msg(STORE, PARAMS.to_vec(), &p)?;
                Ok(MsgUpdateParamsResponse {})
            })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        &[
            QUERY_PARAMS,
            QUERY_REWARDS,
            QUERY_TOTAL_REWARDS,
            QUERY_COMMISSION,
            QUERY_OUTSTANDING,
            QUERY_POOL,
        ]
    }

    /// Queries run on a throwaway branch, so computing rewards (which closes a period) changes
    /// nothing.
    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        let k = &self.keeper;
        Ok(match path {
            QUERY_PARAMS => QueryParamsResponse {
                params: Some(k.params(ctx)?),
            }
            .encode_to_vec(),
            QUERY_REWARDS => {
                let req: QueryDelegationRewardsRequest = decode_query(request)?;
                let delegator = Address::from_bech32(&req.delegator_address)?;
                let v = Address::from_bech32_with(&req.validator_address, VALIDATOR_PREFIX)?;
                QueryDelegationRewardsResponse {
                    rewards: k.rewards(ctx, &delegator, &v)?.to_proto(),
                }
                .encode_to_vec()
            }
            QUERY_TOTAL_REWARDS => {
                let req: QueryDelegationTotalRewardsRequest = decode_query(request)?;
                let delegator = Address::from_bech32(&req.delegator_address)?;
                let mut total = DecCoins::default();
                let mut rewards = Vec::new();
                for (v, _) in self.keeper.staking.delegations_of(ctx, &delegator)? {
                    let r = k.rewards(ctx, &delegator, &v)?;
                    total.add(&r)?;
                    rewards.push(DelegationDelegatorReward {
                        validator_address: valoper(&v),
                        reward: r.to_proto(),
                    });
                }
                QueryDelegationTotalRewardsResponse {
                    rewards,
                    total: total.to_proto(),
                }
                .encode_to_vec()
            }
            QUERY_COMMISSION => {
                let req: QueryValidatorCommissionRequest = decode_query(request)?;
                let v = Address::from_bech32_with(&req.validator_address, VALIDATOR_PREFIX)?;
                QueryValidatorCommissionResponse {
                    commission: Some(ValidatorAccumulatedCommission {
                        commission: k.commission(ctx, &v)?.to_proto(),
                    }),
                }
                .encode_to_vec()
            }
            QUERY_OUTSTANDING => {
                let req: QueryValidatorOutstandingRewardsRequest = decode_query(request)?;
                let v = Address::from_bech32_with(&req.validator_address, VALIDATOR_PREFIX)?;
                QueryValidatorOutstandingRewardsResponse {
                    rewards: Some(ValidatorOutstandingRewards {
                        rewards: k.outstanding(ctx, &v)?.to_proto(),
                    }),
                }
                .encode_to_vec()
            }
            QUERY_POOL => QueryCommunityPoolResponse {
                pool: k.community_pool(ctx)?.to_proto(),
            }
            .encode_to_vec(),
            other => return Err(sdk::unknown_request(format!("unknown query path {other}"))),
        })
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let mut p = default_params();
        if let Some(tax) = genesis["params"]["community_tax"].as_str() {
            p.community_tax = tax.to_string();
        }
        msgs::check_params(&p)?;
        surety_auth::Auth.ensure_module_account(ctx, DISTRIBUTION_ACCOUNT)?;
        ctx.put_msg(STORE, PARAMS.to_vec(), &p)
    }

    /// If the allocation as a whole fails (its failure is in an `item_failed` event), the fees
    /// stay in the fee collector and are allocated with the next block's.
    fn begin_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let _ = ctx.isolate("fee allocation", |ctx| self.keeper.allocate(ctx))?;
        Ok(())
    }

    fn end_block(&self, _ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        Ok(Vec::new())
    }

    /// Everything not yet withdrawn — outstanding rewards and the community pool — is backed by
    /// the distribution account, whole units included.
    fn check_invariants(&self, ctx: &mut Ctx) -> Result<(), String> {
        let check = |ctx: &mut Ctx| -> Result<Result<(), String>, Error> {
            let mut owed = self.keeper.community_pool(ctx)?;
            for v in surety_staking::state::all_validators(ctx)? {
                owed.add(&self.keeper.outstanding(ctx, &v.operator)?)?;
            }
            let account = Address::module(DISTRIBUTION_ACCOUNT);
            for (denom, amount) in &owed.0 {
                let held = self.keeper.bank.balance(ctx, &account, denom)?;
                if held.checked_mul(Dec::SCALE).is_some_and(|h| h < *amount) {
                    return Ok(Err(format!(
                        "distribution owes {} {denom} but holds {held}",
                        Dec(*amount)
                    )));
                }
            }
            Ok(Ok(()))
        };
        check(ctx).map_err(|e| e.log)?
    }
}
