//! Slashing through the real modules and store: downtime jails and slashes a validator that
//! misses too much of its window, unjailing waits out the jail; double-sign evidence slashes
//! stake that left after the infraction too, and tombstones.

mod support;

use support::*;
use surety_app::testing::{TestChain, Tx, TxResult};
use surety_framework::{Address, Evidence};
use surety_proto::cosmos::base::v1beta1::Coin;
use surety_proto::cosmos::slashing::v1beta1 as slashing;
use surety_proto::cosmos::staking::v1beta1 as staking;
use surety_proto::to_any;

fn validator(h: &TestChain, operator: &Address) -> staking::Validator {
    let r: staking::QueryValidatorResponse = h
        .query(
            "/cosmos.staking.v1beta1.Query/Validator",
            &staking::QueryValidatorRequest {
                validator_addr: valoper(operator),
            },
        )
        .unwrap();
    r.validator.unwrap()
}

fn unjail_at(h: &mut TestChain, time: i64, operator: &Address) -> TxResult {
    h.exec_at(
        time,
        operator,
        to_any(&slashing::MsgUnjail {
            validator_addr: valoper(operator),
        }),
    )
}

fn usure(amount: u128) -> Option<Coin> {
    Some(Coin {
        denom: "usure".into(),
        amount: (amount * SURE).to_string(),
    })
}

/// CometBFT's power of test validator `key` in the next block's set (0 when out of it).
fn power_in_set(h: &TestChain, key: u8) -> i64 {
    let address = consensus_address(key);
    h.validator_set()
        .iter()
        .find(|(a, _)| *a == address)
        .map_or(0, |(_, p)| *p)
}

/// Alice (key 1, 1 000 SURE) and bob (key 2, 500) validate beside the genesis validator (power
/// 1); windows of 10 blocks, half of which must be signed; 60 s in jail; 1% for downtime, 5% for
/// double signing. Returns once the next block's last commit carries alice's and bob's votes.
fn chain() -> TestChain {
    let mut h = market(|state| {
        set_section(
            state,
            "slashing",
            &serde_json::json!({"params": {
                "signed_blocks_window": "10",
                "min_signed_per_window": "0.5",
                "downtime_jail_duration": "60s",
                "slash_fraction_double_sign": "0.05",
                "slash_fraction_downtime": "0.01",
            }}),
        )
    });
    let r = h.block(
        GENESIS_TIME + 10,
        vec![
            create_validator(&alice(), 1, 1_000),
            create_validator(&bob(), 2, 500),
        ],
    );
    assert!(r.iter().all(|r| r.is_ok()), "{r:?}");
    // Bonded at height 2, they sign from height 4 (CometBFT applies updates two heights later),
    // so block 5's last commit is the first with their votes.
    h.block(h.time + 5, vec![]);
    h.block(h.time + 5, vec![]);
    assert_eq!(h.height, 4);
    assert_eq!((power_in_set(&h, 1), power_in_set(&h, 2)), (1_000, 500));
    h
}

#[test]
fn downtime_slashes_and_jails_until_the_validator_unjails() {
    let mut h = chain();
    let mut blocks = 0;
    while !validator(&h, &bob()).jailed {
        assert!(blocks < 20, "bob was never jailed");
        h.absent.insert(consensus_address(2));
        h.block(h.time + 5, vec![]);
        blocks += 1;
    }
    // More than 5 misses in the window, judged once a whole window has passed since bob's first
    // recorded block: the 12th.
    assert_eq!(blocks, 12);
    let jailed_at = h.time;
    assert_eq!(
        validator(&h, &bob()).tokens,
        (495 * SURE).to_string(),
        "1% slashed"
    );
    assert_eq!(
        validator(&h, &bob()).status,
        staking::BondStatus::Unbonded as i32
    );
    // CometBFT drops him from the set two heights after the jailing block.
    assert_eq!(power_in_set(&h, 2), 500, "still in the next block's set");
    h.block(h.time + 5, vec![]);
    assert_eq!(power_in_set(&h, 2), 0, "out of CometBFT's set");
    assert_eq!(power_in_set(&h, 1), 1_000, "alice signed throughout");

    let early = unjail_at(&mut h, jailed_at + 30, &bob()).unwrap_err();
    assert_eq!(
        (early.codespace, early.code),
        ("slashing", 4),
        "{}",
        early.log
    );
    unjail_at(&mut h, jailed_at + 60, &bob()).unwrap();
    let v = validator(&h, &bob());
    assert!(!v.jailed);
    assert_eq!(
        v.status,
        staking::BondStatus::Bonded as i32,
        "back in the set"
    );
    h.block(h.time + 5, vec![]);
    assert_eq!(power_in_set(&h, 2), 495, "back in CometBFT's set, slashed");
    let t = h.time + 5;
    let twice = unjail_at(&mut h, t, &bob()).unwrap_err();
    assert_eq!((twice.codespace, twice.code), ("slashing", 5));
    h.invariants().unwrap();
}

