//! Compiles `proto/` with protoc (installed by scripts/install-prereqs.sh):
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
];

fn protos_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            protos_under(&path, found);
        } else if path.extension().is_some_and(|e| e == "proto") {
            found.push(path);
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
    protos_under(&root.join("surety"), &mut own);

    let descriptor = out.join("surety_descriptor.bin");
    let protoc = std::env::var("PROTOC").unwrap_or_else(|_| "protoc".into());
    let status = std::process::Command::new(&protoc)
        .arg("--include_imports")
        .arg(format!("--descriptor_set_out={}", descriptor.display()))
        .arg(format!("-I{}", root.display()))
        .arg(format!("-I{}", third_party.display()))
        .args(COSMOS_SERVICES.iter().map(|p| third_party.join(p)))
        .args(&own)
        .status()
        .map_err(|e| format!("running {protoc} (install protobuf-compiler): {e}"))?;
    if !status.success() {
        return Err(format!("{protoc} failed: {status}").into());
    }

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
            .compile_protos(&own, &[root.clone(), third_party])?;
    }
    Ok(())
}
