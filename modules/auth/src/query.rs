//! `cosmos.auth.v1beta1.Query` over ABCI and gRPC.

use crate::{state, Account};
use prost::Message;
use surety_framework::{decode_query, sdk, Address, Ctx, Error};
use surety_proto::cosmos::auth::v1beta1::*;

pub const ACCOUNT: &str = "/cosmos.auth.v1beta1.Query/Account";
pub const PARAMS: &str = "/cosmos.auth.v1beta1.Query/Params";
pub const ACCOUNTS: &str = "/cosmos.auth.v1beta1.Query/Accounts";
pub const MODULE_ACCOUNT_BY_NAME: &str = "/cosmos.auth.v1beta1.Query/ModuleAccountByName";
pub const BECH32_PREFIX: &str = "/cosmos.auth.v1beta1.Query/Bech32Prefix";
pub const PATHS: &[&str] = &[
    ACCOUNT,
    PARAMS,
    ACCOUNTS,
    MODULE_ACCOUNT_BY_NAME,
    BECH32_PREFIX,
];

pub fn handle(ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match path {
        ACCOUNT => {
            let req: QueryAccountRequest = decode_query(request)?;
            let address = Address::from_bech32(&req.address)?;
            let account = state::load_account(ctx, &address)?
                .ok_or_else(|| sdk::not_found(format!("account {} not found", req.address)))?;
            QueryAccountResponse {
                account: Some(account.to_any()),
            }
            .encode_to_vec()
        }
        PARAMS => QueryParamsResponse {
            params: Some(state::load_params(ctx)?),
        }
        .encode_to_vec(),
        ACCOUNTS => QueryAccountsResponse {
            accounts: state::all_accounts(ctx)?
                .iter()
                .map(Account::to_any)
                .collect(),
            pagination: None,
        }
        .encode_to_vec(),
        MODULE_ACCOUNT_BY_NAME => {
            let req: QueryModuleAccountByNameRequest = decode_query(request)?;
            let account = state::load_account(ctx, &Address::module(&req.name))?
                .filter(|a| a.module_name.as_deref() == Some(req.name.as_str()))
                .ok_or_else(|| sdk::not_found(format!("module account {} not found", req.name)))?;
            QueryModuleAccountByNameResponse {
                account: Some(account.to_any()),
            }
            .encode_to_vec()
        }
        BECH32_PREFIX => Bech32PrefixResponse {
            bech32_prefix: surety_framework::ACCOUNT_PREFIX.to_string(),
        }
        .encode_to_vec(),
        _ => return Err(sdk::unknown_request(format!("unknown query path {path}"))),
    })
}
