//! EndBlock: drops proposals whose deposit period ended below the minimum, and tallies (and
//! executes) proposals whose voting period ended.
//!
//! Each proposal runs on its own branch (`Ctx::isolate`): one that fails is recorded on the
//! proposal as failed and the block goes on. Work per block is bounded: at most a budget of
//! proposals per queue, and once a queue has read a budget of votes and deposits, its next
//! proposals wait for the next block (the first always runs, so a queue never stalls).

use crate::{after, gov_authority, secs, Gov, ACTIVE, INACTIVE, PROPOSALS, STORE};
use surety_framework::queue::DeadlineQueue;
use surety_framework::{sdk, Ctx, Error, Event};
use surety_proto::cosmos::gov::v1::{Params, Proposal, ProposalStatus};

/// Proposals dropped at the end of their deposit period, per block at most.
pub const DROPS_PER_BLOCK: usize = 100;
/// Proposals tallied at the end of their voting period, per block at most.
pub const CLOSES_PER_BLOCK: usize = 20;
/// Votes and deposits a queue reads per block before its next proposal waits a block.
pub const ENTRIES_PER_BLOCK: u64 = 20_000;

fn status_name(status: i32) -> &'static str {
    ProposalStatus::try_from(status).map_or("?", |s| s.as_str_name())
}

fn join(reason: &mut String, more: &str) {
    if more.is_empty() {
        return;
    }
    if !reason.is_empty() {
        reason.push_str("; ");
    }
    reason.push_str(more);
}

