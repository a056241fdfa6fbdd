//! Automatic payouts of parametric cover, spread over blocks.
//!
//! When a block's oracle state sets off a product's trigger (an incident of its protocol
//! confirmed, a depeg price below its threshold), a job is recorded for that product and
//! trigger. Each block then works through at most [`BUDGET`] policies across all jobs, oldest job
//! first, walking the policy module's by-product index from the job's cursor (the last policy id
//! it processed), so no block does work in proportion to the policies ever sold. Each policy is
//! paid on its own branch ([`Ctx::isolate`]): a failure is recorded for that policy and the job
//! moves on. A policy is never paid twice: paying it marks it claimed, and the cursor only moves
//! forward.

use crate::state::{self, JOB_BY_TRIGGER, NEXT_JOB_ID, PAYOUT_FAILED, PAYOUT_JOBS, STORE};
use surety_framework::{Ctx, Error, Event};

/// Policies looked at per block, across all jobs. bench-scale measures it: a paid policy costs
/// about 370 µs of FinalizeBlock in a book of 100 000 policies and 625 µs in a book of a million
/// (2 000 a block took up to 1.8 s there), so this many keep a payout block near the 0.9 s the
/// block gas limit allows an ordinary one. A million policies are paid in about 1 000 blocks.
pub const BUDGET: usize = 1_000;

/// A product's trigger, paid out over one or more blocks (its proto is in `claims.proto`, so the
/// `PayoutJobs` query can return it).
pub use surety_proto::surety::claims::v1::PayoutJob;

/// Why a policy's automatic payout failed; its holder may still file a claim.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PayoutFailure {
    #[prost(uint64, tag = "1")]
    pub job_id: u64,
    #[prost(string, tag = "2")]
    pub reason: String,
}

/// What became of one policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    /// Not covered by this trigger (expired, already paid, trigger not met for its terms).
    Skipped,
}

fn job_key(id: u64) -> Vec<u8> {
    [&[PAYOUT_JOBS][..], &id.to_be_bytes()].concat()
}

fn trigger_key(product: u64, incident: &str) -> Vec<u8> {
    [
        &[JOB_BY_TRIGGER][..],
        &product.to_be_bytes(),
        incident.as_bytes(),
    ]
    .concat()
}

pub fn failure_key(policy: u64) -> Vec<u8> {
    [&[PAYOUT_FAILED][..], &policy.to_be_bytes()].concat()
}

/// Records a job for `product`'s trigger unless one is still running; returns whether it did.
pub fn start(ctx: &mut Ctx, product_id: u64, incident: &str) -> Result<bool, Error> {
    let key = trigger_key(product_id, incident);
    if ctx.get(STORE, &key)?.is_some() {
        return Ok(false);
    }
    let id = ctx.next_id(STORE, NEXT_JOB_ID)?;
    let job = PayoutJob {
        id,
        product_id,
        incident: incident.to_string(),
        time: ctx.block.time_unix_secs,
        cursor: 0,
    };
    ctx.put_msg(STORE, job_key(id), &job)?;
    ctx.put(STORE, key, id.to_be_bytes().to_vec())?;
    ctx.emit(
        Event::new("payout_job_started")
            .attr("job_id", id)
            .attr("product_id", product_id)
            .attr("incident", incident),
    );
    Ok(true)
}

/// At most `limit` ids of `product`'s policies after `after`, ascending.
fn policy_ids(ctx: &mut Ctx, product: u64, after: u64, limit: usize) -> Result<Vec<u64>, Error> {
    let Some(next) = after.checked_add(1) else {
        return Ok(Vec::new());
    };
    let prefix = surety_policy::state::product_policies_prefix(product);
    let start = surety_policy::state::product_policy_key(product, next);
    ctx.range(surety_policy::STORE, &prefix, Some(&start), limit)?
        .into_iter()
        .map(|(k, _)| {
            k.get(prefix.len()..)
                .and_then(|id| <[u8; 8]>::try_from(id).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| surety_framework::error::fatal::invariant("corrupt policy index"))
        })
        .collect()
}

/// Works through the jobs, paying at most `budget` policies with `pay`, each on its own branch.
pub fn run(
    ctx: &mut Ctx,
    budget: usize,
    pay: impl Fn(&mut Ctx, &PayoutJob, u64) -> Result<Outcome, Error>,
) -> Result<(), Error> {
    let mut left = budget;
    for (key, value) in ctx.range(STORE, &[PAYOUT_JOBS], None, budget)? {
        if left == 0 {
            break;
        }
        let mut job: PayoutJob = state::decode(&value)?;
        let ids = policy_ids(ctx, job.product_id, job.cursor, left)?;
        let finished = ids.len() < left;
        // Every job read costs one unit, so that empty jobs cannot make a block loop.
        left = left.saturating_sub(ids.len().max(1));
        for policy in ids {
            job.cursor = policy;
            let item = format!("payout job {} policy {policy}", job.id);
            match ctx.isolate(item, |c| pay(c, &job, policy))? {
                Ok(Outcome::Paid) => {
                    ctx.delete(STORE, failure_key(policy))?;
                }
                Ok(Outcome::Skipped) => {}
                Err(e) => {
                    let failure = PayoutFailure {
                        job_id: job.id,
                        reason: e.to_string(),
                    };
                    ctx.put_msg(STORE, failure_key(policy), &failure)?;
                }
            }
        }
        if finished {
            ctx.delete(STORE, key)?;
            ctx.delete(STORE, trigger_key(job.product_id, &job.incident))?;
            ctx.emit(
                Event::new("payout_job_done")
                    .attr("job_id", job.id)
                    .attr("product_id", job.product_id),
            );
        } else {
            ctx.put_msg(STORE, key, &job)?;
        }
    }
    Ok(())
}

