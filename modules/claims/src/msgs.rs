//! Stateless checks of the claims messages (`ValidateBasic`): every field in range, and the
//! signers each names.

use surety_framework::validate::{self, MAX_NAME, MAX_TEXT};
use surety_framework::{require_authority, signer, Address, Error};
use surety_proto::surety::claims::v1::*;

/// Longest incident reference: an oracle incident id or a short free-text name.
pub const MAX_INCIDENT: usize = 2 * MAX_NAME;

/// The loss may be zero: a parametric claim's loss is what its trigger says; an assessed claim
/// must state one, which the keeper checks against the policy's claim mode.
pub fn file_claim(m: &MsgFileClaim) -> Result<Vec<Address>, Error> {
    validate::id(m.policy_id, "policy_id")?;
    validate::amount_or_zero(&m.loss, "loss")?;
    validate::text(&m.incident, "incident", MAX_INCIDENT)?;
    validate::text(&m.evidence, "evidence", MAX_TEXT)?;
    signer(&m.claimant, "claimant")
}

pub fn stake_assessor(m: &MsgStakeAssessor) -> Result<Vec<Address>, Error> {
    validate::amount(&m.amount, "amount")?;
    signer(&m.assessor, "assessor")
}

pub fn unstake_assessor(m: &MsgUnstakeAssessor) -> Result<Vec<Address>, Error> {
    validate::amount(&m.amount, "amount")?;
    signer(&m.assessor, "assessor")
}

/// `approve` is a bool: both values are valid options.
pub fn vote_claim(m: &MsgVoteClaim) -> Result<Vec<Address>, Error> {
    validate::id(m.claim_id, "claim_id")?;
    signer(&m.assessor, "assessor")
}

pub fn appeal_claim(m: &MsgAppealClaim) -> Result<Vec<Address>, Error> {
    validate::id(m.claim_id, "claim_id")?;
    signer(&m.claimant, "claimant")
}

pub fn resolve_appeal(m: &MsgResolveAppeal) -> Result<Vec<Address>, Error> {
    validate::id(m.claim_id, "claim_id")?;
    Ok(vec![require_authority(&m.authority)?])
}

/// A recovery names a paid incident and a positive amount of one denom.
pub fn record_recovery(m: &MsgRecordRecovery) -> Result<Vec<Address>, Error> {
    validate::name(&m.incident, "incident", MAX_INCIDENT)?;
    let amount = m
        .amount
        .as_ref()
        .ok_or_else(|| surety_framework::sdk::invalid_coins("amount is required"))?;
    surety_framework::Coin::from_proto(amount)?;
    validate::amount(&amount.amount, "amount")?;
    signer(&m.sender, "sender")
}

