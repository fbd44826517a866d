//! Aggregates of metric events per flag / environment / arm, with a fixed memory ceiling.
//!
//! Each series keeps cumulative totals (for Prometheus) and two rings of time buckets, each
//! time bucket with a fixed latency histogram (the [`latency`](super::latency) layout): 10-second
//! buckets for the last 10 minutes and 1-minute buckets for the last hour; every event goes
//! into both. Windows up to 10 minutes are read from the 10-second ring, longer ones from the
//! 1-minute ring (rounded up to whole minutes), so any window's percentiles come from merged
//! histograms, never from averaged percentiles.
//!
//! Memory is bounded whatever is posted:
//! - a time bucket has a fixed size ([`SLOT_BYTES`]) and a series at most [`SLOTS_PER_SERIES`]
//!   of them, allocated when an event lands in them and freed once they age out;
//! - events are checked against the current flag file (when the store follows a
//!   [`FlagStore`]): unknown flags, undeclared environments and variants that are not
//!   variations of the flag are **refused** (counted apart, each with a problem for the
//!   client), so junk never creates a series and cannot lock out real flags;
//! - series per flag and series in all are capped ([`StoreLimits`]);
//! - series without events for [`StoreLimits::idle_evict_ms`] (an hour by default: every
//!   window is empty by then) are evicted, and when a cap is reached, series that the flag
//!   file no longer references (flag, environment or variation removed) are evicted first.
//!
//! The ceiling is therefore `max_series × SERIES_MAX_BYTES` ([`StoreLimits::ceiling_bytes`]);
//! `server/README.md` has the figure measured on a real process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use edgeflag_evaluator::{FlagFile, Problem};
use serde::Serialize;

use super::event::{Event, MAX_LABEL_LEN};
use super::latency::{self, Counts};
use crate::clock;
use crate::store::FlagStore;

/// Width of the fine time buckets (windows up to [`FINE_WINDOW_MS`]).
pub const BUCKET_MS: i64 = 10_000;
/// Width of the coarse time buckets (longer windows).
pub const COARSE_BUCKET_MS: i64 = 60_000;
/// Longest window read from the 10-second buckets.
pub const FINE_WINDOW_MS: i64 = 10 * 60 * 1000;
/// How long buckets are kept (the longest window that can be asked for).
pub const RETENTION_MS: i64 = 60 * 60 * 1000;
/// Default most distinct (flag, env, arm) series.
pub const MAX_SERIES: usize = 2_000;
/// Default most series of one flag.
pub const MAX_SERIES_PER_FLAG: usize = 64;
/// Default idle time after which a series is evicted: its last event has left every window.
pub const IDLE_EVICT_MS: i64 = RETENTION_MS + COARSE_BUCKET_MS;
/// Upper bounds (seconds) of the Prometheus latency histogram buckets (+Inf implied).
pub const PROM_BUCKETS_S: [f64; 11] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Refusals listed in a response (the rest are counted).
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// 64 × 10 s covers a 10-minute window plus the current bucket.
const FINE_SLOTS: usize = 64;
/// 64 × 1 min covers the hour plus the current bucket.
const COARSE_SLOTS: usize = 64;
/// Time buckets a series can hold at once.
pub const SLOTS_PER_SERIES: usize = FINE_SLOTS + COARSE_SLOTS;
/// Size of one time bucket (allocated on its own).
pub const SLOT_BYTES: usize = std::mem::size_of::<Slot>();
/// Fixed size of a series besides its time buckets and labels: the struct, its two rings of
/// pointers, and the map entries that hold it (estimated generously).
const SERIES_FIXED_BYTES: usize =
    std::mem::size_of::<Series>() + SLOTS_PER_SERIES * std::mem::size_of::<Option<Box<Slot>>>() + 3 * 64;
/// The most one series can hold: every time bucket allocated, three labels of maximum length.
pub const SERIES_MAX_BYTES: usize = SERIES_FIXED_BYTES + SLOTS_PER_SERIES * SLOT_BYTES + 3 * MAX_LABEL_LEN;
/// How often expired time buckets are freed and idle series evicted (during ingestion).
const SWEEP_EVERY_MS: i64 = 10_000;

/// Caps of the store (`--metrics-*` options).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoreLimits {
    /// Most series in all.
    pub max_series: usize,
    /// Most series of one flag (environments × arms).
    pub max_series_per_flag: usize,
    /// A series without events for this long is evicted.
    pub idle_evict_ms: i64,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits { max_series: MAX_SERIES, max_series_per_flag: MAX_SERIES_PER_FLAG, idle_evict_ms: IDLE_EVICT_MS }
    }
}

impl StoreLimits {
    /// The most the aggregates can hold, in bytes.
    pub fn ceiling_bytes(&self) -> usize {
        self.max_series.saturating_mul(SERIES_MAX_BYTES)
    }
}

/// Cumulative totals of one series since it was created.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub requests: u64,
    pub errors: u64,
    pub latency_sum_ms: f64,
    /// Non-cumulative counts per `PROM_BUCKETS_S` bound, plus one for +Inf.
    pub le_counts: [u64; PROM_BUCKETS_S.len() + 1],
}

/// One time bucket: fixed size whatever its latencies.
struct Slot {
    start: i64,
    requests: u32,
    errors: u32,
    latency_sum_ms: f64,
    counts: [u32; latency::BUCKETS],
}

