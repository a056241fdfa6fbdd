//! The insurance modules end to end through real blocks: pricing on chain, cooldowns, frozen
//! terms, reinsurance, the capital requirement, parametric and assessed claims, appeals, and bad
//! input that changes nothing.

mod support;

use prost::Message;

use support::*;
use surety_app::testing::{TestChain, Tx, TxResult};
use surety_framework::Address;
use surety_proto::surety::{claims, oracle, policy, pool};

/// The one claim on `policy`: parametric cover is paid without anyone filing, in the block
/// whose oracle state set off its trigger (a confirmed incident of its protocol).
fn only_claim(h: &TestChain, policy: u64) -> claims::v1::Claim {
    let r: claims::v1::QueryClaimsResponse = h
        .query(
            "/surety.claims.v1.Query/Claims",
            &claims::v1::QueryClaimsRequest {
                policy_id: policy,
                pagination: None,
            },
        )
        .unwrap();
    assert_eq!(r.claims.len(), 1, "{:#?}", r.claims);
    r.claims.into_iter().next().unwrap()
}

/// The validators report `price` for `feed` in their votes of the block at `time` (an empty
/// block), which records it at that time.
fn price_from(h: &mut TestChain, time: i64, feed: &str, price: &str) {
    h.observed.insert(feed.into(), price.into());
    h.block(time, vec![]);
}

#[test]
fn a_quote_is_exactly_what_the_purchase_charges() {
    let mut h = demo();
    all_ok(h.block(
        GENESIS_TIME + 10,
        vec![
            deposit_tx(&alice(), 2, 500_000 * USDC),
            deposit_tx(&alice(), 1, 200_000 * USDC),
        ],
    ));
    let q = quote(&h, 4, 40_000 * USDC, 90).unwrap();
    let premium: u128 = q.premium.parse().unwrap();
    assert!(premium > 0);
    let before = usdc(&h, &bob());

    // One unit of slippage room too little: refused, nothing charged.
    let err = h
        .exec_at(
            GENESIS_TIME + 20,
            &bob(),
            any(&policy::v1::MsgBuyCover {
                buyer: bob().to_bech32(),
                product_id: 4,
                cover: (40_000 * USDC).to_string(),
                term_days: 90,
                max_premium: (premium - 1).to_string(),
                validator: String::new(),
            }),
        )
        .unwrap_err();
    assert_eq!((err.codespace, err.code), ("policy", 7), "{}", err.log);
    assert_eq!(usdc(&h, &bob()), before);

    // Quoted at the committed state, bought in the next block on that state: the same premium
    // to the unit.
    let q = quote(&h, 4, 40_000 * USDC, 90).unwrap();
    let (id, paid) = buy(&mut h, &bob(), 4, 40_000 * USDC, 90).unwrap();
    assert_eq!(paid.to_string(), q.premium);
    assert_eq!(before - usdc(&h, &bob()), paid);
    let p = policy_of(&h, id);
    assert_eq!(p.premium, q.premium);
    assert_eq!(p.end - p.start, 90 * DAY);
    // The treasury's share was owed during the block and paid at its end.
    for pool in [1, 2] {
        assert_eq!(pool_view(&h, pool).pool.unwrap().treasury_due, "0");
    }
    h.invariants().unwrap();
}

#[test]
fn splitting_a_purchase_never_costs_less_and_utilisation_raises_the_price() {
    let run = |parts: &[u128]| -> Vec<u128> {
        let mut h = demo();
        all_ok(h.block(
            GENESIS_TIME + 10,
            vec![
                deposit_tx(&alice(), 2, 500_000 * USDC),
                deposit_tx(&alice(), 1, 300_000 * USDC),
            ],
        ));
        // Every part in the same block, in order: each buys at the utilisation the last left.
        let txs = parts.iter().map(|&p| buy_tx(&bob(), 4, p, 120)).collect();
        h.block(GENESIS_TIME + 20, txs)
            .into_iter()
            .map(|r| bought(r).unwrap().1)
            .collect()
    };
    let whole = run(&[90_000 * USDC])[0];
    let halves = run(&[45_000 * USDC, 45_000 * USDC]);
    let tenths = run(&[9_000 * USDC; 10]);
    assert_eq!(tenths.len(), 10);
    assert!(halves.iter().sum::<u128>() >= whole);
    assert!(tenths.iter().sum::<u128>() >= whole);
    assert!(
        halves[1] > halves[0],
        "the second half buys at higher utilisation"
    );
}

