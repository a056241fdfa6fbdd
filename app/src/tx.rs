//! The transaction pipeline: decode a `TxRaw`, run the ante checks (size, signatures, account
//! numbers, sequences, fees, gas), then the messages, each stage with Cosmos SDK error codes.
//!
//! Ante writes (fee and sequence) survive a failed message; message writes do not.

use crate::modules::Modules;
use base64::Engine;
use prost::Message;
use surety_auth::{Account, Auth, PublicKey, FEE_COLLECTOR};
use surety_framework::{sdk, Address, Coins, Ctx, Error, Event, ExecMode, GasMeter};
use surety_proto::cosmos::base::abci::v1beta1::TxMsgData;
use surety_proto::cosmos::crypto::multisig::v1beta1::{CompactBitArray, MultiSignature};
use surety_proto::cosmos::tx::signing::v1beta1::SignMode;
use surety_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, TxBody, TxRaw};
use surety_proto::Any;

/// Largest transaction the chain accepts, in bytes.
pub const MAX_TX_BYTES: usize = 64 * 1024;

/// A decoded transaction with its stateless checks passed.
pub struct Tx {
    pub raw: TxRaw,
    pub body: TxBody,
    pub auth_info: AuthInfo,
    pub signers: Vec<Address>,
    pub fee: Coins,
    pub gas_limit: u64,
    pub size: usize,
}

impl Tx {
    pub fn decode(bytes: &[u8], modules: &Modules) -> Result<Tx, Error> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(sdk::tx_too_large(format!(
                "tx is {} bytes, the maximum is {MAX_TX_BYTES}",
                bytes.len()
            )));
        }
        let raw =
            TxRaw::decode(bytes).map_err(|e| sdk::tx_decode(format!("invalid TxRaw: {e}")))?;
        let body = TxBody::decode(raw.body_bytes.as_slice())
            .map_err(|e| sdk::tx_decode(format!("invalid tx body: {e}")))?;
        let auth_info = AuthInfo::decode(raw.auth_info_bytes.as_slice())
            .map_err(|e| sdk::tx_decode(format!("invalid auth info: {e}")))?;
        if body.messages.is_empty() {
            return Err(sdk::invalid_request("must contain at least one message"));
        }
        if !body.extension_options.is_empty() || !body.non_critical_extension_options.is_empty() {
            return Err(sdk::unknown_extension_options(
                "no extension options are supported",
            ));
        }
        let fee = auth_info.fee.clone().unwrap_or_default();
        let mut signers: Vec<Address> = Vec::new();
        for msg in &body.messages {
            // Each message's stateless check (ValidateBasic) runs here, before any state is read.
            for signer in modules.route_msg(msg)?.1.check(msg)? {
                if !signers.contains(&signer) {
                    signers.push(signer);
                }
            }
        }
        if raw.signatures.len() != signers.len() || auth_info.signer_infos.len() != signers.len() {
            return Err(sdk::unauthorized(format!(
                "wrong number of signers; expected {}, got {}",
                signers.len(),
                raw.signatures.len()
            )));
        }
        Ok(Tx {
            fee: Coins::from_proto(&fee.amount)?,
            gas_limit: fee.gas_limit,
            signers,
            size: bytes.len(),
            raw,
            body,
            auth_info,
        })
    }
}

/// Node-local minimum gas prices (CheckTx only, as in Cosmos): amounts per unit of gas,
/// as fractions with 18 decimal places.
#[derive(Clone, Debug, Default)]
pub struct MinGasPrices(pub Vec<(String, u128)>);

const PRICE_SCALE: u128 = 1_000_000_000_000_000_000;

impl std::str::FromStr for MinGasPrices {
    type Err = String;
    /// Parses `"0.025usure,0.1uusdc"`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut prices = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let split = part
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or(format!("missing denom in gas price {part:?}"))?;
            let (number, denom) = part.split_at(split);
            let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
            if frac.len() > 18 || (whole.is_empty() && frac.is_empty()) {
                return Err(format!("invalid gas price {part:?}"));
            }
            let whole: u128 = if whole.is_empty() {
                0
            } else {
                whole
                    .parse()
                    .map_err(|_| format!("invalid gas price {part:?}"))?
            };
            let frac_scaled: u128 = format!("{frac:0<18}")
                .parse()
                .map_err(|_| format!("invalid gas price {part:?}"))?;
            surety_framework::coins::validate_denom(denom).map_err(|e| e.log)?;
            prices.push((denom.to_string(), whole * PRICE_SCALE + frac_scaled));
        }
        Ok(MinGasPrices(prices))
    }
}

