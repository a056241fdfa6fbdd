//! The localnet's demo market: three pools (a direct pool reinsured by a reinsurance pool, and a
//! SURE pool for slashing cover), five products covering each claim path, oracle feeds with
//! starting prices, and periods short enough to watch a claim go from filing to payout in minutes.

use crate::AppState;
use serde_json::Value;
use surety_framework::Coin;
use surety_proto::surety::{claims, oracle, policy, pool};

/// One USDC in its base denom.
const USDC: u128 = 1_000_000;

fn to_json<T: serde::Serialize>(section: &T) -> Value {
    serde_json::to_value(section).expect("genesis sections serialize")
}

pub fn pools() -> pool::v1::GenesisState {
    use pool::v1::*;
    let weight = |product_id, weight_bps| ProductWeight {
        product_id,
        weight_bps,
    };
    GenesisState {
        params: Some(Params {
            cooldown_secs: 300,
            treasury_bps: 1_000,
            capital_incidents: 2,
        }),
        pools: vec![
            Pool {
                name: "Blue-chip DeFi".into(),
                denom: "uusdc".into(),
                products: vec![
                    weight(1, 6_000),
                    weight(2, 6_000),
                    weight(3, 4_000),
                    weight(4, 4_000),
                ],
                leverage_bps: 20_000,
                reinsurance: Some(Reinsurance {
                    reinsurer_pool_id: 2,
                    quota_share_bps: 2_000,
                    xol_retention: (20_000 * USDC).to_string(),
                    xol_limit: (30_000 * USDC).to_string(),
                    xol_premium_bps: 500,
                }),
                ..Default::default()
            },
            Pool {
                name: "Reinsurance".into(),
                denom: "uusdc".into(),
                leverage_bps: 10_000,
                ..Default::default()
            },
            // Staked SURE backing delegators against their validators' slashes.
            Pool {
                name: "Validator slashing".into(),
                denom: "usure".into(),
                products: vec![weight(5, 10_000)],
                leverage_bps: 20_000,
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

pub fn products() -> policy::v1::GenesisState {
    use policy::v1::*;
    let base = Product {
        denom: "uusdc".into(),
        min_term_days: 28,
        max_term_days: 365,
        max_cover: (1_000_000 * USDC).to_string(),
        grace_period_secs: 3_600,
        ..Default::default()
    };
    GenesisState {
        params: None,
        products: vec![
            Product {
                name: "Aave v3 protocol cover".into(),
                protocol: "aave-v3".into(),
                cover_type: CoverType::Protocol as i32,
                annual_base_rate_bps: 250,
                deductible_bps: 500,
                claim_mode: ClaimMode::Parametric as i32,
                ..base.clone()
            },
            Product {
                name: "USDC depeg cover".into(),
                protocol: "usdc".into(),
                cover_type: CoverType::Depeg as i32,
                annual_base_rate_bps: 150,
                claim_mode: ClaimMode::Parametric as i32,
                trigger: Some(Trigger {
                    feed: "USDC/USD".into(),
                    threshold: "0.97".into(),
                    duration_secs: 60,
                    floor: "0.5".into(),
                    ..Default::default()
                }),
                ..base.clone()
            },
            Product {
                name: "Uniswap v3 ETH/USDC impermanent loss".into(),
                protocol: "uniswap-v3".into(),
                cover_type: CoverType::Liquidity as i32,
                annual_base_rate_bps: 400,
                claim_mode: ClaimMode::Parametric as i32,
                trigger: Some(Trigger {
                    feed: "ETH/USD".into(),
                    il_threshold_bps: 200,
                    il_cap_bps: 5_000,
                    ..Default::default()
                }),
                ..base.clone()
            },
            Product {
                name: "Exchange custody cover".into(),
                protocol: "example-exchange".into(),
                cover_type: CoverType::Custody as i32,
                annual_base_rate_bps: 300,
                deductible_bps: 1_000,
                claim_mode: ClaimMode::Assessed as i32,
                ..base.clone()
            },
            Product {
                name: "Validator slashing cover".into(),
                cover_type: CoverType::Slashing as i32,
                denom: "usure".into(),
                annual_base_rate_bps: 200,
                claim_mode: ClaimMode::Parametric as i32,
                max_cover: (1_000_000 * USDC).to_string(),
                ..base
            },
        ],
        policies: vec![],
    }
}

pub fn claims_params() -> claims::v1::GenesisState {
    claims::v1::GenesisState {
        params: Some(claims::v1::Params {
            claim_deposit: Some(Coin::new(10 * USDC, "uusdc").to_proto()),
            claim_fee: Some(Coin::new(USDC, "uusdc").to_proto()),
            assessor_denom: "usure".into(),
            voting_period_secs: 60,
            quorum_bps: 2_000,
            threshold_bps: 5_000,
            appeal_window_secs: 120,
            appeal_bond: Some(Coin::new(50 * USDC, "uusdc").to_proto()),
            appeal_period_secs: 600,
        }),
        ..Default::default()
    }
}

pub fn oracle_feeds() -> oracle::v1::GenesisState {
    let price = |feed: &str, price: &str| oracle::v1::Price {
        feed: feed.into(),
        price: price.into(),
        time: 0,
        height: 0,
    };
    oracle::v1::GenesisState {
        params: Some(oracle::v1::Params {
            feeds: vec!["USDC/USD".into(), "ETH/USD".into()],
            min_power_bps: 6_667,
            attestation_window_secs: 60,
            incident_bond: Some(Coin::new(100_000_000, "usure").to_proto()),
            incident_reward: Some(Coin::new(10_000_000, "usure").to_proto()),
            miss_window_blocks: 600,
            max_missed_bps: 5_000,
            miss_slash_bps: 1,
            // A day of prices on the localnet: enough for every trigger's window.
            price_retention_secs: 86_400,
        }),
        prices: vec![price("USDC/USD", "1.0"), price("ETH/USD", "3000")],
        incidents: vec![],
        feeds: vec![],
    }
}

/// Periods short enough to watch on a localnet: a 60 s vote (30 s expedited), 10 minutes
/// to unbond (so IBC light clients of the localnet, trusted for 2/3 of it, outlive a relayer
/// restart), a 30-block liveness window with 30 s in jail and 1% slashed (so that slashing
/// cover visibly pays), and cross-chain payouts that time out after 20 s and are retried 5 s
/// later.
pub fn governance() -> [(&'static str, Value); 4] {
    [
        (
            "gov",
            serde_json::json!({"params": {
                "max_deposit_period": "120s",
                "voting_period": "60s",
                "expedited_voting_period": "30s",
            }}),
        ),
        (
            "staking",
            serde_json::json!({"params": {"unbonding_time": "600s"}}),
        ),
        (
            "slashing",
            serde_json::json!({"params": {
                "signed_blocks_window": "30",
                "min_signed_per_window": "0.5",
                "downtime_jail_duration": "30s",
                "slash_fraction_downtime": "0.01",
            }}),
        ),
        (
            "ibc",
            serde_json::json!({"params": {"remit_timeout_secs": 20, "retry_delay_secs": 5}}),
        ),
    ]
}

/// Adds the demo market to a genesis app state.
pub fn apply(state: &mut AppState) {
    for (module, section) in governance() {
        state.modules.insert(module.into(), section);
    }
    state.modules.insert("pool".into(), to_json(&pools()));
    state.modules.insert("policy".into(), to_json(&products()));
    state
        .modules
        .insert("claims".into(), to_json(&claims_params()));
    state
        .modules
        .insert("oracle".into(), to_json(&oracle_feeds()));
}