#[test]
fn capital_in_cooldown_still_bears_an_earlier_incident() {
    let mut h = market(|s| {
        set_pools_and_products(
            s,
            vec![simple_pool(1)],
            vec![protocol_product("Aave", "aave-v3", 500)],
        )
    });
    all_ok(h.block(
        GENESIS_TIME + 10,
        vec![
            deposit_tx(&alice(), 1, 50_000 * USDC),
            deposit_tx(&carol(), 1, 50_000 * USDC),
        ],
    ));
    let (policy, _) = bought(
        h.block(
            GENESIS_TIME + 20,
            vec![buy_tx(&bob(), 1, 20_000 * USDC, 60)],
        )
        .remove(0),
    )
    .unwrap();
    // Alice asks to leave just before the incident.
    h.exec_at(
        GENESIS_TIME + 30,
        &alice(),
        any(&pool::v1::MsgRequestWithdraw {
            provider: alice().to_bech32(),
            pool_id: 1,
            shares: (50_000 * USDC).to_string(),
        }),
    )
    .unwrap();
    let bob_before = usdc(&h, &bob());
    // The incident (at +35) can only be reported once it is past.
    h.advance_to(GENESIS_TIME + 40);
    let incident = confirmed_incident(&mut h, "aave-v3", GENESIS_TIME + 35);
    // Paid automatically in the block that confirmed the incident.
    let claim = only_claim(&h, policy);
    assert_eq!(claim.status, claims::v1::ClaimStatus::Paid as i32);
    assert_eq!(claim.incident, format!("incident:{incident}"));
    assert_eq!(
        claim.payout,
        (19_000 * USDC).to_string(),
        "cover × (1 − 5%)"
    );
    assert_eq!(usdc(&h, &bob()) - bob_before, 19_000 * USDC);
    // Paid once: filing on the same incident now is refused.
    let again = file(&mut h, &bob(), policy, &incident.to_string(), 0).unwrap_err();
    assert_eq!(
        (again.codespace, again.code),
        ("claims", 4),
        "{}",
        again.log
    );

    // Too early to leave.
    let cooldown = surety_genesis::demo::pools().params.unwrap().cooldown_secs;
    let complete = any(&pool::v1::MsgCompleteWithdraw {
        provider: alice().to_bech32(),
        pool_id: 1,
    });
    let early = h
        .exec_at(GENESIS_TIME + 30 + cooldown - 1, &alice(), complete.clone())
        .unwrap_err();
    assert_eq!((early.codespace, early.code), ("pool", 4), "{}", early.log);

    let alice_before = usdc(&h, &alice());
    let value_now = capital(&h, 1) / 2;
    h.exec_at(GENESIS_TIME + 30 + cooldown, &alice(), complete)
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
    let mut h = market(|s| set_pools_and_products(s, vec![simple_pool(1)], vec![product.clone()]));
    deposit(&mut h, &alice(), 1, 100_000 * USDC).unwrap();
    let (policy, _) = buy(&mut h, &bob(), 1, 10_000 * USDC, 30).unwrap();
    let hash_before = policy_of(&h, policy).terms_hash;
    gov(
        &mut h,
        any(&policy::v1::MsgUpdateProduct {
            authority: gov_authority().to_bech32(),
            product: Some(policy::v1::Product {
                id: 1,
                deductible_bps: 5_000,
                ..product
            }),
        }),
    )
    .unwrap();
    assert_eq!(policy_of(&h, policy).terms_hash, hash_before);
    let before = usdc(&h, &bob());
    // An incident after the change, inside the policy's 30 days; paid automatically.
    let at = h.time;
    confirmed_incident(&mut h, "aave-v3", at);
    assert_eq!(
        usdc(&h, &bob()) - before,
        9_500 * USDC,
        "the 5% deductible it was sold with"
    );
    assert_eq!(only_claim(&h, policy).payout, (9_500 * USDC).to_string());
    // A new buyer gets the new terms.
    let (second, _) = buy(&mut h, &carol(), 1, 10_000 * USDC, 30).unwrap();
    assert_eq!(policy_of(&h, second).terms.unwrap().deductible_bps, 5_000);
}

