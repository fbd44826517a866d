//! The per-arm metrics summary that metrics sources report (the server's `GET /api/metrics`
//! arm `summary`, the store the canary controller reads), and the **one** conversion of a
//! canary and a baseline summary into [`judge_canary`](super::judge_canary)'s input. The
//! server's controller and the dashboard both call [`canary_input`], so they judge the same
//! numbers the same way.

use edgeflag_readers::json_fields::Field;
use serde::{Deserialize, Serialize};

use super::canary::CanaryInput;
use super::metrics::{ArmMetrics, Latency};
use super::JudgementError;
use crate::stats::{Bucket, Histogram, StatsError};

/// Health of one arm (canary, baseline or an experiment variant) over a metrics window.
/// JSON (snake_case), as in `GET /api/metrics`:
///
/// ```json
/// {"requests": 5120, "errors": 20, "error_rate": 0.0039, "p50_ms": 35.2, "p90_ms": 62.1,
///  "p99_ms": 101.5, "mean_latency_ms": 38.8,
///  "latency_buckets": [{"le": 35.5, "count": 2400}, {"le": 101.5, "count": 51}]}
/// ```
///
/// Only `requests` and `errors` are required when reading, so summaries written before
/// `latency_buckets` existed still parse (they simply carry no latency distribution).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmSummary {
    /// Requests (samples) in the window.
    pub requests: u64,
    /// Of those, how many failed.
    pub errors: u64,
    /// errors / requests (0 without requests). Informational: the judgement uses the counts.
    #[serde(default)]
    pub error_rate: f64,
    /// Latency percentiles in ms; `null` without requests.
    #[serde(default)]
    pub p50_ms: Option<f64>,
    #[serde(default)]
    pub p90_ms: Option<f64>,
    #[serde(default)]
    pub p99_ms: Option<f64>,
    #[serde(default)]
    pub mean_latency_ms: Option<f64>,
    /// The window's latency histogram in ms: buckets in strictly increasing order of `le`,
    /// counts per bucket (not cumulative), only non-empty buckets needed; `le: null` (+Inf)
    /// only last. Empty when the source has no distribution (then the latency comparison
    /// with the baseline is `no_data`).
    #[serde(default)]
    pub latency_buckets: Vec<Bucket>,
}

impl ArmSummary {
    /// Reads a summary as the server writes it (the serde form above: only `requests` and
    /// `errors` required), each bad field named by its path. Without serde's deserializer, for
    /// the dashboard's bundle (`edgeflag_readers::json_fields`); `decodes_what_serde_writes`
    /// holds the two forms together.
    pub fn decode(f: Field<'_>) -> Result<ArmSummary, String> {
        Ok(ArmSummary {
            requests: f.field("requests")?.u64()?,
            errors: f.field("errors")?.u64()?,
            error_rate: f.field("error_rate")?.opt_f64()?.unwrap_or(0.0),
            p50_ms: f.field("p50_ms")?.opt_f64()?,
            p90_ms: f.field("p90_ms")?.opt_f64()?,
            p99_ms: f.field("p99_ms")?.opt_f64()?,
            mean_latency_ms: f.field("mean_latency_ms")?.opt_f64()?,
            latency_buckets: f.field("latency_buckets")?.items(|b| {
                Ok(Bucket { le: b.field("le")?.opt_f64()?, count: b.field("count")?.u64()? })
            })?,
        })
    }
}

