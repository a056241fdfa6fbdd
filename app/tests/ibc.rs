//! IBC core on the real ABCI path, with no counterparty: a relayer's signed transactions create a
//! 07-tendermint client and open a connection end, the IBC queries read them back, and malformed
//! or dangling messages fail with IBC's codes and change nothing. (Handshakes and packets with a
//! real counterparty run in `tests/tests/ibc.rs`, with the stock Hermes.)

mod support;

use prost::Message;
use support::*;
use surety_app::testing::Tx;
use surety_proto::ibc_proto::google::protobuf::{Any as IbcAny, Duration};
use surety_proto::ibc_proto::ibc::core::client::v1::{
    Height, MsgCreateClient, QueryClientStateRequest, QueryClientStateResponse,
};
use surety_proto::ibc_proto::ibc::core::commitment::v1::{MerklePrefix, MerkleRoot};
use surety_proto::ibc_proto::ibc::core::connection::v1::{
    Counterparty, MsgConnectionOpenInit, QueryConnectionRequest, QueryConnectionResponse, Version,
};
use surety_proto::ibc_proto::ibc::lightclients::tendermint::v1::{
    ClientState, ConsensusState, Fraction,
};
use surety_proto::ibc_proto::ics23;
use surety_proto::Any;

fn any(type_url: &str, msg: &impl Message) -> Any {
    Any {
        type_url: type_url.into(),
        value: msg.encode_to_vec(),
    }
}

fn ibc_any(type_url: &str, msg: &impl Message) -> IbcAny {
    IbcAny {
        type_url: type_url.into(),
        value: msg.encode_to_vec(),
    }
}

/// A client of a chain `other-1` at height 1-10, whose consensus state is from `time`.
fn create_client(time: i64) -> MsgCreateClient {
    let client_state = ClientState {
        chain_id: "other-1".into(),
        trust_level: Some(Fraction {
            numerator: 1,
            denominator: 3,
        }),
        trusting_period: Some(Duration {
            seconds: 14 * 86_400,
            nanos: 0,
        }),
        unbonding_period: Some(Duration {
            seconds: 21 * 86_400,
            nanos: 0,
        }),
        max_clock_drift: Some(Duration {
            seconds: 10,
            nanos: 0,
        }),
        frozen_height: Some(Height::default()),
        latest_height: Some(Height {
            revision_number: 1,
            revision_height: 10,
        }),
        proof_specs: vec![ics23::iavl_spec(), ics23::tendermint_spec()],
        upgrade_path: vec!["upgrade".into(), "upgradedIBCState".into()],
        ..Default::default()
    };
    let consensus_state = ConsensusState {
        timestamp: Some(surety_proto::ibc_proto::google::protobuf::Timestamp {
            seconds: time,
            nanos: 0,
        }),
        root: Some(MerkleRoot { hash: vec![7; 32] }),
        next_validators_hash: vec![9; 32],
    };
    MsgCreateClient {
        client_state: Some(ibc_any(
            "/ibc.lightclients.tendermint.v1.ClientState",
            &client_state,
        )),
        consensus_state: Some(ibc_any(
            "/ibc.lightclients.tendermint.v1.ConsensusState",
            &consensus_state,
        )),
        signer: alice().to_bech32(),
    }
}

fn open_init(client: &str) -> MsgConnectionOpenInit {
    MsgConnectionOpenInit {
        client_id: client.into(),
        counterparty: Some(Counterparty {
            client_id: "07-tendermint-0".into(),
            connection_id: String::new(),
            prefix: Some(MerklePrefix {
                key_prefix: b"ibc".to_vec(),
            }),
        }),
        version: Some(Version {
            identifier: "1".into(),
            features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()],
        }),
        delay_period: 0,
        signer: alice().to_bech32(),
    }
}

#[test]
fn a_relayer_creates_a_client_and_opens_a_connection_end() {
    let mut h = market(|_| {});
    let t = h.time + 5;
    let create = create_client(t - 1);
    let r = h.block(
        t,
        vec![Tx::new(
            &alice(),
            any("/ibc.core.client.v1.MsgCreateClient", &create),
        )],
    );
    r[0].as_ref().expect("client created");

    let client: QueryClientStateResponse = h
        .query(
            "/ibc.core.client.v1.Query/ClientState",
            &QueryClientStateRequest {
                client_id: "07-tendermint-0".into(),
            },
        )
        .unwrap();
    let state = ClientState::decode(client.client_state.unwrap().value.as_slice()).unwrap();
    assert_eq!(state.chain_id, "other-1");
    assert_eq!(state.latest_height.unwrap().revision_height, 10);

    let r = h.block(
        t + 1,
        vec![Tx::new(
            &alice(),
            any(
                "/ibc.core.connection.v1.MsgConnectionOpenInit",
                &open_init("07-tendermint-0"),
            ),
        )],
    );
    r[0].as_ref().expect("connection end opened");
    let connection: QueryConnectionResponse = h
        .query(
            "/ibc.core.connection.v1.Query/Connection",
            &QueryConnectionRequest {
                connection_id: "connection-0".into(),
            },
        )
        .unwrap();
    let end = connection.connection.unwrap();
    assert_eq!(end.client_id, "07-tendermint-0");
    assert_eq!(end.state, 1, "STATE_INIT");
}

#[test]
fn malformed_and_dangling_ibc_messages_fail_with_ibc_codes() {
    let mut h = market(|_| {});
    let t = h.time + 5;
    // A client type this chain does not run.
    let mut wasm = create_client(t - 1);
    wasm.client_state.as_mut().unwrap().type_url = "/ibc.lightclients.wasm.v1.ClientState".into();
    // A connection on a client that does not exist.
    let dangling = open_init("07-tendermint-9");
    // A message whose signer is not an address.
    let mut unsigned = create_client(t - 1);
    unsigned.signer = "nobody".into();
    let before = balance(&h, &alice(), "usure");
    let r = h.block(
        t,
        vec![
            Tx::new(&alice(), any("/ibc.core.client.v1.MsgCreateClient", &wasm)),
            Tx::new(
                &alice(),
                any("/ibc.core.connection.v1.MsgConnectionOpenInit", &dangling),
            ),
            Tx::new(
                &alice(),
                any("/ibc.core.client.v1.MsgCreateClient", &unsigned),
            ),
        ],
    );
    let codes: Vec<(&str, u32)> = r
        .iter()
        .map(|r| {
            let e = r.as_ref().expect_err("refused");
            (e.codespace, e.code)
        })
        .collect();
    assert_eq!(codes[0].0, "ibc", "{r:?}");
    assert_eq!(codes[1], ("ibc", 3), "{r:?}");
    assert_eq!(codes[2].0, "sdk", "{r:?}");
    assert!(
        h.query::<QueryConnectionResponse>(
            "/ibc.core.connection.v1.Query/Connection",
            &QueryConnectionRequest {
                connection_id: "connection-0".into(),
            },
        )
        .is_err(),
        "no connection was stored"
    );
    assert!(
        balance(&h, &alice(), "usure") <= before,
        "only fees were taken"
    );
}
