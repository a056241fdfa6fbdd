//! Parsing an incident history: CSV rows of `date,protocol,category,loss_usd` (the format of
//! `docs/incidents.csv`) or the older `date,protocol,loss_usd`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CalibrationError;

/// Kind of protocol an incident hit; each maps to the Surety cover types it informs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Money markets and CDPs.
    Lending,
    /// Exchanges: AMMs, order books, perpetuals.
    Dex,
    /// Cross-chain bridges.
    Bridge,
    /// Vaults, farms, staking.
    Yield,
    /// Stablecoin issuers and pegged assets (depeg cover).
    Stablecoin,
    /// Exchanges' and wallets' keys (custody cover).
    Custody,
    /// Tokens, bots, games and everything else.
    Other,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 7] = [
        Category::Lending,
        Category::Dex,
        Category::Bridge,
        Category::Yield,
        Category::Stablecoin,
        Category::Custody,
        Category::Other,
    ];

    /// Lower-case name, as in the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Lending => "lending",
            Category::Dex => "dex",
            Category::Bridge => "bridge",
            Category::Yield => "yield",
            Category::Stablecoin => "stablecoin",
            Category::Custody => "custody",
            Category::Other => "other",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown category `{s}`"))
    }
}

/// One incident of the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Calendar year.
    pub year: i32,
    /// Day of the year, 1-based.
    pub day: u32,
    /// Protocol name, trimmed and lower-cased.
    pub protocol: String,
    /// `None` in the three-column format.
    pub category: Option<Category>,
    /// Loss in USD, positive.
    pub loss_usd: f64,
}

impl Incident {
    /// Share of its year elapsed at the end of the incident's day, in `(0, 1]`.
    pub fn year_fraction(&self) -> f64 {
        f64::from(self.day) / f64::from(days_in_year(self.year))
    }
}

/// Days in `year` (proleptic Gregorian).
pub fn days_in_year(year: i32) -> u32 {
    if is_leap(year) {
        366
    } else {
        365
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The two row formats; a file uses one throughout.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Three,
    Four,
}

impl Format {
    fn columns(self) -> &'static str {
        match self {
            Format::Three => "date,protocol,loss_usd",
            Format::Four => "date,protocol,category,loss_usd",
        }
    }

    fn len(self) -> usize {
        match self {
            Format::Three => 3,
            Format::Four => 4,
        }
    }
}

/// Parses a history of `date,protocol,category,loss_usd` or `date,protocol,loss_usd` rows
/// (`date` as `YYYY-MM-DD`, `loss_usd` a positive number, `category` one of [`Category`]).
///
/// The header (recognised by its first field being `date`) picks the format; without one, the
/// first row's field count does. Blank lines and lines starting with `#` are skipped; fields may
/// be double-quoted (with `""` for a quote). Errors name the offending line. An empty history is
/// not an error here.
pub fn parse_incidents(text: &str) -> Result<Vec<Incident>, CalibrationError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut incidents = Vec::new();
    let mut format = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let row_err = |reason: String| CalibrationError::Row { line, reason };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields = split_fields(trimmed).map_err(row_err)?;
        let format = match format {
            Some(f) => f,
            None if fields[0].eq_ignore_ascii_case("date") => {
                let names = fields.join(",").to_lowercase();
                let f = [Format::Three, Format::Four]
                    .into_iter()
                    .find(|f| f.columns() == names)
                    .ok_or_else(|| {
                        row_err(format!(
                            "header must be `{}` or `{}`, got `{trimmed}`",
                            Format::Four.columns(),
                            Format::Three.columns()
                        ))
                    })?;
                format = Some(f);
                continue;
            }
            None => *format.insert(if fields.len() == 4 {
                Format::Four
            } else {
                Format::Three
            }),
        };
        if fields.len() != format.len() {
            return Err(row_err(format!(
                "expected {} fields ({}), found {}",
                format.len(),
                format.columns(),
                fields.len()
            )));
        }
        let (year, day) = parse_date(&fields[0]).map_err(row_err)?;
        let protocol = fields[1].trim().to_lowercase();
        if protocol.is_empty() {
            return Err(row_err("protocol is empty".to_string()));
        }
        let category = match format {
            Format::Four => Some(fields[2].parse().map_err(row_err)?),
            Format::Three => None,
        };
        let loss = &fields[format.len() - 1];
        let loss_usd: f64 = loss
            .parse()
            .map_err(|_| row_err(format!("loss_usd `{loss}` is not a number")))?;
        if !(loss_usd.is_finite() && loss_usd > 0.0) {
            return Err(row_err(format!(
                "loss_usd must be a positive finite number, got `{loss}`"
            )));
        }
        incidents.push(Incident {
            year,
            day,
            protocol,
            category,
            loss_usd,
        });
    }
    Ok(incidents)
}

/// Splits one CSV line into trimmed fields, honouring double quotes.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => fields.push(std::mem::take(&mut field).trim().to_string()),
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err("unterminated quoted field".to_string());
    }
    fields.push(field.trim().to_string());
    Ok(fields)
}

/// Validates a `YYYY-MM-DD` date (proleptic Gregorian); returns its year and day of the year.
fn parse_date(s: &str) -> Result<(i32, u32), String> {
    let bad = || format!("date `{s}` is not a valid YYYY-MM-DD date");
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(bad());
    }
    let year: i32 = s[0..4].parse().map_err(|_| bad())?;
    let month: u32 = s[5..7].parse().map_err(|_| bad())?;
    let day: u32 = s[8..10].parse().map_err(|_| bad())?;
    let feb = if is_leap(year) { 29 } else { 28 };
    let lengths = [31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || !(1..=lengths[month as usize - 1]).contains(&day) {
        return Err(bad());
    }
    let before: u32 = lengths[..month as usize - 1].iter().sum();
    Ok((year, before + day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_column_rows_carry_their_category_and_day() {
        let csv = "# c\ndate,protocol,category,loss_usd\n2024-03-01,Euler,lending,5\n\
                   2023-12-31,x,DEX,7\n";
        let got = parse_incidents(csv).unwrap();
        assert_eq!((got[0].year, got[0].day), (2024, 61), "2024 is a leap year");
        assert_eq!(got[0].category, Some(Category::Lending));
        assert_eq!(got[0].protocol, "euler");
        assert_eq!(got[1].category, Some(Category::Dex));
        assert_eq!(got[1].year_fraction(), 1.0);
        // The three-column format still parses, without categories.
        let old = parse_incidents("date,protocol,loss_usd\n2022-02-01,a,1\n").unwrap();
        assert_eq!((old[0].category, old[0].day), (None, 32));
    }

    #[test]
    fn the_repository_dataset_parses() {
        let csv = include_str!("../../../docs/incidents.csv");
        let incidents = parse_incidents(csv).unwrap();
        assert!(incidents.len() > 300, "{} incidents", incidents.len());
        assert!(incidents.iter().all(|i| i.category.is_some()));
        for c in [Category::Lending, Category::Bridge, Category::Stablecoin] {
            assert!(incidents.iter().any(|i| i.category == Some(c)), "{c}");
        }
    }
}
