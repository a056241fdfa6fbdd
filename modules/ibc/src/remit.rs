//! Remittances: money Surety sends home to remote accounts' owners over ICS-20 — claim payouts
//! and the change a memo action did not spend.
//!
//! A remittance is queued with its coins moved out of the remote account into the
//! `remittances` module account, so no later action of that account can spend them; sent from
//! the remote account in EndBlock (a budget per block), and remembered by its packet. A success
//! acknowledgement delivers it, once. A timeout or an error acknowledgement makes ICS-20 refund
//! the remote account; the coins go back into `remittances` and the remittance is queued again
//! for a later block: it is never lost and never paid twice.

use crate::host::{Host, Shared};
use crate::transfer::{full_path, TransferCtx};
use crate::{errors, keys, params, STORE};
use ibc::apps::transfer::handler::send_transfer;
use ibc::apps::transfer::types::msgs::transfer::MsgTransfer;
use ibc::apps::transfer::types::packet::PacketData;
use ibc::apps::transfer::types::{Amount, PrefixedCoin, PrefixedDenom};
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
use ibc::core::host::types::identifiers::{ChannelId, PortId};
use ibc::core::host::types::path::SeqSendPath;
use ibc::core::host::ValidationContext;
use ibc::primitives::{Signer, Timestamp};
use std::cell::RefCell;
use std::str::FromStr;
use surety_framework::{accounts, sdk, Address, Coins, Ctx, DeadlineQueue, Error, Event};
use surety_proto::surety::ibc::v1::{Remittance, RemittanceStatus};

/// Remittances waiting for their next attempt, by the block time it may happen.
pub const QUEUE: DeadlineQueue = DeadlineQueue::new(STORE, 0x01);

/// Remittances sent per block.
pub const SEND_BUDGET: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Payout,
    Change,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Payout => "payout",
            Kind::Change => "change",
        }
    }
}

pub fn load(ctx: &mut Ctx, id: u64) -> Result<Remittance, Error> {
    ctx.get_msg(STORE, &keys::remittance(id))?
        .ok_or_else(|| errors::not_found(format!("remittance {id}")))
}

fn save(ctx: &mut Ctx, r: &Remittance) -> Result<(), Error> {
    ctx.put_msg(STORE, keys::remittance(r.id), r)
}

/// Queues `amount` of `denom` held by remote `account` to go home: change to the sender, a
/// payout to the beneficiary. Returns the remittance id.
pub fn enqueue(
    ctx: &mut Ctx,
    account: &Address,
    denom: &str,
    amount: u128,
    kind: Kind,
) -> Result<u64, Error> {
    let route = crate::cover::route(ctx, account)?
        .ok_or_else(|| sdk::internal(format!("{account} is not a remote account")))?;
    hold(ctx, account, denom, amount)?;
    let id = ctx.next_id(STORE, keys::REMITTANCE_COUNTER)?;
    let now = ctx.block.time_unix_secs;
    let r = Remittance {
        id,
        account: account.to_bech32(),
        channel: route.channel,
        receiver: match kind {
            Kind::Change => route.sender,
            Kind::Payout => route.beneficiary,
        },
        denom: denom.to_owned(),
        amount: amount.to_string(),
        kind: kind.as_str().to_owned(),
        status: RemittanceStatus::Pending as i32,
        attempts: 0,
        sequence: 0,
        next_attempt: now,
        last_error: String::new(),
    };
    save(ctx, &r)?;
    QUEUE.push(ctx, now, &id.to_be_bytes())?;
    ctx.emit(event("remittance_queued", &r));
    Ok(id)
}

fn event(kind: &str, r: &Remittance) -> Event {
    Event::new(kind)
        .attr("remittance_id", r.id)
        .attr("account", &r.account)
        .attr("channel", &r.channel)
        .attr("receiver", &r.receiver)
        .attr("amount", format!("{}{}", r.amount, r.denom))
        .attr("kind", &r.kind)
        .attr("attempts", r.attempts)
}

