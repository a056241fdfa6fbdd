//! A deadline queue: items keyed by the time they fall due, processed a bounded number per block.
//!
//! Keys are `[tag][time: 8 bytes][item]`, with the time as a big-endian `i64` whose sign bit is
//! flipped so that byte order is time order. [`DeadlineQueue::due`] reads at most a budget of
//! items whose time has come; whatever is left stays queued and is taken first in the next
//! block, so the queue itself is the cursor.

use crate::context::Ctx;
use crate::error::Error;

#[derive(Clone, Copy, Debug)]
pub struct DeadlineQueue {
    pub store: &'static str,
    pub tag: u8,
}

/// A due item: its time and the bytes it was queued with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub time: i64,
    pub item: Vec<u8>,
}

fn time_bytes(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

fn time_of(bytes: &[u8]) -> i64 {
    let raw: [u8; 8] = bytes.try_into().expect("8 bytes");
    (u64::from_be_bytes(raw) ^ (1 << 63)) as i64
}

impl DeadlineQueue {
    pub const fn new(store: &'static str, tag: u8) -> DeadlineQueue {
        DeadlineQueue { store, tag }
    }

    fn key(&self, time: i64, item: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(9 + item.len());
        k.push(self.tag);
        k.extend_from_slice(&time_bytes(time));
        k.extend_from_slice(item);
        k
    }

    pub fn push(&self, ctx: &mut Ctx, time: i64, item: &[u8]) -> Result<(), Error> {
        ctx.put(self.store, self.key(time, item), Vec::new())
    }

    pub fn remove(&self, ctx: &mut Ctx, time: i64, item: &[u8]) -> Result<(), Error> {
        ctx.delete(self.store, self.key(time, item))
    }

    /// Takes out (deletes) and returns up to `budget` items due at or before `now`, oldest first.
    pub fn take_due(&self, ctx: &mut Ctx, now: i64, budget: usize) -> Result<Vec<Due>, Error> {
        let entries = ctx.range(self.store, &[self.tag], None, budget)?;
        let limit = time_bytes(now);
        let mut out = Vec::new();
        for (key, _) in entries {
            // A key too short to name a time names no item: drop it rather than stall.
            if key.len() < 9 {
                ctx.delete(self.store, key)?;
                continue;
            }
            if key[1..9] > limit[..] {
                break;
            }
            out.push(Due {
                time: time_of(&key[1..9]),
                item: key[9..].to_vec(),
            });
            ctx.delete(self.store, key)?;
        }
        Ok(out)
    }

    /// Whether any item is due at or before `now`.
    pub fn any_due(&self, ctx: &mut Ctx, now: i64) -> Result<bool, Error> {
        let first = ctx.range(self.store, &[self.tag], None, 1)?;
        Ok(first
            .first()
            .is_some_and(|(k, _)| k.len() >= 9 && k[1..9] <= time_bytes(now)[..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Overlay;

    use crate::testing::EmptyState as Empty;

    #[test]
    fn takes_due_items_in_time_order_within_budget() {
        let mut state = Overlay::new(&Empty);
        let mut ctx = crate::testing::block(&mut state, 0, 0);
        let q = DeadlineQueue::new("s", 7);
        for (t, id) in [(30i64, 3u8), (-5, 9), (10, 1), (10, 2), (100, 4)] {
            q.push(&mut ctx, t, &[id]).unwrap();
        }
        let first = q.take_due(&mut ctx, 30, 2).unwrap();
        assert_eq!(
            first,
            vec![
                Due {
                    time: -5,
                    item: vec![9]
                },
                Due {
                    time: 10,
                    item: vec![1]
                }
            ]
        );
        let rest = q.take_due(&mut ctx, 30, 10).unwrap();
        assert_eq!(
            rest.iter().map(|d| d.item[0]).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert!(!q.any_due(&mut ctx, 99).unwrap());
        assert!(q.any_due(&mut ctx, 100).unwrap());
    }
}
