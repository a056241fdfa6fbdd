//! `suretyd export` and a restart from it: a network with live pools, policies, an open claim
//! and an assessor stops; its state is exported; the node's data is wiped and it starts again
//! from the exported genesis at the next height. The new chain's first block must carry the
//! app hash the old chain ended with — every key of every store came back — and the book must
//! read the same through the CLI.

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use std::time::Duration;
use surety_e2e::{event_attr, step, TestNet};

#[test]
fn a_chain_restarts_from_its_export_with_the_same_app_hash() -> Result<()> {
    let mut t = TestNet::create_and_start("export", 1)?;
    let c = t.client.clone();
    t.net().seed_market()?;
    let bob = t.net().account("bob")?.address.clone();

    step("a live book: a deposit, a policy, an assessor and a claim in voting");
    c.tx(&["tx", "pool", "deposit", "1", "10000000000uusdc"], "alice")?;
    let bought = c.tx(
        &["tx", "policy", "buy", "4", "10000000000uusdc", "90"],
        "bob",
    )?;
    let policy_id = event_attr(&bought, "cover_bought", "policy_id")?;
    c.tx(&["tx", "claims", "stake", "1000000000usure"], "carol")?;
    c.tx(
        &[
            "tx",
            "claims",
            "file",
            &policy_id,
            "--loss",
            "1000000000uusdc",
            "--incident",
            "halt",
        ],
        "bob",
    )?;
    let policies = c.query(&["query", "policy", "policies", "--owner", &bob])?;
    let claims = c.query(&["query", "claims", "claims"])?;

    step("stop, export, wipe the node's data and start from the export");
    t.net().stop()?;
    let home = t.net().node_home(0);
    let genesis_path = home.join("exported-genesis.json");
    let sd = t.net().suretyd();
    sd.run_ok(&[
        "export",
        "--home",
        &home.to_string_lossy(),
        "--output-document",
        &genesis_path.to_string_lossy(),
    ])?;
    let genesis: Value = serde_json::from_str(&std::fs::read_to_string(&genesis_path)?)?;
    let exported = &genesis["app_state"]["surety_export"];
    let height: u64 = exported["height"].as_str().context("height")?.parse()?;
    let app_hash = exported["app_hash"]
        .as_str()
        .context("app_hash")?
        .to_owned();
    ensure!(
        genesis["initial_height"] == (height + 1).to_string().as_str(),
        "{}",
        genesis["initial_height"]
    );
    ensure!(
        genesis["validators"]
            .as_array()
            .is_some_and(|v| v.len() == 1),
        "{}",
        genesis["validators"]
    );

    let cometbft = t.net().options().cometbft.clone();
    let comet_home = home.join("cometbft");
    let reset = std::process::Command::new(&cometbft)
        .args(["unsafe-reset-all", "--home"])
        .arg(&comet_home)
        .output()?;
    ensure!(
        reset.status.success(),
        "cometbft unsafe-reset-all: {:?}",
        reset
    );
    std::fs::remove_dir_all(home.join("data").join("application.db"))?;
    std::fs::copy(
        &genesis_path,
        comet_home.join("config").join("genesis.json"),
    )?;
    t.net().start()?;
    t.net()
        .wait_for_height(height + 2, Duration::from_secs(60))?;

    step("the first block after the export carries the exported app hash");
    let block = c.query(&["query", "block", &(height + 1).to_string()])?;
    ensure!(
        block["block"]["header"]["app_hash"] == app_hash.as_str(),
        "block {}: app hash {} after importing {app_hash}",
        height + 1,
        block["block"]["header"]["app_hash"]
    );

    step("the book reads the same: the policy, the claim in voting");
    let after = c.query(&["query", "policy", "policies", "--owner", &bob])?;
    ensure!(after == policies, "policies changed:\n{policies}\n{after}");
    let after = c.query(&["query", "claims", "claims"])?;
    ensure!(after == claims, "claims changed:\n{claims}\n{after}");
    step("and the chain goes on: the assessor votes and the claim is decided");
    c.tx(&["tx", "claims", "vote", "1", "yes"], "carol")?;
    Ok(())
}

#[test]
fn a_rolled_back_node_executes_its_last_block_again_to_the_same_app_hash() -> Result<()> {
    let mut t = TestNet::create_and_start("rollback", 1)?;
    let c = t.client.clone();
    c.tx(&["tx", "pool", "deposit", "1", "10000000000uusdc"], "alice")?;

    step("stop the node; its last height and app hash, from an export");
    t.net().stop()?;
    let home = t.net().node_home(0).to_string_lossy().into_owned();
    let sd = t.net().suretyd();
    let genesis: Value = sd.run_json(&["export", "--home", &home])?;
    let exported = &genesis["app_state"]["surety_export"];
    let last: u64 = exported["height"].as_str().context("height")?.parse()?;
    let last_hash = exported["app_hash"]
        .as_str()
        .context("app_hash")?
        .to_owned();

    step("roll back one height: CometBFT's state and the app's");
    let rolled: Value = sd.run_json(&["rollback", "--home", &home, "--output", "json"])?;
    ensure!(
        rolled["height"] == (last - 1).to_string().as_str(),
        "{rolled}"
    );

    step("restarted, the node executes its last block again and ends at the same app hash");
    t.net().start()?;
    t.net().wait_for_height(last + 2, Duration::from_secs(60))?;
    let block = c.query(&["query", "block", &(last + 1).to_string()])?;
    ensure!(
        block["block"]["header"]["app_hash"] == last_hash.as_str(),
        "block {} records app hash {} for the block executed again; before the rollback it was {last_hash}",
        last + 1,
        block["block"]["header"]["app_hash"]
    );
    Ok(())
}
