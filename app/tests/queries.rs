//! Queries as clients make them: gRPC method paths over ABCI, heights, Simulate, and
//! `store/<substore>/key` proofs verified with ics23 against the app hash.

mod common;

use common::*;
use prost::Message;
use surety_proto::cometbft::abci::RequestQuery;
use surety_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use surety_proto::ics23::CommitmentProof;
use tendermint_abci::Application;

fn store_query(chain: &Chain, key: &[u8], height: i64) -> (Vec<u8>, [CommitmentProof; 2], u64) {
    let r = chain.app.query(RequestQuery {
        path: "store/bank/key".into(),
        data: key.to_vec().into(),
        height,
        prove: true,
    });
    assert_eq!(r.code, 0, "{}", r.log);
    let ops = r.proof_ops.expect("proof requested").ops;
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[1].key, b"bank");
    let decode = |i: usize| CommitmentProof::decode(ops[i].data.as_slice()).unwrap();
    (r.value.to_vec(), [decode(0), decode(1)], r.height as u64)
}

#[test]
fn store_proofs_verify_against_the_app_hash_at_latest_and_older_heights() {
    let mut chain = Chain::new("");
    let (alice, bob) = (key(2), address(&key(3)));
    let before = chain.height;
    let r = chain.deliver(sign(
        &alice,
        vec![send(&alice, &bob, "5usure")],
        &SignOpts {
            account_number: 1,
            ..Default::default()
        },
    ));
    assert_eq!(r.code, 0, "{}", r.log);
    chain.block(vec![]);
    let storage = chain.app.storage().clone();
    let key = surety_bank::balance_key(&bob, "usure");

    // present, latest: bob has 15
    let (value, proofs, height) = store_query(&chain, &key, 0);
    assert_eq!(value, b"15");
    let hash = storage.app_hash(height).unwrap();
    assert!(surety_store::verify_membership(
        &hash, "bank", &key, &value, &proofs
    ));
    assert!(
        !surety_store::verify_membership(&hash, "bank", &key, b"16", &proofs),
        "a tampered value must not verify"
    );

    // present, older height: bob had 10
    let (value, proofs, height) = store_query(&chain, &key, before);
    assert_eq!((value.as_slice(), height), (&b"10"[..], before as u64));
    assert!(surety_store::verify_membership(
        &storage.app_hash(height).unwrap(),
        "bank",
        &key,
        &value,
        &proofs
    ));

    // absent: nobody holds uatom
    let absent = surety_bank::balance_key(&bob, "uatom");
    for h in [0, before] {
        let (value, proofs, height) = store_query(&chain, &absent, h);
        assert!(value.is_empty());
        assert!(surety_store::verify_non_membership(
            &storage.app_hash(height).unwrap(),
            "bank",
            &absent,
            &proofs
        ));
    }
}

#[test]
fn grpc_paths_answer_at_a_height_and_report_errors_as_cosmos_does() {
    let mut chain = Chain::new("");
    let (alice, bob) = (key(2), address(&key(3)));
    let old = chain.height as u64;
    chain.deliver(sign(
        &alice,
        vec![send(&alice, &bob, "7usure")],
        &SignOpts {
            account_number: 1,
            ..Default::default()
        },
    ));
    let req = QueryBalanceRequest {
        address: bob.to_bech32(),
        denom: "usure".into(),
    }
    .encode_to_vec();
    let at = |h| {
        let (bytes, read) = chain
            .app
            .query_method("/cosmos.bank.v1beta1.Query/Balance", &req, h)
            .unwrap();
        (
            QueryBalanceResponse::decode(bytes.as_slice())
                .unwrap()
                .balance
                .unwrap()
                .amount,
            read,
        )
    };
    assert_eq!(at(old), ("10".to_string(), old));
    assert_eq!(at(0).0, "17");

    let missing = chain.app.query(RequestQuery {
        path: "/cosmos.auth.v1beta1.Query/Account".into(),
        data: surety_proto::cosmos::auth::v1beta1::QueryAccountRequest {
            address: address(&key(99)).to_bech32(),
        }
        .encode_to_vec()
        .into(),
        ..Default::default()
    });
    assert_eq!(missing.code, 22);
    assert!(
        missing
            .log
            .starts_with("rpc error: code = NotFound desc = account surety1"),
        "{}",
        missing.log
    );

    let unknown = chain.app.query(RequestQuery {
        path: "/cosmos.nope.v1.Query/X".into(),
        ..Default::default()
    });
    assert_eq!(unknown.code, 6, "{}", unknown.log);
    let future = chain.app.query(RequestQuery {
        path: "/cosmos.bank.v1beta1.Query/Balance".into(),
        data: req.clone().into(),
        height: 999,
        ..Default::default()
    });
    assert_eq!(future.code, 26, "{}", future.log);
}

