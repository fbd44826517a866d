//! Anytime-valid statistics: confidence sequences and mixture likelihood ratios that stay
//! valid however often they are looked at.
//!
//! A fixed-horizon test checked every few seconds rejects a true null far more often than its
//! alpha: every look is another chance. The statistics here are *test martingales*: mixtures
//! of likelihood ratios `M_t` whose expectation under the null is at most 1 at every time, so
//! by Ville's inequality `P(M_t ≥ 1/α at any time) ≤ α`. Inverting the test gives a
//! *confidence sequence*: intervals that contain the true value at every time at once, with
//! probability at least `1 − α`. Deciding "fail when the lower bound is above the limit" on such
//! an interval, at every tick, has a false-failure probability of at most α over the whole run.
//!
//! - [`beta_binomial_log_evidence`] / [`beta_binomial_confidence`]: a Bernoulli rate (an error
//!   rate, the fraction of requests slower than a threshold). Robbins' (1970) conjugate
//!   beta-binomial mixture, as in Howard, Ramdas, McAuliffe & Sekhon (2021), "Time-uniform,
//!   nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2). Exact: no normal
//!   approximation, valid from the first request.
//! - [`RateRatio`]: the ratio of two event rates per unit of exposure (canary errors per request
//!   over baseline errors per request), *conditional on the total number of events*: given the
//!   exposures, each event is a canary event with probability `ρπ / (ρπ + 1 − π)`, `π` the
//!   canary's share of the exposure. The baseline rate drops out, so the test is exact at small
//!   counts and unaffected by errors that rise and fall in both arms together (Lindon & Malek,
//!   "Anytime-valid inference for multinomial count data", NeurIPS 2022; Netflix's sequential
//!   canary testing of counting processes). Segments with different shares (canary stages)
//!   multiply, so evidence carries from one stage to the next. The mixture is a normal prior
//!   on `ln ρ`, integrated numerically.
//! - [`NormalMixture`]: the mixture SPRT of Johari, Koomen, Pekelis & Walsh (2017/2022, "Always
//!   valid inference") for an asymptotically normal estimate (a difference of means or
//!   proportions): a normal prior `N(0, τ²)` on the effect gives a closed form. Its inversion is
//!   the normal-mixture confidence sequence (Robbins 1970; Howard et al. 2021, eq. (14)), which
//!   with an estimated variance is the asymptotic confidence sequence of Waudby-Smith, Arbour,
//!   Sinha, Kennedy & Ramdas (2024) that GrowthBook's sequential mode uses.
//!
//! Every function checks its inputs and returns a [`StatsError`] instead of a NaN.

use serde::{Deserialize, Serialize};

use super::{check_finite, check_probability, StatsError};

/// An interval of a confidence sequence. `upper` may be `f64::INFINITY` (no upper bound yet);
/// it is never NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

// ---------------------------------------------------------------------------------------------
// Numerics shared by the statistics below.

/// ln(1 + e^x) without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// 1 / (1 + e^-x) without overflow.
fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// ln B(a, b) for a, b > 0 (callers check).
fn ln_beta(a: f64, b: f64) -> f64 {
    super::special::ln_beta(a, b)
}

/// Where `f` (concave, returning its value and slope) falls to `target`, searching from
/// `start` (where `f(start) > target`) in `direction` (+1 or −1). `None` when `f` stays above
/// `target` out to `limit` (the bound is infinite in that direction).
///
/// Newton steps taken from the outside of a concave function never overshoot the crossing
/// (the tangent lies above the function), so they are kept, inside a bisection bracket.
fn concave_crossing(f: impl Fn(f64) -> (f64, f64), start: f64, direction: f64, target: f64, limit: f64) -> Option<f64> {
    let mut inside = start;
    let mut step = 0.5;
    let mut outside = loop {
        let candidate = start + direction * step;
        let beyond = direction * (candidate - limit) >= 0.0;
        let x = if beyond { limit } else { candidate };
        if f(x).0 <= target {
            break x;
        }
        if beyond {
            return None;
        }
        inside = x;
        step *= 2.0;
    };
    for _ in 0..200 {
        let (value, slope) = f(outside);
        if (value - target).abs() <= 1e-11 * (1.0 + target.abs()) {
            return Some(outside);
        }
        let newton = outside - (value - target) / slope;
        let next = if newton.is_finite() && (newton - inside) * (newton - outside) < 0.0 {
            newton
        } else {
            0.5 * (inside + outside)
        };
        if f(next).0 > target {
            inside = next;
        } else {
            outside = next;
        }
        if (outside - inside).abs() <= 1e-13 * (1.0 + outside.abs()) {
            break;
        }
    }
    Some(0.5 * (inside + outside))
}

