//! The canary controller: on every tick, judges each running canary (base and per-environment)
//! with the evaluator's `judge_canary` over the metrics store, and applies advance / complete /
//! rollback as a new flag-file version (author `canary-controller`). The decision logic lives
//! in the evaluator; this module only gathers inputs and writes results.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use edgeflag_evaluator::duration::parse_duration;
use edgeflag_evaluator::judgement::{
    canary_input, judge_canary, ArmMetrics, CanaryAction, CanaryInput, CanaryJudgement, CanaryPolicy,
};
use edgeflag_evaluator::model::{Canary, CanaryStatus};
use edgeflag_evaluator::FlagFile;
use tokio::sync::watch;

use crate::clock;
use crate::metrics::MetricsStore;
use crate::store::{FlagStore, WriteError, WriteMeta};

/// Author of every version the controller writes.
pub const AUTHOR: &str = "canary-controller";

/// What the controller needs besides the stores.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    pub interval: Duration,
    /// Metrics window; `None` = the current stage's `min_duration`.
    pub window: Option<Duration>,
    pub policy: CanaryPolicy,
}

/// One canary: a flag and, for an environment override, the environment.
pub type Target = (String, Option<String>);

/// What one judgement led to (for logs and tests).
#[derive(Debug, Clone)]
pub struct Decision {
    pub flag: String,
    pub env: Option<String>,
    pub judgement: CanaryJudgement,
    /// The version written (advance, complete, rollback), if any.
    pub version: Option<u64>,
    /// Why a decision could not be applied (write conflict, invalid result, judgement error).
    pub error: Option<String>,
}

pub struct Controller {
    flags: Arc<FlagStore>,
    metrics: Arc<MetricsStore>,
    config: ControllerConfig,
    /// Consecutive failed judgements per canary, with the stage they were counted at: a stage
    /// change (the controller's or an admin's) starts again at 0, as on the dashboard. In
    /// memory only (a restart starts again at 0).
    failures: HashMap<Target, (usize, u32)>,
    /// Last logged hold reasons per canary, so an unchanged hold is not logged every tick.
    last_hold: HashMap<Target, Vec<String>>,
}

impl Controller {
    pub fn new(flags: Arc<FlagStore>, metrics: Arc<MetricsStore>, config: ControllerConfig) -> Self {
        Controller { flags, metrics, config, failures: HashMap::new(), last_hold: HashMap::new() }
    }

    /// Judges every running canary once and applies the decisions.
    pub fn tick(&mut self) -> Vec<Decision> {
        let targets = running_canaries(self.flags.current().flags.file());
        self.failures.retain(|t, _| targets.contains(t));
        self.last_hold.retain(|t, _| targets.contains(t));
        targets.into_iter().filter_map(|target| self.judge_one(target)).collect()
    }

