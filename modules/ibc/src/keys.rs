//! Where IBC state lives in the `ibc` substore.
//!
//! Everything a counterparty verifies sits at its ICS-24 path, byte for byte as ibc-go writes
//! it, so a proof from `store/ibc/key` is what the counterparty's light client expects. Surety's
//! own bookkeeping (host consensus states, ordered height indexes, denom traces, remote
//! accounts, remittances) lives under `surety/`, a prefix no ICS-24 path has.

use ibc::core::client::types::Height;
use ibc::core::host::types::identifiers::ClientId;
use ibc::core::host::types::path::Path;

pub const NEXT_CLIENT_SEQUENCE: &[u8] = b"nextClientSequence";
pub const NEXT_CONNECTION_SEQUENCE: &[u8] = b"nextConnectionSequence";
pub const NEXT_CHANNEL_SEQUENCE: &[u8] = b"nextChannelSequence";

/// The ICS-24 key of `path`.
pub fn path(path: impl Into<Path>) -> Vec<u8> {
    path.into().to_string().into_bytes()
}

/// A height as 16 big-endian bytes, so keys sort in height order.
pub fn height_bytes(height: &Height) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&height.revision_number().to_be_bytes());
    out[8..].copy_from_slice(&height.revision_height().to_be_bytes());
    out
}

pub fn height_from_bytes(bytes: &[u8]) -> Option<Height> {
    let revision = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let height = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
    Height::new(revision, height).ok()
}

/// This chain's consensus state at a block height (root, time, next validators hash), which
/// counterparties' clients of Surety are checked against.
pub fn host_consensus_state(height: u64) -> Vec<u8> {
    [b"surety/host/".as_slice(), &height.to_be_bytes()].concat()
}

/// The heights of a client's consensus states, in order (ICS-24 keys sort "1-10" before "1-9").
pub fn consensus_heights_prefix(client: &ClientId) -> Vec<u8> {
    format!("surety/heights/{client}/").into_bytes()
}

pub fn consensus_height(client: &ClientId, height: &Height) -> Vec<u8> {
    [
        consensus_heights_prefix(client).as_slice(),
        &height_bytes(height),
    ]
    .concat()
}

/// The processed time and height of a client update, as ibc-go keeps them beside the
/// consensus state.
pub fn update_meta(client: &ClientId, height: &Height) -> Vec<u8> {
    [
        format!("surety/update/{client}/").as_bytes(),
        &height_bytes(height),
    ]
    .concat()
}

/// `ibc/<HASH>` → the full denom path it stands for.
pub fn denom_trace(hash: &str) -> Vec<u8> {
    format!("surety/denomTraces/{hash}").into_bytes()
}

pub const DENOM_TRACES_PREFIX: &[u8] = b"surety/denomTraces/";

/// A remote account (derived from a channel and a sender there) → where its money goes home.
pub fn remote_route(account: &[u8]) -> Vec<u8> {
    [b"surety/remote/".as_slice(), account].concat()
}

/// Remittances home (payouts and change), by id.
pub const REMITTANCE_PREFIX: &[u8] = b"surety/remit/";
pub fn remittance(id: u64) -> Vec<u8> {
    [REMITTANCE_PREFIX, &id.to_be_bytes()].concat()
}
pub const REMITTANCE_COUNTER: &[u8] = b"surety/remitCounter";
/// An in-flight remittance by the packet that carries it: channel and sequence.
pub fn remittance_packet(channel: &str, sequence: u64) -> Vec<u8> {
    [
        format!("surety/remitPacket/{channel}/").as_bytes(),
        &sequence.to_be_bytes(),
    ]
    .concat()
}

pub const PARAMS: &[u8] = b"surety/params";
