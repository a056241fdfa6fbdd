//! Account addresses: 20 bytes, shown as bech32 with Surety's prefixes.

use crate::error::{sdk, Error};
use bech32::{Bech32, Hrp};
use sha2::{Digest, Sha256};
use std::fmt;

pub const ACCOUNT_PREFIX: &str = "surety";
pub const VALIDATOR_PREFIX: &str = "suretyvaloper";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// Parses a bech32 address with the given prefix.
    pub fn from_bech32_with(s: &str, prefix: &str) -> Result<Address, Error> {
        let (hrp, data) = bech32::decode(s)
            .map_err(|e| sdk::invalid_address(format!("invalid address {s:?}: {e}")))?;
        if hrp.as_str() != prefix {
            return Err(sdk::invalid_address(format!(
                "invalid Bech32 prefix; expected {prefix}, got {}",
                hrp.as_str()
            )));
        }
        let bytes: [u8; 20] = data.try_into().map_err(|d: Vec<u8>| {
            sdk::invalid_address(format!("address {s} has {} bytes, expected 20", d.len()))
        })?;
        Ok(Address(bytes))
    }

    /// Parses an account address (`surety1…`).
    pub fn from_bech32(s: &str) -> Result<Address, Error> {
        Self::from_bech32_with(s, ACCOUNT_PREFIX)
    }

    pub fn to_bech32_with(&self, prefix: &str) -> String {
        let hrp = Hrp::parse(prefix).expect("prefix constants are valid bech32 prefixes");
        bech32::encode::<Bech32>(hrp, &self.0).expect("20 bytes always encode")
    }

    pub fn to_bech32(&self) -> String {
        self.to_bech32_with(ACCOUNT_PREFIX)
    }

    /// The address of a module account: the first 20 bytes of sha256(name), as Cosmos does.
    pub fn module(name: &str) -> Address {
        let digest = Sha256::digest(name.as_bytes());
        let mut out = [0u8; 20];
        out.copy_from_slice(&digest[..20]);
        Address(out)
    }

    /// The account address of a secp256k1 public key: ripemd160(sha256(compressed key)).
    pub fn from_secp256k1(pubkey: &[u8]) -> Address {
        use ripemd::Ripemd160;
        let sha = Sha256::digest(pubkey);
        let rip = Ripemd160::digest(sha);
        let mut out = [0u8; 20];
        out.copy_from_slice(&rip);
        Address(out)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_bech32())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_bech32())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bech32_round_trip_and_prefix_check() {
        let a = Address([7; 20]);
        let s = a.to_bech32();
        assert!(s.starts_with("surety1"));
        assert_eq!(Address::from_bech32(&s).unwrap(), a);
        let val = a.to_bech32_with(VALIDATOR_PREFIX);
        let err = Address::from_bech32(&val).unwrap_err();
        assert_eq!(err.code, 7);
        assert!(err.log.contains("expected surety"), "{}", err.log);
        assert_eq!(Address::from_bech32("surety1xyz").unwrap_err().code, 7);
    }
}