// ---------------------------------------------------------------------------------------------
// One Bernoulli rate: Robbins' beta-binomial mixture.

/// The Beta prior of the beta-binomial mixture. Any fixed prior gives a valid confidence
/// sequence; the prior decides where it is tightest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BetaPrior {
    pub a: f64,
    pub b: f64,
}

impl BetaPrior {
    /// `Beta(1, (1 − p)/p)`: mean `p` (a gate's threshold), an exponential-like shape that
    /// puts weight both on rates well below `p` (so healthy arms pass early) and a few times
    /// above it. Measured against other shapes in `scripts/gen-sequential-reference.py`.
    pub fn centered_on(rate: f64) -> BetaPrior {
        let p = rate.clamp(1e-9, 0.5);
        BetaPrior { a: 1.0, b: (1.0 - p) / p }
    }

    fn check(&self) -> Result<(), StatsError> {
        for (field, v) in [("prior.a", self.a), ("prior.b", self.b)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(StatsError::invalid(field, format!("must be a finite number > 0, got {v}")));
            }
        }
        Ok(())
    }
}

/// ln M, the log mixture likelihood ratio of `successes` in `trials` against the rate `p0`:
///
/// M = B(a + S, b + F) / B(a, b) / (p0^S (1 − p0)^F),  F = trials − S.
///
/// Counts are reals so that projections ("how many more requests") can use fractional counts.
/// `+∞` when the data are impossible under `p0` (a success against `p0 = 0`).
pub fn beta_binomial_log_evidence(successes: f64, trials: f64, p0: f64, prior: BetaPrior) -> Result<f64, StatsError> {
    prior.check()?;
    check_counts(successes, trials)?;
    if !(0.0..=1.0).contains(&p0) {
        return Err(StatsError::invalid("p0", format!("must be within [0, 1], got {p0}")));
    }
    let failures = trials - successes;
    let log_likelihood = match (successes > 0.0, failures > 0.0) {
        (true, _) if p0 == 0.0 => return Ok(f64::INFINITY),
        (_, true) if p0 == 1.0 => return Ok(f64::INFINITY),
        _ => xlogy(successes, p0) + xlogy(failures, 1.0 - p0),
    };
    Ok(ln_beta(prior.a + successes, prior.b + failures) - ln_beta(prior.a, prior.b) - log_likelihood)
}

/// x ln y with 0 ln 0 = 0.
fn xlogy(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x * y.ln()
    }
}

fn check_counts(successes: f64, trials: f64) -> Result<(), StatsError> {
    if !(successes.is_finite() && trials.is_finite() && successes >= 0.0 && trials >= successes) {
        return Err(StatsError::invalid("successes", format!("{successes} successes out of {trials} trials")));
    }
    Ok(())
}

/// The confidence sequence of a Bernoulli rate at level `1 − alpha`: every `p` with
/// `ln M(p) < ln(1/alpha)`. Without data it is `[0, 1]`.
pub fn beta_binomial_confidence(successes: u64, trials: u64, prior: BetaPrior, alpha: f64) -> Result<Interval, StatsError> {
    Ok(Interval {
        lower: beta_binomial_bound(successes, trials, prior, alpha, -1.0)?,
        upper: beta_binomial_bound(successes, trials, prior, alpha, 1.0)?,
    })
}

