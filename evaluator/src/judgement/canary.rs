//! The canary gate decision: advance, hold, roll back or complete.

use serde::{Deserialize, Serialize};

use super::checks::{self, CheckResult, Outcome};
use super::metrics::ArmMetrics;
use super::policy::CanaryPolicy;
use super::JudgementError;
use crate::duration::parse_duration;
use crate::model::{Canary, CanaryStage, CanaryStatus, HealthGate};

/// What the controller observed since the current stage started. JSON is snake_case:
/// `{"now": "2026-01-01T10:00:00Z", "canary": {...}, "baseline": {...}, "consecutive_failures": 1}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanaryInput {
    /// The judgement time (RFC 3339).
    pub now: String,
    /// Canary-arm metrics over the window; absent means the metrics source returned nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<ArmMetrics>,
    /// Baseline-arm metrics over the same window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<ArmMetrics>,
    /// Consecutive judgements with a failed check so far (the previous judgement's output).
    #[serde(default)]
    pub consecutive_failures: u32,
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
}

/// Judges a canary at `input.now`. Errors only for configuration that cannot be judged
/// (stage index out of range, unparsable duration or timestamps, NaN gate thresholds, an
/// invalid policy); metric problems become `no_data` / `inconclusive` checks instead.
pub fn judge_canary(canary: &Canary, input: &CanaryInput, policy: &CanaryPolicy) -> Result<CanaryJudgement, JudgementError> {
    if canary.status != CanaryStatus::Running {
        return Ok(CanaryJudgement {
            action: CanaryAction::NoAction,
            reasons: vec![format!("canary is {}; the controller leaves it alone", canary.status.as_str())],
            checks: Vec::new(),
            consecutive_failures: input.consecutive_failures,
            stage: canary.current_stage,
            next_stage: None,
            elapsed_ms: None,
            min_duration_ms: None,
        });
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

    let checks = run_checks(input, stage, policy);
    let failed: Vec<&CheckResult> = checks.iter().filter(|c| c.outcome == Outcome::Fail).collect();
    let all_pass = checks.iter().all(|c| c.outcome == Outcome::Pass);
    // A failure extends the streak; a clean pass ends it; no data / inconclusive keeps it, so
    // gaps in the metrics neither hide nor fake a sustained failure.
    let consecutive_failures = if !failed.is_empty() {
        input.consecutive_failures.saturating_add(1)
    } else if all_pass {
        0
    } else {
        input.consecutive_failures
    };

    let mut judgement = CanaryJudgement {
        action: CanaryAction::Hold,
        reasons: Vec::new(),
        checks: Vec::new(),
        consecutive_failures,
        stage: stage_index,
        next_stage: None,
        elapsed_ms,
        min_duration_ms: Some(min_duration_ms),
    };
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
    } else if !all_pass {
        judgement.reasons = checks.iter().filter(|c| c.outcome != Outcome::Pass).map(|c| c.reason.clone()).collect();
    } else {
        match elapsed_ms {
            None => judgement.reasons.push("stage_started_at is not set; cannot tell how long the stage has run".into()),
            Some(elapsed) if elapsed < min_duration_ms => judgement.reasons.push(format!(
                "all checks pass; stage has run {} of its {}",
                format_ms(elapsed),
                format_ms(min_duration_ms)
            )),
            Some(elapsed) => {
                let ran = format!("all checks pass and the stage ran {} (minimum {})", format_ms(elapsed), format_ms(min_duration_ms));
                if stage_index + 1 >= canary.stages.len() {
                    judgement.action = CanaryAction::Complete;
                    judgement.reasons.push(format!("{ran}; last stage, release complete"));
                } else {
                    judgement.action = CanaryAction::Advance;
                    judgement.next_stage = Some(stage_index + 1);
                    // `current_stage` is 0-based in the file; people count stages from 1.
                    judgement.reasons.push(format!(
                        "{ran}; advance to stage {} of {} (current_stage {})",
                        stage_index + 2,
                        canary.stages.len(),
                        stage_index + 1
                    ));
                }
            }
        }
    }
    judgement.checks = checks;
    Ok(judgement)
}

/// The checks in their fixed order: samples, error rate, p99, then the two comparisons.
fn run_checks(input: &CanaryInput, stage: &CanaryStage, policy: &CanaryPolicy) -> Vec<CheckResult> {
    let gate = &stage.gate;
    let samples = checks::samples(input.canary.as_ref(), gate);
    let enough = samples.outcome == Outcome::Pass;
    let mut results = vec![samples];
    let Some(canary) = &input.canary else {
        return results;
    };
    results.push(checks::error_rate(canary, gate, enough));
    results.push(checks::p99_latency(canary, gate, enough));
    // A 100 % stage leaves no baseline traffic to compare with: the absolute gate judges it,
    // otherwise the last stage would hold for ever on "no baseline metrics".
    if policy.compare_with_baseline && stage.percent < 100.0 {
        let min_baseline = policy.min_baseline_samples.unwrap_or(gate.min_samples);
        let baseline = input.baseline.as_ref();
        results.push(checks::error_rate_vs_baseline(canary, baseline, enough, min_baseline, policy));
        results.push(checks::latency_vs_baseline(canary, baseline, enough, min_baseline, policy));
    }
    results
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
    crate::instant::parse(text).ok_or_else(|| JudgementError::new(path, format!("not an RFC 3339 time: {text:?}")))
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
