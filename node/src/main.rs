//! `suretyd`: the Surety node and its command-line client.

mod capital;
mod client;
mod cmd;
mod cometbft;
mod config;
mod feeds;
mod grpc;
mod home;
mod metrics;
mod output;
mod protojson;
mod rest;
mod txbuilder;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "suretyd",
    version,
    about = "Surety: a sovereign chain for DeFi insurance"
)]
struct Cli {
    /// Node home directory.
    #[arg(long, global = true, env = "SURETY_HOME", default_value_os_t = home::default_home())]
    home: PathBuf,
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = output::Format::Text)]
    output: output::Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the node's home: app config and CometBFT's config, genesis and keys.
    Init(cmd::init::Args),
    /// Run the node: the ABCI app, its gRPC server and a supervised CometBFT.
    Start(cmd::start::Args),
    /// Show the node's CometBFT status.
    Status(cmd::status::Args),
    /// Manage keys.
    #[command(subcommand)]
    Keys(cmd::keys::Command),
    /// Build the genesis file.
    #[command(subcommand)]
    Genesis(cmd::genesis::Command),
    /// Sign and broadcast transactions.
    #[command(subcommand)]
    Tx(cmd::tx::Command),
    /// Query chain state.
    #[command(subcommand, alias = "q")]
    Query(cmd::query::Command),
    /// Load generator: measures committed transactions per second.
    Loadgen(cmd::loadgen::Args),
    /// Read and change configuration files.
    #[command(subcommand)]
    Config(cmd::config::Command),
    /// Write the latest state as a genesis file a chain restarts from at the next height (node
    /// stopped).
    Export(cmd::export::Args),
    /// Step a stopped node back one height (CometBFT's state and the app's) to execute its
    /// last block again.
    Rollback(cmd::rollback::Args),
    /// This node's CometBFT identity: node id, consensus key and address.
    #[command(subcommand)]
    Comet(cmd::comet::Command),
    /// Print the version (`--long`: the commit and what it runs with).
    Version(cmd::version::Args),
    /// Print a shell completion script: `suretyd completion bash > /etc/bash_completion.d/suretyd`.
    Completion { shell: clap_complete::Shell },
}

/// mimalloc rather than the system allocator: the node allocates for nearly every read, write
/// and event, and glibc's malloc and free were 15 % of its CPU under cover purchases.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = cmd::Context {
        home: cli.home,
        output: cli.output,
    };
    let result = match cli.command {
        Command::Init(args) => cmd::init::run(&ctx, args),
        Command::Start(args) => cmd::start::run(&ctx, args),
        Command::Status(args) => cmd::status::run(&ctx, args),
        Command::Keys(c) => cmd::keys::run(&ctx, c),
        Command::Genesis(c) => cmd::genesis::run(&ctx, c),
        Command::Tx(c) => cmd::tx::run(&ctx, c),
        Command::Query(c) => cmd::query::run(&ctx, c),
        Command::Config(c) => cmd::config::run(&ctx, c),
        Command::Loadgen(args) => cmd::loadgen::run(&ctx, args),
        Command::Comet(c) => cmd::comet::run(&ctx, c),
        Command::Export(args) => cmd::export::run(&ctx, args),
        Command::Rollback(args) => cmd::rollback::run(&ctx, args),
        Command::Version(args) => cmd::version::run(&ctx, args),
        Command::Completion { shell } => {
            use clap::CommandFactory;
            use std::io::Write as _;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "suretyd", &mut script);
            std::io::stdout().write_all(&script).map_err(Into::into)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