impl std::fmt::Display for MinGasPrices {
    /// As parsed: `"0.0025usure"`, Cosmos's `minimum-gas-prices` form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(denom, scaled)| {
                let whole = scaled / PRICE_SCALE;
                let frac = format!("{:018}", scaled % PRICE_SCALE);
                let frac = frac.trim_end_matches('0');
                if frac.is_empty() {
                    format!("{whole}{denom}")
                } else {
                    format!("{whole}.{frac}{denom}")
                }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl MinGasPrices {
    /// The fee is enough if it pays the price in any one of the listed denoms (rounded up).
    fn check(&self, fee: &Coins, gas_limit: u64) -> Result<(), Error> {
        let required: Vec<(String, u128)> = self
            .0
            .iter()
            .filter(|(_, price)| *price > 0)
            .map(|(denom, price)| {
                (
                    denom.clone(),
                    (price * gas_limit as u128).div_ceil(PRICE_SCALE),
                )
            })
            .collect();
        if required.is_empty()
            || required
                .iter()
                .any(|(denom, amount)| fee.amount_of(denom) >= *amount)
        {
            return Ok(());
        }
        let wanted: Vec<String> = required.iter().map(|(d, a)| format!("{a}{d}")).collect();
        Err(sdk::insufficient_fee(format!(
            "insufficient fees; got: {} required: {}",
            if fee.is_empty() {
                "0".to_string()
            } else {
                fee.to_string()
            },
            wanted.join(",")
        )))
    }
}

/// What running a transaction produced.
pub struct TxOutcome {
    pub result: Result<Vec<Any>, Error>,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<Event>,
}

pub struct Runner<'m> {
    pub modules: &'m Modules,
    pub min_gas_prices: &'m MinGasPrices,
    /// Simulation ignores the transaction's own limit (clients simulate to learn it), but not
    /// this one.
    pub simulate_gas_limit: u64,
}

