//! `MsgSend` and `MsgMultiSend`, with Cosmos SDK's type URLs and validation rules.

use crate::Bank;
use surety_framework::{decode_msg, sdk, Address, Coins, Ctx, Error, Event};
use surety_proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, MsgSend, Output};
use surety_proto::{Any, TypeUrl};

pub const TYPES: &[&str] = &[MsgSend::TYPE_URL, MsgMultiSend::TYPE_URL];

struct Transfer {
    from: Address,
    to: Address,
    amount: Coins,
}

fn nonempty(coins: &[surety_proto::cosmos::base::v1beta1::Coin]) -> Result<Coins, Error> {
    let coins = Coins::from_proto(coins)?;
    if coins.is_empty() {
        return Err(sdk::invalid_coins("amount must be positive"));
    }
    Ok(coins)
}

fn parse_send(msg: &Any) -> Result<Transfer, Error> {
    let msg: MsgSend = decode_msg(msg)?;
    Ok(Transfer {
        from: Address::from_bech32(&msg.from_address)
            .map_err(|e| sdk::invalid_address(format!("invalid from address: {}", e.log)))?,
        to: Address::from_bech32(&msg.to_address)
            .map_err(|e| sdk::invalid_address(format!("invalid to address: {}", e.log)))?,
        amount: nonempty(&msg.amount)?,
    })
}

/// A MsgMultiSend's single sender and its (recipient, amount) outputs.
struct MultiTransfer {
    from: Address,
    outputs: Vec<(Address, Coins)>,
}

/// Cosmos allows exactly one input, whose coins equal the sum of the outputs.
fn parse_multi_send(msg: &Any) -> Result<MultiTransfer, Error> {
    let msg: MsgMultiSend = decode_msg(msg)?;
    let [Input { address, coins }] = msg.inputs.as_slice() else {
        return Err(sdk::invalid_request(if msg.inputs.is_empty() {
            "no inputs to send transaction"
        } else {
            "multiple senders not allowed"
        }));
    };
    if msg.outputs.is_empty() {
        return Err(sdk::invalid_request("no outputs to send transaction"));
    }
    let input = (Address::from_bech32(address)?, nonempty(coins)?);
    let mut total = Coins::new();
    let mut outputs = Vec::with_capacity(msg.outputs.len());
    for Output { address, coins } in &msg.outputs {
        let coins = nonempty(coins)?;
        total = total.checked_add(&coins)?;
        outputs.push((Address::from_bech32(address)?, coins));
    }
    if total != input.1 {
        return Err(sdk::invalid_coins(format!(
            "sum inputs {} != sum outputs {total}",
            input.1
        )));
    }
    Ok(MultiTransfer {
        from: input.0,
        outputs,
    })
}

pub fn signers(msg: &Any) -> Result<Vec<Address>, Error> {
    match msg.type_url.as_str() {
        MsgSend::TYPE_URL => Ok(vec![parse_send(msg)?.from]),
        MsgMultiSend::TYPE_URL => Ok(vec![parse_multi_send(msg)?.from]),
        other => Err(sdk::unknown_request(format!(
            "unrecognized bank message type: {other}"
        ))),
    }
}

/// Both responses are empty messages, so their encoding is empty.
pub fn deliver(bank: &Bank, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
    match msg.type_url.as_str() {
        MsgSend::TYPE_URL => {
            let t = parse_send(msg)?;
            bank.check_receiver(ctx, &t.to)?;
            bank.send(ctx, &t.from, &t.to, &t.amount)?;
            ctx.emit(Event::new("message").attr("sender", t.from));
            Ok(Vec::new())
        }
        MsgMultiSend::TYPE_URL => {
            let MultiTransfer { from, outputs } = parse_multi_send(msg)?;
            for (to, amount) in &outputs {
                bank.check_receiver(ctx, to)?;
                bank.send(ctx, &from, to, amount)?;
            }
            ctx.emit(Event::new("message").attr("sender", from));
            Ok(Vec::new())
        }
        other => Err(sdk::unknown_request(format!(
            "unrecognized bank message type: {other}"
        ))),
    }
}
