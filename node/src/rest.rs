//! The Cosmos REST (LCD) gateway: the Cosmos SDK grpc-gateway routes that wallets such as Keplr
//! (and Surety's web app) use. The routes are the `google.api.http` options of the services the
//! node serves, read from the same descriptors the gRPC server offers through reflection, so
//! adding a query to a `.proto` file adds its route. A GET becomes the query method its route
//! names, answered by `App::query_method` exactly as the gRPC server answers it. Broadcasts and
//! transaction lookups go to CometBFT's RPC.
//!
//! Requests and responses are translated by `prost-reflect` from those descriptors; the JSON
//! then follows the SDK's gateway where it differs from canonical protobuf JSON: proto field
//! names, every field present (absent messages as `null`, or as their defaults where gogoproto
//! says `nullable = false`), `LegacyDec` strings as decimals. Errors use the gateway's shape:
//! `{"code": <gRPC code>, "message": "rpc error: code = … desc = …", "details": []}`, with the
//! HTTP status grpc-gateway maps that code to.
//!
//! With a `web_dir`, every other path serves that directory's files (the web app), so the app
//! and the API share one origin.

use crate::protojson::{descriptors, to_json};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use prost::Message;
use prost_reflect::{
    DynamicMessage, Kind, MessageDescriptor, MethodDescriptor, ReflectMessage, Value as Field,
};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use surety_app::App;
use surety_framework::GrpcCode;
use surety_proto::cosmos::base::abci::v1beta1::TxResponse;
use surety_proto::cosmos::tx::v1beta1::{
    BroadcastMode, BroadcastTxRequest, BroadcastTxResponse, GetTxResponse, SimulateRequest, Tx,
};
use tendermint_rpc::{client::CompatMode, Client as _, HttpClient};

use crate::grpc::HEIGHT_HEADER;

const SIMULATE: &str = "/cosmos.tx.v1beta1.Service/Simulate";
const GRPC_METADATA_HEIGHT: &str = "grpc-metadata-x-cosmos-block-height";
/// Routes served by hand rather than by a query method (they go to CometBFT).
const BY_HAND: &[&str] = &["/cosmos/tx/v1beta1/txs/{hash}", "/cosmos/tx/v1beta1/txs"];

#[derive(Clone)]
struct Gateway {
    app: App,
    rpc: HttpClient,
}

/// Serves the gateway on `address` until the future is dropped; broadcasts go to the CometBFT
/// RPC at `rpc` (e.g. `http://127.0.0.1:26657`). Other paths serve `web_dir`'s files, if given.
pub async fn serve(
    app: App,
    address: std::net::SocketAddr,
    rpc: &str,
    web_dir: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let url: tendermint_rpc::Url = rpc.parse()?;
    let rpc = HttpClient::builder(url.try_into()?)
        .compat_mode(CompatMode::V0_38)
        .build()?;
    let listener = tokio::net::TcpListener::bind(address).await?;
    axum::serve(listener, router(Gateway { app, rpc }, web_dir)).await?;
    Ok(())
}

fn router(gateway: Gateway, web_dir: Option<std::path::PathBuf>) -> Router {
    let mut router = Router::new();
    for (path, method) in get_routes() {
        let method = method.clone();
        router = router.route(
            &path,
            get(
                move |State(g): State<Gateway>,
                      params: Option<Path<HashMap<String, String>>>,
                      uri: Uri,
                      headers: HeaderMap| async move {
                    let mut params: Vec<(String, String)> = params
                        .map(|p| p.0.into_iter().collect())
                        .unwrap_or_default();
                    params.extend(query_pairs(uri.query().unwrap_or_default()));
                    g.query(&method, &params, &headers).await
                },
            ),
        );
    }
    let router = router
        .route("/cosmos/tx/v1beta1/simulate", post(simulate))
        .route("/cosmos/tx/v1beta1/txs", post(broadcast))
        .route("/cosmos/tx/v1beta1/txs/{hash}", get(get_tx))
        .route(
            "/surety/pool/v1/pools/{pool_id}/capital_model",
            get(capital_model),
        );
    let router = match web_dir {
        Some(dir) => router.fallback_service(tower_http::services::ServeDir::new(dir)),
        None => router.fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, 5, "Not Found") }),
    };
    router.with_state(gateway)
}

