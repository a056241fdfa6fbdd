//! The ABCI 2.0 methods CometBFT v0.38 calls.

use crate::tx::{msg_data, TxOutcome};
use crate::{to_change_set, with_overlay, App, Consensus, CHAIN_ID_KEY};
use std::sync::atomic::Ordering;
use std::time::Instant;
use surety_framework::state::CachedReads;
use surety_framework::{
    BlockInfo, Ctx, Error, Event, ExecMode, GasMeter, Overlay, ValidatorUpdate,
};
use surety_genesis::AppState;
use surety_proto::cometbft::abci::*;
use surety_proto::cometbft::crypto::{public_key, PublicKey};
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp;

pub const APP_NAME: &str = "surety";

fn block_info(height: i64, time: Option<&Timestamp>, chain_id: String) -> BlockInfo {
    let time = time.cloned().unwrap_or_default();
    BlockInfo {
        height: height.max(0) as u64,
        time_unix_secs: time.seconds,
        time_nanos: time.nanos.max(0) as u32,
        chain_id,
        ..BlockInfo::default()
    }
}

fn abci_events(
    events: &[Event],
    index: &surety_framework::EventIndex,
) -> Vec<surety_proto::cometbft::abci::Event> {
    events.iter().map(|e| e.to_abci_indexed(index)).collect()
}

fn validator_updates(
    updates: Vec<ValidatorUpdate>,
) -> Vec<surety_proto::cometbft::abci::ValidatorUpdate> {
    updates
        .into_iter()
        .map(|u| surety_proto::cometbft::abci::ValidatorUpdate {
            pub_key: Some(PublicKey {
                sum: Some(public_key::Sum::Ed25519(u.ed25519_pubkey.to_vec())),
            }),
            power: u.power,
        })
        .collect()
}

fn exec_result(outcome: TxOutcome, index: &surety_framework::EventIndex) -> ExecTxResult {
    let (code, codespace, log, data) = match outcome.result {
        Ok(responses) => (0, String::new(), String::new(), msg_data(responses)),
        Err(e) => (e.code, e.codespace.to_string(), e.log, Vec::new()),
    };
    ExecTxResult {
        code,
        data: data.into(),
        log,
        info: String::new(),
        gas_wanted: outcome.gas_wanted as i64,
        gas_used: outcome.gas_used as i64,
        events: abci_events(&outcome.events, index),
        codespace,
    }
}

/// The node cannot continue past a failure in consensus code that is not a transaction's fault
/// (a broken genesis, an unreadable store): stopping is the only safe answer, and CometBFT
/// replays the block on restart.
fn halt(what: &str, err: impl std::fmt::Display) -> ! {
    tracing::error!("{what}: {err}");
    eprintln!("surety: fatal: {what}: {err}");
    std::process::exit(2)
}

impl App {
    fn init_chain_inner(&self, req: RequestInitChain) -> Result<ResponseInitChain, String> {
        let app_state: serde_json::Value =
            serde_json::from_slice(&req.app_state_bytes).map_err(|e| format!("app_state: {e}"))?;
        if let Some(export) = app_state.get(crate::export::SECTION) {
            return self.init_chain_from_export(&req, export);
        }
        if req.initial_height > 1 {
            return Err(format!(
                "initial_height {} needs an exported state (`suretyd export`); a new chain \
                 starts at 1",
                req.initial_height
            ));
        }
        let state: AppState =
            serde_json::from_slice(&req.app_state_bytes).map_err(|e| format!("app_state: {e}"))?;
        state.validate(&req.chain_id)?;
        let snapshot = self.inner.storage.latest_snapshot();
        let mut overlay = Overlay::new(&snapshot);
        let block = block_info(0, req.time.as_ref(), req.chain_id.clone());
        let mut ctx = Ctx::new(&mut overlay, block, ExecMode::Genesis, GasMeter::infinite())
            .with_router(&self.inner.modules);
        for module in self.inner.modules.iter() {
            let section = app_state
                .get(module.name())
                .cloned()
                .unwrap_or_else(|| module.default_genesis());
            module.validate_genesis(&section)?;
            module
                .init_genesis(&mut ctx, &section)
                .map_err(|e| format!("{} genesis: {}", module.name(), e.log))?;
        }
        let enable_height = req
            .consensus_params
            .as_ref()
            .and_then(|p| p.abci.as_ref())
            .map_or(0, |a| a.vote_extensions_enable_height.max(0) as u64);
        surety_oracle::Oracle::default()
            .set_vote_extensions_enable_height(&mut ctx, enable_height)
            .map_err(|e| e.log)?;
        let max_gas = req
            .consensus_params
            .as_ref()
            .and_then(|p| p.block.as_ref())
            .map(|b| b.max_gas);
        crate::block_gas::store(&mut ctx, crate::block_gas::from_genesis(max_gas))
            .map_err(|e| e.log)?;
        for (i, gentx) in state.gentx_bytes()?.iter().enumerate() {
            let outcome = self.runner().run(&mut ctx, gentx);
            outcome
                .result
                .map_err(|e| format!("gentx #{i} failed: {}", e.log))?;
        }
        let mut updates = Vec::new();
        for module in self.inner.modules.iter() {
            updates.extend(module.end_block(&mut ctx).map_err(|e| e.log)?);
        }
        drop(ctx);
        let changes = overlay.into_changes();
        let prepared = self
            .inner
            .storage
            .prepare(1, &to_change_set(&changes))
            .map_err(|e| e.to_string())?;
        self.set_chain_id(&req.chain_id);
        let mut consensus = self.inner.consensus.lock().expect("lock");
        consensus.genesis = Some(changes);
        consensus.genesis_app_hash = prepared.app_hash().to_vec();
        consensus.initial_height = 1;
        drop(consensus);
        tracing::info!(validators = updates.len(), "genesis initialised");
        Ok(ResponseInitChain {
            consensus_params: None,
            validators: validator_updates(updates),
            app_hash: prepared.app_hash().to_vec().into(),
        })
    }

