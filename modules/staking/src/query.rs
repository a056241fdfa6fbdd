//! `cosmos.staking.v1beta1.Query` over ABCI and gRPC.

use crate::delegation::{self, all_delegations, all_unbondings, delegations_by, unbondings_by};
use crate::{state, BOND_DENOM};
use prost::Message;
use surety_framework::{decode_query, sdk, Address, Coin, Ctx, Error, VALIDATOR_PREFIX};
use surety_proto::cosmos::staking::v1beta1::*;

pub const VALIDATORS: &str = "/cosmos.staking.v1beta1.Query/Validators";
pub const VALIDATOR: &str = "/cosmos.staking.v1beta1.Query/Validator";
pub const DELEGATION: &str = "/cosmos.staking.v1beta1.Query/Delegation";
pub const DELEGATOR_DELEGATIONS: &str = "/cosmos.staking.v1beta1.Query/DelegatorDelegations";
pub const VALIDATOR_DELEGATIONS: &str = "/cosmos.staking.v1beta1.Query/ValidatorDelegations";
pub const UNBONDING: &str = "/cosmos.staking.v1beta1.Query/UnbondingDelegation";
pub const DELEGATOR_UNBONDINGS: &str =
    "/cosmos.staking.v1beta1.Query/DelegatorUnbondingDelegations";
pub const POOL: &str = "/cosmos.staking.v1beta1.Query/Pool";
pub const PARAMS: &str = "/cosmos.staking.v1beta1.Query/Params";
pub const PATHS: &[&str] = &[
    VALIDATORS,
    VALIDATOR,
    DELEGATION,
    DELEGATOR_DELEGATIONS,
    VALIDATOR_DELEGATIONS,
    UNBONDING,
    DELEGATOR_UNBONDINGS,
    POOL,
    PARAMS,
];

fn response(ctx: &mut Ctx, d: Delegation) -> Result<DelegationResponse, Error> {
    let operator = Address::from_bech32_with(&d.validator_address, VALIDATOR_PREFIX)?;
    let v = state::load_validator(ctx, &operator)?
        .ok_or_else(|| sdk::internal("delegation to a missing validator"))?;
    let shares: u128 = d
        .shares
        .parse()
        .map_err(|_| sdk::internal("corrupt shares"))?;
    let tokens = crate::Staking::default().tokens_of(&v, shares)?;
    Ok(DelegationResponse {
        delegation: Some(d),
        balance: Some(Coin::new(tokens, BOND_DENOM).to_proto()),
    })
}

fn operator(s: &str) -> Result<Address, Error> {
    Address::from_bech32_with(s, VALIDATOR_PREFIX)
}

pub fn handle(ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match path {
        VALIDATORS => {
            let req: QueryValidatorsRequest = decode_query(request)?;
            QueryValidatorsResponse {
                validators: state::all_validators(ctx)?
                    .into_iter()
                    .map(|v| v.proto)
                    .filter(|v| {
                        req.status.is_empty()
                            || BondStatus::try_from(v.status)
                                .is_ok_and(|s| s.as_str_name() == req.status)
                    })
                    .collect(),
                pagination: None,
            }
            .encode_to_vec()
        }
        VALIDATOR => {
            let req: QueryValidatorRequest = decode_query(request)?;
            let validator = state::load_validator(ctx, &operator(&req.validator_addr)?)?
                .ok_or_else(|| {
                    sdk::not_found(format!("validator {} not found", req.validator_addr))
                })?;
            QueryValidatorResponse {
                validator: Some(validator.proto),
            }
            .encode_to_vec()
        }
        DELEGATION => {
            let req: QueryDelegationRequest = decode_query(request)?;
            let d = delegation::delegation(
                ctx,
                &Address::from_bech32(&req.delegator_addr)?,
                &operator(&req.validator_addr)?,
            )?
            .ok_or_else(|| {
                sdk::not_found(format!(
                    "delegation with delegator {} not found for validator {}",
                    req.delegator_addr, req.validator_addr
                ))
            })?;
            QueryDelegationResponse {
                delegation_response: Some(response(ctx, d)?),
            }
            .encode_to_vec()
        }
        DELEGATOR_DELEGATIONS => {
            let req: QueryDelegatorDelegationsRequest = decode_query(request)?;
            let list = delegations_by(ctx, &Address::from_bech32(&req.delegator_addr)?)?;
            QueryDelegatorDelegationsResponse {
                delegation_responses: list
                    .into_iter()
                    .map(|d| response(ctx, d))
                    .collect::<Result<_, _>>()?,
                pagination: None,
            }
            .encode_to_vec()
        }
        VALIDATOR_DELEGATIONS => {
            let req: QueryValidatorDelegationsRequest = decode_query(request)?;
            let list: Vec<Delegation> = all_delegations(ctx)?
                .into_iter()
                .filter(|d| d.validator_address == req.validator_addr)
                .collect();
            QueryValidatorDelegationsResponse {
                delegation_responses: list
                    .into_iter()
                    .map(|d| response(ctx, d))
                    .collect::<Result<_, _>>()?,
                pagination: None,
            }
            .encode_to_vec()
        }
        UNBONDING => {
            let req: QueryUnbondingDelegationRequest = decode_query(request)?;
            let u = unbondings_by(ctx, &Address::from_bech32(&req.delegator_addr)?)?
                .into_iter()
                .find(|u| u.validator_address == req.validator_addr)
                .ok_or_else(|| sdk::not_found("unbonding delegation not found"))?;
            QueryUnbondingDelegationResponse { unbond: Some(u) }.encode_to_vec()
        }
        DELEGATOR_UNBONDINGS => {
            let req: QueryDelegatorUnbondingDelegationsRequest = decode_query(request)?;
            QueryDelegatorUnbondingDelegationsResponse {
                unbonding_responses: unbondings_by(
                    ctx,
                    &Address::from_bech32(&req.delegator_addr)?,
                )?,
                pagination: None,
            }
            .encode_to_vec()
        }
        POOL => {
            let bonded = total(
                crate::Staking::default()
                    .bonded_validators(ctx)?
                    .iter()
                    .map(|v| v.tokens),
            )?;
            let all = total(state::all_validators(ctx)?.iter().map(|v| v.tokens))?;
            let unbonding = total(
                all_unbondings(ctx)?
                    .iter()
                    .flat_map(|u| &u.entries)
                    .map(|e| e.balance.parse::<u128>().unwrap_or(0)),
            )?;
            let not_bonded = all
                .checked_sub(bonded)
                .and_then(|n| n.checked_add(unbonding))
                .ok_or_else(|| sdk::internal("pool totals inconsistent"))?;
            QueryPoolResponse {
                pool: Some(Pool {
                    not_bonded_tokens: not_bonded.to_string(),
                    bonded_tokens: bonded.to_string(),
                }),
            }
            .encode_to_vec()
        }
        PARAMS => QueryParamsResponse {
            params: Some(delegation::params(ctx)?),
        }
        .encode_to_vec(),
        _ => return Err(sdk::unknown_request(format!("unknown query path {path}"))),
    })
}

fn total(mut amounts: impl Iterator<Item = u128>) -> Result<u128, Error> {
    amounts
        .try_fold(0u128, u128::checked_add)
        .ok_or_else(|| sdk::internal("pool total overflows"))
}