#[test]
fn reinsurance_splits_a_loss_by_quota_share_then_excess_of_loss() {
    // Demo pool 1 cedes 20% quota share and an excess of loss of 30 000 over 20 000 to pool 2.
    let mut h = capitalised();
    let (policy, _) = buy(&mut h, &bob(), 1, 100_000 * USDC, 60).unwrap();
    let (cash1, cash2, bob_before) = (pool_cash(&h, 1), pool_cash(&h, 2), usdc(&h, &bob()));
    let at = h.time;
    confirmed_incident(&mut h, "aave-v3", at);
    // Due: 100 000 × (1 − 5%) = 95 000. Quota share 20% = 19 000; retained 76 000, of which the
    // excess over 20 000 is 56 000, capped at the 30 000 limit; the pool keeps 46 000.
    assert_eq!(usdc(&h, &bob()) - bob_before, 95_000 * USDC);
    assert_eq!(only_claim(&h, policy).payout, (95_000 * USDC).to_string());
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
    let mut h = market(|s| set_pools_and_products(s, vec![simple_pool(3)], products));
    deposit(&mut h, &alice(), 1, 100_000 * USDC).unwrap();
    // Two largest incidents must be payable: 50 000 + 50 000 fits 100 000 of capital …
    let r = h.block(
        GENESIS_TIME + 20,
        vec![
            buy_tx(&bob(), 1, 50_000 * USDC, 60),
            buy_tx(&bob(), 2, 50_000 * USDC, 60),
        ],
    );
    let (a, _) = bought(r[0].clone()).unwrap();
    bought(r[1].clone()).unwrap();
    // … one unit more does not; a smaller purchase after it in the same block still fits.
    let r = h.block(
        GENESIS_TIME + 30,
        vec![
            buy_tx(&bob(), 3, 50_001 * USDC, 60),
            buy_tx(&carol(), 3, 30_000 * USDC, 60),
        ],
    );
    let err = r[0].clone().unwrap_err();
    assert_eq!((err.codespace, err.code), ("pool", 6), "{}", err.log);
    bought(r[1].clone()).unwrap();
    assert!(pool_view(&h, 1).pool.unwrap().selling);

    // A loss on A (paid automatically once confirmed) leaves ~50 000 against B + C = 80 000:
    // sales stop by themselves.
    h.advance_to(GENESIS_TIME + 40);
    confirmed_incident(&mut h, "a", GENESIS_TIME + 35);
    assert_eq!(only_claim(&h, a).payout, (50_000 * USDC).to_string());
    assert!(!pool_view(&h, 1).pool.unwrap().selling);
    let err = buy(&mut h, &dave(), 3, USDC, 30).unwrap_err();
    assert_eq!((err.codespace, err.code), ("policy", 6), "{}", err.log);

    // Fresh capital brings the pool back above its requirement, and sales restart.
    deposit(&mut h, &dave(), 1, 40_000 * USDC).unwrap();
    assert!(pool_view(&h, 1).pool.unwrap().selling);
    buy(&mut h, &dave(), 3, USDC, 30).unwrap();
    h.invariants().unwrap();
}

