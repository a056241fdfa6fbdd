//! A chain for tests and simulations, driven the way CometBFT drives a validator: every
//! block goes through CheckTx, PrepareProposal, ProcessProposal, FinalizeBlock and Commit, with
//! transactions signed by real keys, the validators' oracle votes signed by their consensus keys
//! and carried in vote extensions, CometBFT's validator set (updates take effect two heights
//! later), signed and missed commits, and double-sign evidence. Nothing writes state except
//! those transactions and blocks: governance acts through proposals that validators vote on,
//! incidents are confirmed by validators' attestations.

use crate::{App, AppConfig};
use ed25519_consensus::SigningKey as ConsensusKey;
use k256::ecdsa::SigningKey;
use prost::Message;
use std::collections::{BTreeMap, BTreeSet};
use surety_framework::{Address, Ctx, Error, Evidence, GrpcCode};
use surety_proto::cometbft::abci::*;
use surety_proto::cometbft::types::{AbciParams, BlockIdFlag, BlockParams, ConsensusParams};
use surety_proto::cosmos::base::abci::v1beta1::TxMsgData;
use surety_proto::cosmos::tx::signing::v1beta1::SignMode;
use surety_proto::surety::oracle::v1::{FeedPrice, OracleVote};
use surety_proto::Any;
use surety_store::{Storage, StorageConfig};
use tendermint_abci::Application;

pub const CHAIN_ID: &str = "surety-test";

/// The account key of test account `n` (a secp256k1 key with every byte `n`).
pub fn account_key(n: u8) -> SigningKey {
    SigningKey::from_slice(&[n; 32]).expect("a valid secp256k1 key")
}

/// The address of test account `n`.
pub fn account(n: u8) -> Address {
    key_address(&account_key(n))
}

/// The ed25519 consensus key of test validator `n`.
pub fn consensus_key(n: u8) -> ConsensusKey {
    ConsensusKey::from([n; 32])
}

/// The ed25519 public key of test validator `n`, as `MsgCreateValidator` carries it.
pub fn consensus_pubkey(n: u8) -> [u8; 32] {
    consensus_key(n).verification_key().to_bytes()
}

/// CometBFT's address of test validator `n`.
pub fn consensus_address(n: u8) -> Vec<u8> {
    surety_staking::consensus_address(&consensus_pubkey(n))
}

/// A transaction to put in a block: messages signed by `signer` (a test account).
#[derive(Clone, Debug)]
pub struct Tx {
    pub signer: Address,
    pub msgs: Vec<Any>,
    /// Fee coins, e.g. `"1000usure"`; empty for none.
    pub fee: String,
    pub gas: u64,
    pub memo: String,
}

/// Gas a test transaction asks for unless it says otherwise.
pub const TX_GAS: u64 = 10_000_000;
/// The test chain's block gas limit (consensus params): room for a hundred default transactions.
pub const BLOCK_MAX_GAS: i64 = 1_000_000_000;

impl Tx {
    pub fn new(signer: &Address, msg: Any) -> Tx {
        Tx::many(signer, vec![msg])
    }

    pub fn many(signer: &Address, msgs: Vec<Any>) -> Tx {
        Tx {
            signer: *signer,
            msgs,
            fee: String::new(),
            gas: TX_GAS,
            memo: String::new(),
        }
    }

    pub fn fee(mut self, fee: &str) -> Tx {
        self.fee = fee.into();
        self
    }
}

/// A transaction's outcome: the first message's response, or the error CheckTx or
/// FinalizeBlock gave (codespace, code and log, as a client sees them).
pub type TxResult = Result<Vec<u8>, Error>;

/// The validator set CometBFT uses at one height: consensus address and power, in its order.
type ValidatorSet = Vec<(Vec<u8>, i64)>;

