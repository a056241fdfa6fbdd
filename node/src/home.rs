//! Where a node keeps its files.
//!
//! ```text
//! <home>/config/app.toml      the app's settings
//! <home>/config/client.toml   defaults for CLI commands (node, chain id, keyring backend)
//! <home>/config/gentx/        genesis transactions
//! <home>/data/                the app's RocksDB merkle store
//! <home>/cometbft/            CometBFT's own home (config.toml, genesis.json, keys, block store)
//! <home>/keyring-<backend>/   keys
//! ```

use std::path::{Path, PathBuf};

pub fn default_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".surety")
}

pub struct Home<'a>(pub &'a Path);

impl Home<'_> {
    pub fn config_dir(&self) -> PathBuf {
        self.0.join("config")
    }
    pub fn app_toml(&self) -> PathBuf {
        self.config_dir().join("app.toml")
    }
    pub fn client_toml(&self) -> PathBuf {
        self.config_dir().join("client.toml")
    }
    pub fn gentx_dir(&self) -> PathBuf {
        self.config_dir().join("gentx")
    }
    pub fn data_dir(&self) -> PathBuf {
        self.0.join("data")
    }
    pub fn cometbft(&self) -> PathBuf {
        self.0.join("cometbft")
    }
    pub fn cometbft_config_toml(&self) -> PathBuf {
        self.cometbft().join("config").join("config.toml")
    }
    pub fn genesis(&self) -> PathBuf {
        self.cometbft().join("config").join("genesis.json")
    }
    pub fn priv_validator_key(&self) -> PathBuf {
        self.cometbft()
            .join("config")
            .join("priv_validator_key.json")
    }
}
