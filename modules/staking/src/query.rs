//! The parts of `cosmos.staking.v1beta1.Query` that the validator set answers so far.

use crate::{state, BOND_DENOM};
use prost::Message;
use surety_framework::{decode_query, sdk, Address, Ctx, Error, VALIDATOR_PREFIX};
use surety_proto::cosmos::staking::v1beta1::*;

pub const VALIDATORS: &str = "/cosmos.staking.v1beta1.Query/Validators";
pub const VALIDATOR: &str = "/cosmos.staking.v1beta1.Query/Validator";
pub const PARAMS: &str = "/cosmos.staking.v1beta1.Query/Params";
pub const PATHS: &[&str] = &[VALIDATORS, VALIDATOR, PARAMS];

pub fn handle(ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match path {
        VALIDATORS => QueryValidatorsResponse {
            validators: state::all_validators(ctx)?
                .into_iter()
                .map(|v| v.proto)
                .collect(),
            pagination: None,
        }
        .encode_to_vec(),
        VALIDATOR => {
            let req: QueryValidatorRequest = decode_query(request)?;
            let operator = Address::from_bech32_with(&req.validator_addr, VALIDATOR_PREFIX)?;
            let validator = state::load_validator(ctx, &operator)?.ok_or_else(|| {
                sdk::not_found(format!("validator {} not found", req.validator_addr))
            })?;
            QueryValidatorResponse {
                validator: Some(validator.proto),
            }
            .encode_to_vec()
        }
        PARAMS => QueryParamsResponse {
            params: Some(Params {
                unbonding_time: Some(tendermint_proto::google::protobuf::Duration {
                    seconds: 21 * 24 * 3600,
                    nanos: 0,
                }),
                max_validators: 100,
                max_entries: 7,
                historical_entries: 10_000,
                bond_denom: BOND_DENOM.to_string(),
                min_commission_rate: "0".to_string(),
            }),
        }
        .encode_to_vec(),
        _ => return Err(sdk::unknown_request(format!("unknown query path {path}"))),
    })
}
