//! Every decision path of [`judge_canary`].

use super::*;
use crate::judgement::{CheckKind, Latency, LowTraffic, MAX_EARLIER_STAGES};
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
    CanaryInput { now: now.into(), canary, baseline, consecutive_failures: failures, earlier_stages: Vec::new() }
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
    // The gates are proven; the comparisons cannot prove "no worse" with a zero margin, and
    // need not: they can only stop a canary.
    for kind in [CheckKind::Samples, CheckKind::ErrorRate, CheckKind::P99Latency] {
        assert_eq!(outcome(&judgement, kind), Some(Outcome::Pass), "{kind:?}: {judgement:#?}");
    }
    assert!(judgement.checks.iter().all(|c| c.outcome != Outcome::Fail));
    assert_eq!((judgement.elapsed_ms, judgement.min_duration_ms), (Some(900_000), Some(600_000)));
    assert!(judgement.reasons[0].starts_with("the gates pass, no comparison with the baseline fails"), "{:?}", judgement.reasons);
    assert_eq!(judgement.needs, None);
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
fn too_few_samples_hold_with_the_requests_still_needed() {
    // 1 % errors on 300 requests: nothing is wrong, but min_samples (1000) is not met yet.
    let few = healthy_arm(300, 3);
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(few), Some(healthy_arm(5000, 50)), 0));
    assert_eq!(judgement.action, CanaryAction::Hold, "{judgement:#?}");
    let samples = judgement.checks.iter().find(|c| c.check == CheckKind::Samples);
    assert_eq!(samples.map(|c| (c.outcome, c.needed_requests)), Some((Outcome::NoData, Some(700))));
    let needs = judgement.needs.as_ref().unwrap_or_else(|| panic!("no needs: {judgement:#?}"));
    assert!(needs.more_requests.is_some_and(|n| n >= 700), "{needs:?}");
    // 300 requests in 15 minutes: 1/3 per second, so 700 more take at least 35 minutes.
    assert!(needs.more_seconds.is_some_and(|s| s >= 2100), "{needs:?}");
    assert!(judgement.reasons[0].contains("more canary requests"), "{:?}", judgement.reasons);
}

#[test]
fn a_catastrophic_canary_is_rolled_back_before_min_samples() {
    // 50 % errors in the first 100 requests: the sequential test is valid from the first
    // request, so it does not wait for min_samples (1000) or min_duration.
    let few = ArmMetrics { requests: 100, errors: 50, p99_ms: None, latency: None };
    let judgement = judge(&canary_at(0), &input(AFTER_5M, Some(few), Some(healthy_arm(5000, 5)), 0));
    assert_eq!(judgement.action, CanaryAction::Rollback, "{judgement:#?}");
    assert_eq!(outcome(&judgement, CheckKind::ErrorRate), Some(Outcome::Fail));
    assert_eq!(judgement.consecutive_failures, 1);
}

#[test]
fn a_point_estimate_over_the_gate_is_not_a_failure() {
    // 3 errors in 100 requests is 3 % > 2 %, which the point-estimate gate failed on; the
    // confidence sequence still contains 2 %, so it neither fails nor passes.
    let noisy = ArmMetrics { requests: 100, errors: 3, p99_ms: None, latency: Some(histogram([10, 50, 30, 10, 0])) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(noisy), Some(healthy_arm(45_000, 450)), 0));
    let check = judgement.checks.iter().find(|c| c.check == CheckKind::ErrorRate).unwrap_or_else(|| panic!("no check"));
    assert_eq!(check.outcome, Outcome::Inconclusive, "{check:#?}");
    assert!(check.lower.is_some_and(|l| l < 0.02) && check.upper.is_some_and(|u| u > 0.02), "{check:#?}");
    assert_eq!((judgement.action, judgement.consecutive_failures), (CanaryAction::Hold, 0));
}

