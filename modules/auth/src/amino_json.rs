//! SIGN_MODE_LEGACY_AMINO_JSON: the bytes a Ledger, Keplr's Amino signer, cosmjs's
//! `signAmino` and the SDK's multisig members sign — a `StdSignDoc` as compact JSON with sorted
//! keys, each message as `{"type": <amino name>, "value": …}`.
//!
//! The rules are the Cosmos SDK's (`x/tx/signing/aminojson`), read from each message's
//! descriptor and its `amino` options: fields under their proto names (or `amino.field_name`),
//! empty fields left out unless `amino.dont_omitempty`, 64-bit integers as strings, bytes as
//! base64, keys as their bare base64, objects' keys sorted. A message without an `amino.name`
//! (Surety's own) is named by its type URL (`/surety.policy.v1.MsgBuyCover`), so two messages
//! with the same fields never share sign bytes. Matched byte for byte against `simd` (Cosmos SDK
//! 0.50, `x/tx` 0.13) by the CLI's end-to-end test.

use base64::Engine as _;
use prost_reflect::{
    DynamicMessage, ExtensionDescriptor, FieldDescriptor, MessageDescriptor, ReflectMessage,
    Value as Field,
};
use serde_json::{Map, Value};
use std::sync::OnceLock;
use surety_framework::{sdk, Error};
use surety_proto::cosmos::tx::v1beta1::{Fee, TxBody};
use surety_proto::Any;

/// The sign bytes of `body` and `fee` for one signer.
pub fn amino_json_sign_bytes(
    body: &TxBody,
    fee: &Fee,
    chain_id: &str,
    account_number: u64,
    sequence: u64,
) -> Result<Vec<u8>, Error> {
    let coins: Vec<Value> = fee
        .amount
        .iter()
        .map(|c| {
            let mut coin = Map::new();
            coin.insert("denom".into(), c.denom.clone().into());
            coin.insert("amount".into(), int_string(&c.amount).into());
            Value::Object(coin)
        })
        .collect();
    let mut fee_json = Map::new();
    fee_json.insert("amount".into(), Value::Array(coins));
    fee_json.insert("gas".into(), fee.gas_limit.to_string().into());
    if !fee.payer.is_empty() {
        fee_json.insert("payer".into(), fee.payer.clone().into());
    }
    if !fee.granter.is_empty() {
        fee_json.insert("granter".into(), fee.granter.clone().into());
    }
    let mut doc = Map::new();
    doc.insert("account_number".into(), account_number.to_string().into());
    doc.insert("chain_id".into(), chain_id.into());
    doc.insert("fee".into(), Value::Object(fee_json));
    doc.insert("memo".into(), body.memo.clone().into());
    doc.insert(
        "msgs".into(),
        Value::Array(body.messages.iter().map(any).collect::<Result<_, _>>()?),
    );
    doc.insert("sequence".into(), sequence.to_string().into());
    if body.timeout_height != 0 {
        doc.insert(
            "timeout_height".into(),
            body.timeout_height.to_string().into(),
        );
    }
    let mut out = String::new();
    write_sorted(&Value::Object(doc), &mut out);
    Ok(out.into_bytes())
}

fn unsupported(what: impl std::fmt::Display) -> Error {
    sdk::invalid_request(format!("no amino JSON sign mode for {what}"))
}

/// The `amino` options this encoder reads.
struct Options {
    name: Option<ExtensionDescriptor>,
    message_encoding: Option<ExtensionDescriptor>,
    encoding: Option<ExtensionDescriptor>,
    field_name: Option<ExtensionDescriptor>,
    dont_omitempty: Option<ExtensionDescriptor>,
    scalar: Option<ExtensionDescriptor>,
}

fn options() -> &'static Options {
    static OPTIONS: OnceLock<Options> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let pool = surety_proto::descriptors();
        Options {
            name: pool.get_extension_by_name("amino.name"),
            message_encoding: pool.get_extension_by_name("amino.message_encoding"),
            encoding: pool.get_extension_by_name("amino.encoding"),
            field_name: pool.get_extension_by_name("amino.field_name"),
            dont_omitempty: pool.get_extension_by_name("amino.dont_omitempty"),
            scalar: pool.get_extension_by_name("cosmos_proto.scalar"),
        }
    })
}

