//! Compiles `proto/` with protox (a protobuf compiler in pure Rust, so the build reads nothing
//! outside the repository: no protoc, no system `google/protobuf` includes — protox carries the
//! well-known types itself):
//! - Rust types for Surety's own packages (`proto/surety/**`), referring to cosmos-sdk-proto for
//!   the Cosmos types they use;
//! - one FileDescriptorSet of every service the node serves (Cosmos's and Surety's), which the
//!   gRPC server offers through reflection.

use std::path::{Path, PathBuf};

/// Upstream services served by the node, vendored under `third_party/` by
/// `scripts/vendor-protos.py` (keep the two lists in step).
const COSMOS_SERVICES: &[&str] = &[
    "cosmos/auth/v1beta1/query.proto",
    "cosmos/bank/v1beta1/query.proto",
    "cosmos/staking/v1beta1/query.proto",
    "cosmos/tx/v1beta1/service.proto",
    "cosmos/base/tendermint/v1beta1/query.proto",
    "cosmos/gov/v1/query.proto",
    "cosmos/bank/v1beta1/tx.proto",
    "cosmos/staking/v1beta1/tx.proto",
    "cosmos/gov/v1/tx.proto",
    "cosmos/auth/v1beta1/tx.proto",
    "cosmos/distribution/v1beta1/tx.proto",
    "cosmos/slashing/v1beta1/tx.proto",
    "cosmos/upgrade/v1beta1/tx.proto",
    // Public keys, which accounts and transactions carry in `Any`s.
    "cosmos/crypto/secp256k1/keys.proto",
    "cosmos/crypto/ed25519/keys.proto",
    "cosmos/crypto/secp256r1/keys.proto",
    "cosmos/crypto/multisig/keys.proto",
];

/// Surety's own `.proto` files, relative to `root`, in a stable order.
fn protos_under(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            protos_under(root, &path, found);
        } else if path.extension().is_some_and(|e| e == "proto") {
            let rel = path.strip_prefix(root).expect("under root");
            found.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let third_party = root.join("third_party");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", third_party.display());
    println!("cargo:rerun-if-changed={}", root.join("surety").display());

    let mut own = Vec::new();
    protos_under(&root, &root.join("surety"), &mut own);

    let mut files: Vec<String> = COSMOS_SERVICES.iter().map(|s| s.to_string()).collect();
    files.extend(own.iter().cloned());
    let mut compiler = protox::Compiler::new([&root, &third_party])?;
    compiler.include_imports(true).include_source_info(false);
    compiler.open_files(&files)?;
    // Encoded by protox itself so that extension options (gogoproto's, which the REST gateway
    // reads) survive; prost-types would drop them.
    std::fs::write(
        out.join("surety_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    let descriptors = compiler.file_descriptor_set();

    if !own.is_empty() {
        prost_build::Config::new()
            // Genesis files carry Surety's state as JSON in the proto field names.
            .message_attribute(
                ".surety",
                "#[derive(serde::Serialize, serde::Deserialize)] #[serde(default)]",
            )
            .enum_attribute(".surety", "#[derive(serde::Serialize, serde::Deserialize)]")
            .extern_path(".cosmos", "::cosmos_sdk_proto::cosmos")
            .extern_path(".google.protobuf.Any", "::cosmos_sdk_proto::Any")
            .extern_path(".google.protobuf.Timestamp", "::prost_types::Timestamp")
            .extern_path(".google.protobuf.Duration", "::prost_types::Duration")
            .compile_fds(descriptors)?;
    }
    Ok(())
}
