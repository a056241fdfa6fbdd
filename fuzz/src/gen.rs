//! Messages of every type the chain accepts, built from their protobuf descriptors with values
//! chosen to hurt: amounts and decimals at 0, one unit and around the type limits, empty and
//! oversized strings, unknown and duplicate ids, module addresses as recipients, nested `Any`s.
//! Field names steer the choice (an `amount` gets amounts, an `authority` addresses), so most
//! messages get past decoding into the checks that matter.

use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value,
};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use surety_proto::Any;

/// The values the generator draws from, besides random ones.
pub struct Dictionary {
    /// Addresses worth sending to or naming: the fuzz accounts, module accounts, the gov
    /// authority, validators, and malformed ones.
    pub addresses: Vec<String>,
    pub denoms: Vec<String>,
    pub amounts: Vec<String>,
    pub decimals: Vec<String>,
    pub texts: Vec<String>,
    pub ids: Vec<u64>,
}

impl Dictionary {
    pub fn new(mut addresses: Vec<String>) -> Dictionary {
        let max = surety_framework::validate::MAX_AMOUNT;
        for name in surety_framework::accounts::ALL {
            addresses.push(surety_framework::Address::module(name).to_bech32());
        }
        addresses.extend([
            String::new(),
            "surety1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq".into(),
            "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu".into(),
            "x".repeat(300),
        ]);
        Dictionary {
            addresses,
            denoms: [
                "usure",
                "uusdc",
                "",
                "ibc/ABC",
                "u",
                "UPPER",
                &"d".repeat(200),
            ]
            .map(String::from)
            .to_vec(),
            amounts: vec![
                "0".into(),
                "1".into(),
                "2".into(),
                "1000".into(),
                "1000000".into(),
                "100000000".into(),
                "10000000000".into(),
                max.to_string(),
                (max + 1).to_string(),
                u64::MAX.to_string(),
                u128::MAX.to_string(),
                "340282366920938463463374607431768211456".into(),
                "-1".into(),
                "1.5".into(),
                String::new(),
                "1e9".into(),
            ],
            decimals: [
                "0",
                "1",
                "0.5",
                "0.25",
                "0.000000000000000001",
                "0.999999999999999999",
                "1.000000000000000001",
                "2",
                "0.334",
                "100",
                "340282366920938463463.374607431768211455",
                "340282366920.938463463374607431",
                "-0.1",
                "",
                "0.5000000000000000000001",
                "500000000000000000",
            ]
            .map(String::from)
            .to_vec(),
            texts: vec![
                String::new(),
                " ".into(),
                "aave".into(),
                "USDC/USD".into(),
                "ETH/USD".into(),
                "compound".into(),
                "x".repeat(129),
                "y".repeat(10_241),
                "\u{0}\u{ffff}é".into(),
            ],
            ids: vec![
                0,
                1,
                2,
                3,
                4,
                5,
                7,
                100,
                u32::MAX as u64,
                i64::MAX as u64,
                u64::MAX,
            ],
        }
    }
}

pub struct Generator {
    pub pool: DescriptorPool,
    /// Type URLs the chain routes, each with its descriptor.
    pub types: Vec<(String, MessageDescriptor)>,
    pub dict: Dictionary,
    /// Address of the account signing the message being built: names in signer-like fields
    /// are mostly this one, so messages get past the signature checks.
    pub signer: String,
}

const ADDRESS_HINTS: &[&str] = &[
    "address",
    "owner",
    "provider",
    "sender",
    "recipient",
    "voter",
    "proposer",
    "depositor",
    "authority",
    "claimant",
    "reporter",
    "beneficiary",
    "signer",
    "delegator",
    "validator",
    "from",
    "to",
    "assessor",
    "addr",
    "payer",
    "granter",
    "grantee",
];
const AMOUNT_HINTS: &[&str] = &[
    "amount",
    "cover",
    "premium",
    "shares",
    "loss",
    "stake",
    "bond",
    "deposit",
    "balance",
    "limit",
    "retention",
    "min_self",
    "capital",
    "fee",
    "value",
    "tokens",
    "max_",
];
const DECIMAL_HINTS: &[&str] = &[
    "rate",
    "weight",
    "threshold",
    "quorum",
    "fraction",
    "price",
    "leverage",
    "ratio",
    "tax",
    "veto",
    "slope",
    "kink",
    "utilisation",
    "utilization",
    "min_signed",
];

