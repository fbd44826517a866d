//! Canary judgement and experiment analysis (feature `analysis`).
//!
//! Pure functions: the caller (the server's controller, the dashboard) fetches metrics,
//! passes them in, and applies the decision. Inputs and outputs are serde types whose JSON
//! is **snake_case**, like the flag file ([`crate::model`]).
//!
//! # Canary gate decisions — [`judge_canary`]
//!
//! Input: the flag's [`Canary`](crate::model::Canary) (its current stage's
//! [`HealthGate`](crate::model::HealthGate) and `min_duration`, `stage_started_at`, status),
//! a [`CanaryInput`] (the time now, [`ArmMetrics`] of the canary and of the baseline over the
//! same window, and the count of consecutive failed judgements so far), and a
//! [`CanaryPolicy`] (tolerances, significance level, failures before rollback).
//!
//! Output: a [`CanaryJudgement`]: `advance | hold | rollback | complete | no_action`, the
//! reasons, every [`CheckResult`], and the new `consecutive_failures` to pass back next time.
//!
//! Each check ends `pass`, `fail`, `inconclusive` or `no_data`:
//!
//! | check | pass when | no_data when |
//! |---|---|---|
//! | `samples` | canary requests ≥ `min_samples` | fewer, or no canary metrics |
//! | `error_rate` | errors / requests ≤ `max_error_rate` | too few samples, 0 requests, errors > requests |
//! | `p99_latency` | p99 ≤ `max_p99_ms` (reported, or derived from the latency data) | too few samples, no p99 and no latency data, NaN |
//! | `error_rate_vs_baseline` | canary rate − baseline rate ≤ max(`error_rate_tolerance_abs`, `error_rate_tolerance_rel` × baseline rate) | no baseline, too few canary or baseline requests |
//! | `latency_vs_baseline` | canary median ≤ baseline median × (1 + `latency_tolerance_rel`) | no baseline, no latency data in either arm, too few requests |
//!
//! The two comparisons (Kayenta-style) fail only when the canary is worse by more than the
//! tolerance **and** the difference is significant: a pooled two-proportion z-test for error
//! rates and a Mann-Whitney U test (samples, or histogram buckets as tie groups) for latency,
//! two-sided at `alpha` and in the "worse" direction. Worse than tolerated but not
//! significant is `inconclusive`, and so is a test that is undefined for the data.
//!
//! The decision, in order:
//! 1. status `paused`, `rolled_back` or `completed` → `no_action` (count unchanged).
//! 2. any check `fail` → the count goes up by one; at `failures_to_rollback` → `rollback`,
//!    below it → `hold`. Rollback does not wait for `min_duration`.
//! 3. any check `no_data` or `inconclusive` → `hold` (count unchanged: a gap in the metrics
//!    neither hides nor fakes a sustained failure). Missing metrics never advance a stage.
//! 4. all pass (count reset to 0): `hold` until `min_duration` has elapsed since
//!    `stage_started_at` (unknown start → `hold`), then `complete` on the last stage and
//!    `advance` (with `next_stage`) otherwise.
//!
//! Configuration that cannot be judged (stage index out of range, bad `min_duration`, bad
//! timestamps, NaN thresholds, invalid policy) is a [`JudgementError`] with the field's path.
//!
//! # From metrics summaries — [`canary_input`]
//!
//! Metrics sources report each arm as an [`ArmSummary`] (requests, errors, percentiles and the
//! window's latency histogram buckets; the server's `GET /api/metrics` arm `summary`).
//! [`canary_input`] is the one conversion of a canary and a baseline summary into the
//! [`CanaryInput`]: arms without requests are missing, and both latency histograms are put on
//! the union of their bucket bounds for the rank test. The server's canary controller and the
//! dashboard both use it, so they judge the same numbers the same way.
//!
//! # Experiment analysis — [`analyze_experiment`]
//!
//! Per metric ([`MetricData`]: conversions, or count/mean/variance), each variation against
//! the control: a pooled two-proportion z-test or Welch's t-test, the two-sided p-value, the
//! confidence interval of the absolute lift (Wald / Welch t) and of the relative lift (delta
//! method), a winner only when p < alpha (Bonferroni-corrected across variations by default),
//! and the units per arm still needed to detect the configured minimum detectable effect. A
//! chi-square sample-ratio-mismatch check compares assigned units with the variant weights;
//! when it flags broken assignment no winner is declared.
//!
//! The statistics themselves live in [`crate::stats`].

mod canary;
mod checks;
mod evidence;
mod experiment;
mod metrics;
mod monitor;
#[cfg(test)]
mod no_panic_tests;
mod policy;
mod summary;

use serde::Serialize;

pub use canary::{judge_canary, CanaryAction, CanaryInput, CanaryJudgement, TrafficNeed};
pub use evidence::{LogShift, StageEvidence, MAX_EARLIER_STAGES};
pub use monitor::CanaryMonitor;
pub use checks::{CheckKind, CheckResult, Outcome};
pub use experiment::{
    analyze_experiment, check_sample_ratio, AnalysisConfig, AnalysisMethod, Comparison, ComparisonStatus, ConversionArm, ExperimentData,
    ExperimentReport, MetricData, MetricKind, MetricReport, MetricValues, SampleRatioCheck, SrmStatus,
};
pub use metrics::{ArmMetrics, Latency};
pub use policy::{CanaryPolicy, LowTraffic, RiskLevels};
pub use summary::{canary_input, ArmSummary};

/// A configuration problem that prevents a judgement, with the path of the bad field
/// (e.g. `canary.stages[2].min_duration`, `policy.alpha`, `input.now`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{path}: {message}")]
pub struct JudgementError {
    pub path: String,
    pub message: String,
}

impl JudgementError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        JudgementError { path: path.into(), message: message.into() }
    }
}
