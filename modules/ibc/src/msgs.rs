//! IBC messages: ibc-rs's core messages (clients, connections, channels, packets), dispatched
//! through ibc-rs, and ICS-20's `MsgTransfer`.

use crate::errors;
use crate::host::Host;
use crate::router::IbcRouter;
use crate::transfer::{full_path, TransferCtx};
use ibc::apps::transfer::handler::send_transfer;
use ibc::apps::transfer::types::msgs::transfer::MsgTransfer;
use ibc::core::channel::types::msgs::{ChannelMsg, PacketMsg};
use ibc::core::client::types::msgs::ClientMsg;
use ibc::core::connection::types::msgs::ConnectionMsg;
use ibc::core::entrypoint::dispatch;
use ibc::core::handler::types::msgs::MsgEnvelope;
use ibc::primitives::proto::Any as IbcAny;
use ibc::primitives::Signer;
use ibc_proto::ibc::applications::transfer::v1::MsgTransfer as RawMsgTransfer;
use prost::Message;
use std::cell::RefCell;
use surety_framework::{Address, Ctx, Error, Msgs};
use surety_proto::Any;

/// Every IBC core message ibc-rs handles.
pub const CORE_TYPE_URLS: &[&str] = &[
    "/ibc.core.client.v1.MsgCreateClient",
    "/ibc.core.client.v1.MsgUpdateClient",
    "/ibc.core.client.v1.MsgUpgradeClient",
    "/ibc.core.client.v1.MsgSubmitMisbehaviour",
    "/ibc.core.client.v1.MsgRecoverClient",
    "/ibc.core.connection.v1.MsgConnectionOpenInit",
    "/ibc.core.connection.v1.MsgConnectionOpenTry",
    "/ibc.core.connection.v1.MsgConnectionOpenAck",
    "/ibc.core.connection.v1.MsgConnectionOpenConfirm",
    "/ibc.core.channel.v1.MsgChannelOpenInit",
    "/ibc.core.channel.v1.MsgChannelOpenTry",
    "/ibc.core.channel.v1.MsgChannelOpenAck",
    "/ibc.core.channel.v1.MsgChannelOpenConfirm",
    "/ibc.core.channel.v1.MsgChannelCloseInit",
    "/ibc.core.channel.v1.MsgChannelCloseConfirm",
    "/ibc.core.channel.v1.MsgRecvPacket",
    "/ibc.core.channel.v1.MsgAcknowledgement",
    "/ibc.core.channel.v1.MsgTimeout",
    "/ibc.core.channel.v1.MsgTimeoutOnClose",
];

pub const TRANSFER_TYPE_URL: &str = "/ibc.applications.transfer.v1.MsgTransfer";

/// Verifying a light-client header checks a validator set's signatures: charged on top of the
/// store reads and writes, so a relayer pays for the CPU it asks every validator for.
const HEADER_GAS_FLAT: u64 = 200_000;
const HEADER_GAS_PER_BYTE: u64 = 10;

/// ICS-20's limits on what a transfer may carry (ibc-go's).
const MAX_MEMO_BYTES: usize = 32_768;
const MAX_RECEIVER_BYTES: usize = 2_048;

pub fn register(msgs: Msgs) -> Msgs {
    let msgs = CORE_TYPE_URLS
        .iter()
        .fold(msgs, |m, url| m.add_any(url, check_core, execute_core));
    msgs.add_any(TRANSFER_TYPE_URL, check_transfer, execute_transfer)
}

fn to_ibc_any(msg: &Any) -> IbcAny {
    IbcAny {
        type_url: msg.type_url.clone(),
        value: msg.value.clone(),
    }
}

fn envelope(msg: &Any) -> Result<MsgEnvelope, Error> {
    MsgEnvelope::try_from(to_ibc_any(msg))
        .map_err(|e| errors::invalid_message(format!("{}: {e}", msg.type_url)))
}