fn hinted(name: &str, hints: &[&str]) -> bool {
    hints.iter().any(|h| name.contains(h))
}

impl Generator {
    pub fn new(type_urls: &[&str], dict: Dictionary) -> Generator {
        // The set gRPC reflection serves: Surety's, Cosmos's and IBC's messages.
        let pool = DescriptorPool::decode(surety_proto::reflection_descriptor_set())
            .expect("the node's descriptor set decodes");
        let types = type_urls
            .iter()
            .filter_map(|url| {
                let desc = pool.get_message_by_name(url.trim_start_matches('/'))?;
                Some((url.to_string(), desc))
            })
            .collect();
        Generator {
            pool,
            types,
            dict,
            signer: String::new(),
        }
    }

    /// A message of a random routed type.
    pub fn any(&self, rng: &mut ChaCha8Rng) -> Any {
        let (url, desc) = self.types.choose(rng).expect("types").clone();
        let msg = self.message(rng, &desc, 0);
        Any {
            type_url: url,
            value: prost::Message::encode_to_vec(&msg),
        }
    }

    fn message(
        &self,
        rng: &mut ChaCha8Rng,
        desc: &MessageDescriptor,
        depth: u32,
    ) -> DynamicMessage {
        let mut msg = DynamicMessage::new(desc.clone());
        match desc.full_name() {
            "google.protobuf.Any" => {
                if depth < 2 && !self.types.is_empty() {
                    let (url, inner) = self.types.choose(rng).expect("types").clone();
                    let body = self.message(rng, &inner, depth + 1);
                    msg.set_field_by_name("type_url", Value::String(url));
                    msg.set_field_by_name(
                        "value",
                        Value::Bytes(prost::Message::encode_to_vec(&body).into()),
                    );
                }
                return msg;
            }
            "google.protobuf.Timestamp" | "google.protobuf.Duration" => {
                let seconds: i64 = *[0, 1, 60, 86_400, 1_700_000_000, 1_900_000_000, -1, i64::MAX]
                    .choose(rng)
                    .expect("nonempty");
                msg.set_field_by_name("seconds", Value::I64(seconds));
                return msg;
            }
            _ => {}
        }
        if depth > 4 {
            return msg;
        }
        for field in desc.fields() {
            if rng.gen_bool(0.12) {
                continue; // left unset
            }
            if field.is_map() {
                continue;
            }
            if field.is_list() {
                let n = if rng.gen_bool(0.03) {
                    70
                } else {
                    rng.gen_range(0..4)
                };
                let mut items = Vec::with_capacity(n);
                let mut first: Option<Value> = None;
                for i in 0..n {
                    // Duplicates are a case of their own.
                    let v = match &first {
                        Some(f) if i > 0 && rng.gen_bool(0.2) => f.clone(),
                        _ => self.value(rng, &field, depth),
                    };
                    first.get_or_insert_with(|| v.clone());
                    items.push(v);
                }
                msg.set_field(&field, Value::List(items));
            } else {
                let v = self.value(rng, &field, depth);
                msg.set_field(&field, v);
            }
        }
        msg
    }

