//! Experiment analysis: winners, no winners, SRM, sample sizes, bad inputs.

use super::*;
use crate::model::ExperimentVariant;

fn experiment(weights: &[(&str, u32)]) -> Experiment {
    Experiment {
        variants: weights.iter().map(|&(name, w)| ExperimentVariant { variation: name.into(), weight_bp: w }).collect(),
        traffic_bp: 10_000,
        stickiness: None,
        salt: None,
        experiment_salt: None,
    }
}

fn ab() -> Experiment {
    experiment(&[("control", 5000), ("treatment", 5000)])
}

fn conversions(arms: &[(&str, u64, u64)]) -> MetricData {
    MetricData {
        name: "checkout".into(),
        higher_is_better: true,
        values: MetricValues::Conversion {
            arms: arms.iter().map(|&(name, units, conversions)| (name.to_owned(), ConversionArm { units, conversions })).collect(),
        },
    }
}

fn means(arms: &[(&str, u64, f64, f64)], higher_is_better: bool) -> MetricData {
    MetricData {
        name: "latency_ms".into(),
        higher_is_better,
        values: MetricValues::Mean {
            arms: arms.iter().map(|&(name, count, mean, variance)| (name.to_owned(), SampleSummary { count, mean, variance })).collect(),
        },
    }
}

fn data(assignments: &[(&str, u64)], metrics: Vec<MetricData>) -> ExperimentData {
    ExperimentData { assignments: assignments.iter().map(|&(n, c)| (n.to_owned(), c)).collect(), metrics }
}

/// The classical tests, read once: what most of these tests pin down against SciPy.
fn fixed() -> AnalysisConfig {
    AnalysisConfig { method: AnalysisMethod::FixedHorizon, ..Default::default() }
}