impl Slot {
    fn new(start: i64) -> Box<Slot> {
        Box::new(Slot { start, requests: 0, errors: 0, latency_sum_ms: 0.0, counts: [0; latency::BUCKETS] })
    }

    fn reset(&mut self, start: i64) {
        self.start = start;
        self.requests = 0;
        self.errors = 0;
        self.latency_sum_ms = 0.0;
        self.counts = [0; latency::BUCKETS];
    }

    fn add(&mut self, error: bool, latency_ms: f64, bucket: usize) {
        // u32 per 10 s or 1 min of one series is far above any ingest rate; saturate anyway.
        self.requests = self.requests.saturating_add(1);
        self.errors = self.errors.saturating_add(u32::from(error));
        self.latency_sum_ms += latency_ms;
        self.counts[bucket] = self.counts[bucket].saturating_add(1);
    }
}

/// Which ring a window reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Fine,
    Coarse,
}

impl Tier {
    fn width(self) -> i64 {
        match self {
            Tier::Fine => BUCKET_MS,
            Tier::Coarse => COARSE_BUCKET_MS,
        }
    }
}

/// A window in whole buckets of one tier: `[from, to)`, `to` the end of the current bucket.
#[derive(Debug, Clone, Copy)]
struct Span {
    tier: Tier,
    from: i64,
    to: i64,
}

impl Span {
    fn new(window_ms: i64, now_ms: i64) -> Span {
        let window = window_ms.clamp(BUCKET_MS, RETENTION_MS);
        let tier = if window <= FINE_WINDOW_MS { Tier::Fine } else { Tier::Coarse };
        let w = tier.width();
        let to = now_ms.div_euclid(w) * w + w;
        Span { tier, from: to - round_up(window, w), to }
    }

    /// The buckets that start at or after `from_ms` (so the bucket a stage started in, which
    /// also holds the previous stage's traffic, is left out) up to the current one. Fine
    /// buckets while that is at most 10 minutes, then minute buckets (the first minute of the
    /// range may then drop out once); at most the retention (older buckets are gone).
    fn since(from_ms: i64, now_ms: i64) -> Span {
        let fine_to = now_ms.div_euclid(BUCKET_MS) * BUCKET_MS + BUCKET_MS;
        let tier = if fine_to - round_up(from_ms, BUCKET_MS) <= FINE_WINDOW_MS { Tier::Fine } else { Tier::Coarse };
        let w = tier.width();
        let to = now_ms.div_euclid(w) * w + w;
        let from = round_up(from_ms, w).max(to - round_up(RETENTION_MS, w));
        Span { tier, from: from.min(to), to }
    }
}

/// Time buckets in a fixed ring: bucket start `s` lives at `(s / width) mod len`.
struct Ring {
    slots: Box<[Option<Box<Slot>>]>,
}

impl Ring {
    fn new(len: usize) -> Ring {
        Ring { slots: (0..len).map(|_| None).collect() }
    }

    /// Adds one event to the bucket starting at `start`; returns how many slots were allocated.
    fn add(&mut self, width: i64, start: i64, error: bool, latency_ms: f64, bucket: usize) -> usize {
        let len = self.slots.len() as i64;
        let idx = (start.div_euclid(width)).rem_euclid(len) as usize;
        match &mut self.slots[idx] {
            Some(slot) if slot.start == start => {
                slot.add(error, latency_ms, bucket);
                0
            }
            Some(slot) if slot.start < start => {
                slot.reset(start);
                slot.add(error, latency_ms, bucket);
                0
            }
            // The slot holds a newer bucket: this one is older than the ring (callers check).
            Some(_) => 0,
            empty @ None => {
                let mut slot = Slot::new(start);
                slot.add(error, latency_ms, bucket);
                *empty = Some(slot);
                1
            }
        }
    }

    fn range(&self, from: i64, to: i64) -> impl Iterator<Item = &Slot> {
        self.slots.iter().flatten().map(|s| &**s).filter(move |s| s.start >= from && s.start < to)
    }

    /// Frees buckets that started before `cutoff`; returns how many.
    fn free_before(&mut self, cutoff: i64) -> usize {
        let mut freed = 0;
        for slot in self.slots.iter_mut() {
            if slot.as_ref().is_some_and(|s| s.start < cutoff) {
                *slot = None;
                freed += 1;
            }
        }
        freed
    }

    fn allocated(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}

struct Series {
    totals: Totals,
    fine: Ring,
    coarse: Ring,
    /// Server time of the last event (idle eviction).
    last_event_ms: i64,
}

impl Series {
    fn new(now_ms: i64) -> Series {
        Series {
            totals: Totals::default(),
            fine: Ring::new(FINE_SLOTS),
            coarse: Ring::new(COARSE_SLOTS),
            last_event_ms: now_ms,
        }
    }

