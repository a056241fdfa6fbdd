//! ASCII-armored private keys as the Cosmos SDK writes them (`keys export` / `keys import`), so
//! a key moves between `suretyd`, `gaiad`, `simd` and the like:
//!
//! ```text
//! -----BEGIN TENDERMINT PRIVATE KEY-----
//! kdf: bcrypt
//! salt: <16 random bytes, hex>
//! type: secp256k1
//!
//! <base64 of nonce ‖ secretbox(amino(private key))>
//! =<CRC-24 of the bytes, base64>
//! -----END TENDERMINT PRIVATE KEY-----
//! ```
//!
//! The secretbox key is sha256 of bcrypt(passphrase, salt, cost 12) in its `$2a$` text form
//! and the box NaCl's XSalsa20-Poly1305 with a random 24-byte nonce. Exports of Cosmos SDK 0.50
//! and later say `kdf: argon2`: Argon2id of the passphrase and ChaCha20-Poly1305 under a zero
//! nonce; they are read too. The plaintext is the key in amino (the
//! `tendermint/PrivKeySecp256k1` prefix, a length byte, the 32 bytes).

use anyhow::{anyhow, bail, Context as _, Result};
use base64::Engine as _;
use chacha20poly1305::ChaCha20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const BLOCK_TYPE: &str = "TENDERMINT PRIVATE KEY";
const BCRYPT_COST: u32 = 12;
/// Amino's prefix of `tendermint/PrivKeySecp256k1`, then the key's length (32).
const AMINO_SECP256K1: [u8; 5] = [0xe1, 0xb0, 0xf7, 0x9b, 0x20];

fn secretbox_key(passphrase: &str, salt: [u8; 16]) -> Result<Zeroizing<[u8; 32]>> {
    let hash = bcrypt::hash_with_salt(passphrase, BCRYPT_COST, salt)
        .map_err(|e| anyhow!("bcrypt: {e}"))?
        .format_for_version(bcrypt::Version::TwoA);
    Ok(Zeroizing::new(Sha256::digest(hash.as_bytes()).into()))
}

/// The key Cosmos SDK 0.50 derives for the exports it writes (`kdf: argon2`): Argon2id, one
/// pass over 64 MiB with 4 lanes.
fn argon2_key(passphrase: &str, salt: [u8; 16]) -> Result<Zeroizing<[u8; 32]>> {
    let params = argon2::Params::new(64 * 1024, 1, 4, Some(32)).map_err(|e| anyhow!("{e}"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), &salt, key.as_mut())
        .map_err(|e| anyhow!("argon2: {e}"))?;
    Ok(key)
}

/// Encrypts a secp256k1 private key under `passphrase` into the SDK's armor. It writes the
/// bcrypt form, which every Cosmos SDK version reads (0.50 and later also write argon2).
pub fn encrypt(secret: &[u8; 32], passphrase: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let key = secretbox_key(passphrase, salt)?;
    let mut plain = Zeroizing::new(AMINO_SECP256K1.to_vec());
    plain.extend_from_slice(secret);
    let sealed = XSalsa20Poly1305::new(key.as_ref().into())
        .encrypt(&nonce.into(), plain.as_slice())
        .map_err(|_| anyhow!("encryption failed"))?;
    let mut data = nonce.to_vec();
    data.extend_from_slice(&sealed);
    let body = base64::engine::general_purpose::STANDARD.encode(&data);
    let mut out = format!(
        "-----BEGIN {BLOCK_TYPE}-----\nkdf: bcrypt\nsalt: {}\ntype: secp256k1\n\n",
        hex::encode_upper(salt)
    );
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    let crc = crc24(&data).to_be_bytes();
    out.push('=');
    out.push_str(&base64::engine::general_purpose::STANDARD.encode(&crc[1..]));
    out.push_str(&format!("\n-----END {BLOCK_TYPE}-----\n"));
    Ok(out)
}

