//! Surety's fuzzer. It runs a one-validator chain over the real store and drives it through the
//! ABCI methods CometBFT calls — CheckTx, PrepareProposal, ProcessProposal, FinalizeBlock,
//! Commit — with signed transactions whose messages are of every routed type and extreme in
//! every field ([`gen`]), and feeds random bytes to every decoder (transactions, vote
//! extensions, proposals, genesis JSON). After every block it checks:
//! - no panic (a panic, or a fatal halt, ends the run with the seed and block that caused it);
//! - every module invariant;
//! - that each transaction that failed would have changed nothing but its fee and sequence;
//! - that an honest proposal is accepted by ProcessProposal.
//!
//! A second run with the same seed, side by side, must end every chain at the same app hash
//! ([`Report::chain_hashes`]); a long run starts over from genesis every few hundred blocks.

pub mod gen;

use k256::ecdsa::SigningKey;
use prost::Message;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use surety_app::testing::{key_address, sign_tx_in, SignOpts};
use surety_app::{App, AppConfig};
use surety_framework::Address;
use surety_genesis::AppState;
use surety_proto::cometbft::abci::*;
use surety_proto::cosmos::auth::v1beta1::{QueryAccountRequest, QueryAccountResponse};
use surety_proto::cosmos::tx::signing::v1beta1::SignMode;
use surety_proto::Any;
use surety_store::{Storage, StorageConfig};
use tendermint_abci::Application;

pub const CHAIN_ID: &str = "surety-fuzz";
const GENESIS_TIME: i64 = 1_700_000_000;
const ACCOUNTS: u8 = 6;

#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Inputs to try in all: transactions plus raw decoder inputs.
    pub iterations: u64,
    /// Signed transactions per block.
    pub txs_per_block: usize,
    /// Raw decoder inputs per block.
    pub raw_per_block: usize,
    /// Blocks before the run starts over from genesis (the random stream goes on). Keeps each
    /// block's invariant checks cheap and exercises genesis again; 0 never restarts.
    pub blocks_per_chain: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            iterations: 10_000,
            txs_per_block: 24,
            raw_per_block: 200,
            blocks_per_chain: 0,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub blocks: u64,
    pub txs: u64,
    pub txs_ok: u64,
    pub raw_inputs: u64,
    pub check_tx_rejected: u64,
    /// Each problem found, with the block it was found in.
    pub findings: Vec<String>,
    /// The app hash each chain ended at, in order; the last is where the run ended.
    pub chain_hashes: Vec<Vec<u8>>,
    /// Successful transactions by message type: proof the generator reaches the handlers.
    pub ok_by_type: std::collections::BTreeMap<String, u64>,
    /// Transactions refused or failed, by `codespace/code`, with one example message each.
    pub errors_by_code: std::collections::BTreeMap<String, (u64, String)>,
}

impl Report {
    pub fn inputs(&self) -> u64 {
        self.txs + self.raw_inputs
    }

    fn record_error(&mut self, codespace: &str, code: u32, log: &str) {
        let entry = self
            .errors_by_code
            .entry(format!("{codespace}/{code}"))
            .or_insert_with(|| (0, log.chars().take(160).collect()));
        entry.0 += 1;
    }
}

struct Account {
    key: SigningKey,
    address: Address,
    number: u64,
    sequence: u64,
}

/// The genesis: six funded accounts (the first is the validator) and the demo insurance market.
fn genesis(keys: &[SigningKey]) -> Vec<u8> {
    let mut state = AppState::default();
    for k in keys {
        state
            .add_account(
                &key_address(k),
                &"1000000000000usure,1000000000000uusdc"
                    .parse()
                    .expect("coins"),
            )
            .expect("account");
    }
    surety_genesis::demo::apply(&mut state);
    let create = surety_app::testing::create_validator_msg(
        &key_address(&keys[0]),
        "fuzz",
        [7; 32],
        "100000000000usure",
    );
    state.genutil.gen_txs = vec![surety_app::testing::gentx(&keys[0], create, CHAIN_ID)];
    serde_json::to_vec(&state).expect("genesis serializes")
}