    /// Records one event; returns how many time buckets were allocated.
    fn record(&mut self, e: &Event, now_ms: i64) -> usize {
        self.last_event_ms = now_ms;
        let t = &mut self.totals;
        t.requests += 1;
        t.errors += u64::from(e.error);
        t.latency_sum_ms += e.latency_ms;
        let seconds = e.latency_ms / 1000.0;
        let idx = PROM_BUCKETS_S.iter().position(|b| seconds <= *b).unwrap_or(PROM_BUCKETS_S.len());
        t.le_counts[idx] += 1;

        // An edge clock ahead of ours (validation allows 5 minutes) counts as now.
        let ts = e.ts_ms.min(now_ms);
        let bucket = latency::bucket_of(e.latency_ms);
        let mut allocated = 0;
        let fine_start = ts.div_euclid(BUCKET_MS) * BUCKET_MS;
        if fine_start > now_ms - FINE_SLOTS as i64 * BUCKET_MS {
            allocated += self.fine.add(BUCKET_MS, fine_start, e.error, e.latency_ms, bucket);
        }
        let coarse_start = ts.div_euclid(COARSE_BUCKET_MS) * COARSE_BUCKET_MS;
        if coarse_start >= now_ms - RETENTION_MS - COARSE_BUCKET_MS {
            allocated += self.coarse.add(COARSE_BUCKET_MS, coarse_start, e.error, e.latency_ms, bucket);
        }
        allocated
    }

    fn ring(&self, tier: Tier) -> &Ring {
        match tier {
            Tier::Fine => &self.fine,
            Tier::Coarse => &self.coarse,
        }
    }

    /// Frees time buckets no window can read any more; returns how many.
    fn free_expired(&mut self, now_ms: i64) -> usize {
        self.fine.free_before(now_ms - FINE_SLOTS as i64 * BUCKET_MS)
            + self.coarse.free_before(now_ms - RETENTION_MS - COARSE_BUCKET_MS)
    }

    fn allocated(&self) -> usize {
        self.fine.allocated() + self.coarse.allocated()
    }
}

/// Health of one arm over a window: what the dashboard shows and the canary gates judge. The
/// evaluator's type, so the server, its controller and the dashboard share one shape and one
/// conversion into the judgement's input (`judgement::canary_input`).
pub use edgeflag_evaluator::judgement::ArmSummary;

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

/// Why an event was refused (not counted in any series).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// The flag is not in the current flag file.
    UnknownFlag,
    /// The environment is not declared in the current flag file.
    UnknownEnv,
    /// The variant is not a variation of the flag.
    UnknownVariant,
    /// The flag already has `max_series_per_flag` series.
    FlagSeriesLimit,
    /// The store already has `max_series` series.
    SeriesLimit,
}

impl RefusalReason {
    pub const ALL: [RefusalReason; 5] = [
        RefusalReason::UnknownFlag,
        RefusalReason::UnknownEnv,
        RefusalReason::UnknownVariant,
        RefusalReason::FlagSeriesLimit,
        RefusalReason::SeriesLimit,
    ];

    /// The `reason` label of `edgeflag_metric_events_refused_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::UnknownFlag => "unknown_flag",
            RefusalReason::UnknownEnv => "unknown_env",
            RefusalReason::UnknownVariant => "unknown_variant",
            RefusalReason::FlagSeriesLimit => "flag_series_limit",
            RefusalReason::SeriesLimit => "series_limit",
        }
    }

    /// Position in [`RefusalReason::ALL`] and [`IngestCounters::refused_events`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What became of a batch: how many events were counted, how many refused and why (the first
/// [`MAX_LISTED_PROBLEMS`] with their paths).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ingested {
    pub accepted: usize,
    pub refused: usize,
    pub problems: Vec<Problem>,
}

impl Ingested {
    fn refuse(&mut self, index: usize, field: &str, message: impl FnOnce() -> String) {
        self.refused += 1;
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            let path = if field.is_empty() { format!("events[{index}]") } else { format!("events[{index}].{field}") };
            self.problems.push(Problem { path, message: message() });
        }
    }
}

/// Ingestion counters (Prometheus).
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestCounters {
    pub accepted_events: u64,
    pub rejected_events: u64,
    pub rejected_batches: u64,
    /// Per [`RefusalReason`], in `RefusalReason::ALL` order.
    pub refused_events: [u64; 5],
    pub evicted_series: u64,
    pub series: usize,
    /// Estimated bytes held by the aggregates (time buckets, series, labels).
    pub bytes: usize,
    pub max_series: usize,
}

/// What the current flag file allows: flag keys with their variations, declared environments.
struct Catalog {
    version: u64,
    /// Empty: no environment declared, so any name is valid (as for evaluation).
    envs: Vec<String>,
    flags: HashMap<String, Vec<String>>,
}

impl Catalog {
    fn new(version: u64, file: &FlagFile) -> Catalog {
        Catalog {
            version,
            envs: file.environments.clone(),
            flags: file
                .flags
                .iter()
                .map(|f| (f.key.clone(), f.variations.iter().map(|v| v.name.clone()).collect()))
                .collect(),
        }
    }

    /// Whether events for this series can still arrive.
    fn references(&self, flag: &str, env: &str, arm: &str) -> bool {
        self.flags.get(flag).is_some_and(|variations| {
            (self.envs.is_empty() || self.envs.iter().any(|e| e == env))
                && (arm == "canary" || arm == "baseline" || variations.iter().any(|v| v == arm))
        })
    }

