//! The insurance modules end to end over the real store: pricing on chain, cooldowns, frozen
//! terms, reinsurance, the capital requirement, parametric and assessed claims, appeals, and bad
//! input that changes nothing.

mod support;

use support::*;
use surety_proto::surety::{claims, policy, pool};

fn set_pools_and_products(
    state: &mut surety_genesis::AppState,
    pools: Vec<pool::v1::Pool>,
    products: Vec<policy::v1::Product>,
) {
    let mut p = surety_genesis::demo::pools();
    p.pools = pools;
    set_section(state, "pool", &p);
    set_section(
        state,
        "policy",
        &policy::v1::GenesisState {
            params: None,
            products,
            policies: vec![],
        },
    );
}

#[test]
fn a_quote_is_exactly_what_the_purchase_charges() {
    let (mut h, _dir) = demo();
    h.block(GENESIS_TIME + 10, |b| {
        deposit(b, &alice(), 2, 500_000 * USDC).unwrap();
        deposit(b, &alice(), 1, 200_000 * USDC).unwrap()
    })
    .unwrap();
    let q = quote(&h, 4, 40_000 * USDC, 90).unwrap();
    let premium: u128 = q.premium.parse().unwrap();
    assert!(premium > 0);
    let before = usdc(&h, &bob());

    // One unit of slippage room too little: refused, nothing charged.
    let err = h
        .block(GENESIS_TIME + 20, |b| {
            b.deliver(
                &bob(),
                any(&policy::v1::MsgBuyCover {
                    buyer: bob().to_bech32(),
                    product_id: 4,
                    cover: (40_000 * USDC).to_string(),
                    term_days: 90,
                    max_premium: (premium - 1).to_string(),
                }),
            )
        })
        .unwrap()
        .unwrap_err();
    assert_eq!((err.codespace, err.code), ("policy", 7), "{}", err.log);
    assert_eq!(usdc(&h, &bob()), before);

    // Quoted at this state, bought at the same state: the same premium to the unit.
    let q = quote(&h, 4, 40_000 * USDC, 90).unwrap();
    let (id, paid) = h
        .block(h.time, |b| buy(b, &bob(), 4, 40_000 * USDC, 90))
        .unwrap()
        .unwrap();
    assert_eq!(paid.to_string(), q.premium);
    assert_eq!(before - usdc(&h, &bob()), paid);
    let p = policy_of(&h, id);
    assert_eq!(p.premium, q.premium);
    assert_eq!(p.end - p.start, 90 * DAY);
    h.invariants().unwrap();
}

#[test]
fn splitting_a_purchase_never_costs_less_and_utilisation_raises_the_price() {
    let run = |parts: &[u128]| -> Vec<u128> {
        let (mut h, _dir) = demo();
        h.block(GENESIS_TIME + 10, |b| {
            deposit(b, &alice(), 2, 500_000 * USDC).unwrap();
            deposit(b, &alice(), 1, 300_000 * USDC).unwrap();
        })
        .unwrap();
        parts
            .iter()
            .map(|&part| {
                h.block(GENESIS_TIME + 10, |b| buy(b, &bob(), 4, part, 120))
                    .unwrap()
                    .unwrap()
                    .1
            })
            .collect()
    };
    let whole = run(&[90_000 * USDC])[0];
    let halves = run(&[45_000 * USDC, 45_000 * USDC]);
    let tenths = run(&[9_000 * USDC; 10]);
    assert!(halves.iter().sum::<u128>() >= whole);
    assert!(tenths.iter().sum::<u128>() >= whole);
    assert!(
        halves[1] > halves[0],
        "the second half buys at higher utilisation"
    );
}

