//! The knobs of canary judgement that are not in the flag file.

use serde::{Deserialize, Serialize};

use super::JudgementError;

/// How a canary is judged: error budgets of the sequential tests, margins, minimum effects and
/// what to do when traffic is too low. Every field has a default, so `{}` is a valid policy.
/// JSON is snake_case. `evaluator/ANALYSIS.md` says what each setting buys, with the
/// simulation behind the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CanaryPolicy {
    /// Consecutive judgements on which a check fails before the canary is rolled back (≥ 1).
    /// Default 1: a failed check is already an anytime-valid decision on all the data since
    /// the stage started, so waiting only delays the rollback; 2 guards against a single bad
    /// scrape from a metrics source at the cost of one tick.
    pub failures_to_rollback: u32,
    /// Probability that a healthy canary is rolled back at all, over its whole run: every
    /// stage, every tick, however long it is held. In (0, 1). Default 0.01. Split evenly
    /// between the checks that can fail; a gate's share is split again across the stages.
    pub alpha: f64,
    /// Probability that a gate passes although the canary is actually beyond its threshold
    /// (per gate and stage): the upper confidence bound must be below the threshold at level
    /// 1 − `pass_risk`. In (0, 1). Default 0.05.
    pub pass_risk: f64,
    /// Run the two canary-versus-baseline checks (they need baseline metrics). Default true.
    pub compare_with_baseline: bool,
    /// Non-inferiority margin of the error-rate comparison: the canary fails only when its
    /// error rate is credibly above the baseline's × (1 + margin). Default 0: any credible
    /// increase is a regression (a new error source is what a canary is for).
    #[serde(alias = "error_rate_tolerance_rel")]
    pub error_rate_margin: f64,
    /// Non-inferiority margin of the latency comparison: the canary fails only when its typical
    /// latency (geometric mean) is credibly above the baseline's × (1 + margin). Default 0.05:
    /// at high traffic a real but harmless 1–3 % shift (another host type, a log line) does
    /// not roll back.
    #[serde(alias = "latency_tolerance_rel")]
    pub latency_margin: f64,
    /// The error-rate increase the comparison is tuned to catch fastest, relative (1.0 = twice
    /// the baseline's rate): the spread of the mixture's prior on ln(ratio). Any size is
    /// caught eventually; this one soonest. Default 1.0.
    pub error_rate_min_effect: f64,
    /// The latency increase the comparison is tuned to catch fastest, relative (0.3 = +30 %).
    /// Default 0.3.
    pub latency_min_effect: f64,
    /// Latency observations each arm needs in a stage before that stage's latency enters the
    /// comparison (the log-latency test is asymptotic). Default 50.
    pub min_latency_samples: u64,
    /// What a stage does when it has run its `min_duration` and has `min_samples`, nothing
    /// fails, but a gate is not proven yet (its upper bound is not below the threshold).
    /// Default `hold`.
    pub low_traffic: LowTraffic,
}

/// The choice when there is too little traffic to prove the gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LowTraffic {
    /// Wait until every gate is proven; the judgement says how many more requests (and how
    /// long at the current rate) that needs. Never exposes more users without evidence.
    Hold,
    /// Advance on time (after `min_duration` and `min_samples`) when nothing fails, proven or
    /// not. Still rolls back on a failed check; still never advances without canary metrics.
    AdvanceOnTime,
}

impl LowTraffic {
    pub fn as_str(self) -> &'static str {
        match self {
            LowTraffic::Hold => "hold",
            LowTraffic::AdvanceOnTime => "advance_on_time",
        }
    }
}

impl Default for CanaryPolicy {
    fn default() -> Self {
        CanaryPolicy {
            failures_to_rollback: 1,
            alpha: 0.01,
            pass_risk: 0.05,
            compare_with_baseline: true,
            error_rate_margin: 0.0,
            latency_margin: 0.05,
            error_rate_min_effect: 1.0,
            latency_min_effect: 0.3,
            min_latency_samples: 50,
            low_traffic: LowTraffic::Hold,
        }
    }
}

