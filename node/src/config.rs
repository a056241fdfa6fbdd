//! `app.toml` and `client.toml`, and in-place edits of any TOML config (including CometBFT's).

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(default)]
pub struct AppToml {
    /// Where the ABCI server listens for CometBFT.
    pub abci_address: String,
    /// Where the gRPC server listens (empty disables it).
    pub grpc_address: String,
    /// Where the Cosmos REST (LCD) gateway listens, e.g. for Keplr (empty disables it).
    pub rest_address: String,
    /// Where the app's Prometheus metrics are served (empty disables them).
    pub metrics_address: String,
    /// A built web app (`web/dist`) the REST gateway serves at `/` beside the API (empty
    /// serves none).
    pub web_dir: String,
    /// The lowest fee per unit of gas this node's mempool accepts, e.g. "0.0025usure".
    pub minimum_gas_prices: String,
    /// Gas one query or simulation may use (Cosmos's `query-gas-limit`); 0 is the default
    /// (100 000 000, a third of the default block gas limit).
    pub query_gas_limit: u64,
    /// How many recent heights to keep readable (0 keeps all).
    pub pruning_keep_recent: u64,
    /// The CometBFT binary to supervise (empty: `cometbft` on PATH, then ~/go/bin).
    pub cometbft_binary: String,
    pub log_level: String,
    /// Where this validator's oracle observations come from: a JSON file path or an http(s)
    /// URL serving `{"prices": {"USDC/USD": "0.9994", …}, "attest": {"<incident id>": true}}`.
    /// Polled off the consensus path; empty reports nothing (and misses oracle votes).
    pub oracle_source: String,
    /// Event types (`coin_spent`) and attributes (`tx.fee`) CometBFT does not index for
    /// `tx_search`; they are still in every transaction's result. Empty indexes everything, as
    /// a Cosmos SDK node does. A node's own choice: it changes no hash.
    pub no_index_events: Vec<String>,
}

impl Default for AppToml {
    fn default() -> Self {
        AppToml {
            abci_address: "127.0.0.1:26658".into(),
            grpc_address: "127.0.0.1:9090".into(),
            rest_address: "127.0.0.1:1317".into(),
            metrics_address: "127.0.0.1:9100".into(),
            web_dir: String::new(),
            minimum_gas_prices: "0.0025usure".into(),
            query_gas_limit: 0,
            pruning_keep_recent: 100_000,
            cometbft_binary: String::new(),
            log_level: "info".into(),
            oracle_source: String::new(),
            no_index_events: surety_framework::events::DEFAULT_NOT_INDEXED
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(default)]
pub struct ClientToml {
    pub chain_id: String,
    pub node: String,
    pub keyring_backend: String,
    pub output: String,
}

impl Default for ClientToml {
    fn default() -> Self {
        ClientToml {
            chain_id: String::new(),
            node: "http://127.0.0.1:26657".into(),
            keyring_backend: "file".into(),
            output: "text".into(),
        }
    }
}

pub fn load<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T> {
    if !path.exists() {
        return Ok(T::default());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

pub fn save<T: Serialize>(path: &Path, value: &T, header: &str) -> Result<()> {
    let body = toml::to_string_pretty(value)?;
    std::fs::write(path, format!("{header}\n{body}"))
        .with_context(|| format!("writing {}", path.display()))
}

/// Sets `dotted.key` to `value` in a TOML file, keeping its comments and layout. The value is
/// read as TOML when it parses (`true`, `42`, `"text"`), otherwise as a plain string.
pub fn set_key(path: &Path, dotted: &str, value: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    let parsed: toml_edit::Value = value
        .parse::<toml_edit::Value>()
        .unwrap_or_else(|_| toml_edit::Value::from(value));
    let parts: Vec<&str> = dotted.split('.').collect();
    let (last, tables) = parts.split_last().context("empty key")?;
    let mut table = doc.as_table_mut();
    for part in tables {
        table = table
            .get_mut(part)
            .and_then(|item| item.as_table_mut())
            .with_context(|| format!("{} has no table [{part}]", path.display()))?;
    }
    match table.get_mut(last) {
        Some(item) => {
            let decor = item.as_value().map(|v| v.decor().clone());
            let mut new = parsed;
            if let Some(decor) = decor {
                *new.decor_mut() = decor;
            }
            *item = toml_edit::Item::Value(new);
        }
        None => {
            table.insert(last, toml_edit::Item::Value(parsed));
        }
    }
    std::fs::write(path, doc.to_string()).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_key_keeps_comments_and_types() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "# top\nproxy_app = \"x\"\n\n[p2p]\n# peers\npersistent_peers = \"\"\naddr_book_strict = true\n").unwrap();
        set_key(&path, "p2p.persistent_peers", "a@127.0.0.1:1").unwrap();
        set_key(&path, "p2p.addr_book_strict", "false").unwrap();
        set_key(&path, "proxy_app", "tcp://127.0.0.1:26658").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# peers"));
        assert!(text.contains("persistent_peers = \"a@127.0.0.1:1\""));
        assert!(text.contains("addr_book_strict = false"));
        assert!(text.contains("proxy_app = \"tcp://127.0.0.1:26658\""));
        assert!(set_key(&path, "nope.key", "1").is_err());
    }
}
