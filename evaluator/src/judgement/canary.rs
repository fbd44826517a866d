//! The canary gate decision: advance, hold, roll back or complete.

use serde::{Deserialize, Serialize};

use super::checks::{self, CheckKind, CheckResult, Outcome};
use super::evidence::{StageEvidence, MAX_EARLIER_STAGES};
use super::metrics::ArmMetrics;
use super::policy::{CanaryPolicy, LowTraffic, RiskLevels};
use super::JudgementError;
use crate::duration::parse_duration;
use crate::model::{Canary, CanaryStage, CanaryStatus, HealthGate};

/// What the controller observed since the current stage started. JSON is snake_case:
/// `{"now": "2026-01-01T10:00:00Z", "canary": {...}, "baseline": {...}, "consecutive_failures": 1}`.
///
/// The arms are **cumulative totals since the stage started** (requests, errors, latency
/// histogram), not a sliding window: the tests are sequential over the stage, and a window
/// that forgets old data would make them check the same evidence again and again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanaryInput {
    /// The judgement time (RFC 3339).
    pub now: String,
    /// Canary-arm totals since the stage started; absent means no data (no request, or the
    /// metrics source returned nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<ArmMetrics>,
    /// Baseline-arm totals over the same time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<ArmMetrics>,
    /// Consecutive judgements with a failed check so far in this stage (the previous
    /// judgement's output; [`CanaryMonitor`](super::CanaryMonitor) keeps it).
    #[serde(default)]
    pub consecutive_failures: u32,
    /// The comparisons' evidence from the earlier stages of this run (the previous judgements'
    /// `stage_evidence`; [`CanaryMonitor`](super::CanaryMonitor) keeps it). Empty: the
    /// comparisons judge this stage alone. At most 64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_stages: Vec<StageEvidence>,
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CanaryAction {
    /// Move to `next_stage` (and reset `stage_started_at`).
    Advance,
    /// Stay at the current stage.
    Hold,
    /// Set the status to `rolled_back`: everyone gets the baseline.
    Rollback,
    /// Healthy on the last stage: set the status to `completed`.
    Complete,
    /// The canary is paused, rolled back or completed: leave it alone.
    NoAction,
}

impl CanaryAction {
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryAction::Advance => "advance",
            CanaryAction::Hold => "hold",
            CanaryAction::Rollback => "rollback",
            CanaryAction::Complete => "complete",
            CanaryAction::NoAction => "no_action",
        }
    }
}

/// The decision with its reasons and the checks behind it. JSON is snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanaryJudgement {
    pub action: CanaryAction,
    /// Human-readable reasons, most important first.
    pub reasons: Vec<String>,
    /// Every check that ran, in a fixed order (empty for `no_action`).
    pub checks: Vec<CheckResult>,
    /// The count to pass back as `consecutive_failures` next time.
    pub consecutive_failures: u32,
    /// The current stage index.
    pub stage: usize,
    /// The stage to move to, for `advance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_stage: Option<usize>,
    /// How long the current stage has run, when `stage_started_at` is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    /// The current stage's `min_duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_ms: Option<u64>,
    /// Too little traffic: how many more canary requests (and how long at the current rate)
    /// the stage needs before it can advance. Absent when nothing is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<TrafficNeed>,
    /// The error budgets the bounds were computed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevels>,
    /// This stage's contribution to the comparisons, to pass in `earlier_stages` once the
    /// stage is over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_evidence: Option<StageEvidence>,
}

/// What the stage still needs before it can advance, if the rates stay as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficNeed {
    /// More canary requests (the largest need of `samples` and the gates); absent when a gate
    /// cannot pass at the current rates (e.g. the error rate is above the threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_requests: Option<u64>,
    /// About how long that takes at the canary's request rate in this stage so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_seconds: Option<u64>,
    /// Canary requests per second in this stage so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_requests_per_second: Option<f64>,
    /// The same in a sentence ("needs about 1200 more canary requests (≈ 20m at the current rate of 1.00/s)").
    pub reason: String,
}

