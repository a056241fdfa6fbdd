//! A chain without consensus, for tests and simulations of the modules: the real store (JMT over
//! RocksDB), the real modules with their block hooks, and blocks committed with their app hash.
//! Messages go straight to the modules — signers are checked against the message, but there is
//! no transaction envelope — and tests may write state directly through keepers, as the oracle's
//! votes will once they exist.

use crate::modules::Modules;
use crate::{record_block_time, to_change_set};
use prost::Message;
use std::path::Path;
use surety_framework::{sdk, Address, BlockInfo, Ctx, Error, ExecMode, GasMeter, Overlay};
use surety_proto::Any;
use surety_store::{Storage, StorageConfig};

pub struct Harness {
    storage: Storage,
    modules: Modules,
    pub height: u64,
    /// Block time of the last block, unix seconds.
    pub time: i64,
    /// What the next block reports of the last one's signatures, and double-sign evidence.
    pub next_commit: Vec<surety_framework::CommitVote>,
    pub next_evidence: Vec<surety_framework::Evidence>,
}

/// One block being executed.
pub struct Block<'a, 'b> {
    pub ctx: &'a mut Ctx<'b>,
    modules: &'a Modules,
}

impl Block<'_, '_> {
    /// Delivers `msg` as if `signer` had signed it: all of it or none of it takes effect.
    pub fn deliver(&mut self, signer: &Address, msg: Any) -> Result<Vec<u8>, Error> {
        surety_framework::Router::execute(self.modules, self.ctx, &msg, signer)
    }
}

impl Harness {
    /// Opens a store in `dir` and runs genesis from `app_state` (modules without a section get
    /// their defaults) at block time `genesis_time`.
    pub fn new(
        dir: &Path,
        app_state: &serde_json::Value,
        genesis_time: i64,
    ) -> Result<Harness, String> {
        let storage =
            Storage::open(dir, StorageConfig { keep_recent: 0 }).map_err(|e| e.to_string())?;
        let mut harness = Harness {
            storage,
            modules: Modules::surety(),
            height: 0,
            time: genesis_time,
            next_commit: Vec::new(),
            next_evidence: Vec::new(),
        };
        harness.modules.validate_genesis(app_state)?;
        harness
            .run(genesis_time, ExecMode::Genesis, |modules, ctx| {
                for module in modules.iter() {
                    let section = app_state
                        .get(module.name())
                        .cloned()
                        .unwrap_or_else(|| module.default_genesis());
                    module.init_genesis(ctx, &section)?;
                }
                Ok(())
            })
            .map_err(|e| e.log)?;
        Ok(harness)
    }

    fn run<T>(
        &mut self,
        time: i64,
        mode: ExecMode,
        f: impl FnOnce(&Modules, &mut Ctx) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let height = self.height + 1;
        let snapshot = self.storage.latest_snapshot();
        let mut overlay = Overlay::new(&snapshot);
        let block = BlockInfo {
            height,
            time_unix_secs: time,
            time_nanos: 0,
            chain_id: "surety-harness".into(),
            last_commit: std::mem::take(&mut self.next_commit),
            misbehavior: std::mem::take(&mut self.next_evidence),
        };
        let out = {
            let mut ctx = Ctx::new(&mut overlay, block.clone(), mode, GasMeter::infinite())
                .with_router(&self.modules);
            f(&self.modules, &mut ctx)?
        };
        let mut set = to_change_set(&overlay.into_changes());
        record_block_time(&mut set, &block);
        let prepared = self
            .storage
            .prepare(height, &set)
            .map_err(|e| sdk::internal(e.to_string()))?;
        self.storage
            .commit(prepared)
            .map_err(|e| sdk::internal(e.to_string()))?;
        self.height = height;
        self.time = time;
        Ok(out)
    }

    /// Executes and commits a block at `time`: BeginBlock hooks, `f`, EndBlock hooks.
    pub fn block<T>(&mut self, time: i64, f: impl FnOnce(&mut Block) -> T) -> Result<T, Error> {
        self.run(time, ExecMode::Deliver, |modules, ctx| {
            for module in modules.iter() {
                module.begin_block(ctx)?;
            }
            let out = f(&mut Block { ctx, modules });
            for module in modules.iter() {
                module.end_block(ctx)?;
            }
            Ok(out)
        })
    }

    /// Every module's invariants against the latest committed state.
    pub fn invariants(&self) -> Result<(), String> {
        self.read(|modules, ctx| {
            for module in modules.iter() {
                module.check_invariants(ctx)?;
            }
            Ok(())
        })
    }

    /// Reads the latest committed state at the last block's time; writes are discarded.
    pub fn read<T>(&self, f: impl FnOnce(&Modules, &mut Ctx) -> T) -> T {
        let snapshot = self.storage.latest_snapshot();
        let mut overlay = Overlay::new(&snapshot);
        let block = BlockInfo {
            height: self.height,
            time_unix_secs: self.time,
            time_nanos: 0,
            chain_id: "surety-harness".into(),
            ..BlockInfo::default()
        };
        let mut ctx = Ctx::new(&mut overlay, block, ExecMode::Query, GasMeter::infinite());
        f(&self.modules, &mut ctx)
    }

    /// Answers a gRPC query method against the latest committed state.
    pub fn query<Resp: Message + Default>(
        &self,
        path: &str,
        request: &impl Message,
    ) -> Result<Resp, Error> {
        let bytes = self.read(|modules, ctx| {
            let module = modules
                .route_query(path)
                .ok_or_else(|| sdk::unknown_request(format!("unknown query path {path}")))?;
            module.query(ctx, path, &request.encode_to_vec())
        })?;
        Resp::decode(bytes.as_slice()).map_err(|e| sdk::internal(e.to_string()))
    }

    pub fn app_hash(&self) -> Vec<u8> {
        self.storage
            .latest_app_hash()
            .map(|h| h.to_vec())
            .unwrap_or_default()
    }
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
}

/// A single-signer `SIGN_MODE_DIRECT` Cosmos transaction carrying `msgs`.
pub fn sign_tx(key: &k256::ecdsa::SigningKey, msgs: Vec<Any>, o: &SignOpts) -> Vec<u8> {
    use k256::ecdsa::signature::Signer;
    use surety_proto::cosmos::crypto::secp256k1::PubKey;
    use surety_proto::cosmos::tx::signing::v1beta1::SignMode;
    use surety_proto::cosmos::tx::v1beta1::{
        mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
    };
    let body = TxBody {
        messages: msgs,
        memo: o.memo.clone(),
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
                    mode: SignMode::Direct as i32,
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
    let doc =
        surety_auth::sign_doc_bytes(&body_bytes, &auth_info_bytes, &o.chain_id, o.account_number);
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
