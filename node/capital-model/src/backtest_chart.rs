//! SVG chart of a [`Backtest`]: capital against requirement, and claims against premiums, by year.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

use crate::chart::short_amount;
use crate::Backtest;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 640;

/// Writes `backtest` as an SVG file at `path`: the top panel shows capital at each year end
/// (starting from the initial capital) against the requirement, the bottom one each year's
/// claims against its premiums.
pub fn write_backtest_svg(backtest: &Backtest, title: &str, path: &Path) -> anyhow::Result<()> {
    let years = &backtest.years;
    anyhow::ensure!(!years.is_empty(), "the backtest has no year to chart");
    let first = years[0].year;
    // Year ends: the start point sits at `first`, each row's capital at `year + 1`.
    let x_range = f64::from(first)..f64::from(years[years.len() - 1].year + 1);
    let mut capital = vec![(f64::from(first), backtest.capital_start)];
    capital.extend(
        years
            .iter()
            .map(|y| (f64::from(y.year) + y.fraction, y.capital_end)),
    );
    let (lo, hi) = capital
        .iter()
        .map(|&(_, c)| c)
        .chain([backtest.requirement, 0.0])
        .fold((f64::MAX, f64::MIN), |(lo, hi), c| (lo.min(c), hi.max(c)));
    let pad = (hi - lo).max(1.0) * 0.08;
    let flow_max = years
        .iter()
        .map(|y| y.claims.max(y.premiums))
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.1;

    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let (top, bottom) = root.split_vertically(HEIGHT / 2);
    let year_label = |x: &f64| format!("{}", x.round() as i64);

    let mut chart = ChartBuilder::on(&top)
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range.clone(), (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .x_labels(years.len() + 1)
        .x_label_formatter(&year_label)
        .y_desc("capital")
        .y_label_formatter(&|v| short_amount(*v))
        .draw()?;
    let blue = BLUE.stroke_width(2);
    chart
        .draw_series(LineSeries::new(capital.clone(), blue))?
        .label("capital at year end")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue));
    chart.draw_series(capital.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))?;
    let red = RED.stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(
            [
                (x_range.start, backtest.requirement),
                (x_range.end, backtest.requirement),
            ],
            8,
            5,
            red,
        ))?
        .label(format!(
            "requirement (VaR 99.5%) = {}",
            short_amount(backtest.requirement)
        ))
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], red));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;

    let mut flows = ChartBuilder::on(&bottom)
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, 0.0..flow_max)?;
    flows
        .configure_mesh()
        .x_labels(years.len() + 1)
        .x_label_formatter(&year_label)
        .y_desc("per year")
        .y_label_formatter(&|v| short_amount(*v))
        .draw()?;
    let green = RGBColor(0, 140, 0);
    for (offset, colour, label, value) in [
        (
            0.15,
            green,
            "premiums",
            &(|y: &crate::BacktestYear| y.premiums) as &dyn Fn(_) -> f64,
        ),
        (0.5, RED, "claims", &|y: &crate::BacktestYear| y.claims),
    ] {
        flows
            .draw_series(years.iter().map(|y| {
                let x = f64::from(y.year) + offset;
                Rectangle::new([(x, 0.0), (x + 0.33, value(y))], colour.filled())
            }))?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], colour.filled()));
    }
    flows
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{backtest, parse_incidents, BacktestProduct, Category};

    #[test]
    fn backtest_chart_is_written() {
        let history =
            parse_incidents("2024-04-01,x,lending,50000000\n2025-02-01,y,dex,1\n").unwrap();
        let book = [BacktestProduct {
            product: "lend".into(),
            scope: Some(Category::Lending),
            universe: 1.0,
            cover: 1_000.0,
            deductible: 0.0,
            rate: 0.05,
        }];
        let bt = backtest(
            &book,
            300.0,
            250.0,
            &history,
            &[(2024, 1.0), (2025, 0.5)],
            1e8,
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backtest.svg");
        write_backtest_svg(&bt, "Pool <demo>", &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("Pool &lt;demo&gt;"));
        assert!(svg.contains("requirement (VaR 99.5%) = 250"));
        assert!(svg.contains("claims") && svg.contains("premiums"));
        let empty = Backtest {
            years: vec![],
            ..bt
        };
        assert!(write_backtest_svg(&empty, "x", &path).is_err());
    }
}
