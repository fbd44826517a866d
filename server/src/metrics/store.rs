//! Aggregates of metric events per flag / environment / arm.
//!
//! Each series keeps cumulative totals (for Prometheus) and 10-second buckets for the last hour,
//! each with an HDR histogram of latency, so any window's percentiles come from merging real
//! histograms rather than averaging percentiles.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::event::Event;
use crate::clock;

/// Width of the stored time buckets.
pub const BUCKET_MS: i64 = 10_000;
/// How long buckets are kept (the longest window that can be asked for).
pub const RETENTION_MS: i64 = 60 * 60 * 1000;
/// Most distinct (flag, env, arm) series; more are refused so a client cannot exhaust memory.
pub const MAX_SERIES: usize = 2_000;
/// Upper bounds (seconds) of the Prometheus latency histogram buckets (+Inf implied).
pub const PROM_BUCKETS_S: [f64; 11] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Latencies are recorded in units of 10 µs: two significant digits from 10 µs to an hour.
const UNITS_PER_MS: f64 = 100.0;
/// Most points in a returned time series (the bucket width grows with the window).
const MAX_POINTS: i64 = 60;

/// Cumulative totals of one series since start-up.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub requests: u64,
    pub errors: u64,
    pub latency_sum_ms: f64,
    /// Non-cumulative counts per `PROM_BUCKETS_S` bound, plus one for +Inf.
    pub le_counts: [u64; PROM_BUCKETS_S.len() + 1],
}

struct Bucket {
    requests: u64,
    errors: u64,
    latency_sum_ms: f64,
    hist: Histogram<u32>,
}

impl Bucket {
    fn new() -> Bucket {
        Bucket { requests: 0, errors: 0, latency_sum_ms: 0.0, hist: new_hist() }
    }
}

fn new_hist() -> Histogram<u32> {
    // Auto-resizing: memory grows only up to the largest latency actually seen.
    let mut h = Histogram::new(2).unwrap_or_else(|_| unreachable!("2 significant digits is valid"));
    h.auto(true);
    h
}

#[derive(Default)]
struct Series {
    totals: Totals,
    /// Bucket start (epoch ms) → bucket.
    buckets: BTreeMap<i64, Bucket>,
}

impl Series {
    fn record(&mut self, e: &Event, now_ms: i64) {
        let t = &mut self.totals;
        t.requests += 1;
        t.errors += u64::from(e.error);
        t.latency_sum_ms += e.latency_ms;
        let seconds = e.latency_ms / 1000.0;
        let idx = PROM_BUCKETS_S.iter().position(|b| seconds <= *b).unwrap_or(PROM_BUCKETS_S.len());
        t.le_counts[idx] += 1;

        let oldest = now_ms - RETENTION_MS;
        let start = e.ts_ms.div_euclid(BUCKET_MS) * BUCKET_MS;
        if start >= oldest {
            let b = self.buckets.entry(start).or_insert_with(Bucket::new);
            b.requests += 1;
            b.errors += u64::from(e.error);
            b.latency_sum_ms += e.latency_ms;
            // Auto-resizing: recording grows the range (saturating_record would clamp instead).
            let _ = b.hist.record((e.latency_ms * UNITS_PER_MS).round() as u64);
        }
        while let Some(entry) = self.buckets.first_entry() {
            if *entry.key() >= oldest - BUCKET_MS {
                break;
            }
            entry.remove();
        }
    }
}

/// Health of one arm over a window: what the dashboard shows and the canary gates judge. The
/// evaluator's type, so the server, its controller and the dashboard share one shape and one
/// conversion into the judgement's input (`judgement::canary_input`).
pub use edgeflag_evaluator::judgement::ArmSummary;
use edgeflag_evaluator::stats::Bucket as LatencyBucket;

/// One point of an arm's time series.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesPoint {
    pub start: String,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmReport {
    pub summary: ArmSummary,
    pub series: Vec<SeriesPoint>,
}

/// `GET /api/metrics` response.
#[derive(Debug, Clone, Serialize)]
pub struct WindowReport {
    pub flag: String,
    /// `null` when all environments are merged.
    pub env: Option<String>,
    pub window_seconds: i64,
    pub bucket_seconds: i64,
    pub generated_at: String,
    pub arms: BTreeMap<String, ArmReport>,
}

