//! The IBC queries read back what the host writes, key for key.

use crate::host::Host;
use crate::keys;
use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::core::channel::types::channel::{
    ChannelEnd, Counterparty as ChanCounterparty, Order, State as ChanState,
};
use ibc::core::channel::types::commitment::{AcknowledgementCommitment, PacketCommitment};
use ibc::core::channel::types::packet::Receipt;
use ibc::core::channel::types::Version as ChanVersion;
use ibc::core::client::context::ClientExecutionContext;
use ibc::core::commitment_types::commitment::CommitmentPrefix;
use ibc::core::connection::types::version::Version as ConnVersion;
use ibc::core::connection::types::{ConnectionEnd, Counterparty as ConnCounterparty, State};
use ibc::core::host::types::identifiers::{ChannelId, ClientId, ConnectionId, PortId, Sequence};
use ibc::core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, ClientConsensusStatePath, ClientStatePath,
    CommitmentPath, ConnectionPath, ReceiptPath, SeqRecvPath, SeqSendPath,
};
use ibc::core::host::ExecutionContext;
use ibc_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use ibc_proto::google::protobuf::{Duration, Timestamp};
use ibc_proto::ibc::applications::transfer::v1 as transfer;
use ibc_proto::ibc::core::channel::v1 as channel;
use ibc_proto::ibc::core::client::v1::{self as client, Height as RawHeight};
use ibc_proto::ibc::core::commitment::v1::MerkleRoot;
use ibc_proto::ibc::core::connection::v1 as connection;
use ibc_proto::ibc::lightclients::tendermint::v1 as tm;
use prost::Message;
use std::cell::RefCell;
use std::str::FromStr;
use surety_framework::state::Overlay;
use surety_framework::testing::{block, EmptyState};
use surety_framework::{Ctx, Error, GrpcCode, Prover};

/// The block time of the test chain.
const NOW: i64 = 1_700_000_000;
/// The height the queries read.
const HEIGHT: u64 = 42;
/// Trusting period of the test clients.
const TRUSTING_SECS: i64 = 1_000;

/// Proves a key as `<store>:<key>`, so a test sees which key was proven.
struct FakeProver;

impl Prover for FakeProver {
    fn prove(&self, store: &str, key: &[u8]) -> Result<Vec<u8>, Error> {
        Ok([store.as_bytes(), b":", key].concat())
    }
}

fn proof_of(key: impl Into<ibc::core::host::types::path::Path>) -> Vec<u8> {
    [b"ibc:".as_slice(), &keys::path(key)].concat()
}

/// A context at `HEIGHT` on chain `surety-7` (revision 7), with proofs.
fn context<'a>(state: &'a mut Overlay<'_>) -> Ctx<'a> {
    let mut ctx = block(state, HEIGHT, NOW);
    ctx.block.chain_id = "surety-7".into();
    ctx.prover = Some(&FakeProver);
    ctx
}

fn with_host(ctx: &mut Ctx, f: impl FnOnce(&mut Host)) {
    let cell = RefCell::new(ctx);
    let mut host = Host::new(&cell);
    f(&mut host);
}

fn ask<Req: Message, Resp: Message + Default>(
    ctx: &mut Ctx,
    path: &str,
    request: Req,
) -> Result<Resp, Error> {
    super::query(ctx, path, &request.encode_to_vec())
        .map(|bytes| Resp::decode(bytes.as_slice()).expect("a response of the right type"))
}

fn read_height() -> Option<RawHeight> {
    Some(RawHeight {
        revision_number: 7,
        revision_height: HEIGHT,
    })
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, Error>) {
    let e = result.expect_err("a missing object");
    assert_eq!(
        (e.codespace, e.code, e.grpc),
        ("ibc", 7, GrpcCode::NotFound),
        "{e}"
    );
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Error>) {
    let e = result.expect_err("a bad request");
    assert_eq!((e.codespace, e.code), ("sdk", 18), "{e}");
}

/// Follows `next_key` with pages of `limit`; every page's items.
fn pages<T>(
    limit: u64,
    mut list: impl FnMut(Option<PageRequest>) -> (Vec<T>, Option<PageResponse>),
) -> Vec<Vec<T>> {
    surety_framework::testing::pages(limit, |p| {
        let (items, resp) = list(Some(PageRequest {
            key: p.key,
            offset: p.offset,
            limit: p.limit,
            count_total: p.count_total,
            reverse: p.reverse,
        }));
        let resp = resp.map(|r| surety_framework::PageResponse {
            next_key: r.next_key,
            total: r.total,
        });
        (items, resp)
    })
}

