//! `ceiling-app`: CometBFT's ceiling for Surety's transactions. An ABCI app that does no work:
//! it accepts every transaction and answers each with the result Surety gave a real one (its
//! events, gas and data, read from CometBFT's `block_results`). Served over Surety's own ABCI
//! transport, under Surety's consensus settings and block gas limit, it measures how many such
//! transactions a second the consensus engine itself commits on this machine, storing and
//! indexing what Surety's results carry. No app, however fast, commits more.
//!
//!   ceiling-app --address 127.0.0.1:17058 --result tx-result.json

use anyhow::{Context as _, Result};
use base64::Engine as _;
use clap::Parser;
use serde_json::Value;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use surety_proto::cometbft::abci::{
    Event, EventAttribute, ExecTxResult, RequestCheckTx, RequestFinalizeBlock, RequestInfo,
    ResponseCheckTx, ResponseCommit, ResponseFinalizeBlock, ResponseInfo,
};
use tendermint_abci::Application;

#[derive(Parser)]
struct Args {
    /// Where CometBFT's `proxy_app` connects.
    #[arg(long)]
    address: String,
    /// One transaction's result as CometBFT's RPC prints it (an element of `block_results`'
    /// `txs_results`); every transaction gets it.
    #[arg(long)]
    result: std::path::PathBuf,
}

#[derive(Clone)]
struct Ceiling {
    result: Arc<ExecTxResult>,
    height: Arc<AtomicI64>,
}

/// Fixed: the app has no state, and CometBFT only needs every node to agree.
const APP_HASH: [u8; 32] = [0; 32];

impl Application for Ceiling {
    fn info(&self, _: RequestInfo) -> ResponseInfo {
        let height = self.height.load(Ordering::SeqCst);
        ResponseInfo {
            last_block_height: height,
            last_block_app_hash: if height > 0 {
                APP_HASH.to_vec().into()
            } else {
                Default::default()
            },
            ..Default::default()
        }
    }

    fn check_tx(&self, _: RequestCheckTx) -> ResponseCheckTx {
        ResponseCheckTx {
            gas_wanted: self.result.gas_wanted,
            ..Default::default()
        }
    }

    fn finalize_block(&self, request: RequestFinalizeBlock) -> ResponseFinalizeBlock {
        self.height.store(request.height, Ordering::SeqCst);
        ResponseFinalizeBlock {
            tx_results: vec![(*self.result).clone(); request.txs.len()],
            app_hash: APP_HASH.to_vec().into(),
            ..Default::default()
        }
    }

    fn commit(&self) -> ResponseCommit {
        ResponseCommit::default()
    }
}

/// Reads a result as CometBFT 0.38's JSON RPC prints it (numbers as strings, data base64).
fn parse_result(json: &Value) -> Result<ExecTxResult> {
    let int = |key: &str| -> Result<i64> {
        match &json[key] {
            Value::String(s) => s.parse().with_context(|| format!("{key}: {s}")),
            Value::Number(n) => n.as_i64().with_context(|| format!("{key}: {n}")),
            Value::Null => Ok(0),
            other => anyhow::bail!("{key}: {other}"),
        }
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let data = base64::engine::general_purpose::STANDARD
        .decode(json["data"].as_str().unwrap_or_default())
        .context("data")?;
    let events = json["events"]
        .as_array()
        .context("events")?
        .iter()
        .map(|e| Event {
            r#type: text(&e["type"]),
            attributes: e["attributes"]
                .as_array()
                .map(|attrs| {
                    attrs
                        .iter()
                        .map(|a| EventAttribute {
                            key: text(&a["key"]),
                            value: text(&a["value"]),
                            index: a["index"].as_bool().unwrap_or(false),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    Ok(ExecTxResult {
        code: u32::try_from(int("code")?).context("code")?,
        data: data.into(),
        log: text(&json["log"]),
        info: text(&json["info"]),
        gas_wanted: int("gas_wanted")?,
        gas_used: int("gas_used")?,
        events,
        codespace: text(&json["codespace"]),
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    let json: Value = serde_json::from_slice(
        &std::fs::read(&args.result).with_context(|| args.result.display().to_string())?,
    )?;
    let result = parse_result(&json)?;
    eprintln!(
        "ceiling-app: every transaction answered with {} events, {} gas wanted",
        result.events.len(),
        result.gas_wanted
    );
    let listener = std::net::TcpListener::bind(&args.address)
        .with_context(|| format!("binding {}", args.address))?;
    surety_app::abci_server::serve(
        listener,
        Ceiling {
            result: Arc::new(result),
            height: Arc::new(AtomicI64::new(0)),
        },
        |_| {},
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_result_as_cometbft_prints_it() {
        let json = serde_json::json!({
            "code": 0,
            "data": "EiYKJC9jb3Ntb3MuYmFuay52MWJldGExLk1zZ1NlbmRSZXNwb25zZQ==",
            "log": "",
            "info": "",
            "gas_wanted": "56162",
            "gas_used": "46802",
            "events": [
                {"type": "tx", "attributes": [{"key": "fee", "value": "1usure", "index": true}]},
                {"type": "message", "attributes": [
                    {"key": "action", "value": "/cosmos.bank.v1beta1.MsgSend", "index": true},
                    {"key": "msg_index", "value": "0", "index": false}
                ]}
            ],
            "codespace": ""
        });
        let r = parse_result(&json).unwrap();
        assert_eq!((r.code, r.gas_wanted, r.gas_used), (0, 56_162, 46_802));
        assert!(r.data.ends_with(b"MsgSendResponse"));
        assert_eq!(r.events.len(), 2);
        let action = &r.events[1].attributes[0];
        assert_eq!(
            (action.key.as_str(), action.value.as_str(), action.index),
            ("action", "/cosmos.bank.v1beta1.MsgSend", true)
        );
        assert!(!r.events[1].attributes[1].index);
        assert!(parse_result(&serde_json::json!({"gas_wanted": "x", "events": []})).is_err());
    }
}
