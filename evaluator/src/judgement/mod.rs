//! Canary judgement and experiment analysis (feature `analysis`).
//!
//! Pure functions: the caller (the server's controller, the dashboard) fetches metrics,
//! passes them in, and applies the decision. Inputs and outputs are serde types whose JSON
//! is **snake_case**, like the flag file ([`crate::model`]). `evaluator/ANALYSIS.md` has the
//! full description and the simulation behind the defaults.
//!
//! # Canary gate decisions — [`judge_canary`], [`CanaryMonitor`]
//!
//! Input: the flag's [`Canary`](crate::model::Canary) (its current stage's
//! [`HealthGate`](crate::model::HealthGate), `min_duration`, `stage_started_at`, status), a
//! [`CanaryInput`] with each arm's **cumulative totals since the stage started** (requests,
//! errors, latency histogram; see [`canary_input`]), and a [`CanaryPolicy`].
//!
//! Every check is decided on an anytime-valid confidence sequence — it may be re-judged every
//! tick without inflating its error rate — and **fails when its lower bound is beyond the
//! limit, passes when its upper bound is within it**, and is `inconclusive` in between:
//!
//! | check | statistic |
//! |---|---|
//! | `samples` | canary requests ≥ `min_samples` |
//! | `error_rate` | beta-binomial confidence sequence of the canary error rate vs `max_error_rate` |
//! | `p99_latency` | the same on the share of requests slower than `max_p99_ms` (vs 1 %) |
//! | `error_rate_vs_baseline` | conditional rate-ratio confidence sequence, over every stage so far, vs 1 + margin |
//! | `latency_vs_baseline` | normal-mixture confidence sequence of the log-latency shift, over every stage so far, vs 1 + margin |
//!
//! Output: a [`CanaryJudgement`]: `advance | hold | rollback | complete | no_action`, the
//! reasons, every [`CheckResult`] with its bounds, the error budgets used ([`RiskLevels`]),
//! what the stage still needs when traffic is too low ([`TrafficNeed`]), and this stage's
//! [`StageEvidence`] for the next stages. A failed check rolls back (after
//! `failures_to_rollback` consecutive judgements, default 1); a gate that is not proven holds
//! the stage (`low_traffic: hold`, default) or not (`advance_on_time`).
//!
//! [`CanaryMonitor`] is the per-canary controller step: it keeps the failure count of the
//! current stage and the evidence of the finished ones, and resets them when the stage or the
//! run changes. The server's controller, the dashboard and the simulation all call it.
//!
//! Configuration that cannot be judged (stage index out of range, bad `min_duration`, bad
//! timestamps, NaN thresholds, invalid policy, impossible carried evidence) is a
//! [`JudgementError`] with the field's path.
//!
//! # From metrics summaries — [`canary_input`]
//!
//! Metrics sources report each arm as an [`ArmSummary`] (requests, errors, percentiles and
//! latency histogram buckets; the server's `GET /api/metrics` arm `summary`). [`canary_input`]
//! is the one conversion of a canary and a baseline summary into the [`CanaryInput`]: arms
//! without requests are missing, and both latency histograms are put on the union of their
//! bucket bounds. The server's canary controller and the dashboard both use it.
//!
//! # Experiment analysis — [`analyze_experiment`]
//!
//! Per metric ([`MetricData`]: conversions, or count/mean/variance), each variation against
//! the control. By default ([`AnalysisMethod::Sequential`]) an always-valid p-value and
//! confidence sequence (the normal-mixture SPRT), so the report may be read after every
//! refresh; [`AnalysisMethod::FixedHorizon`] gives the classical z / Welch tests. A winner
//! only when significant at alpha (Bonferroni-corrected across variations by default) and
//! the sample ratio is not broken (chi-square SRM check), and the units per arm still needed
//! to detect the configured minimum detectable effect.
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