impl Runner<'_> {
    /// Runs a transaction in `ctx`'s state. In `Check` mode only the ante stage runs, as in
    /// Cosmos; `Simulate` skips signature checks and meters against the query gas limit.
    pub fn run(&self, ctx: &mut Ctx, bytes: &[u8]) -> TxOutcome {
        let tx = match Tx::decode(bytes, self.modules) {
            Ok(tx) => tx,
            Err(e) => {
                return TxOutcome {
                    result: Err(e),
                    gas_wanted: 0,
                    gas_used: 0,
                    events: Vec::new(),
                }
            }
        };
        ctx.gas = if ctx.mode == ExecMode::Simulate {
            GasMeter::new(self.simulate_gas_limit)
        } else {
            GasMeter::new(tx.gas_limit)
        };
        ctx.take_events();
        let ante = ctx.branch(|ctx| self.ante(ctx, &tx));
        let result = ante.and_then(|()| {
            if ctx.mode == ExecMode::Check {
                return Ok(Vec::new());
            }
            ctx.branch(|ctx| self.run_msgs(ctx, &tx))
        });
        let events = if result.is_ok() {
            ctx.take_events()
        } else {
            ante_events(ctx)
        };
        TxOutcome {
            gas_wanted: tx.gas_limit,
            gas_used: ctx.gas.used(),
            result,
            events,
        }
    }

    fn ante(&self, ctx: &mut Ctx, tx: &Tx) -> Result<(), Error> {
        let auth = Auth;
        let params = auth.params(ctx)?;
        if tx.gas_limit == 0 && ctx.mode != ExecMode::Simulate {
            return Err(sdk::invalid_gas_limit("gas limit must be positive"));
        }
        if tx.body.memo.chars().count() as u64 > params.max_memo_characters {
            return Err(sdk::memo_too_large(format!(
                "maximum number of characters is {} but received {} characters",
                params.max_memo_characters,
                tx.body.memo.chars().count()
            )));
        }
        if tx.body.timeout_height != 0 && ctx.block.height > tx.body.timeout_height {
            return Err(sdk::tx_timeout_height(format!(
                "block height: {}, timeout height: {}",
                ctx.block.height, tx.body.timeout_height
            )));
        }
        if tx.signers.len() as u64 > params.tx_sig_limit {
            return Err(sdk::too_many_signatures(format!(
                "signatures: {}, limit: {}",
                tx.signers.len(),
                params.tx_sig_limit
            )));
        }
        ctx.gas
            .consume(params.tx_size_cost_per_byte * tx.size as u64, "txSize")?;
        if ctx.mode == ExecMode::Check {
            self.min_gas_prices.check(&tx.fee, tx.gas_limit)?;
        }
        self.deduct_fee(ctx, tx)?;

        // Accounts are numbered 0 when signing gentxs, because none exist yet.
        let genesis = ctx.mode == ExecMode::Genesis;
        let mut signatures = 0usize;
        for (i, signer) in tx.signers.iter().enumerate() {
            let mut account = auth
                .account(ctx, signer)?
                .ok_or_else(|| sdk::unknown_address(format!("account {signer} does not exist")))?;
            let info = &tx.auth_info.signer_infos[i];
            let pubkey = signer_pubkey(&account, info.public_key.as_ref())?;
            // A multisig's keys count against the limit, as in the SDK.
            signatures = signatures.saturating_add(pubkey.signature_count());
            if signatures as u64 > params.tx_sig_limit {
                return Err(sdk::too_many_signatures(format!(
                    "signatures: {signatures}, limit: {}",
                    params.tx_sig_limit
                )));
            }
            if info.sequence != account.sequence {
                return Err(sdk::wrong_sequence(format!(
                    "account sequence mismatch, expected {}, got {}",
                    account.sequence, info.sequence
                )));
            }
            // Simulation checks no signature, so clients (cosmjs) leave the sign mode
            // unspecified; it charges for every key a signature could come from.
            if ctx.mode == ExecMode::Simulate {
                let cost = params
                    .sig_verify_cost_secp256k1
                    .saturating_mul(pubkey.signature_count() as u64);
                ctx.gas.consume(cost, "ante verify: secp256k1")?;
            } else {
                let doc = SignerData {
                    chain_id: ctx.block.chain_id.clone(),
                    account_number: if genesis { 0 } else { account.account_number },
                    sequence: account.sequence,
                };
                let mode = info.mode_info.as_ref().and_then(|m| m.sum.as_ref());
                verify_signature(ctx, &params, tx, &doc, &pubkey, mode, &tx.raw.signatures[i])?;
            }
            ctx.emit(Event::new("tx").attr("acc_seq", format!("{signer}/{}", account.sequence)));
            ctx.emit(Event::new("tx").attr(
                "signature",
                base64::engine::general_purpose::STANDARD.encode(&tx.raw.signatures[i]),
            ));
            account.pubkey = Some(pubkey);
            account.sequence += 1;
            auth.set_account(ctx, &account)?;
        }
        Ok(())
    }

    fn deduct_fee(&self, ctx: &mut Ctx, tx: &Tx) -> Result<(), Error> {
        let payer = match tx
            .auth_info
            .fee
            .as_ref()
            .map(|f| f.payer.as_str())
            .unwrap_or("")
        {
            "" => tx.signers[0],
            payer => {
                let payer = Address::from_bech32(payer)?;
                if !tx.signers.contains(&payer) {
                    return Err(sdk::unauthorized("the fee payer must sign the transaction"));
                }
                payer
            }
        };
        if Auth.account(ctx, &payer)?.is_none() {
            return Err(sdk::unknown_address(format!(
                "fee payer address: {payer} does not exist"
            )));
        }
        let bank = surety_bank::Bank::default();
        if !tx.fee.is_empty() {
            bank.send_to_module(ctx, &payer, FEE_COLLECTOR, &tx.fee)
                .map_err(|e| {
                    if e.code == 5 {
                        sdk::insufficient_funds(format!(
                            "insufficient funds to pay for fees; {}",
                            e.log.trim_end_matches(": insufficient funds")
                        ))
                    } else {
                        e
                    }
                })?;
        } else if ctx.mode == ExecMode::Simulate {
            // Clients simulate without a fee but then pay one: charge the gas of moving a fee so
            // the estimate covers it, and drop the move itself.
            let probe = Coins::from_vec(vec![surety_framework::Coin::new(
                1,
                surety_staking::BOND_DENOM,
            )])?;
            let _ = ctx.branch(|c| -> Result<(), Error> {
                bank.send_to_module(c, &payer, FEE_COLLECTOR, &probe)?;
                Err(sdk::internal("fee gas probe"))
            });
        }
        ctx.emit(
            Event::new("tx")
                .attr("fee", &tx.fee)
                .attr("fee_payer", payer),
        );
        Ok(())
    }

    fn run_msgs(&self, ctx: &mut Ctx, tx: &Tx) -> Result<Vec<Any>, Error> {
        let mut responses = Vec::with_capacity(tx.body.messages.len());
        for (index, msg) in tx.body.messages.iter().enumerate() {
            let (module, handler) = self.modules.route_msg(msg)?;
            let response = handler.execute(ctx, msg).map_err(|e| Error {
                log: format!(
                    "failed to execute message; message index: {index}: {}",
                    e.log
                ),
                ..e
            })?;
            ctx.emit(
                Event::new("message")
                    .attr("action", &msg.type_url)
                    .attr("module", module.name())
                    .attr("msg_index", index),
            );
            responses.push(Any {
                type_url: format!("{}Response", msg.type_url),
                value: response,
            });
        }
        Ok(responses)
    }
}