    fn value(&self, rng: &mut ChaCha8Rng, field: &FieldDescriptor, depth: u32) -> Value {
        let name = field.name().to_ascii_lowercase();
        let d = &self.dict;
        match field.kind() {
            Kind::String => Value::String(if name.contains("denom") {
                d.denoms.choose(rng).cloned().unwrap_or_default()
            } else if hinted(&name, ADDRESS_HINTS) && !name.contains("rate") {
                if name.contains("valoper") || (name.contains("validator") && rng.gen_bool(0.5)) {
                    self.valoper(rng)
                } else if rng.gen_bool(0.55) {
                    self.signer.clone()
                } else {
                    d.addresses.choose(rng).cloned().unwrap_or_default()
                }
            } else if hinted(&name, DECIMAL_HINTS) {
                d.decimals.choose(rng).cloned().unwrap_or_default()
            } else if hinted(&name, AMOUNT_HINTS) || rng.gen_bool(0.15) {
                d.amounts.choose(rng).cloned().unwrap_or_default()
            } else {
                d.texts.choose(rng).cloned().unwrap_or_default()
            }),
            Kind::Bool => Value::Bool(rng.gen()),
            Kind::Bytes => {
                let len = *[0usize, 1, 20, 32, 33, 64, 65]
                    .choose(rng)
                    .expect("nonempty");
                Value::Bytes((0..len).map(|_| rng.gen::<u8>()).collect::<Vec<_>>().into())
            }
            Kind::Uint64 | Kind::Fixed64 => Value::U64(self.int(rng)),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                let v = self.int(rng) as i64;
                Value::I64(if rng.gen_bool(0.1) {
                    v.wrapping_neg()
                } else {
                    v
                })
            }
            Kind::Uint32 | Kind::Fixed32 => Value::U32(self.int(rng) as u32),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(self.int(rng) as i32),
            Kind::Double => Value::F64(rng.gen()),
            Kind::Float => Value::F32(rng.gen()),
            Kind::Enum(e) => {
                let values: Vec<i32> = e.values().map(|v| v.number()).collect();
                Value::EnumNumber(if rng.gen_bool(0.9) && !values.is_empty() {
                    *values.choose(rng).expect("nonempty")
                } else {
                    rng.gen_range(-2..100)
                })
            }
            Kind::Message(m) => Value::Message(self.message(rng, &m, depth + 1)),
        }
    }

    fn int(&self, rng: &mut ChaCha8Rng) -> u64 {
        if rng.gen_bool(0.7) {
            *self.dict.ids.choose(rng).expect("nonempty")
        } else {
            rng.gen_range(0..400)
        }
    }

    fn valoper(&self, rng: &mut ChaCha8Rng) -> String {
        let pick = if rng.gen_bool(0.6) {
            self.signer.clone()
        } else {
            self.dict.addresses.choose(rng).cloned().unwrap_or_default()
        };
        surety_framework::Address::from_bech32(&pick)
            .map(|a| a.to_bech32_with(surety_framework::VALIDATOR_PREFIX))
            .unwrap_or(pick)
    }
}

