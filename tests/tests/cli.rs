//! The gaiad-style CLI against a real one-validator network: offline and multi-step signing
//! (`--generate-only` → `tx sign` → `tx simulate` → `tx broadcast`, and `--offline`),
//! transaction and block queries, multi-send, weighted votes, editing a validator, and the
//! checks `--chain-id` makes.

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use surety_e2e::{amount, step, TestNet};

#[test]
fn the_cli_signs_offline_and_finds_what_it_sent() -> Result<()> {
    let mut t = TestNet::create_and_start("cli", 1)?;
    let net = t.net();
    let sd = net.suretyd();
    let alice = net.account("alice")?.address.clone();
    let bob = net.account("bob")?.address.clone();
    let carol = net.account("carol")?.address.clone();
    let home = net.node_home(0).to_string_lossy().into_owned();
    let rpc = net.rpc_url(0);
    let chain_id = net.chain_id().to_owned();
    let dir = net.root().join("cli");
    std::fs::create_dir_all(&dir)?;
    let c = &t.client;
    let common = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["--home", &home, "--node", &rpc, "--output", "json"].map(String::from));
        if args[0] == "tx" {
            all.extend(["--keyring-backend", "test"].map(String::from));
        }
        all
    };
    let run_json = |args: &[&str]| -> Result<Value> {
        let all = common(args);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        sd.run_json(&refs)
            .with_context(|| format!("suretyd {}", args.join(" ")))
    };
    let run_ok = |args: &[&str]| -> Result<()> {
        let all = common(args);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        sd.run_ok(&refs)
            .map(drop)
            .with_context(|| format!("suretyd {}", args.join(" ")))
    };
    let run_err = |args: &[&str]| -> Result<String> {
        let all = common(args);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = sd.run(&refs)?;
        ensure!(!out.success(), "suretyd {} succeeded", args.join(" "));
        Ok(out.stderr)
    };
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();

    step("--generate-only, then tx sign, tx simulate and tx broadcast");
    let before = c.balance(&bob, "usure", 0)?;
    let unsigned = run_json(&[
        "tx",
        "bank",
        "send",
        &alice,
        &bob,
        "1000usure",
        "--generate-only",
        "--gas",
        "150000",
    ])?;
    ensure!(
        unsigned["body"]["messages"][0]["@type"] == "/cosmos.bank.v1beta1.MsgSend",
        "{unsigned}"
    );
    ensure!(unsigned["signatures"] == Value::Array(vec![]), "{unsigned}");
    std::fs::write(path("unsigned.json"), unsigned.to_string())?;
    run_ok(&[
        "tx",
        "sign",
        &path("unsigned.json"),
        "--from",
        "alice",
        "--output-document",
        &path("signed.json"),
    ])?;
    let simulated = run_json(&["tx", "simulate", &path("signed.json")])?;
    ensure!(amount(&simulated["gas_used"])? > 0, "{simulated}");
    let sent = run_json(&["tx", "broadcast", &path("signed.json")])?;
    ensure!(sent["code"] == 0, "{sent}");
    ensure!(c.balance(&bob, "usure", 0)? == before + 1000);

    step("an unsigned transaction cannot be simulated or broadcast as it is");
    let err = run_err(&["tx", "simulate", &path("unsigned.json")])?;
    ensure!(err.contains("no signer"), "{err}");

    step("query tx, query txs and query block find it");
    let hash = sent["txhash"].as_str().context("txhash")?.to_owned();
    let height = sent["height"].as_str().context("height")?.to_owned();
    let tx = run_json(&["query", "tx", &hash])?;
    ensure!(tx["txhash"] == hash.as_str() && tx["code"] == 0, "{tx}");
    ensure!(
        tx["tx"]["body"]["messages"][0]["to_address"] == bob.as_str(),
        "{tx}"
    );
    let found = run_json(&["query", "txs", "--query", &format!("tx.height={height}")])?;
    ensure!(
        found["txs"]
            .as_array()
            .is_some_and(|txs| txs.iter().any(|t| t["txhash"] == hash.as_str())),
        "{found}"
    );
    let block = run_json(&["query", "block", &height])?;
    ensure!(
        block["block"]["header"]["height"] == height.as_str(),
        "{block}"
    );

    step("--offline signs with the account number and sequence given, for tx broadcast");
    let account = run_json(&["query", "auth", "account", &alice])?;
    let number = account["account"]["account_number"]
        .as_str()
        .context("number")?
        .to_owned();
    let sequence = account["account"]["sequence"]
        .as_str()
        .context("sequence")?
        .to_owned();
    run_ok(&[
        "tx",
        "bank",
        "send",
        "alice",
        &bob,
        "7usure",
        "--offline",
        "--chain-id",
        &chain_id,
        "--account-number",
        &number,
        "--sequence",
        &sequence,
        "--gas",
        "150000",
        "--output-document",
        &path("offline.json"),
    ])?;
    ensure!(run_json(&["tx", "broadcast", &path("offline.json")])?["code"] == 0);
    ensure!(c.balance(&bob, "usure", 0)? == before + 1007);

    step("multi-send pays every recipient in one transaction");
    let (b, k) = (c.balance(&bob, "usure", 0)?, c.balance(&carol, "usure", 0)?);
    let sent = run_json(&[
        "tx",
        "bank",
        "multi-send",
        "alice",
        &bob,
        &carol,
        "10usure",
        "--gas",
        "auto",
    ])?;
    ensure!(sent["code"] == 0, "{sent}");
    ensure!(c.balance(&bob, "usure", 0)? == b + 10 && c.balance(&carol, "usure", 0)? == k + 10);

    step("edit-validator changes the moniker and leaves the rest");
    c.tx(
        &["tx", "staking", "edit-validator", "--moniker", "renamed"],
        "validator",
    )?;
    let validators = c.query(&["query", "staking", "validators"])?;
    ensure!(validators.to_string().contains("renamed"), "{validators}");

    step("--chain-id must name the chain the node serves");
    let err = run_err(&[
        "query",
        "bank",
        "balances",
        &alice,
        "--chain-id",
        "another-chain",
    ])?;
    ensure!(
        err.contains("serves chain"),
        "a query for another chain: {err}"
    );
    run_json(&["query", "bank", "balances", &alice, "--chain-id", &chain_id])?;
    Ok(())
}