#[test]
fn depeg_and_impermanent_loss_cover_pay_their_formulas_in_the_same_block() {
    let mut h = capitalised();
    let r = h.block(
        GENESIS_TIME + 20,
        vec![
            buy_tx(&bob(), 2, 10_000 * USDC, 30),
            buy_tx(&dave(), 3, 10_000 * USDC, 30),
        ],
    );
    let depeg = bought(r[0].clone()).unwrap().0;
    let il = bought(r[1].clone()).unwrap().0;
    // Too soon: the price has not been below 0.97 for the product's 60 s.
    price_from(&mut h, GENESIS_TIME + 100, "USDC/USD", "0.9");
    let err = h
        .block(GENESIS_TIME + 130, vec![file_tx(&bob(), depeg, "", 0)])
        .remove(0)
        .unwrap_err();
    assert_eq!((err.codespace, err.code), ("claims", 5), "{}", err.log);
    assert_eq!(price_now(&h, "USDC/USD"), Some("0.9".parse().unwrap()));

    let before = usdc(&h, &bob());
    let paid: claims::v1::MsgFileClaimResponse = decode(
        h.block(GENESIS_TIME + 160, vec![file_tx(&bob(), depeg, "", 0)])
            .remove(0)
            .unwrap(),
    );
    assert_eq!(
        paid.payout,
        (1_000 * USDC).to_string(),
        "10 000 × (1 − 0.90)"
    );
    assert_eq!(usdc(&h, &bob()) - before, 1_000 * USDC);
    // Paid for this depth: filing again at the same price pays nothing more (a deeper depeg
    // would pay the difference; see underwriting.rs).
    let again = h
        .block(GENESIS_TIME + 170, vec![file_tx(&bob(), depeg, "", 0)])
        .remove(0)
        .unwrap_err();
    assert_eq!(
        (again.codespace, again.code),
        ("claims", 5),
        "{}",
        again.log
    );

    // ETH quadruples: impermanent loss 20%, less the 2% threshold = 18% of the position.
    price_from(&mut h, GENESIS_TIME + 200, "ETH/USD", "12000");
    let before = usdc(&h, &dave());
    h.block(GENESIS_TIME + 210, vec![file_tx(&dave(), il, "", 0)])
        .remove(0)
        .unwrap();
    assert_eq!(usdc(&h, &dave()) - before, 1_800 * USDC);
    h.invariants().unwrap();
}

/// Protocol cover is not sold while an incident on its protocol is reported and undecided
/// (other protocols' cover is), and is sold again once the incident is decided.
#[test]
fn protocol_cover_is_not_sold_while_an_incident_on_it_is_open() {
    let mut h = capitalised();
    let report = oracle::v1::MsgReportIncident {
        reporter: reporter().to_bech32(),
        protocol: "aave-v3".into(),
        time: GENESIS_TIME + 5,
        description: "exploit".into(),
        evidence: "https://example.com/postmortem".into(),
    };
    let id = oracle::v1::MsgReportIncidentResponse::decode(
        h.exec(&reporter(), any(&report)).unwrap().as_slice(),
    )
    .unwrap()
    .incident_id;
    let err = buy(&mut h, &bob(), 1, 1_000 * USDC, 30).unwrap_err();
    assert_eq!((err.codespace, err.code), ("policy", 12), "{}", err.log);
    assert!(
        err.log.contains(&format!("incident {id} on aave-v3")),
        "{}",
        err.log
    );
    buy(&mut h, &bob(), 4, 1_000 * USDC, 30).expect("another protocol's cover sells");
    let attestations = h
        .validator_operators()
        .iter()
        .map(|op| {
            Tx::new(
                op,
                any(&oracle::v1::MsgAttestIncident {
                    validator: op.to_bech32(),
                    incident_id: id,
                    confirm: true,
                }),
            )
        })
        .collect();
    all_ok(h.block(h.time + 1, attestations));
    buy(&mut h, &bob(), 1, 1_000 * USDC, 30).expect("sold again once the incident is decided");
    h.invariants().unwrap();
}

/// Depeg cover is not sold while its feed is below the trigger, and is sold again once the
/// price recovers.
#[test]
fn depeg_cover_is_not_sold_during_a_depeg() {
    let mut h = capitalised();
    price_from(&mut h, GENESIS_TIME + 20, "USDC/USD", "0.95");
    let err = buy(&mut h, &bob(), 2, 1_000 * USDC, 30).unwrap_err();
    assert_eq!((err.codespace, err.code), ("policy", 12), "{}", err.log);
    assert!(err.log.contains("below the 0.97 trigger"), "{}", err.log);
    price_from(&mut h, GENESIS_TIME + 40, "USDC/USD", "0.99");
    buy(&mut h, &bob(), 2, 1_000 * USDC, 30).unwrap();
    h.invariants().unwrap();
}

