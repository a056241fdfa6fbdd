//! The app's Prometheus metrics (CometBFT serves its own on its Prometheus port): the node's
//! work, and the insurance book — per pool and product, read from state at each scrape
//! (bounded: pools and products are few, created by governance), plus counters of what
//! committed blocks did since this node started (premiums written, policies sold, losses
//! paid), read from their events.

use axum::{routing::get, Router};
use prost::Message;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, OnceLock};
use surety_app::App;
use surety_proto::cometbft::abci::ResponseFinalizeBlock;
use surety_proto::surety::claims::v1::{QueryPayoutJobsRequest, QueryPayoutJobsResponse};
use surety_proto::surety::oracle::v1::{QueryPricesRequest, QueryPricesResponse};
use surety_proto::surety::policy::v1::{QueryProductsRequest, QueryProductsResponse};
use surety_proto::surety::pool::v1::{
    QueryExposuresRequest, QueryExposuresResponse, QueryPoolsRequest, QueryPoolsResponse,
};

/// Counters kept from committed blocks' events, by label set.
#[derive(Default)]
struct Counters {
    /// (product id, denom) → premiums written.
    premiums: BTreeMap<(String, String), u128>,
    /// product id → policies sold.
    policies: BTreeMap<String, u64>,
    /// pool id → losses it paid (its own share and what it paid as a reinsurer).
    losses: BTreeMap<String, u128>,
}

fn counters() -> &'static Mutex<Counters> {
    static COUNTERS: OnceLock<Mutex<Counters>> = OnceLock::new();
    COUNTERS.get_or_init(Default::default)
}

/// Counts a committed block's insurance events (called once per FinalizeBlock).
pub fn record_block(response: &ResponseFinalizeBlock) {
    let events = response
        .events
        .iter()
        .chain(response.tx_results.iter().flat_map(|r| r.events.iter()));
    let Ok(mut c) = counters().lock() else {
        return;
    };
    for e in events {
        let attr = |key: &str| {
            e.attributes
                .iter()
                .find(|a| a.key == key)
                .map_or("", |a| a.value.as_str())
        };
        match e.r#type.as_str() {
            "cover_bought" => {
                let product = attr("product_id").to_string();
                let (amount, denom) = split_coin(attr("premium"));
                *c.premiums.entry((product.clone(), denom)).or_default() += amount;
                *c.policies.entry(product).or_default() += 1;
            }
            "pool_loss" => {
                let paid = |key: &str| attr(key).parse::<u128>().unwrap_or(0);
                *c.losses.entry(attr("pool_id").to_string()).or_default() += paid("paid_by_pool");
                let reinsurer = attr("reinsurer_pool_id");
                if !reinsurer.is_empty() {
                    *c.losses.entry(reinsurer.to_string()).or_default() +=
                        paid("paid_by_reinsurer");
                }
            }
            _ => {}
        }
    }
}

/// `1500uusdc` → (1500, "uusdc").
fn split_coin(coin: &str) -> (u128, String) {
    let digits = coin.bytes().take_while(u8::is_ascii_digit).count();
    let (amount, denom) = coin.split_at(digits);
    (amount.parse().unwrap_or(0), denom.to_string())
}

