//! The web app (`web/`) against a real node: build it, start a 1-validator network whose REST
//! gateway serves it beside a `localnet.json` with the demo keys, seed the demo market, submit
//! a governance proposal and report an incident, and drive the app in headless Chromium
//! (`web/test/browser.mjs`): the market's pools, a vote on the proposal, buying cover with a
//! demo key through the Products page, the policy under My cover, an assessed claim filed
//! there, an assessor's stake and approving vote through the Assessors page, the oracle page
//! with the incident's attestations, the risk page, the payout once voting closes, and a
//! screenshot of every page.
//!
//! Needs Node.js with npm and Debian's `chromium` (`scripts/install-prereqs.sh` installs both;
//! `$CHROMIUM` names another binary). Screenshots go to `$SURETY_SCREENSHOTS`, by default
//! `web/screenshots/`.

use anyhow::{ensure, Context, Result};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use surety_e2e::*;

#[test]
fn web_app_buys_cover_files_a_claim_and_votes_in_a_browser() {
    if let Err(e) = scenario() {
        panic!("{e:#}");
    }
}

fn scenario() -> Result<()> {
    let web = workspace_root().join("web");
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    ensure!(
        chromium.exists(),
        "{} not found: run scripts/install-prereqs.sh (Debian package `chromium`) or set $CHROMIUM",
        chromium.display()
    );

    step("building the web app (web/build.sh: npm ci when the lock changed, npm run build)");
    let status = Command::new("bash")
        .arg(web.join("build.sh"))
        .status()
        .context("running web/build.sh (Node.js with npm is needed for the web test)")?;
    ensure!(status.success(), "web/build.sh failed");
    let dist = web.join("dist");

    let mut net = TestNet::create_and_start_with("web", 1, |opts| opts.web = Some(dist.clone()))?;
    step("seeding the demo market");
    net.net().seed_market()?;
    let url = format!("{}/", net.endpoints(0).rest);

    step(format!(
        "the node serves the app and localnet.json at {url}"
    ));
    let index = reqwest::blocking::get(&url)?.text()?;
    ensure!(
        index.contains("<div id=\"app\">"),
        "no app at {url}: {index:.200}"
    );
    let localnet: serde_json::Value =
        reqwest::blocking::get(format!("{url}localnet.json"))?.json()?;
    ensure!(
        localnet["accounts"]
            .as_array()
            .is_some_and(|a| a.len() >= 3),
        "localnet.json: {localnet}"
    );

    submit_proposal(&net)?;
    step("carol reports an incident (for the Oracle page's incidents)");
    // A minute back: the chain's block time trails this clock, and an incident must be in the past.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        .saturating_sub(60)
        .to_string();
    let reported = net.client.tx(
        &[
            "tx",
            "oracle",
            "report-incident",
            "aave-v3",
            &now,
            "oracle manipulation",
        ],
        "carol",
    )?;
    ensure!(reported.code == 0, "reporting the incident failed");

    let screenshots = std::env::var_os("SURETY_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| web.join("screenshots"));
    step(format!(
        "driving it in {} (screenshots in {})",
        chromium.display(),
        screenshots.display()
    ));
    let out = Command::new("node")
        .arg("test/browser.mjs")
        .current_dir(&web)
        .env("SURETY_WEB_URL", &url)
        .env("SURETY_SCREENSHOTS", &screenshots)
        .env("CHROMIUM", &chromium)
        .stderr(Stdio::inherit())
        .output()
        .context("running node (Node.js is needed for the web test)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(&stdout)
        .with_context(|| format!("browser.mjs printed no JSON summary: {stdout}"))?;
    ensure!(
        out.status.success() && summary["ok"] == true,
        "the browser test failed: {summary:#}"
    );
    ensure!(summary["pools"].as_u64() >= Some(2), "pools: {summary}");
    ensure!(
        summary["govVote"].is_string(),
        "no governance vote: {summary}"
    );
    step(format!("the browser test passed: {summary}"));

    // The chain agrees with what the browser saw: bob owns the policy and the claim is paid.
    let c = &net.client;
    let policy_id = summary["policyId"].as_str().context("no policy id")?;
    let policy = c.query(&["query", "policy", "policy", policy_id])?;
    let bob = net.account("bob")?.address.clone();
    ensure!(
        policy.to_string().contains(&bob),
        "policy {policy_id} is not bob's: {policy}"
    );
    let claim_id = summary["claimId"].as_str().context("no claim id")?;
    let claim = c.query(&["query", "claims", "claim", claim_id])?;
    ensure!(
        claim.to_string().contains(r#""status":"paid""#),
        "claim {claim_id}: {claim}"
    );
    Ok(())
}

/// A proposal in its voting period for the Governance page to show and alice to vote on (it
/// does not pass: no bonded stake votes for it).
fn submit_proposal(net: &TestNet) -> Result<()> {
    step("alice submits a governance proposal (pause product 3)");
    let c = &net.client;
    // The module account's address is derived offline (no --node).
    let gov =
        c.suretyd
            .run_json(&["query", "auth", "module-account", "gov", "--output", "json"])?;
    let authority = gov["address"].as_str().context("no gov module address")?;
    let proposal = serde_json::json!({
        "messages": [{
            "@type": "/surety.policy.v1.MsgSetProductPaused",
            "authority": authority,
            "product_id": "3",
            "paused": true,
        }],
        "deposit": "10000000usure",
        "title": "Pause impermanent-loss cover",
        "summary": "Uniswap v3 pool under review",
        "expedited": false,
    });
    let path =
        std::env::temp_dir().join(format!("surety-web-proposal-{}.json", std::process::id()));
    std::fs::write(&path, proposal.to_string())?;
    let path_str = path.to_str().context("non-UTF-8 temp dir")?;
    let result = c.tx(&["tx", "gov", "submit-proposal", path_str], "alice");
    let _ = std::fs::remove_file(&path);
    ensure!(result?.code == 0, "submitting the proposal failed");
    Ok(())
}
