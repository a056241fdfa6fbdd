//! The Cosmos REST (LCD) gateway: the Cosmos SDK grpc-gateway routes that wallets such as Keplr
//! use. A GET becomes the query method its route names, answered by `App::query_method` exactly
//! as the gRPC server answers it. Broadcasts and transaction lookups go to CometBFT's RPC.
//!
//! Requests and responses are translated with the protobuf descriptors that the gRPC server
//! also offers through reflection, so no response is mapped by hand. The JSON matches the SDK's
//! gateway: proto field names, every field present (defaults included), 64-bit integers as
//! strings, bytes as base64, enums by name, `Any` expanded with `@type`. Errors use the gateway's
//! shape: `{"code": <gRPC code>, "message": "rpc error: code = … desc = …", "details": []}`,
//! with the HTTP status grpc-gateway maps that code to.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;
use surety_app::App;
use surety_framework::GrpcCode;
use surety_proto::cosmos::base::abci::v1beta1::TxResponse;
use surety_proto::cosmos::tx::v1beta1::{
    BroadcastMode, BroadcastTxRequest, BroadcastTxResponse, GetTxResponse, SimulateRequest, Tx,
};
use tendermint_rpc::{client::CompatMode, Client as _, HttpClient};

use crate::grpc::HEIGHT_HEADER;

/// GET routes and the query method each one calls. Path parameters and query parameters
/// (`pagination.limit=10`) fill the request's fields of the same (proto) name.
#[rustfmt::skip]
const ROUTES: &[(&str, &str)] = &[
    ("/cosmos/auth/v1beta1/accounts", "/cosmos.auth.v1beta1.Query/Accounts"),
    ("/cosmos/auth/v1beta1/accounts/{address}", "/cosmos.auth.v1beta1.Query/Account"),
    ("/cosmos/auth/v1beta1/module_accounts/{name}", "/cosmos.auth.v1beta1.Query/ModuleAccountByName"),
    ("/cosmos/auth/v1beta1/params", "/cosmos.auth.v1beta1.Query/Params"),
    ("/cosmos/bank/v1beta1/balances/{address}", "/cosmos.bank.v1beta1.Query/AllBalances"),
    ("/cosmos/bank/v1beta1/balances/{address}/by_denom", "/cosmos.bank.v1beta1.Query/Balance"),
    ("/cosmos/bank/v1beta1/spendable_balances/{address}", "/cosmos.bank.v1beta1.Query/SpendableBalances"),
    ("/cosmos/bank/v1beta1/supply", "/cosmos.bank.v1beta1.Query/TotalSupply"),
    ("/cosmos/bank/v1beta1/supply/by_denom", "/cosmos.bank.v1beta1.Query/SupplyOf"),
    ("/cosmos/bank/v1beta1/params", "/cosmos.bank.v1beta1.Query/Params"),
    ("/cosmos/staking/v1beta1/validators", "/cosmos.staking.v1beta1.Query/Validators"),
    ("/cosmos/staking/v1beta1/validators/{validator_addr}", "/cosmos.staking.v1beta1.Query/Validator"),
    ("/cosmos/staking/v1beta1/params", "/cosmos.staking.v1beta1.Query/Params"),
    ("/cosmos/base/tendermint/v1beta1/node_info", "/cosmos.base.tendermint.v1beta1.Service/GetNodeInfo"),
];

const SIMULATE: &str = "/cosmos.tx.v1beta1.Service/Simulate";
const GRPC_METADATA_HEIGHT: &str = "grpc-metadata-x-cosmos-block-height";

#[derive(Clone)]
struct Gateway {
    app: App,
    rpc: HttpClient,
}

/// Serves the gateway on `address` until the future is dropped; broadcasts go to the CometBFT
/// RPC at `rpc` (e.g. `http://127.0.0.1:26657`).
pub async fn serve(app: App, address: std::net::SocketAddr, rpc: &str) -> anyhow::Result<()> {
    let url: tendermint_rpc::Url = rpc.parse()?;
    let rpc = HttpClient::builder(url.try_into()?)
        .compat_mode(CompatMode::V0_38)
        .build()?;
    let listener = tokio::net::TcpListener::bind(address).await?;
    axum::serve(listener, router(Gateway { app, rpc })).await?;
    Ok(())
}

