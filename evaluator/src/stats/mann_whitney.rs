//! Mann-Whitney U test (Wilcoxon rank-sum) on raw samples or on histogram buckets.
//!
//! The normal approximation with tie correction and continuity correction, as
//! `scipy.stats.mannwhitneyu(x, y, method="asymptotic")` (two-sided). A histogram bucket is a
//! group of tied observations, which is how Kayenta-style judges compare latency without raw
//! samples: every observation in a bucket gets the bucket's average rank.

use serde::{Deserialize, Serialize};

use super::{check_finite, dist, Histogram, StatsError};

/// Result of a Mann-Whitney U test of `x` (e.g. the canary) against `y` (the baseline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U statistic of `x` (scipy's returned statistic).
    pub u: f64,
    /// Standardised statistic, continuity-corrected (0 when all observations are tied).
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    pub n_x: u64,
    pub n_y: u64,
    /// U / (n_x · n_y): the probability that an `x` observation exceeds a `y` one (ties count
    /// half). 0.5 means no shift; above 0.5 means `x` tends to be larger (slower).
    pub probability_x_greater: f64,
}

/// Mann-Whitney U on raw samples. NaN or infinite samples are an error.
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Result<MannWhitney, StatsError> {
    for (name, values) in [("x", x), ("y", y)] {
        for (i, &v) in values.iter().enumerate() {
            check_finite(&format!("{name}[{i}]"), v)?;
        }
    }
    let mut all: Vec<(f64, bool)> = x.iter().map(|&v| (v, true)).chain(y.iter().map(|&v| (v, false))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Group equal values into tie groups of (count in x, count in y).
    let mut groups: Vec<(u64, u64)> = Vec::new();
    let mut last: Option<f64> = None;
    for (value, in_x) in all {
        if last != Some(value) {
            groups.push((0, 0));
            last = Some(value);
        }
        if let Some(group) = groups.last_mut() {
            if in_x {
                group.0 += 1;
            } else {
                group.1 += 1;
            }
        }
    }
    from_tie_groups(&groups)
}

/// Mann-Whitney U on two histograms with the same bucket bounds (each bucket is a tie group).
pub fn mann_whitney_u_histogram(x: &Histogram, y: &Histogram) -> Result<MannWhitney, StatsError> {
    x.validate()?;
    y.validate()?;
    if !x.same_layout(y) {
        return Err(StatsError::invalid("buckets", "the two histograms have different bucket bounds"));
    }
    let groups: Vec<(u64, u64)> = x.buckets.iter().zip(&y.buckets).map(|(a, b)| (a.count, b.count)).collect();
    from_tie_groups(&groups)
}

/// The test from tie groups in ascending order, each `(count in x, count in y)`.
fn from_tie_groups(groups: &[(u64, u64)]) -> Result<MannWhitney, StatsError> {
    let (n_x, n_y) = groups.iter().fold((0u64, 0u64), |(a, b), &(cx, cy)| (a.saturating_add(cx), b.saturating_add(cy)));
    if n_x == 0 || n_y == 0 {
        return Err(StatsError::no_data(format!("{n_x} observations in x and {n_y} in y; need both")));
    }
    // f64 throughout: counts from histograms can be large enough to overflow t³ in u64.
    let (n1, n2) = (n_x as f64, n_y as f64);
    let n = n1 + n2;
    let mut rank_sum_x = 0.0;
    let mut tie_term = 0.0;
    let mut before = 0.0;
    for &(cx, cy) in groups {
        let t = cx as f64 + cy as f64;
        if t == 0.0 {
            continue;
        }
        let average_rank = before + (t + 1.0) / 2.0;
        rank_sum_x += cx as f64 * average_rank;
        tie_term += t * t * t - t;
        before += t;
    }
    let u_x = rank_sum_x - n1 * (n1 + 1.0) / 2.0;
    let u_y = n1 * n2 - u_x;
    let mu = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    let (z, p_value) = if variance > 0.0 && variance.is_finite() {
        let z = (u_x.max(u_y) - mu - 0.5) / variance.sqrt();
        (z, (2.0 * dist::normal_sf(z)?).clamp(0.0, 1.0))
    } else {
        // Every observation is tied: no evidence of a shift.
        (0.0, 1.0)
    };
    Ok(MannWhitney { u: u_x, z, p_value, n_x, n_y, probability_x_greater: u_x / (n1 * n2) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Bucket;

    #[test]
    fn empty_or_invalid_samples_are_errors() {
        assert!(matches!(mann_whitney_u(&[], &[1.0]), Err(StatsError::NotEnoughData { .. })));
        assert!(matches!(mann_whitney_u(&[1.0], &[]), Err(StatsError::NotEnoughData { .. })));
        assert!(matches!(mann_whitney_u(&[f64::NAN], &[1.0]), Err(StatsError::Invalid { .. })));
    }

    #[test]
    fn all_tied_is_p_one() {
        let Ok(test) = mann_whitney_u(&[5.0, 5.0], &[5.0, 5.0, 5.0]) else { panic!() };
        assert_eq!((test.p_value, test.u, test.probability_x_greater), (1.0, 3.0, 0.5));
    }

    #[test]
    fn histogram_equals_samples_at_bucket_values() {
        // Samples placed at bucket bounds must give the same test as the histogram.
        let x = [10.0, 10.0, 20.0, 20.0, 20.0, 40.0];
        let y = [10.0, 10.0, 10.0, 20.0, 40.0];
        let hx = Histogram {
            buckets: vec![
                Bucket { le: Some(10.0), count: 2 },
                Bucket { le: Some(20.0), count: 3 },
                Bucket { le: Some(40.0), count: 1 },
                Bucket { le: None, count: 0 },
            ],
        };
        let hy = Histogram {
            buckets: vec![
                Bucket { le: Some(10.0), count: 3 },
                Bucket { le: Some(20.0), count: 1 },
                Bucket { le: Some(40.0), count: 1 },
                Bucket { le: None, count: 0 },
            ],
        };
        assert_eq!(mann_whitney_u(&x, &y), mann_whitney_u_histogram(&hx, &hy));
    }

    #[test]
    fn different_bucket_layouts_are_rejected() {
        let a = Histogram { buckets: vec![Bucket { le: Some(10.0), count: 1 }] };
        let b = Histogram { buckets: vec![Bucket { le: Some(20.0), count: 1 }] };
        assert!(matches!(mann_whitney_u_histogram(&a, &b), Err(StatsError::Invalid { .. })));
    }

    #[test]
    fn a_shifted_sample_is_significant() {
        let x: Vec<f64> = (0..200).map(|i| 100.0 + i as f64).collect();
        let y: Vec<f64> = (0..200).map(|i| i as f64).collect();
        let Ok(test) = mann_whitney_u(&x, &y) else { panic!() };
        assert!(test.p_value < 1e-6 && test.probability_x_greater > 0.7, "{test:?}");
    }
}
