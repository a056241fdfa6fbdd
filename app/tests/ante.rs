//! The transaction pipeline against a real RocksDB store, driven through the ABCI methods the
//! way CometBFT drives them. Every rejection must carry its Cosmos code and message and leave no
//! state change beyond, where Cosmos keeps them, the fee and the sequence.

mod common;

use common::*;
use prost::Message;
use surety_app::{App, AppConfig};
use surety_framework::Address;
use surety_proto::cometbft::abci::*;
use surety_proto::cosmos::tx::v1beta1::TxRaw;
use surety_proto::Any;
use surety_store::{Storage, StorageConfig};
use tendermint_abci::Application;

fn alice_opts() -> SignOpts {
    SignOpts {
        account_number: 1,
        ..Default::default()
    }
}

/// Delivers `tx` and asserts it fails with `code`, a log containing `text`, and no state change.
fn assert_rejected_cleanly(chain: &mut Chain, tx: Vec<u8>, code: u32, text: &str) {
    // Fees paid in the last block are distributed at the start of the next: let that happen.
    chain.block(vec![]);
    let before = chain.state_roots();
    let r = chain.deliver(tx);
    assert_eq!(r.code, code, "log: {}", r.log);
    assert!(r.log.contains(text), "expected {text:?} in {:?}", r.log);
    assert_eq!(chain.state_roots(), before, "a rejected tx changed state");
}

#[test]
fn a_valid_send_moves_exactly_the_amount_and_the_fee() {
    let mut chain = Chain::new("");
    let (alice, bob) = (key(2), address(&key(3)));
    let r = chain.deliver(sign(
        &alice,
        vec![send(&alice, &bob, "250usure")],
        &alice_opts(),
    ));
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.gas_used > 0 && r.gas_used <= 200_000);
    assert_eq!(chain.balance(&bob, "usure"), 260);
    assert_eq!(
        chain.balance(&address(&alice), "usure"),
        1_000_000 - 250 - 1000
    );
    assert_eq!(chain.sequence(&address(&alice)), 1);
    let events: Vec<&str> = r.events.iter().map(|e| e.r#type.as_str()).collect();
    assert!(
        events.contains(&"transfer") && events.contains(&"message"),
        "{events:?}"
    );
    chain.app.check_invariants().unwrap();
}

#[test]
fn bad_signature_is_unauthorized() {
    let mut chain = Chain::new("");
    let alice = key(2);
    let mut tx = TxRaw::decode(
        sign(
            &alice,
            vec![send(&alice, &address(&key(3)), "1usure")],
            &alice_opts(),
        )
        .as_slice(),
    )
    .unwrap();
    tx.signatures[0][5] ^= 0xff;
    assert_rejected_cleanly(
        &mut chain,
        tx.encode_to_vec(),
        4,
        "signature verification failed",
    );
}

#[test]
fn wrong_chain_id_is_unauthorized() {
    let mut chain = Chain::new("");
    let alice = key(2);
    let opts = SignOpts {
        chain_id: "another-chain".into(),
        ..alice_opts()
    };
    let tx = sign(
        &alice,
        vec![send(&alice, &address(&key(3)), "1usure")],
        &opts,
    );
    assert_rejected_cleanly(&mut chain, tx, 4, "chain-id (surety-test)");
}

#[test]
fn wrong_account_number_is_unauthorized() {
    let mut chain = Chain::new("");
    let alice = key(2);
    let opts = SignOpts {
        account_number: 7,
        ..Default::default()
    };
    let tx = sign(
        &alice,
        vec![send(&alice, &address(&key(3)), "1usure")],
        &opts,
    );
    assert_rejected_cleanly(&mut chain, tx, 4, "account number (1)");
}

#[test]
fn replayed_and_out_of_order_sequences_are_rejected_with_code_32() {
    let mut chain = Chain::new("");
    let alice = key(2);
    let tx = sign(
        &alice,
        vec![send(&alice, &address(&key(3)), "1usure")],
        &alice_opts(),
    );
    assert_eq!(chain.deliver(tx.clone()).code, 0);
    assert_rejected_cleanly(
        &mut chain,
        tx,
        32,
        "account sequence mismatch, expected 1, got 0: incorrect account sequence",
    );
    let ahead = SignOpts {
        sequence: 5,
        ..alice_opts()
    };
    let tx = sign(
        &alice,
        vec![send(&alice, &address(&key(3)), "1usure")],
        &ahead,
    );
    assert_rejected_cleanly(
        &mut chain,
        tx,
        32,
        "account sequence mismatch, expected 1, got 5",
    );
}

