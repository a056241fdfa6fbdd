//! A market to test the insurance modules on: funded accounts, the demo pools and products (or
//! custom ones), and helpers to deliver messages and read balances, over the real store.
#![allow(dead_code)]

use prost::Message;
use surety_app::testing::{self, TestChain, Tx, TxResult};
#[allow(unused_imports)] // not every test file needs it
pub use surety_framework::gov_authority;
use surety_framework::oracle::OracleView;
use surety_framework::{Address, Coins, Dec, Error};
use surety_genesis::AppState;
use surety_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use surety_proto::surety::{claims, policy, pool};
use surety_proto::{to_any, Any, TypeUrl};

pub const USDC: u128 = 1_000_000;
pub const SURE: u128 = 1_000_000;
pub const DAY: i64 = 86_400;
pub const GENESIS_TIME: i64 = 1_800_000_000;

/// Test account `n`: an address whose key the test chain holds.
pub fn addr(n: u8) -> Address {
    testing::account(n)
}
pub fn alice() -> Address {
    addr(1)
}
pub fn bob() -> Address {
    addr(2)
}
pub fn carol() -> Address {
    addr(3)
}
pub fn dave() -> Address {
    addr(4)
}
/// Reports incidents (and bonds them); funded with SURE only, so USDC balances stay clean.
pub fn reporter() -> Address {
    addr(199)
}
/// The genesis validator's operator and consensus key number: a validator with one SURE of
/// power, there because CometBFT needs a validator at genesis, and enough to pass governance
/// when no test validator exists.
pub const GENESIS_VALIDATOR: u8 = 200;

/// Genesis with `accounts` funded with `coins` each, the genesis validator, a reporter, the demo
/// market and a governance voting period of ten minutes, edited by `edit`.
pub fn genesis(
    accounts: &[Address],
    coins: &str,
    edit: impl FnOnce(&mut AppState),
) -> serde_json::Value {
    genesis_for(testing::CHAIN_ID, accounts, coins, edit)
}

/// [`genesis`] for a chain named `chain_id` (its gentx signed for it).
pub fn genesis_for(
    chain_id: &str,
    accounts: &[Address],
    coins: &str,
    edit: impl FnOnce(&mut AppState),
) -> serde_json::Value {
    let mut state = AppState::default();
    let coins: Coins = coins.parse().unwrap();
    for a in accounts {
        state.add_account(a, &coins).unwrap();
    }
    let sure: Coins = "1000000000000usure".parse().unwrap();
    state.add_account(&reporter(), &sure).unwrap();
    state.add_account(&addr(GENESIS_VALIDATOR), &sure).unwrap();
    state.genutil.gen_txs = vec![testing::gentx(
        &testing::account_key(GENESIS_VALIDATOR),
        create_validator_msg(&addr(GENESIS_VALIDATOR), GENESIS_VALIDATOR, 1),
        chain_id,
    )];
    surety_genesis::demo::apply(&mut state);
    // Tests that set their own gov section replace this one.
    set_section(
        &mut state,
        "gov",
        &serde_json::json!({ "params": {
            "voting_period": "600s",
            "expedited_voting_period": "300s",
        } }),
    );
    edit(&mut state);
    serde_json::to_value(&state).unwrap()
}

/// A market of four funded people on the demo pools and products.
pub fn demo() -> TestChain {
    market(|_| {})
}

pub fn market(edit: impl FnOnce(&mut AppState)) -> TestChain {
    market_on(testing::CHAIN_ID, edit)
}

/// [`market`] on a chain named `chain_id`.
pub fn market_on(chain_id: &str, edit: impl FnOnce(&mut AppState)) -> TestChain {
    let g = genesis_for(
        chain_id,
        &[alice(), bob(), carol(), dave()],
        "10000000000000usure,10000000000000uusdc",
        edit,
    );
    TestChain::with_chain_id(chain_id, &g, GENESIS_TIME)
}

/// Replaces a genesis section with a typed value.
pub fn set_section<T: serde::Serialize>(state: &mut AppState, name: &str, section: &T) {
    state
        .modules
        .insert(name.into(), serde_json::to_value(section).unwrap());
}

/// The demo market with capital in both pools: carol's 300 000 USDC in pool 2 (the
/// reinsurer), alice's in pool 1.
pub fn capitalised() -> TestChain {
    let mut h = demo();
    all_ok(h.block(
        GENESIS_TIME + 10,
        vec![
            deposit_tx(&carol(), 2, 300_000 * USDC),
            deposit_tx(&alice(), 1, 300_000 * USDC),
        ],
    ));
    h
}