/// Calls an ABCI method, turning a panic into a finding.
fn guarded<T>(what: &str, findings: &mut Vec<String>, f: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => Some(v),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            findings.push(format!("panic in {what}: {msg}"));
            None
        }
    }
}

pub struct Fuzzer {
    app: App,
    _dir: tempfile::TempDir,
    rng: ChaCha8Rng,
    accounts: Vec<Account>,
    gen: gen::Generator,
    height: i64,
    time: i64,
    genesis: Vec<u8>,
    pub report: Report,
}

/// One chain from genesis: its app, store and funded accounts.
struct Chain {
    app: App,
    _dir: tempfile::TempDir,
    accounts: Vec<Account>,
    genesis: Vec<u8>,
}

impl Chain {
    fn start() -> Chain {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::open(
            dir.path(),
            StorageConfig {
                keep_recent: 2,
                ..Default::default()
            },
        )
        .expect("store");
        let app = App::new(storage, AppConfig::default());
        let keys: Vec<SigningKey> = (1..=ACCOUNTS)
            .map(|i| SigningKey::from_slice(&[i; 32]).expect("key"))
            .collect();
        let genesis = genesis(&keys);
        let init = app.init_chain(RequestInitChain {
            chain_id: CHAIN_ID.into(),
            app_state_bytes: genesis.clone().into(),
            initial_height: 1,
            time: Some(tendermint_proto::google::protobuf::Timestamp {
                seconds: GENESIS_TIME,
                nanos: 0,
            }),
            ..Default::default()
        });
        assert_eq!(
            init.validators.len(),
            1,
            "the fuzz genesis has one validator"
        );
        let accounts = keys
            .into_iter()
            .map(|key| Account {
                address: key_address(&key),
                key,
                number: 0,
                sequence: 0,
            })
            .collect();
        Chain {
            app,
            _dir: dir,
            accounts,
            genesis,
        }
    }
}

impl Fuzzer {
    pub fn new(seed: u64) -> Fuzzer {
        let Chain {
            app,
            _dir,
            accounts,
            genesis,
        } = Chain::start();
        let addresses = accounts.iter().map(|a| a.address.to_bech32()).collect();
        let type_urls: Vec<&str> = app.modules().msg_types().copied().collect();
        let gen = gen::Generator::new(&type_urls, gen::Dictionary::new(addresses));
        let mut fuzzer = Fuzzer {
            app,
            _dir,
            rng: ChaCha8Rng::seed_from_u64(seed),
            accounts,
            gen,
            height: 0,
            time: GENESIS_TIME,
            genesis,
            report: Report::default(),
        };
        fuzzer.block(Vec::new());
        fuzzer.refresh_accounts();
        fuzzer
    }

    /// Ends the current chain (recording its app hash) and starts a fresh one from genesis.
    fn restart(&mut self) {
        self.report.chain_hashes.push(self.app_hash());
        let chain = Chain::start();
        self.app = chain.app;
        self._dir = chain._dir;
        self.accounts = chain.accounts;
        self.genesis = chain.genesis;
        self.height = 0;
        self.time = GENESIS_TIME;
        self.block(Vec::new());
        self.refresh_accounts();
    }

    fn app_hash(&self) -> Vec<u8> {
        self.app
            .storage()
            .latest_app_hash()
            .map(|h| h.to_vec())
            .unwrap_or_default()
    }

    /// Message types the generator can build (those in the node's descriptor set).
    pub fn type_count(&self) -> usize {
        self.gen.types.len()
    }

    fn refresh_accounts(&mut self) {
        for a in &mut self.accounts {
            let req = QueryAccountRequest {
                address: a.address.to_bech32(),
            };
            if let Ok((bytes, _)) = self.app.query_method(
                "/cosmos.auth.v1beta1.Query/Account",
                &req.encode_to_vec(),
                0,
            ) {
                let any = QueryAccountResponse::decode(bytes.as_slice())
                    .ok()
                    .and_then(|r| r.account);
                if let Some(acc) = any.and_then(|any| surety_auth::Account::from_any(&any).ok()) {
                    a.number = acc.account_number;
                    a.sequence = acc.sequence;
                }
            }
        }
    }