/// The events a failed transaction still reports: its fee and signatures.
fn ante_events(ctx: &mut Ctx) -> Vec<Event> {
    ctx.take_events()
        .into_iter()
        .filter(|e| e.kind == "tx")
        .collect()
}

/// The signer's key: the one already on the account, or the one the tx supplies (first use).
fn signer_pubkey(account: &Account, supplied: Option<&Any>) -> Result<PublicKey, Error> {
    let supplied = supplied.map(PublicKey::from_any).transpose()?;
    let key = match (&account.pubkey, supplied) {
        (Some(known), _) => known.clone(),
        (None, Some(key)) => key,
        (None, None) => {
            return Err(sdk::invalid_pubkey(format!(
                "pubkey for {} is not set; sign with the public key included",
                account.address
            )))
        }
    };
    if key.address() != account.address {
        return Err(sdk::invalid_pubkey(format!(
            "pubKey does not match signer address {}",
            account.address
        )));
    }
    Ok(key)
}

/// What a signature commits to besides the transaction.
struct SignerData {
    chain_id: String,
    account_number: u64,
    sequence: u64,
}

/// Checks one signer's signature: a single key signs in one mode; a multisig carries a
/// `MultiSignature` with one signature per set bit of its bit array, at least its threshold,
/// each in its own mode. Gas is charged per signature checked.
fn verify_signature(
    ctx: &mut Ctx,
    params: &surety_proto::cosmos::auth::v1beta1::Params,
    tx: &Tx,
    data: &SignerData,
    key: &PublicKey,
    mode: Option<&mode_info::Sum>,
    signature: &[u8],
) -> Result<(), Error> {
    // A multisig's members all sign the same bytes for a mode: build them once per mode (amino
    // JSON re-encodes every message), not once per member.
    let mut built: Vec<(i32, Vec<u8>)> = Vec::new();
    let mut check = |ctx: &mut Ctx, key: &[u8], mode: i32, signature: &[u8]| {
        ctx.gas
            .consume(params.sig_verify_cost_secp256k1, "ante verify: secp256k1")?;
        let at = match built.iter().position(|(m, _)| *m == mode) {
            Some(at) => at,
            None => {
                built.push((mode, sign_bytes(tx, mode, data)?));
                built.len() - 1
            }
        };
        surety_auth::verify_secp256k1(key, &built[at].1, signature).map_err(|_| {
            sdk::unauthorized(format!(
                "signature verification failed; please verify account number ({}) and chain-id ({})",
                data.account_number, data.chain_id
            ))
        })
    };
    match (key, mode) {
        (PublicKey::Secp256k1(key), Some(mode_info::Sum::Single(single))) => {
            check(ctx, key, single.mode, signature)
        }
        (PublicKey::Multisig(multisig), Some(mode_info::Sum::Multi(multi))) => {
            let signatures = MultiSignature::decode(signature)
                .map_err(|e| sdk::tx_decode(format!("invalid multisignature: {e}")))?
                .signatures;
            let signed = signed_keys(multi.bitarray.as_ref(), multisig.keys.len())?;
            if signed.len() != signatures.len() || signed.len() != multi.mode_infos.len() {
                return Err(sdk::unauthorized(format!(
                    "the multisignature's bit array sets {} keys but it has {} signatures and {} modes",
                    signed.len(),
                    signatures.len(),
                    multi.mode_infos.len()
                )));
            }
            if signed.len() < multisig.threshold as usize {
                return Err(sdk::unauthorized(format!(
                    "{} of the multisig's keys signed; its threshold is {}",
                    signed.len(),
                    multisig.threshold
                )));
            }
            for ((index, signature), mode) in
                signed.into_iter().zip(&signatures).zip(&multi.mode_infos)
            {
                let Some(mode_info::Sum::Single(single)) = mode.sum.as_ref() else {
                    return Err(sdk::unauthorized(
                        "nested multisignatures are not supported",
                    ));
                };
                check(ctx, &multisig.keys[index], single.mode, signature)?;
            }
            Ok(())
        }
        (PublicKey::Secp256k1(_), _) => Err(sdk::unauthorized(
            "a single key signs with a single mode info",
        )),
        (PublicKey::Multisig(_), _) => {
            Err(sdk::unauthorized("a multisig signs with a multi mode info"))
        }
    }
}

