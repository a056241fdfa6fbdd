//! `suretyd genesis`: fund accounts, create gentxs, collect them, and validate the result.

use super::{Context, KeyringArgs};
use crate::txbuilder::{sign, Unsigned};
use anyhow::{bail, Context as _, Result};
use base64::Engine;
use std::path::PathBuf;
use surety_framework::{Address, Coin, Coins, VALIDATOR_PREFIX};
use surety_genesis::GenesisFile;
use surety_proto::cosmos::crypto::ed25519::PubKey as Ed25519PubKey;
use surety_proto::cosmos::staking::v1beta1::{CommissionRates, Description, MsgCreateValidator};
use surety_proto::to_any;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Fund an account (address or key name) in genesis.
    AddAccount {
        address_or_key: String,
        /// Coins, e.g. 1000000usure,1000000uusdc
        coins: String,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Create this node's genesis transaction: a MsgCreateValidator bonding AMOUNT.
    Gentx {
        key: String,
        /// Self-bond, e.g. 100000000usure
        amount: String,
        #[arg(long)]
        chain_id: Option<String>,
        /// Validator name (default: this node's moniker).
        #[arg(long)]
        moniker: Option<String>,
        /// Commission rate, a decimal such as 0.1.
        #[arg(long, default_value = "0.1")]
        commission_rate: String,
        #[arg(long, default_value = "0.2")]
        commission_max_rate: String,
        #[arg(long, default_value = "0.01")]
        commission_max_change_rate: String,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Put every gentx into the genesis file.
    CollectGentxs {
        /// Directory of gentx files (default: <home>/config/gentx).
        #[arg(long)]
        gentx_dir: Option<PathBuf>,
    },
    /// Add the localnet's demo market: pools, products, oracle feeds and short claim periods.
    DemoMarket,
    /// Check the genesis file.
    Validate {
        /// A genesis file (default: this home's).
        file: Option<PathBuf>,
    },
}

/// Decimal string → `LegacyDec` wire form (value × 10^18).
fn dec18(s: &str) -> Result<String> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 18
        || whole.is_empty() && frac.is_empty()
        || !format!("{whole}{frac}").chars().all(|c| c.is_ascii_digit())
    {
        bail!("invalid decimal {s:?}");
    }
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse()? };
    let frac: u128 = format!("{frac:0<18}").parse()?;
    Ok((whole * 10u128.pow(18) + frac).to_string())
}

fn load_genesis(ctx: &Context) -> Result<GenesisFile> {
    GenesisFile::load(&ctx.home().genesis()).map_err(anyhow::Error::msg)
}

/// This node's moniker, from CometBFT's config.
pub fn moniker(ctx: &Context) -> Result<String> {
    Ok(
        crate::config::load::<toml::Table>(&ctx.home().cometbft_config_toml())?
            .get("moniker")
            .and_then(|m| m.as_str())
            .unwrap_or("validator")
            .to_string(),
    )
}

/// CometBFT's validator key: the ed25519 public key, from `priv_validator_key.json`.
pub fn consensus_pubkey(ctx: &Context) -> Result<Vec<u8>> {
    let path = ctx.home().priv_validator_key();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    let value = json["pub_key"]["value"]
        .as_str()
        .context("priv_validator_key.json has no pub_key.value")?;
    Ok(base64::engine::general_purpose::STANDARD.decode(value)?)
}