impl Gov {
    /// Ends the deposit and voting periods that are over, within the per-block budgets.
    pub fn end_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let params = self.params(ctx)?;
        let deposit = ProposalStatus::DepositPeriod;
        self.run_queue(ctx, INACTIVE, deposit, DROPS_PER_BLOCK, |c, id| {
            self.drop_inactive(c, id, &params)
        })?;
        let voting = ProposalStatus::VotingPeriod;
        self.run_queue(ctx, ACTIVE, voting, CLOSES_PER_BLOCK, |c, id| {
            self.close_vote(c, id, &params)
        })
    }

    /// Takes due proposals (all in status `expected`) one at a time and runs `item` on each in
    /// isolation.
    fn run_queue(
        &self,
        ctx: &mut Ctx,
        queue: DeadlineQueue,
        expected: ProposalStatus,
        budget: usize,
        item: impl Fn(&mut Ctx, u64) -> Result<u64, Error>,
    ) -> Result<(), Error> {
        let now = ctx.block.time_unix_secs;
        let mut entries: u64 = 0;
        // A proposal requeued in this block (an expedited one converted to a regular period
        // that has already run out) waits for the next block, as it would in Cosmos.
        let mut seen: Vec<u64> = Vec::new();
        for _ in 0..budget {
            if entries >= ENTRIES_PER_BLOCK {
                break;
            }
            let Some(due) = queue.take_due(ctx, now, 1)?.pop() else {
                break;
            };
            let Ok(raw) = <[u8; 8]>::try_from(due.item.as_slice()) else {
                // Only gov writes its queues: a malformed entry is dropped with an event.
                ctx.emit(
                    Event::new("item_failed")
                        .attr("item", format!("gov queue entry {:?}", due.item))
                        .attr("error", "not a proposal id"),
                );
                continue;
            };
            let id = u64::from_be_bytes(raw);
            if seen.contains(&id) {
                queue.push(ctx, due.time, &due.item)?;
                break;
            }
            seen.push(id);
            match ctx.isolate(format!("gov proposal {id}"), |c| item(c, id))? {
                Ok(read) => entries = entries.saturating_add(read),
                Err(e) => {
                    entries = entries.saturating_add(1);
                    self.fail(ctx, id, expected, &e)?;
                }
            }
        }
        Ok(())
    }

    /// A proposal whose processing failed becomes `Failed` with the reason; the deposits of one
    /// whose tally failed are refunded if they can be. Each step is isolated: nothing here halts
    /// the block, and deposits that cannot be moved stay recorded on the proposal.
    fn fail(
        &self,
        ctx: &mut Ctx,
        id: u64,
        expected: ProposalStatus,
        e: &Error,
    ) -> Result<(), Error> {
        let marked = ctx.isolate(format!("gov proposal {id} failure record"), |c| {
            let mut p = self.proposal(c, id)?;
            expect(&p, expected)?;
            p.status = ProposalStatus::Failed as i32;
            join(&mut p.failed_reason, &format!("not processed: {}", e.log));
            self.save(c, &p)?;
            Ok(p)
        })?;
        let Ok(mut p) = marked else {
            return Ok(());
        };
        // A failed drop failed in its deposits already; a failed close never reached them.
        if expected == ProposalStatus::VotingPeriod {
            let refund = ctx.isolate(format!("gov proposal {id} deposits"), |c| {
                self.settle_deposits(c, id, false)
            })?;
            if let Err(e) = refund {
                join(
                    &mut p.failed_reason,
                    &format!("deposits not refunded: {}", e.log),
                );
                self.save(ctx, &p)?;
            }
        }
        closed(ctx, &p);
        Ok(())
    }

    /// Drops a proposal whose deposit period ended below the minimum; returns the deposits read.
    fn drop_inactive(&self, ctx: &mut Ctx, id: u64, params: &Params) -> Result<u64, Error> {
        let p = self.proposal(ctx, id)?;
        expect(&p, ProposalStatus::DepositPeriod)?;
        let read = self.settle_deposits(ctx, id, params.burn_proposal_deposit_prevote)?;
        ctx.delete(STORE, crate::key(PROPOSALS, &[&id.to_be_bytes()]))?;
        ctx.emit(
            Event::new("proposal_dropped")
                .attr("proposal_id", id)
                .attr("reason", "deposit period ended below the minimum"),
        );
        Ok(read)
    }

    /// Tallies a proposal whose voting period ended and carries out the verdict; returns the
    /// votes and deposits read.
    fn close_vote(&self, ctx: &mut Ctx, id: u64, params: &Params) -> Result<u64, Error> {
        let mut p = self.proposal(ctx, id)?;
        expect(&p, ProposalStatus::VotingPeriod)?;
        let (tally, votes) = self.count_votes(ctx, id)?;
        let verdict = tally.verdict(params, p.expedited)?;
        if p.expedited && !verdict.passes && !verdict.burn {
            // A failed expedited proposal gets the regular voting period and threshold; votes stay.
            p.expedited = false;
            let start = p.voting_start_time.as_ref().map_or(0, |t| t.seconds);
            let end = after(start, secs(&params.voting_period))?;
            p.voting_end_time = crate::ts(end);
            ACTIVE.push(ctx, end, &id.to_be_bytes())?;
            self.save(ctx, &p)?;
            ctx.emit(Event::new("proposal_expedited_converted").attr("proposal_id", id));
            return Ok(votes);
        }
        crate::for_each_entry(
            ctx,
            &crate::key(crate::VOTES, &[&id.to_be_bytes()]),
            |c, k, _| c.delete(STORE, k),
        )?;
        p.final_tally_result = Some(tally.result());
        // Deposits on their own branch: a refund or burn that fails is recorded on the
        // proposal and does not undo its verdict.
        let settled = ctx.isolate(format!("gov proposal {id} deposits"), |c| {
            self.settle_deposits(c, id, verdict.burn)
        })?;
        let deposits = match settled {
            Ok(n) => n,
            Err(e) => {
                join(
                    &mut p.failed_reason,
                    &format!("deposits not settled: {}", e.log),
                );
                1
            }
        };
        if verdict.passes {
            let router = ctx
                .router
                .ok_or_else(|| sdk::internal("gov needs the message router"))?;
            let messages = p.messages.clone();
            let executed = ctx.isolate(format!("gov proposal {id} messages"), |c| {
                for msg in &messages {
                    router.execute(c, msg, &gov_authority())?;
                }
                Ok(())
            })?;
            match executed {
                Ok(()) => p.status = ProposalStatus::Passed as i32,
                Err(e) => {
                    p.status = ProposalStatus::Failed as i32;
                    let mut reason = e.log;
                    join(&mut reason, &p.failed_reason);
                    p.failed_reason = reason;
                }
            }
        } else {
            p.status = ProposalStatus::Rejected as i32;
            let mut reason = verdict.reason.to_string();
            join(&mut reason, &p.failed_reason);
            p.failed_reason = reason;
        }
        self.save(ctx, &p)?;
        closed(ctx, &p);
        Ok(votes.saturating_add(deposits))
    }
}

fn closed(ctx: &mut Ctx, p: &Proposal) {
    ctx.emit(
        Event::new("proposal_closed")
            .attr("proposal_id", p.id)
            .attr("status", status_name(p.status))
            .attr("reason", &p.failed_reason),
    );
}

