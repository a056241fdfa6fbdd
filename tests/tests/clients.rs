//! Standard Cosmos clients against a real node, unchanged: tonic clients generated from the
//! Cosmos SDK protos over gRPC, and cosmjs's `SigningStargateClient` through CometBFT RPC.

use anyhow::{ensure, Context, Result};
use std::process::Command;
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

fn cosmjs_checks(rpc: &str, mnemonic: &str, recipient: &str) -> Result<serde_json::Value> {
    let dir = workspace_root().join("tests/cosmjs");
    let npm = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .context("running npm (Node.js is needed for the cosmjs compatibility test)")?;
    ensure!(npm.success(), "npm install failed");
    let out = Command::new("node")
        .arg("send.mjs")
        .current_dir(&dir)
        .env("RPC", rpc)
        .env("MNEMONIC", mnemonic)
        .env("RECIPIENT", recipient)
        .output()?;
    ensure!(
        out.status.success(),
        "cosmjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

#[test]
fn standard_cosmos_clients_work_unchanged() -> Result<()> {
    if skip_requested() {
        return Ok(());
    }
    let mut t = TestNet::create_and_start("clients", 1)?;
    let net = t.net();
    let alice = net.account("alice")?.clone();
    let bob = net.account("bob")?.clone();
    let grpc = format!("http://{}", net.endpoints(0).grpc);
    let rpc = net.rpc_url(0);

    step("gRPC: bank, auth and node info through tonic clients");
    tokio::runtime::Runtime::new()?.block_on(grpc_checks(grpc, alice.address.clone()))?;

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
    Ok(())
}