/// Well-formed messages to start from, in proto3 JSON: `{S}` is the signer, `{O}` another
/// fuzz account, `{V}` the validator's operator address, `{G}` the gov authority. A seeded
/// message gets one field replaced by an extreme value half the time, so the fuzzer spends its
/// effort past the checks that random messages rarely pass.
const SEEDS: &[&str] = &[
    r#"{"@type":"/cosmos.bank.v1beta1.MsgSend","from_address":"{S}","to_address":"{O}","amount":[{"denom":"usure","amount":"1000"}]}"#,
    r#"{"@type":"/cosmos.bank.v1beta1.MsgMultiSend","inputs":[{"address":"{S}","coins":[{"denom":"uusdc","amount":"2"}]}],"outputs":[{"address":"{O}","coins":[{"denom":"uusdc","amount":"1"}]},{"address":"{S}","coins":[{"denom":"uusdc","amount":"1"}]}]}"#,
    r#"{"@type":"/cosmos.staking.v1beta1.MsgDelegate","delegator_address":"{S}","validator_address":"{V}","amount":{"denom":"usure","amount":"1000000"}}"#,
    r#"{"@type":"/cosmos.staking.v1beta1.MsgUndelegate","delegator_address":"{S}","validator_address":"{V}","amount":{"denom":"usure","amount":"1000"}}"#,
    r#"{"@type":"/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward","delegator_address":"{S}","validator_address":"{V}"}"#,
    r#"{"@type":"/surety.pool.v1.MsgDeposit","provider":"{S}","pool_id":"1","amount":"100000000000"}"#,
    r#"{"@type":"/surety.pool.v1.MsgDeposit","provider":"{S}","pool_id":"2","amount":"50000000000"}"#,
    r#"{"@type":"/surety.pool.v1.MsgRequestWithdraw","provider":"{S}","pool_id":"1","shares":"1000000"}"#,
    r#"{"@type":"/surety.pool.v1.MsgCompleteWithdraw","provider":"{S}","pool_id":"1"}"#,
    r#"{"@type":"/surety.policy.v1.MsgBuyCover","buyer":"{S}","product_id":"1","cover":"10000000","term_days":30,"max_premium":"100000000000"}"#,
    r#"{"@type":"/surety.policy.v1.MsgBuyCover","buyer":"{S}","product_id":"2","cover":"50000000","term_days":90,"max_premium":"100000000000"}"#,
    r#"{"@type":"/surety.policy.v1.MsgBuyCover","buyer":"{S}","product_id":"3","cover":"1000000","term_days":28,"max_premium":"100000000000"}"#,
    r#"{"@type":"/surety.policy.v1.MsgBuyCover","buyer":"{S}","product_id":"5","cover":"1000000","term_days":30,"max_premium":"100000000000","validator":"{V}"}"#,
    r#"{"@type":"/surety.pool.v1.MsgDeposit","provider":"{S}","pool_id":"3","amount":"10000000000"}"#,
    r#"{"@type":"/surety.claims.v1.MsgRecordRecovery","sender":"{S}","incident":"incident:1","amount":{"denom":"uusdc","amount":"1000000"}}"#,
    r#"{"@type":"/surety.policy.v1.MsgTransferPolicy","owner":"{S}","policy_id":"1","recipient":"{O}"}"#,
    r#"{"@type":"/surety.claims.v1.MsgStakeAssessor","assessor":"{S}","amount":"1000000"}"#,
    r#"{"@type":"/surety.claims.v1.MsgUnstakeAssessor","assessor":"{S}","amount":"1000"}"#,
    r#"{"@type":"/surety.claims.v1.MsgFileClaim","claimant":"{S}","policy_id":"1","loss":"1000000","evidence":"tx 0xabc"}"#,
    r#"{"@type":"/surety.claims.v1.MsgVoteClaim","assessor":"{S}","claim_id":"1","approve":true}"#,
    r#"{"@type":"/surety.claims.v1.MsgAppealClaim","claimant":"{S}","claim_id":"1"}"#,
    r#"{"@type":"/surety.oracle.v1.MsgReportIncident","reporter":"{S}","protocol":"aave-v3","time":"1700000000","description":"drained","evidence":"0x"}"#,
    r#"{"@type":"/cosmos.gov.v1.MsgSubmitProposal","proposer":"{S}","messages":[{"@type":"/surety.policy.v1.MsgSetProductPaused","authority":"{G}","product_id":"1","paused":true}],"initial_deposit":[{"denom":"usure","amount":"10000000"}],"title":"pause","summary":"s"}"#,
    r#"{"@type":"/cosmos.gov.v1.MsgSubmitProposal","proposer":"{S}","messages":[{"@type":"/cosmos.bank.v1beta1.MsgUpdateParams","authority":"{G}","params":{"default_send_enabled":true}}],"initial_deposit":[{"denom":"usure","amount":"10000000"}],"title":"params","summary":"s","expedited":true}"#,
    r#"{"@type":"/cosmos.gov.v1.MsgDeposit","proposal_id":"1","depositor":"{S}","amount":[{"denom":"usure","amount":"1000000"}]}"#,
    r#"{"@type":"/cosmos.gov.v1.MsgVote","proposal_id":"1","voter":"{S}","option":"VOTE_OPTION_YES"}"#,
    r#"{"@type":"/cosmos.gov.v1.MsgVoteWeighted","proposal_id":"2","voter":"{S}","options":[{"option":"VOTE_OPTION_YES","weight":"0.7"},{"option":"VOTE_OPTION_NO","weight":"0.3"}]}"#,
];

impl Generator {
    /// A seed message, with one field replaced by a generated value half the time.
    pub fn seeded(&self, rng: &mut ChaCha8Rng, other: &str, validator: &str) -> Option<Any> {
        let template = SEEDS.choose(rng)?;
        let gov = surety_framework::gov_authority().to_bech32();
        let json = template
            .replace("{S}", &self.signer)
            .replace("{O}", other)
            .replace("{V}", validator)
            .replace("{G}", &gov);
        let mut value: serde_json::Value = serde_json::from_str(&json).ok()?;
        let url = value["@type"].as_str()?.to_string();
        value.as_object_mut()?.remove("@type");
        let desc = self.pool.get_message_by_name(url.trim_start_matches('/'))?;
        let mut msg = DynamicMessage::deserialize(desc.clone(), value).ok()?;
        if rng.gen_bool(0.5) {
            let fields: Vec<FieldDescriptor> = desc.fields().collect();
            let field = fields.choose(rng)?;
            if !field.is_list() && !field.is_map() {
                let v = self.value(rng, field, 1);
                msg.set_field(field, v);
            }
        }
        Some(Any {
            type_url: url,
            value: prost::Message::encode_to_vec(&msg),
        })
    }
}