#[test]
fn insufficient_fee_is_rejected_by_check_tx() {
    let chain = Chain::new("0.025usure");
    let alice = key(2);
    let tx = sign(
        &alice,
        vec![send(&alice, &address(&key(3)), "1usure")],
        &alice_opts(),
    );
    let r = chain.app.check_tx(RequestCheckTx {
        tx: tx.into(),
        r#type: 0,
    });
    assert_eq!(r.code, 13, "{}", r.log);
    assert!(
        r.log
            .contains("insufficient fees; got: 1000usure required: 5000usure"),
        "{}",
        r.log
    );
    // and with enough fee it passes, advancing the mempool's view of the sequence
    let ok = SignOpts {
        fee: "5000usure",
        ..alice_opts()
    };
    let tx = sign(&alice, vec![send(&alice, &address(&key(3)), "1usure")], &ok);
    assert_eq!(
        chain
            .app
            .check_tx(RequestCheckTx {
                tx: tx.clone().into(),
                r#type: 0
            })
            .code,
        0
    );
    let again = chain.app.check_tx(RequestCheckTx {
        tx: tx.into(),
        r#type: 0,
    });
    assert_eq!(again.code, 32, "{}", again.log);
}

/// CheckTx keeps what it reads the same for every transaction (the pending block, the block gas
/// limit) per committed version; a commit must move it on.
#[test]
fn check_tx_checks_against_the_block_after_the_latest_commit() {
    let mut chain = Chain::new("");
    let alice = key(2);
    let check = |chain: &Chain, sequence: u64, timeout_height: u64| {
        let tx = sign(
            &alice,
            vec![send(&alice, &address(&key(3)), "1usure")],
            &SignOpts {
                sequence,
                timeout_height,
                ..alice_opts()
            },
        );
        chain.app.check_tx(RequestCheckTx {
            tx: tx.into(),
            r#type: 0,
        })
    };
    let next = chain.height as u64 + 1;
    let r = check(&chain, 0, next);
    assert_eq!(r.code, 0, "{}", r.log);
    chain.block(vec![]);
    // The same deadline, one block later: the pending block is past it now.
    let r = check(&chain, 0, next);
    assert_eq!(r.code, 30, "{}", r.log);
    assert!(
        r.log.contains(&format!(
            "block height: {}, timeout height: {next}",
            next + 1
        )),
        "{}",
        r.log
    );
    let r = check(&chain, 0, next + 1);
    assert_eq!(r.code, 0, "{}", r.log);
}

#[test]
fn out_of_gas_keeps_only_fee_and_sequence() {
    let mut chain = Chain::new("");
    let (alice, bob) = (key(2), address(&key(3)));
    // Too little gas for even the ante checks: nothing happens at all.
    let starved = SignOpts {
        gas: 100,
        ..alice_opts()
    };
    assert_rejected_cleanly(
        &mut chain,
        sign(&alice, vec![send(&alice, &bob, "1usure")], &starved),
        11,
        "out of gas",
    );
    // Enough for the ante checks but not the transfer: the fee is paid, the sequence advances.
    let probe = chain
        .app
        .simulate(&sign(
            &alice,
            vec![send(&alice, &bob, "1usure")],
            &alice_opts(),
        ))
        .unwrap();
    let needed = probe.gas_info.unwrap().gas_used;
    let short = SignOpts {
        gas: needed - 2000,
        ..alice_opts()
    };
    let r = chain.deliver(sign(&alice, vec![send(&alice, &bob, "1usure")], &short));
    assert_eq!(r.code, 11, "{}", r.log);
    assert_eq!(chain.balance(&bob, "usure"), 10);
    assert_eq!(chain.balance(&address(&alice), "usure"), 1_000_000 - 1000);
    assert_eq!(chain.sequence(&address(&alice)), 1);
    chain.app.check_invariants().unwrap();
}

#[test]
fn insufficient_funds_keeps_only_fee_and_sequence() {
    let mut chain = Chain::new("");
    let (alice, bob) = (key(2), address(&key(3)));
    let r = chain.deliver(sign(
        &alice,
        vec![send(&alice, &bob, "999999999usure")],
        &alice_opts(),
    ));
    assert_eq!(r.code, 5, "{}", r.log);
    assert!(
        r.log.contains("is smaller than 999999999usure"),
        "{}",
        r.log
    );
    assert_eq!(chain.balance(&bob, "usure"), 10);
    assert_eq!(chain.balance(&address(&alice), "usure"), 1_000_000 - 1000);
    assert_eq!(chain.sequence(&address(&alice)), 1);
    // A fee the payer cannot afford rejects the whole tx.
    let bob_key = key(3);
    let broke = SignOpts {
        account_number: 2,
        fee: "1000usure",
        ..Default::default()
    };
    assert_rejected_cleanly(
        &mut chain,
        sign(
            &bob_key,
            vec![send(&bob_key, &address(&alice), "1usure")],
            &broke,
        ),
        5,
        "insufficient funds to pay for fees",
    );
    chain.app.check_invariants().unwrap();
}

