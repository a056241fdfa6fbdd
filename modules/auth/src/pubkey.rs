//! The public keys an account can have: one secp256k1 key, or a k-of-n multisig of them
//! (`LegacyAminoPubKey`, the Cosmos SDK's multisig: the same address and the same signatures
//! as `simd keys add --multisig` and `simd tx multisign`).

use prost::Message;
use sha2::{Digest, Sha256};
use surety_framework::{sdk, Address, Error};
use surety_proto::cosmos::crypto::multisig::LegacyAminoPubKey;
use surety_proto::cosmos::crypto::secp256k1::PubKey as Secp256k1;
use surety_proto::{from_any, to_any, Any};

/// Most keys a multisig may have. The SDK bounds it by the `tx_sig_limit` param, which the
/// ante handler also checks per transaction; this bound holds for stored accounts too.
pub const MAX_MULTISIG_KEYS: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// A 33-byte compressed secp256k1 key.
    Secp256k1(Vec<u8>),
    Multisig(Multisig),
}

/// `threshold` signatures of `keys` (secp256k1, in the order the address commits to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Multisig {
    pub threshold: u32,
    pub keys: Vec<Vec<u8>>,
}

impl Multisig {
    /// A multisig that can sign at all: 1 ≤ threshold ≤ n ≤ [`MAX_MULTISIG_KEYS`], distinct
    /// well-formed keys (a repeated key would let one signer count twice).
    pub fn new(threshold: u32, keys: Vec<Vec<u8>>) -> Result<Multisig, Error> {
        if keys.is_empty() || keys.len() > MAX_MULTISIG_KEYS {
            return Err(sdk::invalid_pubkey(format!(
                "a multisig has 1 to {MAX_MULTISIG_KEYS} keys, not {}",
                keys.len()
            )));
        }
        if threshold == 0 || threshold as usize > keys.len() {
            return Err(sdk::invalid_pubkey(format!(
                "multisig threshold {threshold} must be between 1 and its {} keys",
                keys.len()
            )));
        }
        for (i, key) in keys.iter().enumerate() {
            if key.len() != 33 || !matches!(key[0], 2 | 3) {
                return Err(sdk::invalid_pubkey(format!(
                    "multisig key {i} is not a compressed secp256k1 key"
                )));
            }
            if keys[..i].contains(key) {
                return Err(sdk::invalid_pubkey(format!(
                    "multisig key {i} appears twice"
                )));
            }
        }
        Ok(Multisig { threshold, keys })
    }

    /// The key's legacy Amino encoding, which its address hashes: the registered type prefix
    /// of `tendermint/PubKeyMultisigThreshold`, the threshold (field 1), then each key as an
    /// embedded `tendermint/PubKeySecp256k1` (field 2).
    fn amino_bytes(&self) -> Vec<u8> {
        const MULTISIG_PREFIX: [u8; 4] = [0x22, 0xc1, 0xf7, 0xe2];
        const SECP256K1_PREFIX: [u8; 4] = [0xeb, 0x5a, 0xe9, 0x87];
        let mut out = MULTISIG_PREFIX.to_vec();
        out.push(0x08);
        prost::encoding::encode_varint(u64::from(self.threshold), &mut out);
        for key in &self.keys {
            let mut inner = SECP256K1_PREFIX.to_vec();
            prost::encoding::encode_varint(key.len() as u64, &mut inner);
            inner.extend_from_slice(key);
            out.push(0x12);
            prost::encoding::encode_varint(inner.len() as u64, &mut out);
            out.extend_from_slice(&inner);
        }
        out
    }
}

impl PublicKey {
    /// The account address the key controls: RIPEMD160(SHA256(key)) for secp256k1,
    /// SHA256(amino bytes)[..20] for a multisig, as in the SDK.
    pub fn address(&self) -> Address {
        match self {
            PublicKey::Secp256k1(key) => Address::from_secp256k1(key),
            PublicKey::Multisig(m) => {
                let hash = Sha256::digest(m.amino_bytes());
                let mut out = [0u8; 20];
                out.copy_from_slice(&hash[..20]);
                Address(out)
            }
        }
    }

