//! Key layout of the `staking` substore, in one place. Validators are stored as the Cosmos
//! `Validator` type, which queries return unchanged.

use crate::{POWER_REDUCTION, STORE};
use surety_framework::{sdk, Address, Ctx, Dec, Error, VALIDATOR_PREFIX};
use surety_proto::cosmos::crypto::ed25519::PubKey as Ed25519PubKey;
use surety_proto::cosmos::staking::v1beta1::Validator;
use surety_proto::from_any;

const VALIDATOR: u8 = 0x21;
/// `[tag][consensus address] → operator`: finds a validator from CometBFT's votes and evidence
/// without reading every validator.
const BY_CONSENSUS_ADDRESS: u8 = 0x22;
/// `[tag][!tokens][operator] → ()`: the validators that could be bonded (not jailed, at least one
/// unit of power), most stake first, so that EndBlock reads only the top `max_validators`
/// however many validators exist.
const BY_POWER: u8 = 0x23;
/// `[tag][operator] → power`: the set CometBFT was last given, only validators with power.
const LAST_POWER: u8 = 0x11;

#[derive(Clone, Debug, PartialEq)]
pub struct StoredValidator {
    pub operator: Address,
    pub consensus_pubkey: [u8; 32],
    pub tokens: u128,
    /// Shares issued to delegators (`LegacyDec`).
    pub shares: Dec,
    pub proto: Validator,
}

impl StoredValidator {
    pub fn from_proto(proto: Validator) -> Result<StoredValidator, Error> {
        let corrupt = |what: &str| {
            sdk::internal(format!(
                "corrupt validator {}: {what}",
                proto.operator_address
            ))
        };
        let operator = Address::from_bech32_with(&proto.operator_address, VALIDATOR_PREFIX)?;
        let key = proto
            .consensus_pubkey
            .as_ref()
            .and_then(from_any::<Ed25519PubKey>)
            .and_then(Result::ok)
            .ok_or_else(|| corrupt("consensus key"))?;
        let consensus_pubkey: [u8; 32] = key
            .key
            .try_into()
            .map_err(|_| corrupt("consensus key length"))?;
        let tokens = proto.tokens.parse().map_err(|_| corrupt("tokens"))?;
        let shares = Dec(if proto.delegator_shares.is_empty() {
            0
        } else {
            proto
                .delegator_shares
                .parse()
                .map_err(|_| corrupt("delegator shares"))?
        });
        Ok(StoredValidator {
            operator,
            consensus_pubkey,
            tokens,
            shares,
            proto,
        })
    }

    /// Potential consensus power: whole units of the bond denom, as CometBFT counts votes (the
    /// validator also has to rank among the `max_validators` to be bonded).
    pub fn power(&self) -> i64 {
        if self.proto.jailed {
            return 0;
        }
        i64::try_from(self.tokens.checked_div(POWER_REDUCTION).unwrap_or(0)).unwrap_or(i64::MAX)
    }
}

fn validator_key(operator: &Address) -> Vec<u8> {
    let mut key = vec![VALIDATOR];
    key.extend_from_slice(&operator.0);
    key
}

fn last_power_key(operator: &Address) -> Vec<u8> {
    let mut key = vec![LAST_POWER];
    key.extend_from_slice(&operator.0);
    key
}

pub fn load_validator(ctx: &mut Ctx, operator: &Address) -> Result<Option<StoredValidator>, Error> {
    ctx.get_msg::<Validator>(STORE, &validator_key(operator))?
        .map(StoredValidator::from_proto)
        .transpose()
}

fn consensus_index_key(address: &[u8]) -> Vec<u8> {
    [&[BY_CONSENSUS_ADDRESS][..], address].concat()
}

/// Saves a new validator and indexes its consensus key (which never changes).
pub fn save_validator(ctx: &mut Ctx, validator: &Validator) -> Result<(), Error> {
    let parsed = StoredValidator::from_proto(validator.clone())?;
    ctx.put(
        STORE,
        consensus_index_key(&crate::consensus_address(&parsed.consensus_pubkey)),
        parsed.operator.0.to_vec(),
    )?;
    reindex_power(ctx, None, &parsed)?;
    ctx.put_msg(STORE, validator_key(&parsed.operator), validator)
}

fn power_index_key(v: &StoredValidator) -> Option<Vec<u8>> {
    (v.power() > 0).then(|| {
        let mut key = vec![BY_POWER];
        // Bitwise not: more tokens sort first.
        key.extend_from_slice(&(!v.tokens).to_be_bytes());
        key.extend_from_slice(&v.operator.0);
        key
    })
}

