//! Latency histograms with explicit buckets, as metrics systems (Prometheus, OpenTelemetry)
//! export them.

use serde::{Deserialize, Serialize};

use super::StatsError;

/// One bucket: the number of observations `x` with `previous bound < x <= le`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Inclusive upper bound; `null` (None) is +Inf and may only be the last bucket.
    pub le: Option<f64>,
    /// Observations in this bucket alone (not cumulative).
    pub count: u64,
}

/// A histogram: buckets in increasing order of `le`, counts per bucket (not cumulative).
///
/// JSON: `{"buckets": [{"le": 50.0, "count": 12}, {"le": 100.0, "count": 3}, {"le": null, "count": 1}]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub buckets: Vec<Bucket>,
}

impl Histogram {
    /// Builds a histogram from Prometheus-style cumulative counts (`_bucket{le=...}`), where
    /// `bounds[i]` is the `le` of `cumulative[i]` and `None` is `+Inf`.
    pub fn from_cumulative(bounds: &[Option<f64>], cumulative: &[u64]) -> Result<Histogram, StatsError> {
        if bounds.len() != cumulative.len() {
            return Err(StatsError::invalid(
                "buckets",
                format!("{} bounds but {} counts", bounds.len(), cumulative.len()),
            ));
        }
        let mut previous = 0u64;
        let mut buckets = Vec::with_capacity(bounds.len());
        for (i, (&le, &total)) in bounds.iter().zip(cumulative).enumerate() {
            let count = total.checked_sub(previous).ok_or_else(|| {
                StatsError::invalid(&format!("buckets[{i}].count"), "cumulative counts must not decrease")
            })?;
            previous = total;
            buckets.push(Bucket { le, count });
        }
        let histogram = Histogram { buckets };
        histogram.validate()?;
        Ok(histogram)
    }

    /// Checks bounds: finite, strictly increasing, only the last one may be +Inf (None).
    pub fn validate(&self) -> Result<(), StatsError> {
        let mut previous: Option<f64> = None;
        for (i, bucket) in self.buckets.iter().enumerate() {
            match bucket.le {
                None if i + 1 != self.buckets.len() => {
                    return Err(StatsError::invalid(&format!("buckets[{i}].le"), "only the last bucket may be +Inf (null)"))
                }
                None => {}
                Some(le) if !le.is_finite() => {
                    return Err(StatsError::invalid(&format!("buckets[{i}].le"), format!("must be finite, got {le}")))
                }
                Some(le) => {
                    if previous.is_some_and(|p| le <= p) {
                        return Err(StatsError::invalid(&format!("buckets[{i}].le"), "bounds must be strictly increasing"));
                    }
                    previous = Some(le);
                }
            }
        }
        Ok(())
    }

    /// Total number of observations (saturating).
    pub fn total(&self) -> u64 {
        self.buckets.iter().fold(0u64, |sum, b| sum.saturating_add(b.count))
    }

    /// Whether both histograms have the same bucket bounds.
    pub fn same_layout(&self, other: &Histogram) -> bool {
        self.buckets.len() == other.buckets.len()
            && self.buckets.iter().zip(&other.buckets).all(|(a, b)| a.le == b.le)
    }

    /// The q-quantile estimated like Prometheus' `histogram_quantile`: linear interpolation
    /// inside the bucket (the first bucket starts at 0 when its bound is positive); a quantile
    /// in the +Inf bucket is the highest finite bound. `None` when empty, invalid or q ∉ [0, 1].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&q) || self.validate().is_err() {
            return None;
        }
        let total = self.total();
        if total == 0 {
            return None;
        }
        let rank = q * total as f64;
        let mut below = 0u64;
        let mut lower = 0.0f64;
        let mut highest_finite = None;
        for (i, bucket) in self.buckets.iter().enumerate() {
            let Some(upper) = bucket.le else {
                return highest_finite;
            };
            if i == 0 && upper <= 0.0 {
                lower = upper;
            }
            let cumulative = below.saturating_add(bucket.count);
            if bucket.count > 0 && cumulative as f64 >= rank {
                let inside = (rank - below as f64) / bucket.count as f64;
                return Some(lower + (upper - lower) * inside);
            }
            below = cumulative;
            lower = upper;
            highest_finite = Some(upper);
        }
        highest_finite
    }
}

