//! A seeded randomized simulation of the insurance market on the real ABCI path: blocks of signed
//! transactions (deposits, withdrawals, purchases, transfers, claims, assessor votes, appeals,
//! staking and governance), prices carried in the validators' vote extensions, incidents
//! reported and attested by the validators (several products at once now and then, with a price
//! crash in the same block), a reinsurer that also writes direct cover, pools pushed below their
//! capital requirement and refilled, and validators that miss blocks and are jailed. The
//! market's invariants are checked after every block, and the whole run is repeated with the same
//! seed to the same app hash.

mod support;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use support::*;
use surety_app::testing::{TestChain, Tx, TxResult};
use surety_framework::{Address, Coins, Dec, Round, VALIDATOR_PREFIX};
use surety_proto::cosmos::bank::v1beta1::{QueryTotalSupplyRequest, QueryTotalSupplyResponse};
use surety_proto::cosmos::distribution::v1beta1 as distribution;
use surety_proto::cosmos::gov::v1 as govv1;
use surety_proto::cosmos::slashing::v1beta1 as slashing;
use surety_proto::cosmos::staking::v1beta1 as staking;
use surety_proto::surety::claims::v1::{self as claims, ClaimStatus};
use surety_proto::surety::oracle::v1 as oracle;
use surety_proto::surety::policy::v1 as policy;
use surety_proto::surety::pool::v1 as pool;

const BLOCKS: u32 = 2_000;
const ACTORS: u8 = 8;
/// Products 1 to 4 are the demo's; 5 and 6 are more protocol cover, so that one exploit season
/// can hit several products in one block.
const PRODUCTS: u64 = 7;
/// The demo's slashing cover, written by pool 3 (SURE).
const SLASHING_PRODUCT: u64 = 5;
/// The incident-triggered products and their protocols.
const PROTOCOLS: [(u64, &str); 3] = [(1, "aave-v3"), (6, "compound-v3"), (7, "curve")];
/// Validator 1 (the smallest) is the one that goes offline for a stretch and is jailed.
const FLAKY: u8 = 1;

fn actors() -> Vec<Address> {
    (1..=ACTORS).map(addr).collect()
}

/// The three validators' operators are actors 1 to 3; their consensus keys are test keys 101
/// to 103.
fn validator_operator(salt: u64) -> Address {
    addr(1 + (salt % 3) as u8)
}

fn validator_key(operator: u8) -> u8 {
    100 + operator
}

fn sure(amount: u64) -> surety_proto::cosmos::base::v1beta1::Coin {
    surety_proto::cosmos::base::v1beta1::Coin {
        denom: "usure".into(),
        amount: (amount as u128 * SURE).to_string(),
    }
}

/// The demo market with two more protocol products, and the reinsurance pool writing cover of
/// its own (on products its cedent also writes), so its capital backs direct and assumed losses
/// of the same incidents. Claim periods of hours, so that several blocks see each vote and
/// appeal.
fn market_genesis() -> serde_json::Value {
    genesis(
        &actors(),
        "10000000000000usure,10000000000000uusdc",
        |state| {
            let mut claims = surety_genesis::demo::claims_params();
            let params = claims.params.as_mut().unwrap();
            params.voting_period_secs = 3_600;
            params.appeal_window_secs = 3_600;
            params.appeal_period_secs = 7_200;
            set_section(state, "claims", &claims);

            // The demo keeps a day of prices: impermanent-loss cover, claimed up to a year
            // later, starts from the price frozen on the policy at purchase.

            let mut products = surety_genesis::demo::products();
            let aave = products.products[0].clone();
            // Compound's cover in force is capped across pools; a Curve policy may take at most
            // 5% of its capacity, and counts only ten minutes after it starts.
            products.products.push(policy::Product {
                name: "Compound v3 protocol cover".into(),
                protocol: "compound-v3".into(),
                annual_base_rate_bps: 300,
                max_cover_in_force: (3_000_000 * USDC).to_string(),
                ..aave.clone()
            });
            products.products.push(policy::Product {
                name: "Curve protocol cover".into(),
                protocol: "curve".into(),
                annual_base_rate_bps: 350,
                deductible_bps: 0,
                max_policy_share_bps: 500,
                waiting_period_secs: 600,
                ..aave
            });
            set_section(state, "policy", &products);

            let weight = |product_id, weight_bps| pool::ProductWeight {
                product_id,
                weight_bps,
            };
            let mut pools = surety_genesis::demo::pools();
            pools.pools[0]
                .products
                .extend([weight(6, 5_000), weight(7, 4_000)]);
            // The reinsurer of pool 1 writes products 1, 2 and 6 directly as well.
            pools.pools[1].products = vec![weight(1, 4_000), weight(2, 3_000), weight(6, 5_000)];
            set_section(state, "pool", &pools);
        },
    )
}