/// The keys (by index) a multisignature's `CompactBitArray` marks as signed; the array must
/// have exactly one bit per key. Bits are stored most significant first.
fn signed_keys(bits: Option<&CompactBitArray>, keys: usize) -> Result<Vec<usize>, Error> {
    let bits = bits.ok_or_else(|| sdk::unauthorized("the multisignature has no bit array"))?;
    let size = match bits.extra_bits_stored {
        0 => bits.elems.len().saturating_mul(8),
        extra @ 1..=7 => (bits.elems.len().saturating_sub(1))
            .saturating_mul(8)
            .saturating_add(extra as usize),
        _ => return Err(sdk::unauthorized("malformed multisignature bit array")),
    };
    if bits.elems.is_empty() || size != keys {
        return Err(sdk::unauthorized(format!(
            "the multisignature's bit array has {size} bits for {keys} keys"
        )));
    }
    Ok((0..size)
        .filter(|i| bits.elems[i / 8] & (0x80 >> (i % 8)) != 0)
        .collect())
}

/// The bytes a signature in `mode` covers.
fn sign_bytes(tx: &Tx, mode: i32, data: &SignerData) -> Result<Vec<u8>, Error> {
    match SignMode::try_from(mode) {
        Ok(SignMode::Direct) => Ok(surety_auth::sign_doc_bytes(
            &tx.raw.body_bytes,
            &tx.raw.auth_info_bytes,
            &data.chain_id,
            data.account_number,
        )),
        Ok(SignMode::LegacyAminoJson) => surety_auth::amino_json_sign_bytes(
            &tx.body,
            tx.auth_info.fee.as_ref().unwrap_or(&Default::default()),
            &data.chain_id,
            data.account_number,
            data.sequence,
        ),
        _ => Err(sdk::unauthorized(
            "unsupported sign mode; sign with SIGN_MODE_DIRECT or SIGN_MODE_LEGACY_AMINO_JSON",
        )),
    }
}

/// `TxMsgData`, the `data` of a transaction result, from which clients read message responses.
pub fn msg_data(responses: Vec<Any>) -> Vec<u8> {
    #[allow(deprecated)]
    TxMsgData {
        data: Vec::new(),
        msg_responses: responses,
    }
    .encode_to_vec()
}
