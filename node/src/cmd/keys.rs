//! `suretyd keys`: BIP-39 mnemonics and secp256k1 keys in the keyring.

use super::{Context, KeyringArgs};
use anyhow::{Context as _, Result};
use std::io::BufRead;
use surety_auth::{Multisig, PublicKey};
use surety_framework::{Address, VALIDATOR_PREFIX};
use surety_keyring::{KeyInfo, MultisigInfo};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a key (printing its mnemonic once), or recover one from a mnemonic with --recover;
    /// or store another party's public key (--pubkey), or a k-of-n multisig of stored keys
    /// (--multisig).
    Add {
        name: String,
        /// Read a BIP-39 mnemonic from standard input instead of generating one.
        #[arg(long)]
        recover: bool,
        /// Store only this public key (`{"@type":"/cosmos.crypto.secp256k1.PubKey","key":"…"}`,
        /// as `keys show` prints it, or the key's base64): a key someone else holds.
        #[arg(long, conflicts_with_all = ["recover", "multisig"])]
        pubkey: Option<String>,
        /// Store a multisig of these stored keys (names or addresses, comma-separated).
        #[arg(long, value_delimiter = ',', conflicts_with = "recover")]
        multisig: Vec<String>,
        /// How many of the --multisig keys must sign.
        #[arg(long, default_value_t = 1, requires = "multisig")]
        multisig_threshold: u32,
        /// Keep the --multisig keys in the order given (by default they are sorted by address,
        /// as the Cosmos SDK does, so every member derives the same address).
        #[arg(long, requires = "multisig")]
        nosort: bool,
        /// Replace a key of the same name.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// List all keys.
    List {
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Show a key by name or address.
    Show {
        name: String,
        /// Print only the address.
        #[arg(short = 'a', long)]
        address: bool,
        /// Address kind: `acc` (account) or `val` (validator operator).
        #[arg(long, default_value = "acc")]
        bech: String,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Delete a key.
    Delete {
        name: String,
        /// Skip the confirmation prompt.
        #[arg(short = 'y', long)]
        yes: bool,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Import an ASCII-armored private key file (as `keys export` here or in any Cosmos SDK
    /// chain's CLI writes it); asks for the passphrase it was exported with.
    Import {
        name: String,
        keyfile: std::path::PathBuf,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Import an unarmored hex private key (as `keys export --unarmored-hex` prints).
    ImportHex {
        name: String,
        /// Hex private key; read from standard input if omitted.
        hex: Option<String>,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Print a new 24-word BIP-39 mnemonic (stored nowhere; `keys add --recover` takes it).
    Mnemonic,
    /// Export a private key, encrypted under a passphrase it asks for, in the Cosmos SDK's
    /// ASCII armor (`keys import` here or in any Cosmos SDK chain's CLI reads it).
    Export {
        name: String,
        /// Print the raw private key as hex instead, unencrypted.
        #[arg(long)]
        unarmored_hex: bool,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
}

/// The chain's public key for a stored key: its secp256k1 key, or its multisig.
pub fn public_key(info: &KeyInfo) -> Result<PublicKey> {
    Ok(match &info.multisig {
        Some(m) => PublicKey::Multisig(
            Multisig::new(m.threshold, m.pubkeys.clone()).map_err(|e| anyhow::anyhow!(e.log))?,
        ),
        None => PublicKey::Secp256k1(info.pubkey.clone()),
    })
}

/// A public key as the SDK's JSON (`{"@type": …, "key": …}`).
fn pubkey_json(key: &PublicKey) -> Result<serde_json::Value> {
    crate::protojson::to_json(
        &crate::protojson::message("google.protobuf.Any").map_err(anyhow::Error::msg)?,
        &prost::Message::encode_to_vec(&key.to_any()),
    )
    .map_err(anyhow::Error::msg)
}

fn info_json(info: &KeyInfo) -> Result<serde_json::Value> {
    Ok(serde_json::json!({
        "name": info.name,
        "type": info.kind,
        "address": info.address,
        "pubkey": pubkey_json(&public_key(info)?)?.to_string(),
    }))
}

/// Reads `--pubkey`: the SDK's JSON of a secp256k1 key, or its bare base64.
fn parse_pubkey(text: &str) -> Result<Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => {
            anyhow::ensure!(
                value["@type"] == "/cosmos.crypto.secp256k1.PubKey",
                "--pubkey must be a /cosmos.crypto.secp256k1.PubKey"
            );
            value["key"]
                .as_str()
                .context("--pubkey has no key")?
                .to_owned()
        }
        Err(_) => text.trim().to_owned(),
    };
    base64::Engine::decode(&b64, key).context("--pubkey: the key is not base64")
}

/// Stores a multisig of stored keys, sorted by address unless `nosort`.
fn add_multisig(
    ring: &surety_keyring::Keyring,
    name: &str,
    members: &[String],
    threshold: u32,
    nosort: bool,
    overwrite: bool,
) -> Result<KeyInfo> {
    let mut keys = Vec::new();
    for member in members {
        let info = ring.get(member)?;
        anyhow::ensure!(
            info.multisig.is_none(),
            "'{member}' is a multisig itself; nested multisigs are not supported"
        );
        keys.push(info.pubkey);
    }
    if !nosort {
        keys.sort_by_key(|k| Address::from_secp256k1(k));
    }
    let multisig = Multisig::new(threshold, keys).map_err(|e| anyhow::anyhow!(e.log))?;
    let address = PublicKey::Multisig(multisig.clone()).address().to_bech32();
    ring.add_multisig(
        name,
        &address,
        MultisigInfo {
            threshold,
            pubkeys: multisig.keys,
        },
        overwrite,
    )
}

/// A passphrase: from the terminal without echo, or a line of standard input in scripts.
fn read_passphrase(prompt: &str) -> Result<zeroize::Zeroizing<String>> {
    use std::io::IsTerminal as _;
    if std::io::stdin().is_terminal() {
        return Ok(zeroize::Zeroizing::new(rpassword::prompt_password(prompt)?));
    }
    Ok(zeroize::Zeroizing::new(read_stdin_line(prompt)?))
}

fn read_stdin_line(prompt: &str) -> Result<String> {
    eprintln!("{prompt}");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

pub fn run(ctx: &Context, command: Command) -> Result<()> {
    match command {
        Command::Add {
            name,
            recover,
            pubkey,
            multisig,
            multisig_threshold,
            nosort,
            overwrite,
            keyring,
        } => {
            let ring = keyring.open(ctx)?;
            if let Some(pubkey) = pubkey {
                let info = ring.add_offline(&name, &parse_pubkey(&pubkey)?, overwrite)?;
                ctx.print(&info_json(&info)?);
            } else if !multisig.is_empty() {
                let info = add_multisig(
                    &ring,
                    &name,
                    &multisig,
                    multisig_threshold,
                    nosort,
                    overwrite,
                )?;
                ctx.print(&info_json(&info)?);
            } else if recover {
                let mnemonic = read_stdin_line("> Enter your bip39 mnemonic")?;
                let info = ring.recover(&name, &mnemonic, overwrite)?;
                ctx.print(&info_json(&info)?);
            } else {
                let new = ring.add(&name, overwrite)?;
                let mut value = info_json(&new.info)?;
                value["mnemonic"] = new.mnemonic.clone().into();
                if ctx.output == crate::output::Format::Text {
                    ctx.print(&info_json(&new.info)?);
                    println!("\n**Important** write this mnemonic phrase in a safe place.\nIt is the only way to recover your account if you ever forget your password.\n\n{}", new.mnemonic);
                } else {
                    ctx.print(&value);
                }
            }
        }
        Command::List { keyring } => {
            let keys = keyring
                .open(ctx)?
                .list()?
                .iter()
                .map(info_json)
                .collect::<Result<Vec<_>>>()?;
            ctx.print(&serde_json::Value::Array(keys));
        }
        Command::Show {
            name,
            address,
            bech,
            keyring,
        } => {
            let info = keyring.open(ctx)?.get(&name)?;
            let shown = match bech.as_str() {
                "acc" => info.address.clone(),
                "val" => Address::from_bech32(&info.address)
                    .map_err(|e| anyhow::anyhow!(e.log))?
                    .to_bech32_with(VALIDATOR_PREFIX),
                other => anyhow::bail!("--bech must be acc or val, not {other}"),
            };
            if address {
                println!("{shown}");
            } else {
                let mut value = info_json(&info)?;
                value["address"] = shown.into();
                ctx.print(&value);
            }
        }
        Command::Delete { name, yes, keyring } => {
            let ring = keyring.open(ctx)?;
            ring.get(&name)?;
            if !yes {
                let answer = read_stdin_line(&format!(
                    "Key reference will be deleted. Continue? [y/N]: {name}"
                ))?;
                if !answer.eq_ignore_ascii_case("y") {
                    anyhow::bail!("aborted");
                }
            }
            ring.delete(&name)?;
            eprintln!("Key deleted forever (uh oh!)");
        }
        Command::Import {
            name,
            keyfile,
            keyring,
        } => {
            let armored = std::fs::read_to_string(&keyfile)
                .with_context(|| format!("reading {}", keyfile.display()))?;
            let passphrase = read_passphrase("Enter passphrase to decrypt your key: ")?;
            let info = keyring
                .open(ctx)?
                .import_armored(&name, &armored, &passphrase)
                .context("importing")?;
            ctx.print(&info_json(&info)?);
        }
        Command::ImportHex { name, hex, keyring } => {
            let hex = match hex {
                Some(h) => h,
                None => read_stdin_line("> Enter the hex private key")?,
            };
            let info = keyring
                .open(ctx)?
                .import_private_hex(&name, &hex)
                .context("importing")?;
            ctx.print(&info_json(&info)?);
        }
        Command::Mnemonic => println!("{}", surety_keyring::generate_mnemonic()?),
        Command::Export {
            name,
            unarmored_hex,
            keyring,
        } => {
            let ring = keyring.open(ctx)?;
            if unarmored_hex {
                println!("{}", ring.export_private_hex(&name)?);
            } else {
                let passphrase = read_passphrase("Enter passphrase to encrypt the exported key: ")?;
                if passphrase.is_empty() {
                    anyhow::bail!("an exported key needs a passphrase");
                }
                print!("{}", ring.export_armored(&name, &passphrase)?);
            }
        }
    }
    Ok(())
}
