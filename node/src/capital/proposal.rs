//! `--proposal-out`: a governance proposal setting each product's recommended rate, in the
//! format `suretyd tx gov submit-proposal` reads (see `cmd/gov.rs`).

use std::path::Path;

use anyhow::{Context as _, Result};
use prost::Message as _;
use serde_json::{json, Value};
use surety_capital_model::Pricing;

use super::BookLine;

/// Highest rate a product may carry on chain (the policy module's `MAX_RATE_BPS`).
const MAX_RATE_BPS: u32 = 10_000;

/// The minimum deposit of a proposal on the localnet (10 SURE).
const DEPOSIT: &str = "10000000usure";

/// Writes a proposal of `MsgUpdateProduct`s, one per product whose recommended rate differs
/// from its current one, to `path`; returns how many products it reprices.
pub fn write_proposal(lines: &[BookLine], pricing: &[Pricing], path: &Path) -> Result<usize> {
    let authority = surety_framework::Address::module("gov").to_bech32();
    let descriptor =
        crate::protojson::message("surety.policy.v1.Product").map_err(|e| anyhow::anyhow!(e))?;
    let mut messages = Vec::new();
    let mut changes = Vec::new();
    for (line, p) in lines.iter().zip(pricing) {
        let rate = p.recommended_rate_bps.clamp(1, MAX_RATE_BPS);
        let current = line.product.annual_base_rate_bps;
        if rate == current {
            continue;
        }
        let mut product = line.product.clone();
        product.annual_base_rate_bps = rate;
        // The whole product: MsgUpdateProduct replaces its terms.
        let product = crate::protojson::to_json(&descriptor, &product.encode_to_vec())
            .map_err(|e| anyhow::anyhow!(e))?;
        messages.push(json!({
            "@type": "/surety.policy.v1.MsgUpdateProduct",
            "authority": authority,
            "product": product,
        }));
        changes.push(format!(
            "{} ({}): {current} → {rate} bps",
            line.product.name, line.product.id
        ));
    }
    let proposal: Value = json!({
        "messages": messages,
        "deposit": DEPOSIT,
        "title": "Reprice products from the incident history",
        "summary": format!(
            "Annual base rates recommended by `suretyd query pool capital-model` \
             (expected loss + loading): {}",
            changes.join("; ")
        ),
        "expedited": false,
    });
    std::fs::write(path, serde_json::to_string_pretty(&proposal)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(changes.len())
}
