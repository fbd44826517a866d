//! Experiment view logic: the analysis input from pasted JSON or from the metrics endpoint's
//! per-variant summaries (a unit converts when its request ended `ok`). The analysis itself
//! is `analyze_experiment`'s.

use std::collections::BTreeMap;

use edgeflag_evaluator::judgement::{ConversionArm, ExperimentData, MetricData, MetricValues};
use edgeflag_evaluator::model::Experiment;

use crate::canary::MetricsResponse;

/// Per-variant counts from `/api/metrics`: assignments are requests, and the `conversion`
/// metric counts `ok` outcomes. Variants without data count 0 (the sample-ratio check sees them).
pub fn data_from_metrics(experiment: &Experiment, response: &MetricsResponse) -> ExperimentData {
    let mut assignments = BTreeMap::new();
    let mut arms = BTreeMap::new();
    for v in &experiment.variants {
        let (units, errors) =
            response.arms.get(&v.variation).map(|a| (a.summary.requests, a.summary.errors)).unwrap_or((0, 0));
        assignments.insert(v.variation.clone(), units);
        arms.insert(v.variation.clone(), ConversionArm { units, conversions: units.saturating_sub(errors) });
    }
    ExperimentData {
        assignments,
        metrics: vec![MetricData {
            name: "conversion".into(),
            higher_is_better: true,
            values: MetricValues::Conversion { arms },
        }],
    }
}

/// Pasted JSON (the `ExperimentData` shape): a syntax error with its line and column, a bad
/// field with its path.
pub fn data_from_json(text: &str) -> Result<ExperimentData, String> {
    crate::json::decode(text, ExperimentData::decode).map_err(|e| format!("experiment data: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeflag_evaluator::stats::SampleSummary;
    use crate::canary::parse_metrics;
    use edgeflag_evaluator::judgement::{analyze_experiment, AnalysisConfig, SrmStatus};

    fn experiment() -> Experiment {
        let file = crate::testdata::example();
        let flag = file.flags.into_iter().find(|f| f.key == "checkout-redesign").unwrap_or_else(|| panic!("no flag"));
        flag.experiment.unwrap_or_else(|| panic!("no experiment"))
    }

    #[test]
    fn conversions_are_ok_outcomes_and_missing_variants_count_zero() {
        let response = parse_metrics(
            r#"{"flag": "checkout-redesign", "arms": {
              "control": {"summary": {"requests": 1000, "errors": 900}, "series": []}}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let exp = experiment();
        let data = data_from_metrics(&exp, &response);
        assert_eq!(data.assignments.get("control"), Some(&1000));
        assert_eq!(data.assignments.get("treatment"), Some(&0));
        let MetricValues::Conversion { arms } = &data.metrics[0].values else { panic!("not a conversion") };
        assert_eq!(arms["control"], ConversionArm { units: 1000, conversions: 100 });
        let report = analyze_experiment(&exp, &data, &AnalysisConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.sample_ratio.status, SrmStatus::Mismatch);
        assert!(report.metrics[0].comparisons.iter().all(|c| c.winner.is_none()));
    }

    /// What serde writes (the server's and the evaluator's form) reads back the same.
    #[test]
    fn pasted_data_reads_as_serde_writes_it() {
        let data = ExperimentData {
            assignments: [("control".to_string(), 10), ("treatment".to_string(), 12)].into(),
            metrics: vec![
                MetricData {
                    name: "checkout".into(),
                    higher_is_better: true,
                    values: MetricValues::Conversion { arms: [("control".to_string(), ConversionArm { units: 10, conversions: 2 })].into() },
                },
                MetricData {
                    name: "latency".into(),
                    higher_is_better: false,
                    values: MetricValues::Mean { arms: [("control".to_string(), SampleSummary { count: 10, mean: 1.5, variance: 0.25 })].into() },
                },
            ],
        };
        let written = serde_json::to_string(&data).unwrap_or_default();
        assert_eq!(data_from_json(&written), Ok(data));
    }

    #[test]
    fn pasted_json_parses_or_says_where() {
        let ok = data_from_json(r#"{"assignments": {"control": 10}, "metrics": [{"name": "m", "kind": "conversion", "arms": {"control": {"units": 10, "conversions": 1}}}]}"#);
        assert_eq!(ok.map(|d| d.metrics.len()), Ok(1));
        // Broken text says the line and column; a wrong value, its path.
        let broken = data_from_json("{\"assignments\": {\"control\": 1,}}");
        assert!(broken.as_ref().is_err_and(|e| e.contains("trailing comma at line 1 column 31")), "{broken:?}");
        let bad = data_from_json("{\"assignments\": {\"control\": -1}}");
        assert_eq!(bad, Err("experiment data: assignments.control: expected a non-negative integer, got a number".into()));
        let unknown = data_from_json(r#"{"metrics": [{"name": "m", "kind": "median", "arms": {}}]}"#);
        assert_eq!(unknown, Err("experiment data: metrics[0].kind: expected \"conversion\" or \"mean\", not \"median\"".into()));
        let missing = data_from_json(r#"{"metrics": [{"name": "m", "kind": "mean", "arms": {"a": {"count": 1, "mean": 2}}}]}"#);
        assert_eq!(missing, Err("experiment data: metrics[0].arms.a.variance: missing".into()));
    }
}