fn client(n: u64) -> ClientId {
    ClientId::from_str(&format!("07-tendermint-{n}")).unwrap()
}

fn conn(n: u64) -> ConnectionId {
    ConnectionId::from_str(&format!("connection-{n}")).unwrap()
}

fn chan(n: u64) -> ChannelId {
    ChannelId::from_str(&format!("channel-{n}")).unwrap()
}

fn tm_client(chain: &str, latest: u64, frozen: u64) -> TmClientState {
    TmClientState::try_from(tm::ClientState {
        chain_id: chain.into(),
        trust_level: Some(tm::Fraction {
            numerator: 1,
            denominator: 3,
        }),
        trusting_period: Some(Duration {
            seconds: TRUSTING_SECS,
            nanos: 0,
        }),
        unbonding_period: Some(Duration {
            seconds: 2 * TRUSTING_SECS,
            nanos: 0,
        }),
        max_clock_drift: Some(Duration {
            seconds: 5,
            nanos: 0,
        }),
        frozen_height: Some(RawHeight {
            revision_number: 0,
            revision_height: frozen,
        }),
        latest_height: Some(RawHeight {
            revision_number: 1,
            revision_height: latest,
        }),
        proof_specs: crate::host::proof_specs().into(),
        ..Default::default()
    })
    .unwrap()
}

fn tm_consensus(time: i64) -> TmConsensusState {
    TmConsensusState::try_from(tm::ConsensusState {
        timestamp: Some(Timestamp {
            seconds: time,
            nanos: 0,
        }),
        root: Some(MerkleRoot {
            hash: time.to_be_bytes().repeat(4),
        }),
        next_validators_hash: vec![9; 32],
    })
    .unwrap()
}

fn consensus_path(c: &ClientId, height: u64) -> ClientConsensusStatePath {
    ClientConsensusStatePath::new(c.clone(), 1, height)
}

/// Client 0 (of `other-1`, latest height 1-100, consensus states at 1-9, 1-10 and 1-100 made
/// at `NOW - 100 + height`) and client 1 (frozen, no consensus state).
fn write_clients(ctx: &mut Ctx) {
    with_host(ctx, |host| {
        host.store_client_state(
            ClientStatePath::new(client(0)),
            tm_client("other-1", 100, 0),
        )
        .unwrap();
        for height in [10, 100, 9] {
            let time = NOW - 100 + height as i64;
            host.store_consensus_state(consensus_path(&client(0), height), tm_consensus(time))
                .unwrap();
        }
        host.store_client_state(ClientStatePath::new(client(1)), tm_client("other-2", 5, 3))
            .unwrap();
    });
}

/// connection-0 (open, on client 0) and connection-1 (init, on client 1).
fn write_connections(ctx: &mut Ctx) {
    with_host(ctx, |host| {
        for (n, state) in [(0, State::Open), (1, State::Init)] {
            let end = ConnectionEnd::new(
                state,
                client(n),
                ConnCounterparty::new(
                    client(5),
                    Some(conn(n + 3)),
                    CommitmentPrefix::from(b"ibc".to_vec()),
                ),
                vec![ConnVersion::compatibles()[0].clone()],
                std::time::Duration::ZERO,
            )
            .unwrap();
            host.store_connection(&ConnectionPath::new(&conn(n)), end)
                .unwrap();
            host.store_connection_to_client(&ClientConnectionPath::new(client(n)), conn(n))
                .unwrap();
        }
    });
}

/// transfer/channel-0 (unordered, on connection-0) with packets 1, 2 and 10 sent (1 and 10
/// still committed), 1 received and acknowledged; transfer/channel-1 (ordered, on
/// connection-1) expecting packet 3 next.
fn write_channels(ctx: &mut Ctx) {
    let port = PortId::transfer();
    with_host(ctx, |host| {
        for (n, order) in [(0, Order::Unordered), (1, Order::Ordered)] {
            let end = ChannelEnd::new(
                ChanState::Open,
                order,
                ChanCounterparty::new(PortId::transfer(), Some(chan(n + 4))),
                vec![conn(n)],
                ChanVersion::new("ics20-1".into()),
            )
            .unwrap();
            host.store_channel(&ChannelEndPath::new(&port, &chan(n)), end)
                .unwrap();
            host.store_next_sequence_send(&SeqSendPath::new(&port, &chan(n)), Sequence::from(11))
                .unwrap();
            host.store_next_sequence_recv(&SeqRecvPath::new(&port, &chan(n)), Sequence::from(3))
                .unwrap();
        }
        let c0 = chan(0);
        for seq in [1, 2, 10] {
            host.store_packet_commitment(
                &CommitmentPath::new(&port, &c0, Sequence::from(seq)),
                PacketCommitment::from(vec![seq as u8; 32]),
            )
            .unwrap();
        }
        host.delete_packet_commitment(&CommitmentPath::new(&port, &c0, Sequence::from(2)))
            .unwrap();
        host.store_packet_receipt(
            &ReceiptPath::new(&port, &c0, Sequence::from(1)),
            Receipt::Ok,
        )
        .unwrap();
        host.store_packet_acknowledgement(
            &AckPath::new(&port, &c0, Sequence::from(1)),
            AcknowledgementCommitment::from(vec![0xAC; 32]),
        )
        .unwrap();
    });
}

