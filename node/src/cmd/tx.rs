//! `suretyd tx`: build, sign and broadcast transactions.

use super::{Context, KeyringArgs, NodeArgs};
use crate::client::Client;
use crate::txbuilder::{Parts, Unsigned};
use anyhow::{bail, Context as _, Result};
use prost::Message as _;
use std::time::Duration;
use surety_auth::PublicKey;
use surety_framework::{Address, Coin, Coins};
use surety_proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, MsgSend, Output};
use surety_proto::cosmos::tx::signing::v1beta1::{
    signature_descriptor, SignMode, SignatureDescriptor, SignatureDescriptors,
};
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
    /// Sign a transaction's JSON (from `--generate-only`) with a key; prints the signed JSON.
    /// With --multisig, sign as one member of that multisig instead: prints the member's
    /// signature for `tx multisign`.
    Sign {
        /// The JSON file (`-` for standard input).
        file: std::path::PathBuf,
        #[arg(long)]
        from: String,
        /// The multisig (key name or address) this signature is for.
        #[arg(long)]
        multisig: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Combine multisig members' signatures (from `tx sign --multisig`) into the signed
    /// transaction; prints its JSON for `tx broadcast`.
    Multisign {
        /// The unsigned transaction's JSON (from `--generate-only`).
        file: std::path::PathBuf,
        /// The multisig key (name or address in the keyring).
        multisig: String,
        /// The members' signature files, at least the multisig's threshold of them.
        #[arg(required = true)]
        signatures: Vec<std::path::PathBuf>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Broadcast a signed transaction's JSON (from `tx sign` or `--offline`).
    Broadcast {
        /// The JSON file (`-` for standard input).
        file: std::path::PathBuf,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Simulate a signed transaction's JSON: the gas it uses and what it would do.
    Simulate {
        /// The JSON file (`-` for standard input).
        file: std::path::PathBuf,
        #[command(flatten)]
        tx: TxArgs,
    },
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
    /// Send the same coins from a key to each of several addresses in one transaction:
    /// `multi-send <from> <to>... <amount>` (with --split, the amount is divided among them).
    MultiSend {
        from: String,
        /// Recipients, then the coins (e.g. 1000usure) as the last argument.
        #[arg(num_args = 2.., required = true)]
        to_and_amount: Vec<String>,
        /// Divide the amount equally among the recipients instead of sending it to each.
        #[arg(long)]
        split: bool,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(clap::Args, Clone, Debug)]
pub struct TxArgs {
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
    /// Override the account sequence (for sending several transactions per block, or offline).
    #[arg(long)]
    pub sequence: Option<u64>,
    /// Override the account number (needed with --offline).
    #[arg(long)]
    pub account_number: Option<u64>,
    /// Print the unsigned transaction as JSON instead of signing it; `--from` may then be any
    /// address. Sign it with `tx sign`, broadcast it with `tx broadcast`.
    #[arg(long)]
    pub generate_only: bool,
    /// Sign without talking to a node: needs --chain-id, --account-number, --sequence and a
    /// numeric --gas; prints the signed transaction as JSON for `tx broadcast`.
    #[arg(long)]
    pub offline: bool,
    /// Simulate the transaction and print the gas it would use; broadcast nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the generated or signed JSON to this file instead of standard output.
    #[arg(long)]
    pub output_document: Option<std::path::PathBuf>,
    /// What the signature covers: `direct` (the protobuf SignDoc) or `amino-json` (the legacy
    /// JSON sign doc hardware wallets show; what multisig members sign).
    #[arg(long, value_enum, default_value_t = SignModeArg::Direct)]
    pub sign_mode: SignModeArg,
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub keyring: KeyringArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SignModeArg {
    Direct,
    AminoJson,
}

impl SignModeArg {
    fn mode(self) -> SignMode {
        match self {
            SignModeArg::Direct => SignMode::Direct,
            SignModeArg::AminoJson => SignMode::LegacyAminoJson,
        }
    }
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

/// The chain id, account number and sequence a signature commits to: from the flags, else
/// client.toml (chain id) and the node — never the node with `--offline`.
fn signer_data(
    ctx: &Context,
    args: &TxArgs,
    client: Option<&Client>,
    address: &str,
) -> Result<(String, u64, u64)> {
    let configured = match &args.node.chain_id {
        Some(c) => Some(c.clone()),
        None => Some(ctx.client_config()?.chain_id).filter(|c| !c.is_empty()),
    };
    if args.offline {
        return Ok((
            configured.context("--offline needs --chain-id (or chain_id in client.toml)")?,
            args.account_number
                .context("--offline needs --account-number")?,
            args.sequence.context("--offline needs --sequence")?,
        ));
    }
    let client = client.context("a node is needed for the account number and sequence")?;
    let chain_id = match configured {
        Some(c) => c,
        None => client.chain_id()?,
    };
    let (number, sequence) = match (args.account_number, args.sequence) {
        (Some(n), Some(s)) => (n, s),
        (n, s) => {
            let account = client.account(address)?.with_context(|| {
                format!(
                    "account {address} does not exist on chain yet; it must receive funds first"
                )
            })?;
            (
                n.unwrap_or(account.account_number),
                s.unwrap_or(account.sequence),
            )
        }
    };
    Ok((chain_id, number, sequence))
}

fn simulate(client: &Client, tx_bytes: Vec<u8>) -> Result<SimulateResponse> {
    #[allow(deprecated)]
    let request = SimulateRequest { tx: None, tx_bytes };
    client
        .query("/cosmos.tx.v1beta1.Service/Simulate", &request)
        .context("simulating the transaction")
}

/// One client for a whole command (it checks `--chain-id` once); none with `--offline`.
fn node_client(ctx: &Context, args: &TxArgs) -> Result<Option<Client>> {
    if args.offline {
        return Ok(None);
    }
    args.node.client(ctx).map(Some)
}

/// Signs `messages` as `from` and broadcasts them, printing the result; or, as the flags say,
/// prints them unsigned (`--generate-only`), signed (`--offline`) or simulated (`--dry-run`).
pub fn broadcast(ctx: &Context, from: &str, messages: Vec<Any>, args: &TxArgs) -> Result<()> {
    let ring = args.keyring.open(ctx)?;
    let (address, pubkey) = match ring.get(from) {
        Ok(info) => (info.address.clone(), Some(super::keys::public_key(&info)?)),
        Err(_) if args.generate_only && Address::from_bech32(from).is_ok() => {
            (from.to_string(), None)
        }
        Err(e) => return Err(e),
    };
    let client = node_client(ctx, args)?;
    let (chain_id, account_number, sequence) = signer_data(ctx, args, client.as_ref(), &address)?;
    let mut unsigned = Unsigned {
        messages,
        memo: args.memo.clone(),
        fee: Coins::new(),
        gas_limit: 0,
        account_number,
        sequence,
        chain_id,
    };
    let simulated = if args.gas == "auto" || args.dry_run {
        anyhow::ensure!(
            !args.offline,
            "--gas auto and --dry-run need a node; not with --offline"
        );
        let pubkey = pubkey
            .as_ref()
            .context("--gas auto needs the signer's key in the keyring (for its public key)")?;
        let mut parts = unsigned.parts();
        parts.set_signer(pubkey, sequence, args.sign_mode.mode());
        let client = client.as_ref().context("a node is needed to simulate")?;
        Some(simulate(client, parts.raw())?)
    } else {
        None
    };
    if args.dry_run {
        let used = simulated.and_then(|s| s.gas_info).map_or(0, |g| g.gas_used);
        ctx.print(&serde_json::json!({"gas_estimate": used.to_string()}));
        return Ok(());
    }
    unsigned.gas_limit = match simulated {
        Some(s) => {
            let used = s.gas_info.context("no gas info")?.gas_used;
            let adjusted = (used as f64 * args.gas_adjustment).ceil() as u64;
            eprintln!("gas estimate: {adjusted}");
            adjusted
        }
        None => args
            .gas
            .parse()
            .with_context(|| format!("--gas must be a number or auto, not {}", args.gas))?,
    };
    unsigned.fee = match &args.fees {
        Some(fees) => fees
            .parse()
            .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?,
        None => fee_for(unsigned.gas_limit, &args.gas_prices)?,
    };
    let mut parts = unsigned.parts();
    if args.generate_only {
        return write_document(args, &parts);
    }
    let key = ring.signing_key(from)?;
    parts.sign(
        &key,
        args.sign_mode.mode(),
        sequence,
        &unsigned.chain_id,
        account_number,
    )?;
    if args.offline {
        return write_document(args, &parts);
    }
    let client = client.context("a node is needed to broadcast")?;
    submit(ctx, args, &client, parts.raw())
}

/// Prints (or writes to `--output-document`) a transaction's JSON: JSON whatever `--output`
/// says, since it is a document for `tx sign` and `tx broadcast` to read.
fn write_document(args: &TxArgs, parts: &Parts) -> Result<()> {
    write_text(
        args,
        serde_json::to_string_pretty(&parts.to_json()?)? + "\n",
    )
}

fn write_text(args: &TxArgs, text: String) -> Result<()> {
    match &args.output_document {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Broadcasts a signed transaction and, in commit mode, waits for its block and prints it.
fn submit(ctx: &Context, args: &TxArgs, client: &Client, tx: Vec<u8>) -> Result<()> {
    let hash = client.broadcast_sync(tx)?;
    if args.broadcast_mode == BroadcastMode::Sync {
        ctx.print(&serde_json::json!({"txhash": hash, "code": 0}));
        return Ok(());
    }
    let committed = client.wait_committed(&hash, Duration::from_secs(60))?;
    ctx.print(&committed.to_json());
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

/// Reads a JSON document from a file, or standard input for `-`.
fn read_json(path: &std::path::Path) -> Result<serde_json::Value> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// Reads a transaction's JSON.
fn read_document(path: &std::path::Path) -> Result<Parts> {
    Parts::from_json(&read_json(path)?)
}

/// A multisig key from the keyring: its address and public key.
fn multisig_key(ring: &surety_keyring::Keyring, name: &str) -> Result<(String, PublicKey)> {
    let info = ring.get(name)?;
    anyhow::ensure!(
        info.multisig.is_some(),
        "'{name}' is not a multisig key (create one with `keys add --multisig`)"
    );
    Ok((info.address.clone(), super::keys::public_key(&info)?))
}

/// Where `member` sits among a multisig's keys.
fn member_index(multisig: &PublicKey, member: &[u8]) -> Result<usize> {
    let PublicKey::Multisig(m) = multisig else {
        bail!("not a multisig key");
    };
    m.keys
        .iter()
        .position(|k| k == member)
        .context("the signing key is not one of the multisig's keys")
}

/// One member's signature as the SDK's `SignatureDescriptors` JSON (what `simd tx sign
/// --multisig` writes and `simd tx multisign` reads).
fn signature_document(member: &[u8], signature: &[u8], sequence: u64) -> Result<serde_json::Value> {
    let descriptors = SignatureDescriptors {
        signatures: vec![SignatureDescriptor {
            public_key: Some(PublicKey::Secp256k1(member.to_vec()).to_any()),
            data: Some(signature_descriptor::Data {
                sum: Some(signature_descriptor::data::Sum::Single(
                    signature_descriptor::data::Single {
                        mode: SignMode::LegacyAminoJson as i32,
                        signature: signature.to_vec(),
                    },
                )),
            }),
            sequence,
        }],
    };
    crate::protojson::to_json(
        &crate::protojson::message("cosmos.tx.signing.v1beta1.SignatureDescriptors")
            .map_err(anyhow::Error::msg)?,
        &descriptors.encode_to_vec(),
    )
    .map_err(anyhow::Error::msg)
}

/// Reads [`signature_document`]'s JSON: the member's key, its signature and the sequence.
fn read_signature(path: &std::path::Path) -> Result<(Vec<u8>, Vec<u8>, u64)> {
    let bytes = crate::protojson::from_json(
        &crate::protojson::message("cosmos.tx.signing.v1beta1.SignatureDescriptors")
            .map_err(anyhow::Error::msg)?,
        &read_json(path)?,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let descriptors = SignatureDescriptors::decode(bytes.as_slice())?;
    let [descriptor] = descriptors.signatures.as_slice() else {
        bail!("{}: expected one signature", path.display());
    };
    let key = descriptor
        .public_key
        .as_ref()
        .context("the signature names no public key")?;
    let PublicKey::Secp256k1(member) =
        PublicKey::from_any(key).map_err(|e| anyhow::anyhow!(e.log))?
    else {
        bail!("{}: a member's key must be a single key", path.display());
    };
    let Some(signature_descriptor::data::Sum::Single(single)) =
        descriptor.data.as_ref().and_then(|d| d.sum.as_ref())
    else {
        bail!("{}: expected a single signature", path.display());
    };
    anyhow::ensure!(
        single.mode == SignMode::LegacyAminoJson as i32,
        "{}: multisig members sign in amino-json mode",
        path.display()
    );
    Ok((member, single.signature.clone(), descriptor.sequence))
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
        Command::Sign {
            file,
            from,
            multisig: None,
            tx,
        } => {
            let mut parts = read_document(&file)?;
            let key = tx.keyring.open(ctx)?.signing_key(&from)?;
            let address = Address::from_secp256k1(&key.public_key().to_bytes()).to_bech32();
            let client = node_client(ctx, &tx)?;
            let (chain_id, number, sequence) = signer_data(ctx, &tx, client.as_ref(), &address)?;
            parts.sign(&key, tx.sign_mode.mode(), sequence, &chain_id, number)?;
            write_document(&tx, &parts)
        }
        Command::Sign {
            file,
            from,
            multisig: Some(multisig),
            tx,
        } => {
            let parts = read_document(&file)?;
            let ring = tx.keyring.open(ctx)?;
            let key = ring.signing_key(&from)?;
            let multisig = multisig_key(&ring, &multisig)?;
            let member = key.public_key().to_bytes();
            member_index(&multisig.1, &member)?;
            let client = node_client(ctx, &tx)?;
            let (chain_id, number, sequence) = signer_data(ctx, &tx, client.as_ref(), &multisig.0)?;
            let bytes = parts.sign_bytes(SignMode::LegacyAminoJson, &chain_id, number, sequence)?;
            let signature = key
                .sign(&bytes)
                .map_err(|e| anyhow::anyhow!("signing failed: {e}"))?;
            let document = signature_document(&member, &signature.to_bytes(), sequence)?;
            write_text(&tx, serde_json::to_string_pretty(&document)? + "\n")
        }
        Command::Multisign {
            file,
            multisig,
            signatures,
            tx,
        } => {
            let mut parts = read_document(&file)?;
            let ring = tx.keyring.open(ctx)?;
            let (address, key) = multisig_key(&ring, &multisig)?;
            let client = node_client(ctx, &tx)?;
            let (chain_id, number, sequence) = signer_data(ctx, &tx, client.as_ref(), &address)?;
            let bytes = parts.sign_bytes(SignMode::LegacyAminoJson, &chain_id, number, sequence)?;
            let mut collected = Vec::new();
            for path in &signatures {
                let (member, signature, signed_sequence) = read_signature(path)?;
                let index =
                    member_index(&key, &member).with_context(|| format!("{}", path.display()))?;
                anyhow::ensure!(
                    signed_sequence == sequence,
                    "{} signs sequence {signed_sequence}; the multisig's is {sequence}",
                    path.display()
                );
                surety_auth::verify_secp256k1(&member, &bytes, &signature).map_err(|_| {
                    anyhow::anyhow!(
                        "{}: the signature does not verify for this transaction (account \
                         number {number}, sequence {sequence}, chain id {chain_id})",
                        path.display()
                    )
                })?;
                collected.push((index, signature));
            }
            parts.set_multisignature(&key, sequence, collected)?;
            write_document(&tx, &parts)
        }
        Command::Broadcast { file, tx } => {
            let client = tx.node.client(ctx)?;
            submit(ctx, &tx, &client, read_document(&file)?.raw())
        }
        Command::Simulate { file, tx } => {
            let parts = read_document(&file)?;
            anyhow::ensure!(
                !parts.auth_info.signer_infos.is_empty(),
                "the transaction has no signer yet: sign it with `tx sign`, or simulate a \
                 command with --dry-run"
            );
            let r = simulate(&tx.node.client(ctx)?, parts.raw())?;
            let gas = r.gas_info.unwrap_or_default();
            let result = r.result.unwrap_or_default();
            ctx.print(&serde_json::json!({
                "gas_used": gas.gas_used.to_string(),
                "gas_wanted": gas.gas_wanted.to_string(),
                "log": result.log,
                "events": result.events.iter().map(|e| serde_json::json!({
                    "type": e.r#type,
                    "attributes": e.attributes.iter()
                        .map(|a| (a.key.clone(), serde_json::Value::String(a.value.clone())))
                        .collect::<serde_json::Map<_, _>>(),
                })).collect::<Vec<_>>(),
            }));
            Ok(())
        }
        Command::Bank(Bank::MultiSend {
            from,
            mut to_and_amount,
            split,
            tx,
        }) => {
            let amount = to_and_amount.pop().unwrap_or_default();
            let recipients = to_and_amount;
            let amount: Coins = amount
                .parse()
                .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?;
            anyhow::ensure!(!amount.is_empty(), "amount must be positive");
            for to in &recipients {
                Address::from_bech32(to)
                    .map_err(|e| anyhow::anyhow!("recipient {to}: {}", e.log))?;
            }
            let n = recipients.len() as u128;
            let each: Vec<Coin> = amount
                .iter()
                .map(|c| Coin::new(if split { c.amount / n } else { c.amount }, c.denom.clone()))
                .filter(|c| c.amount > 0)
                .collect();
            let each = Coins::from_vec(each).map_err(|e| anyhow::anyhow!(e.log))?;
            anyhow::ensure!(
                !each.is_empty(),
                "the split leaves nothing for each recipient"
            );
            let total: Vec<Coin> = each
                .iter()
                .map(|c| {
                    c.amount
                        .checked_mul(n)
                        .map(|amount| Coin::new(amount, c.denom.clone()))
                        .context("the total sent overflows")
                })
                .collect::<Result<_>>()?;
            let total = Coins::from_vec(total).map_err(|e| anyhow::anyhow!(e.log))?;
            let msg = MsgMultiSend {
                inputs: vec![Input {
                    address: key_address(ctx, &from, &tx)?,
                    coins: total.to_proto(),
                }],
                outputs: recipients
                    .into_iter()
                    .map(|address| Output {
                        address,
                        coins: each.to_proto(),
                    })
                    .collect(),
            };
            broadcast(ctx, &from, vec![to_any(&msg)], &tx)
        }
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

/// The address of a key in the keyring; with `--generate-only`, `from` may be any address.
pub fn key_address(ctx: &Context, from: &str, tx: &TxArgs) -> Result<String> {
    match tx.keyring.open(ctx)?.get(from) {
        Err(_) if tx.generate_only && Address::from_bech32(from).is_ok() => Ok(from.to_string()),
        found => Ok(found?.address),
    }
}
