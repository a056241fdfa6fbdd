//! Stateless checks of gov's messages (Cosmos's `ValidateBasic`) and of its params.
//!
//! Vote weights matter most: each is a decimal in (0, 1] and they sum, with checked addition, to
//! exactly 1, so a vote can never carry more than its voter's stake.

use crate::{invalid_proposal, invalid_vote, metadata_too_long};
use surety_framework::validate::{self, MAX_LIST};
use surety_framework::{sdk, signer, Address, Coins, Dec, Error};
use surety_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use surety_proto::cosmos::gov::v1::{
    MsgDeposit, MsgSubmitProposal, MsgUpdateParams, MsgVote, MsgVoteWeighted, Params, VoteOption,
    WeightedVoteOption,
};
use tendermint_proto::google::protobuf::Duration;

/// Longest proposal title, in bytes.
pub const MAX_TITLE: usize = 140;
/// Longest proposal summary, in bytes.
pub const MAX_SUMMARY: usize = 10_000;
/// Longest metadata of a proposal or a vote, in bytes (Cosmos's default `MaxMetadataLen`).
pub const MAX_METADATA: usize = 255;
/// A weighted vote names each of the four options at most once.
pub const MAX_VOTE_OPTIONS: usize = 4;

/// Coins a message or param carries: valid denoms, each amount in (0, MAX_AMOUNT], no denom
/// twice, at most MAX_LIST denoms.
pub fn coins(coins: &[ProtoCoin], field: &str) -> Result<Coins, Error> {
    if coins.len() > MAX_LIST {
        return Err(sdk::invalid_coins(format!(
            "{field}: {} denoms, the maximum is {MAX_LIST}",
            coins.len()
        )));
    }
    for c in coins {
        validate::amount(&c.amount, field)?;
    }
    Coins::from_proto(coins)
}

fn nonempty_coins(c: &[ProtoCoin], field: &str) -> Result<Coins, Error> {
    let c = coins(c, field)?;
    if c.is_empty() {
        return Err(sdk::invalid_coins(format!("{field} must not be empty")));
    }
    Ok(c)
}

fn metadata(s: &str) -> Result<(), Error> {
    if s.len() > MAX_METADATA {
        return Err(metadata_too_long(format!(
            "{} bytes, the maximum is {MAX_METADATA}",
            s.len()
        )));
    }
    Ok(())
}

fn proposal_id(id: u64) -> Result<u64, Error> {
    validate::id(id, "proposal_id")
}

/// A proposal's messages are checked again, statefully, at submission: each through its own
/// module's check, and each must be signed by the gov authority alone.
pub fn check_submit(m: &MsgSubmitProposal) -> Result<Vec<Address>, Error> {
    let proposer = signer(&m.proposer, "proposer")?;
    if m.messages.is_empty() {
        return Err(invalid_proposal("a proposal needs at least one message"));
    }
    if m.messages.len() > MAX_LIST {
        return Err(invalid_proposal(format!(
            "{} messages, the maximum is {MAX_LIST}",
            m.messages.len()
        )));
    }
    if m.title.trim().is_empty() || m.title.len() > MAX_TITLE {
        return Err(invalid_proposal(format!(
            "title must be 1 to {MAX_TITLE} bytes"
        )));
    }
    if m.summary.len() > MAX_SUMMARY {
        return Err(invalid_proposal(format!(
            "summary of {} bytes, the maximum is {MAX_SUMMARY}",
            m.summary.len()
        )));
    }
    metadata(&m.metadata)?;
    coins(&m.initial_deposit, "initial_deposit")?;
    Ok(proposer)
}

pub fn check_deposit(m: &MsgDeposit) -> Result<Vec<Address>, Error> {
    let depositor = signer(&m.depositor, "depositor")?;
    proposal_id(m.proposal_id)?;
    nonempty_coins(&m.amount, "amount")?;
    Ok(depositor)
}

fn option(o: i32) -> Result<VoteOption, Error> {
    match VoteOption::try_from(o) {
        Ok(VoteOption::Unspecified) | Err(_) => {
            Err(invalid_vote(format!("{o} is not a vote option")))
        }
        Ok(v) => Ok(v),
    }
}