fn signer_of(envelope: &MsgEnvelope) -> &Signer {
    match envelope {
        MsgEnvelope::Client(m) => match m {
            ClientMsg::CreateClient(m) => &m.signer,
            ClientMsg::UpdateClient(m) => &m.signer,
            #[allow(deprecated)] // ibc-go still accepts the message; so do we
            ClientMsg::Misbehaviour(m) => &m.signer,
            ClientMsg::UpgradeClient(m) => &m.signer,
            ClientMsg::RecoverClient(m) => &m.signer,
        },
        MsgEnvelope::Connection(m) => match m {
            ConnectionMsg::OpenInit(m) => &m.signer,
            ConnectionMsg::OpenTry(m) => &m.signer,
            ConnectionMsg::OpenAck(m) => &m.signer,
            ConnectionMsg::OpenConfirm(m) => &m.signer,
        },
        MsgEnvelope::Channel(m) => match m {
            ChannelMsg::OpenInit(m) => &m.signer,
            ChannelMsg::OpenTry(m) => &m.signer,
            ChannelMsg::OpenAck(m) => &m.signer,
            ChannelMsg::OpenConfirm(m) => &m.signer,
            ChannelMsg::CloseInit(m) => &m.signer,
            ChannelMsg::CloseConfirm(m) => &m.signer,
        },
        MsgEnvelope::Packet(m) => match m {
            PacketMsg::Recv(m) => &m.signer,
            PacketMsg::Ack(m) => &m.signer,
            PacketMsg::Timeout(m) => &m.signer,
            PacketMsg::TimeoutOnClose(m) => &m.signer,
        },
    }
}

fn signer_address(signer: &Signer, field: &str) -> Result<Vec<Address>, Error> {
    surety_framework::signer(signer.as_ref(), field)
}

fn check_core(msg: &Any) -> Result<Vec<Address>, Error> {
    signer_address(signer_of(&envelope(msg)?), "signer")
}

fn execute_core(ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
    let envelope = envelope(msg)?;
    if let MsgEnvelope::Client(ClientMsg::UpdateClient(_) | ClientMsg::Misbehaviour(_)) = envelope {
        let bytes = u64::try_from(msg.value.len()).unwrap_or(u64::MAX);
        ctx.gas.consume(
            HEADER_GAS_FLAT.saturating_add(bytes.saturating_mul(HEADER_GAS_PER_BYTE)),
            "light client verification",
        )?;
    }
    let cell = RefCell::new(ctx);
    let mut host = Host::new(&cell);
    let mut router = IbcRouter::new(&cell);
    dispatch(&mut host, &mut router, envelope).map_err(errors::handler_failed)?;
    Ok(Vec::new())
}

fn decode_transfer(msg: &Any) -> Result<RawMsgTransfer, Error> {
    RawMsgTransfer::decode(msg.value.as_slice())
        .map_err(|e| surety_framework::sdk::tx_decode(format!("invalid MsgTransfer: {e}")))
}

fn check_transfer(msg: &Any) -> Result<Vec<Address>, Error> {
    let raw = decode_transfer(msg)?;
    if raw.memo.len() > MAX_MEMO_BYTES {
        return Err(errors::invalid_message(format!(
            "memo: at most {MAX_MEMO_BYTES} bytes"
        )));
    }
    if raw.receiver.is_empty() || raw.receiver.len() > MAX_RECEIVER_BYTES {
        return Err(errors::invalid_message(format!(
            "receiver: 1 to {MAX_RECEIVER_BYTES} bytes"
        )));
    }
    let token = raw
        .token
        .as_ref()
        .ok_or_else(|| errors::invalid_message("token: missing"))?;
    surety_framework::validate::amount(&token.amount, "token.amount")?;
    surety_framework::coins::validate_denom(&token.denom)?;
    MsgTransfer::try_from(raw.clone()).map_err(|e| errors::invalid_message(e.to_string()))?;
    surety_framework::signer(&raw.sender, "sender")
}

