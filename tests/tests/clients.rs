//! Standard Cosmos clients against a real node, unchanged: tonic clients generated from the
//! Cosmos SDK protos over gRPC, cosmjs's `SigningStargateClient` through CometBFT RPC, and
//! Keplr's use of the REST (LCD) gateway: reads, then a tx signed offline by cosmjs, simulated
//! and broadcast over REST.

use anyhow::{ensure, Context, Result};
use prost::Message;
use std::process::Command;
use std::time::{Duration, Instant};
use surety_e2e::*;
use surety_proto::cosmos::auth::v1beta1::{
    query_client::QueryClient as AuthClient, QueryAccountRequest,
};
use surety_proto::cosmos::bank::v1beta1::{
    query_client::QueryClient as BankClient, QueryBalanceRequest,
};
use surety_proto::cosmos::base::tendermint::v1beta1::{
    service_client::ServiceClient, GetNodeInfoRequest,
};

/// A well-formed address that no one has used.
fn never_seen_address() -> String {
    bech32::encode::<bech32::Bech32>(
        bech32::Hrp::parse("surety").expect("valid prefix"),
        &[0x42; 20],
    )
    .expect("encodes")
}

async fn grpc_checks(endpoint: String, alice: String) -> Result<()> {
    let mut bank = BankClient::connect(endpoint.clone()).await?;
    let balance = bank
        .balance(QueryBalanceRequest {
            address: alice.clone(),
            denom: "uusdc".into(),
        })
        .await?
        .into_inner()
        .balance
        .context("no balance")?;
    ensure!(
        balance.amount.parse::<u128>()? > 0,
        "alice has no uusdc: {balance:?}"
    );

    // An earlier height through the standard metadata header, echoed back in the response.
    let mut at_height = tonic::Request::new(QueryBalanceRequest {
        address: alice.clone(),
        denom: "usure".into(),
    });
    at_height
        .metadata_mut()
        .insert("x-cosmos-block-height", "1".parse()?);
    let response = bank.balance(at_height).await?;
    ensure!(
        response
            .metadata()
            .get("x-cosmos-block-height")
            .map(|h| h.to_str().ok())
            == Some(Some("1"))
    );

    let mut auth = AuthClient::connect(endpoint.clone()).await?;
    let account = auth
        .account(QueryAccountRequest {
            address: alice.clone(),
        })
        .await?
        .into_inner();
    ensure!(account.account.context("no account")?.type_url == "/cosmos.auth.v1beta1.BaseAccount");
    let missing = auth
        .account(QueryAccountRequest {
            address: never_seen_address(),
        })
        .await
        .expect_err("an unknown account is NotFound");
    ensure!(missing.code() == tonic::Code::NotFound, "{missing:?}");

    let mut node = ServiceClient::connect(endpoint).await?;
    let info = node
        .get_node_info(GetNodeInfoRequest {})
        .await?
        .into_inner();
    let network = info.default_node_info.context("no node info")?.network;
    ensure!(network == "surety-localnet", "network {network}");
    Ok(())
}

/// What grpcurl does first: list the services through reflection, then fetch the descriptor of
/// one of them.
async fn reflection_checks(endpoint: String) -> Result<()> {
    use tonic_reflection::pb::v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        ServerReflectionRequest,
    };
    let channel = tonic::transport::Channel::from_shared(endpoint)?
        .connect()
        .await?;
    let client = ServerReflectionClient::new(channel);
    let ask = |request: MessageRequest| {
        let mut client = client.clone();
        async move {
            let request = ServerReflectionRequest {
                host: String::new(),
                message_request: Some(request),
            };
            let mut responses = client
                .server_reflection_info(tokio_stream::iter([request]))
                .await?
                .into_inner();
            responses
                .message()
                .await?
                .and_then(|r| r.message_response)
                .context("no reflection response")
        }
    };
    let Some(MessageResponse::ListServicesResponse(list)) =
        Some(ask(MessageRequest::ListServices(String::new())).await?)
    else {
        anyhow::bail!("unexpected answer to ListServices");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "cosmos.auth.v1beta1.Query",
        "cosmos.bank.v1beta1.Query",
        "cosmos.tx.v1beta1.Service",
        "cosmos.base.tendermint.v1beta1.Service",
    ] {
        ensure!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let answer = ask(MessageRequest::FileContainingSymbol(
        "cosmos.bank.v1beta1.Query".into(),
    ))
    .await?;
    let MessageResponse::FileDescriptorResponse(files) = answer else {
        anyhow::bail!("unexpected answer to FileContainingSymbol: {answer:?}");
    };
    let file = prost_types::FileDescriptorProto::decode(
        files
            .file_descriptor_proto
            .first()
            .context("no descriptor")?
            .as_slice(),
    )?;
    ensure!(
        file.service
            .iter()
            .any(|s| s.name() == "Query" && s.method.iter().any(|m| m.name() == "AllBalances")),
        "bank query descriptor lacks AllBalances: {:?}",
        file.name
    );
    Ok(())
}

