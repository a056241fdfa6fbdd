//! A seeded randomized simulation of the insurance market: thousands of blocks of deposits,
//! withdrawals, purchases, transfers, price moves, incidents, claims, votes, appeals and expiries,
//! with the market's invariants checked after every block — and the whole run repeated with the
//! same seed to the same app hash.

mod support;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::*;
use surety_app::testing::{Block, Harness};
use surety_framework::{gov_authority, Address, Dec, Round, VALIDATOR_PREFIX};
use surety_proto::cosmos::bank::v1beta1::{QueryTotalSupplyRequest, QueryTotalSupplyResponse};
use surety_proto::cosmos::distribution::v1beta1 as distribution;
use surety_proto::cosmos::gov::v1 as govv1;
use surety_proto::cosmos::staking::v1beta1 as staking;
use surety_proto::surety::claims::v1::{self as claims, ClaimStatus};
use surety_proto::surety::policy::v1 as policy;
use surety_proto::surety::pool::v1 as pool;

const BLOCKS: u32 = 2_000;
const ACTORS: u8 = 8;

fn actors() -> Vec<Address> {
    (1..=ACTORS).map(addr).collect()
}

fn supply(h: &Harness) -> Vec<(String, String)> {
    let r: QueryTotalSupplyResponse = h
        .query(
            "/cosmos.bank.v1beta1.Query/TotalSupply",
            &QueryTotalSupplyRequest { pagination: None },
        )
        .unwrap();
    r.supply.into_iter().map(|c| (c.denom, c.amount)).collect()
}

fn all_policies(h: &Harness) -> Vec<policy::Policy> {
    let r: policy::QueryPoliciesResponse = h
        .query(
            "/surety.policy.v1.Query/Policies",
            &policy::QueryPoliciesRequest {
                owner: String::new(),
            },
        )
        .unwrap();
    r.policies
}

fn all_claims(h: &Harness) -> Vec<claims::Claim> {
    let r: claims::QueryClaimsResponse = h
        .query(
            "/surety.claims.v1.Query/Claims",
            &claims::QueryClaimsRequest { policy_id: 0 },
        )
        .unwrap();
    r.claims
}

fn all_pools(h: &Harness) -> Vec<pool::PoolView> {
    let r: pool::QueryPoolsResponse = h
        .query("/surety.pool.v1.Query/Pools", &pool::QueryPoolsRequest {})
        .unwrap();
    r.pools
}

/// What the simulation saw, to show that it exercised the market.
#[derive(Debug, Default)]
struct Tally {
    ok: std::collections::BTreeMap<&'static str, u32>,
    refused: std::collections::BTreeMap<&'static str, u32>,
}

impl Tally {
    fn note<T>(&mut self, what: &'static str, r: &Result<T, surety_framework::Error>) {
        let map = if r.is_ok() {
            &mut self.ok
        } else {
            &mut self.refused
        };
        *map.entry(what).or_default() += 1;
    }
}

/// Checks, inside the block, that a purchase left every pool it touched at or above its capital
/// requirement.
fn assert_sale_kept_requirement(b: &mut Block, policy_id: u64) {
    let policy = surety_policy::state::policy(b.ctx, policy_id).unwrap();
    let keeper = surety_pool::Keeper::default();
    for a in &policy.allocations {
        let pool = keeper.load(b.ctx, a.pool_id).unwrap();
        let requirement = keeper.capital_requirement(b.ctx, &pool).unwrap();
        assert!(
            pool.capital() >= requirement,
            "sale of policy {policy_id} took pool {} to {} below its requirement {requirement}",
            pool.id,
            pool.capital()
        );
    }
}