    /// One signed transaction of 1–3 generated messages, mostly well-formed in its envelope;
    /// with the signer's index when it used the signer's next sequence.
    fn transaction(&mut self) -> (Vec<u8>, Option<usize>) {
        let i = self.rng.gen_range(0..self.accounts.len());
        self.gen.signer = self.accounts[i].address.to_bech32();
        let n = *[1usize, 1, 1, 1, 2, 3]
            .choose(&mut self.rng)
            .expect("nonempty");
        let other = self.accounts[(i + 1) % self.accounts.len()]
            .address
            .to_bech32();
        let validator = self.accounts[0]
            .address
            .to_bech32_with(surety_framework::VALIDATOR_PREFIX);
        let msgs: Vec<Any> = (0..n)
            .map(|_| {
                let seeded = if self.rng.gen_bool(0.7) {
                    self.gen.seeded(&mut self.rng, &other, &validator)
                } else {
                    None
                };
                seeded.unwrap_or_else(|| self.gen.any(&mut self.rng))
            })
            .collect();
        let rng = &mut self.rng;
        let a = &self.accounts[i];
        let opts = SignOpts {
            chain_id: if rng.gen_bool(0.02) {
                "other-1".into()
            } else {
                CHAIN_ID.into()
            },
            account_number: if rng.gen_bool(0.02) {
                a.number + 1
            } else {
                a.number
            },
            sequence: if rng.gen_bool(0.03) {
                a.sequence + 5
            } else {
                a.sequence
            },
            gas: *[
                2_000_000u64,
                2_000_000,
                2_000_000,
                2_000_000,
                500_000,
                30_000,
                0,
                200_000_000,
                u64::MAX,
            ]
            .choose(rng)
            .expect("nonempty"),
            fee: [
                "10000usure",
                "10000usure",
                "",
                "1usure",
                "1000000000000000usure",
                "5uusdc",
            ]
            .choose(rng)
            .expect("nonempty")
            .to_string(),
            memo: if rng.gen_bool(0.03) {
                "m".repeat(300)
            } else {
                String::new()
            },
            timeout_height: 0,
        };
        // A fifth in amino JSON: the legacy encoder runs over every generated message.
        let mode = if rng.gen_bool(0.2) {
            SignMode::LegacyAminoJson
        } else {
            SignMode::Direct
        };
        let tx = sign_tx_in(mode, &a.key, msgs, &opts);
        (tx, (opts.sequence == a.sequence).then_some(i))
    }

