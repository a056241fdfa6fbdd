//! `suretyd tx pool …` and `suretyd query pool …`: capital, positions and the capital model.

use super::policy::split_amount;
use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use crate::capital;
use crate::output::{amount, bps, time};
use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use surety_capital_model::Assumptions;
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
    /// Monte Carlo of a year of incidents over the pool's live book, calibrated per category on
    /// an incident history: expected loss, VaR and TVaR 99.5%, reserve ratio, and each
    /// product's current and recommended annual rate. `--backtest` replays later years instead.
    CapitalModel {
        /// The pool (not needed with --demo-book).
        #[arg(required_unless_present = "demo_book")]
        pool_id: Option<u64>,
        /// CSV of past incidents (date,protocol,category,loss_usd); default: the embedded
        /// docs/incidents.csv (DeFiHackLabs, see docs/incidents.md).
        #[arg(long)]
        history: Option<PathBuf>,
        /// Value held in a covered protocol, in USD: an incident losing L takes min(1, L/TVL)
        /// of a covered position.
        #[arg(long, default_value_t = Assumptions::default().tvl_usd)]
        history_tvl_usd: f64,
        /// Value held in DeFi as a whole, in USD: spreads each category's incidents over
        /// defi_tvl/history_tvl protocols, in proportion to the protocols the category had hit.
        #[arg(long, default_value_t = Assumptions::default().defi_tvl_usd)]
        defi_tvl_usd: f64,
        /// Margin over the expected loss: recommended rate = expected loss rate × (1 + loading).
        #[arg(long, default_value_t = Assumptions::default().loading)]
        loading: f64,
        #[arg(long, default_value_t = 100_000)]
        trials: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Use the built-in demo book (the localnet's four products, 1M USDC of cover) instead
        /// of a pool read from a node.
        #[arg(long)]
        demo_book: bool,
        /// Backtest: calibrate on incidents before --cutoff, replay the later years.
        #[arg(long)]
        backtest: bool,
        /// With --backtest: the first replayed year (incidents before 1 January of it calibrate).
        #[arg(long, default_value_t = 2023)]
        cutoff: i32,
        /// Also write a chart to this SVG file: the loss-exceedance curve, or with --backtest
        /// capital vs requirement and claims vs premiums by year.
        #[arg(long)]
        chart: Option<PathBuf>,
        /// Write a governance proposal (for `suretyd tx gov submit-proposal`) setting the
        /// recommended rates with MsgUpdateProduct.
        #[arg(long, conflicts_with = "backtest")]
        proposal_out: Option<PathBuf>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// The options of `query pool capital-model`.
struct ModelArgs {
    pool_id: Option<u64>,
    history: Option<PathBuf>,
    assumptions: Assumptions,
    trials: u32,
    seed: u64,
    demo_book: bool,
    backtest: Option<i32>,
    chart: Option<PathBuf>,
    proposal_out: Option<PathBuf>,
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
            defi_tvl_usd,
            loading,
            trials,
            seed,
            demo_book,
            backtest,
            cutoff,
            chart,
            proposal_out,
            node,
        } => {
            let args = ModelArgs {
                pool_id,
                history,
                assumptions: Assumptions {
                    tvl_usd: history_tvl_usd,
                    defi_tvl_usd,
                    loading,
                    ..Assumptions::default()
                },
                trials,
                seed,
                demo_book,
                backtest: backtest.then_some(cutoff),
                chart,
                proposal_out,
            };
            capital_model(ctx, &node, args)?
        }
    };
    ctx.print(&value);
    Ok(())
}

fn capital_model(ctx: &Context, node: &NodeArgs, args: ModelArgs) -> Result<Value> {
    let a = &args.assumptions;
    anyhow::ensure!(
        [a.tvl_usd, a.defi_tvl_usd]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0),
        "--history-tvl-usd and --defi-tvl-usd must be positive"
    );
    anyhow::ensure!(
        a.loading.is_finite() && a.loading >= 0.0,
        "--loading must be >= 0"
    );
    let csv = match &args.history {
        Some(path) => Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => None,
    };
    let name = args.history.as_ref().map(|p| p.display().to_string());
    let history = match (csv.as_deref(), name.as_deref()) {
        (Some(csv), Some(name)) => capital::History {
            name,
            csv,
            assumptions: args.assumptions.clone(),
        },
        _ => capital::History::embedded(args.assumptions.clone()),
    };
    // The book: built in, or the pool's live one.
    let (pool, denom, capital, lines) = if args.demo_book {
        let lines = capital::demo_book();
        (
            "demo".to_string(),
            "uusdc".to_string(),
            capital::DEMO_CAPITAL,
            lines,
        )
    } else {
        let pool_id = args.pool_id.context("a pool id or --demo-book is needed")?;
        let client = node.client(ctx)?;
        let denom = pool_view(&client, pool_id)?.pool.unwrap_or_default().denom;
        let exposures: QueryExposuresResponse = client.query(
            "/surety.pool.v1.Query/Exposures",
            &QueryExposuresRequest { pool_id },
        )?;
        let products = super::policy::all_products(&client)?;
        let inputs = capital::Inputs {
            pool_id,
            denom: &denom,
            exposures: &exposures,
            products: &products,
        };
        let capital = exposures.capital.parse()?;
        (pool_id.to_string(), denom.clone(), capital, inputs.lines()?)
    };
    if let Some(cutoff) = args.backtest {
        let (mut report, bt) =
            capital::backtest(&denom, &lines, &history, cutoff, args.trials, args.seed)?;
        report["pool_id"] = pool.clone().into();
        if let Some(chart) = &args.chart {
            let title = format!("Pool {pool}: backtest from {cutoff}");
            surety_capital_model::write_backtest_svg(&bt, &title, chart)?;
            report["chart"] = chart.display().to_string().into();
        }
        return Ok(report);
    }
    let (mut report, simulation, pricing) = capital::run_book(
        &pool,
        &denom,
        capital,
        &lines,
        &history,
        args.trials,
        args.seed,
    )?;
    if let Some(chart) = &args.chart {
        let title = format!(
            "Pool {pool}: annual loss exceedance ({} years)",
            args.trials
        );
        surety_capital_model::write_exceedance_svg(&simulation, capital, &title, chart)?;
        report["chart"] = chart.display().to_string().into();
    }
    if let Some(path) = &args.proposal_out {
        let repriced = capital::write_proposal(&lines, &pricing, path)?;
        report["proposal"] = json!({
            "file": path.display().to_string(),
            "products_repriced": repriced,
            "submit": format!(
                "suretyd tx gov submit-proposal {} --from <key> --gas auto",
                path.display()
            ),
        });
    }
    Ok(report)
}