#[test]
fn a_key_moves_between_suretyd_and_the_cosmos_sdk_as_armor() -> Result<()> {
    let tools = surety_localnet::ibc::IbcTools::locate()?;
    let ours_bin = surety_e2e::suretyd_bin()?;
    let dir = surety_e2e::e2e_root("armor")?;
    let (ours, theirs) = (dir.join("suretyd"), dir.join("simd"));
    let (ours, theirs) = (ours.to_string_lossy(), theirs.to_string_lossy());
    let keyring = |home: &str| ["--keyring-backend", "test", "--home", home].map(str::to_owned);
    let run = |bin: &std::path::Path, args: &[&str], home: &str, stdin: Option<&str>| {
        let mut cmd = std::process::Command::new(bin);
        cmd.args(args).args(keyring(home));
        surety_localnet::cli::run_ok(&mut cmd, stdin, std::time::Duration::from_secs(60))
    };
    let address = |bin: &std::path::Path, name: &str, home: &str| -> Result<Vec<u8>> {
        let out = run(bin, &["keys", "show", name, "-a"], home, None)?;
        let (_, data) = bech32::decode(out.stdout.trim())?;
        Ok(data)
    };

    step("suretyd exports a key (bcrypt armor); simd imports it: the same account");
    run(&ours_bin, &["keys", "add", "k"], &ours, None)?;
    let armor = run(
        &ours_bin,
        &["keys", "export", "k"],
        &ours,
        Some("passphrase-one\n"),
    )?
    .stdout;
    let file = dir.join("from-suretyd.armor");
    std::fs::write(&file, &armor)?;
    let file = file.to_string_lossy();
    run(
        &tools.simd,
        &["keys", "import", "k", &file],
        &theirs,
        Some("passphrase-one\n"),
    )?;
    ensure!(address(&tools.simd, "k", &theirs)? == address(&ours_bin, "k", &ours)?);

    step("simd exports a key (argon2 armor); suretyd imports it: the same account");
    run(&tools.simd, &["keys", "add", "s"], &theirs, None)?;
    let armor = run(
        &tools.simd,
        &["keys", "export", "s"],
        &theirs,
        Some("passphrase-two\npassphrase-two\n"),
    )?;
    let file = dir.join("from-simd.armor");
    // simd prints its prompts to stderr and the armor to stdout or stderr by version.
    std::fs::write(&file, format!("{}{}", armor.stdout, armor.stderr))?;
    let file = file.to_string_lossy();
    run(
        &ours_bin,
        &["keys", "import", "s", &file],
        &ours,
        Some("passphrase-two\n"),
    )?;
    ensure!(address(&ours_bin, "s", &ours)? == address(&tools.simd, "s", &theirs)?);
    let wrong = run(
        &ours_bin,
        &["keys", "import", "t", &file],
        &ours,
        Some("wrong-passphrase\n"),
    );
    ensure!(wrong.is_err(), "a wrong passphrase imported the key");
    Ok(())
}
