//! Byte encodings of every RocksDB key used by the store.
//!
//! All tree-scoped keys start with a *tree id* so that the data of different substores (and of the
//! main tree) never interleave. Versions are always encoded big-endian so that RocksDB's
//! lexicographic order follows version order.

use jmt::storage::NodeKey;
use jmt::{KeyHash, Version};

use crate::error::StoreError;

/// Tree id of the main tree (substore name -> substore root hash).
pub(crate) const MAIN_TREE_ID: &[u8] = &[0x00];
/// Tag byte that starts the tree id of every substore.
const SUBSTORE_TAG: u8 = 0x01;
/// Longest accepted substore name (its length is encoded in one byte).
pub(crate) const MAX_SUBSTORE_NAME_LEN: usize = u8::MAX as usize;

/// Metadata keys.
pub(crate) const META_LATEST_VERSION: &[u8] = b"latest_version";
pub(crate) const META_OLDEST_VERSION: &[u8] = b"oldest_version";
/// Present once `kv_latest` holds the latest version (written on open, see `Storage::open`).
pub(crate) const META_LATEST_KV_BUILT: &[u8] = b"latest_kv_built";
/// Present while a version's own entries are on disk ahead of its commit (see
/// `Storage::write_ahead`): the version and the substores it creates, so that the entries can be
/// found and discarded if the commit never comes.
pub(crate) const META_WRITTEN_AHEAD: &[u8] = b"written_ahead";
const META_APP_HASH_PREFIX: &[u8] = b"h/";
const META_SUBSTORE_PREFIX: &[u8] = b"s/";

/// Value tags for the `values` and `index` column families.
const TAG_TOMBSTONE: u8 = 0;
const TAG_VALUE: u8 = 1;

/// Checks a substore name: non-empty, at most 255 bytes.
pub(crate) fn validate_substore(name: &str) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(StoreError::InvalidInput(
            "substore name must not be empty".into(),
        ));
    }
    if name.len() > MAX_SUBSTORE_NAME_LEN {
        return Err(StoreError::InvalidInput(format!(
            "substore name is {} bytes long, at most {MAX_SUBSTORE_NAME_LEN} are allowed",
            name.len()
        )));
    }
    Ok(())
}

/// Tree id of a substore: tag, one length byte, then the name. The length prefix makes the
/// encoding prefix-free, so one substore's keys can never be mistaken for another's.
pub(crate) fn substore_tree_id(name: &str) -> Result<Vec<u8>, StoreError> {
    validate_substore(name)?;
    let mut id = Vec::with_capacity(2 + name.len());
    id.push(SUBSTORE_TAG);
    id.push(name.len() as u8);
    id.extend_from_slice(name.as_bytes());
    Ok(id)
}

fn with_tree(tree: &[u8], extra: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(tree.len() + extra);
    out.extend_from_slice(tree);
    out
}

/// Encodes a jmt node key (without tree id): version BE, nibble count, nibbles packed two per byte.
pub(crate) fn node_key_suffix(node_key: &NodeKey) -> Vec<u8> {
    let path = node_key.nibble_path();
    let mut out = Vec::with_capacity(9 + path.num_nibbles().div_ceil(2));
    out.extend_from_slice(&node_key.version().to_be_bytes());
    // A nibble path has at most 64 nibbles, so the count fits in a byte.
    out.push(path.num_nibbles() as u8);
    let mut pending: Option<u8> = None;
    for nibble in path.nibbles() {
        let n = u8::from(nibble);
        match pending.take() {
            None => pending = Some(n << 4),
            Some(high) => out.push(high | n),
        }
    }
    if let Some(high) = pending {
        out.push(high);
    }
    out
}

/// Node-key suffix of the root node of `version` (empty nibble path).
pub(crate) fn root_node_key_suffix(version: Version) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    out.extend_from_slice(&version.to_be_bytes());
    out.push(0);
    out
}

/// `nodes` CF key.
pub(crate) fn node_key(tree: &[u8], node_key: &NodeKey) -> Vec<u8> {
    node_key_with_suffix(tree, &node_key_suffix(node_key))
}

/// `nodes` CF key from a suffix already encoded by [`node_key_suffix`].
pub(crate) fn node_key_with_suffix(tree: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut out = with_tree(tree, suffix.len());
    out.extend_from_slice(suffix);
    out
}

/// `nodes` CF key of the root node at `version`.
pub(crate) fn root_node_key(tree: &[u8], version: Version) -> Vec<u8> {
    let mut out = with_tree(tree, 9);
    out.extend_from_slice(&root_node_key_suffix(version));
    out
}

/// `values` CF key prefix for one key hash: tree id ++ key hash.
pub(crate) fn value_key_prefix(tree: &[u8], key_hash: &KeyHash) -> Vec<u8> {
    let mut out = with_tree(tree, 40);
    out.extend_from_slice(&key_hash.0);
    out
}

