//! A 4-validator localnet of real `suretyd` + `cometbft` processes: a bank
//! transfer, app-hash agreement, a validator SIGKILLed and restarted, and an
//! app process SIGKILLed mid-traffic that must replay to the same app hash.
//!
//! One test function on purpose: the scenario is slow and its steps build on
//! each other.

use std::sync::mpsc;
use std::thread;

use anyhow::{bail, ensure, Context, Result};
use surety_e2e::{step, Client, TestNet, TxResult, STAKE_DENOM, WAIT};

const ALL: [usize; 4] = [0, 1, 2, 3];

#[test]
fn four_validators_transfer_crash_and_recover() {
    let mut net = TestNet::create_and_start("localnet", 4)
        .unwrap_or_else(|e| panic!("starting the localnet: {e:#}"));
    // Errors become panics while `net` is alive, so its Drop sees the failure,
    // prints the node logs and keeps the directory.
    if let Err(e) = scenario(&mut net) {
        panic!("{e:#}");
    }
}

fn scenario(net: &mut TestNet) -> Result<()> {
    let client = net.client.clone();
    let alice = net.account("alice")?.address.clone();
    let bob = net.account("bob")?.address.clone();
    let carol = net.account("carol")?.address.clone();
    ensure!(alice != bob && bob != carol, "demo accounts must differ");

    // --- 1. A MsgSend through the CLI moves exactly the amount. ---
    let amount: u128 = 1_234_567;
    let before = client.balance(&bob, STAKE_DENOM, 0)?;
    step(format!(
        "bob has {before}{STAKE_DENOM}; alice sends him {amount}{STAKE_DENOM}"
    ));
    let tx = client.bank_send("alice", &bob, &format!("{amount}{STAKE_DENOM}"), 0)?;
    step(format!(
        "tx {} committed at height {} (gas {}/{})",
        tx.txhash, tx.height, tx.gas_used, tx.gas_wanted
    ));
    ensure!(tx.height > 0, "tx result without a height: {}", tx.json);
    let after = client.balance(&bob, STAKE_DENOM, 0)?;
    ensure!(
        after == before + amount,
        "bob's balance went from {before} to {after}, expected +{amount}"
    );
    // Every validator sees the transfer once it has the block.
    net.wait_for_height(tx.height + 1, WAIT)?;
    for i in ALL {
        let seen = client.balance(&bob, STAKE_DENOM, i)?;
        ensure!(
            seen == after,
            "validator {i} reports bob's balance {seen}, validator 0 {after}"
        );
    }

    // --- 2. All four agree on the app hash at the same height. ---
    let (h, hash) = net.check_same_app_hash(&ALL)?;
    step(format!(
        "all 4 validators: app hash after block {h} = {hash}"
    ));
    let (h, hash) = net.check_same_app_hash_at(&ALL, tx.height)?;
    step(format!(
        "all 4 validators: app hash after the transfer's block {h} = {hash}"
    ));

    // --- 3. SIGKILL validator 3 (suretyd and cometbft): the rest go on. ---
    step("SIGKILL validator 3 (suretyd + cometbft)");
    net.kill_node(3)?;
    ensure!(
        net.node_pids(3).is_empty(),
        "validator 3 still has processes: {:?}",
        net.node_pids(3)
    );
    let h = net.max_height(&[0, 1, 2])?;
    net.wait_nodes_height(&[0, 1, 2], h + 3, WAIT)
        .context("the other three validators must keep committing with validator 3 down")?;
    step(format!("validators 0-2 went from height {h} to {}", h + 3));

    // --- 4. Restart it: it catches up to the same state. ---
    step("restarting validator 3");
    net.restart_node(3)?;
    let (h, hash) = net.wait_caught_up(3, &[0, 1, 2])?;
    step(format!(
        "validator 3 caught up: app hash after block {h} = {hash} on all 4"
    ));

    // --- 5. SIGKILL validator 2's app alone while transactions flow. ---
    let per_tx: u128 = 1_000;
    let n_tx = 6usize;
    let carol_before = client.balance(&carol, STAKE_DENOM, 0)?;
    let (first_tx, first_rx) = mpsc::channel::<()>();
    let sender_client: Client = client.clone();
    let carol_to = carol.clone();
    let sender = thread::spawn(move || -> Result<Vec<TxResult>> {
        let mut done = Vec::new();
        for k in 0..n_tx {
            // Validator 0 takes the txs; validator 2 is the one being killed.
            let tx = sender_client
                .bank_send("bob", &carol_to, &format!("{per_tx}{STAKE_DENOM}"), 0)
                .with_context(|| format!("tx {k} of {n_tx}"))?;
            done.push(tx);
            if k == 0 {
                let _ = first_tx.send(());
            }
        }
        Ok(done)
    });
    if first_rx.recv_timeout(WAIT).is_err() {
        let r = sender.join();
        bail!("the first transaction of the batch was not committed within {WAIT:?}: {r:?}");
    }
    step("first tx of the batch committed; SIGKILL validator 2's suretyd only");
    net.kill_app_only(2)?;
    let sent = match sender.join() {
        Ok(r) => r?,
        Err(_) => bail!("the sender thread panicked"),
    };
    step(format!(
        "{} txs committed at heights {:?}",
        sent.len(),
        sent.iter().map(|t| t.height).collect::<Vec<_>>()
    ));
    let carol_after = client.balance(&carol, STAKE_DENOM, 0)?;
    ensure!(
        carol_after == carol_before + per_tx * n_tx as u128,
        "carol's balance went from {carol_before} to {carol_after}, expected +{}",
        per_tx * n_tx as u128
    );

    // cometbft of validator 2 lost its app and must have exited (or be exiting).
    step("restarting validator 2; it must replay to the same app hash");
    net.restart_node(2)?;
    let (h, hash) = net.wait_caught_up(2, &[0, 1, 3])?;
    step(format!(
        "validator 2 replayed: app hash after block {h} = {hash} on all 4"
    ));
    let last_tx_height = sent.iter().map(|t| t.height).max().unwrap_or(0);
    net.wait_node_height(2, last_tx_height + 1, WAIT)?;
    net.check_same_app_hash_at(&ALL, last_tx_height)?;
    let seen = client.balance(&carol, STAKE_DENOM, 2)?;
    ensure!(
        seen == carol_after,
        "validator 2 reports carol's balance {seen} after replay, validator 0 {carol_after}"
    );

    // And the network still moves with everyone back.
    let h = net.max_height(&ALL)?;
    net.wait_for_height(h + 2, WAIT)?;
    net.check_same_app_hash(&ALL)?;
    step("all 4 validators agree after the crash tests");
    Ok(())
}