pub struct TestChain {
    app: App,
    _dir: tempfile::TempDir,
    chain_id: String,
    /// The next validator set's hash CometBFT's headers carry, as FinalizeBlock passes it on;
    /// empty unless a test follows this chain with a light client (IBC).
    pub next_validators_hash: Vec<u8>,
    /// Height and block time (unix seconds) of the last committed block.
    pub height: i64,
    pub time: i64,
    keys: BTreeMap<Address, SigningKey>,
    consensus_keys: BTreeMap<Vec<u8>, ConsensusKey>,
    /// CometBFT's validator set by height: updates returned by block `h` apply from `h + 2`.
    sets: BTreeMap<i64, ValidatorSet>,
    /// The prices every validator reports in its next vote extensions, by feed.
    pub observed: BTreeMap<String, String>,
    /// Validators (consensus addresses) whose signatures the next block's last commit lacks.
    pub absent: BTreeSet<Vec<u8>>,
    /// Double-sign evidence the next block carries.
    pub next_evidence: Vec<Evidence>,
    /// The last block's FinalizeBlock response (events, transaction results).
    pub last_block: ResponseFinalizeBlock,
}

impl TestChain {
    /// Starts a chain from `app_state` (an `AppState` as JSON, its validators in gentxs) at
    /// `genesis_time`, with vote extensions on from the first height, and commits block 1.
    /// Test accounts 1..=250 and test validators 1..=250 can sign.
    pub fn new(app_state: &serde_json::Value, genesis_time: i64) -> TestChain {
        TestChain::with_chain_id(CHAIN_ID, app_state, genesis_time)
    }

    /// [`TestChain::new`] under another chain id (its gentxs signed for it).
    pub fn with_chain_id(
        chain_id: &str,
        app_state: &serde_json::Value,
        genesis_time: i64,
    ) -> TestChain {
        TestChain::open(chain_id, app_state, genesis_time, StorageConfig::default())
    }

