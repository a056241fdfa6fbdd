//! How a pool shares premiums and losses with its reinsurer. Pure functions, so the splits can be
//! checked exactly.

use surety_framework::math::{add, apply_bps, parse_amount, sub, Round};
use surety_framework::Error;
use surety_proto::surety::pool::v1::Reinsurance;

/// A reinsurance treaty with its amounts parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Treaty {
    pub reinsurer: u64,
    pub quota_share_bps: u32,
    pub xol_retention: u128,
    pub xol_limit: u128,
    pub xol_premium_bps: u32,
}

/// How one loss divides between the ceding pool and its reinsurer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LossSplit {
    /// Paid by the ceding pool.
    pub retained: u128,
    /// Paid by the reinsurer under the quota share.
    pub quota_share: u128,
    /// Paid by the reinsurer under the excess-of-loss cover.
    pub excess: u128,
}

impl LossSplit {
    /// Everything the reinsurer pays: quota share and excess of loss.
    pub fn ceded(&self) -> Result<u128, Error> {
        add(self.quota_share, self.excess)
    }
}

/// How one premium divides between the ceding pool and its reinsurer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PremiumSplit {
    pub retained: u128,
    pub ceded: u128,
}

impl Treaty {
    pub fn from_proto(r: &Reinsurance) -> Result<Treaty, Error> {
        Ok(Treaty {
            reinsurer: r.reinsurer_pool_id,
            quota_share_bps: r.quota_share_bps,
            xol_retention: parse_amount(&r.xol_retention, "xol_retention")?,
            xol_limit: parse_amount(&r.xol_limit, "xol_limit")?,
            xol_premium_bps: r.xol_premium_bps,
        })
    }

    /// The excess-of-loss recovery on a cumulative retained loss for one incident.
    fn excess_on(&self, cumulative: u128) -> u128 {
        cumulative
            .saturating_sub(self.xol_retention)
            .min(self.xol_limit)
    }

    /// Splits a loss of `amount` for an incident on which the pool has already retained
    /// `retained_before` (after quota share): the quota share takes its fraction first (rounded
    /// down, so the reinsurer never pays more than its share), then the excess-of-loss cover pays
    /// the part of the incident's retained total above the retention, up to the limit.
    pub fn split_loss(&self, retained_before: u128, amount: u128) -> Result<LossSplit, Error> {
        let quota_share = apply_bps(amount, self.quota_share_bps, Round::Down)?;
        let after_quota = sub(amount, quota_share, "loss after quota share")?;
        let excess = sub(
            self.excess_on(add(retained_before, after_quota)?),
            self.excess_on(retained_before),
            "excess of loss",
        )?;
        Ok(LossSplit {
            retained: sub(after_quota, excess, "retained loss")?,
            quota_share,
            excess,
        })
    }

    /// What a total loss of `exposure` in one incident would cost each side.
    pub fn split_exposure(&self, exposure: u128) -> Result<LossSplit, Error> {
        self.split_loss(0, exposure)
    }

    /// The quota share of the premium, plus the excess-of-loss premium on what remains.
    pub fn split_premium(&self, premium: u128) -> Result<PremiumSplit, Error> {
        let quota = apply_bps(premium, self.quota_share_bps, Round::Down)?;
        let after_quota = sub(premium, quota, "premium after quota share")?;
        let excess = if self.xol_limit > 0 {
            apply_bps(after_quota, self.xol_premium_bps, Round::Down)?
        } else {
            0
        };
        Ok(PremiumSplit {
            retained: sub(after_quota, excess, "retained premium")?,
            ceded: add(quota, excess)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn treaty(quota_share_bps: u32, xol_retention: u128, xol_limit: u128) -> Treaty {
        Treaty {
            reinsurer: 2,
            quota_share_bps,
            xol_retention,
            xol_limit,
            xol_premium_bps: 1_000,
        }
    }

    #[test]
    fn quota_share_takes_its_fraction_of_every_loss() {
        let t = treaty(3_000, 0, 0);
        let s = t.split_loss(0, 1_000_000).unwrap();
        assert_eq!(
            s,
            LossSplit {
                retained: 700_000,
                quota_share: 300_000,
                excess: 0
            }
        );
        // Rounding favours the ceding pool's own payment, never the reinsurer's share.
        let s = t.split_loss(0, 7).unwrap();
        assert_eq!((s.retained, s.quota_share), (5, 2));
    }

    #[test]
    fn excess_of_loss_pays_above_the_retention_up_to_the_limit_per_incident() {
        let t = treaty(0, 100_000, 50_000);
        assert_eq!(t.split_loss(0, 80_000).unwrap().excess, 0);
        // The incident's second loss crosses the retention: only the part above it is ceded.
        let s = t.split_loss(80_000, 40_000).unwrap();
        assert_eq!(
            s,
            LossSplit {
                retained: 20_000,
                quota_share: 0,
                excess: 20_000
            }
        );
        // The limit caps the reinsurer's total for the incident.
        let s = t.split_loss(120_000, 100_000).unwrap();
        assert_eq!(
            s,
            LossSplit {
                retained: 70_000,
                quota_share: 0,
                excess: 30_000
            }
        );
        let s = t.split_loss(220_000, 10_000).unwrap();
        assert_eq!(s.excess, 0);
    }

    #[test]
    fn quota_share_applies_before_excess_of_loss() {
        // 1 000 000 loss: 20% quota share = 200 000; retained 800 000 exceeds the 500 000
        // retention by 300 000, capped at the 250 000 limit.
        let t = treaty(2_000, 500_000, 250_000);
        let s = t.split_exposure(1_000_000).unwrap();
        assert_eq!(
            s,
            LossSplit {
                retained: 550_000,
                quota_share: 200_000,
                excess: 250_000
            }
        );
        assert_eq!(s.retained + s.ceded().unwrap(), 1_000_000);
    }

    #[test]
    fn premiums_are_ceded_for_both_covers() {
        let t = treaty(2_000, 500_000, 250_000);
        // 20% of 10 000 = 2 000 quota share; 10% of the remaining 8 000 = 800 for the XoL cover.
        let p = t.split_premium(10_000).unwrap();
        assert_eq!(
            p,
            PremiumSplit {
                retained: 7_200,
                ceded: 2_800
            }
        );
        let no_xol = treaty(2_000, 0, 0).split_premium(10_000).unwrap();
        assert_eq!(
            no_xol,
            PremiumSplit {
                retained: 8_000,
                ceded: 2_000
            }
        );
    }
}