#[test]
fn error_rate_over_the_gate_rolls_back_after_the_configured_failures() {
    let bad = ArmMetrics { errors: 200, ..healthy_arm(5000, 0) };
    let check = |j: &CanaryJudgement| j.checks.iter().find(|c| c.check == CheckKind::ErrorRate).cloned();
    // Default: one failed judgement is an anytime-valid decision; roll back at once.
    let now = judge(&canary_at(0), &input(AFTER_5M, Some(bad.clone()), Some(healthy_arm(45_000, 450)), 0));
    assert_eq!((now.action, now.consecutive_failures), (CanaryAction::Rollback, 1));
    let failed = check(&now).unwrap_or_else(|| panic!("no check"));
    assert_eq!(failed.outcome, Outcome::Fail);
    assert!(failed.lower.is_some_and(|l| l > 0.02), "{failed:#?}");
    assert!(failed.reason.contains("canary error rate 4.000% exceeds 2.000%"), "{}", failed.reason);
    // With failures_to_rollback = 3 it holds twice first.
    let policy = CanaryPolicy { failures_to_rollback: 3, ..Default::default() };
    let first = judge_canary(&canary_at(0), &input(AFTER_5M, Some(bad.clone()), Some(healthy_arm(45_000, 450)), 0), &policy);
    assert_eq!(first.map(|j| (j.action, j.consecutive_failures)), Ok((CanaryAction::Hold, 1)));
    let third = judge_canary(&canary_at(0), &input(AFTER_5M, Some(bad), Some(healthy_arm(45_000, 450)), 2), &policy)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((third.action, third.consecutive_failures), (CanaryAction::Rollback, 3));
    assert!(third.reasons.iter().any(|r| r.contains("3 consecutive")), "{:?}", third.reasons);
}

#[test]
fn p99_over_the_gate_fails_on_the_histogram() {
    // 10 % of the canary's requests above 400 ms, in the +Inf bucket, against a 300 ms gate.
    let slow = ArmMetrics { latency: Some(histogram([500, 2500, 1500, 0, 500])), p99_ms: None, ..healthy_arm(5000, 20) };
    let mut canary = canary_at(1);
    canary.stages[1].gate.max_p99_ms = 300.0;
    let judgement = judge(&canary, &input(AFTER_15M, Some(slow), Some(healthy_arm(45_000, 180)), 0));
    let check = judgement.checks.iter().find(|c| c.check == CheckKind::P99Latency).unwrap_or_else(|| panic!("no check"));
    assert_eq!(check.outcome, Outcome::Fail, "{check:#?}");
    assert_eq!(check.lower, Some(400.0), "the p99 is credibly above the 400 ms bound");
    assert_eq!(judgement.action, CanaryAction::Rollback);
}

#[test]
fn failure_count_saturates() {
    let bad = ArmMetrics { errors: 500, ..healthy_arm(5000, 0) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(bad), None, u32::MAX));
    assert_eq!((judgement.action, judgement.consecutive_failures), (CanaryAction::Rollback, u32::MAX));
}

#[test]
fn canary_clearly_worse_than_baseline_fails_under_the_absolute_threshold() {
    // 1.6 % errors is under the 2 % gate, but the baseline runs at 0.4 %: a ratio of 4.
    let canary = healthy_arm(5000, 80);
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(canary), Some(healthy_arm(45_000, 180)), 0));
    assert_ne!(outcome(&judgement, CheckKind::ErrorRate), Some(Outcome::Fail));
    let check = judgement.checks.iter().find(|c| c.check == CheckKind::ErrorRateVsBaseline).unwrap_or_else(|| panic!("no check"));
    assert_eq!(check.outcome, Outcome::Fail, "{check:#?}");
    assert!(check.observed.is_some_and(|r| (r - 4.0).abs() < 1e-6), "{check:#?}");
    assert!(check.lower.is_some_and(|l| l > 1.0) && check.p_value.is_some_and(|p| p < 0.0025), "{check:#?}");
    assert_eq!(check.baseline, Some(0.004));
    assert_eq!(judgement.action, CanaryAction::Rollback);
}

#[test]
fn slower_latency_distribution_fails_under_the_p99_threshold() {
    // Same p99 budget, but the canary's mass sits one bucket higher than the baseline's.
    let slow = ArmMetrics { latency: Some(histogram([100, 500, 1500, 2900, 0])), ..healthy_arm(5000, 20) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(slow), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::P99Latency), Some(Outcome::Pass));
    let check = judgement.checks.iter().find(|c| c.check == CheckKind::LatencyVsBaseline);
    assert_eq!(check.map(|c| c.outcome), Some(Outcome::Fail), "{judgement:#?}");
    assert!(check.and_then(|c| c.lower).is_some_and(|l| l > 1.5), "{check:#?}");
    assert!(check.and_then(|c| c.p_value).is_some_and(|p| p < 1e-6));
}