/// One end of [`beta_binomial_confidence`]: `side` −1 for the lower bound, +1 for the upper.
pub fn beta_binomial_bound(successes: u64, trials: u64, prior: BetaPrior, alpha: f64, side: f64) -> Result<f64, StatsError> {
    check_probability("alpha", alpha)?;
    prior.check()?;
    if successes > trials {
        return Err(StatsError::invalid("successes", format!("{successes} successes out of {trials} trials")));
    }
    let at_edge = if side < 0.0 { successes == 0 } else { successes == trials };
    if at_edge {
        return Ok(if side < 0.0 { 0.0 } else { 1.0 });
    }
    let (s, f) = (successes as f64, (trials - successes) as f64);
    // In y = logit(p) the log likelihood g(y) = −S softplus(−y) − F softplus(y) is concave,
    // and the interval is where it is above C.
    let target = ln_beta(prior.a + s, prior.b + f) - ln_beta(prior.a, prior.b) - (1.0 / alpha).ln();
    let g = |y: f64| {
        let (sp, p) = (softplus(y), logistic(y));
        (-s * (sp - y) - f * sp, s * (1.0 - p) - f * p)
    };
    let start = match (successes, trials - successes) {
        (0, _) => -700.0,
        (_, 0) => 700.0,
        _ => (s / f).ln(),
    };
    let edge = if side < 0.0 { 0.0 } else { 1.0 };
    Ok(concave_crossing(g, start, side, target, 745.0 * side).map_or(edge, logistic))
}

/// How many trials in all the upper bound (at level `1 − alpha`) needs to fall below `limit`
/// if the rate stays at `rate`: the smallest `n` with `ln M(limit) ≥ ln(1/alpha)` for
/// `rate · n` successes in `n`. `None` when `rate ≥ limit` (it never will) or beyond 10¹⁵.
pub fn beta_binomial_trials_to_pass(rate: f64, limit: f64, prior: BetaPrior, alpha: f64) -> Result<Option<u64>, StatsError> {
    check_probability("alpha", alpha)?;
    check_finite("rate", rate)?;
    if !(0.0..=1.0).contains(&rate) || !(0.0..=1.0).contains(&limit) {
        return Err(StatsError::invalid("rate", format!("rate {rate} and limit {limit} must be within [0, 1]")));
    }
    if rate >= limit {
        return Ok(None);
    }
    let threshold = (1.0 / alpha).ln();
    let passes = |n: f64| -> Result<bool, StatsError> { Ok(beta_binomial_log_evidence(rate * n, n, limit, prior)? >= threshold) };
    if passes(1.0)? {
        return Ok(Some(1));
    }
    let mut high = 2.0;
    while !passes(high)? {
        high *= 2.0;
        if high > 1e15 {
            return Ok(None);
        }
    }
    let mut low = high / 2.0;
    // First crossing inside (low, high]: ln M grows about linearly there.
    while high - low > 1.0 {
        let mid = (0.5 * (low + high)).floor();
        if passes(mid)? {
            high = mid;
        } else {
            low = mid;
        }
    }
    Ok(Some(high as u64))
}

// ---------------------------------------------------------------------------------------------
// Ratio of two event rates, conditional on the total: one Bernoulli per event.

/// Events and exposure of both arms over one segment during which the canary's share of the
/// exposure is constant (one canary stage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountPair {
    pub canary_events: u64,
    pub canary_exposure: u64,
    pub baseline_events: u64,
    pub baseline_exposure: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    /// ln(canary exposure / baseline exposure) = logit of the canary's share.
    offset: f64,
    canary: f64,
    baseline: f64,
}

/// The mixture likelihood ratio for `ρ` = canary rate / baseline rate over one or more
/// segments, with a normal prior `N(0, prior_sd²)` on `ln ρ`.
///
/// With `x = ln ρ`, an event of segment `s` is a canary event with probability
/// `σ(x + c_s)`, `c_s = ln(canary exposure / baseline exposure)`; the log likelihood
/// `L(x) = Σ_s E1_s ln σ(x + c_s) + E0_s ln(1 − σ(x + c_s))` is concave, and
/// `M(ρ0) = ∫ φ(x) e^{L(x)} dx / e^{L(ln ρ0)}` is a test martingale for `ρ = ρ0`; for
/// `ρ ≤ ρ0` the lower confidence bound is above `ρ0` with probability at most `α`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateRatio {
    segments: Vec<Segment>,
    prior_sd: f64,
    /// ln ∫ φ(x) e^{L(x)} dx.
    log_mixture: f64,
    /// Where φ(x) e^{L(x)} peaks (a point inside the confidence sequence).
    posterior_mode: f64,
}