fn option(options: &DynamicMessage, ext: &Option<ExtensionDescriptor>) -> Option<Field> {
    ext.as_ref()
        .filter(|e| options.has_extension(e))
        .map(|e| options.get_extension(e).into_owned())
}

fn string_option(options: &DynamicMessage, ext: &Option<ExtensionDescriptor>) -> Option<String> {
    option(options, ext).and_then(|v| v.as_str().map(str::to_owned))
}

fn amino_name(desc: &MessageDescriptor) -> String {
    string_option(&desc.options(), &options().name)
        .unwrap_or_else(|| format!("/{}", desc.full_name()))
}

/// An `Any`: `{"type": <amino name>, "value": <its message>}`.
fn any(any: &Any) -> Result<Value, Error> {
    let name = any.type_url.strip_prefix('/').unwrap_or(&any.type_url);
    let desc = surety_proto::descriptors()
        .get_message_by_name(name)
        .ok_or_else(|| unsupported(format!("unknown type {}", any.type_url)))?;
    let msg = DynamicMessage::decode(desc.clone(), any.value.as_slice())
        .map_err(|e| sdk::tx_decode(format!("{}: {e}", any.type_url)))?;
    let mut wrapped = Map::new();
    wrapped.insert("type".into(), amino_name(&desc).into());
    wrapped.insert("value".into(), message(&msg)?);
    Ok(Value::Object(wrapped))
}

fn message(msg: &DynamicMessage) -> Result<Value, Error> {
    let desc = msg.descriptor();
    match desc.full_name() {
        "google.protobuf.Any" => {
            return any(&Any {
                type_url: field(msg, "type_url")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                value: field(msg, "value")
                    .and_then(|v| v.as_bytes().map(|b| b.to_vec()))
                    .unwrap_or_default(),
            });
        }
        "google.protobuf.Timestamp" => return timestamp(msg),
        "google.protobuf.Duration" => {
            let (seconds, nanos) = seconds_nanos(msg);
            let total = seconds
                .checked_mul(1_000_000_000)
                .and_then(|s| s.checked_add(nanos))
                .ok_or_else(|| unsupported("a duration that overflows nanoseconds"))?;
            return Ok(total.to_string().into());
        }
        _ => {}
    }
    match string_option(&desc.options(), &options().message_encoding).as_deref() {
        None => {}
        // Public keys: the key's bytes alone.
        Some("key_field") => {
            return Ok(match field(msg, "key").as_ref().and_then(Field::as_bytes) {
                Some(b) if !b.is_empty() => base64_string(b),
                _ => Value::Null,
            });
        }
        Some("threshold_string") => {
            let keys = field(msg, "public_keys");
            let keys = match keys.as_ref().and_then(Field::as_list) {
                Some(items) => items
                    .iter()
                    .map(|k| match k.as_message() {
                        Some(m) => message(m),
                        None => Err(unsupported("a malformed multisig key")),
                    })
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            };
            let threshold = field(msg, "threshold")
                .and_then(|v| v.as_u32())
                .unwrap_or_default();
            let mut out = Map::new();
            out.insert("pubkeys".into(), Value::Array(keys));
            out.insert("threshold".into(), threshold.to_string().into());
            return Ok(Value::Object(out));
        }
        Some(other) => return Err(unsupported(format!("message encoding {other}"))),
    }
    let mut out = Map::new();
    for field in desc.fields() {
        if field.containing_oneof().is_some() {
            if msg.has_field(&field) {
                return Err(unsupported(format!("oneof field {}", field.full_name())));
            }
            continue;
        }
        let opts = field.options();
        let keep_empty =
            option(&opts, &options().dont_omitempty).is_some_and(|v| v.as_bool() == Some(true));
        if !msg.has_field(&field) && !keep_empty {
            continue;
        }
        let name =
            string_option(&opts, &options().field_name).unwrap_or_else(|| field.name().into());
        let value = msg.get_field(&field);
        let encoded = match (
            string_option(&opts, &options().encoding).as_deref(),
            string_option(&opts, &options().scalar).as_deref(),
        ) {
            (Some("legacy_coins"), _) => value_of(&field, &value)?,
            (Some("cosmos_dec_bytes"), _) | (_, Some("cosmos.Dec")) => dec(&value)?,
            (_, Some("cosmos.Int")) => int(&value),
            (Some(other), _) => return Err(unsupported(format!("field encoding {other}"))),
            _ => value_of(&field, &value)?,
        };
        out.insert(name, encoded);
    }
    Ok(Value::Object(out))
}

