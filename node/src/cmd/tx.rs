//! `suretyd tx`: build, sign and broadcast transactions.

use super::{Context, KeyringArgs, NodeArgs};
use crate::txbuilder::{for_simulation, sign, Unsigned};
use anyhow::{bail, Context as _, Result};
use std::time::Duration;
use surety_framework::{Address, Coin, Coins};
use surety_proto::cosmos::bank::v1beta1::MsgSend;
use surety_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use surety_proto::{to_any, Any};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Bank transactions.
    #[command(subcommand)]
    Bank(Bank),
    /// Provide capital to risk pools.
    #[command(subcommand)]
    Pool(super::pool::Tx),
    /// Buy and transfer cover.
    #[command(subcommand)]
    Policy(super::policy::Tx),
    /// File, assess and appeal claims.
    #[command(subcommand)]
    Claims(super::claims::Tx),
    /// Report and attest incidents.
    #[command(subcommand)]
    Oracle(super::oracle::Tx),
    /// Validators and delegations.
    #[command(subcommand)]
    Staking(super::staking::Tx),
    /// Proposals, deposits and votes.
    #[command(subcommand)]
    Gov(super::gov::Tx),
    /// Unjail a validator.
    #[command(subcommand)]
    Slashing(super::slashing::Tx),
    /// Withdraw staking rewards and commission.
    #[command(subcommand)]
    Distribution(super::distribution::Tx),
    /// Send tokens to another chain over ICS-20.
    #[command(subcommand)]
    IbcTransfer(super::ibc::TransferTx),
}

#[derive(clap::Subcommand)]
pub enum Bank {
    /// Send coins from a key to an address.
    Send {
        /// Key name or address in the keyring.
        from: String,
        to: String,
        /// Coins, e.g. 1000usure
        amount: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Args, Clone, Debug)]
