//! `suretyd tx policy …` and `suretyd query policy …`: products, quotes and cover.

use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use crate::output::{amount, bps, duration, time};
use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};
use surety_proto::surety::policy::v1::*;
use surety_proto::to_any;

#[derive(clap::Subcommand)]
pub enum Tx {
    /// Buy cover: `buy <product-id> <cover, e.g. 1000000000uusdc> <term-days>`. Pays the quoted
    /// premium, or fails if it would exceed --max-premium.
    Buy {
        product_id: u64,
        cover: String,
        term_days: u32,
        /// Most you accept to pay (default: the current quote, which a purchase never exceeds).
        #[arg(long)]
        max_premium: Option<String>,
        /// Slashing cover: the validator (surety valoper address) you delegate to; cover up to
        /// your delegation to it.
        #[arg(long)]
        validator: Option<String>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Transfer a policy certificate to another address.
    Transfer {
        policy_id: u64,
        recipient: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// What `tx policy buy` would charge now: `quote <product-id> <cover> <term-days>`.
    Quote {
        product_id: u64,
        cover: String,
        term_days: u32,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One product's terms.
    Product {
        product_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every listed product.
    Products {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One policy.
    Policy {
        policy_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// All policies, or one owner's.
    Policies {
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// Splits `1000uusdc` into (1000, Some("uusdc")); a bare number has no denom.
pub fn split_amount(s: &str) -> Result<(u128, Option<String>)> {
    let digits = s.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        bail!("{s:?} is not an amount like 1000000uusdc");
    }
    let value = s[..digits]
        .parse()
        .with_context(|| format!("amount {s:?}"))?;
    let denom = &s[digits..];
    Ok((value, (!denom.is_empty()).then(|| denom.to_string())))
}

fn product_of(client: &crate::client::Client, id: u64) -> Result<Product> {
    let r: QueryProductResponse = client.query(
        "/surety.policy.v1.Query/Product",
        &QueryProductRequest { product_id: id },
    )?;
    r.product.context("empty response")
}

/// The cover amount in the product's denom, checking a denom if one is given.
fn cover_in(product: &Product, cover: &str) -> Result<u128> {
    let (value, denom) = split_amount(cover)?;
    if let Some(d) = denom.filter(|d| *d != product.denom) {
        bail!(
            "product {} is denominated in {}, not {d}",
            product.id,
            product.denom
        );
    }
    Ok(value)
}

fn quote(
    client: &crate::client::Client,
    product_id: u64,
    cover: u128,
    days: u32,
) -> Result<QueryQuoteResponse> {
    client.query(
        "/surety.policy.v1.Query/Quote",
        &QueryQuoteRequest {
            product_id,
            cover: cover.to_string(),
            term_days: days,
        },
    )
}

pub fn cover_type_name(t: i32) -> &'static str {
    match CoverType::try_from(t).unwrap_or(CoverType::Unspecified) {
        CoverType::Protocol => "protocol",
        CoverType::Position => "position",
        CoverType::Oracle => "oracle",
        CoverType::Governance => "governance",
        CoverType::Liquidity => "liquidity",
        CoverType::Custody => "custody",
        CoverType::Exchange => "exchange",
        CoverType::Depeg => "depeg",
        CoverType::Slashing => "slashing",
        CoverType::Unspecified => "unspecified",
    }
}

pub fn product_json(p: &Product) -> Value {
    let mode = if p.claim_mode == ClaimMode::Parametric as i32 {
        "parametric"
    } else {
        "assessed"
    };
    let mut v = json!({
        "id": p.id.to_string(),
        "name": p.name,
        "protocol": p.protocol,
        "cover_type": cover_type_name(p.cover_type),
        "denom": p.denom,
        "annual_base_rate": bps(p.annual_base_rate_bps),
        "term": format!("{} to {} days", p.min_term_days, p.max_term_days),
        "max_cover": amount(&p.max_cover, &p.denom),
        "deductible": bps(p.deductible_bps),
        "claim_mode": mode,
        "grace_period": duration(p.grace_period_secs),
        "waiting_period": duration(p.waiting_period_secs),
        "max_cover_in_force": if p.max_cover_in_force.is_empty() || p.max_cover_in_force == "0" {
            "none".to_string()
        } else {
            amount(&p.max_cover_in_force, &p.denom)
        },
        "max_policy_share": if p.max_policy_share_bps == 0 {
            "none".to_string()
        } else {
            bps(p.max_policy_share_bps)
        },
        "paused": p.paused,
    });
    if let Some(t) = p.trigger.as_ref().filter(|_| mode == "parametric") {
        v["trigger"] = match CoverType::try_from(p.cover_type).unwrap_or(CoverType::Unspecified) {
            CoverType::Depeg => json!({
                "feed": t.feed, "below": t.threshold, "for": duration(t.duration_secs),
                "floor": t.floor,
            }),
            CoverType::Liquidity => json!({
                "feed": t.feed, "threshold": bps(t.il_threshold_bps), "cap": bps(t.il_cap_bps),
            }),
            CoverType::Slashing => json!({"slash_of": "the validator named at purchase"}),
            _ => json!({"confirmed_incident_of": p.protocol}),
        };
    }
    v
}

pub fn policy_json(p: &Policy, now: i64) -> Value {
    let claimed: u128 = p.claimed_cover.parse().unwrap_or(0);
    let remaining = p.cover.parse::<u128>().unwrap_or(0).saturating_sub(claimed);
    let status = if p.claimed {
        "claimed"
    } else if now >= p.end {
        "expired"
    } else {
        "active"
    };
    let mut v = json!({
        "id": p.id.to_string(),
        "owner": p.owner,
        "product_id": p.product_id.to_string(),
        "product": p.terms.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
        "cover": amount(&p.cover, &p.denom),
        "claimed_cover": amount(&claimed.to_string(), &p.denom),
        "remaining_cover": amount(&remaining.to_string(), &p.denom),
        "premium": amount(&p.premium, &p.denom),
        "start": time(p.start),
        "end": time(p.end),
        "status": status,
        "pools": p.allocations.iter().map(|a| json!({
            "pool_id": a.pool_id.to_string(),
            "cover": amount(&a.cover, &p.denom),
            "premium": amount(&a.premium, &p.denom),
        })).collect::<Vec<_>>(),
        "terms_hash": hex::encode(&p.terms_hash),
    });
    // Liquidity cover: the price it started from, frozen at purchase.
    if !p.entry_price.is_empty() {
        v["entry_price"] = json!(p.entry_price);
    }
    if !p.validator.is_empty() {
        v["validator"] = json!(p.validator);
    }
    v
}

pub fn run_tx(ctx: &Context, command: Tx) -> Result<()> {
    match command {
        Tx::Buy {
            product_id,
            cover,
            term_days,
            max_premium,
            validator,
            from,
            tx,
        } => {
            let client = tx.node.client(ctx)?;
            let product = product_of(&client, product_id)?;
            let cover = cover_in(&product, &cover)?;
            let max_premium = match max_premium {
                Some(m) => {
                    let (value, denom) = split_amount(&m)?;
                    if let Some(d) = denom.filter(|d| *d != product.denom) {
                        bail!("--max-premium must be in {}, not {d}", product.denom);
                    }
                    value
                }
                None => {
                    let q = quote(&client, product_id, cover, term_days)?;
                    eprintln!("quoted premium: {}", amount(&q.premium, &product.denom));
                    q.premium.parse()?
                }
            };
            let msg = MsgBuyCover {
                buyer: key_address(ctx, &from, &tx)?,
                product_id,
                cover: cover.to_string(),
                term_days,
                max_premium: max_premium.to_string(),
                validator: validator.unwrap_or_default(),
            };
            broadcast(ctx, &from, vec![to_any(&msg)], &tx)
        }
        Tx::Transfer {
            policy_id,
            recipient,
            from,
            tx,
        } => {
            let msg = MsgTransferPolicy {
                owner: key_address(ctx, &from, &tx)?,
                policy_id,
                recipient,
            };
            broadcast(ctx, &from, vec![to_any(&msg)], &tx)
        }
    }
}

/// Every product, page by page.
pub fn all_products(client: &crate::client::Client) -> Result<Vec<Product>> {
    client.query_all(
        "/surety.policy.v1.Query/Products",
        |page| QueryProductsRequest {
            pagination: Some(page),
        },
        |r: QueryProductsResponse| (r.products, r.pagination),
    )
}

pub fn run_query(ctx: &Context, command: Query) -> Result<()> {
    let value = match command {
        Query::Quote {
            product_id,
            cover,
            term_days,
            node,
        } => {
            let client = node.client(ctx)?;
            let product = product_of(&client, product_id)?;
            let cover = cover_in(&product, &cover)?;
            let q = quote(&client, product_id, cover, term_days)?;
            json!({
                "product": product.name,
                "cover": amount(&cover.to_string(), &product.denom),
                "term_days": term_days,
                "premium": amount(&q.premium, &product.denom),
                "annual_rate": bps(q.annual_rate_bps),
                "product_capacity": amount(&q.capacity, &product.denom),
                "product_in_force": amount(&q.in_force, &product.denom),
                "max_policy_cover": amount(&q.max_policy_cover, &product.denom),
                "pools": q.allocations.iter().map(|a| json!({
                    "pool_id": a.pool_id.to_string(),
                    "cover": amount(&a.cover, &product.denom),
                    "premium": amount(&a.premium, &product.denom),
                })).collect::<Vec<_>>(),
            })
        }
        Query::Product { product_id, node } => {
            product_json(&product_of(&node.client(ctx)?, product_id)?)
        }
        Query::Products { node } => {
            let products = all_products(&node.client(ctx)?)?;
            json!({"products": products.iter().map(product_json).collect::<Vec<_>>()})
        }
        Query::Policy { policy_id, node } => {
            let client = node.client(ctx)?;
            let now = client.latest_block_time()?;
            let r: QueryPolicyResponse = client.query(
                "/surety.policy.v1.Query/Policy",
                &QueryPolicyRequest { policy_id },
            )?;
            policy_json(&r.policy.context("empty response")?, now)
        }
        Query::Policies { owner, node } => {
            let client = node.client(ctx)?;
            let now = client.latest_block_time()?;
            let owner = owner.unwrap_or_default();
            let policies = client.query_all(
                "/surety.policy.v1.Query/Policies",
                |page| QueryPoliciesRequest {
                    owner: owner.clone(),
                    pagination: Some(page),
                },
                |r: QueryPoliciesResponse| (r.policies, r.pagination),
            )?;
            json!({"policies": policies.iter().map(|p| policy_json(p, now)).collect::<Vec<_>>()})
        }
    };
    ctx.print(&value);
    Ok(())
}
