//! `MsgSend`, `MsgMultiSend` and governance's `MsgUpdateParams`, with Cosmos SDK's type URLs:
//! their stateless checks and their execution.

use crate::Bank;
use surety_framework::coins::validate_denom;
use surety_framework::validate::{self, MAX_LIST};
use surety_framework::{sdk, signer, Address, Coin, Coins, Ctx, Error, Event};
use surety_proto::cosmos::bank::v1beta1::{
    Input, MsgMultiSend, MsgMultiSendResponse, MsgSend, MsgSendResponse, MsgUpdateParams,
    MsgUpdateParamsResponse, Output, Params,
};
use surety_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

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

/// A list of coins a message carries: at least one, at most [`MAX_LIST`], valid denoms, no
/// denom twice, each amount in (0, `MAX_AMOUNT`].
pub fn check_coins(coins: &[ProtoCoin], field: &str) -> Result<Coins, Error> {
    if coins.is_empty() {
        return Err(sdk::invalid_coins(format!("{field}: no coins")));
    }
    if coins.len() > MAX_LIST {
        return Err(sdk::invalid_coins(format!(
            "{field}: {} coins, the maximum is {MAX_LIST}",
            coins.len()
        )));
    }
    let parsed = coins
        .iter()
        .map(|c| {
            validate_denom(&c.denom)?;
            Ok(Coin::new(validate::amount(&c.amount, field)?, &c.denom))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Coins::from_vec(parsed)
}

/// A recipient of a user's transfer: an account address that no module owns.
fn recipient(address: &str, field: &str) -> Result<Address, Error> {
    let to = validate::address(address, field)?;
    Bank::check_receiver(&to)?;
    Ok(to)
}

pub fn check_send(m: &MsgSend) -> Result<Vec<Address>, Error> {
    recipient(&m.to_address, "to_address")?;
    check_coins(&m.amount, "amount")?;
    signer(&m.from_address, "from_address")
}

/// Cosmos allows exactly one input, whose coins equal the sum of the outputs.
pub fn check_multi_send(m: &MsgMultiSend) -> Result<Vec<Address>, Error> {
    let [Input { address, coins }] = m.inputs.as_slice() else {
        return Err(sdk::invalid_request(if m.inputs.is_empty() {
            "no inputs to send transaction"
        } else {
            "multiple senders not allowed"
        }));
    };
    if m.outputs.is_empty() {
        return Err(sdk::invalid_request("no outputs to send transaction"));
    }
    if m.outputs.len() > MAX_LIST {
        return Err(sdk::invalid_request(format!(
            "outputs: {} entries, the maximum is {MAX_LIST}",
            m.outputs.len()
        )));
    }
    let input = check_coins(coins, "inputs.coins")?;
    let mut total = Coins::new();
    for Output { address, coins } in &m.outputs {
        recipient(address, "outputs.address")?;
        total = total.checked_add(&check_coins(coins, "outputs.coins")?)?;
    }
    if total != input {
        return Err(sdk::invalid_coins(format!(
            "sum inputs {input} != sum outputs {total}"
        )));
    }
    signer(address, "inputs.address")
}

#[allow(deprecated)]
pub fn check_update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(&m.authority, m.params.as_ref(), |p| {
        for s in &p.send_enabled {
            validate_denom(&s.denom)?;
        }
        validate::unique_list(&p.send_enabled, "params.send_enabled", MAX_LIST, |s| {
            s.denom.clone()
        })
    })
}

pub fn send(bank: &Bank, ctx: &mut Ctx, m: MsgSend) -> Result<MsgSendResponse, Error> {
    let from = validate::address(&m.from_address, "from_address")?;
    let to = recipient(&m.to_address, "to_address")?;
    let amount = check_coins(&m.amount, "amount")?;
    check_send_enabled(ctx, &amount)?;
    bank.send(ctx, &from, &to, &amount)?;
    ctx.emit(Event::new("message").attr("sender", from));
    Ok(MsgSendResponse {})
}

pub fn multi_send(
    bank: &Bank,
    ctx: &mut Ctx,
    m: MsgMultiSend,
) -> Result<MsgMultiSendResponse, Error> {
    let from = check_multi_send(&m)?
        .into_iter()
        .next()
        .ok_or_else(|| sdk::internal("multi-send without a sender"))?;
    for Output { address, coins } in &m.outputs {
        let to = recipient(address, "outputs.address")?;
        let amount = check_coins(coins, "outputs.coins")?;
        check_send_enabled(ctx, &amount)?;
        bank.send(ctx, &from, &to, &amount)?;
    }
    ctx.emit(Event::new("message").attr("sender", from));
    Ok(MsgMultiSendResponse {})
}

pub fn update_params(ctx: &mut Ctx, m: MsgUpdateParams) -> Result<MsgUpdateParamsResponse, Error> {
    let p = surety_framework::msgs::present(m.params)?;
    ctx.put_msg(crate::STORE, PARAMS.to_vec(), &p)?;
    Ok(MsgUpdateParamsResponse {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::validate::MAX_AMOUNT;
    use surety_proto::cosmos::bank::v1beta1::SendEnabled;

    fn addr(n: u8) -> String {
        Address([n; 20]).to_bech32()
    }

    fn coin(amount: impl ToString, denom: &str) -> ProtoCoin {
        ProtoCoin {
            denom: denom.into(),
            amount: amount.to_string(),
        }
    }

    fn send_of(coins: Vec<ProtoCoin>) -> MsgSend {
        MsgSend {
            from_address: addr(1),
            to_address: addr(2),
            amount: coins,
        }
    }

    #[test]
    fn send_amount_extremes() {
        assert_eq!(
            check_send(&send_of(vec![coin(1, "usure")])).unwrap(),
            vec![Address([1; 20])]
        );
        assert!(check_send(&send_of(vec![coin(MAX_AMOUNT, "usure")])).is_ok());
        for bad in [
            vec![],
            vec![coin(0, "usure")],
            vec![coin(MAX_AMOUNT + 1, "usure")],
            vec![coin(u128::MAX, "usure")],
            vec![coin("340282366920938463463374607431768211456", "usure")],
            vec![coin("-1", "usure")],
            vec![coin("", "usure")],
            vec![coin(1, "")],
            vec![coin(1, "u")],
            vec![coin(1, "1bad")],
            vec![coin(1, &"u".repeat(129))],
            vec![coin(1, "usure"), coin(2, "usure")],
            (0..=MAX_LIST)
                .map(|i| coin(1, &format!("denom{i}")))
                .collect(),
        ] {
            assert!(check_send(&send_of(bad.clone())).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn send_addresses() {
        let mut m = send_of(vec![coin(1, "usure")]);
        m.to_address = Address::module(surety_framework::accounts::BONDED_POOL).to_bech32();
        assert_eq!(check_send(&m).unwrap_err().code, 4);
        m.to_address = Address::module(surety_framework::accounts::GOV).to_bech32();
        assert!(check_send(&m).is_err());
        m.to_address = String::new();
        assert!(check_send(&m).is_err());
        let mut m = send_of(vec![coin(1, "usure")]);
        m.from_address = "surety1nope".into();
        assert!(check_send(&m).is_err());
    }

    fn multi(input: Vec<ProtoCoin>, outputs: Vec<(String, Vec<ProtoCoin>)>) -> MsgMultiSend {
        MsgMultiSend {
            inputs: vec![Input {
                address: addr(1),
                coins: input,
            }],
            outputs: outputs
                .into_iter()
                .map(|(address, coins)| Output { address, coins })
                .collect(),
        }
    }

    #[test]
    fn multi_send_extremes() {
        let ok = multi(
            vec![coin(3, "usure")],
            vec![
                (addr(2), vec![coin(1, "usure")]),
                (addr(3), vec![coin(2, "usure")]),
            ],
        );
        assert_eq!(check_multi_send(&ok).unwrap(), vec![Address([1; 20])]);
        // Sums must match exactly.
        let short = multi(
            vec![coin(2, "usure")],
            vec![(addr(2), vec![coin(3, "usure")])],
        );
        assert!(check_multi_send(&short).is_err());
        // Outputs whose sum would wrap 128 bits are refused before any sum is taken.
        let wrap = multi(
            vec![coin(1, "usure")],
            vec![
                (addr(2), vec![coin(u128::MAX, "usure")]),
                (addr(3), vec![coin(2, "usure")]),
            ],
        );
        assert!(check_multi_send(&wrap).is_err());
        let module = multi(
            vec![coin(1, "usure")],
            vec![(
                Address::module(surety_framework::accounts::DISTRIBUTION).to_bech32(),
                vec![coin(1, "usure")],
            )],
        );
        assert_eq!(check_multi_send(&module).unwrap_err().code, 4);
        let zero = multi(
            vec![coin(1, "usure")],
            vec![(addr(2), vec![coin(0, "usure")])],
        );
        assert!(check_multi_send(&zero).is_err());
        let none = multi(vec![coin(1, "usure")], vec![]);
        assert!(check_multi_send(&none).is_err());
        let many = multi(
            vec![coin(MAX_LIST + 1, "usure")],
            (0..=MAX_LIST)
                .map(|_| (addr(2), vec![coin(1, "usure")]))
                .collect(),
        );
        assert!(check_multi_send(&many).is_err());
        let mut two_inputs = ok.clone();
        two_inputs.inputs.push(two_inputs.inputs[0].clone());
        assert!(check_multi_send(&two_inputs).is_err());
        let mut no_inputs = ok;
        no_inputs.inputs.clear();
        assert!(check_multi_send(&no_inputs).is_err());
    }

    #[test]
    #[allow(deprecated)]
    fn update_params_checks() {
        let msg = |send_enabled: Vec<SendEnabled>| MsgUpdateParams {
            authority: surety_framework::gov_authority().to_bech32(),
            params: Some(Params {
                send_enabled,
                default_send_enabled: true,
            }),
        };
        let entry = |denom: &str| SendEnabled {
            denom: denom.into(),
            enabled: false,
        };
        assert!(check_update_params(&msg(vec![entry("usure")])).is_ok());
        assert!(check_update_params(&msg(vec![entry("usure"), entry("usure")])).is_err());
        assert!(check_update_params(&msg(vec![entry("")])).is_err());
        let mut m = msg(vec![]);
        m.authority = addr(1);
        assert_eq!(check_update_params(&m).unwrap_err().code, 4);
        m.authority = surety_framework::gov_authority().to_bech32();
        m.params = None;
        assert!(check_update_params(&m).is_err());
    }
}
