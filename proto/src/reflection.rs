//! The descriptor set gRPC reflection serves: Surety's own ([`crate::FILE_DESCRIPTOR_SET`]) plus
//! IBC's query and message services (`ibc.core.{client,connection,channel}.v1`,
//! `ibc.applications.transfer.v1`) and the types they need, taken from ibc-proto's descriptors.
//!
//! The sets are merged as encoded bytes: a `FileDescriptorSet` is a repeated field, so its
//! encoding is the concatenation of its files'. Surety's files are kept byte for byte (with the
//! extension options protox encoded), IBC's are appended unless a file of the same name is
//! already there, and only the IBC packages the node answers are added — with every file they
//! import, transitively.

use prost::bytes::Buf;
use prost::encoding::{decode_key, decode_varint, encode_key, encode_varint, WireType};
use prost::Message;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

/// The IBC files (by path prefix) whose services the node serves, or whose types clients need
/// to read its answers (the 07-tendermint client and consensus states inside `Any`s).
const IBC_ROOTS: &[&str] = &[
    "ibc/core/client/v1/",
    "ibc/core/connection/v1/",
    "ibc/core/channel/v1/",
    "ibc/core/commitment/v1/",
    "ibc/applications/transfer/v1/",
    "ibc/lightclients/tendermint/v1/",
];

/// One file of an encoded set: its name, the files it imports, and its encoded bytes.
struct File<'a> {
    name: String,
    dependencies: Vec<String>,
    bytes: &'a [u8],
}

/// Just the fields needed to follow imports (prost skips the others).
#[derive(Clone, PartialEq, Message)]
struct FileHeader {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(string, repeated, tag = "3")]
    dependency: Vec<String>,
}

/// The files of an encoded `FileDescriptorSet`, each with its own bytes.
fn files(mut set: &[u8]) -> Result<Vec<File<'_>>, prost::DecodeError> {
    let mut out = Vec::new();
    while set.has_remaining() {
        let (tag, wire_type) = decode_key(&mut set)?;
        if tag != 1 || wire_type != WireType::LengthDelimited {
            return Err(prost::DecodeError::new("not a FileDescriptorSet"));
        }
        let len = usize::try_from(decode_varint(&mut set)?)
            .map_err(|_| prost::DecodeError::new("file too long"))?;
        if len > set.len() {
            return Err(prost::DecodeError::new("truncated FileDescriptorSet"));
        }
        let (bytes, rest) = set.split_at(len);
        set = rest;
        let header = FileHeader::decode(bytes)?;
        out.push(File {
            name: header.name.unwrap_or_default(),
            dependencies: header.dependency,
            bytes,
        });
    }
    Ok(out)
}

/// `base` with the files of `extra` under `roots` (and their imports) appended, skipping files
/// `base` already has.
pub fn merge(base: &[u8], extra: &[u8], roots: &[&str]) -> Result<Vec<u8>, prost::DecodeError> {
    let present: BTreeSet<String> = files(base)?.into_iter().map(|f| f.name).collect();
    let extra = files(extra)?;
    let by_name: HashMap<&str, &File> = extra.iter().map(|f| (f.name.as_str(), f)).collect();

    // Every file under the roots, and everything they import.
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = extra
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| roots.iter().any(|r| n.starts_with(r)))
        .collect();
    while let Some(name) = todo.pop() {
        if present.contains(name) || !wanted.insert(name) {
            continue;
        }
        if let Some(file) = by_name.get(name) {
            todo.extend(file.dependencies.iter().map(String::as_str));
        }
    }

    let mut out = base.to_vec();
    // In `extra`'s order, which lists a file after its imports.
    for file in extra.iter().filter(|f| wanted.contains(f.name.as_str())) {
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(file.bytes.len() as u64, &mut out);
        out.extend_from_slice(file.bytes);
    }
    Ok(out)
}

/// Every service the node serves — Cosmos's, Surety's and IBC's — with their imports, as an
/// encoded `FileDescriptorSet` for gRPC reflection.
pub fn reflection_descriptor_set() -> &'static [u8] {
    static SET: OnceLock<Vec<u8>> = OnceLock::new();
    SET.get_or_init(|| {
        merge(
            crate::FILE_DESCRIPTOR_SET,
            ibc_proto::FILE_DESCRIPTOR_SET,
            IBC_ROOTS,
        )
        .expect("the built-in descriptor sets decode")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_reflect::DescriptorPool;

    #[test]
    fn reflection_describes_surety_cosmos_and_ibc_services() {
        let set = reflection_descriptor_set();
        // Surety's own files are kept byte for byte, first.
        assert!(set.starts_with(crate::FILE_DESCRIPTOR_SET));
        // The merged set is whole: every import resolves and no symbol is defined twice.
        let pool = DescriptorPool::decode(set).expect("a consistent descriptor set");
        for service in [
            "ibc.core.client.v1.Query",
            "ibc.core.connection.v1.Query",
            "ibc.core.channel.v1.Query",
            "ibc.applications.transfer.v1.Query",
            "ibc.applications.transfer.v1.Msg",
            "surety.ibc.v1.Query",
            "cosmos.bank.v1beta1.Query",
        ] {
            assert!(
                pool.get_service_by_name(service).is_some(),
                "{service} is described"
            );
        }
        for message in [
            "ibc.lightclients.tendermint.v1.ClientState",
            "ibc.core.commitment.v1.MerkleProof",
            "cosmos.ics23.v1.CommitmentProof",
        ] {
            assert!(pool.get_message_by_name(message).is_some(), "{message}");
        }
        // Only what the node serves: no other IBC application or light client.
        let names: Vec<String> = files(set).unwrap().into_iter().map(|f| f.name).collect();
        assert!(!names.iter().any(|n| n.starts_with("ibc/applications/fee")
            || n.starts_with("ibc/applications/interchain_accounts")
            || n.starts_with("interchain_security")));
        // No file twice.
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn merging_skips_files_already_present() {
        let file = |name: &str, deps: &[&str]| prost_types::FileDescriptorProto {
            name: Some(name.to_owned()),
            dependency: deps.iter().map(|d| d.to_string()).collect(),
            ..Default::default()
        };
        let set = |files: Vec<prost_types::FileDescriptorProto>| {
            prost_types::FileDescriptorSet { file: files }.encode_to_vec()
        };
        let base = set(vec![file("shared.proto", &[])]);
        let extra = set(vec![
            file("shared.proto", &["ignored.proto"]),
            file("dep.proto", &[]),
            file("unrelated.proto", &[]),
            file("want/a.proto", &["shared.proto", "dep.proto"]),
        ]);
        let merged = merge(&base, &extra, &["want/"]).unwrap();
        let names: Vec<String> = prost_types::FileDescriptorSet::decode(merged.as_slice())
            .unwrap()
            .file
            .into_iter()
            .map(|f| f.name.unwrap())
            .collect();
        assert_eq!(names, ["shared.proto", "dep.proto", "want/a.proto"]);
        assert!(merge(b"\x08\x01", &extra, &[]).is_err());
    }
}