/// The judgement's input from the canary's and the baseline's summaries over the same window:
///
/// - an arm that is missing or has no request is `None` (a metrics gap is "no data", never
///   zeros that look healthy);
/// - `p99_ms` is passed as reported (when absent it is derived from the histogram);
/// - the latency histograms are put on the **union of both arms' bucket bounds** (zero
///   counts where an arm has none), because the rank test needs identical bounds; an arm
///   without buckets has no latency distribution.
///
/// Errors name the bad field, e.g. `baseline.latency_buckets[3].le` or `canary.p99_ms`.
pub fn canary_input(
    now: &str,
    canary: Option<&ArmSummary>,
    baseline: Option<&ArmSummary>,
    consecutive_failures: u32,
) -> Result<CanaryInput, JudgementError> {
    let canary = canary.filter(|s| s.requests > 0);
    let baseline = baseline.filter(|s| s.requests > 0);
    for (arm, summary) in [("canary", canary), ("baseline", baseline)] {
        if let Some(summary) = summary {
            validate(arm, summary)?;
        }
    }
    let bounds = common_bounds(canary.into_iter().chain(baseline));
    Ok(CanaryInput {
        now: now.to_string(),
        canary: canary.map(|s| arm_metrics(s, &bounds)),
        baseline: baseline.map(|s| arm_metrics(s, &bounds)),
        consecutive_failures,
        earlier_stages: Vec::new(),
    })
}

fn validate(arm: &str, summary: &ArmSummary) -> Result<(), JudgementError> {
    if let Some(p99) = summary.p99_ms {
        if !p99.is_finite() || p99 < 0.0 {
            return Err(JudgementError::new(format!("{arm}.p99_ms"), format!("must be a finite number >= 0, got {p99}")));
        }
    }
    let histogram = Histogram { buckets: summary.latency_buckets.clone() };
    histogram.validate().map_err(|e| match e {
        // The histogram names `buckets[i].le`; the summary field is `latency_buckets`.
        StatsError::Invalid { field, message } => JudgementError::new(format!("{arm}.latency_{field}"), message),
        other => JudgementError::new(format!("{arm}.latency_buckets"), other.to_string()),
    })
}

/// Sorted union of the finite bounds of every arm, then +Inf (`None`) when any arm has it.
fn common_bounds<'a>(arms: impl Iterator<Item = &'a ArmSummary>) -> Vec<Option<f64>> {
    let mut finite = Vec::new();
    let mut infinite = false;
    for summary in arms {
        for bucket in &summary.latency_buckets {
            match bucket.le {
                Some(le) => finite.push(le),
                None => infinite = true,
            }
        }
    }
    finite.sort_by(f64::total_cmp);
    finite.dedup();
    let mut bounds: Vec<Option<f64>> = finite.into_iter().map(Some).collect();
    if infinite {
        bounds.push(None);
    }
    bounds
}