fn step(h: &mut Harness, rng: &mut ChaCha8Rng, tally: &mut Tally) {
    // Mostly seconds apart, so votes and cooldowns play out; now and then days, so cover
    // expires and premiums are earned.
    let time = h.time
        + if rng.gen_bool(0.08) {
            rng.gen_range(DAY..3 * DAY)
        } else {
            rng.gen_range(5..90)
        };
    let people = actors();
    let policies = all_policies(h);
    let open_claims: Vec<claims::Claim> = all_claims(h)
        .into_iter()
        .filter(|c| {
            c.status == ClaimStatus::Voting as i32
                || c.status == ClaimStatus::Appealed as i32
                || c.status == ClaimStatus::Rejected as i32
        })
        .collect();
    let actions = rng.gen_range(0..6);
    let choices: Vec<u32> = (0..actions).map(|_| rng.gen_range(0..130)).collect();
    let picks: Vec<(Address, Address, u128, u64)> = (0..actions)
        .map(|_| {
            (
                *people.choose(rng).unwrap(),
                *people.choose(rng).unwrap(),
                rng.gen_range(1..200_000u128) * USDC,
                rng.gen::<u64>(),
            )
        })
        .collect();
    let price_moves: Vec<(bool, u32)> = (0..2)
        .map(|_| (rng.gen_bool(0.05), rng.gen_range(0..1000)))
        .collect();
    let incident = rng.gen_bool(0.01);
    h.block(time, |b| {
        if price_moves[0].0 {
            // USDC mostly near the peg, sometimes well below it.
            let p = if price_moves[0].1 < 700 {
                990 + price_moves[0].1 % 20
            } else {
                600 + price_moves[0].1 % 390
            };
            set_price(
                b.ctx,
                "USDC/USD",
                &Dec::ratio(p as u128, 1000, Round::Down)
                    .unwrap()
                    .to_string(),
            );
        }
        if price_moves[1].0 {
            let p = 1_000 + price_moves[1].1 as u128 * 10;
            set_price(b.ctx, "ETH/USD", &p.to_string());
        }
        if incident {
            let id = confirmed_incident(b.ctx, "aave-v3", time - 30);
            // Every holder of live Aave cover claims it.
            for p in policies.iter().filter(|p| {
                p.product_id == 1 && !p.claimed && p.start <= time - 30 && time - 30 < p.end
            }) {
                let owner = Address::from_bech32(&p.owner).unwrap();
                let r = file(b, &owner, p.id, &id.to_string(), 0);
                tally.note("incident claim", &r);
                assert!(r.is_ok(), "a covered incident must pay: {:?}", r.err());
            }
        }
        for (choice, (who, other, amount, salt)) in choices.iter().zip(picks) {
            match choice {
                0..=14 => {
                    let pool_id = 1 + salt % 2;
                    let r = deposit(b, &who, pool_id, amount);
                    tally.note("deposit", &r);
                }
                15..=21 => {
                    let pool_id = 1 + salt % 2;
                    let position = surety_pool::state::position(b.ctx, pool_id, &who.0).unwrap();
                    let shares: u128 = position.map_or(0, |p| p.shares.parse().unwrap_or(0));
                    let r = b.deliver(
                        &who,
                        any(&pool::MsgRequestWithdraw {
                            provider: who.to_bech32(),
                            pool_id,
                            shares: (shares / (1 + (salt % 4) as u128)).to_string(),
                        }),
                    );
                    tally.note("request withdraw", &r);
                }
                22..=29 => {
                    let r = b.deliver(
                        &who,
                        any(&pool::MsgCompleteWithdraw {
                            provider: who.to_bech32(),
                            pool_id: 1 + salt % 2,
                        }),
                    );
                    tally.note("complete withdraw", &r);
                }
                30..=59 => {
                    let product = 1 + salt % 4;
                    let days = 28 + (salt / 7 % 200) as u32;
                    let cover = amount / 4 + USDC;
                    let r = buy(b, &who, product, cover, days);
                    tally.note("buy", &r);
                    if let Ok((id, _)) = r {
                        assert_sale_kept_requirement(b, id);
                    }
                }
                60..=64 => {
                    if let Some(p) = policies
                        .iter()
                        .find(|p| p.owner == who.to_bech32() && !p.claimed)
                    {
                        let r = b.deliver(
                            &who,
                            any(&policy::MsgTransferPolicy {
                                owner: who.to_bech32(),
                                policy_id: p.id,
                                recipient: other.to_bech32(),
                            }),
                        );
                        tally.note("transfer", &r);
                    }
                }
                65..=79 => {
                    // Claim on a policy of one's own: parametric ones pay if their trigger holds.
                    if let Some(p) = policies
                        .iter()
                        .filter(|p| p.owner == who.to_bech32())
                        .nth((salt % 3) as usize)
                    {
                        let r = file(b, &who, p.id, "", amount / 8);
                        tally.note(
                            if p.product_id == 4 {
                                "assessed claim"
                            } else {
                                "parametric claim"
                            },
                            &r,
                        );
                    }
                }
                80..=84 => {
                    let r = b.deliver(
                        &who,
                        any(&claims::MsgStakeAssessor {
                            assessor: who.to_bech32(),
                            amount: ((salt % 1_000) as u128 * 1_000_000 + 1).to_string(),
                        }),
                    );
                    tally.note("stake", &r);
                }
                85..=92 => {
                    let voting: Vec<_> = open_claims
                        .iter()
                        .filter(|c| c.status == ClaimStatus::Voting as i32)
                        .collect();
                    if let Some(c) = voting.get(salt as usize % voting.len().max(1)) {
                        let r = b.deliver(
                            &who,
                            any(&claims::MsgVoteClaim {
                                assessor: who.to_bech32(),
                                claim_id: c.id,
                                approve: salt % 3 != 0,
                            }),
                        );
                        tally.note("vote", &r);
                    }
                }
                93..=96 => {
                    if let Some(c) = open_claims
                        .iter()
                        .find(|c| c.status == ClaimStatus::Rejected as i32 && c.appeal_deadline > 0)
                    {
                        let claimant = Address::from_bech32(&c.claimant).unwrap();
                        let r = b.deliver(
                            &claimant,
                            any(&claims::MsgAppealClaim {
                                claimant: c.claimant.clone(),
                                claim_id: c.id,
                            }),
                        );
                        tally.note("appeal", &r);
                    }
                }
                97..=99 => {
                    if let Some(c) = open_claims
                        .iter()
                        .find(|c| c.status == ClaimStatus::Appealed as i32)
                    {
                        let r = gov(
                            b,
                            any(&claims::MsgResolveAppeal {
                                authority: gov_authority().to_bech32(),
                                claim_id: c.id,
                                approve: salt % 2 == 0,
                            }),
                        );
                        tally.note("resolve appeal", &r);
                    }
                }
                100..=109 => {
                    let to = validator_operator(salt);
                    let r = b.deliver(
                        &who,
                        any(&staking::MsgDelegate {
                            delegator_address: who.to_bech32(),
                            validator_address: to.to_bech32_with(VALIDATOR_PREFIX),
                            amount: Some(sure(salt % 1_000 + 1)),
                        }),
                    );
                    tally.note("delegate", &r);
                }
                110..=114 => {
                    let from = validator_operator(salt);
                    let r = b.deliver(
                        &who,
                        any(&staking::MsgUndelegate {
                            delegator_address: who.to_bech32(),
                            validator_address: from.to_bech32_with(VALIDATOR_PREFIX),
                            amount: Some(sure(salt % 200 + 1)),
                        }),
                    );
                    tally.note("undelegate", &r);
                }
                115..=117 => {
                    let r = b.deliver(
                        &who,
                        any(&staking::MsgBeginRedelegate {
                            delegator_address: who.to_bech32(),
                            validator_src_address: validator_operator(salt)
                                .to_bech32_with(VALIDATOR_PREFIX),
                            validator_dst_address: validator_operator(salt / 3 + 1)
                                .to_bech32_with(VALIDATOR_PREFIX),
                            amount: Some(sure(salt % 100 + 1)),
                        }),
                    );
                    tally.note("redelegate", &r);
                }
                118..=121 => {
                    let r = b.deliver(
                        &who,
                        any(&distribution::MsgWithdrawDelegatorReward {
                            delegator_address: who.to_bech32(),
                            validator_address: validator_operator(salt)
                                .to_bech32_with(VALIDATOR_PREFIX),
                        }),
                    );
                    tally.note("withdraw rewards", &r);
                }
                122..=124 => {
                    let pause = any(&policy::MsgSetProductPaused {
                        authority: gov_authority().to_bech32(),
                        product_id: 1 + salt % 4,
                        paused: salt % 5 == 0,
                    });
                    let r = b.deliver(
                        &who,
                        any(&govv1::MsgSubmitProposal {
                            messages: vec![pause],
                            initial_deposit: vec![sure(10)],
                            proposer: who.to_bech32(),
                            metadata: String::new(),
                            title: "pause or resume a product".into(),
                            summary: String::new(),
                            expedited: false,
                        }),
                    );
                    tally.note("proposal", &r);
                }
                _ => {
                    let active = surety_gov::Gov::default()
                        .proposals(b.ctx)
                        .unwrap()
                        .into_iter()
                        .filter(|p| p.status == govv1::ProposalStatus::VotingPeriod as i32)
                        .collect::<Vec<_>>();
                    if let Some(p) = active.get(salt as usize % active.len().max(1)) {
                        // Yes, no or abstain: never a veto, so no deposit is burned and the
                        // supply stays whole.
                        let option = [
                            govv1::VoteOption::Yes,
                            govv1::VoteOption::No,
                            govv1::VoteOption::Abstain,
                        ][(salt % 3) as usize];
                        let r = b.deliver(
                            &who,
                            any(&govv1::MsgVote {
                                proposal_id: p.id,
                                voter: who.to_bech32(),
                                option: option as i32,
                                metadata: String::new(),
                            }),
                        );
                        tally.note("gov vote", &r);
                    }
                }
            }
        }
    })
    .unwrap();
}

