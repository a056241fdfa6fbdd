//! `suretyd start`: the ABCI app, its gRPC server and REST gateway, and CometBFT as a supervised
//! child.

use super::Context;
use crate::config::{load, AppToml};
use anyhow::{bail, Context as _, Result};
use std::time::Duration;
use surety_app::{App, AppConfig};
use surety_store::{Storage, StorageConfig};
use tokio::signal::unix::{signal, SignalKind};

#[derive(clap::Args)]
pub struct Args {
    /// Run only the app; CometBFT is supervised elsewhere (e.g. by systemd).
    #[arg(long)]
    no_cometbft: bool,
    /// Log filter, e.g. `info` or `surety_app=debug` (default from app.toml).
    #[arg(long)]
    log_level: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let home = ctx.home();
    if !home.app_toml().exists() {
        bail!(
            "{} not found; run `suretyd init` first",
            home.app_toml().display()
        );
    }
    let cfg: AppToml = load(&home.app_toml())?;
    let filter = args
        .log_level
        .clone()
        .unwrap_or_else(|| cfg.log_level.clone());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter).context("invalid log level")?,
        )
        .with_writer(std::io::stderr)
        .init();

    let storage = Storage::open(
        home.data_dir().join("application.db"),
        StorageConfig {
            keep_recent: cfg.pruning_keep_recent,
            prune_in_background: true,
        },
    )
    .context("opening the state store")?;
    let min_gas_prices = cfg
        .minimum_gas_prices
        .parse()
        .map_err(anyhow::Error::msg)
        .context("minimum_gas_prices")?;
    let app = App::new(
        storage,
        AppConfig {
            min_gas_prices,
            query_gas_limit: cfg.query_gas_limit,
            event_index: surety_framework::EventIndex::skipping(
                cfg.no_index_events.iter().cloned(),
            ),
        },
    );
    tracing::info!(height = app.storage().latest_version(), "state loaded");
    set_node_info_source(ctx, &app);

    let listener = std::net::TcpListener::bind(&cfg.abci_address)
        .with_context(|| format!("binding the ABCI server to {}", cfg.abci_address))?;
    let abci_app = app.clone();
    std::thread::Builder::new()
        .name("abci".into())
        .spawn(move || {
            if let Err(e) =
                surety_app::abci_server::serve(listener, abci_app, crate::metrics::record_block)
            {
                tracing::error!("ABCI server stopped: {e}");
                std::process::exit(1);
            }
        })?;
    tracing::info!(address = %cfg.abci_address, "ABCI server listening");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(supervise(ctx, cfg, app, args.no_cometbft))
}

