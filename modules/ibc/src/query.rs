//! Queries: the IBC core services relayers use (`ibc.core.{client,connection,channel}.v1`),
//! ICS-20's (`ibc.applications.transfer.v1`), and cross-chain cover's (`surety.ibc.v1`).
//!
//! IBC's services answer with ibc-go's own request and response types (`ibc_proto`), read
//! from the ICS-24 keys [`crate::host`] writes. A single object comes with the ICS-23
//! `MerkleProof` of its key (when the query reads a committed height; empty otherwise) and the
//! height it was read at; a list comes with that height and a `PageResponse`. A missing object
//! is `ibc` error 7 with the gRPC code NotFound; a malformed identifier, an invalid request.

mod channel;
mod client;
mod connection;
#[cfg(test)]
mod tests;
mod transfer;

use crate::{cover, errors, host, keys, STORE};
use ibc::core::host::types::identifiers::{ChannelId, ClientId, ConnectionId, PortId};
use ibc_proto::cosmos::base::query::v1beta1 as ibc_page;
use ibc_proto::google::protobuf::Any;
use ibc_proto::ibc::core::client::v1::Height as RawHeight;
use prost::Message;
use std::fmt::Display;
use std::str::FromStr;
use surety_framework::{decode_query, paginate, sdk, Ctx, Error, GrpcCode, PageRequest};
use surety_proto::surety::ibc::v1 as pb;

pub const PATHS: &[&str] = &[
    "/surety.ibc.v1.Query/Params",
    "/surety.ibc.v1.Query/RemoteAccount",
    "/surety.ibc.v1.Query/Remittances",
    "/ibc.core.client.v1.Query/ClientState",
    "/ibc.core.client.v1.Query/ClientStates",
    "/ibc.core.client.v1.Query/ConsensusState",
    "/ibc.core.client.v1.Query/ConsensusStates",
    "/ibc.core.client.v1.Query/ConsensusStateHeights",
    "/ibc.core.client.v1.Query/ClientStatus",
    "/ibc.core.client.v1.Query/ClientParams",
    "/ibc.core.client.v1.Query/UpgradedClientState",
    "/ibc.core.client.v1.Query/UpgradedConsensusState",
    "/ibc.core.connection.v1.Query/Connection",
    "/ibc.core.connection.v1.Query/Connections",
    "/ibc.core.connection.v1.Query/ClientConnections",
    "/ibc.core.connection.v1.Query/ConnectionClientState",
    "/ibc.core.connection.v1.Query/ConnectionConsensusState",
    "/ibc.core.connection.v1.Query/ConnectionParams",
    "/ibc.core.channel.v1.Query/Channel",
    "/ibc.core.channel.v1.Query/Channels",
    "/ibc.core.channel.v1.Query/ConnectionChannels",
    "/ibc.core.channel.v1.Query/ChannelClientState",
    "/ibc.core.channel.v1.Query/ChannelConsensusState",
    "/ibc.core.channel.v1.Query/PacketCommitment",
    "/ibc.core.channel.v1.Query/PacketCommitments",
    "/ibc.core.channel.v1.Query/PacketReceipt",
    "/ibc.core.channel.v1.Query/PacketAcknowledgement",
    "/ibc.core.channel.v1.Query/PacketAcknowledgements",
    "/ibc.core.channel.v1.Query/UnreceivedPackets",
    "/ibc.core.channel.v1.Query/UnreceivedAcks",
    "/ibc.core.channel.v1.Query/NextSequenceReceive",
    "/ibc.core.channel.v1.Query/NextSequenceSend",
    "/ibc.applications.transfer.v1.Query/DenomTrace",
    "/ibc.applications.transfer.v1.Query/DenomTraces",
    "/ibc.applications.transfer.v1.Query/DenomHash",
    "/ibc.applications.transfer.v1.Query/EscrowAddress",
    "/ibc.applications.transfer.v1.Query/Params",
];

pub fn query(ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    let services: [(&str, Handler); 4] = [
        ("/ibc.core.client.v1.Query/", client::query),
        ("/ibc.core.connection.v1.Query/", connection::query),
        ("/ibc.core.channel.v1.Query/", channel::query),
        ("/ibc.applications.transfer.v1.Query/", transfer::query),
    ];
    for (service, handler) in services {
        if let Some(method) = path.strip_prefix(service) {
            return handler(ctx, method, request)?.ok_or_else(|| unknown(path));
        }
    }
    Ok(match path {
        "/surety.ibc.v1.Query/Params" => pb::QueryParamsResponse {
            params: Some(crate::params(ctx)?),
        }
        .encode_to_vec(),
        "/surety.ibc.v1.Query/RemoteAccount" => {
            let req: pb::QueryRemoteAccountRequest = decode_query(request)?;
            let address = cover::remote_account(&req.channel, &req.sender);
            pb::QueryRemoteAccountResponse {
                address: address.to_bech32(),
                account: cover::route(ctx, &address)?,
            }
            .encode_to_vec()
        }
        "/surety.ibc.v1.Query/Remittances" => {
            let req: pb::QueryRemittancesRequest = decode_query(request)?;
            let (items, page) = paginate(
                ctx,
                STORE,
                keys::REMITTANCE_PREFIX,
                req.pagination.as_ref(),
                |_, _, v| {
                    let r = pb::Remittance::decode(v).map_err(|e| sdk::internal(e.to_string()))?;
                    Ok((req.account.is_empty() || r.account == req.account).then_some(r))
                },
            )?;
            pb::QueryRemittancesResponse {
                remittances: items,
                pagination: Some(page),
            }
            .encode_to_vec()
        }
        _ => return Err(unknown(path)),
    })
}