/// Runs `tests/cosmjs/<script>` with `env` (installing cosmjs first) and parses the JSON it
/// prints.
fn cosmjs(script: &str, env: &[(&str, &str)]) -> Result<serde_json::Value> {
    let dir = workspace_root().join("tests/cosmjs");
    let npm = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .context("running npm (Node.js is needed for the cosmjs compatibility test)")?;
    ensure!(npm.success(), "npm install failed");
    let out = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .envs(env.iter().copied())
        .output()?;
    ensure!(
        out.status.success(),
        "cosmjs {script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn cosmjs_checks(rpc: &str, mnemonic: &str, recipient: &str) -> Result<serde_json::Value> {
    cosmjs(
        "send.mjs",
        &[
            ("RPC", rpc),
            ("MNEMONIC", mnemonic),
            ("RECIPIENT", recipient),
        ],
    )
}

/// GET `url` from the REST gateway: (HTTP status, JSON body).
fn rest_get(url: &str, height: Option<u64>) -> Result<(u16, serde_json::Value)> {
    let mut request = reqwest::blocking::Client::new().get(url);
    if let Some(h) = height {
        request = request.header("x-cosmos-block-height", h.to_string());
    }
    let response = request.send().with_context(|| format!("GET {url}"))?;
    let status = response.status().as_u16();
    let echoed = response
        .headers()
        .get("x-cosmos-block-height")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    if let (Some(h), 200) = (height, status) {
        ensure!(
            echoed == Some(h.to_string()),
            "GET {url}: height header {echoed:?}"
        );
    }
    let body = response
        .json()
        .with_context(|| format!("GET {url}: not JSON"))?;
    Ok((status, body))
}

fn rest_post(url: &str, body: serde_json::Value) -> Result<serde_json::Value> {
    let response = reqwest::blocking::Client::new()
        .post(url)
        .json(&body)
        .send()
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json()?;
    ensure!(status.is_success(), "POST {url}: {status} {body}");
    Ok(body)
}

fn rest_uusdc(rest: &str, address: &str) -> Result<u128> {
    let url = format!("{rest}/cosmos/bank/v1beta1/balances/{address}/by_denom?denom=uusdc");
    let (status, body) = rest_get(&url, None)?;
    ensure!(status == 200, "{url}: {status} {body}");
    Ok(body["balance"]["amount"]
        .as_str()
        .context("no amount")?
        .parse()?)
}

/// What Keplr reads: the account (standard JSON, `@type` included), balances, node info; and an
/// unknown account answered as a Cosmos SDK node answers it.
fn rest_reads(rest: &str, alice: &str) -> Result<()> {
    let (status, body) = rest_get(
        &format!("{rest}/cosmos/auth/v1beta1/accounts/{alice}"),
        None,
    )?;
    ensure!(status == 200, "account: {status} {body}");
    let account = &body["account"];
    ensure!(
        account["@type"] == "/cosmos.auth.v1beta1.BaseAccount",
        "{body}"
    );
    ensure!(account["address"] == alice, "{body}");
    ensure!(account["account_number"].is_string(), "{body}");
    ensure!(account["sequence"].is_string(), "{body}");

    let (status, body) = rest_get(
        &format!("{rest}/cosmos/bank/v1beta1/balances/{alice}"),
        None,
    )?;
    ensure!(status == 200, "balances: {status} {body}");
    let balances = body["balances"].as_array().context("no balances list")?;
    ensure!(
        balances
            .iter()
            .any(|c| c["denom"] == "uusdc" && c["amount"].as_str().is_some_and(|a| a != "0")),
        "{body}"
    );
    // An earlier height through the standard header, echoed back.
    let url = format!("{rest}/cosmos/bank/v1beta1/balances/{alice}?pagination.limit=10");
    let (status, body) = rest_get(&url, Some(1))?;
    ensure!(status == 200, "balances at height 1: {status} {body}");

    let missing = never_seen_address();
    let (status, body) = rest_get(
        &format!("{rest}/cosmos/auth/v1beta1/accounts/{missing}"),
        None,
    )?;
    ensure!(status == 404, "unknown account: {status} {body}");
    ensure!(body["code"] == 5, "{body}");
    ensure!(body["details"] == serde_json::json!([]), "{body}");
    ensure!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("rpc error: code = NotFound desc = ")),
        "{body}"
    );

    let (status, body) = rest_get(
        &format!("{rest}/cosmos/base/tendermint/v1beta1/node_info"),
        None,
    )?;
    ensure!(status == 200, "node_info: {status} {body}");
    ensure!(
        body["default_node_info"]["network"] == "surety-localnet",
        "{body}"
    );

    let (status, body) = rest_get(&format!("{rest}/cosmos/staking/v1beta1/validators"), None)?;
    ensure!(status == 200, "validators: {status} {body}");
    ensure!(
        body["validators"].as_array().is_some_and(|v| v.len() == 1),
        "{body}"
    );
    Ok(())
}

