//! The capital model over a pool's live book, shared by `suretyd query pool capital-model` and
//! the REST gateway's `/surety/pool/v1/pools/{pool_id}/capital_model`. Off-chain: floats are
//! fine here, nothing feeds consensus.
//!
//! Frequency and severity come from an incident history (by default `docs/incidents.csv`,
//! embedded in the binary) calibrated per category; each product is priced with its category's
//! figures: see [`surety_capital_model::CategoryModel`].

mod backtest;
mod demo;
mod proposal;

use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use surety_capital_model::{
    calibrate_categories, parse_incidents, price_lines, priced_book, try_simulate, Assumptions,
    Category, CategoryModel, Incident, Line, Pricing, Simulation, Window,
};
use surety_proto::surety::policy::v1::{CoverType, Product};
use surety_proto::surety::pool::v1::QueryExposuresResponse;

pub use backtest::backtest;
pub use demo::{demo_book, DEMO_CAPITAL};
pub use proposal::write_proposal;

/// Most trials one request may ask for: a trial costs microseconds, a million is seconds.
pub const MAX_TRIALS: u32 = 1_000_000;

/// The public incident dataset (DeFiHackLabs, see `docs/incidents.md`): the default history.
pub const INCIDENTS_CSV: &str = include_str!("../../docs/incidents.csv");

/// What the model runs on, read from the chain by the caller.
pub struct Inputs<'a> {
    pub pool_id: u64,
    pub denom: &'a str,
    pub exposures: &'a QueryExposuresResponse,
    pub products: &'a [Product],
}

/// A product of the book and the cover the pool retains on it (base units, net of reinsurance).
pub struct BookLine {
    pub product: Product,
    pub net_cover: f64,
}

impl Inputs<'_> {
    /// The live book as product lines.
    pub fn lines(&self) -> Result<Vec<BookLine>> {
        self.exposures
            .exposures
            .iter()
            .map(|e| {
                let product = self
                    .products
                    .iter()
                    .find(|p| p.id == e.product_id)
                    .with_context(|| format!("product {} not found", e.product_id))?;
                Ok(BookLine {
                    product: product.clone(),
                    net_cover: e.net.parse()?,
                })
            })
            .collect()
    }
}

/// Past incidents to calibrate frequency and severity from.
pub struct History<'a> {
    /// Where the CSV came from, for the report.
    pub name: &'a str,
    pub csv: &'a str,
    pub assumptions: Assumptions,
}

impl History<'static> {
    /// The embedded dataset with the given assumptions.
    pub fn embedded(assumptions: Assumptions) -> Self {
        History {
            name: "docs/incidents.csv (embedded)",
            csv: INCIDENTS_CSV,
            assumptions,
        }
    }
}

impl History<'_> {
    /// The parsed incidents.
    pub fn incidents(&self) -> Result<Vec<Incident>> {
        parse_incidents(self.csv).with_context(|| self.name.to_string())
    }

    /// The incidents, and the per-category model over those dated before `before` (all of them
    /// if `None`).
    pub fn calibrate(&self, before: Option<i32>) -> Result<(Vec<Incident>, CategoryModel)> {
        let incidents = self.incidents()?;
        let a = &self.assumptions;
        let window = Window::covering(&incidents, before, a.min_year_incidents)?;
        let model = calibrate_categories(&incidents, window, a.min_category_incidents)?;
        Ok((incidents, model))
    }
}

/// The category a product is priced in: depeg cover → stablecoin, custody and exchange cover →
/// custody, otherwise the category of the product's protocol in the history, and failing that
/// dex for liquidity cover and the pooled figures (`None`) for the rest.
pub fn category(model: &CategoryModel, product: &Product) -> Option<Category> {
    match CoverType::try_from(product.cover_type).unwrap_or(CoverType::Unspecified) {
        CoverType::Depeg => Some(Category::Stablecoin),
        CoverType::Custody | CoverType::Exchange => Some(Category::Custody),
        cover => model
            .category_of(&product.protocol)
            .or((cover == CoverType::Liquidity).then_some(Category::Dex)),
    }
}

/// The book's lines for the library, their categories resolved against `model`.
fn model_lines(model: &CategoryModel, lines: &[BookLine]) -> Vec<Line> {
    lines
        .iter()
        .map(|l| Line {
            product: label(&l.product),
            category: category(model, &l.product),
            deductible: f64::from(l.product.deductible_bps) / 10_000.0,
            net_cover: l.net_cover,
        })
        .collect()
}

fn label(p: &Product) -> String {
    format!("{} ({})", p.name, p.id)
}

