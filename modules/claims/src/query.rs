//! `surety.claims.v1.Query` over ABCI and gRPC.

use crate::state;
use prost::Message;
use surety_framework::paginate::trailing_id;
use surety_framework::{decode_query, paginate, sdk, Address, Ctx, Error, GrpcCode};
use surety_framework::{PageRequest, PageResponse};
use surety_proto::surety::claims::v1::*;

pub const PARAMS: &str = "/surety.claims.v1.Query/Params";
pub const CLAIM: &str = "/surety.claims.v1.Query/Claim";
pub const CLAIMS: &str = "/surety.claims.v1.Query/Claims";
pub const APPEALS: &str = "/surety.claims.v1.Query/Appeals";
pub const ASSESSOR: &str = "/surety.claims.v1.Query/Assessor";
pub const PAYOUT_JOBS: &str = "/surety.claims.v1.Query/PayoutJobs";
pub const PATHS: &[&str] = &[PARAMS, CLAIM, CLAIMS, APPEALS, ASSESSOR, PAYOUT_JOBS];

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
            let (claims, pagination) = if req.policy_id == 0 {
                paginate(
                    ctx,
                    state::STORE,
                    &state::claims_prefix(),
                    req.pagination.as_ref(),
                    |_, _, v| state::decode(v).map(Some),
                )?
            } else {
                claims_listed_in(
                    ctx,
                    &state::policy_claims_prefix(req.policy_id),
                    req.pagination.as_ref(),
                )?
            };
            QueryClaimsResponse {
                claims,
                pagination: Some(pagination),
            }
            .encode_to_vec()
        }
        APPEALS => {
            let req: QueryAppealsRequest = decode_query(request)?;
            let (claims, pagination) =
                claims_listed_in(ctx, &state::appealed_prefix(), req.pagination.as_ref())?;
            QueryAppealsResponse {
                claims,
                pagination: Some(pagination),
            }
            .encode_to_vec()
        }
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
        PAYOUT_JOBS => {
            let req: QueryPayoutJobsRequest = decode_query(request)?;
            let (jobs, pagination) = paginate(
                ctx,
                state::STORE,
                &[state::PAYOUT_JOBS],
                req.pagination.as_ref(),
                |_, _, v| state::decode(v).map(Some),
            )?;
            QueryPayoutJobsResponse {
                jobs,
                pagination: Some(pagination),
            }
            .encode_to_vec()
        }
        other => return Err(sdk::unknown_request(format!("unknown query path {other}"))),
    })
}

