//! Replaying a later stretch of the incident history against a book priced and capitalised
//! on the earlier stretch.
//!
//! Each product stands for "a protocol of its category": an incident of the product's scope
//! (its category, or any incident when it was priced on the pooled statistics) pays
//! `cover × (1 − deductible) × min(1, loss / tvl) / universe`, the expected claim given that the
//! incident hit one of the `universe` protocols the frequency was spread over. This is the
//! pricing's own model with the observed incidents in place of the fitted ones, so a year's
//! claims match its premiums exactly when the history repeats itself.
//!
//! Premiums come in when the year's cover is sold, at its start (a buyer pays on purchase; pro
//! rata for a partial last year); claims are paid as incidents happen; capital carries over from
//! year to year with no top-up. Capital thus only falls during a year, so its low point is the
//! year end. The requirement is fixed (the book's VaR 99.5% under the calibration): a year
//! *breaks* it when capital ends below it.

use serde::{Deserialize, Serialize};

use crate::incidents::{Category, Incident};

/// One product of the replayed book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestProduct {
    pub product: String,
    /// Incidents that hit it: one category, or all (`None`).
    pub scope: Option<Category>,
    /// Protocols its scope's incidents are spread over (at least 1).
    pub universe: f64,
    /// Cover the pool retains, in base units.
    pub cover: f64,
    /// Share of each loss the insured bears.
    pub deductible: f64,
    /// Annual premium rate charged (a share of `cover`).
    pub rate: f64,
}

impl BacktestProduct {
    /// What the pool pays this product for `incident`.
    pub fn claim(&self, incident: &Incident, tvl_usd: f64) -> f64 {
        if self.scope.is_some_and(|c| incident.category != Some(c)) {
            return 0.0;
        }
        let share = (incident.loss_usd / tvl_usd).min(1.0);
        self.cover * (1.0 - self.deductible) * share / self.universe.max(1.0)
    }
}

/// One replayed year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestYear {
    pub year: i32,
    /// Share of the year replayed (1 but for a partial last year).
    pub fraction: f64,
    /// Incidents of the history in the year (all categories).
    pub incidents: u32,
    pub premiums: f64,
    pub claims: f64,
    pub capital_end: f64,
    /// `requirement − capital` at year end (the year's low point), 0 if capital stayed above.
    pub worst_shortfall: f64,
    /// Whether capital fell below the requirement.
    pub broke: bool,
}

/// A whole backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    pub capital_start: f64,
    pub requirement: f64,
    pub years: Vec<BacktestYear>,
    pub premiums: f64,
    pub claims: f64,
    pub capital_end: f64,
    pub worst_shortfall: f64,
    pub years_broken: u32,
}

/// The years to replay from `from` on: every year up to the history's last incident, the last
/// one for the share of it elapsed at that incident.
pub fn replay_years(incidents: &[Incident], from: i32) -> Vec<(i32, f64)> {
    let Some(last) = incidents.iter().max_by_key(|i| (i.year, i.day)) else {
        return Vec::new();
    };
    (from..=last.year)
        .map(|y| {
            (
                y,
                if y == last.year {
                    last.year_fraction()
                } else {
                    1.0
                },
            )
        })
        .collect()
}

