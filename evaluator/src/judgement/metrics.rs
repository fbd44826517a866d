//! What the metrics source reports for one arm over the judgement window.

use serde::{Deserialize, Serialize};

use crate::stats::{histogram::sample_quantile, mann_whitney_u, mann_whitney_u_histogram, Histogram, MannWhitney, StatsError};

/// One arm (canary or baseline) over the judgement window. JSON (snake_case):
/// `{"requests": 5000, "errors": 12, "p99_ms": 180.0, "latency": {"kind": "histogram", "buckets": [...]}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmMetrics {
    /// Requests (samples) served by this arm in the window.
    pub requests: u64,
    /// Of those, how many failed.
    pub errors: u64,
    /// p99 latency in ms as the metrics source computed it. When absent it is derived from
    /// `latency` (NumPy-style interpolation for samples, `histogram_quantile` for buckets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    /// The latency distribution, for the comparison with the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
}

/// A latency distribution in milliseconds: raw samples, or histogram buckets.
/// JSON: `{"kind": "samples", "values_ms": [12.5, 40.1]}` or
/// `{"kind": "histogram", "buckets": [{"le": 50.0, "count": 10}, {"le": null, "count": 1}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Latency {
    Samples { values_ms: Vec<f64> },
    Histogram(Histogram),
}

impl Latency {
    /// The q-quantile in ms.
    pub fn quantile(&self, q: f64) -> Result<f64, StatsError> {
        match self {
            Latency::Samples { values_ms } => sample_quantile(values_ms, q),
            Latency::Histogram(histogram) => {
                histogram.validate()?;
                histogram.quantile(q).ok_or_else(|| StatsError::NotEnoughData {
                    message: "empty latency histogram".into(),
                })
            }
        }
    }

    /// Mann-Whitney U of `self` (canary) against `baseline`; both must be the same kind.
    pub fn compare(&self, baseline: &Latency) -> Result<MannWhitney, StatsError> {
        match (self, baseline) {
            (Latency::Samples { values_ms: x }, Latency::Samples { values_ms: y }) => mann_whitney_u(x, y),
            (Latency::Histogram(x), Latency::Histogram(y)) => mann_whitney_u_histogram(x, y),
            _ => Err(StatsError::Invalid {
                field: "latency.kind".into(),
                message: "canary and baseline latency must both be samples or both histograms".into(),
            }),
        }
    }
}

impl ArmMetrics {
    /// The p99 in ms: the reported one, else derived from `latency`.
    pub fn p99(&self) -> Result<f64, StatsError> {
        match (self.p99_ms, &self.latency) {
            (Some(p99), _) if p99.is_finite() && p99 >= 0.0 => Ok(p99),
            (Some(p99), _) => Err(StatsError::Invalid {
                field: "p99_ms".into(),
                message: format!("must be a finite number >= 0, got {p99}"),
            }),
            (None, Some(latency)) => latency.quantile(0.99),
            (None, None) => Err(StatsError::NotEnoughData { message: "no p99_ms and no latency distribution".into() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Bucket;

    #[test]
    fn p99_prefers_the_reported_value_and_rejects_nan() {
        let reported = ArmMetrics { p99_ms: Some(120.0), latency: Some(Latency::Samples { values_ms: vec![1.0] }), ..Default::default() };
        assert_eq!(reported.p99(), Ok(120.0));
        let nan = ArmMetrics { p99_ms: Some(f64::NAN), ..Default::default() };
        assert!(matches!(nan.p99(), Err(StatsError::Invalid { .. })));
        assert!(matches!(ArmMetrics::default().p99(), Err(StatsError::NotEnoughData { .. })));
        let derived = ArmMetrics {
            latency: Some(Latency::Histogram(Histogram { buckets: vec![Bucket { le: Some(100.0), count: 100 }] })),
            ..Default::default()
        };
        assert_eq!(derived.p99(), Ok(99.0));
    }

    #[test]
    fn mixed_latency_kinds_do_not_compare() {
        let samples = Latency::Samples { values_ms: vec![1.0, 2.0] };
        let histogram = Latency::Histogram(Histogram { buckets: vec![Bucket { le: Some(1.0), count: 2 }] });
        assert!(matches!(samples.compare(&histogram), Err(StatsError::Invalid { .. })));
    }

    #[test]
    fn json_shape() {
        let json = r#"{"requests": 10, "errors": 1, "latency": {"kind": "histogram", "buckets": [{"le": 50.0, "count": 9}, {"le": null, "count": 1}]}}"#;
        let parsed: Result<ArmMetrics, _> = serde_json::from_str(json);
        let Ok(metrics) = parsed else { panic!("{parsed:?}") };
        assert_eq!(metrics.latency.as_ref().and_then(|l| l.quantile(0.5).ok()), Some(250.0 / 9.0));
        let samples: Result<Latency, _> = serde_json::from_str(r#"{"kind": "samples", "values_ms": [1.0, 3.0]}"#);
        assert_eq!(samples.ok(), Some(Latency::Samples { values_ms: vec![1.0, 3.0] }));
    }
}