    /// [`TestChain::with_chain_id`] over a store configured by `store` (pruning, for long runs).
    pub fn open(
        chain_id: &str,
        app_state: &serde_json::Value,
        genesis_time: i64,
        store: StorageConfig,
    ) -> TestChain {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::open(dir.path(), store).expect("open store");
        let app = App::new(storage, AppConfig::default());
        let init = app.init_chain(RequestInitChain {
            chain_id: chain_id.into(),
            app_state_bytes: serde_json::to_vec(app_state).expect("json").into(),
            initial_height: 1,
            time: Some(timestamp(genesis_time)),
            consensus_params: Some(ConsensusParams {
                abci: Some(AbciParams {
                    vote_extensions_enable_height: 1,
                }),
                block: Some(BlockParams {
                    max_bytes: 22_020_096,
                    max_gas: BLOCK_MAX_GAS,
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
        let keys = (1..=250u8).map(|n| (account(n), account_key(n))).collect();
        let consensus_keys = (1..=250u8)
            .map(|n| (consensus_address(n), consensus_key(n)))
            .collect();
        let genesis_set = apply_updates(&[], &init.validators);
        let observed = genesis_prices(app_state);
        let mut chain = TestChain {
            app,
            _dir: dir,
            chain_id: chain_id.into(),
            next_validators_hash: Vec::new(),
            height: 0,
            time: genesis_time,
            keys,
            consensus_keys,
            sets: BTreeMap::from([(1, genesis_set.clone()), (2, genesis_set)]),
            observed,
            absent: BTreeSet::new(),
            next_evidence: Vec::new(),
            last_block: ResponseFinalizeBlock::default(),
        };
        chain.block(genesis_time, vec![]);
        chain
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Where the chain's store lives (a temporary directory, removed with the chain).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Executes and commits the next block at `time` (later than the last) with `txs`, in order,
    /// as a validator would: each through CheckTx (refused ones never reach the block), then
    /// PrepareProposal, ProcessProposal (which must accept), FinalizeBlock and Commit.
    pub fn block(&mut self, time: i64, txs: Vec<Tx>) -> Vec<TxResult> {
        let height = self.height + 1;
        assert!(
            height == 1 || time > self.time,
            "block {height} at {time} is not later than the last block at {}",
            self.time
        );
        let mut results: Vec<Option<TxResult>> = Vec::with_capacity(txs.len());
        let mut mempool = Vec::new();
        let mut sequences: BTreeMap<Address, (u64, u64)> = BTreeMap::new();
        for tx in &txs {
            let (number, sequence) = *sequences
                .entry(tx.signer)
                .or_insert_with(|| self.account_numbers(&tx.signer));
            let bytes = self.sign(tx, number, sequence);
            let check = self.app.check_tx(RequestCheckTx {
                tx: bytes.clone().into(),
                r#type: 0,
            });
            if check.code == 0 {
                sequences.insert(tx.signer, (number, sequence + 1));
                results.push(None);
                mempool.push(bytes);
            } else {
                results.push(Some(Err(error(&check.codespace, check.code, &check.log))));
            }
        }
        let last_set = self.sets.get(&(height - 1)).cloned().unwrap_or_default();
        let extended = self.extended_commit(height - 1, &last_set);
        let decided = CommitInfo {
            round: 0,
            votes: extended
                .votes
                .iter()
                .map(|v| VoteInfo {
                    validator: v.validator.clone(),
                    block_id_flag: v.block_id_flag,
                })
                .collect(),
        };
        let current_set = self.sets.get(&height).cloned().unwrap_or_default();
        let misbehavior: Vec<Misbehavior> = std::mem::take(&mut self.next_evidence)
            .into_iter()
            .map(|e| Misbehavior {
                r#type: MisbehaviorType::DuplicateVote as i32,
                validator: Some(Validator {
                    power: power_in(&current_set, &e.address),
                    address: e.address.into(),
                }),
                height: e.height,
                time: Some(timestamp(time)),
                total_voting_power: current_set.iter().map(|(_, p)| p).sum(),
            })
            .collect();
        self.absent.clear();
        let prepared = self.app.prepare_proposal(RequestPrepareProposal {
            max_tx_bytes: 22_020_096,
            txs: mempool.iter().cloned().map(Into::into).collect(),
            local_last_commit: Some(extended),
            misbehavior: misbehavior.clone(),
            height,
            time: Some(timestamp(time)),
            ..Default::default()
        });
        let user_txs = prepared
            .txs
            .iter()
            .filter(|t| !t.starts_with(surety_oracle::votes::INJECTED_PREFIX))
            .count();
        assert_eq!(
            user_txs,
            mempool.len(),
            "block {height}: the proposal left out transactions (block gas or size limit)"
        );
        let status = self.app.process_proposal(RequestProcessProposal {
            txs: prepared.txs.clone(),
            proposed_last_commit: Some(decided.clone()),
            misbehavior: misbehavior.clone(),
            height,
            time: Some(timestamp(time)),
            ..Default::default()
        });
        assert_eq!(
            status.status,
            response_process_proposal::ProposalStatus::Accept as i32,
            "block {height}: ProcessProposal rejected the honest proposal"
        );
        let response = self.app.finalize_block(RequestFinalizeBlock {
            txs: prepared.txs.clone(),
            decided_last_commit: Some(decided),
            misbehavior,
            height,
            time: Some(timestamp(time)),
            next_validators_hash: self.next_validators_hash.clone().into(),
            ..Default::default()
        });
        self.app.commit();
        let next_set = apply_updates(
            self.sets.get(&(height + 1)).unwrap_or(&current_set),
            &response.validator_updates,
        );
        self.sets.insert(height + 2, next_set);
        self.sets.retain(|h, _| *h >= height - 1);
        self.height = height;
        self.time = time;
        // Executed results follow the proposal's order, after the injected votes.
        let skip = prepared.txs.len() - user_txs;
        let mut executed = response.tx_results.iter().skip(skip);
        let results = results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    let r = executed.next().expect("a result for every included tx");
                    if r.code == 0 {
                        let data = TxMsgData::decode(r.data.as_ref()).expect("TxMsgData");
                        Ok(data
                            .msg_responses
                            .into_iter()
                            .next()
                            .map(|a| a.value)
                            .unwrap_or_default())
                    } else {
                        Err(error(&r.codespace, r.code, &r.log))
                    }
                })
            })
            .collect();
        self.last_block = response;
        results
    }

    /// One transaction of one message, alone in the next block at `time`.
    pub fn exec_at(&mut self, time: i64, signer: &Address, msg: Any) -> TxResult {
        self.block(time, vec![Tx::new(signer, msg)]).remove(0)
    }

    /// One transaction of one message, alone in a block a second after the last.
    pub fn exec(&mut self, signer: &Address, msg: Any) -> TxResult {
        self.exec_at(self.time + 1, signer, msg)
    }

    /// Empty blocks until the chain's time is at least `time` (one block when it is later).
    pub fn advance_to(&mut self, time: i64) {
        if time > self.time {
            self.block(time, vec![]);
        }
    }

    /// Passes `msgs` through governance, the way token holders do: the first validator's
    /// operator submits a proposal with the minimum deposit, every validator whose key the
    /// chain holds votes yes, and blocks run past the end of the voting period. `Ok` when the
    /// proposal passed and its messages ran; otherwise the refusal or the failure.
    pub fn govern(&mut self, msgs: Vec<Any>) -> Result<(), Error> {
        use surety_proto::cosmos::gov::v1 as gov;
        let params: gov::QueryParamsResponse = self.query(
            "/cosmos.gov.v1.Query/Params",
            &gov::QueryParamsRequest {
                params_type: String::new(),
            },
        )?;
        let deposit = params.params.unwrap_or_default().min_deposit;
        let operators = self.validator_operators();
        let proposer = *operators.first().expect("a validator to propose");
        let submitted = self.exec(
            &proposer,
            surety_proto::to_any(&gov::MsgSubmitProposal {
                messages: msgs,
                initial_deposit: deposit,
                proposer: proposer.to_bech32(),
                metadata: String::new(),
                title: "test proposal".into(),
                summary: "proposed by the test chain".into(),
                expedited: false,
            }),
        )?;
        let id = gov::MsgSubmitProposalResponse::decode(submitted.as_slice())
            .expect("MsgSubmitProposalResponse")
            .proposal_id;
        let votes = operators
            .iter()
            .map(|op| {
                Tx::new(
                    op,
                    surety_proto::to_any(&gov::MsgVote {
                        proposal_id: id,
                        voter: op.to_bech32(),
                        option: gov::VoteOption::Yes as i32,
                        metadata: String::new(),
                    }),
                )
            })
            .collect();
        for r in self.block(self.time + 1, votes) {
            r?;
        }
        let proposal = self.proposal(id)?;
        let end = proposal.voting_end_time.map_or(self.time, |t| t.seconds);
        self.advance_to(end + 1);
        let proposal = self.proposal(id)?;
        if proposal.status == gov::ProposalStatus::Passed as i32 {
            Ok(())
        } else {
            Err(Error {
                codespace: "gov",
                code: 0,
                log: format!(
                    "proposal {id} ended {:?}: {}",
                    gov::ProposalStatus::try_from(proposal.status),
                    proposal.failed_reason
                ),
                grpc: GrpcCode::InvalidArgument,
            })
        }
    }

    pub fn proposal(&self, id: u64) -> Result<surety_proto::cosmos::gov::v1::Proposal, Error> {
        use surety_proto::cosmos::gov::v1 as gov;
        let r: gov::QueryProposalResponse = self.query(
            "/cosmos.gov.v1.Query/Proposal",
            &gov::QueryProposalRequest { proposal_id: id },
        )?;
        Ok(r.proposal.unwrap_or_default())
    }

    /// Reports an incident of `protocol` at `time` (bonded by test account `reporter`) and has
    /// every validator whose key the chain holds attest to it in its next vote extension;
    /// returns the incident's id once the votes confirmed it.
    pub fn confirm_incident(&mut self, reporter: &Address, protocol: &str, time: i64) -> u64 {
        use surety_proto::surety::oracle::v1 as oracle;
        let r = self
            .exec(
                reporter,
                surety_proto::to_any(&oracle::MsgReportIncident {
                    reporter: reporter.to_bech32(),
                    protocol: protocol.into(),
                    time,
                    description: "exploit".into(),
                    evidence: "https://example.com/postmortem".into(),
                }),
            )
            .expect("incident report");
        let id = oracle::MsgReportIncidentResponse::decode(r.as_slice())
            .expect("MsgReportIncidentResponse")
            .incident_id;
        let operators = self.validator_operators();
        let attestations = operators
            .iter()
            .map(|op| {
                Tx::new(
                    op,
                    surety_proto::to_any(&oracle::MsgAttestIncident {
                        validator: op.to_bech32(),
                        incident_id: id,
                        confirm: true,
                    }),
                )
            })
            .collect();
        for r in self.block(self.time + 1, attestations) {
            r.expect("attestation");
        }
        let incident: oracle::QueryIncidentResponse = self
            .query(
                "/surety.oracle.v1.Query/Incident",
                &oracle::QueryIncidentRequest { incident_id: id },
            )
            .expect("incident");
        assert_eq!(
            incident.incident.map(|i| i.status),
            Some(oracle::IncidentStatus::Confirmed as i32),
            "incident {id} should be confirmed by the validators' attestations"
        );
        id
    }

    /// Operators of the bonded validators whose account keys the chain holds, by power.
    pub fn validator_operators(&self) -> Vec<Address> {
        let validators = self
            .read(|ctx| surety_staking::Staking::default().consensus_validators(ctx))
            .expect("validators");
        let mut bonded: Vec<_> = validators.into_iter().filter(|v| v.power > 0).collect();
        bonded.sort_by(|a, b| b.power.cmp(&a.power).then(a.address.cmp(&b.address)));
        bonded
            .into_iter()
            .map(|v| v.operator)
            .filter(|a| self.keys.contains_key(a))
            .collect()
    }

    /// CometBFT's validator set for the next block: consensus address and power.
    pub fn validator_set(&self) -> Vec<(Vec<u8>, i64)> {
        self.sets
            .get(&(self.height + 1))
            .cloned()
            .unwrap_or_default()
    }

    /// Every module's invariants against the latest committed state.
    pub fn invariants(&self) -> Result<(), String> {
        self.app.check_invariants()
    }

    /// Reads the latest committed state at the last block's time; writes are discarded.
    pub fn read<T>(&self, f: impl FnOnce(&mut Ctx) -> T) -> T {
        self.app.read_at(0, f).expect("committed state").0
    }

    /// Answers a gRPC query method against the latest committed state, as a client would ask.
    pub fn query<Resp: Message + Default>(
        &self,
        path: &str,
        request: &impl Message,
    ) -> Result<Resp, Error> {
        let (bytes, _) = self.app.query_method(path, &request.encode_to_vec(), 0)?;
        Resp::decode(bytes.as_slice()).map_err(|e| surety_framework::sdk::internal(e.to_string()))
    }

    pub fn app_hash(&self) -> Vec<u8> {
        self.app
            .storage()
            .latest_app_hash()
            .map(|h| h.to_vec())
            .unwrap_or_default()
    }

    /// Account number and sequence of `who` in the committed state (0, 0 for no account).
    fn account_numbers(&self, who: &Address) -> (u64, u64) {
        use surety_proto::cosmos::auth::v1beta1::{QueryAccountRequest, QueryAccountResponse};
        self.query::<QueryAccountResponse>(
            "/cosmos.auth.v1beta1.Query/Account",
            &QueryAccountRequest {
                address: who.to_bech32(),
            },
        )
        .ok()
        .and_then(|r| r.account)
        .and_then(|any| surety_auth::Account::from_any(&any).ok())
        .map_or((0, 0), |a| (a.account_number, a.sequence))
    }

    fn sign(&self, tx: &Tx, account_number: u64, sequence: u64) -> Vec<u8> {
        let key = self
            .keys
            .get(&tx.signer)
            .unwrap_or_else(|| panic!("no key for {}", tx.signer.to_bech32()));
        sign_tx(
            key,
            tx.msgs.clone(),
            &SignOpts {
                chain_id: self.chain_id.clone(),
                account_number,
                sequence,
                gas: tx.gas,
                fee: tx.fee.clone(),
                memo: tx.memo.clone(),
                timeout_height: 0,
            },
        )
    }

    /// The extended commit of `height` by `set`: every validator not marked absent signed,
    /// with a vote extension from ExtendVote reporting [`TestChain::observed`], checked by
    /// VerifyVoteExtension and signed with its consensus key.
    fn extended_commit(&self, height: i64, set: &ValidatorSet) -> ExtendedCommitInfo {
        let vote = OracleVote {
            prices: self
                .observed
                .iter()
                .map(|(feed, price)| FeedPrice {
                    feed: feed.clone(),
                    price: price.clone(),
                })
                .collect(),
            attestations: vec![],
        };
        self.app.set_observations(vote);
        let extension = self
            .app
            .extend_vote(RequestExtendVote {
                height,
                ..Default::default()
            })
            .vote_extension;
        let votes = set
            .iter()
            .map(|(address, power)| {
                let validator = Some(Validator {
                    address: address.clone().into(),
                    power: *power,
                });
                if self.absent.contains(address) || height < 1 {
                    return ExtendedVoteInfo {
                        validator,
                        block_id_flag: BlockIdFlag::Absent as i32,
                        ..Default::default()
                    };
                }
                let verified = self.app.verify_vote_extension(RequestVerifyVoteExtension {
                    validator_address: address.clone().into(),
                    height,
                    vote_extension: extension.clone(),
                    ..Default::default()
                });
                assert_eq!(
                    verified.status,
                    response_verify_vote_extension::VerifyStatus::Accept as i32,
                    "the app rejected its own vote extension"
                );
                let key = self
                    .consensus_keys
                    .get(address)
                    .expect("a consensus key for every test validator");
                let sign_bytes = surety_oracle::votes::extension_sign_bytes(
                    &extension,
                    height,
                    0,
                    &self.chain_id,
                );
                ExtendedVoteInfo {
                    validator,
                    vote_extension: extension.clone(),
                    extension_signature: key.sign(&sign_bytes).to_bytes().to_vec().into(),
                    block_id_flag: BlockIdFlag::Commit as i32,
                }
            })
            .collect();
        ExtendedCommitInfo { round: 0, votes }
    }
}

fn timestamp(seconds: i64) -> tendermint_proto::google::protobuf::Timestamp {
    tendermint_proto::google::protobuf::Timestamp { seconds, nanos: 0 }
}

fn error(codespace: &str, code: u32, log: &str) -> Error {
    Error {
        // Test chains are short-lived; a handful of codespace names leak.
        codespace: Box::leak(codespace.to_string().into_boxed_str()),
        code,
        log: log.into(),
        grpc: GrpcCode::InvalidArgument,
    }
}

fn power_in(set: &ValidatorSet, address: &[u8]) -> i64 {
    set.iter()
        .find(|(a, _)| a == address)
        .map_or(0, |(_, p)| *p)
}

/// `set` after CometBFT applies `updates`: power 0 removes, others add or replace; ordered by
/// power, then address, as CometBFT orders its set.
fn apply_updates(set: &[(Vec<u8>, i64)], updates: &[ValidatorUpdate]) -> ValidatorSet {
    use surety_proto::cometbft::crypto::public_key::Sum;
    let mut set: BTreeMap<Vec<u8>, i64> = set.iter().cloned().collect();
    for u in updates {
        let Some(Sum::Ed25519(key)) = u.pub_key.as_ref().and_then(|k| k.sum.clone()) else {
            continue;
        };
        let key: [u8; 32] = key.as_slice().try_into().expect("32-byte ed25519 key");
        let address = surety_staking::consensus_address(&key);
        if u.power == 0 {
            set.remove(&address);
        } else {
            set.insert(address, u.power);
        }
    }
    let mut set: ValidatorSet = set.into_iter().collect();
    set.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    set
}

/// The oracle's genesis prices: what the validators go on reporting until a test changes them.
fn genesis_prices(app_state: &serde_json::Value) -> BTreeMap<String, String> {
    app_state
        .pointer("/oracle/prices")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p.get("feed")?.as_str()?.into(),
                p.get("price")?.as_str()?.into(),
            ))
        })
        .collect()
}

