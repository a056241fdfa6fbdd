//! `MsgSend`, `MsgMultiSend` and governance's `MsgUpdateParams`, with Cosmos SDK's type URLs and
//! validation rules.

use crate::Bank;
use surety_framework::{decode_msg, sdk, Address, Coins, Ctx, Error, Event};
use surety_proto::cosmos::bank::v1beta1::{
    Input, MsgMultiSend, MsgSend, MsgUpdateParams, MsgUpdateParamsResponse, Output, Params,
};
use surety_proto::{Any, TypeUrl};

pub const TYPES: &[&str] = &[
    MsgSend::TYPE_URL,
    MsgMultiSend::TYPE_URL,
    MsgUpdateParams::TYPE_URL,
];

const PARAMS: &[u8] = &[0x03];

#[allow(deprecated)]
pub fn params(ctx: &mut Ctx) -> Result<Params, Error> {
    Ok(ctx.get_msg(crate::STORE, PARAMS)?.unwrap_or(Params {
        send_enabled: Vec::new(),
        default_send_enabled: true,
    }))
}

/// Cosmos SDK's `send_enabled`: a denom's own setting, else the default.
#[allow(deprecated)]
fn check_send_enabled(ctx: &mut Ctx, coins: &Coins) -> Result<(), Error> {
    let p = params(ctx)?;
    for c in coins {
        let enabled = p
            .send_enabled
            .iter()
            .find(|s| s.denom == c.denom)
            .map_or(p.default_send_enabled, |s| s.enabled);
        if !enabled {
            return Err(Error::new(
                "bank",
                5,
                "send transactions are disabled",
                format!("{} transfers are currently disabled", c.denom),
            ));
        }
    }
    Ok(())
}

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
        MsgUpdateParams::TYPE_URL => {
            let m: MsgUpdateParams = decode_msg(msg)?;
            Ok(vec![Address::from_bech32(&m.authority)?])
        }
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
            check_send_enabled(ctx, &t.amount)?;
            bank.check_receiver(ctx, &t.to)?;
            bank.send(ctx, &t.from, &t.to, &t.amount)?;
            ctx.emit(Event::new("message").attr("sender", t.from));
            Ok(Vec::new())
        }
        MsgMultiSend::TYPE_URL => {
            let MultiTransfer { from, outputs } = parse_multi_send(msg)?;
            for (to, amount) in &outputs {
                check_send_enabled(ctx, amount)?;
                bank.check_receiver(ctx, to)?;
                bank.send(ctx, &from, to, amount)?;
            }
            ctx.emit(Event::new("message").attr("sender", from));
            Ok(Vec::new())
        }
        MsgUpdateParams::TYPE_URL => {
            let m: MsgUpdateParams = decode_msg(msg)?;
            surety_framework::require_authority(&m.authority)?;
            let p = m
                .params
                .ok_or_else(|| sdk::invalid_request("missing params"))?;
            ctx.put_msg(crate::STORE, PARAMS.to_vec(), &p)?;
            Ok(prost::Message::encode_to_vec(&MsgUpdateParamsResponse {}))
        }
        other => Err(sdk::unknown_request(format!(
            "unrecognized bank message type: {other}"
        ))),
    }
}
