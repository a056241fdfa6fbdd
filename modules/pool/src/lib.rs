//! pool: capital that underwrites cover.
//!
//! Providers deposit a pool's denom for shares; premiums are earned linearly over each policy's
//! term; a pool may cede part of its premiums and losses to a reinsurer pool; and it must always
//! be able to pay, net of reinsurance, its k largest simultaneous product incidents — sales and
//! withdrawals that would break this are refused, and a pool that losses push below it stops
//! selling until its capital returns.

pub mod errors;
mod keeper;
mod query;
pub mod reinsurance;
pub mod state;

pub use keeper::{Keeper, LossItem, ProductExposure, POOL_ACCOUNT};
pub use state::{PoolState, STORE};

use prost::Message;
use surety_framework::module::{genesis_json, genesis_section};
use surety_framework::{decode_msg, require_authority, signers_of, Address, Ctx, Error, Module};
use surety_proto::surety::pool::v1::*;
use surety_proto::{Any, TypeUrl};

#[derive(Clone, Copy, Default)]
pub struct PoolModule {
    pub keeper: Keeper,
}

fn amount(s: &str, field: &str) -> Result<u128, Error> {
    surety_framework::math::parse_amount(s, field)
}

impl Module for PoolModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msg_types(&self) -> &'static [&'static str] {
        &[
            MsgCreatePool::TYPE_URL,
            MsgDeposit::TYPE_URL,
            MsgRequestWithdraw::TYPE_URL,
            MsgCompleteWithdraw::TYPE_URL,
            MsgUpdateParams::TYPE_URL,
        ]
    }

    fn signers(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        signers_of!(msg;
        MsgCreatePool => authority,
        MsgDeposit => provider,
        MsgRequestWithdraw => provider,
        MsgCompleteWithdraw => provider,
        MsgUpdateParams => authority,
            )
    }

    fn deliver(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        let k = &self.keeper;
        Ok(match msg.type_url.as_str() {
            MsgCreatePool::TYPE_URL => {
                let m: MsgCreatePool = decode_msg(msg)?;
                require_authority(&m.authority)?;
                let pool = m.pool.ok_or_else(|| errors::invalid_pool("missing pool"))?;
                let pool_id = k.create_pool(ctx, PoolState::from_proto(&pool)?)?;
                k.check_treaty(ctx, pool_id)?;
                MsgCreatePoolResponse { pool_id }.encode_to_vec()
            }
            MsgDeposit::TYPE_URL => {
                let m: MsgDeposit = decode_msg(msg)?;
                let provider = Address::from_bech32(&m.provider)?;
                let shares = k.deposit(ctx, &provider, m.pool_id, amount(&m.amount, "amount")?)?;
                MsgDepositResponse {
                    shares: shares.to_string(),
                }
                .encode_to_vec()
            }
            MsgRequestWithdraw::TYPE_URL => {
                let m: MsgRequestWithdraw = decode_msg(msg)?;
                let provider = Address::from_bech32(&m.provider)?;
                let unlock_time =
                    k.request_withdraw(ctx, &provider, m.pool_id, amount(&m.shares, "shares")?)?;
                MsgRequestWithdrawResponse { unlock_time }.encode_to_vec()
            }
            MsgCompleteWithdraw::TYPE_URL => {
                let m: MsgCompleteWithdraw = decode_msg(msg)?;
                let provider = Address::from_bech32(&m.provider)?;
                let amount = k.complete_withdraw(ctx, &provider, m.pool_id)?;
                MsgCompleteWithdrawResponse {
                    amount: amount.to_string(),
                }
                .encode_to_vec()
            }
            MsgUpdateParams::TYPE_URL => {
                let m: MsgUpdateParams = decode_msg(msg)?;
                require_authority(&m.authority)?;
                state::set_params(ctx, &m.params.unwrap_or_default())?;
                MsgUpdateParamsResponse {}.encode_to_vec()
            }
            other => {
                return Err(surety_framework::sdk::unknown_request(format!(
                    "unrecognized pool message type: {other}"
                )))
            }
        })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(&self.keeper, ctx, path, request)
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis_json(&GenesisState {
            params: Some(state::default_params()),
            ..Default::default()
        })
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        let g: GenesisState = genesis_section(STORE, genesis)?;
        state::validate_params(&g.params.unwrap_or_else(state::default_params))
            .map_err(|e| format!("pool params: {}", e.log))?;
        for (i, p) in g.pools.iter().enumerate() {
            let pool =
                PoolState::from_proto(p).map_err(|e| format!("pool {}: {}", i + 1, e.log))?;
            state::validate_pool_terms(&pool).map_err(|e| format!("pool {}: {}", i + 1, e.log))?;
            if let Some(t) = &pool.treaty {
                let Some(reinsurer) = g.pools.get((t.reinsurer_id_index()).min(g.pools.len()))
                else {
                    return Err(format!(
                        "pool {}: reinsurer pool {} is not among the {} genesis pools",
                        i + 1,
                        t.reinsurer,
                        g.pools.len()
                    ));
                };
                if reinsurer.denom != pool.denom || reinsurer.reinsurance.is_some() {
                    return Err(format!(
                        "pool {}: reinsurer pool {} must hold {} and not cede onward",
                        i + 1,
                        t.reinsurer,
                        pool.denom
                    ));
                }
            }
            if pool.cash > 0 || pool.total_shares > 0 || !g.positions.is_empty() {
                return Err(format!(
                    "pool {}: genesis pools start empty; fund them with deposits",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    /// Genesis pools are created empty, in order, with ids from 1.
    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let g: GenesisState =
            genesis_section(STORE, genesis).map_err(surety_framework::sdk::invalid_request)?;
        state::set_params(ctx, &g.params.unwrap_or_else(state::default_params))?;
        let mut ids = Vec::new();
        for p in &g.pools {
            ids.push(self.keeper.create_pool(ctx, PoolState::from_proto(p)?)?);
        }
        for id in ids {
            self.keeper.check_treaty(ctx, id)?;
        }
        Ok(())
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        let pools = self.keeper.pools(ctx)?;
        let mut positions = Vec::new();
        let mut tranches = Vec::new();
        for p in &pools {
            positions.extend(state::positions(ctx, p.id)?);
            tranches.extend(state::tranches(ctx, p.id)?);
        }
        Ok(genesis_json(&GenesisState {
            params: Some(state::params(ctx)?),
            pools: pools.iter().map(PoolState::to_proto).collect(),
            positions,
            tranches,
        }))
    }

    fn check_invariants(&self, ctx: &mut Ctx) -> Result<(), String> {
        invariants(&self.keeper, ctx).map_err(|e| e.log)?
    }
}

/// The pool account holds exactly the pools' cash; each pool's shares, unearned premium and
/// cover add up from its positions and tranches; no pool owes more than it holds.
fn invariants(k: &Keeper, ctx: &mut Ctx) -> Result<Result<(), String>, Error> {
    use std::collections::BTreeMap;
    let mut cash_by_denom: BTreeMap<String, u128> = BTreeMap::new();
    for id in state::pool_ids(ctx)? {
        let pool = state::load_raw(ctx, id)?;
        *cash_by_denom.entry(pool.denom.clone()).or_default() += pool.cash;
        let shares: u128 = state::positions(ctx, id)?
            .iter()
            .map(|p| keeper::parse(&p.shares))
            .sum::<Result<u128, Error>>()?;
        if shares != pool.total_shares {
            return Ok(Err(format!(
                "pool {id}: positions hold {shares} shares, pool counts {}",
                pool.total_shares
            )));
        }
        let (mut unearned, mut cover) = (0u128, 0u128);
        for t in state::tranches(ctx, id)? {
            unearned += keeper::parse(&t.premium)? - keeper::parse(&t.earned)?;
            cover += keeper::parse(&t.cover)?;
        }
        if unearned != pool.unearned || cover != pool.active_cover {
            return Ok(Err(format!(
                "pool {id}: tranches hold {unearned} unearned and {cover} cover, pool counts {} and {}",
                pool.unearned, pool.active_cover
            )));
        }
        let exposure: u128 = state::exposures(ctx, id)?.iter().map(|(_, a)| a).sum();
        if exposure != pool.active_cover {
            return Ok(Err(format!(
                "pool {id}: product exposures sum to {exposure}, active cover is {}",
                pool.active_cover
            )));
        }
        if pool.unearned > pool.cash {
            return Ok(Err(format!(
                "pool {id}: unearned premium {} exceeds cash {}",
                pool.unearned, pool.cash
            )));
        }
    }
    let account = Address::module(POOL_ACCOUNT);
    for (denom, cash) in cash_by_denom {
        let held = k.bank.balance(ctx, &account, &denom)?;
        if held != cash {
            return Ok(Err(format!(
                "pool account holds {held}{denom}, pools count {cash}{denom}"
            )));
        }
    }
    Ok(Ok(()))
}
