//! SIGN_MODE_DIRECT: a secp256k1 signature over sha256 of the protobuf `SignDoc`.
//!
//! Verification uses libsecp256k1 (the `secp256k1` crate), several times faster than a pure-Rust
//! verifier; signature checks dominate the cost of CheckTx and of executing a transaction.

use prost::Message;
use secp256k1::{ecdsa::Signature, Message as Digest32, PublicKey, Secp256k1, VerifyOnly};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use surety_framework::{sdk, Error};
use surety_proto::cosmos::tx::v1beta1::SignDoc;

pub fn sign_doc_bytes(
    body_bytes: &[u8],
    auth_info_bytes: &[u8],
    chain_id: &str,
    account_number: u64,
) -> Vec<u8> {
    SignDoc {
        body_bytes: body_bytes.to_vec(),
        auth_info_bytes: auth_info_bytes.to_vec(),
        chain_id: chain_id.to_string(),
        account_number,
    }
    .encode_to_vec()
}

static VERIFIER: LazyLock<Secp256k1<VerifyOnly>> = LazyLock::new(Secp256k1::verification_only);

/// Verifies a 64-byte (r ‖ s) signature over sha256(message). libsecp256k1 accepts only low-S
/// signatures, as Cosmos does, so a signature cannot be malleated into a second valid one.
pub fn verify_secp256k1(pubkey: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
    let key = PublicKey::from_slice(pubkey)
        .map_err(|_| sdk::invalid_pubkey("invalid secp256k1 public key"))?;
    let sig = Signature::from_compact(signature)
        .map_err(|_| sdk::unauthorized("malformed secp256k1 signature"))?;
    let digest = Digest32::from_digest(Sha256::digest(message).into());
    VERIFIER
        .verify_ecdsa(&digest, &sig, &key)
        .map_err(|_| sdk::unauthorized("signature verification failed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::signature::Signer;
    use k256::ecdsa::{Signature, SigningKey};

    #[test]
    fn verifies_and_rejects() {
        let sk = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let pk = sk.verifying_key().to_encoded_point(true);
        let msg = sign_doc_bytes(b"body", b"auth", "surety-1", 3);
        let sig: Signature = sk.sign(&msg);
        let sig = sig.normalize_s().unwrap_or(sig);
        verify_secp256k1(pk.as_bytes(), &msg, &sig.to_bytes()).unwrap();
        let other = sign_doc_bytes(b"body", b"auth", "surety-2", 3);
        assert_eq!(
            verify_secp256k1(pk.as_bytes(), &other, &sig.to_bytes())
                .unwrap_err()
                .code,
            4
        );
        // the high-S twin of a valid signature is refused
        let (r, s) = sig.split_scalars();
        let high = Signature::from_scalars(r, -*s).unwrap();
        assert_eq!(
            verify_secp256k1(pk.as_bytes(), &msg, &high.to_bytes())
                .unwrap_err()
                .code,
            4
        );
    }
}
