//! Off-chain capital model for a Surety insurance pool, behind
//! `suretyd q pool capital-model <pool>`.
//!
//! A Monte Carlo of one year of incidents over the pool's live book:
//!
//! * for every trial (one simulated year) and every product, in the order the
//!   products are given, the incident count is drawn from
//!   `Poisson(annual_frequency)`;
//! * each incident loses `net_exposure × severity`, where the severity fraction
//!   follows `Beta(1, b)` on `(0, 1]` with `b = 1 / mean_severity − 1`, so its
//!   mean is exactly `mean_severity` (see [`Exposure::mean_severity`]);
//! * the losses of a year are summed; the sorted annual losses give VaR, TVaR,
//!   the probability of ruin and the loss-exceedance curve.
//!
//! Results are reproducible: one [`rand_chacha::ChaCha8Rng`] seeded with
//! `seed_from_u64(seed)` drives every draw, trials run in order, and products
//! with zero frequency (or severity 1) consume no random numbers. The same
//! book, trial count and seed give bit-identical results on every platform
//! with the same version of this crate.
//!
//! Frequency and severity come from an incident history: per protocol
//! ([`calibrate_from_csv`]) or per [`Category`] ([`calibrate_categories`],
//! which also recommends premium rates, see [`Assumptions`]). [`backtest_book`]
//! prices and capitalises a book on the incidents before a cut-off year and
//! replays the later ones against it.
//!
//! Being off-chain, the model uses `f64` throughout; nothing here feeds
//! consensus.
//!
//! ```
//! use surety_capital_model::{simulate, Book, Exposure};
//!
//! let book = Book {
//!     capital: 1_000_000.0,
//!     exposures: vec![Exposure {
//!         product: "aave-v3-cover".into(),
//!         net_exposure: 2_000_000.0,
//!         annual_frequency: 0.5,
//!         mean_severity: 0.3,
//!     }],
//! };
//! let summary = simulate(&book, 10_000, 42).summary();
//! assert!(summary.var_995 <= summary.tvar_995);
//! assert_eq!(summary, simulate(&book, 10_000, 42).summary());
//! ```

mod backtest;
mod backtest_chart;
mod calibrate;
mod categories;
mod chart;
mod incidents;
mod priced_backtest;
mod sample;
#[cfg(test)]
mod tests;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use backtest::{backtest, replay_years, Backtest, BacktestProduct, BacktestYear};
pub use backtest_chart::write_backtest_svg;
pub use calibrate::{
    calibrate_from_csv, calibrate_from_csv_with_span, Calibration, CalibrationError, ProductLink,
    ProtocolStats,
};
pub use categories::{
    calibrate_categories, protocol_key, Assumptions, CategoryModel, CategoryStats, Pricing, Window,
};
pub use chart::write_exceedance_svg;
pub use incidents::{days_in_year, parse_incidents, Category, Incident};
pub use priced_backtest::{backtest_book, price_lines, priced_book, Line, PricedBacktest};

/// Highest accepted `annual_frequency`: the cost of a trial grows with the
/// number of incidents, and no real product approaches this.
pub const MAX_ANNUAL_FREQUENCY: f64 = 10_000.0;

/// Confidence level of the headline VaR / TVaR figures (Solvency II style).
pub const CONFIDENCE: f64 = 0.995;

/// One product of the pool's book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exposure {
    /// Product identifier (as used on chain).
    pub product: String,
    /// Cover the pool would pay for a total loss of this product, net of
    /// reinsurance, in base units. Finite and `>= 0`.
    pub net_exposure: f64,
    /// Expected incidents per year. Finite, `>= 0` and at most
    /// [`MAX_ANNUAL_FREQUENCY`].
    pub annual_frequency: f64,
    /// Mean fraction of the exposure lost per incident, in `(0, 1]`.
    /// Severities are drawn from `Beta(1, 1/mean − 1)`; a mean of exactly 1
    /// is the degenerate "every incident is a total loss" case.
    pub mean_severity: f64,
}

/// A pool's capital and its live book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Book {
    /// Capital available to pay claims, in the same base units as the
    /// exposures. Finite and `>= 0`.
    pub capital: f64,
    /// Products, simulated in this order.
    pub exposures: Vec<Exposure>,
}

/// Headline figures of a [`Simulation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of simulated years.
    pub trials: u32,
    /// Seed the run was drawn from.
    pub seed: u64,
    /// Capital the ruin probability is measured against.
    pub capital: f64,
    /// Mean annual loss.
    pub expected_loss: f64,
    /// 99.5th percentile of the annual loss (see [`Simulation::var`]).
    pub var_995: f64,
    /// Mean of the annual losses at or above `var_995`.
    pub tvar_995: f64,
    /// Share of years whose loss exceeds capital.
    pub prob_ruin: f64,
    /// Largest simulated annual loss.
    pub max_loss: f64,
}

/// Why a [`Book`] cannot be simulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BookError {
    /// `trials` was zero.
    #[error("at least one trial is needed")]
    NoTrials,
    /// Capital is negative or not finite.
    #[error("capital must be finite and >= 0, got {0}")]
    InvalidCapital(f64),
    /// A field of one exposure is out of range.
    #[error("product {product:?}: {field} must be {expected}, got {value}")]
    InvalidExposure {
        /// Product identifier.
        product: String,
        /// Offending field.
        field: &'static str,
        /// Accepted range.
        expected: &'static str,
        /// Value found.
        value: f64,
    },
}

