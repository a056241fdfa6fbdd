//! oracle: aggregated prices per feed, with history, and incident reports.
//!
//! This is the state the claims module's parametric path reads, through
//! [`surety_framework::oracle::OracleView`]. How prices arrive (validators' vote extensions) and
//! how incidents are attested come with the oracle issue; until then genesis and tests write this
//! state directly through [`Oracle::record_price`] and [`Oracle::record_incident`].

use surety_framework::oracle::{IncidentView, OracleView, PricePoint};
use surety_framework::{sdk, Ctx, Dec, Error, Event, Module};
use surety_proto::surety::oracle::v1::{GenesisState, Incident, IncidentStatus, Price};

pub const STORE: &str = "oracle";

const PRICES: u8 = 0x01;
const INCIDENTS: u8 = 0x02;
const NEXT_INCIDENT_ID: &[u8] = &[0x03];

/// Block times as big-endian bytes that sort in time order, negatives included.
fn time_bytes(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

fn feed_prefix(feed: &str) -> Vec<u8> {
    let mut k = vec![PRICES, feed.len() as u8];
    k.extend_from_slice(feed.as_bytes());
    k
}

fn price_key(feed: &str, time: i64) -> Vec<u8> {
    let mut k = feed_prefix(feed);
    k.extend_from_slice(&time_bytes(time));
    k
}

fn incident_key(id: u64) -> Vec<u8> {
    [&[INCIDENTS][..], &id.to_be_bytes()].concat()
}

fn decode<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt oracle state: {e}")))
}

#[derive(Clone, Copy, Default)]
pub struct Oracle;

impl Oracle {
    /// Records the aggregated price of `feed` at the current block.
    pub fn record_price(&self, ctx: &mut Ctx, feed: &str, price: Dec) -> Result<(), Error> {
        if feed.is_empty() || feed.len() > 64 {
            return Err(sdk::invalid_request(format!("invalid feed name {feed:?}")));
        }
        let p = Price {
            feed: feed.to_string(),
            price: price.to_string(),
            time: ctx.block.time_unix_secs,
            height: ctx.block.height,
        };
        ctx.put_msg(STORE, price_key(feed, p.time), &p)?;
        ctx.emit(
            Event::new("oracle_price")
                .attr("feed", feed)
                .attr("price", price),
        );
        Ok(())
    }

    /// Records an incident with its status (attestation comes with the oracle issue).
    pub fn record_incident(
        &self,
        ctx: &mut Ctx,
        protocol: &str,
        time: i64,
        description: &str,
        status: IncidentStatus,
    ) -> Result<u64, Error> {
        let id = ctx.next_id(STORE, NEXT_INCIDENT_ID)?;
        let incident = Incident {
            id,
            protocol: protocol.to_string(),
            time,
            description: description.to_string(),
            evidence: String::new(),
            status: status as i32,
        };
        ctx.put_msg(STORE, incident_key(id), &incident)?;
        Ok(id)
    }

    pub fn history(&self, ctx: &mut Ctx, feed: &str) -> Result<Vec<Price>, Error> {
        ctx.prefix(STORE, &feed_prefix(feed))?
            .into_iter()
            .map(|(_, v)| decode(&v))
            .collect()
    }

    fn points(&self, ctx: &mut Ctx, feed: &str) -> Result<Vec<PricePoint>, Error> {
        self.history(ctx, feed)?
            .into_iter()
            .map(|p| {
                Ok(PricePoint {
                    price: p.price.parse()?,
                    time: p.time,
                })
            })
            .collect()
    }
}

impl OracleView for Oracle {
    fn price_at(&self, ctx: &mut Ctx, feed: &str, time: i64) -> Result<Option<PricePoint>, Error> {
        Ok(self
            .points(ctx, feed)?
            .into_iter()
            .take_while(|p| p.time <= time)
            .last())
    }

    fn prices_after(
        &self,
        ctx: &mut Ctx,
        feed: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<PricePoint>, Error> {
        Ok(self
            .points(ctx, feed)?
            .into_iter()
            .filter(|p| p.time > from && p.time <= to)
            .collect())
    }

    fn incident(&self, ctx: &mut Ctx, id: u64) -> Result<Option<IncidentView>, Error> {
        Ok(ctx
            .get_msg::<Incident>(STORE, &incident_key(id))?
            .map(|i| IncidentView {
                id: i.id,
                protocol: i.protocol,
                time: i.time,
                confirmed: i.status == IncidentStatus::Confirmed as i32,
            }))
    }
}

impl Module for Oracle {
    fn name(&self) -> &'static str {
        STORE
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        let g: GenesisState =
            serde_json::from_value(genesis.clone()).map_err(|e| format!("oracle genesis: {e}"))?;
        for p in &g.prices {
            p.price
                .parse::<Dec>()
                .map_err(|e| format!("oracle genesis price of {}: {}", p.feed, e.log))?;
        }
        Ok(())
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let g: GenesisState = serde_json::from_value(genesis.clone())
            .map_err(|e| sdk::invalid_request(format!("oracle genesis: {e}")))?;
        for p in g.prices {
            ctx.put_msg(STORE, price_key(&p.feed, p.time), &p)?;
        }
        for i in g.incidents {
            let id = ctx.next_id(STORE, NEXT_INCIDENT_ID)?;
            ctx.put_msg(STORE, incident_key(id), &Incident { id, ..i })?;
        }
        Ok(())
    }
}
