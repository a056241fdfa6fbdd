//! SVG loss-exceedance chart.

use std::path::Path;

use anyhow::{anyhow, Context};
use plotters::prelude::*;

use crate::{Simulation, CONFIDENCE};

/// Intervals sampled along the loss axis: about one per horizontal pixel.
const SAMPLES: usize = 720;
const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;

/// Writes the loss-exceedance curve of `sim` as an SVG file at `path`.
///
/// x is the annual loss (base units), y the probability that a year's loss
/// exceeds it, on a log scale down to the decade below `1/trials`. The curve
/// is sampled at up to 720 evenly spaced losses (about one per pixel, so the
/// file stays small) and ends on the bottom edge just past the largest
/// simulated loss. Dashed vertical markers show VaR 99.5% and `capital`.
pub fn write_exceedance_svg(
    sim: &Simulation,
    capital: f64,
    title: &str,
    path: &Path,
) -> anyhow::Result<()> {
    if !(capital.is_finite() && capital >= 0.0) {
        return Err(anyhow!("capital must be finite and >= 0, got {capital}"));
    }
    let summary = sim.summary();
    let var = summary.var_995;
    let x_top = summary.max_loss.max(capital).max(var);
    let x_max = if x_top > 0.0 { x_top * 1.05 } else { 1.0 };
    // Smallest non-zero exceedance probability is 1/trials; round down to a decade.
    let y_min = 10f64.powf((1.0 / f64::from(summary.trials)).log10().floor());

    let mut curve: Vec<(f64, f64)> = Vec::with_capacity(SAMPLES + 1);
    for i in 0..=SAMPLES {
        let x = x_max * i as f64 / SAMPLES as f64;
        let p = sim.exceedance_probability(x);
        curve.push((x, p.max(y_min)));
        if p == 0.0 {
            break; // past the largest loss: the curve ends on the bottom edge
        }
    }

    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, (y_min..1.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("annual loss")
        .y_desc("probability of exceeding")
        .x_label_formatter(&|x| short_amount(*x))
        .y_label_formatter(&|y| percent(*y))
        .draw()?;

    chart
        .draw_series(LineSeries::new(curve, BLUE.stroke_width(2)))?
        .label(format!(
            "exceedance ({} trials, seed {})",
            summary.trials, summary.seed
        ))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));

    let level = CONFIDENCE * 100.0;
    for (at, colour, label) in [
        (var, RED, format!("VaR {level}% = {}", short_amount(var))),
        (
            capital,
            RGBColor(0, 140, 0),
            format!("capital = {}", short_amount(capital)),
        ),
    ] {
        let style = colour.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new([(at, y_min), (at, 1.0)], 8, 5, style))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    }

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `1234567.0` → `1.23M`.
pub(crate) fn short_amount(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "B")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let digits = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.digits$}{suffix}")
}

/// `0.005` → `0.5%`, `0.0001` → `0.01%`.
fn percent(p: f64) -> String {
    let pct = p * 100.0;
    if pct >= 1.0 {
        format!("{pct:.0}%")
    } else {
        let digits = (-pct.log10()).ceil().max(0.0) as usize;
        format!("{pct:.digits$}%")
    }
}