#[test]
fn client_queries_read_the_hosts_client_and_consensus_states() {
    let base = EmptyState;
    let mut state = Overlay::new(&base);
    let mut ctx = context(&mut state);
    write_clients(&mut ctx);
    const Q: &str = "/ibc.core.client.v1.Query/";
    let path = |m: &str| format!("{Q}{m}");

    let r: client::QueryClientStateResponse = ask(
        &mut ctx,
        &path("ClientState"),
        client::QueryClientStateRequest {
            client_id: "07-tendermint-0".into(),
        },
    )
    .unwrap();
    let any = r.client_state.unwrap();
    assert_eq!(any.type_url, "/ibc.lightclients.tendermint.v1.ClientState");
    let cs = tm::ClientState::decode(any.value.as_slice()).unwrap();
    assert_eq!(cs.chain_id, "other-1");
    assert_eq!(cs.latest_height.unwrap().revision_height, 100);
    assert_eq!(r.proof, proof_of(ClientStatePath::new(client(0))));
    assert_eq!(r.proof_height, read_height());

    let listed = pages(1, |pagination| {
        let r: client::QueryClientStatesResponse = ask(
            &mut ctx,
            &path("ClientStates"),
            client::QueryClientStatesRequest { pagination },
        )
        .unwrap();
        (r.client_states, r.pagination)
    });
    let ids: Vec<String> = listed.concat().into_iter().map(|c| c.client_id).collect();
    assert_eq!(ids, ["07-tendermint-0", "07-tendermint-1"]);

    // One consensus state, by height or the latest.
    let consensus = |ctx: &mut Ctx, height: u64, latest: bool| {
        ask::<_, client::QueryConsensusStateResponse>(
            ctx,
            &path("ConsensusState"),
            client::QueryConsensusStateRequest {
                client_id: "07-tendermint-0".into(),
                revision_number: 1,
                revision_height: height,
                latest_height: latest,
            },
        )
    };
    let r = consensus(&mut ctx, 10, false).unwrap();
    let cons = r.consensus_state.unwrap();
    assert_eq!(
        cons.type_url,
        "/ibc.lightclients.tendermint.v1.ConsensusState"
    );
    let cons = tm::ConsensusState::decode(cons.value.as_slice()).unwrap();
    assert_eq!(cons.timestamp.unwrap().seconds, NOW - 90);
    assert_eq!(r.proof, proof_of(consensus_path(&client(0), 10)));
    assert_eq!(r.proof_height, read_height());
    let latest = consensus(&mut ctx, 0, true).unwrap();
    assert_eq!(latest.proof, proof_of(consensus_path(&client(0), 100)));
    assert_not_found(consensus(&mut ctx, 11, false));
    assert_invalid(consensus(&mut ctx, 0, false));

    // Every consensus state and height, in height order (not the keys' text order).
    let listed = pages(2, |pagination| {
        let r: client::QueryConsensusStatesResponse = ask(
            &mut ctx,
            &path("ConsensusStates"),
            client::QueryConsensusStatesRequest {
                client_id: "07-tendermint-0".into(),
                pagination,
            },
        )
        .unwrap();
        (r.consensus_states, r.pagination)
    });
    assert_eq!(listed.len(), 2);
    let listed: Vec<(u64, i64)> = listed
        .concat()
        .into_iter()
        .map(|c| {
            let cons = tm::ConsensusState::decode(c.consensus_state.unwrap().value.as_slice());
            (
                c.height.unwrap().revision_height,
                cons.unwrap().timestamp.unwrap().seconds,
            )
        })
        .collect();
    assert_eq!(listed, [(9, NOW - 91), (10, NOW - 90), (100, NOW)]);
    let r: client::QueryConsensusStateHeightsResponse = ask(
        &mut ctx,
        &path("ConsensusStateHeights"),
        client::QueryConsensusStateHeightsRequest {
            client_id: "07-tendermint-0".into(),
            pagination: None,
        },
    )
    .unwrap();
    let heights: Vec<u64> = r
        .consensus_state_heights
        .iter()
        .map(|h| h.revision_height)
        .collect();
    assert_eq!(heights, [9, 10, 100]);
    assert!(r.pagination.unwrap().next_key.is_empty());

    // Status: active within the trusting period, expired after, frozen after misbehaviour.
    let status = |ctx: &mut Ctx, n: u64| {
        ask::<_, client::QueryClientStatusResponse>(
            ctx,
            &path("ClientStatus"),
            client::QueryClientStatusRequest {
                client_id: format!("07-tendermint-{n}"),
            },
        )
        .map(|r| r.status)
    };
    assert_eq!(status(&mut ctx, 0).unwrap(), "Active");
    assert_eq!(status(&mut ctx, 1).unwrap(), "Frozen");
    ctx.block.time_unix_secs = NOW + TRUSTING_SECS;
    assert_eq!(status(&mut ctx, 0).unwrap(), "Expired");
    ctx.block.time_unix_secs = NOW;
    assert_not_found(status(&mut ctx, 2));

    let r: client::QueryClientParamsResponse = ask(
        &mut ctx,
        &path("ClientParams"),
        client::QueryClientParamsRequest {},
    )
    .unwrap();
    assert_eq!(r.params.unwrap().allowed_clients, ["07-tendermint"]);
    assert_not_found(ask::<_, client::QueryUpgradedClientStateResponse>(
        &mut ctx,
        &path("UpgradedClientState"),
        client::QueryUpgradedClientStateRequest {},
    ));
    assert_not_found(ask::<_, client::QueryUpgradedConsensusStateResponse>(
        &mut ctx,
        &path("UpgradedConsensusState"),
        client::QueryUpgradedConsensusStateRequest {},
    ));

    // Missing and malformed clients.
    let client_state = |ctx: &mut Ctx, id: &str| {
        ask::<_, client::QueryClientStateResponse>(
            ctx,
            &path("ClientState"),
            client::QueryClientStateRequest {
                client_id: id.into(),
            },
        )
    };
    assert_not_found(client_state(&mut ctx, "07-tendermint-9"));
    assert_invalid(client_state(&mut ctx, "not a client/id"));
    let e = super::query(&mut ctx, &path("Nope"), &[]).unwrap_err();
    assert_eq!((e.codespace, e.code), ("sdk", 6));
}