    /// InitChain from `suretyd export`'s state: every key as it was, checked against the app
    /// hash the export records; the chain goes on at `initial_height` (the exported height + 1)
    /// with the validators the state has.
    fn init_chain_from_export(
        &self,
        req: &RequestInitChain,
        export: &serde_json::Value,
    ) -> Result<ResponseInitChain, String> {
        let export: crate::export::Export =
            serde_json::from_value(export.clone()).map_err(|e| format!("export: {e}"))?;
        let initial = u64::try_from(req.initial_height).unwrap_or(0);
        if initial != export.height + 1 {
            return Err(format!(
                "the export is of height {}; its genesis must set initial_height {}, not {}",
                export.height,
                export.height + 1,
                req.initial_height
            ));
        }
        if self.inner.storage.latest_version() != 0 {
            return Err("InitChain on a store that already has state".into());
        }
        let changes = self.import_changes(&export)?;
        let prepared = self
            .inner
            .storage
            .prepare(initial, &to_change_set(&changes))
            .map_err(|e| e.to_string())?;
        let app_hash = hex::encode_upper(prepared.app_hash());
        if app_hash != export.app_hash.to_uppercase() {
            return Err(format!(
                "the exported state hashes to {app_hash}, not the {} it records: it was changed \
                 or truncated",
                export.app_hash
            ));
        }
        self.set_chain_id(&req.chain_id);
        let mut consensus = self.inner.consensus.lock().expect("lock");
        consensus.genesis = Some(changes);
        consensus.genesis_app_hash = prepared.app_hash().to_vec();
        consensus.initial_height = initial;
        drop(consensus);
        tracing::info!(height = export.height, %app_hash, "state imported from an export");
        Ok(ResponseInitChain {
            consensus_params: None,
            // The genesis file lists the exported set; CometBFT keeps it.
            validators: Vec::new(),
            app_hash: prepared.app_hash().to_vec().into(),
        })
    }

    /// The height the next block must have: the one after the last committed, or the
    /// genesis's initial height before the first.
    fn expected_height(&self, consensus: &Consensus, latest: u64) -> u64 {
        if latest == 0 {
            consensus.initial_height.max(1)
        } else {
            latest + 1
        }
    }

