//! A market to test the insurance modules on: funded accounts, the demo pools and products (or
//! custom ones), and helpers to deliver messages and read balances, over the real store.
#![allow(dead_code)]

use prost::Message;
use surety_app::testing::{Block, Harness};
use surety_framework::oracle::OracleView;
use surety_framework::{gov_authority, Address, Coins, Ctx, Dec, Error};
use surety_genesis::AppState;
use surety_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use surety_proto::surety::oracle::v1::IncidentStatus;
use surety_proto::surety::{claims, policy, pool};
use surety_proto::{to_any, Any, TypeUrl};

pub const USDC: u128 = 1_000_000;
pub const DAY: i64 = 86_400;
pub const GENESIS_TIME: i64 = 1_800_000_000;

pub fn addr(n: u8) -> Address {
    Address([n; 20])
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

/// Genesis with `accounts` funded with `coins` each and the demo market, edited by `edit`.
pub fn genesis(
    accounts: &[Address],
    coins: &str,
    edit: impl FnOnce(&mut AppState),
) -> serde_json::Value {
    let mut state = AppState::default();
    let coins: Coins = coins.parse().unwrap();
    for a in accounts {
        state.add_account(a, &coins).unwrap();
    }
    surety_genesis::demo::apply(&mut state);
    edit(&mut state);
    serde_json::to_value(&state).unwrap()
}

/// A market of four funded people on the demo pools and products.
pub fn demo() -> (Harness, tempfile::TempDir) {
    market(|_| {})
}

pub fn market(edit: impl FnOnce(&mut AppState)) -> (Harness, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis(
        &[alice(), bob(), carol(), dave()],
        "10000000000000usure,10000000000000uusdc",
        edit,
    );
    let h = Harness::new(dir.path(), &g, GENESIS_TIME).unwrap();
    (h, dir)
}

/// Replaces a genesis section with a typed value.
pub fn set_section<T: serde::Serialize>(state: &mut AppState, name: &str, section: &T) {
    state
        .modules
        .insert(name.into(), serde_json::to_value(section).unwrap());
}

pub fn balance(h: &Harness, who: &Address, denom: &str) -> u128 {
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

pub fn usdc(h: &Harness, who: &Address) -> u128 {
    balance(h, who, "uusdc")
}

pub fn pool_view(h: &Harness, id: u64) -> pool::v1::PoolView {
    let r: pool::v1::QueryPoolResponse = h
        .query(
            "/surety.pool.v1.Query/Pool",
            &pool::v1::QueryPoolRequest { pool_id: id },
        )
        .unwrap();
    r.pool.unwrap()
}

pub fn pool_cash(h: &Harness, id: u64) -> u128 {
    pool_view(h, id).pool.unwrap().cash.parse().unwrap()
}

pub fn capital(h: &Harness, id: u64) -> u128 {
    pool_view(h, id).capital.parse().unwrap()
}

pub fn quote(
    h: &Harness,
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

pub fn policy_of(h: &Harness, id: u64) -> policy::v1::Policy {
    let r: policy::v1::QueryPolicyResponse = h
        .query(
            "/surety.policy.v1.Query/Policy",
            &policy::v1::QueryPolicyRequest { policy_id: id },
        )
        .unwrap();
    r.policy.unwrap()
}

pub fn claim_of(h: &Harness, id: u64) -> claims::v1::Claim {
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

pub fn deposit(b: &mut Block, who: &Address, pool_id: u64, amount: u128) -> Result<Vec<u8>, Error> {
    b.deliver(
        who,
        any(&pool::v1::MsgDeposit {
            provider: who.to_bech32(),
            pool_id,
            amount: amount.to_string(),
        }),
    )
}

/// Buys cover; returns (policy id, premium).
pub fn buy(
    b: &mut Block,
    who: &Address,
    product: u64,
    cover: u128,
    days: u32,
) -> Result<(u64, u128), Error> {
    let r: policy::v1::MsgBuyCoverResponse = decode(b.deliver(
        who,
        any(&policy::v1::MsgBuyCover {
            buyer: who.to_bech32(),
            product_id: product,
            cover: cover.to_string(),
            term_days: days,
            max_premium: u128::MAX.to_string(),
        }),
    )?);
    Ok((r.policy_id, r.premium.parse().unwrap()))
}

pub fn file(
    b: &mut Block,
    who: &Address,
    policy: u64,
    incident: &str,
    loss: u128,
) -> Result<claims::v1::MsgFileClaimResponse, Error> {
    Ok(decode(b.deliver(
        who,
        any(&claims::v1::MsgFileClaim {
            claimant: who.to_bech32(),
            policy_id: policy,
            incident: incident.into(),
            loss: loss.to_string(),
            evidence: "https://example.com/postmortem".into(),
        }),
    )?))
}

pub fn gov(b: &mut Block, msg: Any) -> Result<Vec<u8>, Error> {
    b.deliver(&gov_authority(), msg)
}

/// Records a confirmed incident of `protocol` at `time`; returns its id.
pub fn confirmed_incident(ctx: &mut Ctx, protocol: &str, time: i64) -> u64 {
    surety_oracle::Oracle::default()
        .record_incident(ctx, protocol, time, "exploit", IncidentStatus::Confirmed)
        .unwrap()
}

pub fn set_price(ctx: &mut Ctx, feed: &str, price: &str) {
    surety_oracle::Oracle::default()
        .record_price(ctx, feed, price.parse::<Dec>().unwrap())
        .unwrap()
}

pub fn price_now(h: &Harness, feed: &str) -> Option<Dec> {
    h.read(|_, ctx| {
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

pub const SURE: u128 = 1_000_000;

pub fn valoper(a: &Address) -> String {
    a.to_bech32_with(surety_framework::VALIDATOR_PREFIX)
}

/// CometBFT's address of the validator whose ed25519 key is `[key; 32]`.
pub fn consensus_address(key: u8) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest([key; 32])[..20].to_vec()
}

/// Makes `operator` a validator with consensus key `[key; 32]`, bonding `bond` SURE at 10%
/// commission.
pub fn create_validator(
    b: &mut Block,
    operator: &Address,
    key: u8,
    bond: u128,
) -> Result<Vec<u8>, Error> {
    use surety_proto::cosmos::staking::v1beta1 as staking;
    #[allow(deprecated)]
    let msg = staking::MsgCreateValidator {
        description: Some(staking::Description {
            moniker: format!("v{key}"),
            ..Default::default()
        }),
        commission: Some(staking::CommissionRates {
            rate: "100000000000000000".into(),
            max_rate: "200000000000000000".into(),
            max_change_rate: "10000000000000000".into(),
        }),
        min_self_delegation: "1".into(),
        delegator_address: String::new(),
        validator_address: valoper(operator),
        pubkey: Some(to_any(&surety_proto::cosmos::crypto::ed25519::PubKey {
            key: vec![key; 32],
        })),
        value: Some(surety_proto::cosmos::base::v1beta1::Coin {
            denom: "usure".into(),
            amount: (bond * SURE).to_string(),
        }),
    };
    b.deliver(operator, to_any(&msg))
}

/// `who` delegates `amount` SURE to `to`'s validator.
pub fn delegate_to(
    b: &mut Block,
    who: &Address,
    to: &Address,
    amount: u128,
) -> Result<Vec<u8>, Error> {
    use surety_proto::cosmos::staking::v1beta1 as staking;
    b.deliver(
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