#[test]
fn simulate_reports_gas_and_changes_nothing() {
    let chain = Chain::new("");
    let (alice, bob) = (key(2), address(&key(3)));
    let tx = sign(
        &alice,
        vec![send(&alice, &bob, "3usure")],
        &SignOpts {
            account_number: 1,
            ..Default::default()
        },
    );
    let hash = chain.app_hash();
    let r = chain.app.simulate(&tx).unwrap();
    let gas = r.gas_info.unwrap();
    assert!(gas.gas_used > 10_000 && gas.gas_used < 200_000, "{gas:?}");
    assert_eq!(
        r.result.unwrap().msg_responses[0].type_url,
        "/cosmos.bank.v1beta1.MsgSendResponse"
    );
    assert_eq!(chain.app_hash(), hash);
    assert_eq!(chain.balance(&bob, "usure"), 10);
    assert_eq!(chain.app.simulate(&[1, 2, 3]).unwrap_err().code, 2);
}

/// More products than one query may read under the node's query gas limit: listing them at
/// once fails out of gas (as the unpaginated query did), but page by page, over ABCI and the
/// real store, every product comes back exactly once, in order.
#[test]
fn a_list_too_long_for_the_query_gas_limit_is_read_page_by_page() {
    use surety_proto::cosmos::base::query::v1beta1::PageRequest;
    use surety_proto::surety::policy::v1::{
        ClaimMode, CoverType, Product, QueryProductsRequest, QueryProductsResponse,
    };
    const PRODUCTS: u64 = 1_200;
    let products: Vec<Product> = (1..=PRODUCTS)
        .map(|n| Product {
            name: format!("cover {n}"),
            protocol: format!("protocol-{n}"),
            cover_type: CoverType::Protocol as i32,
            denom: "uusdc".into(),
            annual_base_rate_bps: 200,
            min_term_days: 1,
            max_term_days: 365,
            max_cover: "1000000000".into(),
            claim_mode: ClaimMode::Parametric as i32,
            ..Default::default()
        })
        .collect();
    let genesis = genesis_with([9; 32], |state| {
        state
            .modules
            .insert("policy".into(), serde_json::json!({ "products": products }));
    });
    let dir = tempfile::tempdir().unwrap();
    let storage =
        surety_store::Storage::open(dir.path(), surety_store::StorageConfig::default()).unwrap();
    let app = surety_app::App::new(
        storage,
        surety_app::AppConfig {
            query_gas_limit: 100_000,
            ..Default::default()
        },
    );
    app.init_chain(surety_proto::cometbft::abci::RequestInitChain {
        chain_id: CHAIN.into(),
        app_state_bytes: genesis.into(),
        initial_height: 1,
        ..Default::default()
    });
    let mut chain = Chain {
        app,
        height: 0,
        _dir: dir,
    };
    chain.block(vec![]);

    let ask = |page: PageRequest| {
        chain.app.query(RequestQuery {
            path: "/surety.policy.v1.Query/Products".into(),
            data: QueryProductsRequest {
                pagination: Some(page),
            }
            .encode_to_vec()
            .into(),
            ..Default::default()
        })
    };
    let too_many = ask(PageRequest {
        limit: 1_000,
        ..Default::default()
    });
    assert_eq!(
        (too_many.code, too_many.codespace.as_str()),
        (11, "sdk"),
        "{}",
        too_many.log
    );

    let mut ids = Vec::new();
    let mut key = Vec::new();
    let mut pages = 0;
    loop {
        let r = ask(PageRequest {
            key: key.clone(),
            ..Default::default()
        });
        assert_eq!(r.code, 0, "{}", r.log);
        let r = QueryProductsResponse::decode(r.value.as_ref()).unwrap();
        assert_eq!(r.products.len(), if pages < 12 { 100 } else { 0 });
        ids.extend(r.products.iter().map(|p| p.id));
        pages += 1;
        key = r.pagination.unwrap().next_key;
        if key.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 12, "the last full page says it is the last");
    assert_eq!(ids, (1..=PRODUCTS).collect::<Vec<_>>());

    // By offset: reads what it skips, so a small offset fits and gives the next key.
    let r = ask(PageRequest {
        offset: 150,
        ..Default::default()
    });
    assert_eq!(r.code, 0, "{}", r.log);
    let r = QueryProductsResponse::decode(r.value.as_ref()).unwrap();
    assert_eq!(r.products.first().map(|p| p.id), Some(151));
    assert_eq!(r.products.len(), 100);
    assert_eq!(r.pagination.unwrap().next_key, 251u64.to_be_bytes());
    // Counting the total reads the whole list: gas pays for it, and here it is too long.
    let r = ask(PageRequest {
        count_total: true,
        ..Default::default()
    });
    assert_eq!(r.code, 11, "{}", r.log);
}

#[test]
fn node_info_is_asked_for_when_wanted_and_kept_once_answered() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use surety_app::GET_NODE_INFO;

    let chain = Chain::new("");
    let ask = || chain.app.query_method(GET_NODE_INFO, &[], 0);
    let e = ask().unwrap_err();
    assert_eq!(e.grpc, surety_framework::GrpcCode::Unavailable, "{}", e.log);

    // CometBFT answers from its second call on; the app asks it again only until it has.
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    chain.app.set_node_info_source(Box::new(move || {
        (counter.fetch_add(1, Ordering::SeqCst) > 0).then(|| b"info".to_vec())
    }));
    let e = ask().unwrap_err();
    assert_eq!(e.grpc, surety_framework::GrpcCode::Unavailable, "{}", e.log);
    assert_eq!(ask().unwrap().0, b"info");
    assert_eq!(ask().unwrap().0, b"info");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