/// Sends the remittances whose time has come, each on its own branch: one that cannot be sent
/// now (a closed channel, a missing balance) is tried again after the retry delay.
pub fn send_due(ctx: &mut Ctx) -> Result<(), Error> {
    let now = ctx.block.time_unix_secs;
    for due in QUEUE.take_due(ctx, now, SEND_BUDGET)? {
        let Ok(bytes) = <[u8; 8]>::try_from(due.item.as_slice()) else {
            continue;
        };
        let id = u64::from_be_bytes(bytes);
        if let Err(e) = ctx.isolate(format!("remittance {id}"), |c| send(c, id))? {
            retry_later(ctx, id, &e.log)?;
        }
    }
    Ok(())
}

/// Moves a remittance's coins from the remote account into `remittances`.
fn hold(ctx: &mut Ctx, account: &Address, denom: &str, amount: u128) -> Result<(), Error> {
    surety_bank::Bank::default().send_to_module(
        ctx,
        account,
        accounts::REMITTANCES,
        &Coins::of(amount, denom),
    )
}

fn retry_later(ctx: &mut Ctx, id: u64, error: &str) -> Result<(), Error> {
    let mut r = load(ctx, id)?;
    let delay = i64::try_from(params(ctx)?.retry_delay_secs).unwrap_or(i64::MAX);
    r.status = RemittanceStatus::Pending as i32;
    r.next_attempt = ctx.block.time_unix_secs.saturating_add(delay);
    r.last_error = error.chars().take(256).collect();
    save(ctx, &r)?;
    QUEUE.push(ctx, r.next_attempt, &id.to_be_bytes())?;
    ctx.emit(event("remittance_retry", &r).attr("error", &r.last_error));
    Ok(())
}

fn send(ctx: &mut Ctx, id: u64) -> Result<(), Error> {
    let mut r = load(ctx, id)?;
    if r.status != RemittanceStatus::Pending as i32 {
        return Ok(());
    }
    let channel = ChannelId::from_str(&r.channel)
        .map_err(|e| sdk::internal(format!("remittance {id}: channel: {e}")))?;
    let port = PortId::transfer();
    let denom = PrefixedDenom::from_str(&full_path(ctx, &r.denom)?)
        .map_err(|e| sdk::internal(format!("remittance {id}: denom: {e}")))?;
    let amount = Amount::from_str(&r.amount)
        .map_err(|e| sdk::internal(format!("remittance {id}: amount: {e}")))?;
    let timeout_secs = params(ctx)?.remit_timeout_secs;
    // Released to the remote account only to leave in the same step; a failed send undoes both.
    let account = Address::from_bech32(&r.account)?;
    surety_bank::Bank::default().send_from_module(
        ctx,
        accounts::REMITTANCES,
        &account,
        &Coins::of(amount_of(&r)?, &r.denom),
    )?;
    let sequence = {
        let shared = RefCell::new(&mut *ctx);
        send_packet(
            &shared,
            MsgTransfer {
                port_id_on_a: port.clone(),
                chan_id_on_a: channel.clone(),
                packet_data: PacketData {
                    token: PrefixedCoin { denom, amount },
                    sender: Signer::from(r.account.clone()),
                    receiver: Signer::from(r.receiver.clone()),
                    memo: format!("surety {} {id}", r.kind).into(),
                },
                timeout_height_on_b: TimeoutHeight::Never,
                timeout_timestamp_on_b: TimeoutTimestamp::At(timeout(&shared, timeout_secs)?),
            },
        )?
    };
    r.status = RemittanceStatus::InFlight as i32;
    r.sequence = sequence;
    r.attempts = r.attempts.saturating_add(1);
    save(ctx, &r)?;
    ctx.put(
        STORE,
        keys::remittance_packet(&r.channel, sequence),
        id.to_be_bytes().to_vec(),
    )?;
    ctx.emit(event("remittance_sent", &r).attr("packet_sequence", sequence));
    Ok(())
}