/// The three validators' operators are actors 1 to 3.
fn validator_operator(salt: u64) -> Address {
    addr(1 + (salt % 3) as u8)
}

fn sure(amount: u64) -> surety_proto::cosmos::base::v1beta1::Coin {
    surety_proto::cosmos::base::v1beta1::Coin {
        denom: "usure".into(),
        amount: (amount as u128 * 1_000_000).to_string(),
    }
}

/// Every bonded validator signs each block, so fees are allocated by power.
fn signatures(h: &Harness) -> Vec<surety_framework::CommitVote> {
    h.read(|_, ctx| {
        surety_staking::Staking::default()
            .consensus_validators(ctx)
            .unwrap()
            .into_iter()
            .filter(|v| v.power > 0)
            .map(|v| surety_framework::CommitVote {
                address: v.address,
                power: v.power,
                signed: true,
            })
            .collect()
    })
}

/// The market's invariants, from outside, after a block.
fn check(
    h: &Harness,
    genesis_supply: &[(String, String)],
    paid_seen: &mut std::collections::BTreeSet<u64>,
) {
    h.invariants()
        .unwrap_or_else(|e| panic!("block {}: {e}", h.height));
    let powers = h.read(|_, ctx| {
        surety_staking::Staking::default()
            .consensus_validators(ctx)
            .unwrap()
    });
    assert!(
        powers.iter().all(|v| v.power >= 0),
        "block {}: negative power",
        h.height
    );
    assert_eq!(
        supply(h),
        genesis_supply,
        "block {}: supply changed",
        h.height
    );
    for v in all_pools(h) {
        let p = v.pool.unwrap();
        let capital: u128 = v.capital.parse().unwrap();
        let cash: u128 = p.cash.parse().unwrap();
        let unearned: u128 = p.unearned_premium.parse().unwrap();
        // Approved claims are paid in the block that approves them, so nothing approved is left
        // unpaid: what a pool holds covers what it owes (its unearned premium).
        assert!(
            cash >= unearned,
            "block {}: pool {} holds {cash} < owes {unearned}",
            h.height,
            p.id
        );
        let shares: u128 = p.total_shares.parse().unwrap();
        if shares > 0 {
            let price: Dec = v.share_price.parse().unwrap();
            let valued = price.mul_amount(shares, Round::Down).unwrap();
            let slack = shares / Dec::SCALE + 1;
            assert!(
                valued <= capital && capital - valued <= slack,
                "block {}: pool {}: {shares} shares × {price} = {valued}, capital {capital}",
                h.height,
                p.id
            );
        }
        if p.selling {
            let requirement: u128 = v.capital_requirement.parse().unwrap();
            assert!(
                capital >= requirement,
                "block {}: pool {} sells below its requirement",
                h.height,
                p.id
            );
        }
    }
    for c in all_claims(h)
        .iter()
        .filter(|c| c.status == ClaimStatus::Paid as i32 && paid_seen.insert(c.id))
    {
        let p = policy_of(h, c.policy_id);
        let cover: u128 = p.cover.parse().unwrap();
        let deductible = p.terms.unwrap().deductible_bps as u128;
        let paid: u128 = c.payout.parse().unwrap();
        assert!(
            paid <= cover - (cover * deductible).div_ceil(10_000),
            "claim {} paid {paid} on cover {cover}",
            c.id
        );
    }
}