/// Replays `incidents` dated in `years` (each with the share of it replayed) against
/// `products`, starting from `capital`; see the module documentation.
pub fn backtest(
    products: &[BacktestProduct],
    capital: f64,
    requirement: f64,
    incidents: &[Incident],
    years: &[(i32, f64)],
    tvl_usd: f64,
) -> Backtest {
    let annual_premium: f64 = products.iter().map(|p| p.cover * p.rate).sum();
    let mut rows = Vec::with_capacity(years.len());
    let mut capital_now = capital;
    for &(year, fraction) in years {
        let of_year: Vec<&Incident> = incidents.iter().filter(|i| i.year == year).collect();
        let claims: f64 = of_year
            .iter()
            .map(|i| products.iter().map(|p| p.claim(i, tvl_usd)).sum::<f64>())
            .sum();
        let premiums = annual_premium * fraction;
        capital_now += premiums - claims;
        let worst_shortfall = (requirement - capital_now).max(0.0);
        rows.push(BacktestYear {
            year,
            fraction,
            incidents: of_year.len() as u32,
            premiums,
            claims,
            capital_end: capital_now,
            worst_shortfall,
            broke: worst_shortfall > 0.0,
        });
    }
    Backtest {
        capital_start: capital,
        requirement,
        premiums: rows.iter().map(|r| r.premiums).sum(),
        claims: rows.iter().map(|r| r.claims).sum(),
        capital_end: capital_now,
        worst_shortfall: rows.iter().map(|r| r.worst_shortfall).fold(0.0, f64::max),
        years_broken: rows.iter().filter(|r| r.broke).count() as u32,
        years: rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_incidents;

    fn lending_book(rate: f64) -> Vec<BacktestProduct> {
        vec![BacktestProduct {
            product: "lend".into(),
            scope: Some(Category::Lending),
            universe: 1.0,
            cover: 1_000.0,
            deductible: 0.1,
            rate,
        }]
    }

    #[test]
    fn a_known_loss_breaks_the_pool_in_its_year() {
        // 2024: a loss of half the TVL in lending (and a dex one the product ignores); 2025
        // quiet; the history ends on 2026-07-02, halfway through that year.
        let history = parse_incidents(
            "2024-04-01,x,lending,50000000\n2024-05-01,y,dex,90000000\n\
             2026-07-02,z,dex,1\n",
        )
        .unwrap();
        let years = replay_years(&history, 2024);
        assert_eq!(years, vec![(2024, 1.0), (2025, 1.0), (2026, 183.0 / 365.0)]);
        let bt = backtest(&lending_book(0.02), 300.0, 250.0, &history, &years, 1e8);
        let [y24, y25, y26] = &bt.years[..] else {
            panic!("three years")
        };
        // 1000 × 0.9 × 0.5 = 450 of claims against 20 of premium.
        assert_eq!((y24.incidents, y24.claims, y24.premiums), (2, 450.0, 20.0));
        assert_eq!(y24.capital_end, -130.0);
        assert_eq!(y24.worst_shortfall, 380.0);
        assert!(y24.broke);
        assert_eq!((y25.claims, y25.capital_end), (0.0, -110.0));
        assert!(y25.broke, "still below the requirement");
        assert!((y26.premiums - 20.0 * 183.0 / 365.0).abs() < 1e-12);
        assert_eq!(bt.years_broken, 3);
        assert_eq!(bt.claims, 450.0);
        assert_eq!(bt.worst_shortfall, 380.0);

        // The same book in a quiet history never breaks: the claims above are the replay's.
        let quiet = parse_incidents("2024-05-01,y,dex,90000000\n2026-07-02,z,dex,1\n").unwrap();
        let bt = backtest(&lending_book(0.02), 300.0, 250.0, &quiet, &years, 1e8);
        assert_eq!(bt.claims, 0.0);
        assert_eq!(bt.years_broken, 0);
        assert!(bt.capital_end > 300.0);
    }

    #[test]
    fn claims_spread_over_the_universe_and_pooled_products_take_every_incident() {
        let history = parse_incidents("2024-01-01,x,bridge,400000000\n").unwrap();
        let mut p = lending_book(0.0).remove(0);
        p.scope = None;
        p.universe = 4.0;
        // min(1, 4e8 / 1e8) = a total loss, over 4 protocols, less the 10% deductible.
        assert_eq!(p.claim(&history[0], 1e8), 1_000.0 * 0.9 / 4.0);
        p.scope = Some(Category::Lending);
        assert_eq!(p.claim(&history[0], 1e8), 0.0);
    }
}
