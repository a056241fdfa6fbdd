//! Cross-chain cover with real processes: a Surety chain (`surety-a-1`) and an ibc-go v8 `simd`
//! chain (`simd-1`) linked by the stock Hermes. A user on `simd-1` receives USDC over ICS-20,
//! buys Surety depeg cover with one ordinary `simd tx ibc-transfer transfer` whose memo carries
//! the order, gets the unspent change back, deposits into a pool the same way, and has a
//! malformed order refunded by ICS-20. When USDC depegs, the payout arrives on `simd-1`: its
//! first packet times out while Hermes is stopped, is refunded to the remote account and sent
//! again, and is delivered once. A second test links two Surety chains.
//!
//! Needs Hermes and simd (built once into a cache by `scripts/install-ibc-tools.sh`).

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use std::time::{Duration, Instant};
use surety_e2e::{amount, eventually, step, TestNet};
use surety_localnet::ibc::{
    connect_surety, ibc_denom, link_chains, HermesChain, IbcTools, SimdChain, SimdOptions,
    SimdPorts, SuretyChainRef, RELAYER_MNEMONIC, TRANSFER_PORT,
};

const SURETY: &str = "surety-a-1";
const SIMD: &str = "simd-1";
const SIMD_PORTS: u16 = 21600;
const USDC: u128 = 1_000_000;

#[test]
fn cover_bought_from_an_ibc_chain_pays_out_there() {
    let tools = IbcTools::locate().unwrap_or_else(|e| panic!("simd/hermes not available: {e:#}"));
    let mut net = TestNet::create_and_start_chain("ibc", 1, SURETY)
        .unwrap_or_else(|e| panic!("starting {SURETY}: {e:#}"));
    if let Err(e) = scenario(&tools, &mut net) {
        panic!("{e:#}");
    }
}

