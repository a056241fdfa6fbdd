//! The README's insurance walkthrough, through the `suretyd` CLI against a real node: the
//! localnet's seeded pools, a provider's deposit, a quote and a purchase at exactly the quoted
//! premium, an assessed claim voted on by a staked assessor and paid when voting closes, and the
//! capital model over the live book.

use anyhow::{ensure, Result};
use std::time::{Duration, Instant};
use surety_e2e::{amount, event_attr, step, TestNet};

const USDC: u128 = 1_000_000;

#[test]
fn deposit_quote_buy_claim_and_get_paid_through_the_cli() {
    let mut net = TestNet::create_and_start("insurance", 1)
        .unwrap_or_else(|e| panic!("starting the localnet: {e:#}"));
    if let Err(e) = scenario(&mut net) {
        panic!("{e:#}");
    }
}

fn scenario(net: &mut TestNet) -> Result<()> {
    let c = net.client.clone();
    step("the localnet seeds its demo pools");
    net.net().seed_market()?;
    let pool = c.query(&["query", "pool", "pool", "1"])?;
    ensure!(
        amount(&pool["capital"])? == 500_000 * USDC,
        "pool 1: {pool}"
    );
    ensure!(pool["selling"] == true);

    let alice = net.account("alice")?.address.clone();
    let bob = net.account("bob")?.address.clone();

    step("alice deposits 10 000 USDC into pool 1");
    c.tx(&["tx", "pool", "deposit", "1", "10000000000uusdc"], "alice")?;
    let position = c.query(&["query", "pool", "position", "1", &alice])?;
    ensure!(amount(&position["value"])? == 10_000 * USDC, "{position}");

    step("bob quotes and buys 10 000 USDC of exchange custody cover for 90 days");
    let quote = c.query(&["query", "policy", "quote", "4", "10000000000uusdc", "90"])?;
    let premium = amount(&quote["premium"])?;
    ensure!(premium > 0 && premium < 10_000 * USDC, "{quote}");
    let before = c.balance(&bob, "uusdc", 0)?;
    let max = format!("{premium}uusdc");
    let bought = c.tx(
        &[
            "tx",
            "policy",
            "buy",
            "4",
            "10000000000uusdc",
            "90",
            "--max-premium",
            &max,
        ],
        "bob",
    )?;
    let policy_id = event_attr(&bought, "cover_bought", "policy_id")?;
    ensure!(
        before - c.balance(&bob, "uusdc", 0)? == premium,
        "charged exactly the quote"
    );
    let mine = c.query(&["query", "policy", "policies", "--owner", &bob])?;
    ensure!(mine["policies"][0]["status"] == "active", "{mine}");

    step("the node's metrics show the book: cover in force, the sale and its premium");
    let metrics_url = net.net().endpoints(0).metrics;
    let metrics = reqwest::blocking::get(&metrics_url)?.text()?;
    let sample = |prefix: &str| -> Option<f64> {
        metrics
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    };
    ensure!(
        sample("surety_product_cover_in_force{pool=\"1\",product=\"4\"").is_some_and(|v| v >= 1e10),
        "no cover in force for product 4 in:\n{metrics}"
    );
    ensure!(
        sample("surety_policies_sold_total{product=\"4\"}") == Some(1.0),
        "one policy of product 4 sold:\n{metrics}"
    );
    ensure!(
        sample("surety_premiums_written_total{product=\"4\",denom=\"uusdc\"}")
            == Some(premium as f64),
        "its premium written:\n{metrics}"
    );
    ensure!(
        sample("surety_oracle_price{feed=\"USDC/USD\"}").is_some(),
        "{metrics}"
    );

    step("carol stakes as an assessor; bob files a claim for a 4 000 USDC loss");
    c.tx(&["tx", "claims", "stake", "1000000000usure"], "carol")?;
    let filed = c.tx(
        &[
            "tx",
            "claims",
            "file",
            &policy_id,
            "--loss",
            "4000000000uusdc",
            "--incident",
            "withdrawals halted",
        ],
        "bob",
    )?;
    let claim_id = event_attr(&filed, "claim_filed", "claim_id")?;
    c.tx(&["tx", "claims", "vote", &claim_id, "yes"], "carol")?;

    step("voting closes (60 s of block time in the localnet) and the claim is paid");
    let before = c.balance(&bob, "uusdc", 0)?;
    let deadline = Instant::now() + Duration::from_secs(180);
    let claim = loop {
        let claim = c.query(&["query", "claims", "claim", &claim_id])?;
        if claim["status"] == "paid" || Instant::now() > deadline {
            break claim;
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    ensure!(claim["status"] == "paid", "claim not paid in time: {claim}");
    // 4 000 × (1 − 10% deductible), and the 10 USDC deposit back.
    ensure!(amount(&claim["payout"])? == 3_600 * USDC, "{claim}");
    ensure!(c.balance(&bob, "uusdc", 0)? - before == 3_610 * USDC);

    step("the capital model runs over the live book");
    let chart = net.root().join("capital-model.svg");
    let chart_arg = chart.to_string_lossy().into_owned();
    let model = c.query(&[
        "query",
        "pool",
        "capital-model",
        "1",
        "--trials",
        "20000",
        "--chart",
        &chart_arg,
    ])?;
    ensure!(amount(&model["var_99_5"]).is_ok(), "{model}");
    ensure!(
        std::fs::read_to_string(&chart)?.starts_with("<svg"),
        "chart written"
    );
    Ok(())
}
