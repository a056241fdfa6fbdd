//! `surety.oracle.v1.Query` over ABCI and gRPC.

use crate::{unknown_feed, Oracle};
use prost::Message;
use surety_framework::{decode_query, sdk, Ctx, Error, GrpcCode};
use surety_proto::surety::oracle::v1::*;

pub const PARAMS: &str = "/surety.oracle.v1.Query/Params";
pub const PRICE: &str = "/surety.oracle.v1.Query/Price";
pub const PRICES: &str = "/surety.oracle.v1.Query/Prices";
pub const HISTORY: &str = "/surety.oracle.v1.Query/History";
pub const INCIDENT: &str = "/surety.oracle.v1.Query/Incident";
pub const INCIDENTS: &str = "/surety.oracle.v1.Query/Incidents";
pub const PATHS: &[&str] = &[PARAMS, PRICE, PRICES, HISTORY, INCIDENT, INCIDENTS];

pub fn handle(k: &Oracle, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match path {
        PARAMS => QueryParamsResponse {
            params: Some(k.params(ctx)?),
        }
        .encode_to_vec(),
        PRICE => {
            let req: QueryPriceRequest = decode_query(request)?;
            let price = k.latest(ctx, &req.feed)?.ok_or_else(|| {
                unknown_feed(format!("no price for {:?}", req.feed)).with_grpc(GrpcCode::NotFound)
            })?;
            QueryPriceResponse { price: Some(price) }.encode_to_vec()
        }
        PRICES => {
            let mut prices = Vec::new();
            for feed in k.params(ctx)?.feeds {
                prices.extend(k.latest(ctx, &feed)?);
            }
            QueryPricesResponse { prices }.encode_to_vec()
        }
        HISTORY => {
            let req: QueryHistoryRequest = decode_query(request)?;
            let limit = match req.limit {
                0 => 100,
                n => usize::try_from(n.min(10_000)).unwrap_or(10_000),
            };
            let prices = k.history(ctx, &req.feed, limit)?;
            QueryHistoryResponse { prices }.encode_to_vec()
        }
        INCIDENT => {
            let req: QueryIncidentRequest = decode_query(request)?;
            let incident = k
                .incident_record(ctx, req.incident_id)
                .map_err(|e| e.with_grpc(GrpcCode::NotFound))?;
            QueryIncidentResponse {
                attestations: k.attestations(ctx, incident.id)?,
                incident: Some(incident),
            }
            .encode_to_vec()
        }
        INCIDENTS => QueryIncidentsResponse {
            incidents: k.incidents(ctx)?,
        }
        .encode_to_vec(),
        other => return Err(sdk::unknown_request(format!("unknown query path {other}"))),
    })
}