/// The error budgets of one judgement, derived from the policy and the number of stages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskLevels {
    /// Level of a gate's lower bound (fail) in this stage: `alpha / checks / stages`.
    pub gate_alpha: f64,
    /// Level of a gate's upper bound (pass): `pass_risk`.
    pub gate_pass_risk: f64,
    /// Level of each comparison's confidence sequence over the whole run: `alpha / checks`.
    pub comparison_alpha: f64,
}

impl CanaryPolicy {
    /// Reports the first invalid field with its path (`policy.<field>`).
    pub fn validate(&self) -> Result<(), JudgementError> {
        if self.failures_to_rollback == 0 {
            return Err(JudgementError::new("policy.failures_to_rollback", "must be at least 1"));
        }
        for (path, value) in [("policy.alpha", self.alpha), ("policy.pass_risk", self.pass_risk)] {
            if !(value > 0.0 && value < 1.0) {
                return Err(JudgementError::new(path, format!("must be in (0, 1), got {value}")));
            }
        }
        for (field, value) in [("policy.error_rate_margin", self.error_rate_margin), ("policy.latency_margin", self.latency_margin)] {
            if !value.is_finite() || value < 0.0 {
                return Err(JudgementError::new(field, format!("must be a finite number >= 0, got {value}")));
            }
        }
        for (field, value) in
            [("policy.error_rate_min_effect", self.error_rate_min_effect), ("policy.latency_min_effect", self.latency_min_effect)]
        {
            if !(value.is_finite() && value > 0.0) {
                return Err(JudgementError::new(field, format!("must be a finite number > 0, got {value}")));
            }
        }
        if self.min_latency_samples < 2 {
            return Err(JudgementError::new("policy.min_latency_samples", "must be at least 2"));
        }
        Ok(())
    }

    /// The error budgets for a canary with `stages` stages.
    pub fn risk(&self, stages: usize) -> RiskLevels {
        let checks = if self.compare_with_baseline { 4.0 } else { 2.0 };
        RiskLevels {
            gate_alpha: self.alpha / checks / stages.max(1) as f64,
            gate_pass_risk: self.pass_risk,
            comparison_alpha: self.alpha / checks,
        }
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
        let old_names: Result<CanaryPolicy, _> =
            serde_json::from_str(r#"{"error_rate_tolerance_rel": 0.2, "latency_tolerance_rel": 0.1, "low_traffic": "advance_on_time"}"#);
        let old_names = old_names.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((old_names.error_rate_margin, old_names.latency_margin), (0.2, 0.1));
        assert_eq!(old_names.low_traffic, LowTraffic::AdvanceOnTime);
    }

    #[test]
    fn invalid_fields_are_named() {
        let cases = [
            (CanaryPolicy { failures_to_rollback: 0, ..Default::default() }, "policy.failures_to_rollback"),
            (CanaryPolicy { alpha: f64::NAN, ..Default::default() }, "policy.alpha"),
            (CanaryPolicy { alpha: 1.0, ..Default::default() }, "policy.alpha"),
            (CanaryPolicy { pass_risk: 0.0, ..Default::default() }, "policy.pass_risk"),
            (CanaryPolicy { error_rate_margin: -0.1, ..Default::default() }, "policy.error_rate_margin"),
            (CanaryPolicy { latency_margin: f64::INFINITY, ..Default::default() }, "policy.latency_margin"),
            (CanaryPolicy { latency_min_effect: 0.0, ..Default::default() }, "policy.latency_min_effect"),
            (CanaryPolicy { min_latency_samples: 1, ..Default::default() }, "policy.min_latency_samples"),
        ];
        for (policy, path) in cases {
            assert_eq!(policy.validate().map_err(|e| e.path), Err(path.to_owned()));
        }
    }

    #[test]
    fn alpha_is_split_between_checks_and_gate_shares_between_stages() {
        let risk = CanaryPolicy::default().risk(5);
        assert!((risk.comparison_alpha - 0.0025).abs() < 1e-15);
        assert!((risk.gate_alpha - 0.0005).abs() < 1e-15);
        let gates_only = CanaryPolicy { compare_with_baseline: false, ..Default::default() }.risk(2);
        assert!((gates_only.gate_alpha - 0.0025).abs() < 1e-15);
    }
}
