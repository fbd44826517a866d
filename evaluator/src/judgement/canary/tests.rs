//! Every decision path of [`judge_canary`].

use super::*;
use crate::judgement::{CheckKind, Latency};
use crate::model::{CanaryStage, HealthGate};
use crate::stats::{Bucket, Histogram};

const START: &str = "2026-01-01T10:00:00Z";
const AFTER_5M: &str = "2026-01-01T10:05:00Z";
const AFTER_15M: &str = "2026-01-01T10:15:00Z";

fn stage(percent: f64) -> CanaryStage {
    CanaryStage {
        percent,
        min_duration: "10m".into(),
        gate: HealthGate { max_error_rate: 0.02, max_p99_ms: 500.0, min_samples: 1000 },
    }
}

fn canary_at(current_stage: usize) -> Canary {
    Canary {
        baseline: "old".into(),
        canary: "new".into(),
        stages: vec![stage(10.0), stage(50.0), stage(100.0)],
        current_stage,
        status: CanaryStatus::Running,
        stage_started_at: Some(START.into()),
        stickiness: None,
        salt: None,
    }
}

/// Latency histogram with buckets 50/100/200/400 ms/+Inf.
fn histogram(counts: [u64; 5]) -> Latency {
    let bounds = [Some(50.0), Some(100.0), Some(200.0), Some(400.0), None];
    Latency::Histogram(Histogram { buckets: bounds.iter().zip(counts).map(|(&le, count)| Bucket { le, count }).collect() })
}

fn healthy_arm(requests: u64, errors: u64) -> ArmMetrics {
    // ~10/50/30/10 % across the finite buckets.
    let counts = [requests / 10, requests / 2, requests * 3 / 10, requests / 10, 0];
    ArmMetrics { requests, errors, p99_ms: Some(300.0), latency: Some(histogram(counts)) }
}

fn input(now: &str, canary: Option<ArmMetrics>, baseline: Option<ArmMetrics>, failures: u32) -> CanaryInput {
    CanaryInput { now: now.into(), canary, baseline, consecutive_failures: failures }
}

fn healthy(now: &str) -> CanaryInput {
    input(now, Some(healthy_arm(5000, 20)), Some(healthy_arm(45_000, 180)), 0)
}

fn judge(canary: &Canary, input: &CanaryInput) -> CanaryJudgement {
    match judge_canary(canary, input, &CanaryPolicy::default()) {
        Ok(judgement) => judgement,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn outcome(judgement: &CanaryJudgement, kind: CheckKind) -> Option<Outcome> {
    judgement.checks.iter().find(|c| c.check == kind).map(|c| c.outcome)
}

#[test]
fn inactive_canaries_get_no_action() {
    for status in [CanaryStatus::Paused, CanaryStatus::RolledBack, CanaryStatus::Completed] {
        let canary = Canary { status, current_stage: 99, ..canary_at(0) };
        let mut failing = healthy(AFTER_15M);
        failing.consecutive_failures = 2;
        let judgement = judge(&canary, &failing);
        assert_eq!(judgement.action, CanaryAction::NoAction, "{status:?}");
        assert_eq!(judgement.consecutive_failures, 2);
        assert!(judgement.checks.is_empty());
    }
}

#[test]
fn healthy_after_min_duration_advances() {
    let judgement = judge(&canary_at(0), &healthy(AFTER_15M));
    assert_eq!(judgement.action, CanaryAction::Advance, "{judgement:#?}");
    assert_eq!(judgement.next_stage, Some(1));
    assert_eq!(judgement.checks.len(), 5);
    assert!(judgement.checks.iter().all(|c| c.outcome == Outcome::Pass), "{judgement:#?}");
    assert_eq!((judgement.elapsed_ms, judgement.min_duration_ms), (Some(900_000), Some(600_000)));
}

#[test]
fn healthy_on_the_last_stage_completes() {
    let judgement = judge(&canary_at(2), &healthy(AFTER_15M));
    assert_eq!(judgement.action, CanaryAction::Complete, "{judgement:#?}");
    assert_eq!(judgement.next_stage, None);
}

#[test]
fn healthy_before_min_duration_holds_and_resets_failures() {
    let mut observed = healthy(AFTER_5M);
    observed.consecutive_failures = 2;
    let judgement = judge(&canary_at(0), &observed);
    assert_eq!(judgement.action, CanaryAction::Hold);
    assert_eq!(judgement.consecutive_failures, 0);
    assert!(judgement.reasons[0].contains("5m of its 10m"), "{:?}", judgement.reasons);
}

#[test]
fn unknown_or_future_stage_start_holds() {
    let unknown = Canary { stage_started_at: None, ..canary_at(0) };
    let judgement = judge(&unknown, &healthy(AFTER_15M));
    assert_eq!((judgement.action, judgement.elapsed_ms), (CanaryAction::Hold, None));
    let future = Canary { stage_started_at: Some("2026-01-01T11:00:00Z".into()), ..canary_at(0) };
    let judgement = judge(&future, &healthy(AFTER_15M));
    assert_eq!((judgement.action, judgement.elapsed_ms), (CanaryAction::Hold, Some(0)));
}

#[test]
fn missing_canary_metrics_hold_without_counting() {
    let judgement = judge(&canary_at(0), &input(AFTER_15M, None, Some(healthy_arm(5000, 5)), 1));
    assert_eq!(judgement.action, CanaryAction::Hold);
    assert_eq!(judgement.consecutive_failures, 1);
    assert_eq!(judgement.checks.len(), 1);
    assert_eq!(outcome(&judgement, CheckKind::Samples), Some(Outcome::NoData));
}

#[test]
fn too_few_samples_never_fail_or_advance() {
    // 50 % errors but only 100 requests: no data, not a failure.
    let few = ArmMetrics { requests: 100, errors: 50, p99_ms: Some(900.0), latency: None };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(few), Some(healthy_arm(5000, 5)), 2));
    assert_eq!(judgement.action, CanaryAction::Hold);
    assert_eq!(judgement.consecutive_failures, 2);
    assert!(judgement.checks.iter().all(|c| c.outcome == Outcome::NoData), "{judgement:#?}");
}

