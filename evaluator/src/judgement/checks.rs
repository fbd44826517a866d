//! The individual health checks of one canary judgement.

use serde::{Deserialize, Serialize};

use super::metrics::ArmMetrics;
use super::policy::CanaryPolicy;
use crate::model::HealthGate;
use crate::stats::{two_proportion_z_test, Proportion, StatsError};

/// Which check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// The canary has at least the gate's `min_samples` requests.
    Samples,
    /// The canary error rate is at most the gate's `max_error_rate`.
    ErrorRate,
    /// The canary p99 is at most the gate's `max_p99_ms`.
    P99Latency,
    /// The canary error rate is not significantly above the baseline's (beyond tolerance).
    ErrorRateVsBaseline,
    /// Canary latency is not significantly shifted above the baseline's (beyond tolerance).
    LatencyVsBaseline,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Measured, but the evidence does not decide: worse than tolerated yet not significant,
    /// or the test is undefined for the data. Holds the stage; does not count as a failure.
    Inconclusive,
    /// Missing metrics, too few samples, or unusable values (NaN, errors > requests).
    /// Holds the stage; does not count as a failure.
    NoData,
}

/// One check's result, with the numbers behind it (all optional: absent when unknown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub check: CheckKind,
    pub outcome: Outcome,
    /// The canary's value (samples, error rate, p99 ms, median ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<f64>,
    /// The highest value that passes (a gate threshold, or baseline plus tolerance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
    /// The baseline's value, for comparisons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// The two-sided p-value of the comparison test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// One sentence for humans.
    pub reason: String,
}

impl CheckResult {
    fn new(check: CheckKind, outcome: Outcome, reason: impl Into<String>) -> Self {
        CheckResult { check, outcome, observed: None, limit: None, baseline: None, p_value: None, reason: reason.into() }
    }

    fn values(mut self, observed: Option<f64>, limit: Option<f64>) -> Self {
        self.observed = observed;
        self.limit = limit;
        self
    }
}

/// The outcome for a statistic that could not be computed.
fn outcome_of(error: &StatsError) -> Outcome {
    match error {
        StatsError::Degenerate { .. } => Outcome::Inconclusive,
        StatsError::NotEnoughData { .. } | StatsError::Invalid { .. } => Outcome::NoData,
    }
}

/// Whether the canary has enough requests; the other checks only judge when it does.
pub(crate) fn samples(canary: Option<&ArmMetrics>, gate: &HealthGate) -> CheckResult {
    let Some(canary) = canary else {
        return CheckResult::new(CheckKind::Samples, Outcome::NoData, "no canary metrics");
    };
    let limit = Some(gate.min_samples as f64);
    let observed = Some(canary.requests as f64);
    if canary.requests >= gate.min_samples {
        CheckResult::new(CheckKind::Samples, Outcome::Pass, format!("{} canary requests (need {})", canary.requests, gate.min_samples))
    } else {
        CheckResult::new(
            CheckKind::Samples,
            Outcome::NoData,
            format!("only {} canary requests, need {}", canary.requests, gate.min_samples),
        )
    }
    .values(observed, limit)
}

pub(crate) fn error_rate(canary: &ArmMetrics, gate: &HealthGate, enough: bool) -> CheckResult {
    let limit = Some(gate.max_error_rate);
    match Proportion::new(canary.errors, canary.requests).rate("canary") {
        Err(e) => CheckResult::new(CheckKind::ErrorRate, outcome_of(&e), format!("canary error rate unknown: {e}")),
        Ok(rate) if !enough => {
            CheckResult::new(CheckKind::ErrorRate, Outcome::NoData, "too few canary requests to judge the error rate")
                .values(Some(rate), limit)
        }
        Ok(rate) if rate <= gate.max_error_rate => CheckResult::new(
            CheckKind::ErrorRate,
            Outcome::Pass,
            format!("canary error rate {} is within {}", percent(rate), percent(gate.max_error_rate)),
        )
        .values(Some(rate), limit),
        Ok(rate) => CheckResult::new(
            CheckKind::ErrorRate,
            Outcome::Fail,
            format!("canary error rate {} exceeds {}", percent(rate), percent(gate.max_error_rate)),
        )
        .values(Some(rate), limit),
    }
}

pub(crate) fn p99_latency(canary: &ArmMetrics, gate: &HealthGate, enough: bool) -> CheckResult {
    let limit = Some(gate.max_p99_ms);
    match canary.p99() {
        Err(e) => CheckResult::new(CheckKind::P99Latency, outcome_of(&e), format!("canary p99 unknown: {e}")),
        Ok(p99) if !enough => {
            CheckResult::new(CheckKind::P99Latency, Outcome::NoData, "too few canary requests to judge p99 latency")
                .values(Some(p99), limit)
        }
        Ok(p99) if p99 <= gate.max_p99_ms => CheckResult::new(
            CheckKind::P99Latency,
            Outcome::Pass,
            format!("canary p99 {p99:.1} ms is within {} ms", gate.max_p99_ms),
        )
        .values(Some(p99), limit),
        Ok(p99) => CheckResult::new(
            CheckKind::P99Latency,
            Outcome::Fail,
            format!("canary p99 {p99:.1} ms exceeds {} ms", gate.max_p99_ms),
        )
        .values(Some(p99), limit),
    }
}