/// A page of the claims an index (`[…][claim id] → ()`) lists.
fn claims_listed_in(
    ctx: &mut Ctx,
    index: &[u8],
    page: Option<&PageRequest>,
) -> Result<(Vec<Claim>, PageResponse), Error> {
    let (ids, pagination) = paginate(ctx, state::STORE, index, page, |_, k, _| {
        trailing_id(k).map(Some)
    })?;
    let claims = ids
        .into_iter()
        .map(|id| state::claim(ctx, id))
        .collect::<Result<_, _>>()?;
    Ok((claims, pagination))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block, Empty};
    use surety_framework::state::Overlay;
    use surety_framework::testing::pages;
    use surety_framework::{BlockInfo, ExecMode, GasMeter};

    fn ask<Resp: Message + Default>(ctx: &mut Ctx, path: &str, req: impl Message) -> Resp {
        Resp::decode(handle(ctx, path, &req.encode_to_vec()).unwrap().as_slice()).unwrap()
    }

    fn ids(claims: &[Claim]) -> Vec<u64> {
        claims.iter().map(|c| c.id).collect()
    }

    /// 250 claims: every fifth on policy 7 (50), the rest one per policy; the even ones
    /// appealed (125).
    fn claims(ctx: &mut Ctx) {
        for id in 1..=250u64 {
            let policy_id = if id % 5 == 0 { 7 } else { 1_000 + id };
            let status = if id % 2 == 0 {
                ClaimStatus::Appealed
            } else {
                ClaimStatus::Rejected
            };
            state::index_new_claim(ctx, policy_id, id).unwrap();
            state::save_claim(
                ctx,
                &Claim {
                    id,
                    policy_id,
                    status: status as i32,
                    ..Default::default()
                },
            )
            .unwrap();
        }
    }

    #[test]
    fn claims_by_policy_and_appeals_list_a_page_at_a_time() {
        let mut state = Overlay::new(&Empty);
        let mut ctx = block(&mut state, 1, 100);
        claims(&mut ctx);

        let all = pages(100, |page| {
            let r: QueryClaimsResponse = ask(
                &mut ctx,
                CLAIMS,
                QueryClaimsRequest {
                    policy_id: 0,
                    pagination: Some(page),
                },
            );
            (ids(&r.claims), r.pagination)
        });
        assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
        assert_eq!(all.concat(), (1..=250).collect::<Vec<_>>());

        let one_policy = pages(20, |page| {
            let r: QueryClaimsResponse = ask(
                &mut ctx,
                CLAIMS,
                QueryClaimsRequest {
                    policy_id: 7,
                    pagination: Some(page),
                },
            );
            (ids(&r.claims), r.pagination)
        });
        assert_eq!(
            one_policy.iter().map(Vec::len).collect::<Vec<_>>(),
            [20, 20, 10]
        );
        assert_eq!(
            one_policy.concat(),
            (5..=250).step_by(5).collect::<Vec<_>>()
        );

        let appeals = pages(100, |page| {
            let r: QueryAppealsResponse = ask(
                &mut ctx,
                APPEALS,
                QueryAppealsRequest {
                    pagination: Some(page),
                },
            );
            assert!(r
                .claims
                .iter()
                .all(|c| c.status == ClaimStatus::Appealed as i32));
            (ids(&r.claims), r.pagination)
        });
        assert_eq!(appeals.iter().map(Vec::len).collect::<Vec<_>>(), [100, 25]);
        assert_eq!(appeals.concat(), (2..=250).step_by(2).collect::<Vec<_>>());

        // An old client (no pagination) gets the first 100 and the key to the rest.
        let r: QueryClaimsResponse = ask(&mut ctx, CLAIMS, QueryClaimsRequest::default());
        assert_eq!(ids(&r.claims), (1..=100).collect::<Vec<_>>());
        assert_eq!(r.pagination.unwrap().next_key, 101u64.to_be_bytes());
        // Offset with count_total, and a closed appeal leaves the index.
        state::close_appeal(&mut ctx, 2).unwrap();
        let r: QueryAppealsResponse = ask(
            &mut ctx,
            APPEALS,
            QueryAppealsRequest {
                pagination: Some(PageRequest {
                    offset: 120,
                    count_total: true,
                    ..Default::default()
                }),
            },
        );
        assert_eq!(ids(&r.claims), [244, 246, 248, 250]);
        assert_eq!(r.pagination.unwrap().total, 124);
    }

    #[test]
    fn a_page_fits_a_gas_limit_the_whole_list_does_not() {
        let mut state = Overlay::new(&Empty);
        claims(&mut block(&mut state, 1, 100));
        let mut gas = |limit: u64, req: &QueryClaimsRequest| {
            let mut ctx = Ctx::new(
                &mut state,
                BlockInfo::default(),
                ExecMode::Query,
                GasMeter::new(limit),
            );
            handle(&mut ctx, CLAIMS, &req.encode_to_vec()).map(|_| ctx.gas.used())
        };
        let page = |key: Vec<u8>| QueryClaimsRequest {
            policy_id: 0,
            pagination: Some(PageRequest {
                key,
                limit: 10,
                ..Default::default()
            }),
        };
        let first = gas(u64::MAX, &page(vec![])).unwrap();
        // A page late in the list costs what the first does.
        let late = gas(u64::MAX, &page(200u64.to_be_bytes().to_vec())).unwrap();
        assert!(late.abs_diff(first) < first / 10, "{first} {late}");
        // All 250 at once do not fit where 10 do with room to spare.
        let everything = QueryClaimsRequest {
            policy_id: 0,
            pagination: Some(PageRequest {
                limit: 1_000,
                ..Default::default()
            }),
        };
        let e = gas(5 * first, &everything).unwrap_err();
        assert_eq!((e.codespace, e.code), ("sdk", 11), "{e}");
    }
}
