//! The two random draws of the model, implemented here so that the stream of
//! random numbers (and hence every result) is fixed by this crate alone.

use rand::Rng;

/// Largest Poisson mean drawn in one inversion pass. Larger means are split
/// into chunks (a sum of independent Poissons is Poisson), which keeps
/// `exp(-mean)` far from underflow.
const POISSON_CHUNK: f64 = 256.0;

/// Draws an incident count from `Poisson(mean)`; `mean <= 0` gives 0 without
/// consuming randomness.
pub(crate) fn poisson<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> u64 {
    let mut remaining = mean;
    let mut count = 0;
    while remaining > 0.0 {
        let chunk = remaining.min(POISSON_CHUNK);
        remaining -= chunk;
        count += poisson_inversion(rng, chunk);
    }
    count
}

/// Inversion by sequential search: the smallest `k` with `P(N <= k) > u`.
fn poisson_inversion<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> u64 {
    let u: f64 = rng.gen();
    let mut k = 0u64;
    let mut p = (-mean).exp();
    let mut cdf = p;
    while u >= cdf {
        k += 1;
        p *= mean / k as f64;
        cdf += p;
        // Rounding can leave the summed CDF a hair below a `u` close to 1;
        // past the mode, stop once the remaining terms no longer move it.
        if k as f64 > mean && p <= f64::EPSILON * cdf {
            break;
        }
    }
    k
}

/// Draws the fraction of exposure lost by one incident from `Beta(1, b)` with
/// `b = 1/mean − 1`, whose mean is exactly `mean`. Its CDF
/// `1 − (1 − x)^b` inverts in closed form: `x = 1 − u^(1/b)` for uniform
/// `u ∈ [0, 1)`, giving values in `(0, 1]`. A mean of 1 is the degenerate
/// total-loss case and consumes no randomness.
pub(crate) fn severity<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> f64 {
    if mean >= 1.0 {
        return 1.0;
    }
    let b = 1.0 / mean - 1.0;
    let u: f64 = rng.gen();
    // 1 − exp(ln(u)/b), accurate for tiny means; u = 0 gives exactly 1.
    -(u.ln() / b).exp_m1()
}
