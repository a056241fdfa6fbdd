//! `suretyd tx oracle …` and `suretyd query oracle …`: prices and incidents.

use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use crate::output::time;
use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use surety_proto::surety::oracle::v1::*;
use surety_proto::to_any;

#[derive(clap::Subcommand)]
pub enum Tx {
    /// Report an incident of a listed protocol, posting the incident bond:
    /// `report-incident <protocol> <when: unix seconds or RFC 3339> <description>`.
    ReportIncident {
        protocol: String,
        time: String,
        description: String,
        #[arg(long, default_value = "")]
        evidence: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Attest an incident as a validator (signed by its operator key): `attest <id> yes|no`.
    Attest {
        incident_id: u64,
        #[arg(value_parser = ["yes", "no"])]
        option: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// The latest price of a feed, e.g. `price USDC/USD`.
    Price {
        feed: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The latest price of every feed.
    Prices {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A feed's recent prices, newest first.
    History {
        feed: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One incident, with its attestations.
    Incident {
        incident_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every incident.
    Incidents {
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn price_json(p: &Price) -> Value {
    json!({"feed": p.feed, "price": p.price, "time": time(p.time), "height": p.height.to_string()})
}

pub fn status_name(s: i32) -> &'static str {
    match IncidentStatus::try_from(s).unwrap_or(IncidentStatus::Unspecified) {
        IncidentStatus::Pending => "pending",
        IncidentStatus::Confirmed => "confirmed",
        IncidentStatus::Rejected => "rejected",
        IncidentStatus::Unspecified => "unspecified",
    }
}

fn incident_json(i: &Incident) -> Value {
    json!({
        "id": i.id.to_string(),
        "protocol": i.protocol,
        "time": time(i.time),
        "description": i.description,
        "evidence": i.evidence,
        "status": status_name(i.status),
        "reporter": i.reporter,
        "bond": i.bond.as_ref().map(|c| format!("{}{}", c.amount, c.denom)),
        "deadline": time(i.deadline),
        "yes_power": i.yes_power.to_string(),
        "no_power": i.no_power.to_string(),
    })
}

/// Unix seconds, or an RFC 3339 time.
fn parse_time(s: &str) -> Result<i64> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    let t = humantime::parse_rfc3339_weak(s)
        .with_context(|| format!("time {s:?}: unix seconds or RFC 3339"))?;
    Ok(t.duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64)
}

pub fn run_tx(ctx: &Context, command: Tx) -> Result<()> {
    match command {
        Tx::ReportIncident {
            protocol,
            time,
            description,
            evidence,
            from,
            tx,
        } => {
            let msg = MsgReportIncident {
                reporter: key_address(ctx, &from, &tx)?,
                protocol,
                time: parse_time(&time)?,
                description,
                evidence,
            };
            broadcast(ctx, &from, vec![to_any(&msg)], &tx)
        }
        Tx::Attest {
            incident_id,
            option,
            from,
            tx,
        } => {
            let msg = MsgAttestIncident {
                validator: key_address(ctx, &from, &tx)?,
                incident_id,
                confirm: option == "yes",
            };
            broadcast(ctx, &from, vec![to_any(&msg)], &tx)
        }
    }
}

pub fn run_query(ctx: &Context, command: Query) -> Result<()> {
    let value = match command {
        Query::Price { feed, node } => {
            let r: QueryPriceResponse = node
                .client(ctx)?
                .query("/surety.oracle.v1.Query/Price", &QueryPriceRequest { feed })?;
            price_json(&r.price.context("empty response")?)
        }
        Query::Prices { node } => {
            let r: QueryPricesResponse = node
                .client(ctx)?
                .query("/surety.oracle.v1.Query/Prices", &QueryPricesRequest {})?;
            json!({"prices": r.prices.iter().map(price_json).collect::<Vec<_>>()})
        }
        Query::History { feed, limit, node } => {
            let r: QueryHistoryResponse = node.client(ctx)?.query(
                "/surety.oracle.v1.Query/History",
                &QueryHistoryRequest { feed, limit },
            )?;
            json!({"prices": r.prices.iter().map(price_json).collect::<Vec<_>>()})
        }
        Query::Incident { incident_id, node } => {
            let r: QueryIncidentResponse = node.client(ctx)?.query(
                "/surety.oracle.v1.Query/Incident",
                &QueryIncidentRequest { incident_id },
            )?;
            let mut v = incident_json(&r.incident.context("empty response")?);
            v["attestations"] = json!(r
                .attestations
                .iter()
                .map(
                    |a| json!({"validator": hex::encode_upper(&a.validator), "confirm": a.confirm})
                )
                .collect::<Vec<_>>());
            v
        }
        Query::Incidents { node } => {
            let incidents = node.client(ctx)?.query_all(
                "/surety.oracle.v1.Query/Incidents",
                |page| QueryIncidentsRequest {
                    pagination: Some(page),
                },
                |r: QueryIncidentsResponse| (r.incidents, r.pagination),
            )?;
            json!({"incidents": incidents.iter().map(incident_json).collect::<Vec<_>>()})
        }
    };
    ctx.print(&value);
    Ok(())
}
