//! Staking and governance through the real modules and store: delegations change voting power
//! and the validator set, unbonding completes after its period, and proposals pass, execute
//! their messages atomically, get vetoed, miss quorum, and expedite.

mod support;

use support::*;
use surety_app::testing::{Block, Harness};
use surety_framework::{gov_authority, Address, Error};
use surety_proto::cosmos::base::v1beta1::Coin;
use surety_proto::cosmos::gov::v1 as gov;
use surety_proto::cosmos::staking::v1beta1 as staking;
use surety_proto::surety::policy::v1 as policy;
use surety_proto::to_any;

fn sure(amount: u128) -> Option<Coin> {
    Some(Coin {
        denom: "usure".into(),
        amount: (amount * SURE).to_string(),
    })
}

/// The power CometBFT knows each validator by, after the last block.
fn powers(h: &Harness) -> Vec<i64> {
    h.read(|_, ctx| {
        surety_staking::Staking::default()
            .consensus_validators(ctx)
            .unwrap()
            .into_iter()
            .map(|v| v.power)
            .collect()
    })
}

/// Validators: alice (1 000 SURE, plus carol's 300) and bob (500).
fn chain() -> (Harness, tempfile::TempDir) {
    let (mut h, dir) = demo();
    h.block(GENESIS_TIME + 10, |b| {
        create_validator(b, &alice(), 1, 1_000).unwrap();
        create_validator(b, &bob(), 2, 500).unwrap();
        delegate_to(b, &carol(), &alice(), 300).unwrap();
    })
    .unwrap();
    (h, dir)
}

fn submit(
    b: &mut Block,
    who: &Address,
    messages: Vec<surety_proto::Any>,
    deposit: u128,
    expedited: bool,
) -> Result<u64, Error> {
    let r: gov::MsgSubmitProposalResponse = decode(b.deliver(
        who,
        to_any(&gov::MsgSubmitProposal {
            messages,
            initial_deposit: vec![sure(deposit).unwrap()],
            proposer: who.to_bech32(),
            metadata: String::new(),
            title: "test proposal".into(),
            summary: "".into(),
            expedited,
        }),
    )?);
    Ok(r.proposal_id)
}

fn vote(b: &mut Block, who: &Address, id: u64, option: gov::VoteOption) -> Result<Vec<u8>, Error> {
    b.deliver(
        who,
        to_any(&gov::MsgVote {
            proposal_id: id,
            voter: who.to_bech32(),
            option: option as i32,
            metadata: String::new(),
        }),
    )
}

fn proposal(h: &Harness, id: u64) -> gov::Proposal {
    let r: gov::QueryProposalResponse = h
        .query(
            "/cosmos.gov.v1.Query/Proposal",
            &gov::QueryProposalRequest { proposal_id: id },
        )
        .unwrap();
    r.proposal.unwrap()
}

fn pause(product: u64) -> surety_proto::Any {
    to_any(&policy::MsgSetProductPaused {
        authority: gov_authority().to_bech32(),
        product_id: product,
        paused: true,
    })
}

fn product_paused(h: &Harness, id: u64) -> bool {
    let r: policy::QueryProductResponse = h
        .query(
            "/surety.policy.v1.Query/Product",
            &policy::QueryProductRequest { product_id: id },
        )
        .unwrap();
    r.product.unwrap().paused
}

fn usure_supply(h: &Harness) -> u128 {
    use surety_proto::cosmos::bank::v1beta1::{QuerySupplyOfRequest, QuerySupplyOfResponse};
    let r: QuerySupplyOfResponse = h
        .query(
            "/cosmos.bank.v1beta1.Query/SupplyOf",
            &QuerySupplyOfRequest {
                denom: "usure".into(),
            },
        )
        .unwrap();
    r.amount.unwrap().amount.parse().unwrap()
}

const VOTING: i64 = 2 * DAY;