/// Replaces the demo's pools and products (keeping the demo's pool params).
pub fn set_pools_and_products(
    state: &mut AppState,
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

/// The error is the module's `codespace`/`code`; its log is shown if not.
pub fn assert_error(e: &Error, codespace: &str, code: u32) {
    assert_eq!((e.codespace, e.code), (codespace, code), "{}", e.log);
}

/// Every transaction of a block succeeded; their responses.
pub fn all_ok(results: Vec<TxResult>) -> Vec<Vec<u8>> {
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("tx {i}: {e:?}")))
        .collect()
}

pub fn balance(h: &TestChain, who: &Address, denom: &str) -> u128 {
    let r: QueryBalanceResponse = h
        .query(
            "/cosmos.bank.v1beta1.Query/Balance",
            &QueryBalanceRequest {
                address: who.to_bech32(),
                denom: denom.into(),
            },
        )
        .unwrap();
    r.balance.unwrap().amount.parse().unwrap()
}

pub fn usdc(h: &TestChain, who: &Address) -> u128 {
    balance(h, who, "uusdc")
}

pub fn pool_view(h: &TestChain, id: u64) -> pool::v1::PoolView {
    let r: pool::v1::QueryPoolResponse = h
        .query(
            "/surety.pool.v1.Query/Pool",
            &pool::v1::QueryPoolRequest { pool_id: id },
        )
        .unwrap();
    r.pool.unwrap()
}

pub fn pool_cash(h: &TestChain, id: u64) -> u128 {
    pool_view(h, id).pool.unwrap().cash.parse().unwrap()
}

pub fn capital(h: &TestChain, id: u64) -> u128 {
    pool_view(h, id).capital.parse().unwrap()
}

pub fn quote(
    h: &TestChain,
    product: u64,
    cover: u128,
    days: u32,
) -> Result<policy::v1::QueryQuoteResponse, Error> {
    h.query(
        "/surety.policy.v1.Query/Quote",
        &policy::v1::QueryQuoteRequest {
            product_id: product,
            cover: cover.to_string(),
            term_days: days,
        },
    )
}

pub fn policy_of(h: &TestChain, id: u64) -> policy::v1::Policy {
    let r: policy::v1::QueryPolicyResponse = h
        .query(
            "/surety.policy.v1.Query/Policy",
            &policy::v1::QueryPolicyRequest { policy_id: id },
        )
        .unwrap();
    r.policy.unwrap()
}

pub fn claim_of(h: &TestChain, id: u64) -> claims::v1::Claim {
    let r: claims::v1::QueryClaimResponse = h
        .query(
            "/surety.claims.v1.Query/Claim",
            &claims::v1::QueryClaimRequest { claim_id: id },
        )
        .unwrap();
    r.claim.unwrap()
}

pub fn decode<M: Message + Default>(bytes: Vec<u8>) -> M {
    M::decode(bytes.as_slice()).unwrap()
}

pub fn any<M: Message + TypeUrl>(m: &M) -> Any {
    to_any(m)
}

pub fn deposit_tx(who: &Address, pool_id: u64, amount: u128) -> Tx {
    Tx::new(
        who,
        any(&pool::v1::MsgDeposit {
            provider: who.to_bech32(),
            pool_id,
            amount: amount.to_string(),
        }),
    )
}

/// Deposits in a block of its own, a second after the last.
pub fn deposit(h: &mut TestChain, who: &Address, pool_id: u64, amount: u128) -> TxResult {
    let t = h.time + 1;
    h.block(t, vec![deposit_tx(who, pool_id, amount)]).remove(0)
}

pub fn buy_tx(who: &Address, product: u64, cover: u128, days: u32) -> Tx {
    Tx::new(
        who,
        any(&policy::v1::MsgBuyCover {
            buyer: who.to_bech32(),
            product_id: product,
            cover: cover.to_string(),
            term_days: days,
            max_premium: u128::MAX.to_string(),
            validator: String::new(),
        }),
    )
}

/// (policy id, premium) of a purchase's result.
pub fn bought(r: TxResult) -> Result<(u64, u128), Error> {
    let r: policy::v1::MsgBuyCoverResponse = decode(r?);
    Ok((r.policy_id, r.premium.parse().unwrap()))
}

/// Buys cover in a block of its own, a second after the last; returns (policy id, premium).
pub fn buy(
    h: &mut TestChain,
    who: &Address,
    product: u64,
    cover: u128,
    days: u32,
) -> Result<(u64, u128), Error> {
    let t = h.time + 1;
    bought(
        h.block(t, vec![buy_tx(who, product, cover, days)])
            .remove(0),
    )
}

