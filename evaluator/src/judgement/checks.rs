//! The individual health checks of one canary judgement, each decided on anytime-valid
//! confidence bounds: `fail` when the lower bound is beyond the limit, `pass` when the upper
//! bound is within it, `inconclusive` in between.

use serde::{Deserialize, Serialize};

use super::evidence::{combined_shift, StageEvidence};
use super::metrics::{ArmMetrics, Latency};
use super::policy::{CanaryPolicy, RiskLevels};
use crate::model::HealthGate;
use crate::stats::{
    beta_binomial_bound, beta_binomial_log_evidence, beta_binomial_trials_to_pass, BetaPrior, Histogram,
    NormalMixture, RateRatio,
};

/// Which check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// The canary has at least the gate's `min_samples` requests in the stage.
    Samples,
    /// The canary error rate is within the gate's `max_error_rate`.
    ErrorRate,
    /// The canary p99 latency is within the gate's `max_p99_ms`.
    P99Latency,
    /// The canary error rate is not credibly above the baseline's (beyond the margin).
    ErrorRateVsBaseline,
    /// The canary latency is not credibly above the baseline's (beyond the margin).
    LatencyVsBaseline,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Proven within the limit: the upper confidence bound is below it (samples: enough).
    Pass,
    /// Proven beyond the limit: the lower confidence bound is above it.
    Fail,
    /// Measured, but the bounds still straddle the limit (or the test is undefined for the
    /// data). A gate that is inconclusive holds the stage under `low_traffic: hold`; an
    /// inconclusive comparison does not hold it.
    Inconclusive,
    /// Missing metrics, too few samples, or unusable values. Holds the stage.
    NoData,
}

/// One check's result, with the numbers behind it (all optional: absent when unknown).
///
/// | check | observed / limit / lower / upper | baseline |
/// |---|---|---|
/// | `samples` | canary requests / `min_samples` | |
/// | `error_rate` | canary error rate / `max_error_rate` / its bounds | |
/// | `p99_latency` | canary p99 ms / `max_p99_ms` / bounds of the p99 in ms (bucket bounds) | |
/// | `error_rate_vs_baseline` | canary ÷ baseline error-rate ratio / 1 + margin / its bounds | baseline error rate |
/// | `latency_vs_baseline` | canary ÷ baseline geometric-mean latency / 1 + margin / its bounds | baseline median ms |
///
/// The lower bound is at the level the check fails at, the upper bound at the level it passes
/// at (the judgement's `risk`); the comparisons' bounds cover all stages judged so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub check: CheckKind,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<f64>,
    /// The limit the bounds are compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// Anytime-valid p-value of "within the limit" for the comparisons: min(1, 1/M).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// Lower confidence bound (absent: none, i.e. 0 or −∞).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<f64>,
    /// Upper confidence bound (absent: unbounded so far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    /// For `samples` and the gates: how many more canary requests this check needs to pass if
    /// the rates stay as they are (absent when it passed, failed, or cannot pass at this rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed_requests: Option<u64>,
    /// One sentence for humans.
    pub reason: String,
}

impl CheckResult {
    fn new(check: CheckKind, outcome: Outcome, reason: impl Into<String>) -> Self {
        CheckResult {
            check,
            outcome,
            observed: None,
            limit: None,
            baseline: None,
            p_value: None,
            lower: None,
            upper: None,
            needed_requests: None,
            reason: reason.into(),
        }
    }

    fn values(mut self, observed: Option<f64>, limit: Option<f64>) -> Self {
        self.observed = observed.filter(|v| v.is_finite());
        self.limit = limit.filter(|v| v.is_finite());
        self
    }

    fn bounds(mut self, lower: Option<f64>, upper: Option<f64>) -> Self {
        self.lower = lower.filter(|v| v.is_finite());
        self.upper = upper.filter(|v| v.is_finite());
        self
    }
}

/// The fraction of requests slower than `max_p99_ms` that still meets a p99 gate.
const P99_TAIL: f64 = 0.01;

