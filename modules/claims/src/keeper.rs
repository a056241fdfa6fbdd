//! The claims keeper: filing, assessment, settlement and appeals.

use crate::errors;
use crate::payouts::{self, Outcome, PayoutJob};
use crate::state::{self, STORE};
use crate::triggers;
use std::collections::BTreeMap;
use std::sync::Mutex;
use surety_framework::math::{add, mul_div, parse_amount, sub, Round, Wide};
use surety_framework::oracle::{IncidentView, OracleView, PricePoint};
use surety_framework::{sdk, Address, Coin, Coins, Ctx, Error, Event};
use surety_pool::LossItem;
use surety_proto::surety::claims::v1::{Assessor, Claim, ClaimStatus, RewardRound, Vote};
use surety_proto::surety::policy::v1::{ClaimMode, Policy};

/// The module account holding claim deposits, fees, appeal bonds and assessors' stake.
pub const CLAIMS_ACCOUNT: &str = surety_framework::accounts::CLAIMS;
/// Where forfeited deposits and bonds go, for governance to spend.
pub const TREASURY: &str = surety_framework::accounts::TREASURY;

#[derive(Clone)]
pub struct Keeper<O> {
    pub policy: surety_policy::Keeper,
    pub oracle: O,
}

fn coin(c: &Option<surety_proto::cosmos::base::v1beta1::Coin>) -> Result<Coins, Error> {
    match c {
        Some(c) => Ok(Coins::of(Coin::from_proto(c)?.amount, &c.denom)),
        None => Ok(Coins::new()),
    }
}

fn amount(s: &str) -> Result<u128, Error> {
    parse_amount(s, "amount")
}

impl<O: OracleView> Keeper<O> {
    fn bank(&self) -> &surety_bank::Bank {
        &self.policy.pool.bank
    }

    fn pay_from_account(&self, ctx: &mut Ctx, to: &Address, coins: &Coins) -> Result<(), Error> {
        self.bank().send_from_module(ctx, CLAIMS_ACCOUNT, to, coins)
    }

    fn forfeit(&self, ctx: &mut Ctx, coins: &Coins) -> Result<(), Error> {
        if coins.is_empty() {
            return Ok(());
        }
        surety_auth::Auth.ensure_module_account(ctx, TREASURY)?;
        self.bank().send(
            ctx,
            &Address::module(CLAIMS_ACCOUNT),
            &Address::module(TREASURY),
            coins,
        )
    }

    /// Files a claim. Parametric claims are decided and paid here, in the same block, or the
    /// transaction fails with the reason; assessed claims take the deposit and fee and open for
    /// votes.
    pub fn file(
        &self,
        ctx: &mut Ctx,
        claimant: &Address,
        policy_id: u64,
        incident: &str,
        loss: u128,
        evidence: &str,
    ) -> Result<Claim, Error> {
        let now = ctx.block.time_unix_secs;
        let claim = Filing {
            claimant,
            policy_id,
            incident,
            loss,
            evidence,
            as_of: now,
        };
        self.file_with(&self.oracle, ctx, claim)
    }

    /// Files a claim judged as of `filing.as_of` (now, or the time an automatic payout's
    /// trigger fired), reading the oracle through `oracle`.
    fn file_with(
        &self,
        oracle: &dyn OracleView,
        ctx: &mut Ctx,
        filing: Filing,
    ) -> Result<Claim, Error> {
        let Filing {
            claimant,
            policy_id,
            incident,
            loss,
            evidence,
            as_of,
        } = filing;
        let policy = self.policy.policy(ctx, policy_id)?;
        if policy.owner != claimant.to_string() {
            return Err(errors::not_policy_owner(format!(
                "policy {policy_id} belongs to {}",
                policy.owner
            )));
        }
        if policy.claimed {
            return Err(errors::not_claimable(format!(
                "policy {policy_id}'s cover of {} is used up by paid claims",
                policy.cover
            )));
        }
        if ctx.get(STORE, &state::open_key(policy_id))?.is_some() {
            return Err(errors::claim_open(format!("policy {policy_id}")));
        }
        let terms = policy.terms.clone().unwrap_or_default();
        let now = ctx.block.time_unix_secs;
        let claimable_until = policy.end.saturating_add(terms.grace_period_secs.max(0));
        if as_of < policy.start || as_of >= claimable_until {
            return Err(errors::not_claimable(format!(
                "policy {policy_id} covers {}..{} with {}s grace; the claim is judged at {as_of}",
                policy.start, policy.end, terms.grace_period_secs
            )));
        }
        let counts_from = policy
            .start
            .saturating_add(terms.waiting_period_secs.max(0));
        if terms.claim_mode != ClaimMode::Parametric as i32 && as_of < counts_from {
            return Err(errors::not_claimable(format!(
                "policy {policy_id}'s cover counts from {counts_from}, after its {}s waiting \
                 period; the claim is judged at {as_of}",
                terms.waiting_period_secs
            )));
        }
        // Parametric claims are checked under the incident their trigger names, below.
        if terms.claim_mode != ClaimMode::Parametric as i32 && !incident.is_empty() {
            state::refuse_paid_incident(ctx, policy_id, incident)?;
        }
        let id = ctx.next_id(STORE, state::NEXT_CLAIM_ID)?;
        state::index_new_claim(ctx, policy_id, id)?;
        let mut claim = Claim {
            id,
            policy_id,
            claimant: claimant.to_string(),
            incident: incident.to_string(),
            loss: loss.to_string(),
            evidence: evidence.to_string(),
            filed_at: now,
            ..Default::default()
        };
        if terms.claim_mode == ClaimMode::Parametric as i32 {
            let hit = triggers::evaluate(oracle, ctx, &policy, &terms, incident, as_of)?;
            if hit.once_per_incident {
                state::refuse_paid_incident(ctx, policy_id, &hit.incident)?;
            }
            claim.loss = hit.loss.to_string();
            claim.incident = hit.incident.clone();
            self.pay(ctx, &mut claim, &policy, hit.loss, &hit.incident)?;
            ctx.emit(claim_event("claim_filed", &claim));
            return Ok(claim);
        }
        if loss == 0 {
            return Err(errors::invalid_claim(
                "an assessed claim must state its loss",
            ));
        }
        let params = state::params(ctx)?;
        let locked = coin(&params.claim_deposit)?.checked_add(&coin(&params.claim_fee)?)?;
        self.bank()
            .send_to_module(ctx, claimant, CLAIMS_ACCOUNT, &locked)?;
        claim.deposit = params.claim_deposit;
        claim.fee = params.claim_fee;
        claim.status = ClaimStatus::Voting as i32;
        claim.voting_ends = later(now, params.voting_period_secs)?;
        claim.approve_weight = "0".into();
        claim.reject_weight = "0".into();
        if claim.incident.is_empty() {
            claim.incident = format!("claim:{id}");
        }
        state::save_claim(ctx, &claim)?;
        ctx.put(STORE, state::open_key(policy_id), id.to_be_bytes().to_vec())?;
        state::push_deadline(ctx, claim.voting_ends, id)?;
        ctx.emit(claim_event("claim_filed", &claim));
        Ok(claim)
    }