#[test]
fn malformed_and_oversized_transactions_are_rejected() {
    let mut chain = Chain::new("");
    assert_rejected_cleanly(&mut chain, vec![0xff, 0x01, 0x02], 2, "tx parse error");
    let alice = key(2);
    let huge = SignOpts {
        memo: "x".repeat(70_000),
        ..alice_opts()
    };
    assert_rejected_cleanly(
        &mut chain,
        sign(
            &alice,
            vec![send(&alice, &address(&key(3)), "1usure")],
            &huge,
        ),
        21,
        "tx too large",
    );
    let long_memo = SignOpts {
        memo: "x".repeat(300),
        ..alice_opts()
    };
    assert_rejected_cleanly(
        &mut chain,
        sign(
            &alice,
            vec![send(&alice, &address(&key(3)), "1usure")],
            &long_memo,
        ),
        12,
        "memo too large",
    );
    let unknown = Any {
        type_url: "/surety.nope.v1.MsgNothing".into(),
        value: vec![],
    };
    assert_rejected_cleanly(
        &mut chain,
        sign(&alice, vec![unknown], &alice_opts()),
        6,
        "unrecognized message type",
    );
    // A send to a module account is refused.
    let to_module = send(&alice, &Address::module("fee_collector"), "1usure");
    let r = chain.deliver(sign(&alice, vec![to_module], &alice_opts()));
    assert_eq!(r.code, 4, "{}", r.log);
    chain.app.check_invariants().unwrap();
}

#[test]
fn multi_message_transactions_are_atomic() {
    let mut chain = Chain::new("");
    let (alice, bob) = (key(2), address(&key(3)));
    let tx = sign(
        &alice,
        vec![
            send(&alice, &bob, "100usure"),
            send(&alice, &bob, "9999uusdc"),
        ],
        &alice_opts(),
    );
    let r = chain.deliver(tx);
    assert_eq!(r.code, 5, "{}", r.log);
    assert!(r.log.contains("message index: 1"), "{}", r.log);
    assert_eq!(
        chain.balance(&bob, "usure"),
        10,
        "the first message must be rolled back too"
    );
}

#[test]
fn same_blocks_give_the_same_app_hash_and_restart_keeps_it() {
    let alice = key(2);
    let bob = address(&key(3));
    let txs = |seq| {
        vec![sign(
            &alice,
            vec![send(&alice, &bob, "5usure")],
            &SignOpts {
                sequence: seq,
                ..alice_opts()
            },
        )]
    };
    let mut a = Chain::new("");
    let mut b = Chain::new("");
    for seq in 0..3 {
        a.block(txs(seq));
        b.block(txs(seq));
        assert_eq!(a.app_hash(), b.app_hash());
    }
    // Reopen a's store: Info reports the same height and hash.
    let hash = a.app_hash();
    let height = a.height;
    let Chain { app, _dir: dir, .. } = a;
    drop(app);
    let reopened = App::new(
        Storage::open(dir.path(), StorageConfig::default()).unwrap(),
        AppConfig::default(),
    );
    let info = reopened.info(RequestInfo::default());
    assert_eq!(info.last_block_height, height);
    assert_eq!(info.last_block_app_hash.to_vec(), hash);
}

#[test]
fn a_block_executed_but_never_committed_is_executed_again_after_a_restart() {
    // The node dies between FinalizeBlock, which has written the block's state ahead, and
    // Commit. Reopened, the app reports the height before it, and CometBFT executes the block
    // again: here with other transactions, as after a different proposal.
    let alice = key(2);
    let bob = address(&key(3));
    let pay = |amount: &str| sign(&alice, vec![send(&alice, &bob, amount)], &alice_opts());
    let mut reference = Chain::new("");
    let mut crashed = {
        let mut chain = Chain::new("");
        let committed = chain.app_hash();
        chain.finalize(vec![pay("7usure")]);
        let Chain {
            app,
            height,
            _dir: dir,
        } = chain;
        drop(app);
        let app = App::new(
            Storage::open(dir.path(), StorageConfig::default()).unwrap(),
            AppConfig::default(),
        );
        let info = app.info(RequestInfo::default());
        assert_eq!(info.last_block_height, height - 1);
        assert_eq!(info.last_block_app_hash.to_vec(), committed);
        Chain {
            app,
            height: height - 1,
            _dir: dir,
        }
    };
    for chain in [&mut crashed, &mut reference] {
        assert_eq!(chain.deliver(pay("5usure")).code, 0);
        chain.block(vec![]);
    }
    assert_eq!(crashed.app_hash(), reference.app_hash());
    assert_eq!(
        crashed.balance(&bob, "usure"),
        reference.balance(&bob, "usure")
    );
}
