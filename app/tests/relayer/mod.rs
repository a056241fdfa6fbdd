//! An in-process relayer between two test chains, doing what Hermes does over RPC: it follows
//! each chain with a 07-tendermint client fed headers signed by that chain's validators, reads
//! ICS-24 values with their ics23 proofs from the other chain's store at the height a header
//! commits to, and sends the handshake, packet, acknowledgement and timeout messages in the
//! order ibc-go requires, as signed transactions through the real ABCI path.
#![allow(dead_code)]

use crate::support::alice;
use prost::Message;
use surety_app::testing::{TestChain, Tx, TxResult};
use surety_proto::cometbft::abci::{Event, RequestQuery};
use surety_proto::ibc_proto::google::protobuf::{Any as IbcAny, Duration, Timestamp};
use surety_proto::ibc_proto::ibc::core::channel::v1 as channel;
use surety_proto::ibc_proto::ibc::core::client::v1::{
    Height, MsgCreateClient, MsgUpdateClient, QueryClientStateRequest, QueryClientStateResponse,
};
use surety_proto::ibc_proto::ibc::core::commitment::v1::{MerklePrefix, MerkleProof, MerkleRoot};
use surety_proto::ibc_proto::ibc::core::connection::v1 as connection;
use surety_proto::ibc_proto::ibc::lightclients::tendermint::v1 as tm;
use surety_proto::ibc_proto::ics23::CommitmentProof;
use surety_proto::Any;
use tendermint_abci::Application;
use tendermint_testgen::{Generator, Header, LightBlock, Validator};

pub const TRANSFER: &str = "transfer";
const ICS20: &str = "ics20-1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// Two chains and the identifiers of what links them, each pair indexed `[A, B]`: on A the
/// client of B, and so on.
pub struct Relayer {
    pub a: TestChain,
    pub b: TestChain,
    pub clients: [String; 2],
    pub connections: [String; 2],
    pub channels: [String; 2],
    /// Each chain's validator, who signs its headers.
    validators: [Validator; 2],
}

fn i(side: Side) -> usize {
    side as usize
}

pub fn any(type_url: &str, msg: &impl Message) -> Any {
    Any {
        type_url: type_url.into(),
        value: msg.encode_to_vec(),
    }
}

pub fn ibc_any(type_url: &str, msg: &impl Message) -> IbcAny {
    IbcAny {
        type_url: type_url.into(),
        value: msg.encode_to_vec(),
    }
}

fn height(h: u64) -> Height {
    Height {
        revision_number: 1,
        revision_height: h,
    }
}

fn version() -> connection::Version {
    connection::Version {
        identifier: "1".into(),
        features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()],
    }
}

fn prefix() -> Option<MerklePrefix> {
    Some(MerklePrefix {
        key_prefix: surety_ibc::host::COMMITMENT_PREFIX.to_vec(),
    })
}