    /// How many signatures verifying the key costs at most (the `tx_sig_limit` count).
    pub fn signature_count(&self) -> usize {
        match self {
            PublicKey::Secp256k1(_) => 1,
            PublicKey::Multisig(m) => m.keys.len(),
        }
    }

    pub fn to_any(&self) -> Any {
        match self {
            PublicKey::Secp256k1(key) => to_any(&Secp256k1 { key: key.clone() }),
            PublicKey::Multisig(m) => Any {
                type_url: MULTISIG_TYPE_URL.to_string(),
                value: LegacyAminoPubKey {
                    threshold: m.threshold,
                    public_keys: m
                        .keys
                        .iter()
                        .map(|k| to_any(&Secp256k1 { key: k.clone() }))
                        .collect(),
                }
                .encode_to_vec(),
            },
        }
    }

    pub fn from_any(any: &Any) -> Result<PublicKey, Error> {
        let malformed = |e: prost::DecodeError| sdk::invalid_pubkey(e.to_string());
        if any.type_url == MULTISIG_TYPE_URL {
            let m = LegacyAminoPubKey::decode(any.value.as_slice()).map_err(malformed)?;
            let keys = m
                .public_keys
                .iter()
                .map(|k| match PublicKey::from_any(k)? {
                    PublicKey::Secp256k1(key) => Ok(key),
                    PublicKey::Multisig(_) => Err(sdk::invalid_pubkey(
                        "nested multisig keys are not supported",
                    )),
                })
                .collect::<Result<_, _>>()?;
            return Ok(PublicKey::Multisig(Multisig::new(m.threshold, keys)?));
        }
        match from_any::<Secp256k1>(any) {
            Some(key) => Ok(PublicKey::Secp256k1(key.map_err(malformed)?.key)),
            None => Err(sdk::invalid_pubkey(format!(
                "unsupported public key type {}",
                any.type_url
            ))),
        }
    }
}

pub const MULTISIG_TYPE_URL: &str = "/cosmos.crypto.multisig.LegacyAminoPubKey";

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Vec<u8> {
        use k256::ecdsa::SigningKey;
        let sk = SigningKey::from_slice(&[n; 32]).unwrap();
        sk.verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec()
    }

    #[test]
    fn a_multisig_round_trips_through_its_any() {
        let m = PublicKey::Multisig(Multisig::new(2, vec![key(1), key(2), key(3)]).unwrap());
        assert_eq!(PublicKey::from_any(&m.to_any()).unwrap(), m);
        let s = PublicKey::Secp256k1(key(4));
        assert_eq!(PublicKey::from_any(&s.to_any()).unwrap(), s);
    }

    #[test]
    fn unusable_multisigs_are_refused() {
        assert!(Multisig::new(0, vec![key(1)]).is_err());
        assert!(Multisig::new(2, vec![key(1)]).is_err());
        assert!(Multisig::new(1, vec![]).is_err());
        assert!(
            Multisig::new(2, vec![key(1), key(1)]).is_err(),
            "repeated key"
        );
        assert!(
            Multisig::new(1, vec![vec![4; 33]]).is_err(),
            "not compressed"
        );
        let many = (1..=MAX_MULTISIG_KEYS as u8 + 1).map(key).collect();
        assert!(Multisig::new(1, many).is_err());
    }

    #[test]
    fn the_address_depends_on_threshold_and_key_order() {
        let a = Multisig::new(2, vec![key(1), key(2), key(3)]).unwrap();
        let b = Multisig::new(1, vec![key(1), key(2), key(3)]).unwrap();
        let c = Multisig::new(2, vec![key(2), key(1), key(3)]).unwrap();
        let addr = |m: &Multisig| PublicKey::Multisig(m.clone()).address();
        assert_ne!(addr(&a), addr(&b));
        assert_ne!(addr(&a), addr(&c));
        // 4 + 2 + 3 × (2 + 38) bytes
        assert_eq!(a.amino_bytes().len(), 126);
    }
}