#[test]
fn capital_in_cooldown_still_bears_an_earlier_incident() {
    let (mut h, _dir) = market(|s| {
        set_pools_and_products(
            s,
            vec![simple_pool(1)],
            vec![protocol_product("Aave", "aave-v3", 500)],
        )
    });
    h.block(GENESIS_TIME + 10, |b| {
        deposit(b, &alice(), 1, 50_000 * USDC).unwrap();
        deposit(b, &carol(), 1, 50_000 * USDC).unwrap();
    })
    .unwrap();
    let (policy, _) = h
        .block(GENESIS_TIME + 20, |b| buy(b, &bob(), 1, 20_000 * USDC, 60))
        .unwrap()
        .unwrap();
    // Alice asks to leave just before the incident.
    let shares = (50_000 * USDC).to_string();
    h.block(GENESIS_TIME + 30, |b| {
        b.deliver(
            &alice(),
            any(&pool::v1::MsgRequestWithdraw {
                provider: alice().to_bech32(),
                pool_id: 1,
                shares: shares.clone(),
            }),
        )
    })
    .unwrap()
    .unwrap();
    let bob_before = usdc(&h, &bob());
    let claim = h
        .block(GENESIS_TIME + 40, |b| {
            let id = confirmed_incident(b.ctx, "aave-v3", GENESIS_TIME + 35);
            file(b, &bob(), policy, &id.to_string(), 0)
        })
        .unwrap()
        .unwrap();
    assert_eq!(claim.status, claims::v1::ClaimStatus::Paid as i32);
    assert_eq!(
        claim.payout,
        (19_000 * USDC).to_string(),
        "cover × (1 − 5%)"
    );
    assert_eq!(usdc(&h, &bob()) - bob_before, 19_000 * USDC);

    // Too early to leave.
    let cooldown = surety_genesis::demo::pools().params.unwrap().cooldown_secs;
    let early = h
        .block(GENESIS_TIME + 30 + cooldown - 1, |b| {
            b.deliver(
                &alice(),
                any(&pool::v1::MsgCompleteWithdraw {
                    provider: alice().to_bech32(),
                    pool_id: 1,
                }),
            )
        })
        .unwrap()
        .unwrap_err();
    assert_eq!((early.codespace, early.code), ("pool", 4));

    let alice_before = usdc(&h, &alice());
    let value_now = capital(&h, 1) / 2;
    h.block(GENESIS_TIME + 30 + cooldown, |b| {
        b.deliver(
            &alice(),
            any(&pool::v1::MsgCompleteWithdraw {
                provider: alice().to_bech32(),
                pool_id: 1,
            }),
        )
    })
    .unwrap()
    .unwrap();
    let received = usdc(&h, &alice()) - alice_before;
    // Half the loss is hers: she leaves with less than she put in, premiums notwithstanding.
    assert!(
        received < 50_000 * USDC - 9_000 * USDC,
        "received {received}"
    );
    assert!(
        received >= value_now,
        "and the premium earned meanwhile is hers too"
    );
    h.invariants().unwrap();
}

#[test]
fn changing_a_product_after_a_purchase_does_not_change_that_policy() {
    let product = protocol_product("Aave", "aave-v3", 500);
    let (mut h, _dir) =
        market(|s| set_pools_and_products(s, vec![simple_pool(1)], vec![product.clone()]));
    h.block(GENESIS_TIME + 10, |b| {
        deposit(b, &alice(), 1, 100_000 * USDC).unwrap()
    })
    .unwrap();
    let (policy, _) = h
        .block(GENESIS_TIME + 20, |b| buy(b, &bob(), 1, 10_000 * USDC, 30))
        .unwrap()
        .unwrap();
    let hash_before = policy_of(&h, policy).terms_hash;
    h.block(GENESIS_TIME + 30, |b| {
        gov(
            b,
            any(&policy::v1::MsgUpdateProduct {
                authority: surety_framework::gov_authority().to_bech32(),
                product: Some(policy::v1::Product {
                    id: 1,
                    deductible_bps: 5_000,
                    ..product
                }),
            }),
        )
        .unwrap()
    })
    .unwrap();
    assert_eq!(policy_of(&h, policy).terms_hash, hash_before);
    let before = usdc(&h, &bob());
    h.block(GENESIS_TIME + 40, |b| {
        let id = confirmed_incident(b.ctx, "aave-v3", GENESIS_TIME + 35);
        file(b, &bob(), policy, &id.to_string(), 0).unwrap()
    })
    .unwrap();
    assert_eq!(
        usdc(&h, &bob()) - before,
        9_500 * USDC,
        "the 5% deductible it was sold with"
    );
    // A new buyer gets the new terms.
    let (second, _) = h
        .block(GENESIS_TIME + 50, |b| {
            buy(b, &carol(), 1, 10_000 * USDC, 30)
        })
        .unwrap()
        .unwrap();
    assert_eq!(policy_of(&h, second).terms.unwrap().deductible_bps, 5_000);
}

