//! The applications IBC routes packets to: ICS-20 on port `transfer`, wrapped by the cover
//! middleware (memo actions on receive, remittance bookkeeping on acknowledgement and timeout).

use crate::cover;
use crate::host::Shared;
use crate::remit;
use crate::transfer::{local_denom, TransferCtx};
use base64::Engine;
use ibc::apps::transfer::handler::process_recv_packet_execute;
use ibc::apps::transfer::module as ics20;
use ibc::apps::transfer::types::error::TokenTransferError;
use ibc::apps::transfer::types::events::RecvEvent;
use ibc::apps::transfer::types::packet::PacketData;
use ibc::apps::transfer::types::{
    ack_success_b64, is_receiver_chain_source, TracePrefix, MODULE_ID_STR,
};
use ibc::core::channel::types::acknowledgement::{
    Acknowledgement, AcknowledgementStatus, StatusValue,
};
use ibc::core::channel::types::channel::{Counterparty, Order};
use ibc::core::channel::types::error::ChannelError;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::Version;
use ibc::core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc::core::router::module::Module;
use ibc::core::router::router::Router;
use ibc::core::router::types::module::{ModuleExtras, ModuleId};
use ibc::primitives::Signer;
use std::cell::RefCell;
use surety_framework::{sdk, Ctx, Error};

pub struct IbcRouter<'r, 'c> {
    transfer: TransferModule<'r, 'c>,
}

impl<'r, 'c> IbcRouter<'r, 'c> {
    pub fn new(ctx: Shared<'r, 'c>) -> IbcRouter<'r, 'c> {
        IbcRouter {
            transfer: TransferModule { ctx },
        }
    }
}

impl Router for IbcRouter<'_, '_> {
    fn get_route(&self, module_id: &ModuleId) -> Option<&dyn Module> {
        (module_id.to_string() == MODULE_ID_STR).then_some(&self.transfer as &dyn Module)
    }

    fn get_route_mut(&mut self, module_id: &ModuleId) -> Option<&mut dyn Module> {
        (module_id.to_string() == MODULE_ID_STR).then_some(&mut self.transfer as &mut dyn Module)
    }

    fn lookup_module(&self, port_id: &PortId) -> Option<ModuleId> {
        (port_id == &PortId::transfer()).then(|| ModuleId::new(MODULE_ID_STR.to_string()))
    }
}

pub struct TransferModule<'r, 'c> {
    ctx: Shared<'r, 'c>,
}

impl std::fmt::Debug for TransferModule<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferModule")
    }
}

impl<'r, 'c> TransferModule<'r, 'c> {
    fn token_ctx(&self) -> TransferCtx<'r, 'c> {
        TransferCtx::new(self.ctx)
    }
}

fn channel_err(e: TokenTransferError) -> ChannelError {
    ChannelError::AppSpecific {
        description: e.to_string(),
    }
}

fn error_ack(e: impl std::fmt::Display) -> AcknowledgementStatus {
    AcknowledgementStatus::error(
        StatusValue::new(e.to_string()).unwrap_or_else(|_| ack_success_b64()),
    )
}

/// Receives a transfer on `ctx` (a branch the caller drops unless the ack is a success).
fn receive(ctx: &mut Ctx, packet: &Packet) -> (ModuleExtras, AcknowledgementStatus) {
    let Ok(data) = serde_json::from_slice::<PacketData>(&packet.data) else {
        return (
            ModuleExtras::empty(),
            error_ack(TokenTransferError::FailedToDeserializePacketData),
        );
    };
    let action = match cover::action(data.memo.as_ref()) {
        Ok(Some(action)) => Ok(action),
        Err(e) => Err(e),
        Ok(None) => {
            let cell = RefCell::new(ctx);
            let (extras, ack) = ics20::on_recv_packet_execute(&mut TransferCtx::new(&cell), packet);
            let status = serde_json::from_slice::<AcknowledgementStatus>(ack.as_bytes())
                .unwrap_or_else(|_| error_ack("unreadable acknowledgement"));
            return (extras, status);
        }
    };
    let status = match action.and_then(|action| receive_with_action(ctx, packet, &data, &action)) {
        Ok(result) => AcknowledgementStatus::success(
            StatusValue::new(result).unwrap_or_else(|_| ack_success_b64()),
        ),
        Err(e) => error_ack(format!("{}/{}: {}", e.codespace, e.code, e.log)),
    };
    let event = RecvEvent {
        sender: data.sender,
        receiver: data.receiver,
        denom: data.token.denom,
        amount: data.token.amount,
        memo: data.memo,
        success: status.is_successful(),
    };
    (
        ModuleExtras {
            events: vec![event.into()],
            log: Vec::new(),
        },
        status,
    )
}

