//! Frequency and severity per incident [`Category`], and the premium rate they imply.
//!
//! * **Window.** Frequencies are incidents per year over the calendar years the history covers,
//!   starting at the first year with at least [`Assumptions::min_year_incidents`] incidents:
//!   before that, sources such as DeFiHackLabs list only landmark incidents, and counting those
//!   sparse years would dilute the rate. The window ends with the year before a cut-off (a full
//!   year), or else at the last incident, the last year counting for the share of it elapsed.
//! * **Frequency per protocol.** A category's incidents a year spread over its *universe*: the
//!   number of protocols of the reference size [`Assumptions::tvl_usd`] that the category's share
//!   of DeFi's value [`Assumptions::defi_tvl_usd`] makes, the share being the category's share of
//!   the distinct protocols hit in the window (never fewer than those). So the expected loss rate
//!   is about the category's yearly losses over the value it holds, the usual "hacked share of
//!   TVL" measure, while a single incident still takes at most the whole position.
//! * **Severity.** Losses in USD are fitted by a lognormal (maximum likelihood: mean and standard
//!   deviation of `ln loss`). A covered position loses `min(1, L / T)` of its value, `T` being the
//!   value held in the protocol ([`Assumptions::tvl_usd`]); [`CategoryStats::mean_share`] is its
//!   expectation under the fit, in closed form.
//! * **Thin categories** (fewer than [`Assumptions::min_category_incidents`] incidents) use the
//!   pooled statistics of every incident in the window.
//! * **Rate.** Expected annual loss rate of a unit of cover = frequency per protocol × mean share
//!   × (1 − deductible); the recommended rate adds [`Assumptions::loading`] on top of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::incidents::{Category, Incident};
use crate::CalibrationError;

/// The documented knobs of the calibration and pricing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumptions {
    /// Value held in a covered protocol, USD: an incident losing `L` takes `min(1, L / tvl_usd)`
    /// of a covered position.
    pub tvl_usd: f64,
    /// Value held in DeFi as a whole, USD: with `tvl_usd` it sizes each category's universe.
    pub defi_tvl_usd: f64,
    /// Margin over the expected loss: recommended rate = expected loss rate × (1 + loading).
    pub loading: f64,
    /// A year counts as covered by the history from this many incidents on.
    pub min_year_incidents: u32,
    /// Categories with fewer incidents in the window use the pooled statistics.
    pub min_category_incidents: u32,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            // Order of magnitude of a mid-sized DeFi protocol; most protocols in incident lists
            // are far smaller, the blue chips far larger.
            tvl_usd: 1e8,
            // The order of magnitude of DeFi's total value locked since 2021 ($50–200B).
            defi_tvl_usd: 1e11,
            // A fixed 30% loading, the usual order of expense + profit + uncertainty margins.
            loading: 0.3,
            // Two a month.
            min_year_incidents: 24,
            min_category_incidents: 5,
        }
    }
}

/// The calendar years a calibration uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// First year counted, in full.
    pub first_year: i32,
    /// Last year counted.
    pub last_year: i32,
    /// Share of `last_year` counted, in `(0, 1]`.
    pub last_year_fraction: f64,
}

impl Window {
    /// Length in years.
    pub fn span_years(&self) -> f64 {
        f64::from(self.last_year - self.first_year) + self.last_year_fraction
    }

    /// Whether `incident` falls in the window.
    pub fn contains(&self, incident: &Incident) -> bool {
        (self.first_year..=self.last_year).contains(&incident.year)
    }

    /// The window the incidents dated before `before` (a year; all of them if `None`) cover:
    /// see the module documentation.
    pub fn covering(
        incidents: &[Incident],
        before: Option<i32>,
        min_year_incidents: u32,
    ) -> Result<Window, CalibrationError> {
        let used = |i: &&Incident| before.is_none_or(|b| i.year < b);
        let last = incidents
            .iter()
            .filter(used)
            .max_by_key(|i| (i.year, i.day))
            .ok_or(CalibrationError::NoIncidents)?;
        let later_data = before.is_some_and(|b| incidents.iter().any(|i| i.year >= b));
        let (last_year, last_year_fraction) = match before {
            // The history goes on past the cut-off: the year before it is complete.
            Some(b) if later_data => (b - 1, 1.0),
            _ => (last.year, last.year_fraction()),
        };
        let mut per_year: BTreeMap<i32, u32> = BTreeMap::new();
        for i in incidents.iter().filter(used) {
            *per_year.entry(i.year).or_default() += 1;
        }
        let first_year = per_year
            .iter()
            .find(|(_, &n)| n >= min_year_incidents)
            .map(|(&y, _)| y)
            .ok_or(CalibrationError::NoCoveredYear(min_year_incidents))?;
        Ok(Window {
            first_year,
            last_year,
            last_year_fraction,
        })
    }
}

