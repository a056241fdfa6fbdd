//! Oracle votes in ABCI vote extensions on a 4-validator localnet, end to end: prices follow the
//! simulated feed; one wild validator does not move the median and one offline validator does
//! not stop prices; a depeg pays depeg cover by itself; an incident attested by 3 of 4
//! validators (in their vote extensions) pays protocol cover, while one attested by 1 of 4 (with
//! `MsgAttestIncident`) is rejected and its bond forfeited; bad input changes nothing.

use anyhow::{ensure, Context, Result};
use surety_e2e::{amount, event_attr, eventually, step, TestNet};

const USDC: u128 = 1_000_000;

#[test]
fn oracle_votes_drive_parametric_cover_on_four_validators() {
    let mut net = TestNet::create_and_start("oracle", 4)
        .unwrap_or_else(|e| panic!("starting the localnet: {e:#}"));
    if let Err(e) = scenario(&mut net) {
        panic!("{e:#}");
    }
}

fn scenario(net: &mut TestNet) -> Result<()> {
    let c = net.client.clone();
    net.net().seed_market()?;
    let price = |feed: &str| -> Result<(String, u64)> {
        let v = c.query(&["query", "oracle", "price", feed])?;
        Ok((
            v["price"].as_str().unwrap_or_default().to_owned(),
            v["height"].as_str().unwrap_or("0").parse()?,
        ))
    };

    step("validators' vote extensions produce prices block after block");
    let (_, h0) = price("USDC/USD")?;
    let (p, h1) = eventually("a fresh USDC/USD price", 60, || {
        let (p, h) = price("USDC/USD")?;
        Ok((h > h0 + 2).then_some((p, h)))
    })?;
    ensure!(p == "1.000000000000000000", "USDC/USD {p} at {h1}");

    step("validator 3 reports ETH at 1000× the others: the median does not move");
    net.net().set_price(Some(3), "ETH/USD", "3000000")?;
    let (_, h) = price("ETH/USD")?;
    eventually("ETH/USD prices after the wild report", 60, || {
        Ok((price("ETH/USD")?.1 > h + 3).then_some(()))
    })?;
    let history = c.query(&["query", "oracle", "history", "ETH/USD", "--limit", "3"])?;
    for p in history["prices"].as_array().context("history")? {
        ensure!(
            p["price"] == "3000.000000000000000000",
            "median moved: {history}"
        );
    }

    step("validator 3 goes offline: 3 of 4 still carry prices");
    net.net().stop_node(3)?;
    let (_, h) = price("USDC/USD")?;
    eventually("prices without validator 3", 90, || {
        Ok((price("USDC/USD")?.1 > h + 3).then_some(()))
    })?;
    net.net().restart_node(3)?;

    let bob = net.account("bob")?.address.clone();
    let alice = net.account("alice")?.address.clone();
    let carol = net.account("carol")?.address.clone();

    step("bob buys USDC depeg cover; alice buys Aave protocol cover");
    let bought = c.tx(
        &["tx", "policy", "buy", "2", "10000000000uusdc", "30"],
        "bob",
    )?;
    let depeg_policy = event_attr(&bought, "cover_bought", "policy_id")?;
    let bought = c.tx(
        &["tx", "policy", "buy", "1", "10000000000uusdc", "30"],
        "alice",
    )?;
    let aave_policy = event_attr(&bought, "cover_bought", "policy_id")?;

    step("USDC falls to 0.90 for the product's 60 s: bob is paid without filing anything");
    let before = c.balance(&bob, "uusdc", 0)?;
    net.net().set_price(None, "USDC/USD", "0.9")?;
    let claims = eventually("the automatic depeg payout", 180, || {
        let v = c.query(&["query", "claims", "claims", "--policy", &depeg_policy])?;
        Ok(v["claims"].as_array().filter(|a| !a.is_empty()).cloned())
    })?;
    ensure!(claims[0]["status"] == "paid", "{claims:?}");
    // 10 000 × (1 − 0.90), the price having held at 0.90 through the whole window.
    ensure!(amount(&claims[0]["payout"])? == 1_000 * USDC, "{claims:?}");
    ensure!(c.balance(&bob, "uusdc", 0)? - before == 1_000 * USDC);

    step("USDC recovers: nothing more is paid");
    net.net().set_price(None, "USDC/USD", "1.0")?;
    let paid_so_far = c.balance(&bob, "uusdc", 0)?;
    let (_, h) = price("USDC/USD")?;
    eventually("USDC back at par", 60, || {
        let (p, height) = price("USDC/USD")?;
        Ok((p == "1.000000000000000000" && height > h + 2).then_some(()))
    })?;
    ensure!(
        c.balance(&bob, "uusdc", 0)? == paid_so_far,
        "paid again after recovery"
    );

    step("an Aave incident, attested by 3 of 4 validators in their vote extensions, pays alice");
    let when = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        - 5)
    .to_string();
    let reported = c.tx(
        &[
            "tx",
            "oracle",
            "report-incident",
            "aave-v3",
            &when,
            "oracle manipulation drained the pool",
        ],
        "carol",
    )?;
    let incident = event_attr(&reported, "incident_reported", "incident_id")?;
    let before = c.balance(&alice, "uusdc", 0)?;
    for i in 0..3 {
        net.net().attest(Some(i), incident.parse()?, true)?;
    }
    let confirmed = eventually("the incident's confirmation", 90, || {
        let v = c.query(&["query", "oracle", "incident", &incident])?;
        Ok((v["status"] != "pending").then_some(v))
    })?;
    ensure!(confirmed["status"] == "confirmed", "{confirmed}");
    let claims = eventually("alice's automatic payout", 30, || {
        let v = c.query(&["query", "claims", "claims", "--policy", &aave_policy])?;
        Ok(v["claims"].as_array().filter(|a| !a.is_empty()).cloned())
    })?;
    // 10 000 × (1 − 5% deductible).
    ensure!(amount(&claims[0]["payout"])? == 9_500 * USDC, "{claims:?}");
    ensure!(c.balance(&alice, "uusdc", 0)? - before == 9_500 * USDC);

    step("a report attested by 1 of 4 (MsgAttestIncident) is rejected when its window closes; the bond is forfeited");
    let carol_before = c.balance(&carol, "usure", 0)?;
    let reported = c.tx(
        &[
            "tx",
            "oracle",
            "report-incident",
            "aave-v3",
            &when,
            "rumour",
        ],
        "carol",
    )?;
    let rumour = event_attr(&reported, "incident_reported", "incident_id")?;
    let v0 = net.net().node_home(0);
    c.tx_in(
        &["tx", "oracle", "attest", &rumour, "yes"],
        "validator",
        &v0,
    )?;
    let decided = eventually("the rumour's rejection", 150, || {
        let v = c.query(&["query", "oracle", "incident", &rumour])?;
        Ok((v["status"] != "pending").then_some(v))
    })?;
    ensure!(decided["status"] == "rejected", "{decided}");
    let spent = carol_before - c.balance(&carol, "usure", 0)?;
    ensure!(
        spent >= 100_000_000,
        "carol's 100 SURE bond is gone (spent {spent}usure incl. fees)"
    );

    step("bad input: unknown feed, unlisted protocol, attestation after the window");
    ensure!(c.query(&["query", "oracle", "price", "DOGE/USD"]).is_err());
    let unlisted = c.tx(
        &[
            "tx",
            "oracle",
            "report-incident",
            "not-a-protocol",
            &when,
            "x",
        ],
        "carol",
    );
    ensure!(
        format!("{:#}", unlisted.unwrap_err()).contains("not covered"),
        "unlisted protocol accepted"
    );
    let late = c.tx_in(
        &["tx", "oracle", "attest", &rumour, "yes"],
        "validator",
        &net.net().node_home(1),
    );
    ensure!(
        format!("{:#}", late.unwrap_err()).contains("window closed"),
        "late attestation accepted"
    );
    Ok(())
}
