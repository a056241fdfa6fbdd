//! `surety.policy.v1.Query` over ABCI and gRPC.

use crate::keeper::Keeper;
use crate::state;
use prost::Message;
use surety_framework::math::parse_amount;
use surety_framework::paginate::trailing_id;
use surety_framework::{decode_query, paginate, sdk, Address, Ctx, Error};
use surety_proto::surety::policy::v1::*;

pub const PARAMS: &str = "/surety.policy.v1.Query/Params";
pub const PRODUCT: &str = "/surety.policy.v1.Query/Product";
pub const PRODUCTS: &str = "/surety.policy.v1.Query/Products";
pub const QUOTE: &str = "/surety.policy.v1.Query/Quote";
pub const POLICY: &str = "/surety.policy.v1.Query/Policy";
pub const POLICIES: &str = "/surety.policy.v1.Query/Policies";
pub const PATHS: &[&str] = &[PARAMS, PRODUCT, PRODUCTS, QUOTE, POLICY, POLICIES];

pub fn handle(k: &Keeper, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    let not_found = |e: Error| e.with_grpc(surety_framework::GrpcCode::NotFound);
    Ok(match path {
        PARAMS => QueryParamsResponse {
            params: Some(state::params(ctx)?),
        }
        .encode_to_vec(),
        PRODUCT => {
            let req: QueryProductRequest = decode_query(request)?;
            QueryProductResponse {
                product: Some(state::product(ctx, req.product_id).map_err(not_found)?),
            }
            .encode_to_vec()
        }
        PRODUCTS => {
            let req: QueryProductsRequest = decode_query(request)?;
            let (products, pagination) = paginate(
                ctx,
                state::STORE,
                &state::products_prefix(),
                req.pagination.as_ref(),
                |_, _, v| state::decode(v).map(Some),
            )?;
            QueryProductsResponse {
                products,
                pagination: Some(pagination),
            }
            .encode_to_vec()
        }
        QUOTE => {
            let req: QueryQuoteRequest = decode_query(request)?;
            let quote = k.quote(
                ctx,
                req.product_id,
                parse_amount(&req.cover, "cover")?,
                req.term_days,
            )?;
            QueryQuoteResponse {
                premium: quote.premium.to_string(),
                allocations: quote
                    .allocations
                    .iter()
                    .map(|&(pool_id, cover, premium)| Allocation {
                        pool_id,
                        cover: cover.to_string(),
                        premium: premium.to_string(),
                    })
                    .collect(),
                annual_rate_bps: quote.annual_rate_bps,
                capacity: quote.capacity.to_string(),
                in_force: quote.in_force.to_string(),
                max_policy_cover: quote.max_policy_cover.to_string(),
            }
            .encode_to_vec()
        }
        POLICY => {
            let req: QueryPolicyRequest = decode_query(request)?;
            QueryPolicyResponse {
                policy: Some(state::policy(ctx, req.policy_id).map_err(not_found)?),
            }
            .encode_to_vec()
        }
        POLICIES => {
            let req: QueryPoliciesRequest = decode_query(request)?;
            let page = req.pagination.as_ref();
            let (policies, pagination) = if req.owner.is_empty() {
                let (stored, pagination) = paginate(
                    ctx,
                    state::STORE,
                    &state::policies_prefix(),
                    page,
                    |_, k, v| state::decode_policy(trailing_id(k)?, v).map(Some),
                )?;
                let policies = stored
                    .into_iter()
                    .map(|p| state::with_terms(ctx, p))
                    .collect::<Result<_, _>>()?;
                (policies, pagination)
            } else {
                let owner = Address::from_bech32(&req.owner)?;
                // After the owner's prefix comes exactly the id: a longer key is another
                // owner's, whose address starts with this one's.
                let (ids, pagination) = paginate(
                    ctx,
                    state::STORE,
                    &state::owner_prefix(&owner),
                    page,
                    |_, k, _| {
                        Ok(if k.len() == 8 {
                            Some(trailing_id(k)?)
                        } else {
                            None
                        })
                    },
                )?;
                let policies = ids
                    .into_iter()
                    .map(|id| state::policy(ctx, id))
                    .collect::<Result<_, _>>()?;
                (policies, pagination)
            };
            QueryPoliciesResponse {
                policies,
                pagination: Some(pagination),
            }
            .encode_to_vec()
        }
        other => return Err(sdk::unknown_request(format!("unknown query path {other}"))),
    })
}