pub fn update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(
        &m.authority,
        m.params.as_ref(),
        crate::state::validate_params,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::validate::MAX_AMOUNT;
    use surety_framework::{accounts, gov_authority};
    use surety_proto::cosmos::base::v1beta1::Coin;

    fn user() -> String {
        Address([7; 20]).to_bech32()
    }

    fn file(f: impl FnOnce(&mut MsgFileClaim)) -> Result<Vec<Address>, Error> {
        let mut m = MsgFileClaim {
            claimant: user(),
            policy_id: 1,
            incident: "3".into(),
            loss: "1000".into(),
            evidence: "https://example.com".into(),
        };
        f(&mut m);
        file_claim(&m)
    }

    #[test]
    fn file_claim_extremes() {
        assert_eq!(file(|_| {}).unwrap(), vec![Address([7; 20])]);
        assert!(file(|m| m.policy_id = 0).is_err());
        assert!(
            file(|m| m.loss = "0".into()).is_ok(),
            "parametric claims state no loss"
        );
        assert!(file(|m| m.loss = "1".into()).is_ok());
        assert!(file(|m| m.loss = MAX_AMOUNT.to_string()).is_ok());
        assert!(file(|m| m.loss = (MAX_AMOUNT + 1).to_string()).is_err());
        assert!(file(|m| m.loss = u128::MAX.to_string()).is_err());
        assert!(file(|m| m.loss = "-1".into()).is_err());
        assert!(file(|m| m.loss = "1.5".into()).is_err());
        assert!(file(|m| m.incident = "x".repeat(MAX_INCIDENT + 1)).is_err());
        assert!(file(|m| m.evidence = "x".repeat(MAX_TEXT)).is_ok());
        assert!(file(|m| m.evidence = "x".repeat(MAX_TEXT + 1)).is_err());
        assert!(file(|m| m.claimant = String::new()).is_err());
        assert!(file(|m| m.claimant = "cosmos1xyz".into()).is_err());
    }

    #[test]
    fn assessor_amounts_are_bounded() {
        for check in [
            |a: &str| {
                stake_assessor(&MsgStakeAssessor {
                    assessor: user(),
                    amount: a.into(),
                })
            },
            |a: &str| {
                unstake_assessor(&MsgUnstakeAssessor {
                    assessor: user(),
                    amount: a.into(),
                })
            },
        ] {
            assert!(check("1").is_ok());
            assert!(check(&MAX_AMOUNT.to_string()).is_ok());
            for bad in [
                "",
                "0",
                "-5",
                "1e6",
                &(MAX_AMOUNT + 1).to_string(),
                &u128::MAX.to_string(),
            ] {
                assert!(check(bad).is_err(), "{bad:?} accepted");
            }
        }
        assert!(stake_assessor(&MsgStakeAssessor {
            assessor: "nope".into(),
            amount: "1".into()
        })
        .is_err());
    }

    #[test]
    fn votes_and_appeals_name_a_claim() {
        let vote = |claim_id| {
            vote_claim(&MsgVoteClaim {
                assessor: user(),
                claim_id,
                approve: true,
            })
        };
        assert!(vote(0).is_err());
        assert!(vote(1).is_ok());
        assert!(vote(u64::MAX).is_ok());
        let appeal = |claim_id| {
            appeal_claim(&MsgAppealClaim {
                claimant: user(),
                claim_id,
            })
        };
        assert!(appeal(0).is_err());
        assert!(appeal(1).is_ok());
    }

    #[test]
    fn governance_messages_need_the_authority() {
        let gov = gov_authority().to_bech32();
        let resolve = |authority: &str, claim_id| {
            resolve_appeal(&MsgResolveAppeal {
                authority: authority.into(),
                claim_id,
                approve: true,
            })
        };
        assert_eq!(resolve(&gov, 1).unwrap(), vec![gov_authority()]);
        assert!(resolve(&gov, 0).is_err());
        assert!(resolve(&user(), 1).is_err());
        let other_module = Address::module(accounts::CLAIMS).to_bech32();
        assert!(resolve(&other_module, 1).is_err());
    }

    fn params(f: impl FnOnce(&mut Params)) -> Result<Vec<Address>, Error> {
        let mut p = crate::state::default_params();
        f(&mut p);
        update_params(&MsgUpdateParams {
            authority: gov_authority().to_bech32(),
            params: Some(p),
        })
    }

    #[test]
    fn params_are_checked_in_range() {
        assert!(params(|_| {}).is_ok());
        assert!(update_params(&MsgUpdateParams {
            authority: gov_authority().to_bech32(),
            params: None,
        })
        .is_err());
        assert!(update_params(&MsgUpdateParams {
            authority: user(),
            params: Some(crate::state::default_params()),
        })
        .is_err());
        assert!(params(|p| p.quorum_bps = 10_000).is_ok());
        assert!(params(|p| p.quorum_bps = 10_001).is_err());
        assert!(params(|p| p.threshold_bps = u32::MAX).is_err());
        assert!(params(|p| p.voting_period_secs = 0).is_err());
        assert!(params(|p| p.voting_period_secs = -1).is_err());
        assert!(params(|p| p.voting_period_secs = i64::MAX).is_err());
        assert!(params(|p| p.appeal_period_secs = 0).is_err());
        assert!(params(|p| p.appeal_window_secs = 0).is_ok(), "no appeals");
        assert!(params(|p| p.appeal_window_secs = -1).is_err());
        assert!(params(|p| p.appeal_window_secs = i64::MAX).is_err());
        assert!(params(|p| p.assessor_denom = String::new()).is_err());
        let coin = |amount: String| {
            Some(Coin {
                denom: "uusdc".into(),
                amount,
            })
        };
        assert!(params(|p| p.claim_deposit = coin(MAX_AMOUNT.to_string())).is_ok());
        assert!(params(|p| p.claim_deposit = coin((MAX_AMOUNT + 1).to_string())).is_err());
        assert!(params(|p| p.claim_fee = coin(u128::MAX.to_string())).is_err());
        assert!(params(|p| p.appeal_bond = coin("-1".into())).is_err());
        assert!(params(|p| p.appeal_bond = Some(Coin {
            denom: "x".into(),
            amount: "1".into()
        }))
        .is_err());
    }
}