/// `values` CF key: tree id ++ key hash ++ version BE (all versions of one key are contiguous).
pub(crate) fn value_key(tree: &[u8], key_hash: &KeyHash, version: Version) -> Vec<u8> {
    let mut out = value_key_prefix(tree, key_hash);
    out.extend_from_slice(&version.to_be_bytes());
    out
}

/// `preimages` CF key: tree id ++ key hash.
pub(crate) fn preimage_key(tree: &[u8], key_hash: &KeyHash) -> Vec<u8> {
    value_key_prefix(tree, key_hash)
}

/// Appends `key` escaped so that the result is order-preserving and prefix-free once
/// terminated: 0x00 becomes 0x00 0xFF; the terminator is 0x00 0x00.
pub(crate) fn escape_into(out: &mut Vec<u8>, key: &[u8]) {
    for &b in key {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

/// Reverses [`escape_into`] on an escaped key *without* terminator.
pub(crate) fn unescape(escaped: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(escaped.len());
    let mut i = 0;
    while i < escaped.len() {
        let b = escaped[i];
        out.push(b);
        if b == 0 {
            if escaped.get(i + 1) != Some(&0xFF) {
                return Err(StoreError::Corrupt("badly escaped index key".into()));
            }
            i += 1;
        }
        i += 1;
    }
    Ok(out)
}

/// `index` CF prefix for every key starting with `prefix` (no terminator).
pub(crate) fn index_scan_prefix(tree: &[u8], prefix: &[u8]) -> Vec<u8> {
    let mut out = with_tree(tree, prefix.len() + 2);
    escape_into(&mut out, prefix);
    out
}

/// `index` CF prefix for all versions of exactly `key`: tree id ++ escape(key) ++ 0x00 0x00.
pub(crate) fn index_key_prefix(tree: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = index_scan_prefix(tree, key);
    out.extend_from_slice(&[0, 0]);
    out
}

/// `index` CF key: tree id ++ escape(key) ++ 0x00 0x00 ++ version BE.
pub(crate) fn index_key(tree: &[u8], key: &[u8], version: Version) -> Vec<u8> {
    let mut out = index_key_prefix(tree, key);
    out.extend_from_slice(&version.to_be_bytes());
    out
}

/// Splits an `index` CF key (with the tree id already removed) into the escaped key group
/// prefix (escape(key) ++ 0x00 0x00) and the version.
pub(crate) fn split_index_key(rest: &[u8]) -> Result<(&[u8], Version), StoreError> {
    if rest.len() < 10 || rest[rest.len() - 10..rest.len() - 8] != [0, 0] {
        return Err(StoreError::Corrupt("malformed index key".into()));
    }
    let (group, version) = rest.split_at(rest.len() - 8);
    Ok((group, decode_version(version)?))
}

/// `latest` CF key: tree id ++ key. Tree ids are prefix-free, so `latest_key(tree, prefix)` is
/// also the scan prefix of every key of that tree starting with `prefix`.
pub(crate) fn latest_key(tree: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = with_tree(tree, key.len());
    out.extend_from_slice(key);
    out
}

/// The first key after every key starting with `prefix` (an exclusive upper bound), or `None`
/// if there is none (`prefix` is all 0xFF).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// `stale` CF key: tree id ++ stale-since version BE ++ node key suffix.
pub(crate) fn stale_key(tree: &[u8], stale_since: Version, node_suffix: &[u8]) -> Vec<u8> {
    let mut out = with_tree(tree, 8 + node_suffix.len());
    out.extend_from_slice(&stale_since.to_be_bytes());
    out.extend_from_slice(node_suffix);
    out
}

/// `superseded` CF key: tree id ++ version BE ++ raw key. Records "key was written at version";
/// once that version is the oldest kept one, older entries of the key can go.
pub(crate) fn superseded_key(tree: &[u8], version: Version, key: &[u8]) -> Vec<u8> {
    let mut out = with_tree(tree, 8 + key.len());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// Tree id ++ version BE: the start of a version-ordered scan of a tree's log (stale/superseded).
pub(crate) fn tree_version_prefix(tree: &[u8], version: Version) -> Vec<u8> {
    let mut out = with_tree(tree, 8);
    out.extend_from_slice(&version.to_be_bytes());
    out
}

pub(crate) fn app_hash_key(version: Version) -> Vec<u8> {
    let mut out = META_APP_HASH_PREFIX.to_vec();
    out.extend_from_slice(&version.to_be_bytes());
    out
}

pub(crate) fn app_hash_key_prefix() -> &'static [u8] {
    META_APP_HASH_PREFIX
}

pub(crate) fn substore_meta_key(name: &str) -> Vec<u8> {
    let mut out = META_SUBSTORE_PREFIX.to_vec();
    out.extend_from_slice(name.as_bytes());
    out
}

pub(crate) fn substore_meta_prefix() -> &'static [u8] {
    META_SUBSTORE_PREFIX
}

/// Value encoding shared by the `values` and `index` CFs: a tag byte then the value bytes.
pub(crate) fn encode_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => vec![TAG_TOMBSTONE],
        Some(v) => {
            let mut out = Vec::with_capacity(1 + v.len());
            out.push(TAG_VALUE);
            out.extend_from_slice(v);
            out
        }
    }
}

