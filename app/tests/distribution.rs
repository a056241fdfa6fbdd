//! Rewards through the real modules and store: transaction fees reach the fee collector and are
//! allocated over the last commit's votes (CometBFT's powers), less the community tax; validators
//! keep their commission; delegators share the rest by stake, lazily (F1); a delegation change
//! settles rewards first; and what is withdrawn plus what remains equals the fees collected, to
//! the unit. The genesis validator (power 1) earns its share like any other.

mod support;

use support::*;
use surety_app::testing::{TestChain, Tx};
use surety_framework::{Address, Coins, Evidence};
use surety_proto::cosmos::bank::v1beta1::MsgSend;
use surety_proto::cosmos::base::v1beta1::Coin;
use surety_proto::cosmos::distribution::v1beta1 as distribution;
use surety_proto::to_any;

/// Dave pays `fee` on a transaction of his own (a unit to himself), in a block of its own; the
/// next block allocates it over this block's commit.
fn pay_fee(h: &mut TestChain, fee: &str) {
    let before = Coins::of(balance(h, &dave(), "usure"), "usure")
        .checked_add(&Coins::of(balance(h, &dave(), "uusdc"), "uusdc"))
        .unwrap();
    let send = Tx::new(
        &dave(),
        to_any(&MsgSend {
            from_address: dave().to_bech32(),
            to_address: dave().to_bech32(),
            amount: vec![Coin {
                denom: "usure".into(),
                amount: "1".into(),
            }],
        }),
    )
    .fee(fee);
    let t = h.time + 5;
    h.block(t, vec![send]).remove(0).unwrap();
    let after = Coins::of(balance(h, &dave(), "usure"), "usure")
        .checked_add(&Coins::of(balance(h, &dave(), "uusdc"), "uusdc"))
        .unwrap();
    assert_eq!(
        after.checked_add(&fee.parse().unwrap()).unwrap(),
        before,
        "dave paid the fee"
    );
}

fn withdraw_tx(who: &Address, from: &Address) -> Tx {
    Tx::new(
        who,
        to_any(&distribution::MsgWithdrawDelegatorReward {
            delegator_address: who.to_bech32(),
            validator_address: valoper(from),
        }),
    )
}

fn commission_tx(validator: &Address) -> Tx {
    Tx::new(
        validator,
        to_any(&distribution::MsgWithdrawValidatorCommission {
            validator_address: valoper(validator),
        }),
    )
}

/// The coins a withdrawal of rewards or commission paid.
fn paid(r: Result<Vec<u8>, surety_framework::Error>) -> Coins {
    // Both responses carry the amount in field 1.
    let r: distribution::MsgWithdrawDelegatorRewardResponse = decode(r.unwrap());
    Coins::from_proto(&r.amount).unwrap()
}

fn distribution_balance(h: &TestChain, denom: &str) -> u128 {
    balance(
        h,
        &Address::module(surety_distribution::DISTRIBUTION_ACCOUNT),
        denom,
    )
}

/// CometBFT's powers for the next block, highest first.
fn powers(h: &TestChain) -> Vec<i64> {
    h.validator_set().iter().map(|(_, p)| *p).collect()
}

/// Creates validators (and delegations) in one block, then an empty one: CometBFT applies the
/// updates two heights later, so the next block is the first they sign.
fn bond(h: &mut TestChain, txs: Vec<Tx>) {
    let r = h.block(GENESIS_TIME + 10, txs);
    assert!(r.iter().all(|r| r.is_ok()), "{r:?}");
    h.block(h.time + 5, vec![]);
}

#[test]
fn rewards_follow_power_commission_and_stake_to_the_unit() {
    let mut h = demo();
    // Alice validates with 1 000 SURE (carol adds 300), bob with 500; both charge 10%, as does
    // the genesis validator (1 SURE).
    bond(
        &mut h,
        vec![
            create_validator(&alice(), 1, 1_000),
            create_validator(&bob(), 2, 500),
            delegate_to(&carol(), &alice(), 300),
        ],
    );
    assert_eq!(powers(&h), vec![1_300, 500, 1]);
    pay_fee(&mut h, "1000000usure,200000uusdc");
    // The next block allocates them over the fee block's commit: 1 300, 500 and 1 of 1 801.
    h.block(h.time + 5, vec![]);

    let (usure0, uusdc0) = (
        balance(&h, &alice(), "usure"),
        balance(&h, &alice(), "uusdc"),
    );
    let genesis_validator = addr(GENESIS_VALIDATOR);
    let r = h.block(
        h.time + 5,
        vec![
            withdraw_tx(&alice(), &alice()),
            commission_tx(&alice()),
            withdraw_tx(&carol(), &alice()),
            withdraw_tx(&bob(), &bob()),
            commission_tx(&bob()),
            withdraw_tx(&genesis_validator, &genesis_validator),
            commission_tx(&genesis_validator),
        ],
    );
    let paid: Vec<Coins> = r.into_iter().map(paid).collect();
    let usure: Vec<u128> = paid.iter().map(|c| c.amount_of("usure")).collect();
    // 1 000 000 less 2% tax = 980 000: alice's validator 1 300/1 801 = 707 384.78…, bob's
    // 500/1 801 = 272 071.07…, the genesis validator's 1/1 801 = 544.14…. Commission 10%:
    // 70 738.47…, 27 207.10… and 54.41…; alice's delegators share 636 646.30… by stake
    // (1 000 : 300 → 489 727.92… and 146 918.37…); bob's get 244 863.96…, the genesis
    // validator's 489.72…. Each payout is the whole units.
    assert_eq!(
        usure,
        vec![489_727, 70_738, 146_918, 244_863, 27_207, 489, 54]
    );
    assert_eq!(balance(&h, &alice(), "usure") - usure0, 489_727 + 70_738);
    // The 200 000 uusdc of fees split the same way: alice 97 945.58… and 14 147.69….
    assert_eq!(balance(&h, &alice(), "uusdc") - uusdc0, 97_945 + 14_147);

    // What was paid plus what remains is what came in: the 2% tax and four units made of the
    // seven payouts' fractions (0.93 + 0.48 + 0.38 + 0.96 + 0.11 + 0.73 + 0.41).
    let withdrawn: u128 = usure.iter().sum();
    assert_eq!(withdrawn + distribution_balance(&h, "usure"), 1_000_000);
    assert_eq!(distribution_balance(&h, "usure"), 20_000 + 4);
    h.invariants().unwrap();
}

