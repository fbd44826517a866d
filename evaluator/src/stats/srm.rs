//! Sample-ratio mismatch: are units split across arms as the configured weights say?
//!
//! Pearson's chi-square goodness-of-fit test (as `scipy.stats.chisquare(observed, expected)`).
//! A broken assignment (a bug in bucketing, a redirect that drops one arm, bots) shows up as
//! a tiny p-value long before metrics look odd; experiment results are not trustworthy then.

use serde::{Deserialize, Serialize};

use super::{check_probability, dist, StatsError};

/// Result of [`sample_ratio_mismatch`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRatio {
    /// Units per arm, in the order given.
    pub observed: Vec<u64>,
    /// Units expected per arm from the weights.
    pub expected: Vec<f64>,
    /// Chi-square statistic over the arms with a positive weight.
    pub chi_square: f64,
    /// Degrees of freedom: arms with a positive weight − 1.
    pub df: u32,
    pub p_value: f64,
    /// Units in arms whose weight is 0 (any such unit is a mismatch by itself).
    pub unexpected_units: u64,
    /// p_value < alpha, or any unit in a zero-weight arm.
    pub mismatch: bool,
}

/// Tests `observed` units per arm against `weights` (any scale: basis points, ratios) at
/// significance `alpha` (0.001 is usual: SRM checks run often and must not cry wolf).
pub fn sample_ratio_mismatch(observed: &[u64], weights: &[f64], alpha: f64) -> Result<SampleRatio, StatsError> {
    check_probability("alpha", alpha)?;
    if observed.len() != weights.len() {
        return Err(StatsError::invalid(
            "weights",
            format!("{} arms observed but {} weights", observed.len(), weights.len()),
        ));
    }
    if observed.len() < 2 {
        return Err(StatsError::invalid("weights", "need at least two arms"));
    }
    for (i, &w) in weights.iter().enumerate() {
        if !w.is_finite() || w < 0.0 {
            return Err(StatsError::invalid(&format!("weights[{i}]"), format!("must be finite and >= 0, got {w}")));
        }
    }
    let weight_sum: f64 = weights.iter().sum();
    if weight_sum <= 0.0 || !weight_sum.is_finite() {
        return Err(StatsError::invalid("weights", "weights sum to 0"));
    }
    let total: f64 = observed.iter().map(|&o| o as f64).sum();
    if total == 0.0 {
        return Err(StatsError::no_data("no units observed"));
    }
    let expected: Vec<f64> = weights.iter().map(|w| total * w / weight_sum).collect();
    let mut chi_square = 0.0;
    let mut weighted_arms = 0u32;
    let mut unexpected_units = 0u64;
    for (&o, &e) in observed.iter().zip(&expected) {
        if e > 0.0 {
            weighted_arms += 1;
            chi_square += (o as f64 - e).powi(2) / e;
        } else {
            unexpected_units = unexpected_units.saturating_add(o);
        }
    }
    let df = weighted_arms.saturating_sub(1);
    let p_value = if df == 0 { 1.0 } else { dist::chi_squared_sf(chi_square, df as f64)? };
    Ok(SampleRatio {
        observed: observed.to_vec(),
        expected,
        chi_square,
        df,
        p_value,
        unexpected_units,
        mismatch: p_value < alpha || unexpected_units > 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_weights_are_errors() {
        assert!(matches!(sample_ratio_mismatch(&[1, 2], &[0.0, 0.0], 0.001), Err(StatsError::Invalid { .. })));
        assert!(matches!(sample_ratio_mismatch(&[1, 2], &[1.0, f64::NAN], 0.001), Err(StatsError::Invalid { .. })));
        assert!(matches!(sample_ratio_mismatch(&[1, 2], &[1.0, -1.0], 0.001), Err(StatsError::Invalid { .. })));
        assert!(matches!(sample_ratio_mismatch(&[1, 2], &[1.0], 0.001), Err(StatsError::Invalid { .. })));
        assert!(matches!(sample_ratio_mismatch(&[1], &[1.0], 0.001), Err(StatsError::Invalid { .. })));
        assert!(matches!(sample_ratio_mismatch(&[0, 0], &[1.0, 1.0], 0.001), Err(StatsError::NotEnoughData { .. })));
        assert!(sample_ratio_mismatch(&[1, 2], &[1.0, 1.0], 0.0).is_err());
    }

    #[test]
    fn balanced_split_is_fine_and_skewed_split_is_flagged() {
        let Ok(fine) = sample_ratio_mismatch(&[5000, 5020], &[5000.0, 5000.0], 0.001) else { panic!() };
        assert!(!fine.mismatch && fine.p_value > 0.5, "{fine:?}");
        let Ok(skewed) = sample_ratio_mismatch(&[5000, 5400], &[5000.0, 5000.0], 0.001) else { panic!() };
        assert!(skewed.mismatch && skewed.p_value < 0.001, "{skewed:?}");
    }

    #[test]
    fn units_in_a_zero_weight_arm_are_a_mismatch() {
        let Ok(result) = sample_ratio_mismatch(&[100, 100, 3], &[1.0, 1.0, 0.0], 0.001) else { panic!() };
        assert_eq!((result.unexpected_units, result.df, result.mismatch), (3, 1, true));
        let Ok(single) = sample_ratio_mismatch(&[100, 0], &[1.0, 0.0], 0.001) else { panic!() };
        assert_eq!((single.df, single.p_value, single.mismatch), (0, 1.0, false));
    }
}
