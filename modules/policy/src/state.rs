//! The policy store's layout.

use prost::Message;
use sha2::{Digest, Sha256};
use surety_framework::{sdk, Address, Ctx, Error};
use surety_proto::surety::policy::v1::{Params, Policy, Product};

pub const STORE: &str = "policy";

const PARAMS: &[u8] = &[0x00];
const PRODUCTS: u8 = 0x01;
pub const NEXT_PRODUCT_ID: &[u8] = &[0x02];
const POLICIES: u8 = 0x03;
const BY_OWNER: u8 = 0x04;
pub const NEXT_POLICY_ID: &[u8] = &[0x05];
const BY_PRODUCT: u8 = 0x06;
const TERMS: u8 = 0x07;

pub fn products_prefix() -> Vec<u8> {
    vec![PRODUCTS]
}
pub fn policies_prefix() -> Vec<u8> {
    vec![POLICIES]
}
pub fn product_key(id: u64) -> Vec<u8> {
    [&[PRODUCTS][..], &id.to_be_bytes()].concat()
}
pub fn policy_key(id: u64) -> Vec<u8> {
    [&[POLICIES][..], &id.to_be_bytes()].concat()
}
pub fn owner_key(owner: &Address, id: u64) -> Vec<u8> {
    [&[BY_OWNER][..], &owner.0, &id.to_be_bytes()].concat()
}
pub fn owner_prefix(owner: &Address) -> Vec<u8> {
    [&[BY_OWNER][..], &owner.0].concat()
}
pub fn product_policy_key(product: u64, id: u64) -> Vec<u8> {
    [&[BY_PRODUCT][..], &product.to_be_bytes(), &id.to_be_bytes()].concat()
}
/// `[tag][sha256 of the product]`: each version of a product's terms, stored once for every
/// policy sold on it (a policy keeps only the hash).
pub fn terms_key(hash: &[u8]) -> Vec<u8> {
    [&[TERMS][..], hash].concat()
}
pub fn product_policies_prefix(product: u64) -> Vec<u8> {
    [&[BY_PRODUCT][..], &product.to_be_bytes()].concat()
}

pub fn default_params() -> Params {
    Params {
        slope1_bps: 400,
        slope2_bps: 6_000,
        kink_bps: 8_000,
    }
}

pub fn params(ctx: &mut Ctx) -> Result<Params, Error> {
    Ok(ctx.get_msg(STORE, PARAMS)?.unwrap_or_else(default_params))
}

pub fn set_params(ctx: &mut Ctx, p: &Params) -> Result<(), Error> {
    crate::msgs::check_params(p)?;
    ctx.put_msg(STORE, PARAMS.to_vec(), p)
}

/// The hash a policy names its terms by.
pub fn terms_hash(product: &Product) -> Vec<u8> {
    Sha256::digest(product.encode_to_vec()).to_vec()
}

/// Writes a product, and its terms as a version policies sold on it will name.
pub fn save_product(ctx: &mut Ctx, product: &Product) -> Result<(), Error> {
    ctx.put_msg(STORE, product_key(product.id), product)?;
    ctx.put_msg(STORE, terms_key(&terms_hash(product)), product)
}

pub fn product(ctx: &mut Ctx, id: u64) -> Result<Product, Error> {
    ctx.get_msg(STORE, &product_key(id))?
        .ok_or_else(|| crate::errors::product_not_found(format!("product {id}")))
}

pub fn products(ctx: &mut Ctx) -> Result<Vec<Product>, Error> {
    ctx.prefix(STORE, &[PRODUCTS])?
        .into_iter()
        .map(|(_, v)| decode(&v))
        .collect()
}

/// A policy with its terms.
pub fn policy(ctx: &mut Ctx, id: u64) -> Result<Policy, Error> {
    let stored = ctx
        .get_msg(STORE, &policy_key(id))?
        .ok_or_else(|| crate::errors::policy_not_found(format!("policy {id}")))?;
    with_terms(ctx, stored)
}

/// Writes a policy without its terms, which the version under its `terms_hash` holds.
pub fn save_policy(ctx: &mut Ctx, policy: &Policy) -> Result<(), Error> {
    let stored = Policy {
        terms: None,
        ..policy.clone()
    };
    ctx.put_msg(STORE, policy_key(policy.id), &stored)
}

/// Fills in a stored policy's terms from the version it names.
pub fn with_terms(ctx: &mut Ctx, mut policy: Policy) -> Result<Policy, Error> {
    if policy.terms.is_none() {
        let terms = ctx
            .get_msg(STORE, &terms_key(&policy.terms_hash))?
            .ok_or_else(|| sdk::internal(format!("policy {}: its terms are missing", policy.id)))?;
        policy.terms = Some(terms);
    }
    Ok(policy)
}

pub fn ids_under(ctx: &mut Ctx, prefix: &[u8]) -> Result<Vec<u64>, Error> {
    ctx.prefix(STORE, prefix)?
        .into_iter()
        .map(|(k, _)| {
            k.len()
                .checked_sub(8)
                .and_then(|at| k.get(at..))
                .and_then(|id| id.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| sdk::internal("corrupt policy index"))
        })
        .collect()
}

pub fn all_policies(ctx: &mut Ctx) -> Result<Vec<Policy>, Error> {
    ctx.prefix(STORE, &[POLICIES])?
        .into_iter()
        .map(|(_, v)| with_terms(ctx, decode(&v)?))
        .collect()
}

pub fn decode<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt policy state: {e}")))
}