#[test]
fn delegations_move_voting_power_and_the_validator_set() {
    let (mut h, _dir) = chain();
    assert_eq!(powers(&h), vec![1_300, 500]);
    // Bob's stake grows past alice's; carol moves 100 to bob.
    h.block(h.time + 10, |b| {
        delegate_to(b, &dave(), &bob(), 900).unwrap();
        b.deliver(
            &carol(),
            to_any(&staking::MsgBeginRedelegate {
                delegator_address: carol().to_bech32(),
                validator_src_address: valoper(&alice()),
                validator_dst_address: valoper(&bob()),
                amount: sure(100),
            }),
        )
        .unwrap();
    })
    .unwrap();
    assert_eq!(powers(&h), vec![1_200, 1_500]);

    // Carol unbonds 100: power drops now, the tokens come back after the unbonding period.
    let before = balance(&h, &carol(), "usure");
    h.block(h.time + 10, |b| {
        b.deliver(
            &carol(),
            to_any(&staking::MsgUndelegate {
                delegator_address: carol().to_bech32(),
                validator_address: valoper(&alice()),
                amount: sure(100),
            }),
        )
        .unwrap();
    })
    .unwrap();
    assert_eq!(powers(&h), vec![1_100, 1_500]);
    // The demo genesis unbonds in 120 s.
    h.block(h.time + 100, |_| ()).unwrap();
    assert_eq!(balance(&h, &carol(), "usure"), before);
    h.block(h.time + 30, |_| ()).unwrap();
    assert_eq!(balance(&h, &carol(), "usure"), before + 100 * SURE);

    // Governance cuts the set to one validator: alice, now smaller, leaves it.
    let mut params = surety_staking::delegation::default_params();
    params.max_validators = 1;
    let id = h
        .block(h.time + 10, |b| {
            let id = submit(
                b,
                &dave(),
                vec![to_any(&staking::MsgUpdateParams {
                    authority: gov_authority().to_bech32(),
                    params: Some(params),
                })],
                10,
                false,
            )
            .unwrap();
            vote(b, &bob(), id, gov::VoteOption::Yes).unwrap();
            vote(b, &alice(), id, gov::VoteOption::Yes).unwrap();
            id
        })
        .unwrap();
    h.block(h.time + VOTING, |_| ()).unwrap();
    assert_eq!(proposal(&h, id).status, gov::ProposalStatus::Passed as i32);
    h.block(h.time + 10, |_| ()).unwrap();
    assert_eq!(powers(&h), vec![0, 1_500]);
    h.invariants().unwrap();
}

#[test]
fn a_passed_proposal_executes_its_messages_and_refunds_the_deposit() {
    let (mut h, _dir) = chain();
    let before = balance(&h, &dave(), "usure");
    let mut params = surety_policy::state::default_params();
    params.slope1_bps = 555;
    let update = to_any(&policy::MsgUpdateParams {
        authority: gov_authority().to_bech32(),
        params: Some(params),
    });
    let id = h
        .block(h.time + 10, |b| {
            let id = submit(b, &dave(), vec![update, pause(4)], 4, false).unwrap();
            assert_eq!(proposal_status(b, id), gov::ProposalStatus::DepositPeriod);
            // A second deposit reaches the 10 SURE minimum and opens the vote.
            b.deliver(
                &carol(),
                to_any(&gov::MsgDeposit {
                    proposal_id: id,
                    depositor: carol().to_bech32(),
                    amount: vec![sure(6).unwrap()],
                }),
            )
            .unwrap();
            assert_eq!(proposal_status(b, id), gov::ProposalStatus::VotingPeriod);
            vote(b, &alice(), id, gov::VoteOption::Yes).unwrap();
            // Carol overrides her validator's vote with her own 300.
            vote(b, &carol(), id, gov::VoteOption::No).unwrap();
            id
        })
        .unwrap();
    assert!(!product_paused(&h, 4));
    h.block(h.time + VOTING, |_| ()).unwrap();
    let p = proposal(&h, id);
    assert_eq!(
        p.status,
        gov::ProposalStatus::Passed as i32,
        "{}",
        p.failed_reason
    );
    let tally = p.final_tally_result.unwrap();
    assert_eq!(tally.yes_count, (1_000 * SURE).to_string());
    assert_eq!(tally.no_count, (300 * SURE).to_string());
    assert!(product_paused(&h, 4));
    let r: policy::QueryParamsResponse = h
        .query(
            "/surety.policy.v1.Query/Params",
            &policy::QueryParamsRequest {},
        )
        .unwrap();
    assert_eq!(
        r.params.unwrap().slope1_bps,
        555,
        "the parameter actually changed"
    );
    assert_eq!(balance(&h, &dave(), "usure"), before, "deposit refunded");
    h.invariants().unwrap();
}

