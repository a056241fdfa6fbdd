//! `surety.claims.v1.Query` over ABCI and gRPC.

use crate::state;
use prost::Message;
use surety_framework::{decode_query, sdk, Address, Ctx, Error, GrpcCode};
use surety_proto::surety::claims::v1::*;

pub const PARAMS: &str = "/surety.claims.v1.Query/Params";
pub const CLAIM: &str = "/surety.claims.v1.Query/Claim";
pub const CLAIMS: &str = "/surety.claims.v1.Query/Claims";
pub const APPEALS: &str = "/surety.claims.v1.Query/Appeals";
pub const ASSESSOR: &str = "/surety.claims.v1.Query/Assessor";
pub const PATHS: &[&str] = &[PARAMS, CLAIM, CLAIMS, APPEALS, ASSESSOR];

pub fn handle(ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match path {
        PARAMS => QueryParamsResponse {
            params: Some(state::params(ctx)?),
        }
        .encode_to_vec(),
        CLAIM => {
            let req: QueryClaimRequest = decode_query(request)?;
            let claim =
                state::claim(ctx, req.claim_id).map_err(|e| e.with_grpc(GrpcCode::NotFound))?;
            QueryClaimResponse {
                votes: state::votes(ctx, claim.id)?,
                claim: Some(claim),
            }
            .encode_to_vec()
        }
        CLAIMS => {
            let req: QueryClaimsRequest = decode_query(request)?;
            let claims = state::claims(ctx)?
                .into_iter()
                .filter(|c| req.policy_id == 0 || c.policy_id == req.policy_id)
                .collect();
            QueryClaimsResponse { claims }.encode_to_vec()
        }
        APPEALS => QueryAppealsResponse {
            claims: state::claims(ctx)?
                .into_iter()
                .filter(|c| c.status == ClaimStatus::Appealed as i32)
                .collect(),
        }
        .encode_to_vec(),
        ASSESSOR => {
            let req: QueryAssessorRequest = decode_query(request)?;
            let who = Address::from_bech32(&req.address)?;
            let assessor = state::assessor(ctx, &who)?
                .ok_or_else(|| sdk::not_found(format!("{who} is not an assessor")))?;
            QueryAssessorResponse {
                assessor: Some(assessor),
            }
            .encode_to_vec()
        }
        other => return Err(sdk::unknown_request(format!("unknown query path {other}"))),
    })
}