#[test]
fn error_rate_over_the_gate_fails_then_rolls_back() {
    let bad = ArmMetrics { errors: 200, ..healthy_arm(5000, 0) };
    let first = judge(&canary_at(0), &input(AFTER_5M, Some(bad.clone()), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!((first.action, first.consecutive_failures), (CanaryAction::Hold, 1));
    assert_eq!(outcome(&first, CheckKind::ErrorRate), Some(Outcome::Fail));
    // Third failure in a row: rollback, even though min_duration has not elapsed.
    let third = judge(&canary_at(0), &input(AFTER_5M, Some(bad), Some(healthy_arm(45_000, 180)), 2));
    assert_eq!((third.action, third.consecutive_failures), (CanaryAction::Rollback, 3));
    assert!(third.reasons.iter().any(|r| r.contains("3 consecutive")), "{:?}", third.reasons);
}

#[test]
fn failures_to_rollback_is_configurable() {
    let bad = ArmMetrics { p99_ms: Some(800.0), ..healthy_arm(5000, 20) };
    let policy = CanaryPolicy { failures_to_rollback: 1, ..Default::default() };
    let judgement = judge_canary(&canary_at(1), &input(AFTER_15M, Some(bad), Some(healthy_arm(45_000, 180)), 0), &policy);
    let judgement = judgement.map(|j| (j.action, j.checks.iter().find(|c| c.check == CheckKind::P99Latency).map(|c| c.outcome)));
    assert_eq!(judgement, Ok((CanaryAction::Rollback, Some(Outcome::Fail))));
}

#[test]
fn failure_count_saturates() {
    let bad = ArmMetrics { errors: 500, ..healthy_arm(5000, 0) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(bad), None, u32::MAX));
    assert_eq!((judgement.action, judgement.consecutive_failures), (CanaryAction::Rollback, u32::MAX));
}

#[test]
fn canary_clearly_worse_than_baseline_fails_under_the_absolute_threshold() {
    // 1.6 % errors is under the 2 % gate, but the baseline runs at 0.4 %.
    let canary = healthy_arm(5000, 80);
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(canary), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::ErrorRate), Some(Outcome::Pass));
    assert_eq!(outcome(&judgement, CheckKind::ErrorRateVsBaseline), Some(Outcome::Fail), "{judgement:#?}");
    assert_eq!(judgement.action, CanaryAction::Hold);
    assert_eq!(judgement.consecutive_failures, 1);
}

