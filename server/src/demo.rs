//! Built-in demo traffic: simulated edges evaluating every flag for random users and reporting
//! metric events, so a new user sees live data. A canary arm's error rate and latency start
//! climbing after a minute, which is what the health gates are there to catch. Only flags
//! tagged `demo-failing` degrade when the file has any (see `server/demo/flags.json`: one
//! canary advances to completion, the other is rolled back); otherwise every canary does.
//!
//! The generator is an in-process ingest source (principal `demo`, role `ingest`): its events
//! take the same gate as an edge's authenticated POST.
//!
//! Stage clocks: a demo runs on the time of this server process. When `--demo` imports a file,
//! every running canary's `stage_started_at` becomes the import time; when `--demo` starts on
//! an existing store, the running canaries' clocks are restarted by a version written by
//! `demo` (the traffic starts healthy again too). So a canary whose stage lasts a day never
//! jumps to its next stage because the file (or the last run) is old.

use std::sync::Arc;
use std::time::{Duration, Instant};

use edgeflag_evaluator::Context;
use rand::Rng;
use tokio::sync::watch;

use crate::auth::{Principal, Role};
use crate::clock;
use crate::metrics::{Event, MetricsStore};
use crate::store::{FlagStore, WriteError, WriteMeta};

/// Author of the versions the demo writes (restarted stage clocks), and its ingest principal.
pub const AUTHOR: &str = "demo";

/// Simulated requests per flag and environment per tick (4 ticks per second).
const REQUESTS_PER_TICK: usize = 40;
const TICK: Duration = Duration::from_millis(250);
/// Healthy error rate of every arm.
const BASE_ERROR_RATE: f64 = 0.005;
/// When the canary starts to degrade, and how long until it is at its worst.
const DEGRADE_AFTER: Duration = Duration::from_secs(60);
const DEGRADE_RAMP: Duration = Duration::from_secs(240);
const WORST_EXTRA_ERROR_RATE: f64 = 0.20;
/// Tag of the flags whose canary degrades (when no flag has it, all canaries degrade).
pub const FAILING_TAG: &str = "demo-failing";

/// Runs until `stop` turns true.
pub async fn run(flags: Arc<FlagStore>, metrics: Arc<MetricsStore>, mut stop: watch::Receiver<bool>) {
    let started = Instant::now();
    let source = Principal::in_process(AUTHOR, Role::Ingest);
    let mut ticker = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        let events = generate(&flags, started.elapsed());
        // Demo events come from the current file; a refusal (a cap, or a file changed meanwhile)
        // just drops those events of one tick.
        let _ = crate::metrics::ingest_as(&metrics, &source, &events, clock::now_ms());
    }
}

/// Sets `stage_started_at = now` on every running canary (base and environment overrides);
/// returns how many.
pub fn restart_stage_clocks(file: &mut edgeflag_evaluator::FlagFile, now: &str) -> usize {
    use edgeflag_evaluator::model::CanaryStatus;
    let mut n = 0;
    for flag in &mut file.flags {
        // The canaries the controller runs (`all_canaries`), each where it is declared.
        for env in crate::controller::canary_envs(flag) {
            if let Some(canary) = flag.split_mut(env.as_deref()).canary.as_mut() {
                if canary.status == CanaryStatus::Running {
                    canary.stage_started_at = Some(now.to_string());
                    n += 1;
                }
            }
        }
    }
    n
}

/// The imported text with the running canaries' clocks set to now (the text unchanged when
/// it is not a valid file: the import reports that).
pub fn import_text(text: String) -> (String, usize) {
    let Ok(set) = edgeflag_evaluator::FlagSet::from_json(&text) else { return (text, 0) };
    let mut file = set.into_file();
    let n = restart_stage_clocks(&mut file, &clock::ms_to_rfc3339(clock::now_ms()));
    match serde_json::to_string_pretty(&file) {
        Ok(out) if n > 0 => (out, n),
        _ => (text, 0),
    }
}

