//! ABCI queries: gRPC method paths with protobuf requests (how cosmjs queries through CometBFT
//! RPC), `store/<substore>/key` with ics23 proofs, and transaction simulation.

use crate::{with_overlay, App};
use prost::Message;
use surety_framework::{sdk, Ctx, Error, ExecMode, GasMeter};
use surety_proto::cometbft::abci::{RequestQuery, ResponseQuery};
use surety_proto::cometbft::crypto::{ProofOp, ProofOps};
use surety_proto::cosmos::base::abci::v1beta1::{GasInfo, Result as TxResult};
use surety_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};

pub const SIMULATE: &str = "/cosmos.tx.v1beta1.Service/Simulate";
pub const GET_NODE_INFO: &str = "/cosmos.base.tendermint.v1beta1.Service/GetNodeInfo";
pub const NODE_CONFIG: &str = "/cosmos.base.node.v1beta1.Service/Config";
/// Proof op type for a Jellyfish Merkle Tree ics23 proof (substore, then main tree).
pub const PROOF_OP_TYPE: &str = "ics23:jmt";

fn error_response(e: &Error, height: i64) -> ResponseQuery {
    ResponseQuery {
        code: e.code,
        codespace: e.codespace.to_string(),
        log: format!("rpc error: code = {} desc = {}", e.grpc.name(), e.log),
        height,
        ..Default::default()
    }
}

impl App {
    pub(crate) fn handle_query(&self, req: RequestQuery) -> ResponseQuery {
        let height = u64::try_from(req.height).unwrap_or(0);
        if req.path.starts_with("store/") || req.path.starts_with("/store/") {
            return self.store_query(&req, height);
        }
        match self.query_method(&req.path, &req.data, height) {
            Ok((value, version)) => ResponseQuery {
                value: value.into(),
                height: version as i64,
                ..Default::default()
            },
            Err(e) => error_response(&e, req.height),
        }
    }

    /// Answers a gRPC method (a module query, Simulate or GetNodeInfo) against the state at
    /// `height` (0 = latest); returns the encoded response and the height it was read at.
    pub fn query_method(
        &self,
        path: &str,
        request: &[u8],
        height: u64,
    ) -> Result<(Vec<u8>, u64), Error> {
        match path {
            SIMULATE => self.simulate_query(request),
            GET_NODE_INFO => self.node_info(),
            // Relayers read the node's minimum gas price here (Hermes's health check).
            NODE_CONFIG => Ok((
                surety_proto::cosmos::base::node::v1beta1::ConfigResponse {
                    minimum_gas_price: self.inner.config.min_gas_prices.to_string(),
                    ..Default::default()
                }
                .encode_to_vec(),
                self.inner.storage.latest_version(),
            )),
            "/app/stats" | "app/stats" => Ok((
                self.inner.stats.to_json().to_string().into_bytes(),
                self.inner.storage.latest_version(),
            )),
            "/app/version" | "app/version" => Ok((
                env!("CARGO_PKG_VERSION").as_bytes().to_vec(),
                self.inner.storage.latest_version(),
            )),
            path => self.module_query(path, request, height),
        }
    }

    /// Answers a module's gRPC query method against the state at `height` (0 = latest).
    pub fn module_query(
        &self,
        path: &str,
        request: &[u8],
        height: u64,
    ) -> Result<(Vec<u8>, u64), Error> {
        let module = self.inner.modules.route_query(path).ok_or_else(|| {
            sdk::unknown_request(format!("unknown query path {path}"))
                .with_grpc(surety_framework::GrpcCode::Unimplemented)
        })?;
        let (result, version) = self
            .query_at(height, |ctx| module.query(ctx, path, request))
            .map_err(|e| sdk::invalid_height(e.to_string()))?;
        Ok((result?, version))
    }

    fn node_info(&self) -> Result<(Vec<u8>, u64), Error> {
        let info = self.node_info_bytes().ok_or_else(|| {
            sdk::internal("node info is not available: CometBFT is not answering yet")
                .with_grpc(surety_framework::GrpcCode::Unavailable)
        })?;
        Ok((info, self.inner.storage.latest_version()))
    }

    fn simulate_query(&self, request: &[u8]) -> Result<(Vec<u8>, u64), Error> {
        let req = SimulateRequest::decode(request)
            .map_err(|e| sdk::invalid_request(format!("invalid simulate request: {e}")))?;
        let response = self.simulate(&req.tx_bytes)?;
        Ok((
            response.encode_to_vec(),
            self.inner.storage.latest_version(),
        ))
    }

