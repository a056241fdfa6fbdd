//! `suretyd loadgen`: drives a node as hard as it accepts transactions and measures the rate at
//! which they are *committed* (from block contents over a steady window, not the send rate).
//!
//! `--mode surety` signs bank sends from many funded accounts, each account a sequential
//! pipeline so sequences stay in order; `--mode kvstore` sends CometBFT's built-in kvstore app
//! transactions of the same size, the consensus engine's ceiling on this machine.

use super::{Context, KeyringArgs};
use crate::client::Client;
use crate::txbuilder::{sign, Unsigned};
use anyhow::{bail, Context as _, Result};
use cosmrs::crypto::secp256k1::SigningKey;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use surety_framework::{Address, Coins};
use surety_proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, MsgSend, Output};
use surety_proto::to_any;
use tendermint_rpc::{client::CompatMode, Client as _, HttpClient};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Surety,
    Kvstore,
}

#[derive(clap::Args)]
pub struct Args {
    /// CometBFT RPC address of the node under load.
    #[arg(long, default_value = "http://127.0.0.1:26657")]
    node: String,
    #[arg(long, value_enum, default_value_t = Mode::Surety)]
    mode: Mode,
    /// Funded key that pays the load accounts (surety mode).
    #[arg(long, default_value = "alice")]
    from: String,
    #[command(flatten)]
    keyring: KeyringArgs,
    /// Concurrent senders (accounts in surety mode).
    #[arg(long, default_value_t = 32)]
    senders: usize,
    #[arg(long, default_value_t = 5)]
    warmup_secs: u64,
    #[arg(long, default_value_t = 20)]
    measure_secs: u64,
    /// Transaction size in kvstore mode.
    #[arg(long, default_value_t = 250)]
    tx_size: usize,
}

const SEND_GAS: u64 = 100_000;
const SEND_FEE: &str = "250usure";

fn load_key(i: usize) -> Result<SigningKey> {
    let seed = Sha256::digest(format!("surety-loadgen-{i}"));
    SigningKey::from_slice(&seed).map_err(|e| anyhow::anyhow!("{e}"))
}

fn address_of(key: &SigningKey) -> Address {
    Address::from_secp256k1(&key.public_key().to_bytes())
}

struct Sender {
    key: SigningKey,
    account_number: u64,
    sequence: u64,
}

/// Funds the load accounts with one MultiSend and reads their account numbers.
fn prepare_senders(
    ctx: &Context,
    args: &Args,
    client: &Client,
    chain_id: &str,
) -> Result<Vec<Sender>> {
    let keys: Vec<SigningKey> = (0..args.senders).map(load_key).collect::<Result<_>>()?;
    let funder = args.keyring.open(ctx)?.signing_key(&args.from)?;
    let funder_address = address_of(&funder).to_bech32();
    let each: Coins = "10000000000usure"
        .parse()
        .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?;
    let total = Coins::from_vec(vec![surety_framework::Coin::new(
        10_000_000_000 * args.senders as u128,
        "usure",
    )])
    .map_err(|e| anyhow::anyhow!(e.log))?;
    let msg = MsgMultiSend {
        inputs: vec![Input {
            address: funder_address.clone(),
            coins: total.to_proto(),
        }],
        outputs: keys
            .iter()
            .map(|k| Output {
                address: address_of(k).to_bech32(),
                coins: each.to_proto(),
            })
            .collect(),
    };
    let account = client
        .account(&funder_address)?
        .context("funding account not found")?;
    let gas = 100_000 + 40_000 * args.senders as u64;
    let tx = sign(
        &funder,
        &Unsigned {
            messages: vec![to_any(&msg)],
            memo: String::new(),
            fee: Coins::from_vec(vec![surety_framework::Coin::new(
                gas as u128 / 100,
                "usure",
            )])
            .map_err(|e| anyhow::anyhow!(e.log))?,
            gas_limit: gas,
            account_number: account.account_number,
            sequence: account.sequence,
            chain_id: chain_id.to_string(),
        },
    )?;
    let hash = client.broadcast_sync(tx)?;
    let committed = client.wait_committed(&hash, Duration::from_secs(60))?;
    if committed.code != 0 {
        bail!("funding the load accounts failed: {}", committed.log);
    }
    keys.into_iter()
        .map(|key| {
            let a = client
                .account(&address_of(&key).to_bech32())?
                .context("load account missing")?;
            Ok(Sender {
                key,
                account_number: a.account_number,
                sequence: a.sequence,
            })
        })
        .collect()
}

fn expected_sequence(log: &str) -> Option<u64> {
    let rest = log.split("expected ").nth(1)?;
    rest.split(',').next()?.trim().parse().ok()
}