pub fn check_vote(m: &MsgVote) -> Result<Vec<Address>, Error> {
    let voter = signer(&m.voter, "voter")?;
    proposal_id(m.proposal_id)?;
    option(m.option)?;
    metadata(&m.metadata)?;
    Ok(voter)
}

/// Each option valid and named once, each weight in (0, 1], the weights summing to exactly 1.
/// The tally runs this again on stored votes, so corrupt state cannot weigh more than a stake.
pub fn vote_options(options: &[WeightedVoteOption]) -> Result<Vec<(VoteOption, Dec)>, Error> {
    if options.is_empty() || options.len() > MAX_VOTE_OPTIONS {
        return Err(invalid_vote(format!(
            "{} options, a vote names 1 to {MAX_VOTE_OPTIONS}",
            options.len()
        )));
    }
    let mut out: Vec<(VoteOption, Dec)> = Vec::with_capacity(options.len());
    let mut sum = Dec::ZERO;
    for o in options {
        let opt = option(o.option)?;
        if out.iter().any(|(seen, _)| *seen == opt) {
            return Err(invalid_vote(format!("{} named twice", opt.as_str_name())));
        }
        let weight = validate::positive_fraction(&o.weight, "vote weight")
            .map_err(|e| invalid_vote(e.log))?;
        sum = sum
            .0
            .checked_add(weight.0)
            .map(Dec)
            .ok_or_else(|| invalid_vote("weights overflow"))?;
        out.push((opt, weight));
    }
    if sum != Dec::ONE {
        return Err(invalid_vote(format!("weights sum to {sum}, not 1")));
    }
    Ok(out)
}

pub fn check_vote_weighted(m: &MsgVoteWeighted) -> Result<Vec<Address>, Error> {
    let voter = signer(&m.voter, "voter")?;
    proposal_id(m.proposal_id)?;
    vote_options(&m.options)?;
    metadata(&m.metadata)?;
    Ok(voter)
}

pub fn check_update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(&m.authority, m.params.as_ref(), check_params)
}

/// A period in whole seconds, positive and at most ten years.
pub fn period(d: &Option<Duration>, field: &str) -> Result<i64, Error> {
    let d = d
        .as_ref()
        .ok_or_else(|| sdk::invalid_request(format!("{field} must be set")))?;
    if d.nanos != 0 {
        return Err(sdk::invalid_request(format!("{field}: whole seconds only")));
    }
    validate::seconds(d.seconds, field)
}