    /// Runs a transaction against the latest state plus the mempool's pending changes, writing
    /// nothing; reports gas used and the result.
    pub fn simulate(&self, tx_bytes: &[u8]) -> Result<SimulateResponse, Error> {
        if tx_bytes.is_empty() {
            return Err(sdk::invalid_request("empty txBytes is not allowed"));
        }
        let snapshot = self.inner.storage.latest_snapshot();
        let pending = self.inner.mempool.lock().expect("lock").clone();
        let block = self.pending_block(&snapshot);
        let (outcome, _) = with_overlay(&snapshot, pending, |overlay| {
            let mut ctx = Ctx::new(overlay, block, ExecMode::Simulate, GasMeter::infinite())
                .with_router(&self.inner.modules);
            self.runner().run(&mut ctx, tx_bytes)
        });
        let responses = outcome.result?;
        #[allow(deprecated)]
        Ok(SimulateResponse {
            gas_info: Some(GasInfo {
                gas_wanted: outcome.gas_wanted,
                gas_used: outcome.gas_used,
            }),
            result: Some(TxResult {
                data: crate::tx::msg_data(responses.clone()),
                log: String::new(),
                events: outcome.events.iter().map(|e| e.to_abci()).collect(),
                msg_responses: responses,
            }),
        })
    }

    /// `store/<substore>/key`: the raw value, and with `prove` the two ics23 proofs (key in the
    /// substore, substore root in the main tree) against the app hash of `height`.
    fn store_query(&self, req: &RequestQuery, height: u64) -> ResponseQuery {
        let path = req.path.trim_start_matches('/');
        let parts: Vec<&str> = path.split('/').collect();
        let substore = match parts.as_slice() {
            ["store", substore, "key"] => *substore,
            _ => {
                return error_response(
                    &sdk::unknown_request(format!(
                        "unsupported store query path {}; use store/<substore>/key",
                        req.path
                    )),
                    req.height,
                )
            }
        };
        let storage = &self.inner.storage;
        let snapshot = match if height == 0 {
            Ok(storage.latest_snapshot())
        } else {
            storage.snapshot(height)
        } {
            Ok(s) => s,
            Err(e) => return error_response(&sdk::invalid_height(e.to_string()), req.height),
        };
        let key = req.data.to_vec();
        let result = if req.prove {
            snapshot
                .get_with_proof(substore, &key)
                .map(|(value, proofs)| {
                    let ops = vec![
                        ProofOp {
                            r#type: PROOF_OP_TYPE.to_string(),
                            key: key.clone(),
                            data: proofs[0].encode_to_vec(),
                        },
                        ProofOp {
                            r#type: PROOF_OP_TYPE.to_string(),
                            key: substore.as_bytes().to_vec(),
                            data: proofs[1].encode_to_vec(),
                        },
                    ];
                    (value, Some(ProofOps { ops }))
                })
        } else {
            snapshot.get(substore, &key).map(|v| (v, None))
        };
        match result {
            Ok((value, proof_ops)) => ResponseQuery {
                key: key.into(),
                value: value.unwrap_or_default().into(),
                proof_ops,
                height: snapshot.version() as i64,
                ..Default::default()
            },
            Err(e) => error_response(&sdk::invalid_request(e.to_string()), req.height),
        }
    }
}

impl App {
    /// Runs a transaction exactly as FinalizeBlock would — signatures, fee, gas, messages — on
    /// the latest committed state in the next block, and returns the outcome with every change
    /// it would make, writing nothing. Tests and the fuzzer use it to prove that a failed
    /// transaction changes nothing but its fee and sequence.
    pub fn execute_detached(&self, tx: &[u8]) -> (crate::tx::TxOutcome, surety_framework::Changes) {
        let snapshot = self.inner.storage.latest_snapshot();
        let block = self.pending_block(&snapshot);
        with_overlay(&snapshot, Default::default(), |overlay| {
            let mut ctx = Ctx::new(overlay, block, ExecMode::Deliver, GasMeter::infinite())
                .with_router(&self.inner.modules);
            self.runner().run(&mut ctx, tx)
        })
    }
}

/// ICS-23's `MerkleProof` (ibc.core.commitment.v1): the proofs from the key up to the app hash.
#[derive(Clone, PartialEq, prost::Message)]
struct MerkleProof {
    #[prost(message, repeated, tag = "1")]
    proofs: Vec<surety_proto::ics23::CommitmentProof>,
}

/// Proofs for queries, from the snapshot they read.
pub(crate) struct SnapshotProver<'s>(pub &'s surety_store::Snapshot);

impl surety_framework::Prover for SnapshotProver<'_> {
    fn prove(&self, store: &str, key: &[u8]) -> Result<Vec<u8>, Error> {
        let (_, proofs) = self
            .0
            .get_with_proof(store, key)
            .map_err(|e| sdk::invalid_request(e.to_string()))?;
        Ok(MerkleProof {
            proofs: proofs.to_vec(),
        }
        .encode_to_vec())
    }
}