#[test]
fn worse_but_not_credibly_is_inconclusive_and_does_not_hold() {
    // 0.8 % vs 0.4 %: twice the errors, but on 3,000 requests the ratio's bounds straddle 1.
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(healthy_arm(3000, 24)), Some(healthy_arm(3000, 12)), 1));
    let check = judgement.checks.iter().find(|c| c.check == CheckKind::ErrorRateVsBaseline).unwrap_or_else(|| panic!("no check"));
    assert_eq!(check.outcome, Outcome::Inconclusive, "{check:#?}");
    assert!(check.lower.is_some_and(|l| l < 1.0) && check.upper.is_some_and(|u| u > 2.0), "{check:#?}");
    // The gates are proven, so the stage advances: a comparison needs no proof of innocence.
    assert_eq!((judgement.action, judgement.consecutive_failures), (CanaryAction::Advance, 0), "{judgement:#?}");
}

#[test]
fn earlier_stages_carry_evidence_into_the_comparison() {
    // Each stage alone is inconclusive (0.8 % vs 0.4 %), three together are convincing.
    let stage = |index| StageEvidence {
        stage: index,
        started_at: None,
        canary_requests: 3000,
        canary_errors: 24,
        baseline_requests: 3000,
        baseline_errors: 12,
        latency_shift: None,
    };
    let mut carried = input(AFTER_15M, Some(healthy_arm(3000, 24)), Some(healthy_arm(3000, 12)), 0);
    carried.earlier_stages = vec![stage(0), stage(0), stage(0), stage(0)];
    let judgement = judge(&canary_at(1), &carried);
    let check = judgement.checks.iter().find(|c| c.check == CheckKind::ErrorRateVsBaseline).unwrap_or_else(|| panic!("no check"));
    assert_eq!(check.outcome, Outcome::Fail, "{check:#?}");
    assert!(check.reason.contains("over 5 stages"), "{}", check.reason);
    assert_eq!(judgement.stage_evidence.as_ref().map(|e| (e.canary_errors, e.baseline_errors)), Some((24, 12)));
    carried.earlier_stages[2].canary_errors = 4000;
    let err = judge_canary(&canary_at(1), &carried, &CanaryPolicy::default()).err().map(|e| e.path);
    assert_eq!(err.as_deref(), Some("input.earlier_stages[2].canary_errors"));
    carried.earlier_stages = vec![stage(0); MAX_EARLIER_STAGES + 1];
    let err = judge_canary(&canary_at(1), &carried, &CanaryPolicy::default()).err().map(|e| e.path);
    assert_eq!(err.as_deref(), Some("input.earlier_stages"));
}