    /// A context executing in the block being finalized: its hooks, then each transaction.
    fn deliver_ctx<'a>(
        &'a self,
        state: &'a mut dyn surety_framework::StateWrite,
        block: &BlockInfo,
    ) -> Ctx<'a> {
        Ctx::new(
            state,
            block.clone(),
            ExecMode::Deliver,
            GasMeter::infinite(),
        )
        .with_router(&self.inner.modules)
    }

    fn finalize_block_inner(
        &self,
        req: RequestFinalizeBlock,
    ) -> Result<ResponseFinalizeBlock, Error> {
        let started = Instant::now();
        let height = req.height.max(0) as u64;
        let mut consensus = self.inner.consensus.lock().expect("lock");
        let snapshot = self.inner.storage.latest_snapshot();
        if self.expected_height(&consensus, snapshot.version()) != height {
            halt(
                "finalize block",
                format!(
                    "asked for height {height} but the last committed height is {}",
                    snapshot.version()
                ),
            );
        }
        // The first block (height 1, or the one after an export) commits InitChain's state too.
        let first = snapshot.version() == 0;
        let genesis = if first {
            consensus.genesis.clone()
        } else {
            None
        };
        if first && genesis.is_none() {
            halt(
                "finalize block",
                "the first block without InitChain; wipe the data directory and restart",
            );
        }
        let mut block = block_info(req.height, req.time.as_ref(), self.chain_id());
        // The first block's header carries InitChain's app hash, which no snapshot has.
        block.last_app_hash = match snapshot.app_hash() {
            Some(h) => h.to_vec(),
            None => consensus.genesis_app_hash.clone(),
        };
        block.next_validators_hash = req.next_validators_hash.to_vec();
        block.last_commit = req
            .decided_last_commit
            .iter()
            .flat_map(|c| &c.votes)
            .filter_map(|v| {
                let validator = v.validator.as_ref()?;
                Some(surety_framework::CommitVote {
                    address: validator.address.to_vec(),
                    power: validator.power,
                    signed: v.block_id_flag
                        == surety_proto::cometbft::types::BlockIdFlag::Commit as i32,
                })
            })
            .collect();
        block.misbehavior = req
            .misbehavior
            .iter()
            .filter_map(|m| {
                Some(surety_framework::Evidence {
                    address: m.validator.as_ref()?.address.to_vec(),
                    height: m.height,
                })
            })
            .collect();
        let mut block_events = Vec::new();
        let mut updates = Vec::new();
        let reads = CachedReads::new(&snapshot);
        let (tx_results, changes) = with_overlay(&reads, genesis.unwrap_or_default(), |overlay| {
            let mut ctx = self.deliver_ctx(overlay, &block);
            // A hook that fails on state users shaped loses its writes for this block and
            // is recorded; only a fatal error (store, invariant, upgrade) stops the node.
            for module in self.inner.modules.iter() {
                let _ = ctx.isolate(format!("{} begin_block", module.name()), |c| {
                    module.begin_block(c)
                })?;
            }
            let oracle = surety_oracle::Oracle::default();
            let votes = match req
                .txs
                .first()
                .and_then(|tx| surety_oracle::votes::decode_injected(tx))
            {
                Some(Ok(commit)) if oracle.expects_votes(&mut ctx, block.height)? => {
                    let _ = ctx.isolate("oracle votes", |c| oracle.apply_votes(c, &commit))?;
                    true
                }
                _ => false,
            };
            block_events.extend(ctx.take_events());
            drop(ctx);
            let mut results = Vec::with_capacity(req.txs.len());
            if votes {
                results.push(ExecTxResult {
                    log: "oracle votes".into(),
                    ..Default::default()
                });
            }
            for tx in req.txs.iter().skip(votes as usize) {
                let mut ctx = self.deliver_ctx(overlay, &block);
                results.push(exec_result(
                    self.runner().run(&mut ctx, tx),
                    &self.inner.config.event_index,
                ));
            }
            let mut ctx = self.deliver_ctx(overlay, &block);
            for module in self.inner.modules.iter() {
                if let Ok(u) = ctx.isolate(format!("{} end_block", module.name()), |c| {
                    module.end_block(c)
                })? {
                    updates.extend(u);
                }
            }
            block_events.extend(ctx.take_events());
            Ok::<_, Error>(results)
        });
        let tx_results = tx_results?;
        let mut set = to_change_set(&changes);
        crate::record_block_time(&mut set, &block);
        if snapshot.version() == 0 {
            set.nonverifiable
                .insert(CHAIN_ID_KEY.to_vec(), Some(self.chain_id().into_bytes()));
        }
        let tree_started = Instant::now();
        let storage = &self.inner.storage;
        let mut prepared = storage
            .prepare(height, &set)
            .unwrap_or_else(|e| halt("computing the app hash", e));
        let stats = &self.inner.stats;
        stats
            .app_hash_nanos
            .fetch_add(tree_started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        // Nearly all of the block's writes go to disk now, while CometBFT still admits
        // transactions; Commit, during which it admits none, writes the rest.
        let write_started = Instant::now();
        storage
            .write_ahead(&mut prepared)
            .unwrap_or_else(|e| halt("writing the block's state", e));
        stats
            .write_ahead_nanos
            .fetch_add(write_started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        let app_hash = prepared.app_hash();
        consensus.pending = Some(prepared);
        stats.blocks.fetch_add(1, Ordering::Relaxed);
        stats
            .block_txs
            .fetch_add(req.txs.len() as u64, Ordering::Relaxed);
        stats
            .finalize_block_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        tracing::debug!(
            height,
            txs = req.txs.len(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "block executed"
        );
        Ok(ResponseFinalizeBlock {
            events: abci_events(&block_events, &self.inner.config.event_index),
            tx_results,
            validator_updates: validator_updates(updates),
            consensus_param_updates: None,
            app_hash: app_hash.to_vec().into(),
        })
    }
}

impl Application for App {
    fn info(&self, _req: RequestInfo) -> ResponseInfo {
        let storage = &self.inner.storage;
        ResponseInfo {
            data: APP_NAME.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            app_version: 0,
            last_block_height: storage.latest_version() as i64,
            last_block_app_hash: storage
                .latest_app_hash()
                .map(|h| h.to_vec())
                .unwrap_or_default()
                .into(),
        }
    }

    fn init_chain(&self, req: RequestInitChain) -> ResponseInitChain {
        self.init_chain_inner(req)
            .unwrap_or_else(|e| halt("invalid genesis", e))
    }

    fn query(&self, req: RequestQuery) -> ResponseQuery {
        self.handle_query(req)
    }

    fn check_tx(&self, req: RequestCheckTx) -> ResponseCheckTx {
        let started = Instant::now();
        if req.r#type != CheckTxType::Recheck as i32 {
            self.inner.stats.new_tx_checked();
        }
        let snapshot = self.inner.storage.latest_snapshot();
        let (block, max_gas) = self.check_view(&snapshot);
        // A transaction that could never fit in a block is refused before it touches state.
        let wanted = crate::block_gas::gas_wanted(&req.tx).unwrap_or(0);
        if wanted > max_gas {
            let e = surety_framework::sdk::invalid_gas_limit(format!(
                "tx gas limit {wanted} is above the block gas limit {max_gas}"
            ));
            return ResponseCheckTx {
                code: e.code,
                log: e.log,
                codespace: e.codespace.into(),
                gas_wanted: wanted as i64,
                ..Default::default()
            };
        }
        let mut mempool = self.inner.mempool.lock().expect("lock");
        let (mut outcome, changes) =
            with_overlay(&snapshot, std::mem::take(&mut *mempool), |overlay| {
                let mut ctx = Ctx::new(overlay, block, ExecMode::Check, GasMeter::infinite())
                    .with_router(&self.inner.modules);
                self.runner().run(&mut ctx, &req.tx)
            });
        *mempool = changes;
        // CheckTx answers carry no events.
        outcome.events.clear();
        let result = exec_result(outcome, &surety_framework::EventIndex::all());
        let stats = &self.inner.stats;
        let nanos = started.elapsed().as_nanos() as u64;
        stats.check_tx_count.fetch_add(1, Ordering::Relaxed);
        stats.check_tx_nanos.fetch_add(nanos, Ordering::Relaxed);
        if req.r#type == CheckTxType::Recheck as i32 {
            stats.recheck_count.fetch_add(1, Ordering::Relaxed);
            stats.recheck_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
        ResponseCheckTx {
            code: result.code,
            data: Default::default(),
            log: result.log,
            info: String::new(),
            gas_wanted: result.gas_wanted,
            gas_used: result.gas_used,
            events: Vec::new(),
            codespace: result.codespace,
        }
    }

    fn commit(&self) -> ResponseCommit {
        let started = Instant::now();
        self.inner.stats.commit_started();
        let mut consensus = self.inner.consensus.lock().expect("lock");
        let Some(prepared) = consensus.pending.take() else {
            halt("commit", "no executed block to commit");
        };
        let version = prepared.version();
        self.inner
            .storage
            .commit(prepared)
            .unwrap_or_else(|e| halt("commit", e));
        consensus.genesis = None;
        // Mempool state restarts from the new block; CometBFT rechecks what is left.
        self.inner.mempool.lock().expect("lock").clear();
        self.inner
            .stats
            .commit_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        tracing::debug!(height = version, "committed");
        ResponseCommit { retain_height: 0 }
    }

    fn prepare_proposal(&self, req: RequestPrepareProposal) -> ResponsePrepareProposal {
        ResponsePrepareProposal {
            txs: self.prepare(req),
        }
    }

    fn process_proposal(&self, req: RequestProcessProposal) -> ResponseProcessProposal {
        use response_process_proposal::ProposalStatus;
        let status = match self.verify_proposal(&req) {
            Ok(()) => ProposalStatus::Accept,
            Err(why) => {
                tracing::warn!(height = req.height, %why, "rejecting proposal");
                ProposalStatus::Reject
            }
        };
        ResponseProcessProposal {
            status: status as i32,
        }
    }

    fn extend_vote(&self, _req: RequestExtendVote) -> ResponseExtendVote {
        ResponseExtendVote {
            vote_extension: self.oracle_vote().into(),
        }
    }

    fn verify_vote_extension(
        &self,
        req: RequestVerifyVoteExtension,
    ) -> ResponseVerifyVoteExtension {
        use response_verify_vote_extension::VerifyStatus;
        let status = if self.oracle_vote_is_valid(&req.vote_extension) {
            VerifyStatus::Accept
        } else {
            VerifyStatus::Reject
        };
        ResponseVerifyVoteExtension {
            status: status as i32,
        }
    }

    fn finalize_block(&self, req: RequestFinalizeBlock) -> ResponseFinalizeBlock {
        self.finalize_block_inner(req)
            .unwrap_or_else(|e| halt("block hooks failed", e))
    }
}
