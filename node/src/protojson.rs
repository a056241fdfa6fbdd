//! Protobuf ↔ JSON as the Cosmos SDK prints it (its grpc-gateway and its CLI), from the
//! descriptors of every type the node serves, by `prost-reflect`. Canonical protobuf JSON, then
//! the SDK's differences: proto field names, every field present (absent messages as `null`, or
//! as their defaults where gogoproto says `nullable = false`), `LegacyDec` strings as decimals,
//! `Any`s under the SDK's `/pkg.Type` URLs.

use prost::Message;
use prost_reflect::{
    DynamicMessage, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage,
    SerializeOptions, Value as Field,
};
use serde_json::Value;
use std::sync::OnceLock;

pub use surety_proto::descriptors;

/// The descriptor of message `name` (`cosmos.tx.v1beta1.Tx`).
pub fn message(name: &str) -> Result<MessageDescriptor, String> {
    descriptors()
        .get_message_by_name(name)
        .ok_or_else(|| format!("no descriptor for {name}"))
}

/// Protobuf bytes of `desc` → the gateway's JSON.
pub fn to_json(desc: &MessageDescriptor, bytes: &[u8]) -> Result<Value, String> {
    let mut message = DynamicMessage::decode(desc.clone(), bytes).map_err(|e| e.to_string())?;
    qualify_type_urls(&mut message);
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false);
    let mut value = message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| e.to_string())?;
    conform(desc, &mut value);
    Ok(value)
}

/// prost-reflect prints an `Any` only under a `type.googleapis.com/` type URL, and the SDK's
/// are `/cosmos.bank.v1beta1.MsgSend`: prefix them (in nested `Any`s too); [`conform`] takes
/// the prefix off again.
fn qualify_type_urls(message: &mut DynamicMessage) {
    let desc = message.descriptor();
    if desc.full_name() == "google.protobuf.Any" {
        let url = message
            .get_field_by_number(1)
            .and_then(|v| v.as_str().map(str::to_owned));
        let Some(name) = url.as_deref().and_then(|u| u.strip_prefix('/')) else {
            return;
        };
        if let Some(inner) = descriptors().get_message_by_name(name) {
            let value = message
                .get_field_by_number(2)
                .and_then(|v| v.as_bytes().cloned());
            if let Ok(mut payload) = DynamicMessage::decode(inner, value.unwrap_or_default()) {
                qualify_type_urls(&mut payload);
                message.set_field_by_number(2, Field::Bytes(payload.encode_to_vec().into()));
            }
        }
        message.set_field_by_number(1, Field::String(format!("{GOOGLE_PREFIX}{name}")));
        return;
    }
    for field in desc.fields() {
        if !message.has_field(&field) {
            continue;
        }
        match message.get_field_mut(&field) {
            Field::Message(m) => qualify_type_urls(m),
            Field::List(items) => items.iter_mut().for_each(|item| {
                if let Field::Message(m) = item {
                    qualify_type_urls(m)
                }
            }),
            Field::Map(entries) => entries.values_mut().for_each(|v| {
                if let Field::Message(m) = v {
                    qualify_type_urls(m)
                }
            }),
            _ => {}
        }
    }
}

const GOOGLE_PREFIX: &str = "type.googleapis.com/";

/// The gogoproto field options the SDK's JSON follows.
#[derive(Default, Clone, Copy, PartialEq, Debug)]
struct Gogo {
    /// `nullable = false`: an absent message is printed as its default, not `null`.
    non_nullable: bool,
    /// `customtype = LegacyDec`: the wire holds the integer of 10⁻¹⁸ units; JSON a decimal.
    legacy_dec: bool,
}

fn gogo(field: &FieldDescriptor) -> Gogo {
    static EXTENSIONS: OnceLock<(Option<ExtensionDescriptor>, Option<ExtensionDescriptor>)> =
        OnceLock::new();
    let (nullable, customtype) = EXTENSIONS.get_or_init(|| {
        let pool = descriptors();
        (
            pool.get_extension_by_name("gogoproto.nullable"),
            pool.get_extension_by_name("gogoproto.customtype"),
        )
    });
    let options = field.options();
    let get = |ext: &Option<ExtensionDescriptor>| {
        ext.as_ref()
            .filter(|e| options.has_extension(e))
            .map(|e| options.get_extension(e).into_owned())
    };
    Gogo {
        non_nullable: get(nullable).is_some_and(|v| v.as_bool() == Some(false)),
        legacy_dec: get(customtype)
            .is_some_and(|v| v.as_str().is_some_and(|t| t.ends_with("LegacyDec"))),
    }
}

