//! Staking and governance through real signed transactions and blocks: delegations change voting
//! power and the validator set, unbonding completes after its period, and proposals pass,
//! execute their messages atomically, get vetoed, miss quorum, and expedite.
//!
//! Besides alice's and bob's validators, the market genesis has its own validator (operator
//! `addr(200)`, 1 SURE of power). It is bonded, so it counts in every quorum, but it votes only
//! where a test makes it (`gov` does; the explicit `vote_tx`s here do not).

mod support;

use support::*;
use surety_app::testing::{TestChain, Tx, TxResult};
use surety_framework::{Address, Error};
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

/// Every transaction of a block succeeded; their responses.
fn all_ok(results: Vec<TxResult>) -> Vec<Vec<u8>> {
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("tx {i}: {e:?}")))
        .collect()
}

/// The power CometBFT was last given for `operator`'s validator (0 when not bonded).
fn power(h: &TestChain, operator: &Address) -> i64 {
    h.read(|ctx| {
        surety_staking::Staking::default()
            .consensus_validators(ctx)
            .unwrap()
            .into_iter()
            .find(|v| v.operator == *operator)
            .map_or(0, |v| v.power)
    })
}

/// Powers of alice's, bob's and the genesis validator.
fn powers(h: &TestChain) -> [i64; 3] {
    [
        power(h, &alice()),
        power(h, &bob()),
        power(h, &addr(GENESIS_VALIDATOR)),
    ]
}

/// Validators: alice (1 000 SURE, plus carol's 300) and bob (500), beside the genesis one.
fn chain() -> TestChain {
    let mut h = demo();
    all_ok(h.block(
        GENESIS_TIME + 10,
        vec![
            create_validator(&alice(), 1, 1_000),
            create_validator(&bob(), 2, 500),
            delegate_to(&carol(), &alice(), 300),
        ],
    ));
    h
}

fn submit_tx(
    who: &Address,
    messages: Vec<surety_proto::Any>,
    deposit: u128,
    expedited: bool,
) -> Tx {
    Tx::new(
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
    )
}

fn proposal_id(r: TxResult) -> Result<u64, Error> {
    Ok(decode::<gov::MsgSubmitProposalResponse>(r?).proposal_id)
}

/// Submits a proposal in a block of its own, a second after the last; returns its id.
fn submit(
    h: &mut TestChain,
    who: &Address,
    messages: Vec<surety_proto::Any>,
    deposit: u128,
    expedited: bool,
) -> Result<u64, Error> {
    let t = h.time + 1;
    proposal_id(
        h.block(t, vec![submit_tx(who, messages, deposit, expedited)])
            .remove(0),
    )
}

fn vote_tx(who: &Address, id: u64, option: gov::VoteOption) -> Tx {
    Tx::new(
        who,
        to_any(&gov::MsgVote {
            proposal_id: id,
            voter: who.to_bech32(),
            option: option as i32,
            metadata: String::new(),
        }),
    )
}

fn weighted_tx(who: &Address, id: u64, options: &[(gov::VoteOption, &str)]) -> Tx {
    Tx::new(
        who,
        to_any(&gov::MsgVoteWeighted {
            proposal_id: id,
            voter: who.to_bech32(),
            options: options
                .iter()
                .map(|(o, w)| gov::WeightedVoteOption {
                    option: *o as i32,
                    weight: (*w).into(),
                })
                .collect(),
            metadata: String::new(),
        }),
    )
}

fn gov_deposit_tx(who: &Address, id: u64, amount: u128) -> Tx {
    Tx::new(
        who,
        to_any(&gov::MsgDeposit {
            proposal_id: id,
            depositor: who.to_bech32(),
            amount: vec![sure(amount).unwrap()],
        }),
    )
}

fn proposal(h: &TestChain, id: u64) -> gov::Proposal {
    h.proposal(id).unwrap()
}

fn status(h: &TestChain, id: u64) -> gov::ProposalStatus {
    gov::ProposalStatus::try_from(proposal(h, id).status).unwrap()
}