pub struct TxArgs {
    #[arg(long)]
    pub chain_id: Option<String>,
    /// Fee to pay, e.g. 5000usure (default: gas × --gas-prices).
    #[arg(long)]
    pub fees: Option<String>,
    /// Price per unit of gas used to compute the fee when --fees is not given.
    #[arg(long, default_value = "0.0025usure")]
    pub gas_prices: String,
    /// Gas limit, or `auto` to estimate it with Simulate.
    #[arg(long, default_value = "200000")]
    pub gas: String,
    /// Multiplier on the simulated gas with `--gas auto`.
    #[arg(long, default_value_t = 1.5)]
    pub gas_adjustment: f64,
    #[arg(long, default_value = "")]
    pub memo: String,
    /// `commit` waits until the transaction is in a block; `sync` returns once the mempool accepts it.
    #[arg(long, value_enum, default_value_t = BroadcastMode::Commit)]
    pub broadcast_mode: BroadcastMode,
    /// Override the account sequence (for sending several transactions per block).
    #[arg(long)]
    pub sequence: Option<u64>,
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub keyring: KeyringArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BroadcastMode {
    Sync,
    Commit,
}

fn fee_for(gas: u64, gas_prices: &str) -> Result<Coins> {
    let prices: surety_app::MinGasPrices = gas_prices.parse().map_err(anyhow::Error::msg)?;
    let coins = prices
        .0
        .iter()
        .take(1)
        .map(|(denom, price)| {
            Coin::new(
                (price * gas as u128).div_ceil(10u128.pow(18)),
                denom.clone(),
            )
        })
        .filter(|c| c.amount > 0)
        .collect();
    Coins::from_vec(coins).map_err(|e| anyhow::anyhow!(e.log))
}

/// Signs `messages` with `from`'s key and broadcasts them; prints the result.
pub fn broadcast(ctx: &Context, from: &str, messages: Vec<Any>, args: &TxArgs) -> Result<()> {
    let key = args.keyring.open(ctx)?.signing_key(from)?;
    let address = Address::from_secp256k1(&key.public_key().to_bytes()).to_bech32();
    let client = args.node.client(ctx)?;
    let chain_id = match &args.chain_id {
        Some(c) => c.clone(),
        None => match ctx.client_config()?.chain_id {
            c if !c.is_empty() => c,
            _ => client.chain_id()?,
        },
    };
    let account = client.account(&address)?.with_context(|| {
        format!("account {address} does not exist on chain yet; it must receive funds first")
    })?;
    let mut unsigned = Unsigned {
        messages,
        memo: args.memo.clone(),
        fee: Coins::new(),
        gas_limit: 0,
        account_number: account.account_number,
        sequence: args.sequence.unwrap_or(account.sequence),
        chain_id,
    };
    unsigned.gas_limit = if args.gas == "auto" {
        let tx = for_simulation(&key, &unsigned)?;
        #[allow(deprecated)]
        let request = SimulateRequest {
            tx: None,
            tx_bytes: tx,
        };
        let response: SimulateResponse = client
            .query("/cosmos.tx.v1beta1.Service/Simulate", &request)
            .context("simulating the transaction")?;
        let used = response.gas_info.context("no gas info")?.gas_used;
        let adjusted = (used as f64 * args.gas_adjustment).ceil() as u64;
        eprintln!("gas estimate: {adjusted}");
        adjusted
    } else {
        args.gas
            .parse()
            .with_context(|| format!("--gas must be a number or auto, not {}", args.gas))?
    };
    unsigned.fee = match &args.fees {
        Some(fees) => fees
            .parse()
            .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?,
        None => fee_for(unsigned.gas_limit, &args.gas_prices)?,
    };
    let tx = sign(&key, &unsigned)?;
    let hash = client.broadcast_sync(tx)?;
    if args.broadcast_mode == BroadcastMode::Sync {
        ctx.print(&serde_json::json!({"txhash": hash, "code": 0}));
        return Ok(());
    }
    let committed = client.wait_committed(&hash, Duration::from_secs(60))?;
    ctx.print(&serde_json::json!({
        "txhash": committed.hash,
        "height": committed.height.to_string(),
        "code": committed.code,
        "codespace": committed.codespace,
        "raw_log": committed.log,
        "gas_wanted": committed.gas_wanted.to_string(),
        "gas_used": committed.gas_used.to_string(),
        "events": committed.events.iter().map(|(kind, attrs)| {
            let attrs: serde_json::Map<String, serde_json::Value> = attrs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            serde_json::json!({"type": kind, "attributes": attrs})
        }).collect::<Vec<_>>(),
    }));
    if committed.code != 0 {
        bail!(
            "transaction failed in block {}: {} (codespace {}, code {})",
            committed.height,
            committed.log,
            committed.codespace,
            committed.code
        );
    }
    Ok(())
}

pub fn run(ctx: &Context, command: Command) -> Result<()> {
    match command {
        Command::Pool(c) => super::pool::run_tx(ctx, c),
        Command::Policy(c) => super::policy::run_tx(ctx, c),
        Command::Claims(c) => super::claims::run_tx(ctx, c),
        Command::Oracle(c) => super::oracle::run_tx(ctx, c),
        Command::Staking(c) => super::staking::run_tx(ctx, c),
        Command::Gov(c) => super::gov::run_tx(ctx, c),
        Command::Slashing(c) => super::slashing::run_tx(ctx, c),
        Command::Distribution(c) => super::distribution::run_tx(ctx, c),
        Command::IbcTransfer(c) => super::ibc::run_transfer_tx(ctx, c),
        Command::Bank(Bank::Send {
            from,
            to,
            amount,
            tx,
        }) => {
            Address::from_bech32(&to).map_err(|e| anyhow::anyhow!("recipient: {}", e.log))?;
            let amount: Coins = amount
                .parse()
                .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?;
            if amount.is_empty() {
                bail!("amount must be positive");
            }
            let key_address = key_address(ctx, &from, &tx)?;
            let msg = MsgSend {
                from_address: key_address,
                to_address: to,
                amount: amount.to_proto(),
            };
            broadcast(ctx, &from, vec![to_any(&msg)], &tx)
        }
    }
}

/// The address of a key in the keyring.
pub fn key_address(ctx: &Context, from: &str, tx: &TxArgs) -> Result<String> {
    Ok(tx.keyring.open(ctx)?.get(from)?.address)
}