fn value_of(field: &FieldDescriptor, value: &Field) -> Result<Value, Error> {
    if field.is_map() {
        return Err(unsupported(format!("map field {}", field.full_name())));
    }
    match value {
        // An empty list a message keeps (`dont_omitempty`) prints as `[]`, as for the SDK's
        // generated types.
        Field::List(items) => items
            .iter()
            .map(|item| scalar(field, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        single => scalar(field, single),
    }
}

fn scalar(field: &FieldDescriptor, value: &Field) -> Result<Value, Error> {
    Ok(match value {
        Field::Bool(b) => (*b).into(),
        Field::I32(n) => (*n).into(),
        Field::U32(n) => (*n).into(),
        Field::I64(n) => n.to_string().into(),
        Field::U64(n) => n.to_string().into(),
        Field::String(s) => s.clone().into(),
        Field::Bytes(b) if b.is_empty() => Value::Null,
        Field::Bytes(b) => base64_string(b),
        Field::EnumNumber(n) => (*n).into(),
        Field::Message(m) => message(m)?,
        Field::F32(_) | Field::F64(_) => {
            return Err(unsupported(format!(
                "floating-point field {}",
                field.full_name()
            )))
        }
        Field::List(_) | Field::Map(_) => {
            return Err(unsupported(format!("nested list {}", field.full_name())))
        }
    })
}

fn base64_string(bytes: &[u8]) -> Value {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .into()
}

/// `cosmos.Int`: an empty string is zero.
fn int_string(s: &str) -> String {
    if s.is_empty() {
        "0".into()
    } else {
        s.into()
    }
}

fn int(value: &Field) -> Value {
    match value {
        Field::List(items) => items.iter().map(int).collect(),
        other => int_string(other.as_str().unwrap_or_default()).into(),
    }
}

/// `cosmos.Dec`: a string as it is (`x/tx` 0.13 prints `LegacyDec` strings unconverted), bytes
/// (the integer of 10⁻¹⁸ units in ASCII) as a decimal; empty is `"0"`.
fn dec(value: &Field) -> Result<Value, Error> {
    match value {
        Field::List(items) => items.iter().map(dec).collect(),
        Field::Bytes(b) if !b.is_empty() => std::str::from_utf8(b)
            .ok()
            .and_then(surety_proto::legacy_dec_string)
            .map(Value::from)
            .ok_or_else(|| sdk::invalid_request("a decimal field is not a decimal")),
        other => Ok(int_string(other.as_str().unwrap_or_default()).into()),
    }
}

fn field(msg: &DynamicMessage, name: &str) -> Option<Field> {
    msg.get_field_by_name(name)
        .map(std::borrow::Cow::into_owned)
}

fn seconds_nanos(msg: &DynamicMessage) -> (i64, i64) {
    let get = |name: &str| {
        field(msg, name).map_or(0, |v| v.as_i64().or(v.as_i32().map(i64::from)).unwrap_or(0))
    };
    (get("seconds"), get("nanos"))
}

/// RFC 3339 in UTC, the fraction without trailing zeros (Go's `time.RFC3339Nano`).
// The arithmetic is bounded: years 1 to 9999 only, checked first.
#[allow(clippy::arithmetic_side_effects)]
fn timestamp(msg: &DynamicMessage) -> Result<Value, Error> {
    let (seconds, nanos) = seconds_nanos(msg);
    if !(0..1_000_000_000).contains(&nanos)
        || !(-62_135_596_800..253_402_300_800).contains(&seconds)
    {
        return Err(unsupported("a timestamp out of range"));
    }
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Days since 1970-01-01 → civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let fraction = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_owned()
    };
    Ok(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
    .into())
}

/// Compact JSON with every object's keys in byte order, strings escaped as Go's
/// `encoding/json` escapes them (`<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX`).
fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_sorted(&map[key.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, out: &mut String) {
    let escaped = Value::String(s.to_owned()).to_string();
    for c in escaped.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_proto::cosmos::bank::v1beta1::MsgSend;
    use surety_proto::cosmos::base::v1beta1::Coin;
    use surety_proto::to_any;

    fn coin(amount: &str, denom: &str) -> Coin {
        Coin {
            denom: denom.into(),
            amount: amount.into(),
        }
    }

    #[test]
    fn a_bank_send_signs_as_the_sdk_signs_it() {
        let body = TxBody {
            messages: vec![to_any(&MsgSend {
                from_address: "cosmos1a".into(),
                to_address: "cosmos1b".into(),
                amount: vec![coin("5", "stake")],
            })],
            memo: "<hi> & bye".into(),
            ..Default::default()
        };
        let fee = Fee {
            amount: vec![coin("500", "stake")],
            gas_limit: 200_000,
            ..Default::default()
        };
        let bytes = amino_json_sign_bytes(&body, &fee, "c-1", 7, 3).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"account_number":"7","chain_id":"c-1","fee":{"amount":[{"amount":"500","denom":"stake"}],"gas":"200000"},"memo":"\u003chi\u003e \u0026 bye","msgs":[{"type":"cosmos-sdk/MsgSend","value":{"amount":[{"amount":"5","denom":"stake"}],"from_address":"cosmos1a","to_address":"cosmos1b"}}],"sequence":"3"}"#
        );
    }

    #[test]
    fn empty_fees_and_surety_messages_keep_their_names() {
        let buy = surety_proto::surety::policy::v1::MsgBuyCover {
            buyer: "surety1x".into(),
            product_id: 2,
            ..Default::default()
        };
        let body = TxBody {
            messages: vec![to_any(&buy)],
            timeout_height: 9,
            ..Default::default()
        };
        let text =
            String::from_utf8(amino_json_sign_bytes(&body, &Fee::default(), "c", 0, 0).unwrap())
                .unwrap();
        assert!(text.contains(r#""fee":{"amount":[],"gas":"0"}"#), "{text}");
        assert!(
            text.contains(r#"{"type":"/surety.policy.v1.MsgBuyCover","value":{"buyer":"surety1x","product_id":"2"}}"#),
            "{text}"
        );
        assert!(
            text.ends_with(r#""sequence":"0","timeout_height":"9"}"#),
            "{text}"
        );
    }

    #[test]
    fn decimals_and_timestamps_print_as_go_prints_them() {
        let vote = surety_proto::cosmos::gov::v1::MsgVoteWeighted {
            proposal_id: 1,
            voter: "v".into(),
            options: vec![surety_proto::cosmos::gov::v1::WeightedVoteOption {
                option: 1,
                weight: "0.500000000000000000".into(),
            }],
            metadata: String::new(),
        };
        let v = any(&to_any(&vote)).unwrap();
        assert_eq!(v["type"], "cosmos-sdk/v1/MsgVoteWeighted");
        assert_eq!(v["value"]["options"][0]["weight"], "0.500000000000000000");
        assert_eq!(v["value"]["options"][0]["option"], 1);
        let ts = |seconds: i64, nanos: i32| {
            let desc = surety_proto::descriptors()
                .get_message_by_name("google.protobuf.Timestamp")
                .unwrap();
            let mut m = DynamicMessage::new(desc);
            m.set_field_by_name("seconds", Field::I64(seconds));
            m.set_field_by_name("nanos", Field::I32(nanos));
            timestamp(&m).unwrap()
        };
        assert_eq!(ts(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(ts(1_795_788_160, 120_000_000), "2026-11-27T14:02:40.12Z");
        assert_eq!(ts(951_782_400, 0), "2000-02-29T00:00:00Z");
    }
}
