//! Property tests: no input makes the judgement or the statistics panic.

use proptest::prelude::*;

use super::*;
use crate::model::{Canary, CanaryStage, CanaryStatus, Experiment, ExperimentVariant, HealthGate};
use crate::stats::{self, Bucket, Histogram, SampleSummary};

/// Any f64, with NaN, infinities, zero and negatives well represented.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        -1e3..1e3f64,
        any::<f64>(),
    ]
}

fn any_count() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(1u64), 0..5_000u64, any::<u64>()]
}

fn latency() -> impl Strategy<Value = Option<Latency>> {
    prop_oneof![
        Just(None),
        prop::collection::vec(any_f64(), 0..20).prop_map(|values_ms| Some(Latency::Samples { values_ms })),
        prop::collection::vec((prop::option::of(any_f64()), any_count()), 0..6)
            .prop_map(|b| Some(Latency::Histogram(Histogram {
                buckets: b.into_iter().map(|(le, count)| Bucket { le, count }).collect()
            }))),
    ]
}

fn evidence() -> impl Strategy<Value = StageEvidence> {
    (any_count(), any_count(), any_count(), any_count(), prop::option::of((any_f64(), any_f64()))).prop_map(
        |(canary_requests, canary_errors, baseline_requests, baseline_errors, shift)| StageEvidence {
            stage: 0,
            started_at: None,
            canary_requests,
            canary_errors: canary_errors.min(canary_requests),
            baseline_requests,
            baseline_errors: baseline_errors.min(baseline_requests),
            latency_shift: shift
                .filter(|(e, v)| e.is_finite() && v.is_finite() && *v > 0.0)
                .map(|(estimate, variance)| LogShift { estimate, variance }),
        },
    )
}

/// No NaN or infinity reaches a decision's numbers.
fn assert_finite(judgement: &CanaryJudgement) {
    for c in &judgement.checks {
        for (name, v) in [("observed", c.observed), ("limit", c.limit), ("baseline", c.baseline), ("p_value", c.p_value), ("lower", c.lower), ("upper", c.upper)] {
            assert!(v.is_none_or(f64::is_finite), "{:?}.{name} = {v:?}", c.check);
        }
        if let (Some(l), Some(u)) = (c.lower, c.upper) {
            assert!(l <= u * (1.0 + 1e-9) + 1e-12 || c.check == CheckKind::P99Latency, "{c:?}");
        }
    }
    if let Some(needs) = &judgement.needs {
        assert!(needs.canary_requests_per_second.is_none_or(f64::is_finite), "{needs:?}");
    }
    if let Some(shift) = judgement.stage_evidence.as_ref().and_then(|e| e.latency_shift) {
        assert!(shift.estimate.is_finite() && shift.variance.is_finite() && shift.variance > 0.0, "{shift:?}");
    }
}