fn execute_transfer(ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
    let mut raw = decode_transfer(msg)?;
    // A voucher is sent under the full path it stands for, as ibc-go does.
    if let Some(token) = raw.token.as_mut() {
        token.denom = full_path(ctx, &token.denom)?;
    }
    let transfer =
        MsgTransfer::try_from(raw).map_err(|e| errors::invalid_message(e.to_string()))?;
    let cell = RefCell::new(ctx);
    let mut host = Host::new(&cell);
    let mut token = TransferCtx::new(&cell);
    let sequence = {
        use ibc::core::host::ValidationContext;
        let path = ibc::core::host::types::path::SeqSendPath::new(
            &transfer.port_id_on_a,
            &transfer.chan_id_on_a,
        );
        host.get_next_sequence_send(&path)
            .map_err(|e| errors::transfer_failed(e.to_string()))?
    };
    send_transfer(&mut host, &mut token, transfer)
        .map_err(|e| errors::transfer_failed(e.to_string()))?;
    Ok(
        ibc_proto::ibc::applications::transfer::v1::MsgTransferResponse {
            sequence: sequence.value(),
        }
        .encode_to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::STORE;
    use ibc::core::host::types::identifiers::{ChannelId, PortId};
    use ibc_proto::google::protobuf::{Duration, Timestamp};
    use ibc_proto::ibc::core::channel::v1 as channel;
    use ibc_proto::ibc::core::client::v1::Height;
    use ibc_proto::ibc::core::commitment::v1::{MerklePrefix, MerkleRoot};
    use ibc_proto::ibc::core::connection::v1 as connection;
    use ibc_proto::ibc::lightclients::tendermint::v1 as tm;
    use surety_framework::testing::{block, EmptyState};
    use surety_framework::{Coins, Overlay};

    const NOW: i64 = 1_700_000_000;

    fn put(ctx: &mut Ctx, key: &str, value: Vec<u8>) {
        ctx.put(STORE, key.as_bytes().to_vec(), value).unwrap();
    }

    fn any(type_url: &str, msg: &impl Message) -> Vec<u8> {
        ibc_proto::google::protobuf::Any {
            type_url: type_url.into(),
            value: msg.encode_to_vec(),
        }
        .encode_to_vec()
    }

    /// A 07-tendermint client of `other-1` at height 1-`latest`, trusted for a day.
    fn client_state(latest: u64, proof_specs: Vec<ics23::ProofSpec>) -> tm::ClientState {
        tm::ClientState {
            chain_id: "other-1".into(),
            trust_level: Some(tm::Fraction {
                numerator: 1,
                denominator: 3,
            }),
            trusting_period: Some(Duration {
                seconds: 86_400,
                nanos: 0,
            }),
            unbonding_period: Some(Duration {
                seconds: 2 * 86_400,
                nanos: 0,
            }),
            max_clock_drift: Some(Duration {
                seconds: 10,
                nanos: 0,
            }),
            frozen_height: Some(Height::default()),
            latest_height: Some(Height {
                revision_number: 1,
                revision_height: latest,
            }),
            proof_specs,
            upgrade_path: vec!["upgrade".into(), "upgradedIBCState".into()],
            ..Default::default()
        }
    }

    /// An open transfer channel `channel-0` over `connection-0` on a live client of `other-1`,
    /// written as a completed handshake leaves it.
    fn open_channel(ctx: &mut Ctx) {
        let client = client_state(10, vec![ics23::iavl_spec(), ics23::tendermint_spec()]);
        let consensus = tm::ConsensusState {
            timestamp: Some(Timestamp {
                seconds: NOW - 5,
                nanos: 0,
            }),
            root: Some(MerkleRoot { hash: vec![1; 32] }),
            next_validators_hash: vec![2; 32],
        };
        let c = "07-tendermint-0";
        put(
            ctx,
            &format!("clients/{c}/clientState"),
            any("/ibc.lightclients.tendermint.v1.ClientState", &client),
        );
        put(
            ctx,
            &format!("clients/{c}/consensusStates/1-10"),
            any("/ibc.lightclients.tendermint.v1.ConsensusState", &consensus),
        );
        let end = connection::ConnectionEnd {
            client_id: c.into(),
            versions: vec![connection::Version {
                identifier: "1".into(),
                features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()],
            }],
            state: connection::State::Open as i32,
            counterparty: Some(connection::Counterparty {
                client_id: c.into(),
                connection_id: "connection-0".into(),
                prefix: Some(MerklePrefix {
                    key_prefix: b"ibc".to_vec(),
                }),
            }),
            delay_period: 0,
        };
        put(ctx, "connections/connection-0", end.encode_to_vec());
        let chan = channel::Channel {
            state: channel::State::Open as i32,
            ordering: channel::Order::Unordered as i32,
            counterparty: Some(channel::Counterparty {
                port_id: "transfer".into(),
                channel_id: "channel-5".into(),
            }),
            connection_hops: vec!["connection-0".into()],
            version: "ics20-1".into(),
            ..Default::default()
        };
        put(
            ctx,
            "channelEnds/ports/transfer/channels/channel-0",
            chan.encode_to_vec(),
        );
        for seq in ["nextSequenceSend", "nextSequenceRecv", "nextSequenceAck"] {
            put(
                ctx,
                &format!("{seq}/ports/transfer/channels/channel-0"),
                1u64.to_be_bytes().to_vec(),
            );
        }
    }

    /// The test's sender, holding 1 000usure (minted, as a voucher would be).
    fn funded_sender(ctx: &mut Ctx) -> surety_framework::Address {
        let sender = surety_framework::Address([3; 20]);
        let bank = surety_bank::Bank::default();
        let funds = Coins::of(1_000, "usure");
        bank.mint(ctx, surety_framework::accounts::TRANSFER, &funds)
            .unwrap();
        bank.send_from_module(ctx, surety_framework::accounts::TRANSFER, &sender, &funds)
            .unwrap();
        sender
    }

    fn transfer(sender: &surety_framework::Address, amount: &str, timeout_secs: i64) -> Any {
        let msg = RawMsgTransfer {
            source_port: "transfer".into(),
            source_channel: "channel-0".into(),
            token: Some(ibc_proto::cosmos::base::v1beta1::Coin {
                denom: "usure".into(),
                amount: amount.into(),
            }),
            sender: sender.to_bech32(),
            receiver: "cosmos1ywmqjjc08gr3c0ttlp7gj7es7lkpay53gkdrmy".into(),
            timeout_height: None,
            timeout_timestamp: u64::try_from(timeout_secs).unwrap() * 1_000_000_000,
            memo: String::new(),
        };
        Any {
            type_url: TRANSFER_TYPE_URL.into(),
            value: msg.encode_to_vec(),
        }
    }

    #[test]
    fn a_transfer_escrows_commits_the_packet_and_emits_indexed_events() {
        let mut state = Overlay::new(&EmptyState);
        let mut ctx = block(&mut state, 20, NOW);
        ctx.block.chain_id = "surety-a-1".into();
        open_channel(&mut ctx);
        let sender = funded_sender(&mut ctx);
        let bank = surety_bank::Bank::default();

        check_transfer(&transfer(&sender, "400", NOW + 600)).unwrap();
        let response = execute_transfer(&mut ctx, &transfer(&sender, "400", NOW + 600)).unwrap();
        let response = ibc_proto::ibc::applications::transfer::v1::MsgTransferResponse::decode(
            response.as_slice(),
        )
        .unwrap();
        assert_eq!(response.sequence, 1);
        let escrow = crate::transfer::escrow_address(&PortId::transfer(), &ChannelId::new(0));
        assert_eq!(bank.balance(&mut ctx, &escrow, "usure").unwrap(), 400);
        assert_eq!(bank.balance(&mut ctx, &sender, "usure").unwrap(), 600);
        let commitment = ctx
            .get(
                STORE,
                b"commitments/ports/transfer/channels/channel-0/sequences/1",
            )
            .unwrap()
            .expect("packet commitment");
        assert_eq!(commitment.len(), 32);
        assert_eq!(
            ctx.get(STORE, b"nextSequenceSend/ports/transfer/channels/channel-0")
                .unwrap(),
            Some(2u64.to_be_bytes().to_vec())
        );
        let send = ctx
            .events()
            .iter()
            .find(|e| e.kind == "send_packet")
            .expect("send_packet event");
        assert!(send
            .attributes
            .iter()
            .any(|(k, v)| k == "packet_sequence" && v == "1"));
        assert!(send.to_abci().attributes.iter().all(|a| a.index));
    }

    #[test]
    fn a_transfer_already_timed_out_or_beyond_the_balance_fails_and_changes_nothing() {
        let mut state = Overlay::new(&EmptyState);
        let mut ctx = block(&mut state, 20, NOW);
        ctx.block.chain_id = "surety-a-1".into();
        open_channel(&mut ctx);
        let sender = funded_sender(&mut ctx);
        let bank = surety_bank::Bank::default();
        for msg in [
            // Its timeout is before the counterparty's latest consensus state.
            transfer(&sender, "400", NOW - 10),
            transfer(&sender, "4000", NOW + 600),
        ] {
            let e = ctx
                .branch(|c| execute_transfer(c, &msg))
                .expect_err("refused");
            assert_eq!(e.codespace, "ibc", "{e:?}");
        }
        assert_eq!(bank.balance(&mut ctx, &sender, "usure").unwrap(), 1_000);
        assert_eq!(
            ctx.get(STORE, b"nextSequenceSend/ports/transfer/channels/channel-0")
                .unwrap(),
            Some(1u64.to_be_bytes().to_vec())
        );
    }

    /// A counterparty that is a real JMT store (Surety's own): it commits a version in which the
    /// packet was never received, and its non-existence proof times the packet out here.
    #[test]
    fn a_packet_proven_unreceived_times_out_and_refunds_the_sender() {
        use surety_store::{ChangeSet, Storage, StorageConfig};
        let dir = tempfile::tempdir().unwrap();
        let other = Storage::open(dir.path(), StorageConfig::default()).unwrap();
        let mut cs = ChangeSet::default();
        cs.verifiable.entry("ibc".into()).or_default().insert(
            b"nextSequenceRecv/ports/transfer/channels/channel-5".to_vec(),
            Some(1u64.to_be_bytes().to_vec()),
        );
        let prepared = other.prepare(1, &cs).unwrap();
        let root = other.commit(prepared).unwrap();
        let receipt = b"receipts/ports/transfer/channels/channel-5/sequences/1";
        let (value, proofs) = other
            .snapshot(1)
            .unwrap()
            .get_with_proof("ibc", receipt)
            .unwrap();
        assert!(value.is_none());
        let proof = ibc_proto::ibc::core::commitment::v1::MerkleProof {
            proofs: proofs.to_vec(),
        }
        .encode_to_vec();

        let mut state = Overlay::new(&EmptyState);
        let sender = surety_framework::Address([3; 20]);
        let bank = surety_bank::Bank::default();
        let packet = {
            let mut ctx = block(&mut state, 20, NOW);
            ctx.block.chain_id = "surety-a-1".into();
            open_channel(&mut ctx);
            assert_eq!(funded_sender(&mut ctx), sender);
            execute_transfer(&mut ctx, &transfer(&sender, "400", NOW + 10)).unwrap();
            let send = ctx
                .events()
                .iter()
                .find(|e| e.kind == "send_packet")
                .unwrap()
                .clone();
            let attr = |k: &str| {
                send.attributes
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .unwrap()
            };
            channel::Packet {
                sequence: 1,
                source_port: "transfer".into(),
                source_channel: "channel-0".into(),
                destination_port: "transfer".into(),
                destination_channel: "channel-5".into(),
                data: hex::decode(attr("packet_data_hex")).unwrap(),
                timeout_height: Some(Height::default()),
                timeout_timestamp: attr("packet_timeout_timestamp").parse().unwrap(),
            }
        };

        // Later: the client has followed the counterparty to 1-11, past the packet's timeout,
        // whose state root is the store's app hash.
        let mut ctx = block(&mut state, 30, NOW + 50);
        ctx.block.chain_id = "surety-a-1".into();
        let c = "07-tendermint-0";
        let spec = jmt::ics23_spec();
        let client = client_state(11, vec![spec.clone(), spec]);
        put(
            &mut ctx,
            &format!("clients/{c}/clientState"),
            any("/ibc.lightclients.tendermint.v1.ClientState", &client),
        );
        let consensus = tm::ConsensusState {
            timestamp: Some(Timestamp {
                seconds: NOW + 20,
                nanos: 0,
            }),
            root: Some(MerkleRoot {
                hash: root.to_vec(),
            }),
            next_validators_hash: vec![2; 32],
        };
        put(
            &mut ctx,
            &format!("clients/{c}/consensusStates/1-11"),
            any("/ibc.lightclients.tendermint.v1.ConsensusState", &consensus),
        );
        let height = ibc::core::client::types::Height::new(1, 11).unwrap();
        let client_id: ibc::core::host::types::identifiers::ClientId = c.parse().unwrap();
        let meta = [
            ((NOW + 40) as u64 * 1_000_000_000).to_be_bytes().as_slice(),
            &crate::keys::height_bytes(&ibc::core::client::types::Height::new(0, 25).unwrap()),
        ]
        .concat();
        ctx.put(STORE, crate::keys::update_meta(&client_id, &height), meta)
            .unwrap();

        let timeout = channel::MsgTimeout {
            packet: Some(packet),
            proof_unreceived: proof,
            proof_height: Some(Height {
                revision_number: 1,
                revision_height: 11,
            }),
            next_sequence_recv: 1,
            signer: sender.to_bech32(),
        };
        let msg = Any {
            type_url: "/ibc.core.channel.v1.MsgTimeout".into(),
            value: timeout.encode_to_vec(),
        };
        check_core(&msg).unwrap();
        // A proof of anything else does not verify against the root: nothing is refunded.
        let mut forged = timeout.clone();
        let (_, other_proofs) = other
            .snapshot(1)
            .unwrap()
            .get_with_proof("ibc", b"nextSequenceRecv/ports/transfer/channels/channel-5")
            .unwrap();
        forged.proof_unreceived = ibc_proto::ibc::core::commitment::v1::MerkleProof {
            proofs: other_proofs.to_vec(),
        }
        .encode_to_vec();
        let forged = Any {
            type_url: msg.type_url.clone(),
            value: forged.encode_to_vec(),
        };
        let e = ctx
            .branch(|c| execute_core(c, &forged))
            .expect_err("a forged proof is refused");
        assert_eq!(e.codespace, "ibc", "{e:?}");
        assert_eq!(bank.balance(&mut ctx, &sender, "usure").unwrap(), 600);
        execute_core(&mut ctx, &msg).unwrap();
        assert_eq!(bank.balance(&mut ctx, &sender, "usure").unwrap(), 1_000);
        assert_eq!(
            ctx.get(
                STORE,
                b"commitments/ports/transfer/channels/channel-0/sequences/1"
            )
            .unwrap(),
            None,
            "the commitment is gone: the packet cannot be timed out twice"
        );
        let e = execute_core(&mut ctx, &msg);
        assert_eq!(
            bank.balance(&mut ctx, &sender, "usure").unwrap(),
            1_000,
            "{e:?}"
        );
    }
}