/// Decrypts an armored secp256k1 private key (as [`encrypt`] or the Cosmos SDK writes it).
pub fn decrypt(armor: &str, passphrase: &str) -> Result<Zeroizing<[u8; 32]>> {
    let lines: Vec<&str> = armor.lines().map(str::trim).collect();
    let begin = format!("-----BEGIN {BLOCK_TYPE}-----");
    let end = format!("-----END {BLOCK_TYPE}-----");
    let start = lines
        .iter()
        .position(|l| *l == begin)
        .with_context(|| format!("not an armored key: no `{begin}` line"))?;
    let stop = lines
        .iter()
        .position(|l| *l == end)
        .with_context(|| format!("not an armored key: no `{end}` line"))?;
    let mut headers = std::collections::BTreeMap::new();
    let mut body = String::new();
    let mut crc = None;
    let mut in_headers = true;
    for line in &lines[start + 1..stop] {
        if in_headers {
            if line.is_empty() {
                in_headers = false;
            } else if let Some((k, v)) = line.split_once(": ") {
                headers.insert(k.to_string(), v.to_string());
            } else {
                in_headers = false;
                body.push_str(line);
            }
        } else if let Some(sum) = line.strip_prefix('=') {
            crc = Some(sum.to_string());
        } else {
            body.push_str(line);
        }
    }
    let kdf = headers.get("kdf").map(String::as_str).unwrap_or_default();
    if kdf != "bcrypt" && kdf != "argon2" {
        bail!("unsupported key derivation {kdf:?} (bcrypt or argon2)");
    }
    if let Some(t) = headers.get("type").filter(|t| *t != "secp256k1") {
        bail!("unsupported key type {t} (secp256k1 only)");
    }
    let salt: [u8; 16] = hex::decode(headers.get("salt").context("no salt header")?)
        .context("salt: not hex")?
        .try_into()
        .map_err(|_| anyhow!("salt: not 16 bytes"))?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(&body)
        .context("the armored body is not base64")?;
    if let Some(sum) = crc {
        let expected = crc24(&data).to_be_bytes();
        let given = base64::engine::general_purpose::STANDARD
            .decode(&sum)
            .context("checksum: not base64")?;
        if given != expected[1..] {
            bail!("the armored key's checksum does not match: it was changed or cut");
        }
    }
    let wrong = |_| anyhow!("invalid passphrase (or a corrupted key)");
    let plain = Zeroizing::new(if kdf == "argon2" {
        // ChaCha20-Poly1305 under a zero nonce: each export has its own salt, so its own key.
        let key = argon2_key(passphrase, salt)?;
        ChaCha20Poly1305::new(key.as_ref().into())
            .decrypt(&[0u8; 12].into(), data.as_slice())
            .map_err(wrong)?
    } else {
        if data.len() < 24 {
            bail!("the armored key is too short");
        }
        let (nonce, sealed) = data.split_at(24);
        let key = secretbox_key(passphrase, salt)?;
        XSalsa20Poly1305::new(key.as_ref().into())
            .decrypt(nonce.into(), sealed)
            .map_err(wrong)?
    });
    let secret = plain
        .strip_prefix(AMINO_SECP256K1.as_slice())
        .filter(|k| k.len() == 32)
        .context("the decrypted key is not a secp256k1 private key")?;
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(secret);
    Ok(out)
}

/// OpenPGP's CRC-24 (RFC 4880 §6.1), which armor appends.
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_its_armor_and_only_its_passphrase_opens_it() {
        let secret = [9u8; 32];
        let armor = encrypt(&secret, "correct horse").unwrap();
        assert!(armor.starts_with("-----BEGIN TENDERMINT PRIVATE KEY-----\nkdf: bcrypt\n"));
        assert_eq!(*decrypt(&armor, "correct horse").unwrap(), secret);
        assert!(decrypt(&armor, "wrong").is_err());
        let tampered = armor.replacen("\n=", "\n=A", 1);
        assert!(decrypt(&tampered, "correct horse").is_err());
    }

    /// Written by `simd keys export` (Cosmos SDK 0.50.10, the ibc-go v8 simd the IBC tests
    /// build) for a test key, passphrase `longpassphrase2`.
    const SIMD_EXPORT: &str = "-----BEGIN TENDERMINT PRIVATE KEY-----
kdf: argon2
salt: 3E964856CAFCA2480E760CC6CCFD6FA6
type: secp256k1

R0q/Iyx3loIVezFvLpzRZviwjWYPo6LBb5aHrtL/BxuzVeIpMPBHVQKft+xtdtvX
o1I5zgw=
=5CJf
-----END TENDERMINT PRIVATE KEY-----
";

    #[test]
    fn reads_what_the_cosmos_sdk_exports() {
        let secret = decrypt(SIMD_EXPORT, "longpassphrase2").unwrap();
        assert_eq!(
            hex::encode(secret.as_slice()),
            "86130e49ddd9094af5e51b2bf84933105c316d97f33c344a63a7238a68158b9a"
        );
        assert!(decrypt(SIMD_EXPORT, "longpassphrase3").is_err());
    }

    #[test]
    fn crc24_matches_rfc_4880() {
        // The CRC of no data is the initial value; of "123456789" the standard check value.
        assert_eq!(crc24(b""), 0x00B7_04CE);
        assert_eq!(crc24(b"123456789"), 0x0021_CF02);
    }
}
