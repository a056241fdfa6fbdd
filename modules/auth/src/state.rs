//! Key layout of the `auth` substore, in one place.

use crate::{Account, STORE};
use surety_framework::{sdk, Address, Ctx, Error};
use surety_proto::cosmos::auth::v1beta1::Params;

const ACCOUNT: u8 = 0x01;
const NEXT_ACCOUNT_NUMBER: &[u8] = &[0x02];
const PARAMS: &[u8] = &[0x03];

pub fn account_key(address: &Address) -> Vec<u8> {
    let mut key = vec![ACCOUNT];
    key.extend_from_slice(&address.0);
    key
}

pub fn accounts_prefix() -> Vec<u8> {
    vec![ACCOUNT]
}

pub fn load_account(ctx: &mut Ctx, address: &Address) -> Result<Option<Account>, Error> {
    ctx.get(STORE, &account_key(address))?
        .map(|bytes| Account::decode(*address, &bytes))
        .transpose()
}

pub fn save_account(ctx: &mut Ctx, account: &Account) -> Result<(), Error> {
    ctx.put(STORE, account_key(&account.address), account.encode())
}

pub fn all_accounts(ctx: &mut Ctx) -> Result<Vec<Account>, Error> {
    ctx.prefix(STORE, &accounts_prefix())?
        .iter()
        .map(|(key, bytes)| {
            let address = key[1..]
                .try_into()
                .map(Address)
                .map_err(|_| sdk::internal(format!("corrupt account key {key:02x?}")))?;
            Account::decode(address, bytes)
        })
        .collect()
}

pub fn next_account_number(ctx: &mut Ctx) -> Result<u64, Error> {
    let current = peek_next_account_number(ctx)?;
    let next = current
        .checked_add(1)
        .ok_or_else(|| sdk::internal("account numbers exhausted"))?;
    ctx.put(
        STORE,
        NEXT_ACCOUNT_NUMBER.to_vec(),
        next.to_be_bytes().to_vec(),
    )?;
    Ok(current)
}

pub fn peek_next_account_number(ctx: &mut Ctx) -> Result<u64, Error> {
    Ok(ctx
        .get(STORE, NEXT_ACCOUNT_NUMBER)?
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0))
}

pub fn load_params(ctx: &mut Ctx) -> Result<Params, Error> {
    Ok(ctx
        .get_msg(STORE, PARAMS)?
        .unwrap_or_else(crate::default_params))
}

pub fn save_params(ctx: &mut Ctx, params: &Params) -> Result<(), Error> {
    ctx.put_msg(STORE, PARAMS.to_vec(), params)
}