/// Ingestion counters (Prometheus).
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestCounters {
    pub accepted_events: u64,
    pub rejected_events: u64,
    pub rejected_batches: u64,
    pub series: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("too many distinct flag/env/arm series (limit {MAX_SERIES})")]
pub struct TooManySeries;

/// flag → env → arm → series; nested so lookups by `&str` need no allocation.
type SeriesMap = HashMap<String, HashMap<String, HashMap<String, Series>>>;

#[derive(Default)]
struct Inner {
    series: SeriesMap,
    count: usize,
    counters: IngestCounters,
}

/// The metrics store. Cheap to share behind an `Arc`; one short lock per batch.
#[derive(Default)]
pub struct MetricsStore {
    inner: Mutex<Inner>,
}

impl MetricsStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Aggregates are plain counters: a panic mid-update cannot break their invariants badly
        // enough to stop serving.
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Adds a validated batch atomically: all events or (when the series limit would be
    /// exceeded) none.
    pub fn ingest(&self, events: &[Event], now_ms: i64) -> Result<usize, TooManySeries> {
        let mut inner = self.lock();
        let mut new_series: Vec<(&str, &str, &str)> = Vec::new();
        for e in events {
            let exists = inner
                .series
                .get(e.flag.as_str())
                .and_then(|m| m.get(e.env.as_str()))
                .is_some_and(|m| m.contains_key(e.arm.as_str()));
            let triple = (e.flag.as_str(), e.env.as_str(), e.arm.as_str());
            if !exists && !new_series.contains(&triple) {
                new_series.push(triple);
                if inner.count + new_series.len() > MAX_SERIES {
                    inner.counters.rejected_batches += 1;
                    inner.counters.rejected_events += events.len() as u64;
                    return Err(TooManySeries);
                }
            }
        }
        inner.count += new_series.len();
        for e in events {
            let by_env = match inner.series.get_mut(e.flag.as_str()) {
                Some(m) => m,
                None => inner.series.entry(e.flag.clone()).or_default(),
            };
            let by_arm = match by_env.get_mut(e.env.as_str()) {
                Some(m) => m,
                None => by_env.entry(e.env.clone()).or_default(),
            };
            let series = match by_arm.get_mut(e.arm.as_str()) {
                Some(s) => s,
                None => by_arm.entry(e.arm.clone()).or_default(),
            };
            series.record(e, now_ms);
        }
        inner.counters.accepted_events += events.len() as u64;
        inner.counters.series = inner.count;
        Ok(events.len())
    }

    /// Counts a batch refused by validation.
    pub fn note_rejected(&self, events: usize) {
        let mut inner = self.lock();
        inner.counters.rejected_batches += 1;
        inner.counters.rejected_events += events as u64;
    }

    pub fn counters(&self) -> IngestCounters {
        self.lock().counters
    }

    /// Cumulative totals of every series, sorted by (flag, env, arm).
    pub fn totals(&self) -> Vec<((String, String, String), Totals)> {
        let inner = self.lock();
        let mut out: Vec<_> = inner
            .series
            .iter()
            .flat_map(|(flag, by_env)| {
                by_env.iter().flat_map(move |(env, by_arm)| {
                    by_arm.iter().map(move |(arm, s)| {
                        ((flag.clone(), env.clone(), arm.clone()), s.totals.clone())
                    })
                })
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The health of one arm over the last `window_ms` (all environments when `env` is None).
    /// This is what a canary gate judges.
    pub fn summary(&self, flag: &str, env: Option<&str>, arm: &str, window_ms: i64) -> ArmSummary {
        let now = clock::now_ms();
        let to = now.div_euclid(BUCKET_MS) * BUCKET_MS + BUCKET_MS;
        let from = to - round_up(window_ms.max(BUCKET_MS), BUCKET_MS);
        let inner = self.lock();
        let mut acc = Acc::default();
        for series in select(&inner.series, flag, env).filter(|(a, _)| *a == arm).map(|(_, s)| s) {
            acc.add_range(series, from, to);
        }
        acc.summary_with_latency()
    }

    /// One arm over the last `window_ms`, summed over the environments `envs` (`None` = all),
    /// with the merged latency histogram. What the canary controller judges.
    pub fn arm_window(&self, flag: &str, envs: Option<&[String]>, arm: &str, window_ms: i64, now_ms: i64) -> ArmSummary {
        let to = now_ms.div_euclid(BUCKET_MS) * BUCKET_MS + BUCKET_MS;
        let from = to - round_up(window_ms.clamp(BUCKET_MS, RETENTION_MS), BUCKET_MS);
        let inner = self.lock();
        let mut acc = Acc::default();
        if let Some(by_env) = inner.series.get(flag) {
            for (env, by_arm) in by_env {
                if envs.is_some_and(|want| !want.iter().any(|w| w == env)) {
                    continue;
                }
                if let Some(series) = by_arm.get(arm) {
                    acc.add_range(series, from, to);
                }
            }
        }
        drop(inner);
        acc.summary_with_latency()
    }

    /// Per-arm summaries and time series over the last `window_ms`, at most 60 points.
    pub fn report(&self, flag: &str, env: Option<&str>, window_ms: i64, now_ms: i64) -> WindowReport {
        let window_ms = round_up(window_ms.clamp(BUCKET_MS, RETENTION_MS), BUCKET_MS);
        let step = round_up((window_ms + MAX_POINTS - 1) / MAX_POINTS, BUCKET_MS).max(BUCKET_MS);
        let points = (window_ms + step - 1) / step;
        let to = now_ms.div_euclid(step) * step + step;
        let from = to - points * step;

        let inner = self.lock();
        let mut arms: BTreeMap<String, (Acc, Vec<Acc>)> = BTreeMap::new();
        for (arm, series) in select(&inner.series, flag, env) {
            let (total, pts) = arms
                .entry(arm.to_string())
                .or_insert_with(|| (Acc::default(), (0..points).map(|_| Acc::default()).collect()));
            total.add_range(series, from, to);
            for (i, p) in pts.iter_mut().enumerate() {
                let start = from + i as i64 * step;
                p.add_range(series, start, start + step);
            }
        }
        drop(inner);

        let arms = arms
            .into_iter()
            .map(|(arm, (total, pts))| {
                let series = pts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let s = p.summary();
                        SeriesPoint {
                            start: clock::ms_to_rfc3339(from + i as i64 * step),
                            requests: s.requests,
                            errors: s.errors,
                            error_rate: s.error_rate,
                            p99_ms: s.p99_ms,
                        }
                    })
                    .collect();
                (arm, ArmReport { summary: total.summary_with_latency(), series })
            })
            .collect();
        WindowReport {
            flag: flag.to_string(),
            env: env.map(str::to_string),
            window_seconds: window_ms / 1000,
            bucket_seconds: step / 1000,
            generated_at: clock::ms_to_rfc3339(now_ms),
            arms,
        }
    }
}

fn round_up(x: i64, to: i64) -> i64 {
    (x + to - 1).div_euclid(to) * to
}

/// The (arm, series) pairs of a flag in one or all environments.
fn select<'a>(
    map: &'a SeriesMap,
    flag: &str,
    env: Option<&'a str>,
) -> impl Iterator<Item = (&'a str, &'a Series)> + 'a {
    map.get(flag)
        .into_iter()
        .flat_map(move |by_env| {
            by_env.iter().filter(move |(e, _)| env.is_none_or(|want| want == e.as_str()))
        })
        .flat_map(|(_, by_arm)| by_arm.iter().map(|(a, s)| (a.as_str(), s)))
}