fn timeout(shared: Shared, secs: u64) -> Result<Timestamp, Error> {
    let now =
        crate::host::host_timestamp(&shared.borrow()).map_err(|e| sdk::internal(e.to_string()))?;
    let nanos = now
        .nanoseconds()
        .checked_add(secs.saturating_mul(1_000_000_000))
        .ok_or_else(|| sdk::internal("timeout beyond the clock"))?;
    Ok(Timestamp::from_nanoseconds(nanos))
}

fn amount_of(r: &Remittance) -> Result<u128, Error> {
    r.amount
        .parse()
        .map_err(|_| sdk::internal(format!("remittance {}: amount {}", r.id, r.amount)))
}

/// Sends an ICS-20 packet as the app (not a user's transaction); returns its sequence.
fn send_packet(shared: Shared, msg: MsgTransfer) -> Result<u64, Error> {
    let mut host = Host::new(shared);
    let path = SeqSendPath::new(&msg.port_id_on_a, &msg.chan_id_on_a);
    let sequence = host
        .get_next_sequence_send(&path)
        .map_err(|e| errors::transfer_failed(e.to_string()))?;
    let mut token = TransferCtx::new(shared);
    send_transfer(&mut host, &mut token, msg)
        .map_err(|e| errors::transfer_failed(e.to_string()))?;
    Ok(sequence.value())
}

/// Records the outcome of a packet this chain sent: a remittance's packet delivers it
/// (`error` is `None`) or sends it back to the queue (ICS-20 has already refunded the remote
/// account). Packets that carry no remittance are left alone.
pub fn settle(ctx: &mut Ctx, packet: &Packet, error: Option<String>) -> Result<(), Error> {
    let key = keys::remittance_packet(packet.chan_id_on_a.as_str(), packet.seq_on_a.value());
    let Some(bytes) = ctx.get(STORE, &key)? else {
        return Ok(());
    };
    ctx.delete(STORE, key)?;
    let id = u64::from_be_bytes(
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| sdk::internal("corrupt remittance packet index"))?,
    );
    match error {
        None => {
            let mut r = load(ctx, id)?;
            r.status = RemittanceStatus::Delivered as i32;
            r.last_error.clear();
            save(ctx, &r)?;
            ctx.emit(event("remittance_delivered", &r));
            Ok(())
        }
        Some(e) => {
            // ICS-20 has refunded the remote account; the coins are held again until the retry.
            let r = load(ctx, id)?;
            hold(
                ctx,
                &Address::from_bech32(&r.account)?,
                &r.denom,
                amount_of(&r)?,
            )?;
            retry_later(ctx, id, &e)
        }
    }
}

