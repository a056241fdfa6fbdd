//! claims: cover paid automatically for parametric products, or by stake-weighted assessment,
//! with appeals to governance.
//!
//! A parametric claim is decided in the transaction that files it: the policy's frozen trigger is
//! evaluated against oracle state (read through [`surety_framework::oracle::OracleView`]) and paid
//! in the same block, or the transaction fails with the reason. An assessed claim locks a
//! refundable deposit and a fee, is voted on by assessors weighted by their stake, and is decided
//! when voting ends; a rejected claimant may appeal with a bond, and governance decides. Every
//! stage has an on-chain deadline, processed in EndBlock.

pub mod errors;
mod keeper;
mod query;
pub mod state;
pub mod triggers;

pub use keeper::{total_stake, Keeper, CLAIMS_ACCOUNT, TREASURY};
pub use state::STORE;

use prost::Message;
use surety_framework::math::parse_amount;
use surety_framework::module::{genesis_json, genesis_section};
use surety_framework::oracle::OracleView;
use surety_framework::{
    decode_msg, require_authority, sdk, signers_of, Address, Ctx, Error, Module, ValidatorUpdate,
};
use surety_proto::surety::claims::v1::*;
use surety_proto::{Any, TypeUrl};

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

impl<O: OracleView> Module for ClaimsModule<O> {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msg_types(&self) -> &'static [&'static str] {
        &[
            MsgFileClaim::TYPE_URL,
            MsgStakeAssessor::TYPE_URL,
            MsgUnstakeAssessor::TYPE_URL,
            MsgVoteClaim::TYPE_URL,
            MsgAppealClaim::TYPE_URL,
            MsgResolveAppeal::TYPE_URL,
            MsgUpdateParams::TYPE_URL,
        ]
    }

    fn signers(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        signers_of!(msg;
        MsgFileClaim => claimant,
        MsgStakeAssessor => assessor,
        MsgUnstakeAssessor => assessor,
        MsgVoteClaim => assessor,
        MsgAppealClaim => claimant,
        MsgResolveAppeal => authority,
        MsgUpdateParams => authority,
            )
    }

    fn deliver(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        let k = &self.keeper;
        Ok(match msg.type_url.as_str() {
            MsgFileClaim::TYPE_URL => {
                let m: MsgFileClaim = decode_msg(msg)?;
                let claimant = Address::from_bech32(&m.claimant)?;
                let claim = k.file(
                    ctx,
                    &claimant,
                    m.policy_id,
                    &m.incident,
                    parse_amount(&m.loss, "loss")?,
                    &m.evidence,
                )?;
                MsgFileClaimResponse {
                    claim_id: claim.id,
                    status: claim.status,
                    payout: claim.payout,
                }
                .encode_to_vec()
            }
            MsgStakeAssessor::TYPE_URL => {
                let m: MsgStakeAssessor = decode_msg(msg)?;
                k.stake(
                    ctx,
                    &Address::from_bech32(&m.assessor)?,
                    parse_amount(&m.amount, "amount")?,
                )?;
                MsgStakeAssessorResponse {}.encode_to_vec()
            }
            MsgUnstakeAssessor::TYPE_URL => {
                let m: MsgUnstakeAssessor = decode_msg(msg)?;
                k.unstake(
                    ctx,
                    &Address::from_bech32(&m.assessor)?,
                    parse_amount(&m.amount, "amount")?,
                )?;
                MsgUnstakeAssessorResponse {}.encode_to_vec()
            }
            MsgVoteClaim::TYPE_URL => {
                let m: MsgVoteClaim = decode_msg(msg)?;
                k.vote(
                    ctx,
                    &Address::from_bech32(&m.assessor)?,
                    m.claim_id,
                    m.approve,
                )?;
                MsgVoteClaimResponse {}.encode_to_vec()
            }
            MsgAppealClaim::TYPE_URL => {
                let m: MsgAppealClaim = decode_msg(msg)?;
                k.appeal(ctx, &Address::from_bech32(&m.claimant)?, m.claim_id)?;
                MsgAppealClaimResponse {}.encode_to_vec()
            }
            MsgResolveAppeal::TYPE_URL => {
                let m: MsgResolveAppeal = decode_msg(msg)?;
                require_authority(&m.authority)?;
                k.resolve_appeal(ctx, m.claim_id, m.approve)?;
                MsgResolveAppealResponse {}.encode_to_vec()
            }
            MsgUpdateParams::TYPE_URL => {
                let m: MsgUpdateParams = decode_msg(msg)?;
                require_authority(&m.authority)?;
                state::set_params(ctx, &m.params.unwrap_or_default())?;
                MsgUpdateParamsResponse {}.encode_to_vec()
            }
            other => {
                return Err(sdk::unknown_request(format!(
                    "unrecognized claims message type: {other}"
                )))
            }
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
            let staked: u128 = state::assessors(ctx)?
                .iter()
                .map(|a| parse_amount(&a.stake, "stake"))
                .sum::<Result<_, _>>()?;
            let total = total_stake(ctx)?;
            if staked != total {
                return Ok(Err(format!(
                    "assessors hold {staked}, total stake is {total}"
                )));
            }
            for c in state::claims(ctx)? {
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