    /// Refuses an event the flag file does not know.
    fn check(&self, e: &Event, index: usize, out: &mut Ingested) -> Option<RefusalReason> {
        let Some(variations) = self.flags.get(e.flag.as_str()) else {
            out.refuse(index, "flag", || {
                format!("unknown flag {:?}: not in the current flag file (version {}); not counted", e.flag, self.version)
            });
            return Some(RefusalReason::UnknownFlag);
        };
        if !self.envs.is_empty() && !self.envs.contains(&e.env) {
            out.refuse(index, "env", || {
                format!("environment {:?} is not declared in the flag file ({}); not counted", e.env, self.envs.join(", "))
            });
            return Some(RefusalReason::UnknownEnv);
        }
        // `arm` is validated to canary/baseline when parsed; anything else came from `variant`.
        if e.arm != "canary" && e.arm != "baseline" && !variations.contains(&e.arm) {
            out.refuse(index, "variant", || {
                format!("{:?} is not a variation of flag {:?} ({}); not counted", e.arm, e.flag, variations.join(", "))
            });
            return Some(RefusalReason::UnknownVariant);
        }
        None
    }
}

/// arm → series.
type ArmMap = HashMap<String, Series>;

/// The series of one flag.
#[derive(Default)]
struct FlagSeries {
    count: usize,
    envs: HashMap<String, ArmMap>,
}

#[derive(Default)]
struct Inner {
    /// flag → env → arm → series; nested so lookups by `&str` need no allocation.
    flags: HashMap<String, FlagSeries>,
    count: usize,
    /// Allocated time buckets and label bytes, for the byte estimate.
    slots: usize,
    label_bytes: usize,
    counters: IngestCounters,
    last_sweep_ms: i64,
    /// Set when a full scan found nothing to evict; cleared by a sweep or a new flag file, so
    /// a client hammering the cap costs one scan, not one per event.
    no_victim: bool,
    catalog_version: Option<u64>,
}

/// The metrics store. Cheap to share behind an `Arc`; one short lock per batch.
#[derive(Default)]
pub struct MetricsStore {
    inner: Mutex<Inner>,
    limits: StoreLimits,
    /// The flag file events are checked against; `None` counts every well-formed event.
    flags: Option<Arc<FlagStore>>,
    catalog: Mutex<Option<Arc<Catalog>>>,
}

impl MetricsStore {
    /// A store that counts every well-formed event (no flag file to check against), with the
    /// default caps.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that refuses events the current version of `flags` does not know.
    pub fn following(flags: Arc<FlagStore>, limits: StoreLimits) -> Self {
        MetricsStore { limits, flags: Some(flags), ..Self::default() }
    }

    /// A store with other caps that counts every well-formed event.
    pub fn with_limits(limits: StoreLimits) -> Self {
        MetricsStore { limits, ..Self::default() }
    }

    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Aggregates are plain counters: a panic mid-update cannot break their invariants badly
        // enough to stop serving.
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The catalog of the current flag file (rebuilt when the version changes).
    fn catalog(&self) -> Option<Arc<Catalog>> {
        let snapshot = self.flags.as_ref()?.current();
        let mut cached = match self.catalog.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match &*cached {
            Some(c) if c.version == snapshot.version => Some(c.clone()),
            _ => {
                let fresh = Arc::new(Catalog::new(snapshot.version, snapshot.flags.file()));
                *cached = Some(fresh.clone());
                Some(fresh)
            }
        }
    }

    /// Counts a validated batch. Events the flag file does not know, or that would need a
    /// series beyond a cap, are refused one by one (with a problem each); the others count.
    pub fn ingest(&self, events: &[Event], now_ms: i64) -> Ingested {
        let catalog = self.catalog();
        let limits = self.limits;
        let mut out = Ingested::default();
        let mut inner = self.lock();
        let inner = &mut *inner;
        if catalog.as_ref().map(|c| c.version) != inner.catalog_version {
            inner.catalog_version = catalog.as_ref().map(|c| c.version);
            inner.no_victim = false;
        }
        if now_ms - inner.last_sweep_ms >= SWEEP_EVERY_MS {
            inner.sweep(now_ms, limits.idle_evict_ms);
        }
        let mut allocated = 0;
        for (i, e) in events.iter().enumerate() {
            if let Some(c) = &catalog {
                if let Some(reason) = c.check(e, i, &mut out) {
                    inner.counters.refused_events[reason.index()] += 1;
                    continue;
                }
            }
            if let Some(series) = inner.series_mut(e) {
                allocated += series.record(e, now_ms);
                out.accepted += 1;
                continue;
            }
            match inner.make_room(&e.flag, &limits, catalog.as_deref(), now_ms) {
                Ok(()) => {
                    allocated += inner.create(e, now_ms).record(e, now_ms);
                    out.accepted += 1;
                }
                Err(reason) => {
                    inner.counters.refused_events[reason.index()] += 1;
                    let (max_all, max_flag) = (limits.max_series, limits.max_series_per_flag);
                    out.refuse(i, "", || match reason {
                        RefusalReason::FlagSeriesLimit => format!(
                            "flag {:?} already has {max_flag} series (environment × arm), the per-flag limit; not counted",
                            e.flag
                        ),
                        _ => format!("the store already holds {max_all} series, its limit; not counted"),
                    });
                }
            }
        }
        inner.slots += allocated;
        inner.counters.accepted_events += out.accepted as u64;
        inner.counters.series = inner.count;
        out
    }

