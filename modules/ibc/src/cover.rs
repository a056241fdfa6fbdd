//! Cross-chain cover: an ICS-20 transfer whose memo names a Surety action performs it on
//! arrival, with no module on the sending chain.
//!
//! The memo is `{"surety":{"<action>":{…}}}`. The tokens are credited to the sender's *remote
//! account* — derived from the channel they came in on and their address there, so no one on
//! another chain can act as a local account they do not control — and the action runs as that
//! account through the chain's message router, exactly as a signed transaction would: the same
//! checks, the same errors. Whatever the action did not spend goes home as change. If anything
//! fails, the receive is undone and the acknowledgement is an error, so ICS-20 refunds the
//! sender on their own chain and nothing is left behind here.

use crate::errors;
use crate::remit;
use crate::STORE;
use base64::Engine;
use ibc::apps::transfer::types::packet::PacketData;
use ibc::core::host::types::identifiers::ChannelId;
use prost::Message;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use surety_framework::{sdk, validate, Address, Ctx, Error, Event};
use surety_proto::surety::ibc::v1::RemoteAccount;
use surety_proto::{surety, to_any, Any};

/// The longest sender or beneficiary address accepted from another chain.
const MAX_REMOTE_ADDRESS: usize = 128;

/// The account that acts on Surety for `sender` on the chain behind our `channel`.
pub fn remote_account(channel: &str, sender: &str) -> Address {
    let mut hasher = Sha256::new();
    hasher.update(b"surety-ibc-remote-account");
    hasher.update([0u8]);
    hasher.update(format!("{channel}/{sender}").as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&digest[..20]);
    Address(bytes)
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    BuyCover {
        #[serde(deserialize_with = "number")]
        product_id: u64,
        cover: String,
        #[serde(deserialize_with = "number")]
        days: u64,
        max_premium: String,
        #[serde(default)]
        beneficiary: Option<String>,
    },
    Deposit {
        #[serde(deserialize_with = "number")]
        pool_id: u64,
        #[serde(default)]
        beneficiary: Option<String>,
    },
    RequestWithdraw {
        #[serde(deserialize_with = "number")]
        pool_id: u64,
        shares: String,
    },
    CompleteWithdraw {
        #[serde(deserialize_with = "number")]
        pool_id: u64,
    },
    TransferPolicy {
        #[serde(deserialize_with = "number")]
        policy_id: u64,
        recipient: String,
    },
    FileClaim {
        #[serde(deserialize_with = "number")]
        policy_id: u64,
        #[serde(default)]
        incident: String,
        #[serde(default)]
        loss: String,
        #[serde(default)]
        evidence: String,
    },
}

