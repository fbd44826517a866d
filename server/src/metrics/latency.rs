//! The fixed latency-bucket layout of the metrics store.
//!
//! Every time bucket of every series counts latencies in the same 127 buckets, so a time
//! bucket has a fixed size (whatever latencies are posted) and the `le` bounds of any two
//! windows, arms or environments line up exactly, which the canary judgement's rank test needs.
//!
//! Bounds are ISO 3 preferred numbers, round values a person can read:
//! - `le = 0.1` ms: everything from 0 to 0.1 ms;
//! - 0.1 ms to 10 s: the R20 series (1.00, 1.12, 1.25, 1.40, 1.60, 1.80, 2.00, 2.24, 2.50,
//!   2.80, 3.15, 3.55, 4.00, 4.50, 5.00, 5.60, 6.30, 7.10, 8.00, 9.00 per decade): each bucket's
//!   upper bound is at most 14.3 % above its lower bound (12.2 % on average);
//! - 10 s to 4 000 s (past the 1 h maximum an event may carry): the R10 series (1.00, 1.25,
//!   1.60, 2.00, 2.50, 3.15, 4.00, 5.00, 6.30, 8.00 per decade), at most 28 % wide.
//!
//! Percentiles interpolate linearly inside a bucket (the evaluator's `Histogram::quantile`,
//! like Prometheus' `histogram_quantile`), so a reported percentile is within one bucket
//! width of the true one, and usually much closer.

use edgeflag_evaluator::stats::{Bucket, Histogram};

/// R20 mantissas × 100.
const R20: [u64; 20] = [100, 112, 125, 140, 160, 180, 200, 224, 250, 280, 315, 355, 400, 450, 500, 560, 630, 710, 800, 900];
/// R10 mantissas × 100.
const R10: [u64; 10] = [100, 125, 160, 200, 250, 315, 400, 500, 630, 800];

/// How many latency buckets a time bucket holds: R20 from 0.1 ms to 9 s (five decades of 20),
/// then R10 from 10 s to 4 000 s.
pub const BUCKETS: usize = 100 + 27;

/// Upper bounds in microseconds (integers, so the bounds in ms print as round decimals).
const BOUNDS_US: [u64; BUCKETS] = bounds_us();

const fn bounds_us() -> [u64; BUCKETS] {
    let mut out = [0u64; BUCKETS];
    // 0.1 ms, then R20 from 0.112 ms: decades of 100 µs, 1 ms, 10 ms, 100 ms, 1 s.
    let mut i = 0;
    let mut scale = 1;
    let mut decade = 0;
    while decade < 5 {
        let mut m = 0;
        while m < 20 {
            out[i] = R20[m] * scale;
            i += 1;
            m += 1;
        }
        scale *= 10;
        decade += 1;
    }
    // R10 from 10 s up to 4 000 s (scale is now 100 000: 100 × 100 000 µs = 10 s).
    while i < BUCKETS {
        let mut m = 0;
        while m < 10 && i < BUCKETS {
            out[i] = R10[m] * scale;
            i += 1;
            m += 1;
        }
        scale *= 10;
    }
    out
}

/// Upper bounds in milliseconds, as reported in `latency_buckets[].le`.
const BOUNDS_MS: [f64; BUCKETS] = bounds_ms();

const fn bounds_ms() -> [f64; BUCKETS] {
    let mut out = [0.0; BUCKETS];
    let mut i = 0;
    while i < BUCKETS {
        // Exact integers divided once: the nearest double to the decimal, which prints round.
        out[i] = BOUNDS_US[i] as f64 / 1000.0;
        i += 1;
    }
    out
}

/// The upper bound (ms) of bucket `i`.
pub fn upper_bound_ms(i: usize) -> f64 {
    BOUNDS_MS[i.min(BUCKETS - 1)]
}

/// The bucket of a latency in ms: the first whose upper bound is ≥ the value. Values above the
/// last bound (impossible after event validation) land in the last bucket; NaN in the first.
pub fn bucket_of(latency_ms: f64) -> usize {
    BOUNDS_MS.partition_point(|&le| le < latency_ms).min(BUCKETS - 1)
}