/// Count, mean and variance of ln(latency) of one arm: the latency comparison works on the log
/// scale, where a slower release is a shift and heavy tails are tamed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogMoments {
    pub count: u64,
    pub mean: f64,
    /// Sample variance (n − 1), plus the spread inside histogram buckets.
    pub variance: f64,
}

/// Latencies at or below this (ms) are taken as this on the log scale (a 0 ms or negative
/// bucket bound has no logarithm).
const LOG_FLOOR_MS: f64 = 1e-3;

impl Histogram {
    /// ln-scale moments. Each bucket stands for the geometric middle of its bounds
    /// `√(lo · le)` and adds the variance of a log-uniform spread inside it,
    /// `ln(le / lo)² / 12` (Sheppard's correction); the first bucket stands for `le / 2`, the
    /// +Inf bucket for the highest finite bound (an underestimate: conservative for a slower
    /// canary). Needs two observations and a finite bound.
    pub fn log_moments(&self) -> Result<LogMoments, StatsError> {
        self.validate()?;
        let highest = self.buckets.iter().filter_map(|b| b.le).next_back();
        let Some(highest) = highest else {
            return Err(StatsError::no_data("no finite latency bucket bound"));
        };
        let (mut n, mut sum, mut within) = (0.0f64, 0.0f64, 0.0f64);
        let mut points = Vec::with_capacity(self.buckets.len());
        let mut lower: Option<f64> = None;
        for bucket in &self.buckets {
            let previous = lower;
            lower = bucket.le.or(lower);
            if bucket.count == 0 {
                continue;
            }
            let (value, spread) = match (previous, bucket.le) {
                (_, None) => (highest.max(LOG_FLOOR_MS).ln(), 0.0),
                (Some(lo), Some(hi)) if lo > 0.0 => {
                    let width = (hi / lo).ln();
                    (0.5 * (lo.ln() + hi.ln()), width * width / 12.0)
                }
                (_, Some(hi)) => ((hi / 2.0).max(LOG_FLOOR_MS).ln(), 0.0),
            };
            let c = bucket.count as f64;
            n += c;
            sum += c * value;
            within += c * spread;
            points.push((c, value));
        }
        if n < 2.0 {
            return Err(StatsError::no_data(format!("{n} latency observations, need at least 2")));
        }
        let mean = sum / n;
        let squares: f64 = points.iter().map(|&(c, v)| c * (v - mean) * (v - mean)).sum();
        Ok(LogMoments { count: n as u64, mean, variance: squares / (n - 1.0) + within / n })
    }

    /// For every finite bound, the number of observations certainly above it (in later
    /// buckets), in bound order.
    pub fn counts_above(&self) -> Vec<(f64, u64)> {
        let mut above = self.total();
        let mut out = Vec::with_capacity(self.buckets.len());
        for bucket in &self.buckets {
            above = above.saturating_sub(bucket.count);
            if let Some(le) = bucket.le {
                out.push((le, above));
            }
        }
        out
    }

    /// The exact histogram of raw samples: one bucket per distinct value. NaN or infinite
    /// samples are an error.
    pub fn from_samples(values: &[f64]) -> Result<Histogram, StatsError> {
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(StatsError::invalid(&format!("values[{i}]"), "must be a finite number"));
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut buckets: Vec<Bucket> = Vec::new();
        for v in sorted {
            match buckets.last_mut() {
                Some(last) if last.le == Some(v) => last.count += 1,
                _ => buckets.push(Bucket { le: Some(v), count: 1 }),
            }
        }
        Ok(Histogram { buckets })
    }
}

/// [`LogMoments`] of raw samples (each at or below 1 µs counts as 1 µs).
pub fn sample_log_moments(values: &[f64]) -> Result<LogMoments, StatsError> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(StatsError::invalid(&format!("values[{i}]"), "must be a finite number"));
    }
    if values.len() < 2 {
        return Err(StatsError::no_data(format!("{} latency observations, need at least 2", values.len())));
    }
    let logs: Vec<f64> = values.iter().map(|v| v.max(LOG_FLOOR_MS).ln()).collect();
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    let variance = logs.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    Ok(LogMoments { count: values.len() as u64, mean, variance })
}