fn arm() -> impl Strategy<Value = Option<ArmMetrics>> {
    prop::option::of((any_count(), any_count(), prop::option::of(any_f64()), latency()).prop_map(
        |(requests, errors, p99_ms, latency)| ArmMetrics { requests, errors, p99_ms, latency },
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn judge_canary_never_panics(
        canary_arm in arm(),
        baseline_arm in arm(),
        failures in any::<u32>(),
        max_error_rate in any_f64(),
        max_p99_ms in any_f64(),
        min_samples in any_count(),
        current_stage in 0usize..3,
        alpha in any_f64(),
        tolerance in any_f64(),
        earlier in prop::collection::vec(evidence(), 0..4),
        advance in any::<bool>(),
    ) {
        let stage = CanaryStage {
            percent: 50.0,
            min_duration: "10m".into(),
            gate: HealthGate { max_error_rate, max_p99_ms, min_samples },
        };
        let canary = Canary {
            baseline: "old".into(),
            canary: "new".into(),
            stages: vec![stage.clone(), stage],
            current_stage,
            status: CanaryStatus::Running,
            stage_started_at: Some("2026-01-01T10:00:00Z".into()),
            stickiness: None,
            salt: None,
        };
        let input = CanaryInput {
            now: "2026-01-01T10:20:00Z".into(),
            canary: canary_arm,
            baseline: baseline_arm,
            consecutive_failures: failures,
            earlier_stages: earlier,
        };
        let policy = CanaryPolicy {
            alpha,
            latency_margin: tolerance,
            error_rate_margin: tolerance,
            low_traffic: if advance { LowTraffic::AdvanceOnTime } else { LowTraffic::Hold },
            ..Default::default()
        };
        for policy in [CanaryPolicy::default(), policy] {
            if let Ok(judgement) = judge_canary(&canary, &input, &policy) {
                assert_finite(&judgement);
            }
            let mut monitor = CanaryMonitor::new();
            for _ in 0..2 {
                if let Ok(judgement) = monitor.judge(&canary, &input, &policy) {
                    assert_finite(&judgement);
                }
            }
        }
    }

    #[test]
    fn analyze_experiment_never_panics(
        weights in prop::collection::vec(0u32..10_000, 0..4),
        assigned in prop::collection::vec(any_count(), 0..5),
        conversions in prop::collection::vec((any_count(), any_count()), 0..4),
        means in prop::collection::vec((any_count(), any_f64(), any_f64()), 0..4),
        mde in any_f64(),
    ) {
        let names = ["a", "b", "c", "d", "e"];
        let experiment = Experiment {
            variants: weights.iter().enumerate().map(|(i, &w)| ExperimentVariant { variation: names[i].into(), weight_bp: w }).collect(),
            traffic_bp: 10_000, stickiness: None, salt: None, experiment_salt: None,
        };
        let data = ExperimentData {
            assignments: assigned.iter().enumerate().map(|(i, &n)| (names[i].to_owned(), n)).collect(),
            metrics: vec![
                MetricData { name: "conv".into(), higher_is_better: true, values: MetricValues::Conversion {
                    arms: conversions.iter().enumerate().map(|(i, &(units, conversions))| (names[i].to_owned(), ConversionArm { units, conversions })).collect(),
                }},
                MetricData { name: "mean".into(), higher_is_better: false, values: MetricValues::Mean {
                    arms: means.iter().enumerate().map(|(i, &(count, mean, variance))| (names[i].to_owned(), SampleSummary { count, mean, variance })).collect(),
                }},
            ],
        };
        let config = AnalysisConfig { minimum_detectable_effect: mde, ..Default::default() };
        let fixed = AnalysisConfig { method: AnalysisMethod::FixedHorizon, ..Default::default() };
        for config in [AnalysisConfig::default(), config, fixed] {
            if let Ok(report) = analyze_experiment(&experiment, &data, &config) {
                for c in report.metrics.iter().flat_map(|m| &m.comparisons) {
                    for v in [c.p_value, c.ci_low, c.ci_high, c.control_value, c.treatment_value, c.absolute_lift] {
                        prop_assert!(v.is_none_or(|v| !v.is_nan()), "{c:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn statistics_never_panic(x in any_f64(), y in any_f64(), p in any_f64(), n in any_count(), m in any_count()) {
        let _ = stats::dist::normal_quantile(p);
        let _ = stats::dist::students_t_quantile(p, x);
        let _ = stats::dist::students_t_two_sided_p(x, y);
        let _ = stats::dist::students_t_quantile(p, y.abs() * 1e12);
        let _ = stats::dist::students_t_two_sided_p(x, y.abs() * 1e12);
        let _ = stats::dist::chi_squared_sf(x, y);
        let _ = stats::sample_size_proportions(p, x, p, y);
        let _ = stats::sample_size_means(x, y, p, p);
        let _ = stats::sample_ratio_mismatch(&[n, m], &[x, y], p);
        let _ = stats::two_proportion_z_test(stats::Proportion::new(n, m), stats::Proportion::new(m, n), p);
        let _ = stats::histogram::sample_quantile(&[x, y], p);
        let prior = stats::BetaPrior { a: x.abs(), b: y.abs() };
        let _ = stats::beta_binomial_log_evidence(x, y, p, prior);
        let _ = stats::beta_binomial_log_evidence(n as f64, m as f64, p, stats::BetaPrior::centered_on(p));
        if let Ok(ci) = stats::beta_binomial_confidence(n.min(m), m, stats::BetaPrior::centered_on(x), p) {
            prop_assert!(ci.lower.is_finite() && ci.upper.is_finite() && ci.lower <= ci.upper, "{ci:?}");
        }
        let _ = stats::beta_binomial_trials_to_pass(x, y, prior, p);
        let pair = stats::CountPair { canary_events: n.min(m), canary_exposure: m, baseline_events: m.min(n), baseline_exposure: n };
        if let Ok(ratio) = stats::RateRatio::new(&[pair, pair], x.abs()) {
            let _ = ratio.log_evidence(y);
            if let Ok(ci) = ratio.confidence(p) {
                prop_assert!(!ci.lower.is_nan() && !ci.upper.is_nan() && ci.lower <= ci.upper, "{ci:?}");
            }
            prop_assert!(ratio.estimate().is_none_or(f64::is_finite));
        }
        if let Ok(m) = stats::NormalMixture::new(x, y, p) {
            prop_assert!(!m.log_evidence(x).is_nan());
            let _ = m.radius(p);
        }
        let _ = stats::tuned_prior_variance(x, p);
        let _ = stats::Histogram::from_samples(&[x, y]).map(|h| h.log_moments());
        let _ = stats::histogram::sample_log_moments(&[x, y, p]);
    }
}