/// On a demo start with an existing store: restarts the running canaries' clocks as a new
/// version by `demo`. Returns the version written, if any canary runs.
pub fn restart_stored_clocks(flags: &FlagStore) -> Result<Option<u64>, WriteError> {
    let mut file = flags.current().flags.file().clone();
    let n = restart_stage_clocks(&mut file, &clock::ms_to_rfc3339(clock::now_ms()));
    if n == 0 {
        return Ok(None);
    }
    let message = format!("demo: {n} running canary stage clock(s) restarted at server start");
    let (snap, ()) = flags.write_with(WriteMeta { author: AUTHOR, message: &message }, |current| {
        // Only the clocks: whatever else is current stays.
        let mut file = current.flags.file().clone();
        restart_stage_clocks(&mut file, &clock::ms_to_rfc3339(clock::now_ms()));
        Ok::<_, WriteError>((edgeflag_evaluator::FlagSet::from_file(file).map_err(WriteError::Invalid)?, ()))
    })?;
    Ok(Some(snap.version))
}

/// How far the canary has degraded: 0 (healthy) to 1 (worst).
pub fn degradation(elapsed: Duration) -> f64 {
    let over = elapsed.saturating_sub(DEGRADE_AFTER).as_secs_f64();
    (over / DEGRADE_RAMP.as_secs_f64()).min(1.0)
}

fn generate(flags: &FlagStore, elapsed: Duration) -> Vec<Event> {
    let snap = flags.current();
    let file = snap.flags.file();
    let envs: Vec<Option<&str>> = if file.environments.is_empty() {
        vec![None]
    } else {
        file.environments.iter().map(|e| Some(e.as_str())).collect()
    };
    let degraded = degradation(elapsed);
    let any_tagged = file.flags.iter().any(|f| f.tags.iter().any(|t| t == FAILING_TAG));
    let now = clock::now_ms();
    let mut rng = rand::rng();
    let mut events = Vec::new();
    for flag in &file.flags {
        let degraded = if !any_tagged || flag.tags.iter().any(|t| t == FAILING_TAG) { degraded } else { 0.0 };
        for env in &envs {
            for _ in 0..REQUESTS_PER_TICK {
                let user = format!("user-{}", rng.random_range(0..50_000));
                let ctx = Context::new(user).with("country", if rng.random_bool(0.3) { "FR" } else { "US" });
                let eval = snap.flags.evaluate(&flag.key, &ctx, *env);
                let label = match (eval.arm, eval.variant) {
                    (Some(arm), _) => arm.as_str().to_string(),
                    (None, Some(variant)) => variant.to_string(),
                    (None, None) => continue,
                };
                let canary = label == "canary";
                let error_rate =
                    BASE_ERROR_RATE + if canary { degraded * WORST_EXTRA_ERROR_RATE } else { 0.0 };
                // A healthy canary is as fast as the baseline (the gates tolerate 10 % on the median).
                let median_ms = if canary { 35.0 * (1.0 + 3.0 * degraded) } else { 35.0 };
                events.push(Event {
                    ts_ms: now - rng.random_range(0..250),
                    flag: flag.key.clone(),
                    env: env.unwrap_or("default").to_string(),
                    arm: label,
                    stage: None,
                    error: rng.random_bool(error_rate.clamp(0.0, 1.0)),
                    latency_ms: lognormal(&mut rng, median_ms, 0.45),
                });
            }
        }
    }
    events
}

/// A log-normal sample (Box-Muller): latencies have a long right tail.
fn lognormal(rng: &mut impl Rng, median: f64, sigma: f64) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (median * (sigma * z).exp()).min(60_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_degrades_only_after_a_while() {
        assert_eq!(degradation(Duration::from_secs(30)), 0.0);
        assert!(degradation(Duration::from_secs(120)) > 0.0);
        assert_eq!(degradation(Duration::from_secs(3600)), 1.0);
    }
}
