//! A seeded simulation of canaries and experiments that drives the evaluator's real judgement:
//! [`canary_input`] and [`CanaryMonitor::judge`] for canaries, [`analyze_experiment`] for
//! experiments. Shared by the short form in `cargo test` (`tests/canary_sim.rs`) and the full
//! grid run by hand (`examples/canary_sim.rs`); see `evaluator/ANALYSIS.md`.
//!
//! The model, per canary:
//! - requests arrive as a Poisson process (`traffic` per second in total); each goes to the
//!   canary with the stage's percentage, otherwise to the baseline (no baseline at 100 %);
//! - each request fails independently (1 % in the baseline) and takes a log-normal time
//!   (median 60 ms, σ = 0.8 on the log scale: p99 ≈ 386 ms);
//! - the metrics store keeps 10-second buckets with a fixed log-linear latency layout (eight
//!   linear sub-buckets per power of two of milliseconds, 1/16 ms to 131 s, then +Inf); the
//!   judgement gets the totals of the buckets that start at or after `stage_started_at`;
//! - a controller judges every `tick` seconds and applies the action like the server does
//!   (advance: next stage, `stage_started_at = now`; complete; roll back).

#![allow(dead_code)]

use std::time::Instant;

use edgeflag_evaluator::judgement::{
    analyze_experiment, canary_input, AnalysisConfig, AnalysisMethod, ArmSummary, CanaryAction, CanaryMonitor,
    CanaryPolicy, CheckKind, ComparisonStatus, ConversionArm, ExperimentData, MetricData, MetricValues, Outcome,
};
use edgeflag_evaluator::model::{Canary, CanaryStage, CanaryStatus, Experiment, ExperimentVariant, HealthGate};
use edgeflag_evaluator::stats::{dist, Bucket};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution, Poisson, StandardNormal};

/// The store's time buckets.
const BUCKET_MS: u64 = 10_000;
/// Canary start: 2026-01-01T00:00:00Z.
const EPOCH_MS: u64 = 1_767_225_600_000;
pub const BASELINE_ERROR_RATE: f64 = 0.01;
pub const MEDIAN_MS: f64 = 60.0;
pub const SIGMA: f64 = 0.8;

/// The fixed log-linear latency layout (ms): 2^k · (1 + i/8), k = −4..=16, i = 1..=8.
pub fn layout() -> Vec<f64> {
    let mut bounds = Vec::new();
    for k in -4..=16 {
        for i in 1..=8 {
            bounds.push(2f64.powi(k) * (1.0 + f64::from(i) / 8.0));
        }
    }
    bounds
}

/// What the canary is, relative to the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variant {
    pub error_rate: f64,
    /// Multiplies the median latency.
    pub latency_factor: f64,
}

pub const HEALTHY: Variant = Variant { error_rate: BASELINE_ERROR_RATE, latency_factor: 1.0 };
pub const ERRORS_2X: Variant = Variant { error_rate: 2.0 * BASELINE_ERROR_RATE, latency_factor: 1.0 };
pub const SLOWER_30: Variant = Variant { error_rate: BASELINE_ERROR_RATE, latency_factor: 1.3 };

/// How the canary is held, if it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hold {
    /// The example's five stages, advanced by the judgement.
    None,
    /// One stage (1 %) whose `min_duration` is 24 h: judged every tick for 24 h.
    OneStage,
    /// As `OneStage`, but paused for 10 minutes every hour and resumed (a new stage start).
    PausedHourly,
}

/// One row of the grid.
#[derive(Debug, Clone)]
pub struct Cell {
    pub traffic: f64,
    pub tick_s: u64,
    pub stage_minutes: u64,
    pub hold: Hold,
    pub variant: Variant,
    pub policy: CanaryPolicy,
    /// Simulated time limit per canary.
    pub horizon_s: u64,
}

/// How one simulated canary ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Seconds from the canary's start to its rollback.
    pub rolled_back_at: Option<u64>,
    pub completed_at: Option<u64>,
    /// Stage index at the end.
    pub stage: usize,
    /// The checks that failed on the rollback tick.
    pub failed: Vec<CheckKind>,
    /// Canary requests served (a measure of exposure).
    pub canary_requests: u64,
    /// Judgements made.
    pub ticks: u64,
}

