//! `suretyd query pool capital-model --backtest`: calibrate on the incidents before a cut-off
//! year, price and capitalise the book with that calibration, then replay the later years'
//! incidents against it (see [`surety_capital_model::backtest_book`]).

use anyhow::Result;
use serde_json::{json, Value};
use surety_capital_model::{backtest_book, Backtest};

use super::{calibration_json, model_lines, products_json, BookLine, History, MAX_TRIALS};

/// Runs the backtest of `lines` from `cutoff` on (incidents dated before 1 January of `cutoff`
/// calibrate, the rest are replayed). The pool starts with exactly the requirement, the VaR
/// 99.5% of the book under the calibration, and sells at the recommended rates. Returns the
/// report (with a text table) and the backtest (for charts).
pub fn backtest(
    denom: &str,
    lines: &[BookLine],
    history: &History<'_>,
    cutoff: i32,
    trials: u32,
    seed: u64,
) -> Result<(Value, Backtest)> {
    anyhow::ensure!(
        (1..=MAX_TRIALS).contains(&trials),
        "trials must be between 1 and {MAX_TRIALS}"
    );
    let a = &history.assumptions;
    let incidents = history.incidents()?;
    let run = backtest_book(
        &incidents,
        |model| model_lines(model, lines),
        a,
        cutoff,
        trials,
        seed,
    )?;
    let bt = run.backtest;
    let units = |x: f64| format!("{}{denom}", x.round() as i128);
    let report = json!({
        "cutoff": format!("calibrated on incidents before {cutoff}-01-01, replayed from {cutoff}"),
        "trials": trials,
        "seed": seed.to_string(),
        "requirement_var_99_5": units(bt.requirement),
        "expected_annual_loss": units(run.expected_loss),
        "capital_start": units(bt.capital_start),
        "reserve_ratio_start": super::reserve_ratio(bt.capital_start, run.expected_loss),
        "years": bt.years.iter().map(|y| json!({
            "year": y.year,
            "share_of_year": (y.fraction * 1000.0).round() / 1000.0,
            "incidents": y.incidents,
            "premiums": units(y.premiums),
            "claims": units(y.claims),
            "capital_end": units(y.capital_end),
            "worst_shortfall": units(y.worst_shortfall),
            "broke_requirement": y.broke,
        })).collect::<Vec<_>>(),
        "totals": {
            "premiums": units(bt.premiums),
            "claims": units(bt.claims),
            "capital_end": units(bt.capital_end),
            "worst_shortfall": units(bt.worst_shortfall),
            "years_broken": bt.years_broken,
        },
        "table": bt.table(1e6, &format!("1e6 {denom}")),
        "products": products_json(lines, &run.pricing, units),
        "calibration": calibration_json(history.name, &run.model, a),
    });
    Ok((report, bt))
}
