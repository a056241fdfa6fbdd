//! Rewards through the real modules and store: fees in the fee collector are allocated over the
//! last commit's votes, less the community tax; validators keep their commission; delegators
//! share the rest by stake, lazily (F1); a delegation change settles rewards first; and what is
//! withdrawn plus what remains equals the fees collected, to the unit.

mod support;

use support::*;
use surety_app::testing::{Block, Harness};
use surety_framework::{Address, Coins, CommitVote};
use surety_proto::cosmos::base::v1beta1::Coin;
use surety_proto::cosmos::distribution::v1beta1 as distribution;
use surety_proto::to_any;

fn votes(powers: &[(u8, i64)]) -> Vec<CommitVote> {
    powers
        .iter()
        .map(|&(key, power)| CommitVote {
            address: consensus_address(key),
            power,
            signed: true,
        })
        .collect()
}

fn collect_fees(b: &mut Block, usure: u128, uusdc: u128) {
    let fees = Coins::of(usure, "usure")
        .checked_add(&Coins::of(uusdc, "uusdc"))
        .unwrap();
    surety_bank::Bank::default()
        .send_to_module(b.ctx, &dave(), surety_auth::FEE_COLLECTOR, &fees)
        .unwrap();
}

fn withdraw(b: &mut Block, who: &Address, from: &Address) -> Coins {
    let r: distribution::MsgWithdrawDelegatorRewardResponse = decode(
        b.deliver(
            who,
            to_any(&distribution::MsgWithdrawDelegatorReward {
                delegator_address: who.to_bech32(),
                validator_address: valoper(from),
            }),
        )
        .unwrap(),
    );
    Coins::from_proto(&r.amount).unwrap()
}

fn commission(b: &mut Block, validator: &Address) -> Coins {
    let r: distribution::MsgWithdrawValidatorCommissionResponse = decode(
        b.deliver(
            validator,
            to_any(&distribution::MsgWithdrawValidatorCommission {
                validator_address: valoper(validator),
            }),
        )
        .unwrap(),
    );
    Coins::from_proto(&r.amount).unwrap()
}

fn distribution_balance(h: &Harness, denom: &str) -> u128 {
    balance(
        h,
        &Address::module(surety_distribution::DISTRIBUTION_ACCOUNT),
        denom,
    )
}

#[test]
fn rewards_follow_power_commission_and_stake_to_the_unit() {
    let (mut h, _dir) = demo();
    // Alice validates with 1 000 SURE (carol adds 300), bob with 500; both charge 10%.
    h.block(GENESIS_TIME + 10, |b| {
        create_validator(b, &alice(), 1, 1_000).unwrap();
        create_validator(b, &bob(), 2, 500).unwrap();
        delegate_to(b, &carol(), &alice(), 300).unwrap();
    })
    .unwrap();
    h.block(h.time + 5, |b| collect_fees(b, 1_000_000, 200_000))
        .unwrap();
    // The next block allocates them over the last commit: alice 1 300, bob 500.
    h.next_commit = votes(&[(1, 1_300), (2, 500)]);
    h.block(h.time + 5, |_| ()).unwrap();

    let (usure0, uusdc0) = (
        balance(&h, &alice(), "usure"),
        balance(&h, &alice(), "uusdc"),
    );
    let paid = h
        .block(h.time + 5, |b| {
            (
                withdraw(b, &alice(), &alice()),
                commission(b, &alice()),
                withdraw(b, &carol(), &alice()),
                withdraw(b, &bob(), &bob()),
                commission(b, &bob()),
            )
        })
        .unwrap();
    // 1 000 000 less 2% tax = 980 000: alice's validator 13/18 = 707 777.7…, bob's 272 222.2….
    // Commission 10%: 70 777.7… and 27 222.2…; alice's delegators share 637 000 by stake
    // (1 000 : 300 → 490 000 and 147 000); bob's get 245 000.
    assert_eq!(paid.0.amount_of("usure"), 490_000);
    assert_eq!(paid.1.amount_of("usure"), 70_777);
    assert_eq!(paid.2.amount_of("usure"), 147_000);
    assert_eq!(paid.3.amount_of("usure"), 245_000);
    assert_eq!(paid.4.amount_of("usure"), 27_222);
    assert_eq!(balance(&h, &alice(), "usure") - usure0, 490_000 + 70_777);
    assert!(
        balance(&h, &alice(), "uusdc") > uusdc0,
        "the protocol's premium share pays too"
    );

    // What was paid plus what remains (the 2% tax and sub-unit commission) is what came in.
    let withdrawn: u128 = [&paid.0, &paid.1, &paid.2, &paid.3, &paid.4]
        .iter()
        .map(|c| c.amount_of("usure"))
        .sum();
    assert_eq!(withdrawn + distribution_balance(&h, "usure"), 1_000_000);
    assert_eq!(
        distribution_balance(&h, "usure"),
        20_000 + 1,
        "tax plus 0.78 + 0.22 of commission"
    );
    h.invariants().unwrap();
}

