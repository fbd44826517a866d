//! Two-proportion z-test: error rates (canary) and conversion rates (experiments).

use serde::{Deserialize, Serialize};

use super::{check_probability, dist, StatsError};

/// `successes` out of `trials` (errors out of requests, conversions out of units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proportion {
    pub successes: u64,
    pub trials: u64,
}

impl Proportion {
    pub fn new(successes: u64, trials: u64) -> Self {
        Proportion { successes, trials }
    }

    /// The observed rate, checked: at least one trial, no more successes than trials.
    pub fn rate(&self, field: &str) -> Result<f64, StatsError> {
        if self.trials == 0 {
            return Err(StatsError::no_data(format!("{field}: no trials")));
        }
        if self.successes > self.trials {
            return Err(StatsError::invalid(
                field,
                format!("{} successes out of {} trials", self.successes, self.trials),
            ));
        }
        Ok(self.successes as f64 / self.trials as f64)
    }
}

/// Result of [`two_proportion_z_test`]; "difference" is treatment − control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoProportionTest {
    pub control_rate: f64,
    pub treatment_rate: f64,
    /// treatment_rate − control_rate.
    pub difference: f64,
    /// Pooled z statistic (0 when both arms are all-success or all-failure).
    pub z: f64,
    /// Two-sided p-value of the pooled test.
    pub p_value: f64,
    /// Confidence interval of the difference (unpooled Wald).
    pub ci_low: f64,
    pub ci_high: f64,
    /// difference / control_rate; None when the control rate is 0.
    pub relative_lift: Option<f64>,
    /// Delta-method interval of the relative lift; None when the control rate is 0.
    pub relative_ci_low: Option<f64>,
    pub relative_ci_high: Option<f64>,
}

/// Pooled two-proportion z-test (as statsmodels `proportions_ztest`) with an unpooled Wald
/// interval of the difference at `confidence` (as statsmodels `confint_proportions_2indep`
/// with `method="wald"`), and a delta-method interval of the relative lift.
pub fn two_proportion_z_test(
    control: Proportion,
    treatment: Proportion,
    confidence: f64,
) -> Result<TwoProportionTest, StatsError> {
    check_probability("confidence", confidence)?;
    let p_c = control.rate("control")?;
    let p_t = treatment.rate("treatment")?;
    let (n_c, n_t) = (control.trials as f64, treatment.trials as f64);
    let difference = p_t - p_c;

    let pooled = (control.successes as f64 + treatment.successes as f64) / (n_c + n_t);
    let pooled_se = (pooled * (1.0 - pooled) * (1.0 / n_c + 1.0 / n_t)).sqrt();
    // Both arms all-failure (or all-success): identical, no evidence of a difference.
    let (z, p_value) = if pooled_se > 0.0 {
        let z = difference / pooled_se;
        (z, dist::normal_two_sided_p(z)?)
    } else {
        (0.0, 1.0)
    };

    let z_crit = dist::normal_quantile(1.0 - (1.0 - confidence) / 2.0)?;
    let var_c = p_c * (1.0 - p_c) / n_c;
    let var_t = p_t * (1.0 - p_t) / n_t;
    let half_width = z_crit * (var_c + var_t).sqrt();

    let (relative_lift, relative_ci_low, relative_ci_high) = if p_c > 0.0 {
        // Var(p_t / p_c) ≈ var_t / p_c² + p_t² var_c / p_c⁴ (delta method).
        let ratio = p_t / p_c;
        let se = (var_t / (p_c * p_c) + p_t * p_t * var_c / p_c.powi(4)).sqrt();
        (Some(ratio - 1.0), Some(ratio - 1.0 - z_crit * se), Some(ratio - 1.0 + z_crit * se))
    } else {
        (None, None, None)
    };

    Ok(TwoProportionTest {
        control_rate: p_c,
        treatment_rate: p_t,
        difference,
        z,
        p_value,
        ci_low: difference - half_width,
        ci_high: difference + half_width,
        relative_lift,
        relative_ci_low,
        relative_ci_high,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_impossible_arms_are_errors() {
        let ok = Proportion::new(1, 10);
        assert!(matches!(
            two_proportion_z_test(Proportion::new(0, 0), ok, 0.95),
            Err(StatsError::NotEnoughData { .. })
        ));
        assert!(matches!(
            two_proportion_z_test(ok, Proportion::new(11, 10), 0.95),
            Err(StatsError::Invalid { .. })
        ));
        assert!(two_proportion_z_test(ok, ok, f64::NAN).is_err());
        assert!(two_proportion_z_test(ok, ok, 1.0).is_err());
    }

    #[test]
    fn identical_all_zero_arms_have_p_one() {
        let zero = Proportion::new(0, 1000);
        let test = two_proportion_z_test(zero, zero, 0.95);
        let test = test.as_ref().map(|t| (t.z, t.p_value, t.relative_lift));
        assert_eq!(test, Ok((0.0, 1.0, None)));
    }

    #[test]
    fn a_clearly_higher_rate_is_significant_and_positive() {
        let test = two_proportion_z_test(Proportion::new(10, 10_000), Proportion::new(60, 10_000), 0.95);
        let Ok(test) = test else { panic!("{test:?}") };
        assert!(test.z > 5.0 && test.p_value < 1e-6, "{test:?}");
        assert!(test.ci_low > 0.0 && test.relative_lift.is_some_and(|l| (l - 5.0).abs() < 1e-12));
    }
}
