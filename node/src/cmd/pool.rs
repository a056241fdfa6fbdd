//! `suretyd tx pool …` and `suretyd query pool …`: capital, positions and the capital model.

use super::policy::split_amount;
use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use crate::output::{amount, bps, time};
use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use surety_proto::surety::pool::v1::*;
use surety_proto::to_any;

#[derive(clap::Subcommand)]
pub enum Tx {
    /// Deposit capital for shares: `deposit <pool-id> <amount, e.g. 1000000000uusdc>`.
    Deposit {
        pool_id: u64,
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Start the withdrawal cooldown for some shares (they keep bearing the pool's losses).
    RequestWithdraw {
        pool_id: u64,
        shares: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Withdraw shares whose cooldown is over, at the current share price.
    CompleteWithdraw {
        pool_id: u64,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// One pool: capital, capacity, utilisation, capital requirement, share price.
    Pool {
        pool_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every pool.
    Pools {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// What the pools paid for an incident's claims and what was recovered since, e.g.
    /// `incident incident:3`.
    Incident {
        incident: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A provider's shares in a pool and what they are worth.
    Position {
        pool_id: u64,
        owner: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Monte Carlo of a year of incidents over the pool's live book: expected loss, VaR and
    /// TVaR 99.5%, and a loss-exceedance chart.
    CapitalModel {
        pool_id: u64,
        /// CSV of past incidents (date,protocol,loss_usd) to calibrate frequency and severity.
        #[arg(long)]
        history: Option<PathBuf>,
        /// Total value the history's protocols held, in USD, to turn losses into severities.
        #[arg(long, default_value_t = 1e9)]
        history_tvl_usd: f64,
        #[arg(long, default_value_t = 100_000)]
        trials: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write the loss-exceedance curve as an SVG chart to this file.
        #[arg(long)]
        chart: Option<PathBuf>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn pool_json(v: &PoolView) -> Value {
    let p = v.pool.clone().unwrap_or_default();
    let d = &p.denom;
    json!({
        "id": p.id.to_string(),
        "name": p.name,
        "denom": d,
        "capital": amount(&v.capital, d),
        "capacity": amount(&v.capacity, d),
        "active_cover": amount(&p.active_cover, d),
        "utilisation": bps(v.utilisation_bps),
        "capital_requirement": amount(&v.capital_requirement, d),
        "unearned_premium": amount(&p.unearned_premium, d),
        "share_price": v.share_price,
        "total_shares": p.total_shares,
        "leverage": bps(p.leverage_bps),
        "selling": p.selling,
        "products": p.products.iter().map(|w| json!({
            "product_id": w.product_id.to_string(),
            "weight": bps(w.weight_bps),
        })).collect::<Vec<_>>(),
        "reinsurance": p.reinsurance.as_ref().map(|r| json!({
            "reinsurer_pool_id": r.reinsurer_pool_id.to_string(),
            "quota_share": bps(r.quota_share_bps),
            "xol_retention": amount(&r.xol_retention, d),
            "xol_limit": amount(&r.xol_limit, d),
        })),
    })
}

fn pool_view(client: &crate::client::Client, pool_id: u64) -> Result<PoolView> {
    let r: QueryPoolResponse =
        client.query("/surety.pool.v1.Query/Pool", &QueryPoolRequest { pool_id })?;
    r.pool.context("empty response")
}

pub fn run_tx(ctx: &Context, command: Tx) -> Result<()> {
    let (from, tx, msg) = match command {
        Tx::Deposit {
            pool_id,
            amount,
            from,
            tx,
        } => {
            let pool = pool_view(&tx.node.client(ctx)?, pool_id)?
                .pool
                .unwrap_or_default();
            let (value, denom) = split_amount(&amount)?;
            if let Some(d) = denom.filter(|d| *d != pool.denom) {
                bail!("pool {pool_id} holds {}, not {d}", pool.denom);
            }
            let msg = to_any(&MsgDeposit {
                provider: key_address(ctx, &from, &tx)?,
                pool_id,
                amount: value.to_string(),
            });
            (from, tx, msg)
        }
        Tx::RequestWithdraw {
            pool_id,
            shares,
            from,
            tx,
        } => {
            let msg = to_any(&MsgRequestWithdraw {
                provider: key_address(ctx, &from, &tx)?,
                pool_id,
                shares: split_amount(&shares)?.0.to_string(),
            });
            (from, tx, msg)
        }
        Tx::CompleteWithdraw { pool_id, from, tx } => {
            let msg = to_any(&MsgCompleteWithdraw {
                provider: key_address(ctx, &from, &tx)?,
                pool_id,
            });
            (from, tx, msg)
        }
    };
    broadcast(ctx, &from, vec![msg], &tx)
}

pub fn run_query(ctx: &Context, command: Query) -> Result<()> {
    let value = match command {
        Query::Pool { pool_id, node } => pool_json(&pool_view(&node.client(ctx)?, pool_id)?),
        Query::Pools { node } => {
            let pools = node.client(ctx)?.query_all(
                "/surety.pool.v1.Query/Pools",
                |page| QueryPoolsRequest {
                    pagination: Some(page),
                },
                |r: QueryPoolsResponse| (r.pools, r.pagination),
            )?;
            json!({"pools": pools.iter().map(pool_json).collect::<Vec<_>>()})
        }
        Query::Incident { incident, node } => {
            let r: QueryIncidentResponse = node.client(ctx)?.query(
                "/surety.pool.v1.Query/Incident",
                &QueryIncidentRequest {
                    incident: incident.clone(),
                },
            )?;
            json!({
                "incident": incident,
                "paid": r.paid,
                "recovered": r.recovered,
                "shortfall": r.shortfall,
                "payments": r.payments.iter().map(|p| json!({
                    "pool_id": p.pool_id.to_string(),
                    "paid": p.paid,
                })).collect::<Vec<_>>(),
            })
        }
        Query::Position {
            pool_id,
            owner,
            node,
        } => {
            let client = node.client(ctx)?;
            let denom = pool_view(&client, pool_id)?.pool.unwrap_or_default().denom;
            let r: QueryPositionResponse = client.query(
                "/surety.pool.v1.Query/Position",
                &QueryPositionRequest { pool_id, owner },
            )?;
            let p = r.position.unwrap_or_default();
            json!({
                "pool_id": pool_id.to_string(),
                "owner": p.owner,
                "shares": p.shares,
                "value": amount(&r.value, &denom),
                "withdrawing_shares": if p.withdrawing_shares.is_empty() { "0".into() } else { p.withdrawing_shares },
                "unlock_time": time(p.unlock_time),
            })
        }
        Query::CapitalModel {
            pool_id,
            history,
            history_tvl_usd,
            trials,
            seed,
            chart,
            node,
        } => capital_model(
            &node.client(ctx)?,
            pool_id,
            history,
            history_tvl_usd,
            trials,
            seed,
            chart.as_deref(),
        )?,
    };
    ctx.print(&value);
    Ok(())
}

fn capital_model(
    client: &crate::client::Client,
    pool_id: u64,
    history: Option<PathBuf>,
    history_tvl_usd: f64,
    trials: u32,
    seed: u64,
    chart: Option<&std::path::Path>,
) -> Result<Value> {
    let denom = pool_view(client, pool_id)?.pool.unwrap_or_default().denom;
    let exposures: QueryExposuresResponse = client.query(
        "/surety.pool.v1.Query/Exposures",
        &QueryExposuresRequest { pool_id },
    )?;
    let products = super::policy::all_products(client)?;
    let inputs = crate::capital::Inputs {
        pool_id,
        denom: &denom,
        exposures: &exposures,
        products: &products,
    };
    let csv = match &history {
        Some(path) => Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => None,
    };
    let name = history.as_ref().map(|p| p.display().to_string());
    let history = csv
        .as_deref()
        .zip(name.as_deref())
        .map(|(csv, name)| crate::capital::History {
            name,
            csv,
            tvl_usd: history_tvl_usd,
        });
    let (mut report, simulation) = crate::capital::run(&inputs, history.as_ref(), trials, seed)?;
    if let Some(chart) = chart {
        let title = format!("Pool {pool_id}: annual loss exceedance ({trials} years)");
        let capital = simulation.capital();
        surety_capital_model::write_exceedance_svg(&simulation, capital, &title, chart)?;
        report["chart"] = chart.display().to_string().into();
    }
    Ok(report)
}
