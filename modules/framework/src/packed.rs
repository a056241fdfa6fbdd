//! Amounts in stored records: a `u128` as its big-endian bytes without leading zeros (none for
//! zero, which protobuf then leaves out). Queries and genesis keep the decimal strings Cosmos
//! clients expect; a record written by every purchase pays 30 gas a byte, and a decimal string
//! takes about twice the bytes.

use crate::error::{sdk, Error};

pub fn amount_bytes(value: u128) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

/// The amount [`amount_bytes`] wrote. Any other bytes (longer than 16, or a leading zero, which
/// `amount_bytes` never writes) are an internal error naming the field, `what()`: called only
/// then, so that reading a record formats nothing.
pub fn amount_from_bytes(bytes: &[u8], what: impl FnOnce() -> String) -> Result<u128, Error> {
    if bytes.len() > 16 || bytes.first() == Some(&0) {
        return Err(sdk::internal(format!("corrupt stored amount {}", what())));
    }
    let mut full = [0u8; 16];
    full[16 - bytes.len()..].copy_from_slice(bytes);
    Ok(u128::from_be_bytes(full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_in_their_fewest_bytes_and_nothing_else_decodes() {
        for (value, len) in [
            (0u128, 0),
            (1, 1),
            (255, 1),
            (256, 2),
            (1_000_000_000_000, 5),
            (u64::MAX as u128 + 1, 9),
            (u128::MAX, 16),
        ] {
            let bytes = amount_bytes(value);
            assert_eq!(bytes.len(), len, "{value}");
            assert_eq!(amount_from_bytes(&bytes, || unreachable!()).unwrap(), value);
        }
        for bad in [vec![0u8], vec![0, 1], vec![1; 17]] {
            let err = amount_from_bytes(&bad, || "cash".into()).unwrap_err();
            assert_eq!((err.codespace, err.code), ("sdk", 1));
            assert!(err.log.contains("cash"), "{}", err.log);
        }
    }
}