fn analyze(experiment: &Experiment, data: &ExperimentData) -> ExperimentReport {
    match analyze_experiment(experiment, data, &fixed()) {
        Ok(report) => report,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn first(report: &ExperimentReport) -> &Comparison {
    &report.metrics[0].comparisons[0]
}

#[test]
fn significant_conversion_lift_has_a_winner() {
    let report = analyze(
        &ab(),
        &data(&[("control", 10_000), ("treatment", 10_050)], vec![conversions(&[("control", 10_000, 1000), ("treatment", 10_050, 1200)])]),
    );
    assert_eq!(report.sample_ratio.status, SrmStatus::Ok);
    let c = first(&report);
    assert_eq!(c.status, ComparisonStatus::Significant, "{c:#?}");
    assert_eq!(c.winner.as_deref(), Some("treatment"));
    assert!(c.ci_low.is_some_and(|low| low > 0.0));
    assert!(c.relative_lift.is_some_and(|l| l > 0.15 && l < 0.25));
}

#[test]
fn not_significant_has_no_winner_and_says_how_many_more_units() {
    let report = analyze(
        &ab(),
        &data(&[("control", 1000), ("treatment", 1000)], vec![conversions(&[("control", 1000, 100), ("treatment", 1000, 105)])]),
    );
    let c = first(&report);
    assert_eq!((c.status, c.winner.as_deref()), (ComparisonStatus::NotSignificant, None));
    // 10 % baseline, 5 % relative MDE, alpha 0.05, power 0.8: ~57.8k per arm.
    assert!(c.required_per_arm.is_some_and(|n| n > 50_000 && n < 65_000), "{c:#?}");
    assert_eq!(c.remaining_per_arm, c.required_per_arm.map(|n| n - 1000));
    assert!(c.reason.contains("more units"), "{}", c.reason);
}

#[test]
fn lower_is_better_makes_the_control_win_a_regression() {
    let metric = means(&[("control", 500, 100.0, 400.0), ("treatment", 500, 110.0, 400.0)], false);
    let report = analyze(&ab(), &data(&[("control", 500), ("treatment", 500)], vec![metric]));
    let c = first(&report);
    assert_eq!(c.status, ComparisonStatus::Significant, "{c:#?}");
    assert_eq!(c.winner.as_deref(), Some("control"));
    assert!(c.absolute_lift.is_some_and(|d| (d - 10.0).abs() < 1e-12));
}

#[test]
fn sample_ratio_mismatch_suppresses_the_winner() {
    let report = analyze(
        &ab(),
        &data(&[("control", 10_000), ("treatment", 11_000)], vec![conversions(&[("control", 10_000, 1000), ("treatment", 11_000, 1400)])]),
    );
    assert_eq!(report.sample_ratio.status, SrmStatus::Mismatch, "{:#?}", report.sample_ratio);
    let c = first(&report);
    assert_eq!((c.status, c.winner.as_deref()), (ComparisonStatus::Significant, None));
    assert!(c.reason.contains("sample ratio"), "{}", c.reason);
}

#[test]
fn srm_uses_the_configured_weights_and_flags_unknown_variations() {
    let uneven = experiment(&[("control", 9000), ("treatment", 1000)]);
    let report = analyze(&uneven, &data(&[("control", 9000), ("treatment", 1010)], Vec::new()));
    assert_eq!(report.sample_ratio.status, SrmStatus::Ok, "{:#?}", report.sample_ratio);
    assert_eq!(report.sample_ratio.expected, vec![9009.0, 1001.0]);

    let report = analyze(&ab(), &data(&[("control", 500), ("treatment", 500), ("ghost", 3)], Vec::new()));
    assert_eq!(report.sample_ratio.status, SrmStatus::Mismatch);
    assert_eq!(report.sample_ratio.variations, vec!["control", "treatment", "ghost"]);
}

#[test]
fn srm_without_units_or_weights_is_no_data() {
    let report = analyze(&ab(), &data(&[], Vec::new()));
    assert_eq!(report.sample_ratio.status, SrmStatus::NoData);
    let zero = experiment(&[("control", 0), ("treatment", 0)]);
    let report = analyze(&zero, &data(&[("control", 10), ("treatment", 10)], Vec::new()));
    assert_eq!(report.sample_ratio.status, SrmStatus::NoData);
    assert!(report.sample_ratio.reason.contains("sum to 0"), "{}", report.sample_ratio.reason);
}

#[test]
fn bonferroni_divides_alpha_over_treatments() {
    let three = experiment(&[("a", 3334), ("b", 3333), ("c", 3333)]);
    let metric = conversions(&[("a", 5000, 500), ("b", 5000, 565), ("c", 5000, 500)]);
    let report = analyze(&three, &data(&[("a", 5000), ("b", 5000), ("c", 5000)], vec![metric.clone()]));
    assert!((report.alpha - 0.025).abs() < 1e-15);
    assert_eq!(report.metrics[0].comparisons.len(), 2);
    // b vs a: p = 0.0351 (statsmodels proportions_ztest([565, 500], [5000, 5000])) — significant at 0.05, not at 0.025.
    let b = &report.metrics[0].comparisons[0];
    assert_eq!((b.variation.as_str(), b.status), ("b", ComparisonStatus::NotSignificant), "{b:#?}");
    let config = AnalysisConfig { bonferroni: false, ..fixed() };
    let uncorrected = analyze_experiment(&three, &data(&[("a", 5000), ("b", 5000), ("c", 5000)], vec![metric]), &config);
    let status = uncorrected.map(|r| r.metrics[0].comparisons[0].status);
    assert_eq!(status, Ok(ComparisonStatus::Significant));
}

#[test]
fn missing_empty_or_degenerate_arms_do_not_panic() {
    let cases = [
        (conversions(&[("control", 1000, 100)]), ComparisonStatus::NoData),
        (conversions(&[("control", 0, 0), ("treatment", 0, 0)]), ComparisonStatus::NoData),
        (conversions(&[("control", 10, 11), ("treatment", 10, 1)]), ComparisonStatus::NoData),
        (means(&[("control", 1, 1.0, 0.0), ("treatment", 10, 1.0, 1.0)], true), ComparisonStatus::NoData),
        (means(&[("control", 10, f64::NAN, 1.0), ("treatment", 10, 1.0, 1.0)], true), ComparisonStatus::NoData),
        (means(&[("control", 10, 1.0, 0.0), ("treatment", 10, 2.0, 0.0)], true), ComparisonStatus::Inconclusive),
    ];
    for (metric, expected) in cases {
        let report = analyze(&ab(), &data(&[], vec![metric.clone()]));
        let c = first(&report);
        assert_eq!(c.status, expected, "{metric:?} -> {c:#?}");
        assert_eq!(c.winner, None);
    }
}

#[test]
fn zero_control_rate_still_tests_but_has_no_relative_lift_or_sample_size() {
    let report = analyze(&ab(), &data(&[], vec![conversions(&[("control", 1000, 0), ("treatment", 1000, 30)])]));
    let c = first(&report);
    assert_eq!(c.status, ComparisonStatus::Significant);
    assert_eq!((c.relative_lift, c.required_per_arm), (None, None));
}

#[test]
fn unusable_setup_is_an_error_with_a_path() {
    let single = experiment(&[("only", 10_000)]);
    let path = |e: &Experiment, config: &AnalysisConfig| analyze_experiment(e, &ExperimentData::default(), config).err().map(|e| e.path);
    assert_eq!(path(&single, &AnalysisConfig::default()), Some("experiment.variants".into()));
    let unknown = AnalysisConfig { control: Some("nope".into()), ..Default::default() };
    assert_eq!(path(&ab(), &unknown), Some("config.control".into()));
    for (config, field) in [
        (AnalysisConfig { alpha: f64::NAN, ..Default::default() }, "config.alpha"),
        (AnalysisConfig { power: 1.0, ..Default::default() }, "config.power"),
        (AnalysisConfig { srm_alpha: 0.0, ..Default::default() }, "config.srm_alpha"),
        (AnalysisConfig { minimum_detectable_effect: -0.1, ..Default::default() }, "config.minimum_detectable_effect"),
        (AnalysisConfig { sequential_tuning_units: 0, ..Default::default() }, "config.sequential_tuning_units"),
    ] {
        assert_eq!(path(&ab(), &config), Some(field.into()));
    }
}

#[test]
fn explicit_control_is_respected() {
    let config = AnalysisConfig { control: Some("treatment".into()), ..Default::default() };
    let report = analyze_experiment(&ab(), &data(&[], vec![conversions(&[("control", 1000, 100), ("treatment", 1000, 100)])]), &config);
    let report = report.map(|r| (r.control.clone(), r.metrics[0].comparisons[0].variation.clone()));
    assert_eq!(report, Ok(("treatment".into(), "control".into())));
}

#[test]
fn json_in_and_out_is_snake_case() {
    let json = r#"{
        "assignments": {"control": 1000, "treatment": 1000},
        "metrics": [
            {"name": "checkout", "kind": "conversion",
             "arms": {"control": {"units": 1000, "conversions": 100}, "treatment": {"units": 1000, "conversions": 150}}},
            {"name": "revenue", "kind": "mean", "higher_is_better": true,
             "arms": {"control": {"count": 1000, "mean": 10.0, "variance": 25.0}, "treatment": {"count": 1000, "mean": 10.1, "variance": 25.0}}}
        ]
    }"#;
    let parsed: Result<ExperimentData, _> = serde_json::from_str(json);
    let Ok(parsed) = parsed else { panic!("{parsed:?}") };
    let report = analyze(&ab(), &parsed);
    let out = serde_json::to_value(&report).unwrap_or_default();
    assert_eq!(out["sample_ratio"]["status"], "ok", "{out:#}");
    assert_eq!(out["metrics"][0]["comparisons"][0]["winner"], "treatment");
    assert_eq!(out["metrics"][1]["kind"], "mean");
    assert_eq!(out["metrics"][1]["comparisons"][0]["status"], "not_significant");
    assert!(out["metrics"][1]["comparisons"][0]["required_per_arm"].as_u64().is_some());
    assert_eq!(out["method"], "fixed_horizon");
    let method: Result<AnalysisConfig, _> = serde_json::from_str(r#"{"method": "fixed_horizon"}"#);
    assert_eq!(method.map(|c| c.method).ok(), Some(AnalysisMethod::FixedHorizon));
}

#[test]
fn sequential_is_the_default_and_is_more_cautious_than_one_fixed_look() {
    // statsmodels: proportions_ztest([565, 500], [5000, 5000]) -> p = 0.0351: a fixed-horizon
    // winner at 0.05, but not enough for an always-valid one at the same size.
    let metric = conversions(&[("control", 5000, 500), ("treatment", 5000, 565)]);
    let d = data(&[("control", 5000), ("treatment", 5000)], vec![metric]);
    let once = first(&analyze(&ab(), &d)).clone();
    let report = analyze_experiment(&ab(), &d, &AnalysisConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.method, AnalysisMethod::Sequential);
    let always = first(&report);
    assert_eq!((once.status, always.status), (ComparisonStatus::Significant, ComparisonStatus::NotSignificant));
    assert!(always.p_value > once.p_value, "{always:#?}");
    let (Some(lo), Some(hi), Some(flo), Some(fhi)) = (always.ci_low, always.ci_high, once.ci_low, once.ci_high) else { panic!() };
    assert!(lo < flo && hi > fhi && lo < 0.0, "the confidence sequence is wider: {lo}..{hi} vs {flo}..{fhi}");
    // It needs more units than the fixed-horizon test to promise the same power.
    assert!(always.required_per_arm > once.required_per_arm, "{always:#?} {once:#?}");
    // A clear effect is a winner under both.
    let big = data(&[("control", 10_000), ("treatment", 10_050)], vec![conversions(&[("control", 10_000, 1000), ("treatment", 10_050, 1200)])]);
    let report = analyze_experiment(&ab(), &big, &AnalysisConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first(&report).winner.as_deref(), Some("treatment"), "{report:#?}");
}

#[test]
fn sequential_means_and_degenerate_arms() {
    let latency = means(&[("control", 4000, 100.0, 400.0), ("treatment", 4000, 104.0, 400.0)], false);
    let report = analyze_experiment(&ab(), &data(&[], vec![latency]), &AnalysisConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let c = first(&report);
    assert_eq!((c.status, c.winner.as_deref()), (ComparisonStatus::Significant, Some("control")), "{c:#?}");
    assert!(c.relative_ci_low.is_some_and(|l| l > 0.0), "{c:#?}");
    // All-zero arms: identical, no evidence, no NaN.
    let zeros = conversions(&[("control", 1000, 0), ("treatment", 1000, 0)]);
    let report = analyze_experiment(&ab(), &data(&[], vec![zeros]), &AnalysisConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let c = first(&report);
    assert_eq!((c.status, c.p_value, c.ci_low), (ComparisonStatus::NotSignificant, Some(1.0), Some(0.0)));
    // 0 % against 100 %: pooled variance, overwhelming evidence.
    let all = conversions(&[("control", 1000, 0), ("treatment", 1000, 1000)]);
    let report = analyze_experiment(&ab(), &data(&[], vec![all]), &AnalysisConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first(&report).status, ComparisonStatus::Significant);
}

#[test]
fn metric_data_reads_both_kinds_and_names_what_is_missing() {
    let text = r#"{"assignments": {"control": 10},
      "metrics": [
        {"name": "checkout", "kind": "conversion", "arms": {"control": {"units": 10, "conversions": 1}}},
        {"name": "revenue", "kind": "mean", "higher_is_better": false,
         "arms": {"control": {"count": 10, "mean": 2.5, "variance": 0.5}}}]}"#;
    let data: ExperimentData = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(data.metrics[0].values, MetricValues::Conversion {
        arms: [("control".to_string(), ConversionArm { units: 10, conversions: 1 })].into()
    });
    assert!(data.metrics[0].higher_is_better);
    assert_eq!(data.metrics[1].values, MetricValues::Mean {
        arms: [("control".to_string(), SampleSummary { count: 10, mean: 2.5, variance: 0.5 })].into()
    });
    assert!(!data.metrics[1].higher_is_better);
    // What is written reads back the same.
    let written = serde_json::to_string(&data).unwrap_or_default();
    assert_eq!(serde_json::from_str::<ExperimentData>(&written).ok(), Some(data));

    let error = |text: &str| serde_json::from_str::<MetricData>(text).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error(r#"{"name": "m", "kind": "mean", "arms": {"a": {"count": 1, "mean": 2}}}"#).starts_with("missing field `variance`"));
    assert!(error(r#"{"name": "m", "kind": "conversion", "arms": {"a": {"units": 1}}}"#).starts_with("missing field `conversions`"));
    assert!(error(r#"{"name": "m", "kind": "median", "arms": {}}"#).starts_with("unknown variant `median`, expected `conversion` or `mean`"));
    assert!(error(r#"{"name": "m", "arms": {}}"#).starts_with("missing field `kind`"));
    assert!(error(r#"{"name": "m", "kind": "conversion", "arms": {"a": {"units": "x", "conversions": 1}}}"#).starts_with("invalid type: string \"x\", expected u64"));
    // Fields of the other kind are ignored, as unknown fields are.
    let lenient = r#"{"name": "m", "kind": "conversion", "arms": {"a": {"units": 1, "conversions": 1, "mean": "n/a"}}}"#;
    assert!(serde_json::from_str::<MetricData>(lenient).is_ok());
}

#[test]
fn data_decodes_what_serde_writes() {
    let data = ExperimentData {
        assignments: [("control".to_string(), 5012), ("treatment".to_string(), 4988)].into_iter().collect(),
        metrics: vec![
            MetricData {
                name: "checkout".into(),
                higher_is_better: true,
                values: MetricValues::Conversion {
                    arms: [("control".to_string(), ConversionArm { units: 1000, conversions: 52 })].into_iter().collect(),
                },
            },
            MetricData {
                name: "latency".into(),
                higher_is_better: false,
                values: MetricValues::Mean {
                    arms: [("treatment".to_string(), SampleSummary { count: 10, mean: 12.5, variance: 4.25 })].into_iter().collect(),
                },
            },
        ],
    };
    let written = serde_json::to_value(&data).unwrap_or_default();
    assert_eq!(ExperimentData::decode(Field::root(&written)), Ok(data));
    let defaults = serde_json::json!({"metrics": [{"name": "m", "kind": "conversion", "arms": {}}]});
    let by_serde: Option<ExperimentData> = serde_json::from_value(defaults.clone()).ok();
    assert_eq!(ExperimentData::decode(Field::root(&defaults)).ok(), by_serde);
    let bad = serde_json::json!({"metrics": [{"name": "m", "kind": "ratio", "arms": {}}]});
    assert_eq!(
        ExperimentData::decode(Field::root(&bad)),
        Err("metrics[0].kind: expected \"conversion\" or \"mean\", not \"ratio\"".into())
    );
}
