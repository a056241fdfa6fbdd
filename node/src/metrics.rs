//! The app's Prometheus metrics (CometBFT serves its own on its Prometheus port).

use axum::{routing::get, Router};
use std::sync::atomic::Ordering;
use surety_app::App;

fn render(app: &App) -> String {
    let s = app.stats();
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let secs = |a: &std::sync::atomic::AtomicU64| get(a) as f64 / 1e9;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: String| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    };
    metric(
        "surety_height",
        "gauge",
        "Last committed height.",
        app.storage().latest_version().to_string(),
    );
    metric(
        "surety_check_tx_total",
        "counter",
        "CheckTx calls.",
        get(&s.check_tx_count).to_string(),
    );
    metric(
        "surety_check_tx_seconds_total",
        "counter",
        "Time spent in CheckTx.",
        secs(&s.check_tx_nanos).to_string(),
    );
    metric(
        "surety_blocks_total",
        "counter",
        "Blocks executed.",
        get(&s.blocks).to_string(),
    );
    metric(
        "surety_block_txs_total",
        "counter",
        "Transactions executed in blocks.",
        get(&s.block_txs).to_string(),
    );
    metric(
        "surety_finalize_block_seconds_total",
        "counter",
        "Time spent in FinalizeBlock.",
        secs(&s.finalize_block_nanos).to_string(),
    );
    metric(
        "surety_commit_seconds_total",
        "counter",
        "Time spent in Commit.",
        secs(&s.commit_nanos).to_string(),
    );
    out
}

pub async fn serve(app: App, address: std::net::SocketAddr) -> anyhow::Result<()> {
    let router = Router::new().route("/metrics", get(move || async move { render(&app) }));
    let listener = tokio::net::TcpListener::bind(address).await?;
    axum::serve(listener, router).await?;
    Ok(())
}
