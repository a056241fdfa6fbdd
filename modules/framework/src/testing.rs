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

/// Lists a paginated query to the end: asks for the first page with `limit`, then follows
/// `next_key`; returns the items of each page. Panics if a page is longer than `limit`, reports
/// a total it was not asked for, or a next key does not go forward.
pub fn pages<T>(
    limit: u64,
    mut list: impl FnMut(crate::PageRequest) -> (Vec<T>, Option<crate::PageResponse>),
) -> Vec<Vec<T>> {
    let mut pages = Vec::new();
    let mut key: Vec<u8> = Vec::new();
    loop {
        let (items, resp) = list(crate::PageRequest {
            key: key.clone(),
            limit,
            ..Default::default()
        });
        let resp = resp.expect("a list response carries its pagination");
        assert!(items.len() as u64 <= limit, "a page over its limit");
        assert_eq!(resp.total, 0, "a key page reports no total");
        pages.push(items);
        if resp.next_key.is_empty() {
            return pages;
        }
        assert!(resp.next_key > key, "next_key goes forward");
        key = resp.next_key;
    }
}