#[test]
fn low_traffic_holds_or_advances_on_time_by_policy() {
    // 1 % errors on 1,200 requests: min_samples is met, but the 2 % gate is not proven yet.
    let unproven = input(AFTER_15M, Some(healthy_arm(1200, 12)), Some(healthy_arm(10_800, 108)), 0);
    let held = judge(&canary_at(0), &unproven);
    assert_eq!(held.action, CanaryAction::Hold, "{held:#?}");
    assert_eq!(outcome(&held, CheckKind::ErrorRate), Some(Outcome::Inconclusive));
    let needs = held.needs.clone().unwrap_or_else(|| panic!("no needs: {held:#?}"));
    assert!(needs.more_requests.is_some_and(|n| n > 100 && n < 5000), "{needs:?}");
    assert!(needs.canary_requests_per_second.is_some_and(|r| (r - 1200.0 / 900.0).abs() < 1e-9), "{needs:?}");
    assert!(held.reasons.iter().any(|r| r.contains("low_traffic = hold")), "{:?}", held.reasons);
    let policy = CanaryPolicy { low_traffic: LowTraffic::AdvanceOnTime, ..Default::default() };
    let advanced = judge_canary(&canary_at(0), &unproven, &policy).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(advanced.action, CanaryAction::Advance, "{advanced:#?}");
    assert!(advanced.reasons[0].contains("advancing on time"), "{:?}", advanced.reasons);
    // A gate that cannot pass at the current rate says so instead of a count.
    let at_threshold = input(AFTER_15M, Some(healthy_arm(1200, 30)), Some(healthy_arm(10_800, 270)), 0);
    let j = judge(&canary_at(0), &at_threshold);
    assert_eq!(j.needs.as_ref().map(|n| n.more_requests), Some(None), "{j:#?}");
    assert!(j.needs.as_ref().is_some_and(|n| n.reason.contains("error-rate gate") && n.reason.contains("not yet known")), "{j:#?}");
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
fn unusable_metric_values_are_no_data() {
    let impossible = ArmMetrics { errors: 6000, ..healthy_arm(5000, 0) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(impossible), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::ErrorRate), Some(Outcome::NoData));
    assert_eq!(judgement.action, CanaryAction::Hold);

    let nan_samples = ArmMetrics { latency: Some(Latency::Samples { values_ms: vec![f64::NAN; 3] }), ..healthy_arm(5000, 20) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(nan_samples), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::P99Latency), Some(Outcome::NoData));
    assert_eq!(outcome(&judgement, CheckKind::LatencyVsBaseline), Some(Outcome::Inconclusive));
    assert_eq!(judgement.action, CanaryAction::Hold);
}

#[test]
fn a_reported_p99_without_a_distribution_cannot_be_bounded() {
    let no_latency = ArmMetrics { latency: None, p99_ms: Some(120.0), ..healthy_arm(5000, 20) };
    let judgement = judge(&canary_at(0), &input(AFTER_15M, Some(no_latency), Some(healthy_arm(45_000, 180)), 0));
    assert_eq!(outcome(&judgement, CheckKind::P99Latency), Some(Outcome::Inconclusive));
    assert_eq!(outcome(&judgement, CheckKind::LatencyVsBaseline), Some(Outcome::NoData));
    assert_eq!(judgement.action, CanaryAction::Hold);
}

#[test]
fn samples_and_histograms_judge_alike() {
    // 2,000 samples at the bounds of the histogram buckets give the same p99 verdict.
    let values: Vec<f64> = [(50.0, 200), (100.0, 1000), (200.0, 600), (400.0, 200)]
        .iter()
        .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
        .collect();
    let samples = ArmMetrics { requests: 2000, errors: 8, p99_ms: None, latency: Some(Latency::Samples { values_ms: values }) };
    let hist = ArmMetrics { latency: Some(histogram([200, 1000, 600, 200, 0])), ..samples.clone() };
    let a = judge(&canary_at(2), &input(AFTER_15M, Some(samples), None, 0));
    let b = judge(&canary_at(2), &input(AFTER_15M, Some(hist), None, 0));
    let p99 = |j: &CanaryJudgement| j.checks.iter().find(|c| c.check == CheckKind::P99Latency).map(|c| (c.outcome, c.upper));
    assert_eq!(p99(&a), p99(&b));
    assert_eq!(p99(&a), Some((Outcome::Pass, Some(400.0))));
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
        "canary": {"requests": 2000, "errors": 4,
                   "latency": {"kind": "histogram", "buckets": [{"le": 50.0, "count": 1900}, {"le": 100.0, "count": 100}]}},
        "baseline": {"requests": 2000, "errors": 5,
                     "latency": {"kind": "histogram", "buckets": [{"le": 50.0, "count": 1890}, {"le": 100.0, "count": 110}]}},
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
    assert!(out["checks"][1]["upper"].as_f64().is_some_and(|u| u < 0.02), "{out:#}");
    assert!(out["risk"]["gate_alpha"].as_f64().is_some_and(|a| (a - 0.01 / 4.0 / 3.0).abs() < 1e-15), "{out:#}");
    assert_eq!(out["stage_evidence"]["canary_errors"], 4);
    assert!(out.get("needs").is_none(), "{out:#}");
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
    let failing = input(AFTER_15M, Some(healthy_arm(5000, 500)), None, 0);
    assert_eq!(judge(&canary_at(2), &failing).action, CanaryAction::Rollback);
}