fn router(gateway: Gateway) -> Router {
    let mut router = Router::new();
    for &(path, method) in ROUTES {
        router = router.route(
            path,
            get(
                move |State(g): State<Gateway>,
                      params: Option<Path<HashMap<String, String>>>,
                      uri: Uri,
                      headers: HeaderMap| async move {
                    let mut params: Vec<(String, String)> = params
                        .map(|p| p.0.into_iter().collect())
                        .unwrap_or_default();
                    params.extend(query_pairs(uri.query().unwrap_or_default()));
                    g.query(method, &params, &headers).await
                },
            ),
        );
    }
    router
        .route("/cosmos/tx/v1beta1/simulate", post(simulate))
        .route("/cosmos/tx/v1beta1/txs", post(broadcast))
        .route("/cosmos/tx/v1beta1/txs/{hash}", get(get_tx))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, 5, "Not Found") })
        .with_state(gateway)
}

// ---------------------------------------------------------------------------------------------
// handlers

impl Gateway {
    /// The one path from a GET to the app: params → request proto → `query_method` → JSON.
    async fn query(
        &self,
        method: &str,
        params: &[(String, String)],
        headers: &HeaderMap,
    ) -> Result<Response, ApiError> {
        let (input, output) = pool()
            .methods
            .get(method)
            .ok_or_else(|| ApiError::internal(format!("no descriptor for {method}")))?;
        let request = encode(pool(), input, params).map_err(ApiError::invalid)?;
        let height = match headers.get(HEIGHT_HEADER) {
            None => 0,
            Some(h) => h
                .to_str()
                .ok()
                .and_then(|h| h.parse::<u64>().ok())
                .ok_or_else(|| ApiError::invalid(format!("invalid {HEIGHT_HEADER}")))?,
        };
        let (bytes, height) = self.call(method, request, height).await?;
        let mut response = render(output, &bytes)?;
        if let Ok(value) = HeaderValue::from_str(&height.to_string()) {
            response.headers_mut().insert(HEIGHT_HEADER, value.clone());
            response.headers_mut().insert(GRPC_METADATA_HEIGHT, value);
        }
        Ok(response)
    }

    async fn call(
        &self,
        method: &str,
        request: Vec<u8>,
        height: u64,
    ) -> Result<(Vec<u8>, u64), ApiError> {
        let app = self.app.clone();
        let method = method.to_string();
        tokio::task::spawn_blocking(move || app.query_method(&method, &request, height))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(ApiError::from)
    }
}

/// `POST /cosmos/tx/v1beta1/simulate` with `{"tx_bytes": "<base64>"}`.
async fn simulate(State(g): State<Gateway>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let request: SimulateRequest = parse_body(&body)?;
    let (bytes, _) = g.call(SIMULATE, request.encode_to_vec(), 0).await?;
    render(".cosmos.tx.v1beta1.SimulateResponse", &bytes)
}

/// `POST /cosmos/tx/v1beta1/txs` with `{"tx_bytes": "<base64>", "mode": "BROADCAST_MODE_SYNC"}`.
/// BLOCK (and an unspecified mode) waits for CheckTx only, as SDK 0.50 does.
async fn broadcast(
    State(g): State<Gateway>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: BroadcastTxRequest = parse_body(&body)?;
    if request.tx_bytes.is_empty() {
        return Err(ApiError::invalid("invalid empty tx"));
    }
    let tx_bytes = request.tx_bytes;
    let hash = hex::encode_upper(<sha2::Sha256 as sha2::Digest>::digest(&tx_bytes));
    let result = if request.mode == BroadcastMode::Async as i32 {
        let r = g.rpc.broadcast_tx_async(tx_bytes).await;
        r.map(|r| (r.hash, r.codespace, r.code, r.data, r.log))
    } else {
        let r = g.rpc.broadcast_tx_sync(tx_bytes).await;
        r.map(|r| (r.hash, r.codespace, r.code, r.data, r.log))
    };
    let tx_response = match result {
        Ok((hash, codespace, code, data, log)) => TxResponse {
            txhash: hash.to_string(),
            codespace,
            code: code.value(),
            data: hex::encode_upper(&data),
            raw_log: log,
            ..Default::default()
        },
        // CometBFT's mempool errors, as the SDK reports them (sdk codes 19, 20, 21).
        Err(e) => {
            let text = rpc_message(&e);
            let (code, log) = [
                ("tx already exists in cache", 19, "tx already in mempool"),
                ("mempool is full", 20, "mempool is full"),
                ("tx too large", 21, "tx too large"),
            ]
            .into_iter()
            .find(|(m, _, _)| text.contains(m))
            .map(|(_, c, log)| (c, log))
            .ok_or_else(|| ApiError::internal(format!("broadcasting: {text}")))?;
            TxResponse {
                txhash: hash,
                codespace: "sdk".into(),
                code,
                raw_log: log.into(),
                ..Default::default()
            }
        }
    };
    let response = BroadcastTxResponse {
        tx_response: Some(tx_response),
    };
    render(
        ".cosmos.tx.v1beta1.BroadcastTxResponse",
        &response.encode_to_vec(),
    )
}