#[test]
fn a_delegation_change_settles_rewards_first_and_a_slash_reduces_what_follows() {
    let mut h = demo();
    bond(
        &mut h,
        vec![
            create_validator(&alice(), 1, 1_000),
            delegate_to(&carol(), &alice(), 1_000),
        ],
    );
    assert_eq!(powers(&h), vec![2_000, 1]);
    pay_fee(&mut h, "1000000usure");
    h.block(h.time + 5, vec![]);
    // Carol doubles her stake: her rewards so far are paid out on the spot. Alice's validator
    // earned 2 000/2 001 of 980 000 (the genesis validator the rest), 881 559.22… after
    // commission; carol's half is 440 779.61….
    let before = balance(&h, &carol(), "usure");
    let t = h.time + 5;
    h.block(t, vec![delegate_to(&carol(), &alice(), 1_000)])
        .remove(0)
        .unwrap();
    assert_eq!(
        balance(&h, &carol(), "usure"),
        before - 1_000 * SURE + 440_779
    );
    // One more block, so CometBFT's set (and the next commit) has alice's 3 000.
    h.block(h.time + 5, vec![]);
    assert_eq!(powers(&h), vec![3_000, 1]);

    // Alice double-signs: 5% of every stake is gone, and rewards after it follow the smaller
    // stake. Carol now holds 2 000 of 3 000. The fees paid in the evidence block are allocated
    // over its commit, which alice signed with 3 000 before she was jailed.
    h.next_evidence.push(Evidence {
        address: consensus_address(1),
        height: h.height,
    });
    pay_fee(&mut h, "1000000usure");
    let v = h
        .read(|ctx| {
            surety_staking::Staking::default().by_consensus_address(ctx, &consensus_address(1))
        })
        .unwrap()
        .unwrap();
    assert!(v.proto.jailed);
    assert_eq!(v.tokens, 2_850 * SURE, "5% of 3 000");
    h.block(h.time + 5, vec![]);
    let t = h.time + 5;
    let r = h.block(t, vec![withdraw_tx(&carol(), &alice())]).remove(0);
    // Alice's validator earned 3 000/3 001 of 980 000, 881 706.09… for its delegators; two
    // thirds to carol: 587 804.06…, whatever the slash did to the stake — both stakes shrank by
    // the same 5%. (Paid at her pre-slash 2 000 of 2 850 it would be 618 741.)
    assert_eq!(paid(r).amount_of("usure"), 587_804);
    h.invariants().unwrap();
}

#[test]
fn governance_spends_from_the_community_pool() {
    let mut h = demo();
    bond(&mut h, vec![create_validator(&alice(), 1, 1_000)]);
    pay_fee(&mut h, "1000000usure");
    h.block(h.time + 5, vec![]);
    // 2% of 1 000 000 went to the community pool (alice and the genesis validator share the
    // rest, 1 000 : 1).
    let pool: distribution::QueryCommunityPoolResponse = h
        .query(
            "/cosmos.distribution.v1beta1.Query/CommunityPool",
            &distribution::QueryCommunityPoolRequest {},
        )
        .unwrap();
    assert_eq!(
        pool.pool[0].amount.parse::<u128>().unwrap() / 10u128.pow(18),
        20_000
    );
    let spend = |amount: u128| {
        to_any(&distribution::MsgCommunityPoolSpend {
            authority: gov_authority().to_bech32(),
            recipient: carol().to_bech32(),
            amount: vec![Coin {
                denom: "usure".into(),
                amount: amount.to_string(),
            }],
        })
    };
    let before = balance(&h, &carol(), "usure");
    gov(&mut h, spend(15_000)).unwrap();
    assert_eq!(balance(&h, &carol(), "usure"), before + 15_000);
    // The pool held 5 000 after the first: the second passes its vote and fails to execute.
    let failed = gov(&mut h, spend(25_000)).unwrap_err();
    assert!(
        failed.log.contains("Failed") && failed.log.contains("community pool"),
        "{}",
        failed.log
    );
    assert_eq!(balance(&h, &carol(), "usure"), before + 15_000);
    h.invariants().unwrap();
}