/// The oracle keeps a day of prices (the demo's retention), pruned as blocks go by; liquidity
/// cover claimed weeks later still starts from the price at purchase, frozen on the policy.
#[test]
fn impermanent_loss_cover_outlives_the_oracle_price_history() {
    let mut h = capitalised();
    let (il, _) = buy(&mut h, &dave(), 3, 10_000 * USDC, 60).unwrap();
    assert_eq!(policy_of(&h, il).entry_price, "3000.000000000000000000");
    // Twenty days of blocks, an hour apart: the history of the purchase day is pruned.
    for _ in 0..(20 * 24) {
        let t = h.time + 3_600;
        h.advance_to(t);
    }
    let start = policy_of(&h, il).start;
    let history: surety_proto::surety::oracle::v1::QueryHistoryResponse = h
        .query(
            "/surety.oracle.v1.Query/History",
            &surety_proto::surety::oracle::v1::QueryHistoryRequest {
                feed: "ETH/USD".into(),
                limit: 1_000_000,
            },
        )
        .unwrap();
    assert!(
        history.prices.iter().all(|p| p.time > start + DAY),
        "the purchase day's prices are gone"
    );
    // ETH quadruples: impermanent loss 20%, less the 2% threshold = 18% of the position.
    let t = h.time + 60;
    price_from(&mut h, t, "ETH/USD", "12000");
    let before = usdc(&h, &dave());
    let t = h.time + 10;
    h.block(t, vec![file_tx(&dave(), il, "", 0)])
        .remove(0)
        .unwrap();
    assert_eq!(usdc(&h, &dave()) - before, 1_800 * USDC);
    h.invariants().unwrap();
}

/// Liquidity cover starts from the feed's price; while the oracle has none it is not sold.
#[test]
fn liquidity_cover_is_not_sold_without_a_price_to_start_from() {
    let mut h = market(|s| {
        let mut feeds = surety_genesis::demo::oracle_feeds();
        feeds.prices.retain(|p| p.feed != "ETH/USD");
        set_section(s, "oracle", &feeds);
    });
    deposit(&mut h, &alice(), 1, 300_000 * USDC).unwrap();
    let before = usdc(&h, &dave());
    let err = buy(&mut h, &dave(), 3, 10_000 * USDC, 60).unwrap_err();
    assert_eq!((err.codespace, err.code), ("policy", 11), "{}", err.log);
    assert_eq!(usdc(&h, &dave()), before);
    h.invariants().unwrap();
}

/// The ids of the claims `Query/Appeals` lists (one page: there are few here).
fn appeals(h: &TestChain) -> Vec<u64> {
    let r: claims::v1::QueryAppealsResponse = h
        .query(
            "/surety.claims.v1.Query/Appeals",
            &claims::v1::QueryAppealsRequest { pagination: None },
        )
        .unwrap();
    assert!(r.pagination.unwrap().next_key.is_empty());
    r.claims.iter().map(|c| c.id).collect()
}

fn appeal(h: &mut TestChain, time: i64, claim: u64) -> TxResult {
    h.exec_at(
        time,
        &bob(),
        any(&claims::v1::MsgAppealClaim {
            claimant: bob().to_bech32(),
            claim_id: claim,
        }),
    )
}