    /// Counts a batch refused by validation.
    pub fn note_rejected(&self, events: usize) {
        let mut inner = self.lock();
        inner.counters.rejected_batches += 1;
        inner.counters.rejected_events += events as u64;
    }

    pub fn counters(&self) -> IngestCounters {
        let inner = self.lock();
        IngestCounters { bytes: inner.bytes(), max_series: self.limits.max_series, ..inner.counters }
    }

    /// Cumulative totals of every series, sorted by (flag, env, arm).
    pub fn totals(&self) -> Vec<((String, String, String), Totals)> {
        let inner = self.lock();
        let mut out: Vec<_> = inner
            .flags
            .iter()
            .flat_map(|(flag, fs)| {
                fs.envs.iter().flat_map(move |(env, by_arm)| {
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
        let span = Span::new(window_ms, clock::now_ms());
        let inner = self.lock();
        let mut acc = Acc::default();
        for series in select(&inner.flags, flag, env).filter(|(a, _)| *a == arm).map(|(_, s)| s) {
            acc.add_range(series, span.tier, span.from, span.to);
        }
        drop(inner);
        acc.summary_with_latency()
    }

    /// One arm over the last `window_ms`, summed over the environments `envs` (`None` = all),
    /// with the merged latency histogram. What the canary controller judges.
    pub fn arm_window(&self, flag: &str, envs: Option<&[String]>, arm: &str, window_ms: i64, now_ms: i64) -> ArmSummary {
        self.arm_span(flag, envs, arm, Span::new(window_ms, now_ms))
    }

    /// One arm summed from the first bucket that starts at or after `from_ms` to `now_ms`
    /// (see `Span::since`), over the environments `envs` (`None` = all): the totals since a
    /// canary stage started, which the controller judges. Empty when no bucket starts
    /// between `from_ms` and `now_ms`.
    pub fn arm_since(&self, flag: &str, envs: Option<&[String]>, arm: &str, from_ms: i64, now_ms: i64) -> ArmSummary {
        self.arm_span(flag, envs, arm, Span::since(from_ms, now_ms))
    }

    fn arm_span(&self, flag: &str, envs: Option<&[String]>, arm: &str, span: Span) -> ArmSummary {
        let inner = self.lock();
        let mut acc = Acc::default();
        if let Some(fs) = inner.flags.get(flag) {
            for (env, by_arm) in &fs.envs {
                if envs.is_some_and(|want| !want.iter().any(|w| w == env)) {
                    continue;
                }
                if let Some(series) = by_arm.get(arm) {
                    acc.add_range(series, span.tier, span.from, span.to);
                }
            }
        }
        drop(inner);
        acc.summary_with_latency()
    }

    /// Per-arm summaries and time series over the last `window_ms`: 10-second points up to
    /// 10 minutes, 1-minute points beyond (at most 60 either way).
    pub fn report(&self, flag: &str, env: Option<&str>, window_ms: i64, now_ms: i64) -> WindowReport {
        let span = Span::new(window_ms, now_ms);
        let step = span.tier.width();
        let points = (span.to - span.from) / step;

        let inner = self.lock();
        let mut arms: BTreeMap<String, (Acc, Vec<Acc>)> = BTreeMap::new();
        for (arm, series) in select(&inner.flags, flag, env) {
            let (total, pts) = arms
                .entry(arm.to_string())
                .or_insert_with(|| (Acc::default(), (0..points).map(|_| Acc::default()).collect()));
            total.add_range(series, span.tier, span.from, span.to);
            for slot in series.ring(span.tier).range(span.from, span.to) {
                pts[((slot.start - span.from) / step) as usize].add(slot);
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
                            start: clock::ms_to_rfc3339(span.from + i as i64 * step),
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
            window_seconds: (span.to - span.from) / 1000,
            bucket_seconds: step / 1000,
            generated_at: clock::ms_to_rfc3339(now_ms),
            arms,
        }
    }
}

impl Inner {
    fn series_mut(&mut self, e: &Event) -> Option<&mut Series> {
        self.flags.get_mut(e.flag.as_str())?.envs.get_mut(e.env.as_str())?.get_mut(e.arm.as_str())
    }

    fn create(&mut self, e: &Event, now_ms: i64) -> &mut Series {
        self.count += 1;
        self.label_bytes += e.flag.len() + e.env.len() + e.arm.len();
        let fs = self.flags.entry(e.flag.clone()).or_default();
        fs.count += 1;
        fs.envs.entry(e.env.clone()).or_default().entry(e.arm.clone()).or_insert_with(|| Series::new(now_ms))
    }

    /// Frees room for one more series of `flag` under both caps, evicting what no event can
    /// reach any more (the flag file dropped its flag, environment or variation) or what has
    /// been idle past the eviction time, least recently used first.
    fn make_room(
        &mut self,
        flag: &str,
        limits: &StoreLimits,
        catalog: Option<&Catalog>,
        now_ms: i64,
    ) -> Result<(), RefusalReason> {
        let evictable = |f: &str, env: &str, arm: &str, s: &Series| {
            catalog.is_some_and(|c| !c.references(f, env, arm)) || now_ms - s.last_event_ms >= limits.idle_evict_ms
        };
        if self.flags.get(flag).is_some_and(|fs| fs.count >= limits.max_series_per_flag) {
            let victim = self.flags.get(flag).and_then(|fs| {
                fs.envs
                    .iter()
                    .flat_map(|(env, arms)| arms.iter().map(move |(arm, s)| (env, arm, s)))
                    .filter(|(env, arm, s)| evictable(flag, env, arm, s))
                    .min_by_key(|(_, _, s)| s.last_event_ms)
                    .map(|(env, arm, _)| (flag.to_string(), env.clone(), arm.clone()))
            });
            match victim {
                Some(v) => self.evict(&v),
                None => return Err(RefusalReason::FlagSeriesLimit),
            }
        }
        if self.count >= limits.max_series {
            if self.no_victim {
                return Err(RefusalReason::SeriesLimit);
            }
            let victim = self
                .flags
                .iter()
                .flat_map(|(f, fs)| {
                    fs.envs.iter().flat_map(move |(env, arms)| arms.iter().map(move |(arm, s)| (f, env, arm, s)))
                })
                .filter(|(f, env, arm, s)| evictable(f, env, arm, s))
                .min_by_key(|(_, _, _, s)| s.last_event_ms)
                .map(|(f, env, arm, _)| (f.clone(), env.clone(), arm.clone()));
            match victim {
                Some(v) => self.evict(&v),
                None => {
                    self.no_victim = true;
                    return Err(RefusalReason::SeriesLimit);
                }
            }
        }
        Ok(())
    }

    fn evict(&mut self, (flag, env, arm): &(String, String, String)) {
        let Some(fs) = self.flags.get_mut(flag) else { return };
        let Some(arms) = fs.envs.get_mut(env) else { return };
        let Some(series) = arms.remove(arm) else { return };
        if arms.is_empty() {
            fs.envs.remove(env);
        }
        fs.count -= 1;
        if fs.count == 0 {
            self.flags.remove(flag);
        }
        self.count -= 1;
        self.slots -= series.allocated();
        self.label_bytes -= flag.len() + env.len() + arm.len();
        self.counters.evicted_series += 1;
        self.counters.series = self.count;
    }

    /// Frees expired time buckets and evicts series idle for `idle_ms`.
    fn sweep(&mut self, now_ms: i64, idle_ms: i64) {
        self.last_sweep_ms = now_ms;
        self.no_victim = false;
        let mut idle = Vec::new();
        let mut freed = 0;
        for (flag, fs) in &mut self.flags {
            for (env, arms) in &mut fs.envs {
                for (arm, series) in arms.iter_mut() {
                    if now_ms - series.last_event_ms >= idle_ms {
                        idle.push((flag.clone(), env.clone(), arm.clone()));
                    } else {
                        freed += series.free_expired(now_ms);
                    }
                }
            }
        }
        self.slots -= freed;
        for key in &idle {
            self.evict(key);
        }
    }

    fn bytes(&self) -> usize {
        self.slots * SLOT_BYTES + self.count * SERIES_FIXED_BYTES + self.label_bytes
    }
}

fn round_up(x: i64, to: i64) -> i64 {
    (x + to - 1).div_euclid(to) * to
}

/// The (arm, series) pairs of a flag in one or all environments.
fn select<'a>(
    map: &'a HashMap<String, FlagSeries>,
    flag: &str,
    env: Option<&'a str>,
) -> impl Iterator<Item = (&'a str, &'a Series)> + 'a {
    map.get(flag)
        .into_iter()
        .flat_map(move |fs| fs.envs.iter().filter(move |(e, _)| env.is_none_or(|want| want == e.as_str())))
        .flat_map(|(_, by_arm)| by_arm.iter().map(|(a, s)| (a.as_str(), s)))
}

/// Sums time buckets and merges their histograms.
#[derive(Default)]
struct Acc {
    requests: u64,
    errors: u64,
    latency_sum_ms: f64,
    counts: Counts,
}

impl Acc {
    fn add(&mut self, slot: &Slot) {
        self.requests += u64::from(slot.requests);
        self.errors += u64::from(slot.errors);
        self.latency_sum_ms += slot.latency_sum_ms;
        self.counts.add(&slot.counts);
    }

    fn add_range(&mut self, series: &Series, tier: Tier, from: i64, to: i64) {
        for slot in series.ring(tier).range(from, to) {
            self.add(slot);
        }
    }

    /// Counts and percentiles, without the histogram buckets (series points).
    fn summary(&self) -> ArmSummary {
        let q = |quantile: f64| if self.requests == 0 { None } else { self.counts.quantile(quantile) };
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

    /// The summary with the window's latency histogram (the fixed layout's buckets from just
    /// below the first non-empty one to the last non-empty one; bounds line up across arms).
    fn summary_with_latency(&self) -> ArmSummary {
        ArmSummary { latency_buckets: self.counts.buckets(), ..self.summary() }
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
        assert_eq!(store.ingest(&events, now).accepted, 110);
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
        assert_eq!(report.bucket_seconds, 10);
        assert_eq!(report.arms["canary"].series.len(), 30);
        assert_eq!(store.summary("f", Some("prod"), "canary", 60_000), canary.clone());
        // The window's latency histogram: every request in one bucket, bounds increasing.
        let buckets = &base.latency_buckets;
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 100);
        assert!(buckets.windows(2).all(|w| w[0].le < w[1].le), "{buckets:?}");
        assert!(buckets.iter().all(|b| b.le.is_some_and(|le| (0.9..=100.0).contains(&le))), "{buckets:?}");
        // Ten events of 50 ms share the bucket (45, 50], listed after its empty lower neighbour.
        let le: Vec<_> = canary.latency_buckets.iter().map(|b| (b.le, b.count)).collect();
        assert_eq!(le, vec![(Some(45.0), 0), (Some(50.0), 10)]);
        assert_eq!(store.summary("f", Some("dev"), "canary", 60_000).requests, 0);
    }

    #[test]
    fn old_events_count_in_totals_but_not_in_windows() {
        let store = MetricsStore::new();
        let now = clock::now_ms();
        let _ = store.ingest(&[ev(now - 2 * RETENTION_MS, "baseline", false, 1.0)], now);
        assert_eq!(store.totals()[0].1.requests, 1);
        assert_eq!(store.report("f", None, RETENTION_MS, now).arms["baseline"].summary.requests, 0);
        assert_eq!(store.counters().bytes, SERIES_FIXED_BYTES + 1 + 4 + 8, "no time bucket allocated");
    }

    #[test]
    fn long_windows_read_minute_buckets_and_short_ones_ten_second_buckets() {
        let store = MetricsStore::new();
        let now = 1_800_000_000_000 + 35_000; // 35 s into a minute
        // One event 20 minutes ago, one 5 minutes ago, one now.
        let events = [ev(now - 20 * 60_000, "canary", true, 10.0), ev(now - 5 * 60_000, "canary", false, 20.0), ev(now, "canary", false, 30.0)];
        assert_eq!(store.ingest(&events, now).accepted, 3);
        let short = store.report("f", None, 10 * 60_000, now);
        assert_eq!((short.bucket_seconds, short.window_seconds), (10, 600));
        assert_eq!(short.arms["canary"].summary.requests, 2);
        let long = store.report("f", None, 30 * 60_000, now);
        assert_eq!((long.bucket_seconds, long.window_seconds), (60, 1800));
        assert_eq!(long.arms["canary"].series.len(), 30);
        assert_eq!(long.arms["canary"].summary.requests, 3);
        assert_eq!(long.arms["canary"].summary.errors, 1);
        // A window of 11 minutes is rounded to whole minutes.
        assert_eq!(store.report("f", None, 11 * 60_000 - 5_000, now).window_seconds, 660);
        assert_eq!(store.arm_window("f", None, "canary", RETENTION_MS, now).requests, 3);
    }

    /// The controller's range: from the first bucket that starts at or after the stage start
    /// (the bucket the stage started in also holds the previous stage), never a sliding window
    /// while the stage is younger than the retention.
    #[test]
    fn arm_since_sums_whole_buckets_from_the_stage_start() {
        let store = MetricsStore::new();
        let minute = 1_800_000_000_000; // a whole minute (epoch ms)
        let start = minute + 5_000; // the stage started 5 s into a 10 s bucket
        let at = |ms: i64, error: bool| ev(ms, "canary", error, 10.0);
        // Two errors in the start's bucket, one before the start and one after.
        assert_eq!(store.ingest(&[at(start - 2_000, true), at(start + 1_000, true)], start + 1_000).accepted, 2);
        let since = |now_ms: i64| store.arm_since("f", None, "canary", start, now_ms);
        assert_eq!(since(start + 1_000).requests, 0);
        // Then one request per 10 s bucket, judged as it comes, for 11m40s.
        let mut counts = Vec::new();
        for k in 1..=70 {
            let now = minute + k * 10_000;
            assert_eq!(store.ingest(&[at(now, false)], now).accepted, 1);
            let s = since(now);
            assert_eq!(s.errors, 0, "the start's bucket is left out");
            counts.push(s.requests);
        }
        // 10 s buckets up to 10 minutes: every bucket after the start's, the range only grows.
        assert_eq!(counts[..60], (1..=60).collect::<Vec<u64>>()[..]);
        // Then minute buckets from the first whole minute after the start (5 requests drop out
        // once), growing again.
        assert_eq!(counts[60..], (56..=65).collect::<Vec<u64>>()[..]);
        let now = minute + 70 * 10_000;
        // A start in the current bucket or later: nothing yet; just before it: that bucket.
        assert_eq!(store.arm_since("f", None, "canary", now + 1, now).requests, 0);
        assert_eq!(store.arm_since("f", None, "canary", now + 60_000, now).requests, 0);
        assert_eq!(store.arm_since("f", None, "canary", now - 1, now).requests, 1);
        // A stage older than the retention reads the retained hour.
        assert_eq!(store.arm_since("f", None, "canary", now - 5 * RETENTION_MS, now).requests, 72);
    }

    #[test]
    fn future_timestamps_count_now_and_memory_per_series_is_fixed() {
        let store = MetricsStore::new();
        let now = 1_800_000_000_000;
        // An edge 4 minutes ahead: counted in the current bucket, not four minutes from now.
        assert_eq!(store.ingest(&[ev(now + 240_000, "canary", false, 5.0)], now).accepted, 1);
        assert_eq!(store.report("f", None, 10_000, now).arms["canary"].summary.requests, 1);
        // One event in every 10 s bucket of the last 640 s and every minute of the hour, with
        // latencies walking the whole layout: every slot of the series is allocated, never more.
        let mut events = Vec::new();
        for k in 0..(RETENTION_MS / BUCKET_MS + 10) {
            events.push(ev(now - k * BUCKET_MS, "baseline", false, latency::upper_bound_ms(k as usize % latency::BUCKETS)));
        }
        for _ in 0..3 {
            assert_eq!(store.ingest(&events, now).accepted, events.len());
        }
        let inner = store.lock();
        let series = &inner.flags["f"].envs["prod"]["baseline"];
        assert_eq!(series.fine.allocated(), FINE_SLOTS);
        assert!(series.coarse.allocated() <= COARSE_SLOTS);
        assert!(inner.slots <= 2 * SLOTS_PER_SERIES);
        assert!(inner.bytes() <= 2 * SERIES_MAX_BYTES, "{} > {}", inner.bytes(), 2 * SERIES_MAX_BYTES);
    }

    #[test]
    fn per_flag_and_global_caps_refuse_new_series_but_keep_counting_existing_ones() {
        let limits = StoreLimits { max_series: 5, max_series_per_flag: 3, idle_evict_ms: IDLE_EVICT_MS };
        let store = MetricsStore::with_limits(limits);
        let now = 1_800_000_000_000;
        let at = |flag: &str, env: &str| Event { flag: flag.into(), env: env.into(), ..ev(now, "canary", false, 1.0) };
        let batch: Vec<Event> = ["a", "b", "c", "d"].iter().map(|env| at("x", env)).collect();
        let out = store.ingest(&batch, now);
        assert_eq!((out.accepted, out.refused), (3, 1));
        assert_eq!(out.problems[0].path, "events[3]");
        assert!(out.problems[0].message.contains("per-flag limit"), "{:?}", out.problems);
        let out = store.ingest(&[at("y", "a"), at("y", "b"), at("y", "c"), at("x", "a")], now);
        assert_eq!((out.accepted, out.refused), (3, 1), "{:?}", out.problems);
        assert!(out.problems[0].message.contains("its limit"), "{:?}", out.problems);
        let c = store.counters();
        assert_eq!(c.series, 5);
        assert_eq!(c.refused_events[RefusalReason::FlagSeriesLimit.index()], 1);
        assert_eq!(c.refused_events[RefusalReason::SeriesLimit.index()], 1);
        // An hour and a minute later, the idle series make room (swept).
        let later = now + IDLE_EVICT_MS;
        let out = store.ingest(&[Event { ts_ms: later, ..at("z", "a") }], later);
        assert_eq!(out.accepted, 1);
        assert_eq!(store.counters().series, 1);
        assert_eq!(store.counters().evicted_series, 5);
    }

    #[test]
    fn events_the_flag_file_does_not_know_are_refused_with_their_paths() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = r#"{"schema_version": 1, "environments": ["dev", "prod"], "flags": [
            {"key": "f", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
             "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}]}]}"#;
        let flags = FlagStore::open(dir.path(), || Ok((file.to_string(), "test".to_string())))
            .unwrap_or_else(|e| panic!("{e}"));
        let store = MetricsStore::following(Arc::new(flags), StoreLimits::default());
        let now = clock::now_ms();
        let events = vec![
            ev(now, "canary", false, 1.0),
            Event { flag: "junk".into(), ..ev(now, "canary", false, 1.0) },
            Event { env: "prd".into(), ..ev(now, "canary", false, 1.0) },
            ev(now, "blue", false, 1.0),
            ev(now, "on", false, 1.0),
        ];
        let out = store.ingest(&events, now);
        assert_eq!((out.accepted, out.refused), (2, 3));
        let paths: Vec<&str> = out.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["events[1].flag", "events[2].env", "events[3].variant"]);
        assert!(out.problems[0].message.contains("unknown flag \"junk\""), "{:?}", out.problems);
        assert!(out.problems[1].message.contains("dev, prod"), "{:?}", out.problems);
        assert!(out.problems[2].message.contains("off, on"), "{:?}", out.problems);
        let c = store.counters();
        assert_eq!(c.series, 2, "junk never creates a series");
        assert_eq!(c.refused_events, [1, 1, 1, 0, 0]);
        assert_eq!(c.accepted_events, 2);
    }

    #[test]
    fn the_documented_ceiling_formula_holds() {
        // server/README.md, "Memory ceiling of the metrics store".
        assert_eq!(SLOT_BYTES, 536);
        assert_eq!(SLOTS_PER_SERIES, 128);
        assert_eq!(SERIES_FIXED_BYTES, 1_376);
        assert_eq!(SERIES_MAX_BYTES, 128 * 536 + 1_376 + 3 * 200);
        assert_eq!(StoreLimits::default().ceiling_bytes(), 2_000 * 70_584);
    }

    #[test]
    fn refusals_are_listed_up_to_a_bound() {
        let store = MetricsStore::with_limits(StoreLimits { max_series: 1, ..StoreLimits::default() });
        let now = 1_800_000_000_000;
        let events: Vec<Event> = (0..1000).map(|i| Event { flag: format!("f{i}"), ..ev(now, "canary", false, 1.0) }).collect();
        let out = store.ingest(&events, now);
        assert_eq!((out.accepted, out.refused, out.problems.len()), (1, 999, MAX_LISTED_PROBLEMS));
    }
}
