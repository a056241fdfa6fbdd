//! What consensus hands the app, through the real ABCI methods: ExtendVote reports only
//! approved feeds, VerifyVoteExtension rejects malformed votes, PrepareProposal injects the
//! extended commit, ProcessProposal rejects missing, forged, replayed and foreign votes,
//! FinalizeBlock records the median — a validator that misses its oracle votes is slashed and
//! jailed — and CometBFT's double-sign evidence slashes and tombstones.

mod common;

use common::*;
use ed25519_consensus::SigningKey;
use prost::Message;
use sha2::{Digest, Sha256};
use surety_oracle::votes::{encode_injected, extension_sign_bytes};
use surety_proto::cometbft::abci::*;
use surety_proto::cometbft::types::{AbciParams, BlockIdFlag, ConsensusParams};
use surety_proto::surety::oracle::v1::{FeedPrice, OracleVote, Params};
use surety_store::{Storage, StorageConfig};
use tendermint_abci::Application;

fn vote(prices: &[(&str, &str)]) -> Vec<u8> {
    OracleVote {
        prices: prices
            .iter()
            .map(|(f, p)| FeedPrice {
                feed: f.to_string(),
                price: p.to_string(),
            })
            .collect(),
        attestations: vec![],
    }
    .encode_to_vec()
}

struct Net {
    app: surety_app::App,
    key: SigningKey,
    _dir: tempfile::TempDir,
}

impl Net {
    fn validator(&self) -> Validator {
        Validator {
            address: Sha256::digest(self.key.verification_key().to_bytes())[..20]
                .to_vec()
                .into(),
            power: 100,
        }
    }

    /// The extended commit of `height` with `extension`, signed by `signer` over `chain`.
    fn commit(
        &self,
        extension: Vec<u8>,
        height: i64,
        signer: &SigningKey,
        chain: &str,
    ) -> ExtendedCommitInfo {
        let signature = signer.sign(&extension_sign_bytes(&extension, height, 0, chain));
        ExtendedCommitInfo {
            round: 0,
            votes: vec![ExtendedVoteInfo {
                validator: Some(self.validator()),
                vote_extension: extension.into(),
                extension_signature: signature.to_bytes().to_vec().into(),
                block_id_flag: BlockIdFlag::Commit as i32,
            }],
        }
    }

    fn last_commit(&self) -> CommitInfo {
        CommitInfo {
            round: 0,
            votes: vec![VoteInfo {
                validator: Some(self.validator()),
                block_id_flag: BlockIdFlag::Commit as i32,
            }],
        }
    }

    fn process(&self, height: i64, txs: Vec<Vec<u8>>) -> bool {
        let r = self.app.process_proposal(RequestProcessProposal {
            txs: txs.into_iter().map(Into::into).collect(),
            proposed_last_commit: Some(self.last_commit()),
            height,
            ..Default::default()
        });
        r.status == response_process_proposal::ProposalStatus::Accept as i32
    }

    fn finalize(&self, height: i64, txs: Vec<Vec<u8>>) {
        self.app.finalize_block(RequestFinalizeBlock {
            txs: txs.into_iter().map(Into::into).collect(),
            height,
            time: Some(tendermint_proto::google::protobuf::Timestamp {
                seconds: 1_700_000_000 + height,
                nanos: 0,
            }),
            ..Default::default()
        });
        self.app.commit();
    }
}