/// `GET /cosmos/tx/v1beta1/txs/{hash}`: a committed transaction, from CometBFT's indexer.
async fn get_tx(State(g): State<Gateway>, Path(hash): Path<String>) -> Result<Response, ApiError> {
    let parsed: tendermint::Hash = hash
        .parse()
        .map_err(|e| ApiError::invalid(format!("invalid tx hash {hash}: {e}")))?;
    let tx = g.rpc.tx(parsed, false).await.map_err(|e| {
        let text = rpc_message(&e);
        if text.contains("not found") {
            ApiError::new(
                StatusCode::NOT_FOUND,
                5,
                format!("rpc error: code = NotFound desc = tx not found: {hash}"),
            )
        } else {
            ApiError::internal(text)
        }
    })?;
    let timestamp = match g.rpc.header(tx.height).await {
        Ok(h) => tendermint::Time::from_unix_timestamp(h.header.time.unix_timestamp(), 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let r = tx.tx_result;
    let response = GetTxResponse {
        tx: Tx::decode(tx.tx.as_slice()).ok(),
        tx_response: Some(TxResponse {
            height: tx.height.value() as i64,
            txhash: tx.hash.to_string(),
            codespace: r.codespace,
            code: r.code.value(),
            // tendermint-rpc keeps CometBFT's base64 text of the result data.
            data: hex::encode_upper(
                base64::engine::general_purpose::STANDARD
                    .decode(&r.data)
                    .unwrap_or_else(|_| r.data.to_vec()),
            ),
            raw_log: r.log,
            logs: Vec::new(),
            info: r.info,
            gas_wanted: r.gas_wanted,
            gas_used: r.gas_used,
            tx: Some(surety_proto::Any {
                type_url: "/cosmos.tx.v1beta1.Tx".into(),
                value: tx.tx,
            }),
            timestamp,
            events: r.events.into_iter().map(Into::into).collect(),
        }),
    };
    render(
        ".cosmos.tx.v1beta1.GetTxResponse",
        &response.encode_to_vec(),
    )
}

/// What CometBFT said, without the client's error chain and backtrace.
fn rpc_message(e: &tendermint_rpc::Error) -> String {
    match e.detail() {
        tendermint_rpc::error::ErrorDetail::Response(r) => {
            r.source.data().unwrap_or(r.source.message()).to_string()
        }
        detail => detail.to_string(),
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("invalid request body: {e}")))
}

fn render(type_name: &str, bytes: &[u8]) -> Result<Response, ApiError> {
    let value = message(pool(), type_name, bytes)
        .map_err(|e| ApiError::internal(format!("rendering {type_name}: {e}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// errors

/// grpc-gateway's error body.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: i32,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: i32, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn invalid(message: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            3,
            format!("rpc error: code = InvalidArgument desc = {message}"),
        )
    }

    fn internal(message: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            13,
            format!("rpc error: code = Internal desc = {message}"),
        )
    }
}

impl From<surety_framework::Error> for ApiError {
    fn from(e: surety_framework::Error) -> ApiError {
        let (status, code) = match e.grpc {
            GrpcCode::InvalidArgument => (StatusCode::BAD_REQUEST, 3),
            GrpcCode::NotFound => (StatusCode::NOT_FOUND, 5),
            GrpcCode::Unimplemented => (StatusCode::NOT_IMPLEMENTED, 12),
            GrpcCode::Internal => (StatusCode::INTERNAL_SERVER_ERROR, 13),
        };
        let message = format!("rpc error: code = {} desc = {}", e.grpc.name(), e.log);
        ApiError::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"code": self.code, "message": self.message, "details": []});
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// descriptors

#[derive(Default)]
struct Pool {
    /// Messages and enums by full name with a leading dot (`.cosmos.base.v1beta1.Coin`).
    messages: HashMap<String, DescriptorProto>,
    enums: HashMap<String, EnumDescriptorProto>,
    /// `/pkg.Service/Method` → (input type, output type).
    methods: HashMap<String, (String, String)>,
    /// Fields (message, number) whose gogoproto options change their JSON in the SDK.
    gogo: HashMap<(String, i32), Gogo>,
}

/// The gogoproto field options the SDK's JSON follows (prost keeps no extensions, so they are
/// read from the descriptor bytes).
#[derive(Default, Clone, Copy)]
struct Gogo {
    /// `nullable = false`: an absent message is printed as its default, not `null`.
    non_nullable: bool,
    /// `customtype = LegacyDec`: the wire holds the integer of 10⁻¹⁸ units; JSON a decimal.
    legacy_dec: bool,
}

/// Every length-delimited value of field `n`.
fn lens<'a>(f: &HashMap<i32, Vec<Raw<'a>>>, n: i32) -> Vec<&'a [u8]> {
    let values = f.get(&n).map(Vec::as_slice).unwrap_or_default();
    values
        .iter()
        .filter_map(|r| match r {
            Raw::Len(b) => Some(*b),
            _ => None,
        })
        .collect()
}