#[test]
fn slower_latency_distribution_fails_under_the_p99_threshold() {
    // Same p99 budget, but the canary's mass sits one bucket higher than the baseline's.
    let slow = ArmMetrics { latency: Some(histogram([100, 500, 1500, 2900, 0])), ..healthy_arm(5000, 20) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(slow), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::P99Latency), Some(Outcome::Pass));
    let check = judgement.checks.iter().find(|c| c.check == CheckKind::LatencyVsBaseline);
    assert_eq!(check.map(|c| c.outcome), Some(Outcome::Fail), "{judgement:#?}");
    assert!(check.and_then(|c| c.p_value).is_some_and(|p| p < 1e-6));
}

#[test]
fn worse_but_not_significant_is_inconclusive_and_holds() {
    // 0.8 % vs 0.4 % on small arms: beyond the tolerance, but p > 0.05.
    let canary = healthy_arm(1000, 8);
    let baseline = healthy_arm(1000, 4);
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(canary), Some(baseline), 1));
    assert_eq!(outcome(&judgement, CheckKind::ErrorRateVsBaseline), Some(Outcome::Inconclusive), "{judgement:#?}");
    assert_eq!((judgement.action, judgement.consecutive_failures), (CanaryAction::Hold, 1));
}

#[test]
fn missing_baseline_holds_unless_comparison_is_disabled() {
    let no_baseline = input(AFTER_15M, Some(healthy_arm(5000, 20)), None, 0);
    let judgement = judge(&canary_at(0), &no_baseline);
    assert_eq!(judgement.action, CanaryAction::Hold);
    assert_eq!(outcome(&judgement, CheckKind::ErrorRateVsBaseline), Some(Outcome::NoData));
    assert_eq!(outcome(&judgement, CheckKind::LatencyVsBaseline), Some(Outcome::NoData));
    let policy = CanaryPolicy { compare_with_baseline: false, ..Default::default() };
    let judgement = judge_canary(&canary_at(0), &no_baseline, &policy).map(|j| (j.action, j.checks.len()));
    assert_eq!(judgement, Ok((CanaryAction::Advance, 3)));
}

#[test]
fn small_baseline_is_no_data() {
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(healthy_arm(5000, 20)), Some(healthy_arm(500, 2)), 0));
    assert_eq!(outcome(&judgement, CheckKind::ErrorRateVsBaseline), Some(Outcome::NoData));
    let policy = CanaryPolicy { min_baseline_samples: Some(100), ..Default::default() };
    let small = input(AFTER_15M, Some(healthy_arm(5000, 20)), Some(healthy_arm(500, 2)), 0);
    assert_eq!(judge_canary(&canary_at(0), &small, &policy).map(|j| j.action), Ok(CanaryAction::Advance));
}

#[test]
fn unusable_metric_values_are_no_data() {
    let nan_p99 = ArmMetrics { p99_ms: Some(f64::NAN), ..healthy_arm(5000, 20) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(nan_p99), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::P99Latency), Some(Outcome::NoData));
    assert_eq!(judgement.action, CanaryAction::Hold);

    let impossible = ArmMetrics { errors: 6000, ..healthy_arm(5000, 0) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(impossible), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::ErrorRate), Some(Outcome::NoData));
    assert_eq!(outcome(&judgement, CheckKind::ErrorRateVsBaseline), Some(Outcome::NoData));
    assert_eq!(judgement.action, CanaryAction::Hold);

    let nan_samples = ArmMetrics { latency: Some(Latency::Samples { values_ms: vec![f64::NAN; 3] }), ..healthy_arm(5000, 20) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(nan_samples), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::LatencyVsBaseline), Some(Outcome::NoData));
}

#[test]
fn incomparable_latency_data_is_no_data() {
    let other_buckets = Latency::Histogram(Histogram { buckets: vec![Bucket { le: Some(1000.0), count: 5000 }] });
    let canary = ArmMetrics { latency: Some(other_buckets), ..healthy_arm(5000, 20) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(canary), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::LatencyVsBaseline), Some(Outcome::NoData));
    let no_latency = ArmMetrics { latency: None, ..healthy_arm(5000, 20) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(no_latency), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::LatencyVsBaseline), Some(Outcome::NoData));
    assert_eq!(outcome(&judgement, CheckKind::P99Latency), Some(Outcome::Pass));
}