/// Why a comparison cannot run, if it cannot: missing baseline or too few samples.
fn comparison_precondition(
    kind: CheckKind,
    baseline: Option<&ArmMetrics>,
    enough_canary: bool,
    min_baseline: u64,
) -> Result<&ArmMetrics, CheckResult> {
    let Some(baseline) = baseline else {
        return Err(CheckResult::new(kind, Outcome::NoData, "no baseline metrics"));
    };
    if !enough_canary {
        return Err(CheckResult::new(kind, Outcome::NoData, "too few canary requests to compare with the baseline"));
    }
    if baseline.requests < min_baseline {
        return Err(CheckResult::new(
            kind,
            Outcome::NoData,
            format!("only {} baseline requests, need {min_baseline}", baseline.requests),
        ));
    }
    Ok(baseline)
}

/// Two-proportion z-test of canary errors against baseline errors, with a tolerance.
pub(crate) fn error_rate_vs_baseline(
    canary: &ArmMetrics,
    baseline: Option<&ArmMetrics>,
    enough_canary: bool,
    min_baseline: u64,
    policy: &CanaryPolicy,
) -> CheckResult {
    let kind = CheckKind::ErrorRateVsBaseline;
    let baseline = match comparison_precondition(kind, baseline, enough_canary, min_baseline) {
        Ok(baseline) => baseline,
        Err(result) => return result,
    };
    let test = two_proportion_z_test(
        Proportion::new(baseline.errors, baseline.requests),
        Proportion::new(canary.errors, canary.requests),
        1.0 - policy.alpha,
    );
    let test = match test {
        Ok(test) => test,
        Err(e) => return CheckResult::new(kind, outcome_of(&e), format!("error rates not comparable: {e}")),
    };
    let allowed = policy.error_rate_tolerance_abs.max(policy.error_rate_tolerance_rel * test.control_rate);
    let limit = test.control_rate + allowed;
    let (outcome, reason) = if test.difference <= allowed {
        (
            Outcome::Pass,
            format!(
                "canary error rate {} is within tolerance of the baseline's {}",
                percent(test.treatment_rate),
                percent(test.control_rate)
            ),
        )
    } else if test.p_value < policy.alpha {
        (
            Outcome::Fail,
            format!(
                "canary error rate {} is significantly above the baseline's {} (p = {:.3e})",
                percent(test.treatment_rate),
                percent(test.control_rate),
                test.p_value
            ),
        )
    } else {
        (
            Outcome::Inconclusive,
            format!(
                "canary error rate {} is above the baseline's {} by more than tolerated, but not significantly (p = {:.3})",
                percent(test.treatment_rate),
                percent(test.control_rate),
                test.p_value
            ),
        )
    };
    CheckResult {
        check: kind,
        outcome,
        observed: Some(test.treatment_rate),
        limit: Some(limit),
        baseline: Some(test.control_rate),
        p_value: Some(test.p_value),
        reason,
    }
}

/// Mann-Whitney U of canary latency against baseline latency, with a tolerance on medians.
pub(crate) fn latency_vs_baseline(
    canary: &ArmMetrics,
    baseline: Option<&ArmMetrics>,
    enough_canary: bool,
    min_baseline: u64,
    policy: &CanaryPolicy,
) -> CheckResult {
    let kind = CheckKind::LatencyVsBaseline;
    let baseline = match comparison_precondition(kind, baseline, enough_canary, min_baseline) {
        Ok(baseline) => baseline,
        Err(result) => return result,
    };
    let (Some(canary_latency), Some(baseline_latency)) = (&canary.latency, &baseline.latency) else {
        return CheckResult::new(kind, Outcome::NoData, "latency distribution missing for the canary or the baseline");
    };
    let computed = canary_latency.compare(baseline_latency).and_then(|test| {
        Ok((test, canary_latency.quantile(0.5)?, baseline_latency.quantile(0.5)?))
    });
    let (test, canary_median, baseline_median) = match computed {
        Ok(values) => values,
        Err(e) => return CheckResult::new(kind, outcome_of(&e), format!("latencies not comparable: {e}")),
    };
    let limit = baseline_median * (1.0 + policy.latency_tolerance_rel);
    let slower = test.probability_x_greater > 0.5;
    let (outcome, reason) = if canary_median <= limit {
        (
            Outcome::Pass,
            format!("canary median {canary_median:.1} ms is within tolerance of the baseline's {baseline_median:.1} ms"),
        )
    } else if test.p_value < policy.alpha && slower {
        (
            Outcome::Fail,
            format!(
                "canary latency is significantly higher: median {canary_median:.1} ms vs {baseline_median:.1} ms (Mann-Whitney p = {:.3e})",
                test.p_value
            ),
        )
    } else {
        (
            Outcome::Inconclusive,
            format!(
                "canary median {canary_median:.1} ms is above the baseline's {baseline_median:.1} ms by more than tolerated, but the shift is not significant (p = {:.3})",
                test.p_value
            ),
        )
    };
    CheckResult {
        check: kind,
        outcome,
        observed: Some(canary_median),
        limit: Some(limit),
        baseline: Some(baseline_median),
        p_value: Some(test.p_value),
        reason,
    }
}

fn percent(rate: f64) -> String {
    format!("{:.3}%", rate * 100.0)
}
