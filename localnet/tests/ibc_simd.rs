//! Two real ibc-go chains (`simd-1`, `simd-2`) linked by the stock Hermes relayer over a
//! transfer channel: an ICS-20 transfer with a memo arrives as `ibc/<hash>`, and part of it
//! goes back. Real processes on 127.0.0.1, ports 21000–21004 and 21100–21104 (below the kernel's
//! ephemeral range, so no outgoing connection can hold them), everything under a
//! temporary directory (kept, with its logs, when `SURETY_IBC_KEEP=1`).

use std::path::Path;
use std::time::{Duration, Instant};

use surety_localnet::ibc::{
    self, Hermes, HermesChain, IbcLinks, IbcTools, SimdChain, SimdOptions, SimdPorts, SIMD_DENOM,
};

const CHAIN_1: &str = "simd-1";
const CHAIN_2: &str = "simd-2";
const PORTS_1: u16 = 21000;
const PORTS_2: u16 = 21100;
const MEMO: &str = r#"{"hello":1}"#;

/// Polls `user`'s balance in `denom` on `chain` until `done(balance)`; panics with Hermes' log
/// tail on timeout.
fn wait_balance(
    chain: &SimdChain,
    links: &IbcLinks,
    user: &str,
    denom: &str,
    done: impl Fn(u128) -> bool,
    what: &str,
) -> u128 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let b = chain
            .balance(user, denom)
            .unwrap_or_else(|e| panic!("querying {denom} on {}: {e:#}", chain.chain_id()));
        if done(b) {
            return b;
        }
        if Instant::now() >= deadline {
            panic!(
                "{what}: {user} still holds {b}{denom} on {} after 60 s\n--- tail of {} ---\n{}",
                chain.chain_id(),
                links.hermes.log_path().display(),
                links.hermes.log_tail(40)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The recv_packet transaction on `chain` carried `memo` in its fungible_token_packet event.
fn memo_delivered(chain: &SimdChain, channel: &str, memo: &str) -> bool {
    let query = format!("recv_packet.packet_dst_channel='{channel}'");
    let rpc = chain.rpc_url();
    let out = chain
        .cli(&[
            "query", "txs", "--query", &query, "--node", &rpc, "--output", "json",
        ])
        .and_then(|o| o.json())
        .unwrap_or_else(|e| panic!("searching recv_packet on {}: {e:#}", chain.chain_id()));
    out["txs"].as_array().into_iter().flatten().any(|tx| {
        tx["events"].as_array().into_iter().flatten().any(|e| {
            e["type"] == "fungible_token_packet"
                && e["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|a| a["key"] == "memo" && a["value"] == memo)
        })
    })
}

#[test]
fn ics20_round_trip_between_two_simd_chains() {
    let tools = IbcTools::locate().unwrap_or_else(|e| panic!("simd/hermes not available: {e:#}"));
    let dir = tempfile::Builder::new()
        .prefix("surety-ibc-simd-")
        .tempdir()
        .expect("tempdir");
    let root: &Path = dir.path();
    eprintln!("[ibc_simd] root {}", root.display());

    // 1. Two chains.
    let t0 = Instant::now();
    let mut chains: Vec<SimdChain> = [(CHAIN_1, PORTS_1), (CHAIN_2, PORTS_2)]
        .iter()
        .map(|(id, base)| {
            let ports = SimdPorts::block(*base).expect("ports");
            SimdChain::new(&tools.simd, SimdOptions::new(root, id, ports))
        })
        .collect();
    for c in &mut chains {
        c.create()
            .unwrap_or_else(|e| panic!("creating {}: {e:#}", c.chain_id()));
        c.spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e:#}", c.chain_id()));
    }
    for c in &mut chains {
        c.wait_for_height(2, Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{} makes no blocks: {e:#}", c.chain_id()));
    }
    let chain_start = t0.elapsed();
    eprintln!("[ibc_simd] both chains created and at height 2 in {chain_start:.1?}");

    // 2. Hermes: config, keys, channel, `hermes start`.
    let t1 = Instant::now();
    let hermes_chains: Vec<HermesChain> = chains
        .iter()
        .map(|c| HermesChain::simd(c).expect("hermes entry"))
        .collect();
    let pairs = [(CHAIN_1.to_owned(), CHAIN_2.to_owned())];
    let links = ibc::link_chains(&tools.hermes, &root.join("hermes"), hermes_chains, &pairs)
        .unwrap_or_else(|e| panic!("linking {CHAIN_1} and {CHAIN_2}: {e:#}"));
    let link_time = t1.elapsed();
    let ch = links.channel(CHAIN_1, CHAIN_2).expect("channel recorded");
    eprintln!(
        "[ibc_simd] channel {}/{} ({}, {}) <-> {}/{} ({}, {}) created and hermes started in {link_time:.1?}",
        ch.a.chain_id, ch.a.channel_id, ch.a.connection_id, ch.a.client_id,
        ch.b.chain_id, ch.b.channel_id, ch.b.connection_id, ch.b.client_id,
    );
    assert_eq!(ch.a.port_id, ibc::TRANSFER_PORT);
    assert!(ch.a.channel_id.starts_with("channel-") && ch.b.channel_id.starts_with("channel-"));

    // 3. 1000stake simd-1 -> simd-2, with a memo.
    let (c1, c2) = (&chains[0], &chains[1]);
    let user1 = c1.account("user").expect("user on simd-1").address.clone();
    let user2 = c2.account("user").expect("user on simd-2").address.clone();
    let voucher = ibc::ibc_denom(ibc::TRANSFER_PORT, &ch.b.channel_id, SIMD_DENOM);
    let before = c2.balance(&user2, &voucher).expect("balance");
    assert_eq!(before, 0, "{user2} already holds {voucher}");

    let t2 = Instant::now();
    c1.ibc_transfer(
        "user",
        &ch.a.channel_id,
        &user2,
        &format!("1000{SIMD_DENOM}"),
        Some(MEMO),
    )
    .unwrap_or_else(|e| panic!("transfer {CHAIN_1} -> {CHAIN_2}: {e:#}"));
    wait_balance(
        c2,
        &links,
        &user2,
        &voucher,
        |b| b == 1000,
        "transfer there",
    );
    let there = t2.elapsed();
    eprintln!("[ibc_simd] 1000{SIMD_DENOM} arrived on {CHAIN_2} as {voucher} in {there:.1?}");
    assert!(
        memo_delivered(c2, &ch.b.channel_id, MEMO),
        "the memo {MEMO} is not in {CHAIN_2}'s fungible_token_packet event"
    );

    // 4. 400 of the voucher back: it unescrows native stake on simd-1.
    let stake_before = c1.balance(&user1, SIMD_DENOM).expect("balance");
    let t3 = Instant::now();
    c2.ibc_transfer(
        "user",
        &ch.b.channel_id,
        &user1,
        &format!("400{voucher}"),
        None,
    )
    .unwrap_or_else(|e| panic!("transfer back {CHAIN_2} -> {CHAIN_1}: {e:#}"));
    wait_balance(
        c1,
        &links,
        &user1,
        SIMD_DENOM,
        |b| b == stake_before + 400,
        "transfer back",
    );
    let back = t3.elapsed();
    assert_eq!(c2.balance(&user2, &voucher).expect("balance"), 600);
    eprintln!("[ibc_simd] 400 {voucher} back on {CHAIN_1} as {SIMD_DENOM} in {back:.1?}");
    eprintln!(
        "[ibc_simd] TIMES chain start {chain_start:.1?}, link (keys + channel + hermes start) {link_time:.1?}, transfer there {there:.1?}, back {back:.1?}, round trip {:.1?}",
        there + back
    );

    // 5. A second link (as a relaunch would do) reuses the open channel and relays again.
    let IbcLinks { mut hermes, .. } = links;
    hermes.stop().expect("stopping hermes");
    assert!(!hermes.is_running());
    let t4 = Instant::now();
    let chains_again = chains
        .iter()
        .map(|c| HermesChain::simd(c).expect("hermes entry"))
        .collect();
    let links = ibc::link_chains(&tools.hermes, &root.join("hermes"), chains_again, &pairs)
        .unwrap_or_else(|e| panic!("re-linking {CHAIN_1} and {CHAIN_2}: {e:#}"));
    let relink = t4.elapsed();
    assert_eq!(
        links.channel(CHAIN_1, CHAIN_2),
        Some(ch.clone()),
        "channel not reused"
    );
    c1.ibc_transfer(
        "user",
        &ch.a.channel_id,
        &user2,
        &format!("100{SIMD_DENOM}"),
        None,
    )
    .unwrap_or_else(|e| panic!("transfer after re-link: {e:#}"));
    wait_balance(
        c2,
        &links,
        &user2,
        &voucher,
        |b| b == 700,
        "transfer after re-link",
    );
    eprintln!(
        "[ibc_simd] re-link reused {} in {relink:.1?} and relayed again",
        ch.a.channel_id
    );

    // 6. Everything stops cleanly.
    let IbcLinks { mut hermes, .. } = links;
    hermes.stop().expect("stopping hermes");
    for c in &mut chains {
        c.stop()
            .unwrap_or_else(|e| panic!("stopping {}: {e:#}", c.chain_id()));
        assert!(!c.is_running());
        // A second create finds the chain and keeps it (what a relaunch does).
        assert!(!c.create().expect("re-open"), "{} re-created", c.chain_id());
    }
    if std::env::var_os("SURETY_IBC_KEEP").is_some_and(|v| v == "1") {
        eprintln!("[ibc_simd] keeping {}", dir.keep().display());
    }
}

/// Hermes accepts the Surety entry (JMT proof specs, `usure` gas) and derives the relayer
/// address that Surety genesis must fund; no chain needed.
#[test]
fn hermes_accepts_the_surety_entry() {
    let tools = IbcTools::locate().unwrap_or_else(|e| panic!("simd/hermes not available: {e:#}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let chains = vec![
        HermesChain::surety("surety-a-1", 21200, 21201, ibc::RELAYER_MNEMONIC),
        HermesChain::surety("surety-b-1", 21300, 21301, ibc::RELAYER_MNEMONIC),
    ];
    let hermes = Hermes::new(&tools.hermes, dir.path(), chains);
    hermes
        .write_config()
        .unwrap_or_else(|e| panic!("hermes rejects the Surety entries: {e:#}"));
    hermes.add_keys().expect("hermes keys add");
    let addr = hermes
        .key_address("surety-a-1")
        .unwrap_or_else(|e| panic!("hermes keys list: {e:#}"));
    assert_eq!(addr, ibc::RELAYER_SURETY_ADDRESS);
}
