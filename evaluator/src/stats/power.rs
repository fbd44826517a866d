//! Sample size per arm needed to detect a minimum detectable effect (two-sided test).

use super::{check_finite, check_probability, dist, StatsError};

/// Units per arm for a two-proportion test to detect a change from `baseline_rate` to
/// `baseline_rate · (1 + relative_mde)` with significance `alpha` and `power`, equal arms:
///
/// n = (z₁₋α/₂ √(2 p̄ (1 − p̄)) + z₁₋β √(p₁(1 − p₁) + p₂(1 − p₂)))² / (p₂ − p₁)², p̄ = (p₁ + p₂)/2.
pub fn sample_size_proportions(baseline_rate: f64, relative_mde: f64, alpha: f64, power: f64) -> Result<u64, StatsError> {
    check_probability("alpha", alpha)?;
    check_probability("power", power)?;
    check_probability("baseline_rate", baseline_rate)?;
    check_finite("relative_mde", relative_mde)?;
    let p1 = baseline_rate;
    let p2 = baseline_rate * (1.0 + relative_mde);
    if relative_mde == 0.0 {
        return Err(StatsError::invalid("relative_mde", "must not be 0"));
    }
    if !(p2 > 0.0 && p2 < 1.0) {
        return Err(StatsError::invalid(
            "relative_mde",
            format!("the target rate {p2} is outside (0, 1)"),
        ));
    }
    let z_alpha = dist::normal_quantile(1.0 - alpha / 2.0)?;
    let z_beta = dist::normal_quantile(power)?;
    let p_bar = (p1 + p2) / 2.0;
    let numerator = z_alpha * (2.0 * p_bar * (1.0 - p_bar)).sqrt() + z_beta * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    Ok(ceil_count(numerator * numerator / ((p2 - p1) * (p2 - p1))))
}

/// Units per arm for a two-sample test of means to detect an absolute difference
/// `mde` when each arm has standard deviation `std_dev`: n = 2 σ² (z₁₋α/₂ + z₁₋β)² / δ².
pub fn sample_size_means(std_dev: f64, mde: f64, alpha: f64, power: f64) -> Result<u64, StatsError> {
    check_probability("alpha", alpha)?;
    check_probability("power", power)?;
    check_finite("std_dev", std_dev)?;
    check_finite("mde", mde)?;
    if std_dev < 0.0 {
        return Err(StatsError::invalid("std_dev", "must be >= 0"));
    }
    if mde == 0.0 {
        return Err(StatsError::invalid("mde", "must not be 0"));
    }
    let z = dist::normal_quantile(1.0 - alpha / 2.0)? + dist::normal_quantile(power)?;
    Ok(ceil_count(2.0 * std_dev * std_dev * z * z / (mde * mde)))
}

/// Rounds up; `as` saturates huge values at u64::MAX (NaN cannot reach here).
fn ceil_count(n: f64) -> u64 {
    n.ceil().max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_inputs_are_errors() {
        assert!(sample_size_proportions(0.0, 0.1, 0.05, 0.8).is_err());
        assert!(sample_size_proportions(0.1, 0.0, 0.05, 0.8).is_err());
        assert!(sample_size_proportions(0.6, 1.0, 0.05, 0.8).is_err());
        assert!(sample_size_proportions(0.1, f64::NAN, 0.05, 0.8).is_err());
        assert!(sample_size_proportions(0.1, 0.1, 0.05, 1.0).is_err());
        assert!(sample_size_means(-1.0, 1.0, 0.05, 0.8).is_err());
        assert!(sample_size_means(1.0, 0.0, 0.05, 0.8).is_err());
        assert!(sample_size_means(f64::INFINITY, 1.0, 0.05, 0.8).is_err());
    }

    #[test]
    fn smaller_effects_need_more_units() {
        let big = sample_size_proportions(0.1, 0.2, 0.05, 0.8);
        let small = sample_size_proportions(0.1, 0.05, 0.05, 0.8);
        assert!(matches!((&big, &small), (Ok(b), Ok(s)) if *s > 3 * *b), "{big:?} {small:?}");
        assert_eq!(sample_size_means(0.0, 1.0, 0.05, 0.8), Ok(0));
    }
}
