//! `cosmos.gov.v1.Query` over ABCI and gRPC.

use crate::Gov;
use prost::Message;
use surety_framework::{decode_query, sdk, Address, Ctx, Error, GrpcCode};
use surety_proto::cosmos::gov::v1::*;

pub const PARAMS: &str = "/cosmos.gov.v1.Query/Params";
pub const PROPOSAL: &str = "/cosmos.gov.v1.Query/Proposal";
pub const PROPOSALS: &str = "/cosmos.gov.v1.Query/Proposals";
pub const VOTE: &str = "/cosmos.gov.v1.Query/Vote";
pub const VOTES: &str = "/cosmos.gov.v1.Query/Votes";
pub const DEPOSITS: &str = "/cosmos.gov.v1.Query/Deposits";
pub const TALLY: &str = "/cosmos.gov.v1.Query/TallyResult";
pub const PATHS: &[&str] = &[PARAMS, PROPOSAL, PROPOSALS, VOTE, VOTES, DEPOSITS, TALLY];

pub fn handle(k: &Gov, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    let not_found = |e: Error| e.with_grpc(GrpcCode::NotFound);
    Ok(match path {
        PARAMS => {
            let params = k.params(ctx)?;
            #[allow(deprecated)]
            QueryParamsResponse {
                params: Some(params),
                voting_params: None,
                deposit_params: None,
                tally_params: None,
            }
            .encode_to_vec()
        }
        PROPOSAL => {
            let req: QueryProposalRequest = decode_query(request)?;
            QueryProposalResponse {
                proposal: Some(k.proposal(ctx, req.proposal_id).map_err(not_found)?),
            }
            .encode_to_vec()
        }
        PROPOSALS => {
            let req: QueryProposalsRequest = decode_query(request)?;
            let proposals = k
                .proposals(ctx)?
                .into_iter()
                .filter(|p| req.proposal_status == 0 || p.status == req.proposal_status)
                .collect();
            QueryProposalsResponse {
                proposals,
                pagination: None,
            }
            .encode_to_vec()
        }
        VOTE => {
            let req: QueryVoteRequest = decode_query(request)?;
            let voter = Address::from_bech32(&req.voter)?;
            let vote = k
                .votes(ctx, req.proposal_id)?
                .into_iter()
                .find(|v| v.voter == voter.to_string())
                .ok_or_else(|| {
                    sdk::not_found(format!("no vote of {voter} on {}", req.proposal_id))
                })?;
            QueryVoteResponse { vote: Some(vote) }.encode_to_vec()
        }
        VOTES => {
            let req: QueryVotesRequest = decode_query(request)?;
            QueryVotesResponse {
                votes: k.votes(ctx, req.proposal_id)?,
                pagination: None,
            }
            .encode_to_vec()
        }
        DEPOSITS => {
            let req: QueryDepositsRequest = decode_query(request)?;
            QueryDepositsResponse {
                deposits: k.deposits(ctx, req.proposal_id)?,
                pagination: None,
            }
            .encode_to_vec()
        }
        TALLY => {
            let req: QueryTallyResultRequest = decode_query(request)?;
            let p = k.proposal(ctx, req.proposal_id).map_err(not_found)?;
            let tally = if p.status == ProposalStatus::VotingPeriod as i32 {
                Some(k.tally(ctx, p.id)?.result())
            } else {
                p.final_tally_result
            };
            QueryTallyResultResponse { tally }.encode_to_vec()
        }
        other => return Err(sdk::unknown_request(format!("unknown query path {other}"))),
    })
}