/// `(axum path, method)` for every served method with a `google.api.http` GET binding.
fn get_routes() -> Vec<(String, MethodDescriptor)> {
    let pool = descriptors();
    let Some(http) = pool.get_extension_by_name("google.api.http") else {
        return Vec::new();
    };
    let shape = |path: &str| {
        path.split('/')
            .map(|part| if part.starts_with('{') { "{}" } else { part })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut seen: HashSet<String> = BY_HAND.iter().map(|p| shape(p)).collect();
    let mut routes = Vec::new();
    // IBC's queries are served over gRPC only (by the node's forwarder), as before the pool
    // described them.
    for service in pool
        .services()
        .filter(|s| !s.package_name().starts_with("ibc."))
    {
        for method in service.methods() {
            let options = method.options();
            if !options.has_extension(&http) {
                continue;
            }
            let rule = options.get_extension(&http);
            let path = match rule.as_message().map(|r| r.get_field_by_name("get")) {
                Some(Some(path)) => path.as_str().unwrap_or_default().to_string(),
                _ => continue,
            };
            // grpc-gateway and axum both write a path parameter as `{name}`; two templates
            // that differ only in a parameter's name are one route (the first wins).
            if !path.is_empty() && seen.insert(shape(&path)) {
                routes.push((path, method));
            }
        }
    }
    routes
}

/// `/pkg.Service/Method`, the path `App::query_method` takes.
fn method_path(method: &MethodDescriptor) -> String {
    format!("/{}/{}", method.parent_service().full_name(), method.name())
}

// ---------------------------------------------------------------------------------------------
// handlers

impl Gateway {
    /// The one path from a GET to the app: params → request proto → `query_method` → JSON.
    async fn query(
        &self,
        method: &MethodDescriptor,
        params: &[(String, String)],
        headers: &HeaderMap,
    ) -> Result<Response, ApiError> {
        let request = encode(&method.input(), params).map_err(ApiError::invalid)?;
        let height = match headers.get(HEIGHT_HEADER) {
            None => 0,
            Some(h) => h
                .to_str()
                .ok()
                .and_then(|h| h.parse::<u64>().ok())
                .ok_or_else(|| ApiError::invalid(format!("invalid {HEIGHT_HEADER}")))?,
        };
        let (bytes, height) = self.call(&method_path(method), request, height).await?;
        let mut response = render(&method.output(), &bytes)?;
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

/// `GET /surety/pool/v1/pools/{pool_id}/capital_model?trials=20000&seed=1`: the capital model
/// of `suretyd query pool capital-model` (the embedded incident history, default assumptions:
/// current and recommended rate per product, reserve ratio), with its loss-exceedance
/// curve thinned to 200 points. Off-chain work on this node's CPU, so trials are capped.
async fn capital_model(
    State(g): State<Gateway>,
    Path(pool_id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    const MAX_REST_TRIALS: u32 = 100_000;
    let params: HashMap<String, String> = query_pairs(uri.query().unwrap_or_default())
        .into_iter()
        .collect();
    let number = |name: &str, default: u64| -> Result<u64, ApiError> {
        params.get(name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| ApiError::invalid(format!("{name}: not a number: {v:?}")))
        })
    };
    let pool_id = pool_id
        .parse::<u64>()
        .map_err(|_| ApiError::invalid(format!("pool_id: not a number: {pool_id:?}")))?;
    let trials = number("trials", 20_000)?;
    if !(1..=u64::from(MAX_REST_TRIALS)).contains(&trials) {
        return Err(ApiError::invalid(format!(
            "trials must be between 1 and {MAX_REST_TRIALS}"
        )));
    }
    let seed = number("seed", 1)?;
    // Up to a second of CPU each: they take turns, so a flood of them uses one core at most
    // and cannot starve the node.
    static TURN: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    let _turn = TURN
        .acquire()
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let app = g.app.clone();
    let report =
        tokio::task::spawn_blocking(move || capital_report(&app, pool_id, trials as u32, seed))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        report.to_string(),
    )
        .into_response())
}