/// The example's stages (`examples/flags.json`, `payment-processor`) with `minutes` each.
pub fn example_stages(minutes: u64) -> Vec<CanaryStage> {
    [(1.0, 50), (10.0, 200), (25.0, 500), (50.0, 1000), (100.0, 1000)]
        .iter()
        .map(|&(percent, min_samples)| CanaryStage {
            percent,
            min_duration: format!("{minutes}m"),
            gate: HealthGate { max_error_rate: 0.02, max_p99_ms: 800.0, min_samples },
        })
        .collect()
}

/// Bucket probabilities of a log-normal on `bounds` (+Inf last).
fn bucket_probabilities(bounds: &[f64], median: f64, sigma: f64) -> Vec<f64> {
    let cdf = |x: f64| 1.0 - dist::normal_sf((x / median).ln() / sigma).unwrap_or(0.0);
    let mut out = Vec::with_capacity(bounds.len() + 1);
    let mut previous = 0.0;
    for &b in bounds {
        let c = cdf(b);
        out.push((c - previous).max(0.0));
        previous = c;
    }
    out.push((1.0 - previous).max(0.0));
    out
}

/// Cumulative counts of one arm in the current stage, on the layout.
#[derive(Clone)]
struct Totals {
    requests: u64,
    errors: u64,
    buckets: Vec<u64>,
}

impl Totals {
    fn new(n: usize) -> Totals {
        Totals { requests: 0, errors: 0, buckets: vec![0; n] }
    }

    fn summary(&self, bounds: &[f64]) -> ArmSummary {
        let latency_buckets = self
            .buckets
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &count)| Bucket { le: bounds.get(i).copied(), count })
            .collect();
        ArmSummary { requests: self.requests, errors: self.errors, latency_buckets, ..Default::default() }
    }
}

/// One arm's traffic generator.
struct Arm {
    probabilities: Vec<f64>,
    error_rate: f64,
    median: f64,
}

impl Arm {
    fn new(bounds: &[f64], variant: Variant) -> Arm {
        let median = MEDIAN_MS * variant.latency_factor;
        Arm { probabilities: bucket_probabilities(bounds, median, SIGMA), error_rate: variant.error_rate, median }
    }

    /// Adds a Poisson(`mean`) number of requests to `totals`.
    fn serve(&self, rng: &mut SmallRng, mean: f64, bounds: &[f64], totals: &mut Totals) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        let n = if mean < 30.0 {
            let n = poisson(rng, mean);
            for _ in 0..n {
                let z: f64 = rng.sample(StandardNormal);
                let x = self.median * (SIGMA * z).exp();
                let i = bounds.partition_point(|&b| b < x);
                totals.buckets[i] += 1;
            }
            n
        } else {
            // Poisson splitting: independent Poisson counts per bucket.
            let mut n = 0;
            for (i, &p) in self.probabilities.iter().enumerate() {
                let m = mean * p;
                // Buckets below 1e-9 of the traffic are empty in practice (86 million requests
                // a day at 1,000/s put 0.09 there); skipping them halves the simulation's cost.
                if p > 1e-9 && m > 1e-12 {
                    let k = poisson(rng, m);
                    totals.buckets[i] += k;
                    n += k;
                }
            }
            n
        };
        let errors = if n == 0 { 0 } else { Binomial::new(n, self.error_rate).map_or(0, |b| b.sample(rng)) };
        totals.requests += n;
        totals.errors += errors;
        n
    }
}

fn poisson(rng: &mut SmallRng, mean: f64) -> u64 {
    if mean < 12.0 {
        // Inversion: cheap and exact for small means.
        let mut k = 0u64;
        let mut p = (-mean).exp();
        let mut cumulative = p;
        let u: f64 = rng.random();
        while u > cumulative && k < 1000 {
            k += 1;
            p *= mean / k as f64;
            cumulative += p;
        }
        k
    } else {
        Poisson::new(mean).map_or(0, |d| d.sample(rng) as u64)
    }
}

