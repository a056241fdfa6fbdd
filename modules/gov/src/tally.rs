//! Counting votes by bonded stake, as Cosmos SDK does: a delegator's vote counts its delegated
//! tokens and is deducted from its validator; a validator's vote counts what remains (its own
//! stake and its silent delegators').

use crate::dec;
use std::collections::BTreeMap;
use surety_framework::math::Wide;
use surety_framework::{Address, Ctx, Dec, Error, Round};
use surety_proto::cosmos::gov::v1::{Params, TallyResult, Vote, VoteOption};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub yes: u128,
    pub abstain: u128,
    pub no: u128,
    pub veto: u128,
    /// Bonded tokens that voted (directly or through their validator).
    pub voted: u128,
    /// All bonded tokens.
    pub bonded: u128,
}

/// What a tally means for its proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub passes: bool,
    /// The deposits are burned rather than refunded.
    pub burn: bool,
    pub reason: &'static str,
}

/// `n / d > t`, exactly.
fn exceeds(n: u128, d: u128, t: Dec) -> Result<bool, Error> {
    Ok(Wide::product(&[n, Dec::SCALE])? > Wide::product(&[t.0, d])?)
}

impl Tally {
    fn add(&mut self, options: &[(i32, Dec)], power: u128) -> Result<(), Error> {
        for (option, weight) in options {
            let share = weight.mul_amount(power, Round::Down)?;
            match VoteOption::try_from(*option).unwrap_or(VoteOption::Unspecified) {
                VoteOption::Yes => self.yes += share,
                VoteOption::Abstain => self.abstain += share,
                VoteOption::No => self.no += share,
                VoteOption::NoWithVeto => self.veto += share,
                VoteOption::Unspecified => {}
            }
        }
        self.voted += power;
        Ok(())
    }

    pub fn result(&self) -> TallyResult {
        TallyResult {
            yes_count: self.yes.to_string(),
            abstain_count: self.abstain.to_string(),
            no_count: self.no.to_string(),
            no_with_veto_count: self.veto.to_string(),
        }
    }

    pub fn verdict(&self, params: &Params, expedited: bool) -> Result<Verdict, Error> {
        let quorum = dec(&params.quorum, "quorum")?;
        let short =
            Wide::product(&[self.voted, Dec::SCALE])? < Wide::product(&[quorum.0, self.bonded])?;
        if self.bonded == 0 || short {
            return Ok(Verdict {
                passes: false,
                burn: params.burn_vote_quorum,
                reason: "quorum not reached",
            });
        }
        let counted = self.voted - self.abstain;
        if counted == 0 {
            return Ok(Verdict {
                passes: false,
                burn: false,
                reason: "every vote abstained",
            });
        }
        if exceeds(
            self.veto,
            self.voted,
            dec(&params.veto_threshold, "veto_threshold")?,
        )? {
            return Ok(Verdict {
                passes: false,
                burn: params.burn_vote_veto,
                reason: "vetoed",
            });
        }
        let threshold = if expedited {
            dec(&params.expedited_threshold, "expedited_threshold")?
        } else {
            dec(&params.threshold, "threshold")?
        };
        Ok(if exceeds(self.yes, counted, threshold)? {
            Verdict {
                passes: true,
                burn: false,
                reason: "",
            }
        } else {
            Verdict {
                passes: false,
                burn: false,
                reason: "threshold not reached",
            }
        })
    }
}

struct Weighing {
    tokens: u128,
    shares: u128,
    deducted: u128,
    vote: Option<Vec<(i32, Dec)>>,
}

fn options(v: &Vote) -> Result<Vec<(i32, Dec)>, Error> {
    v.options
        .iter()
        .map(|o| Ok((o.option, dec(&o.weight, "vote weight")?)))
        .collect()
}

pub fn tally(
    staking: &surety_staking::Staking,
    ctx: &mut Ctx,
    votes: &[Vote],
) -> Result<Tally, Error> {
    let mut validators: BTreeMap<Address, Weighing> = BTreeMap::new();
    let mut t = Tally::default();
    for v in staking.bonded_validators(ctx)? {
        t.bonded += v.tokens;
        validators.insert(
            v.operator,
            Weighing {
                tokens: v.tokens,
                shares: v.shares.0,
                deducted: 0,
                vote: None,
            },
        );
    }
    for vote in votes {
        let voter = Address::from_bech32(&vote.voter)?;
        let opts = options(vote)?;
        if let Some(w) = validators.get_mut(&voter) {
            w.vote = Some(opts.clone());
        }
        for (validator, shares) in staking.delegations_of(ctx, &voter)? {
            let Some(w) = validators.get_mut(&validator) else {
                continue;
            };
            if w.shares == 0 {
                continue;
            }
            w.deducted += shares.0;
            let power = surety_framework::math::mul_div(shares.0, w.tokens, w.shares, Round::Down)?;
            t.add(&opts, power)?;
        }
    }
    for w in validators.values() {
        if let (Some(opts), true) = (&w.vote, w.shares > 0) {
            let remaining = w.shares.saturating_sub(w.deducted);
            let power =
                surety_framework::math::mul_div(remaining, w.tokens, w.shares, Round::Down)?;
            t.add(opts, power)?;
        }
    }
    Ok(t)
}
