//! Slashing through the real modules and store: downtime jails and slashes a validator that
//! misses too much of its window, unjailing waits out the jail; double-sign evidence slashes
//! stake that left after the infraction too, and tombstones.

mod support;

use support::*;
use surety_app::testing::{Block, Harness};
use surety_framework::{Address, CommitVote, Error, Evidence};
use surety_proto::cosmos::base::v1beta1::Coin;
use surety_proto::cosmos::slashing::v1beta1 as slashing;
use surety_proto::cosmos::staking::v1beta1 as staking;
use surety_proto::to_any;

fn validator(h: &Harness, operator: &Address) -> staking::Validator {
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

fn unjail(b: &mut Block, operator: &Address) -> Result<Vec<u8>, Error> {
    b.deliver(
        operator,
        to_any(&slashing::MsgUnjail {
            validator_addr: valoper(operator),
        }),
    )
}

/// Alice (key 1, 1 000 SURE) and bob (key 2, 500) validate; windows of 10 blocks, half of
/// which must be signed; 60 s in jail; 1% for downtime, 5% for double signing.
fn chain() -> (Harness, tempfile::TempDir) {
    let (mut h, dir) = market(|state| {
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
    h.block(GENESIS_TIME + 10, |b| {
        create_validator(b, &alice(), 1, 1_000).unwrap();
        create_validator(b, &bob(), 2, 500).unwrap();
    })
    .unwrap();
    (h, dir)
}

fn signatures(bob_signs: bool) -> Vec<CommitVote> {
    vec![
        CommitVote {
            address: consensus_address(1),
            power: 1_000,
            signed: true,
        },
        CommitVote {
            address: consensus_address(2),
            power: 500,
            signed: bob_signs,
        },
    ]
}

#[test]
fn downtime_slashes_and_jails_until_the_validator_unjails() {
    let (mut h, _dir) = chain();
    let mut blocks = 0;
    while !validator(&h, &bob()).jailed {
        assert!(blocks < 20, "bob was never jailed");
        h.next_commit = signatures(false);
        h.block(h.time + 5, |_| ()).unwrap();
        blocks += 1;
    }
    // More than 5 misses in the window, judged once a whole window has passed since bob's first
    // recorded block: the 12th.
    assert_eq!(blocks, 12);
    assert_eq!(
        validator(&h, &bob()).tokens,
        (495 * SURE).to_string(),
        "1% slashed"
    );
    h.block(h.time + 5, |_| ()).unwrap();
    let jailed_at = h.time;
    assert_eq!(
        validator(&h, &bob()).status,
        staking::BondStatus::Unbonded as i32
    );

    let early = h
        .block(jailed_at + 30, |b| unjail(b, &bob()))
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (early.codespace, early.code),
        ("slashing", 4),
        "{}",
        early.log
    );
    h.block(jailed_at + 60, |b| unjail(b, &bob()).unwrap())
        .unwrap();
    h.block(h.time + 5, |_| ()).unwrap();
    let v = validator(&h, &bob());
    assert!(!v.jailed);
    assert_eq!(
        v.status,
        staking::BondStatus::Bonded as i32,
        "back in the set"
    );
    let twice = h
        .block(h.time + 5, |b| unjail(b, &bob()))
        .unwrap()
        .unwrap_err();
    assert_eq!((twice.codespace, twice.code), ("slashing", 5));
    h.invariants().unwrap();
}

#[test]
fn double_signing_slashes_unbonding_stake_too_and_tombstones() {
    let (mut h, _dir) = chain();
    h.block(h.time + 5, |b| {
        b.deliver(
            &carol(),
            to_any(&staking::MsgDelegate {
                delegator_address: carol().to_bech32(),
                validator_address: valoper(&alice()),
                amount: Some(Coin {
                    denom: "usure".into(),
                    amount: (300 * SURE).to_string(),
                }),
            }),
        )
        .unwrap();
    })
    .unwrap();
    let infraction = h.height as i64 + 1;
    // Carol leaves after the infraction: her unbonding stake is slashed with the validator's.
    h.block(h.time + 5, |b| {
        b.deliver(
            &carol(),
            to_any(&staking::MsgUndelegate {
                delegator_address: carol().to_bech32(),
                validator_address: valoper(&alice()),
                amount: Some(Coin {
                    denom: "usure".into(),
                    amount: (100 * SURE).to_string(),
                }),
            }),
        )
        .unwrap();
    })
    .unwrap();
    h.next_evidence = vec![Evidence {
        address: consensus_address(1),
        height: infraction,
    }];
    h.block(h.time + 5, |_| ()).unwrap();
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
    let tombstoned = h
        .block(h.time + 10 * DAY, |b| unjail(b, &alice()))
        .unwrap()
        .unwrap_err();
    assert_eq!((tombstoned.codespace, tombstoned.code), ("slashing", 7));
    h.invariants().unwrap();
}

#[test]
fn stake_redelegated_after_an_infraction_is_slashed_at_its_new_validator() {
    let (mut h, _dir) = chain();
    let infraction = h.height as i64 + 1;
    h.block(h.time + 5, |b| {
        b.deliver(
            &carol(),
            to_any(&staking::MsgDelegate {
                delegator_address: carol().to_bech32(),
                validator_address: valoper(&alice()),
                amount: Some(Coin {
                    denom: "usure".into(),
                    amount: (300 * SURE).to_string(),
                }),
            }),
        )
        .unwrap();
        b.deliver(
            &carol(),
            to_any(&staking::MsgBeginRedelegate {
                delegator_address: carol().to_bech32(),
                validator_src_address: valoper(&alice()),
                validator_dst_address: valoper(&bob()),
                amount: Some(Coin {
                    denom: "usure".into(),
                    amount: (100 * SURE).to_string(),
                }),
            }),
        )
        .unwrap();
    })
    .unwrap();
    assert_eq!(validator(&h, &bob()).tokens, (600 * SURE).to_string());
    h.next_evidence = vec![Evidence {
        address: consensus_address(1),
        height: infraction,
    }];
    h.block(h.time + 5, |_| ()).unwrap();
    // 5% of the 100 that left alice after the infraction is taken from carol's stake with bob.
    assert_eq!(validator(&h, &bob()).tokens, (595 * SURE).to_string());
    assert_eq!(
        validator(&h, &alice()).tokens,
        (1_140 * SURE).to_string(),
        "5% of 1 200"
    );
    h.invariants().unwrap();
}