fn supply(h: &TestChain) -> BTreeMap<String, u128> {
    let r: QueryTotalSupplyResponse = h
        .query(
            "/cosmos.bank.v1beta1.Query/TotalSupply",
            &QueryTotalSupplyRequest { pagination: None },
        )
        .unwrap();
    r.supply
        .into_iter()
        .map(|c| (c.denom, c.amount.parse().unwrap()))
        .collect()
}

/// The policies under one of the policy module's indexes (an owner's, a product's), by id.
fn policies_under(h: &TestChain, prefix: Vec<u8>) -> Vec<policy::Policy> {
    h.read(|ctx| {
        surety_policy::state::ids_under(ctx, &prefix)
            .unwrap()
            .into_iter()
            .map(|id| surety_policy::state::policy(ctx, id).unwrap())
            .collect()
    })
}

fn policies_of(h: &TestChain, owner: &Address) -> Vec<policy::Policy> {
    policies_under(h, surety_policy::state::owner_prefix(owner))
}

fn all_claims(h: &TestChain) -> Vec<claims::Claim> {
    h.read(|ctx| surety_claims::state::claims(ctx).unwrap())
}

/// Pool 1 (direct, reinsured), pool 2 (its reinsurer, writing direct cover too) and pool 3
/// (SURE, slashing cover).
fn all_pools(h: &TestChain) -> Vec<pool::PoolView> {
    vec![pool_view(h, 1), pool_view(h, 2), pool_view(h, 3)]
}

fn incident_status(h: &TestChain, id: u64) -> i32 {
    let r: oracle::QueryIncidentResponse = h
        .query(
            "/surety.oracle.v1.Query/Incident",
            &oracle::QueryIncidentRequest { incident_id: id },
        )
        .unwrap();
    r.incident.unwrap().status
}

/// What the simulation saw, to show that it exercised the market.
#[derive(Debug, Default)]
struct Tally {
    ok: BTreeMap<&'static str, u32>,
    refused: BTreeMap<&'static str, u32>,
}

impl Tally {
    fn note<T>(&mut self, what: &'static str, r: &Result<T, surety_framework::Error>) {
        self.count(what, r.is_ok());
    }

    fn count(&mut self, what: &'static str, ok: bool) {
        let map = if ok { &mut self.ok } else { &mut self.refused };
        *map.entry(what).or_default() += 1;
    }

    fn saw(&mut self, what: &'static str, n: u32) {
        if n > 0 {
            *self.ok.entry(what).or_default() += n;
        }
    }
}

/// Why a transaction is in the block, for reading its result.
enum What {
    /// Tallied under this name.
    Note(&'static str),
    /// A purchase: tallied, and its pools checked against their requirements.
    Buy,
    /// An incident report (protocol and incident time): must be accepted.
    Report(&'static str, i64),
    /// A validator's attestation: late ones find the incident already confirmed.
    Attest,
    /// A holder's claim on a confirmed incident of its protocol: must pay.
    IncidentClaim(u64),
    /// A proposal to resolve an appeal, for the validators to vote on.
    ResolveAppeal,
}

/// A confirmed incident whose policies must all end up paid, by their holders' claims or by
/// the automatic payout.
struct Payout {
    incident: u64,
    /// Policies the automatic payout must pay (live at the confirmation, not claimed by hand).
    automatic: Vec<u64>,
}

/// What carries over from one block to the next.
#[derive(Default)]
struct Sim {
    tally: Tally,
    /// Incidents reported in the last block (id, protocol, time), for the validators to attest.
    reported: Vec<(u64, &'static str, i64)>,
    payouts: Vec<Payout>,
    /// Appeal proposals submitted in the last block, for the validators to vote on.
    to_vote: Vec<u64>,
    /// Appeal proposals not yet decided.
    resolving: BTreeSet<u64>,
    /// Claims with an appeal proposal under way.
    appeals_proposed: BTreeSet<u64>,
    /// Blocks the flaky validator has still to miss.
    outage: u32,
    /// CometBFT's validator set of the last block: the one whose commit the next block carries.
    last_set: Vec<(Vec<u8>, i64)>,
    /// usure burned by slashes, which the supply check allows for.
    burned: u128,
    paid_seen: BTreeSet<u64>,
    /// Incidents the pools paid losses for, for recoveries.
    paid_incidents: BTreeSet<String>,
}

fn any_event(h: &TestChain) -> impl Iterator<Item = &surety_proto::cometbft::abci::Event> {
    h.last_block
        .events
        .iter()
        .chain(h.last_block.tx_results.iter().flat_map(|r| r.events.iter()))
}

fn attr<'a>(e: &'a surety_proto::cometbft::abci::Event, key: &str) -> Option<&'a str> {
    e.attributes
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.as_str())
}

