//! Building and signing transactions: SIGN_MODE_DIRECT over a `SignDoc`, as every Cosmos wallet does.

use anyhow::{Context as _, Result};
use cosmrs::crypto::secp256k1::SigningKey;
use prost::Message;
use surety_framework::Coins;
use surety_proto::cosmos::crypto::secp256k1::PubKey;
use surety_proto::cosmos::tx::signing::v1beta1::SignMode;
use surety_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
};
use surety_proto::{to_any, Any};

pub struct Unsigned {
    pub messages: Vec<Any>,
    pub memo: String,
    pub fee: Coins,
    pub gas_limit: u64,
    pub account_number: u64,
    pub sequence: u64,
    pub chain_id: String,
}

/// Signs and encodes a `TxRaw`.
pub fn sign(key: &SigningKey, tx: &Unsigned) -> Result<Vec<u8>> {
    let body = TxBody {
        messages: tx.messages.clone(),
        memo: tx.memo.clone(),
        ..Default::default()
    };
    let pubkey = key.public_key().to_bytes();
    let auth_info = AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: Some(to_any(&PubKey { key: pubkey })),
            mode_info: Some(ModeInfo {
                sum: Some(mode_info::Sum::Single(mode_info::Single {
                    mode: SignMode::Direct as i32,
                })),
            }),
            sequence: tx.sequence,
        }],
        fee: Some(Fee {
            amount: tx.fee.to_proto(),
            gas_limit: tx.gas_limit,
            payer: String::new(),
            granter: String::new(),
        }),
        ..Default::default()
    };
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = auth_info.encode_to_vec();
    let doc = surety_auth::sign_doc_bytes(
        &body_bytes,
        &auth_info_bytes,
        &tx.chain_id,
        tx.account_number,
    );
    let signature = key
        .sign(&doc)
        .map_err(|e| anyhow::anyhow!("signing failed: {e}"))?;
    Ok(TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![signature.to_bytes().to_vec()],
    }
    .encode_to_vec())
}

/// Signs with an empty signature for `Simulate`, which checks everything but the signature.
pub fn for_simulation(key: &SigningKey, tx: &Unsigned) -> Result<Vec<u8>> {
    let signed = sign(key, tx)?;
    let mut raw = TxRaw::decode(signed.as_slice()).context("re-decoding")?;
    raw.signatures = vec![Vec::new()];
    Ok(raw.encode_to_vec())
}