#[test]
fn double_signing_slashes_unbonding_stake_too_and_tombstones() {
    let mut h = chain();
    h.block(h.time + 5, vec![delegate_to(&carol(), &alice(), 300)])
        .remove(0)
        .unwrap();
    let infraction = h.height + 1;
    // Carol leaves after the infraction: her unbonding stake is slashed with the validator's.
    h.exec_at(
        h.time + 5,
        &carol(),
        to_any(&staking::MsgUndelegate {
            delegator_address: carol().to_bech32(),
            validator_address: valoper(&alice()),
            amount: usure(100),
        }),
    )
    .unwrap();
    h.next_evidence.push(Evidence {
        address: consensus_address(1),
        height: infraction,
    });
    h.block(h.time + 5, vec![]);
    let v = validator(&h, &alice());
    assert!(v.jailed);
    assert_eq!(v.tokens, (1_140 * SURE).to_string(), "5% of 1 200");
    let r: staking::QueryDelegatorUnbondingDelegationsResponse = h
        .query(
            "/cosmos.staking.v1beta1.Query/DelegatorUnbondingDelegations",
            &staking::QueryDelegatorUnbondingDelegationsRequest {
                delegator_addr: carol().to_bech32(),
                pagination: None,
            },
        )
        .unwrap();
    assert_eq!(
        r.unbonding_responses[0].entries[0].balance,
        (95 * SURE).to_string()
    );
    let t = h.time + 10 * DAY;
    let tombstoned = unjail_at(&mut h, t, &alice()).unwrap_err();
    assert_eq!((tombstoned.codespace, tombstoned.code), ("slashing", 7));
    assert_eq!(power_in_set(&h, 1), 0, "out of CometBFT's set for good");
    h.invariants().unwrap();
}

#[test]
fn stake_redelegated_after_an_infraction_is_slashed_at_its_new_validator() {
    let mut h = chain();
    let infraction = h.height + 1;
    let r = h.block(
        h.time + 5,
        vec![
            delegate_to(&carol(), &alice(), 300),
            Tx::new(
                &carol(),
                to_any(&staking::MsgBeginRedelegate {
                    delegator_address: carol().to_bech32(),
                    validator_src_address: valoper(&alice()),
                    validator_dst_address: valoper(&bob()),
                    amount: usure(100),
                }),
            ),
        ],
    );
    assert!(r.iter().all(|r| r.is_ok()), "{r:?}");
    assert_eq!(validator(&h, &bob()).tokens, (600 * SURE).to_string());
    h.next_evidence.push(Evidence {
        address: consensus_address(1),
        height: infraction,
    });
    h.block(h.time + 5, vec![]);
    // 5% of the 100 that left alice after the infraction is taken from carol's stake with bob.
    assert_eq!(validator(&h, &bob()).tokens, (595 * SURE).to_string());
    assert_eq!(
        validator(&h, &alice()).tokens,
        (1_140 * SURE).to_string(),
        "5% of 1 200"
    );
    h.invariants().unwrap();
}