/// The q-quantile of samples with linear interpolation between order statistics (NumPy's
/// default `method="linear"`). NaN samples are an error; `None`-like cases return errors too.
pub fn sample_quantile(values: &[f64], q: f64) -> Result<f64, StatsError> {
    if !(0.0..=1.0).contains(&q) {
        return Err(StatsError::invalid("q", format!("must be within [0, 1], got {q}")));
    }
    if values.is_empty() {
        return Err(StatsError::no_data("no samples"));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(StatsError::invalid(&format!("values[{i}]"), "must be a finite number"));
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    let (Some(&a), Some(&b)) = (sorted.get(low), sorted.get(high)) else {
        return Err(StatsError::no_data("no samples"));
    };
    Ok(a + (b - a) * (position - low as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(buckets: &[(Option<f64>, u64)]) -> Histogram {
        Histogram { buckets: buckets.iter().map(|&(le, count)| Bucket { le, count }).collect() }
    }

    #[test]
    fn from_cumulative_differences_counts() {
        let got = Histogram::from_cumulative(&[Some(10.0), Some(20.0), None], &[3, 5, 6]);
        assert_eq!(got, Ok(h(&[(Some(10.0), 3), (Some(20.0), 2), (None, 1)])));
        assert!(Histogram::from_cumulative(&[Some(10.0), None], &[3, 2]).is_err());
        assert!(Histogram::from_cumulative(&[Some(10.0)], &[3, 2]).is_err());
    }

    #[test]
    fn validate_rejects_bad_bounds() {
        assert!(h(&[(Some(10.0), 1), (Some(10.0), 1)]).validate().is_err());
        assert!(h(&[(None, 1), (Some(10.0), 1)]).validate().is_err());
        assert!(h(&[(Some(f64::NAN), 1)]).validate().is_err());
        assert!(h(&[(Some(1.0), 1), (None, 1)]).validate().is_ok());
    }

    #[test]
    fn quantile_interpolates_like_prometheus() {
        let hist = h(&[(Some(100.0), 50), (Some(200.0), 50), (None, 0)]);
        assert_eq!(hist.quantile(0.5), Some(100.0));
        assert_eq!(hist.quantile(0.75), Some(150.0));
        assert_eq!(hist.quantile(0.25), Some(50.0));
        let tail = h(&[(Some(100.0), 50), (None, 50)]);
        assert_eq!(tail.quantile(0.99), Some(100.0));
        assert_eq!(Histogram::default().quantile(0.5), None);
        assert_eq!(hist.quantile(f64::NAN), None);
    }

    #[test]
    fn log_moments_of_samples_and_tail_counts() {
        // numpy: np.log([10, 20, 40]).mean() -> 2.995732273553991, .var(ddof=1) -> 0.4804530139182013
        let m = sample_log_moments(&[10.0, 20.0, 40.0]).unwrap_or(LogMoments { count: 0, mean: f64::NAN, variance: f64::NAN });
        assert_eq!(m.count, 3);
        assert!((m.mean - 2.995732273553991).abs() < 1e-14 && (m.variance - 0.4804530139182013).abs() < 1e-14, "{m:?}");
        assert!(sample_log_moments(&[1.0]).is_err());
        assert!(sample_log_moments(&[1.0, f64::INFINITY]).is_err());
        // At or below 1 µs counts as 1 µs: no ln(0).
        assert!(sample_log_moments(&[0.0, -5.0, 1.0]).is_ok_and(|m| m.mean.is_finite()));
        let hist = h(&[(Some(10.0), 3), (Some(20.0), 5), (None, 2)]);
        assert_eq!(hist.counts_above(), vec![(10.0, 7), (20.0, 2)]);
        assert_eq!(Histogram::from_samples(&[3.0, 1.0, 3.0]), Ok(h(&[(Some(1.0), 1), (Some(3.0), 2)])));
        assert!(h(&[(None, 5)]).log_moments().is_err(), "no finite bound: no log scale");
    }

    #[test]
    fn sample_quantile_matches_numpy_linear() {
        // numpy.quantile([1, 2, 3, 4], 0.99) == 3.97
        let got = sample_quantile(&[4.0, 1.0, 3.0, 2.0], 0.99).unwrap_or(f64::NAN);
        assert!((got - 3.97).abs() < 1e-12, "{got}");
        assert!(sample_quantile(&[], 0.5).is_err());
        assert!(sample_quantile(&[1.0, f64::NAN], 0.5).is_err());
        assert!(sample_quantile(&[1.0], 1.5).is_err());
    }
}