/// `MsgCreateValidator` for `operator` with the ed25519 `consensus_pubkey`, self-bonding `bond`
/// (e.g. `"1000000usure"`) at 10% commission (at most 20%, moving 1% a day).
pub fn create_validator_msg(
    operator: &Address,
    moniker: &str,
    consensus_pubkey: [u8; 32],
    bond: &str,
) -> Any {
    use surety_proto::cosmos::staking::v1beta1 as staking;
    #[allow(deprecated)]
    let msg = staking::MsgCreateValidator {
        description: Some(staking::Description {
            moniker: moniker.into(),
            ..Default::default()
        }),
        commission: Some(staking::CommissionRates {
            rate: "100000000000000000".into(),
            max_rate: "200000000000000000".into(),
            max_change_rate: "10000000000000000".into(),
        }),
        min_self_delegation: "1".into(),
        delegator_address: String::new(),
        validator_address: operator.to_bech32_with(surety_framework::VALIDATOR_PREFIX),
        pubkey: Some(surety_proto::to_any(
            &surety_proto::cosmos::crypto::ed25519::PubKey {
                key: consensus_pubkey.to_vec(),
            },
        )),
        value: Some(
            bond.parse::<surety_framework::Coin>()
                .expect("a bond like 1000000usure")
                .to_proto(),
        ),
    };
    surety_proto::to_any(&msg)
}