/// The per-category calibration, for reports.
fn calibration_json(name: &str, model: &CategoryModel, a: &Assumptions) -> Value {
    let stats = |s: &surety_capital_model::CategoryStats| {
        let universe = model.universe(s, a);
        json!({
            "incidents": s.incidents,
            "protocols_hit": s.protocols,
            "incidents_per_year": round(s.frequency, 2),
            "universe": round(universe, 1),
            "per_protocol_per_year": round(s.frequency / universe, 5),
            "lognormal_mu": round(s.log_mean, 3),
            "lognormal_sigma": round(s.log_sd, 3),
            "median_loss_usd": s.median_loss_usd().round(),
            "mean_loss_usd": s.mean_loss_usd.round(),
            "mean_share_of_tvl": round(s.mean_share(a.tvl_usd), 5),
        })
    };
    let mut categories = serde_json::Map::new();
    for (c, s) in &model.categories {
        let mut v = stats(s);
        v["pooled"] = (s.incidents < model.min_category_incidents).into();
        categories.insert(c.to_string(), v);
    }
    json!({
        "history": name,
        "window": format!("{}..={} ({:.2} years)", model.window.first_year, model.window.last_year,
            model.window.span_years()),
        "assumptions": a,
        "categories": categories,
        "pooled": stats(&model.pooled),
    })
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// Per-product report lines: exposure, frequency, severity, current and recommended rates.
fn products_json(lines: &[BookLine], pricing: &[Pricing], units: impl Fn(f64) -> String) -> Value {
    lines
        .iter()
        .zip(pricing)
        .map(|(l, p)| {
            json!({
                "product": label(&l.product),
                "product_id": l.product.id.to_string(),
                "category": p.scope.map_or("pooled".to_string(), |c| c.to_string()),
                "net_exposure": units(l.net_cover),
                "annual_frequency": round(p.frequency, 5),
                "mean_severity": round(p.mean_share, 6),
                "expected_loss_rate_bps": round(p.expected_loss_rate * 10_000.0, 2),
                "current_rate_bps": l.product.annual_base_rate_bps,
                "recommended_rate_bps": p.recommended_rate_bps,
            })
        })
        .collect()
}

/// Runs `trials` simulated years over `lines` with `capital`; returns the report, the
/// simulation (for charts) and the pricing of each line (for proposals).
pub fn run_book(
    pool: &str,
    denom: &str,
    capital: f64,
    lines: &[BookLine],
    history: &History<'_>,
    trials: u32,
    seed: u64,
) -> Result<(Value, Simulation, Vec<Pricing>)> {
    anyhow::ensure!(
        (1..=MAX_TRIALS).contains(&trials),
        "trials must be between 1 and {MAX_TRIALS}"
    );
    let a = &history.assumptions;
    let (_, model) = history.calibrate(None)?;
    let model_lines = model_lines(&model, lines);
    let pricing = price_lines(&model, &model_lines, a);
    let simulation = try_simulate(&priced_book(capital, &model_lines, &pricing), trials, seed)?;
    let s = simulation.summary();
    let units = |x: f64| format!("{}{denom}", x.round() as u128);
    let report = json!({
        "pool_id": pool,
        "trials": s.trials,
        "seed": s.seed.to_string(),
        "capital": units(s.capital),
        "expected_annual_loss": units(s.expected_loss),
        "var_99_5": units(s.var_995),
        "tvar_99_5": units(s.tvar_995),
        "reserve_ratio": reserve_ratio(s.capital, s.expected_loss),
        "reserve_ratio_rule_of_thumb": "1.5-2x expected annual loss",
        "probability_loss_exceeds_capital": format!("{:.4}%", s.prob_ruin * 100.0),
        "max_simulated_loss": units(s.max_loss),
        "products": products_json(lines, &pricing, units),
        "calibration": calibration_json(history.name, &model, a),
    });
    Ok((report, simulation, pricing))
}

/// Capital ÷ expected annual loss, two decimals (`null` without expected loss).
fn reserve_ratio(capital: f64, expected_loss: f64) -> Value {
    if expected_loss > 0.0 {
        round(capital / expected_loss, 2).into()
    } else {
        Value::Null
    }
}

/// [`run_book`] over a pool's live book as read from the chain.
pub fn run(
    inputs: &Inputs<'_>,
    history: &History<'_>,
    trials: u32,
    seed: u64,
) -> Result<(Value, Simulation, Vec<Pricing>)> {
    let capital = inputs.exposures.capital.parse()?;
    let lines = inputs.lines()?;
    run_book(
        &inputs.pool_id.to_string(),
        inputs.denom,
        capital,
        &lines,
        history,
        trials,
        seed,
    )
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