#[test]
fn reinsurance_splits_a_loss_by_quota_share_then_excess_of_loss() {
    // Demo pool 1 cedes 20% quota share and an excess of loss of 30 000 over 20 000 to pool 2.
    let (mut h, _dir) = demo();
    h.block(GENESIS_TIME + 10, |b| {
        deposit(b, &carol(), 2, 300_000 * USDC).unwrap();
        deposit(b, &alice(), 1, 300_000 * USDC).unwrap();
    })
    .unwrap();
    let (policy, _) = h
        .block(GENESIS_TIME + 20, |b| buy(b, &bob(), 1, 100_000 * USDC, 60))
        .unwrap()
        .unwrap();
    let (cash1, cash2, bob_before) = (pool_cash(&h, 1), pool_cash(&h, 2), usdc(&h, &bob()));
    h.block(GENESIS_TIME + 30, |b| {
        let id = confirmed_incident(b.ctx, "aave-v3", GENESIS_TIME + 25);
        file(b, &bob(), policy, &id.to_string(), 0).unwrap()
    })
    .unwrap();
    // Due: 100 000 × (1 − 5%) = 95 000. Quota share 20% = 19 000; retained 76 000, of which the
    // excess over 20 000 is 56 000, capped at the 30 000 limit; the pool keeps 46 000.
    assert_eq!(usdc(&h, &bob()) - bob_before, 95_000 * USDC);
    assert_eq!(cash1 - pool_cash(&h, 1), 46_000 * USDC);
    assert_eq!(cash2 - pool_cash(&h, 2), 49_000 * USDC);
    h.invariants().unwrap();
}

#[test]
fn the_capital_requirement_refuses_sales_stops_and_restarts_them() {
    let products = vec![
        protocol_product("A", "a", 0),
        protocol_product("B", "b", 0),
        protocol_product("C", "c", 0),
    ];
    let (mut h, _dir) = market(|s| set_pools_and_products(s, vec![simple_pool(3)], products));
    h.block(GENESIS_TIME + 10, |b| {
        deposit(b, &alice(), 1, 100_000 * USDC).unwrap()
    })
    .unwrap();
    // Two largest incidents must be payable: 50 000 + 50 000 fits 100 000 of capital …
    let (a, _) = h
        .block(GENESIS_TIME + 20, |b| {
            let a = buy(b, &bob(), 1, 50_000 * USDC, 60).unwrap();
            buy(b, &bob(), 2, 50_000 * USDC, 60).unwrap();
            a
        })
        .unwrap();
    // … one unit more does not.
    let err = h
        .block(GENESIS_TIME + 30, |b| buy(b, &bob(), 3, 50_001 * USDC, 60))
        .unwrap()
        .unwrap_err();
    assert_eq!((err.codespace, err.code), ("pool", 6), "{}", err.log);
    h.block(GENESIS_TIME + 30, |b| {
        buy(b, &carol(), 3, 30_000 * USDC, 60).unwrap()
    })
    .unwrap();
    assert!(pool_view(&h, 1).pool.unwrap().selling);

    // A loss on A leaves ~50 000 against B + C = 80 000: sales stop by themselves.
    h.block(GENESIS_TIME + 40, |b| {
        let id = confirmed_incident(b.ctx, "a", GENESIS_TIME + 35);
        file(b, &bob(), a, &id.to_string(), 0).unwrap()
    })
    .unwrap();
    assert!(!pool_view(&h, 1).pool.unwrap().selling);
    let err = h
        .block(GENESIS_TIME + 50, |b| buy(b, &dave(), 3, USDC, 30))
        .unwrap()
        .unwrap_err();
    assert_eq!((err.codespace, err.code), ("policy", 6), "{}", err.log);

    // Fresh capital brings the pool back above its requirement, and sales restart.
    h.block(GENESIS_TIME + 60, |b| {
        deposit(b, &dave(), 1, 40_000 * USDC).unwrap()
    })
    .unwrap();
    assert!(pool_view(&h, 1).pool.unwrap().selling);
    h.block(GENESIS_TIME + 70, |b| buy(b, &dave(), 3, USDC, 30).unwrap())
        .unwrap();
    h.invariants().unwrap();
}