async fn surety_sender(
    rpc: HttpClient,
    mut s: Sender,
    chain_id: String,
    sink: String,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) {
    let fee: Coins = SEND_FEE.parse().expect("constant fee parses");
    while !stop.load(Ordering::Relaxed) {
        let msg = MsgSend {
            from_address: address_of(&s.key).to_bech32(),
            to_address: sink.clone(),
            amount: vec![surety_framework::Coin::new(1, "usure").to_proto()],
        };
        let unsigned = Unsigned {
            messages: vec![to_any(&msg)],
            memo: String::new(),
            fee: fee.clone(),
            gas_limit: SEND_GAS,
            account_number: s.account_number,
            sequence: s.sequence,
            chain_id: chain_id.clone(),
        };
        let Ok(tx) = sign(&s.key, &unsigned) else {
            return;
        };
        match rpc.broadcast_tx_sync(tx).await {
            Ok(r) if r.code.is_ok() => {
                s.sequence += 1;
                sent.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) if r.code.value() == 32 => {
                if let Some(expected) = expected_sequence(&r.log) {
                    s.sequence = expected;
                }
            }
            // Mempool full or busy: back off briefly, as a wallet would.
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn kvstore_sender(
    rpc: HttpClient,
    id: usize,
    size: usize,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) {
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut tx = format!("k{id}-{n}=").into_bytes();
        tx.resize(size.max(tx.len() + 1), b'v');
        match rpc.broadcast_tx_sync(tx).await {
            Ok(r) if r.code.is_ok() => {
                n += 1;
                sent.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => n += 1,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn latest_height(rpc: &HttpClient) -> Result<u64> {
    Ok(rpc.status().await?.sync_info.latest_block_height.value())
}

/// Successful transactions committed in heights (from, to], and the block-time window they span.
async fn committed_between(rpc: &HttpClient, from: u64, to: u64) -> Result<(u64, u64, f64)> {
    let mut ok = 0;
    let mut all = 0;
    for h in from + 1..=to {
        let results = rpc
            .block_results(tendermint::block::Height::try_from(h)?)
            .await?;
        for r in results.txs_results.unwrap_or_default() {
            all += 1;
            if r.code.is_ok() {
                ok += 1;
            }
        }
    }
    let t0 = rpc
        .block(tendermint::block::Height::try_from(from)?)
        .await?
        .block
        .header
        .time;
    let t1 = rpc
        .block(tendermint::block::Height::try_from(to)?)
        .await?
        .block
        .header
        .time;
    let window = t1
        .duration_since(t0)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .as_secs_f64();
    Ok((ok, all, window))
}

async fn app_stats(rpc: &HttpClient) -> Option<serde_json::Value> {
    let r = rpc
        .abci_query(Some("app/stats".into()), Vec::new(), None, false)
        .await
        .ok()?;
    serde_json::from_slice(&r.value).ok()
}

fn per(delta_nanos: f64, count: f64) -> f64 {
    if count > 0.0 {
        delta_nanos / count / 1000.0
    } else {
        0.0
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let client = Client::new(&args.node)?;
    let chain_id = client.chain_id()?;
    let senders = if args.mode == Mode::Surety {
        prepare_senders(ctx, &args, &client, &chain_id)?
    } else {
        Vec::new()
    };
    let tx_bytes = match senders.first() {
        Some(s) => {
            let msg = MsgSend {
                from_address: address_of(&s.key).to_bech32(),
                to_address: Address([0; 20]).to_bech32(),
                amount: vec![surety_framework::Coin::new(1, "usure").to_proto()],
            };
            let unsigned = Unsigned {
                messages: vec![to_any(&msg)],
                memo: String::new(),
                fee: SEND_FEE
                    .parse()
                    .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?,
                gas_limit: SEND_GAS,
                account_number: s.account_number,
                sequence: s.sequence,
                chain_id: chain_id.clone(),
            };
            sign(&s.key, &unsigned)?.len()
        }
        None => args.tx_size,
    };
    drop(client);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let url: tendermint_rpc::Url = args.node.parse()?;
        let rpc = HttpClient::builder(url.try_into()?)
            .compat_mode(CompatMode::V0_38)
            .build()?;
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let sink = Address([0x5e; 20]).to_bech32();
        let mut tasks = Vec::new();
        match args.mode {
            Mode::Surety => {
                for s in senders {
                    tasks.push(tokio::spawn(surety_sender(
                        rpc.clone(),
                        s,
                        chain_id.clone(),
                        sink.clone(),
                        stop.clone(),
                        sent.clone(),
                    )));
                }
            }
            Mode::Kvstore => {
                for id in 0..args.senders {
                    tasks.push(tokio::spawn(kvstore_sender(
                        rpc.clone(),
                        id,
                        args.tx_size,
                        stop.clone(),
                        sent.clone(),
                    )));
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(args.warmup_secs)).await;
        let h0 = latest_height(&rpc).await?;
        let stats0 = app_stats(&rpc).await;
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(args.measure_secs)).await;
        let h1 = latest_height(&rpc).await?;
        let stats1 = app_stats(&rpc).await;
        let accepted = sent.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        if h1 <= h0 + 1 {
            bail!("the chain did not advance during the measurement ({h0} → {h1})");
        }
        let (ok, all, window) = committed_between(&rpc, h0, h1).await?;
        let mut out = json!({
            "mode": if args.mode == Mode::Surety { "surety" } else { "kvstore" },
            "committed_tps": (ok as f64 / window * 10.0).round() / 10.0,
            "committed_txs": ok,
            "failed_txs": all - ok,
            "blocks": h1 - h0,
            "window_secs": (window * 100.0).round() / 100.0,
            "tx_bytes": tx_bytes,
            "senders": args.senders,
            "accepted_by_mempool": accepted,
            "wall_secs": started.elapsed().as_secs(),
        });
        if let (Some(a), Some(b)) = (stats0, stats1) {
            let d = |k: &str| {
                b[k].as_u64()
                    .unwrap_or(0)
                    .saturating_sub(a[k].as_u64().unwrap_or(0)) as f64
            };
            out["check_tx_us_per_tx"] =
                json!((per(d("check_tx_nanos"), d("check_tx_count")) * 10.0).round() / 10.0);
            out["finalize_block_us_per_tx"] =
                json!((per(d("finalize_block_nanos"), d("block_txs")) * 10.0).round() / 10.0);
            out["commit_ms_per_block"] =
                json!((per(d("commit_nanos"), d("blocks")) / 10.0).round() / 100.0);
        }
        ctx.print(&out);
        Ok(())
    })
}
