//! Account addresses: 20 bytes, shown as bech32 with Surety's prefixes.

use crate::error::{sdk, Error};
use bech32::{Bech32, Hrp};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
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
        if let Some(a) = recent::parsed(s) {
            return Ok(a);
        }
        let a = Self::from_bech32_with(s, ACCOUNT_PREFIX)?;
        recent::remember_parsed(s, &a);
        Ok(a)
    }

    pub fn to_bech32_with(&self, prefix: &str) -> String {
        let hrp = Hrp::parse(prefix).expect("prefix constants are valid bech32 prefixes");
        bech32::encode::<Bech32>(hrp, &self.0).expect("20 bytes always encode")
    }

    pub fn to_bech32(&self) -> String {
        if let Some(s) = recent::encoded(self) {
            return s;
        }
        let s = self.to_bech32_with(ACCOUNT_PREFIX);
        recent::remember_encoded(self, &s);
        s
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

/// The account addresses this thread coded last, both ways. A block's transactions name the
/// same few accounts (the signer, the pool and fee accounts) in many messages and events, and
/// bech32 coding was 6% of the node's CPU under cover purchases. A cache of a codec's own
/// answers changes no result, so it is safe in consensus code; direct-mapped, so it never grows.
mod recent {
    use super::*;

    const SLOTS: usize = 64;

    #[derive(Default)]
    struct Recent {
        /// Slot by the address's last byte.
        by_address: Vec<Option<(Address, String)>>,
        /// Slot by the string's last byte (a bech32 checksum character).
        by_string: Vec<Option<(String, Address)>>,
    }

    thread_local! {
        static RECENT: RefCell<Recent> = RefCell::new(Recent {
            by_address: vec![None; SLOTS],
            by_string: vec![None; SLOTS],
        });
    }

    fn address_slot(a: &Address) -> usize {
        usize::from(a.0[19]) % SLOTS
    }

    fn string_slot(s: &str) -> usize {
        usize::from(s.as_bytes().last().copied().unwrap_or(0)) % SLOTS
    }

    pub fn encoded(a: &Address) -> Option<String> {
        RECENT.with(|r| match &r.borrow().by_address[address_slot(a)] {
            Some((hit, s)) if hit == a => Some(s.clone()),
            _ => None,
        })
    }

    pub fn parsed(s: &str) -> Option<Address> {
        RECENT.with(|r| match &r.borrow().by_string[string_slot(s)] {
            Some((hit, a)) if hit == s => Some(*a),
            _ => None,
        })
    }

    /// Records that `s` parses as `a`. Not the other way round: the parser also takes
    /// upper case and the bech32m checksum, which are not how `a` is written.
    pub fn remember_parsed(s: &str, a: &Address) {
        RECENT.with(|r| r.borrow_mut().by_string[string_slot(s)] = Some((s.to_owned(), *a)));
    }

    /// Records that `a` is written `s`, which also parses as `a`.
    pub fn remember_encoded(a: &Address, s: &str) {
        RECENT.with(|r| {
            let mut r = r.borrow_mut();
            r.by_address[address_slot(a)] = Some((*a, s.to_owned()));
            r.by_string[string_slot(s)] = Some((s.to_owned(), *a));
        });
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

    #[test]
    fn the_cache_of_recent_addresses_changes_no_answer() {
        use bech32::Bech32m;
        let hrp = Hrp::parse(ACCOUNT_PREFIX).unwrap();
        for n in 0..=255u8 {
            // Addresses that share cache slots, coded in turns, both ways.
            let a = Address([n; 20]);
            let b = Address([n.wrapping_add(64); 20]);
            let canonical = bech32::encode::<Bech32>(hrp, &a.0).unwrap();
            assert_eq!(a.to_bech32(), canonical);
            assert_eq!(b.to_bech32(), bech32::encode::<Bech32>(hrp, &b.0).unwrap());
            assert_eq!(a.to_bech32(), canonical);
            // Other spellings: parsed as the codec parses them (twice: cold, then cached), and
            // never handed back as the address's spelling.
            for other in [
                canonical.to_uppercase(),
                bech32::encode::<Bech32m>(hrp, &a.0).unwrap(),
            ] {
                let codec = Address::from_bech32_with(&other, ACCOUNT_PREFIX).map_err(|e| e.log);
                for _ in 0..2 {
                    assert_eq!(Address::from_bech32(&other).map_err(|e| e.log), codec);
                }
                assert_eq!(a.to_bech32(), canonical);
                assert_eq!(Address::from_bech32(&canonical).unwrap(), a);
            }
        }
    }
}