/// A rate's estimate for projections: (S + ½)/(n + 1), so that no error yet does not project
/// "no error ever".
fn projected_rate(successes: u64, trials: u64) -> f64 {
    (successes as f64 + 0.5) / (trials as f64 + 1.0)
}

/// More requests needed for `successes`/`trials` to pass below `limit`.
fn more_needed(successes: u64, trials: u64, limit: f64, prior: BetaPrior, pass_risk: f64) -> Option<u64> {
    let total = beta_binomial_trials_to_pass(projected_rate(successes, trials), limit, prior, pass_risk).ok()??;
    Some(total.saturating_sub(trials).max(1))
}

/// Whether the rate is credibly above `limit` at level 1 − alpha (its lower bound is above).
fn credibly_above(successes: u64, trials: u64, limit: f64, prior: BetaPrior, alpha: f64) -> bool {
    trials > 0
        && successes as f64 > limit * trials as f64
        && beta_binomial_log_evidence(successes as f64, trials as f64, limit, prior).is_ok_and(|e| e >= (1.0 / alpha).ln())
}

/// Whether the rate is credibly below `limit` at level 1 − risk (its upper bound is below).
fn credibly_below(successes: u64, trials: u64, limit: f64, prior: BetaPrior, risk: f64) -> bool {
    trials > 0
        && (successes as f64) < limit * trials as f64
        && beta_binomial_log_evidence(successes as f64, trials as f64, limit, prior).is_ok_and(|e| e >= (1.0 / risk).ln())
}

/// Whether the canary has enough requests; `needed_requests` says how many more.
pub(crate) fn samples(canary: Option<&ArmMetrics>, gate: &HealthGate) -> CheckResult {
    let Some(canary) = canary else {
        return CheckResult::new(CheckKind::Samples, Outcome::NoData, "no canary metrics");
    };
    let limit = Some(gate.min_samples as f64);
    let observed = Some(canary.requests as f64);
    if canary.requests >= gate.min_samples {
        CheckResult::new(CheckKind::Samples, Outcome::Pass, format!("{} canary requests (need {})", canary.requests, gate.min_samples))
            .values(observed, limit)
    } else {
        let mut result = CheckResult::new(
            CheckKind::Samples,
            Outcome::NoData,
            format!("only {} canary requests, need {}", canary.requests, gate.min_samples),
        )
        .values(observed, limit);
        result.needed_requests = Some(gate.min_samples - canary.requests);
        result
    }
}

/// The gate's error rate on the canary's beta-binomial confidence sequence.
pub(crate) fn error_rate(canary: Option<&ArmMetrics>, gate: &HealthGate, risk: &RiskLevels) -> CheckResult {
    let kind = CheckKind::ErrorRate;
    let Some(canary) = canary else {
        return CheckResult::new(kind, Outcome::NoData, "no canary metrics");
    };
    let (s, n) = (canary.errors, canary.requests);
    if s > n {
        return CheckResult::new(kind, Outcome::NoData, format!("canary error count {s} is above its {n} requests"));
    }
    if n == 0 {
        return CheckResult::new(kind, Outcome::NoData, "no canary requests");
    }
    let limit = gate.max_error_rate;
    let rate = s as f64 / n as f64;
    let values = |r: CheckResult| r.values(Some(rate), Some(limit));
    if limit >= 1.0 {
        return values(CheckResult::new(kind, Outcome::Pass, "max_error_rate 100% always holds"));
    }
    let prior = BetaPrior::centered_on(limit);
    let lower = beta_binomial_bound(s, n, prior, risk.gate_alpha, -1.0).ok();
    let upper = beta_binomial_bound(s, n, prior, risk.gate_pass_risk, 1.0).ok();
    let bounds = format!(
        "bounds {} to {}",
        lower.map_or("?".into(), percent),
        upper.map_or("?".into(), percent)
    );
    let result = if credibly_above(s, n, limit, prior, risk.gate_alpha) {
        CheckResult::new(
            kind,
            Outcome::Fail,
            format!("canary error rate {} exceeds {}: its lower confidence bound is above it ({bounds})", percent(rate), percent(limit)),
        )
    } else if credibly_below(s, n, limit, prior, risk.gate_pass_risk) {
        CheckResult::new(
            kind,
            Outcome::Pass,
            format!("canary error rate {} is within {}: its upper confidence bound is below it ({bounds})", percent(rate), percent(limit)),
        )
    } else {
        let needed = more_needed(s, n, limit, prior, risk.gate_pass_risk);
        let mut r = CheckResult::new(
            kind,
            Outcome::Inconclusive,
            format!(
                "canary error rate {} is not yet known to be within {} ({bounds}); {}",
                percent(rate),
                percent(limit),
                needs_text(needed)
            ),
        );
        r.needed_requests = needed;
        r
    };
    values(result).bounds(lower, upper)
}