    /// Pays a decided claim: min(loss, remaining cover) × (1 − deductible) under the policy's
    /// frozen terms, from the pools that wrote it in proportion to their shares (and their
    /// reinsurers). The cover it uses is gone; the rest stays in force.
    fn pay(
        &self,
        ctx: &mut Ctx,
        claim: &mut Claim,
        policy: &Policy,
        loss: u128,
        incident: &str,
    ) -> Result<(), Error> {
        let terms = policy.terms.clone().unwrap_or_default();
        let cover = amount(&policy.cover)?;
        let remaining = surety_policy::remaining_cover(policy)?;
        let used = loss.min(remaining);
        let due = triggers::payout(used, remaining, terms.deductible_bps)?;
        let recipient = Address::from_bech32(&claim.claimant)?;
        let mut items = Vec::new();
        let mut assigned = 0u128;
        let last = policy.allocations.len().saturating_sub(1);
        for (i, a) in policy.allocations.iter().enumerate() {
            // The last pool takes the rounding remainder, so the parts add up to what is due.
            let part = if i == last {
                sub(due, assigned, "unassigned payout")?
            } else {
                mul_div(due, amount(&a.cover)?, cover, Round::Down)?
            };
            assigned = add(assigned, part)?;
            if part > 0 {
                items.push(LossItem {
                    pool_id: a.pool_id,
                    amount: part,
                    recipient,
                });
            }
        }
        let paid = self
            .policy
            .pool
            .settle(ctx, incident, &items)?
            .into_iter()
            .try_fold(0u128, add)?;
        claim.status = ClaimStatus::Paid as i32;
        claim.payout = paid.to_string();
        state::save_claim(ctx, claim)?;
        ctx.delete(STORE, state::open_key(policy.id))?;
        state::record_paid_incident(ctx, policy.id, incident, claim.id)?;
        self.policy.use_cover(ctx, policy.id, used)?;
        // A remote owner's payout goes home over IBC.
        if let Some(hooks) = ctx.router.and_then(|r| r.payout_hooks()) {
            if paid > 0 {
                hooks.after_payout(ctx, &recipient, &Coin::new(paid, policy.denom.clone()))?;
            }
        }
        ctx.emit(
            claim_event("claim_paid", claim)
                .attr("payout", format!("{paid}{}", policy.denom))
                .attr("due", format!("{due}{}", policy.denom)),
        );
        Ok(())
    }

    pub fn stake(&self, ctx: &mut Ctx, who: &Address, amount: u128) -> Result<(), Error> {
        let denom = state::params(ctx)?.assessor_denom;
        if amount == 0 {
            return Err(sdk::invalid_coins("stake must be positive"));
        }
        self.bank()
            .send_to_module(ctx, who, CLAIMS_ACCOUNT, &Coins::of(amount, &denom))?;
        let mut a = state::assessor(ctx, who)?.unwrap_or(Assessor {
            address: who.to_string(),
            stake: "0".into(),
            locked_until: 0,
        });
        a.stake = add(self::amount(&a.stake)?, amount)?.to_string();
        ctx.put_msg(STORE, state::assessor_key(who), &a)?;
        let total = state_total(ctx)?;
        set_total(ctx, add(total, amount)?)?;
        ctx.emit(
            Event::new("assessor_staked")
                .attr("assessor", who)
                .attr("amount", amount),
        );
        Ok(())
    }

    pub fn unstake(&self, ctx: &mut Ctx, who: &Address, amount: u128) -> Result<(), Error> {
        let denom = state::params(ctx)?.assessor_denom;
        let mut a =
            state::assessor(ctx, who)?.ok_or_else(|| errors::not_assessor(who.to_string()))?;
        let staked = self::amount(&a.stake)?;
        if amount == 0 || amount > staked {
            return Err(sdk::insufficient_funds(format!(
                "{amount}{denom} asked, {staked}{denom} staked"
            )));
        }
        if ctx.block.time_unix_secs < a.locked_until {
            return Err(errors::stake_locked(format!(
                "until {}: it backs votes on open claims",
                a.locked_until
            )));
        }
        if amount == staked {
            ctx.delete(STORE, state::assessor_key(who))?;
        } else {
            a.stake = sub(staked, amount, "assessor stake")?.to_string();
            ctx.put_msg(STORE, state::assessor_key(who), &a)?;
        }
        let total = state_total(ctx)?;
        set_total(ctx, sub(total, amount, "total assessor stake")?)?;
        self.pay_from_account(ctx, who, &Coins::of(amount, &denom))?;
        ctx.emit(
            Event::new("assessor_unstaked")
                .attr("assessor", who)
                .attr("amount", amount),
        );
        Ok(())
    }