/// Turns canonical protobuf JSON of `desc` into what the SDK's gateway prints (see the module
/// comment), recursing into nested messages, lists, maps and `Any`s.
fn conform(desc: &MessageDescriptor, value: &mut Value) {
    if desc.full_name() == "google.protobuf.Any" {
        if let Some(Value::String(url)) = value.get_mut("@type") {
            if let Some(name) = url.strip_prefix(GOOGLE_PREFIX) {
                *url = format!("/{name}");
            }
        }
        let inner = value
            .get("@type")
            .and_then(Value::as_str)
            .and_then(|url| descriptors().get_message_by_name(url.rsplit('/').next()?));
        if let Some(inner) = inner {
            conform(&inner, value);
        }
        return;
    }
    if desc.full_name().starts_with("google.protobuf.") {
        return; // well-known types print as themselves (timestamps, durations, …)
    }
    let Value::Object(map) = value else {
        return;
    };
    for field in desc.fields() {
        let gogo = gogo(&field);
        let entry = map.entry(field.name()).or_insert(Value::Null);
        match field.kind() {
            Kind::Message(m) if field.is_map() => {
                let value_kind = m.map_entry_value_field().kind();
                if let (Kind::Message(v), Value::Object(entries)) = (value_kind, entry) {
                    entries.values_mut().for_each(|e| conform(&v, e));
                }
            }
            Kind::Message(m) => match entry {
                Value::Array(items) => items.iter_mut().for_each(|i| conform(&m, i)),
                Value::Null if gogo.non_nullable => {
                    *entry = to_json(&m, &[]).unwrap_or(Value::Null);
                }
                Value::Null => {}
                other => conform(&m, other),
            },
            // Go prints an empty (nil) byte slice as null.
            Kind::Bytes if !field.is_list() && entry.as_str() == Some("") => *entry = Value::Null,
            Kind::String if gogo.legacy_dec => *entry = legacy_dec(entry.take()),
            _ => {}
        }
    }
}

/// `100000000000000000` → `0.100000000000000000`, as `LegacyDec` prints itself.
fn legacy_dec(value: Value) -> Value {
    match value {
        Value::String(s) => {
            surety_proto::legacy_dec_string(&s).map_or(Value::String(s), Value::from)
        }
        Value::Array(items) => items.into_iter().map(legacy_dec).collect(),
        other => other,
    }
}

/// The SDK's JSON of `desc` (as [`to_json`] prints it, or any protobuf JSON) → protobuf bytes.
pub fn from_json(desc: &MessageDescriptor, value: &Value) -> Result<Vec<u8>, String> {
    let mut value = value.clone();
    unconform(desc, &mut value);
    let message = DynamicMessage::deserialize(desc.clone(), value).map_err(|e| e.to_string())?;
    Ok(message.encode_to_vec())
}

/// Undoes what protobuf JSON cannot read back: `LegacyDec` decimals become their integers of
/// 10⁻¹⁸ units again (in nested messages and `Any`s too).
fn unconform(desc: &MessageDescriptor, value: &mut Value) {
    if desc.full_name() == "google.protobuf.Any" {
        let inner = value
            .get("@type")
            .and_then(Value::as_str)
            .and_then(|url| descriptors().get_message_by_name(url.rsplit('/').next()?));
        if let Some(inner) = inner {
            unconform(&inner, value);
        }
        return;
    }
    let Value::Object(map) = value else {
        return;
    };
    for field in desc.fields() {
        let Some(entry) = map.get_mut(field.name()) else {
            continue;
        };
        match field.kind() {
            Kind::Message(m) if !field.is_map() => match entry {
                Value::Array(items) => items.iter_mut().for_each(|i| unconform(&m, i)),
                other => unconform(&m, other),
            },
            Kind::String if gogo(&field).legacy_dec => *entry = legacy_dec_units(entry.take()),
            _ => {}
        }
    }
}