fn scenario(tools: &IbcTools, net: &mut TestNet) -> Result<()> {
    let c = net.client.clone();
    let root = net.net().root().to_path_buf();
    let started = Instant::now();
    step("the localnet seeds its demo pools");
    net.net().seed_market()?;

    step(format!("{SIMD}: a single-validator ibc-go chain"));
    let mut simd = SimdChain::new(
        &tools.simd,
        SimdOptions::new(&root, SIMD, SimdPorts::block(SIMD_PORTS)?),
    );
    simd.create()?;
    simd.start()?;

    step("Hermes: clients, connection and a transfer channel, then `hermes start`");
    let t = Instant::now();
    let ports = net.net().ports(0);
    let surety = SuretyChainRef {
        chain_id: SURETY.into(),
        rpc_port: ports.rpc,
        grpc_port: ports.grpc,
        relayer_mnemonic: RELAYER_MNEMONIC.into(),
    };
    let mut links = connect_surety(tools, &root.join("ibc"), &[surety], &simd)?;
    let ch = links
        .channel(SURETY, SIMD)
        .context("channel recorded")?
        .clone();
    step(format!(
        "linked in {:.1?}: {SURETY} {} <-> {SIMD} {}",
        t.elapsed(),
        ch.a.channel_id,
        ch.b.channel_id
    ));
    let channel = c.query(&["query", "ibc", "channel", TRANSFER_PORT, &ch.a.channel_id])?;
    ensure!(
        channel["state"] == "STATE_OPEN",
        "channel end on {SURETY}: {channel}"
    );

    let user = simd.account("user").context("simd user")?.address.clone();
    let usdc_on_simd = ibc_denom(TRANSFER_PORT, &ch.b.channel_id, "uusdc");

    step("ICS-20 out: alice sends 50 USDC to the simd user");
    let t = Instant::now();
    c.tx(
        &[
            "tx",
            "ibc-transfer",
            "transfer",
            TRANSFER_PORT,
            &ch.a.channel_id,
            &user,
            "50000000uusdc",
        ],
        "alice",
    )?;
    wait_simd(
        &simd,
        &user,
        &usdc_on_simd,
        |b| b == 50 * USDC,
        "50 USDC on simd",
    )?;
    step(format!("arrived as {usdc_on_simd} in {:.1?}", t.elapsed()));

    step("the simd user buys 1 000 USDC of depeg cover for 30 days with one transfer");
    let remote = c.query(&["query", "ibc", "remote-account", &ch.a.channel_id, &user])?;
    let account = remote["address"]
        .as_str()
        .context("remote account address")?
        .to_owned();
    let quote = c.query(&["query", "policy", "quote", "2", "1000000000uusdc", "30"])?;
    let premium = amount(&quote["premium"])?;
    let memo = format!(
        r#"{{"surety":{{"buy_cover":{{"product_id":"2","cover":"1000000000","days":30,"max_premium":"{}"}}}}}}"#,
        premium * 2
    );
    let t = Instant::now();
    simd.ibc_transfer(
        "user",
        &ch.b.channel_id,
        &account,
        &format!("{}{usdc_on_simd}", 10 * USDC),
        Some(&memo),
    )?;
    let policies = eventually("the policy bought from simd", 60, || {
        let v = c.query(&["query", "policy", "policies", "--owner", &account])?;
        Ok(v["policies"].as_array().filter(|a| !a.is_empty()).cloned())
    })?;
    let bought_in = t.elapsed();
    let policy_id = policies[0]["id"].as_str().unwrap_or_default().to_owned();
    ensure!(policies[0]["status"] == "active", "{policies:?}");
    // The change (10 USDC minus the premium) comes home.
    wait_simd(
        &simd,
        &user,
        &usdc_on_simd,
        |b| b == 50 * USDC - premium,
        "the change back on simd",
    )?;
    step(format!(
        "policy {policy_id} bought in {bought_in:.1?}, premium {premium}uusdc; change home after {:.1?}",
        t.elapsed()
    ));

    step("the simd user also provides capital: 5 USDC into pool 1 by memo");
    let deposit = r#"{"surety":{"deposit":{"pool_id":"1"}}}"#;
    let before = simd.balance(&user, &usdc_on_simd)?;
    simd.ibc_transfer(
        "user",
        &ch.b.channel_id,
        &account,
        &format!("{}{usdc_on_simd}", 5 * USDC),
        Some(deposit),
    )?;
    let position = eventually("the remote account's pool position", 60, || {
        // No position is an error until the deposit lands.
        let Ok(v) = c.query(&["query", "pool", "position", "1", &account]) else {
            return Ok(None);
        };
        Ok((amount(&v["value"]).unwrap_or(0) > 0).then_some(v))
    })?;
    // Shares are priced with premiums accrued, rounded down in the pool's favour.
    let value = amount(&position["value"])?;
    ensure!(
        value <= 5 * USDC && 5 * USDC - value <= 1,
        "the whole transfer deposited: {position}"
    );
    ensure!(
        simd.balance(&user, &usdc_on_simd)? == before - 5 * USDC,
        "no change for a deposit"
    );

    step("a malformed order is refunded on simd by ICS-20, and nothing stays on Surety");
    let before = simd.balance(&user, &usdc_on_simd)?;
    simd.ibc_transfer(
        "user",
        &ch.b.channel_id,
        &account,
        &format!("{}{usdc_on_simd}", USDC),
        Some(r#"{"surety":{"buy_cover":{"product_id":"2","cover":"oops"}}}"#),
    )?;
    wait_simd(
        &simd,
        &user,
        &usdc_on_simd,
        |b| b < before,
        "the bad order leaving",
    )?;
    wait_simd(&simd, &user, &usdc_on_simd, |b| b == before, "the refund")?;
    ensure!(
        c.balance(&account, "uusdc", 0)? == 0,
        "the remote account holds nothing"
    );

    step("Hermes stops; USDC depegs to 0.90 and the payout leaves for simd");
    links.hermes.stop()?;
    let before = simd.balance(&user, &usdc_on_simd)?;
    net.net().set_price(None, "USDC/USD", "0.9")?;
    let payout = eventually("the payout's packet", 180, || {
        Ok(remittances(&c, &account)?
            .into_iter()
            .find(|r| r["kind"] == "payout" && r["status"] == "in_flight"))
    })?;
    step(format!(
        "payout of {} in flight as packet {}; with no relayer it times out (20 s on the localnet)",
        payout["amount"], payout["packet_sequence"]
    ));
    std::thread::sleep(Duration::from_secs(25));
    ensure!(
        simd.balance(&user, &usdc_on_simd)? == before,
        "nothing arrived without a relayer"
    );

    step("Hermes restarts: the timeout refunds the remote account, the payout is sent again and delivered once");
    let t = Instant::now();
    links.hermes.start()?;
    // 1 000 × (1 − 0.90), the price having held through the product's window.
    wait_simd(
        &simd,
        &user,
        &usdc_on_simd,
        |b| b == before + 100 * USDC,
        "the depeg payout on simd",
    )?;
    step(format!(
        "payout home {:.1?} after Hermes restarted",
        t.elapsed()
    ));
    let done = eventually("both remittances acknowledged", 60, || {
        let all = remittances(&c, &account)?;
        Ok(all
            .iter()
            .all(|r| r["status"] == "delivered")
            .then_some(all))
    })?;
    ensure!(done.len() == 2, "change and payout only: {done:?}");
    let payout = done
        .iter()
        .find(|r| r["kind"] == "payout")
        .context("payout")?;
    ensure!(
        payout["attempts"].as_u64() == Some(2),
        "the payout was sent twice (timed out once): {payout}"
    );
    std::thread::sleep(Duration::from_secs(5));
    ensure!(
        simd.balance(&user, &usdc_on_simd)? == before + 100 * USDC,
        "paid once"
    );
    ensure!(
        c.balance(&account, "uusdc", 0)? == 0,
        "nothing left in the remote account"
    );
    net.net().set_price(None, "USDC/USD", "1.0")?;
    step(format!("whole scenario {:.1?}", started.elapsed()));
    Ok(())
}

fn remittances(c: &surety_e2e::Client, account: &str) -> Result<Vec<Value>> {
    let v = c.query(&["query", "ibc", "remittances", "--account", account])?;
    Ok(v["remittances"].as_array().cloned().unwrap_or_default())
}

fn wait_simd(
    simd: &SimdChain,
    who: &str,
    denom: &str,
    done: impl Fn(u128) -> bool,
    what: &str,
) -> Result<u128> {
    eventually(what, 120, || {
        let b = simd.balance(who, denom)?;
        Ok(done(b).then_some(b))
    })
}

/// Two Surety chains, `surety-a-1` and `surety-b-1`, linked by Hermes: handshakes on both JMT
/// stores, and an ICS-20 round trip of SURE (escrowed on A, a voucher minted on B and burnt
/// when it goes back).
#[test]
fn ics20_round_trip_between_two_surety_chains() {
    let tools = IbcTools::locate().unwrap_or_else(|e| panic!("simd/hermes not available: {e:#}"));
    let mut a = TestNet::create_and_start_chain("ibc-a", 1, "surety-a-1")
        .unwrap_or_else(|e| panic!("starting surety-a-1: {e:#}"));
    let mut b = TestNet::create_and_start_chain("ibc-b", 1, "surety-b-1")
        .unwrap_or_else(|e| panic!("starting surety-b-1: {e:#}"));
    if let Err(e) = round_trip(&tools, &mut a, &mut b) {
        panic!("{e:#}");
    }
}

fn round_trip(tools: &IbcTools, a: &mut TestNet, b: &mut TestNet) -> Result<()> {
    let entry = |net: &mut TestNet, id: &str| {
        let ports = net.net().ports(0);
        HermesChain::surety(id, ports.rpc, ports.grpc, RELAYER_MNEMONIC)
    };
    let chains = vec![entry(a, "surety-a-1"), entry(b, "surety-b-1")];
    let home = a.net().root().join("hermes");
    let t = Instant::now();
    let pair = [("surety-a-1".to_owned(), "surety-b-1".to_owned())];
    let links = link_chains(&tools.hermes, &home, chains, &pair)?;
    let ch = links
        .channel("surety-a-1", "surety-b-1")
        .context("channel recorded")?;
    step(format!(
        "linked in {:.1?}: surety-a-1 {} <-> surety-b-1 {}",
        t.elapsed(),
        ch.a.channel_id,
        ch.b.channel_id
    ));
    let (ca, cb) = (a.client.clone(), b.client.clone());
    let alice = a.account("alice")?.address.clone();
    let bob = b.account("bob")?.address.clone();
    let voucher = ibc_denom(TRANSFER_PORT, &ch.b.channel_id, "usure");

    step("alice on A sends 5 SURE to bob on B");
    let before = ca.balance(&alice, "usure", 0)?;
    let t = Instant::now();
    ca.tx(
        &[
            "tx",
            "ibc-transfer",
            "transfer",
            TRANSFER_PORT,
            &ch.a.channel_id,
            &bob,
            "5000000usure",
        ],
        "alice",
    )?;
    eventually("the voucher on B", 90, || {
        Ok((cb.balance(&bob, &voucher, 0)? == 5_000_000).then_some(()))
    })?;
    step(format!("arrived as {voucher} in {:.1?}", t.elapsed()));
    let trace = cb.query(&["query", "ibc-transfer", "denom-trace", &voucher])?;
    ensure!(
        trace
            .to_string()
            .contains(&format!("transfer/{}", ch.b.channel_id)),
        "denom trace: {trace}"
    );

    step("bob sends 2 SURE of the voucher back to alice");
    let t = Instant::now();
    let back = format!("2000000{voucher}");
    cb.tx(
        &[
            "tx",
            "ibc-transfer",
            "transfer",
            TRANSFER_PORT,
            &ch.b.channel_id,
            &alice,
            &back,
        ],
        "bob",
    )?;
    eventually("2 SURE back on A", 90, || {
        let now = ca.balance(&alice, "usure", 0)?;
        // alice paid 5 SURE and a fee; she is 2 SURE up again.
        Ok((now + 3_000_000 < before && now + 3_000_000 + 100_000 > before).then_some(()))
    })?;
    ensure!(
        cb.balance(&bob, &voucher, 0)? == 3_000_000,
        "voucher burnt on B"
    );
    step(format!("back on A in {:.1?}", t.elapsed()));
    Ok(())
}
