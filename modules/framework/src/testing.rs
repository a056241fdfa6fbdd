//! Scaffolding for modules' unit tests: an empty chain state and a block context over it.

use crate::state::{Entries, Overlay, StateRead};
use crate::{BlockInfo, Ctx, Error, ExecMode, GasMeter};

/// A state with nothing in it, to lay an [`Overlay`] over.
pub struct EmptyState;

impl StateRead for EmptyState {
    fn get(&self, _: &'static str, _: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        Ok(None)
    }
    fn prefix(&self, _: &'static str, _: &[u8]) -> Result<Entries, Error> {
        Ok(Vec::new())
    }
}

/// A context for executing the block at `height` and `time` over `state`, with unlimited gas.
pub fn block<'a>(state: &'a mut Overlay<'_>, height: u64, time: i64) -> Ctx<'a> {
    Ctx::new(
        state,
        BlockInfo {
            height,
            time_unix_secs: time,
            chain_id: "surety-test".into(),
            ..Default::default()
        },
        ExecMode::Deliver,
        GasMeter::infinite(),
    )
}