fn capital_report(app: &App, pool_id: u64, trials: u32, seed: u64) -> Result<Value, ApiError> {
    use surety_proto::surety::policy::v1::{QueryProductsRequest, QueryProductsResponse};
    use surety_proto::surety::pool::v1::{
        QueryExposuresRequest, QueryExposuresResponse, QueryPoolRequest, QueryPoolResponse,
    };
    fn ask<Resp: Message + Default>(
        app: &App,
        path: &str,
        request: impl Message,
    ) -> Result<Resp, ApiError> {
        let (bytes, _) = app.query_method(path, &request.encode_to_vec(), 0)?;
        Resp::decode(bytes.as_slice()).map_err(ApiError::internal)
    }
    let pool: QueryPoolResponse = ask(
        app,
        "/surety.pool.v1.Query/Pool",
        QueryPoolRequest { pool_id },
    )?;
    let denom = pool.pool.and_then(|v| v.pool).unwrap_or_default().denom;
    let exposures: QueryExposuresResponse = ask(
        app,
        "/surety.pool.v1.Query/Exposures",
        QueryExposuresRequest { pool_id },
    )?;
    let mut products = Vec::new();
    let mut page = surety_proto::cosmos::base::query::v1beta1::PageRequest::default();
    loop {
        let r: QueryProductsResponse = ask(
            app,
            "/surety.policy.v1.Query/Products",
            QueryProductsRequest {
                pagination: Some(page.clone()),
            },
        )?;
        products.extend(r.products);
        match r.pagination.map(|p| p.next_key).filter(|k| !k.is_empty()) {
            Some(next) => page.key = next,
            None => break,
        }
    }
    let inputs = crate::capital::Inputs {
        pool_id,
        denom: &denom,
        exposures: &exposures,
        products: &products,
    };
    // The embedded incident dataset with the default assumptions: no file on the server.
    let history = crate::capital::History::embedded(Default::default());
    let (mut report, simulation, _) =
        crate::capital::run(&inputs, &history, trials, seed).map_err(ApiError::invalid)?;
    report["curve"] = json!(crate::capital::curve(&simulation, 200));
    Ok(report)
}