fn proposal_status(b: &mut Block, id: u64) -> gov::ProposalStatus {
    let p = surety_gov::Gov::default().proposal(b.ctx, id).unwrap();
    gov::ProposalStatus::try_from(p.status).unwrap()
}

#[test]
fn a_failing_message_rolls_back_the_whole_proposal() {
    let (mut h, _dir) = chain();
    let id = h
        .block(h.time + 10, |b| {
            let id = submit(b, &dave(), vec![pause(1), pause(99)], 10, false).unwrap();
            vote(b, &alice(), id, gov::VoteOption::Yes).unwrap();
            id
        })
        .unwrap();
    h.block(h.time + VOTING, |_| ()).unwrap();
    let p = proposal(&h, id);
    assert_eq!(p.status, gov::ProposalStatus::Failed as i32);
    assert!(
        p.failed_reason.contains("product 99"),
        "{}",
        p.failed_reason
    );
    assert!(!product_paused(&h, 1), "the first message was rolled back");
}

#[test]
fn a_veto_burns_the_deposit_and_a_missed_quorum_refunds_it() {
    let (mut h, _dir) = chain();
    let supply = usure_supply(&h);
    let dave_before = balance(&h, &dave(), "usure");
    let (vetoed, quiet) = h
        .block(h.time + 10, |b| {
            let vetoed = submit(b, &dave(), vec![pause(1)], 10, false).unwrap();
            vote(b, &alice(), vetoed, gov::VoteOption::NoWithVeto).unwrap();
            let quiet = submit(b, &dave(), vec![pause(2)], 10, false).unwrap();
            // 500 of 1 800 bonded is below the 33.4% quorum.
            vote(b, &bob(), quiet, gov::VoteOption::Yes).unwrap();
            (vetoed, quiet)
        })
        .unwrap();
    h.block(h.time + VOTING, |_| ()).unwrap();
    let v = proposal(&h, vetoed);
    assert_eq!(v.status, gov::ProposalStatus::Rejected as i32);
    assert_eq!(v.failed_reason, "vetoed");
    let q = proposal(&h, quiet);
    assert_eq!(q.status, gov::ProposalStatus::Rejected as i32);
    assert_eq!(q.failed_reason, "quorum not reached");
    assert!(!product_paused(&h, 1) && !product_paused(&h, 2));
    assert_eq!(
        usure_supply(&h),
        supply - 10 * SURE,
        "the vetoed deposit is burned"
    );
    assert_eq!(
        balance(&h, &dave(), "usure"),
        dave_before - 10 * SURE,
        "the other is refunded"
    );
    h.invariants().unwrap();
}

#[test]
fn an_expedited_proposal_passes_early_or_falls_back_to_the_regular_period() {
    let (mut h, _dir) = chain();
    let (fast, slow) = h
        .block(h.time + 10, |b| {
            let fast = submit(b, &dave(), vec![pause(1)], 50, true).unwrap();
            vote(b, &alice(), fast, gov::VoteOption::Yes).unwrap();
            vote(b, &bob(), fast, gov::VoteOption::Yes).unwrap();
            // 1 000 yes against 800 no: 55% — enough for a regular proposal, not an expedited one.
            let slow = submit(b, &dave(), vec![pause(2)], 50, true).unwrap();
            vote(b, &alice(), slow, gov::VoteOption::Yes).unwrap();
            vote(b, &carol(), slow, gov::VoteOption::No).unwrap();
            vote(b, &bob(), slow, gov::VoteOption::No).unwrap();
            (fast, slow)
        })
        .unwrap();
    h.block(h.time + DAY, |_| ()).unwrap();
    assert_eq!(
        proposal(&h, fast).status,
        gov::ProposalStatus::Passed as i32
    );
    assert!(product_paused(&h, 1), "paused after one day");
    let s = proposal(&h, slow);
    assert_eq!(s.status, gov::ProposalStatus::VotingPeriod as i32, "{s:?}");
    assert!(!s.expedited, "converted to a regular proposal");
    h.block(h.time + DAY, |_| ()).unwrap();
    assert_eq!(
        proposal(&h, slow).status,
        gov::ProposalStatus::Passed as i32
    );
    assert!(product_paused(&h, 2));
}