    /// Random or mangled bytes for one of the decoders.
    fn raw_input(&mut self, valid_tx: Option<&[u8]>) {
        let rng = &mut self.rng;
        let len = *[0usize, 1, 2, 8, 64, 300, 5_000]
            .choose(rng)
            .expect("nonempty");
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        if let (Some(tx), true) = (valid_tx, rng.gen_bool(0.5)) {
            // A real transaction with a few bytes flipped or cut: deeper than pure noise.
            bytes = tx.to_vec();
            for _ in 0..rng.gen_range(1..4) {
                if !bytes.is_empty() {
                    let at = rng.gen_range(0..bytes.len());
                    bytes[at] ^= rng.gen::<u8>() | 1;
                }
            }
            if rng.gen_bool(0.3) {
                bytes.truncate(rng.gen_range(0..=bytes.len()));
            }
        }
        let which = rng.gen_range(0..4);
        let findings = &mut self.report.findings;
        let app = &self.app;
        match which {
            0 => {
                guarded("CheckTx(raw)", findings, || {
                    app.check_tx(RequestCheckTx {
                        tx: bytes.into(),
                        r#type: 0,
                    })
                });
            }
            1 => {
                guarded("VerifyVoteExtension(raw)", findings, || {
                    app.verify_vote_extension(RequestVerifyVoteExtension {
                        vote_extension: bytes.into(),
                        height: self.height + 1,
                        ..Default::default()
                    })
                });
            }
            2 => {
                guarded("ProcessProposal(raw)", findings, || {
                    app.process_proposal(RequestProcessProposal {
                        txs: vec![bytes.into()],
                        height: self.height + 1,
                        ..Default::default()
                    })
                });
            }
            _ => {
                // Genesis JSON with a byte mangled: parse and validate must answer, not panic.
                let mut g = self.genesis.clone();
                let at = rng.gen_range(0..g.len());
                g[at] = *b"0\"{}[]:,-9ea ".choose(rng).expect("nonempty");
                guarded("genesis validation", findings, || {
                    if let Ok(state) = serde_json::from_slice::<AppState>(&g) {
                        let _ = state.validate(CHAIN_ID);
                    }
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&g) {
                        let _ = app.modules().validate_genesis(&v);
                    }
                });
            }
        }
        self.report.raw_inputs += 1;
    }

    /// A failed transaction may change only its signers' accounts (sequence) and the fee's
    /// balances: the payer's and the fee collector's.
    fn check_failed_tx_footprint(&mut self, tx: &[u8]) {
        let (outcome, changes) = self.app.execute_detached(tx);
        let Err(err) = outcome.result else {
            return;
        };
        let fee_collector = Address::module(surety_framework::accounts::FEE_COLLECTOR);
        let allowed_bank: Vec<Vec<u8>> = self
            .accounts
            .iter()
            .map(|a| a.address)
            .chain([fee_collector])
            .flat_map(|addr| ["usure", "uusdc"].map(|denom| surety_bank::balance_key(&addr, denom)))
            .collect();
        for (store, key, _) in changes.iter() {
            let ok = store == "auth" || (store == "bank" && allowed_bank.contains(key));
            if !ok {
                self.report.findings.push(format!(
                    "block {}: a failed transaction ({}: {}) wrote {store}/{}",
                    self.height + 1,
                    err.codespace,
                    err.log,
                    hex_str(key)
                ));
                return;
            }
        }
    }

    /// Proposes, verifies, executes and commits a block of `txs`, checking what can be checked.
    fn block(&mut self, txs: Vec<Vec<u8>>) {
        self.height += 1;
        let step = *[1i64, 1, 5, 60, 3_600, 86_400, 3 * 86_400]
            .choose(&mut self.rng)
            .expect("nonempty");
        self.time += step;
        let time = Some(tendermint_proto::google::protobuf::Timestamp {
            seconds: self.time,
            nanos: 0,
        });
        let height = self.height;
        let app = self.app.clone();
        let findings = &mut self.report.findings;
        let Some(prepared) = guarded("PrepareProposal", findings, || {
            app.prepare_proposal(RequestPrepareProposal {
                max_tx_bytes: 22_020_096,
                txs: txs.iter().cloned().map(Into::into).collect(),
                height,
                time,
                ..Default::default()
            })
        }) else {
            return;
        };
        let proposed: Vec<_> = prepared.txs.clone();
        let status = guarded("ProcessProposal", findings, || {
            app.process_proposal(RequestProcessProposal {
                txs: proposed.clone(),
                height,
                time,
                ..Default::default()
            })
        });
        if let Some(s) = status {
            if s.status != response_process_proposal::ProposalStatus::Accept as i32 {
                findings.push(format!("block {height}: an honest proposal was rejected"));
            }
        }
        let Some(result) = guarded("FinalizeBlock", findings, || {
            app.finalize_block(RequestFinalizeBlock {
                txs: proposed.clone(),
                height,
                time,
                ..Default::default()
            })
        }) else {
            return;
        };
        if guarded("Commit", findings, || app.commit()).is_none() {
            return;
        }
        for (tx, r) in proposed.iter().zip(&result.tx_results) {
            self.report.txs += 1;
            if r.code != 0 {
                self.report.record_error(&r.codespace, r.code, &r.log);
            }
            if r.code == 0 {
                self.report.txs_ok += 1;
                if let Ok(raw) = surety_proto::cosmos::tx::v1beta1::TxRaw::decode(tx.as_ref()) {
                    if let Ok(body) =
                        surety_proto::cosmos::tx::v1beta1::TxBody::decode(raw.body_bytes.as_slice())
                    {
                        for m in body.messages {
                            *self.report.ok_by_type.entry(m.type_url).or_default() += 1;
                        }
                    }
                }
            }
        }
        if let Err(e) = self.app.check_invariants() {
            self.report
                .findings
                .push(format!("block {height}: invariant broken: {e}"));
        }
        self.report.blocks += 1;
    }

    /// Runs until `cfg.iterations` inputs have been tried or something is found.
    pub fn run(&mut self, cfg: &Config, mut progress: impl FnMut(&Report)) {
        while self.report.inputs() < cfg.iterations && self.report.findings.is_empty() {
            if cfg.blocks_per_chain > 0 && self.height as u64 > cfg.blocks_per_chain {
                self.restart();
            }
            let mut mempool = Vec::new();
            let mut last_valid: Option<Vec<u8>> = None;
            for _ in 0..cfg.txs_per_block {
                let (tx, next_sequence_of) = self.transaction();
                let app = self.app.clone();
                let res = guarded("CheckTx", &mut self.report.findings, || {
                    app.check_tx(RequestCheckTx {
                        tx: tx.clone().into(),
                        r#type: 0,
                    })
                });
                let accepted = res.as_ref().is_some_and(|r| r.code == 0);
                // CheckTx ran the ante: an accepted transaction used its sequence.
                if let (true, Some(i)) = (accepted, next_sequence_of) {
                    self.accounts[i].sequence += 1;
                }
                if let Some(r) = res.filter(|r| r.code != 0) {
                    self.report.check_tx_rejected += 1;
                    self.report.record_error(&r.codespace, r.code, &r.log);
                }
                // A byzantine proposer includes what CheckTx refused, too.
                if accepted || self.rng.gen_bool(0.1) {
                    mempool.push(tx.clone());
                }
                last_valid = Some(tx);
            }
            // Each transaction alone against the committed state: a failure leaves only fee
            // and sequence behind.
            for tx in mempool.iter().take(4) {
                self.check_failed_tx_footprint(tx);
            }
            for _ in 0..cfg.raw_per_block {
                self.raw_input(last_valid.as_deref());
            }
            self.block(mempool);
            self.refresh_accounts();
            progress(&self.report);
        }
        let last = self.app_hash();
        self.report.chain_hashes.push(last);
    }
}