#[test]
fn unjudgeable_configuration_is_an_error_with_a_path() {
    let policy = CanaryPolicy::default();
    let ok = healthy(AFTER_15M);
    let path = |canary: &Canary, input: &CanaryInput, policy: &CanaryPolicy| judge_canary(canary, input, policy).err().map(|e| e.path);
    assert_eq!(path(&canary_at(3), &ok, &policy), Some("canary.current_stage".into()));
    let mut bad_duration = canary_at(1);
    bad_duration.stages[1].min_duration = "ten minutes".into();
    assert_eq!(path(&bad_duration, &ok, &policy), Some("canary.stages[1].min_duration".into()));
    let mut nan_gate = canary_at(0);
    nan_gate.stages[0].gate.max_error_rate = f64::NAN;
    assert_eq!(path(&nan_gate, &ok, &policy), Some("canary.stages[0].gate.max_error_rate".into()));
    let mut bad_p99 = canary_at(0);
    bad_p99.stages[0].gate.max_p99_ms = f64::INFINITY;
    assert_eq!(path(&bad_p99, &ok, &policy), Some("canary.stages[0].gate.max_p99_ms".into()));
    let bad_start = Canary { stage_started_at: Some("yesterday".into()), ..canary_at(0) };
    assert_eq!(path(&bad_start, &ok, &policy), Some("canary.stage_started_at".into()));
    assert_eq!(path(&canary_at(0), &healthy("now"), &policy), Some("input.now".into()));
    let bad_policy = CanaryPolicy { alpha: 0.0, ..Default::default() };
    assert_eq!(path(&canary_at(0), &ok, &bad_policy), Some("policy.alpha".into()));
    let empty = Canary { stages: Vec::new(), ..canary_at(0) };
    assert_eq!(path(&empty, &ok, &policy), Some("canary.current_stage".into()));
}

#[test]
fn json_in_and_out_is_snake_case() {
    let json = r#"{
        "now": "2026-01-01T10:15:00Z",
        "canary": {"requests": 2000, "errors": 4, "p99_ms": 120.0,
                   "latency": {"kind": "samples", "values_ms": [10.0, 12.0, 11.0, 13.0]}},
        "baseline": {"requests": 2000, "errors": 5, "p99_ms": 118.0,
                     "latency": {"kind": "samples", "values_ms": [10.5, 12.5, 11.0, 12.0]}},
        "consecutive_failures": 0
    }"#;
    let parsed: Result<CanaryInput, _> = serde_json::from_str(json);
    let Ok(parsed) = parsed else { panic!("{parsed:?}") };
    let judgement = judge(&canary_at(0), &parsed);
    let out = serde_json::to_value(&judgement).unwrap_or_default();
    assert_eq!(out["action"], "advance", "{out:#}");
    assert_eq!(out["next_stage"], 1);
    assert_eq!(out["checks"][3]["check"], "error_rate_vs_baseline");
    assert_eq!(out["checks"][0]["outcome"], "pass");
}

#[test]
fn durations_read_well() {
    assert_eq!(format_ms(0), "0s");
    assert_eq!(format_ms(3_723_004), "1h2m3s4ms");
}

#[test]
fn full_stage_is_judged_without_a_baseline() {
    // At 100 % nobody is on the baseline; the absolute gate alone decides.
    let no_baseline = input(AFTER_15M, Some(healthy_arm(5000, 20)), None, 0);
    let judgement = judge(&canary_at(2), &no_baseline);
    assert_eq!(judgement.action, CanaryAction::Complete, "{judgement:#?}");
    assert_eq!(outcome(&judgement, CheckKind::ErrorRateVsBaseline), None);
    // Below 100 % a missing baseline still holds.
    assert_eq!(judge(&canary_at(1), &no_baseline).action, CanaryAction::Hold);
    let failing = input(AFTER_15M, Some(healthy_arm(5000, 500)), None, 2);
    assert_eq!(judge(&canary_at(2), &failing).action, CanaryAction::Rollback);
}
