//! Encryption at rest for the `file` backend: Argon2id(passphrase, salt) -> key,
//! XChaCha20-Poly1305(key, nonce, secret). All parameters are stored next to the
//! ciphertext so files stay readable if the defaults change later.

use anyhow::{anyhow, bail, Context, Result};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

const KDF: &str = "argon2id";
const CIPHER: &str = "xchacha20poly1305";
// RFC 9106 "second recommended option": 64 MiB, 3 passes, 1 lane.
const M_COST_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;
const P_COST: u32 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;

/// Marker returned when authentication fails: the only realistic cause is a
/// wrong passphrase (or a tampered file), which the caller words for the user.
#[derive(Debug)]
pub(crate) struct WrongPassphrase;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Sealed {
    kdf: String,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

fn derive_key(
    passphrase: &str,
    salt: &[u8],
    m: u32,
    t: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>> {
    let params =
        Params::new(m, t, p, Some(32)).map_err(|e| anyhow!("invalid argon2 parameters: {e}"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| anyhow!("argon2 key derivation failed: {e}"))?;
    Ok(key)
}

/// Encrypts `secret`; `aad` binds the ciphertext to the key's public info so a
/// blob copied into another key's file does not decrypt.
pub(crate) fn seal(passphrase: &str, secret: &[u8], aad: &[u8]) -> Result<Sealed> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let key = derive_key(passphrase, &salt, M_COST_KIB, T_COST, P_COST)?;
    let ciphertext = XChaCha20Poly1305::new(key.as_ref().into())
        .encrypt(&XNonce::from(nonce), Payload { msg: secret, aad })
        .map_err(|_| anyhow!("encryption failed"))?;
    Ok(Sealed {
        kdf: KDF.into(),
        m_cost: M_COST_KIB,
        t_cost: T_COST,
        p_cost: P_COST,
        salt: hex::encode(salt),
        cipher: CIPHER.into(),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

/// Decrypts; the outer error is a malformed record, the inner one a failed
/// authentication (wrong passphrase).
pub(crate) fn open(
    sealed: &Sealed,
    passphrase: &str,
    aad: &[u8],
) -> Result<Result<Zeroizing<Vec<u8>>, WrongPassphrase>> {
    if sealed.kdf != KDF || sealed.cipher != CIPHER {
        bail!(
            "unsupported key encryption ({} / {})",
            sealed.kdf,
            sealed.cipher
        );
    }
    let salt = hex::decode(&sealed.salt).context("malformed salt")?;
    let nonce: [u8; NONCE_LEN] = hex::decode(&sealed.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| anyhow!("malformed nonce: expected {NONCE_LEN} hex bytes"))?;
    let ciphertext = hex::decode(&sealed.ciphertext).context("malformed ciphertext")?;
    let key = derive_key(
        passphrase,
        &salt,
        sealed.m_cost,
        sealed.t_cost,
        sealed.p_cost,
    )?;
    Ok(XChaCha20Poly1305::new(key.as_ref().into())
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| WrongPassphrase))
}
