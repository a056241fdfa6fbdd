//! The gaiad-style CLI against a real one-validator network: offline and multi-step signing
//! (`--generate-only` → `tx sign` → `tx simulate` → `tx broadcast`, and `--offline`),
//! transaction and block queries, multi-send, weighted votes, editing a validator, multisig
//! accounts and amino-JSON signing (checked against the Cosmos SDK's own CLI), and the checks
//! `--chain-id` makes.

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

    step("a 2-of-3 multisig of alice, bob and carol: members sign, tx multisign combines");
    let keys = |args: &[&str]| -> Result<String> {
        let mut all = args.to_vec();
        all.extend(["--home", &home, "--keyring-backend", "test"]);
        Ok(sd.run_ok(&all)?.stdout.trim().to_owned())
    };
    keys(&[
        "keys",
        "add",
        "team",
        "--multisig",
        "carol,alice,bob",
        "--multisig-threshold",
        "2",
    ])?;
    let team = keys(&["keys", "show", "team", "-a"])?;
    ensure!(run_json(&["tx", "bank", "send", "alice", &team, "100000usure"])?["code"] == 0);
    let unsigned = run_json(&[
        "tx",
        "bank",
        "send",
        "team",
        &bob,
        "1000usure",
        "--generate-only",
        "--gas",
        "200000",
    ])?;
    std::fs::write(path("team-unsigned.json"), unsigned.to_string())?;
    for member in ["alice", "bob"] {
        run_ok(&[
            "tx",
            "sign",
            &path("team-unsigned.json"),
            "--from",
            member,
            "--multisig",
            "team",
            "--output-document",
            &path(&format!("team-{member}.json")),
        ])?;
    }
    let err = run_err(&["tx", "sign", &path("team-unsigned.json"), "--from", "team"])?;
    ensure!(err.contains("is a multisig key"), "{err}");
    // one signature is below the threshold: the chain refuses it
    run_ok(&[
        "tx",
        "multisign",
        &path("team-unsigned.json"),
        "team",
        &path("team-alice.json"),
        "--output-document",
        &path("team-one.json"),
    ])?;
    let err = run_err(&["tx", "broadcast", &path("team-one.json")])?;
    ensure!(err.contains("its threshold is 2"), "{err}");
    run_ok(&[
        "tx",
        "multisign",
        &path("team-unsigned.json"),
        "team",
        &path("team-bob.json"),
        &path("team-alice.json"),
        "--output-document",
        &path("team-signed.json"),
    ])?;
    let before = c.balance(&bob, "usure", 0)?;
    let sent = run_json(&["tx", "broadcast", &path("team-signed.json")])?;
    ensure!(sent["code"] == 0, "{sent}");
    ensure!(c.balance(&bob, "usure", 0)? == before + 1000);
    let account = run_json(&["query", "auth", "account", &team])?;
    ensure!(
        account["account"]["pub_key"]["@type"] == "/cosmos.crypto.multisig.LegacyAminoPubKey"
            && account["account"]["pub_key"]["threshold"] == 2,
        "{account}"
    );

    step("--sign-mode amino-json signs a single key's transaction as a Ledger would");
    let sent = run_json(&[
        "tx",
        "bank",
        "send",
        "alice",
        &bob,
        "3usure",
        "--sign-mode",
        "amino-json",
    ])?;
    ensure!(sent["code"] == 0, "{sent}");

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