/// Incident statistics of one category (or of all of them, pooled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryStats {
    /// Incidents in the window.
    pub incidents: u32,
    /// Distinct protocols they hit.
    pub protocols: u32,
    /// Incidents a year in the whole category.
    pub frequency: f64,
    /// Mean of `ln(loss in USD)`.
    pub log_mean: f64,
    /// Standard deviation of `ln(loss in USD)` (the pooled one below two incidents).
    pub log_sd: f64,
    /// Mean observed loss, USD.
    pub mean_loss_usd: f64,
}

impl CategoryStats {
    fn fit(incidents: &[&Incident], span_years: f64, fallback_sd: f64) -> CategoryStats {
        let n = incidents.len() as f64;
        let logs: Vec<f64> = incidents.iter().map(|i| i.loss_usd.ln()).collect();
        let log_mean = logs.iter().sum::<f64>() / n;
        let log_sd = if incidents.len() >= 2 {
            (logs.iter().map(|l| (l - log_mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            fallback_sd
        };
        let mut names: Vec<&str> = incidents.iter().map(|i| i.protocol.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let frequency = n / span_years;
        CategoryStats {
            incidents: incidents.len() as u32,
            protocols: names.len() as u32,
            frequency,
            log_mean,
            log_sd,
            mean_loss_usd: incidents.iter().map(|i| i.loss_usd).sum::<f64>() / n,
        }
    }

    /// Median loss of the lognormal fit, USD.
    pub fn median_loss_usd(&self) -> f64 {
        self.log_mean.exp()
    }

    /// `E[min(1, L / tvl_usd)]` for `L` lognormal: the mean share of a covered position lost
    /// in one incident, `E[L; L < T] / T + P(L ≥ T)`.
    pub fn mean_share(&self, tvl_usd: f64) -> f64 {
        let (mu, sigma) = (self.log_mean, self.log_sd);
        let ln_t = tvl_usd.ln();
        if sigma <= 0.0 {
            return (mu.exp() / tvl_usd).min(1.0);
        }
        let below = (mu + sigma * sigma / 2.0).exp() / tvl_usd
            * normal_cdf((ln_t - mu - sigma * sigma) / sigma);
        let above = 1.0 - normal_cdf((ln_t - mu) / sigma);
        (below + above).clamp(0.0, 1.0)
    }
}

/// Per-category statistics over a [`Window`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryModel {
    pub window: Window,
    /// Categories with at least one incident in the window.
    pub categories: BTreeMap<Category, CategoryStats>,
    /// Every incident in the window.
    pub pooled: CategoryStats,
    /// Threshold under which a category uses `pooled`.
    pub min_category_incidents: u32,
    /// Category of every protocol seen up to the window's end, keyed by [`protocol_key`].
    pub protocols: BTreeMap<String, Category>,
}

/// How one product is priced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    /// Incidents replayed against the product: one category, or all (`None`) when pooled.
    pub scope: Option<Category>,
    /// Incidents a year hitting the product's protocol.
    pub frequency: f64,
    /// Protocols of the reference size sharing those incidents (the category's universe).
    pub universe: f64,
    /// Mean share of the cover paid per incident, deductible included.
    pub mean_share: f64,
    /// Expected claims a year per unit of cover.
    pub expected_loss_rate: f64,
    /// `expected_loss_rate × (1 + loading)`, rounded up to a basis point.
    pub recommended_rate_bps: u32,
}

/// Fits every category over `window`; categories come from the incidents' category column
/// (incidents without one only count in the pooled figures).
pub fn calibrate_categories(
    incidents: &[Incident],
    window: Window,
    min_category_incidents: u32,
) -> Result<CategoryModel, CalibrationError> {
    let span = window.span_years();
    let inside: Vec<&Incident> = incidents.iter().filter(|i| window.contains(i)).collect();
    if inside.is_empty() {
        return Err(CalibrationError::NoIncidents);
    }
    let pooled = CategoryStats::fit(&inside, span, 0.0);
    let categories = Category::ALL
        .into_iter()
        .filter_map(|c| {
            let of: Vec<&Incident> = inside
                .iter()
                .copied()
                .filter(|i| i.category == Some(c))
                .collect();
            (!of.is_empty()).then(|| (c, CategoryStats::fit(&of, span, pooled.log_sd)))
        })
        .collect();
    let protocols = incidents
        .iter()
        .filter(|i| i.year <= window.last_year)
        .filter_map(|i| Some((protocol_key(&i.protocol), i.category?)))
        .collect();
    Ok(CategoryModel {
        window,
        categories,
        pooled,
        min_category_incidents,
        protocols,
    })
}

impl CategoryModel {
    /// The statistics a product of `category` is priced with, and the scope of incidents they
    /// describe: the category's own, or the pooled ones (scope `None`) when it is too thin.
    pub fn stats(&self, category: Option<Category>) -> (Option<Category>, &CategoryStats) {
        match category.and_then(|c| Some((c, self.categories.get(&c)?))) {
            Some((c, s)) if s.incidents >= self.min_category_incidents => (Some(c), s),
            _ => (None, &self.pooled),
        }
    }

    /// Category of `protocol` in the history: an exact match of [`protocol_key`], else the
    /// protocol's family (its key without a trailing version, `aave-v3` → `aave`) as a prefix,
    /// the most frequent category winning (ties to the first in [`Category::ALL`]).
    pub fn category_of(&self, protocol: &str) -> Option<Category> {
        let key = protocol_key(protocol);
        if key.is_empty() {
            return None;
        }
        if let Some(&c) = self.protocols.get(&key) {
            return Some(c);
        }
        let family = strip_version(&key);
        if family.len() < 3 {
            return None;
        }
        let counts: BTreeMap<Category, u32> = self
            .protocols
            .range(family.to_string()..)
            .take_while(|(k, _)| k.starts_with(family))
            .fold(BTreeMap::new(), |mut acc, (_, &c)| {
                *acc.entry(c).or_default() += 1;
                acc
            });
        let best = counts.values().copied().max()?;
        counts.into_iter().find(|&(_, n)| n == best).map(|(c, _)| c)
    }

    /// Protocols of size `tvl_usd` in the universe of `s`: see the module documentation.
    pub fn universe(&self, s: &CategoryStats, a: &Assumptions) -> f64 {
        let share = f64::from(s.protocols) / f64::from(self.pooled.protocols);
        (a.defi_tvl_usd / a.tvl_usd * share).max(f64::from(s.protocols))
    }

    /// Prices cover on a product of `category` with `deductible` (a share of the loss).
    pub fn price(&self, category: Option<Category>, deductible: f64, a: &Assumptions) -> Pricing {
        let (scope, s) = self.stats(category);
        let universe = self.universe(s, a);
        let frequency = s.frequency / universe;
        let mean_share = s.mean_share(a.tvl_usd) * (1.0 - deductible.clamp(0.0, 1.0));
        let expected_loss_rate = frequency * mean_share;
        Pricing {
            scope,
            frequency,
            universe,
            mean_share,
            expected_loss_rate,
            recommended_rate_bps: rate_bps(expected_loss_rate * (1.0 + a.loading)),
        }
    }
}

/// A rate as a share → basis points, rounded up (a hair of float noise is not a basis point).
fn rate_bps(rate: f64) -> u32 {
    let bps = (rate * 10_000.0 - 1e-9).ceil();
    bps.clamp(0.0, f64::from(u32::MAX)) as u32
}

/// `Aave V3` → `aavev3`: lower-case letters and digits only.
pub fn protocol_key(protocol: &str) -> String {
    protocol
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `aavev3` → `aave`, `uniswapv2` → `uniswap`, `curve` → `curve`.
fn strip_version(key: &str) -> &str {
    let digits = key.trim_end_matches(|c: char| c.is_ascii_digit());
    match digits.strip_suffix('v') {
        Some(family) if digits.len() < key.len() => family,
        _ => key,
    }
}

/// Standard normal CDF via `erfc` (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7:
/// ample for a premium rate).
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_incidents;

    const HISTORY: &str = "\
date,protocol,category,loss_usd
2019-05-01,early,lending,1000000000
2021-01-10,aave-fork,lending,1000000
2021-06-10,b,lending,100000000
2021-07-01,c,dex,5000000
2022-03-01,aave-fork,lending,10000000
2022-09-01,uniswap-v2,dex,2000000
2023-02-01,d,bridge,300000000
";

    fn model(before: Option<i32>) -> CategoryModel {
        let incidents = parse_incidents(HISTORY).unwrap();
        let window = Window::covering(&incidents, before, 2).unwrap();
        calibrate_categories(&incidents, window, 2).unwrap()
    }

    #[test]
    fn window_skips_sparse_years_and_stops_at_the_cutoff() {
        let m = model(Some(2023));
        // 2019 has a single incident: the window starts in 2021 and 2022 is complete.
        assert_eq!((m.window.first_year, m.window.last_year), (2021, 2022));
        assert_eq!(m.window.span_years(), 2.0);
        let lending = &m.categories[&Category::Lending];
        assert_eq!((lending.incidents, lending.protocols), (3, 2));
        assert_eq!(lending.frequency, 1.5);
        let logs = [1e6f64.ln(), 1e8f64.ln(), 1e7f64.ln()];
        assert!((lending.log_mean - 1e7f64.ln()).abs() < 1e-12);
        let sd = (logs
            .iter()
            .map(|l| (l - lending.log_mean).powi(2))
            .sum::<f64>()
            / 2.0)
            .sqrt();
        assert!((lending.log_sd - sd).abs() < 1e-12);
        assert!(
            !m.categories.contains_key(&Category::Bridge),
            "2023 is after the cut-off"
        );

        // Without a cut-off the last year counts for the share elapsed at its last incident.
        let all = model(None);
        assert_eq!(all.window.last_year, 2023);
        assert!((all.window.span_years() - (2.0 + 32.0 / 365.0)).abs() < 1e-12);
    }

    #[test]
    fn mean_share_matches_its_closed_form_limits() {
        let s = CategoryStats {
            incidents: 2,
            protocols: 2,
            frequency: 1.0,
            log_mean: 1e6f64.ln(),
            log_sd: 1.0,
            mean_loss_usd: 0.0,
        };
        // A TVL far above every loss: the lognormal mean over the TVL.
        let mean = (1e6f64.ln() + 0.5).exp();
        assert!((s.mean_share(1e12) / (mean / 1e12) - 1.0).abs() < 1e-6);
        // A TVL far below every loss: every incident is a total loss.
        assert!((s.mean_share(1.0) - 1.0).abs() < 1e-6);
        // At the median, P(L ≥ T) = 1/2 plus the part below.
        let at_median = s.mean_share(1e6);
        assert!(at_median > 0.5 && at_median < 1.0, "{at_median}");
        assert!((normal_cdf(1.959_963_985) - 0.975).abs() < 1e-7);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
    }

    #[test]
    fn products_price_by_category_with_a_pooled_fallback() {
        let m = model(Some(2023));
        // DeFi holds 40 protocols' worth: the 4 protocols hit make 10 each.
        let a = Assumptions {
            tvl_usd: 1e8,
            defi_tvl_usd: 4e9,
            loading: 0.3,
            ..Assumptions::default()
        };
        assert_eq!(m.category_of("Aave-Fork"), Some(Category::Lending));
        assert_eq!(
            m.category_of("uniswap-v3"),
            Some(Category::Dex),
            "family match"
        );
        assert_eq!(m.category_of("nowhere"), None);
        let lending = m.price(Some(Category::Lending), 0.1, &a);
        let s = &m.categories[&Category::Lending];
        assert_eq!(lending.scope, Some(Category::Lending));
        // Lending: 2 of the 4 protocols hit, so half of the 40.
        assert_eq!(lending.universe, 20.0);
        assert_eq!(lending.frequency, 1.5 / 20.0);
        let expected = 1.5 / 20.0 * s.mean_share(1e8) * 0.9;
        assert!((lending.expected_loss_rate - expected).abs() < 1e-15);
        assert_eq!(
            lending.recommended_rate_bps,
            (expected * 1.3 * 10_000.0).ceil() as u32
        );
        // Bridge has no incident before 2023, custody none at all: both use the pooled figures.
        for thin in [Some(Category::Bridge), Some(Category::Custody), None] {
            let p = m.price(thin, 0.0, &a);
            assert_eq!(p.scope, None);
            assert_eq!(p.frequency, m.pooled.frequency / 40.0);
        }
        assert!(m.price(None, 1.0, &a).recommended_rate_bps == 0);
        // The universe never drops below the protocols actually hit.
        let tiny = Assumptions {
            defi_tvl_usd: 1e8,
            ..a
        };
        assert_eq!(m.price(Some(Category::Lending), 0.0, &tiny).universe, 2.0);
    }
}