fn step(h: &mut TestChain, rng: &mut ChaCha8Rng, sim: &mut Sim) {
    // Mostly seconds apart, so votes and cooldowns play out; now and then days, so cover
    // expires and premiums are earned. A block with attestations to carry comes within the
    // incident's attestation window (60 s), and no day passes while governance decides an
    // appeal (its vote takes 600 s; the appeal ends by itself after 7 200).
    let time = h.time
        + if !sim.reported.is_empty() {
            rng.gen_range(5..30)
        } else if sim.resolving.is_empty() && rng.gen_bool(0.08) {
            rng.gen_range(DAY..3 * DAY)
        } else {
            rng.gen_range(5..90)
        };
    let people = actors();
    let pools = all_pools(h);
    let open_claims: Vec<claims::Claim> = all_claims(h)
        .into_iter()
        .filter(|c| {
            c.status == ClaimStatus::Voting as i32
                || c.status == ClaimStatus::Appealed as i32
                || c.status == ClaimStatus::Rejected as i32
        })
        .collect();
    let proposals = h.read(|ctx| surety_gov::Gov::default().proposals(ctx).unwrap());
    let operators = h.validator_operators();
    let mut txs: Vec<(What, Tx)> = Vec::new();

    // The validators attest the incidents reported in the last block; then holders of cover
    // live at an incident's time claim it in the same block, or leave it to the automatic
    // payout at the end of the block (a policy that ended since can only be claimed by hand,
    // within its grace period).
    let reported = std::mem::take(&mut sim.reported);
    for &(id, _, _) in &reported {
        for op in &operators {
            let attest = any(&oracle::MsgAttestIncident {
                validator: op.to_bech32(),
                incident_id: id,
                confirm: true,
            });
            txs.push((What::Attest, Tx::new(op, attest)));
        }
    }
    for &(id, protocol, at) in &reported {
        let product = PROTOCOLS.iter().find(|(_, p)| *p == protocol).unwrap().0;
        let mut automatic = Vec::new();
        let covered = policies_under(h, surety_policy::state::product_policies_prefix(product));
        for p in covered.iter().filter(|p| {
            let waiting = p.terms.as_ref().unwrap().waiting_period_secs;
            !p.claimed && p.start + waiting <= at && at < p.end
        }) {
            let grace = p.terms.as_ref().unwrap().grace_period_secs;
            let live = time < p.end;
            if live && rng.gen_bool(0.5) {
                automatic.push(p.id);
            } else if time < p.end + grace {
                let owner = Address::from_bech32(&p.owner).unwrap();
                txs.push((
                    What::IncidentClaim(p.id),
                    file_tx(&owner, p.id, &id.to_string(), 0),
                ));
            }
        }
        sim.payouts.push(Payout {
            incident: id,
            automatic,
        });
    }
    if reported.len() > 1 {
        // A correlated shock: the exploits shake USDC off its peg and ETH with it.
        h.observed.insert("USDC/USD".into(), "0.85".into());
        h.observed.insert("ETH/USD".into(), "1800".into());
    }

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
    // Now and then an exploit, often of several protocols at once.
    let incident = rng.gen_bool(0.012);
    let hit = if rng.gen_bool(0.6) {
        rng.gen_range(2..=3)
    } else {
        1
    };
    let protocols: Vec<&'static str> = PROTOCOLS
        .choose_multiple(rng, hit)
        .map(|(_, p)| *p)
        .collect();

    // The validators report prices in the vote extensions this block carries.
    if price_moves[0].0 {
        // USDC mostly near the peg, sometimes well below it.
        let p = if price_moves[0].1 < 700 {
            990 + price_moves[0].1 % 20
        } else {
            600 + price_moves[0].1 % 390
        };
        let price = Dec::ratio(p as u128, 1000, Round::Down).unwrap();
        h.observed.insert("USDC/USD".into(), price.to_string());
    }
    if price_moves[1].0 {
        let p = 1_000 + price_moves[1].1 as u128 * 10;
        h.observed.insert("ETH/USD".into(), p.to_string());
    }
    if incident {
        for protocol in protocols {
            let report = any(&oracle::MsgReportIncident {
                reporter: reporter().to_bech32(),
                protocol: protocol.into(),
                time: time - 30,
                description: "exploit".into(),
                evidence: "https://example.com/postmortem".into(),
            });
            txs.push((
                What::Report(protocol, time - 30),
                Tx::new(&reporter(), report),
            ));
        }
    }

    // The validators vote for the appeal proposals submitted in the last block.
    for id in std::mem::take(&mut sim.to_vote) {
        for op in &operators {
            let vote = any(&govv1::MsgVote {
                proposal_id: id,
                voter: op.to_bech32(),
                option: govv1::VoteOption::Yes as i32,
                metadata: String::new(),
            });
            txs.push((What::Note("validator vote"), Tx::new(op, vote)));
        }
    }

    // The flaky validator's operator asks to be let back in once it was jailed.
    let jailed = h.read(|ctx| {
        surety_staking::state::load_validator(ctx, &addr(FLAKY))
            .unwrap()
            .is_some_and(|v| v.proto.jailed)
    });
    if jailed && rng.gen_bool(0.5) {
        let unjail = any(&slashing::MsgUnjail {
            validator_addr: addr(FLAKY).to_bech32_with(VALIDATOR_PREFIX),
        });
        txs.push((What::Note("unjail"), Tx::new(&addr(FLAKY), unjail)));
    }

    // Providers refill a pool that stopped selling.
    for v in &pools {
        let p = v.pool.as_ref().unwrap();
        if !p.selling && rng.gen_bool(0.3) {
            let who = *people.choose(rng).unwrap();
            let amount = rng.gen_range(200_000..1_000_000u128) * USDC;
            txs.push((What::Note("refill"), deposit_tx(&who, p.id, amount)));
        }
    }

    for (choice, (who, other, amount, salt)) in choices.iter().zip(picks) {
        let tx = |what: What, msg: surety_proto::Any| {
            // Every fifth transaction pays a fee, for the stakers.
            let tx = Tx::new(&who, msg);
            (
                what,
                if salt % 5 == 0 {
                    tx.fee("2000usure")
                } else {
                    tx
                },
            )
        };
        match choice {
            0..=14 => {
                // Providers bring less than buyers want to cover, so the pools sell up to their
                // requirement and losses can push them below it.
                let pool_id = 1 + salt % 3;
                let mut t = deposit_tx(&who, pool_id, amount / 8);
                if salt % 5 == 0 {
                    t = t.fee("2000usure");
                }
                txs.push((What::Note("deposit"), t));
            }
            15..=21 => {
                let pool_id = 1 + salt % 3;
                let position =
                    h.read(|ctx| surety_pool::state::position(ctx, pool_id, &who.0).unwrap());
                let shares: u128 = position.map_or(0, |p| p.shares.parse().unwrap_or(0));
                txs.push(tx(
                    What::Note("request withdraw"),
                    any(&pool::MsgRequestWithdraw {
                        provider: who.to_bech32(),
                        pool_id,
                        shares: (shares / (1 + (salt % 4) as u128)).to_string(),
                    }),
                ));
            }
            22..=29 => txs.push(tx(
                What::Note("complete withdraw"),
                any(&pool::MsgCompleteWithdraw {
                    provider: who.to_bech32(),
                    pool_id: 1 + salt % 3,
                }),
            )),
            30..=59 => {
                let product = 1 + salt % PRODUCTS;
                let days = 28 + (salt / 7 % 200) as u32;
                if product == SLASHING_PRODUCT {
                    // A delegator insures (part of) a delegation; more than it is refused.
                    let cover = sure(salt % 300 + 1);
                    let buy = any(&policy::MsgBuyCover {
                        buyer: who.to_bech32(),
                        product_id: product,
                        cover: cover.amount,
                        term_days: days,
                        max_premium: u128::MAX.to_string(),
                        validator: validator_operator(salt).to_bech32_with(VALIDATOR_PREFIX),
                    });
                    txs.push((What::Buy, Tx::new(&who, buy)));
                } else {
                    let cover = amount / 4 + USDC;
                    txs.push((What::Buy, buy_tx(&who, product, cover, days)));
                }
            }
            60..=64 => {
                if let Some(p) = policies_of(h, &who).iter().find(|p| !p.claimed) {
                    txs.push(tx(
                        What::Note("transfer"),
                        any(&policy::MsgTransferPolicy {
                            owner: who.to_bech32(),
                            policy_id: p.id,
                            recipient: other.to_bech32(),
                        }),
                    ));
                }
            }
            65..=79 => {
                // Claim on one of one's newest unpaid policies: parametric ones pay if their
                // trigger holds.
                if let Some(p) = policies_of(h, &who)
                    .iter()
                    .rev()
                    .filter(|p| !p.claimed)
                    .nth((salt % 3) as usize)
                {
                    let what = if p.product_id == 4 {
                        "assessed claim"
                    } else {
                        "parametric claim"
                    };
                    txs.push((What::Note(what), file_tx(&who, p.id, "", amount / 8)));
                }
            }
            80..=84 => txs.push(tx(
                What::Note("stake"),
                any(&claims::MsgStakeAssessor {
                    assessor: who.to_bech32(),
                    amount: ((salt % 1_000) as u128 * 1_000_000 + 1).to_string(),
                }),
            )),
            85..=92 => {
                let voting: Vec<_> = open_claims
                    .iter()
                    .filter(|c| c.status == ClaimStatus::Voting as i32)
                    .collect();
                if let Some(c) = voting.get(salt as usize % voting.len().max(1)) {
                    txs.push(tx(
                        What::Note("vote"),
                        any(&claims::MsgVoteClaim {
                            assessor: who.to_bech32(),
                            claim_id: c.id,
                            approve: salt % 3 != 0,
                        }),
                    ));
                }
            }
            93..=96 => {
                if let Some(c) = open_claims
                    .iter()
                    .find(|c| c.status == ClaimStatus::Rejected as i32 && c.appeal_deadline > 0)
                {
                    let claimant = Address::from_bech32(&c.claimant).unwrap();
                    txs.push((
                        What::Note("appeal"),
                        Tx::new(
                            &claimant,
                            any(&claims::MsgAppealClaim {
                                claimant: c.claimant.clone(),
                                claim_id: c.id,
                            }),
                        ),
                    ));
                }
            }
            97..=99 => {
                // Governance decides an appeal: a proposal the validators vote for in the next
                // block, executed when its voting period ends.
                if let Some(c) = open_claims.iter().find(|c| {
                    c.status == ClaimStatus::Appealed as i32
                        && !sim.appeals_proposed.contains(&c.id)
                }) {
                    sim.appeals_proposed.insert(c.id);
                    let resolve = any(&claims::MsgResolveAppeal {
                        authority: gov_authority().to_bech32(),
                        claim_id: c.id,
                        approve: salt % 2 == 0,
                    });
                    txs.push(tx(
                        What::ResolveAppeal,
                        any(&govv1::MsgSubmitProposal {
                            messages: vec![resolve],
                            initial_deposit: vec![sure(10)],
                            proposer: who.to_bech32(),
                            metadata: String::new(),
                            title: "resolve an appeal".into(),
                            summary: String::new(),
                            expedited: false,
                        }),
                    ));
                }
            }
            100..=109 => txs.push(tx(
                What::Note("delegate"),
                any(&staking::MsgDelegate {
                    delegator_address: who.to_bech32(),
                    validator_address: validator_operator(salt).to_bech32_with(VALIDATOR_PREFIX),
                    amount: Some(sure(salt % 1_000 + 1)),
                }),
            )),
            110..=114 => txs.push(tx(
                What::Note("undelegate"),
                any(&staking::MsgUndelegate {
                    delegator_address: who.to_bech32(),
                    validator_address: validator_operator(salt).to_bech32_with(VALIDATOR_PREFIX),
                    amount: Some(sure(salt % 200 + 1)),
                }),
            )),
            115..=117 => txs.push(tx(
                What::Note("redelegate"),
                any(&staking::MsgBeginRedelegate {
                    delegator_address: who.to_bech32(),
                    validator_src_address: validator_operator(salt)
                        .to_bech32_with(VALIDATOR_PREFIX),
                    validator_dst_address: validator_operator(salt / 3 + 1)
                        .to_bech32_with(VALIDATOR_PREFIX),
                    amount: Some(sure(salt % 100 + 1)),
                }),
            )),
            118..=121 => txs.push(tx(
                What::Note("withdraw rewards"),
                any(&distribution::MsgWithdrawDelegatorReward {
                    delegator_address: who.to_bech32(),
                    validator_address: validator_operator(salt).to_bech32_with(VALIDATOR_PREFIX),
                }),
            )),
            122..=124 => {
                let pause = any(&policy::MsgSetProductPaused {
                    authority: gov_authority().to_bech32(),
                    product_id: 1 + salt % PRODUCTS,
                    paused: salt % 5 == 0,
                });
                txs.push(tx(
                    What::Note("proposal"),
                    any(&govv1::MsgSubmitProposal {
                        messages: vec![pause],
                        initial_deposit: vec![sure(10)],
                        proposer: who.to_bech32(),
                        metadata: String::new(),
                        title: "pause or resume a product".into(),
                        summary: String::new(),
                        expedited: false,
                    }),
                ));
            }
            125..=127 => {
                // Stolen funds come back: whoever holds them returns a part to the pools that
                // paid the incident.
                if let Some(incident) = sim
                    .paid_incidents
                    .iter()
                    .nth(salt as usize % sim.paid_incidents.len().max(1))
                {
                    let denom = if incident.starts_with("slash:") {
                        "usure"
                    } else {
                        "uusdc"
                    };
                    txs.push(tx(
                        What::Note("recovery"),
                        any(&claims::MsgRecordRecovery {
                            sender: who.to_bech32(),
                            incident: incident.clone(),
                            amount: Some(surety_proto::cosmos::base::v1beta1::Coin {
                                denom: denom.into(),
                                amount: (amount / 16).to_string(),
                            }),
                        }),
                    ));
                }
            }
            _ => {
                let active: Vec<_> = proposals
                    .iter()
                    .filter(|p| p.status == govv1::ProposalStatus::VotingPeriod as i32)
                    .collect();
                if let Some(p) = active.get(salt as usize % active.len().max(1)) {
                    // Yes, no or abstain: never a veto, so no deposit is burned.
                    let option = [
                        govv1::VoteOption::Yes,
                        govv1::VoteOption::No,
                        govv1::VoteOption::Abstain,
                    ][(salt % 3) as usize];
                    txs.push(tx(
                        What::Note("gov vote"),
                        any(&govv1::MsgVote {
                            proposal_id: p.id,
                            voter: who.to_bech32(),
                            option: option as i32,
                            metadata: String::new(),
                        }),
                    ));
                }
            }
        }
    }

    // Missed signatures: now and then one validator misses a block; rarely the flaky one goes
    // offline long enough (20 of the 30-block window) to be jailed for downtime. Never so many
    // that the rest hold 2/3 of the power or less: CometBFT would commit no block then.
    if sim.outage == 0 && !jailed && rng.gen_bool(0.004) {
        sim.outage = 20;
    }
    let mut absent = BTreeSet::new();
    if sim.outage > 0 {
        sim.outage -= 1;
        absent.insert(consensus_address(validator_key(FLAKY)));
    }
    if rng.gen_bool(0.05) {
        absent.insert(consensus_address(validator_key(rng.gen_range(1..=3u8))));
    }
    // The commit this block carries is by the set that made the last block.
    let total: i64 = sim.last_set.iter().map(|(_, p)| p).sum();
    let missing: i64 = sim
        .last_set
        .iter()
        .filter(|(a, _)| absent.contains(a))
        .map(|(_, p)| p)
        .sum();
    if (total - missing) * 3 > total * 2 {
        h.absent = absent;
    }
    sim.last_set = h.validator_set();

    let (whats, txs): (Vec<What>, Vec<Tx>) = txs.into_iter().unzip();
    let results = h.block(time, txs);
    after_block(h, sim, &reported, whats, results);
}

