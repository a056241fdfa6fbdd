//! Underwriting v2 through real blocks on the real store: partial claims that leave the rest of
//! the cover in force, waiting periods, capacity caps, recoveries flowing back to the pools that
//! paid, and validator slashing cover paid from the chain's own slashes.

mod support;

use support::*;
use surety_app::testing::{TestChain, Tx};
use surety_framework::{Address, Evidence};
use surety_proto::surety::{claims, policy};

/// The demo market with capital in both USDC pools ([`capitalised`]), and carol staked as the
/// only assessor.
fn with_assessor() -> TestChain {
    let mut h = capitalised();
    all_ok(h.block(GENESIS_TIME + 11, vec![stake_tx(&carol(), 3_000_000)]));
    h
}

fn active_cover(h: &TestChain, pool: u64) -> u128 {
    pool_view(h, pool)
        .pool
        .unwrap()
        .active_cover
        .parse()
        .unwrap()
}

fn claimed_cover(p: &policy::v1::Policy) -> u128 {
    p.claimed_cover.parse().unwrap_or(0)
}

/// Files an assessed claim, has carol approve it and closes the vote; returns the claim.
fn approved(h: &mut TestChain, who: &Address, policy: u64, incident: &str, loss: u128) -> u64 {
    let id = file(h, who, policy, incident, loss).unwrap().claim_id;
    let t = h.time + 1;
    all_ok(h.block(t, vec![vote_tx(&carol(), id, true)]));
    let voting = surety_genesis::demo::claims_params()
        .params
        .unwrap()
        .voting_period_secs;
    let t = h.time + voting;
    h.advance_to(t);
    assert_eq!(claim_of(h, id).status, claims::v1::ClaimStatus::Paid as i32);
    id
}

#[test]
fn a_partial_claim_leaves_the_rest_of_the_cover_in_force() {
    let mut h = with_assessor();
    let before_sale = active_cover(&h, 1);
    // Custody cover (product 4): assessed, 10% deductible.
    let (p, _) = buy(&mut h, &bob(), 4, 10_000 * USDC, 60).unwrap();
    assert_eq!(active_cover(&h, 1) - before_sale, 10_000 * USDC);

    let bob_before = usdc(&h, &bob());
    let c1 = approved(&mut h, &bob(), p, "withdrawals halted", 4_000 * USDC);
    assert_eq!(claim_of(&h, c1).payout, (3_600 * USDC).to_string());
    // Less the 1 USDC assessment fee; the deposit came back.
    assert_eq!(usdc(&h, &bob()) - bob_before, 3_599 * USDC);
    let policy = policy_of(&h, p);
    assert!(!policy.claimed, "6 000 of cover remain");
    assert_eq!(claimed_cover(&policy), 4_000 * USDC);
    assert_eq!(
        active_cover(&h, 1) - before_sale,
        6_000 * USDC,
        "the pool's exposure follows the remaining cover"
    );

    // One incident pays a policy once.
    let again = file(&mut h, &bob(), p, "withdrawals halted", 1_000 * USDC).unwrap_err();
    assert_error(&again, "claims", 4);
    assert!(again.log.contains("already paid"), "{}", again.log);

    // A second incident: 8 000 lost, counted up to the 6 000 that remain.
    let c2 = approved(&mut h, &bob(), p, "hot wallet drained", 8_000 * USDC);
    assert_eq!(claim_of(&h, c2).payout, (5_400 * USDC).to_string());
    let policy = policy_of(&h, p);
    assert!(policy.claimed, "the cover is used up");
    assert_eq!(claimed_cover(&policy), 10_000 * USDC);
    assert_eq!(
        active_cover(&h, 1),
        before_sale,
        "used up: released at once"
    );
    let spent = file(&mut h, &bob(), p, "third incident", USDC).unwrap_err();
    assert_error(&spent, "claims", 4);
    h.invariants().unwrap();
}

#[test]
fn depeg_cover_pays_a_deepening_depeg_only_the_difference() {
    let mut h = capitalised();
    let (p, _) = buy(&mut h, &bob(), 2, 10_000 * USDC, 30).unwrap();
    let start = usdc(&h, &bob());
    let paid = |h: &TestChain| usdc(h, &bob()) - start;
    // Below 0.97 for the trigger's 60 s, paid automatically: 10 000 × (1 − 0.95).
    set_price(&mut h, "USDC/USD", "0.95");
    for _ in 0..8 {
        let t = h.time + 10;
        h.block(t, vec![]);
    }
    assert_eq!(paid(&h), 500 * USDC);
    assert!(!policy_of(&h, p).claimed, "9 500 of cover remain");
    // Deeper: 10% in all; the 5% already paid is not paid again.
    set_price(&mut h, "USDC/USD", "0.90");
    for _ in 0..8 {
        let t = h.time + 10;
        h.block(t, vec![]);
    }
    assert_eq!(paid(&h), 1_000 * USDC);
    assert_eq!(claimed_cover(&policy_of(&h, p)), 1_000 * USDC);
    // Back to 0.95: no deeper than what was paid for.
    set_price(&mut h, "USDC/USD", "0.95");
    for _ in 0..8 {
        let t = h.time + 10;
        h.block(t, vec![]);
    }
    assert_eq!(paid(&h), 1_000 * USDC);
    let manual = file(&mut h, &bob(), p, "", 0).unwrap_err();
    assert_error(&manual, "claims", 5);
    h.invariants().unwrap();
}