/// `POST /cosmos/tx/v1beta1/simulate` with `{"tx_bytes": "<base64>"}`.
/// A refused transaction's error names its module error as a transaction result would
/// (`policy error 7: …`), so a wallet can show the same message either way.
async fn simulate(State(g): State<Gateway>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let request: SimulateRequest = parse_body(&body)?;
    let app = g.app.clone();
    let result = tokio::task::spawn_blocking(move || {
        app.query_method(SIMULATE, &request.encode_to_vec(), 0)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let (bytes, _) = result.map_err(|mut e| {
        e.log = format!("{} error {}: {}", e.codespace, e.code, e.log);
        ApiError::from(e)
    })?;
    render_named("cosmos.tx.v1beta1.SimulateResponse", &bytes)
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
    render_named(
        "cosmos.tx.v1beta1.BroadcastTxResponse",
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
    let mut response = GetTxResponse {
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
    const GET_TX: &str = "cosmos.tx.v1beta1.GetTxResponse";
    render_named(GET_TX, &response.encode_to_vec()).or_else(|_| {
        // A message this node has no descriptor for (another chain's IBC messages): the
        // result without the transaction's body, as the gateway cannot print it either.
        response.tx = None;
        if let Some(r) = response.tx_response.as_mut() {
            r.tx = None;
        }
        render_named(GET_TX, &response.encode_to_vec())
    })
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
            GrpcCode::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, 14),
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
// JSON

fn render_named(type_name: &str, bytes: &[u8]) -> Result<Response, ApiError> {
    let desc = descriptors()
        .get_message_by_name(type_name)
        .ok_or_else(|| ApiError::internal(format!("no descriptor for {type_name}")))?;
    render(&desc, bytes)
}

fn render(desc: &MessageDescriptor, bytes: &[u8]) -> Result<Response, ApiError> {
    let value = to_json(desc, bytes)
        .map_err(|e| ApiError::internal(format!("rendering {}: {e}", desc.full_name())))?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// URL parameters → protobuf

/// `a=1&b.c=x%20y` → `[("a", "1"), ("b.c", "x y")]`.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Encodes `desc` with the fields named by `params` (dotted for nested messages; repeated for
/// repeated fields), as grpc-gateway fills a request from the path and query string.
/// Parameters that name no field are ignored.
fn encode(desc: &MessageDescriptor, params: &[(String, String)]) -> Result<Vec<u8>, String> {
    let mut message = DynamicMessage::new(desc.clone());
    for (name, value) in params {
        set(&mut message, name, value)?;
    }
    Ok(message.encode_to_vec())
}

fn set(message: &mut DynamicMessage, name: &str, value: &str) -> Result<(), String> {
    let desc = message.descriptor();
    let field_named = |n: &str| {
        desc.get_field_by_name(n)
            .or_else(|| desc.get_field_by_json_name(n))
    };
    let (head, rest) = match name.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (name, None),
    };
    let Some(field) = field_named(head) else {
        return Ok(());
    };
    match (rest, field.kind()) {
        (Some(rest), Kind::Message(_)) if !field.is_list() && !field.is_map() => {
            match message.get_field_mut(&field) {
                Field::Message(nested) => set(nested, rest, value),
                _ => Ok(()),
            }
        }
        (Some(_), _) => Ok(()),
        (None, kind) => {
            let parsed = leaf(&kind, value).map_err(|e| format!("{}: {e}", field.name()))?;
            if field.is_list() {
                if let Field::List(items) = message.get_field_mut(&field) {
                    items.push(parsed);
                }
            } else if !field.is_map() {
                message.set_field(&field, parsed);
            }
            Ok(())
        }
    }
}

fn leaf(kind: &Kind, v: &str) -> Result<Field, String> {
    let bad = |e: &dyn std::fmt::Display| format!("invalid value {v:?}: {e}");
    Ok(match kind {
        Kind::String => Field::String(v.to_string()),
        Kind::Bytes => {
            use base64::engine::general_purpose::{
                STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
            };
            let v = v.replace(' ', "+");
            let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(&v).ok())
                .ok_or_else(|| bad(&"not base64"))?;
            Field::Bytes(decoded.into())
        }
        Kind::Bool => match v {
            "true" | "1" => Field::Bool(true),
            "false" | "0" | "" => Field::Bool(false),
            _ => return Err(bad(&"not a bool")),
        },
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Field::I32(v.parse().map_err(|e| bad(&e))?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Field::I64(v.parse().map_err(|e| bad(&e))?),
        Kind::Uint32 | Kind::Fixed32 => Field::U32(v.parse().map_err(|e| bad(&e))?),
        Kind::Uint64 | Kind::Fixed64 => Field::U64(v.parse().map_err(|e| bad(&e))?),
        Kind::Enum(e) => Field::EnumNumber(match e.get_value_by_name(v) {
            Some(value) => value.number(),
            None => v.parse().map_err(|e| bad(&e))?,
        }),
        other => return Err(format!("{other:?} parameters are not supported")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_proto::cosmos::bank::v1beta1::QueryAllBalancesRequest;
    use surety_proto::cosmos::base::query::v1beta1::PageRequest;

    fn desc(name: &str) -> MessageDescriptor {
        descriptors().get_message_by_name(name).expect(name)
    }

    #[test]
    fn routes_come_from_the_protos_http_options() {
        let routes: HashMap<String, String> = get_routes()
            .into_iter()
            .map(|(path, m)| (path, method_path(&m)))
            .collect();
        for (path, method) in [
            (
                "/cosmos/bank/v1beta1/balances/{address}",
                "/cosmos.bank.v1beta1.Query/AllBalances",
            ),
            (
                "/cosmos/gov/v1/proposals/{proposal_id}/tally",
                "/cosmos.gov.v1.Query/TallyResult",
            ),
            (
                "/surety/pool/v1/pools/{pool_id}",
                "/surety.pool.v1.Query/Pool",
            ),
            (
                "/surety/policy/v1/products/{product_id}/quote",
                "/surety.policy.v1.Query/Quote",
            ),
            (
                "/surety/oracle/v1/history",
                "/surety.oracle.v1.Query/History",
            ),
        ] {
            assert_eq!(routes.get(path).map(String::as_str), Some(method), "{path}");
        }
        // Served by hand, through CometBFT.
        assert!(!routes.contains_key("/cosmos/tx/v1beta1/txs/{hash}"));
        // Every route builds a router (axum panics on a conflict or a bad template).
        let _ = router_paths_are_valid();
    }

    fn router_paths_are_valid() -> Router<()> {
        let mut router = Router::new();
        for (path, _) in get_routes() {
            router = router.route(&path, get(|| async { "" }));
        }
        router
    }

    #[test]
    fn fills_requests_from_parameters() {
        let params = query_pairs(
            "pagination.limit=10&pagination.count_total=true&pagination.key=AQI%3D&resolve_denom=1&unknown=x",
        );
        let mut all = vec![("address".to_string(), "surety1abc".to_string())];
        all.extend(params);
        let input = desc("cosmos.bank.v1beta1.QueryAllBalancesRequest");
        let bytes = encode(&input, &all).unwrap();
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
        assert!(encode(&input, &[("pagination.limit".into(), "ten".into())]).is_err());
    }

    #[test]
    fn surety_list_requests_take_pagination_parameters_too() {
        use surety_proto::surety::claims::v1::QueryClaimsRequest;
        let params = query_pairs("policy_id=3&pagination.limit=10&pagination.key=AQI%3D");
        let bytes = encode(&desc("surety.claims.v1.QueryClaimsRequest"), &params).unwrap();
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
