//! The claims keeper: filing, assessment, settlement and appeals.

use crate::errors;
use crate::state::{self, STORE};
use crate::triggers;
use surety_framework::math::{add, mul_div, parse_amount, sub, Round};
use surety_framework::oracle::OracleView;
use surety_framework::{Address, Coin, Coins, Ctx, Error, Event};
use surety_pool::LossItem;
use surety_proto::surety::claims::v1::{Assessor, Claim, ClaimStatus, Vote};
use surety_proto::surety::policy::v1::{ClaimMode, Policy};

/// The module account holding claim deposits, fees, appeal bonds and assessors' stake.
pub const CLAIMS_ACCOUNT: &str = "claims";
/// Where forfeited deposits and bonds go, for governance to spend.
pub const TREASURY: &str = "treasury";

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
        let policy = self.policy.policy(ctx, policy_id)?;
        if policy.owner != claimant.to_string() {
            return Err(errors::not_policy_owner(format!(
                "policy {policy_id} belongs to {}",
                policy.owner
            )));
        }
        if policy.claimed {
            return Err(errors::not_claimable(format!(
                "policy {policy_id} was already paid"
            )));
        }
        if ctx.get(STORE, &state::open_key(policy_id))?.is_some() {
            return Err(errors::claim_open(format!("policy {policy_id}")));
        }
        let terms = policy.terms.clone().unwrap_or_default();
        let now = ctx.block.time_unix_secs;
        if now < policy.start || now >= policy.end + terms.grace_period_secs {
            return Err(errors::not_claimable(format!(
                "policy {policy_id} covers {}..{} with {}s grace; block time is {now}",
                policy.start, policy.end, terms.grace_period_secs
            )));
        }
        if incident.len() > 256 || evidence.len() > 4_096 {
            return Err(errors::invalid_claim("incident or evidence too long"));
        }
        let cover = amount(&policy.cover)?;
        let id = ctx.next_id(STORE, state::NEXT_CLAIM_ID)?;
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
            let hit = triggers::evaluate(&self.oracle, ctx, &policy, &terms, cover, incident)?;
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
        claim.voting_ends = now + params.voting_period_secs;
        claim.approve_weight = "0".into();
        claim.reject_weight = "0".into();
        if claim.incident.is_empty() {
            claim.incident = format!("claim:{id}");
        }
        state::save_claim(ctx, &claim)?;
        ctx.put(STORE, state::open_key(policy_id), id.to_be_bytes().to_vec())?;
        ctx.put(
            STORE,
            state::deadline_key(claim.voting_ends, id),
            Vec::new(),
        )?;
        ctx.emit(claim_event("claim_filed", &claim));
        Ok(claim)
    }

    /// Pays a decided claim: min(loss, cover) × (1 − deductible) under the policy's frozen terms,
    /// from the pools that wrote it in proportion to their shares (and their reinsurers).
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
        let due = triggers::payout(loss, cover, terms.deductible_bps)?;
        let recipient = Address::from_bech32(&claim.claimant)?;
        let mut items = Vec::new();
        let mut assigned = 0u128;
        for (i, a) in policy.allocations.iter().enumerate() {
            let part = if i + 1 == policy.allocations.len() {
                due - assigned
            } else {
                mul_div(due, amount(&a.cover)?, cover, Round::Down)?
            };
            assigned += part;
            if part > 0 {
                items.push(LossItem {
                    pool_id: a.pool_id,
                    amount: part,
                    recipient,
                });
            }
        }
        let paid: u128 = self
            .policy
            .pool
            .settle(ctx, incident, &items)?
            .into_iter()
            .sum();
        claim.status = ClaimStatus::Paid as i32;
        claim.payout = paid.to_string();
        state::save_claim(ctx, claim)?;
        ctx.delete(STORE, state::open_key(policy.id))?;
        self.policy.mark_claimed(ctx, policy.id)?;
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
            return Err(surety_framework::sdk::invalid_coins(
                "stake must be positive",
            ));
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
            return Err(surety_framework::sdk::insufficient_funds(format!(
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
            a.stake = (staked - amount).to_string();
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
        ctx.delete(STORE, state::deadline_key(claim.appeal_deadline, claim_id))?;
        claim.status = ClaimStatus::Appealed as i32;
        claim.appeal_bond = params.appeal_bond;
        claim.appeal_deadline = now + params.appeal_period_secs;
        ctx.put(
            STORE,
            state::deadline_key(claim.appeal_deadline, claim_id),
            Vec::new(),
        )?;
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
        ctx.delete(STORE, state::deadline_key(claim.appeal_deadline, claim_id))?;
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

    /// Pays parametric cover whose trigger this block's oracle state set off, without anyone
    /// filing: every live policy of a product covering an incident confirmed in this block, and
    /// every live depeg policy whose feed got a price that holds the trigger. (Impermanent-loss
    /// cover pays when its holder files, choosing the exit price.) A policy that cannot be paid
    /// is skipped; the block goes on.
    pub fn auto_pay(&self, ctx: &mut Ctx) -> Result<(), Error> {
        use surety_proto::surety::policy::v1::CoverType;
        let height = ctx.block.height;
        let incidents = self.oracle.confirmed_at(ctx, height)?;
        let feeds = self.oracle.updated_at(ctx, height)?;
        if incidents.is_empty() && feeds.is_empty() {
            return Ok(());
        }
        let now = ctx.block.time_unix_secs;
        for product in surety_policy::state::products(ctx)? {
            if product.claim_mode != ClaimMode::Parametric as i32 {
                continue;
            }
            let cover_type =
                CoverType::try_from(product.cover_type).unwrap_or(CoverType::Unspecified);
            let mut triggers: Vec<String> = Vec::new();
            match cover_type {
                CoverType::Liquidity => continue,
                CoverType::Depeg => {
                    let Some(t) = product.trigger.as_ref().filter(|t| feeds.contains(&t.feed))
                    else {
                        continue;
                    };
                    // Cheap check first: only a price below the threshold can pay anyone.
                    let below = match (
                        self.oracle.price_at(ctx, &t.feed, now)?,
                        t.threshold.parse::<surety_framework::Dec>(),
                    ) {
                        (Some(p), Ok(threshold)) => p.price < threshold,
                        _ => false,
                    };
                    if !below {
                        continue;
                    }
                    triggers.push(String::new());
                }
                _ => triggers.extend(
                    incidents
                        .iter()
                        .filter(|i| i.protocol == product.protocol)
                        .map(|i| i.id.to_string()),
                ),
            }
            if triggers.is_empty() {
                continue;
            }
            for policy in self.policy.active_policies(ctx, product.id)? {
                for incident in &triggers {
                    let owner = Address::from_bech32(&policy.owner)?;
                    let paid =
                        ctx.branch(|c| self.file(c, &owner, policy.id, incident, 0, "automatic"));
                    if paid.is_ok() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Processes every deadline that has passed: closes votes, and ends appeal windows and
    /// appeals that governance did not decide.
    pub fn end_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        self.auto_pay(ctx)?;
        let now = ctx.block.time_unix_secs;
        for (key, id) in state::due(ctx, now)? {
            ctx.delete(STORE, key)?;
            let mut claim = state::claim(ctx, id)?;
            match ClaimStatus::try_from(claim.status).unwrap_or(ClaimStatus::Unspecified) {
                ClaimStatus::Voting => self.tally(ctx, &mut claim)?,
                // The appeal window passed: the rejection is final.
                ClaimStatus::Rejected => {
                    self.forfeit(ctx, &coin(&claim.deposit)?)?;
                    self.close_rejected(ctx, &mut claim)?;
                }
                // Governance did not decide in time: the claim stays rejected, and the claimant,
                // who did nothing wrong, gets deposit and bond back.
                ClaimStatus::Appealed => {
                    let claimant = Address::from_bech32(&claim.claimant)?;
                    let held = coin(&claim.deposit)?.checked_add(&coin(&claim.appeal_bond)?)?;
                    self.pay_from_account(ctx, &claimant, &held)?;
                    self.close_rejected(ctx, &mut claim)?;
                    ctx.emit(claim_event("claim_appeal_expired", &claim));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Closes a vote: approved with quorum of all assessor stake and more than the threshold of
    /// the stake that voted. The fee goes to the voters on the winning side by weight.
    fn tally(&self, ctx: &mut Ctx, claim: &mut Claim) -> Result<(), Error> {
        let params = state::params(ctx)?;
        let (yes, no) = (
            amount(&claim.approve_weight)?,
            amount(&claim.reject_weight)?,
        );
        let voted = yes + no;
        let total = state_total(ctx)?;
        let quorum = voted > 0 && voted * 10_000 >= params.quorum_bps as u128 * total;
        let approved = quorum && yes * 10_000 > params.threshold_bps as u128 * voted;
        self.reward_voters(ctx, claim, approved)?;
        if approved {
            let claimant = Address::from_bech32(&claim.claimant)?;
            self.pay_from_account(ctx, &claimant, &coin(&claim.deposit)?)?;
            let policy = self.policy.policy(ctx, claim.policy_id)?;
            let loss = amount(&claim.loss)?;
            let incident = claim.incident.clone();
            if policy.claimed {
                // Paid meanwhile through another route (a parametric trigger): nothing more.
                self.close_rejected(ctx, claim)?;
            } else {
                self.pay(ctx, claim, &policy, loss, &incident)?;
            }
        } else {
            claim.status = ClaimStatus::Rejected as i32;
            claim.appeal_deadline = ctx.block.time_unix_secs + params.appeal_window_secs;
            state::save_claim(ctx, claim)?;
            ctx.put(
                STORE,
                state::deadline_key(claim.appeal_deadline, claim.id),
                Vec::new(),
            )?;
        }
        ctx.emit(
            claim_event("claim_decided", claim)
                .attr("approved", approved)
                .attr("quorum", quorum),
        );
        Ok(())
    }

    fn reward_voters(&self, ctx: &mut Ctx, claim: &Claim, approved: bool) -> Result<(), Error> {
        let fee = coin(&claim.fee)?;
        let Some(fee_coin) = fee.iter().next().cloned() else {
            return Ok(());
        };
        let winners: Vec<Vote> = state::votes(ctx, claim.id)?
            .into_iter()
            .filter(|v| v.approve == approved)
            .collect();
        let weight: u128 = winners
            .iter()
            .map(|v| amount(&v.weight))
            .sum::<Result<_, _>>()?;
        let mut paid = 0u128;
        if weight > 0 {
            for v in &winners {
                let share = mul_div(fee_coin.amount, amount(&v.weight)?, weight, Round::Down)?;
                paid += share;
                let to = Address::from_bech32(&v.assessor)?;
                self.pay_from_account(ctx, &to, &Coins::of(share, &fee_coin.denom))?;
            }
        }
        self.forfeit(ctx, &Coins::of(fee_coin.amount - paid, &fee_coin.denom))
    }
}

fn state_total(ctx: &mut Ctx) -> Result<u128, Error> {
    Ok(match ctx.get(STORE, state::TOTAL_STAKE)? {
        Some(v) => u128::from_be_bytes(
            v.as_slice()
                .try_into()
                .map_err(|_| surety_framework::sdk::internal("corrupt total stake"))?,
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