/// Sums buckets and merges their histograms.
#[derive(Default)]
struct Acc {
    requests: u64,
    errors: u64,
    latency_sum_ms: f64,
    hist: Option<Histogram<u32>>,
}

impl Acc {
    fn add_range(&mut self, series: &Series, from: i64, to: i64) {
        for (_, b) in series.buckets.range(from..to) {
            self.requests += b.requests;
            self.errors += b.errors;
            self.latency_sum_ms += b.latency_sum_ms;
            let hist = self.hist.get_or_insert_with(new_hist);
            // Auto-resizing histograms of the same precision always merge.
            let _ = hist.add(&b.hist);
        }
    }

    /// Counts and percentiles, without the histogram buckets (series points).
    fn summary(&self) -> ArmSummary {
        let q = |quantile: f64| {
            self.hist
                .as_ref()
                .filter(|h| !h.is_empty())
                .map(|h| h.value_at_quantile(quantile) as f64 / UNITS_PER_MS)
        };
        ArmSummary {
            requests: self.requests,
            errors: self.errors,
            error_rate: if self.requests == 0 { 0.0 } else { self.errors as f64 / self.requests as f64 },
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p99_ms: q(0.99),
            mean_latency_ms: (self.requests > 0).then(|| self.latency_sum_ms / self.requests as f64),
            latency_buckets: Vec::new(),
        }
    }

