//! One module per top-level command.

pub mod claims;
pub mod comet;
pub mod config;
pub mod distribution;
pub mod export;
pub mod genesis;
pub mod gov;
pub mod ibc;
pub mod init;
pub mod keys;
pub mod loadgen;
pub mod oracle;
pub mod policy;
pub mod pool;
pub mod query;
pub mod rollback;
pub mod slashing;
pub mod staking;
pub mod start;
pub mod status;
pub mod tx;
pub mod version;

use crate::config::{load, ClientToml};
use crate::home::Home;
use crate::output::Format;
use anyhow::Result;
use std::path::PathBuf;
use surety_keyring::{Backend, Keyring};

pub struct Context {
    pub home: PathBuf,
    pub output: Format,
}

impl Context {
    pub fn home(&self) -> Home<'_> {
        Home(&self.home)
    }

    pub fn client_config(&self) -> Result<ClientToml> {
        load(&self.home().client_toml())
    }

    pub fn print(&self, value: &serde_json::Value) {
        crate::output::print(self.output, value)
    }
}

/// Flags shared by commands that use keys.
#[derive(clap::Args, Clone, Debug)]
pub struct KeyringArgs {
    /// Keyring backend: `file` (encrypted) or `test` (unencrypted, for scripts). Default from client.toml.
    #[arg(long)]
    pub keyring_backend: Option<String>,
}

impl KeyringArgs {
    pub fn open(&self, ctx: &Context) -> Result<Keyring> {
        let backend = match &self.keyring_backend {
            Some(b) => b.clone(),
            None => ctx.client_config()?.keyring_backend,
        };
        let backend: Backend = backend.parse()?;
        Keyring::open(&ctx.home, backend)
    }
}

/// Flags shared by commands that talk to a node.
#[derive(clap::Args, Clone, Debug)]
pub struct NodeArgs {
    /// CometBFT RPC address of the node. Default from client.toml.
    #[arg(long)]
    pub node: Option<String>,
    /// The chain to talk to: the node must serve it (and transactions are signed for it).
    /// Default from client.toml.
    #[arg(long)]
    pub chain_id: Option<String>,
}

impl NodeArgs {
    pub fn url(&self, ctx: &Context) -> Result<String> {
        Ok(match &self.node {
            Some(n) => n.clone(),
            None => ctx.client_config()?.node,
        })
    }

    /// A client of the node, after checking it serves `--chain-id` when that was given.
    pub fn client(&self, ctx: &Context) -> Result<crate::client::Client> {
        let url = self.url(ctx)?;
        let client = crate::client::Client::new(&url)?;
        if let Some(wanted) = &self.chain_id {
            let served = client.chain_id()?;
            anyhow::ensure!(
                &served == wanted,
                "node {url} serves chain {served}, not --chain-id {wanted}"
            );
        }
        Ok(client)
    }
}