fn needs_text(needed: Option<u64>) -> String {
    match needed {
        Some(n) => format!("about {n} more requests at this rate"),
        None => "it cannot pass at this rate".into(),
    }
}

/// The gate's p99: "p99 ≤ T" is "at most 1 % of requests are slower than T", a Bernoulli rate
/// judged like the error rate on the latency histogram's bucket bounds (conservatively: an
/// observation in the bucket that straddles T counts as slow for passing, as fast for failing).
pub(crate) fn p99_latency(canary: Option<&ArmMetrics>, gate: &HealthGate, risk: &RiskLevels) -> CheckResult {
    let kind = CheckKind::P99Latency;
    let Some(canary) = canary else {
        return CheckResult::new(kind, Outcome::NoData, "no canary metrics");
    };
    let reported = canary.p99_ms.filter(|p| p.is_finite() && *p >= 0.0);
    let histogram = match &canary.latency {
        Some(Latency::Histogram(h)) => h.validate().map(|_| h.clone()),
        Some(Latency::Samples { values_ms }) => Histogram::from_samples(values_ms),
        None => {
            return match reported {
                Some(p99) => CheckResult::new(
                    kind,
                    Outcome::Inconclusive,
                    format!("canary p99 {p99:.1} ms is reported without the latency distribution, so it cannot be bounded"),
                )
                .values(Some(p99), Some(gate.max_p99_ms)),
                None => CheckResult::new(kind, Outcome::NoData, "no canary latency distribution"),
            }
        }
    };
    let histogram = match histogram {
        Ok(h) => h,
        Err(e) => return CheckResult::new(kind, Outcome::NoData, format!("canary latency unusable: {e}")),
    };
    let n = histogram.total();
    if n == 0 {
        return CheckResult::new(kind, Outcome::NoData, "no canary latency observations");
    }
    let limit = gate.max_p99_ms;
    // The reported p99, else NumPy-style for samples and `histogram_quantile` for buckets.
    let observed = canary.p99().ok().or_else(|| histogram.quantile(0.99));
    let above = histogram.counts_above();
    let prior = BetaPrior::centered_on(P99_TAIL);
    // More than 1 % credibly slower than bound b means p99 > b; less than 1 % means p99 <= b.
    // Counts above b fall as b rises, so each property holds on one side of a single index.
    let slow = |&(_, count): &(f64, u64)| credibly_above(count, n, P99_TAIL, prior, risk.gate_alpha);
    let fast = |&(_, count): &(f64, u64)| credibly_below(count, n, P99_TAIL, prior, risk.gate_pass_risk);
    let slow_prefix = above.partition_point(slow);
    let fast_from = above.partition_point(|b| !fast(b));
    let lower = slow_prefix.checked_sub(1).and_then(|i| above.get(i)).map(|b| b.0);
    let upper = above.get(fast_from).map(|b| b.0);
    let shown = |v: Option<f64>| v.map_or("?".into(), |v| format!("{v:.1} ms"));
    let bounds = format!("p99 bounds {} to {}", lower.map_or("0 ms".into(), |v| format!("{v:.1} ms")), upper.map_or("unbounded".into(), |v| format!("{v:.1} ms")));
    let result = if lower.is_some_and(|l| l >= limit) {
        CheckResult::new(
            kind,
            Outcome::Fail,
            format!("canary p99 {} exceeds {limit} ms: more than 1% of requests are credibly slower ({bounds})", shown(observed)),
        )
    } else if upper.is_some_and(|u| u <= limit) {
        CheckResult::new(kind, Outcome::Pass, format!("canary p99 {} is within {limit} ms ({bounds})", shown(observed)))
    } else {
        // Passing needs the bucket bound at or below the limit to have < 1 % above it.
        let needed = above
            .iter()
            .rfind(|b| b.0 <= limit)
            .and_then(|&(_, count)| more_needed(count, n, P99_TAIL, prior, risk.gate_pass_risk));
        let mut r = CheckResult::new(
            kind,
            Outcome::Inconclusive,
            format!("canary p99 {} is not yet known to be within {limit} ms ({bounds}); {}", shown(observed), needs_text(needed)),
        );
        r.needed_requests = needed;
        r
    };
    result.values(observed, Some(limit)).bounds(lower, upper)
}

