//! Cosmos SDK pagination (`cosmos.base.query.v1beta1.PageRequest` / `PageResponse`) over a
//! prefix of a substore, for every list query.
//!
//! A page reads what it returns and one entry more (to know whether another page follows),
//! with [`Ctx::range`], so its cost is proportional to the page, not to the store — except
//! where the client asks for it: an `offset` reads the entries it skips, and `count_total` reads
//! the rest of the prefix to count it (gas pays for both, as in Cosmos).
//!
//! Semantics follow Cosmos's `query.Paginate` / `query.FilteredPaginate`:
//! - `key` (the opaque `next_key` of the previous page) starts the page there, inclusive; it
//!   takes precedence over `offset`, which is ignored when `key` is set;
//! - `limit` 0 means [`DEFAULT_LIMIT`]; a larger limit than [`MAX_LIMIT`] is clamped to it;
//! - `next_key` is empty on the last page;
//! - `total` is filled only when `count_total` is set and the page is asked by offset (with a
//!   `key` it is 0, as in Cosmos). Unlike Cosmos, an absent `pagination` does not count the total;
//! - `reverse` is refused (`sdk` invalid request): the store is read in ascending order only.

use crate::error::{sdk, Error};
use crate::Ctx;
pub use surety_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};

/// Items per page when the request names no limit.
pub const DEFAULT_LIMIT: u64 = 100;
/// The largest page; larger limits are clamped to it.
pub const MAX_LIMIT: u64 = 1_000;

