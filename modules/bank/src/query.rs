//! `cosmos.bank.v1beta1.Query` over ABCI and gRPC.

use crate::state;
use prost::Message;
use surety_framework::coins::validate_denom;
use surety_framework::{decode_query, sdk, Address, Coin, Ctx, Error};
use surety_proto::cosmos::bank::v1beta1::*;

pub const BALANCE: &str = "/cosmos.bank.v1beta1.Query/Balance";
pub const ALL_BALANCES: &str = "/cosmos.bank.v1beta1.Query/AllBalances";
pub const SPENDABLE_BALANCES: &str = "/cosmos.bank.v1beta1.Query/SpendableBalances";
pub const TOTAL_SUPPLY: &str = "/cosmos.bank.v1beta1.Query/TotalSupply";
pub const SUPPLY_OF: &str = "/cosmos.bank.v1beta1.Query/SupplyOf";
pub const PARAMS: &str = "/cosmos.bank.v1beta1.Query/Params";
pub const PATHS: &[&str] = &[
    BALANCE,
    ALL_BALANCES,
    SPENDABLE_BALANCES,
    TOTAL_SUPPLY,
    SUPPLY_OF,
    PARAMS,
];

fn address(s: &str) -> Result<Address, Error> {
    if s.is_empty() {
        return Err(sdk::invalid_address("empty address string is not allowed"));
    }
    Address::from_bech32(s)
}

pub fn handle(ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match path {
        BALANCE => {
            let req: QueryBalanceRequest = decode_query(request)?;
            let address = address(&req.address)?;
            validate_denom(&req.denom)?;
            let amount = state::balance(ctx, &address, &req.denom)?;
            QueryBalanceResponse {
                balance: Some(Coin::new(amount, req.denom).to_proto()),
            }
            .encode_to_vec()
        }
        ALL_BALANCES => {
            let req: QueryAllBalancesRequest = decode_query(request)?;
            let address = address(&req.address)?;
            QueryAllBalancesResponse {
                balances: state::balances(ctx, &address)?.to_proto(),
                pagination: None,
            }
            .encode_to_vec()
        }
        SPENDABLE_BALANCES => {
            let req: QuerySpendableBalancesRequest = decode_query(request)?;
            let address = address(&req.address)?;
            QuerySpendableBalancesResponse {
                balances: state::balances(ctx, &address)?.to_proto(),
                pagination: None,
            }
            .encode_to_vec()
        }
        TOTAL_SUPPLY => QueryTotalSupplyResponse {
            supply: state::total_supply(ctx)?.to_proto(),
            pagination: None,
        }
        .encode_to_vec(),
        SUPPLY_OF => {
            let req: QuerySupplyOfRequest = decode_query(request)?;
            validate_denom(&req.denom)?;
            let amount = state::supply(ctx, &req.denom)?;
            QuerySupplyOfResponse {
                amount: Some(Coin::new(amount, req.denom).to_proto()),
            }
            .encode_to_vec()
        }
        PARAMS => QueryParamsResponse {
            params: Some(crate::msgs::params(ctx)?),
        }
        .encode_to_vec(),
        _ => return Err(sdk::unknown_request(format!("unknown query path {path}"))),
    })
}
