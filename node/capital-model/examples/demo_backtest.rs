//! The backtest of the localnet's demo book on `docs/incidents.csv`, without a node:
//!
//!     cargo run -p surety-capital-model --example demo_backtest -- [cutoff] [incidents.csv]
//!
//! The book mirrors `suretyd query pool capital-model --demo-book --backtest` (node/src/capital/
//! demo.rs): the four genesis products, 1M USDC of cover, 80% of it retained.

use surety_capital_model::{
    backtest_book, calibrate_categories, parse_incidents, price_lines, priced_book, simulate,
    Assumptions, Category, CategoryModel, Line, Pricing, Window,
};

const USDC: f64 = 1e6;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let cutoff: i32 = args.next().map_or(Ok(2023), |a| a.parse())?;
    let csv = match args.next() {
        Some(path) => std::fs::read_to_string(path)?,
        None => include_str!("../../../docs/incidents.csv").to_string(),
    };
    let incidents = parse_incidents(&csv)?;
    let a = Assumptions::default();
    // (name, protocol for the lookup, category by cover type if any, deductible, gross USDC)
    let demo = [
        (
            "Aave v3 protocol cover (1)",
            "aave-v3",
            None,
            0.05,
            400_000.0,
        ),
        (
            "USDC depeg cover (2)",
            "usdc",
            Some(Category::Stablecoin),
            0.0,
            300_000.0,
        ),
        (
            "Uniswap v3 ETH/USDC IL (3)",
            "uniswap-v3",
            Some(Category::Dex),
            0.0,
            100_000.0,
        ),
        (
            "Exchange custody cover (4)",
            "",
            Some(Category::Custody),
            0.10,
            200_000.0,
        ),
    ];
    let lines = |model: &CategoryModel| -> Vec<Line> {
        demo.iter()
            .map(|&(name, protocol, by_type, deductible, gross)| Line {
                product: name.to_string(),
                // Depeg and custody go by cover type; the others by protocol first.
                category: match by_type {
                    Some(c @ (Category::Stablecoin | Category::Custody)) => Some(c),
                    _ => model.category_of(protocol).or(by_type),
                },
                deductible,
                net_cover: gross * USDC * 0.8,
            })
            .collect()
    };
    let run = backtest_book(&incidents, lines, &a, cutoff, 100_000, 1)?;
    let window = Window::covering(&incidents, None, a.min_year_incidents)?;
    println!("== whole dataset");
    let full = calibrate_categories(&incidents, window, a.min_category_incidents)?;
    print_calibration(&full, &a);
    let book = lines(&full);
    let pricing = price_lines(&full, &book, &a);
    print_pricing(&demo.map(|d| d.0), &pricing);
    // The localnet's first pool holds 500 000 USDC.
    let s = simulate(&priced_book(500_000.0 * USDC, &book, &pricing), 100_000, 1).summary();
    println!(
        "capital 500000 USDC: expected loss {:.0}, VaR99.5 {:.0}, TVaR99.5 {:.0}, reserve ratio {:.2}",
        s.expected_loss / USDC,
        s.var_995 / USDC,
        s.tvar_995 / USDC,
        s.capital / s.expected_loss
    );
    println!("\n== backtest: calibrated before {cutoff}");
    print_calibration(&run.model, &a);
    print_pricing(&demo.map(|d| d.0), &run.pricing);
    println!("expected annual loss {:.0} USDC", run.expected_loss / USDC);
    for line in run.backtest.table(USDC, "USDC") {
        println!("{line}");
    }
    Ok(())
}

fn print_pricing(names: &[&str], pricing: &[Pricing]) {
    for (name, p) in names.iter().zip(pricing) {
        println!(
            "{name:<28} scope {:<10} freq {:.4} share {:.4} EL {:.1} bps -> recommended {} bps",
            p.scope.map_or("pooled".to_string(), |c| c.to_string()),
            p.frequency,
            p.mean_share,
            p.expected_loss_rate * 1e4,
            p.recommended_rate_bps
        );
    }
}

fn print_calibration(m: &CategoryModel, a: &Assumptions) {
    println!(
        "calibration window {}..={} ({:.2} years), tvl {:e} USD, DeFi tvl {:e} USD, loading {}",
        m.window.first_year,
        m.window.last_year,
        m.window.span_years(),
        a.tvl_usd,
        a.defi_tvl_usd,
        a.loading
    );
    println!("category    n  prot  per_year  universe  per_prot   mu    sigma  median_usd  mean_usd   share");
    let rows = m.categories.iter().map(|(c, s)| (c.to_string(), s));
    for (name, s) in rows.chain([("pooled".to_string(), &m.pooled)]) {
        println!(
            "{name:<10} {:>3} {:>5} {:>9.2} {:>9.1} {:>9.4} {:>6.2} {:>6.2} {:>11.0} {:>9.0} {:>7.4}",
            s.incidents,
            s.protocols,
            s.frequency,
            m.universe(s, a),
            s.frequency / m.universe(s, a),
            s.log_mean,
            s.log_sd,
            s.median_loss_usd(),
            s.mean_loss_usd,
            s.mean_share(a.tvl_usd)
        );
    }
}
