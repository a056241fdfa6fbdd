//! The capital model over a pool's live book, shared by `suretyd query pool capital-model` and
//! the REST gateway's `/surety/pool/v1/pools/{pool_id}/capital_model`. Off-chain: floats are
//! fine here, nothing feeds consensus.

use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use surety_capital_model::{calibrate_from_csv, try_simulate, Simulation};
use surety_capital_model::{Book, Exposure as ModelExposure, ProductLink};
use surety_proto::surety::policy::v1::{ClaimMode, CoverType, Product};
use surety_proto::surety::pool::v1::QueryExposuresResponse;

/// Most trials one request may ask for: a trial costs microseconds, a million is seconds.
pub const MAX_TRIALS: u32 = 1_000_000;

/// What the model runs on, read from the chain by the caller.
pub struct Inputs<'a> {
    pub pool_id: u64,
    pub denom: &'a str,
    pub exposures: &'a QueryExposuresResponse,
    pub products: &'a [Product],
}

/// Past incidents to calibrate frequency and severity from.
pub struct History<'a> {
    /// Where the CSV came from, for the report.
    pub name: &'a str,
    pub csv: &'a str,
    /// Total value the history's protocols held, in USD, to turn losses into severities.
    pub tvl_usd: f64,
}

/// Frequency (incidents a year) and mean severity (share of exposure lost) for a product with
/// no incident history: rough priors by cover type, a full loss for parametric incident cover.
fn prior(product: &Product) -> (f64, f64) {
    let retained = 1.0 - product.deductible_bps as f64 / 10_000.0;
    match CoverType::try_from(product.cover_type).unwrap_or(CoverType::Unspecified) {
        CoverType::Depeg => (0.1, 0.05),
        CoverType::Liquidity => (0.5, 0.05),
        _ if product.claim_mode == ClaimMode::Parametric as i32 => (0.05, retained),
        _ => (0.05, 0.5 * retained),
    }
}

/// Runs `trials` simulated years; returns the report and the simulation (for charts).
pub fn run(
    inputs: &Inputs<'_>,
    history: Option<&History<'_>>,
    trials: u32,
    seed: u64,
) -> Result<(Value, Simulation)> {
    anyhow::ensure!(
        (1..=MAX_TRIALS).contains(&trials),
        "trials must be between 1 and {MAX_TRIALS}"
    );
    let product = |id: u64| inputs.products.iter().find(|p| p.id == id);
    let label = |p: &Product| format!("{} ({})", p.name, p.id);
    let mut book = Book {
        capital: inputs.exposures.capital.parse()?,
        exposures: Vec::new(),
    };
    for e in &inputs.exposures.exposures {
        let p =
            product(e.product_id).with_context(|| format!("product {} not found", e.product_id))?;
        let (annual_frequency, mean_severity) = prior(p);
        book.exposures.push(ModelExposure {
            product: label(p),
            net_exposure: e.net.parse()?,
            annual_frequency,
            mean_severity,
        });
    }
    let mut calibrated = Value::Null;
    if let Some(h) = history {
        let calibration = calibrate_from_csv(h.csv)?;
        let protocols: Vec<(String, String)> = inputs
            .exposures
            .exposures
            .iter()
            .filter_map(|e| product(e.product_id))
            .map(|p| (label(p), p.protocol.clone()))
            .collect();
        let defaulted = calibration.apply(&mut book, |name| {
            protocols
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, protocol)| ProductLink {
                    protocol: protocol.clone(),
                    total_value_usd: h.tvl_usd,
                })
        })?;
        calibrated = json!({
            "history": h.name,
            "span_years": calibration.span_years,
            "protocols_without_history": defaulted,
        });
    }
    let simulation = try_simulate(&book, trials, seed)?;
    let s = simulation.summary();
    let units = |x: f64| format!("{}{}", x.round() as u128, inputs.denom);
    let report = json!({
        "pool_id": inputs.pool_id.to_string(),
        "trials": s.trials,
        "seed": s.seed.to_string(),
        "capital": units(s.capital),
        "expected_annual_loss": units(s.expected_loss),
        "var_99_5": units(s.var_995),
        "tvar_99_5": units(s.tvar_995),
        "probability_loss_exceeds_capital": format!("{:.4}%", s.prob_ruin * 100.0),
        "max_simulated_loss": units(s.max_loss),
        "products": book.exposures.iter().map(|e| json!({
            "product": e.product,
            "net_exposure": units(e.net_exposure),
            "annual_frequency": e.annual_frequency,
            "mean_severity": e.mean_severity,
        })).collect::<Vec<_>>(),
        "calibration": calibrated,
    });
    Ok((report, simulation))
}

/// The loss-exceedance curve thinned to at most `points` `[loss, probability]` pairs (always
/// keeping the first and the last), small enough for a browser to draw.
pub fn curve(simulation: &Simulation, points: usize) -> Vec<[f64; 2]> {
    let full = simulation.exceedance_curve();
    let step = full.len().div_ceil(points.max(2)).max(1);
    let mut out: Vec<[f64; 2]> = full.iter().step_by(step).map(|&(l, p)| [l, p]).collect();
    if let Some(&(l, p)) = full.last() {
        if out.last() != Some(&[l, p]) {
            out.push([l, p]);
        }
    }
    out
}
