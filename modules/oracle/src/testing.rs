//! Test scaffolding: an empty chain state and a block context over it.

use surety_framework::state::{Entries, Overlay, StateRead};
use surety_framework::{BlockInfo, Ctx, Error, ExecMode, GasMeter};

pub struct Empty;

impl StateRead for Empty {
    fn get(&self, _: &'static str, _: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        Ok(None)
    }
    fn prefix(&self, _: &'static str, _: &[u8]) -> Result<Entries, Error> {
        Ok(Vec::new())
    }
}

/// A context for the block at `height` and `time` over `state`.
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
