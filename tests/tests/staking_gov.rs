//! Validators and governance on a 4-validator localnet, through the `suretyd` CLI and
//! CometBFT's own `/validators`: a delegation changes voting power in CometBFT; a validator
//! stopped long enough is jailed, and unjailed after its jail time; a new validator joins the
//! set; a proposal — deposited, voted, passed — changes `max_validators`, so the smallest
//! validator leaves the set; and of three more, one is vetoed (its deposit burned), one misses
//! quorum and one fails on its second message, rolling back its first.

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use std::time::Duration;
use surety_e2e::{eventually, step, TestNet};

const SURE: u128 = 1_000_000;

/// CometBFT's validator set at node 0: (address, voting power).
fn cometbft_validators(rpc: &str) -> Result<Vec<(String, u64)>> {
    let v: Value = reqwest::blocking::get(format!("{rpc}/validators?per_page=100"))?.json()?;
    v["result"]["validators"]
        .as_array()
        .context("no validators in /validators")?
        .iter()
        .map(|x| {
            Ok((
                x["address"].as_str().unwrap_or_default().to_owned(),
                x["voting_power"].as_str().unwrap_or("0").parse()?,
            ))
        })
        .collect()
}

#[test]
fn staking_slashing_and_governance_drive_the_cometbft_validator_set() {
    let mut net = TestNet::create_and_start("staking-gov", 4)
        .unwrap_or_else(|e| panic!("starting the localnet: {e:#}"));
    if let Err(e) = scenario(&mut net) {
        panic!("{e:#}");
    }
}