/// Credits the transfer to the sender's remote account and runs the memo's action as it.
fn receive_with_action(
    ctx: &mut Ctx,
    packet: &Packet,
    data: &PacketData,
    action: &cover::Action,
) -> Result<String, Error> {
    let account = cover::remote_account(packet.chan_id_on_b.as_str(), data.sender.as_ref());
    // The denom the tokens have here: ours coming home lose the counterparty's prefix, theirs
    // gain ours.
    let mut denom = data.token.denom.clone();
    if is_receiver_chain_source(
        packet.port_id_on_a.clone(),
        packet.chan_id_on_a.clone(),
        &denom,
    ) {
        denom.remove_trace_prefix(&TracePrefix::new(
            packet.port_id_on_a.clone(),
            packet.chan_id_on_a.clone(),
        ));
    } else {
        denom.add_trace_prefix(TracePrefix::new(
            packet.port_id_on_b.clone(),
            packet.chan_id_on_b.clone(),
        ));
    }
    let local = local_denom(&denom);
    let amount: u128 = data
        .token
        .amount
        .to_string()
        .parse()
        .map_err(|_| crate::errors::transfer_failed("amount beyond this chain's range"))?;
    let before = surety_bank::Bank::default().balance(ctx, &account, &local)?;
    let mut credited = data.clone();
    credited.receiver = Signer::from(account.to_bech32());
    {
        let cell = RefCell::new(&mut *ctx);
        process_recv_packet_execute(&mut TransferCtx::new(&cell), packet, credited)
            .map_err(|(_, e)| crate::errors::transfer_failed(e))?;
    }
    cover::execute(
        ctx,
        action,
        &packet.chan_id_on_b,
        data,
        &local,
        amount,
        before,
    )
}