/// The value of attribute `key` of the last event `kind` among `events`.
pub fn attribute(events: &[Event], kind: &str, key: &str) -> Option<String> {
    events
        .iter()
        .rev()
        .filter(|e| e.r#type == kind)
        .find_map(|e| e.attributes.iter().find(|a| a.key == key))
        .map(|a| a.value.clone())
}

/// Every event of a chain's last block: its transactions' and its own (BeginBlock, EndBlock).
pub fn block_events(chain: &TestChain) -> Vec<Event> {
    let block = &chain.last_block;
    block
        .tx_results
        .iter()
        .flat_map(|r| r.events.iter().cloned())
        .chain(block.events.iter().cloned())
        .collect()
}

/// The packets a chain's last block sent.
pub fn sent_packets(chain: &TestChain) -> Vec<channel::Packet> {
    block_events(chain)
        .iter()
        .filter(|e| e.r#type == "send_packet")
        .map(|e| {
            let attr = |k: &str| {
                e.attributes
                    .iter()
                    .find(|a| a.key == k)
                    .map(|a| a.value.clone())
                    .unwrap_or_else(|| panic!("send_packet without {k}"))
            };
            channel::Packet {
                sequence: attr("packet_sequence").parse().unwrap(),
                source_port: attr("packet_src_port"),
                source_channel: attr("packet_src_channel"),
                destination_port: attr("packet_dst_port"),
                destination_channel: attr("packet_dst_channel"),
                data: hex::decode(attr("packet_data_hex")).unwrap(),
                timeout_height: Some(Height::default()),
                timeout_timestamp: attr("packet_timeout_timestamp").parse().unwrap(),
            }
        })
        .collect()
}

/// A 07-tendermint client state of Surety chain `chain_id` at height `latest` (revision 1): its
/// JMT proof specs and upgrade path, trusted for two thirds of its unbonding period.
pub fn client_state(chain_id: &str, latest: u64, unbonding_secs: i64) -> tm::ClientState {
    let secs = |seconds| Some(Duration { seconds, nanos: 0 });
    tm::ClientState {
        chain_id: chain_id.into(),
        trust_level: Some(tm::Fraction {
            numerator: 1,
            denominator: 3,
        }),
        trusting_period: secs(unbonding_secs * 2 / 3),
        unbonding_period: secs(unbonding_secs),
        max_clock_drift: secs(10),
        frozen_height: Some(Height::default()),
        latest_height: Some(height(latest)),
        proof_specs: surety_ibc::host::proof_specs().into(),
        upgrade_path: surety_ibc::host::upgrade_path(),
        ..Default::default()
    }
}

/// MsgCreateClient of `state` with the consensus state a header of `time`, `root` and
/// `next_validators_hash` gives, signed by alice.
pub fn create_client_msg(
    state: tm::ClientState,
    time: i64,
    root: &[u8],
    next_validators_hash: &[u8],
) -> MsgCreateClient {
    let consensus_state = tm::ConsensusState {
        timestamp: Some(Timestamp {
            seconds: time,
            nanos: 0,
        }),
        root: Some(MerkleRoot {
            hash: root.to_vec(),
        }),
        next_validators_hash: next_validators_hash.to_vec(),
    };
    MsgCreateClient {
        client_state: Some(ibc_any(
            "/ibc.lightclients.tendermint.v1.ClientState",
            &state,
        )),
        consensus_state: Some(ibc_any(
            "/ibc.lightclients.tendermint.v1.ConsensusState",
            &consensus_state,
        )),
        signer: alice().to_bech32(),
    }
}

impl Relayer {
    /// Two chains whose headers name `validators[i]` as their next validator set, from their
    /// next block on (the host consensus state a handshake checks is recorded from it).
    pub fn new(mut a: TestChain, mut b: TestChain) -> Relayer {
        let validators = [
            Validator::new("validator-of-a").voting_power(100),
            Validator::new("validator-of-b").voting_power(100),
        ];
        for (chain, v) in [(&mut a, &validators[0]), (&mut b, &validators[1])] {
            let set = tendermint::validator::Set::without_proposer(vec![v.generate().unwrap()]);
            chain.next_validators_hash = set.hash().as_bytes().to_vec();
        }
        Relayer {
            a,
            b,
            clients: Default::default(),
            connections: Default::default(),
            channels: Default::default(),
            validators,
        }
    }

    pub fn chain(&self, side: Side) -> &TestChain {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    pub fn chain_mut(&mut self, side: Side) -> &mut TestChain {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    /// A second after the later of the two chains' clocks: both move forward together.
    pub fn tick(&self) -> i64 {
        self.a.time.max(self.b.time) + 1
    }

    /// Runs one transaction on `side` in a block of its own.
    pub fn exec(&mut self, side: Side, msg: Any) -> TxResult {
        let t = self.tick();
        self.chain_mut(side).exec_at(t, &alice(), msg)
    }

    pub fn exec_tx(&mut self, side: Side, tx: Tx) -> TxResult {
        let t = self.tick();
        self.chain_mut(side).block(t, vec![tx]).remove(0)
    }

    /// Commits an empty block on `side` at `time` and returns its signed header, which commits
    /// to the state before it (its app hash), as CometBFT's headers do: proofs read at
    /// `height - 1` verify against it.
    pub fn header_at(
        &mut self,
        side: Side,
        time: i64,
    ) -> tendermint_testgen::light_block::TmLightBlock {
        let validator = self.validators[i(side)].clone();
        let chain = self.chain_mut(side);
        let app_hash = chain.app_hash();
        chain.block(time, vec![]);
        let header = Header::new(std::slice::from_ref(&validator))
            .next_validators(&[validator])
            .chain_id(chain.chain_id())
            .height(chain.height as u64)
            .time(tendermint::Time::from_unix_timestamp(time, 0).unwrap())
            .app_hash(tendermint::AppHash::try_from(app_hash).unwrap());
        LightBlock::new_default_with_header(header)
            .generate()
            .expect("a signed header")
    }

    pub fn header(&mut self, side: Side) -> tendermint_testgen::light_block::TmLightBlock {
        let t = self.tick();
        self.header_at(side, t)
    }

    /// Creates on `on` a client of the other chain, from a fresh header of it.
    pub fn create_client(&mut self, on: Side) -> String {
        let followed = on.other();
        let block = self.header(followed);
        let unbonding = {
            use surety_proto::cosmos::staking::v1beta1::{QueryParamsRequest, QueryParamsResponse};
            let r: QueryParamsResponse = self
                .chain(followed)
                .query(
                    "/cosmos.staking.v1beta1.Query/Params",
                    &QueryParamsRequest {},
                )
                .unwrap();
            r.params.unwrap().unbonding_time.unwrap().seconds
        };
        let header = &block.signed_header.header;
        let msg = create_client_msg(
            client_state(header.chain_id.as_str(), header.height.value(), unbonding),
            header.time.unix_timestamp(),
            header.app_hash.as_bytes(),
            header.next_validators_hash.as_bytes(),
        );
        self.exec(on, any("/ibc.core.client.v1.MsgCreateClient", &msg))
            .expect("client created");
        let id = attribute(&block_events(self.chain(on)), "create_client", "client_id")
            .expect("create_client event");
        self.clients[i(on)] = id.clone();
        id
    }

    /// The latest height of `on`'s client of the other chain.
    pub fn client_height(&self, on: Side) -> u64 {
        let r: QueryClientStateResponse = self
            .chain(on)
            .query(
                "/ibc.core.client.v1.Query/ClientState",
                &QueryClientStateRequest {
                    client_id: self.clients[i(on)].clone(),
                },
            )
            .unwrap();
        let state = tm::ClientState::decode(r.client_state.unwrap().value.as_slice()).unwrap();
        state.latest_height.unwrap().revision_height
    }

    /// The light-client message that moves `on`'s client to `block`.
    pub fn update_message(
        &self,
        on: Side,
        block: &tendermint_testgen::light_block::TmLightBlock,
    ) -> Any {
        let trusted = self.client_height(on);
        let header = tm::Header {
            signed_header: Some(block.signed_header.clone().into()),
            validator_set: Some(block.validators.clone().into()),
            trusted_height: Some(height(trusted)),
            trusted_validators: Some(block.next_validators.clone().into()),
        };
        any(
            "/ibc.core.client.v1.MsgUpdateClient",
            &MsgUpdateClient {
                client_id: self.clients[i(on)].clone(),
                client_message: Some(ibc_any("/ibc.lightclients.tendermint.v1.Header", &header)),
                signer: alice().to_bech32(),
            },
        )
    }

    /// Brings `on`'s client of the other chain to a new header of it at `time`; returns the
    /// header's height, at which proofs of the other chain are then checked.
    pub fn update_at(&mut self, on: Side, time: i64) -> u64 {
        let block = self.header_at(on.other(), time);
        let msg = self.update_message(on, &block);
        self.exec(on, msg).expect("client updated");
        block.signed_header.header.height.value()
    }

    pub fn update(&mut self, on: Side) -> u64 {
        let t = self.tick();
        self.update_at(on, t)
    }

    /// `key` in `side`'s IBC store with its proof, checked against the header at `at`.
    pub fn prove(&self, side: Side, key: &str, at: u64) -> (Vec<u8>, Vec<u8>) {
        let r = self.chain(side).app().query(RequestQuery {
            data: key.as_bytes().to_vec().into(),
            path: "store/ibc/key".into(),
            height: i64::try_from(at - 1).unwrap(),
            prove: true,
        });
        assert_eq!(r.code, 0, "{}", r.log);
        let proofs = r
            .proof_ops
            .expect("proof ops")
            .ops
            .iter()
            .map(|op| CommitmentProof::decode(op.data.as_ref()).unwrap())
            .collect();
        (r.value.to_vec(), MerkleProof { proofs }.encode_to_vec())
    }

    /// Updates `to`'s client of the other chain, and proves the other chain's `key` at the new
    /// height (returned first).
    fn update_and_prove(&mut self, to: Side, key: &str) -> (u64, Vec<u8>) {
        let at = self.update(to);
        let (_, proof) = self.prove(to.other(), key, at);
        (at, proof)
    }

    /// Runs a handshake message on `side` and returns the identifier its event `kind` names.
    fn open(&mut self, side: Side, type_url: &str, msg: &impl Message, kind: &str, attr: &str) {
        self.exec(side, any(type_url, msg))
            .unwrap_or_else(|e| panic!("{type_url}: {e:?}"));
        let id = attribute(&block_events(self.chain(side)), kind, attr)
            .unwrap_or_else(|| panic!("no {kind} event"));
        match attr {
            "connection_id" => self.connections[i(side)] = id,
            _ => self.channels[i(side)] = id,
        }
    }

    /// The client state `side` holds of the other chain, and the proofs of it and of its
    /// latest consensus state, as ConnOpenTry and ConnOpenAck carry them.
    fn client_proofs(&self, side: Side, at: u64) -> (IbcAny, Vec<u8>, Height, Vec<u8>) {
        let client = &self.clients[i(side)];
        let (state, proof_client) = self.prove(side, &format!("clients/{client}/clientState"), at);
        let state = IbcAny::decode(state.as_slice()).unwrap();
        let latest = tm::ClientState::decode(state.value.as_slice())
            .unwrap()
            .latest_height
            .unwrap();
        let (_, proof_consensus) = self.prove(
            side,
            &format!(
                "clients/{client}/consensusStates/{}-{}",
                latest.revision_number, latest.revision_height
            ),
            at,
        );
        (state, proof_client, latest, proof_consensus)
    }

    /// Clients both ways, and a connection opened from A.
    pub fn connect(&mut self) {
        self.create_client(Side::A);
        self.create_client(Side::B);
        let init = connection::MsgConnectionOpenInit {
            client_id: self.clients[0].clone(),
            counterparty: Some(connection::Counterparty {
                client_id: self.clients[1].clone(),
                connection_id: String::new(),
                prefix: prefix(),
            }),
            version: Some(version()),
            delay_period: 0,
            signer: alice().to_bech32(),
        };
        self.open(
            Side::A,
            "/ibc.core.connection.v1.MsgConnectionOpenInit",
            &init,
            "connection_open_init",
            "connection_id",
        );

        let (at, proof_init) = self.update_and_prove(Side::B, &self.connection_key(Side::A));
        let (client_state, proof_client, consensus_height, proof_consensus) =
            self.client_proofs(Side::A, at);
        #[allow(deprecated)]
        let open_try = connection::MsgConnectionOpenTry {
            client_id: self.clients[1].clone(),
            previous_connection_id: String::new(),
            client_state: Some(client_state),
            counterparty: Some(connection::Counterparty {
                client_id: self.clients[0].clone(),
                connection_id: self.connections[0].clone(),
                prefix: prefix(),
            }),
            delay_period: 0,
            counterparty_versions: vec![version()],
            proof_height: Some(height(at)),
            proof_init,
            proof_client,
            proof_consensus,
            consensus_height: Some(consensus_height),
            signer: alice().to_bech32(),
            host_consensus_state_proof: Vec::new(),
        };
        self.open(
            Side::B,
            "/ibc.core.connection.v1.MsgConnectionOpenTry",
            &open_try,
            "connection_open_try",
            "connection_id",
        );

        let (at, proof_try) = self.update_and_prove(Side::A, &self.connection_key(Side::B));
        let (client_state, proof_client, consensus_height, proof_consensus) =
            self.client_proofs(Side::B, at);
        let ack = connection::MsgConnectionOpenAck {
            connection_id: self.connections[0].clone(),
            counterparty_connection_id: self.connections[1].clone(),
            version: Some(version()),
            client_state: Some(client_state),
            proof_height: Some(height(at)),
            proof_try,
            proof_client,
            proof_consensus,
            consensus_height: Some(consensus_height),
            signer: alice().to_bech32(),
            host_consensus_state_proof: Vec::new(),
        };
        self.exec(
            Side::A,
            any("/ibc.core.connection.v1.MsgConnectionOpenAck", &ack),
        )
        .expect("ConnOpenAck");

        let (at, proof_ack) = self.update_and_prove(Side::B, &self.connection_key(Side::A));
        let confirm = connection::MsgConnectionOpenConfirm {
            connection_id: self.connections[1].clone(),
            proof_ack,
            proof_height: Some(height(at)),
            signer: alice().to_bech32(),
        };
        self.exec(
            Side::B,
            any("/ibc.core.connection.v1.MsgConnectionOpenConfirm", &confirm),
        )
        .expect("ConnOpenConfirm");
    }

    fn connection_key(&self, side: Side) -> String {
        format!("connections/{}", self.connections[i(side)])
    }

    fn channel_key(&self, side: Side) -> String {
        format!(
            "channelEnds/ports/{TRANSFER}/channels/{}",
            self.channels[i(side)]
        )
    }

    /// An unordered ICS-20 channel over the connection, opened from A.
    pub fn open_channel(&mut self) {
        let end = |state: channel::State, hop: &str, counterparty: &str| channel::Channel {
            state: state as i32,
            ordering: channel::Order::Unordered as i32,
            counterparty: Some(channel::Counterparty {
                port_id: TRANSFER.into(),
                channel_id: counterparty.into(),
            }),
            connection_hops: vec![hop.into()],
            version: ICS20.into(),
            upgrade_sequence: 0,
        };
        let init = channel::MsgChannelOpenInit {
            port_id: TRANSFER.into(),
            channel: Some(end(channel::State::Init, &self.connections[0], "")),
            signer: alice().to_bech32(),
        };
        self.open(
            Side::A,
            "/ibc.core.channel.v1.MsgChannelOpenInit",
            &init,
            "channel_open_init",
            "channel_id",
        );

        let (at, proof_init) = self.update_and_prove(Side::B, &self.channel_key(Side::A));
        #[allow(deprecated)]
        let open_try = channel::MsgChannelOpenTry {
            port_id: TRANSFER.into(),
            previous_channel_id: String::new(),
            channel: Some(end(
                channel::State::Tryopen,
                &self.connections[1],
                &self.channels[0],
            )),
            counterparty_version: ICS20.into(),
            proof_init,
            proof_height: Some(height(at)),
            signer: alice().to_bech32(),
        };
        self.open(
            Side::B,
            "/ibc.core.channel.v1.MsgChannelOpenTry",
            &open_try,
            "channel_open_try",
            "channel_id",
        );

        let (at, proof_try) = self.update_and_prove(Side::A, &self.channel_key(Side::B));
        let ack = channel::MsgChannelOpenAck {
            port_id: TRANSFER.into(),
            channel_id: self.channels[0].clone(),
            counterparty_channel_id: self.channels[1].clone(),
            counterparty_version: ICS20.into(),
            proof_try,
            proof_height: Some(height(at)),
            signer: alice().to_bech32(),
        };
        self.exec(Side::A, any("/ibc.core.channel.v1.MsgChannelOpenAck", &ack))
            .expect("ChanOpenAck");

        let (at, proof_ack) = self.update_and_prove(Side::B, &self.channel_key(Side::A));
        let confirm = channel::MsgChannelOpenConfirm {
            port_id: TRANSFER.into(),
            channel_id: self.channels[1].clone(),
            proof_ack,
            proof_height: Some(height(at)),
            signer: alice().to_bech32(),
        };
        self.exec(
            Side::B,
            any("/ibc.core.channel.v1.MsgChannelOpenConfirm", &confirm),
        )
        .expect("ChanOpenConfirm");
    }

    /// Delivers `packet`, sent from `from`, to the other chain; returns the acknowledgement
    /// written there.
    pub fn receive(&mut self, from: Side, packet: &channel::Packet) -> Vec<u8> {
        let to = from.other();
        let (at, proof_commitment) = self.update_and_prove(
            to,
            &format!(
                "commitments/ports/{}/channels/{}/sequences/{}",
                packet.source_port, packet.source_channel, packet.sequence
            ),
        );
        let recv = channel::MsgRecvPacket {
            packet: Some(packet.clone()),
            proof_commitment,
            proof_height: Some(height(at)),
            signer: alice().to_bech32(),
        };
        self.exec(to, any("/ibc.core.channel.v1.MsgRecvPacket", &recv))
            .expect("MsgRecvPacket");
        let ack = attribute(
            &block_events(self.chain(to)),
            "write_acknowledgement",
            "packet_ack_hex",
        )
        .expect("an acknowledgement written");
        hex::decode(ack).unwrap()
    }

    /// Brings the acknowledgement of `packet` (sent from `from`) back to `from`.
    pub fn acknowledge(&mut self, from: Side, packet: &channel::Packet, ack: &[u8]) -> TxResult {
        let (at, proof_acked) = self.update_and_prove(
            from,
            &format!(
                "acks/ports/{}/channels/{}/sequences/{}",
                packet.destination_port, packet.destination_channel, packet.sequence
            ),
        );
        let msg = channel::MsgAcknowledgement {
            packet: Some(packet.clone()),
            acknowledgement: ack.to_vec(),
            proof_acked,
            proof_height: Some(height(at)),
            signer: alice().to_bech32(),
        };
        self.exec(from, any("/ibc.core.channel.v1.MsgAcknowledgement", &msg))
    }

    /// Receives and acknowledges `packet`; returns the acknowledgement.
    pub fn relay(&mut self, from: Side, packet: &channel::Packet) -> Vec<u8> {
        let ack = self.receive(from, packet);
        self.acknowledge(from, packet, &ack)
            .expect("acknowledgement accepted");
        ack
    }

    /// Times `packet` out on `from`, proving with a header of the other chain at `time` (past
    /// the packet's timeout) that it was never received.
    pub fn time_out(&mut self, from: Side, packet: &channel::Packet, time: i64) -> TxResult {
        let to = from.other();
        let at = self.update_at(from, time);
        let (_, proof_unreceived) = self.prove(
            to,
            &format!(
                "receipts/ports/{}/channels/{}/sequences/{}",
                packet.destination_port, packet.destination_channel, packet.sequence
            ),
            at,
        );
        let (next, _) = self.prove(
            to,
            &format!(
                "nextSequenceRecv/ports/{}/channels/{}",
                packet.destination_port, packet.destination_channel
            ),
            at,
        );
        let msg = channel::MsgTimeout {
            packet: Some(packet.clone()),
            proof_unreceived,
            proof_height: Some(height(at)),
            next_sequence_recv: u64::from_be_bytes(next.try_into().unwrap()),
            signer: alice().to_bech32(),
        };
        self.exec(from, any("/ibc.core.channel.v1.MsgTimeout", &msg))
    }
}