fn scenario(net: &mut TestNet) -> Result<()> {
    let c = net.client.clone();
    let rpc = net.net().rpc_url(0);
    let manifest = net.net().manifest().context("manifest")?.clone();
    let valoper = |i: usize| manifest.nodes[i].valoper.clone().context("no valoper");
    let power_of = |valoper: &str| -> Result<String> {
        let v = c.query(&["query", "staking", "validator", valoper])?;
        Ok(v["tokens"].as_str().unwrap_or_default().to_owned())
    };
    let total_power =
        || -> Result<u64> { Ok(cometbft_validators(&rpc)?.iter().map(|(_, p)| p).sum()) };

    step("alice delegates 1 000 SURE to validator 0: CometBFT's set shows it within two blocks");
    let before = total_power()?;
    let v0 = valoper(0)?;
    let tx = c.tx(
        &["tx", "staking", "delegate", &v0, "1000000000usure"],
        "alice",
    )?;
    net.net()
        .wait_for_height(tx.height + 2, Duration::from_secs(30))?;
    ensure!(
        total_power()? == before + 1_000,
        "power {} → {}",
        before,
        total_power()?
    );
    ensure!(
        power_of(&v0)? == format!("{}usure", 101_000 * SURE),
        "validator 0: {}",
        power_of(&v0)?
    );

    step("validator 3 stops: after half its 30-block window it is jailed and leaves the set");
    net.net().stop_node(3)?;
    let v3 = valoper(3)?;
    eventually("validator 3 jailed", 120, || {
        let v = c.query(&["query", "staking", "validator", &v3])?;
        Ok((v["jailed"] == true).then_some(()))
    })?;
    eventually("CometBFT dropping validator 3", 30, || {
        Ok((cometbft_validators(&rpc)?.len() == 3).then_some(()))
    })?;
    net.net().restart_node(3)?;
    let home3 = net.net().node_home(3);
    let early = c.tx_in(&["tx", "slashing", "unjail"], "validator", &home3);
    ensure!(
        format!("{:#}", early.unwrap_err()).contains("still jailed"),
        "unjailed before its time"
    );

    step("after its 30 s in jail, validator 3 unjails and is back");
    std::thread::sleep(Duration::from_secs(31));
    c.tx_in(&["tx", "slashing", "unjail"], "validator", &home3)?;
    eventually("validator 3 back in CometBFT's set", 30, || {
        Ok((cometbft_validators(&rpc)?.len() == 4).then_some(()))
    })?;

    step("a new validator with 10 SURE joins the set");
    let newbie = net.net().root().join("newbie");
    let h = newbie.to_string_lossy().into_owned();
    let sd = net.net().suretyd();
    sd.run_ok(&["init", "newbie", "--chain-id", &c.chain_id, "--home", &h])?;
    let key = sd.run_json(&[
        "keys",
        "add",
        "op",
        "--keyring-backend",
        "test",
        "--home",
        &h,
        "--output",
        "json",
    ])?;
    let address = key["address"].as_str().context("key address")?.to_owned();
    c.bank_send("alice", &address, "100000000usure", 0)?;
    c.tx_in(
        &["tx", "staking", "create-validator", "10000000usure"],
        "op",
        &newbie,
    )?;
    eventually("the new validator in CometBFT's set", 30, || {
        Ok(cometbft_validators(&rpc)?
            .iter()
            .any(|(_, p)| *p == 10)
            .then_some(()))
    })?;

    step("governance: submit, deposit, vote, pass — max_validators 4 drops the smallest");
    let gov = bech32_of("surety", &gov_account());
    let proposal = serde_json::json!({
        "messages": [{
            "@type": "/cosmos.staking.v1beta1.MsgUpdateParams",
            "authority": gov,
            "params": {
                "unbonding_time": "120s",
                "max_validators": 4,
                "max_entries": 7,
                "historical_entries": 10000,
                "bond_denom": "usure",
                "min_commission_rate": "0"
            }
        }],
        "deposit": "5000000usure",
        "title": "Four validators",
        "summary": "Cap the active set at four."
    });
    let net_root = net.net().root().to_path_buf();
    let file = net_root.join("proposal.json");
    std::fs::write(&file, serde_json::to_string_pretty(&proposal)?)?;
    c.tx(
        &["tx", "gov", "submit-proposal", &file.to_string_lossy()],
        "alice",
    )?;
    let id = "1";
    let p = c.query(&["query", "gov", "proposal", id])?;
    ensure!(p["status"] == "PROPOSAL_STATUS_DEPOSIT_PERIOD", "{p}");
    c.tx(&["tx", "gov", "deposit", id, "5000000usure"], "bob")?;
    let p = c.query(&["query", "gov", "proposal", id])?;
    ensure!(p["status"] == "PROPOSAL_STATUS_VOTING_PERIOD", "{p}");
    for i in 0..3 {
        c.tx_in(
            &["tx", "gov", "vote", id, "yes"],
            "validator",
            &net.net().node_home(i),
        )?;
    }
    let p = eventually("the proposal's end", 120, || {
        let p = c.query(&["query", "gov", "proposal", id])?;
        Ok((p["status"] != "PROPOSAL_STATUS_VOTING_PERIOD").then_some(p))
    })?;
    ensure!(p["status"] == "PROPOSAL_STATUS_PASSED", "{p}");
    let params = c.query(&["query", "staking", "params"])?;
    ensure!(params["max_validators"] == 4, "{params}");
    eventually("the smallest validator leaving CometBFT's set", 30, || {
        let set = cometbft_validators(&rpc)?;
        Ok((set.len() == 4 && !set.iter().any(|(_, p)| *p == 10)).then_some(()))
    })?;

    step("three more proposals at once: one vetoed, one short of quorum, one whose second message fails");
    let supply = |c: &surety_e2e::Client| -> Result<u128> {
        let v = c.query(&["query", "bank", "total"])?;
        v["supply"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["denom"] == "usure"))
            .and_then(|x| x["amount"].as_str())
            .context("no usure supply")?
            .parse()
            .context("supply")
    };
    let pause = |product: u64| {
        serde_json::json!({
            "@type": "/surety.policy.v1.MsgSetProductPaused",
            "authority": gov.clone(),
            "product_id": product.to_string(),
            "paused": true
        })
    };
    let submit = |name: &str, messages: Vec<Value>| -> Result<()> {
        let file = net_root.join(format!("{name}.json"));
        let body = serde_json::json!({
            "messages": messages,
            "deposit": "10000000usure",
            "title": name,
            "summary": ""
        });
        std::fs::write(&file, serde_json::to_string(&body)?)?;
        c.tx(
            &["tx", "gov", "submit-proposal", &file.to_string_lossy()],
            "alice",
        )?;
        Ok(())
    };
    let before = supply(&c)?;
    submit("vetoed", vec![pause(1)])?;
    submit("quiet", vec![pause(2)])?;
    submit("failing", vec![pause(3), pause(99)])?;
    for i in 0..3 {
        let home = net.net().node_home(i);
        c.tx_in(
            &["tx", "gov", "vote", "2", "no_with_veto"],
            "validator",
            &home,
        )?;
        c.tx_in(&["tx", "gov", "vote", "4", "yes"], "validator", &home)?;
    }
    c.tx_in(
        &["tx", "gov", "vote", "3", "yes"],
        "validator",
        &net.net().node_home(3),
    )?;
    let status = |id: &str| -> Result<Value> { c.query(&["query", "gov", "proposal", id]) };
    eventually("the three proposals' end", 120, || {
        let done = ["2", "3", "4"].iter().all(|id| {
            status(id)
                .map(|p| p["status"] != "PROPOSAL_STATUS_VOTING_PERIOD")
                .unwrap_or(false)
        });
        Ok(done.then_some(()))
    })?;
    let (vetoed, quiet, failing) = (status("2")?, status("3")?, status("4")?);
    ensure!(
        vetoed["status"] == "PROPOSAL_STATUS_REJECTED" && vetoed["failed_reason"] == "vetoed",
        "{vetoed}"
    );
    ensure!(
        quiet["status"] == "PROPOSAL_STATUS_REJECTED"
            && quiet["failed_reason"] == "quorum not reached",
        "{quiet}"
    );
    ensure!(failing["status"] == "PROPOSAL_STATUS_FAILED", "{failing}");
    ensure!(
        supply(&c)? == before - 10 * SURE,
        "only the vetoed deposit is burned"
    );
    let product3 = c.query(&["query", "policy", "product", "3"])?;
    ensure!(
        product3["paused"] == false,
        "the failing proposal's first message was rolled back: {product3}"
    );

    step("bad input: delegate to an unknown validator, unbond more than delegated, vote on a closed proposal");
    let unknown = bech32_of("suretyvaloper", &[7; 20]);
    let err = c
        .tx(&["tx", "staking", "delegate", &unknown, "1usure"], "alice")
        .unwrap_err();
    ensure!(format!("{err:#}").contains("does not exist"), "{err:#}");
    ensure!(c
        .tx(
            &["tx", "staking", "unbond", &v0, "2000000000usure"],
            "alice"
        )
        .is_err());
    let closed = c.tx_in(
        &["tx", "gov", "vote", id, "no"],
        "validator",
        &net.net().node_home(1),
    );
    ensure!(format!("{:#}", closed.unwrap_err()).contains("inactive proposal"));
    Ok(())
}

/// The gov module account's bytes: sha256("gov")[..20].
fn gov_account() -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(b"gov")[..20].to_vec()
}

fn bech32_of(prefix: &str, bytes: &[u8]) -> String {
    bech32::encode::<bech32::Bech32>(bech32::Hrp::parse(prefix).expect("prefix"), bytes)
        .expect("bech32")
}