/// Gov params: fractions in range, periods positive and bounded (the expedited one shorter),
/// the expedited threshold above the regular one, minimum deposits valid and non-empty.
pub fn check_params(p: &Params) -> Result<(), Error> {
    validate::positive_fraction(&p.quorum, "quorum")?;
    let threshold = validate::positive_fraction(&p.threshold, "threshold")?;
    validate::positive_fraction(&p.veto_threshold, "veto_threshold")?;
    let expedited = validate::positive_fraction(&p.expedited_threshold, "expedited_threshold")?;
    // Cosmos requires it strictly above: an expedited proposal passes on a larger majority.
    if expedited <= threshold {
        return Err(sdk::invalid_request(format!(
            "expedited_threshold {expedited} must exceed threshold {threshold}"
        )));
    }
    validate::fraction(&p.min_initial_deposit_ratio, "min_initial_deposit_ratio")?;
    validate::fraction(&p.min_deposit_ratio, "min_deposit_ratio")?;
    if !p.proposal_cancel_ratio.is_empty() {
        validate::fraction(&p.proposal_cancel_ratio, "proposal_cancel_ratio")?;
    }
    if !p.proposal_cancel_dest.is_empty() {
        validate::address(&p.proposal_cancel_dest, "proposal_cancel_dest")?;
    }
    period(&p.max_deposit_period, "max_deposit_period")?;
    let voting = period(&p.voting_period, "voting_period")?;
    let fast = period(&p.expedited_voting_period, "expedited_voting_period")?;
    if fast >= voting {
        return Err(sdk::invalid_request(format!(
            "expedited_voting_period {fast}s must be shorter than voting_period {voting}s"
        )));
    }
    nonempty_coins(&p.min_deposit, "min_deposit")?;
    nonempty_coins(&p.expedited_min_deposit, "expedited_min_deposit")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::gov_authority;
    use surety_framework::validate::MAX_AMOUNT;

    fn user() -> String {
        Address([7; 20]).to_bech32()
    }

    fn usure(amount: &str) -> Vec<ProtoCoin> {
        vec![ProtoCoin {
            denom: "usure".into(),
            amount: amount.into(),
        }]
    }

    fn weighted(options: &[(VoteOption, &str)]) -> MsgVoteWeighted {
        MsgVoteWeighted {
            proposal_id: 1,
            voter: user(),
            options: options
                .iter()
                .map(|(o, w)| WeightedVoteOption {
                    option: *o as i32,
                    weight: (*w).into(),
                })
                .collect(),
            metadata: String::new(),
        }
    }

    fn gov_error(e: Error, code: u32) {
        assert_eq!((e.codespace, e.code), ("gov", code), "{}", e.log);
    }

    #[test]
    fn weights_that_wrap_around_are_refused() {
        // 2¹²⁸ − 10¹⁸ + 2 in Dec units, then twice 10¹⁸ − 1: an unchecked u128 sum wraps to
        // exactly 1, and the tally would multiply the voter's power by ~3.4 × 10²⁰.
        let big = Dec(u128::MAX - Dec::SCALE + 3);
        let small = Dec(Dec::SCALE - 1);
        assert_eq!(
            big.0.wrapping_add(small.0).wrapping_add(small.0),
            Dec::ONE.0
        );
        let attack = weighted(&[
            (VoteOption::Yes, &big.to_string()),
            (VoteOption::No, &small.to_string()),
            (VoteOption::Abstain, &small.to_string()),
        ]);
        let e = check_vote_weighted(&attack).unwrap_err();
        gov_error(e.clone(), 8);
        assert!(e.log.contains("above 1"), "{}", e.log);
        // The same wrap split over three options: 2 × (2¹²⁷ + 0.25) + 0.5 wraps to exactly 1.
        let third = Dec(u128::MAX / 2 + 1 + Dec::SCALE / 4);
        let half = Dec::SCALE / 2;
        assert_eq!(third.0.wrapping_add(third.0).wrapping_add(half), Dec::ONE.0);
        let attack = weighted(&[
            (VoteOption::Yes, &third.to_string()),
            (VoteOption::No, &third.to_string()),
            (VoteOption::Abstain, "0.5"),
        ]);
        gov_error(check_vote_weighted(&attack).unwrap_err(), 8);
    }

    #[test]
    fn weights_summing_to_one_are_accepted() {
        let signers = check_vote_weighted(&weighted(&[
            (VoteOption::Yes, "0.25"),
            (VoteOption::No, "0.25"),
            (VoteOption::Abstain, "0.4"),
            (VoteOption::NoWithVeto, "0.1"),
        ]))
        .unwrap();
        assert_eq!(signers, vec![Address([7; 20])]);
        assert!(check_vote_weighted(&weighted(&[(VoteOption::Yes, "1")])).is_ok());
        assert!(check_vote_weighted(&weighted(&[
            (VoteOption::Yes, "0.000000000000000001"),
            (VoteOption::No, "0.999999999999999999"),
        ]))
        .is_ok());
    }

    #[test]
    fn bad_weights_are_refused() {
        for options in [
            vec![
                (VoteOption::Yes, "0.5"),
                (VoteOption::No, "0.500000000000000001"),
            ],
            vec![
                (VoteOption::Yes, "0.5"),
                (VoteOption::No, "0.499999999999999999"),
            ],
            vec![(VoteOption::Yes, "1"), (VoteOption::No, "0")],
            vec![(VoteOption::Yes, "0")],
            vec![(VoteOption::Yes, "1.000000000000000001")],
            vec![(VoteOption::Yes, "2")],
            vec![(VoteOption::Yes, "-1")],
            vec![(VoteOption::Yes, "")],
            vec![(VoteOption::Yes, "0.5"), (VoteOption::Yes, "0.5")],
            vec![(VoteOption::Unspecified, "1")],
            vec![],
            vec![(VoteOption::Yes, &u128::MAX.to_string())],
        ] {
            let e = check_vote_weighted(&weighted(&options)).unwrap_err();
            gov_error(e, 8);
        }
        let mut unknown = weighted(&[(VoteOption::Yes, "1")]);
        unknown.options[0].option = 9;
        gov_error(check_vote_weighted(&unknown).unwrap_err(), 8);
        let mut five = weighted(&[(VoteOption::Yes, "0.2")]);
        five.options = (0..5)
            .map(|_| WeightedVoteOption {
                option: VoteOption::Yes as i32,
                weight: "0.2".into(),
            })
            .collect();
        gov_error(check_vote_weighted(&five).unwrap_err(), 8);
        let mut zero_id = weighted(&[(VoteOption::Yes, "1")]);
        zero_id.proposal_id = 0;
        assert_eq!(check_vote_weighted(&zero_id).unwrap_err().code, 18);
    }

    #[test]
    fn votes_need_a_real_option_and_voter() {
        let vote = |option: i32, voter: String, id: u64, metadata: usize| MsgVote {
            proposal_id: id,
            voter,
            option,
            metadata: "m".repeat(metadata),
        };
        assert!(check_vote(&vote(1, user(), 1, MAX_METADATA)).is_ok());
        gov_error(check_vote(&vote(0, user(), 1, 0)).unwrap_err(), 8);
        gov_error(check_vote(&vote(5, user(), 1, 0)).unwrap_err(), 8);
        gov_error(
            check_vote(&vote(1, user(), 1, MAX_METADATA + 1)).unwrap_err(),
            15,
        );
        assert_eq!(check_vote(&vote(1, user(), 0, 0)).unwrap_err().code, 18);
        assert_eq!(check_vote(&vote(1, "x".into(), 1, 0)).unwrap_err().code, 7);
    }

    #[test]
    fn deposits_carry_bounded_positive_coins() {
        let deposit = |amount: Vec<ProtoCoin>, id: u64| MsgDeposit {
            proposal_id: id,
            depositor: user(),
            amount,
        };
        assert!(check_deposit(&deposit(usure("1"), 1)).is_ok());
        assert!(check_deposit(&deposit(usure(&MAX_AMOUNT.to_string()), 1)).is_ok());
        for bad in [
            usure("0"),
            usure(""),
            usure("-1"),
            usure("+1"),
            usure(&(MAX_AMOUNT + 1).to_string()),
            usure(&u128::MAX.to_string()),
            vec![],
            [usure("1"), usure("2")].concat(),
        ] {
            let e = check_deposit(&deposit(bad, 1)).unwrap_err();
            // invalid coins, or for a signed or non-numeric amount invalid request
            assert!(e.codespace == "sdk" && [10, 18].contains(&e.code), "{e}");
        }
        assert_eq!(check_deposit(&deposit(usure("1"), 0)).unwrap_err().code, 18);
        let many: Vec<ProtoCoin> = (0..=MAX_LIST)
            .map(|i| ProtoCoin {
                denom: format!("denom{i:03}"),
                amount: "1".into(),
            })
            .collect();
        assert_eq!(check_deposit(&deposit(many, 1)).unwrap_err().code, 10);
    }

    fn proposal() -> MsgSubmitProposal {
        MsgSubmitProposal {
            messages: vec![Default::default()],
            initial_deposit: usure("10"),
            proposer: user(),
            metadata: String::new(),
            title: "t".into(),
            summary: String::new(),
            expedited: false,
        }
    }

    #[test]
    fn proposals_are_bounded() {
        assert!(check_submit(&proposal()).is_ok());
        let no_deposit = MsgSubmitProposal {
            initial_deposit: vec![],
            ..proposal()
        };
        assert!(check_submit(&no_deposit).is_ok());
        for (bad, code) in [
            (
                MsgSubmitProposal {
                    messages: vec![],
                    ..proposal()
                },
                5,
            ),
            (
                MsgSubmitProposal {
                    messages: vec![Default::default(); MAX_LIST + 1],
                    ..proposal()
                },
                5,
            ),
            (
                MsgSubmitProposal {
                    title: " ".into(),
                    ..proposal()
                },
                5,
            ),
            (
                MsgSubmitProposal {
                    title: "t".repeat(MAX_TITLE + 1),
                    ..proposal()
                },
                5,
            ),
            (
                MsgSubmitProposal {
                    summary: "s".repeat(MAX_SUMMARY + 1),
                    ..proposal()
                },
                5,
            ),
            (
                MsgSubmitProposal {
                    metadata: "m".repeat(MAX_METADATA + 1),
                    ..proposal()
                },
                15,
            ),
        ] {
            gov_error(check_submit(&bad).unwrap_err(), code);
        }
        for deposit in [usure("0"), usure(&u128::MAX.to_string())] {
            let bad = MsgSubmitProposal {
                initial_deposit: deposit,
                ..proposal()
            };
            assert_eq!(check_submit(&bad).unwrap_err().code, 10);
        }
        let bad = MsgSubmitProposal {
            proposer: String::new(),
            ..proposal()
        };
        assert_eq!(check_submit(&bad).unwrap_err().code, 7);
    }

    fn update(params: Params) -> MsgUpdateParams {
        MsgUpdateParams {
            authority: gov_authority().to_bech32(),
            params: Some(params),
        }
    }

    #[test]
    fn params_are_in_range() {
        let ok = crate::default_params();
        assert_eq!(
            check_update_params(&update(ok.clone())).unwrap(),
            vec![gov_authority()]
        );
        let secs = |s: i64| {
            Some(Duration {
                seconds: s,
                nanos: 0,
            })
        };
        let bad: Vec<Params> = vec![
            Params {
                quorum: "0".into(),
                ..ok.clone()
            },
            Params {
                quorum: "1.000000000000000001".into(),
                ..ok.clone()
            },
            Params {
                threshold: "0".into(),
                ..ok.clone()
            },
            Params {
                veto_threshold: "1.5".into(),
                ..ok.clone()
            },
            Params {
                veto_threshold: "".into(),
                ..ok.clone()
            },
            Params {
                expedited_threshold: "0.5".into(),
                ..ok.clone()
            },
            Params {
                expedited_threshold: "0.4".into(),
                ..ok.clone()
            },
            Params {
                min_initial_deposit_ratio: "2".into(),
                ..ok.clone()
            },
            Params {
                voting_period: secs(0),
                ..ok.clone()
            },
            Params {
                voting_period: None,
                ..ok.clone()
            },
            Params {
                voting_period: secs(i64::MAX),
                ..ok.clone()
            },
            Params {
                max_deposit_period: secs(-1),
                ..ok.clone()
            },
            Params {
                expedited_voting_period: secs(2 * 86_400),
                ..ok.clone()
            },
            Params {
                expedited_voting_period: secs(0),
                ..ok.clone()
            },
            Params {
                min_deposit: vec![],
                ..ok.clone()
            },
            Params {
                min_deposit: usure("0"),
                ..ok.clone()
            },
            Params {
                expedited_min_deposit: usure(&u128::MAX.to_string()),
                ..ok.clone()
            },
            Params {
                proposal_cancel_dest: "nope".into(),
                ..ok.clone()
            },
        ];
        for p in bad {
            let shown = format!("{p:?}");
            assert!(check_update_params(&update(p)).is_err(), "{shown}");
        }
        let unset = MsgUpdateParams {
            params: None,
            ..update(ok.clone())
        };
        assert_eq!(check_update_params(&unset).unwrap_err().code, 18);
        let stranger = MsgUpdateParams {
            authority: user(),
            ..update(ok)
        };
        assert_eq!(check_update_params(&stranger).unwrap_err().code, 4);
    }
}