#[test]
fn connection_queries_read_the_hosts_connection_ends() {
    let base = EmptyState;
    let mut state = Overlay::new(&base);
    let mut ctx = context(&mut state);
    write_clients(&mut ctx);
    write_connections(&mut ctx);
    const Q: &str = "/ibc.core.connection.v1.Query/";
    let path = |m: &str| format!("{Q}{m}");

    let r: connection::QueryConnectionResponse = ask(
        &mut ctx,
        &path("Connection"),
        connection::QueryConnectionRequest {
            connection_id: "connection-0".into(),
        },
    )
    .unwrap();
    let end = r.connection.unwrap();
    assert_eq!(end.client_id, "07-tendermint-0");
    assert_eq!(end.state, connection::State::Open as i32);
    assert_eq!(end.versions.len(), 1);
    let counterparty = end.counterparty.unwrap();
    assert_eq!(counterparty.connection_id, "connection-3");
    assert_eq!(counterparty.prefix.unwrap().key_prefix, b"ibc");
    assert_eq!(r.proof, proof_of(ConnectionPath::new(&conn(0))));
    assert_eq!(r.proof_height, read_height());

    let listed = pages(1, |pagination| {
        let r: connection::QueryConnectionsResponse = ask(
            &mut ctx,
            &path("Connections"),
            connection::QueryConnectionsRequest { pagination },
        )
        .unwrap();
        assert_eq!(r.height, read_height());
        (r.connections, r.pagination)
    });
    let listed: Vec<(String, String, i32)> = listed
        .concat()
        .into_iter()
        .map(|c| (c.id, c.client_id, c.state))
        .collect();
    assert_eq!(
        listed,
        [
            ("connection-0".to_string(), "07-tendermint-0".to_string(), 3),
            ("connection-1".to_string(), "07-tendermint-1".to_string(), 1),
        ]
    );

    let r: connection::QueryClientConnectionsResponse = ask(
        &mut ctx,
        &path("ClientConnections"),
        connection::QueryClientConnectionsRequest {
            client_id: "07-tendermint-1".into(),
        },
    )
    .unwrap();
    assert_eq!(r.connection_paths, ["connection-1"]);
    assert_eq!(r.proof, proof_of(ClientConnectionPath::new(client(1))));

    let r: connection::QueryConnectionClientStateResponse = ask(
        &mut ctx,
        &path("ConnectionClientState"),
        connection::QueryConnectionClientStateRequest {
            connection_id: "connection-0".into(),
        },
    )
    .unwrap();
    let identified = r.identified_client_state.unwrap();
    assert_eq!(identified.client_id, "07-tendermint-0");
    assert!(identified.client_state.is_some());
    assert_eq!(r.proof, proof_of(ClientStatePath::new(client(0))));

    let consensus = |ctx: &mut Ctx, height: u64| {
        ask::<_, connection::QueryConnectionConsensusStateResponse>(
            ctx,
            &path("ConnectionConsensusState"),
            connection::QueryConnectionConsensusStateRequest {
                connection_id: "connection-0".into(),
                revision_number: 1,
                revision_height: height,
            },
        )
    };
    let r = consensus(&mut ctx, 9).unwrap();
    assert_eq!(r.client_id, "07-tendermint-0");
    assert_eq!(r.proof, proof_of(consensus_path(&client(0), 9)));
    assert_not_found(consensus(&mut ctx, 8));

    let r: connection::QueryConnectionParamsResponse = ask(
        &mut ctx,
        &path("ConnectionParams"),
        connection::QueryConnectionParamsRequest {},
    )
    .unwrap();
    assert_eq!(
        r.params.unwrap().max_expected_time_per_block,
        30_000_000_000
    );

    assert_not_found(ask::<_, connection::QueryConnectionResponse>(
        &mut ctx,
        &path("Connection"),
        connection::QueryConnectionRequest {
            connection_id: "connection-7".into(),
        },
    ));
    assert_not_found(ask::<_, connection::QueryClientConnectionsResponse>(
        &mut ctx,
        &path("ClientConnections"),
        connection::QueryClientConnectionsRequest {
            client_id: "07-tendermint-7".into(),
        },
    ));
    assert_invalid(ask::<_, connection::QueryConnectionResponse>(
        &mut ctx,
        &path("Connection"),
        connection::QueryConnectionRequest {
            connection_id: "conn/0".into(),
        },
    ));
}