    /// The summary with the merged histogram's non-empty buckets: upper bound in ms (the
    /// highest value equivalent to the bucket's, so bounds of different arms line up) and count.
    fn summary_with_latency(&self) -> ArmSummary {
        let latency_buckets = self
            .hist
            .as_ref()
            .map(|h| {
                h.iter_recorded()
                    .map(|v| LatencyBucket {
                        le: Some(h.highest_equivalent(v.value_iterated_to()) as f64 / UNITS_PER_MS),
                        count: u64::from(v.count_at_value()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        ArmSummary { latency_buckets, ..self.summary() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts_ms: i64, arm: &str, error: bool, latency_ms: f64) -> Event {
        Event {
            ts_ms,
            flag: "f".into(),
            env: "prod".into(),
            arm: arm.into(),
            stage: None,
            error,
            latency_ms,
        }
    }

    #[test]
    fn window_summary_counts_errors_and_percentiles_per_arm() {
        let store = MetricsStore::new();
        let now = clock::now_ms();
        let mut events: Vec<Event> = (1..=100).map(|i| ev(now - 1000, "baseline", false, i as f64)).collect();
        events.extend((0..10).map(|i| ev(now - 2000, "canary", i < 3, 50.0)));
        assert_eq!(store.ingest(&events, now).ok(), Some(110));
        let report = store.report("f", Some("prod"), 5 * 60 * 1000, now);
        let base = &report.arms["baseline"].summary;
        assert_eq!(base.requests, 100);
        let p50 = base.p50_ms.unwrap_or(f64::NAN);
        assert!((49.0..=51.0).contains(&p50), "p50 {p50}");
        let p99 = base.p99_ms.unwrap_or(f64::NAN);
        assert!((98.0..=100.5).contains(&p99), "p99 {p99}");
        let canary = &report.arms["canary"].summary;
        assert_eq!((canary.requests, canary.errors), (10, 3));
        assert!((canary.error_rate - 0.3).abs() < 1e-9);
        let points: u64 = report.arms["canary"].series.iter().map(|p| p.requests).sum();
        assert_eq!(points, 10);
        assert_eq!(store.summary("f", Some("prod"), "canary", 60_000), canary.clone());
        // The window's latency histogram: every request in one bucket, bounds increasing.
        let buckets = &base.latency_buckets;
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 100);
        assert!(buckets.windows(2).all(|w| w[0].le < w[1].le), "{buckets:?}");
        assert!(buckets.iter().all(|b| b.le.is_some_and(|le| (1.0..=101.0).contains(&le))), "{buckets:?}");
        assert_eq!(canary.latency_buckets.len(), 1, "ten events of 50 ms share one bucket");
        assert_eq!(store.summary("f", Some("dev"), "canary", 60_000).requests, 0);
    }

    #[test]
    fn old_events_count_in_totals_but_not_in_windows() {
        let store = MetricsStore::new();
        let now = clock::now_ms();
        let _ = store.ingest(&[ev(now - 2 * RETENTION_MS, "baseline", false, 1.0)], now);
        assert_eq!(store.totals()[0].1.requests, 1);
        assert_eq!(store.report("f", None, RETENTION_MS, now).arms["baseline"].summary.requests, 0);
    }
}
