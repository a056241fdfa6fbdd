//! The execution context a module sees: metered state access, the block, and an event sink.

use crate::error::{sdk, Error};
use crate::events::Event;
use crate::gas::{GasConfig, GasMeter};
use crate::state::{Overlay, StateWrite};
use prost::Message;

/// The block being executed. Time is block time from the header, never the wall clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockInfo {
    pub height: u64,
    pub time_unix_secs: i64,
    pub time_nanos: u32,
    pub chain_id: String,
    /// Who signed the previous block (CometBFT's `decided_last_commit`).
    pub last_commit: Vec<CommitVote>,
    /// Double-sign evidence CometBFT reports in this block.
    pub misbehavior: Vec<Evidence>,
    /// This block header's `app_hash`: the state root after the previous block.
    pub last_app_hash: Vec<u8>,
    /// This block header's `next_validators_hash`.
    pub next_validators_hash: Vec<u8>,
}

/// A validator's vote on the previous block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitVote {
    /// Consensus address: the first 20 bytes of sha256 of the ed25519 key.
    pub address: Vec<u8>,
    pub power: i64,
    pub signed: bool,
}

/// Evidence that a validator signed two blocks at one height.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    pub address: Vec<u8>,
    pub height: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecMode {
    Genesis,
    Check,
    Simulate,
    Deliver,
    Query,
}

/// Executes messages on behalf of an account that signs no transactions — the gov authority
/// executing a passed proposal. The app's module router implements it.
pub trait Router: Sync {
    /// The signers `msg` requires.
    fn signers(&self, msg: &surety_proto::Any) -> Result<Vec<crate::Address>, Error>;
    /// Executes `msg` as `signer`, all of it or none.
    fn execute(
        &self,
        ctx: &mut Ctx,
        msg: &surety_proto::Any,
        signer: &crate::Address,
    ) -> Result<Vec<u8>, Error>;

    /// Who listens to staking changes.
    fn staking_hooks(&self) -> Option<&dyn StakingHooks> {
        None
    }

    /// Who hears of claim payouts.
    fn payout_hooks(&self) -> Option<&dyn PayoutHooks> {
        None
    }
}

/// What cross-chain cover needs to hear from claims: a payout made to an account, so that a
/// remote owner's payout can be sent home to the chain it lives on.
pub trait PayoutHooks: Sync {
    fn after_payout(
        &self,
        ctx: &mut Ctx,
        recipient: &crate::Address,
        paid: &crate::Coin,
    ) -> Result<(), Error>;
}

/// What distribution needs to hear from staking: every change of a delegation (to settle its
/// rewards first and restart them after) and every slash (to split reward periods).
pub trait StakingHooks: Sync {
    fn before_delegation_modified(
        &self,
        ctx: &mut Ctx,
        delegator: &crate::Address,
        validator: &crate::Address,
    ) -> Result<(), Error>;
    fn after_delegation_modified(
        &self,
        ctx: &mut Ctx,
        delegator: &crate::Address,
        validator: &crate::Address,
    ) -> Result<(), Error>;
    fn before_validator_slashed(
        &self,
        ctx: &mut Ctx,
        validator: &crate::Address,
        fraction: crate::Dec,
    ) -> Result<(), Error>;
}

/// Proves committed values, for queries that return proofs (IBC's): the encoded ICS-23
/// `MerkleProof` (the key in its substore, then the substore in the app hash) of `key` in
/// `store` at the height the query reads.
pub trait Prover {
    fn prove(&self, store: &str, key: &[u8]) -> Result<Vec<u8>, Error>;
}