#[test]
fn depeg_and_impermanent_loss_cover_pay_their_formulas_in_the_same_block() {
    let (mut h, _dir) = demo();
    h.block(GENESIS_TIME + 10, |b| {
        deposit(b, &carol(), 2, 300_000 * USDC).unwrap();
        deposit(b, &alice(), 1, 300_000 * USDC).unwrap();
    })
    .unwrap();
    let (depeg, il) = h
        .block(GENESIS_TIME + 20, |b| {
            (
                buy(b, &bob(), 2, 10_000 * USDC, 30).unwrap().0,
                buy(b, &dave(), 3, 10_000 * USDC, 30).unwrap().0,
            )
        })
        .unwrap();
    // Too soon: the price has not been below 0.97 for the product's 60 s.
    h.block(GENESIS_TIME + 100, |b| set_price(b.ctx, "USDC/USD", "0.9"))
        .unwrap();
    let err = h
        .block(GENESIS_TIME + 130, |b| file(b, &bob(), depeg, "", 0))
        .unwrap()
        .unwrap_err();
    assert_eq!((err.codespace, err.code), ("claims", 5), "{}", err.log);
    assert_eq!(price_now(&h, "USDC/USD"), Some("0.9".parse().unwrap()));

    let before = usdc(&h, &bob());
    let paid = h
        .block(GENESIS_TIME + 160, |b| {
            file(b, &bob(), depeg, "", 0).unwrap()
        })
        .unwrap();
    assert_eq!(
        paid.payout,
        (1_000 * USDC).to_string(),
        "10 000 × (1 − 0.90)"
    );
    assert_eq!(usdc(&h, &bob()) - before, 1_000 * USDC);
    // Paid once: the cover is spent.
    let again = h
        .block(GENESIS_TIME + 170, |b| file(b, &bob(), depeg, "", 0))
        .unwrap()
        .unwrap_err();
    assert_eq!((again.codespace, again.code), ("claims", 4));

    // ETH quadruples: impermanent loss 20%, less the 2% threshold = 18% of the position.
    h.block(GENESIS_TIME + 200, |b| set_price(b.ctx, "ETH/USD", "12000"))
        .unwrap();
    let before = usdc(&h, &dave());
    h.block(GENESIS_TIME + 210, |b| file(b, &dave(), il, "", 0).unwrap())
        .unwrap();
    assert_eq!(usdc(&h, &dave()) - before, 1_800 * USDC);
    h.invariants().unwrap();
}

fn stake(b: &mut surety_app::testing::Block, who: &surety_framework::Address, amount: u128) {
    b.deliver(
        who,
        any(&claims::v1::MsgStakeAssessor {
            assessor: who.to_bech32(),
            amount: amount.to_string(),
        }),
    )
    .unwrap();
}

fn vote(
    b: &mut surety_app::testing::Block,
    who: &surety_framework::Address,
    claim: u64,
    approve: bool,
) -> Result<Vec<u8>, surety_framework::Error> {
    b.deliver(
        who,
        any(&claims::v1::MsgVoteClaim {
            assessor: who.to_bech32(),
            claim_id: claim,
            approve,
        }),
    )
}

