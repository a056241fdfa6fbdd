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
        INCIDENTS => {
            let req: QueryIncidentsRequest = decode_query(request)?;
            let (incidents, pagination) = k.incidents_page(ctx, req.pagination.as_ref())?;
            QueryIncidentsResponse {
                incidents,
                pagination: Some(pagination),
            }
            .encode_to_vec()
        }
        other => return Err(sdk::unknown_request(format!("unknown query path {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block, Empty};
    use surety_framework::state::Overlay;
    use surety_framework::testing::pages;

    #[test]
    fn incidents_list_a_page_at_a_time() {
        let mut state = Overlay::new(&Empty);
        let mut ctx = block(&mut state, 1, 100);
        for id in 1..=250u64 {
            let incident = Incident {
                id,
                protocol: "aave-v3".into(),
                ..Default::default()
            };
            ctx.put_msg(crate::STORE, crate::incident_key(id), &incident)
                .unwrap();
        }
        let k = Oracle::default();
        let mut ask = |req: QueryIncidentsRequest| {
            let bytes = handle(&k, &mut ctx, INCIDENTS, &req.encode_to_vec()).unwrap();
            QueryIncidentsResponse::decode(bytes.as_slice()).unwrap()
        };
        let all = pages(100, |page| {
            let r = ask(QueryIncidentsRequest {
                pagination: Some(page),
            });
            (
                r.incidents.iter().map(|i| i.id).collect::<Vec<_>>(),
                r.pagination,
            )
        });
        assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
        assert_eq!(all.concat(), (1..=250).collect::<Vec<_>>());
        // No pagination: the first 100; by offset with the total.
        let r = ask(QueryIncidentsRequest::default());
        assert_eq!(r.incidents.len(), 100);
        let r = ask(QueryIncidentsRequest {
            pagination: Some(surety_framework::PageRequest {
                offset: 200,
                count_total: true,
                ..Default::default()
            }),
        });
        assert_eq!(r.incidents.first().map(|i| i.id), Some(201));
        let page = r.pagination.unwrap();
        assert_eq!((r.incidents.len(), page.total), (50, 250));
        assert!(page.next_key.is_empty());
    }
}
