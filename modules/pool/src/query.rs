//! `surety.pool.v1.Query` over ABCI and gRPC.

use crate::keeper::{parse, Keeper};
use crate::state::{self, PoolState};
use prost::Message;
use surety_framework::math::Round;
use surety_framework::paginate::trailing_id;
use surety_framework::{decode_query, paginate, Address, Ctx, Dec, Error};
use surety_proto::surety::pool::v1::*;

pub const PARAMS: &str = "/surety.pool.v1.Query/Params";
pub const POOL: &str = "/surety.pool.v1.Query/Pool";
pub const POOLS: &str = "/surety.pool.v1.Query/Pools";
pub const POSITION: &str = "/surety.pool.v1.Query/Position";
pub const EXPOSURES: &str = "/surety.pool.v1.Query/Exposures";
pub const INCIDENT: &str = "/surety.pool.v1.Query/Incident";
pub const PATHS: &[&str] = &[PARAMS, POOL, POOLS, POSITION, EXPOSURES, INCIDENT];

fn view(k: &Keeper, ctx: &mut Ctx, pool: &PoolState) -> Result<PoolView, Error> {
    let share_price = if pool.total_shares == 0 {
        Dec::ONE
    } else {
        Dec::ratio(pool.capital(), pool.total_shares, Round::Down)?
    };
    Ok(PoolView {
        pool: Some(pool.to_proto()),
        capital: pool.capital().to_string(),
        capacity: pool.capacity()?.to_string(),
        utilisation_bps: pool.utilisation_bps()?,
        capital_requirement: k.capital_requirement(ctx, pool)?.to_string(),
        share_price: share_price.to_string(),
    })
}

pub fn handle(k: &Keeper, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match path {
        PARAMS => QueryParamsResponse {
            params: Some(state::params(ctx)?),
        }
        .encode_to_vec(),
        POOL => {
            let req: QueryPoolRequest = decode_query(request)?;
            let pool = k.load(ctx, req.pool_id)?;
            QueryPoolResponse {
                pool: Some(view(k, ctx, &pool)?),
            }
            .encode_to_vec()
        }
        POOLS => {
            let req: QueryPoolsRequest = decode_query(request)?;
            let (ids, pagination) = paginate(
                ctx,
                state::STORE,
                &state::pools_prefix(),
                req.pagination.as_ref(),
                |_, key, _| trailing_id(key).map(Some),
            )?;
            let mut pools = Vec::with_capacity(ids.len());
            for id in ids {
                let pool = k.load(ctx, id)?;
                pools.push(view(k, ctx, &pool)?);
            }
            QueryPoolsResponse {
                pools,
                pagination: Some(pagination),
            }
            .encode_to_vec()
        }
        POSITION => {
            let req: QueryPositionRequest = decode_query(request)?;
            let owner = Address::from_bech32(&req.owner)?;
            let pool = k.load(ctx, req.pool_id)?;
            let position = state::position(ctx, req.pool_id, &owner.0)?.ok_or_else(|| {
                surety_framework::sdk::not_found(format!(
                    "{owner} has no position in pool {}",
                    req.pool_id
                ))
            })?;
            let value = k.position_value(&pool, parse(&position.shares)?)?;
            QueryPositionResponse {
                position: Some(position),
                value: value.to_string(),
            }
            .encode_to_vec()
        }
        EXPOSURES => {
            let req: QueryExposuresRequest = decode_query(request)?;
            let pool = k.load(ctx, req.pool_id)?;
            let exposures = k
                .product_exposures(ctx, &pool)?
                .into_iter()
                .map(|(product_id, e)| Exposure {
                    product_id,
                    gross: e.gross.to_string(),
                    net: e.net.to_string(),
                })
                .collect();
            QueryExposuresResponse {
                exposures,
                capital: pool.capital().to_string(),
            }
            .encode_to_vec()
        }
        INCIDENT => {
            let req: QueryIncidentRequest = decode_query(request)?;
            let (paid, recovered) = k.incident_account(ctx, &req.incident)?;
            QueryIncidentResponse {
                payments: state::incident_payers(ctx, &req.incident)?
                    .into_iter()
                    .map(|(pool_id, paid)| IncidentPayment {
                        pool_id,
                        paid: paid.to_string(),
                    })
                    .collect(),
                paid: paid.to_string(),
                recovered: recovered.to_string(),
                shortfall: k.shortfall(ctx, &req.incident)?.to_string(),
            }
            .encode_to_vec()
        }
        other => {
            return Err(surety_framework::sdk::unknown_request(format!(
                "unknown query path {other}"
            )))
        }
    })
}