impl Module for TransferModule<'_, '_> {
    fn on_chan_open_init_validate(
        &self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<Version, ChannelError> {
        ics20::on_chan_open_init_validate(
            &self.token_ctx(),
            order,
            connection_hops,
            port_id,
            channel_id,
            counterparty,
            version,
        )
        .map_err(channel_err)?;
        Ok(Version::new(
            ibc::apps::transfer::types::VERSION.to_string(),
        ))
    }

    fn on_chan_open_init_execute(
        &mut self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        ics20::on_chan_open_init_execute(
            &mut self.token_ctx(),
            order,
            connection_hops,
            port_id,
            channel_id,
            counterparty,
            version,
        )
        .map_err(channel_err)
    }

    fn on_chan_open_try_validate(
        &self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<Version, ChannelError> {
        ics20::on_chan_open_try_validate(
            &self.token_ctx(),
            order,
            connection_hops,
            port_id,
            channel_id,
            counterparty,
            counterparty_version,
        )
        .map_err(channel_err)?;
        Ok(Version::new(
            ibc::apps::transfer::types::VERSION.to_string(),
        ))
    }

    fn on_chan_open_try_execute(
        &mut self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        ics20::on_chan_open_try_execute(
            &mut self.token_ctx(),
            order,
            connection_hops,
            port_id,
            channel_id,
            counterparty,
            counterparty_version,
        )
        .map_err(channel_err)
    }

    fn on_chan_open_ack_validate(
        &self,
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty_version: &Version,
    ) -> Result<(), ChannelError> {
        ics20::on_chan_open_ack_validate(
            &self.token_ctx(),
            port_id,
            channel_id,
            counterparty_version,
        )
        .map_err(channel_err)
    }

    fn on_chan_close_init_validate(
        &self,
        port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<(), ChannelError> {
        ics20::on_chan_close_init_validate(&self.token_ctx(), port_id, channel_id)
            .map_err(channel_err)
    }

    fn on_recv_packet_execute(
        &mut self,
        packet: &Packet,
        _relayer: &Signer,
    ) -> (ModuleExtras, Option<Acknowledgement>) {
        // ibc-rs commits the acknowledgement whatever the application did, so the application
        // runs on a branch that is kept only when it acknowledges success (as ibc-go does).
        let mut outcome = None;
        let kept = self.ctx.borrow_mut().branch(|c| {
            let (extras, status) = receive(c, packet);
            let ok = status.is_successful();
            outcome = Some((extras, status));
            if ok {
                Ok(())
            } else {
                Err(sdk::internal(
                    "error acknowledgement: the receive is undone",
                ))
            }
        });
        let (extras, status) = outcome.unwrap_or_else(|| {
            let e = kept.err().map_or_else(String::new, |e| e.log);
            (ModuleExtras::empty(), error_ack(e))
        });
        (extras, Some(status.into()))
    }

    fn on_acknowledgement_packet_validate(
        &self,
        packet: &Packet,
        acknowledgement: &Acknowledgement,
        relayer: &Signer,
    ) -> Result<(), ChannelError> {
        ics20::on_acknowledgement_packet_validate(
            &self.token_ctx(),
            packet,
            acknowledgement,
            relayer,
        )
        .map_err(channel_err)
    }

    fn on_acknowledgement_packet_execute(
        &mut self,
        packet: &Packet,
        acknowledgement: &Acknowledgement,
        relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        let (extras, result) = ics20::on_acknowledgement_packet_execute(
            &mut self.token_ctx(),
            packet,
            acknowledgement,
            relayer,
        );
        if result.is_ok() {
            let status = serde_json::from_slice::<AcknowledgementStatus>(acknowledgement.as_ref());
            let error = match status {
                Ok(AcknowledgementStatus::Success(_)) => None,
                Ok(AcknowledgementStatus::Error(e)) => Some(e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            if let Err(e) = remit::settle(&mut self.ctx.borrow_mut(), packet, error) {
                return (
                    extras,
                    Err(ChannelError::AppSpecific { description: e.log }),
                );
            }
        }
        (extras, result.map_err(channel_err))
    }

    fn on_timeout_packet_validate(
        &self,
        packet: &Packet,
        relayer: &Signer,
    ) -> Result<(), ChannelError> {
        ics20::on_timeout_packet_validate(&self.token_ctx(), packet, relayer).map_err(channel_err)
    }

    fn on_timeout_packet_execute(
        &mut self,
        packet: &Packet,
        relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        let (extras, result) =
            ics20::on_timeout_packet_execute(&mut self.token_ctx(), packet, relayer);
        if result.is_ok() {
            let timed_out = Some("the packet timed out".to_owned());
            if let Err(e) = remit::settle(&mut self.ctx.borrow_mut(), packet, timed_out) {
                return (
                    extras,
                    Err(ChannelError::AppSpecific { description: e.log }),
                );
            }
        }
        (extras, result.map_err(channel_err))
    }
}

/// The result an acknowledgement carried, decoded (for tests and the CLI).
pub fn ack_result(ack: &[u8]) -> Option<serde_json::Value> {
    match serde_json::from_slice::<AcknowledgementStatus>(ack).ok()? {
        AcknowledgementStatus::Success(v) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.to_string())
                .ok()?;
            serde_json::from_slice(&bytes).ok()
        }
        AcknowledgementStatus::Error(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::{denom_hash, escrow_address};
    use ibc::core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
    use ibc::core::host::types::identifiers::Sequence;
    use surety_framework::testing::{block, EmptyState};
    use surety_framework::{Address, Coins, Overlay};

    const SENDER: &str = "cosmos1ywmqjjc08gr3c0ttlp7gj7es7lkpay53gkdrmy";

    fn receiver() -> Address {
        Address([7; 20])
    }

    /// A packet from channel-5 on the other chain to our channel-0.
    fn packet(denom: &str, amount: &str, receiver: &str, memo: &str) -> Packet {
        let data = serde_json::json!({
            "denom": denom, "amount": amount, "sender": SENDER, "receiver": receiver, "memo": memo,
        });
        Packet {
            seq_on_a: Sequence::from(1),
            port_id_on_a: PortId::transfer(),
            chan_id_on_a: ChannelId::new(5),
            port_id_on_b: PortId::transfer(),
            chan_id_on_b: ChannelId::new(0),
            data: data.to_string().into_bytes(),
            timeout_height_on_b: TimeoutHeight::Never,
            timeout_timestamp_on_b: TimeoutTimestamp::Never,
        }
    }

    fn balance(ctx: &mut Ctx, who: &Address, denom: &str) -> u128 {
        surety_bank::Bank::default()
            .balance(ctx, who, denom)
            .unwrap()
    }

    #[test]
    fn a_foreign_token_arrives_as_a_voucher_with_its_trace() {
        let mut state = Overlay::new(&EmptyState);
        let mut ctx = block(&mut state, 5, 1_000);
        let to = receiver().to_bech32();
        let (_, ack) = receive(&mut ctx, &packet("uatom", "100", &to, ""));
        assert!(ack.is_successful(), "{ack}");
        let voucher = format!("ibc/{}", denom_hash("transfer/channel-0/uatom"));
        assert_eq!(balance(&mut ctx, &receiver(), &voucher), 100);
        assert_eq!(
            crate::transfer::full_path(&mut ctx, &voucher).unwrap(),
            "transfer/channel-0/uatom"
        );
    }

    #[test]
    fn our_token_coming_home_is_unescrowed() {
        let mut state = Overlay::new(&EmptyState);
        let mut ctx = block(&mut state, 5, 1_000);
        let escrow = escrow_address(&PortId::transfer(), &ChannelId::new(0));
        surety_bank::Bank::default()
            .mint(
                &mut ctx,
                surety_framework::accounts::TRANSFER,
                &Coins::of(500, "usure"),
            )
            .unwrap();
        surety_bank::Bank::default()
            .send_from_module(
                &mut ctx,
                surety_framework::accounts::TRANSFER,
                &escrow,
                &Coins::of(500, "usure"),
            )
            .unwrap();
        let to = receiver().to_bech32();
        let (_, ack) = receive(
            &mut ctx,
            &packet("transfer/channel-5/usure", "200", &to, ""),
        );
        assert!(ack.is_successful(), "{ack}");
        assert_eq!(balance(&mut ctx, &receiver(), "usure"), 200);
        assert_eq!(balance(&mut ctx, &escrow, "usure"), 300);
        // More than the escrow holds is refused: the sender's chain refunds.
        let (_, ack) = receive(
            &mut ctx,
            &packet("transfer/channel-5/usure", "301", &to, ""),
        );
        assert!(!ack.is_successful());
    }

    #[test]
    fn a_bad_receiver_or_a_bad_cover_memo_is_an_error_ack_that_changes_nothing() {
        let module = Address::module(surety_framework::accounts::POOL).to_bech32();
        let cases = [
            ("not-an-address".to_owned(), String::new()),
            (module, String::new()),
            (
                receiver().to_bech32(),
                r#"{"surety":{"buy_cover":{"product_id":"1"}}}"#.to_owned(),
            ),
            (
                receiver().to_bech32(),
                r#"{"surety":{"deposit":{"pool_id":1}}}"#.to_owned(),
            ),
        ];
        for (to, memo) in cases {
            let mut state = Overlay::new(&EmptyState);
            let ack = {
                let mut ctx = block(&mut state, 5, 1_000);
                let shared = RefCell::new(&mut ctx);
                let mut module = TransferModule { ctx: &shared };
                let relayer = Signer::from(receiver().to_bech32());
                let p = packet("uatom", "100", &to, &memo);
                module.on_recv_packet_execute(&p, &relayer).1
            };
            let status: AcknowledgementStatus =
                serde_json::from_slice(ack.expect("an ack").as_bytes()).unwrap();
            assert!(!status.is_successful(), "{to} {memo}");
            // The deposit memo got as far as crediting the remote account before its action
            // failed (no router here): the branch is dropped, so nothing is left.
            assert!(
                state.into_changes().is_empty(),
                "{to} {memo}: writes left behind"
            );
        }
    }

    #[test]
    fn success_acks_carry_the_actions_result_and_decode() {
        let json =
            serde_json::json!({"surety": {"buy_cover": {"policy_id": "7", "premium": "12"}}});
        let b64 = base64::engine::general_purpose::STANDARD.encode(json.to_string());
        let ack = AcknowledgementStatus::success(StatusValue::new(b64).unwrap());
        let bytes = serde_json::to_vec(&ack).unwrap();
        assert_eq!(ack_result(&bytes), Some(json));
    }
}
