//! `suretyd query` (alias `q`): read chain state through the node.

use super::{Context, NodeArgs};
use anyhow::{Context as _, Result};
use base64::Engine;
use serde_json::{json, Value};
use surety_proto::cosmos::auth::v1beta1 as auth;
use surety_proto::cosmos::bank::v1beta1 as bank;
use surety_proto::cosmos::base::v1beta1::Coin;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Bank queries.
    #[command(subcommand)]
    Bank(Bank),
    /// Auth queries.
    #[command(subcommand)]
    Auth(Auth),
    /// Validators, delegations and unbondings.
    #[command(subcommand)]
    Staking(super::staking::Query),
    /// Proposals, votes and tallies.
    #[command(subcommand)]
    Gov(super::gov::Query),
    /// Validators' liveness records and slashing params.
    #[command(subcommand)]
    Slashing(super::slashing::Query),
    /// Staking rewards, commission and the community pool.
    #[command(subcommand)]
    Distribution(super::distribution::Query),
    /// Risk pools, positions and the capital model.
    #[command(subcommand)]
    Pool(super::pool::Query),
    /// Products, quotes and policies.
    #[command(subcommand)]
    Policy(super::policy::Query),
    /// Claims.
    #[command(subcommand)]
    Claims(super::claims::Query),
    /// Oracle prices and incidents.
    #[command(subcommand)]
    Oracle(super::oracle::Query),
    /// IBC light clients, connections, channels and packets; cross-chain cover's remote
    /// accounts and remittances.
    #[command(subcommand)]
    Ibc(super::ibc::Query),
    /// ICS-20 vouchers: the paths their `ibc/<hash>` denoms stand for.
    #[command(subcommand)]
    IbcTransfer(super::ibc::TransferQuery),
    /// A committed transaction by hash: its result, events and decoded body.
    Tx {
        hash: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Committed transactions whose events match a query, e.g.
    /// `txs --query "message.sender='surety1…'"` or `--query "tx.height=5"`.
    Txs {
        #[arg(long)]
        query: String,
        /// Page, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Transactions per page (at most 100).
        #[arg(long, default_value_t = 30)]
        limit: u8,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A block as CometBFT stores it (the latest without a height).
    Block {
        height: Option<u64>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// A committed transaction as the SDK prints a `TxResponse`, its body decoded. The proposer's
/// injected oracle votes (each block's first entry once vote extensions are on) are no Cosmos
/// transaction: they are shown as such, with their bytes.
fn tx_json(tx: &tendermint_rpc::endpoint::tx::Response) -> Result<Value> {
    let mut value = crate::client::Committed::from(tx).to_json();
    value["index"] = tx.index.into();
    value["tx"] = if tx.tx.starts_with(surety_oracle::votes::INJECTED_PREFIX) {
        json!({
            "@type": "surety/oracle-votes/v1",
            "bytes": base64::engine::general_purpose::STANDARD.encode(&tx.tx),
        })
    } else {
        let mut decoded = crate::txbuilder::Parts::from_raw(&tx.tx)?.to_json()?;
        decoded["@type"] = "/cosmos.tx.v1beta1.Tx".into();
        decoded
    };
    Ok(value)
}

#[derive(clap::Subcommand)]
pub enum Bank {
    /// Balances of an address.
    Balances {
        address: String,
        /// Only this denom.
        #[arg(long)]
        denom: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Total supply of every denom.
    Total {
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum Auth {
    /// An account's number, sequence and public key.
    Account {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A module account's address, e.g. `module-account gov` (the authority of proposals).
    ModuleAccount { name: String },
}

fn coins_json(coins: &[Coin]) -> Value {
    Value::Array(
        coins
            .iter()
            .map(|c| json!({"denom": c.denom, "amount": c.amount}))
            .collect(),
    )
}

pub fn run(ctx: &Context, command: Command) -> Result<()> {
    let value = match command {
        Command::Pool(c) => return super::pool::run_query(ctx, c),
        Command::Policy(c) => return super::policy::run_query(ctx, c),
        Command::Claims(c) => return super::claims::run_query(ctx, c),
        Command::Oracle(c) => return super::oracle::run_query(ctx, c),
        Command::Ibc(c) => return super::ibc::run_query(ctx, c),
        Command::IbcTransfer(c) => return super::ibc::run_transfer_query(ctx, c),
        Command::Staking(c) => return super::staking::run_query(ctx, c),
        Command::Gov(c) => return super::gov::run_query(ctx, c),
        Command::Slashing(c) => return super::slashing::run_query(ctx, c),
        Command::Distribution(c) => return super::distribution::run_query(ctx, c),
        Command::Tx { hash, node } => tx_json(&node.client(ctx)?.tx(&hash)?)?,
        Command::Txs {
            query,
            page,
            limit,
            node,
        } => {
            anyhow::ensure!(page >= 1, "--page counts from 1");
            let limit = limit.clamp(1, 100);
            let r = node.client(ctx)?.tx_search(&query, page, limit)?;
            let txs = r.txs.iter().map(tx_json).collect::<Result<Vec<_>>>()?;
            json!({
                "total_count": r.total_count.to_string(),
                "count": txs.len().to_string(),
                "page_number": page.to_string(),
                "page_total": r.total_count.div_ceil(u32::from(limit)).max(1).to_string(),
                "limit": limit.to_string(),
                "txs": txs,
            })
        }
        Command::Block { height, node } => serde_json::to_value(node.client(ctx)?.block(height)?)?,
        Command::Bank(Bank::Balances {
            address,
            denom,
            node,
        }) => {
            let client = node.client(ctx)?;
            match denom {
                Some(denom) => {
                    let r: bank::QueryBalanceResponse = client.query(
                        "/cosmos.bank.v1beta1.Query/Balance",
                        &bank::QueryBalanceRequest { address, denom },
                    )?;
                    let c = r.balance.unwrap_or_default();
                    json!({"denom": c.denom, "amount": c.amount})
                }
                None => {
                    let r: bank::QueryAllBalancesResponse = client.query(
                        "/cosmos.bank.v1beta1.Query/AllBalances",
                        &bank::QueryAllBalancesRequest {
                            address,
                            pagination: None,
                            resolve_denom: false,
                        },
                    )?;
                    json!({"balances": coins_json(&r.balances)})
                }
            }
        }
        Command::Bank(Bank::Total { node }) => {
            let r: bank::QueryTotalSupplyResponse = node.client(ctx)?.query(
                "/cosmos.bank.v1beta1.Query/TotalSupply",
                &bank::QueryTotalSupplyRequest { pagination: None },
            )?;
            json!({"supply": coins_json(&r.supply)})
        }
        Command::Auth(Auth::ModuleAccount { name }) => {
            json!({"name": name, "address": surety_framework::Address::module(&name).to_bech32()})
        }
        Command::Auth(Auth::Account { address, node }) => {
            let client = node.client(ctx)?;
            let r: auth::QueryAccountResponse = client.query(
                "/cosmos.auth.v1beta1.Query/Account",
                &auth::QueryAccountRequest { address },
            )?;
            let any = r.account.context("empty response")?;
            // The SDK's JSON of the account, its public key (single or multisig) included.
            let account = crate::protojson::to_json(
                &crate::protojson::message("google.protobuf.Any").map_err(anyhow::Error::msg)?,
                &prost::Message::encode_to_vec(&any),
            )
            .map_err(anyhow::Error::msg)?;
            json!({ "account": account })
        }
    };
    ctx.print(&value);
    Ok(())
}
