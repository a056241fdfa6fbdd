//! The oracle's path through consensus (ABCI 2.0 vote extensions): ExtendVote attaches this
//! node's observations, VerifyVoteExtension checks other validators' for form, PrepareProposal
//! injects the previous height's extended commit as the block's first item, ProcessProposal
//! verifies it, and FinalizeBlock hands it to the oracle module.

use crate::App;
use prost::Message;
use std::time::{Duration, Instant};
use surety_framework::Ctx;
use surety_oracle::votes;
use surety_proto::cometbft::abci::{RequestPrepareProposal, RequestProcessProposal};
use surety_proto::surety::oracle::v1::OracleVote;

/// Observations older than this are not reported: a stale price is worse than none.
const STALE_AFTER: Duration = Duration::from_secs(15);

/// What this node's feed source last said, and when.
#[derive(Default)]
pub struct Observations {
    latest: Option<(Instant, OracleVote)>,
}

fn oracle() -> surety_oracle::Oracle {
    surety_oracle::Oracle::default()
}

impl App {
    /// Called by the node's feed poller, off the consensus path.
    pub fn set_observations(&self, vote: OracleVote) {
        self.inner.observations.write().expect("lock").latest = Some((Instant::now(), vote));
    }

    fn latest_state<T>(&self, f: impl FnOnce(&mut Ctx) -> T) -> Option<T> {
        self.read_at(0, f).ok().map(|(t, _)| t)
    }

    /// This node's vote extension: its fresh observations of the governance-approved feeds.
    pub(crate) fn oracle_vote(&self) -> Vec<u8> {
        let feeds = self
            .latest_state(|ctx| oracle().params(ctx).map(|p| p.feeds))
            .and_then(Result::ok)
            .unwrap_or_default();
        let observed = self.inner.observations.read().expect("lock");
        let Some((_, vote)) = observed
            .latest
            .as_ref()
            .filter(|(at, _)| at.elapsed() < STALE_AFTER)
        else {
            return Vec::new();
        };
        let mut vote = vote.clone();
        vote.prices.retain(|p| feeds.contains(&p.feed));
        vote.prices.sort_by(|a, b| a.feed.cmp(&b.feed));
        vote.prices.dedup_by(|a, b| a.feed == b.feed);
        let bytes = vote.encode_to_vec();
        // Never sign something the others would reject.
        match votes::validate_vote(&bytes, &feeds) {
            Ok(_) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "not reporting malformed observations");
                Vec::new()
            }
        }
    }

    pub(crate) fn oracle_vote_is_valid(&self, bytes: &[u8]) -> bool {
        let feeds = self
            .latest_state(|ctx| oracle().params(ctx).map(|p| p.feeds))
            .and_then(Result::ok)
            .unwrap_or_default();
        votes::validate_vote(bytes, &feeds).is_ok()
    }

    fn expects_votes(&self, height: i64) -> bool {
        self.latest_state(|ctx| oracle().expects_votes(ctx, height.max(0) as u64))
            .and_then(Result::ok)
            .unwrap_or(false)
    }

    /// The proposal's transactions: the extended commit first (when vote extensions are on),
    /// then the mempool's in order, within the byte limit. Nothing from the mempool may pose
    /// as injected votes.
    pub(crate) fn prepare(&self, req: RequestPrepareProposal) -> Vec<prost::bytes::Bytes> {
        let mut budget = req.max_tx_bytes.max(0) as usize;
        let mut gas_left = self.block_max_gas();
        let mut out = Vec::new();
        if self.expects_votes(req.height) {
            let injected = votes::encode_injected(&req.local_last_commit.unwrap_or_default());
            budget = budget.saturating_sub(injected.len());
            out.push(injected.into());
        }
        for tx in req.txs {
            if tx.starts_with(votes::INJECTED_PREFIX) {
                continue;
            }
            // The first transaction that does not fit the bytes or the gas left ends the block;
            // it and those after it wait, in mempool order, for the next.
            let gas = crate::block_gas::gas_wanted(&tx).unwrap_or(0);
            if tx.len() > budget || gas > gas_left {
                break;
            }
            budget -= tx.len();
            gas_left -= gas;
            out.push(tx);
        }
        out
    }

    /// Accepts a proposal unless its oracle votes are missing, forged, replayed or short of
    /// 2/3 of the power. (Failing user transactions are not a reason to reject a block: they
    /// fail in FinalizeBlock.)
    pub(crate) fn verify_proposal(&self, req: &RequestProcessProposal) -> Result<(), String> {
        let expects = self.expects_votes(req.height);
        let mut txs = req.txs.iter();
        if expects {
            let first = txs.next().ok_or("no oracle votes in the block")?;
            let injected = votes::decode_injected(first)
                .ok_or("the block's first item is not the oracle votes")?
                .map_err(|e| e.log)?;
            let last_commit = req.proposed_last_commit.clone().unwrap_or_default();
            // The keys of the validators in the block's last commit (CometBFT's set two heights
            // back may hold validators the app has since removed): one lookup per vote.
            let keys: std::collections::BTreeMap<Vec<u8>, [u8; 32]> = self
                .latest_state(|ctx| {
                    let staking = surety_staking::Staking::default();
                    last_commit
                        .votes
                        .iter()
                        .filter_map(|v| v.validator.as_ref())
                        .filter_map(|v| {
                            let found = staking.by_consensus_address(ctx, &v.address).ok()??;
                            Some((v.address.to_vec(), found.consensus_pubkey))
                        })
                        .collect()
                })
                .unwrap_or_default();
            votes::verify_injected(
                &injected,
                &last_commit,
                req.height,
                &self.chain_id(),
                |address| keys.get(address).copied(),
            )
            .map_err(|e| e.log)?;
        }
        let user_txs: Vec<&[u8]> = txs.map(|tx| tx.as_ref()).collect();
        if user_txs
            .iter()
            .any(|tx| tx.starts_with(votes::INJECTED_PREFIX))
        {
            return Err("oracle votes where none belong".into());
        }
        let limit = self.block_max_gas();
        if !crate::block_gas::total_within(user_txs.iter().copied(), limit) {
            return Err(format!(
                "the transactions ask for more than the block gas limit {limit}"
            ));
        }
        Ok(())
    }
}