/// A genesis transaction for `chain_id` (as `genutil.gen_txs` holds it, base64): `msg` signed by
/// `key` at account number and sequence 0, without a fee.
pub fn gentx(key: &SigningKey, msg: Any, chain_id: &str) -> String {
    let tx = sign_tx(
        key,
        vec![msg],
        &SignOpts {
            chain_id: chain_id.into(),
            account_number: 0,
            sequence: 0,
            gas: 1_000_000,
            fee: String::new(),
            memo: String::new(),
            timeout_height: 0,
        },
    );
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, tx)
}

/// How [`sign_tx`] signs: the SignDoc's chain and account number, the signer's sequence, gas and
/// fee.
#[derive(Clone, Debug)]
pub struct SignOpts {
    pub chain_id: String,
    pub account_number: u64,
    pub sequence: u64,
    pub gas: u64,
    /// Coins, e.g. `"1000usure"`; empty for none.
    pub fee: String,
    pub memo: String,
    /// The last height the transaction may be included at; 0 for none.
    pub timeout_height: u64,
}

/// A single-signer `SIGN_MODE_DIRECT` Cosmos transaction carrying `msgs`.
pub fn sign_tx(key: &k256::ecdsa::SigningKey, msgs: Vec<Any>, o: &SignOpts) -> Vec<u8> {
    sign_tx_in(SignMode::Direct, key, msgs, o)
}

