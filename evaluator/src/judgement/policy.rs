//! The knobs of canary judgement that are not in the flag file.

use serde::{Deserialize, Serialize};

use super::JudgementError;

/// How strictly the canary is compared with its baseline, and when failures roll back.
/// Every field has a default, so `{}` is a valid policy. JSON is snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CanaryPolicy {
    /// Consecutive judgements with a failed check that roll the canary back (≥ 1). Default 3.
    pub failures_to_rollback: u32,
    /// Significance level of the canary-versus-baseline tests, in (0, 1). Default 0.05.
    pub alpha: f64,
    /// Run the canary-versus-baseline checks (they need baseline metrics). Default true.
    pub compare_with_baseline: bool,
    /// Baseline requests needed for the comparisons; default: the stage gate's `min_samples`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_baseline_samples: Option<u64>,
    /// The canary error rate may exceed the baseline's by this much (absolute, 0.001 = 0.1
    /// percentage points) before a significant difference counts. Default 0.001.
    pub error_rate_tolerance_abs: f64,
    /// ... or by this fraction of the baseline rate, whichever is larger. Default 0.10.
    pub error_rate_tolerance_rel: f64,
    /// The canary median latency may exceed the baseline median by this fraction before a
    /// significant shift counts. Default 0.10.
    pub latency_tolerance_rel: f64,
}

impl Default for CanaryPolicy {
    fn default() -> Self {
        CanaryPolicy {
            failures_to_rollback: 3,
            alpha: 0.05,
            compare_with_baseline: true,
            min_baseline_samples: None,
            error_rate_tolerance_abs: 0.001,
            error_rate_tolerance_rel: 0.10,
            latency_tolerance_rel: 0.10,
        }
    }
}

impl CanaryPolicy {
    /// Reports the first invalid field with its path (`policy.<field>`).
    pub fn validate(&self) -> Result<(), JudgementError> {
        if self.failures_to_rollback == 0 {
            return Err(JudgementError::new("policy.failures_to_rollback", "must be at least 1"));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(JudgementError::new("policy.alpha", format!("must be in (0, 1), got {}", self.alpha)));
        }
        for (field, value) in [
            ("policy.error_rate_tolerance_abs", self.error_rate_tolerance_abs),
            ("policy.error_rate_tolerance_rel", self.error_rate_tolerance_rel),
            ("policy.latency_tolerance_rel", self.latency_tolerance_rel),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(JudgementError::new(field, format!("must be a finite number >= 0, got {value}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_is_the_default_policy() {
        let parsed: Result<CanaryPolicy, _> = serde_json::from_str("{}");
        assert_eq!(parsed.ok(), Some(CanaryPolicy::default()));
        assert_eq!(CanaryPolicy::default().validate(), Ok(()));
    }

    #[test]
    fn invalid_fields_are_named() {
        let cases = [
            (CanaryPolicy { failures_to_rollback: 0, ..Default::default() }, "policy.failures_to_rollback"),
            (CanaryPolicy { alpha: f64::NAN, ..Default::default() }, "policy.alpha"),
            (CanaryPolicy { alpha: 1.0, ..Default::default() }, "policy.alpha"),
            (CanaryPolicy { error_rate_tolerance_abs: -0.1, ..Default::default() }, "policy.error_rate_tolerance_abs"),
            (CanaryPolicy { latency_tolerance_rel: f64::INFINITY, ..Default::default() }, "policy.latency_tolerance_rel"),
        ];
        for (policy, path) in cases {
            assert_eq!(policy.validate().map_err(|e| e.path), Err(path.to_owned()));
        }
    }
}