/// Ids and days as JSON numbers or decimal strings, as Cosmos JSON writes 64-bit numbers.
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        Num(u64),
        Str(String),
    }
    match N::deserialize(d)? {
        N::Num(n) => Ok(n),
        N::Str(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

/// The Surety action a transfer's memo names, parsed once: `None` for a memo without a
/// top-level `surety` key (plain text or another middleware's JSON, left to ICS-20), an error
/// for a `surety` memo that is malformed or shares the memo with other keys.
pub fn action(memo: &str) -> Result<Option<Action>, Error> {
    let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str(memo) else {
        return Ok(None);
    };
    let Some(action) = fields.remove("surety") else {
        return Ok(None);
    };
    if let Some(other) = fields.keys().next() {
        return Err(errors::invalid_memo(format!(
            "unknown field `{other}` beside `surety`"
        )));
    }
    let action: Action =
        serde_json::from_value(action).map_err(|e| errors::invalid_memo(e.to_string()))?;
    action.check()?;
    Ok(Some(action))
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::BuyCover { .. } => "buy_cover",
            Action::Deposit { .. } => "deposit",
            Action::RequestWithdraw { .. } => "request_withdraw",
            Action::CompleteWithdraw { .. } => "complete_withdraw",
            Action::TransferPolicy { .. } => "transfer_policy",
            Action::FileClaim { .. } => "file_claim",
        }
    }

    /// The checks that need no state, so a malformed order fails with a clear reason.
    fn check(&self) -> Result<(), Error> {
        if let Action::BuyCover {
            cover, max_premium, ..
        } = self
        {
            validate::amount(cover, "cover")?;
            validate::amount(max_premium, "max_premium")?;
        }
        Ok(())
    }

    fn beneficiary(&self) -> Option<&str> {
        match self {
            Action::BuyCover { beneficiary, .. } | Action::Deposit { beneficiary, .. } => {
                beneficiary.as_deref()
            }
            _ => None,
        }
    }

    /// The message the remote account sends.
    fn message(&self, account: &Address, received: u128) -> Result<Any, Error> {
        let me = account.to_bech32();
        Ok(match self {
            Action::BuyCover {
                product_id,
                cover,
                days,
                max_premium,
                ..
            } => to_any(&surety::policy::v1::MsgBuyCover {
                buyer: me,
                product_id: *product_id,
                cover: cover.clone(),
                term_days: u32::try_from(*days)
                    .map_err(|_| errors::invalid_memo(format!("days {days} out of range")))?,
                max_premium: max_premium.clone(),
                // Slashing cover insures a delegation on this chain, which a remote buyer's
                // account here does not hold.
                validator: String::new(),
            }),
            Action::Deposit { pool_id, .. } => to_any(&surety::pool::v1::MsgDeposit {
                provider: me,
                pool_id: *pool_id,
                amount: received.to_string(),
            }),
            Action::RequestWithdraw { pool_id, shares } => {
                to_any(&surety::pool::v1::MsgRequestWithdraw {
                    provider: me,
                    pool_id: *pool_id,
                    shares: shares.clone(),
                })
            }
            Action::CompleteWithdraw { pool_id } => {
                to_any(&surety::pool::v1::MsgCompleteWithdraw {
                    provider: me,
                    pool_id: *pool_id,
                })
            }
            Action::TransferPolicy {
                policy_id,
                recipient,
            } => to_any(&surety::policy::v1::MsgTransferPolicy {
                owner: me,
                policy_id: *policy_id,
                recipient: recipient.clone(),
            }),
            Action::FileClaim {
                policy_id,
                incident,
                loss,
                evidence,
            } => to_any(&surety::claims::v1::MsgFileClaim {
                claimant: me,
                policy_id: *policy_id,
                incident: incident.clone(),
                loss: loss.clone(),
                evidence: evidence.clone(),
            }),
        })
    }

    /// What the acknowledgement tells the sender, from the message's response.
    fn result(&self, response: &[u8]) -> serde_json::Value {
        let decoded = match self {
            Action::BuyCover { .. } => surety::policy::v1::MsgBuyCoverResponse::decode(response)
                .map(|r| {
                    serde_json::json!({
                        "policy_id": r.policy_id.to_string(),
                        "premium": r.premium,
                    })
                }),
            Action::Deposit { .. } => surety::pool::v1::MsgDepositResponse::decode(response)
                .map(|r| serde_json::json!({ "shares": r.shares })),
            Action::CompleteWithdraw { .. } => {
                surety::pool::v1::MsgCompleteWithdrawResponse::decode(response)
                    .map(|r| serde_json::json!({ "amount": r.amount }))
            }
            Action::FileClaim { .. } => surety::claims::v1::MsgFileClaimResponse::decode(response)
                .map(|r| serde_json::json!({ "claim_id": r.claim_id.to_string() })),
            _ => Ok(serde_json::json!({})),
        };
        decoded.unwrap_or_else(|_| serde_json::json!({}))
    }
}

fn remote_address(s: &str, field: &str) -> Result<(), Error> {
    if s.is_empty() || s.len() > MAX_REMOTE_ADDRESS || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(errors::invalid_memo(format!(
            "{field}: an address of 1 to {MAX_REMOTE_ADDRESS} printable characters"
        )));
    }
    Ok(())
}

