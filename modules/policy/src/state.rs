//! The policy store's layout.

use prost::Message;
use sha2::{Digest, Sha256};
use surety_framework::math::parse_amount;
use surety_framework::paginate::trailing_id;
use surety_framework::{packed, sdk, Address, Ctx, Error};
use surety_proto::surety::policy::v1::{Allocation, Params, Policy, Product};

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
    let bytes = ctx
        .get(STORE, &policy_key(id))?
        .ok_or_else(|| crate::errors::policy_not_found(format!("policy {id}")))?;
    let stored = decode_policy(id, &bytes)?;
    with_terms(ctx, stored)
}

/// Writes a policy without its terms, which the version under its `terms_hash` holds.
pub fn save_policy(ctx: &mut Ctx, policy: &Policy) -> Result<(), Error> {
    let stored = StoredPolicy::of(policy)?;
    ctx.put(STORE, policy_key(policy.id), stored.encode_to_vec())
}

/// A stored policy, as clients see it but without its terms; `id` is its key's.
pub fn decode_policy(id: u64, bytes: &[u8]) -> Result<Policy, Error> {
    decode::<StoredPolicy>(bytes)?.policy(id)
}

/// A policy's record under its id: what neither its key nor its terms' version holds, the owner
/// as its 20 bytes and amounts as [`packed`] bytes. Every purchase writes one at 30 gas a byte;
/// as the `Policy` clients see it (a bech32 owner, decimal strings) it was 138 bytes in the demo
/// market.
#[derive(Clone, PartialEq, prost::Message)]
struct StoredPolicy {
    #[prost(bytes = "vec", tag = "1")]
    owner: Vec<u8>,
    #[prost(uint64, tag = "2")]
    product_id: u64,
    #[prost(bytes = "vec", tag = "3")]
    cover: Vec<u8>,
    #[prost(string, tag = "4")]
    denom: String,
    #[prost(int64, tag = "5")]
    start: i64,
    #[prost(int64, tag = "6")]
    end: i64,
    #[prost(bytes = "vec", tag = "7")]
    premium: Vec<u8>,
    #[prost(message, repeated, tag = "8")]
    allocations: Vec<StoredAllocation>,
    #[prost(bytes = "vec", tag = "9")]
    terms_hash: Vec<u8>,
    #[prost(bool, tag = "10")]
    claimed: bool,
    #[prost(string, tag = "11")]
    entry_price: String,
    /// Absent until a claim is paid (the policy's `claimed_cover` is then `""`, as sold).
    #[prost(bytes = "vec", optional, tag = "12")]
    claimed_cover: Option<Vec<u8>>,
    #[prost(string, tag = "13")]
    validator: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StoredAllocation {
    #[prost(uint64, tag = "1")]
    pool_id: u64,
    #[prost(bytes = "vec", tag = "2")]
    cover: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    premium: Vec<u8>,
}

impl StoredPolicy {
    fn of(p: &Policy) -> Result<StoredPolicy, Error> {
        let amount = |s: &str, what: &str| parse_amount(s, what).map(packed::amount_bytes);
        Ok(StoredPolicy {
            owner: Address::from_bech32(&p.owner)?.0.to_vec(),
            product_id: p.product_id,
            cover: amount(&p.cover, "cover")?,
            denom: p.denom.clone(),
            start: p.start,
            end: p.end,
            premium: amount(&p.premium, "premium")?,
            allocations: p
                .allocations
                .iter()
                .map(|a| {
                    Ok(StoredAllocation {
                        pool_id: a.pool_id,
                        cover: amount(&a.cover, "allocated cover")?,
                        premium: amount(&a.premium, "allocated premium")?,
                    })
                })
                .collect::<Result<_, Error>>()?,
            terms_hash: p.terms_hash.clone(),
            claimed: p.claimed,
            entry_price: p.entry_price.clone(),
            claimed_cover: match p.claimed_cover.as_str() {
                "" => None,
                claimed => Some(amount(claimed, "claimed cover")?),
            },
            validator: p.validator.clone(),
        })
    }

    fn policy(self, id: u64) -> Result<Policy, Error> {
        let amount = |bytes: &[u8], what: &str| {
            packed::amount_from_bytes(bytes, || format!("{what} of policy {id}"))
        };
        let owner: [u8; 20] = self
            .owner
            .as_slice()
            .try_into()
            .map_err(|_| sdk::internal(format!("corrupt owner of policy {id}")))?;
        let claimed_cover = match &self.claimed_cover {
            None => String::new(),
            Some(bytes) => amount(bytes, "claimed cover")?.to_string(),
        };
        Ok(Policy {
            id,
            owner: Address(owner).to_bech32(),
            product_id: self.product_id,
            cover: amount(&self.cover, "cover")?.to_string(),
            denom: self.denom,
            start: self.start,
            end: self.end,
            premium: amount(&self.premium, "premium")?.to_string(),
            allocations: self
                .allocations
                .into_iter()
                .map(|a| {
                    Ok(Allocation {
                        pool_id: a.pool_id,
                        cover: amount(&a.cover, "allocated cover")?.to_string(),
                        premium: amount(&a.premium, "allocated premium")?.to_string(),
                    })
                })
                .collect::<Result<_, Error>>()?,
            terms: None,
            terms_hash: self.terms_hash,
            claimed: self.claimed,
            entry_price: self.entry_price,
            claimed_cover,
            validator: self.validator,
        })
    }
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
        .map(|(k, _)| trailing_id(&k))
        .collect()
}

pub fn all_policies(ctx: &mut Ctx) -> Result<Vec<Policy>, Error> {
    ctx.prefix(STORE, &[POLICIES])?
        .into_iter()
        .map(|(k, v)| with_terms(ctx, decode_policy(trailing_id(&k)?, &v)?))
        .collect()
}

pub fn decode<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt policy state: {e}")))
}