#[test]
fn assessed_claims_are_decided_by_stake_weighted_votes_and_appeals_by_governance() {
    let (mut h, _dir) = demo();
    let voting = surety_genesis::demo::claims_params()
        .params
        .unwrap()
        .voting_period_secs;
    let t0 = GENESIS_TIME + 10;
    h.block(t0, |b| {
        deposit(b, &alice(), 2, 300_000 * USDC).unwrap();
        deposit(b, &alice(), 1, 300_000 * USDC).unwrap();
        stake(b, &carol(), 3_000_000);
        stake(b, &dave(), 1_000_000);
    })
    .unwrap();
    let (p1, p2, p3) = h
        .block(t0 + 10, |b| {
            (
                buy(b, &bob(), 4, 10_000 * USDC, 60).unwrap().0,
                buy(b, &bob(), 4, 10_000 * USDC, 60).unwrap().0,
                buy(b, &bob(), 4, 10_000 * USDC, 60).unwrap().0,
            )
        })
        .unwrap();
    let bob_start = usdc(&h, &bob());
    let carol_start = usdc(&h, &carol());
    let (c1, c2, c3) = h
        .block(t0 + 20, |b| {
            (
                file(b, &bob(), p1, "exchange halted withdrawals", 4_000 * USDC)
                    .unwrap()
                    .claim_id,
                file(b, &bob(), p2, "", 4_000 * USDC).unwrap().claim_id,
                file(b, &bob(), p3, "", 4_000 * USDC).unwrap().claim_id,
            )
        })
        .unwrap();
    // Deposit (10) and fee (1) locked per claim.
    assert_eq!(bob_start - usdc(&h, &bob()), 33 * USDC);
    h.block(t0 + 30, |b| {
        vote(b, &carol(), c1, true).unwrap();
        vote(b, &dave(), c1, false).unwrap();
        vote(b, &carol(), c2, false).unwrap();
        vote(b, &carol(), c3, false).unwrap();
        // Bad input, each refused without effect.
        let twice = vote(b, &carol(), c1, false).unwrap_err();
        assert_eq!((twice.codespace, twice.code), ("claims", 8));
        let own = vote(b, &bob(), c1, true).unwrap_err();
        assert_eq!((own.codespace, own.code), ("claims", 9));
        let locked = b
            .deliver(
                &carol(),
                any(&claims::v1::MsgUnstakeAssessor {
                    assessor: carol().to_bech32(),
                    amount: "1".into(),
                }),
            )
            .unwrap_err();
        assert_eq!((locked.codespace, locked.code), ("claims", 10));
    })
    .unwrap();
    // Voting closes: c1 approved by 3 of 4 of the stake, c2 and c3 rejected.
    h.block(t0 + 20 + voting, |_| ()).unwrap();
    let late = h
        .block(t0 + 21 + voting, |b| vote(b, &dave(), c2, true))
        .unwrap()
        .unwrap_err();
    assert_eq!((late.codespace, late.code), ("claims", 7));
    assert_eq!(
        claim_of(&h, c1).status,
        claims::v1::ClaimStatus::Paid as i32
    );
    assert_eq!(
        claim_of(&h, c2).status,
        claims::v1::ClaimStatus::Rejected as i32
    );
    // 4 000 × (1 − 10%) paid, deposit back; carol, alone on the winning side of all three, earns
    // the three fees.
    assert_eq!(
        usdc(&h, &bob()),
        bob_start - 33 * USDC + 3_600 * USDC + 10 * USDC
    );
    assert_eq!(usdc(&h, &carol()) - carol_start, 3 * USDC);

    // Bob appeals c2 and governance approves; c3 is never appealed.
    h.block(t0 + 30 + voting, |b| {
        b.deliver(
            &bob(),
            any(&claims::v1::MsgAppealClaim {
                claimant: bob().to_bech32(),
                claim_id: c2,
            }),
        )
        .unwrap()
    })
    .unwrap();
    assert_eq!(
        claim_of(&h, c2).status,
        claims::v1::ClaimStatus::Appealed as i32
    );
    let before = usdc(&h, &bob());
    h.block(t0 + 40 + voting, |b| {
        gov(
            b,
            any(&claims::v1::MsgResolveAppeal {
                authority: surety_framework::gov_authority().to_bech32(),
                claim_id: c2,
                approve: true,
            }),
        )
        .unwrap()
    })
    .unwrap();
    // Payout, deposit and the 50 USDC bond.
    assert_eq!(
        usdc(&h, &bob()) - before,
        3_600 * USDC + 10 * USDC + 50 * USDC
    );

    // c3's appeal window closes: its deposit goes to the treasury and the policy can be claimed
    // again.
    let window = surety_genesis::demo::claims_params()
        .params
        .unwrap()
        .appeal_window_secs;
    let treasury = surety_framework::Address::module(surety_claims::TREASURY);
    let treasury_before = usdc(&h, &treasury);
    h.block(t0 + 20 + voting + window, |_| ()).unwrap();
    assert_eq!(usdc(&h, &treasury) - treasury_before, 10 * USDC);
    let appeal_late = h
        .block(t0 + 21 + voting + window, |b| {
            b.deliver(
                &bob(),
                any(&claims::v1::MsgAppealClaim {
                    claimant: bob().to_bech32(),
                    claim_id: c3,
                }),
            )
        })
        .unwrap()
        .unwrap_err();
    assert_eq!((appeal_late.codespace, appeal_late.code), ("claims", 11));
    h.invariants().unwrap();
}

