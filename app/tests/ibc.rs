//! IBC core on the real ABCI path. Alone, a relayer's signed transactions create a 07-tendermint
//! client and open a connection end, and malformed or dangling messages fail with IBC's codes and
//! change nothing. Between two chains linked by an in-process relayer (signed headers, ics23
//! proofs from the real stores): client updates, both handshakes, transfers both ways, cover
//! bought and a policy transferred by memo, an error acknowledgement's refund, and a timeout.
//! (The same with real processes and the stock Hermes runs in `tests/tests/ibc.rs`.)

mod relayer;
mod support;

use prost::Message;
use relayer::any;
use support::*;
use surety_app::testing::Tx;
use surety_proto::ibc_proto::ibc::core::client::v1::{
    MsgCreateClient, QueryClientStateRequest, QueryClientStateResponse,
};
use surety_proto::ibc_proto::ibc::core::commitment::v1::MerklePrefix;
use surety_proto::ibc_proto::ibc::core::connection::v1::{
    Counterparty, MsgConnectionOpenInit, QueryConnectionRequest, QueryConnectionResponse, Version,
};
use surety_proto::ibc_proto::ibc::lightclients::tendermint::v1::ClientState;

/// A client of a chain `other-1` at height 1-10, whose consensus state is from `time`.
fn create_client(time: i64) -> MsgCreateClient {
    relayer::create_client_msg(
        relayer::client_state("other-1", 10, 21 * 86_400),
        time,
        &[7; 32],
        &[9; 32],
    )
}

fn open_init(client: &str) -> MsgConnectionOpenInit {
    MsgConnectionOpenInit {
        client_id: client.into(),
        counterparty: Some(Counterparty {
            client_id: "07-tendermint-0".into(),
            connection_id: String::new(),
            prefix: Some(MerklePrefix {
                key_prefix: b"ibc".to_vec(),
            }),
        }),
        version: Some(Version {
            identifier: "1".into(),
            features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()],
        }),
        delay_period: 0,
        signer: alice().to_bech32(),
    }
}

#[test]
fn a_relayer_creates_a_client_and_opens_a_connection_end() {
    let mut h = market(|_| {});
    let t = h.time + 5;
    let create = create_client(t - 1);
    let r = h.block(
        t,
        vec![Tx::new(
            &alice(),
            any("/ibc.core.client.v1.MsgCreateClient", &create),
        )],
    );
    r[0].as_ref().expect("client created");

    let client: QueryClientStateResponse = h
        .query(
            "/ibc.core.client.v1.Query/ClientState",
            &QueryClientStateRequest {
                client_id: "07-tendermint-0".into(),
            },
        )
        .unwrap();
    let state = ClientState::decode(client.client_state.unwrap().value.as_slice()).unwrap();
    assert_eq!(state.chain_id, "other-1");
    assert_eq!(state.latest_height.unwrap().revision_height, 10);

    let r = h.block(
        t + 1,
        vec![Tx::new(
            &alice(),
            any(
                "/ibc.core.connection.v1.MsgConnectionOpenInit",
                &open_init("07-tendermint-0"),
            ),
        )],
    );
    r[0].as_ref().expect("connection end opened");
    let connection: QueryConnectionResponse = h
        .query(
            "/ibc.core.connection.v1.Query/Connection",
            &QueryConnectionRequest {
                connection_id: "connection-0".into(),
            },
        )
        .unwrap();
    let end = connection.connection.unwrap();
    assert_eq!(end.client_id, "07-tendermint-0");
    assert_eq!(end.state, 1, "STATE_INIT");
}

