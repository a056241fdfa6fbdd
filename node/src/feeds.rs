//! The oracle feed poller: reads this validator's observations from its configured source (a
//! JSON file or an HTTP endpoint) every second, on its own thread, and hands them to the app for
//! its next vote extension — so ExtendVote never waits on the network.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::time::Duration;
use surety_app::App;
use surety_proto::surety::oracle::v1::{Attestation, FeedPrice, OracleVote};

const POLL_EVERY: Duration = Duration::from_secs(1);

/// The source's JSON: prices by feed (strings or numbers), and optional incident attestations.
#[derive(serde::Deserialize)]
struct Observed {
    #[serde(default)]
    prices: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    attest: BTreeMap<String, bool>,
}

fn parse(text: &str) -> Result<OracleVote> {
    let observed: Observed = serde_json::from_str(text).context("feed JSON")?;
    let prices = observed
        .prices
        .into_iter()
        .map(|(feed, value)| {
            let price = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                other => anyhow::bail!("price of {feed} is {other}, not a decimal"),
            };
            Ok(FeedPrice { feed, price })
        })
        .collect::<Result<_>>()?;
    let attestations = observed
        .attest
        .into_iter()
        .map(|(id, confirm)| {
            Ok(Attestation {
                incident_id: id.parse().with_context(|| format!("incident id {id:?}"))?,
                confirm,
                validator: Vec::new(),
            })
        })
        .collect::<Result<_>>()?;
    Ok(OracleVote {
        prices,
        attestations,
    })
}

fn fetch(source: &str, http: &reqwest::blocking::Client) -> Result<OracleVote> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        http.get(source).send()?.error_for_status()?.text()?
    } else {
        std::fs::read_to_string(source.trim_start_matches("file://"))?
    };
    parse(&text)
}

/// Starts polling `source` (nothing to do when it is empty).
pub fn spawn(app: App, source: String) {
    if source.is_empty() {
        tracing::warn!("no oracle_source configured: this validator will not report prices");
        return;
    }
    std::thread::Builder::new()
        .name("oracle-feed".into())
        .spawn(move || {
            let http = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("http client");
            let mut failing = false;
            loop {
                match fetch(&source, &http) {
                    Ok(vote) => {
                        app.set_observations(vote);
                        failing = false;
                    }
                    Err(e) if !failing => {
                        tracing::warn!(%source, error = %format!("{e:#}"), "oracle feed unavailable");
                        failing = true;
                    }
                    Err(_) => {}
                }
                std::thread::sleep(POLL_EVERY);
            }
        })
        .expect("spawning the feed poller");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prices_and_attestations() {
        let vote = parse(
            r#"{"prices": {"USDC/USD": "0.9994", "ETH/USD": 3012.5}, "attest": {"7": true}}"#,
        )
        .unwrap();
        assert_eq!(vote.prices.len(), 2);
        assert_eq!(vote.prices[0].feed, "ETH/USD");
        assert_eq!(vote.prices[0].price, "3012.5");
        assert_eq!(vote.attestations[0].incident_id, 7);
        assert!(parse(r#"{"prices": {"X": true}}"#).is_err());
        assert!(parse("not json").is_err());
    }
}
