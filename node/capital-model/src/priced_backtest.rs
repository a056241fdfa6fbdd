//! The whole backtest of a book: calibrate before the cut-off, price, capitalise at the VaR
//! 99.5% of the priced book, replay the later years. Shared by the CLI and the example.

use crate::backtest::{backtest, replay_years, Backtest, BacktestProduct};
use crate::categories::{calibrate_categories, Assumptions, CategoryModel, Pricing, Window};
use crate::incidents::{Category, Incident};
use crate::{try_simulate, Book, Exposure};

/// One product of a book, its category already resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub product: String,
    /// `None`: priced on the pooled statistics.
    pub category: Option<Category>,
    /// Share of each loss the insured bears.
    pub deductible: f64,
    /// Cover the pool retains, base units.
    pub net_cover: f64,
}

/// A backtest with the pricing and capital it started from.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedBacktest {
    pub model: CategoryModel,
    pub pricing: Vec<Pricing>,
    /// Mean simulated annual loss of the priced book.
    pub expected_loss: f64,
    pub backtest: Backtest,
}

/// Prices `lines` on `model`.
pub fn price_lines(model: &CategoryModel, lines: &[Line], a: &Assumptions) -> Vec<Pricing> {
    lines
        .iter()
        .map(|l| model.price(l.category, l.deductible, a))
        .collect()
}

/// The simulated book of priced lines.
pub fn priced_book(capital: f64, lines: &[Line], pricing: &[Pricing]) -> Book {
    let exposures = lines
        .iter()
        .zip(pricing)
        .map(|(l, p)| Exposure {
            product: l.product.clone(),
            net_exposure: l.net_cover,
            // A product that can never pay (100% deductible) has no incidents to draw.
            annual_frequency: if p.mean_share > 0.0 { p.frequency } else { 0.0 },
            mean_severity: p.mean_share.clamp(f64::MIN_POSITIVE, 1.0),
        })
        .collect();
    Book { capital, exposures }
}

/// Calibrates on the incidents before `cutoff`, prices `lines` at their recommended rates,
/// capitalises the pool at the VaR 99.5% of `trials` simulated years (seeded with `seed`) and
/// replays the incidents from `cutoff` on. `category` resolves each line's category against
/// the calibration (protocol names are looked up in the incidents before the cut-off only).
pub fn backtest_book(
    incidents: &[Incident],
    lines: impl Fn(&CategoryModel) -> Vec<Line>,
    a: &Assumptions,
    cutoff: i32,
    trials: u32,
    seed: u64,
) -> anyhow::Result<PricedBacktest> {
    let window = Window::covering(incidents, Some(cutoff), a.min_year_incidents)?;
    let model = calibrate_categories(incidents, window, a.min_category_incidents)?;
    let years = replay_years(incidents, cutoff);
    anyhow::ensure!(
        !years.is_empty(),
        "the history has no incident from {cutoff} on to replay"
    );
    let lines = lines(&model);
    let pricing = price_lines(&model, &lines, a);
    let summary = try_simulate(&priced_book(0.0, &lines, &pricing), trials, seed)?.summary();
    let products: Vec<BacktestProduct> = lines
        .iter()
        .zip(&pricing)
        .map(|(l, p)| BacktestProduct {
            product: l.product.clone(),
            scope: p.scope,
            universe: p.universe,
            cover: l.net_cover,
            deductible: l.deductible,
            rate: f64::from(p.recommended_rate_bps) / 10_000.0,
        })
        .collect();
    let requirement = summary.var_995;
    let backtest = backtest(
        &products,
        requirement,
        requirement,
        incidents,
        &years,
        a.tvl_usd,
    );
    Ok(PricedBacktest {
        model,
        pricing,
        expected_loss: summary.expected_loss,
        backtest,
    })
}

impl Backtest {
    /// The backtest as fixed-width text lines, amounts divided by `unit` (e.g. 1e6 for whole
    /// USDC) and named `unit_name`.
    pub fn table(&self, unit: f64, unit_name: &str) -> Vec<String> {
        let whole = |x: f64| format!("{:.0}", x / unit);
        let row = |cells: [String; 7]| {
            format!(
                "{:<6} {:>5} {:>10} {:>12} {:>12} {:>12} {:>6}",
                cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6]
            )
        };
        let mut out = vec![
            format!(
                "amounts in {unit_name}; capital at start = requirement (VaR 99.5%) = {}",
                whole(self.requirement)
            ),
            row([
                "year",
                "share",
                "premiums",
                "claims",
                "capital_end",
                "shortfall",
                "broke",
            ]
            .map(String::from)),
        ];
        for y in &self.years {
            out.push(row([
                y.year.to_string(),
                format!("{:.2}", y.fraction),
                whole(y.premiums),
                whole(y.claims),
                whole(y.capital_end),
                whole(y.worst_shortfall),
                if y.broke { "yes" } else { "no" }.to_string(),
            ]));
        }
        out.push(row([
            "total".to_string(),
            String::new(),
            whole(self.premiums),
            whole(self.claims),
            whole(self.capital_end),
            whole(self.worst_shortfall),
            format!("{}y", self.years_broken),
        ]));
        out
    }
}