/// One arm on the common bounds (its buckets are valid, so they are in bound order).
fn arm_metrics(summary: &ArmSummary, bounds: &[Option<f64>]) -> ArmMetrics {
    let latency = (!summary.latency_buckets.is_empty()).then(|| {
        let mut own = summary.latency_buckets.iter().peekable();
        let buckets = bounds
            .iter()
            .map(|&le| Bucket { le, count: own.next_if(|b| b.le == le).map_or(0, |b| b.count) })
            .collect();
        Latency::Histogram(Histogram { buckets })
    });
    ArmMetrics { requests: summary.requests, errors: summary.errors, p99_ms: summary.p99_ms, latency }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_serde_writes() {
        let full = ArmSummary {
            requests: 5120,
            errors: 20,
            error_rate: 20.0 / 5120.0,
            p50_ms: Some(35.2),
            p90_ms: None,
            p99_ms: Some(101.5),
            mean_latency_ms: Some(38.8),
            latency_buckets: vec![Bucket { le: Some(35.5), count: 2400 }, Bucket { le: None, count: 51 }],
        };
        let written = serde_json::to_value(&full).unwrap_or_default();
        assert_eq!(ArmSummary::decode(Field::root(&written)), Ok(full));
        // As serde reads it: only the counts required; a bad field named by its path.
        let minimal = serde_json::json!({"requests": 3, "errors": 0});
        let by_serde: Option<ArmSummary> = serde_json::from_value(minimal.clone()).ok();
        assert_eq!(ArmSummary::decode(Field::root(&minimal)).ok(), by_serde);
        let bad = serde_json::json!({"requests": 3, "errors": 0, "latency_buckets": [{"le": "x", "count": 1}]});
        assert_eq!(ArmSummary::decode(Field::root(&bad)), Err("latency_buckets[0].le: expected a number, got a string".into()));
        assert_eq!(ArmSummary::decode(Field::root(&serde_json::json!({"errors": 1}))), Err("requests: missing".into()));
    }
    use crate::judgement::{judge_canary, CanaryPolicy, CheckKind, Outcome};
    use crate::model::{Canary, CanaryStage, CanaryStatus, HealthGate};

    fn buckets(pairs: &[(Option<f64>, u64)]) -> Vec<Bucket> {
        pairs.iter().map(|&(le, count)| Bucket { le, count }).collect()
    }

    /// `requests` requests, 0.4 % errors, latencies spread over 10..=100 ms buckets around `shift` ms.
    fn summary(requests: u64, shift: f64) -> ArmSummary {
        let per = requests / 10;
        ArmSummary {
            requests,
            errors: requests / 250,
            error_rate: 0.004,
            p99_ms: Some(100.0 + shift),
            latency_buckets: (1..=10).map(|i| Bucket { le: Some(i as f64 * 10.0 + shift), count: per }).collect(),
            ..Default::default()
        }
    }

    fn canary() -> Canary {
        Canary {
            baseline: "old".into(),
            canary: "new".into(),
            stages: vec![
                CanaryStage {
                    percent: 10.0,
                    min_duration: "1m".into(),
                    gate: HealthGate { max_error_rate: 0.02, max_p99_ms: 500.0, min_samples: 100 },
                },
                CanaryStage {
                    percent: 50.0,
                    min_duration: "1m".into(),
                    gate: HealthGate { max_error_rate: 0.02, max_p99_ms: 500.0, min_samples: 100 },
                },
            ],
            current_stage: 0,
            status: CanaryStatus::Running,
            stage_started_at: Some("2026-01-01T10:00:00Z".into()),
            stickiness: None,
            salt: None,
        }
    }

    fn latency_outcome(canary_arm: &ArmSummary, baseline_arm: &ArmSummary) -> (Outcome, super::super::CanaryAction) {
        let input = canary_input("2026-01-01T10:05:00Z", Some(canary_arm), Some(baseline_arm), 0)
            .unwrap_or_else(|e| panic!("{e}"));
        let judgement = judge_canary(&canary(), &input, &CanaryPolicy::default()).unwrap_or_else(|e| panic!("{e}"));
        let check = judgement.checks.iter().find(|c| c.check == CheckKind::LatencyVsBaseline);
        (check.map_or(Outcome::NoData, |c| c.outcome), judgement.action)
    }

    #[test]
    fn latency_buckets_turn_the_latency_comparison_from_no_data_into_a_verdict() {
        let (mut canary_arm, mut baseline_arm) = (summary(2000, 0.0), summary(20_000, 0.0));
        // Same distribution: nothing credibly worse (not provably within 5 % either, on 2,000
        // requests), so the proven gates advance the stage.
        assert_eq!(latency_outcome(&canary_arm, &baseline_arm), (Outcome::Inconclusive, super::super::CanaryAction::Advance));
        // Canary three times slower (bounds 30..=300 ms against 10..=100 ms): credibly worse, fails.
        let slow = ArmSummary {
            latency_buckets: (1..=10).map(|i| Bucket { le: Some(i as f64 * 30.0), count: 200 }).collect(),
            ..canary_arm.clone()
        };
        assert_eq!(latency_outcome(&slow, &baseline_arm).0, Outcome::Fail);
        // Without buckets (the old /api/metrics shape) the same arms give no data and hold.
        canary_arm.latency_buckets.clear();
        assert_eq!(latency_outcome(&canary_arm, &baseline_arm), (Outcome::NoData, super::super::CanaryAction::Hold));
        baseline_arm.latency_buckets.clear();
        assert_eq!(latency_outcome(&summary(2000, 0.0), &baseline_arm).0, Outcome::NoData);
    }

    #[test]
    fn histograms_get_the_union_of_both_arms_bounds() {
        let canary_arm = ArmSummary { requests: 5, latency_buckets: buckets(&[(Some(10.0), 2), (Some(20.0), 3)]), ..Default::default() };
        let baseline_arm = ArmSummary {
            requests: 7,
            latency_buckets: buckets(&[(Some(15.0), 4), (Some(20.0), 2), (None, 1)]),
            ..Default::default()
        };
        let input = canary_input("t", Some(&canary_arm), Some(&baseline_arm), 4).unwrap_or_else(|e| panic!("{e}"));
        let histogram = |m: Option<ArmMetrics>| match m.and_then(|m| m.latency) {
            Some(Latency::Histogram(h)) => h.buckets,
            other => panic!("no histogram: {other:?}"),
        };
        assert_eq!(histogram(input.canary.clone()), buckets(&[(Some(10.0), 2), (Some(15.0), 0), (Some(20.0), 3), (None, 0)]));
        assert_eq!(histogram(input.baseline.clone()), buckets(&[(Some(10.0), 0), (Some(15.0), 4), (Some(20.0), 2), (None, 1)]));
        assert_eq!((input.now.as_str(), input.consecutive_failures), ("t", 4));
    }

    #[test]
    fn empty_or_missing_arms_are_no_data_and_p99_is_passed_as_reported() {
        let empty = ArmSummary { requests: 0, latency_buckets: buckets(&[(Some(1.0), 0)]), ..Default::default() };
        let reported = ArmSummary { requests: 10, errors: 1, p99_ms: Some(42.0), ..Default::default() };
        let input = canary_input("t", Some(&empty), Some(&reported), 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(input.canary, None);
        assert_eq!(input.baseline, Some(ArmMetrics { requests: 10, errors: 1, p99_ms: Some(42.0), latency: None }));
        let input = canary_input("t", None, None, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((input.canary, input.baseline), (None, None));
    }

    #[test]
    fn bad_fields_are_named() {
        let unordered = ArmSummary { requests: 3, latency_buckets: buckets(&[(Some(20.0), 1), (Some(10.0), 2)]), ..Default::default() };
        let err = canary_input("t", None, Some(&unordered), 0).err().map(|e| e.path);
        assert_eq!(err.as_deref(), Some("baseline.latency_buckets[1].le"));
        let inf_first = ArmSummary { requests: 3, latency_buckets: buckets(&[(None, 1), (Some(10.0), 2)]), ..Default::default() };
        let err = canary_input("t", Some(&inf_first), None, 0).err().map(|e| e.path);
        assert_eq!(err.as_deref(), Some("canary.latency_buckets[0].le"));
        let negative = ArmSummary { requests: 3, p99_ms: Some(-1.0), ..Default::default() };
        let err = canary_input("t", Some(&negative), None, 0).err().map(|e| e.path);
        assert_eq!(err.as_deref(), Some("canary.p99_ms"));
    }

    #[test]
    fn json_is_backward_compatible_and_round_trips() {
        let old: Result<ArmSummary, _> = serde_json::from_str(
            r#"{"requests": 10, "errors": 1, "error_rate": 0.1, "p50_ms": null, "p99_ms": 12.5, "mean_latency_ms": 3.0}"#,
        );
        let old = old.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((old.requests, old.p99_ms, old.latency_buckets.len()), (10, Some(12.5), 0));
        let minimal: Result<ArmSummary, _> = serde_json::from_str(r#"{"requests": 1, "errors": 0}"#);
        assert!(minimal.is_ok(), "{minimal:?}");
        let full = summary(100, 0.0);
        let text = serde_json::to_string(&full).unwrap_or_else(|e| panic!("{e}"));
        assert!(text.contains(r#""latency_buckets":[{"le":10.0,"count":10}"#), "{text}");
        assert!(text.contains(r#""p50_ms":null"#), "{text}");
        let back: Result<ArmSummary, _> = serde_json::from_str(&text);
        assert_eq!(back.ok(), Some(full));
        let missing_errors: Result<ArmSummary, _> = serde_json::from_str(r#"{"requests": 1}"#);
        assert!(missing_errors.is_err_and(|e| e.to_string().contains("errors")));
    }
}