fn expect(p: &Proposal, status: ProposalStatus) -> Result<(), Error> {
    if p.status != status as i32 {
        return Err(sdk::internal(format!(
            "proposal {} was queued as {} but is {}",
            p.id,
            status.as_str_name(),
            status_name(p.status)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{key, Tally, DEPOSITS, GOV_ACCOUNT};
    use surety_framework::state::{Entries, Overlay, StateRead};
    use surety_framework::{Address, Coins};
    use surety_proto::cosmos::gov::v1::Deposit;

    struct Empty;
    impl StateRead for Empty {
        fn get(&self, _: &'static str, _: &[u8]) -> Result<Option<Vec<u8>>, Error> {
            Ok(None)
        }
        fn prefix(&self, _: &'static str, _: &[u8]) -> Result<Entries, Error> {
            Ok(Vec::new())
        }
    }

    /// A proposal in its deposit period with one deposit record, queued to end at `end`.
    fn proposal_with_deposit(
        ctx: &mut Ctx,
        gov: &Gov,
        id: u64,
        end: i64,
        depositor: &str,
        amount: u128,
    ) {
        gov.save(
            ctx,
            &Proposal {
                id,
                status: ProposalStatus::DepositPeriod as i32,
                final_tally_result: Some(Tally::default().result()),
                deposit_end_time: crate::ts(end),
                total_deposit: Coins::of(amount, "usure").to_proto(),
                title: format!("p{id}"),
                ..Default::default()
            },
        )
        .unwrap();
        INACTIVE.push(ctx, end, &id.to_be_bytes()).unwrap();
        ctx.put_msg(
            STORE,
            key(DEPOSITS, &[&id.to_be_bytes(), &[id as u8; 20]]),
            &Deposit {
                proposal_id: id,
                depositor: depositor.into(),
                amount: Coins::of(amount, "usure").to_proto(),
            },
        )
        .unwrap();
    }

    #[test]
    fn a_proposal_whose_refund_fails_does_not_stop_the_others() {
        let mut state = Overlay::new(&Empty);
        let mut ctx = surety_framework::testing::block(&mut state, 1, 100);
        let gov = Gov::default();
        let alice = Address([1; 20]);
        // The gov account holds only the honest deposits (proposal 3's 70usure).
        gov.bank
            .mint(&mut ctx, GOV_ACCOUNT, &Coins::of(70, "usure"))
            .unwrap();
        // Proposal 1's record claims more than the account holds; proposal 2's names no address.
        proposal_with_deposit(&mut ctx, &gov, 1, 10, &Address([9; 20]).to_bech32(), 1_000);
        proposal_with_deposit(&mut ctx, &gov, 2, 20, "not-an-address", 5);
        proposal_with_deposit(&mut ctx, &gov, 3, 30, &alice.to_bech32(), 70);
        gov.end_block(&mut ctx).unwrap();

        assert_eq!(gov.bank.balance(&mut ctx, &alice, "usure").unwrap(), 70);
        assert!(
            matches!(gov.proposal(&mut ctx, 3), Err(e) if e.code == 2),
            "3 dropped"
        );
        for id in [1, 2] {
            let p = gov.proposal(&mut ctx, id).unwrap();
            assert_eq!(p.status, ProposalStatus::Failed as i32, "{id}");
            assert!(
                p.failed_reason.contains("not processed"),
                "{}",
                p.failed_reason
            );
            // The deposit record stays, so the coins it names are still accounted for.
            assert_eq!(gov.deposits(&mut ctx, id).unwrap().len(), 1);
        }
        let failures = ctx
            .events()
            .iter()
            .filter(|e| e.kind == "item_failed")
            .count();
        assert!(failures >= 2, "each failure is an event");
        assert!(!INACTIVE.any_due(&mut ctx, i64::MAX).unwrap());
    }

    #[test]
    fn a_failed_tally_or_refund_does_not_stop_the_other_closings() {
        let mut state = Overlay::new(&Empty);
        let mut ctx = surety_framework::testing::block(&mut state, 1, 100);
        let gov = Gov::default();
        let alice = Address([1; 20]);
        gov.bank
            .mint(&mut ctx, GOV_ACCOUNT, &Coins::of(10, "usure"))
            .unwrap();
        // 1: a corrupt stored vote (weight 2) makes its tally fail; its deposit is refunded.
        // 2: its deposit record claims more than the account holds, so its refund fails.
        // 3: an ordinary proposal (no bonded stake, so it misses quorum).
        proposal_with_deposit(&mut ctx, &gov, 1, 10, &alice.to_bech32(), 4);
        proposal_with_deposit(&mut ctx, &gov, 2, 10, &alice.to_bech32(), 1_000);
        proposal_with_deposit(&mut ctx, &gov, 3, 10, &alice.to_bech32(), 6);
        for id in 1..=3u64 {
            INACTIVE.remove(&mut ctx, 10, &id.to_be_bytes()).unwrap();
            let mut p = gov.proposal(&mut ctx, id).unwrap();
            p.status = ProposalStatus::VotingPeriod as i32;
            gov.save(&mut ctx, &p).unwrap();
            ACTIVE.push(&mut ctx, 50, &id.to_be_bytes()).unwrap();
        }
        ctx.put_msg(
            STORE,
            key(crate::VOTES, &[&1u64.to_be_bytes(), &alice.0]),
            &surety_proto::cosmos::gov::v1::Vote {
                proposal_id: 1,
                voter: alice.to_bech32(),
                options: vec![surety_proto::cosmos::gov::v1::WeightedVoteOption {
                    option: 1,
                    weight: "2".into(),
                }],
                metadata: String::new(),
            },
        )
        .unwrap();
        gov.end_block(&mut ctx).unwrap();

        let status = |ctx: &mut Ctx, id| gov.proposal(ctx, id).unwrap();
        let p1 = status(&mut ctx, 1);
        assert_eq!(p1.status, ProposalStatus::Failed as i32);
        assert!(
            p1.failed_reason.contains("invalid vote option"),
            "{}",
            p1.failed_reason
        );
        let p2 = status(&mut ctx, 2);
        assert_eq!(p2.status, ProposalStatus::Rejected as i32);
        assert!(
            p2.failed_reason.contains("deposits not settled"),
            "{}",
            p2.failed_reason
        );
        assert_eq!(gov.deposits(&mut ctx, 2).unwrap().len(), 1);
        assert_eq!(status(&mut ctx, 3).status, ProposalStatus::Rejected as i32);
        // 1 and 3 refunded.
        assert_eq!(gov.bank.balance(&mut ctx, &alice, "usure").unwrap(), 10);
        assert!(!ACTIVE.any_due(&mut ctx, i64::MAX).unwrap());
    }

    #[test]
    fn drops_are_bounded_per_block_and_resume_next_block() {
        let mut state = Overlay::new(&Empty);
        let mut ctx = surety_framework::testing::block(&mut state, 1, 1_000);
        let gov = Gov::default();
        let total = DROPS_PER_BLOCK + 5;
        gov.bank
            .mint(&mut ctx, GOV_ACCOUNT, &Coins::of(total as u128, "usure"))
            .unwrap();
        for id in 1..=total as u64 {
            proposal_with_deposit(
                &mut ctx,
                &gov,
                id,
                id as i64,
                &Address([2; 20]).to_bech32(),
                1,
            );
        }
        gov.end_block(&mut ctx).unwrap();
        assert_eq!(gov.proposals(&mut ctx).unwrap().len(), 5);
        gov.end_block(&mut ctx).unwrap();
        assert!(gov.proposals(&mut ctx).unwrap().is_empty());
        assert_eq!(
            gov.bank
                .balance(&mut ctx, &Address([2; 20]), "usure")
                .unwrap(),
            total as u128
        );
    }

    #[test]
    fn a_stale_queue_entry_does_not_touch_the_proposal() {
        let mut state = Overlay::new(&Empty);
        let mut ctx = surety_framework::testing::block(&mut state, 1, 100);
        let gov = Gov::default();
        gov.bank
            .mint(&mut ctx, GOV_ACCOUNT, &Coins::of(1, "usure"))
            .unwrap();
        proposal_with_deposit(&mut ctx, &gov, 1, 10, &Address([2; 20]).to_bech32(), 1);
        let mut p = gov.proposal(&mut ctx, 1).unwrap();
        p.status = ProposalStatus::VotingPeriod as i32;
        gov.save(&mut ctx, &p).unwrap();
        INACTIVE.push(&mut ctx, 5, &[1, 2, 3]).unwrap();
        gov.end_block(&mut ctx).unwrap();
        assert_eq!(
            gov.proposal(&mut ctx, 1).unwrap().status,
            ProposalStatus::VotingPeriod as i32
        );
    }
}