#[test]
fn cover_bought_inside_the_waiting_period_does_not_pay_for_an_incident() {
    let product = policy::v1::Product {
        waiting_period_secs: DAY,
        ..protocol_product("Waiting", "wait-fi", 0)
    };
    let mut h = market(|s| set_pools_and_products(s, vec![simple_pool(1)], vec![product]));
    deposit(&mut h, &alice(), 1, 300_000 * USDC).unwrap();
    let (early, _) = buy(&mut h, &bob(), 1, 1_000 * USDC, 30).unwrap();
    h.advance_to(h.time + 2 * DAY);
    let (late, _) = buy(&mut h, &dave(), 1, 1_000 * USDC, 30).unwrap();
    let (bob_before, dave_before) = (usdc(&h, &bob()), usdc(&h, &dave()));
    let at = h.time + 60;
    h.advance_to(at + 1);
    let incident = confirmed_incident(&mut h, "wait-fi", at);
    assert_eq!(usdc(&h, &bob()) - bob_before, 1_000 * USDC, "past its wait");
    assert_eq!(usdc(&h, &dave()), dave_before, "inside its wait");
    assert!(policy_of(&h, early).claimed);
    let err = file(&mut h, &dave(), late, &incident.to_string(), 0).unwrap_err();
    assert_error(&err, "claims", 5);
    assert!(err.log.contains("waiting period"), "{}", err.log);
    h.invariants().unwrap();
}

#[test]
fn capacity_caps_bound_a_product_and_each_policy_in_the_quote_and_the_sale() {
    let product = policy::v1::Product {
        max_cover_in_force: (50_000 * USDC).to_string(),
        max_policy_share_bps: 2_000,
        ..protocol_product("Capped", "capped-fi", 0)
    };
    let mut h = market(|s| set_pools_and_products(s, vec![simple_pool(1)], vec![product]));
    deposit(&mut h, &alice(), 1, 300_000 * USDC).unwrap();
    let q = quote(&h, 1, 10_000 * USDC, 30).unwrap();
    assert_eq!(
        q.capacity,
        (50_000 * USDC).to_string(),
        "the cap, not the pool's room"
    );
    assert_eq!(q.max_policy_cover, (10_000 * USDC).to_string(), "20% of it");
    assert_eq!(q.in_force, "0");

    let too_large = quote(&h, 1, 10_001 * USDC, 30).unwrap_err();
    assert_error(&too_large, "policy", 13);
    let refused = buy(&mut h, &bob(), 1, 10_001 * USDC, 30).unwrap_err();
    assert_error(&refused, "policy", 13);

    let t = h.time + 1;
    all_ok(
        h.block(
            t,
            (0..5)
                .map(|_| buy_tx(&bob(), 1, 10_000 * USDC, 30))
                .collect(),
        ),
    );
    assert_eq!(quote(&h, 1, USDC, 30).unwrap_err().code, 6, "full");
    let over = buy(&mut h, &dave(), 1, USDC, 30).unwrap_err();
    assert_error(&over, "policy", 6);
    h.invariants().unwrap();
}

fn recover_tx(who: &Address, incident: &str, amount: u128) -> Tx {
    Tx::new(
        who,
        any(&claims::v1::MsgRecordRecovery {
            sender: who.to_bech32(),
            incident: incident.into(),
            amount: Some(surety_proto::cosmos::base::v1beta1::Coin {
                denom: "uusdc".into(),
                amount: amount.to_string(),
            }),
        }),
    )
}