impl Book {
    /// Checks every field the simulation relies on.
    pub fn validate(&self) -> Result<(), BookError> {
        if !(self.capital.is_finite() && self.capital >= 0.0) {
            return Err(BookError::InvalidCapital(self.capital));
        }
        for e in &self.exposures {
            let bad = |field, expected, value| BookError::InvalidExposure {
                product: e.product.clone(),
                field,
                expected,
                value,
            };
            if !(e.net_exposure.is_finite() && e.net_exposure >= 0.0) {
                return Err(bad("net_exposure", "finite and >= 0", e.net_exposure));
            }
            if !(0.0..=MAX_ANNUAL_FREQUENCY).contains(&e.annual_frequency) {
                return Err(bad("annual_frequency", "in [0, 10000]", e.annual_frequency));
            }
            if !(e.mean_severity > 0.0 && e.mean_severity <= 1.0) {
                return Err(bad("mean_severity", "in (0, 1]", e.mean_severity));
            }
        }
        Ok(())
    }
}

/// The simulated annual losses of one run, sorted ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    trials: u32,
    seed: u64,
    capital: f64,
    losses: Vec<f64>,
}

/// Runs `trials` simulated years over `book`, seeded with `seed`.
///
/// # Panics
/// If the book is invalid or `trials` is zero; use [`try_simulate`] to get
/// the reason as an error instead.
pub fn simulate(book: &Book, trials: u32, seed: u64) -> Simulation {
    match try_simulate(book, trials, seed) {
        Ok(sim) => sim,
        Err(e) => panic!("cannot simulate book: {e}"),
    }
}

/// Like [`simulate`], but returns an error for an invalid book or zero trials.
pub fn try_simulate(book: &Book, trials: u32, seed: u64) -> Result<Simulation, BookError> {
    if trials == 0 {
        return Err(BookError::NoTrials);
    }
    book.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut losses = Vec::with_capacity(trials as usize);
    for _ in 0..trials {
        let mut year = 0.0;
        for e in &book.exposures {
            let incidents = sample::poisson(&mut rng, e.annual_frequency);
            for _ in 0..incidents {
                year += e.net_exposure * sample::severity(&mut rng, e.mean_severity);
            }
        }
        losses.push(year);
    }
    Ok(Simulation::from_losses(losses, book.capital, seed))
}

impl Simulation {
    /// Builds a simulation from raw annual losses (any order).
    pub(crate) fn from_losses(mut losses: Vec<f64>, capital: f64, seed: u64) -> Self {
        assert!(!losses.is_empty(), "a simulation has at least one trial");
        losses.sort_by(f64::total_cmp);
        Simulation {
            trials: u32::try_from(losses.len()).expect("trial count fits u32"),
            seed,
            capital,
            losses,
        }
    }

    /// Annual losses of every trial, sorted ascending.
    pub fn losses(&self) -> &[f64] {
        &self.losses
    }

    /// Capital of the simulated book.
    pub fn capital(&self) -> f64 {
        self.capital
    }

    /// Value at risk at `level` (e.g. 0.995): the smallest simulated loss `x`
    /// with at least `level` of the years at or below `x`, i.e. the
    /// `ceil(level · trials)`-th smallest annual loss.
    pub fn var(&self, level: f64) -> f64 {
        self.losses[self.var_index(level)]
    }

    /// Tail value at risk at `level`: the mean of the annual losses at or
    /// above [`Simulation::var`] (ties with VaR included).
    pub fn tvar(&self, level: f64) -> f64 {
        let var = self.var(level);
        let first = self.losses.partition_point(|&l| l < var);
        let tail = &self.losses[first..];
        tail.iter().sum::<f64>() / tail.len() as f64
    }

    fn var_index(&self, level: f64) -> usize {
        let n = self.losses.len();
        // The epsilon keeps e.g. 0.995 × 20_000 = 19_900.000000000004 at rank 19_900.
        let rank = (level.clamp(0.0, 1.0) * n as f64 - 1e-9).ceil();
        (rank.max(1.0) as usize).min(n) - 1
    }

    /// Headline figures: expected loss, VaR / TVaR at 99.5%, ruin probability
    /// against the book's capital, and the largest loss.
    pub fn summary(&self) -> Summary {
        let n = self.losses.len();
        let ruined = n - self.losses.partition_point(|&l| l <= self.capital);
        Summary {
            trials: self.trials,
            seed: self.seed,
            capital: self.capital,
            expected_loss: self.losses.iter().sum::<f64>() / n as f64,
            var_995: self.var(CONFIDENCE),
            tvar_995: self.tvar(CONFIDENCE),
            prob_ruin: ruined as f64 / n as f64,
            max_loss: self.losses[n - 1],
        }
    }

    /// Share of simulated years whose loss is strictly greater than `loss`.
    pub fn exceedance_probability(&self, loss: f64) -> f64 {
        let n = self.losses.len();
        (n - self.losses.partition_point(|&l| l <= loss)) as f64 / n as f64
    }

    /// Empirical loss-exceedance curve: one `(loss, P(annual loss > loss))`
    /// point per distinct simulated loss, losses strictly increasing and
    /// probabilities non-increasing; the last point (the maximum) has
    /// probability 0.
    pub fn exceedance_curve(&self) -> Vec<(f64, f64)> {
        let n = self.losses.len();
        let mut curve: Vec<(f64, f64)> = Vec::new();
        for (i, &loss) in self.losses.iter().enumerate() {
            let p = (n - i - 1) as f64 / n as f64;
            match curve.last_mut() {
                Some(last) if last.0 == loss => last.1 = p,
                _ => curve.push((loss, p)),
            }
        }
        curve
    }
}
