//! claims: cover paid automatically for parametric products, or by stake-weighted assessment,
//! with appeals to governance.
//!
//! A parametric claim is decided in the transaction that files it: the policy's frozen trigger is
//! evaluated against oracle state (read through [`surety_framework::oracle::OracleView`]) and paid
//! in the same block, or the transaction fails with the reason. An assessed claim locks a
//! refundable deposit and a fee, is voted on by assessors weighted by their stake, and is decided
//! when voting ends; a rejected claimant may appeal with a bond, and governance decides. Every
//! stage has an on-chain deadline, processed in EndBlock a bounded amount per block.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

pub mod errors;
mod keeper;
pub mod msgs;
pub mod payouts;
mod query;
pub mod state;
#[cfg(test)]
mod testing;
pub mod triggers;

pub use keeper::{total_stake, Keeper, CLAIMS_ACCOUNT, DEADLINE_BUDGET, TREASURY};
pub use state::STORE;

use surety_framework::math::{add, parse_amount};
use surety_framework::module::{genesis_json, genesis_section};
use surety_framework::oracle::OracleView;
use surety_framework::{Address, Ctx, Error, Module, Msgs, ValidatorUpdate};
use surety_proto::surety::claims::v1::*;

pub struct ClaimsModule<O> {
    pub keeper: Keeper<O>,
}

impl<O: OracleView> ClaimsModule<O> {
    pub fn new(policy: surety_policy::Keeper, oracle: O) -> Self {
        ClaimsModule {
            keeper: Keeper { policy, oracle },
        }
    }
}

