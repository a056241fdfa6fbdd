//! The `suretyd keys` keyring: BIP-39 mnemonics, BIP-44 derivation (coin type
//! 118, as in the Cosmos Hub), secp256k1 keys and bech32 `surety1…` addresses.
//!
//! Backends, one JSON file per key:
//! - `test`: `<home>/keyring-test/<name>.json`, private key in clear (scripts, localnets);
//! - `file`: `<home>/keyring-file/<name>.json`, private key sealed with
//!   Argon2id + XChaCha20-Poly1305; public info stays in clear so `list`/`show`
//!   never ask for the passphrase.

pub mod armor;
mod crypto;

use std::fmt;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use bip39::{Language, Mnemonic};
use cosmrs::bip32::{DerivationPath, XPrv};
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::crypto::PublicKey;
use cosmrs::AccountId;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Bech32 prefix of account addresses.
pub const ADDRESS_PREFIX: &str = "surety";
/// Cosmos default BIP-44 path (coin type 118, account 0, index 0).
pub const DEFAULT_HD_PATH: &str = "m/44'/118'/0'/0/0";
/// Environment variable read for the `file` backend's passphrase.
pub const PASSPHRASE_ENV: &str = "SURETY_KEYRING_PASSPHRASE";

const MAX_NAME_LEN: usize = 64;
/// Record kinds, as the Cosmos SDK names them: a key with its private half, another party's
/// public key, and a k-of-n multisig of stored keys (public keys only).
const KEY_TYPE_LOCAL: &str = "local";
const KEY_TYPE_OFFLINE: &str = "offline";
const KEY_TYPE_MULTI: &str = "multi";
/// Domain-separates the AEAD associated data from any other use.
const AAD_DOMAIN: &[u8] = b"surety-keyring/v1:";

/// Where keys are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Unencrypted; for tests, scripts and localnets only.
    Test,
    /// Private keys encrypted at rest under a passphrase.
    File,
}

impl Backend {
    fn as_str(self) -> &'static str {
        match self {
            Backend::Test => "test",
            Backend::File => "file",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "test" => Ok(Backend::Test),
            "file" => Ok(Backend::File),
            other => bail!("unknown keyring backend '{other}' (expected 'test' or 'file')"),
        }
    }
}

/// Public information about a key; never contains secret material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub name: String,
    /// Bech32 account address (`surety1…`).
    pub address: String,
    /// 33-byte compressed secp256k1 public key (base64 in JSON, as Cosmos shows it); empty
    /// for a multisig.
    #[serde(with = "base64_bytes")]
    pub pubkey: Vec<u8>,
    /// `local` (with its private key), `offline` (public key only) or `multi`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Set for a multisig key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multisig: Option<MultisigInfo>,
}

/// A k-of-n multisig: its threshold and its members' public keys, in the order its address
/// commits to. It has no private key; its members sign for it (`tx sign --multisig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultisigInfo {
    pub threshold: u32,
    #[serde(with = "base64_list")]
    pub pubkeys: Vec<Vec<u8>>,
}

impl KeyInfo {
    /// The public key as a cosmrs type (e.g. for building a tx's signer info); not for a
    /// multisig.
    pub fn public_key(&self) -> Result<PublicKey> {
        cosmrs::tendermint::PublicKey::from_raw_secp256k1(&self.pubkey)
            .map(Into::into)
            .ok_or_else(|| anyhow!("key '{}' has a malformed secp256k1 public key", self.name))
    }
}

/// A freshly generated key with its mnemonic, which is shown once and never stored.
pub struct NewKey {
    pub info: KeyInfo,
    pub mnemonic: String,
}

/// Keeps the mnemonic out of logs and panic messages.
impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewKey")
            .field("info", &self.info)
            .field("mnemonic", &"<redacted>")
            .finish()
    }
}

/// Where the `file` backend gets its passphrase.
#[derive(Clone, Default)]
pub enum Passphrase {
    /// `SURETY_KEYRING_PASSPHRASE` if set, else an interactive prompt
    /// (asked twice when a key is created, to catch typos).
    #[default]
    EnvOrPrompt,
    /// Supplied by the caller (tests, or a CLI that already read it).
    Fixed(Zeroizing<String>),
}