#[test]
fn channel_queries_read_the_hosts_channels_and_packets() {
    let base = EmptyState;
    let mut state = Overlay::new(&base);
    let mut ctx = context(&mut state);
    write_clients(&mut ctx);
    write_connections(&mut ctx);
    write_channels(&mut ctx);
    const Q: &str = "/ibc.core.channel.v1.Query/";
    let path = |m: &str| format!("{Q}{m}");
    let port = PortId::transfer();
    let ids = |n: u64| ("transfer".to_string(), format!("channel-{n}"));

    let (port_id, channel_id) = ids(0);
    let r: channel::QueryChannelResponse = ask(
        &mut ctx,
        &path("Channel"),
        channel::QueryChannelRequest {
            port_id,
            channel_id,
        },
    )
    .unwrap();
    let end = r.channel.unwrap();
    assert_eq!(end.state, channel::State::Open as i32);
    assert_eq!(end.ordering, channel::Order::Unordered as i32);
    assert_eq!(end.connection_hops, ["connection-0"]);
    assert_eq!(end.version, "ics20-1");
    assert_eq!(end.counterparty.unwrap().channel_id, "channel-4");
    assert_eq!(r.proof, proof_of(ChannelEndPath::new(&port, &chan(0))));
    assert_eq!(r.proof_height, read_height());

    let listed = pages(1, |pagination| {
        let r: channel::QueryChannelsResponse = ask(
            &mut ctx,
            &path("Channels"),
            channel::QueryChannelsRequest { pagination },
        )
        .unwrap();
        (r.channels, r.pagination)
    });
    let listed: Vec<(String, String, i32)> = listed
        .concat()
        .into_iter()
        .map(|c| (c.port_id, c.channel_id, c.ordering))
        .collect();
    assert_eq!(
        listed,
        [
            ("transfer".to_string(), "channel-0".to_string(), 1),
            ("transfer".to_string(), "channel-1".to_string(), 2),
        ]
    );
    let r: channel::QueryConnectionChannelsResponse = ask(
        &mut ctx,
        &path("ConnectionChannels"),
        channel::QueryConnectionChannelsRequest {
            connection: "connection-1".into(),
            pagination: None,
        },
    )
    .unwrap();
    let on_1: Vec<String> = r.channels.into_iter().map(|c| c.channel_id).collect();
    assert_eq!(on_1, ["channel-1"]);
    assert_eq!(r.height, read_height());

    let (port_id, channel_id) = ids(0);
    let r: channel::QueryChannelClientStateResponse = ask(
        &mut ctx,
        &path("ChannelClientState"),
        channel::QueryChannelClientStateRequest {
            port_id,
            channel_id,
        },
    )
    .unwrap();
    assert_eq!(
        r.identified_client_state.unwrap().client_id,
        "07-tendermint-0"
    );
    assert_eq!(r.proof, proof_of(ClientStatePath::new(client(0))));
    let (port_id, channel_id) = ids(0);
    let r: channel::QueryChannelConsensusStateResponse = ask(
        &mut ctx,
        &path("ChannelConsensusState"),
        channel::QueryChannelConsensusStateRequest {
            port_id,
            channel_id,
            revision_number: 1,
            revision_height: 100,
        },
    )
    .unwrap();
    assert_eq!(r.client_id, "07-tendermint-0");
    assert_eq!(r.proof, proof_of(consensus_path(&client(0), 100)));

    // Packets: commitments 1 and 10 remain; 1 was received and acknowledged.
    let commitment = |ctx: &mut Ctx, seq: u64| {
        let (port_id, channel_id) = ids(0);
        ask::<_, channel::QueryPacketCommitmentResponse>(
            ctx,
            &path("PacketCommitment"),
            channel::QueryPacketCommitmentRequest {
                port_id,
                channel_id,
                sequence: seq,
            },
        )
    };
    let r = commitment(&mut ctx, 10).unwrap();
    assert_eq!(r.commitment, vec![10; 32]);
    assert_eq!(
        r.proof,
        proof_of(CommitmentPath::new(&port, &chan(0), Sequence::from(10)))
    );
    assert_not_found(commitment(&mut ctx, 2));
    assert_invalid(commitment(&mut ctx, 0));

    let listed = pages(1, |pagination| {
        let (port_id, channel_id) = ids(0);
        let r: channel::QueryPacketCommitmentsResponse = ask(
            &mut ctx,
            &path("PacketCommitments"),
            channel::QueryPacketCommitmentsRequest {
                port_id,
                channel_id,
                pagination,
            },
        )
        .unwrap();
        assert_eq!(r.height, read_height());
        (r.commitments, r.pagination)
    });
    let listed: Vec<(u64, Vec<u8>)> = listed
        .concat()
        .into_iter()
        .map(|p| {
            assert_eq!(
                (p.port_id.as_str(), p.channel_id.as_str()),
                ("transfer", "channel-0")
            );
            (p.sequence, p.data)
        })
        .collect();
    assert_eq!(listed, [(1, vec![1; 32]), (10, vec![10; 32])]);

    let receipt = |ctx: &mut Ctx, seq: u64| {
        let (port_id, channel_id) = ids(0);
        ask::<_, channel::QueryPacketReceiptResponse>(
            ctx,
            &path("PacketReceipt"),
            channel::QueryPacketReceiptRequest {
                port_id,
                channel_id,
                sequence: seq,
            },
        )
        .unwrap()
    };
    let r = receipt(&mut ctx, 1);
    assert!(r.received);
    assert_eq!(
        r.proof,
        proof_of(ReceiptPath::new(&port, &chan(0), Sequence::from(1)))
    );
    let r = receipt(&mut ctx, 2);
    assert!(!r.received);
    assert_eq!(
        r.proof,
        proof_of(ReceiptPath::new(&port, &chan(0), Sequence::from(2))),
        "absence is proven too"
    );

    let ack = |ctx: &mut Ctx, seq: u64| {
        let (port_id, channel_id) = ids(0);
        ask::<_, channel::QueryPacketAcknowledgementResponse>(
            ctx,
            &path("PacketAcknowledgement"),
            channel::QueryPacketAcknowledgementRequest {
                port_id,
                channel_id,
                sequence: seq,
            },
        )
    };
    let r = ack(&mut ctx, 1).unwrap();
    assert_eq!(r.acknowledgement, vec![0xAC; 32]);
    assert_eq!(
        r.proof,
        proof_of(AckPath::new(&port, &chan(0), Sequence::from(1)))
    );
    assert_not_found(ack(&mut ctx, 10));
    let acks = |ctx: &mut Ctx, sequences: Vec<u64>| {
        let (port_id, channel_id) = ids(0);
        ask::<_, channel::QueryPacketAcknowledgementsResponse>(
            ctx,
            &path("PacketAcknowledgements"),
            channel::QueryPacketAcknowledgementsRequest {
                port_id,
                channel_id,
                pagination: None,
                packet_commitment_sequences: sequences,
            },
        )
        .unwrap()
    };
    let all = acks(&mut ctx, vec![]);
    let seqs: Vec<u64> = all.acknowledgements.iter().map(|a| a.sequence).collect();
    assert_eq!(seqs, [1]);
    assert_eq!(all.acknowledgements[0].data, vec![0xAC; 32]);
    let some = acks(&mut ctx, vec![1, 2, 10]);
    let seqs: Vec<u64> = some.acknowledgements.iter().map(|a| a.sequence).collect();
    assert_eq!(seqs, [1]);
    assert_eq!(some.pagination.unwrap().total, 1);

    let unreceived = |ctx: &mut Ctx, n: u64, sequences: Vec<u64>| {
        let (port_id, channel_id) = ids(n);
        ask::<_, channel::QueryUnreceivedPacketsResponse>(
            ctx,
            &path("UnreceivedPackets"),
            channel::QueryUnreceivedPacketsRequest {
                port_id,
                channel_id,
                packet_commitment_sequences: sequences,
            },
        )
    };
    // Unordered: those without a receipt; ordered: from the next receive sequence on.
    let r = unreceived(&mut ctx, 0, vec![1, 2, 3]).unwrap();
    assert_eq!(r.sequences, [2, 3]);
    assert_eq!(r.height, read_height());
    assert_eq!(
        unreceived(&mut ctx, 1, vec![1, 2, 3, 4]).unwrap().sequences,
        [3, 4]
    );
    assert_invalid(unreceived(&mut ctx, 0, vec![1, 0]));
    assert_not_found(unreceived(&mut ctx, 9, vec![1]));

    let (port_id, channel_id) = ids(0);
    let r: channel::QueryUnreceivedAcksResponse = ask(
        &mut ctx,
        &path("UnreceivedAcks"),
        channel::QueryUnreceivedAcksRequest {
            port_id,
            channel_id,
            packet_ack_sequences: vec![1, 2, 10],
        },
    )
    .unwrap();
    assert_eq!(r.sequences, [1, 10], "their commitments are still there");

    let (port_id, channel_id) = ids(1);
    let r: channel::QueryNextSequenceReceiveResponse = ask(
        &mut ctx,
        &path("NextSequenceReceive"),
        channel::QueryNextSequenceReceiveRequest {
            port_id,
            channel_id,
        },
    )
    .unwrap();
    assert_eq!(r.next_sequence_receive, 3);
    assert_eq!(r.proof, proof_of(SeqRecvPath::new(&port, &chan(1))));
    let (port_id, channel_id) = ids(1);
    let r: channel::QueryNextSequenceSendResponse = ask(
        &mut ctx,
        &path("NextSequenceSend"),
        channel::QueryNextSequenceSendRequest {
            port_id,
            channel_id,
        },
    )
    .unwrap();
    assert_eq!(r.next_sequence_send, 11);
    assert_eq!(r.proof, proof_of(SeqSendPath::new(&port, &chan(1))));
    assert_eq!(r.proof_height, read_height());

    // Missing channels.
    let (port_id, _) = ids(0);
    assert_not_found(ask::<_, channel::QueryChannelResponse>(
        &mut ctx,
        &path("Channel"),
        channel::QueryChannelRequest {
            port_id: port_id.clone(),
            channel_id: "channel-9".into(),
        },
    ));
    assert_not_found(ask::<_, channel::QueryNextSequenceSendResponse>(
        &mut ctx,
        &path("NextSequenceSend"),
        channel::QueryNextSequenceSendRequest {
            port_id: port_id.clone(),
            channel_id: "channel-9".into(),
        },
    ));
    assert_not_found(ask::<_, channel::QueryPacketCommitmentsResponse>(
        &mut ctx,
        &path("PacketCommitments"),
        channel::QueryPacketCommitmentsRequest {
            port_id,
            channel_id: "channel-9".into(),
            pagination: None,
        },
    ));
    assert_invalid(ask::<_, channel::QueryChannelResponse>(
        &mut ctx,
        &path("Channel"),
        channel::QueryChannelRequest {
            port_id: "transfer".into(),
            channel_id: "chan/0".into(),
        },
    ));
}