fn net() -> Net {
    let key = SigningKey::from([7u8; 32]);
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), StorageConfig::default()).unwrap();
    let app = surety_app::App::new(storage, Default::default());
    let genesis = genesis_with(key.verification_key().to_bytes(), |state| {
        let oracle = surety_proto::surety::oracle::v1::GenesisState {
            params: Some(Params {
                feeds: vec!["USDC/USD".into()],
                // A window of 3 blocks in which no vote may be missed.
                miss_window_blocks: 3,
                max_missed_bps: 0,
                miss_slash_bps: 100,
                ..surety_oracle::default_params()
            }),
            ..Default::default()
        };
        state
            .modules
            .insert("oracle".into(), serde_json::to_value(oracle).unwrap());
    });
    app.init_chain(RequestInitChain {
        chain_id: CHAIN.into(),
        app_state_bytes: genesis.into(),
        initial_height: 1,
        consensus_params: Some(ConsensusParams {
            abci: Some(AbciParams {
                vote_extensions_enable_height: 1,
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let net = Net {
        app,
        key,
        _dir: dir,
    };
    net.finalize(1, vec![]);
    net
}

fn price(app: &surety_app::App) -> Option<String> {
    use surety_proto::surety::oracle::v1::{QueryPriceRequest, QueryPriceResponse};
    let (bytes, _) = app
        .query_method(
            "/surety.oracle.v1.Query/Price",
            &QueryPriceRequest {
                feed: "USDC/USD".into(),
            }
            .encode_to_vec(),
            0,
        )
        .ok()?;
    Some(
        QueryPriceResponse::decode(bytes.as_slice())
            .ok()?
            .price?
            .price,
    )
}

#[test]
fn extend_and_verify_vote_extensions() {
    let net = net();
    net.app.set_observations(
        OracleVote::decode(vote(&[("USDC/USD", "1.01"), ("DOGE/USD", "5")]).as_slice()).unwrap(),
    );
    let ext = net.app.extend_vote(RequestExtendVote {
        height: 2,
        ..Default::default()
    });
    let reported = OracleVote::decode(ext.vote_extension.as_ref()).unwrap();
    assert_eq!(
        reported.prices.len(),
        1,
        "only approved feeds: {reported:?}"
    );
    assert_eq!(reported.prices[0].feed, "USDC/USD");

    let verify = |bytes: Vec<u8>| {
        net.app
            .verify_vote_extension(RequestVerifyVoteExtension {
                vote_extension: bytes.into(),
                height: 2,
                ..Default::default()
            })
            .status
            == response_verify_vote_extension::VerifyStatus::Accept as i32
    };
    assert!(verify(ext.vote_extension.to_vec()));
    assert!(
        verify(vec![]),
        "no observation is a missed vote, not a bad one"
    );
    assert!(!verify(vote(&[("DOGE/USD", "5")])), "unknown feed");
    assert!(!verify(vote(&[("USDC/USD", "one")])), "malformed price");
    assert!(!verify(b"\xff\x00garbage".to_vec()), "not a vote");
}

#[test]
fn proposals_carry_verified_votes_and_blocks_record_the_median() {
    let net = net();
    let good = net.commit(vote(&[("USDC/USD", "0.99")]), 1, &net.key, CHAIN);

    // PrepareProposal puts the votes first, and drops anything posing as them.
    let user_tx = b"\x0a\x00user tx".to_vec();
    let prepared = net.app.prepare_proposal(RequestPrepareProposal {
        max_tx_bytes: 1 << 20,
        txs: vec![encode_injected(&good).into(), user_tx.clone().into()],
        local_last_commit: Some(good.clone()),
        height: 2,
        ..Default::default()
    });
    assert_eq!(prepared.txs.len(), 2);
    assert_eq!(prepared.txs[0].as_ref(), encode_injected(&good).as_slice());
    assert_eq!(prepared.txs[1].as_ref(), user_tx.as_slice());

    assert!(net.process(2, vec![encode_injected(&good)]));
    assert!(net.process(2, vec![encode_injected(&good), user_tx.clone()]));
    assert!(!net.process(2, vec![]), "votes missing");
    assert!(
        !net.process(2, vec![user_tx.clone(), encode_injected(&good)]),
        "votes not first"
    );
    let forged = net.commit(
        vote(&[("USDC/USD", "0.5")]),
        1,
        &SigningKey::from([8u8; 32]),
        CHAIN,
    );
    assert!(
        !net.process(2, vec![encode_injected(&forged)]),
        "forged signature"
    );
    let replayed = net.commit(vote(&[("USDC/USD", "0.99")]), 0, &net.key, CHAIN);
    assert!(
        !net.process(2, vec![encode_injected(&replayed)]),
        "replayed from another height"
    );
    let foreign = net.commit(vote(&[("USDC/USD", "0.99")]), 1, &net.key, "other-chain");
    assert!(
        !net.process(2, vec![encode_injected(&foreign)]),
        "signed for another chain"
    );
    let mut tampered = good.clone();
    tampered.votes[0].vote_extension = vote(&[("USDC/USD", "0.01")]).into();
    assert!(
        !net.process(2, vec![encode_injected(&tampered)]),
        "price changed after signing"
    );
    let mut inflated = good.clone();
    inflated.votes[0].validator.as_mut().unwrap().power = 1_000;
    assert!(
        !net.process(2, vec![encode_injected(&inflated)]),
        "power differs from CometBFT's"
    );

    net.finalize(2, vec![encode_injected(&good)]);
    assert_eq!(price(&net.app).as_deref(), Some("0.990000000000000000"));
}

#[test]
fn a_validator_missing_its_oracle_votes_is_slashed_and_jailed() {
    use surety_proto::cosmos::staking::v1beta1::{QueryValidatorsRequest, QueryValidatorsResponse};
    let net = net();
    let validators = || {
        let (bytes, _) = net
            .app
            .query_method(
                "/cosmos.staking.v1beta1.Query/Validators",
                &QueryValidatorsRequest::default().encode_to_vec(),
                0,
            )
            .unwrap();
        QueryValidatorsResponse::decode(bytes.as_slice())
            .unwrap()
            .validators
    };
    // Heights 2 and 3 carry votes without prices: missed. The window closes at height 3.
    for height in [2, 3] {
        let empty = net.commit(vec![], height - 1, &net.key, CHAIN);
        assert!(net.process(height, vec![encode_injected(&empty)]));
        net.finalize(height, vec![encode_injected(&empty)]);
    }
    let v = &validators()[0];
    assert!(v.jailed, "{v:?}");
    assert_eq!(v.tokens, "99000000", "1% of 100 000 000 slashed");
    net.app.check_invariants().unwrap();
}

#[test]
fn double_sign_evidence_from_cometbft_slashes_and_tombstones() {
    use surety_proto::cosmos::slashing::v1beta1::{
        QuerySigningInfosRequest, QuerySigningInfosResponse,
    };
    use surety_proto::cosmos::staking::v1beta1::{QueryValidatorsRequest, QueryValidatorsResponse};
    let net = net();
    let good = net.commit(vote(&[("USDC/USD", "1.0")]), 1, &net.key, CHAIN);
    net.app.finalize_block(RequestFinalizeBlock {
        txs: vec![encode_injected(&good).into()],
        decided_last_commit: Some(net.last_commit()),
        misbehavior: vec![Misbehavior {
            r#type: MisbehaviorType::DuplicateVote as i32,
            validator: Some(net.validator()),
            height: 1,
            time: None,
            total_voting_power: 100,
        }],
        height: 2,
        time: Some(tendermint_proto::google::protobuf::Timestamp {
            seconds: 1_700_000_002,
            nanos: 0,
        }),
        ..Default::default()
    });
    net.app.commit();
    let (bytes, _) = net
        .app
        .query_method(
            "/cosmos.staking.v1beta1.Query/Validators",
            &QueryValidatorsRequest::default().encode_to_vec(),
            0,
        )
        .unwrap();
    let v = QueryValidatorsResponse::decode(bytes.as_slice())
        .unwrap()
        .validators
        .remove(0);
    assert!(v.jailed);
    assert_eq!(v.tokens, "95000000", "5% of 100 000 000");
    let (bytes, _) = net
        .app
        .query_method(
            "/cosmos.slashing.v1beta1.Query/SigningInfos",
            &QuerySigningInfosRequest { pagination: None }.encode_to_vec(),
            0,
        )
        .unwrap();
    let infos = QuerySigningInfosResponse::decode(bytes.as_slice())
        .unwrap()
        .info;
    assert!(infos.iter().any(|i| i.tombstoned), "{infos:?}");
    net.app.check_invariants().unwrap();
}

/// The genesis block gas limit (300 000 000 here, the default) bounds every block: the proposer
/// leaves out what does not fit, in mempool order, and a proposal asking for more is rejected.
#[test]
fn proposals_stay_within_the_block_gas_limit() {
    let chain = Chain::new("");
    let alice = key(2);
    let bob = address(&key(3));
    let txs: Vec<Vec<u8>> = (0..3)
        .map(|sequence| {
            sign(
                &alice,
                vec![send(&alice, &bob, "1usure")],
                &SignOpts {
                    account_number: 1,
                    sequence,
                    gas: 120_000_000,
                    fee: "",
                    ..Default::default()
                },
            )
        })
        .collect();
    for tx in &txs {
        let r = chain.app.check_tx(RequestCheckTx {
            tx: tx.clone().into(),
            r#type: 0,
        });
        assert_eq!(r.code, 0, "{}", r.log);
    }
    let height = chain.height + 1;
    let prepared = chain.app.prepare_proposal(RequestPrepareProposal {
        max_tx_bytes: 1_000_000,
        txs: txs.iter().cloned().map(Into::into).collect(),
        height,
        ..Default::default()
    });
    assert_eq!(
        prepared.txs.len(),
        2,
        "240 000 000 gas fits, 360 000 000 does not"
    );
    let status = |txs: &[Vec<u8>]| {
        chain
            .app
            .process_proposal(RequestProcessProposal {
                txs: txs.iter().cloned().map(Into::into).collect(),
                height,
                ..Default::default()
            })
            .status
    };
    use response_process_proposal::ProposalStatus;
    assert_eq!(status(&txs[..2]), ProposalStatus::Accept as i32);
    assert_eq!(status(&txs), ProposalStatus::Reject as i32);
}