pub struct Ctx<'a> {
    state: &'a mut dyn StateWrite,
    /// The message router, where the app provides it (block execution, CheckTx, Simulate).
    pub router: Option<&'a dyn Router>,
    /// Where queries get proofs from (queries at a committed height only).
    pub prover: Option<&'a dyn Prover>,
    pub block: BlockInfo,
    pub mode: ExecMode,
    pub gas: GasMeter,
    events: Vec<Event>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        state: &'a mut dyn StateWrite,
        block: BlockInfo,
        mode: ExecMode,
        gas: GasMeter,
    ) -> Ctx<'a> {
        Ctx {
            state,
            router: None,
            prover: None,
            block,
            mode,
            gas,
            events: Vec::new(),
        }
    }

    pub fn get(&mut self, store: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        // The flat price is charged before reading (a read that runs out of gas does no work).
        let cfg = GasConfig::KV;
        self.gas.charge_read_flat(store, key)?;
        let value = self.state.get(store, key)?;
        let len = value.as_ref().map_or(0, Vec::len) as u64;
        self.gas
            .consume(cfg.read_cost_per_byte * len, "ReadPerByte")?;
        Ok(value)
    }

    pub fn put(&mut self, store: &'static str, key: Vec<u8>, value: Vec<u8>) -> Result<(), Error> {
        self.gas.charge_write(store, &key, value.len())?;
        self.state.put(store, key, value);
        Ok(())
    }

    pub fn delete(&mut self, store: &'static str, key: Vec<u8>) -> Result<(), Error> {
        self.gas.consume(GasConfig::KV.delete_cost, "Delete")?;
        self.gas.touch(store, &key);
        self.state.delete(store, key);
        Ok(())
    }

    /// Every (key, value) under `prefix`, ascending; each item read is paid for.
    pub fn prefix(
        &mut self,
        store: &'static str,
        prefix: &[u8],
    ) -> Result<crate::state::Entries, Error> {
        let cfg = GasConfig::KV;
        let items = self.state.prefix(store, prefix)?;
        for (key, value) in &items {
            self.gas.consume(cfg.iter_next_cost_flat, "IterNextFlat")?;
            self.gas.consume(
                cfg.read_cost_per_byte * (key.len() + value.len()) as u64,
                "ValuePerByte",
            )?;
        }
        Ok(items)
    }

    /// At most `limit` entries under `prefix` from `start` on, ascending; each item read is paid
    /// for. Block hooks use it to do a bounded amount of work per block.
    pub fn range(
        &mut self,
        store: &'static str,
        prefix: &[u8],
        start: Option<&[u8]>,
        limit: usize,
    ) -> Result<crate::state::Entries, Error> {
        let cfg = GasConfig::KV;
        let items = self.state.range(store, prefix, start, limit)?;
        for (key, value) in &items {
            self.gas.consume(cfg.iter_next_cost_flat, "IterNextFlat")?;
            self.gas.consume(
                cfg.read_cost_per_byte * (key.len() + value.len()) as u64,
                "ValuePerByte",
            )?;
        }
        Ok(items)
    }

    pub fn get_msg<M: Message + Default>(
        &mut self,
        store: &'static str,
        key: &[u8],
    ) -> Result<Option<M>, Error> {
        match self.get(store, key)? {
            None => Ok(None),
            Some(bytes) => M::decode(bytes.as_slice()).map(Some).map_err(|e| {
                sdk::internal(format!(
                    "corrupt {store} state at {}: {e}",
                    hex::encode(key)
                ))
            }),
        }
    }

    pub fn put_msg<M: Message>(
        &mut self,
        store: &'static str,
        key: Vec<u8>,
        msg: &M,
    ) -> Result<(), Error> {
        self.put(store, key, msg.encode_to_vec())
    }

    /// This context with the message router.
    pub fn with_router(mut self, router: &'a dyn Router) -> Ctx<'a> {
        self.router = Some(router);
        self
    }

    /// The next id from the counter at `key`, starting at 1.
    pub fn next_id(&mut self, store: &'static str, key: &[u8]) -> Result<u64, Error> {
        let current = match self.get(store, key)? {
            Some(bytes) => u64::from_be_bytes(bytes.as_slice().try_into().map_err(|_| {
                sdk::internal(format!("corrupt {store} counter at {}", hex::encode(key)))
            })?),
            None => 0,
        };
        let next = current
            .checked_add(1)
            .ok_or_else(|| sdk::internal(format!("{store} counter exhausted")))?;
        self.put(store, key.to_vec(), next.to_be_bytes().to_vec())?;
        Ok(next)
    }

    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Runs one item of a block-hook queue (a settlement, a payout, a proposal) on its own branch.
    /// If the item fails, its writes are dropped, the failure is emitted as an `item_failed` event
    /// and returned in the inner `Err` for the caller to move the item to a failed or retry state;
    /// the block goes on. Only a fatal error (an unreadable store, a broken invariant) comes back
    /// in the outer `Err` and stops the node.
    pub fn isolate<T>(
        &mut self,
        item: impl std::fmt::Display,
        f: impl FnOnce(&mut Ctx) -> Result<T, Error>,
    ) -> Result<Result<T, Error>, Error> {
        match self.branch(f) {
            Ok(v) => Ok(Ok(v)),
            Err(e) if e.is_fatal() => Err(e),
            Err(e) => {
                tracing::warn!(%item, error = %e, "block-hook item failed");
                self.emit(
                    Event::new("item_failed")
                        .attr("item", item)
                        .attr("codespace", e.codespace)
                        .attr("code", e.code)
                        .attr("error", &e.log),
                );
                Ok(Err(e))
            }
        }
    }

    /// Runs `f` on a branch of this state: its writes and events are kept only if it succeeds.
    /// Gas it used is charged either way.
    pub fn branch<T>(&mut self, f: impl FnOnce(&mut Ctx) -> Result<T, Error>) -> Result<T, Error> {
        let mut overlay = Overlay::new(&*self.state);
        let (result, events, gas) = {
            // Moved, not cloned: the child carries on the same meter (and its warm keys).
            let mut child = Ctx::new(
                &mut overlay,
                self.block.clone(),
                self.mode,
                std::mem::replace(&mut self.gas, GasMeter::infinite()),
            );
            child.router = self.router;
            let result = f(&mut child);
            (result, child.events, child.gas)
        };
        let changes = overlay.into_changes();
        self.gas = gas;
        if result.is_ok() {
            self.state.apply(changes);
            self.events.extend(events);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Overlay;

    use crate::testing::EmptyState as Empty;

    #[test]
    fn failed_branch_leaves_no_writes_but_pays_gas() {
        let mut state = Overlay::new(&Empty);
        let mut ctx = crate::testing::block(&mut state, 0, 0);
        ctx.put("s", b"a".to_vec(), b"1".to_vec()).unwrap();
        let before = ctx.gas.used();
        let r: Result<(), Error> = ctx.branch(|c| {
            c.put("s", b"b".to_vec(), b"2".to_vec())?;
            c.emit(Event::new("x"));
            Err(sdk::invalid_request("no"))
        });
        assert!(r.is_err());
        assert!(ctx.gas.used() > before);
        assert!(ctx.events().is_empty());
        assert_eq!(ctx.get("s", b"b").unwrap(), None);
        ctx.branch(|c| c.put("s", b"c".to_vec(), b"3".to_vec()))
            .unwrap();
        assert_eq!(ctx.prefix("s", b"").unwrap().len(), 2);
    }
}