/// RFC 3339 with milliseconds, UTC.
pub fn rfc3339(ms: u64) -> String {
    let days = (ms / 86_400_000) as i64;
    let rest = ms % 86_400_000;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

/// Simulates one canary from its start to its rollback, completion or the horizon.
pub fn run_canary(cell: &Cell, seed: u64) -> Run {
    let mut rng = SmallRng::seed_from_u64(seed);
    let bounds = layout();
    let canary_arm = Arm::new(&bounds, cell.variant);
    let baseline_arm = Arm::new(&bounds, HEALTHY);
    let mut stages = example_stages(cell.stage_minutes);
    if cell.hold != Hold::None {
        stages.truncate(1);
        stages[0].min_duration = "25h".into();
    }
    let mut canary = Canary {
        baseline: "legacy".into(),
        canary: "new".into(),
        stages,
        current_stage: 0,
        status: CanaryStatus::Running,
        stage_started_at: Some(rfc3339(EPOCH_MS)),
        stickiness: None,
        salt: None,
    };
    let mut monitor = CanaryMonitor::new();
    let (mut canary_totals, mut baseline_totals) = (Totals::new(bounds.len() + 1), Totals::new(bounds.len() + 1));
    let tick_ms = cell.tick_s * 1000;
    let horizon_ms = cell.horizon_s * 1000;
    let mut stage_start_ms = 0u64;
    let mut now = 0u64;
    let mut next_tick = tick_ms;
    let mut run = Run { rolled_back_at: None, completed_at: None, stage: 0, failed: Vec::new(), canary_requests: 0, ticks: 0 };
    let mut paused_until: Option<u64> = None;
    while now < horizon_ms {
        // The next event: a tick or a bucket boundary.
        let boundary = (now / BUCKET_MS + 1) * BUCKET_MS;
        let until = next_tick.min(boundary).min(horizon_ms);
        let dt = (until - now) as f64 / 1000.0;
        let percent = canary.stages[canary.current_stage].percent / 100.0;
        // Only buckets that start at or after the stage start count (the bucket the stage
        // starts in also holds the previous stage's traffic).
        let counted = now >= stage_start_ms.div_ceil(BUCKET_MS) * BUCKET_MS;
        let mean = cell.traffic * dt;
        if counted {
            run.canary_requests += canary_arm.serve(&mut rng, mean * percent, &bounds, &mut canary_totals);
            baseline_arm.serve(&mut rng, mean * (1.0 - percent), &bounds, &mut baseline_totals);
        } else {
            let mut discard = Totals::new(bounds.len() + 1);
            run.canary_requests += canary_arm.serve(&mut rng, mean * percent, &bounds, &mut discard);
        }
        now = until;
        if now < next_tick {
            continue;
        }
        next_tick += tick_ms;
        if cell.hold == Hold::PausedHourly {
            match paused_until {
                Some(t) if now >= t => {
                    // Resume: a new stage start, as the dashboard's Resume does.
                    paused_until = None;
                    canary.status = CanaryStatus::Running;
                    canary.stage_started_at = Some(rfc3339(EPOCH_MS + now));
                    stage_start_ms = now;
                    canary_totals = Totals::new(bounds.len() + 1);
                    baseline_totals = Totals::new(bounds.len() + 1);
                }
                None if now % 3_600_000 < tick_ms && now >= 3_600_000 => {
                    paused_until = Some(now + 600_000);
                    canary.status = CanaryStatus::Paused;
                }
                _ => {}
            }
        }
        let canary_summary = canary_totals.summary(&bounds);
        let baseline_summary = baseline_totals.summary(&bounds);
        let input = match canary_input(&rfc3339(EPOCH_MS + now), Some(&canary_summary), Some(&baseline_summary), 0) {
            Ok(input) => input,
            Err(e) => panic!("canary_input: {e}"),
        };
        let judgement = match monitor.judge(&canary, &input, &cell.policy) {
            Ok(j) => j,
            Err(e) => panic!("judge: {e}"),
        };
        if canary.status != CanaryStatus::Running {
            continue;
        }
        run.ticks += 1;
        match judgement.action {
            CanaryAction::Rollback => {
                run.rolled_back_at = Some(now / 1000);
                run.failed = judgement.checks.iter().filter(|c| c.outcome == Outcome::Fail).map(|c| c.check).collect();
                break;
            }
            CanaryAction::Complete => {
                run.completed_at = Some(now / 1000);
                break;
            }
            CanaryAction::Advance => {
                canary.current_stage = judgement.next_stage.unwrap_or(canary.current_stage + 1);
                canary.stage_started_at = Some(rfc3339(EPOCH_MS + now));
                stage_start_ms = now;
                canary_totals = Totals::new(bounds.len() + 1);
                baseline_totals = Totals::new(bounds.len() + 1);
            }
            CanaryAction::Hold | CanaryAction::NoAction => {}
        }
    }
    run.stage = canary.current_stage;
    run
}

/// A row's results.
#[derive(Debug, Clone)]
pub struct Row {
    pub runs: Vec<Run>,
    pub seconds: f64,
}

impl Row {
    pub fn rolled_back(&self) -> usize {
        self.runs.iter().filter(|r| r.rolled_back_at.is_some()).count()
    }

    pub fn completed(&self) -> usize {
        self.runs.iter().filter(|r| r.completed_at.is_some()).count()
    }

    pub fn rollback_rate(&self) -> f64 {
        self.rolled_back() as f64 / self.runs.len().max(1) as f64
    }

    /// The q-quantile (nearest rank) of rollback times, in seconds, among rolled-back runs.
    pub fn rollback_quantile(&self, q: f64) -> Option<u64> {
        quantile(self.runs.iter().filter_map(|r| r.rolled_back_at).collect(), q)
    }

    pub fn completion_quantile(&self, q: f64) -> Option<u64> {
        quantile(self.runs.iter().filter_map(|r| r.completed_at).collect(), q)
    }

    /// Rolled back by `seconds` (fraction of all runs).
    pub fn rolled_back_by(&self, seconds: u64) -> f64 {
        self.runs.iter().filter(|r| r.rolled_back_at.is_some_and(|t| t <= seconds)).count() as f64 / self.runs.len().max(1) as f64
    }

    /// How often each check failed on a rollback tick.
    pub fn failed_checks(&self) -> Vec<(CheckKind, usize)> {
        let kinds = [
            CheckKind::ErrorRate,
            CheckKind::P99Latency,
            CheckKind::ErrorRateVsBaseline,
            CheckKind::LatencyVsBaseline,
        ];
        kinds.iter().map(|&k| (k, self.runs.iter().filter(|r| r.failed.contains(&k)).count())).collect()
    }
}

fn quantile(mut values: Vec<u64>, q: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let i = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
    values.get(i).copied()
}

/// Runs `runs` canaries of `cell` with seeds `seed..seed + runs`, on `threads` threads (the
/// results do not depend on the thread count). `progress` is called after each run.
pub fn run_row(cell: &Cell, runs: usize, seed: u64, threads: usize, progress: &(dyn Fn(usize) + Sync)) -> Row {
    let started = Instant::now();
    let threads = threads.max(1);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, Run)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let done = &done;
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for i in (t..runs).step_by(threads) {
                        out.push((i, run_canary(cell, seed.wrapping_add(i as u64))));
                        progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    Row { runs: results.into_iter().map(|(_, r)| r).collect(), seconds: started.elapsed().as_secs_f64() }
}

// ---------------------------------------------------------------------------------------------
// Experiments: the false-winner rate when the analysis is looked at after every batch.

/// One A/B experiment on a conversion metric, analysed after every `batch` units per arm up to
/// `max_units`: the first look with a winner, if any.
pub fn run_experiment(control: f64, treatment: f64, batch: u64, max_units: u64, method: AnalysisMethod, seed: u64) -> Option<u64> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let experiment = Experiment {
        variants: vec![
            ExperimentVariant { variation: "control".into(), weight_bp: 5000 },
            ExperimentVariant { variation: "treatment".into(), weight_bp: 5000 },
        ],
        traffic_bp: 10_000,
        stickiness: None,
        salt: None,
        experiment_salt: None,
    };
    let config = AnalysisConfig { method, ..Default::default() };
    let (mut c, mut t) = (0u64, 0u64);
    let mut units = 0;
    while units < max_units {
        units += batch;
        c += Binomial::new(batch, control).map_or(0, |b| b.sample(&mut rng));
        t += Binomial::new(batch, treatment).map_or(0, |b| b.sample(&mut rng));
        let data = ExperimentData {
            assignments: [("control".to_string(), units), ("treatment".to_string(), units)].into(),
            metrics: vec![MetricData {
                name: "checkout".into(),
                higher_is_better: true,
                values: MetricValues::Conversion {
                    arms: [
                        ("control".to_string(), ConversionArm { units, conversions: c }),
                        ("treatment".to_string(), ConversionArm { units, conversions: t }),
                    ]
                    .into(),
                },
            }],
        };
        let report = match analyze_experiment(&experiment, &data, &config) {
            Ok(r) => r,
            Err(e) => panic!("analyze_experiment: {e}"),
        };
        let comparison = &report.metrics[0].comparisons[0];
        if comparison.status == ComparisonStatus::Significant && comparison.winner.is_some() {
            return Some(units);
        }
    }
    None
}

/// Fraction of `runs` experiments that declared a winner at some look.
pub fn winner_rate(control: f64, treatment: f64, batch: u64, max_units: u64, method: AnalysisMethod, runs: u64, seed: u64) -> f64 {
    let winners = (0..runs).filter(|i| run_experiment(control, treatment, batch, max_units, method, seed + i).is_some()).count();
    winners as f64 / runs as f64
}