/// Canary versus baseline error rates over every stage so far: the conditional rate-ratio
/// confidence sequence.
pub(crate) fn error_rate_vs_baseline(
    evidence: &[StageEvidence],
    canary: Option<&ArmMetrics>,
    baseline: Option<&ArmMetrics>,
    risk: &RiskLevels,
    policy: &CanaryPolicy,
) -> CheckResult {
    let kind = CheckKind::ErrorRateVsBaseline;
    let (Some(_), Some(baseline)) = (canary, baseline) else {
        let missing = if canary.is_none() { "canary" } else { "baseline" };
        return CheckResult::new(kind, Outcome::NoData, format!("no {missing} metrics"));
    };
    let baseline_rate = (baseline.requests > 0 && baseline.errors <= baseline.requests)
        .then(|| baseline.errors as f64 / baseline.requests as f64);
    let pairs: Vec<_> = evidence.iter().map(StageEvidence::counts).collect();
    let ratio = match RateRatio::new(&pairs, (1.0 + policy.error_rate_min_effect).ln()) {
        Ok(r) => r,
        Err(e) => return CheckResult::new(kind, Outcome::NoData, format!("error rates not comparable: {e}")),
    };
    let limit = 1.0 + policy.error_rate_margin;
    let alpha = risk.comparison_alpha;
    let evidence_at_limit = ratio.log_evidence(limit).unwrap_or(0.0);
    let interval = ratio.confidence(alpha).ok();
    let (lower, upper) = (interval.map(|i| i.lower), interval.map(|i| i.upper));
    let estimate = ratio.estimate();
    let stages = if evidence.len() > 1 { format!(" over {} stages", evidence.len()) } else { String::new() };
    let described = format!(
        "canary/baseline error-rate ratio {}{stages} (bounds {} to {}; limit {})",
        estimate.map_or("n/a".into(), times),
        lower.map_or("0".into(), times),
        upper.filter(|u| u.is_finite()).map_or("unbounded".into(), times),
        times(limit)
    );
    let decided = evidence_at_limit >= (1.0 / alpha).ln();
    let outcome = match (decided, ratio.leans_above(limit)) {
        (true, true) => Outcome::Fail,
        (true, false) => Outcome::Pass,
        (false, _) => Outcome::Inconclusive,
    };
    let reason = match outcome {
        Outcome::Fail => format!("canary error rate is credibly above the baseline's: {described}"),
        Outcome::Pass => format!("canary error rate is credibly within the baseline's: {described}"),
        _ if ratio.is_empty() => "no errors in either arm yet: nothing to compare".to_string(),
        _ => format!("canary error rate not credibly above the baseline's: {described}"),
    };
    let mut result = CheckResult::new(kind, outcome, reason).values(estimate, Some(limit)).bounds(lower, upper);
    result.baseline = baseline_rate;
    result.p_value = Some((-evidence_at_limit).exp().min(1.0));
    result
}

