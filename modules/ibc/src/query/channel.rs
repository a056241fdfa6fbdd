//! `ibc.core.channel.v1.Query`: channel ends, packet commitments, receipts, acknowledgements
//! and sequences.

use super::client::{client_state, consensus_state, request_height};
use super::connection::client_of;
use super::{
    channel_id, connection_id, corrupt, height, key_str, list, missing, need, need_msg, port_id,
    proof, sequence_value,
};
use crate::{keys, STORE};
use ibc::core::host::types::identifiers::{ChannelId, ConnectionId, PortId, Sequence};
use ibc::core::host::types::path::{
    AckPath, ChannelEndPath, CommitmentPath, ReceiptPath, SeqRecvPath, SeqSendPath,
};
use ibc_proto::ibc::core::channel::v1::*;
use ibc_proto::ibc::core::client::v1::IdentifiedClientState;
use prost::Message;
use surety_framework::{decode_query, sdk, Ctx, Error};

pub(super) fn query(ctx: &mut Ctx, method: &str, request: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    Ok(Some(match method {
        "Channel" => {
            let req: QueryChannelRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            let key = keys::path(ChannelEndPath::new(&port, &chan));
            let channel = need_msg(ctx, &key, format_args!("channel {port}/{chan}"))?;
            QueryChannelResponse {
                channel: Some(channel),
                proof: proof(ctx, &key)?,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "Channels" => {
            let req: QueryChannelsRequest = decode_query(request)?;
            let (channels, pagination) = channels(ctx, req.pagination.as_ref(), None)?;
            QueryChannelsResponse {
                channels,
                pagination,
                height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "ConnectionChannels" => {
            let req: QueryConnectionChannelsRequest = decode_query(request)?;
            let connection = connection_id(&req.connection)?;
            let (channels, pagination) = channels(ctx, req.pagination.as_ref(), Some(&connection))?;
            QueryConnectionChannelsResponse {
                channels,
                pagination,
                height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "ChannelClientState" => {
            let req: QueryChannelClientStateRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            let connection = connection_of(ctx, &port, &chan)?;
            let client = client_of(ctx, &connection)?;
            let (state, proof) = client_state(ctx, &client)?;
            QueryChannelClientStateResponse {
                identified_client_state: Some(IdentifiedClientState {
                    client_id: client.to_string(),
                    client_state: Some(state),
                }),
                proof,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "ChannelConsensusState" => {
            let req: QueryChannelConsensusStateRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            let at = request_height(req.revision_number, req.revision_height)?;
            let connection = connection_of(ctx, &port, &chan)?;
            let client = client_of(ctx, &connection)?;
            let (state, proof) = consensus_state(ctx, &client, &at)?;
            QueryChannelConsensusStateResponse {
                consensus_state: Some(state),
                client_id: client.to_string(),
                proof,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "PacketCommitment" => {
            let req: QueryPacketCommitmentRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            let seq = sequence(req.sequence)?;
            let key = keys::path(CommitmentPath::new(&port, &chan, seq));
            let commitment = need(
                ctx,
                &key,
                format_args!("packet commitment {port}/{chan}/{seq}"),
            )?;
            QueryPacketCommitmentResponse {
                commitment,
                proof: proof(ctx, &key)?,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "PacketCommitments" => {
            let req: QueryPacketCommitmentsRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            channel_end(ctx, &port, &chan)?;
            let prefix = format!("{}/", ChannelEndPath::new(&port, &chan).commitments_path());
            let (commitments, pagination) =
                packet_states(ctx, &port, &chan, &prefix, req.pagination.as_ref())?;
            QueryPacketCommitmentsResponse {
                commitments,
                pagination,
                height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "PacketReceipt" => {
            let req: QueryPacketReceiptRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            let seq = sequence(req.sequence)?;
            let key = keys::path(ReceiptPath::new(&port, &chan, seq));
            // Proven either way: its absence is what a timeout on an unordered channel proves.
            QueryPacketReceiptResponse {
                received: ctx.get(STORE, &key)?.is_some(),
                proof: proof(ctx, &key)?,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "PacketAcknowledgement" => {
            let req: QueryPacketAcknowledgementRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            let seq = sequence(req.sequence)?;
            let key = keys::path(AckPath::new(&port, &chan, seq));
            let acknowledgement = need(
                ctx,
                &key,
                format_args!("packet acknowledgement {port}/{chan}/{seq}"),
            )?;
            QueryPacketAcknowledgementResponse {
                acknowledgement,
                proof: proof(ctx, &key)?,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "PacketAcknowledgements" => {
            let req: QueryPacketAcknowledgementsRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            channel_end(ctx, &port, &chan)?;
            let (acknowledgements, pagination) = if req.packet_commitment_sequences.is_empty() {
                let prefix = format!("{}/", ChannelEndPath::new(&port, &chan).acks_path());
                packet_states(ctx, &port, &chan, &prefix, req.pagination.as_ref())?
            } else {
                // Just these sequences, as ibc-go answers: the ones acknowledged, no paging.
                let mut acks = Vec::new();
                for &seq in &req.packet_commitment_sequences {
                    let key = keys::path(AckPath::new(&port, &chan, Sequence::from(seq)));
                    if let Some(data) = ctx.get(STORE, &key)? {
                        acks.push(packet_state(&port, &chan, seq, data));
                    }
                }
                let total = u64::try_from(acks.len()).unwrap_or(u64::MAX);
                let page = ibc_proto::cosmos::base::query::v1beta1::PageResponse {
                    next_key: Vec::new(),
                    total,
                };
                (acks, Some(page))
            };
            QueryPacketAcknowledgementsResponse {
                acknowledgements,
                pagination,
                height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "UnreceivedPackets" => {
            let req: QueryUnreceivedPacketsRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            let end = channel_end(ctx, &port, &chan)?;
            let mut sequences = Vec::new();
            match Order::try_from(end.ordering) {
                Ok(Order::Unordered) => {
                    for &seq in &req.packet_commitment_sequences {
                        let key = keys::path(ReceiptPath::new(&port, &chan, sequence(seq)?));
                        if ctx.get(STORE, &key)?.is_none() {
                            sequences.push(seq);
                        }
                    }
                }
                Ok(Order::Ordered) => {
                    let key = keys::path(SeqRecvPath::new(&port, &chan));
                    let what = format!("next receive sequence of {port}/{chan}");
                    let next = sequence_value(&need(ctx, &key, &what)?, &what)?;
                    for &seq in &req.packet_commitment_sequences {
                        if sequence(seq)?.value() >= next {
                            sequences.push(seq);
                        }
                    }
                }
                _ => {
                    return Err(sdk::invalid_request(format!(
                        "channel {port}/{chan} has no ordering"
                    )))
                }
            }
            QueryUnreceivedPacketsResponse {
                sequences,
                height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "UnreceivedAcks" => {
            let req: QueryUnreceivedAcksRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            channel_end(ctx, &port, &chan)?;
            // The commitment of a packet is deleted when its acknowledgement is processed.
            let mut sequences = Vec::new();
            for &seq in &req.packet_ack_sequences {
                let key = keys::path(CommitmentPath::new(&port, &chan, sequence(seq)?));
                if ctx.get(STORE, &key)?.is_some() {
                    sequences.push(seq);
                }
            }
            QueryUnreceivedAcksResponse {
                sequences,
                height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "NextSequenceReceive" => {
            let req: QueryNextSequenceReceiveRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            let key = keys::path(SeqRecvPath::new(&port, &chan));
            let what = format!("next receive sequence of {port}/{chan}");
            QueryNextSequenceReceiveResponse {
                next_sequence_receive: sequence_value(&need(ctx, &key, &what)?, &what)?,
                proof: proof(ctx, &key)?,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "NextSequenceSend" => {
            let req: QueryNextSequenceSendRequest = decode_query(request)?;
            let (port, chan) = ids(&req.port_id, &req.channel_id)?;
            let key = keys::path(SeqSendPath::new(&port, &chan));
            let what = format!("next send sequence of {port}/{chan}");
            QueryNextSequenceSendResponse {
                next_sequence_send: sequence_value(&need(ctx, &key, &what)?, &what)?,
                proof: proof(ctx, &key)?,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        _ => return Ok(None),
    }))
}

fn ids(port: &str, channel: &str) -> Result<(PortId, ChannelId), Error> {
    Ok((port_id(port)?, channel_id(channel)?))
}

/// A packet sequence named in a request: sequences start at 1.
fn sequence(seq: u64) -> Result<Sequence, Error> {
    if seq == 0 {
        return Err(sdk::invalid_request(
            "packet sequence 0: sequences start at 1",
        ));
    }
    Ok(Sequence::from(seq))
}

/// A channel end as stored (raw proto), or NotFound.
pub(super) fn channel_end(
    ctx: &mut Ctx,
    port: &PortId,
    chan: &ChannelId,
) -> Result<Channel, Error> {
    need_msg(
        ctx,
        &keys::path(ChannelEndPath::new(port, chan)),
        format_args!("channel {port}/{chan}"),
    )
}

/// The connection a channel runs on (its first and only hop).
fn connection_of(ctx: &mut Ctx, port: &PortId, chan: &ChannelId) -> Result<ConnectionId, Error> {
    let end = channel_end(ctx, port, chan)?;
    let hop = end
        .connection_hops
        .first()
        .ok_or_else(|| missing(format_args!("connection of channel {port}/{chan}")))?;
    hop.parse()
        .map_err(|e| corrupt(format_args!("connection of channel {port}/{chan}"), e))
}

/// One page of channel ends, all or those on `connection`.
fn channels(
    ctx: &mut Ctx,
    page: Option<&ibc_proto::cosmos::base::query::v1beta1::PageRequest>,
    connection: Option<&ConnectionId>,
) -> Result<
    (
        Vec<IdentifiedChannel>,
        Option<ibc_proto::cosmos::base::query::v1beta1::PageResponse>,
    ),
    Error,
> {
    // `channelEnds/ports/<port>/channels/<channel>`
    let prefix = format!("{}/ports/", ChannelEndPath::prefix());
    list(ctx, prefix.as_bytes(), page, |_, key, value| {
        let key = key_str(key)?;
        let (port, chan) = key
            .split_once("/channels/")
            .ok_or_else(|| sdk::internal(format!("unexpected channel end key {key}")))?;
        let end = Channel::decode(value).map_err(|e| corrupt(format_args!("channel {key}"), e))?;
        if connection
            .is_some_and(|c| end.connection_hops.first().map(String::as_str) != Some(c.as_str()))
        {
            return Ok(None);
        }
        Ok(Some(IdentifiedChannel {
            state: end.state,
            ordering: end.ordering,
            counterparty: end.counterparty,
            connection_hops: end.connection_hops,
            version: end.version,
            port_id: port.to_owned(),
            channel_id: chan.to_owned(),
            upgrade_sequence: end.upgrade_sequence,
        }))
    })
}

fn packet_state(port: &PortId, chan: &ChannelId, sequence: u64, data: Vec<u8>) -> PacketState {
    PacketState {
        port_id: port.to_string(),
        channel_id: chan.to_string(),
        sequence,
        data,
    }
}

/// One page of the packet states (commitments or acknowledgements) under `prefix`, whose keys
/// end in a decimal sequence (so they come in the order of those strings, as in ibc-go).
fn packet_states(
    ctx: &mut Ctx,
    port: &PortId,
    chan: &ChannelId,
    prefix: &str,
    page: Option<&ibc_proto::cosmos::base::query::v1beta1::PageRequest>,
) -> Result<
    (
        Vec<PacketState>,
        Option<ibc_proto::cosmos::base::query::v1beta1::PageResponse>,
    ),
    Error,
> {
    list(ctx, prefix.as_bytes(), page, |_, key, value| {
        let seq: u64 = key_str(key)?
            .parse()
            .map_err(|_| sdk::internal(format!("unexpected packet key {prefix}{key:?}")))?;
        Ok(Some(packet_state(port, chan, seq, value.to_vec())))
    })
}
