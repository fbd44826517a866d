//! What one stage contributes to the canary-versus-baseline comparisons, so that evidence
//! carries from stage to stage (the [`CanaryMonitor`](super::CanaryMonitor) keeps it).
//!
//! Both comparisons are test martingales whose factors multiply across stages: the error-rate
//! ratio test needs each stage's counts (the canary's share of the traffic differs per stage),
//! the latency test each stage's log-latency shift and its variance (normal likelihoods
//! multiply into an inverse-variance weighted mean). One stage's summary is a few numbers.

use serde::{Deserialize, Serialize};

use super::metrics::{ArmMetrics, Latency};
use super::JudgementError;
use crate::stats::{histogram::sample_log_moments, CountPair, LogMoments, StatsError};

/// Most earlier stages carried; older ones are dropped (a new test from there on; see
/// ANALYSIS.md). Bounds the memory a canary that is paused and resumed for ever can take.
pub const MAX_EARLIER_STAGES: usize = 64;

/// One stage's totals for the comparisons. JSON (snake_case):
/// `{"stage": 1, "started_at": "…", "canary_requests": 1200, "canary_errors": 14,
///   "baseline_requests": 10800, "baseline_errors": 101, "latency_shift": {"estimate": 0.02, "variance": 0.0011}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageEvidence {
    /// The stage index (`current_stage`) the totals were taken at.
    pub stage: usize,
    /// The stage's `stage_started_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    pub canary_requests: u64,
    pub canary_errors: u64,
    pub baseline_requests: u64,
    pub baseline_errors: u64,
    /// Canary minus baseline mean ln(latency ms), when both arms had enough observations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_shift: Option<LogShift>,
}

/// A difference of mean log latencies and its variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogShift {
    pub estimate: f64,
    pub variance: f64,
}

impl StageEvidence {
    /// The stage's evidence from its two arms (`None` arm = no traffic).
    pub(crate) fn from_arms(
        stage: usize,
        started_at: Option<&str>,
        canary: Option<&ArmMetrics>,
        baseline: Option<&ArmMetrics>,
        min_latency_samples: u64,
    ) -> StageEvidence {
        let counts = |arm: Option<&ArmMetrics>| arm.filter(|a| a.errors <= a.requests).map_or((0, 0), |a| (a.requests, a.errors));
        let (canary_requests, canary_errors) = counts(canary);
        let (baseline_requests, baseline_errors) = counts(baseline);
        let latency_shift = match (canary, baseline) {
            (Some(c), Some(b)) => log_shift(c, b, min_latency_samples),
            _ => None,
        };
        StageEvidence {
            stage,
            started_at: started_at.map(str::to_owned),
            canary_requests,
            canary_errors,
            baseline_requests,
            baseline_errors,
            latency_shift,
        }
    }

    pub(crate) fn counts(&self) -> CountPair {
        CountPair {
            canary_events: self.canary_errors,
            canary_exposure: self.canary_requests,
            baseline_events: self.baseline_errors,
            baseline_exposure: self.baseline_requests,
        }
    }

    /// Rejects impossible carried evidence (it may come from JSON), naming the field.
    pub(crate) fn validate(&self, path: &str) -> Result<(), JudgementError> {
        if self.canary_errors > self.canary_requests {
            return Err(JudgementError::new(format!("{path}.canary_errors"), "more errors than requests"));
        }
        if self.baseline_errors > self.baseline_requests {
            return Err(JudgementError::new(format!("{path}.baseline_errors"), "more errors than requests"));
        }
        if let Some(shift) = &self.latency_shift {
            if !shift.estimate.is_finite() {
                return Err(JudgementError::new(format!("{path}.latency_shift.estimate"), "must be a finite number"));
            }
            if !(shift.variance.is_finite() && shift.variance > 0.0) {
                return Err(JudgementError::new(format!("{path}.latency_shift.variance"), "must be a finite number > 0"));
            }
        }
        Ok(())
    }
}

/// Smallest variance of a shift: two arms whose observations all sit on one value each
/// would otherwise give an infinitely precise (and infinitely convincing) difference.
const MIN_SHIFT_VARIANCE: f64 = 1e-12;

fn log_moments(latency: &Latency) -> Result<LogMoments, StatsError> {
    match latency {
        Latency::Samples { values_ms } => sample_log_moments(values_ms),
        Latency::Histogram(h) => h.log_moments(),
    }
}