#[test]
fn malformed_and_dangling_ibc_messages_fail_with_ibc_codes() {
    let mut h = market(|_| {});
    let t = h.time + 5;
    // A client type this chain does not run.
    let mut wasm = create_client(t - 1);
    wasm.client_state.as_mut().unwrap().type_url = "/ibc.lightclients.wasm.v1.ClientState".into();
    // A connection on a client that does not exist.
    let dangling = open_init("07-tendermint-9");
    // A message whose signer is not an address.
    let mut unsigned = create_client(t - 1);
    unsigned.signer = "nobody".into();
    let before = balance(&h, &alice(), "usure");
    let r = h.block(
        t,
        vec![
            Tx::new(&alice(), any("/ibc.core.client.v1.MsgCreateClient", &wasm)),
            Tx::new(
                &alice(),
                any("/ibc.core.connection.v1.MsgConnectionOpenInit", &dangling),
            ),
            Tx::new(
                &alice(),
                any("/ibc.core.client.v1.MsgCreateClient", &unsigned),
            ),
        ],
    );
    let codes: Vec<(&str, u32)> = r
        .iter()
        .map(|r| {
            let e = r.as_ref().expect_err("refused");
            (e.codespace, e.code)
        })
        .collect();
    assert_eq!(codes[0].0, "ibc", "{r:?}");
    assert_eq!(codes[1], ("ibc", 3), "{r:?}");
    assert_eq!(codes[2].0, "sdk", "{r:?}");
    assert!(
        h.query::<QueryConnectionResponse>(
            "/ibc.core.connection.v1.Query/Connection",
            &QueryConnectionRequest {
                connection_id: "connection-0".into(),
            },
        )
        .is_err(),
        "no connection was stored"
    );
    assert!(
        balance(&h, &alice(), "usure") <= before,
        "only fees were taken"
    );
}

mod linked {
    use super::support::*;
    use crate::relayer::{any, sent_packets, Relayer, Side, TRANSFER};
    use base64::Engine;
    use sha2::{Digest, Sha256};
    use surety_app::testing::Tx;
    use surety_framework::Address;
    use surety_proto::ibc_proto::ibc::applications::transfer::v1::MsgTransfer;
    use surety_proto::ibc_proto::ibc::core::channel::v1 as channel;
    use surety_proto::surety::ibc::v1 as ibc;

    fn linked() -> Relayer {
        let mut r = Relayer::new(
            market_on("surety-a-1", |_| {}),
            market_on("surety-b-1", |_| {}),
        );
        r.connect();
        r.open_channel();
        r
    }

    /// `coin` sent by `sender` on `side` to `receiver` on the other chain, timing out `secs`
    /// after the sending block.
    fn transfer(
        r: &Relayer,
        side: Side,
        sender: &Address,
        receiver: &str,
        coin: (u128, &str),
        memo: &str,
        secs: i64,
    ) -> Tx {
        let channel = match side {
            Side::A => &r.channels[0],
            Side::B => &r.channels[1],
        };
        let timeout = u64::try_from(r.tick() + secs).unwrap() * 1_000_000_000;
        Tx::new(
            sender,
            any(
                "/ibc.applications.transfer.v1.MsgTransfer",
                &MsgTransfer {
                    source_port: TRANSFER.into(),
                    source_channel: channel.clone(),
                    token: Some(surety_proto::ibc_proto::cosmos::base::v1beta1::Coin {
                        denom: coin.1.into(),
                        amount: coin.0.to_string(),
                    }),
                    sender: sender.to_bech32(),
                    receiver: receiver.into(),
                    timeout_height: None,
                    timeout_timestamp: timeout,
                    memo: memo.into(),
                },
            ),
        )
    }

    /// Dave sends `amount` of `denom` from A to himself on B, with `memo`; returns the packet.
    fn dave_sends(
        r: &mut Relayer,
        amount: u128,
        denom: &str,
        memo: &str,
        secs: i64,
    ) -> channel::Packet {
        let tx = transfer(
            r,
            Side::A,
            &dave(),
            &dave().to_bech32(),
            (amount, denom),
            memo,
            secs,
        );
        send(r, Side::A, tx)
    }

    /// Sends `tx` on `side`; returns the packet it sent.
    fn send(r: &mut Relayer, side: Side, tx: Tx) -> channel::Packet {
        r.exec_tx(side, tx).expect("transfer sent");
        let mut packets = sent_packets(r.chain(side));
        assert_eq!(packets.len(), 1);
        packets.remove(0)
    }

    fn voucher(channel: &str, denom: &str) -> String {
        let hash = Sha256::digest(format!("{TRANSFER}/{channel}/{denom}"));
        format!("ibc/{}", hex::encode_upper(hash))
    }