#[test]
fn transfer_queries_read_denom_traces_and_escrows() {
    let base = EmptyState;
    let mut state = Overlay::new(&base);
    let mut ctx = context(&mut state);
    write_clients(&mut ctx);
    write_connections(&mut ctx);
    write_channels(&mut ctx);
    const Q: &str = "/ibc.applications.transfer.v1.Query/";
    let path = |m: &str| format!("{Q}{m}");
    // As ICS-20 records a voucher it mints.
    let full = [
        "transfer/channel-0/uatom",
        "transfer/channel-0/transfer/channel-9/gamm/pool/1",
    ];
    for f in full {
        let key = keys::denom_trace(&crate::transfer::denom_hash(f));
        ctx.put(crate::STORE, key, f.as_bytes().to_vec()).unwrap();
    }
    let atom = crate::transfer::denom_hash(full[0]);

    let trace = |ctx: &mut Ctx, hash: &str| {
        ask::<_, transfer::QueryDenomTraceResponse>(
            ctx,
            &path("DenomTrace"),
            transfer::QueryDenomTraceRequest { hash: hash.into() },
        )
        .map(|r| r.denom_trace.unwrap())
    };
    let expected = transfer::DenomTrace {
        path: "transfer/channel-0".into(),
        base_denom: "uatom".into(),
    };
    assert_eq!(trace(&mut ctx, &atom).unwrap(), expected);
    assert_eq!(trace(&mut ctx, &format!("ibc/{atom}")).unwrap(), expected);
    assert_eq!(
        trace(&mut ctx, &atom.to_lowercase()).unwrap(),
        expected,
        "hex in either case"
    );
    assert_not_found(trace(&mut ctx, &"AB".repeat(32)));
    assert_invalid(trace(&mut ctx, "ibc/XYZ"));

    let listed = pages(1, |pagination| {
        let r: transfer::QueryDenomTracesResponse = ask(
            &mut ctx,
            &path("DenomTraces"),
            transfer::QueryDenomTracesRequest { pagination },
        )
        .unwrap();
        (r.denom_traces, r.pagination)
    });
    let mut listed: Vec<String> = listed
        .concat()
        .into_iter()
        .map(|t| format!("{}|{}", t.path, t.base_denom))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "transfer/channel-0/transfer/channel-9|gamm/pool/1",
            "transfer/channel-0|uatom"
        ]
    );

    let hash = |ctx: &mut Ctx, trace: &str| {
        ask::<_, transfer::QueryDenomHashResponse>(
            ctx,
            &path("DenomHash"),
            transfer::QueryDenomHashRequest {
                trace: trace.into(),
            },
        )
        .map(|r| r.hash)
    };
    assert_eq!(hash(&mut ctx, full[0]).unwrap(), atom);
    assert_not_found(hash(&mut ctx, "transfer/channel-1/uatom"));
    assert_not_found(hash(&mut ctx, "uatom"));
    assert_invalid(hash(&mut ctx, ""));

    let escrow = |ctx: &mut Ctx, channel: &str| {
        ask::<_, transfer::QueryEscrowAddressResponse>(
            ctx,
            &path("EscrowAddress"),
            transfer::QueryEscrowAddressRequest {
                port_id: "transfer".into(),
                channel_id: channel.into(),
            },
        )
        .map(|r| r.escrow_address)
    };
    assert_eq!(
        escrow(&mut ctx, "channel-0").unwrap(),
        crate::transfer::escrow_address(&PortId::transfer(), &chan(0)).to_bech32()
    );
    assert_not_found(escrow(&mut ctx, "channel-9"));

    let r: transfer::QueryParamsResponse =
        ask(&mut ctx, &path("Params"), transfer::QueryParamsRequest {}).unwrap();
    let params = r.params.unwrap();
    assert!(params.send_enabled && params.receive_enabled);
}

#[test]
fn without_a_prover_proofs_are_empty_and_heights_still_told() {
    let base = EmptyState;
    let mut state = Overlay::new(&base);
    let mut ctx = context(&mut state);
    ctx.prover = None;
    write_clients(&mut ctx);
    let r: client::QueryClientStateResponse = ask(
        &mut ctx,
        "/ibc.core.client.v1.Query/ClientState",
        client::QueryClientStateRequest {
            client_id: "07-tendermint-0".into(),
        },
    )
    .unwrap();
    assert!(r.proof.is_empty());
    assert_eq!(r.proof_height, read_height());
}

#[test]
fn every_path_is_answered() {
    let base = EmptyState;
    let mut state = Overlay::new(&base);
    let mut ctx = context(&mut state);
    for path in super::PATHS {
        // An empty request is valid protobuf for every method; what matters is that no
        // registered path is unknown to the dispatcher.
        if let Err(e) = super::query(&mut ctx, path, &[]) {
            assert_ne!((e.codespace, e.code), ("sdk", 6), "{path}: {e}");
        }
    }
}