async fn supervise(ctx: &Context, cfg: AppToml, app: App, no_cometbft: bool) -> Result<()> {
    crate::feeds::spawn(app.clone(), cfg.oracle_source.clone());
    if !cfg.grpc_address.is_empty() {
        let address = cfg
            .grpc_address
            .parse()
            .with_context(|| format!("grpc_address {}", cfg.grpc_address))?;
        let grpc_app = app.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::grpc::serve(grpc_app, address).await {
                tracing::error!("gRPC server stopped: {e:#}");
            }
        });
        tracing::info!(address = %cfg.grpc_address, "gRPC server listening");
    }
    if !cfg.rest_address.is_empty() {
        let address = cfg
            .rest_address
            .parse()
            .with_context(|| format!("rest_address {}", cfg.rest_address))?;
        let rest_app = app.clone();
        let rpc = rpc_url(ctx);
        let web_dir = (!cfg.web_dir.is_empty()).then(|| ctx.home.join(&cfg.web_dir));
        tokio::spawn(async move {
            if let Err(e) = crate::rest::serve(rest_app, address, &rpc, web_dir).await {
                tracing::error!("REST gateway stopped: {e:#}");
            }
        });
        tracing::info!(address = %cfg.rest_address, "REST gateway listening");
    }
    if !cfg.metrics_address.is_empty() {
        let address = cfg
            .metrics_address
            .parse()
            .with_context(|| format!("metrics_address {}", cfg.metrics_address))?;
        let metrics_app = app.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::metrics::serve(metrics_app, address).await {
                tracing::error!("metrics server stopped: {e:#}");
            }
        });
    }
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    if no_cometbft {
        tokio::select! {
            _ = sigterm.recv() => {}
            _ = sigint.recv() => {}
        }
        tracing::info!("stopped");
        return Ok(());
    }

    let bin = crate::cometbft::binary(&cfg.cometbft_binary)?;
    crate::cometbft::check_version(&bin)?;
    let height = app.storage().latest_version();
    if height > 0 {
        match crate::cometbft::reindex_tail(&bin, &ctx.home().cometbft(), height) {
            Ok(()) => tracing::info!(height, "re-indexed the last blocks' events"),
            // Not fatal: the node runs; only lookups of those blocks' transactions may miss.
            Err(e) => tracing::warn!(error = %e, "re-indexing the last blocks' events failed"),
        }
    }
    let mut child = tokio::process::Command::new(&bin)
        .arg("start")
        .arg("--home")
        .arg(ctx.home().cometbft())
        .arg("--proxy_app")
        .arg(format!("tcp://{}", cfg.abci_address))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    tracing::info!(pid = child.id(), "cometbft started");

    let stop = tokio::select! {
        status = child.wait() => {
            let status = status?;
            bail!("cometbft exited unexpectedly ({status}); stopping");
        }
        _ = sigterm.recv() => "SIGTERM",
        _ = sigint.recv() => "SIGINT",
    };
    tracing::info!("{stop} received; stopping cometbft");
    if let Some(pid) = child.id() {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    }
    match tokio::time::timeout(Duration::from_secs(15), child.wait()).await {
        Ok(_) => tracing::info!("cometbft stopped"),
        Err(_) => {
            tracing::warn!("cometbft did not stop in 15s; killing it");
            child.kill().await?;
        }
    }
    Ok(())
}

/// This node's CometBFT RPC (`rpc.laddr` in its config.toml) as a URL to connect to.
fn rpc_url(ctx: &Context) -> String {
    load::<toml::Table>(&ctx.home().cometbft_config_toml())
        .ok()
        .and_then(|t| t.get("rpc")?.get("laddr")?.as_str().map(str::to_string))
        .unwrap_or_else(|| "tcp://127.0.0.1:26657".into())
        .replace("tcp://", "http://")
        .replace("://0.0.0.0:", "://127.0.0.1:")
}

/// `GetNodeInfo` answers from this node's CometBFT, asked when a client first wants it.
fn set_node_info_source(ctx: &Context, app: &App) {
    let rpc = rpc_url(ctx);
    app.set_node_info_source(Box::new(move || match node_info(&rpc) {
        Ok(info) => Some(info),
        Err(e) => {
            tracing::debug!(error = %e, "node info: CometBFT is not answering yet");
            None
        }
    }));
}

fn node_info(rpc: &str) -> Result<Vec<u8>> {
    use prost::Message;
    use surety_proto::cosmos::base::tendermint::v1beta1::{GetNodeInfoResponse, VersionInfo};
    let status = crate::client::Client::new(rpc)?.status()?;
    let n = status.node_info;
    let info = tendermint_proto::p2p::DefaultNodeInfo {
        protocol_version: Some(tendermint_proto::p2p::ProtocolVersion {
            p2p: n.protocol_version.p2p,
            block: n.protocol_version.block,
            app: n.protocol_version.app,
        }),
        default_node_id: n.id.to_string(),
        listen_addr: n.listen_addr.to_string(),
        network: n.network.to_string(),
        version: n.version.to_string(),
        channels: n.channels.to_string().into_bytes(),
        moniker: n.moniker.to_string(),
        other: Some(tendermint_proto::p2p::DefaultNodeInfoOther {
            tx_index: match n.other.tx_index {
                tendermint::node::info::TxIndexStatus::On => "on".into(),
                tendermint::node::info::TxIndexStatus::Off => "off".into(),
            },
            rpc_address: n.other.rpc_address.clone(),
        }),
    };
    Ok(GetNodeInfoResponse {
        default_node_info: Some(info),
        application_version: Some(VersionInfo {
            name: "surety".into(),
            app_name: "suretyd".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            ..Default::default()
        }),
    }
    .encode_to_vec())
}
