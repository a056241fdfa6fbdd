//! Genesis transactions: a signed `MsgCreateValidator` from each initial validator's operator.

use crate::AppState;
use prost::Message;
use surety_framework::{Address, Coin, VALIDATOR_PREFIX};
use surety_proto::cosmos::crypto::ed25519::PubKey as Ed25519PubKey;
use surety_proto::cosmos::crypto::secp256k1::PubKey;
use surety_proto::cosmos::staking::v1beta1::MsgCreateValidator;
use surety_proto::cosmos::tx::v1beta1::{AuthInfo, TxBody, TxRaw};
use surety_proto::from_any;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GentxSummary {
    pub operator: String,
    pub moniker: String,
    pub consensus_pubkey: Vec<u8>,
    pub self_bond: String,
}

/// Checks a gentx: one `MsgCreateValidator`, signed (account number 0, as at genesis) by the
/// operator's account, which must exist in genesis with the self-bond available.
pub fn verify_gentx(tx: &[u8], chain_id: &str, state: &AppState) -> Result<GentxSummary, String> {
    let raw = TxRaw::decode(tx).map_err(|e| format!("not a TxRaw: {e}"))?;
    let body = TxBody::decode(raw.body_bytes.as_slice()).map_err(|e| format!("bad body: {e}"))?;
    let auth_info = AuthInfo::decode(raw.auth_info_bytes.as_slice())
        .map_err(|e| format!("bad auth info: {e}"))?;
    let [msg] = body.messages.as_slice() else {
        return Err("a gentx carries exactly one MsgCreateValidator".into());
    };
    let msg = from_any::<MsgCreateValidator>(msg)
        .ok_or_else(|| format!("a gentx carries a MsgCreateValidator, not {}", msg.type_url))?
        .map_err(|e| format!("bad MsgCreateValidator: {e}"))?;
    let operator =
        Address::from_bech32_with(&msg.validator_address, VALIDATOR_PREFIX).map_err(|e| e.log)?;
    let [signer] = auth_info.signer_infos.as_slice() else {
        return Err("a gentx has exactly one signer".into());
    };
    let pubkey = signer
        .public_key
        .as_ref()
        .and_then(from_any::<PubKey>)
        .ok_or("the signer's secp256k1 public key is missing")?
        .map_err(|e| e.to_string())?;
    if Address::from_secp256k1(&pubkey.key) != operator {
        return Err(format!(
            "signed by a key that is not {}'s operator",
            msg.validator_address
        ));
    }
    let [signature] = raw.signatures.as_slice() else {
        return Err("a gentx has exactly one signature".into());
    };
    let doc = surety_auth::sign_doc_bytes(&raw.body_bytes, &raw.auth_info_bytes, chain_id, 0);
    surety_auth::verify_secp256k1(&pubkey.key, &doc, signature)
        .map_err(|e| format!("{} (was it made for chain-id {chain_id}?)", e.log))?;
    let bond = msg
        .value
        .as_ref()
        .ok_or("self-bond missing")
        .map_err(str::to_string)
        .and_then(|c| Coin::from_proto(c).map_err(|e| e.log))?;
    let operator_account = operator.to_bech32();
    let funded = state
        .bank
        .balances
        .iter()
        .find(|b| b.address == operator_account)
        .and_then(|b| b.coins.iter().find(|c| c.denom == bond.denom))
        .and_then(|c| c.amount.parse::<u128>().ok())
        .unwrap_or(0);
    if funded < bond.amount {
        return Err(format!(
            "operator account {operator_account} has {funded}{} at genesis, less than the self-bond {bond}",
            bond.denom
        ));
    }
    let consensus_pubkey = msg
        .pubkey
        .as_ref()
        .and_then(from_any::<Ed25519PubKey>)
        .ok_or("consensus key must be ed25519")?
        .map_err(|e| e.to_string())?
        .key;
    Ok(GentxSummary {
        operator: msg.validator_address.clone(),
        moniker: msg.description.map(|d| d.moniker).unwrap_or_default(),
        consensus_pubkey,
        self_bond: bond.to_string(),
    })
}