impl RateRatio {
    /// Segments where an arm has no exposure or no event carry no information and are skipped.
    pub fn new(pairs: &[CountPair], prior_sd: f64) -> Result<RateRatio, StatsError> {
        if !(prior_sd.is_finite() && prior_sd > 0.0) {
            return Err(StatsError::invalid("prior_sd", format!("must be a finite number > 0, got {prior_sd}")));
        }
        let mut segments = Vec::new();
        for (i, p) in pairs.iter().enumerate() {
            if p.canary_events > p.canary_exposure || p.baseline_events > p.baseline_exposure {
                return Err(StatsError::invalid(&format!("segments[{i}]"), "more events than exposure"));
            }
            if p.canary_exposure == 0 || p.baseline_exposure == 0 || (p.canary_events == 0 && p.baseline_events == 0) {
                continue;
            }
            segments.push(Segment {
                offset: (p.canary_exposure as f64).ln() - (p.baseline_exposure as f64).ln(),
                canary: p.canary_events as f64,
                baseline: p.baseline_events as f64,
            });
        }
        let mut ratio = RateRatio { segments, prior_sd, log_mixture: 0.0, posterior_mode: 0.0 };
        ratio.integrate();
        Ok(ratio)
    }

    /// L(x) and L'(x).
    fn log_likelihood(&self, x: f64) -> (f64, f64) {
        self.segments.iter().fold((0.0, 0.0), |(value, slope), s| {
            let z = x + s.offset;
            let (sp, p) = (softplus(z), logistic(z));
            (value - s.canary * (sp - z) - s.baseline * sp, slope + s.canary * (1.0 - p) - s.baseline * p)
        })
    }

    /// h(x) = ln φ(x) + L(x), up to the prior's constant.
    fn log_posterior(&self, x: f64) -> f64 {
        let var = self.prior_sd * self.prior_sd;
        let l: f64 = self
            .segments
            .iter()
            .map(|s| {
                let z = x + s.offset;
                // softplus(−z) = softplus(z) − z
                let sp = softplus(z);
                -s.canary * (sp - z) - s.baseline * sp
            })
            .sum();
        l - x * x / (2.0 * var)
    }

    /// L''(x) (≤ 0).
    fn curvature(&self, x: f64) -> f64 {
        -self
            .segments
            .iter()
            .map(|s| {
                let p = logistic(x + s.offset);
                (s.canary + s.baseline) * p * (1.0 - p)
            })
            .sum::<f64>()
    }

    /// The maximum of a concave function from its slope and curvature: Newton steps inside a
    /// bracket of the slope's sign change, bisection when a step leaves it.
    fn maximize(slope: impl Fn(f64) -> f64, curvature: impl Fn(f64) -> f64, start: f64) -> f64 {
        let (mut low, mut high) = (start - 1.0, start + 1.0);
        while slope(low) < 0.0 && low > -700.0 {
            low = start - 2.0 * (start - low);
        }
        while slope(high) > 0.0 && high < 700.0 {
            high = start + 2.0 * (high - start);
        }
        let mut x = start.clamp(low, high);
        for _ in 0..200 {
            let d = slope(x);
            if d == 0.0 || (high - low).abs() < 1e-13 * (1.0 + x.abs()) {
                break;
            }
            if d > 0.0 {
                low = x;
            } else {
                high = x;
            }
            let newton = x - d / curvature(x);
            x = if newton.is_finite() && newton > low && newton < high { newton } else { 0.5 * (low + high) };
        }
        x
    }