#[test]
fn assessed_claims_are_decided_by_stake_weighted_votes_and_appeals_by_governance() {
    // Governance must decide an appeal within the claims' 600 s appeal period, and c3's 120 s
    // appeal window runs meanwhile: the demo market's 60 s vote fits both (600 s would not).
    let mut h = market(|s| {
        set_section(
            s,
            "gov",
            &serde_json::json!({ "params": {
                "voting_period": "60s",
                "expedited_voting_period": "30s",
            } }),
        )
    });
    let voting = surety_genesis::demo::claims_params()
        .params
        .unwrap()
        .voting_period_secs;
    let t0 = GENESIS_TIME + 10;
    all_ok(h.block(
        t0,
        vec![
            deposit_tx(&alice(), 2, 300_000 * USDC),
            deposit_tx(&alice(), 1, 300_000 * USDC),
            stake_tx(&carol(), 3_000_000),
            stake_tx(&dave(), 1_000_000),
        ],
    ));
    let r = h.block(
        t0 + 10,
        vec![
            buy_tx(&bob(), 4, 10_000 * USDC, 60),
            buy_tx(&bob(), 4, 10_000 * USDC, 60),
            buy_tx(&bob(), 4, 10_000 * USDC, 60),
        ],
    );
    let p: Vec<u64> = r.into_iter().map(|r| bought(r).unwrap().0).collect();
    let bob_start = usdc(&h, &bob());
    let carol_start = usdc(&h, &carol());
    let c: Vec<u64> = all_ok(h.block(
        t0 + 20,
        vec![
            file_tx(&bob(), p[0], "exchange halted withdrawals", 4_000 * USDC),
            file_tx(&bob(), p[1], "", 4_000 * USDC),
            file_tx(&bob(), p[2], "", 4_000 * USDC),
        ],
    ))
    .into_iter()
    .map(|r| decode::<claims::v1::MsgFileClaimResponse>(r).claim_id)
    .collect();
    let (c1, c2, c3) = (c[0], c[1], c[2]);
    // Deposit (10) and fee (1) locked per claim.
    assert_eq!(bob_start - usdc(&h, &bob()), 33 * USDC);
    let r = h.block(
        t0 + 30,
        vec![
            vote_tx(&carol(), c1, true),
            vote_tx(&dave(), c1, false),
            vote_tx(&carol(), c2, false),
            vote_tx(&carol(), c3, false),
            // Bad input, each refused without effect.
            vote_tx(&carol(), c1, false),
            vote_tx(&bob(), c1, true),
            Tx::new(
                &carol(),
                any(&claims::v1::MsgUnstakeAssessor {
                    assessor: carol().to_bech32(),
                    amount: "1".into(),
                }),
            ),
        ],
    );
    for (i, v) in r[..4].iter().enumerate() {
        assert!(v.is_ok(), "vote {i}: {v:?}");
    }
    let codes: Vec<_> = r[4..]
        .iter()
        .map(|e| {
            let e = e.clone().unwrap_err();
            (e.codespace, e.code)
        })
        .collect();
    // Voting twice, on one's own claim, unstaking a stake that backs open votes.
    assert_eq!(codes, vec![("claims", 8), ("claims", 9), ("claims", 10)]);
    // Voting closes: c1 approved by 3 of 4 of the stake, c2 and c3 rejected.
    h.advance_to(t0 + 20 + voting);
    let late = h
        .block(t0 + 21 + voting, vec![vote_tx(&dave(), c2, true)])
        .remove(0)
        .unwrap_err();
    assert_eq!((late.codespace, late.code), ("claims", 7), "{}", late.log);
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
    appeal(&mut h, t0 + 30 + voting, c2).unwrap();
    assert_eq!(
        claim_of(&h, c2).status,
        claims::v1::ClaimStatus::Appealed as i32
    );
    assert_eq!(appeals(&h), [c2]);
    let before = usdc(&h, &bob());
    gov(
        &mut h,
        any(&claims::v1::MsgResolveAppeal {
            authority: gov_authority().to_bech32(),
            claim_id: c2,
            approve: true,
        }),
    )
    .unwrap();
    // Payout, deposit and the 50 USDC bond.
    assert_eq!(
        usdc(&h, &bob()) - before,
        3_600 * USDC + 10 * USDC + 50 * USDC
    );
    assert_eq!(
        claim_of(&h, c2).status,
        claims::v1::ClaimStatus::Paid as i32
    );
    assert!(appeals(&h).is_empty(), "a decided appeal leaves the list");

    // c3's appeal window closes: its deposit goes to the treasury and the policy can be claimed
    // again.
    let window = surety_genesis::demo::claims_params()
        .params
        .unwrap()
        .appeal_window_secs;
    let treasury = Address::module(surety_claims::TREASURY);
    let treasury_before = usdc(&h, &treasury);
    assert!(
        h.time < t0 + 20 + voting + window,
        "governance took too long"
    );
    h.advance_to(t0 + 20 + voting + window);
    assert_eq!(usdc(&h, &treasury) - treasury_before, 10 * USDC);
    let appeal_late = appeal(&mut h, t0 + 21 + voting + window, c3).unwrap_err();
    assert_eq!(
        (appeal_late.codespace, appeal_late.code),
        ("claims", 11),
        "{}",
        appeal_late.log
    );
    h.invariants().unwrap();
}

