//! Building and signing transactions: SIGN_MODE_DIRECT over a `SignDoc`, as every Cosmos wallet
//! does, or SIGN_MODE_LEGACY_AMINO_JSON (Ledger-style, and what multisig members sign); a
//! multisig's signatures combined; transactions as the SDK's JSON, for `--generate-only`,
//! `tx sign`, `tx multisign` and `tx broadcast`.

use anyhow::{anyhow, bail, Context as _, Result};
use base64::Engine as _;
use cosmrs::crypto::secp256k1::SigningKey;
use prost::Message;
use serde_json::{json, Value};
use surety_auth::PublicKey;
use surety_framework::Coins;
use surety_proto::cosmos::crypto::multisig::v1beta1::{CompactBitArray, MultiSignature};
use surety_proto::cosmos::tx::signing::v1beta1::SignMode;
use surety_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
};
use surety_proto::Any;

use crate::protojson;

pub struct Unsigned {
    pub messages: Vec<Any>,
    pub memo: String,
    pub fee: Coins,
    pub gas_limit: u64,
    pub account_number: u64,
    pub sequence: u64,
    pub chain_id: String,
}

/// A transaction's body and auth info as encoded bytes (what a signature covers), and its
/// signatures: a `TxRaw` being built.
pub struct Parts {
    pub body: Vec<u8>,
    pub auth_info: AuthInfo,
    pub signatures: Vec<Vec<u8>>,
}

impl Unsigned {
    /// Body and fee; no signer yet.
    pub fn parts(&self) -> Parts {
        let body = TxBody {
            messages: self.messages.clone(),
            memo: self.memo.clone(),
            ..Default::default()
        };
        Parts {
            body: body.encode_to_vec(),
            auth_info: AuthInfo {
                fee: Some(Fee {
                    amount: self.fee.to_proto(),
                    gas_limit: self.gas_limit,
                    payer: String::new(),
                    granter: String::new(),
                }),
                ..Default::default()
            },
            signatures: Vec::new(),
        }
    }
}

fn single(mode: SignMode) -> ModeInfo {
    ModeInfo {
        sum: Some(mode_info::Sum::Single(mode_info::Single {
            mode: mode as i32,
        })),
    }
}

/// A multisig's mode info: which of its `keys` signed (a `CompactBitArray`, most significant
/// bit first), each in `mode`.
fn multi(keys: usize, signed: &[usize], mode: SignMode) -> ModeInfo {
    let mut elems = vec![0u8; keys.div_ceil(8)];
    for &i in signed {
        elems[i / 8] |= 0x80 >> (i % 8);
    }
    ModeInfo {
        sum: Some(mode_info::Sum::Multi(mode_info::Multi {
            bitarray: Some(CompactBitArray {
                extra_bits_stored: (keys % 8) as u32,
                elems,
            }),
            mode_infos: signed.iter().map(|_| single(mode)).collect(),
        })),
    }
}

impl Parts {
    /// Makes `key` the only signer, at `sequence`, with an empty signature (what `Simulate`
    /// takes: it checks everything but the signature).
    pub fn set_signer(&mut self, key: &PublicKey, sequence: u64, mode: SignMode) {
        let mode_info = match key {
            PublicKey::Secp256k1(_) => single(mode),
            PublicKey::Multisig(m) => multi(m.keys.len(), &[], SignMode::LegacyAminoJson),
        };
        self.auth_info.signer_infos = vec![SignerInfo {
            public_key: Some(key.to_any()),
            mode_info: Some(mode_info),
            sequence,
        }];
        self.signatures = vec![Vec::new()];
    }

    /// What a signature in `mode` covers. For SIGN_MODE_DIRECT that includes the signer
    /// infos, so set them first.
    pub fn sign_bytes(
        &self,
        mode: SignMode,
        chain_id: &str,
        account_number: u64,
        sequence: u64,
    ) -> Result<Vec<u8>> {
        match mode {
            SignMode::Direct => Ok(surety_auth::sign_doc_bytes(
                &self.body,
                &self.auth_info.encode_to_vec(),
                chain_id,
                account_number,
            )),
            SignMode::LegacyAminoJson => {
                let body = TxBody::decode(self.body.as_slice()).context("the body")?;
                surety_auth::amino_json_sign_bytes(
                    &body,
                    self.auth_info.fee.as_ref().unwrap_or(&Fee::default()),
                    chain_id,
                    account_number,
                    sequence,
                )
                .map_err(|e| anyhow!(e.log))
            }
            other => bail!("sign mode {} is not supported", other.as_str_name()),
        }
    }

    /// Signs as the only signer.
    pub fn sign(
        &mut self,
        key: &SigningKey,
        mode: SignMode,
        sequence: u64,
        chain_id: &str,
        account_number: u64,
    ) -> Result<()> {
        self.set_signer(
            &PublicKey::Secp256k1(key.public_key().to_bytes()),
            sequence,
            mode,
        );
        let bytes = self.sign_bytes(mode, chain_id, account_number, sequence)?;
        let signature = key
            .sign(&bytes)
            .map_err(|e| anyhow!("signing failed: {e}"))?;
        self.signatures = vec![signature.to_bytes().to_vec()];
        Ok(())
    }