    /// The mode of h, then ∫ e^h by the trapezoid rule on a grid of half the posterior's
    /// standard deviation (at most 0.25), out to where e^h is 1e-14 of its peak. The
    /// integrand is analytic in a strip of half-width π around the real axis (softplus has its
    /// poles at iπ(2k + 1)), where the trapezoid rule converges like e^(−2π²/step): far below
    /// 1e-12 here (checked against scipy's quad in tests/sequential_reference.rs).
    fn integrate(&mut self) {
        if self.segments.is_empty() {
            // The prior alone integrates to 1: M ≡ 1.
            return;
        }
        let var = self.prior_sd * self.prior_sd;
        let x = Self::maximize(|x| self.log_likelihood(x).1 - x / var, |x| self.curvature(x) - 1.0 / var, 0.0);
        let peak = self.log_posterior(x);
        // At most 0.25 on the ln ρ axis, so the strip bound holds for wide priors too.
        let width = (0.5 / (1.0 / var - self.curvature(x)).sqrt()).min(0.25);
        let mut sum = 1.0;
        for direction in [-1.0, 1.0] {
            for k in 1..100_000 {
                let term = (self.log_posterior(x + direction * width * k as f64) - peak).exp();
                sum += term;
                if term < 1e-14 {
                    break;
                }
            }
        }
        let ln_prior_constant = -(self.prior_sd * (2.0 * std::f64::consts::PI).sqrt()).ln();
        self.posterior_mode = x;
        self.log_mixture = peak + ln_prior_constant + (sum * width).ln();
    }

    /// ln M(ρ0) for `rho0 > 0`.
    pub fn log_evidence(&self, rho0: f64) -> Result<f64, StatsError> {
        if !(rho0.is_finite() && rho0 > 0.0) {
            return Err(StatsError::invalid("rho0", format!("must be a finite number > 0, got {rho0}")));
        }
        Ok(self.log_mixture - self.log_likelihood(rho0.ln()).0)
    }

    /// Whether the data lean above `rho0` (the likelihood still rises there).
    pub fn leans_above(&self, rho0: f64) -> bool {
        rho0 > 0.0 && self.log_likelihood(rho0.ln()).1 > 0.0
    }

    /// The maximum-likelihood ratio; `None` when it is 0 or infinite (no canary events, or no
    /// baseline events) or there is no information.
    pub fn estimate(&self) -> Option<f64> {
        let canary: f64 = self.segments.iter().map(|s| s.canary).sum();
        let baseline: f64 = self.segments.iter().map(|s| s.baseline).sum();
        if canary == 0.0 || baseline == 0.0 {
            return None;
        }
        let x = Self::maximize(|x| self.log_likelihood(x).1, |x| self.curvature(x), self.posterior_mode);
        let rho = x.exp();
        (rho.is_finite() && rho > 0.0).then_some(rho)
    }

    /// The confidence sequence of ρ at level `1 − alpha`: `[0, ∞)` without information.
    pub fn confidence(&self, alpha: f64) -> Result<Interval, StatsError> {
        check_probability("alpha", alpha)?;
        if self.segments.is_empty() {
            return Ok(Interval { lower: 0.0, upper: f64::INFINITY });
        }
        let target = self.log_mixture - (1.0 / alpha).ln();
        let f = |x: f64| self.log_likelihood(x);
        let start = self.posterior_mode;
        let lower = concave_crossing(f, start, -1.0, target, -700.0).map_or(0.0, f64::exp);
        let upper = concave_crossing(f, start, 1.0, target, 700.0).map_or(f64::INFINITY, f64::exp);
        Ok(Interval { lower, upper })
    }

    /// Whether any segment carried information.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Asymptotically normal estimates: the normal-mixture SPRT.

/// An estimate (e.g. a difference of means), its variance, and the variance `τ²` of the
/// normal prior of the mixture, centred on the null.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NormalMixture {
    pub estimate: f64,
    pub variance: f64,
    pub prior_variance: f64,
}