    fn judge_one(&mut self, target: Target) -> Option<Decision> {
        // Re-read per canary: an earlier decision in this tick may have written a version.
        let snap = self.flags.current();
        let file = snap.flags.file();
        let canary = find_canary(file, &target)?.clone();
        if canary.status != CanaryStatus::Running {
            return None;
        }
        let (flag, env) = (&target.0, target.1.as_deref());
        let envs = metric_envs(file, flag, env);
        let window_ms = match self.config.window {
            Some(w) => w.as_millis() as i64,
            None => canary
                .stages
                .get(canary.current_stage)
                .and_then(|s| parse_duration(&s.min_duration).ok())
                .map_or(60_000, |d| d.as_millis() as i64),
        };
        let now_ms = clock::now_ms();
        let arm = |name: &str| self.metrics.arm_window(flag, envs.as_deref(), name, window_ms, now_ms);
        let (canary_arm, baseline_arm) = (arm("canary"), arm("baseline"));
        // The evaluator's one conversion (the dashboard uses it too): arms without requests are
        // missing, latency histograms on common bounds.
        let failures = match self.failures.get(&target) {
            Some(&(stage, count)) if stage == canary.current_stage => count,
            _ => 0,
        };
        let judged = canary_input(&clock::ms_to_rfc3339(now_ms), Some(&canary_arm), Some(&baseline_arm), failures)
            .and_then(|input| Ok((judge_canary(&canary, &input, &self.config.policy)?, input)));
        let (judgement, input) = match judged {
            Ok(j) => j,
            Err(e) => {
                println!("edgeflag: canary-controller: {}: cannot judge: {e}", label(&target));
                return None;
            }
        };
        let mut decision = Decision { flag: flag.clone(), env: target.1.clone(), judgement, version: None, error: None };
        let j = &decision.judgement;
        let new_status = match j.action {
            CanaryAction::Hold | CanaryAction::NoAction => {
                self.failures.insert(target.clone(), (canary.current_stage, j.consecutive_failures));
                if self.last_hold.get(&target) != Some(&j.reasons) {
                    println!("edgeflag: canary-controller: {}: hold at stage {}: {}", label(&target), j.stage, j.reasons.join("; "));
                    self.last_hold.insert(target, j.reasons.clone());
                }
                return Some(decision);
            }
            CanaryAction::Advance => None,
            CanaryAction::Complete => Some(CanaryStatus::Completed),
            CanaryAction::Rollback => Some(CanaryStatus::RolledBack),
        };
        let mut next = file.clone();
        let Some(c) = find_canary_mut(&mut next, &target) else { return Some(decision) };
        match new_status {
            None => {
                c.current_stage = j.next_stage.unwrap_or(j.stage + 1);
                c.stage_started_at = Some(clock::ms_to_rfc3339(now_ms));
            }
            Some(status) => c.status = status,
        }
        let message = audit_message(&target, j, &input);
        match self.flags.write_file(next, Some(&snap.etag), WriteMeta { author: AUTHOR, message: &message }) {
            Ok(written) => {
                self.failures.remove(&target);
                self.last_hold.remove(&target);
                println!("edgeflag: canary-controller: version {}: {message}", written.version);
                decision.version = Some(written.version);
            }
            Err(WriteError::Stale { current_version, .. }) => {
                // Someone published meanwhile: judge again next tick against their file.
                println!(
                    "edgeflag: canary-controller: {}: {} not applied, the file changed (now version {current_version}); retrying next tick",
                    label(&target),
                    j.action.as_str()
                );
                decision.error = Some(format!("stale: now version {current_version}"));
            }
            Err(e) => {
                println!("edgeflag: canary-controller: {}: {} not applied: {e}", label(&target), j.action.as_str());
                decision.error = Some(e.to_string());
            }
        }
        Some(decision)
    }
}

/// Runs ticks every `config.interval` until `stop` turns true.
pub async fn run(mut controller: Controller, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(controller.config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        // SQLite writes are short; block_in_place keeps them off the async workers' queue.
        tokio::task::block_in_place(|| {
            controller.tick();
        });
    }
}

/// Every running canary in the file: the base one, then environment overrides.
pub fn running_canaries(file: &FlagFile) -> Vec<Target> {
    let mut out = Vec::new();
    for flag in &file.flags {
        if flag.canary.as_ref().is_some_and(|c| c.status == CanaryStatus::Running) {
            out.push((flag.key.clone(), None));
        }
        for (env, o) in &flag.environments {
            if o.canary.as_ref().is_some_and(|c| c.status == CanaryStatus::Running) {
                out.push((flag.key.clone(), Some(env.clone())));
            }
        }
    }
    out
}

fn find_canary<'a>(file: &'a FlagFile, (key, env): &Target) -> Option<&'a Canary> {
    let flag = file.flags.iter().find(|f| &f.key == key)?;
    match env {
        None => flag.canary.as_ref(),
        Some(env) => flag.environments.get(env)?.canary.as_ref(),
    }
}

fn find_canary_mut<'a>(file: &'a mut FlagFile, (key, env): &Target) -> Option<&'a mut Canary> {
    let flag = file.flags.iter_mut().find(|f| &f.key == key)?;
    match env {
        None => flag.canary.as_mut(),
        Some(env) => flag.environments.get_mut(env)?.canary.as_mut(),
    }
}