/// As [`sign_tx`], signed in `mode` (DIRECT or LEGACY_AMINO_JSON). A message the amino
/// encoder refuses leaves the signature over nothing, which the chain refuses in turn.
pub fn sign_tx_in(
    mode: SignMode,
    key: &k256::ecdsa::SigningKey,
    msgs: Vec<Any>,
    o: &SignOpts,
) -> Vec<u8> {
    use k256::ecdsa::signature::Signer;
    use surety_proto::cosmos::crypto::secp256k1::PubKey;
    use surety_proto::cosmos::tx::v1beta1::{
        mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
    };
    let body = TxBody {
        messages: msgs,
        memo: o.memo.clone(),
        timeout_height: o.timeout_height,
        ..Default::default()
    };
    let fee: surety_framework::Coins = o.fee.parse().unwrap_or_default();
    let auth_info = AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: Some(surety_proto::to_any(&PubKey {
                key: key
                    .verifying_key()
                    .to_encoded_point(true)
                    .as_bytes()
                    .to_vec(),
            })),
            mode_info: Some(ModeInfo {
                sum: Some(mode_info::Sum::Single(mode_info::Single {
                    mode: mode as i32,
                })),
            }),
            sequence: o.sequence,
        }],
        fee: Some(Fee {
            amount: fee.to_proto(),
            gas_limit: o.gas,
            ..Default::default()
        }),
        ..Default::default()
    };
    let (body_bytes, auth_info_bytes) = (body.encode_to_vec(), auth_info.encode_to_vec());
    let doc = match mode {
        SignMode::LegacyAminoJson => surety_auth::amino_json_sign_bytes(
            &body,
            auth_info.fee.as_ref().expect("set above"),
            &o.chain_id,
            o.account_number,
            o.sequence,
        )
        .unwrap_or_default(),
        _ => surety_auth::sign_doc_bytes(
            &body_bytes,
            &auth_info_bytes,
            &o.chain_id,
            o.account_number,
        ),
    };
    let sig: k256::ecdsa::Signature = key.sign(&doc);
    TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![sig.to_bytes().to_vec()],
    }
    .encode_to_vec()
}

/// The account address of a secp256k1 signing key.
pub fn key_address(key: &k256::ecdsa::SigningKey) -> Address {
    Address::from_secp256k1(key.verifying_key().to_encoded_point(true).as_bytes())
}