impl NormalMixture {
    pub fn new(estimate: f64, variance: f64, prior_variance: f64) -> Result<NormalMixture, StatsError> {
        check_finite("estimate", estimate)?;
        for (field, v) in [("variance", variance), ("prior_variance", prior_variance)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(StatsError::invalid(field, format!("must be a finite number > 0, got {v}")));
            }
        }
        Ok(NormalMixture { estimate, variance, prior_variance })
    }

    /// ln Λ(θ0) = ½ ln(v / (v + τ²)) + (θ̂ − θ0)² τ² / (2 v (v + τ²)).
    pub fn log_evidence(&self, theta0: f64) -> f64 {
        let (v, t) = (self.variance, self.prior_variance);
        let d = self.estimate - theta0;
        // d²/(2v) · τ²/(v + τ²), not d² τ² / (2 v (v + τ²)): with v and τ² tiny that denominator
        // underflows to 0 and d = 0 gave 0/0 (found by the no-panic property test).
        0.5 * (v / (v + t)).ln() + d * d / (2.0 * v) * (t / (v + t))
    }

    /// Always-valid p-value of θ = θ0 at this look: min(1, 1/Λ(θ0)).
    pub fn p_value(&self, theta0: f64) -> f64 {
        (-self.log_evidence(theta0)).exp().min(1.0)
    }

    /// Half-width of the confidence sequence at level 1 − alpha:
    /// √(2 v (v + τ²)/τ² · (ln(1/α) + ½ ln((v + τ²)/v))).
    pub fn radius(&self, alpha: f64) -> Result<f64, StatsError> {
        check_probability("alpha", alpha)?;
        let (v, t) = (self.variance, self.prior_variance);
        Ok((2.0 * v * (v + t) / t * ((1.0 / alpha).ln() + 0.5 * ((v + t) / v).ln())).sqrt())
    }

    pub fn confidence(&self, alpha: f64) -> Result<Interval, StatsError> {
        let r = self.radius(alpha)?;
        Ok(Interval { lower: self.estimate - r, upper: self.estimate + r })
    }
}