impl Passphrase {
    pub fn fixed(passphrase: impl Into<String>) -> Self {
        Passphrase::Fixed(Zeroizing::new(passphrase.into()))
    }

    fn resolve(&self, key_name: &str, creating: bool) -> Result<Zeroizing<String>> {
        let passphrase = match self {
            Passphrase::Fixed(p) => p.clone(),
            Passphrase::EnvOrPrompt => match std::env::var(PASSPHRASE_ENV) {
                Ok(p) => Zeroizing::new(p),
                Err(std::env::VarError::NotPresent) => prompt(key_name, creating)?,
                Err(std::env::VarError::NotUnicode(_)) => {
                    bail!("{PASSPHRASE_ENV} is not valid UTF-8")
                }
            },
        };
        if passphrase.is_empty() {
            bail!("keyring passphrase must not be empty");
        }
        Ok(passphrase)
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Passphrase::EnvOrPrompt => f.write_str("EnvOrPrompt"),
            Passphrase::Fixed(_) => f.write_str("Fixed(<redacted>)"),
        }
    }
}

fn prompt(key_name: &str, creating: bool) -> Result<Zeroizing<String>> {
    let read =
        |msg: String| -> Result<Zeroizing<String>> {
            rpassword::prompt_password(msg).map(Zeroizing::new).with_context(|| {
            format!("cannot read keyring passphrase (set {PASSPHRASE_ENV} for non-interactive use)")
        })
        };
    let first = read(format!("Enter keyring passphrase for key '{key_name}': "))?;
    if creating && *read("Re-enter keyring passphrase: ".into())? != *first {
        bail!("passphrases do not match");
    }
    Ok(first)
}

/// On-disk record: the public info plus exactly one of `privkey` (test) or `crypto` (file).
#[derive(Serialize, Deserialize)]
struct Record {
    #[serde(flatten)]
    info: KeyInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    privkey: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crypto: Option<crypto::Sealed>,
}

#[derive(Debug)]
pub struct Keyring {
    dir: PathBuf,
    backend: Backend,
    passphrase: Passphrase,
    hd_path: String,
}

impl Keyring {
    /// Opens (creating if needed) the keyring under `home`; the `file` backend
    /// takes its passphrase from the environment or a prompt.
    pub fn open(home: &Path, backend: Backend) -> Result<Keyring> {
        Self::open_with_passphrase(home, backend, Passphrase::EnvOrPrompt)
    }

    /// Like [`Keyring::open`] with an explicit passphrase source (ignored by `test`).
    pub fn open_with_passphrase(
        home: &Path,
        backend: Backend,
        passphrase: Passphrase,
    ) -> Result<Keyring> {
        let dir = home.join(format!("keyring-{backend}"));
        create_private_dir(&dir)
            .with_context(|| format!("cannot create keyring directory {}", dir.display()))?;
        Ok(Keyring {
            dir,
            backend,
            passphrase,
            hd_path: DEFAULT_HD_PATH.into(),
        })
    }

