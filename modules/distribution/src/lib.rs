//! distribution: `cosmos.distribution.v1beta1`. Each block the fee collector's balance — gas fees
//! and the protocol's share of premiums — goes to the validators that were in the last commit in
//! proportion to their power, less the community tax; each validator keeps its commission and
//! its delegators share the rest in proportion to stake. Accounting is lazy (F1, as Cosmos SDK
//! does it): a validator's rewards per unit of stake accumulate in periods, a delegation
//! remembers the period and stake it started with, and withdrawing pays stake × (ratio now −
//! ratio then), adjusted for any slash in between. Staking calls in through
//! [`surety_framework::StakingHooks`] whenever a delegation changes or a validator is slashed.

mod dec_coins;

pub use dec_coins::DecCoins;

use prost::Message;
use surety_framework::math::{mul_div, Round};
use surety_framework::{
    decode_msg, decode_query, require_authority, sdk, signers_of, Address, Ctx, Dec, Error, Event,
    Module, StakingHooks, ValidatorUpdate, VALIDATOR_PREFIX,
};
use surety_proto::cosmos::distribution::v1beta1::*;
use surety_proto::{Any, TypeUrl};

pub const STORE: &str = "distribution";
/// Holds every reward not yet withdrawn, and the community pool.
pub const DISTRIBUTION_ACCOUNT: &str = "distribution";

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
    let d: Dec = p.community_tax.parse()?;
    if d > Dec::ONE {
        return Err(sdk::invalid_request("community_tax must be at most 1"));
    }
    Ok(d)
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
        pool.add(c);
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
        let mut ratio = self.ratio(ctx, v, current.period - 1)?;
        ratio.add(&per_token);
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
                period: current.period + 1,
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
            total.add(&self.earned(ctx, v, from, period, stake)?);
            stake = mul_div(stake, Dec::ONE.0 - fraction.0, Dec::SCALE, Round::Down)?;
            from = period;
        }
        total.add(&self.earned(ctx, v, from, end, stake)?);
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
        outstanding.sub(&DecCoins::from_coins(&paid))?;
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

    /// Moves the fee collector's balance here and allocates it over the last commit's votes.
    fn allocate(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let collector = Address::module(surety_auth::FEE_COLLECTOR);
        let fees = self.bank.balances(ctx, &collector)?;
        if fees.is_empty() {
            return Ok(());
        }
        surety_auth::Auth.ensure_module_account(ctx, DISTRIBUTION_ACCOUNT)?;
        self.bank.send(
            ctx,
            &collector,
            &Address::module(DISTRIBUTION_ACCOUNT),
            &fees,
        )?;
        let total = DecCoins::from_coins(&fees);
        let votes = ctx.block.last_commit.clone();
        let total_power: i64 = votes.iter().map(|v| v.power).sum();
        if total_power <= 0 {
            return self.add_to_pool(ctx, &total);
        }
        let tax = community_tax(&self.params(ctx)?)?;
        let to_validators = total.scale(Dec::ONE.0 - tax.0, Dec::SCALE)?;
        let mut remaining = total.clone();
        let validators = self.staking.consensus_validators(ctx)?;
        for vote in votes.iter().filter(|v| v.power > 0) {
            let Some(val) = validators.iter().find(|v| v.address == vote.address) else {
                continue;
            };
            let reward = to_validators.scale(vote.power as u128, total_power as u128)?;
            let rate = surety_staking::state::load_validator(ctx, &val.operator)?
                .and_then(|v| v.proto.commission)
                .and_then(|c| c.commission_rates)
                .and_then(|r| r.rate.parse::<u128>().ok())
                .unwrap_or(0);
            let commission = reward.scale(rate, Dec::SCALE)?;
            let mut shared = reward.clone();
            shared.sub(&commission)?;
            let op = val.operator;
            let mut c = self.commission(ctx, &op)?;
            c.add(&commission);
            self.put_dec_coins(ctx, key(COMMISSION, &[&op.0]), &c)?;
            let mut current = self.current(ctx, &op)?;
            let mut rewards = DecCoins::from_proto(&current.rewards)?;
            rewards.add(&shared);
            current.rewards = rewards.to_proto();
            ctx.put_msg(STORE, key(CURRENT, &[&op.0]), &current)?;
            let mut out = self.outstanding(ctx, &op)?;
            out.add(&reward);
            self.put_dec_coins(ctx, key(OUTSTANDING, &[&op.0]), &out)?;
            remaining.sub(&reward)?;
        }
        // The tax, and whatever rounding or absent validators left.
        self.add_to_pool(ctx, &remaining)
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
                stake: (stake * Dec::SCALE).to_string(),
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

    fn msg_types(&self) -> &'static [&'static str] {
        &[
            MsgWithdrawDelegatorReward::TYPE_URL,
            MsgWithdrawValidatorCommission::TYPE_URL,
            MsgCommunityPoolSpend::TYPE_URL,
            MsgUpdateParams::TYPE_URL,
        ]
    }

    fn signers(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        if msg.type_url == MsgWithdrawValidatorCommission::TYPE_URL {
            let m: MsgWithdrawValidatorCommission = decode_msg(msg)?;
            return Ok(vec![Address::from_bech32_with(
                &m.validator_address,
                VALIDATOR_PREFIX,
            )?]);
        }
        signers_of!(msg;
            MsgWithdrawDelegatorReward => delegator_address,
            MsgCommunityPoolSpend => authority,
            MsgUpdateParams => authority,
        )
    }

    fn deliver(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        let k = &self.keeper;
        Ok(match msg.type_url.as_str() {
            MsgWithdrawDelegatorReward::TYPE_URL => {
                let m: MsgWithdrawDelegatorReward = decode_msg(msg)?;
                let delegator = Address::from_bech32(&m.delegator_address)?;
                let v = Address::from_bech32_with(&m.validator_address, VALIDATOR_PREFIX)?;
                if surety_staking::delegation::delegation(ctx, &delegator, &v)?.is_none() {
                    return Err(sdk::not_found(format!(
                        "no delegation from {delegator} to {}",
                        m.validator_address
                    )));
                }
                let paid = k.withdraw(ctx, &delegator, &v)?;
                k.after_delegation_modified(ctx, &delegator, &v)?;
                MsgWithdrawDelegatorRewardResponse {
                    amount: paid.to_proto(),
                }
                .encode_to_vec()
            }
            MsgWithdrawValidatorCommission::TYPE_URL => {
                let m: MsgWithdrawValidatorCommission = decode_msg(msg)?;
                let v = Address::from_bech32_with(&m.validator_address, VALIDATOR_PREFIX)?;
                let paid = k.withdraw_commission(ctx, &v)?;
                MsgWithdrawValidatorCommissionResponse {
                    amount: paid.to_proto(),
                }
                .encode_to_vec()
            }
            MsgCommunityPoolSpend::TYPE_URL => {
                let m: MsgCommunityPoolSpend = decode_msg(msg)?;
                require_authority(&m.authority)?;
                let recipient = Address::from_bech32(&m.recipient)?;
                let amount = surety_framework::Coins::from_proto(&m.amount)?;
                let mut pool = k.community_pool(ctx)?;
                pool.sub(&DecCoins::from_coins(&amount)).map_err(|_| {
                    sdk::insufficient_funds(format!("the community pool holds less than {amount}"))
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
                MsgCommunityPoolSpendResponse {}.encode_to_vec()
            }
            MsgUpdateParams::TYPE_URL => {
                let m: MsgUpdateParams = decode_msg(msg)?;
                require_authority(&m.authority)?;
                let p = m.params.unwrap_or_else(default_params);
                community_tax(&p)?;
                ctx.put_msg(STORE, PARAMS.to_vec(), &p)?;
                MsgUpdateParamsResponse {}.encode_to_vec()
            }
            other => {
                return Err(sdk::unknown_request(format!(
                    "unrecognized distribution message type: {other}"
                )))
            }
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
                    total.add(&r);
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
        community_tax(&p)?;
        surety_auth::Auth.ensure_module_account(ctx, DISTRIBUTION_ACCOUNT)?;
        ctx.put_msg(STORE, PARAMS.to_vec(), &p)
    }

    fn begin_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        self.keeper.allocate(ctx)
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
                owed.add(&self.keeper.outstanding(ctx, &v.operator)?);
            }
            let account = Address::module(DISTRIBUTION_ACCOUNT);
            for (denom, amount) in &owed.0 {
                let held = self.keeper.bank.balance(ctx, &account, denom)?;
                if held * Dec::SCALE < *amount {
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