/// Reads a block's results and events: tallies, incidents, appeals, purchases against their
/// pools' requirements, burns, and pools that stopped or resumed selling.
fn after_block(
    h: &mut TestChain,
    sim: &mut Sim,
    attested: &[(u64, &'static str, i64)],
    whats: Vec<What>,
    results: Vec<TxResult>,
) {
    // Pools that paid a loss in this block, directly or as reinsurer: a sale before the loss
    // may now be below its requirement (and the pool has stopped selling).
    let mut losing = BTreeSet::new();
    let mut losses_by_incident: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let mut reinsurer_paid_own_and_ceded = (false, false);
    for e in any_event(h) {
        match e.r#type.as_str() {
            "burn" => {
                let coins: Coins = attr(e, "amount").unwrap().parse().unwrap();
                for c in &coins {
                    assert_eq!(c.denom, "usure", "only stake is ever burned");
                    sim.burned += c.amount;
                }
            }
            "pool_loss" => {
                sim.paid_incidents
                    .insert(attr(e, "incident").unwrap().to_string());
                let pool: u64 = attr(e, "pool_id").unwrap().parse().unwrap();
                losing.insert(pool);
                let reinsurer = attr(e, "reinsurer_pool_id").map(|r| r.parse::<u64>().unwrap());
                if let Some(r) = reinsurer {
                    losing.insert(r);
                }
                let own: u128 = attr(e, "paid_by_pool").unwrap().parse().unwrap();
                if pool == 2 && own > 0 {
                    reinsurer_paid_own_and_ceded.0 = true;
                }
                let ceded: u128 = attr(e, "paid_by_reinsurer").unwrap().parse().unwrap();
                if reinsurer == Some(2) && ceded > 0 {
                    reinsurer_paid_own_and_ceded.1 = true;
                }
                losses_by_incident
                    .entry(attr(e, "incident").unwrap().to_string())
                    .or_default()
                    .insert(pool);
            }
            "pool_sales_stopped" => sim.tally.saw("sales stopped", 1),
            "pool_sales_resumed" => sim.tally.saw("sales resumed", 1),
            "pool_shortfall" => sim.tally.saw("shortfall", 1),
            "liveness" => sim.tally.saw("jailed for downtime", 1),
            _ => {}
        }
    }
    if reinsurer_paid_own_and_ceded == (true, true) {
        sim.tally
            .saw("reinsurer paid direct and ceded losses in one block", 1);
    }
    let incident_losses = losses_by_incident
        .keys()
        .filter(|i| i.starts_with("incident:"))
        .count() as u32;
    if incident_losses > 1 {
        sim.tally.saw("losses of several incidents in one block", 1);
    }

    for (what, r) in whats.into_iter().zip(results) {
        match what {
            What::Note(name) => sim.tally.note(name, &r),
            What::Buy => {
                sim.tally.note("buy", &r);
                match &r {
                    Err(e) if e.codespace == "policy" && e.code == 12 => {
                        sim.tally.saw("sale frozen by an open incident", 1)
                    }
                    Err(e) if e.codespace == "policy" && e.code == 13 => {
                        sim.tally.saw("policy above its share of capacity", 1)
                    }
                    Err(e) if e.codespace == "policy" && e.code == 14 => {
                        sim.tally.saw("slashing cover above the delegation", 1)
                    }
                    _ => {}
                }
                if let Ok((id, _)) = bought(r) {
                    assert_sale_kept_requirement(h, id, &losing);
                }
            }
            What::Report(protocol, at) => {
                let id = decode::<oracle::MsgReportIncidentResponse>(
                    r.unwrap_or_else(|e| panic!("block {}: incident report: {e:?}", h.height)),
                )
                .incident_id;
                sim.reported.push((id, protocol, at));
            }
            What::Attest => sim.tally.note("attestation", &r),
            What::IncidentClaim(policy) => {
                sim.tally.note("incident claim", &r);
                let r = r.map(decode::<claims::MsgFileClaimResponse>);
                assert!(
                    r.as_ref()
                        .is_ok_and(|c| c.status == ClaimStatus::Paid as i32),
                    "block {}: a covered incident must pay policy {policy}: {r:?}",
                    h.height
                );
            }
            What::ResolveAppeal => {
                sim.tally.note("appeal proposal", &r);
                if let Ok(bytes) = r {
                    let id = decode::<govv1::MsgSubmitProposalResponse>(bytes).proposal_id;
                    sim.to_vote.push(id);
                    sim.resolving.insert(id);
                }
            }
        }
    }

    // Every attested incident is confirmed: the validators' attestations carry 2/3 of power.
    for &(id, _, _) in attested {
        assert_eq!(
            incident_status(h, id),
            oracle::IncidentStatus::Confirmed as i32,
            "block {}: incident {id} attested by every validator",
            h.height
        );
    }
    if attested.len() > 1 {
        sim.tally
            .saw("correlated incidents confirmed in one block", 1);
    }

    // Appeals governance decided: passed means the resolution ran.
    for id in sim.resolving.clone() {
        let status = h.proposal(id).unwrap().status;
        if status != govv1::ProposalStatus::VotingPeriod as i32 {
            sim.tally.count(
                "resolve appeal",
                status == govv1::ProposalStatus::Passed as i32,
            );
            sim.resolving.remove(&id);
        }
    }

    // Once an incident's automatic payouts are done, every policy left to them was paid.
    let running: BTreeSet<String> = h.read(|ctx| {
        surety_claims::payouts::jobs(ctx, 1_000)
            .unwrap()
            .into_iter()
            .map(|j| j.incident)
            .collect()
    });
    let mut waiting = Vec::new();
    for p in std::mem::take(&mut sim.payouts) {
        if running.contains(&p.incident.to_string()) {
            waiting.push(p);
            continue;
        }
        for &id in &p.automatic {
            let policy = policy_of(h, id);
            assert!(
                policy.claimed,
                "block {}: policy {id} was live at incident {} and never paid: {:?}",
                h.height,
                p.incident,
                h.read(|ctx| surety_claims::payouts::failure(ctx, id).unwrap())
            );
        }
        sim.tally.saw("incident payout", p.automatic.len() as u32);
    }
    sim.payouts = waiting;
}

/// Checks that a purchase left every pool it touched (and their reinsurers) at or above its
/// capital requirement, unless a loss in the same block hit the pool after the sale.
fn assert_sale_kept_requirement(h: &TestChain, policy_id: u64, losing: &BTreeSet<u64>) {
    let policy = policy_of(h, policy_id);
    let mut ids = BTreeSet::new();
    for a in &policy.allocations {
        ids.insert(a.pool_id);
        let view = pool_view(h, a.pool_id);
        if let Some(r) = view.pool.unwrap().reinsurance {
            ids.insert(r.reinsurer_pool_id);
        }
    }
    for id in ids.into_iter().filter(|id| !losing.contains(id)) {
        let v = pool_view(h, id);
        let capital: u128 = v.capital.parse().unwrap();
        let requirement: u128 = v.capital_requirement.parse().unwrap();
        assert!(
            capital >= requirement,
            "block {}: sale of policy {policy_id} took pool {id} to {capital} below its \
             requirement {requirement}",
            h.height
        );
    }
}

/// The market's invariants, from outside, after a block.
fn check(h: &TestChain, genesis_supply: &BTreeMap<String, u128>, sim: &mut Sim) {
    h.invariants()
        .unwrap_or_else(|e| panic!("block {}: {e}", h.height));
    let powers = h.read(|ctx| {
        surety_staking::Staking::default()
            .consensus_validators(ctx)
            .unwrap()
    });
    assert!(
        powers.iter().all(|v| v.power >= 0),
        "block {}: negative power",
        h.height
    );
    // Nothing is minted; only slashes burn (stake), so USDC is conserved exactly.
    let mut expected = genesis_supply.clone();
    *expected.get_mut("usure").unwrap() -= sim.burned;
    assert_eq!(supply(h), expected, "block {}: supply changed", h.height);
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
        let requirement: u128 = v.capital_requirement.parse().unwrap();
        if p.selling {
            assert!(
                capital >= requirement,
                "block {}: pool {} sells below its requirement",
                h.height,
                p.id
            );
        } else {
            sim.tally
                .saw("blocks a pool spent below its requirement", 1);
        }
    }
    for c in all_claims(h)
        .iter()
        .filter(|c| c.status == ClaimStatus::Paid as i32 && sim.paid_seen.insert(c.id))
    {
        let p = policy_of(h, c.policy_id);
        if !p.claimed {
            sim.tally.saw("partial claim, cover left in force", 1);
        }
        if p.product_id == SLASHING_PRODUCT {
            sim.tally.saw("slashing cover payout", 1);
        }
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

/// Runs `blocks` random blocks from `seed`; with `checked`, the invariants after each. (A replay
/// needs no checks: it commits the same blocks, as its app hash shows.)
fn simulate(seed: u64, blocks: u32, checked: bool) -> (Vec<u8>, Tally) {
    let mut h = TestChain::new(&market_genesis(), GENESIS_TIME);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sim = Sim::default();
    let genesis_supply = supply(&h);
    // Seed capital so that the first purchases find room, and three validators besides the
    // genesis one.
    let mut setup = vec![
        deposit_tx(&addr(1), 2, 400_000 * USDC),
        deposit_tx(&addr(2), 1, 400_000 * USDC),
    ];
    // The flaky validator is the smallest by far, so that the others sign 2/3 without it.
    for (n, bond) in [(1u8, 10_000), (2, 100_000), (3, 200_000)] {
        setup.push(create_validator(&addr(n), validator_key(n), bond));
    }
    sim.last_set = h.validator_set();
    for r in h.block(GENESIS_TIME + 60, setup) {
        r.unwrap();
    }
    for _ in 0..blocks {
        step(&mut h, &mut rng, &mut sim);
        if checked {
            check(&h, &genesis_supply, &mut sim);
        }
    }
    (h.app_hash(), sim.tally)
}

#[test]
fn a_seeded_random_market_keeps_its_invariants_and_replays_to_the_same_app_hash() {
    let started = std::time::Instant::now();
    let (first, tally) = simulate(7, BLOCKS, true);
    eprintln!("simulation ({:?}): {tally:#?}", started.elapsed());
    for what in [
        "deposit",
        "buy",
        "request withdraw",
        "complete withdraw",
        "incident claim",
        "incident payout",
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
        "correlated incidents confirmed in one block",
        "losses of several incidents in one block",
        "reinsurer paid direct and ceded losses in one block",
        "sales stopped",
        "refill",
        "sales resumed",
        "jailed for downtime",
        "unjail",
        "recovery",
        "partial claim, cover left in force",
        "sale frozen by an open incident",
        "slashing cover above the delegation",
        "slashing cover payout",
        "policy above its share of capacity",
    ] {
        assert!(
            tally.ok.get(what).copied().unwrap_or(0) > 0,
            "the simulation never managed a {what}"
        );
    }
    let (second, _) = simulate(7, BLOCKS, false);
    assert_eq!(first, second, "same seed, same app hash");
    let (short, _) = simulate(7, 100, false);
    let (other, _) = simulate(8, 100, true);
    assert_ne!(short, other, "a different seed takes a different path");
    eprintln!("whole test: {:?}", started.elapsed());
}