    /// Uses another BIP-44 path for `add`/`recover` (e.g. another account index).
    pub fn with_hd_path(mut self, hd_path: &str) -> Result<Keyring> {
        parse_hd_path(hd_path)?;
        self.hd_path = hd_path.into();
        Ok(self)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Generates a new 24-word mnemonic and stores the key derived from it.
    pub fn add(&self, name: &str, overwrite: bool) -> Result<NewKey> {
        validate_name(name)?;
        let mnemonic = generate_mnemonic()?;
        let info = self.recover(name, &mnemonic, overwrite)?;
        Ok(NewKey { info, mnemonic })
    }

    /// Stores the key derived from an existing mnemonic.
    pub fn recover(&self, name: &str, mnemonic: &str, overwrite: bool) -> Result<KeyInfo> {
        validate_name(name)?;
        let secret = derive_secret(mnemonic, &self.hd_path)?;
        self.store(name, secret.as_ref(), overwrite)
    }

    /// All keys, sorted by name.
    pub fn list(&self) -> Result<Vec<KeyInfo>> {
        Ok(self.records()?.into_iter().map(|r| r.info).collect())
    }

    pub fn get(&self, name_or_address: &str) -> Result<KeyInfo> {
        Ok(self.find(name_or_address)?.info)
    }

    /// Decrypts (file backend) and returns the key for signing.
    pub fn signing_key(&self, name_or_address: &str) -> Result<SigningKey> {
        let record = self.find(name_or_address)?;
        let secret = self.secret(&record)?;
        let key = signing_key_from_bytes(&secret)?;
        // Guards against a hand-edited file whose halves no longer belong together.
        if key.public_key().to_bytes() != record.info.pubkey {
            bail!(
                "key file for '{}' is corrupted: private key does not match its public key",
                record.info.name
            );
        }
        Ok(key)
    }

    pub fn delete(&self, name: &str) -> Result<()> {
        validate_name(name)?;
        match fs::remove_file(self.path_of(name)) {
            Err(e) if e.kind() == ErrorKind::NotFound => Err(self.not_found(name)),
            other => other.with_context(|| format!("cannot delete key '{name}'")),
        }
    }

    /// Raw 32-byte secp256k1 private key as lowercase hex (`keys export --unarmored-hex`).
    pub fn export_private_hex(&self, name: &str) -> Result<String> {
        let record = self.find(name)?;
        Ok(hex::encode(self.secret(&record)?.as_slice()))
    }

    /// The key encrypted under `passphrase` in the Cosmos SDK's ASCII armor (see [`armor`]).
    pub fn export_armored(&self, name: &str, passphrase: &str) -> Result<String> {
        let record = self.find(name)?;
        let secret = self.secret(&record)?;
        let secret: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| anyhow!("stored key is not 32 bytes"))?;
        armor::encrypt(&secret, passphrase)
    }

    /// Stores a key from the Cosmos SDK's ASCII armor, decrypted with `passphrase`.
    pub fn import_armored(&self, name: &str, armored: &str, passphrase: &str) -> Result<KeyInfo> {
        validate_name(name)?;
        let secret = armor::decrypt(armored, passphrase)?;
        self.store(name, secret.as_slice(), false)
    }

    /// Stores a raw private key given as hex (optional `0x` prefix).
    pub fn import_private_hex(&self, name: &str, hex: &str) -> Result<KeyInfo> {
        validate_name(name)?;
        let hex = hex.trim();
        let hex = hex.strip_prefix("0x").unwrap_or(hex);
        let bytes = Zeroizing::new(hex::decode(hex).context("invalid private key: not hex")?);
        if bytes.len() != 32 {
            bail!(
                "invalid private key: expected 32 bytes, got {}",
                bytes.len()
            );
        }
        self.store(name, &bytes, false)
    }

    /// Stores another party's public key (`keys add --pubkey`), e.g. a multisig member's.
    pub fn add_offline(&self, name: &str, pubkey: &[u8], overwrite: bool) -> Result<KeyInfo> {
        let key = cosmrs::tendermint::PublicKey::from_raw_secp256k1(pubkey)
            .ok_or_else(|| anyhow!("not a compressed secp256k1 public key"))?;
        let info = KeyInfo {
            name: name.into(),
            address: address_of(&key.into()),
            pubkey: pubkey.to_vec(),
            kind: KEY_TYPE_OFFLINE.into(),
            multisig: None,
        };
        self.write_public(info, overwrite)
    }

    /// Stores a multisig key at `address` (which the caller derives from threshold and keys:
    /// the chain's rule, not the keyring's).
    pub fn add_multisig(
        &self,
        name: &str,
        address: &str,
        multisig: MultisigInfo,
        overwrite: bool,
    ) -> Result<KeyInfo> {
        let info = KeyInfo {
            name: name.into(),
            address: address.into(),
            pubkey: Vec::new(),
            kind: KEY_TYPE_MULTI.into(),
            multisig: Some(multisig),
        };
        self.write_public(info, overwrite)
    }