/// Runs the memo's action for a transfer that arrived on `channel` (our end) and whose tokens
/// have been credited to the sender's remote account. Returns the acknowledgement's result (a
/// base64 string of JSON). Any error undoes the whole receive (the caller runs it on a branch).
pub fn execute(
    ctx: &mut Ctx,
    action: &Action,
    channel: &ChannelId,
    data: &PacketData,
    received_denom: &str,
    received: u128,
    balance_before: u128,
) -> Result<String, Error> {
    let sender = data.sender.as_ref();
    remote_address(sender, "sender")?;
    let beneficiary = action.beneficiary().unwrap_or(sender).to_owned();
    remote_address(&beneficiary, "beneficiary")?;
    let account = remote_account(channel.as_str(), sender);
    save_route(ctx, &account, channel.as_str(), sender, &beneficiary)?;

    let msg = action.message(&account, received)?;
    let router = ctx
        .router
        .ok_or_else(|| sdk::internal("no message router for a cover memo"))?;
    let response = router.execute(ctx, &msg, &account)?;

    // What the action did not spend of what arrived goes back to the sender.
    let bank = surety_bank::Bank::default();
    let after = bank.balance(ctx, &account, received_denom)?;
    let change = after.saturating_sub(balance_before);
    if change > 0 {
        remit::enqueue(ctx, &account, received_denom, change, remit::Kind::Change)?;
    }
    let result = action.result(&response);
    ctx.emit(
        Event::new("surety_ibc_action")
            .attr("action", action.name())
            .attr("channel", channel)
            .attr("sender", sender)
            .attr("remote_account", account)
            .attr("result", &result)
            .attr("change", change),
    );
    let json = serde_json::json!({ "surety": { action.name(): result } }).to_string();
    Ok(base64::engine::general_purpose::STANDARD.encode(json))
}

fn save_route(
    ctx: &mut Ctx,
    account: &Address,
    channel: &str,
    sender: &str,
    beneficiary: &str,
) -> Result<(), Error> {
    let route = RemoteAccount {
        address: account.to_bech32(),
        channel: channel.to_owned(),
        sender: sender.to_owned(),
        beneficiary: beneficiary.to_owned(),
    };
    ctx.put_msg(STORE, crate::keys::remote_route(&account.0), &route)
}

pub fn route(ctx: &mut Ctx, account: &Address) -> Result<Option<RemoteAccount>, Error> {
    ctx.get_msg(STORE, &crate::keys::remote_route(&account.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memos_parse_with_numbers_as_strings_or_numbers() {
        let a = action(
            r#"{"surety":{"buy_cover":{"product_id":"1","cover":"1000","days":90,"max_premium":"50","beneficiary":"cosmos1x"}}}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            a,
            Action::BuyCover {
                product_id: 1,
                cover: "1000".into(),
                days: 90,
                max_premium: "50".into(),
                beneficiary: Some("cosmos1x".into())
            }
        );
        assert!(action(r#"{"surety":{"deposit":{"pool_id":2}}}"#)
            .unwrap()
            .is_some());
    }

    #[test]
    fn memos_without_a_surety_key_are_left_to_ics20() {
        for memo in [
            "",
            "{}",
            "thanks",
            "[1]",
            r#"{"forward":{"port":"transfer"}}"#,
        ] {
            assert_eq!(action(memo).unwrap(), None, "{memo}");
        }
    }

    #[test]
    fn malformed_memos_are_refused_with_a_reason() {
        for memo in [
            r#"{"surety":{}}"#,
            r#"{"surety":{"deposit":{"pool_id":1}},"forward":{}}"#,
            r#"{"surety":{"steal":{}}}"#,
            r#"{"surety":{"deposit":{"pool_id":"x"}}}"#,
            r#"{"surety":{"deposit":{"pool_id":1,"extra":1}}}"#,
            r#"{"surety":{"buy_cover":{"product_id":1}}}"#,
        ] {
            let e = action(memo).unwrap_err();
            assert_eq!((e.codespace, e.code), ("ibc", 5), "{memo}");
        }
        assert!(action(
            r#"{"surety":{"buy_cover":{"product_id":1,"cover":"-1","days":9,"max_premium":"1"}}}"#
        )
        .is_err());
    }

    #[test]
    fn remote_accounts_depend_on_channel_and_sender() {
        let a = remote_account("channel-0", "cosmos1abc");
        assert_ne!(a, remote_account("channel-1", "cosmos1abc"));
        assert_ne!(a, remote_account("channel-0", "cosmos1abd"));
        assert_eq!(a, remote_account("channel-0", "cosmos1abc"));
        assert!(!surety_framework::accounts::is_module_address(&a));
    }
}