/// Per-bucket counts of a window, merged from time buckets.
#[derive(Clone)]
pub struct Counts(pub [u64; BUCKETS]);

impl Default for Counts {
    fn default() -> Self {
        Counts([0; BUCKETS])
    }
}

impl Counts {
    pub fn add(&mut self, other: &[u32; BUCKETS]) {
        for (sum, &c) in self.0.iter_mut().zip(other) {
            *sum += u64::from(c);
        }
    }

    /// The non-cumulative buckets from the one just below the first non-empty bucket to the
    /// last non-empty one: the empty bucket in front gives the first bucket its lower edge, so
    /// interpolation stays inside the bucket; empty buckets in between are listed too (they
    /// are few, and readers need not know the layout). `[]` when everything is empty.
    pub fn buckets(&self) -> Vec<Bucket> {
        let Some(first) = self.0.iter().position(|&c| c > 0) else {
            return Vec::new();
        };
        let last = self.0.iter().rposition(|&c| c > 0).unwrap_or(first);
        (first.saturating_sub(1)..=last)
            .map(|i| Bucket { le: Some(upper_bound_ms(i)), count: self.0[i] })
            .collect()
    }

    /// The q-quantile in ms, interpolated inside its bucket; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        Histogram { buckets: self.buckets() }.quantile(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_increasing_round_and_covers_every_accepted_latency() {
        assert!(BOUNDS_US.windows(2).all(|w| w[0] < w[1]), "{BOUNDS_US:?}");
        assert_eq!(upper_bound_ms(0), 0.1);
        assert_eq!(upper_bound_ms(1), 0.112);
        assert_eq!(upper_bound_ms(100), 10_000.0);
        assert_eq!(upper_bound_ms(BUCKETS - 1), 4_000_000.0);
        assert!(upper_bound_ms(BUCKETS - 1) >= super::super::event::MAX_LATENCY_MS);
        // Documented precision: ≤ 14.3 % wide up to 10 s, ≤ 28 % above.
        for i in 1..BUCKETS {
            let ratio = upper_bound_ms(i) / upper_bound_ms(i - 1);
            let limit = if upper_bound_ms(i) <= 10_000.0 { 1.143 } else { 1.2801 };
            assert!(ratio <= limit, "bucket {i}: ratio {ratio}");
        }
        // Round decimals in JSON.
        assert_eq!(serde_json::to_string(&upper_bound_ms(7)).ok().as_deref(), Some("0.224"));
        assert_eq!(serde_json::to_string(&upper_bound_ms(31)).ok().as_deref(), Some("3.55"));
    }

    #[test]
    fn values_land_in_the_first_bucket_whose_bound_holds_them() {
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(0.1), 0);
        assert_eq!(bucket_of(0.1001), 1);
        assert_eq!(bucket_of(300.0), bucket_of(315.0));
        assert_eq!(upper_bound_ms(bucket_of(300.0)), 315.0);
        assert_eq!(bucket_of(3_600_000.0), BUCKETS - 1);
        assert_eq!(bucket_of(f64::INFINITY), BUCKETS - 1);
        for i in 0..BUCKETS {
            assert_eq!(bucket_of(upper_bound_ms(i)), i);
        }
    }

    #[test]
    fn quantiles_interpolate_within_one_bucket() {
        let mut counts = Counts::default();
        let mut one = [0u32; BUCKETS];
        for v in 1..=1000 {
            one[bucket_of(v as f64)] += 1;
        }
        counts.add(&one);
        for (q, want) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = counts.quantile(q).unwrap_or(f64::NAN);
            assert!((got - want).abs() / want < 0.02, "q{q}: {got} vs {want}");
        }
        let buckets = counts.buckets();
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 1000);
        assert_eq!(buckets[0].count, 0, "an empty bucket gives the first its lower edge");
        assert_eq!(Counts::default().quantile(0.5), None);
        assert!(Counts::default().buckets().is_empty());
    }
}