    /// A stake-weighted vote; the stake stays locked until voting ends.
    pub fn vote(
        &self,
        ctx: &mut Ctx,
        who: &Address,
        claim_id: u64,
        approve: bool,
    ) -> Result<(), Error> {
        let mut claim = state::claim(ctx, claim_id)?;
        let now = ctx.block.time_unix_secs;
        if claim.status != ClaimStatus::Voting as i32 || now >= claim.voting_ends {
            return Err(errors::voting_closed(format!("claim {claim_id}")));
        }
        if claim.claimant == who.to_string() {
            return Err(errors::not_assessor(
                "a claimant cannot assess their own claim",
            ));
        }
        let mut a = state::assessor(ctx, who)?
            .ok_or_else(|| errors::not_assessor(format!("{who} has no assessor stake")))?;
        let key = state::vote_key(claim_id, who);
        if ctx.get(STORE, &key)?.is_some() {
            return Err(errors::already_voted(format!("{who} on claim {claim_id}")));
        }
        let weight = amount(&a.stake)?;
        ctx.put_msg(
            STORE,
            key,
            &Vote {
                claim_id,
                assessor: who.to_string(),
                approve,
                weight: weight.to_string(),
            },
        )?;
        let side = if approve {
            &mut claim.approve_weight
        } else {
            &mut claim.reject_weight
        };
        *side = add(amount(side)?, weight)?.to_string();
        state::save_claim(ctx, &claim)?;
        a.locked_until = a.locked_until.max(claim.voting_ends);
        ctx.put_msg(STORE, state::assessor_key(who), &a)?;
        ctx.emit(
            Event::new("claim_vote")
                .attr("claim_id", claim_id)
                .attr("assessor", who)
                .attr("approve", approve)
                .attr("weight", weight),
        );
        Ok(())
    }

    pub fn appeal(&self, ctx: &mut Ctx, who: &Address, claim_id: u64) -> Result<(), Error> {
        let mut claim = state::claim(ctx, claim_id)?;
        let now = ctx.block.time_unix_secs;
        if claim.claimant != who.to_string() {
            return Err(errors::not_appealable("only the claimant may appeal"));
        }
        if claim.status != ClaimStatus::Rejected as i32 || now >= claim.appeal_deadline {
            return Err(errors::not_appealable(format!(
                "claim {claim_id} is not a rejected claim inside its appeal window"
            )));
        }
        let params = state::params(ctx)?;
        self.bank()
            .send_to_module(ctx, who, CLAIMS_ACCOUNT, &coin(&params.appeal_bond)?)?;
        state::remove_deadline(ctx, claim.appeal_deadline, claim_id)?;
        claim.status = ClaimStatus::Appealed as i32;
        claim.appeal_bond = params.appeal_bond;
        claim.appeal_deadline = later(now, params.appeal_period_secs)?;
        state::push_deadline(ctx, claim.appeal_deadline, claim_id)?;
        state::save_claim(ctx, &claim)?;
        ctx.emit(claim_event("claim_appealed", &claim));
        Ok(())
    }

    /// Governance's decision on an appeal: approval pays the claim and returns deposit and
    /// bond; rejection forfeits both.
    pub fn resolve_appeal(&self, ctx: &mut Ctx, claim_id: u64, approve: bool) -> Result<(), Error> {
        let mut claim = state::claim(ctx, claim_id)?;
        if claim.status != ClaimStatus::Appealed as i32 {
            return Err(errors::not_appealed(format!("claim {claim_id}")));
        }
        state::remove_deadline(ctx, claim.appeal_deadline, claim_id)?;
        state::close_appeal(ctx, claim_id)?;
        let claimant = Address::from_bech32(&claim.claimant)?;
        let held = coin(&claim.deposit)?.checked_add(&coin(&claim.appeal_bond)?)?;
        if approve {
            self.pay_from_account(ctx, &claimant, &held)?;
            let policy = self.policy.policy(ctx, claim.policy_id)?;
            let loss = amount(&claim.loss)?;
            let incident = claim.incident.clone();
            self.pay(ctx, &mut claim, &policy, loss, &incident)?;
        } else {
            self.forfeit(ctx, &held)?;
            self.close_rejected(ctx, &mut claim)?;
        }
        ctx.emit(claim_event("claim_appeal_resolved", &claim).attr("approved", approve));
        Ok(())
    }

    fn close_rejected(&self, ctx: &mut Ctx, claim: &mut Claim) -> Result<(), Error> {
        claim.status = ClaimStatus::Rejected as i32;
        claim.appeal_deadline = 0;
        state::save_claim(ctx, claim)?;
        ctx.delete(STORE, state::open_key(claim.policy_id))
    }