pub(crate) fn decode_value(raw: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    match raw.split_first() {
        Some((&TAG_TOMBSTONE, [])) => Ok(None),
        Some((&TAG_VALUE, rest)) => Ok(Some(rest.to_vec())),
        _ => Err(StoreError::Corrupt("malformed stored value".into())),
    }
}

pub(crate) fn decode_version(raw: &[u8]) -> Result<Version, StoreError> {
    let bytes: [u8; 8] = raw
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("expected 8 version bytes, got {}", raw.len())))?;
    Ok(u64::from_be_bytes(bytes))
}

/// [`META_WRITTEN_AHEAD`]'s value: the version, then each new substore's name after its length.
pub(crate) fn encode_written_ahead(version: Version, created: &[String]) -> Vec<u8> {
    let mut out = version.to_be_bytes().to_vec();
    for name in created {
        // Names are at most MAX_SUBSTORE_NAME_LEN (255) bytes: `prepare` validates them.
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
    }
    out
}

pub(crate) fn decode_written_ahead(raw: &[u8]) -> Result<(Version, Vec<String>), StoreError> {
    let corrupt = || StoreError::Corrupt("malformed written-ahead marker".into());
    let (version, mut rest) = raw.split_at_checked(8).ok_or_else(corrupt)?;
    let mut created = Vec::new();
    while let Some((&len, tail)) = rest.split_first() {
        let (name, tail) = tail.split_at_checked(len as usize).ok_or_else(corrupt)?;
        created.push(String::from_utf8(name.to_vec()).map_err(|_| corrupt())?);
        rest = tail;
    }
    Ok((decode_version(version)?, created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_ahead_marker_round_trips_and_rejects_truncation() {
        let created = vec!["pool".to_string(), "x".repeat(255)];
        let raw = encode_written_ahead(7, &created);
        assert_eq!(decode_written_ahead(&raw).unwrap(), (7, created));
        assert_eq!(
            decode_written_ahead(&encode_written_ahead(9, &[])).unwrap(),
            (9, vec![])
        );
        assert!(decode_written_ahead(&raw[..raw.len() - 1]).is_err());
        assert!(decode_written_ahead(&raw[..5]).is_err());
    }

    #[test]
    fn escaping_preserves_order_and_prefixes() {
        let keys: Vec<&[u8]> = vec![
            b"",
            b"\x00",
            b"\x00\x00",
            b"\x00\x01",
            b"\x00\xff",
            b"a",
            b"ab",
            b"ab\x00",
            b"ab\x00x",
            b"ab\x01",
            b"ab\xff",
            b"abc",
            b"b",
        ];
        let encoded: Vec<Vec<u8>> = keys.iter().map(|k| index_key(&[1], k, 7)).collect();
        for i in 0..keys.len() {
            for j in 0..keys.len() {
                assert_eq!(
                    keys[i].cmp(keys[j]),
                    encoded[i].cmp(&encoded[j]),
                    "{i} vs {j}"
                );
                let is_prefix = keys[j].starts_with(keys[i]);
                let enc_prefix = encoded[j].starts_with(&index_scan_prefix(&[1], keys[i]));
                assert_eq!(is_prefix, enc_prefix, "prefix {i} of {j}");
            }
            let (group, version) = split_index_key(&encoded[i][1..]).unwrap();
            assert_eq!(version, 7);
            assert_eq!(unescape(&group[..group.len() - 2]).unwrap(), keys[i]);
        }
    }

    #[test]
    fn prefix_end_bounds_exactly_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn substore_ids_are_prefix_free() {
        let a = substore_tree_id("ab").unwrap();
        let b = substore_tree_id("abc").unwrap();
        assert!(!b.starts_with(&a));
        assert!(substore_tree_id("").is_err());
        assert!(substore_tree_id(&"x".repeat(256)).is_err());
    }

    #[test]
    fn values_round_trip() {
        assert_eq!(decode_value(&encode_value(None)).unwrap(), None);
        assert_eq!(
            decode_value(&encode_value(Some(b""))).unwrap(),
            Some(vec![])
        );
        assert_eq!(
            decode_value(&encode_value(Some(b"x"))).unwrap(),
            Some(b"x".to_vec())
        );
        assert!(decode_value(&[]).is_err());
        assert!(decode_value(&[0, 1]).is_err());
    }
}