    /// Makes `multisig` the only signer with its members' amino-JSON `signatures`, by the
    /// index of the member's key.
    pub fn set_multisignature(
        &mut self,
        multisig: &PublicKey,
        sequence: u64,
        mut signatures: Vec<(usize, Vec<u8>)>,
    ) -> Result<()> {
        let PublicKey::Multisig(m) = multisig else {
            bail!("not a multisig key");
        };
        signatures.sort_by_key(|(i, _)| *i);
        signatures.dedup_by_key(|(i, _)| *i);
        let signed: Vec<usize> = signatures.iter().map(|(i, _)| *i).collect();
        self.auth_info.signer_infos = vec![SignerInfo {
            public_key: Some(multisig.to_any()),
            mode_info: Some(multi(m.keys.len(), &signed, SignMode::LegacyAminoJson)),
            sequence,
        }];
        self.signatures = vec![MultiSignature {
            signatures: signatures.into_iter().map(|(_, s)| s).collect(),
        }
        .encode_to_vec()];
        Ok(())
    }

    pub fn raw(&self) -> Vec<u8> {
        TxRaw {
            body_bytes: self.body.clone(),
            auth_info_bytes: self.auth_info.encode_to_vec(),
            signatures: self.signatures.clone(),
        }
        .encode_to_vec()
    }

    /// The SDK's JSON of the transaction: `{"body": …, "auth_info": …, "signatures": […]}`.
    pub fn to_json(&self) -> Result<Value> {
        let part = |name: &str, bytes: &[u8]| {
            protojson::to_json(
                &protojson::message(name).map_err(anyhow::Error::msg)?,
                bytes,
            )
            .map_err(|e| anyhow!("{name}: {e}"))
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(json!({
            "body": part("cosmos.tx.v1beta1.TxBody", &self.body)?,
            "auth_info": part("cosmos.tx.v1beta1.AuthInfo", &self.auth_info.encode_to_vec())?,
            "signatures": self.signatures.iter().map(|s| b64.encode(s)).collect::<Vec<_>>(),
        }))
    }

    /// A `TxRaw`'s (or `Tx`'s) bytes, taken apart.
    pub fn from_raw(bytes: &[u8]) -> Result<Parts> {
        let raw = TxRaw::decode(bytes).context("not a transaction")?;
        Ok(Parts {
            body: raw.body_bytes,
            auth_info: AuthInfo::decode(raw.auth_info_bytes.as_slice()).context("auth_info")?,
            signatures: raw.signatures,
        })
    }

    /// Reads [`Parts::to_json`]'s JSON back; the body's bytes are what its signatures cover.
    pub fn from_json(value: &Value) -> Result<Parts> {
        let part = |name: &str, field: &str| {
            let v = value
                .get(field)
                .ok_or_else(|| anyhow!("the transaction has no `{field}`"))?;
            protojson::from_json(&protojson::message(name).map_err(anyhow::Error::msg)?, v)
                .map_err(|e| anyhow!("{field}: {e}"))
        };
        let auth_info =
            AuthInfo::decode(part("cosmos.tx.v1beta1.AuthInfo", "auth_info")?.as_slice())
                .context("auth_info")?;
        let signatures = match value.get("signatures") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|s| {
                    let s = s
                        .as_str()
                        .ok_or_else(|| anyhow!("signatures: not strings"))?;
                    base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .context("signatures: not base64")
                })
                .collect::<Result<_>>()?,
            Some(_) => anyhow::bail!("signatures: not a list"),
        };
        Ok(Parts {
            body: part("cosmos.tx.v1beta1.TxBody", "body")?,
            auth_info,
            signatures,
        })
    }
}

/// Signs (SIGN_MODE_DIRECT) and encodes a `TxRaw`.
pub fn sign(key: &SigningKey, tx: &Unsigned) -> Result<Vec<u8>> {
    let mut parts = tx.parts();
    parts.sign(
        key,
        SignMode::Direct,
        tx.sequence,
        &tx.chain_id,
        tx.account_number,
    )?;
    Ok(parts.raw())
}

/// The transaction `key` would sign, with an empty signature, for `Simulate`.
pub fn for_simulation(key: &SigningKey, tx: &Unsigned) -> Result<Vec<u8>> {
    let mut parts = tx.parts();
    parts.set_signer(
        &PublicKey::Secp256k1(key.public_key().to_bytes()),
        tx.sequence,
        SignMode::Direct,
    );
    Ok(parts.raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_survives_its_json() {
        let key = SigningKey::from_slice(&[7; 32]).unwrap();
        let send = surety_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: "surety1a".into(),
            to_address: "surety1b".into(),
            amount: vec![surety_proto::cosmos::base::v1beta1::Coin {
                denom: "usure".into(),
                amount: "5".into(),
            }],
        };
        let unsigned = Unsigned {
            messages: vec![surety_proto::to_any(&send)],
            memo: "hi".into(),
            fee: "500usure".parse().unwrap(),
            gas_limit: 200_000,
            account_number: 3,
            sequence: 9,
            chain_id: "c".into(),
        };
        let signed = sign(&key, &unsigned).unwrap();
        let mut parts = unsigned.parts();
        parts.sign(&key, SignMode::Direct, 9, "c", 3).unwrap();
        let json = parts.to_json().unwrap();
        assert_eq!(
            json["body"]["messages"][0]["@type"],
            "/cosmos.bank.v1beta1.MsgSend"
        );
        assert_eq!(json["auth_info"]["signer_infos"][0]["sequence"], "9");
        assert_eq!(Parts::from_json(&json).unwrap().raw(), signed);
    }
}