/// A service's methods: the encoded response, or `None` for a method it does not have.
type Handler = fn(&mut Ctx, &str, &[u8]) -> Result<Option<Vec<u8>>, Error>;

fn unknown(path: &str) -> Error {
    sdk::unknown_request(format!("unknown query path {path}"))
}

/// A missing object: `ibc` error 7, NotFound to gRPC clients.
fn missing(what: impl Display) -> Error {
    errors::not_found(what).with_grpc(GrpcCode::NotFound)
}

fn corrupt(what: impl Display, e: impl Display) -> Error {
    sdk::internal(format!("corrupt {what}: {e}"))
}

/// The height a query reads, as IBC names this chain's heights (revision from the chain id).
fn height(ctx: &Ctx) -> RawHeight {
    RawHeight {
        revision_number: host::chain_id(ctx).revision_number(),
        revision_height: ctx.block.height,
    }
}

/// The `MerkleProof` of `key` (of its value, or of its absence) at the height the query reads;
/// empty where the query has no prover (an uncommitted state).
fn proof(ctx: &Ctx, key: &[u8]) -> Result<Vec<u8>, Error> {
    match ctx.prover {
        Some(prover) if ctx.block.height > 0 => prover.prove(STORE, key),
        _ => Ok(Vec::new()),
    }
}

fn parse<T: FromStr>(value: &str, field: &str) -> Result<T, Error>
where
    T::Err: Display,
{
    T::from_str(value).map_err(|e| sdk::invalid_request(format!("{field} {value:?}: {e}")))
}

fn client_id(value: &str) -> Result<ClientId, Error> {
    parse(value, "client id")
}

fn connection_id(value: &str) -> Result<ConnectionId, Error> {
    parse(value, "connection id")
}

fn port_id(value: &str) -> Result<PortId, Error> {
    parse(value, "port id")
}

fn channel_id(value: &str) -> Result<ChannelId, Error> {
    parse(value, "channel id")
}

/// The value at `key`, or NotFound naming `what`.
fn need(ctx: &mut Ctx, key: &[u8], what: impl Display) -> Result<Vec<u8>, Error> {
    ctx.get(STORE, key)?.ok_or_else(|| missing(what))
}

/// A raw protobuf message at `key`, or NotFound naming `what`.
fn need_msg<M: Message + Default>(
    ctx: &mut Ctx,
    key: &[u8],
    what: impl Display,
) -> Result<M, Error> {
    let bytes = need(ctx, key, &what)?;
    M::decode(bytes.as_slice()).map_err(|e| corrupt(what, e))
}

/// A big-endian sequence number as the host stores it.
fn sequence_value(bytes: &[u8], what: impl Display) -> Result<u64, Error> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt(what, "not an 8-byte sequence"))
}

/// One page of the entries under `prefix`, with ibc-proto's pagination types (its Cosmos
/// protos are another release of the same messages).
fn list<T>(
    ctx: &mut Ctx,
    prefix: &[u8],
    page: Option<&ibc_page::PageRequest>,
    item: impl FnMut(&mut Ctx, &[u8], &[u8]) -> Result<Option<T>, Error>,
) -> Result<(Vec<T>, Option<ibc_page::PageResponse>), Error> {
    let page = page.map(|p| PageRequest {
        key: p.key.clone(),
        offset: p.offset,
        limit: p.limit,
        count_total: p.count_total,
        reverse: p.reverse,
    });
    let (items, resp) = paginate(ctx, STORE, prefix, page.as_ref(), item)?;
    Ok((
        items,
        Some(ibc_page::PageResponse {
            next_key: resp.next_key,
            total: resp.total,
        }),
    ))
}

/// A key's text after `prefix` (ICS-24 keys are text).
fn key_str(rel: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(rel).map_err(|_| sdk::internal("a non-UTF-8 ICS-24 key"))
}

fn decode_any(bytes: &[u8], what: impl Display) -> Result<Any, Error> {
    Any::decode(bytes).map_err(|e| corrupt(what, e))
}