/// Judges a canary at `input.now`. Errors only for configuration that cannot be judged
/// (stage index out of range, unparsable duration or timestamps, NaN gate thresholds, an
/// invalid policy, impossible `earlier_stages`); metric problems become `no_data` /
/// `inconclusive` checks instead.
pub fn judge_canary(canary: &Canary, input: &CanaryInput, policy: &CanaryPolicy) -> Result<CanaryJudgement, JudgementError> {
    judge_with(canary, input, input.consecutive_failures, &input.earlier_stages, policy)
}

/// [`judge_canary`] with the failure count and the earlier stages given apart from the input
/// (the monitor keeps them).
pub(crate) fn judge_with(
    canary: &Canary,
    input: &CanaryInput,
    failures: u32,
    earlier: &[StageEvidence],
    policy: &CanaryPolicy,
) -> Result<CanaryJudgement, JudgementError> {
    let mut judgement = CanaryJudgement {
        action: CanaryAction::NoAction,
        reasons: Vec::new(),
        checks: Vec::new(),
        consecutive_failures: failures,
        stage: canary.current_stage,
        next_stage: None,
        elapsed_ms: None,
        min_duration_ms: None,
        needs: None,
        risk: None,
        stage_evidence: None,
    };
    if canary.status != CanaryStatus::Running {
        judgement.reasons.push(format!("canary is {}; the controller leaves it alone", canary.status.as_str()));
        return Ok(judgement);
    }
    policy.validate()?;
    let stage_index = canary.current_stage;
    let stage = canary.stages.get(stage_index).ok_or_else(|| {
        JudgementError::new(
            "canary.current_stage",
            format!("stage {stage_index} does not exist ({} stages)", canary.stages.len()),
        )
    })?;
    let stage_path = format!("canary.stages[{stage_index}]");
    validate_gate(&stage.gate, &stage_path)?;
    let min_duration = parse_duration(&stage.min_duration)
        .map_err(|message| JudgementError::new(format!("{stage_path}.min_duration"), message))?;
    let min_duration_ms = u64::try_from(min_duration.as_millis()).unwrap_or(u64::MAX);
    let now = parse_time(&input.now, "input.now")?;
    let elapsed_ms = match &canary.stage_started_at {
        Some(started) => {
            let started = parse_time(started, "canary.stage_started_at")?;
            // A start in the future (clock skew) counts as no time elapsed.
            let ms = ((now - started) / 1_000_000).max(0);
            Some(u64::try_from(ms).unwrap_or(u64::MAX))
        }
        None => None,
    };
    if earlier.len() > MAX_EARLIER_STAGES {
        return Err(JudgementError::new(
            "input.earlier_stages",
            format!("{} stages given, at most {MAX_EARLIER_STAGES}", earlier.len()),
        ));
    }
    for (i, e) in earlier.iter().enumerate() {
        e.validate(&format!("input.earlier_stages[{i}]"))?;
    }

    let risk = policy.risk(canary.stages.len());
    let compare = policy.compare_with_baseline && stage.percent < 100.0;
    let (canary_arm, baseline_arm) = (input.canary.as_ref(), input.baseline.as_ref());
    let current = StageEvidence::from_arms(
        stage_index,
        canary.stage_started_at.as_deref(),
        canary_arm,
        baseline_arm,
        policy.min_latency_samples,
    );
    let checks = run_checks(canary_arm, baseline_arm, stage, compare, earlier, &current, &risk, policy);

    let failed: Vec<&CheckResult> = checks.iter().filter(|c| c.outcome == Outcome::Fail).collect();
    // A failure extends the streak; a judgement on canary data without one ends it; a gap in
    // the canary metrics keeps it, so a gap neither hides nor fakes a sustained failure.
    let consecutive_failures = if !failed.is_empty() {
        failures.saturating_add(1)
    } else if canary_arm.is_none() {
        failures
    } else {
        0
    };
    let gate_kinds = [CheckKind::ErrorRate, CheckKind::P99Latency];
    let gates_proven = checks.iter().filter(|c| gate_kinds.contains(&c.check)).all(|c| c.outcome == Outcome::Pass);
    let samples_met = checks.iter().any(|c| c.check == CheckKind::Samples && c.outcome == Outcome::Pass);
    let needs = traffic_need(&checks, canary_arm, elapsed_ms);

    judgement.action = CanaryAction::Hold;
    judgement.consecutive_failures = consecutive_failures;
    judgement.elapsed_ms = elapsed_ms;
    judgement.min_duration_ms = Some(min_duration_ms);
    judgement.risk = Some(risk);
    judgement.stage_evidence = Some(current);
    let not_passing = |kinds: &[CheckKind]| -> Vec<String> {
        checks.iter().filter(|c| kinds.contains(&c.check) && c.outcome != Outcome::Pass).map(|c| c.reason.clone()).collect()
    };
    let blocking_gaps: Vec<String> = checks
        .iter()
        .filter(|c| c.outcome == Outcome::NoData && c.check != CheckKind::Samples && !gate_kinds.contains(&c.check))
        .map(|c| c.reason.clone())
        .collect();
    let need_reason = needs.as_ref().map(|n| n.reason.clone());

    if !failed.is_empty() {
        judgement.reasons = failed.iter().map(|c| c.reason.clone()).collect();
        if consecutive_failures >= policy.failures_to_rollback {
            judgement.action = CanaryAction::Rollback;
            judgement.reasons.push(format!(
                "{consecutive_failures} consecutive failed judgements (rollback at {})",
                policy.failures_to_rollback
            ));
        } else {
            judgement.reasons.push(format!(
                "failed judgement {consecutive_failures} of {} before rollback",
                policy.failures_to_rollback
            ));
        }
    } else if canary_arm.is_none() {
        judgement.reasons.push("no canary metrics since the stage started: nothing to judge".into());
    } else if !blocking_gaps.is_empty() {
        judgement.reasons = blocking_gaps;
    } else {
        match elapsed_ms {
            None => judgement.reasons.push("stage_started_at is not set; cannot tell how long the stage has run".into()),
            Some(elapsed) if elapsed < min_duration_ms => {
                judgement.reasons.push(format!(
                    "no check fails; stage has run {} of its {}",
                    format_ms(elapsed),
                    format_ms(min_duration_ms)
                ));
                judgement.reasons.extend(need_reason.clone());
            }
            Some(_) if !samples_met => {
                judgement.reasons.extend(need_reason.clone());
                judgement.reasons.extend(not_passing(&[CheckKind::Samples]));
            }
            Some(_) if !gates_proven && policy.low_traffic == LowTraffic::Hold => {
                judgement.reasons.extend(need_reason.clone());
                judgement.reasons.extend(not_passing(&gate_kinds));
                judgement.reasons.push("holding until the gates are proven (policy low_traffic = hold)".into());
            }
            Some(elapsed) => {
                let all_pass = checks.iter().all(|c| c.outcome == Outcome::Pass);
                let ran = format!("the stage ran {} (minimum {})", format_ms(elapsed), format_ms(min_duration_ms));
                let verdict = if all_pass {
                    format!("all checks pass and {ran}")
                } else if gates_proven {
                    format!("the gates pass, no comparison with the baseline fails, and {ran}")
                } else {
                    format!(
                        "no check fails and {ran}; the gates are not proven yet, advancing on time (policy low_traffic = advance_on_time)"
                    )
                };
                if stage_index + 1 >= canary.stages.len() {
                    judgement.action = CanaryAction::Complete;
                    judgement.reasons.push(format!("{verdict}; last stage, release complete"));
                } else {
                    judgement.action = CanaryAction::Advance;
                    judgement.next_stage = Some(stage_index + 1);
                    // `current_stage` is 0-based in the file; people count stages from 1.
                    judgement.reasons.push(format!(
                        "{verdict}; advance to stage {} of {} (current_stage {})",
                        stage_index + 2,
                        canary.stages.len(),
                        stage_index + 1
                    ));
                }
            }
        }
    }
    judgement.needs = needs;
    judgement.checks = checks;
    Ok(judgement)
}