/// The metric environments a canary serves: its own for an override; for the base canary,
/// every environment that does not replace the split (`None` = all, when none are declared).
fn metric_envs(file: &FlagFile, key: &str, env: Option<&str>) -> Option<Vec<String>> {
    if let Some(env) = env {
        return Some(vec![env.to_string()]);
    }
    let flag = file.flags.iter().find(|f| f.key == key)?;
    if file.environments.is_empty() {
        return None;
    }
    Some(
        file.environments
            .iter()
            .filter(|e| !flag.environments.get(*e).is_some_and(|o| o.overrides_split()))
            .cloned()
            .collect(),
    )
}

fn label((key, env): &Target) -> String {
    match env {
        Some(env) => format!("{key} [{env}]"),
        None => key.clone(),
    }
}

fn describe(m: &Option<ArmMetrics>) -> String {
    match m {
        None => "no data".into(),
        Some(m) => format!(
            "{} requests, {} errors ({:.2}%), p99 {}",
            m.requests,
            m.errors,
            // canary_input never yields an arm with 0 requests
            m.errors as f64 * 100.0 / m.requests.max(1) as f64,
            m.p99_ms.map_or("n/a".into(), |p| format!("{p:.1} ms"))
        ),
    }
}

/// The audit message: decision, metrics and reasons.
fn audit_message(target: &Target, j: &CanaryJudgement, input: &CanaryInput) -> String {
    let what = match j.action {
        // Stage indices as in the file's `current_stage` (0-based), said so to avoid misreading.
        CanaryAction::Advance => format!("advance current_stage {} -> {}", j.stage, j.next_stage.unwrap_or(j.stage + 1)),
        CanaryAction::Complete => format!("complete at current_stage {}", j.stage),
        CanaryAction::Rollback => format!("rollback at current_stage {}", j.stage),
        other => other.as_str().to_string(),
    };
    format!(
        "canary {}: {what}; canary: {}; baseline: {}; reasons: {}",
        label(target),
        describe(&input.canary),
        describe(&input.baseline),
        j.reasons.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Event;
    use edgeflag_evaluator::judgement::ArmSummary;

    /// The controller's input and the one a client builds from `GET /api/metrics` JSON (what
    /// the dashboard does) are the same, latency histograms included.
    #[test]
    fn the_controller_judges_what_api_metrics_reports() {
        let store = MetricsStore::new();
        let now = clock::now_ms();
        let ev = |arm: &str, i: u32, latency_ms: f64| Event {
            ts_ms: now - i64::from(i) * 10,
            flag: "f".into(),
            env: "prod".into(),
            arm: arm.into(),
            stage: Some(0),
            error: i.is_multiple_of(50),
            latency_ms,
        };
        let mut events: Vec<Event> = (0..400).map(|i| ev("baseline", i, 20.0 + f64::from(i % 80))).collect();
        events.extend((0..200).map(|i| ev("canary", i, 30.0 + f64::from(i % 90) * 1.5)));
        assert_eq!(store.ingest(&events, now).accepted, 600);
        let window_ms = 5 * 60 * 1000;
        let envs = vec!["prod".to_string()];
        let arm = |name: &str| store.arm_window("f", Some(&envs), name, window_ms, now);
        let (canary_arm, baseline_arm) = (arm("canary"), arm("baseline"));
        let controller = canary_input("t", Some(&canary_arm), Some(&baseline_arm), 1).unwrap_or_else(|e| panic!("{e}"));

        let json = serde_json::to_value(store.report("f", Some("prod"), window_ms, now)).unwrap_or_else(|e| panic!("{e}"));
        let summary = |name: &str| -> ArmSummary {
            serde_json::from_value(json["arms"][name]["summary"].clone()).unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let (c, b) = (summary("canary"), summary("baseline"));
        let client = canary_input("t", Some(&c), Some(&b), 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(client, controller);
        let has_histogram = |m: &Option<ArmMetrics>| m.as_ref().is_some_and(|m| m.latency.is_some());
        assert!(has_histogram(&client.canary) && has_histogram(&client.baseline), "{client:?}");
    }
}
