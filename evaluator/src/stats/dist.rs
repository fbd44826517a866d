//! The distributions (normal, Student's t, chi-square), with their arguments checked.
//!
//! The special functions underneath ([`super::special`]) return NaN outside their domains;
//! these wrappers check the arguments first and turn any NaN result into a [`StatsError`], so
//! no input yields a panic or a NaN.

use super::{check_probability, special, StatsError};

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
    checked_result("normal tail", special::normal_sf(z))
}

/// Two-sided p-value of a z statistic: 2·P(Z > |z|), at most 1.
pub fn normal_two_sided_p(z: f64) -> Result<f64, StatsError> {
    Ok((2.0 * normal_sf(z.abs())?).min(1.0))
}

/// The standard normal quantile Φ⁻¹(p) for p in (0, 1).
pub fn normal_quantile(p: f64) -> Result<f64, StatsError> {
    check_probability("probability", p)?;
    checked_result("normal quantile", special::normal_quantile(p))
}

/// Above this many degrees of freedom the normal distribution is used: it is then within ~5e-8
/// (relative, in the tail) of the t distribution, and the incomplete beta function's continued
/// fraction would need O(√df) steps.
const NORMAL_DF: f64 = 1e8;

/// Student's t with `df` degrees of freedom (checked > 0).
#[derive(Clone, Copy)]
struct StudentsT {
    df: f64,
}

impl StudentsT {
    fn sf(self, t: f64) -> f64 {
        special::students_t_sf(t, self.df)
    }
}

/// `Ok(None)` means "use the normal distribution" (df is huge or infinite).
fn students_t(df: f64) -> Result<Option<StudentsT>, StatsError> {
    if df.is_nan() || df <= 0.0 {
        return Err(StatsError::degenerate(format!("degrees of freedom must be > 0, got {df}")));
    }
    if df > NORMAL_DF {
        return Ok(None);
    }
    Ok(Some(StudentsT { df }))
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn students_t_two_sided_p(t: f64, df: f64) -> Result<f64, StatsError> {
    if t.is_nan() {
        return Err(StatsError::degenerate("t statistic is NaN"));
    }
    let Some(dist) = students_t(df)? else {
        return normal_two_sided_p(t);
    };
    if t.is_infinite() {
        return Ok(0.0);
    }
    let tail = checked_result("t tail", dist.sf(t.abs()))?;
    Ok((2.0 * tail).min(1.0))
}

/// The Student's t quantile for p in (0, 1).
pub fn students_t_quantile(p: f64, df: f64) -> Result<f64, StatsError> {
    check_probability("probability", p)?;
    let Some(dist) = students_t(df)? else {
        return normal_quantile(p);
    };
    // Bisection on the survival function: reliable over the whole domain, where inverting the
    // incomplete beta function is not (statrs 0.18's `inverse_cdf` for t panics for tiny p, is
    // wrong for df < ~0.01 and hangs for some large df).
    let upper_tail = if p > 0.5 { 1.0 - p } else { p };
    if upper_tail == 0.5 {
        return Ok(0.0);
    }
    let mut high = 1.0f64;
    while checked_result("t tail", dist.sf(high))? > upper_tail {
        high *= 2.0;
        // Beyond this the tail underflows (t² overflows): no usable quantile.
        if high > 1e150 {
            return Err(StatsError::degenerate(format!("t quantile of {p} with {df} degrees of freedom is too large")));
        }
    }
    let mut low = if high > 1.0 { high / 2.0 } else { 0.0 };
    for _ in 0..200 {
        let mid = low + (high - low) / 2.0;
        if mid <= low || mid >= high {
            break;
        }
        if checked_result("t tail", dist.sf(mid))? > upper_tail {
            low = mid;
        } else {
            high = mid;
        }
    }
    let x = low + (high - low) / 2.0;
    Ok(if p > 0.5 { x } else { -x })
}

/// P(X > x) for a chi-square X with `df` degrees of freedom (x ≥ 0, finite).
pub fn chi_squared_sf(x: f64, df: f64) -> Result<f64, StatsError> {
    if !x.is_finite() || x < 0.0 {
        return Err(StatsError::degenerate(format!("chi-square statistic must be finite and >= 0, got {x}")));
    }
    if !df.is_finite() || df <= 0.0 {
        return Err(StatsError::degenerate(format!("degrees of freedom must be > 0, got {df}")));
    }
    checked_result("chi-square tail", special::regularized_gamma_q(df / 2.0, x / 2.0))
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
        assert!(students_t_two_sided_p(f64::INFINITY, f64::NAN).is_err());
    }

    #[test]
    fn huge_degrees_of_freedom_use_the_normal_distribution() {
        // Found by the property test: statrs panics inverting the t CDF with df = inf.
        let normal = normal_quantile(0.975).unwrap_or(f64::NAN);
        assert_eq!(students_t_quantile(0.975, f64::INFINITY), Ok(normal));
        assert_eq!(students_t_quantile(0.975, 1e12), Ok(normal));
        // scipy.stats.t.ppf(0.975, 1e7) -> 1.959964221767205
        let near = students_t_quantile(0.975, 1e7).unwrap_or(f64::NAN);
        assert!((near - 1.959964221767205).abs() < 1e-7, "{near}");
        assert_eq!(students_t_two_sided_p(1.0, f64::INFINITY), normal_two_sided_p(1.0));
    }

    #[test]
    fn t_quantile_inverts_the_cdf_where_statrs_inverse_does_not() {
        // statrs' StudentsT::inverse_cdf(0.975) with df = 0.001 returns ~2.6e8, whose CDF is
        // 0.51; it hangs for df ≈ 1.86e7, p = 0.6. The bisection must invert the tail exactly.
        for df in [0.5, 1.0, 7.3, 1e3, 1.8620871366628658e7] {
            for p in [0.6, 0.975, 0.999_999, 0.025] {
                let q = students_t_quantile(p, df).unwrap_or(f64::NAN);
                let tail = if p > 0.5 { 1.0 - p } else { p };
                let back = students_t_two_sided_p(q, df).unwrap_or(f64::NAN) / 2.0;
                // 1e-7: statrs' t tail itself is only that smooth at ~1e7 degrees of freedom.
                assert!(((back - tail) / tail).abs() < 1e-7, "df={df} p={p} q={q} back={back}");
            }
        }
        assert_eq!(students_t_quantile(0.5, 3.0), Ok(0.0));
        // With df = 0.001 the 97.5 % quantile is far beyond f64: an error, not garbage.
        assert!(matches!(students_t_quantile(0.975, 0.001), Err(StatsError::Degenerate { .. })));
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