    /// The acknowledgement's result or error, as ICS-20 writes it.
    fn ack_result(ack: &[u8]) -> Result<serde_json::Value, String> {
        let v: serde_json::Value = serde_json::from_slice(ack).unwrap();
        if let Some(e) = v.get("error") {
            return Err(e.as_str().unwrap().to_owned());
        }
        let b64 = v["result"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        Ok(serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    fn remote_account(r: &Relayer, sender: &Address) -> Address {
        let resp: ibc::QueryRemoteAccountResponse =
            r.b.query(
                "/surety.ibc.v1.Query/RemoteAccount",
                &ibc::QueryRemoteAccountRequest {
                    channel: r.channels[1].clone(),
                    sender: sender.to_bech32(),
                },
            )
            .unwrap();
        Address::from_bech32(&resp.address).unwrap()
    }

    #[test]
    fn two_chains_link_through_signed_headers_and_proofs() {
        let r = linked();
        use surety_proto::ibc_proto::ibc::core::channel::v1::{
            QueryChannelRequest, QueryChannelResponse,
        };
        for (side, chain) in [(0, &r.a), (1, &r.b)] {
            let c: QueryChannelResponse = chain
                .query(
                    "/ibc.core.channel.v1.Query/Channel",
                    &QueryChannelRequest {
                        port_id: TRANSFER.into(),
                        channel_id: r.channels[side].clone(),
                    },
                )
                .unwrap();
            let c = c.channel.unwrap();
            assert_eq!(c.state, channel::State::Open as i32);
            assert_eq!(
                c.counterparty.unwrap().channel_id,
                r.channels[1 - side],
                "each end names the other"
            );
            chain.invariants().unwrap();
        }
    }

    #[test]
    fn a_header_not_signed_by_the_followed_chain_is_refused() {
        let mut r = linked();
        let before = r.client_height(Side::A);
        // B's next block, signed by a validator B never had.
        let t = r.tick();
        let mut forged = r.header_at(Side::B, t);
        let impostor = tendermint_testgen::Validator::new("impostor").voting_power(100);
        let header = tendermint_testgen::Header::new(std::slice::from_ref(&impostor))
            .next_validators(&[impostor])
            .chain_id(r.b.chain_id())
            .height(forged.signed_header.header.height.value())
            .time(forged.signed_header.header.time)
            .app_hash(forged.signed_header.header.app_hash.clone());
        use tendermint_testgen::Generator;
        let light = tendermint_testgen::LightBlock::new_default_with_header(header)
            .generate()
            .unwrap();
        forged.signed_header = light.signed_header;
        forged.validators = light.validators;
        let msg = r.update_message(Side::A, &forged);
        let e = r.exec(Side::A, msg).expect_err("refused");
        assert_eq!(e.codespace, "ibc", "{e:?}");
        assert_eq!(r.client_height(Side::A), before, "the client did not move");
        // The honest header of the same height is accepted.
        r.update(Side::A);
        assert!(r.client_height(Side::A) > before);
    }

    /// Linked chains, capital in B's pools, and 2 000 of B's USDC held by dave on A as a
    /// voucher (its denom returned).
    fn dave_holds_b_usdc_on_a() -> (Relayer, String) {
        let mut r = linked();
        let on_a = voucher(&r.channels[0], "uusdc");
        for pool in [1, 2] {
            r.exec_tx(Side::B, deposit_tx(&carol(), pool, 1_000_000 * USDC))
                .expect("capital on B");
        }
        let tx = transfer(
            &r,
            Side::B,
            &alice(),
            &dave().to_bech32(),
            (2_000 * USDC, "uusdc"),
            "",
            600,
        );
        let p = send(&mut r, Side::B, tx);
        let ack = r.relay(Side::B, &p);
        assert!(
            ack_result(&ack).is_ok(),
            "{}",
            String::from_utf8_lossy(&ack)
        );
        assert_eq!(balance(&r.a, &dave(), &on_a), 2_000 * USDC);
        (r, on_a)
    }

    struct Bought {
        policy_id: u64,
        premium: u128,
        /// The packet carrying the change home, sent in the receiving block.
        change: channel::Packet,
    }

    /// Dave buys 10 000 USDC of depeg cover on B for 30 days by sending 1 500 of it back with
    /// an order; the acknowledgement reaches A.
    fn buy_by_memo(r: &mut Relayer, on_a: &str) -> Bought {
        let memo = serde_json::json!({"surety": {"buy_cover": {
            "product_id": "2", "cover": (10_000 * USDC).to_string(), "days": 30,
            "max_premium": (100 * USDC).to_string(), "beneficiary": dave().to_bech32(),
        }}})
        .to_string();
        let p = dave_sends(r, 1_500 * USDC, on_a, &memo, 600);
        let ack = r.receive(Side::A, &p);
        let mut change = sent_packets(&r.b);
        r.acknowledge(Side::A, &p, &ack).expect("ack accepted");
        let result = ack_result(&ack).expect("a success acknowledgement");
        let bought = &result["surety"]["buy_cover"];
        assert_eq!(change.len(), 1, "the change leaves in the receiving block");
        Bought {
            policy_id: bought["policy_id"].as_str().unwrap().parse().unwrap(),
            premium: bought["premium"].as_str().unwrap().parse().unwrap(),
            change: change.remove(0),
        }
    }

    /// The first packet a chain sends in the next five empty blocks, `step` seconds apart.
    fn next_packet(
        chain: &mut surety_app::testing::TestChain,
        step: i64,
    ) -> Option<channel::Packet> {
        (0..5).find_map(|_| {
            let t = chain.time + step;
            chain.block(t, vec![]);
            sent_packets(chain).pop()
        })
    }

    fn remittances(r: &Relayer, account: &Address) -> Vec<ibc::Remittance> {
        let resp: ibc::QueryRemittancesResponse =
            r.b.query(
                "/surety.ibc.v1.Query/Remittances",
                &ibc::QueryRemittancesRequest {
                    account: account.to_bech32(),
                    pagination: None,
                },
            )
            .unwrap();
        resp.remittances
    }

    /// A user on chain A holds chain B's USDC, buys cover on B with one transfer whose memo
    /// orders it, gets the change back, hands the policy to someone on B by another memo; a
    /// purchase B refuses comes back as an error acknowledgement and is refunded on A; a
    /// transfer never relayed times out and is refunded.
    #[test]
    fn cover_is_bought_transferred_and_refunded_across_chains() {
        let (mut r, on_a) = dave_holds_b_usdc_on_a();
        let Bought {
            policy_id,
            premium,
            change,
        } = buy_by_memo(&mut r, &on_a);
        assert!(premium > 0 && premium < 100 * USDC, "{premium}");
        let owner = remote_account(&r, &dave());
        assert_eq!(policy_of(&r.b, policy_id).owner, owner.to_bech32());
        assert_eq!(
            balance(&r.b, &owner, "uusdc"),
            0,
            "the change left for home"
        );

        // The change is delivered once.
        let ack = r.relay(Side::B, &change);
        assert!(ack_result(&ack).is_ok());
        assert_eq!(balance(&r.a, &dave(), &on_a), 2_000 * USDC - premium);
        let remits = remittances(&r, &owner);
        assert_eq!(remits.len(), 1);
        assert_eq!(remits[0].kind, "change");
        assert_eq!(remits[0].status, ibc::RemittanceStatus::Delivered as i32);
        assert_eq!(remits[0].amount, (1_500 * USDC - premium).to_string());

        // An order B refuses (the premium is above its limit) is an error acknowledgement: dave
        // is refunded on A and nothing is left on B.
        let policies_before =
            r.b.read(|ctx| surety_policy::state::all_policies(ctx).unwrap().len());
        let memo = serde_json::json!({"surety": {"buy_cover": {
            "product_id": 2, "cover": (10_000 * USDC).to_string(), "days": 30, "max_premium": "1",
        }}})
        .to_string();
        let before = balance(&r.a, &dave(), &on_a);
        let p = dave_sends(&mut r, 100 * USDC, on_a.as_str(), &memo, 600);
        assert_eq!(balance(&r.a, &dave(), &on_a), before - 100 * USDC);
        let ack = r.relay(Side::A, &p);
        let error = ack_result(&ack).expect_err("an error acknowledgement");
        assert!(error.contains("policy/"), "{error}");
        assert_eq!(balance(&r.a, &dave(), &on_a), before, "refunded on A");
        assert_eq!(balance(&r.b, &owner, "uusdc"), 0);
        assert_eq!(
            r.b.read(|ctx| surety_policy::state::all_policies(ctx).unwrap().len()),
            policies_before
        );

        // The remote owner hands the policy to bob on B with a transfer of one micro-USDC.
        let memo = serde_json::json!({"surety": {"transfer_policy": {
            "policy_id": policy_id, "recipient": bob().to_bech32(),
        }}})
        .to_string();
        let p = dave_sends(&mut r, 1, on_a.as_str(), &memo, 600);
        let ack = r.relay(Side::A, &p);
        assert!(
            ack_result(&ack).is_ok(),
            "{}",
            String::from_utf8_lossy(&ack)
        );
        assert_eq!(policy_of(&r.b, policy_id).owner, bob().to_bech32());

        // A transfer no one relays times out: proven unreceived on B, it is refunded on A once.
        let before = balance(&r.a, &dave(), &on_a);
        let p = dave_sends(&mut r, 50 * USDC, on_a.as_str(), "", 30);
        let late = r.tick() + 60;
        r.time_out(Side::A, &p, late).expect("timed out");
        assert_eq!(balance(&r.a, &dave(), &on_a), before);
        // A second relayer's copy of the same timeout is a no-op, as in ibc-go: no second refund.
        let again = r.tick();
        let _ = r.time_out(Side::A, &p, again);
        assert_eq!(balance(&r.a, &dave(), &on_a), before, "refunded once");

        r.a.invariants().unwrap();
        r.b.invariants().unwrap();
    }

    /// The depeg pays dave's policy on B; the payout leaves for A in EndBlock, times out there
    /// unrelayed, is held again and resent after the retry delay, and arrives once.
    #[test]
    fn a_payout_that_times_out_is_sent_again_and_delivered_once() {
        let (mut r, on_a) = dave_holds_b_usdc_on_a();
        let bought = buy_by_memo(&mut r, &on_a);
        r.relay(Side::B, &bought.change);
        let owner = remote_account(&r, &dave());
        let before = balance(&r.a, &dave(), &on_a);

        // USDC trades at 0.90 on B for longer than the trigger's 60 seconds.
        r.b.observed.insert("USDC/USD".into(), "0.90".into());
        let payout = next_packet(&mut r.b, 31).expect("the payout left for home");
        let sent = remittances(&r, &owner)
            .into_iter()
            .find(|x| x.kind == "payout")
            .expect("a payout remittance");
        assert_eq!(sent.status, ibc::RemittanceStatus::InFlight as i32);
        assert_eq!(sent.receiver, dave().to_bech32(), "to the beneficiary on A");
        let amount: u128 = sent.amount.parse().unwrap();
        assert!(amount > 0);
        r.b.observed.insert("USDC/USD".into(), "1.00".into());

        // No relayer delivers it in time: proven unreceived on A, it times out on B.
        let late = i64::try_from(payout.timeout_timestamp / 1_000_000_000).unwrap() + 1;
        r.time_out(Side::B, &payout, late).expect("timed out");
        let waiting = remittances(&r, &owner)
            .into_iter()
            .find(|x| x.id == sent.id)
            .unwrap();
        assert_eq!(waiting.status, ibc::RemittanceStatus::Pending as i32);
        assert_eq!(waiting.attempts, 1);
        assert_eq!(
            balance(&r.b, &owner, "uusdc"),
            0,
            "held out of the remote account's reach until resent"
        );
        r.b.invariants().unwrap();

        // After the retry delay it leaves again, and this time it is relayed.
        let resent = next_packet(&mut r.b, 5).expect("the payout was sent again");
        assert_ne!(resent.sequence, payout.sequence);
        let ack = r.relay(Side::B, &resent);
        assert!(ack_result(&ack).is_ok());
        assert_eq!(balance(&r.a, &dave(), &on_a), before + amount, "paid once");
        let done = remittances(&r, &owner)
            .into_iter()
            .find(|x| x.id == sent.id)
            .unwrap();
        assert_eq!(done.status, ibc::RemittanceStatus::Delivered as i32);
        assert_eq!(done.attempts, 2);
        assert!(
            next_packet(&mut r.b, 10).is_none(),
            "nothing else is left to send"
        );
        r.a.invariants().unwrap();
        r.b.invariants().unwrap();
    }

    /// Dave sends `amount` of his voucher from A with a `surety` memo of `action` and `fields`;
    /// the change the action leaves is relayed home. Returns the action's result from the
    /// (success) acknowledgement.
    fn act_by_memo(
        r: &mut Relayer,
        on_a: &str,
        amount: u128,
        action: &str,
        fields: serde_json::Value,
    ) -> serde_json::Value {
        let memo = serde_json::json!({ "surety": { action: fields } }).to_string();
        let p = dave_sends(r, amount, on_a, &memo, 600);
        let ack = r.receive(Side::A, &p);
        let change = sent_packets(&r.b);
        r.acknowledge(Side::A, &p, &ack).expect("ack accepted");
        for packet in &change {
            r.relay(Side::B, packet);
        }
        let result = ack_result(&ack).unwrap_or_else(|e| panic!("{action}: {e}"));
        result["surety"][action].clone()
    }

    /// A remote owner's other actions, each one transfer: deposit into a pool, ask to withdraw,
    /// withdraw after the cooldown (the money comes home), and claim on custody cover.
    #[test]
    fn remote_owners_deposit_withdraw_and_claim_through_memos() {
        let (mut r, on_a) = dave_holds_b_usdc_on_a();
        let owner = remote_account(&r, &dave());

        let deposited = act_by_memo(
            &mut r,
            &on_a,
            500 * USDC,
            "deposit",
            serde_json::json!({ "pool_id": 1 }),
        );
        let shares = deposited["shares"].as_str().unwrap().to_owned();
        assert_ne!(shares, "0");
        act_by_memo(
            &mut r,
            &on_a,
            1,
            "request_withdraw",
            serde_json::json!({ "pool_id": 1, "shares": shares }),
        );
        // The demo pools' cooldown is five minutes.
        let later = r.tick() + 301;
        r.b.block(later, vec![]);
        let before = balance(&r.a, &dave(), &on_a);
        let withdrawn = act_by_memo(
            &mut r,
            &on_a,
            1,
            "complete_withdraw",
            serde_json::json!({ "pool_id": 1 }),
        );
        let amount: u128 = withdrawn["amount"].as_str().unwrap().parse().unwrap();
        assert!(amount + 1 >= 500 * USDC, "{withdrawn}");
        assert_eq!(
            balance(&r.a, &dave(), &on_a),
            before - 1 + amount + 1,
            "the withdrawal came home with the micro-USDC that carried the order"
        );

        let bought = act_by_memo(
            &mut r,
            &on_a,
            100 * USDC,
            "buy_cover",
            serde_json::json!({
                "product_id": 4, "cover": (10_000 * USDC).to_string(), "days": 30,
                "max_premium": (100 * USDC).to_string(),
            }),
        );
        let policy_id: u64 = bought["policy_id"].as_str().unwrap().parse().unwrap();
        let filed = act_by_memo(
            &mut r,
            &on_a,
            11 * USDC,
            "file_claim",
            serde_json::json!({
                "policy_id": policy_id, "incident": "example-exchange hot wallet",
                "loss": (3_600 * USDC).to_string(), "evidence": "https://example.com/postmortem",
            }),
        );
        let claim_id: u64 = filed["claim_id"].as_str().unwrap().parse().unwrap();
        assert_eq!(claim_of(&r.b, claim_id).claimant, owner.to_bech32());
        r.a.invariants().unwrap();
        r.b.invariants().unwrap();
    }
}