    /// Starts automatic payouts of parametric cover whose trigger this block's oracle state set
    /// off, without anyone filing: a job per product covering an incident confirmed in this
    /// block, and per depeg product whose feed got a price below its threshold. (Impermanent-loss
    /// cover pays when its holder files, choosing the exit price.) The jobs pay over the next
    /// blocks, within a budget; see [`payouts`].
    pub fn start_payouts(&self, ctx: &mut Ctx) -> Result<(), Error> {
        use surety_proto::surety::policy::v1::CoverType;
        let height = ctx.block.height;
        let incidents = self.oracle.confirmed_at(ctx, height)?;
        let feeds = self.oracle.updated_at(ctx, height)?;
        let slashes = new_slashes(ctx)?;
        if incidents.is_empty() && feeds.is_empty() && slashes.is_empty() {
            return Ok(());
        }
        let now = ctx.block.time_unix_secs;
        // Products are few and created by governance; policies are what must not be scanned.
        for product in surety_policy::state::products(ctx)? {
            if product.claim_mode != ClaimMode::Parametric as i32 {
                continue;
            }
            match CoverType::try_from(product.cover_type).unwrap_or(CoverType::Unspecified) {
                CoverType::Liquidity => {}
                CoverType::Slashing => {
                    for seq in &slashes {
                        payouts::start(ctx, product.id, &seq.to_string())?;
                    }
                }
                CoverType::Depeg => {
                    let Some(t) = product.trigger.as_ref().filter(|t| feeds.contains(&t.feed))
                    else {
                        continue;
                    };
                    // Only a price below the threshold can pay anyone.
                    let below = match (
                        self.oracle.price_at(ctx, &t.feed, now)?,
                        t.threshold.parse::<surety_framework::Dec>(),
                    ) {
                        (Some(p), Ok(threshold)) => p.price < threshold,
                        _ => false,
                    };
                    if below {
                        payouts::start(ctx, product.id, "")?;
                    }
                }
                _ => {
                    for i in incidents.iter().filter(|i| i.protocol == product.protocol) {
                        payouts::start(ctx, product.id, &i.id.to_string())?;
                    }
                }
            }
        }
        Ok(())
    }

    /// One policy of a payout job: paid if its frozen trigger held at the job's time. Refusals
    /// that only say the policy is not covered by this trigger are skips, not failures.
    fn auto_pay_one(
        &self,
        oracle: &dyn OracleView,
        ctx: &mut Ctx,
        job: &PayoutJob,
        policy_id: u64,
    ) -> Result<Outcome, Error> {
        let policy = self.policy.policy(ctx, policy_id)?;
        // Terms are frozen at purchase: a policy sold before its product became parametric is
        // not paid automatically.
        let parametric = policy
            .terms
            .as_ref()
            .is_some_and(|t| t.claim_mode == ClaimMode::Parametric as i32);
        if !parametric || policy.claimed || policy.start > job.time || job.time >= policy.end {
            return Ok(Outcome::Skipped);
        }
        let owner = Address::from_bech32(&policy.owner)?;
        let filing = Filing {
            claimant: &owner,
            policy_id,
            incident: &job.incident,
            loss: 0,
            evidence: "automatic",
            as_of: job.time,
        };
        match ctx.branch(|c| self.file_with(oracle, c, filing)) {
            Ok(_) => Ok(Outcome::Paid),
            Err(e) if is_refusal(&e) => Ok(Outcome::Skipped),
            Err(e) => Err(e),
        }
    }