#[test]
fn recovered_funds_flow_back_to_the_pools_that_paid_in_proportion() {
    let mut h = capitalised();
    let (p, _) = buy(&mut h, &bob(), 1, 100_000 * USDC, 60).unwrap();
    let at = h.time;
    let id = confirmed_incident(&mut h, "aave-v3", at);
    let incident = format!("incident:{id}");
    // 95 000 paid: 46 000 by pool 1, 49 000 by its reinsurer, pool 2 (see insurance.rs).
    assert!(policy_of(&h, p).claimed);
    let (cap1, cap2, bob_after_payout) = (capital(&h, 1), capital(&h, 2), usdc(&h, &bob()));
    let share_value = |h: &TestChain, pool: u64| {
        let v = pool_view(h, pool);
        let shares: u128 = v.pool.unwrap().total_shares.parse().unwrap();
        v.capital.parse::<u128>().unwrap() * 1_000_000 / shares
    };
    let (value1, value2) = (share_value(&h, 1), share_value(&h, 2));

    // The exploiter returns half: dave, who holds it, sends it on.
    let dave_before = usdc(&h, &dave());
    all_ok(h.block(
        h.time + 1,
        vec![recover_tx(&dave(), &incident, 47_500 * USDC)],
    ));
    assert_eq!(capital(&h, 1) - cap1, 23_000 * USDC, "46/95 of it");
    assert_eq!(capital(&h, 2) - cap2, 24_500 * USDC, "49/95 of it");
    assert!(share_value(&h, 1) > value1 && share_value(&h, 2) > value2);
    assert_eq!(
        usdc(&h, &bob()),
        bob_after_payout,
        "the claimant keeps his payout"
    );

    // More than the pools paid: only what they have yet to recover is taken.
    let r = h
        .block(
            h.time + 1,
            vec![recover_tx(&dave(), &incident, 100_000 * USDC)],
        )
        .remove(0)
        .unwrap();
    let r: claims::v1::MsgRecordRecoveryResponse = decode(r);
    assert_eq!(r.recovered, (47_500 * USDC).to_string());
    assert_eq!(dave_before - usdc(&h, &dave()), 95_000 * USDC);
    assert_eq!(capital(&h, 1) - cap1, 46_000 * USDC);
    assert_eq!(capital(&h, 2) - cap2, 49_000 * USDC);

    for bad in [incident.as_str(), "incident:999"] {
        let before = usdc(&h, &dave());
        let err = h
            .block(h.time + 1, vec![recover_tx(&dave(), bad, USDC)])
            .remove(0)
            .unwrap_err();
        assert_error(&err, "pool", 12);
        assert_eq!(
            before - usdc(&h, &dave()),
            0,
            "only the fee: fees are in usure"
        );
    }
    h.invariants().unwrap();
}

/// Alice (key 1, 1 000 SURE) and bob (key 2, 500) validate; double signing costs 5%. Dave puts
/// 100 000 SURE into the slashing pool (pool 3).
fn validators() -> TestChain {
    let mut h = market(|state| {
        set_section(
            state,
            "slashing",
            &serde_json::json!({"params": {
                "signed_blocks_window": "10",
                "min_signed_per_window": "0.5",
                "slash_fraction_double_sign": "0.05",
            }}),
        )
    });
    all_ok(h.block(
        GENESIS_TIME + 10,
        vec![
            create_validator(&alice(), 1, 1_000),
            create_validator(&bob(), 2, 500),
            deposit_tx(&dave(), 3, 100_000 * SURE),
        ],
    ));
    // They sign from height 4: CometBFT applies validator updates two heights later.
    for _ in 0..2 {
        let t = h.time + 5;
        h.block(t, vec![]);
    }
    h
}

fn slashing_cover_tx(who: &Address, validator: &Address, cover: u128) -> Tx {
    Tx::new(
        who,
        any(&policy::v1::MsgBuyCover {
            buyer: who.to_bech32(),
            product_id: 5,
            cover: cover.to_string(),
            term_days: 30,
            max_premium: u128::MAX.to_string(),
            validator: valoper(validator),
        }),
    )
}

#[test]
fn slashing_cover_pays_a_delegators_loss_in_the_block_of_the_slash() {
    let mut h = validators();
    let t = h.time + 5;
    all_ok(h.block(
        t,
        vec![
            delegate_to(&carol(), &alice(), 300),
            delegate_to(&dave(), &bob(), 100),
        ],
    ));
    // More cover than the delegation it insures is refused.
    let t = h.time + 5;
    let r = h.block(t, vec![slashing_cover_tx(&carol(), &alice(), 301 * SURE)]);
    let err = r[0].clone().unwrap_err();
    assert_error(&err, "policy", 14);
    let t = h.time + 5;
    let r = h.block(
        t,
        vec![
            slashing_cover_tx(&carol(), &alice(), 200 * SURE),
            slashing_cover_tx(&dave(), &bob(), 100 * SURE),
        ],
    );
    let (carols, _) = bought(r[0].clone()).unwrap();
    let (daves, _) = bought(r[1].clone()).unwrap();

    let before = (
        balance(&h, &carol(), "usure"),
        balance(&h, &dave(), "usure"),
    );
    h.next_evidence.push(Evidence {
        address: consensus_address(1),
        height: h.height,
    });
    let t = h.time + 5;
    h.block(t, vec![]);
    // Alice's 1 300 SURE lost 5%; carol's insured 200 of her 300 lost 10 SURE, paid at once.
    assert_eq!(
        balance(&h, &carol(), "usure") - before.0,
        10 * SURE,
        "paid in the block of the slash"
    );
    assert_eq!(
        balance(&h, &dave(), "usure"),
        before.1,
        "bob was not slashed"
    );
    let policy = policy_of(&h, carols);
    assert!(!policy.claimed, "190 SURE of cover remain");
    assert_eq!(claimed_cover(&policy), 10 * SURE);
    assert!(!policy_of(&h, daves).claimed);
    h.invariants().unwrap();
}