pub fn run(ctx: &Context, command: Command) -> Result<()> {
    match command {
        Command::AddAccount {
            address_or_key,
            coins,
            keyring,
        } => {
            let address = match Address::from_bech32(&address_or_key) {
                Ok(a) => a,
                Err(_) => {
                    let info = keyring.open(ctx)?.get(&address_or_key).with_context(|| {
                        format!("{address_or_key} is neither an address nor a key in the keyring")
                    })?;
                    Address::from_bech32(&info.address).map_err(|e| anyhow::anyhow!(e.log))?
                }
            };
            let coins: Coins = coins
                .parse()
                .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?;
            let mut genesis = load_genesis(ctx)?;
            let mut state = genesis.app_state().map_err(anyhow::Error::msg)?;
            state
                .add_account(&address, &coins)
                .map_err(anyhow::Error::msg)?;
            genesis.set_app_state(&state);
            genesis
                .save(&ctx.home().genesis())
                .map_err(anyhow::Error::msg)?;
            ctx.print(
                &serde_json::json!({"address": address.to_bech32(), "added": coins.to_string()}),
            );
        }
        Command::Gentx {
            key,
            amount,
            chain_id,
            moniker,
            commission_rate,
            commission_max_rate,
            commission_max_change_rate,
            keyring,
        } => {
            let genesis = load_genesis(ctx)?;
            let chain_id = match chain_id {
                Some(c) => c,
                None => genesis.chain_id().map_err(anyhow::Error::msg)?,
            };
            let signing_key = keyring.open(ctx)?.signing_key(&key)?;
            let operator = Address::from_secp256k1(&signing_key.public_key().to_bytes());
            let moniker = match moniker {
                Some(m) => m,
                None => self::moniker(ctx)?,
            };
            let value: Coin = amount
                .parse()
                .map_err(|e: surety_framework::Error| anyhow::anyhow!(e.log))?;
            #[allow(deprecated)]
            let msg = MsgCreateValidator {
                description: Some(Description {
                    moniker: moniker.clone(),
                    ..Default::default()
                }),
                commission: Some(CommissionRates {
                    rate: dec18(&commission_rate)?,
                    max_rate: dec18(&commission_max_rate)?,
                    max_change_rate: dec18(&commission_max_change_rate)?,
                }),
                min_self_delegation: "1".into(),
                delegator_address: String::new(),
                validator_address: operator.to_bech32_with(VALIDATOR_PREFIX),
                pubkey: Some(to_any(&Ed25519PubKey {
                    key: consensus_pubkey(ctx)?,
                })),
                value: Some(value.to_proto()),
            };
            let tx = sign(
                &signing_key,
                &Unsigned {
                    messages: vec![to_any(&msg)],
                    memo: String::new(),
                    fee: Coins::new(),
                    gas_limit: 400_000,
                    account_number: 0,
                    sequence: 0,
                    chain_id: chain_id.clone(),
                },
            )?;
            let state = genesis.app_state().map_err(anyhow::Error::msg)?;
            surety_genesis::verify_gentx(&tx, &chain_id, &state)
                .map_err(|e| anyhow::anyhow!("gentx is not valid: {e}"))?;
            let dir = ctx.home().gentx_dir();
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("gentx-{moniker}.json"));
            let file = serde_json::json!({
                "moniker": moniker,
                "operator": msg.validator_address,
                "self_bond": value.to_string(),
                "tx": base64::engine::general_purpose::STANDARD.encode(&tx),
            });
            std::fs::write(&path, serde_json::to_string_pretty(&file)?)?;
            ctx.print(&serde_json::json!({"gentx": path.display().to_string(), "operator": msg.validator_address}));
        }
        Command::CollectGentxs { gentx_dir } => {
            let dir = gentx_dir.unwrap_or_else(|| ctx.home().gentx_dir());
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            if files.is_empty() {
                bail!("no gentx files in {}", dir.display());
            }
            let mut txs = Vec::new();
            for path in &files {
                let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)
                    .with_context(|| format!("parsing {}", path.display()))?;
                let tx = json["tx"]
                    .as_str()
                    .with_context(|| format!("{} has no tx", path.display()))?;
                txs.push(tx.to_string());
            }
            let mut genesis = load_genesis(ctx)?;
            let mut state = genesis.app_state().map_err(anyhow::Error::msg)?;
            state.genutil.gen_txs = txs;
            genesis.set_app_state(&state);
            let validators = genesis.validate().map_err(anyhow::Error::msg)?;
            genesis
                .save(&ctx.home().genesis())
                .map_err(anyhow::Error::msg)?;
            let names: Vec<_> = validators.iter().map(|v| v.moniker.clone()).collect();
            ctx.print(&serde_json::json!({"collected": files.len(), "validators": names}));
        }
        Command::DemoMarket => {
            let mut genesis = load_genesis(ctx)?;
            let mut state = genesis.app_state().map_err(anyhow::Error::msg)?;
            surety_genesis::demo::apply(&mut state);
            genesis.set_app_state(&state);
            genesis
                .save(&ctx.home().genesis())
                .map_err(anyhow::Error::msg)?;
            ctx.print(&serde_json::json!({"added": ["pool", "policy", "claims", "oracle"]}));
        }
        Command::Validate { file } => {
            let path = file.unwrap_or_else(|| ctx.home().genesis());
            let genesis = GenesisFile::load(&path).map_err(anyhow::Error::msg)?;
            let validators = genesis.validate().map_err(anyhow::Error::msg)?;
            let state = serde_json::to_value(genesis.app_state().map_err(anyhow::Error::msg)?)?;
            surety_app::modules::Modules::surety()
                .validate_genesis(&state)
                .map_err(anyhow::Error::msg)?;
            ctx.print(&serde_json::json!({
                "file": path.display().to_string(),
                "valid": true,
                "chain_id": genesis.chain_id().map_err(anyhow::Error::msg)?,
                "validators": validators.iter().map(|v| serde_json::json!({"moniker": v.moniker, "operator": v.operator, "self_bond": v.self_bond})).collect::<Vec<_>>(),
            }));
        }
    }
    Ok(())
}
