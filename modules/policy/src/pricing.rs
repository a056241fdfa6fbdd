//! The premium formula, public and reproducible by query.
//!
//! The annual rate at utilisation U is `base + slope1·min(U, kink) + slope2·max(0, U − kink)`
//! (basis points). A purchase that raises a pool's cover in force from x₀ to x₁ pays the rate
//! integrated over that rise — so its price reflects the utilisation it causes, and splitting an
//! order into parts costs exactly the same before rounding (and, as each part rounds up, never
//! less after). Premium = ∫ rate dx × days / 365.

use surety_framework::math::{Round, Wide};
use surety_framework::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Curve {
    pub base_bps: u32,
    pub slope1_bps: u32,
    pub slope2_bps: u32,
    pub kink_bps: u32,
}

const BPS: u128 = 10_000;
const DAYS_PER_YEAR: u128 = 365;

impl Curve {
    /// Twice the integral of `min(X, K)` from 0 to X: `min(X,K)² + 2K·max(0, X−K)`.
    fn twice_g1(x: u128, k: u128) -> Result<Wide, Error> {
        let below = x.min(k);
        Wide::product(&[below, below])?.plus(Wide::product(&[2, k, x.saturating_sub(k)])?)
    }

    /// Twice the integral of `max(0, X − K)` from 0 to X.
    fn twice_g2(x: u128, k: u128) -> Result<Wide, Error> {
        let above = x.saturating_sub(k);
        Wide::product(&[above, above])
    }

    /// The premium for raising cover in force from `before` to `before + amount` in a pool of
    /// `capacity`, for `days`, rounded up.
    pub fn premium(
        &self,
        capacity: u128,
        before: u128,
        amount: u128,
        days: u32,
    ) -> Result<u128, Error> {
        if amount == 0 {
            return Ok(0);
        }
        if capacity == 0 {
            return Err(surety_framework::sdk::invalid_request(
                "pool has no capacity",
            ));
        }
        let too_large = || surety_framework::sdk::invalid_request("cover amount too large");
        let after = before.checked_add(amount).ok_or_else(too_large)?;
        // Utilisation in basis points is X / C with X = x·10⁴; the kink sits at K = kink·C.
        let x0 = before.checked_mul(BPS).ok_or_else(too_large)?;
        let x1 = after.checked_mul(BPS).ok_or_else(too_large)?;
        let k = (self.kink_bps as u128)
            .checked_mul(capacity)
            .ok_or_else(too_large)?;
        let base = Wide::product(&[2, self.base_bps as u128, amount, BPS * BPS, capacity])?;
        let slope1 = Wide::product(&[self.slope1_bps as u128])?
            .times(Curve::twice_g1(x1, k)?.minus(Curve::twice_g1(x0, k)?)?)?;
        let slope2 = Wide::product(&[self.slope2_bps as u128])?
            .times(Curve::twice_g2(x1, k)?.minus(Curve::twice_g2(x0, k)?)?)?;
        let numerator = base
            .plus(slope1)?
            .plus(slope2)?
            .times(Wide::product(&[days as u128])?)?;
        let denominator = Wide::product(&[2, BPS * BPS, capacity, DAYS_PER_YEAR, BPS])?;
        numerator.div(denominator, Round::Up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURVE: Curve = Curve {
        base_bps: 200,
        slope1_bps: 400,
        slope2_bps: 6_000,
        kink_bps: 8_000,
    };

    /// An independent re-computation: the annual rate at each utilisation, integrated
    /// numerically with the midpoint rule in floating point (tests only).
    fn reference(curve: Curve, capacity: f64, before: f64, amount: f64, days: f64) -> f64 {
        let rate = |x: f64| {
            let u = x / capacity;
            let kink = curve.kink_bps as f64 / 1e4;
            (curve.base_bps as f64
                + curve.slope1_bps as f64 * u.min(kink)
                + curve.slope2_bps as f64 * (u - kink).max(0.0))
                / 1e4
        };
        let steps = 200_000;
        let dx = amount / steps as f64;
        let integral: f64 = (0..steps)
            .map(|i| rate(before + (i as f64 + 0.5) * dx) * dx)
            .sum();
        integral * days / 365.0
    }

    #[test]
    fn matches_an_independent_numerical_integration() {
        let capacity = 2_000_000_000_000u128;
        for (before, amount, days) in [
            (0u128, 100_000_000_000u128, 365u32),
            (0, 1_500_000_000_000, 90),
            (1_000_000_000_000, 800_000_000_000, 28), // crosses the kink
            (1_700_000_000_000, 250_000_000_000, 180), // above the kink
            (0, 1, 30),
        ] {
            let exact = CURVE.premium(capacity, before, amount, days).unwrap();
            let expected = reference(
                CURVE,
                capacity as f64,
                before as f64,
                amount as f64,
                days as f64,
            );
            let tolerance = (expected * 1e-9).max(1.0);
            assert!(
                (exact as f64 - expected).abs() <= tolerance,
                "before {before} amount {amount} days {days}: {exact} vs {expected}"
            );
            assert!(
                exact as f64 >= expected - 1e-6,
                "rounds up, toward the protocol"
            );
        }
    }

    #[test]
    fn a_flat_curve_charges_the_base_rate() {
        let flat = Curve {
            base_bps: 250,
            slope1_bps: 0,
            slope2_bps: 0,
            kink_bps: 8_000,
        };
        // 2.5% a year on 1 000 000 for 73 days (a fifth of a year) = 5 000.
        assert_eq!(flat.premium(10_000_000, 0, 1_000_000, 73).unwrap(), 5_000);
    }

    #[test]
    fn premium_grows_with_amount_term_and_utilisation() {
        let c = 1_000_000_000u128;
        let p = |before, amount, days| CURVE.premium(c, before, amount, days).unwrap();
        assert!(p(0, 20_000_000, 90) > p(0, 10_000_000, 90));
        assert!(p(0, 10_000_000, 180) > p(0, 10_000_000, 90));
        assert!(p(500_000_000, 10_000_000, 90) > p(0, 10_000_000, 90));
        assert!(p(850_000_000, 10_000_000, 90) > p(500_000_000, 10_000_000, 90));
    }

    #[test]
    fn splitting_an_order_never_costs_less() {
        let c = 1_000_000_000u128;
        for parts in [2u128, 3, 7, 50] {
            let total = 900_000_007u128;
            let whole = CURVE.premium(c, 0, total, 200).unwrap();
            let mut before = 0;
            let mut split = 0;
            for i in 0..parts {
                let amount = total / parts + u128::from(i < total % parts);
                split += CURVE.premium(c, before, amount, 200).unwrap();
                before += amount;
            }
            assert!(split >= whole, "{parts} parts: {split} < {whole}");
            assert!(split - whole < parts, "only rounding separates them");
        }
    }

    #[test]
    fn absurd_amounts_are_errors_not_panics() {
        assert!(CURVE
            .premium(u128::MAX, u128::MAX / 2, u128::MAX / 2, 365)
            .is_err());
        assert!(CURVE.premium(0, 0, 1, 365).is_err());
    }
}