/// Collects [`Gogo`] options of `messages` (encoded `DescriptorProto`s) and their nested types.
fn gogo_options(scope: &str, messages: &[&[u8]], out: &mut HashMap<(String, i32), Gogo>) {
    let last = |f: &HashMap<i32, Vec<Raw<'_>>>, n| match f.get(&n).and_then(|v| v.last()) {
        Some(Raw::Len(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(Raw::Varint(v)) => v.to_string(),
        _ => String::new(),
    };
    for message in messages.iter().filter_map(|m| fields(m).ok()) {
        let name = format!("{scope}.{}", last(&message, 1));
        for field in lens(&message, 2).iter().filter_map(|f| fields(f).ok()) {
            let Some(options) = lens(&field, 8).last().and_then(|o| fields(o).ok()) else {
                continue;
            };
            let gogo = Gogo {
                non_nullable: last(&options, 65001) == "0",
                legacy_dec: last(&options, 65003).ends_with("LegacyDec"),
            };
            if gogo.non_nullable || gogo.legacy_dec {
                let number = last(&field, 3).parse().unwrap_or_default();
                out.insert((name.clone(), number), gogo);
            }
        }
        gogo_options(&name, &lens(&message, 3), out);
    }
}

/// `100000000000000000` → `0.100000000000000000`, as `LegacyDec` prints itself.
fn legacy_dec(value: Value) -> Value {
    match value {
        Value::String(s) => {
            let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Value::String(s);
            }
            let padded = format!("{digits:0>19}");
            let (int, fraction) = padded.split_at(padded.len() - 18);
            let int = int.trim_start_matches('0');
            let int = if int.is_empty() { "0" } else { int };
            format!("{sign}{int}.{fraction}").into()
        }
        Value::Array(items) => items.into_iter().map(legacy_dec).collect(),
        other => other,
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let set = FileDescriptorSet::decode(surety_proto::FILE_DESCRIPTOR_SET)
            .expect("the embedded descriptor set decodes");
        let mut pool = Pool::default();
        for file in set.file {
            let package = file.package().to_string();
            for service in &file.service {
                for m in &service.method {
                    let path = format!("/{package}.{}/{}", service.name(), m.name());
                    let types = (m.input_type().to_string(), m.output_type().to_string());
                    pool.methods.insert(path, types);
                }
            }
            let scope = if package.is_empty() {
                String::new()
            } else {
                format!(".{package}")
            };
            pool.add(&scope, file.message_type, file.enum_type);
        }
        let set = fields(surety_proto::FILE_DESCRIPTOR_SET).unwrap_or_default();
        for file in lens(&set, 1).iter().filter_map(|f| fields(f).ok()) {
            let scope = match lens(&file, 2).last() {
                Some(package) => format!(".{}", String::from_utf8_lossy(package)),
                None => String::new(),
            };
            gogo_options(&scope, &lens(&file, 4), &mut pool.gogo);
        }
        // Types that appear inside `Any`s (keys in accounts, validators and txs; bank sends in
        // txs) from files no served service imports.
        let field = |name: &str, number, r#type: Type, type_name: &str, label: Label| {
            FieldDescriptorProto {
                name: Some(name.into()),
                number: Some(number),
                r#type: Some(r#type as i32),
                type_name: (!type_name.is_empty()).then(|| type_name.into()),
                label: Some(label as i32),
                ..Default::default()
            }
        };
        let mut synthetic = |name: &str, fields: Vec<FieldDescriptorProto>| {
            let short = name.rsplit('.').next().unwrap_or(name);
            pool.messages.insert(
                name.to_string(),
                DescriptorProto {
                    name: Some(short.into()),
                    field: fields,
                    ..Default::default()
                },
            );
        };
        for key in ["secp256k1", "ed25519", "secp256r1"] {
            let key_field = field("key", 1, Type::Bytes, "", Label::Optional);
            synthetic(&format!(".cosmos.crypto.{key}.PubKey"), vec![key_field]);
        }
        synthetic(
            ".cosmos.bank.v1beta1.MsgSend",
            vec![
                field("from_address", 1, Type::String, "", Label::Optional),
                field("to_address", 2, Type::String, "", Label::Optional),
                field(
                    "amount",
                    3,
                    Type::Message,
                    ".cosmos.base.v1beta1.Coin",
                    Label::Repeated,
                ),
            ],
        );
        synthetic(".cosmos.bank.v1beta1.MsgSendResponse", Vec::new());
        pool
    })
}