fn simulate(seed: u64, blocks: u32) -> (Vec<u8>, Tally) {
    // Claim periods of hours, so that several blocks see each vote and appeal.
    let (mut h, _dir) = market(|state| {
        let mut claims = surety_genesis::demo::claims_params();
        let params = claims.params.as_mut().unwrap();
        params.voting_period_secs = 3_600;
        params.appeal_window_secs = 3_600;
        params.appeal_period_secs = 7_200;
        set_section(state, "claims", &claims);
    });
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let genesis_supply = supply(&h);
    // Seed capital so that the first purchases find room.
    h.block(GENESIS_TIME + 60, |b| {
        deposit(b, &addr(1), 2, 400_000 * USDC).unwrap();
        deposit(b, &addr(2), 1, 400_000 * USDC).unwrap();
        for key in 1..=3u8 {
            #[allow(deprecated)]
            let create = staking::MsgCreateValidator {
                description: Some(staking::Description {
                    moniker: format!("validator-{key}"),
                    ..Default::default()
                }),
                commission: Some(staking::CommissionRates {
                    rate: "50000000000000000".into(),
                    max_rate: "200000000000000000".into(),
                    max_change_rate: "10000000000000000".into(),
                }),
                min_self_delegation: "1".into(),
                delegator_address: String::new(),
                validator_address: addr(key).to_bech32_with(VALIDATOR_PREFIX),
                pubkey: Some(surety_proto::to_any(
                    &surety_proto::cosmos::crypto::ed25519::PubKey {
                        key: vec![100 + key; 32],
                    },
                )),
                value: Some(sure(10_000 * key as u64)),
            };
            b.deliver(&addr(key), any(&create)).unwrap();
        }
    })
    .unwrap();
    let mut paid_seen = std::collections::BTreeSet::new();
    for _ in 0..blocks {
        h.next_commit = signatures(&h);
        step(&mut h, &mut rng, &mut tally);
        check(&h, &genesis_supply, &mut paid_seen);
    }
    (h.app_hash(), tally)
}

#[test]
fn a_seeded_random_market_keeps_its_invariants_and_replays_to_the_same_app_hash() {
    let (first, tally) = simulate(7, BLOCKS);
    eprintln!("simulation: {tally:#?}");
    for what in [
        "deposit",
        "buy",
        "request withdraw",
        "complete withdraw",
        "incident claim",
        "parametric claim",
        "assessed claim",
        "vote",
        "appeal",
        "resolve appeal",
        "transfer",
        "stake",
        "delegate",
        "undelegate",
        "redelegate",
        "withdraw rewards",
        "proposal",
        "gov vote",
    ] {
        assert!(
            tally.ok.get(what).copied().unwrap_or(0) > 0,
            "the simulation never managed a {what}"
        );
    }
    let (second, _) = simulate(7, BLOCKS);
    assert_eq!(first, second, "same seed, same app hash");
    let (short, _) = simulate(7, 100);
    let (other, _) = simulate(8, 100);
    assert_ne!(short, other, "a different seed takes a different path");
}
