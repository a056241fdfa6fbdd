//! A small blocking client for CometBFT's HTTP JSON-RPC (loopback only).

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::cli::json_u64;

/// What `GET /status` says about a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// `sync_info.latest_block_height`.
    pub height: u64,
    /// `sync_info.latest_app_hash`: the app hash in the header of the latest
    /// block, i.e. the state after executing the block *before* it.
    pub app_hash: String,
    pub block_hash: String,
    pub catching_up: bool,
    pub node_id: String,
    pub moniker: String,
}

/// Blocking CometBFT RPC client. Ignores proxy settings: every URL it is
/// given is on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct Rpc {
    http: reqwest::blocking::Client,
}

impl Default for Rpc {
    fn default() -> Self {
        Self::new()
    }
}

impl Rpc {
    pub fn new() -> Self {
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .build()
            .expect("reqwest client");
        Rpc { http }
    }

    /// `GET <base>/<path>` and returns the JSON-RPC `result`.
    pub fn get(&self, base: &str, path: &str) -> Result<Value> {
        let url = format!(
            "{}/{}",
            base.trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        if !is_loopback_url(&url) {
            bail!("refusing to contact {url}: the localnet only talks to 127.0.0.1");
        }
        let resp = self
            .http
            .get(&url)
            .send()
            .with_context(|| format!("GET {url}"))?;
        let code = resp.status();
        let body: Value = resp
            .json()
            .with_context(|| format!("GET {url}: HTTP {code}, body is not JSON"))?;
        if let Some(err) = body.get("error") {
            bail!("GET {url}: RPC error {err}");
        }
        body.get("result")
            .cloned()
            .ok_or_else(|| anyhow!("GET {url}: no `result` in {body}"))
    }

    pub fn status(&self, base: &str) -> Result<NodeStatus> {
        let r = self.get(base, "status")?;
        let si = &r["sync_info"];
        Ok(NodeStatus {
            height: json_u64(&si["latest_block_height"])
                .ok_or_else(|| anyhow!("status without latest_block_height: {r}"))?,
            app_hash: si["latest_app_hash"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            block_hash: si["latest_block_hash"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            catching_up: si["catching_up"].as_bool().unwrap_or(false),
            node_id: r["node_info"]["id"].as_str().unwrap_or_default().to_owned(),
            moniker: r["node_info"]["moniker"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// The header of block `height`.
    pub fn header(&self, base: &str, height: u64) -> Result<Value> {
        let r = self.get(base, &format!("block?height={height}"))?;
        Ok(r["block"]["header"].clone())
    }

    /// `app_hash` in the header of block `height` (the state after block
    /// `height - 1`).
    pub fn header_app_hash(&self, base: &str, height: u64) -> Result<String> {
        let h = self.header(base, height)?;
        h["app_hash"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("block {height} header without app_hash: {h}"))
    }

    /// Number of connected peers (`/net_info`).
    pub fn n_peers(&self, base: &str) -> Result<u64> {
        let r = self.get(base, "net_info")?;
        json_u64(&r["n_peers"]).ok_or_else(|| anyhow!("net_info without n_peers: {r}"))
    }

    /// `(address, voting power)` of the current validator set.
    pub fn validators(&self, base: &str) -> Result<Vec<(String, u64)>> {
        let r = self.get(base, "validators?per_page=100")?;
        let list = r["validators"]
            .as_array()
            .ok_or_else(|| anyhow!("validators: no list in {r}"))?;
        Ok(list
            .iter()
            .map(|v| {
                (
                    v["address"].as_str().unwrap_or_default().to_owned(),
                    json_u64(&v["voting_power"]).unwrap_or(0),
                )
            })
            .collect())
    }
}

/// True for `http://127.0.0.1:…`, `http://localhost:…` and `http://[::1]:…`.
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    rest.starts_with("127.") || rest.starts_with("localhost") || rest.starts_with("[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only() {
        assert!(is_loopback_url("http://127.0.0.1:26657/status"));
        assert!(is_loopback_url("http://localhost:26657"));
        assert!(!is_loopback_url("http://10.0.0.1:26657"));
        assert!(!is_loopback_url("http://example.com/"));
    }

    #[test]
    fn refuses_remote() {
        let err = Rpc::new()
            .get("http://192.168.1.1:26657", "status")
            .unwrap_err();
        assert!(err.to_string().contains("refusing"));
    }
}