    /// The block's bounded work: new payout jobs, at most [`payouts::BUDGET`] policies of the
    /// running ones, and at most [`DEADLINE_BUDGET`] due claims (closing votes, ending appeal
    /// windows and appeals that governance did not decide), each on its own branch.
    pub fn end_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        self.start_payouts(ctx)?;
        // The policies of one job mostly share their terms: read each price path once.
        let oracle = Memo::new(&self.oracle);
        payouts::run(ctx, payouts::BUDGET, |c, job, policy| {
            self.auto_pay_one(&oracle, c, job, policy)
        })?;
        let now = ctx.block.time_unix_secs;
        for due in state::DEADLINE_QUEUE.take_due(ctx, now, DEADLINE_BUDGET)? {
            let id = <[u8; 8]>::try_from(due.item.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| {
                    surety_framework::error::fatal::invariant("corrupt claims deadline")
                })?;
            match ctx.isolate(format!("claim {id} deadline"), |c| self.on_deadline(c, id))? {
                Ok(()) => ctx.delete(STORE, deadline_failure_key(id))?,
                Err(e) => self.retry_deadline(ctx, id, e)?,
            }
        }
        // Moving coins out of the module's own account fails only if the account is short,
        // which an invariant guards: the round stays and is retried next block.
        let _ = ctx.isolate("assessment rewards", |c| self.pay_rewards(c, REWARD_BUDGET))?;
        Ok(())
    }

    /// A claim whose deadline failed is tried again later, each time a little later, with the
    /// attempts and the last reason recorded; its status does not change until it succeeds.
    fn retry_deadline(&self, ctx: &mut Ctx, id: u64, e: Error) -> Result<(), Error> {
        let key = deadline_failure_key(id);
        let attempts = ctx
            .get_msg::<DeadlineFailure>(STORE, &key)?
            .map_or(0, |f| f.attempts)
            .saturating_add(1);
        let delay = RETRY_SECS
            .saturating_mul(i64::from(attempts))
            .min(MAX_RETRY_SECS);
        let at = ctx.block.time_unix_secs.saturating_add(delay);
        ctx.put_msg(
            STORE,
            key,
            &DeadlineFailure {
                attempts,
                reason: e.to_string(),
                retry_at: at,
            },
        )?;
        state::push_deadline(ctx, at, id)?;
        ctx.emit(
            Event::new("claim_deadline_retry")
                .attr("claim_id", id)
                .attr("attempts", attempts)
                .attr("retry_at", at),
        );
        Ok(())
    }

    fn on_deadline(&self, ctx: &mut Ctx, id: u64) -> Result<(), Error> {
        let Some(mut claim) = ctx.get_msg::<Claim>(STORE, &state::claim_key(id))? else {
            return Ok(());
        };
        let now = ctx.block.time_unix_secs;
        match ClaimStatus::try_from(claim.status).unwrap_or(ClaimStatus::Unspecified) {
            ClaimStatus::Voting if now >= claim.voting_ends => self.tally(ctx, &mut claim),
            // The appeal window passed: the rejection is final.
            ClaimStatus::Rejected if claim.appeal_deadline != 0 && now >= claim.appeal_deadline => {
                self.forfeit(ctx, &coin(&claim.deposit)?)?;
                self.close_rejected(ctx, &mut claim)
            }
            // Governance did not decide in time: the claim stays rejected, and the claimant,
            // who did nothing wrong, gets deposit and bond back.
            ClaimStatus::Appealed if now >= claim.appeal_deadline => {
                state::close_appeal(ctx, claim.id)?;
                let claimant = Address::from_bech32(&claim.claimant)?;
                let held = coin(&claim.deposit)?.checked_add(&coin(&claim.appeal_bond)?)?;
                self.pay_from_account(ctx, &claimant, &held)?;
                self.close_rejected(ctx, &mut claim)?;
                ctx.emit(claim_event("claim_appeal_expired", &claim));
                Ok(())
            }
            // A stale entry: the claim moved on (decided, appealed, resolved) since.
            _ => Ok(()),
        }
    }

    /// Closes a vote: approved with quorum of all assessor stake and more than the threshold of
    /// the stake that voted. The fee goes to the voters on the winning side by weight.
    fn tally(&self, ctx: &mut Ctx, claim: &mut Claim) -> Result<(), Error> {
        let params = state::params(ctx)?;
        let (yes, no) = (
            amount(&claim.approve_weight)?,
            amount(&claim.reject_weight)?,
        );
        let voted = add(yes, no)?;
        let total = state_total(ctx)?;
        let bps = |share: u32| u128::from(share.min(10_000));
        let quorum = voted > 0
            && Wide::product(&[voted, 10_000])? >= Wide::product(&[bps(params.quorum_bps), total])?;
        let approved = quorum
            && Wide::product(&[yes, 10_000])? > Wide::product(&[bps(params.threshold_bps), voted])?;
        self.reward_voters(ctx, claim, approved)?;
        if approved {
            let claimant = Address::from_bech32(&claim.claimant)?;
            self.pay_from_account(ctx, &claimant, &coin(&claim.deposit)?)?;
            let policy = self.policy.policy(ctx, claim.policy_id)?;
            let loss = amount(&claim.loss)?;
            let incident = claim.incident.clone();
            if policy.claimed || state::paid_incident(ctx, policy.id, &incident)?.is_some() {
                // Used up or paid for this incident meanwhile through another route (a
                // parametric trigger): nothing more.
                self.close_rejected(ctx, claim)?;
            } else {
                self.pay(ctx, claim, &policy, loss, &incident)?;
            }
        } else {
            claim.status = ClaimStatus::Rejected as i32;
            claim.appeal_deadline = later(ctx.block.time_unix_secs, params.appeal_window_secs)?;
            state::save_claim(ctx, claim)?;
            state::push_deadline(ctx, claim.appeal_deadline, claim.id)?;
        }
        ctx.emit(
            claim_event("claim_decided", claim)
                .attr("approved", approved)
                .attr("quorum", quorum),
        );
        Ok(())
    }

    /// Opens the round that pays the fee to the voters on the winning side; [`Keeper::pay_rewards`]
    /// pays it a bounded number of votes per block.
    fn reward_voters(&self, ctx: &mut Ctx, claim: &Claim, approved: bool) -> Result<(), Error> {
        let Some(fee) = coin(&claim.fee)?.iter().next().cloned() else {
            return Ok(());
        };
        let weight = if approved {
            &claim.approve_weight
        } else {
            &claim.reject_weight
        };
        ctx.put_msg(
            STORE,
            reward_round_key(claim.id),
            &RewardRound {
                claim_id: claim.id,
                approved,
                fee: Some(fee.to_proto()),
                weight: amount(weight)?.to_string(),
                paid: "0".into(),
                cursor: Vec::new(),
            },
        )
    }

    /// Pays at most `budget` votes of the open reward rounds, oldest claim first; a round whose
    /// votes are all paid forfeits the rounding remainder (and the whole fee when nobody won)
    /// and closes.
    pub fn pay_rewards(&self, ctx: &mut Ctx, budget: usize) -> Result<(), Error> {
        let mut left = budget;
        for (key, bytes) in ctx.range(STORE, &[state::REWARD_ROUNDS], None, budget.max(1))? {
            if left == 0 {
                break;
            }
            let mut round: RewardRound = state::decode(&bytes)?;
            let prefix = state::votes_prefix(round.claim_id);
            // Exclusive of the cursor: the key just after it.
            let start = (!round.cursor.is_empty())
                .then(|| [prefix.as_slice(), &round.cursor, &[0]].concat());
            let votes = ctx.range(STORE, &prefix, start.as_deref(), left)?;
            let done = votes.len() < left;
            left = left.saturating_sub(votes.len().max(1));
            let fee = coin_of(&round.fee)?;
            let weight = amount(&round.weight)?;
            let mut paid = amount(&round.paid)?;
            for (vote_key, vote) in &votes {
                let vote: Vote = state::decode(vote)?;
                round.cursor = vote_key.get(prefix.len()..).unwrap_or_default().to_vec();
                if vote.approve != round.approved || weight == 0 {
                    continue;
                }
                let share = mul_div(fee.amount, amount(&vote.weight)?, weight, Round::Down)?;
                paid = add(paid, share)?;
                let to = Address::from_bech32(&vote.assessor)?;
                self.pay_from_account(ctx, &to, &Coins::of(share, &fee.denom))?;
            }
            round.paid = paid.to_string();
            if done {
                let rest = sub(fee.amount, paid, "unpaid assessment fee")?;
                self.forfeit(ctx, &Coins::of(rest, &fee.denom))?;
                ctx.delete(STORE, key)?;
            } else {
                ctx.put_msg(STORE, key, &round)?;
            }
        }
        Ok(())
    }
}