/// Canary minus baseline mean log latency. The canary's variance is taken as at least the
/// baseline's: a canary with few requests and a lucky small spread must not look precise, and
/// a canary that is more variable keeps its own (larger) variance.
fn log_shift(canary: &ArmMetrics, baseline: &ArmMetrics, min_samples: u64) -> Option<LogShift> {
    let c = log_moments(canary.latency.as_ref()?).ok()?;
    let b = log_moments(baseline.latency.as_ref()?).ok()?;
    if c.count < min_samples || b.count < min_samples {
        return None;
    }
    let variance = c.variance.max(b.variance) / c.count as f64 + b.variance / b.count as f64;
    let estimate = c.mean - b.mean;
    (estimate.is_finite() && variance.is_finite()).then_some(LogShift { estimate, variance: variance.max(MIN_SHIFT_VARIANCE) })
}

/// Inverse-variance combination of the shifts of several stages (the product of their normal
/// likelihoods): `None` without any.
pub(crate) fn combined_shift<'a>(shifts: impl Iterator<Item = &'a LogShift>) -> Option<LogShift> {
    let (mut information, mut score) = (0.0, 0.0);
    for s in shifts {
        information += 1.0 / s.variance;
        score += s.estimate / s.variance;
    }
    (information > 0.0 && information.is_finite() && score.is_finite())
        .then(|| LogShift { estimate: score / information, variance: 1.0 / information })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Bucket, Histogram};

    fn arm(requests: u64, errors: u64, values: &[f64]) -> ArmMetrics {
        ArmMetrics { requests, errors, p99_ms: None, latency: Some(Latency::Samples { values_ms: values.to_vec() }) }
    }

    #[test]
    fn shift_needs_enough_observations_in_both_arms() {
        let slow: Vec<f64> = (0..60).map(|i| 100.0 + i as f64).collect();
        let fast: Vec<f64> = (0..60).map(|i| 50.0 + i as f64 / 2.0).collect();
        let e = StageEvidence::from_arms(0, None, Some(&arm(60, 1, &slow)), Some(&arm(60, 0, &fast)), 50);
        let Some(shift) = e.latency_shift else { panic!("{e:?}") };
        assert!(shift.estimate > 0.6 && shift.variance > 0.0, "{shift:?}");
        let too_few = StageEvidence::from_arms(0, None, Some(&arm(60, 1, &slow[..40])), Some(&arm(60, 0, &fast)), 50);
        assert_eq!(too_few.latency_shift, None);
        assert_eq!((too_few.canary_requests, too_few.canary_errors), (60, 1));
    }

    #[test]
    fn one_value_per_arm_has_a_floor_variance_and_impossible_counts_are_dropped() {
        let one = |v: f64| ArmMetrics {
            requests: 100,
            errors: 200,
            p99_ms: None,
            latency: Some(Latency::Histogram(Histogram { buckets: vec![Bucket { le: Some(v), count: 100 }] })),
        };
        let e = StageEvidence::from_arms(2, Some("t"), Some(&one(10.0)), Some(&one(10.0)), 50);
        assert_eq!(e.latency_shift.map(|s| s.variance), Some(MIN_SHIFT_VARIANCE));
        assert_eq!((e.canary_requests, e.canary_errors), (0, 0), "errors > requests carries nothing");
        assert!(e.validate("x").is_ok());
        let bad = StageEvidence { canary_errors: 3, canary_requests: 1, ..e.clone() };
        assert_eq!(bad.validate("x").map_err(|e| e.path), Err("x.canary_errors".into()));
        let nan = StageEvidence { latency_shift: Some(LogShift { estimate: 0.0, variance: f64::NAN }), ..e };
        assert_eq!(nan.validate("x").map_err(|e| e.path), Err("x.latency_shift.variance".into()));
    }

    #[test]
    fn shifts_combine_by_inverse_variance() {
        let a = LogShift { estimate: 0.1, variance: 0.01 };
        let b = LogShift { estimate: 0.4, variance: 0.02 };
        let Some(c) = combined_shift([a, b].iter()) else { panic!() };
        assert!((c.estimate - 0.2).abs() < 1e-12 && (c.variance - 1.0 / 150.0).abs() < 1e-15, "{c:?}");
        assert_eq!(combined_shift([].iter()), None);
    }
}