impl Pool {
    fn add(
        &mut self,
        scope: &str,
        messages: Vec<DescriptorProto>,
        enums: Vec<EnumDescriptorProto>,
    ) {
        for e in enums {
            self.enums.insert(format!("{scope}.{}", e.name()), e);
        }
        for mut m in messages {
            let name = format!("{scope}.{}", m.name());
            let nested = std::mem::take(&mut m.nested_type);
            let nested_enums = std::mem::take(&mut m.enum_type);
            self.add(&name, nested, nested_enums);
            self.messages.insert(name, m);
        }
    }

    fn is_map_entry(&self, type_name: &str) -> bool {
        self.messages
            .get(type_name)
            .and_then(|m| m.options.as_ref())
            .is_some_and(|o| o.map_entry())
    }

    fn enum_value(&self, type_name: &str, number: i32) -> Value {
        self.enums
            .get(type_name)
            .and_then(|e| e.value.iter().find(|v| v.number() == number))
            .map_or_else(|| number.into(), |v| v.name().into())
    }
}

// ---------------------------------------------------------------------------------------------
// protobuf → JSON

enum Raw<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Len(&'a [u8]),
}

fn varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first().ok_or("truncated varint")?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Err("varint too long".into())
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if buf.len() < n {
        return Err("truncated message".into());
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}

fn fixed<const N: usize>(buf: &mut &[u8]) -> Result<[u8; N], String> {
    Ok(take(buf, N)?.try_into().expect("N bytes"))
}

/// Reads one value of wire type `wire`.
fn read<'a>(buf: &mut &'a [u8], wire: u64) -> Result<Raw<'a>, String> {
    Ok(match wire {
        0 => Raw::Varint(varint(buf)?),
        1 => Raw::Fixed64(u64::from_le_bytes(fixed::<8>(buf)?)),
        2 => {
            let len = varint(buf)? as usize;
            Raw::Len(take(buf, len)?)
        }
        5 => Raw::Fixed32(u32::from_le_bytes(fixed::<4>(buf)?)),
        other => return Err(format!("unsupported wire type {other}")),
    })
}

/// A message's fields by number, in wire order.
fn fields(mut buf: &[u8]) -> Result<HashMap<i32, Vec<Raw<'_>>>, String> {
    let mut out: HashMap<i32, Vec<Raw<'_>>> = HashMap::new();
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let raw = read(&mut buf, key & 7)?;
        out.entry((key >> 3) as i32).or_default().push(raw);
    }
    Ok(out)
}