#[test]
fn bad_staking_and_gov_input_is_refused_without_effect() {
    let (mut h, _dir) = chain();
    let id = h
        .block(h.time + 10, |b| {
            let id = submit(b, &dave(), vec![pause(1)], 10, false).unwrap();
            vote(b, &alice(), id, gov::VoteOption::Yes).unwrap();
            id
        })
        .unwrap();
    h.block(h.time + VOTING, |_| ()).unwrap();
    let before = (balance(&h, &carol(), "usure"), powers(&h));
    let errors = h
        .block(h.time + 10, |b| {
            let send = to_any(&surety_proto::cosmos::bank::v1beta1::MsgSend {
                from_address: dave().to_bech32(),
                to_address: carol().to_bech32(),
                amount: vec![sure(1).unwrap()],
            });
            vec![
                vote(b, &carol(), id, gov::VoteOption::Yes).unwrap_err(),
                submit(b, &dave(), vec![send], 10, false).unwrap_err(),
                delegate_to(b, &carol(), &dave(), 1).unwrap_err(),
                b.deliver(
                    &carol(),
                    to_any(&staking::MsgUndelegate {
                        delegator_address: carol().to_bech32(),
                        validator_address: valoper(&alice()),
                        amount: sure(301),
                    }),
                )
                .unwrap_err(),
                submit(b, &dave(), vec![], 10, false).unwrap_err(),
            ]
        })
        .unwrap();
    let codes: Vec<_> = errors.iter().map(|e| (e.codespace, e.code)).collect();
    assert_eq!(
        codes,
        vec![
            ("gov", 3),
            ("gov", 12),
            ("sdk", 18),
            ("sdk", 18),
            ("gov", 5)
        ],
        "{:#?}",
        errors.iter().map(|e| &e.log).collect::<Vec<_>>()
    );
    assert_eq!((balance(&h, &carol(), "usure"), powers(&h)), before);
    h.invariants().unwrap();
}

#[test]
fn a_passed_upgrade_plan_stops_the_chain_at_its_height_with_the_plan_in_the_message() {
    use surety_proto::cosmos::upgrade::v1beta1 as upgrade;
    let (mut h, _dir) = chain();
    let at = h.height + 5;
    let id = h
        .block(h.time + 10, |b| {
            let id = submit(
                b,
                &dave(),
                vec![to_any(&upgrade::MsgSoftwareUpgrade {
                    authority: gov_authority().to_bech32(),
                    plan: Some(upgrade::Plan {
                        name: "v2".into(),
                        height: at as i64,
                        info: "binaries at https://example.com/surety/v2".into(),
                        ..Default::default()
                    }),
                })],
                10,
                false,
            )
            .unwrap();
            vote(b, &alice(), id, gov::VoteOption::Yes).unwrap();
            id
        })
        .unwrap();
    h.block(h.time + VOTING, |_| ()).unwrap();
    assert_eq!(proposal(&h, id).status, gov::ProposalStatus::Passed as i32);
    while h.height + 1 < at {
        h.block(h.time + 5, |_| ()).unwrap();
    }
    let halted = h.block(h.time + 5, |_| ()).unwrap_err();
    assert!(
        halted.log.contains("UPGRADE \"v2\" NEEDED at height")
            && halted.log.contains("example.com"),
        "{}",
        halted.log
    );
    assert_eq!(
        h.height + 1,
        at,
        "nothing of the planned height was committed"
    );
}
