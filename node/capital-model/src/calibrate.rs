//! Turning an incident history (CSV) into per-protocol frequency and
//! severity for the book's products.
//!
//! Choices, kept deliberately simple:
//!
//! * **Span.** Frequencies are incidents per year over an observation window.
//!   By default the window is the whole calendar years the CSV touches (1 Jan
//!   of the first incident's year to 31 Dec of the last one's), so four
//!   incidents dated anywhere in 2022–2023 give 2 per year. Using the first
//!   and last incident dates instead would make a single incident look like a
//!   yearly event. [`calibrate_from_csv_with_span`] takes an explicit window.
//! * **Protocols** are matched case-insensitively (names are trimmed and
//!   lower-cased).
//! * **Default** for protocols without history: the average per-protocol
//!   frequency of the protocols in the CSV and the pooled mean loss. Protocols
//!   with no incident never appear in an incident list, so this leans
//!   conservative.
//! * **Severity.** The CSV gives losses in USD; a product's mean severity
//!   fraction is its protocol's mean loss divided by the value at risk in that
//!   protocol ([`ProductLink::total_value_usd`], e.g. its TVL), capped at 1.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::incidents::{parse_incidents, Incident};
use crate::Book;

/// Incident statistics of one protocol (or the pooled default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtocolStats {
    /// Incidents behind the estimate (for the default: all incidents).
    pub incidents: u32,
    /// Expected incidents per year.
    pub frequency: f64,
    /// Mean loss per incident, in USD.
    pub mean_severity_usd: f64,
}

/// Frequency and severity per protocol, estimated from an incident history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Length of the observation window, in years.
    pub span_years: f64,
    /// Statistics per protocol, keyed by trimmed lower-case name.
    pub protocols: BTreeMap<String, ProtocolStats>,
    /// Used for protocols that have no history.
    pub default: ProtocolStats,
}

/// How a product of the book maps onto the incident history.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductLink {
    /// Protocol name as it appears in the CSV (case-insensitive).
    pub protocol: String,
    /// Value at risk in that protocol, in USD (e.g. its TVL), used to turn a
    /// USD loss into a fraction of the product's exposure.
    pub total_value_usd: f64,
}

/// Why an incident history could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    /// A malformed row; `line` is 1-based and counts every line of the text,
    /// including the header, blank lines and comments.
    #[error("line {line}: {reason}")]
    Row {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The text holds no incident rows.
    #[error("the CSV holds no incidents (expected rows of date,protocol,category,loss_usd)")]
    NoIncidents,
    /// No calendar year of the history has enough incidents to count as covered.
    #[error("no year of the history has {0} or more incidents")]
    NoCoveredYear(u32),
    /// An explicit observation span that is not a positive number of years.
    #[error("observation span must be a positive, finite number of years, got {0}")]
    InvalidSpan(f64),
    /// A product linked to a non-positive or non-finite total value.
    #[error("product {product:?}: total_value_usd must be positive and finite, got {value}")]
    InvalidTotalValue {
        /// Product identifier.
        product: String,
        /// Value found.
        value: f64,
    },
}

/// Calibrates per protocol from a CSV of incidents (see [`parse_incidents`] for
/// the two accepted formats), over the calendar years the incidents touch.
/// [`crate::calibrate_categories`] calibrates per category instead.
pub fn calibrate_from_csv(text: &str) -> Result<Calibration, CalibrationError> {
    let incidents = parse_incidents(text)?;
    let first = incidents.iter().map(|i| i.year).min();
    let last = incidents.iter().map(|i| i.year).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Err(CalibrationError::NoIncidents);
    };
    Ok(build(&incidents, f64::from(last - first + 1)))
}

/// Like [`calibrate_from_csv`], but over an explicit observation window of
/// `span_years` years (which must cover the incidents; not checked).
pub fn calibrate_from_csv_with_span(
    text: &str,
    span_years: f64,
) -> Result<Calibration, CalibrationError> {
    if !(span_years.is_finite() && span_years > 0.0) {
        return Err(CalibrationError::InvalidSpan(span_years));
    }
    let incidents = parse_incidents(text)?;
    if incidents.is_empty() {
        return Err(CalibrationError::NoIncidents);
    }
    Ok(build(&incidents, span_years))
}

fn build(incidents: &[Incident], span_years: f64) -> Calibration {
    let mut sums: BTreeMap<String, (u32, f64)> = BTreeMap::new();
    for i in incidents {
        let entry = sums.entry(i.protocol.clone()).or_default();
        entry.0 += 1;
        entry.1 += i.loss_usd;
    }
    let protocols: BTreeMap<String, ProtocolStats> = sums
        .into_iter()
        .map(|(name, (count, total))| {
            let stats = ProtocolStats {
                incidents: count,
                frequency: f64::from(count) / span_years,
                mean_severity_usd: total / f64::from(count),
            };
            (name, stats)
        })
        .collect();
    let count = incidents.len() as f64;
    let default = ProtocolStats {
        incidents: u32::try_from(incidents.len()).unwrap_or(u32::MAX),
        frequency: count / span_years / protocols.len() as f64,
        mean_severity_usd: incidents.iter().map(|i| i.loss_usd).sum::<f64>() / count,
    };
    Calibration {
        span_years,
        protocols,
        default,
    }
}

impl Calibration {
    /// Statistics of `protocol` (case-insensitive), if it has history.
    pub fn get(&self, protocol: &str) -> Option<&ProtocolStats> {
        self.protocols.get(&normalize(protocol))
    }

    /// Statistics of `protocol`, or the default when it has no history.
    pub fn stats_or_default(&self, protocol: &str) -> &ProtocolStats {
        self.get(protocol).unwrap_or(&self.default)
    }

    /// Sets `annual_frequency` and `mean_severity` of every product that
    /// `link` maps to a protocol; products it maps to `None` are left as
    /// they are. Severity is the protocol's mean USD loss over the link's
    /// `total_value_usd`, capped at 1.
    ///
    /// Returns the products that fell back to the default statistics. On
    /// error the book is left unchanged.
    pub fn apply(
        &self,
        book: &mut Book,
        link: impl Fn(&str) -> Option<ProductLink>,
    ) -> Result<Vec<String>, CalibrationError> {
        let mut updates = Vec::new();
        let mut defaulted = Vec::new();
        for (index, exposure) in book.exposures.iter().enumerate() {
            let Some(l) = link(&exposure.product) else {
                continue;
            };
            if !(l.total_value_usd.is_finite() && l.total_value_usd > 0.0) {
                return Err(CalibrationError::InvalidTotalValue {
                    product: exposure.product.clone(),
                    value: l.total_value_usd,
                });
            }
            let stats = match self.get(&l.protocol) {
                Some(stats) => stats,
                None => {
                    defaulted.push(exposure.product.clone());
                    &self.default
                }
            };
            let severity =
                (stats.mean_severity_usd / l.total_value_usd).clamp(f64::MIN_POSITIVE, 1.0);
            updates.push((index, stats.frequency, severity));
        }
        for (index, frequency, severity) in updates {
            book.exposures[index].annual_frequency = frequency;
            book.exposures[index].mean_severity = severity;
        }
        Ok(defaulted)
    }
}

fn normalize(protocol: &str) -> String {
    protocol.trim().to_lowercase()
}