/// The checks in their fixed order: samples, error rate, p99, then the two comparisons.
#[allow(clippy::too_many_arguments)]
fn run_checks(
    canary: Option<&ArmMetrics>,
    baseline: Option<&ArmMetrics>,
    stage: &CanaryStage,
    compare: bool,
    earlier: &[StageEvidence],
    current: &StageEvidence,
    risk: &RiskLevels,
    policy: &CanaryPolicy,
) -> Vec<CheckResult> {
    let gate = &stage.gate;
    let mut results = vec![checks::samples(canary, gate)];
    if canary.is_none() {
        return results;
    }
    results.push(checks::error_rate(canary, gate, risk));
    results.push(checks::p99_latency(canary, gate, risk));
    // A 100 % stage leaves no baseline traffic to compare with: the absolute gate judges it,
    // otherwise the last stage would hold for ever on "no baseline metrics".
    if compare {
        let evidence: Vec<StageEvidence> = earlier.iter().chain(std::iter::once(current)).cloned().collect();
        results.push(checks::error_rate_vs_baseline(&evidence, canary, baseline, risk, policy));
        results.push(checks::latency_vs_baseline(&evidence, canary, baseline, risk, policy));
    }
    results
}

/// The "needs about N more requests (≈ T)" state, when samples or a gate are not there yet.
fn traffic_need(checks: &[CheckResult], canary: Option<&ArmMetrics>, elapsed_ms: Option<u64>) -> Option<TrafficNeed> {
    let canary = canary?;
    let waiting: Vec<&CheckResult> = checks
        .iter()
        .filter(|c| match c.check {
            CheckKind::Samples => c.outcome == Outcome::NoData,
            CheckKind::ErrorRate | CheckKind::P99Latency => c.outcome == Outcome::Inconclusive,
            _ => false,
        })
        .collect();
    if waiting.is_empty() {
        return None;
    }
    let more_requests = waiting.iter().map(|c| c.needed_requests).try_fold(0u64, |max, n| n.map(|n| max.max(n)));
    let rate = elapsed_ms.filter(|&ms| ms > 0).map(|ms| canary.requests as f64 * 1000.0 / ms as f64);
    let more_seconds = match (more_requests, rate) {
        (Some(n), Some(r)) if r > 0.0 => Some((n as f64 / r).ceil().min(u64::MAX as f64) as u64),
        _ => None,
    };
    let name = |c: &CheckResult| match c.check {
        CheckKind::Samples => "min_samples",
        CheckKind::ErrorRate => "the error-rate gate",
        _ => "the p99 gate",
    };
    let names: Vec<&str> = waiting.iter().map(|c| name(c)).collect();
    let reason = match (more_requests, more_seconds, rate) {
        (Some(n), Some(s), Some(r)) => format!(
            "too little traffic: needs about {n} more canary requests (≈ {} at the current rate of {r:.2}/s) for {}",
            format_ms(s.saturating_mul(1000)),
            names.join(" and ")
        ),
        (Some(n), _, _) => format!("too little traffic: needs about {n} more canary requests for {}", names.join(" and ")),
        (None, _, _) => {
            let blocked: Vec<String> =
                waiting.iter().filter(|c| c.needed_requests.is_none()).map(|c| format!("{} ({})", name(c), c.reason)).collect();
            format!("more traffic alone will not pass {}", blocked.join("; "))
        }
    };
    Some(TrafficNeed { more_requests, more_seconds, canary_requests_per_second: rate, reason })
}

