//! IBC messages: ibc-rs's core messages (clients, connections, channels, packets), dispatched
//! through ibc-rs, and ICS-20's `MsgTransfer`.

use crate::host::Host;
use crate::router::IbcRouter;
use crate::transfer::{full_path, TransferCtx};
use crate::{cover, errors};
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
    if cover::wants_action(&raw.memo) {
        // A cover memo is for transfers *to* Surety; sending one from here would run nothing.
        return Err(errors::invalid_memo(
            "a surety memo acts on the receiving Surety chain; it is not sent from one",
        ));
    }
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