#[test]
fn bad_claims_and_purchases_are_refused_with_clear_errors_and_change_nothing() {
    let mut h = demo();
    all_ok(h.block(
        GENESIS_TIME + 10,
        vec![
            deposit_tx(&alice(), 2, 300_000 * USDC),
            deposit_tx(&alice(), 1, 300_000 * USDC),
        ],
    ));
    let (policy, _) = bought(
        h.block(GENESIS_TIME + 20, vec![buy_tx(&bob(), 1, 1_000 * USDC, 30)])
            .remove(0),
    )
    .unwrap();
    let snapshot = |h: &TestChain| {
        (
            usdc(h, &bob()),
            usdc(h, &carol()),
            pool_cash(h, 1),
            pool_cash(h, 2),
        )
    };
    let before = snapshot(&h);
    // Reported but attested by no validator: pending until its attestation window closes.
    let reported = h
        .exec_at(
            GENESIS_TIME + 30,
            &reporter(),
            any(&oracle::v1::MsgReportIncident {
                reporter: reporter().to_bech32(),
                protocol: "aave-v3".into(),
                time: GENESIS_TIME + 25,
                description: "unconfirmed".into(),
                evidence: "https://example.com/rumour".into(),
            }),
        )
        .unwrap();
    let pending = decode::<oracle::v1::MsgReportIncidentResponse>(reported).incident_id;
    // Confirmed, but of another protocol (reports must name a listed one: the custody
    // product's exchange, whose assessed cover no confirmation pays automatically).
    let other = confirmed_incident(&mut h, "example-exchange", GENESIS_TIME + 25);
    let status = |h: &TestChain, id| {
        let r: oracle::v1::QueryIncidentResponse = h
            .query(
                "/surety.oracle.v1.Query/Incident",
                &oracle::v1::QueryIncidentRequest { incident_id: id },
            )
            .unwrap();
        r.incident.unwrap().status
    };
    assert_eq!(
        status(&h, pending),
        oracle::v1::IncidentStatus::Pending as i32
    );
    let results = h.block(
        h.time + 1,
        vec![
            file_tx(&carol(), policy, "1", 0),
            file_tx(&bob(), policy, &pending.to_string(), 0),
            file_tx(&bob(), policy, &other.to_string(), 0),
            file_tx(&bob(), policy, "not-a-number", 0),
            file_tx(&bob(), 999, "1", 0),
            buy_tx(&bob(), 99, USDC, 30),
            // Aave cover is frozen while its incident is pending; the custody product (4) has
            // the same terms and is on sale.
            buy_tx(&bob(), 1, USDC, 30),
            buy_tx(&bob(), 4, USDC, 5),
            buy_tx(&bob(), 4, 0, 30),
            buy_tx(&bob(), 4, 2_000_000 * USDC, 30),
            deposit_tx(&bob(), 1, 0),
            deposit_tx(&bob(), 9, USDC),
            Tx::new(
                &bob(),
                any(&policy::v1::MsgCreateProduct {
                    authority: bob().to_bech32(),
                    product: Some(protocol_product("X", "x", 0)),
                }),
            ),
        ],
    );
    let errors: Vec<_> = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.map(|_| ()).expect_err(&format!("tx {i}")))
        .collect();
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
            ("policy", 12),
            ("policy", 4),
            // A zero cover fails the message's stateless check, in CheckTx.
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