fn validate_gate(gate: &HealthGate, stage_path: &str) -> Result<(), JudgementError> {
    if !(0.0..=1.0).contains(&gate.max_error_rate) {
        return Err(JudgementError::new(
            format!("{stage_path}.gate.max_error_rate"),
            format!("must be within 0.0..=1.0, got {}", gate.max_error_rate),
        ));
    }
    if !gate.max_p99_ms.is_finite() || gate.max_p99_ms < 0.0 {
        return Err(JudgementError::new(
            format!("{stage_path}.gate.max_p99_ms"),
            format!("must be a finite number >= 0, got {}", gate.max_p99_ms),
        ));
    }
    Ok(())
}

/// Unix nanoseconds.
fn parse_time(text: &str, path: &str) -> Result<i128, JudgementError> {
    edgeflag_readers::rfc3339::parse(text).ok_or_else(|| JudgementError::new(path, format!("not an RFC 3339 time: {text:?}")))
}

/// Milliseconds as "1h2m3s" (sub-second remainders as "ms").
fn format_ms(ms: u64) -> String {
    let (h, m, s, rest) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let mut out = String::new();
    for (value, unit) in [(h, "h"), (m, "m"), (s, "s"), (rest, "ms")] {
        if value > 0 {
            out.push_str(&format!("{value}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests;