    fn write_public(&self, info: KeyInfo, overwrite: bool) -> Result<KeyInfo> {
        self.check_new(&info, overwrite)?;
        let record = Record {
            info: info.clone(),
            privkey: None,
            crypto: None,
        };
        let path = self.path_of(&info.name);
        write_private(&path, &serde_json::to_vec_pretty(&record)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(info)
    }

    /// A new key may take `info.name` (unless it exists and `overwrite` is off) and must not
    /// repeat another key's address: two names for one address make lookups ambiguous.
    fn check_new(&self, info: &KeyInfo, overwrite: bool) -> Result<()> {
        validate_name(&info.name)?;
        if !overwrite && self.path_of(&info.name).exists() {
            bail!(
                "key '{}' already exists (request overwrite to replace it)",
                info.name
            );
        }
        if let Some(other) = self
            .records()?
            .into_iter()
            .find(|r| r.info.address == info.address && r.info.name != info.name)
        {
            bail!(
                "address {} is already stored as key '{}'",
                info.address,
                other.info.name
            );
        }
        Ok(())
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn not_found(&self, name_or_address: &str) -> anyhow::Error {
        anyhow!(
            "key '{name_or_address}' not found in the {} keyring ({})",
            self.backend,
            self.dir.display()
        )
    }

    fn load(&self, name: &str) -> Result<Option<Record>> {
        let path = self.path_of(name);
        let data = match fs::read(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            other => other.with_context(|| format!("cannot read {}", path.display()))?,
        };
        let record = serde_json::from_slice(&data)
            .with_context(|| format!("malformed key file {}", path.display()))?;
        Ok(Some(record))
    }

    fn records(&self) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        for entry in fs::read_dir(&self.dir)
            .with_context(|| format!("cannot read {}", self.dir.display()))?
        {
            let file_name = entry?.file_name();
            // Skips temp files from interrupted writes and anything foreign.
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if validate_name(name).is_ok() {
                records.extend(self.load(name)?);
            }
        }
        records.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        Ok(records)
    }

    /// Name first (a name may look like an address), then address.
    fn find(&self, name_or_address: &str) -> Result<Record> {
        if validate_name(name_or_address).is_ok() {
            if let Some(record) = self.load(name_or_address)? {
                return Ok(record);
            }
        }
        if name_or_address.starts_with(ADDRESS_PREFIX) {
            if let Some(record) = self
                .records()?
                .into_iter()
                .find(|r| r.info.address == name_or_address)
            {
                return Ok(record);
            }
        }
        Err(self.not_found(name_or_address))
    }

    fn secret(&self, record: &Record) -> Result<Zeroizing<Vec<u8>>> {
        let name = &record.info.name;
        match (&record.privkey, &record.crypto) {
            (Some(hex), _) => Ok(Zeroizing::new(hex::decode(hex).with_context(|| {
                format!("key file for '{name}' has a malformed private key")
            })?)),
            (None, Some(sealed)) => {
                let passphrase = self.passphrase.resolve(name, false)?;
                crypto::open(sealed, &passphrase, &aad(&record.info.pubkey))
                    .with_context(|| format!("key file for '{name}' is malformed"))?
                    .map_err(|_| {
                        anyhow!("incorrect passphrase for key '{name}' (decryption failed)")
                    })
            }
            (None, None) if record.info.multisig.is_some() => bail!(
                "'{name}' is a multisig key: it has no private key; each member signs with \
                 `tx sign --multisig {name}`, then `tx multisign` combines the signatures"
            ),
            (None, None) => {
                bail!("'{name}' is an offline key: this keyring holds only its public key")
            }
        }
    }

    fn store(&self, name: &str, secret: &[u8], overwrite: bool) -> Result<KeyInfo> {
        validate_name(name)?;
        let path = self.path_of(name);
        let pubkey = signing_key_from_bytes(secret)?.public_key();
        let info = KeyInfo {
            name: name.into(),
            address: address_of(&pubkey),
            pubkey: pubkey.to_bytes(),
            kind: KEY_TYPE_LOCAL.into(),
            multisig: None,
        };
        self.check_new(&info, overwrite)?;
        let (privkey, crypto) = match self.backend {
            Backend::Test => (Some(hex::encode(secret)), None),
            Backend::File => {
                let passphrase = self.passphrase.resolve(name, true)?;
                (
                    None,
                    Some(crypto::seal(&passphrase, secret, &aad(&info.pubkey))?),
                )
            }
        };
        let record = Record {
            info: info.clone(),
            privkey,
            crypto,
        };
        let json = Zeroizing::new(serde_json::to_vec_pretty(&record)?);
        write_private(&path, &json).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(info)
    }
}

/// Derives the secp256k1 key at `hd_path` (e.g. [`DEFAULT_HD_PATH`]) from an
/// English BIP-39 mnemonic with an empty BIP-39 passphrase, as the Cosmos SDK does.
pub fn derive_from_mnemonic(mnemonic: &str, hd_path: &str) -> Result<SigningKey> {
    signing_key_from_bytes(derive_secret(mnemonic, hd_path)?.as_ref())
}

/// Bech32 `surety1…` address: ripemd160(sha256(compressed pubkey)) for
/// secp256k1 keys (the Tendermint account id, which covers ed25519 too).
pub fn address_of(pubkey: &PublicKey) -> String {
    let id = cosmrs::tendermint::account::Id::from(cosmrs::tendermint::PublicKey::from(*pubkey));
    AccountId::new(ADDRESS_PREFIX, id.as_bytes())
        .expect("constant prefix and 20-byte id always encode")
        .to_string()
}

/// A new 24-word BIP-39 mnemonic from 256 bits of the OS's randomness.
pub fn generate_mnemonic() -> Result<String> {
    let mut entropy = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(entropy.as_mut());
    Ok(
        Mnemonic::from_entropy_in(Language::English, entropy.as_ref())
            .map_err(|e| anyhow!("mnemonic generation failed: {e}"))?
            .to_string(),
    )
}

fn derive_secret(mnemonic: &str, hd_path: &str) -> Result<Zeroizing<[u8; 32]>> {
    let path = parse_hd_path(hd_path)?;
    let mnemonic = Mnemonic::parse_in(Language::English, mnemonic)
        .map_err(|e| anyhow!("invalid mnemonic: {e}"))?;
    let seed = Zeroizing::new(mnemonic.to_seed(""));
    let xprv = XPrv::derive_from_path(seed.as_ref(), &path)
        .map_err(|e| anyhow!("HD key derivation failed: {e}"))?;
    Ok(Zeroizing::new(xprv.to_bytes()))
}

fn parse_hd_path(hd_path: &str) -> Result<DerivationPath> {
    hd_path
        .parse()
        .map_err(|e| anyhow!("invalid HD path '{hd_path}': {e}"))
}

fn signing_key_from_bytes(secret: &[u8]) -> Result<SigningKey> {
    SigningKey::from_slice(secret).map_err(|e| anyhow!("invalid secp256k1 private key: {e}"))
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !ok {
        bail!("invalid key name '{name}': use 1-{MAX_NAME_LEN} characters from A-Z, a-z, 0-9, '_', '.', '-'");
    }
    Ok(())
}

fn aad(pubkey: &[u8]) -> Vec<u8> {
    [AAD_DOMAIN, pubkey].concat()
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes via a temp file + rename so a crash never leaves a truncated key file;
/// the file is created 0600 so it is never world-readable, even briefly.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options.open(&tmp).and_then(|mut f| {
        f.write_all(data)?;
        f.sync_all()
    });
    match result.and_then(|()| fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

mod base64_list {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(items: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(items.iter().map(|b| STANDARD.encode(b)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .into_iter()
            .map(|s| STANDARD.decode(s).map_err(D::Error::custom))
            .collect()
    }
}

mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        STANDARD
            .decode(String::deserialize(d)?)
            .map_err(D::Error::custom)
    }
}