impl<O: OracleView + Clone + 'static> Module for ClaimsModule<O> {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        let k = self.keeper.clone();
        let stake = self.keeper.clone();
        let unstake = self.keeper.clone();
        let vote = self.keeper.clone();
        let appeal = self.keeper.clone();
        let resolve = self.keeper.clone();
        let recover = self.keeper.clone();
        Msgs::new()
            .add(msgs::file_claim, move |ctx, m: MsgFileClaim| {
                let claimant = Address::from_bech32(&m.claimant)?;
                let loss = parse_amount(&m.loss, "loss")?;
                let claim = k.file(ctx, &claimant, m.policy_id, &m.incident, loss, &m.evidence)?;
                Ok(MsgFileClaimResponse {
                    claim_id: claim.id,
                    status: claim.status,
                    payout: claim.payout,
                })
            })
            .add(msgs::stake_assessor, move |ctx, m: MsgStakeAssessor| {
                let who = Address::from_bech32(&m.assessor)?;
                stake.stake(ctx, &who, parse_amount(&m.amount, "amount")?)?;
                Ok(MsgStakeAssessorResponse {})
            })
            .add(msgs::unstake_assessor, move |ctx, m: MsgUnstakeAssessor| {
                let who = Address::from_bech32(&m.assessor)?;
                unstake.unstake(ctx, &who, parse_amount(&m.amount, "amount")?)?;
                Ok(MsgUnstakeAssessorResponse {})
            })
            .add(msgs::vote_claim, move |ctx, m: MsgVoteClaim| {
                let who = Address::from_bech32(&m.assessor)?;
                vote.vote(ctx, &who, m.claim_id, m.approve)?;
                Ok(MsgVoteClaimResponse {})
            })
            .add(msgs::appeal_claim, move |ctx, m: MsgAppealClaim| {
                appeal.appeal(ctx, &Address::from_bech32(&m.claimant)?, m.claim_id)?;
                Ok(MsgAppealClaimResponse {})
            })
            .add(msgs::resolve_appeal, move |ctx, m: MsgResolveAppeal| {
                resolve.resolve_appeal(ctx, m.claim_id, m.approve)?;
                Ok(MsgResolveAppealResponse {})
            })
            .add(msgs::record_recovery, move |ctx, m: MsgRecordRecovery| {
                let sender = Address::from_bech32(&m.sender)?;
                let amount = surety_framework::Coin::from_proto(&m.amount.unwrap_or_default())?;
                let recovered = recover
                    .policy
                    .pool
                    .recover(ctx, &m.incident, &sender, &amount)?;
                Ok(MsgRecordRecoveryResponse {
                    recovered: recovered.to_string(),
                })
            })
            .add(msgs::update_params, |ctx, m: MsgUpdateParams| {
                state::set_params(ctx, &surety_framework::msgs::present(m.params)?)?;
                Ok(MsgUpdateParamsResponse {})
            })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(ctx, path, request)
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis_json(&GenesisState {
            params: Some(state::default_params()),
            ..Default::default()
        })
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        let g: GenesisState = genesis_section(STORE, genesis)?;
        state::validate_params(&g.params.unwrap_or_else(state::default_params))
            .map_err(|e| format!("claims params: {}", e.log))?;
        if !g.claims.is_empty() || !g.votes.is_empty() || !g.assessors.is_empty() {
            return Err(
                "claims genesis: claims and assessors cannot be imported at genesis".into(),
            );
        }
        Ok(())
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let g: GenesisState =
            genesis_section(STORE, genesis).map_err(surety_framework::sdk::invalid_request)?;
        state::set_params(ctx, &g.params.unwrap_or_else(state::default_params))
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        Ok(genesis_json(&GenesisState {
            params: Some(state::params(ctx)?),
            claims: state::claims(ctx)?,
            votes: Vec::new(),
            assessors: state::assessors(ctx)?,
        }))
    }

    fn end_block(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        self.keeper.end_block(ctx)?;
        Ok(Vec::new())
    }

    /// Assessors' stake adds up; no claim paid more than its policy's cover after deductible.
    fn check_invariants(&self, ctx: &mut Ctx) -> Result<(), String> {
        let mut check = || -> Result<Result<(), String>, Error> {
            let staked = state::assessors(ctx)?
                .iter()
                .try_fold(0u128, |sum, a| add(sum, parse_amount(&a.stake, "stake")?))?;
            let total = total_stake(ctx)?;
            if staked != total {
                return Ok(Err(format!(
                    "assessors hold {staked}, total stake is {total}"
                )));
            }
            let claims = state::claims(ctx)?;
            // The list indexes hold exactly the claims they list.
            let by_policy = ctx.prefix(STORE, &state::by_policy_prefix())?.len();
            let appealed = ctx.prefix(STORE, &state::appealed_prefix())?.len();
            let appealed_status = ClaimStatus::Appealed as i32;
            let want_appealed = claims
                .iter()
                .filter(|c| c.status == appealed_status)
                .count();
            for c in &claims {
                if ctx
                    .get(STORE, &state::policy_claim_key(c.policy_id, c.id))?
                    .is_none()
                {
                    return Ok(Err(format!("claim {} is not indexed by policy", c.id)));
                }
                let is_appealed = c.status == appealed_status;
                if ctx.get(STORE, &state::appealed_key(c.id))?.is_some() != is_appealed {
                    return Ok(Err(format!("claim {} is misindexed as appealed", c.id)));
                }
            }
            if by_policy != claims.len() || appealed != want_appealed {
                return Ok(Err(format!(
                    "claim indexes list {by_policy} claims by policy and {appealed} appeals, \
                     for {} claims and {want_appealed} appeals",
                    claims.len()
                )));
            }
            for c in claims {
                if c.status != ClaimStatus::Paid as i32 {
                    continue;
                }
                let policy = self.keeper.policy.policy(ctx, c.policy_id)?;
                let cover = parse_amount(&policy.cover, "cover")?;
                let deductible = policy.terms.as_ref().map_or(0, |t| t.deductible_bps);
                let max = triggers::payout(cover, cover, deductible)?;
                let paid = parse_amount(&c.payout, "payout")?;
                if paid > max {
                    return Ok(Err(format!(
                        "claim {} paid {paid}, more than cover after deductible {max}",
                        c.id
                    )));
                }
            }
            Ok(Ok(()))
        };
        check().map_err(|e| e.log)?
    }
}