/// `0.100000000000000000` → `100000000000000000`; anything else is left as it is.
fn legacy_dec_units(value: Value) -> Value {
    match value {
        Value::String(s) => {
            let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
            let (int, fraction) = digits.split_once('.').unwrap_or((digits, ""));
            let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
            if int.is_empty() || !all_digits(int) || !all_digits(fraction) || fraction.len() > 18 {
                return Value::String(s);
            }
            let units = format!("{int}{fraction:0<18}");
            let units = units.trim_start_matches('0');
            let units = if units.is_empty() { "0" } else { units };
            let sign = if units == "0" { "" } else { sign };
            format!("{sign}{units}").into()
        }
        Value::Array(items) => items.into_iter().map(legacy_dec_units).collect(),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::json;
    use surety_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountResponse};
    use surety_proto::cosmos::bank::v1beta1::QueryAllBalancesResponse;
    use surety_proto::cosmos::base::v1beta1::Coin;

    fn desc(name: &str) -> MessageDescriptor {
        message(name).unwrap()
    }

    #[test]
    fn renders_like_the_gateway() {
        let key = surety_proto::cosmos::crypto::secp256k1::PubKey { key: vec![2; 33] };
        let account = BaseAccount {
            address: "surety1xyz".into(),
            pub_key: Some(surety_proto::to_any(&key)),
            account_number: 7,
            sequence: 3,
        };
        let response = QueryAccountResponse {
            account: Some(surety_proto::to_any(&account)),
        };
        let json = to_json(
            &desc("cosmos.auth.v1beta1.QueryAccountResponse"),
            &response.encode_to_vec(),
        )
        .unwrap();
        assert_eq!(
            json,
            json!({"account": {
                "@type": "/cosmos.auth.v1beta1.BaseAccount",
                "address": "surety1xyz",
                "pub_key": {
                    "@type": "/cosmos.crypto.secp256k1.PubKey",
                    "key": base64::engine::general_purpose::STANDARD.encode([2; 33]),
                },
                "account_number": "7",
                "sequence": "3",
            }})
        );

        // Defaults are present: empty lists, null messages and bytes, "0" for 64-bit integers.
        let balances = QueryAllBalancesResponse {
            balances: vec![Coin {
                denom: "uusdc".into(),
                amount: "5".into(),
            }],
            pagination: Some(Default::default()),
        };
        let json = to_json(
            &desc("cosmos.bank.v1beta1.QueryAllBalancesResponse"),
            &balances.encode_to_vec(),
        )
        .unwrap();
        assert_eq!(
            json,
            json!({
                "balances": [{"denom": "uusdc", "amount": "5"}],
                "pagination": {"next_key": null, "total": "0"},
            })
        );
        let empty = to_json(&desc("cosmos.bank.v1beta1.QueryAllBalancesResponse"), &[]).unwrap();
        assert_eq!(empty, json!({"balances": [], "pagination": null}));
    }

    #[test]
    fn legacy_decs_print_as_decimals() {
        for (wire, json) in [
            ("100000000000000000", "0.100000000000000000"),
            (
                "100000000000000000000000000000",
                "100000000000.000000000000000000",
            ),
            ("0", "0.000000000000000000"),
            ("", "0.000000000000000000"),
            ("-5", "-0.000000000000000005"),
            ("0.5", "0.5"),
        ] {
            assert_eq!(legacy_dec(wire.into()), Value::from(json), "{wire}");
        }
        // Validator.commission is non-nullable in the SDK; Validator.unbonding_time too.
        let gogo = |m: &str, n| gogo(&desc(m).get_field(n).unwrap());
        assert!(gogo("cosmos.staking.v1beta1.Validator", 10).non_nullable);
        assert!(gogo("cosmos.staking.v1beta1.CommissionRates", 1).legacy_dec);
        assert!(!gogo("cosmos.bank.v1beta1.QueryAllBalancesResponse", 2).non_nullable);
    }

    #[test]
    fn json_reads_back_into_the_same_bytes() {
        use surety_proto::cosmos::staking::v1beta1::{
            CommissionRates, Description, MsgCreateValidator,
        };
        let msg = MsgCreateValidator {
            description: Some(Description {
                moniker: "v".into(),
                ..Default::default()
            }),
            commission: Some(CommissionRates {
                rate: "100000000000000000".into(),
                max_rate: "200000000000000000".into(),
                max_change_rate: "10000000000000000".into(),
            }),
            min_self_delegation: "1".into(),
            validator_address: "suretyvaloper1x".into(),
            value: Some(Coin {
                denom: "usure".into(),
                amount: "5".into(),
            }),
            ..Default::default()
        };
        let tx = surety_proto::cosmos::tx::v1beta1::TxBody {
            messages: vec![surety_proto::to_any(&msg)],
            memo: "m".into(),
            ..Default::default()
        };
        let body = desc("cosmos.tx.v1beta1.TxBody");
        let json = to_json(&body, &tx.encode_to_vec()).unwrap();
        assert_eq!(
            json["messages"][0]["commission"]["rate"],
            "0.100000000000000000"
        );
        assert_eq!(from_json(&body, &json).unwrap(), tx.encode_to_vec());
        for (decimal, units) in [
            ("0.5", "500000000000000000"),
            ("-0.000000000000000005", "-5"),
            ("0", "0"),
            ("x", "x"),
        ] {
            assert_eq!(
                legacy_dec_units(decimal.into()),
                Value::from(units),
                "{decimal}"
            );
        }
    }
}