/// Prometheus text, one metric family at a time.
#[derive(Default)]
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str, samples: &[(String, String)]) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(self.0, "{name}{labels} {value}");
        }
    }

    fn one(&mut self, name: &str, kind: &str, help: &str, value: impl ToString) {
        self.family(name, kind, help, &[(String::new(), value.to_string())]);
    }
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// A decimal or integer string as a Prometheus number (it takes floats).
fn number(s: &str) -> String {
    if s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

fn ask<Resp: Message + Default>(app: &App, path: &str, request: impl Message) -> Option<Resp> {
    let (bytes, _) = app.query_method(path, &request.encode_to_vec(), 0).ok()?;
    Resp::decode(bytes.as_slice()).ok()
}

fn node_metrics(app: &App, out: &mut Text) {
    let s = app.stats();
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let secs = |a: &std::sync::atomic::AtomicU64| get(a) as f64 / 1e9;
    out.one(
        "surety_height",
        "gauge",
        "Last committed height.",
        app.storage().latest_version(),
    );
    out.one(
        "surety_check_tx_total",
        "counter",
        "CheckTx calls.",
        get(&s.check_tx_count),
    );
    out.one(
        "surety_check_tx_seconds_total",
        "counter",
        "Time spent in CheckTx.",
        secs(&s.check_tx_nanos),
    );
    out.one(
        "surety_blocks_total",
        "counter",
        "Blocks executed.",
        get(&s.blocks),
    );
    out.one(
        "surety_block_txs_total",
        "counter",
        "Transactions executed in blocks.",
        get(&s.block_txs),
    );
    out.one(
        "surety_finalize_block_seconds_total",
        "counter",
        "Time spent in FinalizeBlock.",
        secs(&s.finalize_block_nanos),
    );
    out.one(
        "surety_commit_seconds_total",
        "counter",
        "Time spent in Commit.",
        secs(&s.commit_nanos),
    );
}

fn book_metrics(app: &App, out: &mut Text) {
    let page = || {
        Some(surety_proto::cosmos::base::query::v1beta1::PageRequest {
            limit: 1000,
            ..Default::default()
        })
    };
    let pools: QueryPoolsResponse = ask(
        app,
        "/surety.pool.v1.Query/Pools",
        QueryPoolsRequest { pagination: page() },
    )
    .unwrap_or_default();
    let mut gauges: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    let mut cover: Vec<(String, String)> = Vec::new();
    for view in &pools.pools {
        let Some(p) = &view.pool else { continue };
        let id = p.id.to_string();
        let l = labels(&[("pool", &id), ("name", &p.name), ("denom", &p.denom)]);
        for (name, value) in [
            ("surety_pool_capital", number(&view.capital)),
            ("surety_pool_capacity", number(&view.capacity)),
            ("surety_pool_cover_in_force", number(&p.active_cover)),
            (
                "surety_pool_capital_requirement",
                number(&view.capital_requirement),
            ),
            ("surety_pool_unearned_premium", number(&p.unearned_premium)),
            (
                "surety_pool_utilisation_ratio",
                (f64::from(view.utilisation_bps) / 10_000.0).to_string(),
            ),
            ("surety_pool_share_price", number(&view.share_price)),
            ("surety_pool_selling", u8::from(p.selling).to_string()),
        ] {
            gauges.entry(name).or_default().push((l.clone(), value));
        }
        let exposures: Option<QueryExposuresResponse> = ask(
            app,
            "/surety.pool.v1.Query/Exposures",
            QueryExposuresRequest { pool_id: p.id },
        );
        for e in exposures.map(|e| e.exposures).unwrap_or_default() {
            let product = e.product_id.to_string();
            let l = labels(&[("pool", &id), ("product", &product), ("denom", &p.denom)]);
            cover.push((l, number(&e.gross)));
        }
    }
    let help: BTreeMap<&str, &str> = BTreeMap::from([
        (
            "surety_pool_capital",
            "Providers' capital: cash less the unearned premium.",
        ),
        ("surety_pool_capacity", "Cover the pool can still write."),
        (
            "surety_pool_cover_in_force",
            "Cover in force the pool carries.",
        ),
        (
            "surety_pool_capital_requirement",
            "Capital the pool's book requires.",
        ),
        (
            "surety_pool_unearned_premium",
            "Premium received and not yet earned.",
        ),
        (
            "surety_pool_utilisation_ratio",
            "Cover in force over capacity.",
        ),
        ("surety_pool_share_price", "Value of one share."),
        ("surety_pool_selling", "1 while the pool sells cover."),
    ]);
    for (name, samples) in &gauges {
        out.family(
            name,
            "gauge",
            help.get(name).copied().unwrap_or(""),
            samples,
        );
    }
    out.family(
        "surety_product_cover_in_force",
        "gauge",
        "Cover in force per product, as each pool carries it (gross of reinsurance).",
        &cover,
    );

    let products: QueryProductsResponse = ask(
        app,
        "/surety.policy.v1.Query/Products",
        QueryProductsRequest { pagination: page() },
    )
    .unwrap_or_default();
    let paused: Vec<(String, String)> = products
        .products
        .iter()
        .map(|p| {
            (
                labels(&[("product", &p.id.to_string()), ("name", &p.name)]),
                u8::from(p.paused).to_string(),
            )
        })
        .collect();
    out.family(
        "surety_product_paused",
        "gauge",
        "1 while a product's sales are paused.",
        &paused,
    );

    let prices: QueryPricesResponse =
        ask(app, "/surety.oracle.v1.Query/Prices", QueryPricesRequest {}).unwrap_or_default();
    let prices: Vec<(String, String)> = prices
        .prices
        .iter()
        .map(|p| (labels(&[("feed", &p.feed)]), number(&p.price)))
        .collect();
    out.family(
        "surety_oracle_price",
        "gauge",
        "The oracle's price per feed (median of the validators' votes).",
        &prices,
    );

    let jobs: QueryPayoutJobsResponse = ask(
        app,
        "/surety.claims.v1.Query/PayoutJobs",
        QueryPayoutJobsRequest { pagination: page() },
    )
    .unwrap_or_default();
    let mut by_product: BTreeMap<u64, u64> = BTreeMap::new();
    for j in &jobs.jobs {
        *by_product.entry(j.product_id).or_default() += 1;
    }
    let pending: Vec<(String, String)> = by_product
        .iter()
        .map(|(product, n)| (labels(&[("product", &product.to_string())]), n.to_string()))
        .collect();
    out.family(
        "surety_payout_jobs_pending",
        "gauge",
        "Parametric payouts still paying out, per product (a budget of policies per block).",
        &pending,
    );

    let Ok(c) = counters().lock() else { return };
    let premiums: Vec<(String, String)> = c
        .premiums
        .iter()
        .map(|((product, denom), v)| {
            (
                labels(&[("product", product), ("denom", denom)]),
                v.to_string(),
            )
        })
        .collect();
    out.family(
        "surety_premiums_written_total",
        "counter",
        "Premiums of cover bought in blocks this node executed since it started.",
        &premiums,
    );
    let sold: Vec<(String, String)> = c
        .policies
        .iter()
        .map(|(product, v)| (labels(&[("product", product)]), v.to_string()))
        .collect();
    out.family(
        "surety_policies_sold_total",
        "counter",
        "Policies sold in blocks this node executed since it started.",
        &sold,
    );
    let losses: Vec<(String, String)> = c
        .losses
        .iter()
        .map(|(pool, v)| (labels(&[("pool", pool)]), v.to_string()))
        .collect();
    out.family("surety_pool_losses_paid_total", "counter", "Claims a pool paid (as insurer or reinsurer) in blocks this node executed since it started.", &losses);
}

fn render(app: &App) -> String {
    let mut out = Text::default();
    node_metrics(app, &mut out);
    book_metrics(app, &mut out);
    out.0
}

pub async fn serve(app: App, address: std::net::SocketAddr) -> anyhow::Result<()> {
    let router = Router::new().route(
        "/metrics",
        get(move || async move {
            let app = app.clone();
            // The book is read from state: off the async workers.
            tokio::task::spawn_blocking(move || render(&app))
                .await
                .unwrap_or_default()
        }),
    );
    let listener = tokio::net::TcpListener::bind(address).await?;
    axum::serve(listener, router).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coins_split_into_amount_and_denom() {
        assert_eq!(split_coin("1500uusdc"), (1500, "uusdc".to_string()));
        assert_eq!(split_coin("x"), (0, "x".to_string()));
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(labels(&[("name", "a\"b")]), "{name=\"a\\\"b\"}");
    }
}
