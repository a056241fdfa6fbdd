//! Counting votes by bonded stake, as Cosmos SDK does: a delegator's vote counts its delegated
//! tokens and is deducted from its validator; a validator's vote counts what remains (its own
//! stake and its silent delegators').

use crate::{dec, vote_options};
use std::collections::BTreeMap;
use surety_framework::math::{add, mul_div, sub, Wide};
use surety_framework::{sdk, Address, Ctx, Dec, Error, Round};
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
    /// Adds `power` split by `options`. Each share is `weight × power` in 256 bits and every sum
    /// is checked, so even a corrupt weight ends in an error, never a wrapped count.
    fn add(&mut self, options: &[(VoteOption, Dec)], power: u128) -> Result<(), Error> {
        for (option, weight) in options {
            let share = weight.mul_amount(power, Round::Down)?;
            let count = match option {
                VoteOption::Yes => &mut self.yes,
                VoteOption::Abstain => &mut self.abstain,
                VoteOption::No => &mut self.no,
                VoteOption::NoWithVeto => &mut self.veto,
                VoteOption::Unspecified => {
                    return Err(sdk::internal("a stored vote names no option"))
                }
            };
            *count = add(*count, share)?;
        }
        self.voted = add(self.voted, power)?;
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
        let counted = sub(self.voted, self.abstain, "votes not abstaining")?;
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
    vote: Option<Vec<(VoteOption, Dec)>>,
}

/// A tally in progress: the bonded validators, then one vote at a time, so that votes can be
/// read a page at a time.
///
/// Cost: one read of every validator, then per vote one read of the voter's delegations. Each
/// vote and each delegation was a transaction its sender paid gas for; the number of votes on a
/// proposal is not capped (a cap would let dust accounts fill it and lock real voters out).
pub struct Tallier {
    validators: BTreeMap<Address, Weighing>,
    tally: Tally,
}

impl Tallier {
    pub fn new(staking: &surety_staking::Staking, ctx: &mut Ctx) -> Result<Tallier, Error> {
        let mut validators = BTreeMap::new();
        let mut tally = Tally::default();
        for v in staking.bonded_validators(ctx)? {
            tally.bonded = add(tally.bonded, v.tokens)?;
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
        Ok(Tallier { validators, tally })
    }

    /// Counts one vote: the voter's delegations now, its validator's remainder at the end.
    pub fn count(
        &mut self,
        staking: &surety_staking::Staking,
        ctx: &mut Ctx,
        vote: &Vote,
    ) -> Result<(), Error> {
        let voter = Address::from_bech32(&vote.voter)?;
        // Checked again: a stored vote must weigh exactly its voter's stake.
        let opts = vote_options(&vote.options)?;
        if let Some(w) = self.validators.get_mut(&voter) {
            w.vote = Some(opts.clone());
        }
        for (validator, shares) in staking.delegations_of(ctx, &voter)? {
            let Some(w) = self.validators.get_mut(&validator) else {
                continue;
            };
            if w.shares == 0 {
                continue;
            }
            w.deducted = add(w.deducted, shares.0)?;
            let power = mul_div(shares.0, w.tokens, w.shares, Round::Down)?;
            self.tally.add(&opts, power)?;
        }
        Ok(())
    }

    /// Adds each voting validator's remaining power (its own and its silent delegators').
    pub fn finish(mut self) -> Result<Tally, Error> {
        for w in self.validators.values() {
            if let (Some(opts), true) = (&w.vote, w.shares > 0) {
                let remaining = sub(w.shares, w.deducted, "validator shares not deducted")?;
                let power = mul_div(remaining, w.tokens, w.shares, Round::Down)?;
                self.tally.add(opts, power)?;
            }
        }
        Ok(self.tally)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weighted(options: &[(VoteOption, u128)]) -> Vec<(VoteOption, Dec)> {
        options.iter().map(|(o, w)| (*o, Dec(*w))).collect()
    }

    #[test]
    fn corrupt_weights_are_an_error_not_a_wrap() {
        let mut t = Tally::default();
        let huge = weighted(&[(VoteOption::Yes, u128::MAX)]);
        assert!(t.add(&huge, 1_000_000_000_000_000_000_000).is_err());
        let mut t = Tally {
            yes: u128::MAX,
            ..Tally::default()
        };
        assert!(t
            .add(&weighted(&[(VoteOption::Yes, Dec::SCALE)]), 1)
            .is_err());
        let mut t = Tally {
            voted: u128::MAX,
            ..Tally::default()
        };
        assert!(t
            .add(&weighted(&[(VoteOption::No, Dec::SCALE)]), 1)
            .is_err());
        let stored = [surety_proto::cosmos::gov::v1::WeightedVoteOption {
            option: VoteOption::Yes as i32,
            weight: "1000000".into(),
        }];
        let e = vote_options(&stored).unwrap_err();
        assert_eq!((e.codespace, e.code), ("gov", 8));
    }

    #[test]
    fn weighted_power_splits_without_exceeding_the_stake() {
        let mut t = Tally::default();
        let third = Dec::SCALE / 3;
        let opts = weighted(&[
            (VoteOption::Yes, third),
            (VoteOption::No, third),
            (VoteOption::Abstain, Dec::SCALE - 2 * third),
        ]);
        t.add(&opts, 1_000).unwrap();
        assert_eq!((t.yes, t.no, t.abstain, t.voted), (333, 333, 333, 1_000));
        assert!(t.yes + t.no + t.abstain + t.veto <= t.voted);
    }

    #[test]
    fn verdict_follows_the_params() {
        let params = crate::default_params();
        let t = Tally {
            yes: 60,
            no: 40,
            voted: 100,
            bonded: 200,
            ..Tally::default()
        };
        assert!(t.verdict(&params, false).unwrap().passes);
        assert!(!t.verdict(&params, true).unwrap().passes);
        let short = Tally { bonded: 1_000, ..t };
        assert_eq!(
            short.verdict(&params, false).unwrap().reason,
            "quorum not reached"
        );
        let corrupt = Tally { abstain: 101, ..t };
        assert!(corrupt.verdict(&params, false).is_err());
    }
}