pub fn file_tx(who: &Address, policy: u64, incident: &str, loss: u128) -> Tx {
    Tx::new(
        who,
        any(&claims::v1::MsgFileClaim {
            claimant: who.to_bech32(),
            policy_id: policy,
            incident: incident.into(),
            loss: loss.to_string(),
            evidence: "https://example.com/postmortem".into(),
        }),
    )
}

pub fn stake_tx(who: &Address, amount: u128) -> Tx {
    Tx::new(
        who,
        any(&claims::v1::MsgStakeAssessor {
            assessor: who.to_bech32(),
            amount: amount.to_string(),
        }),
    )
}

pub fn vote_tx(who: &Address, claim: u64, approve: bool) -> Tx {
    Tx::new(
        who,
        any(&claims::v1::MsgVoteClaim {
            assessor: who.to_bech32(),
            claim_id: claim,
            approve,
        }),
    )
}

/// Files a claim in a block of its own, a second after the last.
pub fn file(
    h: &mut TestChain,
    who: &Address,
    policy: u64,
    incident: &str,
    loss: u128,
) -> Result<claims::v1::MsgFileClaimResponse, Error> {
    let t = h.time + 1;
    Ok(decode(
        h.block(t, vec![file_tx(who, policy, incident, loss)])
            .remove(0)?,
    ))
}

/// Passes `msg` through a governance proposal the validators vote for.
pub fn gov(h: &mut TestChain, msg: Any) -> Result<(), Error> {
    h.govern(vec![msg])
}

/// Reports an incident of `protocol` at `time` and has the validators confirm it; returns its
/// id.
pub fn confirmed_incident(h: &mut TestChain, protocol: &str, time: i64) -> u64 {
    h.confirm_incident(&reporter(), protocol, time)
}

/// The validators report `price` for `feed` from the next block on; one block records it.
pub fn set_price(h: &mut TestChain, feed: &str, price: &str) {
    h.observed.insert(feed.into(), price.into());
    let t = h.time + 1;
    h.block(t, vec![]);
}

pub fn price_now(h: &TestChain, feed: &str) -> Option<Dec> {
    h.read(|ctx| {
        surety_oracle::Oracle::default()
            .price_at(ctx, feed, i64::MAX)
            .unwrap()
            .map(|p| p.price)
    })
}

/// A protocol product with parametric incident cover and no deductible unless given.
pub fn protocol_product(name: &str, protocol: &str, deductible_bps: u32) -> policy::v1::Product {
    use policy::v1::*;
    Product {
        name: name.into(),
        protocol: protocol.into(),
        cover_type: CoverType::Protocol as i32,
        denom: "uusdc".into(),
        annual_base_rate_bps: 200,
        min_term_days: 28,
        max_term_days: 365,
        max_cover: (10_000_000 * USDC).to_string(),
        deductible_bps,
        claim_mode: ClaimMode::Parametric as i32,
        grace_period_secs: DAY,
        ..Default::default()
    }
}

/// One pool without reinsurance underwriting products 1..=n at full weight.
pub fn simple_pool(products: u64) -> pool::v1::Pool {
    pool::v1::Pool {
        name: "Solo".into(),
        denom: "uusdc".into(),
        products: (1..=products)
            .map(|product_id| pool::v1::ProductWeight {
                product_id,
                weight_bps: 10_000,
            })
            .collect(),
        leverage_bps: 20_000,
        ..Default::default()
    }
}

pub fn valoper(a: &Address) -> String {
    a.to_bech32_with(surety_framework::VALIDATOR_PREFIX)
}

/// CometBFT's address of test validator `key`.
pub fn consensus_address(key: u8) -> Vec<u8> {
    testing::consensus_address(key)
}

/// `MsgCreateValidator` for `operator` with test consensus key `key`, bonding `bond` SURE at
/// 10% commission.
pub fn create_validator_msg(operator: &Address, key: u8, bond: u128) -> Any {
    testing::create_validator_msg(
        operator,
        &format!("v{key}"),
        testing::consensus_pubkey(key),
        &format!("{}usure", bond * SURE),
    )
}

/// Makes `operator` a validator with test consensus key `key`, bonding `bond` SURE.
pub fn create_validator(operator: &Address, key: u8, bond: u128) -> Tx {
    Tx::new(operator, create_validator_msg(operator, key, bond))
}

/// `who` delegates `amount` SURE to `to`'s validator.
pub fn delegate_to(who: &Address, to: &Address, amount: u128) -> Tx {
    use surety_proto::cosmos::staking::v1beta1 as staking;
    Tx::new(
        who,
        to_any(&staking::MsgDelegate {
            delegator_address: who.to_bech32(),
            validator_address: valoper(to),
            amount: Some(surety_proto::cosmos::base::v1beta1::Coin {
                denom: "usure".into(),
                amount: (amount * SURE).to_string(),
            }),
        }),
    )
}