#[test]
fn a_delegation_change_settles_rewards_first_and_a_slash_reduces_what_follows() {
    let (mut h, _dir) = demo();
    h.block(GENESIS_TIME + 10, |b| {
        create_validator(b, &alice(), 1, 1_000).unwrap();
        delegate_to(b, &carol(), &alice(), 1_000).unwrap();
    })
    .unwrap();
    h.block(h.time + 5, |b| collect_fees(b, 1_000_000, 0))
        .unwrap();
    h.next_commit = votes(&[(1, 2_000)]);
    h.block(h.time + 5, |_| ()).unwrap();
    // Carol doubles her stake: her rewards so far (half of 882 000) are paid out on the spot.
    let before = balance(&h, &carol(), "usure");
    h.block(h.time + 5, |b| delegate_to(b, &carol(), &alice(), 1_000))
        .unwrap()
        .unwrap();
    assert_eq!(
        balance(&h, &carol(), "usure"),
        before - 1_000 * SURE + 441_000
    );

    // Alice double-signs: 5% of every stake is gone, and rewards after it follow the smaller
    // stake. Carol now holds 2 000 of 3 000.
    h.next_evidence = vec![surety_framework::Evidence {
        address: consensus_address(1),
        height: h.height as i64,
    }];
    h.block(h.time + 5, |b| collect_fees(b, 1_000_000, 0))
        .unwrap();
    h.next_commit = votes(&[(1, 2_850)]);
    h.block(h.time + 5, |_| ()).unwrap();
    let paid = h
        .block(h.time + 5, |b| withdraw(b, &carol(), &alice()))
        .unwrap();
    // 882 000 for the delegators, two thirds to carol: 588 000, whatever the slash did to the
    // stake — both stakes shrank by the same 5%. The per-token ratio keeps 18 decimals, as
    // Cosmos SDK's does (882 000 / 2 850 000 000 is not exact), so the payout truncates to one
    // unit under: never over, and the unit stays in the distribution account.
    assert_eq!(paid.amount_of("usure"), 587_999);
    h.invariants().unwrap();
}

#[test]
fn governance_spends_from_the_community_pool() {
    use surety_proto::cosmos::gov::v1 as gov;
    let (mut h, _dir) = demo();
    h.block(GENESIS_TIME + 10, |b| {
        create_validator(b, &alice(), 1, 1_000)
    })
    .unwrap()
    .unwrap();
    h.block(h.time + 5, |b| collect_fees(b, 1_000_000, 0))
        .unwrap();
    h.next_commit = votes(&[(1, 1_000)]);
    h.block(h.time + 5, |_| ()).unwrap();
    // 2% of 1 000 000 went to the community pool.
    let spend = |amount: u128| {
        to_any(&distribution::MsgCommunityPoolSpend {
            authority: surety_framework::gov_authority().to_bech32(),
            recipient: carol().to_bech32(),
            amount: vec![Coin {
                denom: "usure".into(),
                amount: amount.to_string(),
            }],
        })
    };
    let before = balance(&h, &carol(), "usure");
    let (ok, too_much) = h
        .block(h.time + 5, |b| {
            let mut ids = Vec::new();
            for amount in [15_000, 25_000] {
                let r: gov::MsgSubmitProposalResponse = decode(
                    b.deliver(
                        &dave(),
                        to_any(&gov::MsgSubmitProposal {
                            messages: vec![spend(amount)],
                            initial_deposit: vec![Coin {
                                denom: "usure".into(),
                                amount: (10 * SURE).to_string(),
                            }],
                            proposer: dave().to_bech32(),
                            metadata: String::new(),
                            title: "grant".into(),
                            summary: String::new(),
                            expedited: false,
                        }),
                    )
                    .unwrap(),
                );
                b.deliver(
                    &alice(),
                    to_any(&gov::MsgVote {
                        proposal_id: r.proposal_id,
                        voter: alice().to_bech32(),
                        option: gov::VoteOption::Yes as i32,
                        metadata: String::new(),
                    }),
                )
                .unwrap();
                ids.push(r.proposal_id);
            }
            (ids[0], ids[1])
        })
        .unwrap();
    h.block(h.time + 3 * DAY, |_| ()).unwrap();
    let status = |id: u64| {
        let r: gov::QueryProposalResponse = h
            .query(
                "/cosmos.gov.v1.Query/Proposal",
                &gov::QueryProposalRequest { proposal_id: id },
            )
            .unwrap();
        r.proposal.unwrap()
    };
    assert_eq!(status(ok).status, gov::ProposalStatus::Passed as i32);
    let failed = status(too_much);
    assert_eq!(
        failed.status,
        gov::ProposalStatus::Failed as i32,
        "the pool held 5 000 after the first"
    );
    assert!(
        failed.failed_reason.contains("community pool"),
        "{}",
        failed.failed_reason
    );
    assert_eq!(balance(&h, &carol(), "usure"), before + 15_000);
    h.invariants().unwrap();
}