fn hex_str(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `cfg` twice from its seed, the two runs side by side on two threads, and reports the
/// first run, with a finding if any chain of the second ended at a different app hash.
pub fn run_twice(cfg: &Config, progress: impl FnMut(&Report) + Send) -> Report {
    let (first, second) = std::thread::scope(|s| {
        let first = s.spawn(|| {
            let mut f = Fuzzer::new(cfg.seed);
            f.run(cfg, progress);
            f.report
        });
        let second = s.spawn(|| {
            let mut f = Fuzzer::new(cfg.seed);
            f.run(cfg, |_| {});
            f.report
        });
        (
            first.join().expect("first run"),
            second.join().expect("second run"),
        )
    });
    let mut report = first;
    let differs = report
        .chain_hashes
        .iter()
        .zip(&second.chain_hashes)
        .position(|(a, b)| a != b);
    if let Some(i) = differs {
        report.findings.push(format!(
            "non-determinism: seed {} chain {} ended at app hash {} and then at {}",
            cfg.seed,
            i + 1,
            hex_str(&report.chain_hashes[i]),
            hex_str(&second.chain_hashes[i])
        ));
    } else if report.chain_hashes.len() != second.chain_hashes.len() && report.findings.is_empty() {
        report.findings.push(format!(
            "non-determinism: seed {} ran {} chains and then {}",
            cfg.seed,
            report.chain_hashes.len(),
            second.chain_hashes.len()
        ));
    }
    report
}