/// Keplr's send: sign offline (cosmjs), simulate and broadcast over REST, poll the tx over REST.
fn rest_send(rest: &str, mnemonic: &str, recipient: &str) -> Result<()> {
    let amount: u128 = 777;
    let signed = cosmjs(
        "sign.mjs",
        &[
            ("REST", rest),
            ("MNEMONIC", mnemonic),
            ("RECIPIENT", recipient),
            ("AMOUNT", &amount.to_string()),
        ],
    )?;
    ensure!(
        signed["accountType"] == "/cosmos.auth.v1beta1.BaseAccount",
        "{signed}"
    );
    ensure!(signed["chainId"] == "surety-localnet", "{signed}");
    let tx_bytes = signed["txBytes"].as_str().context("no txBytes")?;

    let simulated = rest_post(
        &format!("{rest}/cosmos/tx/v1beta1/simulate"),
        serde_json::json!({"tx_bytes": tx_bytes}),
    )?;
    let gas_used: u64 = simulated["gas_info"]["gas_used"]
        .as_str()
        .context("no gas_used")?
        .parse()?;
    ensure!(gas_used > 0, "{simulated}");
    ensure!(simulated["result"].is_object(), "{simulated}");

    let before = rest_uusdc(rest, recipient)?;
    let broadcast = rest_post(
        &format!("{rest}/cosmos/tx/v1beta1/txs"),
        serde_json::json!({"tx_bytes": tx_bytes, "mode": "BROADCAST_MODE_SYNC"}),
    )?;
    let response = &broadcast["tx_response"];
    ensure!(response["code"] == 0, "broadcast rejected: {broadcast}");
    ensure!(response["height"] == "0", "{broadcast}");
    let hash = response["txhash"].as_str().context("no txhash")?;
    ensure!(
        hash.len() == 64
            && hash
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
        "txhash {hash}"
    );

    let deadline = Instant::now() + WAIT;
    let committed = loop {
        let (status, body) = rest_get(&format!("{rest}/cosmos/tx/v1beta1/txs/{hash}"), None)?;
        match status {
            200 => break body,
            404 if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(250)),
            _ => anyhow::bail!("tx {hash}: {status} {body}"),
        }
    };
    let response = &committed["tx_response"];
    ensure!(response["code"] == 0, "tx failed: {committed}");
    ensure!(response["txhash"] == hash, "{committed}");
    let height: u64 = response["height"].as_str().context("height")?.parse()?;
    ensure!(height > 0, "{committed}");
    let gas_used: u64 = response["gas_used"].as_str().context("gas_used")?.parse()?;
    ensure!(gas_used > 0, "{committed}");
    ensure!(response["gas_wanted"] == "200000", "{committed}");
    ensure!(
        committed["tx"]["body"]["messages"][0]["@type"] == "/cosmos.bank.v1beta1.MsgSend",
        "{committed}"
    );

    let after = rest_uusdc(rest, recipient)?;
    ensure!(
        after == before + amount,
        "recipient went from {before} to {after} uusdc"
    );
    Ok(())
}

#[test]
fn standard_cosmos_clients_work_unchanged() -> Result<()> {
    let mut t = TestNet::create_and_start("clients", 1)?;
    let net = t.net();
    let alice = net.account("alice")?.clone();
    let bob = net.account("bob")?.clone();
    let grpc = format!("http://{}", net.endpoints(0).grpc);
    let rpc = net.rpc_url(0);

    let rest = net.endpoints(0).rest;

    step("gRPC: bank, auth and node info through tonic clients");
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(grpc_checks(grpc.clone(), alice.address.clone()))?;

    step("gRPC reflection: services listed and described");
    runtime.block_on(reflection_checks(grpc))?;

    step("cosmjs: read an account and balances, sign and broadcast a MsgSend with fee auto");
    let r = cosmjs_checks(&rpc, &alice.mnemonic, &bob.address)?;
    ensure!(r["code"] == 0, "cosmjs tx failed: {r}");
    ensure!(r["missingAccountIsNull"] == true, "{r}");
    ensure!(r["chainId"] == "surety-localnet", "{r}");
    ensure!(
        r["msgResponses"][0] == "/cosmos.bank.v1beta1.MsgSendResponse",
        "{r}"
    );
    let before: u128 = r["before"].as_str().context("before")?.parse()?;
    let after: u128 = r["after"].as_str().context("after")?.parse()?;
    ensure!(
        after == before + 4242,
        "recipient went from {before} to {after}"
    );

    step(
        "REST (LCD): account, balances, node info, validators and a NotFound, as Keplr reads them",
    );
    rest_reads(&rest, &alice.address)?;

    step(
        "REST (LCD): a MsgSend signed offline by cosmjs, simulated, broadcast and found over REST",
    );
    rest_send(&rest, &alice.mnemonic, &bob.address)?;
    Ok(())
}
