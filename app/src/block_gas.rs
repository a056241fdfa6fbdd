//! The block gas limit: CometBFT's `consensus_params.block.max_gas`, kept in state from
//! InitChain so every validator applies the same one. A proposal whose transactions ask for more
//! gas in total is built short by an honest proposer (PrepareProposal) and rejected by everyone
//! else (ProcessProposal); each transaction's own meter stops it at its limit, so no block can do
//! more metered work than this.

use crate::App;
use prost::Message;
use surety_framework::{sdk, BlockInfo, Ctx, Error, ExecMode, GasMeter, Overlay};
use surety_proto::cosmos::tx::v1beta1::{AuthInfo, TxRaw};

pub const STORE: &str = "consensus";
const MAX_GAS_KEY: &[u8] = b"block_max_gas";

/// Used when genesis sets no limit (`max_gas` of -1 or 0), and by `suretyd init`. Set from what a
/// unit of gas costs on the 2-core reference machine (`scripts/bench-scale`, docs/performance.md):
/// a block of purchases runs FinalizeBlock and Commit at 1.5 ns per gas on a small book and 3.1
/// at 100 000 policies, and a signature check that misses the memo at 2.9 (at its price of
/// 10 000 gas). A full block is then at most about 0.9 s of work, and holds about 4 700 bank
/// sends or 1 600 purchases: enough that CometBFT, not the gas limit, sets the pace of sends.
pub const DEFAULT_BLOCK_MAX_GAS: u64 = 300_000_000;

/// The limit genesis asks for, or the default when it asks for none.
pub fn from_genesis(max_gas: Option<i64>) -> u64 {
    match max_gas {
        Some(g) if g > 0 => g as u64,
        _ => DEFAULT_BLOCK_MAX_GAS,
    }
}

pub fn store(ctx: &mut Ctx, limit: u64) -> Result<(), Error> {
    ctx.put(STORE, MAX_GAS_KEY.to_vec(), limit.to_be_bytes().to_vec())
}

pub fn load(ctx: &mut Ctx) -> Result<u64, Error> {
    Ok(match ctx.get(STORE, MAX_GAS_KEY)? {
        Some(b) => u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| sdk::internal("corrupt block gas limit"))?,
        ),
        None => DEFAULT_BLOCK_MAX_GAS,
    })
}

/// The gas a transaction asks for, read without checking anything else; `None` if it does not
/// decode (it will fail in FinalizeBlock for almost nothing).
pub fn gas_wanted(tx: &[u8]) -> Option<u64> {
    let raw = TxRaw::decode(tx).ok()?;
    let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).ok()?;
    Some(auth.fee.map_or(0, |f| f.gas_limit))
}

/// Whether the transactions fit within `limit` in total.
pub fn total_within<'a>(txs: impl IntoIterator<Item = &'a [u8]>, limit: u64) -> bool {
    let mut total: u64 = 0;
    for tx in txs {
        total = match total.checked_add(gas_wanted(tx).unwrap_or(0)) {
            Some(t) if t <= limit => t,
            _ => return false,
        };
    }
    true
}

impl App {
    /// The block gas limit in force at the latest committed state.
    pub fn block_max_gas(&self) -> u64 {
        self.block_max_gas_at(&self.storage().latest_snapshot())
    }

    /// The block gas limit in force at `snapshot`.
    pub(crate) fn block_max_gas_at(&self, snapshot: &surety_store::Snapshot) -> u64 {
        let mut overlay = Overlay::new(snapshot);
        let mut ctx = Ctx::new(
            &mut overlay,
            BlockInfo::default(),
            ExecMode::Query,
            GasMeter::infinite(),
        );
        load(&mut ctx).unwrap_or(DEFAULT_BLOCK_MAX_GAS)
    }
}
