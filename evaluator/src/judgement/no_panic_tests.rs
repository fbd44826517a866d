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
        let input = CanaryInput { now: "2026-01-01T10:20:00Z".into(), canary: canary_arm, baseline: baseline_arm, consecutive_failures: failures };
        let policy = CanaryPolicy { alpha, latency_tolerance_rel: tolerance, ..Default::default() };
        let _ = judge_canary(&canary, &input, &CanaryPolicy::default());
        let _ = judge_canary(&canary, &input, &policy);
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
        let _ = analyze_experiment(&experiment, &data, &AnalysisConfig::default());
        let _ = analyze_experiment(&experiment, &data, &config);
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
    }
}