/// The running jobs (for tests and export), at most `limit`.
pub fn jobs(ctx: &mut Ctx, limit: usize) -> Result<Vec<PayoutJob>, Error> {
    ctx.range(STORE, &[PAYOUT_JOBS], None, limit)?
        .into_iter()
        .map(|(_, v)| state::decode(&v))
        .collect()
}

/// Why `policy`'s automatic payout failed, if it did.
pub fn failure(ctx: &mut Ctx, policy: u64) -> Result<Option<PayoutFailure>, Error> {
    ctx.get_msg(STORE, &failure_key(policy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block, Empty};
    use std::cell::RefCell;
    use surety_framework::state::Overlay;
    use surety_framework::{sdk, Ctx};

    /// The budget these tests spread their policies over (the chain's own is [`BUDGET`]).
    const PER_BLOCK: usize = 200;

    fn index(ctx: &mut Ctx, product: u64, ids: impl IntoIterator<Item = u64>) {
        for id in ids {
            ctx.put(
                surety_policy::STORE,
                surety_policy::state::product_policy_key(product, id),
                Vec::new(),
            )
            .unwrap();
        }
    }

    fn paid_key(id: u64) -> Vec<u8> {
        [b"paid".as_slice(), &id.to_be_bytes()].concat()
    }

    #[test]
    fn payouts_spread_over_blocks_within_budget_and_a_poisoned_one_fails_alone() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let poisoned = 13u64;
        {
            let mut ctx = block(&mut state, 1, 1_000);
            index(&mut ctx, 1, 1..=450);
            index(&mut ctx, 2, 451..=460);
            assert!(start(&mut ctx, 1, "7").unwrap());
            assert!(
                !start(&mut ctx, 1, "7").unwrap(),
                "one running job per trigger"
            );
        }
        let calls = RefCell::new(Vec::new());
        let pay = |c: &mut Ctx, job: &PayoutJob, id: u64| -> Result<Outcome, Error> {
            calls.borrow_mut().push(id);
            assert_eq!(job.product_id, 1);
            assert!(
                c.get("test", &paid_key(id)).unwrap().is_none(),
                "policy {id} paid twice"
            );
            c.put("test", paid_key(id), vec![1])?;
            if id == poisoned {
                return Err(sdk::insufficient_funds("pool is empty"));
            }
            Ok(Outcome::Paid)
        };
        let mut blocks = 0;
        loop {
            let mut ctx = block(&mut state, 2 + blocks, 1_000 + blocks as i64 * 5);
            if jobs(&mut ctx, 10).unwrap().is_empty() {
                break;
            }
            calls.borrow_mut().clear();
            run(&mut ctx, PER_BLOCK, pay).unwrap();
            assert!(calls.borrow().len() <= PER_BLOCK);
            let failures = ctx
                .events()
                .iter()
                .filter(|e| e.kind == "item_failed")
                .count();
            assert_eq!(failures, usize::from(calls.borrow().contains(&poisoned)));
            blocks += 1;
        }
        assert_eq!(blocks, 3, "450 policies at {PER_BLOCK} a block");
        let mut ctx = block(&mut state, 10, 2_000);
        for id in 1..=450 {
            let paid = ctx.get("test", &paid_key(id)).unwrap().is_some();
            assert_eq!(paid, id != poisoned, "policy {id}");
        }
        for id in 451..=460 {
            assert!(
                ctx.get("test", &paid_key(id)).unwrap().is_none(),
                "other product"
            );
        }
        let failure = failure(&mut ctx, poisoned)
            .unwrap()
            .expect("failure recorded");
        assert!(failure.reason.contains("pool is empty"));
        assert_eq!(failure.job_id, 1);
        // The trigger may fire again now that its job is done.
        assert!(start(&mut ctx, 1, "7").unwrap());
    }

    #[test]
    fn jobs_share_the_budget_oldest_first() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let mut ctx = block(&mut state, 1, 1_000);
        index(&mut ctx, 1, 1..=150);
        index(&mut ctx, 2, 151..=300);
        start(&mut ctx, 1, "1").unwrap();
        start(&mut ctx, 2, "1").unwrap();
        let calls = RefCell::new(Vec::new());
        run(&mut ctx, PER_BLOCK, |_, job, id| {
            calls.borrow_mut().push((job.product_id, id));
            Ok(Outcome::Skipped)
        })
        .unwrap();
        let calls = calls.into_inner();
        assert_eq!(calls.len(), PER_BLOCK);
        assert!(calls[..150].iter().all(|(p, _)| *p == 1));
        assert_eq!(calls[150], (2, 151));
        let left = jobs(&mut ctx, 10).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].product_id, left[0].cursor), (2, 200));
        // The PayoutJobs query shows the one still running.
        use prost::Message as _;
        let request = surety_proto::surety::claims::v1::QueryPayoutJobsRequest::default();
        let answer = crate::query::handle(
            &mut ctx,
            crate::query::PAYOUT_JOBS,
            &request.encode_to_vec(),
        )
        .unwrap();
        let answer =
            surety_proto::surety::claims::v1::QueryPayoutJobsResponse::decode(answer.as_slice())
                .unwrap();
        assert_eq!(answer.jobs, left);
    }
}