/// The prior variance that makes the normal-mixture confidence sequence narrowest when the
/// estimate's variance is `target_variance` (Howard et al. 2021; Waudby-Smith et al.'s
/// `best_rho2_approx`): τ² = v* (−2 ln α + ln(1 − 2 ln α)).
pub fn tuned_prior_variance(target_variance: f64, alpha: f64) -> Result<f64, StatsError> {
    check_probability("alpha", alpha)?;
    if !(target_variance.is_finite() && target_variance > 0.0) {
        return Err(StatsError::invalid("target_variance", format!("must be a finite number > 0, got {target_variance}")));
    }
    let l = -2.0 * alpha.ln();
    Ok(target_variance * (l + (1.0 + l).ln()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_binomial_rejects_bad_input_and_handles_edges() {
        let prior = BetaPrior::centered_on(0.02);
        assert!(beta_binomial_log_evidence(3.0, 2.0, 0.1, prior).is_err());
        assert!(beta_binomial_log_evidence(1.0, 2.0, f64::NAN, prior).is_err());
        assert!(beta_binomial_log_evidence(f64::NAN, 2.0, 0.1, prior).is_err());
        assert!(beta_binomial_log_evidence(1.0, 2.0, 0.1, BetaPrior { a: 0.0, b: 1.0 }).is_err());
        assert_eq!(beta_binomial_log_evidence(1.0, 10.0, 0.0, prior), Ok(f64::INFINITY));
        assert_eq!(beta_binomial_log_evidence(0.0, 0.0, 0.3, prior), Ok(0.0));
        assert_eq!(beta_binomial_confidence(0, 0, prior, 0.05), Ok(Interval { lower: 0.0, upper: 1.0 }));
        let all = beta_binomial_confidence(50, 50, prior, 0.05).unwrap_or(Interval { lower: f64::NAN, upper: f64::NAN });
        assert_eq!(all.upper, 1.0);
        // Beta(1, 49) expects rates near 2 %: fifty failures in fifty still bound it above 25 %.
        assert!(all.lower > 0.25, "{all:?}");
        let none = beta_binomial_confidence(0, 10_000, prior, 0.05).unwrap_or(Interval { lower: f64::NAN, upper: f64::NAN });
        assert_eq!(none.lower, 0.0);
        assert!(none.upper > 0.0 && none.upper < 0.002, "{none:?}");
    }

    #[test]
    fn the_interval_is_where_the_evidence_is_below_the_threshold() {
        let prior = BetaPrior::centered_on(0.02);
        for (s, n) in [(3u64, 100u64), (20, 1000), (1, 7), (400, 100_000)] {
            let ci = beta_binomial_confidence(s, n, prior, 0.01).unwrap_or(Interval { lower: f64::NAN, upper: f64::NAN });
            for (p, inside) in [(ci.lower * 0.999, false), (ci.lower * 1.001, true), (ci.upper * 0.999, true), (ci.upper * 1.001, false)] {
                let e = beta_binomial_log_evidence(s as f64, n as f64, p, prior).unwrap_or(f64::NAN);
                assert_eq!(e < 100f64.ln(), inside, "s={s} n={n} p={p} {ci:?} e={e}");
            }
        }
    }

    #[test]
    fn trials_to_pass_is_the_first_passing_count() {
        let prior = BetaPrior::centered_on(0.02);
        let Ok(Some(n)) = beta_binomial_trials_to_pass(0.01, 0.02, prior, 0.05) else { panic!() };
        let at = |n: u64| beta_binomial_log_evidence(0.01 * n as f64, n as f64, 0.02, prior).unwrap_or(f64::NAN);
        assert!(at(n) >= 20f64.ln() && at(n - 1) < 20f64.ln(), "{n}");
        assert_eq!(beta_binomial_trials_to_pass(0.03, 0.02, prior, 0.05), Ok(None));
    }

    #[test]
    fn rate_ratio_without_information_is_unbounded() {
        let r = RateRatio::new(&[CountPair { canary_events: 0, canary_exposure: 10, baseline_events: 0, baseline_exposure: 10 }], 0.7);
        let Ok(r) = r else { panic!() };
        assert!(r.is_empty());
        assert_eq!(r.confidence(0.05), Ok(Interval { lower: 0.0, upper: f64::INFINITY }));
        assert_eq!(r.log_evidence(1.0), Ok(0.0));
        assert!(RateRatio::new(&[CountPair { canary_events: 2, canary_exposure: 1, baseline_events: 0, baseline_exposure: 1 }], 0.7).is_err());
        assert!(RateRatio::new(&[], f64::NAN).is_err());
    }

    #[test]
    fn rate_ratio_bounds_bracket_the_estimate_and_only_canary_events_have_no_upper_bound() {
        let pair = |ce, cn, be, bn| CountPair { canary_events: ce, canary_exposure: cn, baseline_events: be, baseline_exposure: bn };
        let Ok(r) = RateRatio::new(&[pair(40, 1000, 100, 9000), pair(30, 2500, 60, 7500)], 0.7) else { panic!() };
        let (Some(est), Ok(ci)) = (r.estimate(), r.confidence(0.01)) else { panic!() };
        assert!(ci.lower < est && est < ci.upper, "{ci:?} {est}");
        let Ok(only_canary) = RateRatio::new(&[pair(5, 100, 0, 10_000)], 0.7) else { panic!() };
        let Ok(ci) = only_canary.confidence(0.01) else { panic!() };
        assert!(ci.lower > 1.0 && ci.upper.is_infinite(), "{ci:?}");
        assert_eq!(only_canary.estimate(), None);
    }

    #[test]
    fn normal_mixture_inverts_to_its_radius() {
        let Ok(m) = NormalMixture::new(0.3, 0.01, 0.04) else { panic!() };
        let Ok(r) = m.radius(0.05) else { panic!() };
        assert!((m.log_evidence(0.3 - r) - 20f64.ln()).abs() < 1e-12);
        assert!((m.p_value(0.3 + r) - 0.05).abs() < 1e-12);
        assert!(NormalMixture::new(0.0, 0.0, 1.0).is_err());
        assert!(NormalMixture::new(f64::NAN, 1.0, 1.0).is_err());
        assert!(tuned_prior_variance(-1.0, 0.05).is_err());
        // 2 v (v + τ²) underflows here.
        let Ok(tiny) = NormalMixture::new(0.0, 2.0868173982579507e-262, 3.2379944322744386e-87) else { panic!() };
        assert!(tiny.log_evidence(0.0).is_finite(), "{}", tiny.log_evidence(0.0));
    }
}