#[test]
fn bad_claims_and_purchases_are_refused_with_clear_errors_and_change_nothing() {
    let (mut h, _dir) = demo();
    h.block(GENESIS_TIME + 10, |b| {
        deposit(b, &alice(), 2, 300_000 * USDC).unwrap();
        deposit(b, &alice(), 1, 300_000 * USDC).unwrap();
    })
    .unwrap();
    let (policy, _) = h
        .block(GENESIS_TIME + 20, |b| buy(b, &bob(), 1, 1_000 * USDC, 30))
        .unwrap()
        .unwrap();
    let snapshot = |h: &surety_app::testing::Harness| {
        (
            usdc(h, &bob()),
            usdc(h, &carol()),
            pool_cash(h, 1),
            pool_cash(h, 2),
        )
    };
    let before = snapshot(&h);
    let errors = h
        .block(GENESIS_TIME + 30, |b| {
            let pending = surety_oracle::Oracle::default()
                .record_incident(
                    b.ctx,
                    "aave-v3",
                    GENESIS_TIME + 25,
                    "unconfirmed",
                    surety_proto::surety::oracle::v1::IncidentStatus::Pending,
                )
                .unwrap();
            let other = confirmed_incident(b.ctx, "compound", GENESIS_TIME + 25);
            vec![
                file(b, &carol(), policy, "1", 0).unwrap_err(),
                file(b, &bob(), policy, &pending.to_string(), 0).unwrap_err(),
                file(b, &bob(), policy, &other.to_string(), 0).unwrap_err(),
                file(b, &bob(), policy, "not-a-number", 0).unwrap_err(),
                file(b, &bob(), 999, "1", 0).unwrap_err(),
                buy(b, &bob(), 99, USDC, 30).unwrap_err(),
                buy(b, &bob(), 1, USDC, 5).unwrap_err(),
                buy(b, &bob(), 1, 0, 30).unwrap_err(),
                buy(b, &bob(), 1, 2_000_000 * USDC, 30).unwrap_err(),
                deposit(b, &bob(), 1, 0).unwrap_err(),
                deposit(b, &bob(), 9, USDC).unwrap_err(),
                b.deliver(
                    &bob(),
                    any(&policy::v1::MsgCreateProduct {
                        authority: bob().to_bech32(),
                        product: Some(protocol_product("X", "x", 0)),
                    }),
                )
                .unwrap_err(),
            ]
        })
        .unwrap();
    let codes: Vec<_> = errors.iter().map(|e| (e.codespace, e.code)).collect();
    assert_eq!(
        codes,
        vec![
            ("claims", 3),
            ("claims", 5),
            ("claims", 5),
            ("claims", 13),
            ("policy", 8),
            ("policy", 2),
            ("policy", 4),
            // A zero cover fails the message's stateless check, before any state is read.
            ("sdk", 10),
            ("policy", 5),
            ("sdk", 10),
            ("pool", 2),
            ("sdk", 4),
        ],
        "{:#?}",
        errors.iter().map(|e| &e.log).collect::<Vec<_>>()
    );
    assert_eq!(snapshot(&h), before);
    h.invariants().unwrap();
}
