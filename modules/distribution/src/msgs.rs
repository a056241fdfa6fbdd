//! Stateless checks of distribution's messages.

use surety_framework::{require_authority, signer, validate, Address, Error};
use surety_proto::cosmos::distribution::v1beta1::{
    MsgCommunityPoolSpend, MsgUpdateParams, MsgWithdrawDelegatorReward,
    MsgWithdrawValidatorCommission, Params,
};

pub fn check_withdraw_reward(m: &MsgWithdrawDelegatorReward) -> Result<Vec<Address>, Error> {
    validate::validator(&m.validator_address, "validator_address")?;
    signer(&m.delegator_address, "delegator_address")
}

pub fn check_withdraw_commission(
    m: &MsgWithdrawValidatorCommission,
) -> Result<Vec<Address>, Error> {
    Ok(vec![validate::validator(
        &m.validator_address,
        "validator_address",
    )?])
}

/// The recipient is an account no module owns (Cosmos's blocked addresses); the coins are
/// valid, bounded and positive.
pub fn check_pool_spend(m: &MsgCommunityPoolSpend) -> Result<Vec<Address>, Error> {
    let signer = require_authority(&m.authority)?;
    surety_bank::Bank::check_receiver(&validate::address(&m.recipient, "recipient")?)?;
    surety_bank::check_coins(&m.amount, "amount")?;
    Ok(vec![signer])
}

/// Every distribution param in its range; also checks genesis.
#[allow(deprecated)] // the proposer rewards, which stay zero here as in Cosmos SDK
pub fn check_params(p: &Params) -> Result<(), Error> {
    validate::fraction(&p.community_tax, "community_tax")?;
    for (value, field) in [
        (&p.base_proposer_reward, "base_proposer_reward"),
        (&p.bonus_proposer_reward, "bonus_proposer_reward"),
    ] {
        if !value.is_empty() {
            validate::fraction(value, field)?;
        }
    }
    Ok(())
}

pub fn check_update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(&m.authority, m.params.as_ref(), check_params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::validate::MAX_AMOUNT;
    use surety_framework::VALIDATOR_PREFIX;
    use surety_proto::cosmos::base::v1beta1::Coin;

    fn gov() -> String {
        surety_framework::gov_authority().to_bech32()
    }

    #[test]
    fn withdraw_addresses() {
        let m = MsgWithdrawDelegatorReward {
            delegator_address: Address([1; 20]).to_bech32(),
            validator_address: Address([2; 20]).to_bech32_with(VALIDATOR_PREFIX),
        };
        assert_eq!(check_withdraw_reward(&m).unwrap(), vec![Address([1; 20])]);
        let swapped = MsgWithdrawDelegatorReward {
            delegator_address: m.validator_address.clone(),
            validator_address: m.delegator_address.clone(),
        };
        assert!(check_withdraw_reward(&swapped).is_err());
        assert!(check_withdraw_commission(&MsgWithdrawValidatorCommission {
            validator_address: String::new()
        })
        .is_err());
    }

    #[test]
    fn pool_spend_extremes() {
        let spend = |recipient: Address, amount: &str| MsgCommunityPoolSpend {
            authority: gov(),
            recipient: recipient.to_bech32(),
            amount: vec![Coin {
                denom: "usure".into(),
                amount: amount.into(),
            }],
        };
        assert!(check_pool_spend(&spend(Address([1; 20]), "1")).is_ok());
        assert!(check_pool_spend(&spend(Address([1; 20]), &MAX_AMOUNT.to_string())).is_ok());
        for amount in [
            "0",
            "",
            "-1",
            &(MAX_AMOUNT + 1).to_string(),
            &u128::MAX.to_string(),
        ] {
            assert!(
                check_pool_spend(&spend(Address([1; 20]), amount)).is_err(),
                "{amount}"
            );
        }
        let module = Address::module(surety_framework::accounts::POOL);
        assert_eq!(check_pool_spend(&spend(module, "1")).unwrap_err().code, 4);
        let mut m = spend(Address([1; 20]), "1");
        m.amount.push(m.amount[0].clone());
        assert!(check_pool_spend(&m).is_err());
        m.amount.clear();
        assert!(check_pool_spend(&m).is_err());
        let mut m = spend(Address([1; 20]), "1");
        m.authority = Address([1; 20]).to_bech32();
        assert_eq!(check_pool_spend(&m).unwrap_err().code, 4);
    }

    #[test]
    #[allow(deprecated)]
    fn update_params_extremes() {
        let msg = |tax: &str| MsgUpdateParams {
            authority: gov(),
            params: Some(Params {
                community_tax: tax.into(),
                ..crate::default_params()
            }),
        };
        for ok in ["0", "0.02", "1", "1.000000000000000000"] {
            assert!(check_update_params(&msg(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "1.000000000000000001",
            "2",
            "",
            "-0.1",
            "abc",
            &u128::MAX.to_string(),
        ] {
            assert!(check_update_params(&msg(bad)).is_err(), "{bad}");
        }
        let mut m = msg("0");
        m.params.as_mut().unwrap().base_proposer_reward = "1.5".into();
        assert!(check_update_params(&m).is_err());
        m.params = None;
        assert!(check_update_params(&m).is_err());
    }
}
