//! The distributions, wrapped so that no input can reach a `statrs` assertion.
//!
//! `statrs` panics on some out-of-domain arguments (e.g. `inverse_cdf` outside [0, 1], a
//! NaN into the incomplete beta function). These wrappers check the arguments first and
//! report a [`StatsError`] instead.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};

use super::{check_probability, StatsError};

fn standard_normal() -> Result<Normal, StatsError> {
    Normal::new(0.0, 1.0).map_err(|e| StatsError::degenerate(format!("normal distribution: {e}")))
}

fn checked_result(what: &str, value: f64) -> Result<f64, StatsError> {
    if value.is_nan() {
        Err(StatsError::degenerate(format!("{what} is undefined for these inputs")))
    } else {
        Ok(value)
    }
}

/// P(Z > z) for a standard normal Z. `z` may be infinite, not NaN.
pub fn normal_sf(z: f64) -> Result<f64, StatsError> {
    if z.is_nan() {
        return Err(StatsError::degenerate("z statistic is NaN"));
    }
    checked_result("normal tail", standard_normal()?.sf(z))
}

/// Two-sided p-value of a z statistic: 2·P(Z > |z|), at most 1.
pub fn normal_two_sided_p(z: f64) -> Result<f64, StatsError> {
    Ok((2.0 * normal_sf(z.abs())?).min(1.0))
}

/// The standard normal quantile Φ⁻¹(p) for p in (0, 1).
pub fn normal_quantile(p: f64) -> Result<f64, StatsError> {
    check_probability("probability", p)?;
    checked_result("normal quantile", standard_normal()?.inverse_cdf(p))
}

fn students_t(df: f64) -> Result<StudentsT, StatsError> {
    if df.is_nan() || df <= 0.0 {
        return Err(StatsError::degenerate(format!("degrees of freedom must be > 0, got {df}")));
    }
    StudentsT::new(0.0, 1.0, df).map_err(|e| StatsError::degenerate(format!("t distribution: {e}")))
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn students_t_two_sided_p(t: f64, df: f64) -> Result<f64, StatsError> {
    if t.is_nan() {
        return Err(StatsError::degenerate("t statistic is NaN"));
    }
    if t.is_infinite() {
        return Ok(0.0);
    }
    let tail = checked_result("t tail", students_t(df)?.sf(t.abs()))?;
    Ok((2.0 * tail).min(1.0))
}

/// The Student's t quantile for p in (0, 1).
pub fn students_t_quantile(p: f64, df: f64) -> Result<f64, StatsError> {
    check_probability("probability", p)?;
    let dist = students_t(df)?;
    checked_result("t quantile", dist.inverse_cdf(p))
}

/// P(X > x) for a chi-square X with `df` degrees of freedom (x ≥ 0, finite).
pub fn chi_squared_sf(x: f64, df: f64) -> Result<f64, StatsError> {
    if !x.is_finite() || x < 0.0 {
        return Err(StatsError::degenerate(format!("chi-square statistic must be finite and >= 0, got {x}")));
    }
    if !df.is_finite() || df <= 0.0 {
        return Err(StatsError::degenerate(format!("degrees of freedom must be > 0, got {df}")));
    }
    let dist = ChiSquared::new(df).map_err(|e| StatsError::degenerate(format!("chi-square distribution: {e}")))?;
    checked_result("chi-square tail", dist.sf(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_domain_arguments_instead_of_panicking() {
        assert!(normal_quantile(f64::NAN).is_err());
        assert!(normal_quantile(0.0).is_err());
        assert!(normal_quantile(1.5).is_err());
        assert!(normal_sf(f64::NAN).is_err());
        assert!(students_t_two_sided_p(1.0, 0.0).is_err());
        assert!(students_t_two_sided_p(1.0, f64::NAN).is_err());
        assert!(students_t_two_sided_p(f64::NAN, 3.0).is_err());
        assert!(students_t_quantile(f64::NAN, 3.0).is_err());
        assert!(chi_squared_sf(-1.0, 2.0).is_err());
        assert!(chi_squared_sf(f64::INFINITY, 2.0).is_err());
        assert!(chi_squared_sf(1.0, 0.0).is_err());
    }

    #[test]
    fn infinite_statistics_have_limit_p_values() {
        assert_eq!(normal_two_sided_p(f64::INFINITY), Ok(0.0));
        assert_eq!(students_t_two_sided_p(f64::NEG_INFINITY, 5.0), Ok(0.0));
        assert_eq!(normal_two_sided_p(0.0), Ok(1.0));
    }

    #[test]
    fn known_quantiles() {
        let z = normal_quantile(0.975).unwrap_or(f64::NAN);
        assert!((z - 1.959_963_984_540_054).abs() < 1e-9, "{z}");
    }
}