/// Slashes recorded since the last block looked (at most [`SLASH_BUDGET`]; the rest wait for
/// the next block), whichever module's hook slashed: a cursor, not the block height, marks the
/// last one seen.
fn new_slashes(ctx: &mut Ctx) -> Result<Vec<u64>, Error> {
    let seen = ctx
        .get(STORE, state::SLASH_CURSOR)?
        .map(|v| {
            <[u8; 8]>::try_from(v.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| sdk::internal("corrupt slash cursor"))
        })
        .transpose()?
        .unwrap_or(0);
    let seqs: Vec<u64> = surety_staking::slashes::slashes_after(ctx, seen, SLASH_BUDGET)?
        .into_iter()
        .map(|s| s.seq)
        .collect();
    if let Some(last) = seqs.last() {
        ctx.put(
            STORE,
            state::SLASH_CURSOR.to_vec(),
            last.to_be_bytes().to_vec(),
        )?;
    }
    Ok(seqs)
}

/// Slashes turned into payout jobs per block.
const SLASH_BUDGET: usize = 16;

fn reward_round_key(claim: u64) -> Vec<u8> {
    [&[state::REWARD_ROUNDS][..], &claim.to_be_bytes()].concat()
}

fn coin_of(c: &Option<surety_proto::cosmos::base::v1beta1::Coin>) -> Result<Coin, Error> {
    let c = c
        .as_ref()
        .ok_or_else(|| sdk::internal("reward round without its fee"))?;
    Ok(Coin {
        denom: c.denom.clone(),
        amount: parse_amount(&c.amount, "reward fee")?,
    })
}

fn state_total(ctx: &mut Ctx) -> Result<u128, Error> {
    Ok(match ctx.get(STORE, state::TOTAL_STAKE)? {
        Some(v) => u128::from_be_bytes(
            v.as_slice()
                .try_into()
                .map_err(|_| sdk::internal("corrupt total stake"))?,
        ),
        None => 0,
    })
}

fn set_total(ctx: &mut Ctx, total: u128) -> Result<(), Error> {
    ctx.put(
        STORE,
        state::TOTAL_STAKE.to_vec(),
        total.to_be_bytes().to_vec(),
    )
}

pub fn total_stake(ctx: &mut Ctx) -> Result<u128, Error> {
    state_total(ctx)
}

fn claim_event(kind: &str, c: &Claim) -> Event {
    Event::new(kind)
        .attr("claim_id", c.id)
        .attr("policy_id", c.policy_id)
        .attr("claimant", &c.claimant)
        .attr("incident", &c.incident)
        .attr(
            "status",
            ClaimStatus::try_from(c.status)
                .map(|s| s.as_str_name())
                .unwrap_or("?"),
        )
}

/// Due claims handled per block; the rest wait for the next.
pub const DEADLINE_BUDGET: usize = 100;
/// Votes whose assessment rewards one block pays.
pub const REWARD_BUDGET: usize = 500;
/// A failed deadline is retried this much later per failed attempt, at most [`MAX_RETRY_SECS`].
const RETRY_SECS: i64 = 3_600;
const MAX_RETRY_SECS: i64 = 86_400;

/// `now + period`, refusing times past the end of `i64`.
fn later(now: i64, period: i64) -> Result<i64, Error> {
    now.checked_add(period)
        .ok_or_else(|| sdk::invalid_request(format!("{now} + {period}s overflows a block time")))
}

/// What a claim is filed with.
struct Filing<'a> {
    claimant: &'a Address,
    policy_id: u64,
    incident: &'a str,
    loss: u128,
    evidence: &'a str,
    as_of: i64,
}

/// Errors that mean "this policy is not covered by this trigger", not that paying failed.
fn is_refusal(e: &Error) -> bool {
    e.codespace == errors::CODESPACE
        && [
            errors::not_claimable(""),
            errors::trigger_not_met(""),
            errors::claim_open(""),
            errors::no_price(""),
            errors::not_policy_owner(""),
        ]
        .iter()
        .any(|r| r.code == e.code)
}

/// The failed attempts at a claim's deadline.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeadlineFailure {
    #[prost(uint32, tag = "1")]
    pub attempts: u32,
    #[prost(string, tag = "2")]
    pub reason: String,
    #[prost(int64, tag = "3")]
    pub retry_at: i64,
}

pub fn deadline_failure_key(claim: u64) -> Vec<u8> {
    [&[state::DEADLINE_FAILED][..], &claim.to_be_bytes()].concat()
}

/// Reads the oracle once per question within a block hook: the policies of one payout job
/// mostly ask for the same price path. Oracle state does not change while claims run.
struct Memo<'a, O> {
    inner: &'a O,
    at: Mutex<BTreeMap<(String, i64), Option<PricePoint>>>,
    after: Mutex<BTreeMap<(String, i64, i64), Vec<PricePoint>>>,
}

impl<'a, O: OracleView> Memo<'a, O> {
    fn new(inner: &'a O) -> Self {
        Memo {
            inner,
            at: Mutex::new(BTreeMap::new()),
            after: Mutex::new(BTreeMap::new()),
        }
    }
}

fn poisoned() -> Error {
    sdk::internal("oracle memo lock poisoned")
}

