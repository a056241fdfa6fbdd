//! `suretyd config`: read and change configuration files in place.

use super::Context;
use anyhow::Result;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Set a key, e.g. `config set cometbft p2p.persistent_peers id@127.0.0.1:26656`.
    Set {
        #[arg(value_enum)]
        file: File,
        /// Dotted key, e.g. `consensus.timeout_commit`.
        key: String,
        value: String,
    },
    /// Print a configuration file.
    Show {
        #[arg(value_enum)]
        file: File,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum File {
    /// `config/app.toml`
    App,
    /// `config/client.toml`
    Client,
    /// CometBFT's `cometbft/config/config.toml`
    Cometbft,
}

fn path(ctx: &Context, file: File) -> PathBuf {
    let home = ctx.home();
    match file {
        File::App => home.app_toml(),
        File::Client => home.client_toml(),
        File::Cometbft => home.cometbft_config_toml(),
    }
}

pub fn run(ctx: &Context, command: Command) -> Result<()> {
    match command {
        Command::Set { file, key, value } => crate::config::set_key(&path(ctx, file), &key, &value),
        Command::Show { file } => {
            print!("{}", std::fs::read_to_string(path(ctx, file))?);
            Ok(())
        }
    }
}