fn voting_end(h: &TestChain, id: u64) -> i64 {
    proposal(h, id).voting_end_time.unwrap().seconds
}

/// Runs an empty block at the end of the proposal's voting period, where EndBlock tallies it.
fn end_vote(h: &mut TestChain, id: u64) {
    let end = voting_end(h, id);
    h.advance_to(end);
}

fn pause(product: u64) -> surety_proto::Any {
    to_any(&policy::MsgSetProductPaused {
        authority: gov_authority().to_bech32(),
        product_id: product,
        paused: true,
    })
}

fn product_paused(h: &TestChain, id: u64) -> bool {
    let r: policy::QueryProductResponse = h
        .query(
            "/surety.policy.v1.Query/Product",
            &policy::QueryProductRequest { product_id: id },
        )
        .unwrap();
    r.product.unwrap().paused
}

fn usure_supply(h: &TestChain) -> u128 {
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

fn sequence(h: &TestChain, who: &Address) -> u64 {
    use surety_proto::cosmos::auth::v1beta1::{QueryAccountRequest, QueryAccountResponse};
    let r: QueryAccountResponse = h
        .query(
            "/cosmos.auth.v1beta1.Query/Account",
            &QueryAccountRequest {
                address: who.to_bech32(),
            },
        )
        .unwrap();
    surety_auth::Account::from_any(&r.account.unwrap())
        .unwrap()
        .sequence
}

/// `who`'s recorded vote on proposal `id`, if any.
fn vote_of(h: &TestChain, id: u64, who: &Address) -> Option<gov::Vote> {
    h.query::<gov::QueryVoteResponse>(
        "/cosmos.gov.v1.Query/Vote",
        &gov::QueryVoteRequest {
            proposal_id: id,
            voter: who.to_bech32(),
        },
    )
    .ok()
    .and_then(|r| r.vote)
}

#[test]
fn delegations_move_voting_power_and_the_validator_set() {
    let mut h = chain();
    assert_eq!(powers(&h), [1_300, 500, 1]);
    // Bob's stake grows past alice's; carol moves 100 to bob.
    let t = h.time + 10;
    all_ok(h.block(
        t,
        vec![
            delegate_to(&dave(), &bob(), 900),
            Tx::new(
                &carol(),
                to_any(&staking::MsgBeginRedelegate {
                    delegator_address: carol().to_bech32(),
                    validator_src_address: valoper(&alice()),
                    validator_dst_address: valoper(&bob()),
                    amount: sure(100),
                }),
            ),
        ],
    ));
    assert_eq!(powers(&h), [1_200, 1_500, 1]);

    // Carol unbonds 100: power drops now, the tokens come back after the unbonding period.
    let before = balance(&h, &carol(), "usure");
    let t = h.time + 10;
    all_ok(h.block(
        t,
        vec![Tx::new(
            &carol(),
            to_any(&staking::MsgUndelegate {
                delegator_address: carol().to_bech32(),
                validator_address: valoper(&alice()),
                amount: sure(100),
            }),
        )],
    ));
    assert_eq!(powers(&h), [1_100, 1_500, 1]);
    // The demo genesis unbonds in 10 minutes.
    h.advance_to(h.time + 580);
    assert_eq!(balance(&h, &carol(), "usure"), before);
    h.advance_to(h.time + 30);
    assert_eq!(balance(&h, &carol(), "usure"), before + 100 * SURE);

    // Governance cuts the set to one validator: alice, now smaller, leaves it, and so does the
    // genesis validator.
    let mut params = surety_staking::delegation::default_params();
    params.max_validators = 1;
    // The demo's unbonding time stays.
    params.unbonding_time = Some(tendermint_proto::google::protobuf::Duration {
        seconds: 120,
        nanos: 0,
    });
    gov(
        &mut h,
        to_any(&staking::MsgUpdateParams {
            authority: gov_authority().to_bech32(),
            params: Some(params),
        }),
    )
    .unwrap();
    // Staking's EndBlock runs before gov's, so the new limit shapes the set one block later.
    assert_eq!(powers(&h), [1_100, 1_500, 1]);
    h.advance_to(h.time + 1);
    assert_eq!(powers(&h), [0, 1_500, 0]);
    // CometBFT applies a block's validator updates two heights later.
    assert_eq!(h.validator_set().len(), 3);
    h.advance_to(h.time + 1);
    assert_eq!(h.validator_set(), vec![(consensus_address(2), 1_500)]);
    h.invariants().unwrap();
}

#[test]
fn a_passed_proposal_executes_its_messages_and_refunds_the_deposit() {
    let mut h = chain();
    let before = balance(&h, &dave(), "usure");
    let mut params = surety_policy::state::default_params();
    params.slope1_bps = 555;
    let update = to_any(&policy::MsgUpdateParams {
        authority: gov_authority().to_bech32(),
        params: Some(params),
    });
    let id = submit(&mut h, &dave(), vec![update, pause(4)], 4, false).unwrap();
    assert_eq!(status(&h, id), gov::ProposalStatus::DepositPeriod);
    // A second deposit reaches the 10 SURE minimum and opens the vote; the votes follow it in
    // the same block.
    let t = h.time + 1;
    all_ok(h.block(
        t,
        vec![
            gov_deposit_tx(&carol(), id, 6),
            vote_tx(&alice(), id, gov::VoteOption::Yes),
            // Carol overrides her validator's vote with her own 300.
            vote_tx(&carol(), id, gov::VoteOption::No),
        ],
    ));
    assert_eq!(status(&h, id), gov::ProposalStatus::VotingPeriod);
    assert_eq!(
        voting_end(&h, id),
        t + 600,
        "the vote opened with the deposit"
    );
    h.advance_to(t + 599);
    assert_eq!(status(&h, id), gov::ProposalStatus::VotingPeriod);
    assert!(!product_paused(&h, 4));
    end_vote(&mut h, id);
    let p = proposal(&h, id);
    assert_eq!(
        p.status,
        gov::ProposalStatus::Passed as i32,
        "{}",
        p.failed_reason
    );
    // 1 300 of the 1 801 bonded SURE voted (bob and the genesis validator did not): quorum.
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

#[test]
fn a_failing_message_rolls_back_the_whole_proposal() {
    let mut h = chain();
    let before = balance(&h, &dave(), "usure");
    let id = submit(&mut h, &dave(), vec![pause(1), pause(99)], 10, false).unwrap();
    all_ok(h.block(
        h.time + 1,
        vec![vote_tx(&alice(), id, gov::VoteOption::Yes)],
    ));
    end_vote(&mut h, id);
    let p = proposal(&h, id);
    assert_eq!(p.status, gov::ProposalStatus::Failed as i32);
    assert!(
        p.failed_reason.contains("product 99"),
        "{}",
        p.failed_reason
    );
    assert!(!product_paused(&h, 1), "the first message was rolled back");
    assert_eq!(balance(&h, &dave(), "usure"), before, "deposit refunded");
    h.invariants().unwrap();
}

#[test]
fn a_veto_burns_the_deposit_and_a_missed_quorum_refunds_it() {
    let mut h = chain();
    let supply = usure_supply(&h);
    let dave_before = balance(&h, &dave(), "usure");
    let t = h.time + 1;
    let submitted = h.block(
        t,
        vec![
            submit_tx(&dave(), vec![pause(1)], 10, false),
            submit_tx(&dave(), vec![pause(2)], 10, false),
        ],
    );
    let mut ids = submitted.into_iter().map(|r| proposal_id(r).unwrap());
    let (vetoed, quiet) = (ids.next().unwrap(), ids.next().unwrap());
    let t = h.time + 1;
    all_ok(h.block(
        t,
        vec![
            vote_tx(&alice(), vetoed, gov::VoteOption::NoWithVeto),
            // 500 of 1 801 bonded SURE (the genesis validator's 1 included) is below the 33.4%
            // quorum.
            vote_tx(&bob(), quiet, gov::VoteOption::Yes),
        ],
    ));
    end_vote(&mut h, vetoed);
    assert_eq!(voting_end(&h, quiet), voting_end(&h, vetoed));
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
    let mut h = chain();
    let t = h.time + 1;
    let submitted = h.block(
        t,
        vec![
            submit_tx(&dave(), vec![pause(1)], 50, true),
            submit_tx(&dave(), vec![pause(2)], 50, true),
        ],
    );
    let mut ids = submitted.into_iter().map(|r| proposal_id(r).unwrap());
    let (fast, slow) = (ids.next().unwrap(), ids.next().unwrap());
    let start = h.time;
    let t = h.time + 1;
    all_ok(h.block(
        t,
        vec![
            vote_tx(&alice(), fast, gov::VoteOption::Yes),
            vote_tx(&bob(), fast, gov::VoteOption::Yes),
            // 1 000 yes against 800 no: 55% — enough for a regular proposal, not an expedited
            // one.
            vote_tx(&alice(), slow, gov::VoteOption::Yes),
            vote_tx(&carol(), slow, gov::VoteOption::No),
            vote_tx(&bob(), slow, gov::VoteOption::No),
        ],
    ));
    // The expedited period is 300 s.
    assert_eq!(voting_end(&h, fast), start + 300);
    end_vote(&mut h, fast);
    assert_eq!(status(&h, fast), gov::ProposalStatus::Passed);
    assert!(product_paused(&h, 1), "paused after the expedited period");
    let s = proposal(&h, slow);
    assert_eq!(s.status, gov::ProposalStatus::VotingPeriod as i32, "{s:?}");
    assert!(!s.expedited, "converted to a regular proposal");
    assert_eq!(
        voting_end(&h, slow),
        start + 600,
        "the regular period, from the same start"
    );
    assert!(!product_paused(&h, 2));
    end_vote(&mut h, slow);
    assert_eq!(status(&h, slow), gov::ProposalStatus::Passed);
    assert!(product_paused(&h, 2));
    h.invariants().unwrap();
}

#[test]
fn bad_staking_and_gov_input_is_refused_without_effect() {
    let mut h = chain();
    let id = submit(&mut h, &dave(), vec![pause(1)], 10, false).unwrap();
    all_ok(h.block(
        h.time + 1,
        vec![vote_tx(&alice(), id, gov::VoteOption::Yes)],
    ));
    end_vote(&mut h, id);
    assert_eq!(status(&h, id), gov::ProposalStatus::Passed);
    let carol_before = (
        balance(&h, &carol(), "usure"),
        sequence(&h, &carol()),
        powers(&h),
    );
    let dave_before = (balance(&h, &dave(), "usure"), sequence(&h, &dave()));
    let send = to_any(&surety_proto::cosmos::bank::v1beta1::MsgSend {
        from_address: dave().to_bech32(),
        to_address: carol().to_bech32(),
        amount: vec![sure(1).unwrap()],
    });
    let fee = 1_000;
    let t = h.time + 10;
    let errors: Vec<Error> = h
        .block(
            t,
            vec![
                vote_tx(&carol(), id, gov::VoteOption::Yes),
                submit_tx(&dave(), vec![send], 10, false),
                delegate_to(&carol(), &dave(), 1),
                Tx::new(
                    &carol(),
                    to_any(&staking::MsgUndelegate {
                        delegator_address: carol().to_bech32(),
                        validator_address: valoper(&alice()),
                        amount: sure(301),
                    }),
                ),
                submit_tx(&dave(), vec![], 10, false),
            ]
            .into_iter()
            .map(|tx| tx.fee(&format!("{fee}usure")))
            .collect(),
        )
        .into_iter()
        .map(|r| r.unwrap_err())
        .collect();
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
    // Carol's three transactions reached the block: each paid its fee and used a sequence, and
    // did nothing else. Dave's empty proposal was refused by CheckTx (a stateless check), so
    // only his MsgSend proposal paid.
    assert_eq!(
        (
            balance(&h, &carol(), "usure"),
            sequence(&h, &carol()),
            powers(&h)
        ),
        (carol_before.0 - 3 * fee, carol_before.1 + 3, carol_before.2)
    );
    assert_eq!(
        (balance(&h, &dave(), "usure"), sequence(&h, &dave())),
        (dave_before.0 - fee, dave_before.1 + 1)
    );
    h.invariants().unwrap();
}

/// A weighted vote must split exactly the voter's stake: each weight in (0, 1], summing to
/// exactly 1. Anything else is refused before it reaches a block.
#[test]
fn a_weighted_vote_must_split_exactly_the_voters_stake() {
    use gov::VoteOption::{Abstain, No, NoWithVeto, Yes};
    let mut h = chain();
    let id = submit(&mut h, &dave(), vec![pause(1)], 10, false).unwrap();
    let before = (balance(&h, &carol(), "usure"), sequence(&h, &carol()));
    let bad: Vec<(&[(gov::VoteOption, &str)], &str)> = vec![
        (&[(Yes, "0.5"), (No, "0.4")], "weights sum to"),
        (&[(Yes, "0.6"), (No, "0.5")], "weights sum to"),
        (
            &[(Yes, "0.5"), (No, "0.499999999999999999")],
            "weights sum to",
        ),
        (&[(Yes, "1.5")], "above 1"),
        (&[(Yes, "1"), (NoWithVeto, "0")], "must be positive"),
        (&[(Yes, "2"), (No, "-1")], "above 1"),
        (&[(Yes, "0.5"), (Yes, "0.5")], "named twice"),
    ];
    let t = h.time + 1;
    let results = h.block(
        t,
        bad.iter()
            .map(|(options, _)| weighted_tx(&carol(), id, options).fee("1000usure"))
            .collect(),
    );
    for (r, (options, why)) in results.into_iter().zip(&bad) {
        let e = r.expect_err(&format!("{options:?} accepted"));
        assert_eq!((e.codespace, e.code), ("gov", 8), "{options:?}: {}", e.log);
        assert!(e.log.contains(why), "{options:?}: {}", e.log);
    }
    // Refused in CheckTx: not even the fee was charged or the sequence used.
    assert_eq!(
        (balance(&h, &carol(), "usure"), sequence(&h, &carol())),
        before
    );
    assert!(vote_of(&h, id, &carol()).is_none());

    // A split that sums to 1 counts exactly her 300 SURE.
    let t = h.time + 1;
    all_ok(h.block(
        t,
        vec![
            weighted_tx(
                &carol(),
                id,
                &[(Yes, "0.25"), (No, "0.7"), (Abstain, "0.05")],
            ),
            vote_tx(&alice(), id, Yes),
        ],
    ));
    assert_eq!(vote_of(&h, id, &carol()).unwrap().options.len(), 3);
    end_vote(&mut h, id);
    let p = proposal(&h, id);
    assert_eq!(p.status, gov::ProposalStatus::Passed as i32);
    let tally = p.final_tally_result.unwrap();
    // Alice's own 1 000 yes; carol's 300 split 75 / 210 / 15.
    assert_eq!(tally.yes_count, (1_075 * SURE).to_string());
    assert_eq!(tally.no_count, (210 * SURE).to_string());
    assert_eq!(tally.abstain_count, (15 * SURE).to_string());
    assert_eq!(tally.no_with_veto_count, "0");
    h.invariants().unwrap();
}

/// Votes weigh bonded stake, not balances: dave holds millions of liquid SURE but has bonded a
/// single usure, and that is all his vote moves.
#[test]
fn a_dust_delegator_cannot_decide_a_proposal_against_the_validators() {
    use gov::VoteOption::{No, NoWithVeto, Yes};
    let mut h = chain();
    let dust = Tx::new(
        &dave(),
        to_any(&staking::MsgDelegate {
            delegator_address: dave().to_bech32(),
            validator_address: valoper(&bob()),
            amount: Some(Coin {
                denom: "usure".into(),
                amount: "1".into(),
            }),
        }),
    );
    all_ok(h.block(h.time + 1, vec![dust]));
    assert!(balance(&h, &dave(), "usure") > 1_000_000 * SURE);
    let t = h.time + 1;
    let ids: Vec<u64> = h
        .block(
            t,
            vec![
                submit_tx(&dave(), vec![pause(1)], 10, false),
                submit_tx(&dave(), vec![pause(2)], 10, false),
                submit_tx(&dave(), vec![pause(3)], 10, false),
            ],
        )
        .into_iter()
        .map(|r| proposal_id(r).unwrap())
        .collect();
    let (wanted, unwanted, alone) = (ids[0], ids[1], ids[2]);
    let t = h.time + 1;
    all_ok(h.block(
        t,
        vec![
            vote_tx(&alice(), wanted, Yes),
            vote_tx(&bob(), wanted, Yes),
            vote_tx(&dave(), wanted, NoWithVeto),
            vote_tx(&alice(), unwanted, No),
            vote_tx(&bob(), unwanted, No),
            vote_tx(&dave(), unwanted, Yes),
            vote_tx(&dave(), alone, Yes),
        ],
    ));
    end_vote(&mut h, wanted);
    let w = proposal(&h, wanted);
    assert_eq!(w.status, gov::ProposalStatus::Passed as i32, "{w:?}");
    // Dave's usure is taken out of bob's 500 SURE + 1 usure and vetoes on its own; alice's
    // 1 300 and bob's 500 say yes.
    let tally = w.final_tally_result.unwrap();
    assert_eq!(tally.no_with_veto_count, "1");
    assert_eq!(tally.yes_count, (1_800 * SURE).to_string());
    let u = proposal(&h, unwanted);
    assert_eq!(u.status, gov::ProposalStatus::Rejected as i32);
    assert_eq!(u.failed_reason, "threshold not reached");
    assert_eq!(u.final_tally_result.unwrap().yes_count, "1");
    let a = proposal(&h, alone);
    assert_eq!(a.status, gov::ProposalStatus::Rejected as i32);
    assert_eq!(a.failed_reason, "quorum not reached");
    assert!(product_paused(&h, 1) && !product_paused(&h, 2) && !product_paused(&h, 3));
    h.invariants().unwrap();
}

/// Set in the child process that runs the halting block (the app exits the process there).
const UPGRADE_CHILD: &str = "SURETY_TEST_UPGRADE_HALT_CHILD";

#[test]
fn a_passed_upgrade_plan_stops_the_chain_at_its_height_with_the_plan_in_the_message() {
    use surety_proto::cosmos::upgrade::v1beta1 as upgrade;
    let mut h = chain();
    // gov takes three blocks (submission, votes, end of the vote); the plan is due two later.
    let at = h.height + 5;
    gov(
        &mut h,
        to_any(&upgrade::MsgSoftwareUpgrade {
            authority: gov_authority().to_bech32(),
            plan: Some(upgrade::Plan {
                name: "v2".into(),
                height: at,
                info: "binaries at https://example.com/surety/v2".into(),
                ..Default::default()
            }),
        }),
    )
    .unwrap();
    let plan: upgrade::QueryCurrentPlanResponse = h
        .query(
            "/cosmos.upgrade.v1beta1.Query/CurrentPlan",
            &upgrade::QueryCurrentPlanRequest {},
        )
        .unwrap();
    assert_eq!(
        plan.plan.map(|p| (p.name, p.height)),
        Some(("v2".into(), at))
    );
    while h.height + 1 < at {
        h.advance_to(h.time + 5);
    }
    assert_eq!(h.height + 1, at);
    if std::env::var_os(UPGRADE_CHILD).is_some() {
        // A node stops the process in FinalizeBlock of the planned height, before Commit.
        h.advance_to(h.time + 5);
        panic!("block {at} executed despite the upgrade plan");
    }
    // The halt ends the process, so the planned block runs in a child running this same test.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "a_passed_upgrade_plan_stops_the_chain_at_its_height_with_the_plan_in_the_message",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(UPGRADE_CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("UPGRADE \"v2\" NEEDED at height {at}"))
            && stderr.contains("example.com"),
        "{stderr}"
    );
}