/// The wire type of a packable scalar, or `None` for strings, bytes and messages.
fn packed_wire(t: Type) -> Option<u64> {
    match t {
        Type::Double | Type::Fixed64 | Type::Sfixed64 => Some(1),
        Type::Float | Type::Fixed32 | Type::Sfixed32 => Some(5),
        Type::String | Type::Bytes | Type::Message | Type::Group => None,
        _ => Some(0),
    }
}

fn message(pool: &Pool, type_name: &str, bytes: &[u8]) -> Result<Value, String> {
    match type_name {
        ".google.protobuf.Any" => return any(pool, bytes),
        ".google.protobuf.Timestamp" | ".google.protobuf.Duration" => {
            let raw = fields(bytes)?;
            let int = |n| match raw.get(&n).and_then(|v| v.last()) {
                Some(Raw::Varint(v)) => *v as i64,
                _ => 0,
            };
            let (seconds, nanos) = (int(1), int(2) as u32);
            return Ok(if type_name.ends_with("Timestamp") {
                tendermint::Time::from_unix_timestamp(seconds, nanos)
                    .map_err(|e| e.to_string())?
                    .to_rfc3339()
                    .into()
            } else if nanos == 0 {
                format!("{seconds}s").into()
            } else {
                let fraction = format!("{nanos:09}");
                format!("{seconds}.{}s", fraction.trim_end_matches('0')).into()
            });
        }
        _ => {}
    }
    let desc = pool
        .messages
        .get(type_name)
        .ok_or_else(|| format!("unknown message type {type_name}"))?;
    let mut raw = fields(bytes)?;
    let mut out = Map::new();
    for f in &desc.field {
        let gogo = pool
            .gogo
            .get(&(type_name.to_string(), f.number()))
            .copied()
            .unwrap_or_default();
        let values = raw.remove(&f.number()).unwrap_or_default();
        let value = if f.label() != Label::Repeated {
            match values.into_iter().last() {
                Some(v) => scalar(pool, f, v)?,
                None => default(pool, f, gogo.non_nullable)?,
            }
        } else if pool.is_map_entry(f.type_name()) {
            let mut map = Map::new();
            for v in values {
                if let Value::Object(mut entry) = scalar(pool, f, v)? {
                    let key = match entry.remove("key") {
                        Some(Value::String(s)) => s,
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    map.insert(key, entry.remove("value").unwrap_or(Value::Null));
                }
            }
            Value::Object(map)
        } else {
            let mut items = Vec::new();
            for v in values {
                match (v, packed_wire(f.r#type())) {
                    (Raw::Len(mut packed), Some(wire)) => {
                        while !packed.is_empty() {
                            items.push(scalar(pool, f, read(&mut packed, wire)?)?);
                        }
                    }
                    (v, _) => items.push(scalar(pool, f, v)?),
                }
            }
            Value::Array(items)
        };
        let value = if gogo.legacy_dec {
            legacy_dec(value)
        } else {
            value
        };
        out.insert(f.name().to_string(), value);
    }
    Ok(Value::Object(out))
}

fn scalar(pool: &Pool, f: &FieldDescriptorProto, raw: Raw<'_>) -> Result<Value, String> {
    let float = |v: f64| {
        serde_json::Number::from_f64(v).map_or_else(|| v.to_string().into(), Value::Number)
    };
    let zigzag = |v: u64| (v >> 1) as i64 ^ -((v & 1) as i64);
    Ok(match (f.r#type(), raw) {
        (Type::Double, Raw::Fixed64(v)) => float(f64::from_bits(v)),
        (Type::Float, Raw::Fixed32(v)) => float(f64::from(f32::from_bits(v))),
        (Type::Int64, Raw::Varint(v)) => (v as i64).to_string().into(),
        (Type::Uint64, Raw::Varint(v)) => v.to_string().into(),
        (Type::Sint64, Raw::Varint(v)) => zigzag(v).to_string().into(),
        (Type::Fixed64, Raw::Fixed64(v)) => v.to_string().into(),
        (Type::Sfixed64, Raw::Fixed64(v)) => (v as i64).to_string().into(),
        (Type::Int32, Raw::Varint(v)) => (v as i32).into(),
        (Type::Uint32, Raw::Varint(v)) => (v as u32).into(),
        (Type::Sint32, Raw::Varint(v)) => (zigzag(v) as i32).into(),
        (Type::Fixed32, Raw::Fixed32(v)) => v.into(),
        (Type::Sfixed32, Raw::Fixed32(v)) => (v as i32).into(),
        (Type::Bool, Raw::Varint(v)) => (v != 0).into(),
        (Type::Enum, Raw::Varint(v)) => pool.enum_value(f.type_name(), v as i32),
        (Type::String, Raw::Len(b)) => String::from_utf8_lossy(b).into(),
        (Type::Bytes, Raw::Len(b)) => base64::engine::general_purpose::STANDARD.encode(b).into(),
        (Type::Message, Raw::Len(b)) => message(pool, f.type_name(), b)?,
        (t, _) => return Err(format!("field {}: wrong wire type for {t:?}", f.name())),
    })
}

/// What the gateway prints for an absent field.
fn default(pool: &Pool, f: &FieldDescriptorProto, non_nullable: bool) -> Result<Value, String> {
    Ok(match f.r#type() {
        Type::Message if non_nullable => message(pool, f.type_name(), &[])?,
        Type::Int64 | Type::Uint64 | Type::Sint64 | Type::Fixed64 | Type::Sfixed64 => "0".into(),
        Type::Bool => false.into(),
        Type::String => "".into(),
        Type::Enum => pool.enum_value(f.type_name(), 0),
        Type::Bytes | Type::Message | Type::Group => Value::Null,
        _ => 0.into(),
    })
}

/// `{"@type": url, ...fields}`; types without a descriptor keep their bytes under `value`.
fn any(pool: &Pool, bytes: &[u8]) -> Result<Value, String> {
    let mut raw = fields(bytes)?;
    let mut bytes_of = |n| match raw.remove(&n).and_then(|v| v.into_iter().last()) {
        Some(Raw::Len(b)) => b,
        _ => &[],
    };
    let type_url = String::from_utf8_lossy(bytes_of(1)).into_owned();
    let value = bytes_of(2);
    let name = format!(".{}", type_url.rsplit('/').next().unwrap_or_default());
    let mut out = Map::new();
    out.insert("@type".into(), type_url.into());
    match message(pool, &name, value) {
        Ok(Value::Object(fields)) => out.extend(fields),
        Ok(other) => {
            out.insert("value".into(), other);
        }
        Err(_) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(value);
            out.insert("value".into(), encoded.into());
        }
    }
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------------------------------------
// URL parameters → protobuf

/// `a=1&b.c=x%20y` → `[("a", "1"), ("b.c", "x y")]`.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    fn unescape(s: &str) -> String {
        let mut out = Vec::with_capacity(s.len());
        let mut bytes = s.bytes();
        while let Some(b) = bytes.next() {
            match b {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex: Vec<u8> = bytes.clone().take(2).collect();
                    match std::str::from_utf8(&hex)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        Some(v) if hex.len() == 2 => {
                            out.push(v);
                            bytes.nth(1);
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_len(out: &mut Vec<u8>, number: i32, bytes: &[u8]) {
    put_varint(out, ((number as u64) << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Encodes `type_name` with the fields named by `params` (dotted for nested messages; repeated
/// for repeated fields), as grpc-gateway fills a request from the path and query string.
/// Parameters that name no field are ignored.
fn encode(pool: &Pool, type_name: &str, params: &[(String, String)]) -> Result<Vec<u8>, String> {
    let desc = pool
        .messages
        .get(type_name)
        .ok_or_else(|| format!("unknown message type {type_name}"))?;
    let mut out = Vec::new();
    for f in &desc.field {
        let names: Vec<&str> = [f.name(), f.json_name()]
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect();
        if f.r#type() == Type::Message {
            let nested: Vec<(String, String)> = params
                .iter()
                .filter_map(|(k, v)| {
                    let rest = names
                        .iter()
                        .find_map(|n| k.strip_prefix(n)?.strip_prefix('.'))?;
                    Some((rest.to_string(), v.clone()))
                })
                .collect();
            if !nested.is_empty() {
                put_len(&mut out, f.number(), &encode(pool, f.type_name(), &nested)?);
            }
            continue;
        }
        for (_, v) in params.iter().filter(|(k, _)| names.contains(&k.as_str())) {
            leaf(pool, f, v, &mut out).map_err(|e| format!("{}: {e}", f.name()))?;
        }
    }
    Ok(out)
}

fn leaf(pool: &Pool, f: &FieldDescriptorProto, v: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let number = f.number();
    let varint_field = |out: &mut Vec<u8>, value: u64| {
        put_varint(out, (number as u64) << 3);
        put_varint(out, value);
    };
    let bad = |e: &dyn std::fmt::Display| format!("invalid value {v:?}: {e}");
    match f.r#type() {
        Type::String => put_len(out, number, v.as_bytes()),
        Type::Bytes => {
            use base64::engine::general_purpose::{
                STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
            };
            let v = v.replace(' ', "+");
            let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(&v).ok())
                .ok_or_else(|| bad(&"not base64"))?;
            put_len(out, number, &decoded);
        }
        Type::Bool => match v {
            "true" | "1" => varint_field(out, 1),
            "false" | "0" | "" => varint_field(out, 0),
            _ => return Err(bad(&"not a bool")),
        },
        Type::Int32 | Type::Int64 => {
            varint_field(out, v.parse::<i64>().map_err(|e| bad(&e))? as u64)
        }
        Type::Uint32 | Type::Uint64 => varint_field(out, v.parse::<u64>().map_err(|e| bad(&e))?),
        Type::Enum => {
            let number = pool
                .enums
                .get(f.type_name())
                .and_then(|e| e.value.iter().find(|x| x.name() == v).map(|x| x.number()))
                .map_or_else(|| v.parse::<i32>().map_err(|e| bad(&e)), Ok)?;
            varint_field(out, number as i64 as u64);
        }
        t => return Err(format!("{t:?} parameters are not supported")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountResponse};
    use surety_proto::cosmos::bank::v1beta1::{QueryAllBalancesRequest, QueryAllBalancesResponse};
    use surety_proto::cosmos::base::query::v1beta1::PageRequest;
    use surety_proto::cosmos::base::v1beta1::Coin;

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
        let json = message(
            pool(),
            ".cosmos.auth.v1beta1.QueryAccountResponse",
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
        let json = message(
            pool(),
            ".cosmos.bank.v1beta1.QueryAllBalancesResponse",
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
        let empty = message(pool(), ".cosmos.bank.v1beta1.QueryAllBalancesResponse", &[]).unwrap();
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
        let gogo = |m: &str, n| {
            pool()
                .gogo
                .get(&(m.to_string(), n))
                .copied()
                .unwrap_or_default()
        };
        assert!(gogo(".cosmos.staking.v1beta1.Validator", 10).non_nullable);
        assert!(gogo(".cosmos.staking.v1beta1.CommissionRates", 1).legacy_dec);
        assert!(!gogo(".cosmos.bank.v1beta1.QueryAllBalancesResponse", 2).non_nullable);
    }

    #[test]
    fn fills_requests_from_parameters() {
        let params = query_pairs("pagination.limit=10&pagination.count_total=true&pagination.key=AQI%3D&resolve_denom=1&unknown=x");
        let mut all = vec![("address".to_string(), "surety1abc".to_string())];
        all.extend(params);
        let (input, _) = &pool().methods["/cosmos.bank.v1beta1.Query/AllBalances"];
        let bytes = encode(pool(), input, &all).unwrap();
        let request = QueryAllBalancesRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(
            request,
            QueryAllBalancesRequest {
                address: "surety1abc".into(),
                pagination: Some(PageRequest {
                    key: vec![1, 2],
                    limit: 10,
                    count_total: true,
                    ..Default::default()
                }),
                resolve_denom: true,
            }
        );
        assert!(encode(pool(), input, &[("pagination.limit".into(), "ten".into())]).is_err());
    }

    #[test]
    fn surety_list_requests_take_pagination_parameters_too() {
        use surety_proto::surety::claims::v1::QueryClaimsRequest;
        let params = query_pairs("policy_id=3&pagination.limit=10&pagination.key=AQI%3D");
        let (input, _) = &pool().methods["/surety.claims.v1.Query/Claims"];
        let bytes = encode(pool(), input, &params).unwrap();
        assert_eq!(
            QueryClaimsRequest::decode(bytes.as_slice()).unwrap(),
            QueryClaimsRequest {
                policy_id: 3,
                pagination: Some(PageRequest {
                    key: vec![1, 2],
                    limit: 10,
                    ..Default::default()
                }),
            }
        );
    }
}