impl<O: OracleView> OracleView for Memo<'_, O> {
    fn price_at(&self, ctx: &mut Ctx, feed: &str, time: i64) -> Result<Option<PricePoint>, Error> {
        let key = (feed.to_string(), time);
        if let Some(hit) = self.at.lock().map_err(|_| poisoned())?.get(&key) {
            return Ok(*hit);
        }
        let value = self.inner.price_at(ctx, feed, time)?;
        self.at.lock().map_err(|_| poisoned())?.insert(key, value);
        Ok(value)
    }

    fn prices_after(
        &self,
        ctx: &mut Ctx,
        feed: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<PricePoint>, Error> {
        let key = (feed.to_string(), from, to);
        if let Some(hit) = self.after.lock().map_err(|_| poisoned())?.get(&key) {
            return Ok(hit.clone());
        }
        let value = self.inner.prices_after(ctx, feed, from, to)?;
        self.after
            .lock()
            .map_err(|_| poisoned())?
            .insert(key, value.clone());
        Ok(value)
    }

    fn incident(&self, ctx: &mut Ctx, id: u64) -> Result<Option<IncidentView>, Error> {
        self.inner.incident(ctx, id)
    }

    fn open_incident(&self, ctx: &mut Ctx, protocol: &str) -> Result<Option<u64>, Error> {
        self.inner.open_incident(ctx, protocol)
    }

    fn confirmed_at(&self, ctx: &mut Ctx, height: u64) -> Result<Vec<IncidentView>, Error> {
        self.inner.confirmed_at(ctx, height)
    }

    fn updated_at(&self, ctx: &mut Ctx, height: u64) -> Result<Vec<String>, Error> {
        self.inner.updated_at(ctx, height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block, Empty};
    use surety_framework::state::Overlay;

    /// An oracle with nothing to say: no payouts start.
    #[derive(Clone)]
    struct Silent;

    impl OracleView for Silent {
        fn price_at(&self, _: &mut Ctx, _: &str, _: i64) -> Result<Option<PricePoint>, Error> {
            Ok(None)
        }
        fn prices_after(
            &self,
            _: &mut Ctx,
            _: &str,
            _: i64,
            _: i64,
        ) -> Result<Vec<PricePoint>, Error> {
            Ok(Vec::new())
        }
        fn incident(&self, _: &mut Ctx, _: u64) -> Result<Option<IncidentView>, Error> {
            Ok(None)
        }
        fn open_incident(&self, _: &mut Ctx, _: &str) -> Result<Option<u64>, Error> {
            Ok(None)
        }
        fn confirmed_at(&self, _: &mut Ctx, _: u64) -> Result<Vec<IncidentView>, Error> {
            Ok(Vec::new())
        }
        fn updated_at(&self, _: &mut Ctx, _: u64) -> Result<Vec<String>, Error> {
            Ok(Vec::new())
        }
    }

    fn keeper() -> Keeper<Silent> {
        Keeper {
            policy: surety_policy::Keeper::default(),
            oracle: Silent,
        }
    }

    fn user(i: u8) -> Address {
        Address([i; 20])
    }

    const DEPOSIT: u128 = 10;

    /// A rejected claim whose appeal window closes at `deadline`, holding a deposit.
    fn rejected(ctx: &mut Ctx, id: u64, claimant: &str, deadline: i64) {
        let claim = Claim {
            id,
            policy_id: id,
            claimant: claimant.to_string(),
            status: ClaimStatus::Rejected as i32,
            appeal_deadline: deadline,
            deposit: Some(Coin::new(DEPOSIT, "uusdc").to_proto()),
            ..Default::default()
        };
        state::save_claim(ctx, &claim).unwrap();
        state::push_deadline(ctx, deadline, id).unwrap();
    }

    /// An appealed claim governance did not decide, holding deposit and bond.
    fn appealed(ctx: &mut Ctx, id: u64, claimant: &str, deadline: i64) {
        let claim = Claim {
            id,
            policy_id: id,
            claimant: claimant.to_string(),
            status: ClaimStatus::Appealed as i32,
            appeal_deadline: deadline,
            deposit: Some(Coin::new(DEPOSIT, "uusdc").to_proto()),
            appeal_bond: Some(Coin::new(DEPOSIT, "uusdc").to_proto()),
            ..Default::default()
        };
        state::save_claim(ctx, &claim).unwrap();
        state::push_deadline(ctx, deadline, id).unwrap();
    }

    fn fund_claims_account(ctx: &mut Ctx, amount: u128) {
        surety_bank::Bank::default()
            .mint(ctx, CLAIMS_ACCOUNT, &Coins::of(amount, "uusdc"))
            .unwrap();
    }

    #[test]
    fn a_poisoned_deadline_fails_alone_and_is_retried() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let k = keeper();
        {
            let mut ctx = block(&mut state, 1, 100);
            fund_claims_account(&mut ctx, 100);
            rejected(&mut ctx, 1, &user(1).to_bech32(), 150);
            // Corrupt state a user cannot shape, standing in for any per-item failure.
            appealed(&mut ctx, 2, "not-an-address", 150);
            appealed(&mut ctx, 3, &user(3).to_bech32(), 150);
            rejected(&mut ctx, 4, &user(4).to_bech32(), 150);
        }
        let mut ctx = block(&mut state, 2, 200);
        k.end_block(&mut ctx).unwrap();
        let status = |ctx: &mut Ctx, id| state::claim(ctx, id).unwrap();
        for id in [1, 3, 4] {
            let c = status(&mut ctx, id);
            assert_eq!(c.status, ClaimStatus::Rejected as i32, "claim {id}");
            assert_eq!(c.appeal_deadline, 0, "claim {id} closed");
        }
        let bank = surety_bank::Bank::default();
        assert_eq!(
            bank.balance(&mut ctx, &user(3), "uusdc").unwrap(),
            2 * DEPOSIT
        );
        let treasury = Address::module(TREASURY);
        assert_eq!(
            bank.balance(&mut ctx, &treasury, "uusdc").unwrap(),
            2 * DEPOSIT
        );
        assert_eq!(status(&mut ctx, 2).status, ClaimStatus::Appealed as i32);
        let failure: DeadlineFailure = ctx
            .get_msg(STORE, &deadline_failure_key(2))
            .unwrap()
            .expect("failure recorded");
        assert_eq!(failure.attempts, 1);
        assert_eq!(failure.retry_at, 200 + RETRY_SECS);
        assert_eq!(
            ctx.events()
                .iter()
                .filter(|e| e.kind == "item_failed")
                .count(),
            1
        );
        // Not due again until the retry time; then it fails again, a little later each time.
        assert!(!state::DEADLINE_QUEUE
            .any_due(&mut ctx, 200 + RETRY_SECS - 1)
            .unwrap());
        drop(ctx);
        let mut ctx = block(&mut state, 3, 200 + RETRY_SECS);
        k.end_block(&mut ctx).unwrap();
        let failure: DeadlineFailure = ctx
            .get_msg(STORE, &deadline_failure_key(2))
            .unwrap()
            .unwrap();
        assert_eq!(failure.attempts, 2);
        assert_eq!(failure.retry_at, 200 + 3 * RETRY_SECS);
    }

    #[test]
    fn due_claims_are_taken_a_budget_per_block() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let k = keeper();
        let n = DEADLINE_BUDGET as u64 + 5;
        {
            let mut ctx = block(&mut state, 1, 100);
            fund_claims_account(&mut ctx, u128::from(n) * DEPOSIT);
            for id in 1..=n {
                rejected(&mut ctx, id, &user(1).to_bech32(), 150);
            }
        }
        let closed = |ctx: &mut Ctx| {
            (1..=n)
                .filter(|id| state::claim(ctx, *id).unwrap().appeal_deadline == 0)
                .count()
        };
        let mut ctx = block(&mut state, 2, 200);
        k.end_block(&mut ctx).unwrap();
        assert_eq!(closed(&mut ctx), DEADLINE_BUDGET);
        drop(ctx);
        let mut ctx = block(&mut state, 3, 205);
        k.end_block(&mut ctx).unwrap();
        assert_eq!(closed(&mut ctx), n as usize);
        let treasury = Address::module(TREASURY);
        assert_eq!(
            surety_bank::Bank::default()
                .balance(&mut ctx, &treasury, "uusdc")
                .unwrap(),
            u128::from(n) * DEPOSIT,
            "each deposit forfeited once"
        );
        // Stale entries of closed claims do nothing.
        state::push_deadline(&mut ctx, 205, 1).unwrap();
        k.end_block(&mut ctx).unwrap();
        assert_eq!(
            surety_bank::Bank::default()
                .balance(&mut ctx, &treasury, "uusdc")
                .unwrap(),
            u128::from(n) * DEPOSIT
        );
    }

    #[test]
    fn tallies_do_not_overflow() {
        // 10³⁰ × 10⁴ overflows nothing in 256 bits; a quorum of all stake at u128::MAX works.
        let big = u128::MAX;
        assert!(Wide::product(&[big, 10_000]).unwrap() > Wide::product(&[5_000, big]).unwrap());
        assert!(later(i64::MAX, 1).is_err());
        assert_eq!(later(10, 5).unwrap(), 15);
    }

    #[test]
    fn assessment_rewards_are_paid_a_budget_of_votes_per_block() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let k = keeper();
        let voters = REWARD_BUDGET + 5;
        let fee = 1_000_003u128;
        {
            let mut ctx = block(&mut state, 1, 100);
            fund_claims_account(&mut ctx, fee);
            for i in 0..voters {
                let mut who = [0u8; 20];
                who[..8].copy_from_slice(&(i as u64).to_be_bytes());
                // Every other voter is on the losing side.
                let vote = Vote {
                    claim_id: 7,
                    assessor: Address(who).to_bech32(),
                    approve: i % 2 == 0,
                    weight: "1".into(),
                };
                ctx.put_msg(STORE, state::vote_key(7, &Address(who)), &vote)
                    .unwrap();
            }
            let winners = voters.div_ceil(2) as u128;
            let claim = Claim {
                id: 7,
                fee: Some(Coin::new(fee, "uusdc").to_proto()),
                approve_weight: winners.to_string(),
                reject_weight: (voters as u128 - winners).to_string(),
                ..Default::default()
            };
            k.reward_voters(&mut ctx, &claim, true).unwrap();
        }
        let bank = surety_bank::Bank::default();
        let paid = |ctx: &mut Ctx| {
            (0..voters)
                .map(|i| {
                    let mut who = [0u8; 20];
                    who[..8].copy_from_slice(&(i as u64).to_be_bytes());
                    bank.balance(ctx, &Address(who), "uusdc").unwrap()
                })
                .collect::<Vec<_>>()
        };
        let winners = voters.div_ceil(2) as u128;
        let share = fee / winners;
        let mut ctx = block(&mut state, 2, 200);
        k.end_block(&mut ctx).unwrap();
        // The first block reads a budget of votes: the winners among them are paid.
        let first = paid(&mut ctx);
        assert!(first[..REWARD_BUDGET]
            .iter()
            .enumerate()
            .all(|(i, b)| *b == if i % 2 == 0 { share } else { 0 }));
        assert!(first[REWARD_BUDGET..].iter().all(|b| *b == 0));
        drop(ctx);
        let mut ctx = block(&mut state, 3, 300);
        k.end_block(&mut ctx).unwrap();
        let all = paid(&mut ctx);
        assert_eq!(all.iter().sum::<u128>(), share * winners);
        assert!(all
            .iter()
            .enumerate()
            .all(|(i, b)| *b == if i % 2 == 0 { share } else { 0 }));
        // The remainder is forfeited and the round closes.
        let treasury = Address::module(TREASURY);
        assert_eq!(
            bank.balance(&mut ctx, &treasury, "uusdc").unwrap(),
            fee - share * winners
        );
        assert!(ctx
            .prefix(STORE, &[state::REWARD_ROUNDS])
            .unwrap()
            .is_empty());
    }
}