/// The `remittances` account holds exactly the pending remittances (in flight ones have left
/// with their packet), and every in-flight one is indexed by its packet.
pub fn invariants(ctx: &mut Ctx) -> Result<Result<(), String>, Error> {
    use prost::Message;
    use std::collections::BTreeMap;
    let mut pending: BTreeMap<String, u128> = BTreeMap::new();
    for (_, value) in ctx.prefix(STORE, keys::REMITTANCE_PREFIX)? {
        let r = Remittance::decode(value.as_slice()).map_err(|e| sdk::internal(e.to_string()))?;
        if r.status == RemittanceStatus::Pending as i32 {
            let sum = pending.entry(r.denom.clone()).or_default();
            *sum = sum
                .checked_add(amount_of(&r)?)
                .ok_or_else(|| sdk::internal("pending remittances overflow"))?;
        } else if r.status == RemittanceStatus::InFlight as i32
            && ctx
                .get(STORE, &keys::remittance_packet(&r.channel, r.sequence))?
                .is_none()
        {
            return Ok(Err(format!(
                "remittance {} is in flight on {} #{} but no packet index names it",
                r.id, r.channel, r.sequence
            )));
        }
    }
    let held =
        surety_bank::Bank::default().balances(ctx, &Address::module(accounts::REMITTANCES))?;
    for coin in held.iter() {
        if pending.get(&coin.denom).copied().unwrap_or(0) != coin.amount {
            return Ok(Err(format!(
                "the remittances account holds {}{} but pending remittances add up to {}",
                coin.amount,
                coin.denom,
                pending.get(&coin.denom).copied().unwrap_or(0)
            )));
        }
    }
    if let Some((denom, amount)) = pending
        .iter()
        .find(|(denom, amount)| **amount > 0 && held.amount_of(denom) == 0)
    {
        return Ok(Err(format!(
            "pending remittances of {amount}{denom} are not held"
        )));
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cover::remote_account;
    use surety_framework::testing::{block, EmptyState};
    use surety_framework::Overlay;

    #[test]
    fn a_remittance_that_cannot_be_sent_is_retried_later_not_lost() {
        let mut state = Overlay::new(&EmptyState);
        let mut ctx = block(&mut state, 5, 1_000);
        let account = remote_account("channel-0", "cosmos1x");
        // Not a remote account yet: nothing to send home to.
        assert!(enqueue(&mut ctx, &account, "uusdc", 5, Kind::Payout).is_err());
        ctx.put_msg(
            STORE,
            keys::remote_route(&account.0),
            &surety_proto::surety::ibc::v1::RemoteAccount {
                address: account.to_bech32(),
                channel: "channel-0".into(),
                sender: "cosmos1x".into(),
                beneficiary: "cosmos1y".into(),
            },
        )
        .unwrap();
        let bank = surety_bank::Bank::default();
        // A payout arrives in the remote account.
        bank.mint(&mut ctx, accounts::TRANSFER, &Coins::of(5, "uusdc"))
            .unwrap();
        bank.send_from_module(
            &mut ctx,
            accounts::TRANSFER,
            &account,
            &Coins::of(5, "uusdc"),
        )
        .unwrap();
        let id = enqueue(&mut ctx, &account, "uusdc", 5, Kind::Payout).unwrap();
        let queued = load(&mut ctx, id).unwrap();
        assert_eq!(queued.receiver, "cosmos1y", "payouts go to the beneficiary");
        // Held out of the remote account's reach: a memo action cannot spend it.
        assert_eq!(bank.balance(&mut ctx, &account, "uusdc").unwrap(), 0);
        assert_eq!(invariants(&mut ctx).unwrap(), Ok(()));
        // No channel exists: the send fails on its own branch and is queued again.
        send_due(&mut ctx).unwrap();
        assert_eq!(bank.balance(&mut ctx, &account, "uusdc").unwrap(), 0);
        assert_eq!(
            bank.balance(&mut ctx, &Address::module(accounts::REMITTANCES), "uusdc")
                .unwrap(),
            5,
            "still held after the failed attempt"
        );
        assert_eq!(invariants(&mut ctx).unwrap(), Ok(()));
        let r = load(&mut ctx, id).unwrap();
        assert_eq!(r.status, RemittanceStatus::Pending as i32);
        assert_eq!(r.next_attempt, 1_000 + 60, "the default retry delay");
        assert!(!r.last_error.is_empty());
        assert!(QUEUE.take_due(&mut ctx, 1_059, 10).unwrap().is_empty());
        assert_eq!(QUEUE.take_due(&mut ctx, 1_060, 10).unwrap().len(), 1);
    }

    #[test]
    fn acknowledgements_of_other_packets_are_left_alone() {
        let mut state = Overlay::new(&EmptyState);
        let mut ctx = block(&mut state, 5, 1_000);
        let packet = Packet {
            seq_on_a: 9u64.into(),
            port_id_on_a: PortId::transfer(),
            chan_id_on_a: ChannelId::new(0),
            port_id_on_b: PortId::transfer(),
            chan_id_on_b: ChannelId::new(1),
            data: Vec::new(),
            timeout_height_on_b: TimeoutHeight::Never,
            timeout_timestamp_on_b: TimeoutTimestamp::Never,
        };
        settle(&mut ctx, &packet, None).unwrap();
        settle(&mut ctx, &packet, Some("x".into())).unwrap();
        drop(ctx);
        assert!(state.into_changes().is_empty());
    }
}
