//! SIGN_MODE_DIRECT: a secp256k1 signature over sha256 of the protobuf `SignDoc`.
//!
//! Verification uses libsecp256k1 (the `secp256k1` crate), several times faster than a pure-Rust
//! verifier; signature checks dominate the cost of CheckTx and of executing a transaction. A
//! transaction's signature is checked in CheckTx, again in every recheck, and again when its
//! block executes; the checks after the first find it in [`Verified`], a bounded memo of the
//! (key, message, signature) triples that verified. It changes no result — only valid triples
//! are kept, under a collision-resistant digest of all three — so nodes with and without a
//! given entry agree.

use prost::Message;
use secp256k1::{ecdsa::Signature, Message as Digest32, PublicKey, Secp256k1, VerifyOnly};
use sha2::{Digest, Sha256};
use std::collections::{HashSet, VecDeque};
use std::sync::{LazyLock, Mutex};
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

/// Triples that verified, oldest first out once [`Verified::CAPACITY`] are kept.
struct Verified {
    set: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl Verified {
    /// More than a mempool's worth of transactions (CometBFT's default holds 5 000).
    const CAPACITY: usize = 100_000;

    fn key(pubkey: &[u8], digest: &[u8; 32], signature: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        for part in [pubkey, digest.as_slice(), signature] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.finalize().into()
    }

    fn insert(&mut self, key: [u8; 32]) {
        if self.set.insert(key) {
            self.order.push_back(key);
            if self.order.len() > Self::CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

static VERIFIED: LazyLock<Mutex<Verified>> = LazyLock::new(|| {
    Mutex::new(Verified {
        set: HashSet::new(),
        order: VecDeque::new(),
    })
});

/// Verifies a 64-byte (r ‖ s) signature over sha256(message). libsecp256k1 accepts only low-S
/// signatures, as Cosmos does, so a signature cannot be malleated into a second valid one.
pub fn verify_secp256k1(pubkey: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
    let hash: [u8; 32] = Sha256::digest(message).into();
    let memo = Verified::key(pubkey, &hash, signature);
    if VERIFIED.lock().is_ok_and(|v| v.set.contains(&memo)) {
        return Ok(());
    }
    // Parsing decompresses the key (a square root): worth skipping too.
    let key = PublicKey::from_slice(pubkey)
        .map_err(|_| sdk::invalid_pubkey("invalid secp256k1 public key"))?;
    let sig = Signature::from_compact(signature)
        .map_err(|_| sdk::unauthorized("malformed secp256k1 signature"))?;
    VERIFIER
        .verify_ecdsa(&Digest32::from_digest(hash), &sig, &key)
        .map_err(|_| sdk::unauthorized("signature verification failed"))?;
    if let Ok(mut v) = VERIFIED.lock() {
        v.insert(memo);
    }
    Ok(())
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

    #[test]
    fn the_memo_is_bounded_and_keyed_by_all_three_parts() {
        let mut v = Verified {
            set: HashSet::new(),
            order: VecDeque::new(),
        };
        let key = |i: u64| Verified::key(&[1], &[0; 32], &i.to_be_bytes());
        for i in 0..Verified::CAPACITY as u64 + 10 {
            v.insert(key(i));
        }
        assert_eq!(v.set.len(), Verified::CAPACITY);
        assert!(!v.set.contains(&key(0)), "the oldest went first");
        assert!(v.set.contains(&key(Verified::CAPACITY as u64 + 9)));
        assert_ne!(
            Verified::key(b"ab", &[0; 32], b"c"),
            Verified::key(b"a", &[0; 32], b"bc"),
            "parts are length-prefixed"
        );
    }
}
