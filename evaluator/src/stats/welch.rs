//! Welch's t-test on means (unequal variances), from summary statistics.

use serde::{Deserialize, Serialize};

use super::{check_finite, check_probability, dist, StatsError};

/// Count, mean and *sample* variance (n − 1 denominator) of one arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleSummary {
    pub count: u64,
    pub mean: f64,
    pub variance: f64,
}

impl SampleSummary {
    /// Summarises raw values with Welford's algorithm (stable for large means).
    pub fn from_values(values: &[f64]) -> Result<SampleSummary, StatsError> {
        let mut count = 0u64;
        let mut mean = 0.0;
        let mut m2 = 0.0;
        for (i, &x) in values.iter().enumerate() {
            check_finite(&format!("values[{i}]"), x)?;
            count += 1;
            let delta = x - mean;
            mean += delta / count as f64;
            m2 += delta * (x - mean);
        }
        let variance = if count > 1 { m2 / (count - 1) as f64 } else { 0.0 };
        Ok(SampleSummary { count, mean, variance })
    }

    fn check(&self, field: &str) -> Result<(), StatsError> {
        if self.count < 2 {
            return Err(StatsError::no_data(format!("{field}: {} observations, need at least 2", self.count)));
        }
        check_finite(&format!("{field}.mean"), self.mean)?;
        check_finite(&format!("{field}.variance"), self.variance)?;
        if self.variance < 0.0 {
            return Err(StatsError::invalid(&format!("{field}.variance"), "must be >= 0"));
        }
        Ok(())
    }
}

/// Result of [`welch_t_test`]; "difference" is treatment − control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WelchTest {
    pub control_mean: f64,
    pub treatment_mean: f64,
    pub difference: f64,
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Confidence interval of the difference (t quantile with `df`).
    pub ci_low: f64,
    pub ci_high: f64,
    /// difference / |control_mean|; None when the control mean is 0.
    pub relative_lift: Option<f64>,
    /// Delta-method interval of the relative lift (normal quantile).
    pub relative_ci_low: Option<f64>,
    pub relative_ci_high: Option<f64>,
}

/// Welch's t-test (as `scipy.stats.ttest_ind_from_stats(..., equal_var=False)`), with the
/// confidence interval of the difference of means at `confidence`.
pub fn welch_t_test(
    control: &SampleSummary,
    treatment: &SampleSummary,
    confidence: f64,
) -> Result<WelchTest, StatsError> {
    check_probability("confidence", confidence)?;
    control.check("control")?;
    treatment.check("treatment")?;
    let (n_c, n_t) = (control.count as f64, treatment.count as f64);
    let se2_c = control.variance / n_c;
    let se2_t = treatment.variance / n_t;
    let se = (se2_c + se2_t).sqrt();
    if se <= 0.0 || !se.is_finite() {
        return Err(StatsError::degenerate("both arms have zero variance"));
    }
    let difference = treatment.mean - control.mean;
    let t = difference / se;
    let df = (se2_c + se2_t).powi(2) / (se2_c.powi(2) / (n_c - 1.0) + se2_t.powi(2) / (n_t - 1.0));
    let p_value = dist::students_t_two_sided_p(t, df)?;
    let alpha = 1.0 - confidence;
    let t_crit = dist::students_t_quantile(1.0 - alpha / 2.0, df)?;

    let (relative_lift, relative_ci_low, relative_ci_high) = if control.mean != 0.0 {
        let m_c = control.mean;
        let ratio = treatment.mean / m_c;
        // Sign-aware: a lift is measured against the magnitude of the control mean.
        let lift = difference / m_c.abs();
        let se_ratio = (se2_t / (m_c * m_c) + ratio * ratio * se2_c / (m_c * m_c)).sqrt();
        let z_crit = dist::normal_quantile(1.0 - alpha / 2.0)?;
        (Some(lift), Some(lift - z_crit * se_ratio), Some(lift + z_crit * se_ratio))
    } else {
        (None, None, None)
    };

    Ok(WelchTest {
        control_mean: control.mean,
        treatment_mean: treatment.mean,
        difference,
        t,
        df,
        p_value,
        ci_low: difference - t_crit * se,
        ci_high: difference + t_crit * se,
        relative_lift,
        relative_ci_low,
        relative_ci_high,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(count: u64, mean: f64, variance: f64) -> SampleSummary {
        SampleSummary { count, mean, variance }
    }

    #[test]
    fn summary_from_values() {
        let got = SampleSummary::from_values(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(got, Ok(s(4, 2.5, 5.0 / 3.0)));
        assert!(SampleSummary::from_values(&[1.0, f64::NAN]).is_err());
        assert_eq!(SampleSummary::from_values(&[]), Ok(s(0, 0.0, 0.0)));
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let ok = s(10, 1.0, 1.0);
        assert!(matches!(welch_t_test(&s(1, 1.0, 0.0), &ok, 0.95), Err(StatsError::NotEnoughData { .. })));
        assert!(matches!(welch_t_test(&ok, &s(10, f64::NAN, 1.0), 0.95), Err(StatsError::Invalid { .. })));
        assert!(matches!(welch_t_test(&ok, &s(10, 1.0, -1.0), 0.95), Err(StatsError::Invalid { .. })));
        assert!(matches!(welch_t_test(&ok, &s(10, 1.0, f64::INFINITY), 0.95), Err(StatsError::Invalid { .. })));
        assert!(matches!(
            welch_t_test(&s(10, 1.0, 0.0), &s(10, 2.0, 0.0), 0.95),
            Err(StatsError::Degenerate { .. })
        ));
        assert!(welch_t_test(&ok, &ok, 0.0).is_err());
    }

    #[test]
    fn equal_means_have_p_one_and_symmetric_interval() {
        let Ok(test) = welch_t_test(&s(50, 3.0, 2.0), &s(80, 3.0, 1.0), 0.95) else { panic!() };
        assert_eq!(test.t, 0.0);
        assert!((test.p_value - 1.0).abs() < 1e-12);
        assert!((test.ci_low + test.ci_high).abs() < 1e-12);
    }
}