/// The page limit a request asks for: [`DEFAULT_LIMIT`] for 0, at most [`MAX_LIMIT`].
pub fn page_limit(page: Option<&PageRequest>) -> usize {
    let limit = match page.map_or(0, |p| p.limit) {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    usize::try_from(limit).unwrap_or(usize::MAX)
}

/// One page of the entries under `prefix` in `store`, in ascending key order.
///
/// `item` is called with the key (without `prefix`) and value of each entry the page reaches
/// and returns what to list, or `None` to leave the entry out (it then counts toward neither
/// the limit, nor the offset, nor the total). It should be cheap — decode a value, parse an id
/// from an index key — and the caller load anything costly for the returned items only: it also
/// runs on the entries an `offset` skips and, with `count_total`, on every entry after the
/// page. An `item` that leaves out many entries makes a page read them all; list through an
/// index instead.
///
/// Returns the items and the `PageResponse` to send back.
pub fn paginate<T>(
    ctx: &mut Ctx,
    store: &'static str,
    prefix: &[u8],
    page: Option<&PageRequest>,
    mut item: impl FnMut(&mut Ctx, &[u8], &[u8]) -> Result<Option<T>, Error>,
) -> Result<(Vec<T>, PageResponse), Error> {
    let default = PageRequest::default();
    let req = page.unwrap_or(&default);
    if req.reverse {
        return Err(sdk::invalid_request(
            "reverse pagination is not supported: page forward with pagination.key",
        ));
    }
    let limit = page_limit(page);
    let by_key = !req.key.is_empty();
    // `key` wins over `offset`; `total` only for offset pages, as in Cosmos.
    let mut to_skip = if by_key { 0 } else { req.offset };
    let count_total = req.count_total && !by_key;
    let chunk_max = usize::try_from(MAX_LIMIT)
        .unwrap_or(usize::MAX)
        .saturating_add(1);

    let mut cursor: Vec<u8> = [prefix, req.key.as_slice()].concat();
    let mut items: Vec<T> = Vec::new();
    let mut next_key: Option<Vec<u8>> = None;
    let mut total: u64 = 0;
    loop {
        // Read what the page still needs plus one entry, or a large chunk while skipping an
        // offset or counting the rest.
        let want = if next_key.is_some() {
            chunk_max
        } else {
            let skip = usize::try_from(to_skip).unwrap_or(usize::MAX);
            (limit - items.len())
                .saturating_add(skip)
                .saturating_add(1)
                .min(chunk_max)
        };
        let entries = ctx.range(store, prefix, Some(&cursor), want)?;
        let exhausted = entries.len() < want;
        let mut done = false;
        for (key, value) in &entries {
            let rel = key.get(prefix.len()..).ok_or_else(|| {
                sdk::internal(format!("{store} range returned a key outside its prefix"))
            })?;
            if next_key.is_none() && items.len() == limit {
                // The page is full and another entry follows: the next page starts here.
                next_key = Some(rel.to_vec());
                if !count_total {
                    done = true;
                    break;
                }
            }
            let Some(listed) = item(ctx, rel, value)? else {
                continue;
            };
            total = total.saturating_add(1);
            if next_key.is_some() {
                continue;
            }
            if to_skip > 0 {
                to_skip -= 1;
                continue;
            }
            items.push(listed);
        }
        if done || exhausted {
            break;
        }
        match entries.last() {
            Some((last, _)) => {
                cursor = last.clone();
                cursor.push(0);
            }
            None => break,
        }
    }
    Ok((
        items,
        PageResponse {
            next_key: next_key.unwrap_or_default(),
            total: if count_total { total } else { 0 },
        },
    ))
}

/// The big-endian `u64` id that ends an index key (`[…][id]`).
pub fn trailing_id(key: &[u8]) -> Result<u64, Error> {
    key.len()
        .checked_sub(8)
        .and_then(|at| key.get(at..))
        .and_then(|id| <[u8; 8]>::try_from(id).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| sdk::internal("corrupt index key: no trailing id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Overlay;
    use crate::testing::{block, EmptyState};
    use crate::{BlockInfo, ExecMode, GasMeter};

    const STORE: &str = "s";

    /// `n` entries `[1][id]` → id as 10 digits, plus neighbours under other prefixes.
    fn fill(ctx: &mut Ctx, n: u64) {
        ctx.put(STORE, vec![0, 9], b"before".to_vec()).unwrap();
        for id in 1..=n {
            let key = [&[1u8][..], &id.to_be_bytes()].concat();
            ctx.put(STORE, key, format!("{id:010}").into_bytes())
                .unwrap();
        }
        ctx.put(STORE, vec![2, 0], b"after".to_vec()).unwrap();
    }

    fn ids(ctx: &mut Ctx, page: &PageRequest) -> Result<(Vec<u64>, PageResponse), Error> {
        paginate(ctx, STORE, &[1], Some(page), |_, key, value| {
            let id = trailing_id(key)?;
            assert_eq!(value, format!("{id:010}").as_bytes());
            Ok(Some(id))
        })
    }

    fn by_key(key: Vec<u8>, limit: u64) -> PageRequest {
        PageRequest {
            key,
            limit,
            ..Default::default()
        }
    }

    /// Follows `next_key` from the first page; every page's ids in order.
    fn walk(ctx: &mut Ctx, limit: u64) -> Vec<Vec<u64>> {
        let mut pages = Vec::new();
        let mut key = Vec::new();
        loop {
            let (page, resp) = ids(ctx, &by_key(key, limit)).unwrap();
            assert_eq!(resp.total, 0, "no total unless asked for");
            pages.push(page);
            if resp.next_key.is_empty() {
                return pages;
            }
            key = resp.next_key;
        }
    }

    #[test]
    fn key_pages_cover_every_item_once_in_order() {
        let base = EmptyState;
        let mut state = Overlay::new(&base);
        let mut ctx = block(&mut state, 1, 0);
        fill(&mut ctx, 250);
        let pages = walk(&mut ctx, 100);
        assert_eq!(
            pages.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![100, 100, 50]
        );
        let all: Vec<u64> = pages.concat();
        assert_eq!(all, (1..=250).collect::<Vec<_>>());

        // An exact multiple: the last full page has no next key, and no empty page follows.
        let mut state = Overlay::new(&base);
        let mut ctx = block(&mut state, 1, 0);
        fill(&mut ctx, 200);
        let pages = walk(&mut ctx, 100);
        assert_eq!(pages.len(), 2);
        assert_eq!(pages.concat(), (1..=200).collect::<Vec<_>>());

        // Nothing at all: one empty last page.
        let mut state = Overlay::new(&base);
        let mut ctx = block(&mut state, 1, 0);
        fill(&mut ctx, 0);
        assert_eq!(walk(&mut ctx, 10), vec![Vec::<u64>::new()]);
    }

    #[test]
    fn limits_default_and_clamp() {
        let base = EmptyState;
        let mut state = Overlay::new(&base);
        let mut ctx = block(&mut state, 1, 0);
        fill(&mut ctx, 1_500);
        let (page, resp) = ids(&mut ctx, &PageRequest::default()).unwrap();
        assert_eq!(page, (1..=100).collect::<Vec<_>>());
        assert_eq!(resp.next_key, 101u64.to_be_bytes());
        // No pagination at all is the default page.
        let (none, _) = paginate(&mut ctx, STORE, &[1], None, |_, k, _| {
            trailing_id(k).map(Some)
        })
        .unwrap();
        assert_eq!(none, page);
        for huge in [1_001, 5_000, u64::MAX] {
            let (page, resp) = ids(&mut ctx, &by_key(vec![], huge)).unwrap();
            assert_eq!(page.len(), 1_000, "limit {huge} is clamped");
            assert_eq!(resp.next_key, 1_001u64.to_be_bytes());
        }
        assert_eq!(page_limit(None), 100);
        assert_eq!(
            page_limit(Some(&PageRequest {
                limit: 7,
                ..Default::default()
            })),
            7
        );
    }

    #[test]
    fn offset_pages_and_count_total() {
        let base = EmptyState;
        let mut state = Overlay::new(&base);
        let mut ctx = block(&mut state, 1, 0);
        fill(&mut ctx, 250);
        let offset = |offset, count_total| PageRequest {
            offset,
            limit: 100,
            count_total,
            ..Default::default()
        };
        let mut all = Vec::new();
        for (i, len) in [100, 100, 50].into_iter().enumerate() {
            let (page, resp) = ids(&mut ctx, &offset(i as u64 * 100, true)).unwrap();
            assert_eq!(page.len(), len);
            assert_eq!(resp.total, 250, "total counts the whole prefix");
            assert_eq!(resp.next_key.is_empty(), i == 2);
            all.extend(page);
        }
        assert_eq!(all, (1..=250).collect::<Vec<_>>());
        // The offset page's next key continues where it ends.
        let (_, resp) = ids(&mut ctx, &offset(30, false)).unwrap();
        assert_eq!(resp.total, 0, "no total unless asked for");
        let (next, _) = ids(&mut ctx, &by_key(resp.next_key, 5)).unwrap();
        assert_eq!(next, vec![131, 132, 133, 134, 135]);
        // Past the end: empty, last page.
        let (page, resp) = ids(&mut ctx, &offset(300, true)).unwrap();
        assert!(page.is_empty() && resp.next_key.is_empty());
        assert_eq!(resp.total, 250);
        // A key wins over an offset, and a key page reports no total.
        let mut both = by_key(51u64.to_be_bytes().to_vec(), 3);
        both.offset = 10;
        both.count_total = true;
        let (page, resp) = ids(&mut ctx, &both).unwrap();
        assert_eq!(page, vec![51, 52, 53]);
        assert_eq!(resp.total, 0);
        assert_eq!(resp.next_key, 54u64.to_be_bytes());
    }

    #[test]
    fn left_out_entries_count_for_nothing() {
        let base = EmptyState;
        let mut state = Overlay::new(&base);
        let mut ctx = block(&mut state, 1, 0);
        fill(&mut ctx, 100);
        let even = |ctx: &mut Ctx, page: &PageRequest| {
            paginate(ctx, STORE, &[1], Some(page), |_, k, _| {
                let id = trailing_id(k)?;
                Ok((id % 2 == 0).then_some(id))
            })
            .unwrap()
        };
        let (page, resp) = even(
            &mut ctx,
            &PageRequest {
                offset: 5,
                limit: 10,
                count_total: true,
                ..Default::default()
            },
        );
        assert_eq!(page, (12..=30).step_by(2).collect::<Vec<_>>());
        assert_eq!(resp.total, 50);
        assert_eq!(resp.next_key, 31u64.to_be_bytes());
        let (page, _) = even(&mut ctx, &by_key(resp.next_key, 3));
        assert_eq!(page, vec![32, 34, 36]);
    }

    #[test]
    fn reverse_is_refused_and_errors_pass_through() {
        let base = EmptyState;
        let mut state = Overlay::new(&base);
        let mut ctx = block(&mut state, 1, 0);
        fill(&mut ctx, 3);
        let reverse = PageRequest {
            reverse: true,
            ..Default::default()
        };
        let e = ids(&mut ctx, &reverse).unwrap_err();
        assert_eq!((e.codespace, e.code), ("sdk", 18));
        let e = paginate(&mut ctx, STORE, &[1], None, |_, _, _| {
            Err::<Option<()>, _>(sdk::internal("boom"))
        })
        .unwrap_err();
        assert_eq!(e.log, "boom: internal");
    }

    #[test]
    fn a_page_costs_gas_in_proportion_to_the_page() {
        let base = EmptyState;
        let mut state = Overlay::new(&base);
        {
            let mut ctx = block(&mut state, 1, 0);
            fill(&mut ctx, 5_000);
        }
        let gas_of = |state: &mut Overlay, page: &PageRequest| {
            let mut ctx = Ctx::new(
                state,
                BlockInfo::default(),
                ExecMode::Query,
                GasMeter::infinite(),
            );
            ids(&mut ctx, page).unwrap();
            ctx.gas.used()
        };
        let first = gas_of(&mut state, &by_key(vec![], 10));
        let late = gas_of(&mut state, &by_key(4_000u64.to_be_bytes().to_vec(), 10));
        assert_eq!(
            first, late,
            "a page by key costs the same wherever it starts"
        );
        let bigger = gas_of(&mut state, &by_key(vec![], 100));
        assert!(
            bigger > 5 * first && bigger < 20 * first,
            "{first} {bigger}"
        );
        // A small gas limit is enough for a page of a huge prefix.
        let mut ctx = Ctx::new(
            &mut state,
            BlockInfo::default(),
            ExecMode::Query,
            GasMeter::new(first + 1),
        );
        ids(&mut ctx, &by_key(vec![], 10)).unwrap();
    }
}