/// Canary versus baseline latency over every stage so far: the normal-mixture confidence
/// sequence of the shift of mean log latency (a ratio of geometric means).
pub(crate) fn latency_vs_baseline(
    evidence: &[StageEvidence],
    canary: Option<&ArmMetrics>,
    baseline: Option<&ArmMetrics>,
    risk: &RiskLevels,
    policy: &CanaryPolicy,
) -> CheckResult {
    let kind = CheckKind::LatencyVsBaseline;
    let (Some(canary), Some(baseline)) = (canary, baseline) else {
        let missing = if canary.is_none() { "canary" } else { "baseline" };
        return CheckResult::new(kind, Outcome::NoData, format!("no {missing} metrics"));
    };
    let (Some(canary_latency), Some(baseline_latency)) = (&canary.latency, &baseline.latency) else {
        return CheckResult::new(kind, Outcome::NoData, "latency distribution missing for the canary or the baseline");
    };
    let baseline_median = baseline_latency.quantile(0.5).ok();
    let limit = 1.0 + policy.latency_margin;
    let shift = combined_shift(evidence.iter().filter_map(|e| e.latency_shift.as_ref()));
    let min = policy.min_latency_samples;
    let mixture = shift.and_then(|s| {
        let tau = (1.0 + policy.latency_min_effect).ln();
        NormalMixture::new(s.estimate, s.variance, tau * tau).ok()
    });
    let Some(mixture) = mixture else {
        let count = |l: &Latency| match l {
            Latency::Samples { values_ms } => values_ms.len() as u64,
            Latency::Histogram(h) => h.total(),
        };
        let mut r = CheckResult::new(
            kind,
            Outcome::Inconclusive,
            format!(
                "needs {min} latency observations in each arm to compare (canary {}, baseline {})",
                count(canary_latency),
                count(baseline_latency)
            ),
        );
        r.baseline = baseline_median;
        return r;
    };
    let alpha = risk.comparison_alpha;
    let interval = mixture.confidence(alpha).ok();
    let (lower, upper) = (interval.map(|i| i.lower.exp()), interval.map(|i| i.upper.exp()));
    let ratio = mixture.estimate.exp();
    let stages = {
        let n = evidence.iter().filter(|e| e.latency_shift.is_some()).count();
        if n > 1 { format!(" over {n} stages") } else { String::new() }
    };
    let described = format!(
        "canary/baseline latency ratio {}{stages} (geometric means; bounds {} to {}; limit {})",
        times(ratio),
        lower.map_or("?".into(), times),
        upper.map_or("?".into(), times),
        times(limit)
    );
    let outcome = match (lower, upper) {
        (Some(l), _) if l > limit => Outcome::Fail,
        (_, Some(u)) if u < limit => Outcome::Pass,
        _ => Outcome::Inconclusive,
    };
    let reason = match outcome {
        Outcome::Fail => format!("canary latency is credibly higher than the baseline's: {described}"),
        Outcome::Pass => format!("canary latency is credibly within the baseline's: {described}"),
        _ => format!("canary latency not credibly above the baseline's: {described}"),
    };
    let mut result = CheckResult::new(kind, outcome, reason).values(Some(ratio), Some(limit)).bounds(lower, upper);
    result.baseline = baseline_median;
    result.p_value = Some(mixture.p_value(limit.ln()));
    result
}

fn percent(rate: f64) -> String {
    format!("{:.3}%", rate * 100.0)
}

/// A ratio for people: three decimals, or scientific beyond 10⁴ (a bound from a handful of
/// events can be astronomically wide).
fn times(ratio: f64) -> String {
    if ratio.abs() >= 1e4 {
        format!("{ratio:.2e}×")
    } else {
        format!("{ratio:.3}×")
    }
}