fn reindex_power(
    ctx: &mut Ctx,
    old: Option<&StoredValidator>,
    new: &StoredValidator,
) -> Result<(), Error> {
    let (old_key, new_key) = (old.and_then(power_index_key), power_index_key(new));
    if old_key != new_key {
        if let Some(key) = old_key {
            ctx.delete(STORE, key)?;
        }
        if let Some(key) = new_key {
            ctx.put(STORE, key, Vec::new())?;
        }
    }
    Ok(())
}

/// The operators of the `n` validators with the most stake that could be bonded, in order
/// (ties by operator address).
pub fn top_by_power(ctx: &mut Ctx, n: usize) -> Result<Vec<Address>, Error> {
    ctx.range(STORE, &[BY_POWER], None, n)?
        .into_iter()
        .map(|(key, _)| {
            key.get(17..)
                .and_then(|op| op.try_into().ok())
                .map(Address)
                .ok_or_else(|| sdk::internal("corrupt staking power index"))
        })
        .collect()
}

/// Every entry of the power index, for the invariant.
pub fn power_index(ctx: &mut Ctx) -> Result<Vec<Vec<u8>>, Error> {
    Ok(ctx
        .prefix(STORE, &[BY_POWER])?
        .into_iter()
        .map(|(k, _)| k)
        .collect())
}

/// Whether `v` is in the power index exactly where its stake puts it.
pub fn power_index_entry(v: &StoredValidator) -> Option<Vec<u8>> {
    power_index_key(v)
}

/// The validator whose consensus address (CometBFT's name for it) is `address`.
pub fn validator_by_consensus_address(
    ctx: &mut Ctx,
    address: &[u8],
) -> Result<Option<StoredValidator>, Error> {
    let Some(operator) = ctx.get(STORE, &consensus_index_key(address))? else {
        return Ok(None);
    };
    let operator = Address(
        operator
            .try_into()
            .map_err(|_| sdk::internal("corrupt consensus address index"))?,
    );
    load_validator(ctx, &operator)
}

/// Saves a validator with its tokens and shares written back into the proto.
pub fn save_stored(ctx: &mut Ctx, v: &StoredValidator) -> Result<(), Error> {
    let old = load_validator(ctx, &v.operator)?;
    reindex_power(ctx, old.as_ref(), v)?;
    let mut proto = v.proto.clone();
    proto.tokens = v.tokens.to_string();
    proto.delegator_shares = v.shares.0.to_string();
    ctx.put_msg(STORE, validator_key(&v.operator), &proto)
}

pub fn decode<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt staking state: {e}")))
}

pub fn all_validators(ctx: &mut Ctx) -> Result<Vec<StoredValidator>, Error> {
    ctx.prefix(STORE, &[VALIDATOR])?
        .into_iter()
        .map(|(_, bytes)| {
            let proto = <Validator as prost::Message>::decode(bytes.as_slice())
                .map_err(|e| sdk::internal(format!("corrupt validator: {e}")))?;
            StoredValidator::from_proto(proto)
        })
        .collect()
}

pub fn last_power(ctx: &mut Ctx, operator: &Address) -> Result<Option<i64>, Error> {
    Ok(ctx
        .get(STORE, &last_power_key(operator))?
        .and_then(|b| b.try_into().ok())
        .map(i64::from_be_bytes))
}

/// Records the power CometBFT was given for `operator`; power 0 removes it from the set.
pub fn set_last_power(ctx: &mut Ctx, operator: &Address, power: i64) -> Result<(), Error> {
    if power == 0 {
        return ctx.delete(STORE, last_power_key(operator));
    }
    ctx.put(
        STORE,
        last_power_key(operator),
        power.to_be_bytes().to_vec(),
    )
}

/// The set CometBFT was last given: at most `max_validators` entries.
pub fn last_powers(ctx: &mut Ctx) -> Result<Vec<(Address, i64)>, Error> {
    ctx.prefix(STORE, &[LAST_POWER])?
        .into_iter()
        .map(|(key, value)| {
            let operator = key.get(1..).and_then(|op| op.try_into().ok()).map(Address);
            let power = value.try_into().ok().map(i64::from_be_bytes);
            operator
                .zip(power)
                .ok_or_else(|| sdk::internal("corrupt staking last power"))
        })
        .collect()
}

pub fn consensus_key_in_use(ctx: &mut Ctx, key: &[u8; 32]) -> Result<bool, Error> {
    Ok(ctx
        .get(STORE, &consensus_index_key(&crate::consensus_address(key)))?
        .is_some())
}