#[test]
fn multisig_members_sign_the_same_bytes_as_the_cosmos_sdk() -> Result<()> {
    let tools = surety_localnet::ibc::IbcTools::locate()?;
    let ours_bin = surety_e2e::suretyd_bin()?;
    let dir = surety_e2e::e2e_root("multisig-compat")?;
    let (ours, theirs) = (dir.join("suretyd"), dir.join("simd"));
    let (ours, theirs) = (ours.to_string_lossy(), theirs.to_string_lossy());
    let run = |bin: &std::path::Path, args: &[&str], home: &str, stdin: Option<&str>| {
        let mut cmd = std::process::Command::new(bin);
        cmd.args(args)
            .args(["--keyring-backend", "test", "--home", home]);
        surety_localnet::cli::run_ok(&mut cmd, stdin, std::time::Duration::from_secs(60))
            .map(|out| out.stdout)
    };
    let simd = |args: &[&str], stdin: Option<&str>| run(&tools.simd, args, &theirs, stdin);
    let suretyd = |args: &[&str], stdin: Option<&str>| run(&ours_bin, args, &ours, stdin);
    let bytes_of = |address: &str| -> Result<Vec<u8>> { Ok(bech32::decode(address.trim())?.1) };

    step("three keys in both keyrings and a 2-of-3 multisig of them: the same account");
    for name in ["a", "b", "c"] {
        let mnemonic = surety_localnet::cli::run_ok(
            std::process::Command::new(&ours_bin).args(["keys", "mnemonic"]),
            None,
            std::time::Duration::from_secs(60),
        )?
        .stdout;
        let line = format!("{}\n", mnemonic.trim());
        suretyd(&["keys", "add", name, "--recover"], Some(&line))?;
        simd(&["keys", "add", name, "--recover"], Some(&line))?;
    }
    let multisig = [
        "keys",
        "add",
        "ms",
        "--multisig",
        "c,a,b",
        "--multisig-threshold",
        "2",
    ];
    suretyd(&multisig, None)?;
    simd(&multisig, None)?;
    let ms = simd(&["keys", "show", "ms", "-a"], None)?.trim().to_owned();
    ensure!(
        bytes_of(&suretyd(&["keys", "show", "ms", "-a"], None)?)? == bytes_of(&ms)?,
        "suretyd and simd derive different multisig addresses"
    );

    let signer = [
        "--offline",
        "--chain-id",
        "compat-1",
        "--account-number",
        "7",
        "--sequence",
        "3",
    ];
    let send = vec!["tx", "bank", "send", ms.as_str(), ms.as_str(), "5stake"];
    let vote = vec![
        "tx",
        "gov",
        "weighted-vote",
        "4",
        "yes=0.6,no=0.4",
        "--from",
        ms.as_str(),
    ];
    for (what, tx) in [("a bank send", send), ("a weighted vote", vote)] {
        step(format!(
            "{what}: simd's members sign in amino-json, suretyd multisign verifies them; and back"
        ));
        let mut generate = tx.clone();
        generate.extend([
            "--generate-only",
            "--chain-id",
            "compat-1",
            "--fees",
            "500stake",
            "--note",
            "<both> & more",
        ]);
        let unsigned = dir.join("unsigned.json");
        std::fs::write(&unsigned, simd(&generate, None)?)?;
        let unsigned = unsigned.to_string_lossy().into_owned();
        let file = |who: &str| {
            dir.join(format!("{who}.json"))
                .to_string_lossy()
                .into_owned()
        };
        for member in ["a", "c"] {
            let mut sign = vec!["tx", "sign", &unsigned, "--from", member, "--multisig", &ms];
            sign.extend(["--sign-mode", "amino-json", "--output-document"]);
            let out = file(&format!("simd-{member}"));
            sign.push(&out);
            sign.extend(signer);
            simd(&sign, None)?;
        }
        let (a, c) = (file("simd-a"), file("simd-c"));
        let mut multisign = vec!["tx", "multisign", &unsigned, "ms", &a, &c];
        multisign.extend(signer);
        let signed: serde_json::Value =
            serde_json::from_str(&suretyd(&multisign, None).context("suretyd multisign")?)?;
        ensure!(
            signed["signatures"]
                .as_array()
                .is_some_and(|s| s.len() == 1),
            "{signed}"
        );
        // suretyd's member signature is the SDK's: the same bytes, and RFC 6979 nonces
        let ours_b = file("suretyd-b");
        let theirs_b = file("simd-b");
        let mut sign = vec!["tx", "sign", &unsigned, "--from", "b", "--multisig", "ms"];
        sign.extend(signer);
        sign.extend(["--output-document", &ours_b]);
        suretyd(&sign, None)?;
        let mut sign = vec!["tx", "sign", &unsigned, "--from", "b", "--multisig", &ms];
        sign.extend(["--sign-mode", "amino-json", "--output-document", &theirs_b]);
        sign.extend(signer);
        simd(&sign, None)?;
        let signature = |path: &str| -> Result<serde_json::Value> {
            let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
            Ok(doc["signatures"][0]["data"]["single"]["signature"].clone())
        };
        ensure!(
            signature(&ours_b)? == signature(&theirs_b)?,
            "{what}: suretyd and simd signed different bytes"
        );
    }
    Ok(())
}
