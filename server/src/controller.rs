//! The canary controller: on every tick, judges each running canary (base and per-environment)
//! with the evaluator's `CanaryMonitor` over the metrics since its stage started, and applies
//! advance / complete / rollback as a new flag-file version (author `canary-controller`). The
//! decision logic lives in the evaluator; this module only gathers inputs, keeps one monitor per
//! canary (the failure count and the evidence carried from earlier stages), writes results and
//! records the last judgement of each canary (served by `GET /api/canaries`).
//!
//! The judgement is sequential (evaluator/ANALYSIS.md): its bounds stay valid however often they
//! are read, but only over totals that grow with the stage, so the judged range starts at the
//! stage start ([`judged_range`]), never a window sliding with the tick.
//!
//! Writes are per flag, like an admin's: the decision is a change to the canary's fields
//! against the version that was judged, merged into the current version by the evaluator's
//! three-way merge. A write to another flag (or to another field of this flag) in between
//! does not stop it; a change to this canary in between (an operator's pause, new gates)
//! does: the judgement was about a canary that no longer exists, so it is dropped and the
//! canary is judged again at the next tick.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use edgeflag_evaluator::judgement::{
    canary_input, ArmMetrics, ArmSummary, CanaryAction, CanaryInput, CanaryJudgement, CanaryPolicy,
    CanaryMonitor, CheckResult, RiskLevels, TrafficNeed,
};
use edgeflag_evaluator::merge::{self, MergePath, Segment};
use edgeflag_evaluator::model::{Canary, CanaryStatus, Flag};
use edgeflag_evaluator::{FlagFile, FlagSet};
use serde::Serialize;
use serde_json::Value;
use futures_util::future::join_all;
use tokio::sync::watch;

use crate::clock;
use crate::leader::Leadership;
use crate::metrics::store::BUCKET_MS;
use crate::metrics::MetricsStore;
use crate::metrics_source::{ArmQuery, MetricsSource, SourceError};
use crate::store::{find_item, FlagStore, ItemKind, Snapshot, WriteError, WriteMeta};
use crate::webhooks::{DecisionEvent, Webhooks};

/// Author of every version the controller writes.
pub const AUTHOR: &str = "canary-controller";

/// What the controller needs besides the stores.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    pub interval: Duration,
    /// A sliding window to judge instead of the stage so far (`--controller-window`); `None` =
    /// since the stage start. The sequential judgement is not valid over a window: for tests
    /// and short demos only.
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
    /// Why a decision could not be applied (the canary changed, invalid result, storage).
    pub error: Option<String>,
}

/// The controller's latest judgement of one canary, as `GET /api/canaries` serves it.
#[derive(Debug, Clone, Serialize)]
pub struct LastJudgement {
    pub at: String,
    /// The flag-file version judged.
    pub file_version: u64,
    pub action: CanaryAction,
    pub reasons: Vec<String>,
    pub checks: Vec<CheckResult>,
    pub consecutive_failures: u32,
    pub stage: usize,
    /// Start of the judged range (RFC 3339): the stage start, or that of `--controller-window`.
    pub judged_from: String,
    /// How long the stage has run, and its `min_duration`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_duration_ms: Option<u64>,
    /// Too little traffic yet: how many more canary requests (and how long) the stage needs,
    /// and for which gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<TrafficNeed>,
    /// The error budgets the checks' bounds were computed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevels>,
    /// Earlier stages of this run whose evidence the comparisons carry.
    pub earlier_stages: usize,
    /// The version this decision wrote (advance, complete, rollback).
    pub decision_version: Option<u64>,
    /// Why the decision was not written, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the metrics source gave no data for an arm (then that arm was judged missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_error: Option<String>,
}

/// The last judgement per canary, in memory (empty after a restart until the next tick), and
/// the controller's counters for `/metrics`.
#[derive(Default)]
pub struct Judgements {
    by_target: RwLock<HashMap<Target, LastJudgement>>,
    pub stats: ControllerStats,
}

/// What the controller did, for `/metrics` (see `canary_metrics`).
#[derive(Default)]
pub struct ControllerStats {
    pub ticks: AtomicU64,
    /// Epoch ms of the last tick's end (0: none yet).
    pub last_tick_ms: AtomicI64,
    /// Arm queries the metrics source could not answer.
    pub metrics_errors: AtomicU64,
    /// The source's kind (`builtin`, `prometheus`) and the interval, once the controller runs.
    pub running: RwLock<Option<(&'static str, Duration)>>,
    /// Decisions written per canary and action (advance, complete, rollback).
    decisions: Mutex<BTreeMap<(Target, &'static str), u64>>,
}

impl ControllerStats {
    fn count_decision(&self, target: &Target, action: CanaryAction) {
        let mut map = match self.decisions.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *map.entry((target.clone(), action.as_str())).or_default() += 1;
    }

    /// Decisions written for a canary and action since start.
    pub fn decisions(&self, target: &Target, action: &str) -> u64 {
        let map = match self.decisions.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        map.iter().find(|((t, a), _)| t == target && *a == action).map_or(0, |(_, n)| *n)
    }

    /// `(source kind, interval)` when a controller runs in this process.
    pub fn running(&self) -> Option<(&'static str, Duration)> {
        match self.running.read() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }
}

impl Judgements {
    pub fn get(&self, target: &Target) -> Option<LastJudgement> {
        self.read().get(target).cloned()
    }

    /// Every canary's last judgement.
    pub fn all(&self) -> Vec<(Target, LastJudgement)> {
        let mut out: Vec<_> = self.read().iter().map(|(t, j)| (t.clone(), j.clone())).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Target, LastJudgement>> {
        match self.by_target.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Target, LastJudgement>> {
        match self.by_target.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// A judgement whose decision is to be written.
struct Pending {
    target: Target,
    judged_version: u64,
    /// The flag as judged, and with the decision applied.
    base: Value,
    mine: Value,
    message: String,
}

pub struct Controller {
    flags: Arc<FlagStore>,
    source: MetricsSource,
    judgements: Arc<Judgements>,
    config: ControllerConfig,
    /// One monitor per running or paused canary: its failure count in the current stage and the
    /// comparisons' evidence from the earlier stages. A stage change (the controller's or an
    /// admin's) restarts the count and carries the finished stage. In memory only: a restart
    /// (or a new leader) starts the comparisons again from the current stage, which spends a
    /// fresh share of the error budget (evaluator/ANALYSIS.md, "Error budgets").
    monitors: HashMap<Target, CanaryMonitor>,
    /// The last logged hold per canary: its reasons without their figures, and when. A hold
    /// whose reasons only changed in their counts and times ("needs about 1294 more canary
    /// requests" → "… 859 …") is logged again after [`HOLD_LOG_EVERY_MS`], not every tick.
    last_hold: HashMap<Target, (String, i64)>,
    /// Last logged metrics-source error per canary, so an outage is logged once, not every tick.
    last_source_error: HashMap<Target, String>,
    /// With replicas: whether this one leads, and the fence its decisions carry.
    leadership: Option<Arc<Leadership>>,
    /// Decision webhooks, and the cause of the last hold sent per canary (a hold is sent when
    /// its cause changes).
    webhooks: Option<Arc<Webhooks>>,
    last_hold_sent: HashMap<Target, String>,
}

/// The metrics of the running canaries of one version, read before judging: the source may be
/// a remote API, so reading is async and judging (which writes to SQLite) is not.
pub struct Gathered {
    snap: Arc<Snapshot>,
    /// The judgement's "now": the end of every range read.
    now_ms: i64,
    arms: Vec<(Target, Arms)>,
}

/// One canary's two arms over its judged range.
struct Arms {
    canary: Result<ArmSummary, SourceError>,
    baseline: Result<ArmSummary, SourceError>,
}

/// How far back the range reaches when the stage start is unknown (the judgement then holds,
/// but a failing gate still shows): the built-in store's retention.
const UNKNOWN_START_LOOKBACK_MS: i64 = crate::metrics::store::RETENTION_MS;

/// The range `[from, to]` (epoch ms) a canary's arms are judged over: from the current stage's
/// `stage_started_at` to now, so the totals only grow while the stage runs (what the sequential
/// judgement needs); a start in the future gives an empty range, an unknown start the last hour.
///
/// `window` (`--controller-window`) asks for the old sliding window ending now instead, whatever
/// the stage: for tests and demos that post one stream and watch several stages judge it. The
/// sequential bounds are not valid over it. It starts at a bucket start, so the built-in store
/// (whole 10 s buckets from the first that starts at or after `from`, since a stage's first
/// bucket also holds the stage before) reads the bucket it begins in, as a window always did.
pub fn judged_range(canary: &Canary, window: Option<Duration>, now_ms: i64) -> (i64, i64) {
    if let Some(w) = window {
        let from = now_ms.saturating_sub(i64::try_from(w.as_millis()).unwrap_or(i64::MAX));
        return (from.div_euclid(BUCKET_MS) * BUCKET_MS, now_ms);
    }
    let started = canary.stage_started_at.as_deref().and_then(clock::parse_rfc3339_ms);
    (started.unwrap_or(now_ms.saturating_sub(UNKNOWN_START_LOOKBACK_MS)).min(now_ms), now_ms)
}

impl Controller {
    /// A controller reading the built-in metrics store (see [`Controller::with_source`]).
    pub fn new(
        flags: Arc<FlagStore>,
        metrics: Arc<MetricsStore>,
        judgements: Arc<Judgements>,
        config: ControllerConfig,
    ) -> Self {
        Controller {
            flags,
            source: MetricsSource::Builtin(metrics),
            judgements,
            config,
            monitors: HashMap::new(),
            last_hold: HashMap::new(),
            last_source_error: HashMap::new(),
            leadership: None,
            webhooks: None,
            last_hold_sent: HashMap::new(),
        }
    }

    /// Ticks only while `leadership` says this replica leads; decisions carry its fence.
    pub fn with_leadership(mut self, leadership: Arc<Leadership>) -> Self {
        self.leadership = Some(leadership);
        self
    }

    /// Sends decision webhooks (advance, complete, rollback, hold) through `webhooks`.
    pub fn with_webhooks(mut self, webhooks: Arc<Webhooks>) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// Whether this replica may judge and write now.
    pub fn leading(&self) -> bool {
        self.leadership.as_ref().is_none_or(|l| l.is_leader())
    }

    /// Forgets what only the leader needs (another replica counts from now on).
    fn step_down(&mut self) {
        self.monitors.clear();
        self.last_hold.clear();
        self.last_hold_sent.clear();
    }

    /// Reads the arms' metrics from `source` instead (e.g. a Prometheus-compatible API).
    pub fn with_source(mut self, source: MetricsSource) -> Self {
        self.source = source;
        self
    }

    pub fn source(&self) -> &MetricsSource {
        &self.source
    }

    /// Judges every running canary once and applies the decisions.
    pub async fn tick(&mut self) -> Vec<Decision> {
        let gathered = self.gather().await;
        self.decide(gathered)
    }

    /// Reads both arms of every running canary of the current version over its judged range
    /// (all queries at once).
    pub async fn gather(&self) -> Gathered {
        let snap = self.flags.current();
        let now_ms = clock::now_ms();
        let file = snap.flags.file();
        let mut plans = Vec::new();
        for target in running_canaries(file) {
            let Some(canary) = find_canary(file, &target) else { continue };
            let envs = metric_envs(file, &target.0, target.1.as_deref());
            let (from_ms, to_ms) = judged_range(canary, self.config.window, now_ms);
            plans.push((target, envs, from_ms, to_ms));
        }
        let reads = plans.iter().map(|(target, envs, from_ms, to_ms)| async move {
            let query = |arm| ArmQuery { flag: &target.0, envs: envs.as_deref(), arm, from_ms: *from_ms, to_ms: *to_ms };
            let (canary_query, baseline_query) = (query("canary"), query("baseline"));
            let (canary, baseline) = tokio::join!(self.source.arm(&canary_query), self.source.arm(&baseline_query));
            (target.clone(), Arms { canary, baseline })
        });
        let arms = join_all(reads).await;
        Gathered { snap, now_ms, arms }
    }

    /// Judges the gathered canaries and writes their decisions.
    pub fn decide(&mut self, gathered: Gathered) -> Vec<Decision> {
        let Gathered { snap, now_ms, arms } = gathered;
        let file = snap.flags.file();
        let running = running_canaries(file);
        let all = all_canaries(file);
        // Paused canaries keep their monitor: a resume carries the evidence on.
        self.monitors.retain(|t, _| {
            find_canary(file, t).is_some_and(|c| matches!(c.status, CanaryStatus::Running | CanaryStatus::Paused))
        });
        self.last_hold.retain(|t, _| running.contains(t));
        self.last_source_error.retain(|t, _| running.contains(t));
        self.last_hold_sent.retain(|t, _| running.contains(t));
        self.judgements.write().retain(|t, _| all.contains(t));
        let decisions = arms
            .into_iter()
            .filter_map(|(target, arms)| {
                let (decision, pending) = self.judge(&snap, now_ms, target, arms)?;
                let (decision, message) = match pending {
                    Some(p) => {
                        let message = p.message.clone();
                        (self.apply(decision, p), message)
                    }
                    None => (decision, String::new()),
                };
                self.notify(&decision, snap.version, message);
                Some(decision)
            })
            .collect();
        let stats = &self.judgements.stats;
        stats.ticks.fetch_add(1, Ordering::Relaxed);
        stats.last_tick_ms.store(clock::now_ms(), Ordering::Relaxed);
        decisions
    }

    /// Queues the decision's webhooks: a written decision, or a hold whose cause changed.
    fn notify(&mut self, decision: &Decision, file_version: u64, message: String) {
        let Some(webhooks) = &self.webhooks else { return };
        let j = &decision.judgement;
        let target: Target = (decision.flag.clone(), decision.env.clone());
        let event = match j.action {
            CanaryAction::Hold => {
                let cause = hold_cause(j);
                if self.last_hold_sent.get(&target) == Some(&cause) {
                    return;
                }
                self.last_hold_sent.insert(target.clone(), cause);
                "hold"
            }
            CanaryAction::NoAction => return,
            // A decision that was not written (the canary changed, a deposed leader) did not
            // happen: nothing to announce.
            _ if decision.version.is_none() => return,
            other => {
                self.last_hold_sent.remove(&target);
                other.as_str()
            }
        };
        let event = DecisionEvent {
            id: String::new(),
            event: event.to_string(),
            flag: decision.flag.clone(),
            env: decision.env.clone(),
            stage: j.stage,
            next_stage: j.next_stage,
            reasons: j.reasons.clone(),
            consecutive_failures: j.consecutive_failures,
            file_version,
            decision_version: decision.version,
            at: clock::now_rfc3339(),
            message: if message.is_empty() { j.reasons.join("; ") } else { message },
        };
        if let Err(e) = webhooks.enqueue(&event) {
            println!("edgeflag: canary-controller: {}: cannot queue the {} webhook: {e}", label(&target), event.event);
        }
    }

    /// Judges one canary of `snap` on its arms' metrics; returns the decision and, when it
    /// changes the canary, the write to make.
    fn judge(&mut self, snap: &Snapshot, now_ms: i64, target: Target, arms: Arms) -> Option<(Decision, Option<Pending>)> {
        let file = snap.flags.file();
        let canary = find_canary(file, &target)?.clone();
        if canary.status != CanaryStatus::Running {
            return None;
        }
        let flag = &target.0;
        // A source error is a missing arm: "no data", which never advances.
        let mut source_errors = Vec::new();
        let mut read = |arm: &str, result: Result<ArmSummary, SourceError>| match result {
            Ok(summary) => Some(summary),
            Err(e) => {
                source_errors.push(format!("{arm}: {e}"));
                None
            }
        };
        let (canary_arm, baseline_arm) = (read("canary", arms.canary), read("baseline", arms.baseline));
        let metrics_error = (!source_errors.is_empty()).then(|| source_errors.join("; "));
        self.note_source_error(&target, metrics_error.as_deref(), source_errors.len());
        // The evaluator's one conversion (the dashboard uses it too): arms without requests are
        // missing, latency histograms on common bounds.
        // The monitor supplies the failure count and the earlier stages' evidence.
        let monitor = self.monitors.entry(target.clone()).or_default();
        let judged = canary_input(&clock::ms_to_rfc3339(now_ms), canary_arm.as_ref(), baseline_arm.as_ref(), 0)
            .and_then(|input| Ok((monitor.judge(&canary, &input, &self.config.policy)?, input)));
        let earlier_stages = monitor.earlier_stages().len();
        let (judgement, input) = match judged {
            Ok(j) => j,
            Err(e) => {
                println!("edgeflag: canary-controller: {}: cannot judge: {e}", label(&target));
                return None;
            }
        };
        self.judgements.write().insert(
            target.clone(),
            LastJudgement {
                at: input.now.clone(),
                file_version: snap.version,
                action: judgement.action,
                reasons: judgement.reasons.clone(),
                checks: judgement.checks.clone(),
                consecutive_failures: judgement.consecutive_failures,
                stage: judgement.stage,
                judged_from: clock::ms_to_rfc3339(judged_range(&canary, self.config.window, now_ms).0),
                elapsed_ms: judgement.elapsed_ms,
                min_duration_ms: judgement.min_duration_ms,
                needs: judgement.needs.clone(),
                risk: judgement.risk,
                earlier_stages,
                decision_version: None,
                error: None,
                metrics_error,
            },
        );
        let decision = Decision { flag: flag.clone(), env: target.1.clone(), judgement, version: None, error: None };
        let j = &decision.judgement;
        let mut decided = canary.clone();
        match j.action {
            CanaryAction::Hold | CanaryAction::NoAction => {
                let shape = hold_shape(j.stage, &j.reasons);
                let logged = self.last_hold.get(&target);
                if logged.is_none_or(|(last, at)| *last != shape || now_ms - at >= HOLD_LOG_EVERY_MS) {
                    println!("edgeflag: canary-controller: {}: hold at stage {}: {}", label(&target), j.stage, j.reasons.join("; "));
                    self.last_hold.insert(target, (shape, now_ms));
                }
                return Some((decision, None));
            }
            CanaryAction::Advance => {
                decided.current_stage = j.next_stage.unwrap_or(j.stage + 1);
                decided.stage_started_at = Some(clock::ms_to_rfc3339(now_ms));
            }
            CanaryAction::Complete => decided.status = CanaryStatus::Completed,
            CanaryAction::Rollback => decided.status = CanaryStatus::RolledBack,
        }
        let base = file.flags.iter().find(|f| &f.key == flag).and_then(|f| serde_json::to_value(f).ok())?;
        let mut mine = base.clone();
        let decided = serde_json::to_value(&decided).ok()?;
        *canary_slot(&mut mine, &target)? = decided;
        let message = audit_message(&target, j, &input);
        let pending = Pending { target, judged_version: snap.version, base, mine, message };
        Some((decision, Some(pending)))
    }

    /// Writes a decision as a per-flag change against the judged version.
    fn apply(&mut self, mut decision: Decision, p: Pending) -> Decision {
        let canary_path = canary_path(&p.target);
        let fence = self.leadership.as_ref().and_then(|l| l.state().fence);
        let result = self.flags.write_fenced(WriteMeta { author: AUTHOR, message: &p.message }, fence, |current| {
            let mut file: Value = serde_json::from_slice(&current.body).map_err(WriteError::Encode)?;
            let Some(theirs) = find_item(&file, ItemKind::Flag, &p.target.0) else {
                return Err(ApplyError::Changed("the flag was deleted".into()));
            };
            // Any change to this canary since it was judged voids the judgement, even one to the
            // very values the decision would write (another replica's controller deciding the
            // same tick, the case fencing exists for): the merge would see no conflict there,
            // and the tick would get a second decision.
            let changed = changed_canary_fields(&p.target, &p.base, theirs);
            if !changed.is_empty() {
                return Err(ApplyError::Changed(format!("changed since version {}: {}", p.judged_version, changed.join(", "))));
            }
            let merged = merge::three_way(&p.base, &p.mine, theirs);
            let touched: Vec<String> = merged
                .conflicts
                .iter()
                .map(|c| &c.path)
                .chain(merged.kept_theirs.iter())
                .filter(|path| path.overlaps(&canary_path))
                .map(ToString::to_string)
                .collect();
            if !touched.is_empty() || !merged.is_clean() {
                return Err(ApplyError::Changed(format!("changed since version {}: {}", p.judged_version, touched.join(", "))));
            }
            let list = file.get_mut("flags").and_then(Value::as_array_mut);
            if let Some(slot) = list.and_then(|l| l.iter_mut().find(|f| f.get("key").and_then(Value::as_str) == Some(p.target.0.as_str()))) {
                *slot = merged.value;
            }
            let flags = FlagSet::from_json(&file.to_string()).map_err(WriteError::Invalid)?;
            Ok((flags, ()))
        });
        let target = &p.target;
        match result {
            Ok((written, ())) => {
                // An advance keeps the monitor (it notices the new stage and carries the finished
                // one); a finished run needs none.
                if matches!(decision.judgement.action, CanaryAction::Rollback | CanaryAction::Complete) {
                    self.monitors.remove(target);
                }
                self.last_hold.remove(target);
                self.judgements.stats.count_decision(target, decision.judgement.action);
                println!("edgeflag: canary-controller: version {}: {}", written.version, p.message);
                decision.version = Some(written.version);
            }
            Err(ApplyError::Changed(why)) => {
                // An operator (or a file upload) changed this canary after it was judged: the
                // judgement no longer applies. Judge again next tick against their version.
                println!(
                    "edgeflag: canary-controller: {}: {} not applied, the canary {why}; judging again next tick",
                    label(target),
                    decision.judgement.action.as_str()
                );
                decision.error = Some(format!("the canary {why}"));
            }
            Err(ApplyError::Store(e)) => {
                println!("edgeflag: canary-controller: {}: {} not applied: {e}", label(target), decision.judgement.action.as_str());
                decision.error = Some(e.to_string());
            }
        }
        if let Some(last) = self.judgements.write().get_mut(target) {
            last.decision_version = decision.version;
            last.error = decision.error.clone();
        }
        decision
    }
}

impl Controller {
    /// Counts the arms the source could not read and logs an error when it changes (an
    /// outage is logged when it starts and when it ends, not every tick).
    fn note_source_error(&mut self, target: &Target, error: Option<&str>, arms: usize) {
        self.judgements.stats.metrics_errors.fetch_add(arms as u64, Ordering::Relaxed);
        match error {
            Some(e) if self.last_source_error.get(target).map(String::as_str) != Some(e) => {
                println!("edgeflag: canary-controller: {}: no metrics from {} (judged as no data): {e}", label(target), self.source.describe());
                self.last_source_error.insert(target.clone(), e.to_string());
            }
            None if self.last_source_error.remove(target).is_some() => {
                println!("edgeflag: canary-controller: {}: metrics from {} again", label(target), self.source.describe());
            }
            _ => {}
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum ApplyError {
    #[error("{0}")]
    Changed(String),
    #[error("{0}")]
    Store(#[from] WriteError),
}

/// Where a target's canary sits in its flag: `canary` or `environments.<env>.canary`.
fn canary_path((_, env): &Target) -> MergePath {
    match env {
        None => MergePath(vec![Segment::Field("canary".into())]),
        Some(env) => MergePath(vec![
            Segment::Field("environments".into()),
            Segment::Field(env.clone()),
            Segment::Field("canary".into()),
        ]),
    }
}

/// The canary's fields (`canary.status`, `environments.prod.canary.current_stage`…) that differ
/// between two versions of its flag; the canary itself when it appeared or went away.
fn changed_canary_fields(target: &Target, judged: &Value, now: &Value) -> Vec<String> {
    let get = |flag: &Value| -> Option<Value> {
        let mut flag = flag.clone();
        canary_slot(&mut flag, target).map(|v| v.clone())
    };
    let prefix = canary_path(target).to_string();
    match (get(judged), get(now)) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))).collect();
            keys.retain(|k| a.get(*k) != b.get(*k));
            keys.iter().map(|k| format!("{prefix}.{k}")).collect()
        }
        (a, b) if a == b => Vec::new(),
        _ => vec![prefix],
    }
}

fn canary_slot<'a>(flag: &'a mut Value, (_, env): &Target) -> Option<&'a mut Value> {
    match env {
        None => flag.get_mut("canary"),
        Some(env) => flag.get_mut("environments")?.get_mut(env)?.get_mut("canary"),
    }
}

/// Runs ticks every `config.interval` until `stop` turns true; with replicas, only while this
/// one leads.
pub async fn run(mut controller: Controller, mut stop: watch::Receiver<bool>) {
    match controller.judgements.stats.running.write() {
        Ok(mut g) => *g = Some((controller.source.kind(), controller.config.interval)),
        Err(p) => *p.into_inner() = Some((controller.source.kind(), controller.config.interval)),
    }
    let mut ticker = tokio::time::interval(controller.config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_leading = false;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        let leading = controller.leading();
        if was_leading && !leading {
            controller.step_down();
        }
        was_leading = leading;
        if !leading {
            continue;
        }
        // Reading a remote source may take up to its timeout: a stop does not wait for it.
        let gathered = tokio::select! {
            g = controller.gather() => g,
            _ = stop.changed() => return,
        };
        // SQLite writes are short; block_in_place keeps them off the async workers' queue.
        tokio::task::block_in_place(|| {
            controller.decide(gathered);
        });
    }
}

/// What a hold is about, to send its webhook once per cause: the stage, the checks that did
/// not pass (and how), the failure count, and whether the stage's minimum duration has passed.
fn hold_cause(j: &CanaryJudgement) -> String {
    let checks: Vec<String> = j
        .checks
        .iter()
        .filter(|c| c.outcome != edgeflag_evaluator::judgement::Outcome::Pass)
        .map(|c| serde_json::to_string(&(&c.check, &c.outcome)).unwrap_or_default())
        .collect();
    let served = matches!((j.elapsed_ms, j.min_duration_ms), (Some(e), Some(m)) if e >= m);
    format!("{}|{}|{}|{}", j.stage, j.consecutive_failures, served, checks.join(","))
}

/// Every running canary in the file: the base one, then environment overrides.
pub fn running_canaries(file: &FlagFile) -> Vec<Target> {
    all_canaries(file)
        .into_iter()
        .filter(|t| find_canary(file, t).is_some_and(|c| c.status == CanaryStatus::Running))
        .collect()
}

/// Every canary in the file, whatever its status: per flag the base one, then environment
/// overrides (in name order).
pub fn all_canaries(file: &FlagFile) -> Vec<Target> {
    file.flags.iter().flat_map(|flag| canary_envs(flag).into_iter().map(|env| (flag.key.clone(), env))).collect()
}

/// Where `flag` declares a canary: `None` for its own, then the environments whose override
/// puts one in force (in name order).
pub fn canary_envs(flag: &Flag) -> Vec<Option<String>> {
    let places = std::iter::once(None).chain(flag.environments.keys().map(|e| Some(e.as_str())));
    places.filter(|&env| declared_canary(flag, env).is_some()).map(|env| env.map(str::to_string)).collect()
}

/// The canary in force in `env` ([`Flag::split`]) when `env` is where it is declared.
fn declared_canary<'a>(flag: &'a Flag, env: Option<&str>) -> Option<&'a Canary> {
    let split = flag.split(env);
    (split.owner == env).then_some(split.canary)?
}

/// The canary a target names: the split in force in its environment ([`Flag::split`]) when
/// that environment is where the split is declared (`None`: the flag's own). An environment
/// that keeps the flag's split runs the base canary, which is the target `(key, None)`.
pub fn find_canary<'a>(file: &'a FlagFile, (key, env): &Target) -> Option<&'a Canary> {
    declared_canary(file.flags.iter().find(|f| &f.key == key)?, env.as_deref())
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
            .filter(|e| flag.split(Some(e)).owner.is_none())
            .cloned()
            .collect(),
    )
}

/// How often an unchanged hold is logged again (its figures still move every tick).
const HOLD_LOG_EVERY_MS: i64 = 60_000;

/// A hold's stage and reasons with every figure taken out: two holds with the same shape say
/// the same thing with other numbers.
fn hold_shape(stage: usize, reasons: &[String]) -> String {
    let mut shape = format!("{stage}:");
    for r in reasons {
        let mut in_number = false;
        for c in r.chars() {
            if c.is_ascii_digit() {
                if !in_number {
                    shape.push('#');
                }
                in_number = true;
            } else if !(in_number && c == '.') {
                shape.push(c);
                in_number = false;
            }
        }
        shape.push('\n');
    }
    shape
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
    #[test]
    fn holds_that_differ_only_in_their_figures_have_one_shape() {
        let hold = |needs: &str, rate: &str| {
            vec![format!("too little traffic: needs about {needs} more canary requests (≈ 1m21s at the current rate of {rate}/s)")]
        };
        let a = super::hold_shape(0, &hold("1294", "16.04"));
        assert_eq!(a, super::hold_shape(0, &hold("859", "15.7")));
        assert!(a.contains("needs about # more") && a.contains("rate of #/s"), "{a}");
        assert_ne!(a, super::hold_shape(1, &hold("859", "15.7")), "another stage");
        assert_ne!(a, super::hold_shape(0, &["no check fails".to_string()]), "another reason");
    }

    use super::*;
    use crate::metrics::Event;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
        rt.unwrap_or_else(|e| panic!("{e}")).block_on(f)
    }

    /// Reads `target`'s arms with the controller's own source and judges it (no write yet).
    fn judge_now(ctl: &mut Controller, target: Target) -> Option<(Decision, Option<Pending>)> {
        let Gathered { snap, now_ms, arms } = block_on(ctl.gather());
        let arms = arms.into_iter().find(|(t, _)| *t == target)?.1;
        ctl.judge(&snap, now_ms, target, arms)
    }

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

    /// The judged range starts at the stage start (totals that only grow while the stage runs),
    /// whatever the stage's `min_duration`; `--controller-window` asks for a sliding window.
    #[test]
    fn the_judged_range_starts_at_the_stage_start() {
        let now = clock::parse_rfc3339_ms("2026-12-01T10:20:00Z").unwrap_or_else(|| panic!("time"));
        let mut canary = canary_of(&store().1, "a");
        canary.stage_started_at = Some("2026-12-01T10:05:00Z".into());
        let start = now - 15 * 60_000;
        assert_eq!(judged_range(&canary, None, now), (start, now));
        assert_eq!(judged_range(&canary, Some(Duration::from_secs(60)), now), (now - 60_000, now), "a window");
        assert_eq!(judged_range(&canary, Some(Duration::from_secs(3600)), now), (now - 3_600_000, now), "whatever the stage");
        // A window starting within a 10 s bucket reads that whole bucket (it is no stage boundary).
        assert_eq!(judged_range(&canary, Some(Duration::from_secs(4)), now + 7_000), (now, now + 7_000));
        canary.stage_started_at = Some("2026-12-01T11:00:00Z".into());
        assert_eq!(judged_range(&canary, None, now), (now, now), "a start in the future: nothing yet");
        canary.stage_started_at = None;
        assert_eq!(judged_range(&canary, None, now), (now - 3_600_000, now), "unknown start: the retained hour");
    }

    /// Which canary each environment runs, as the engine evaluates it: the controller's
    /// targets, the environments whose metrics judge the flag's own canary, and the demo's
    /// clock restart all follow `Flag::split`.
    #[test]
    fn targets_and_metric_environments_follow_the_split_in_force() {
        let stage = serde_json::json!([{"percent": 100, "min_duration": "1s", "gate": {"max_error_rate": 0.05, "max_p99_ms": 500, "min_samples": 10}}]);
        let file = serde_json::json!({
            "schema_version": 1, "environments": ["dev", "staging", "prod", "qa"],
            "flags": [{
                "key": "f", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
                "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}],
                // The flag's own canary serves "on" to everyone; dev's own serves "off".
                "canary": {"baseline": "off", "canary": "on", "stages": stage},
                "environments": {
                    "dev": {"canary": {"baseline": "on", "canary": "off", "stages": stage}},
                    "staging": {"rollout": {"percent_bp": 10000, "variation": "off"}},
                    "prod": {"enabled": true, "deny": ["nobody"]},
                }
            }]
        });
        let set = FlagSet::from_json(&file.to_string()).unwrap_or_else(|e| panic!("{e}"));
        let file = set.file();
        let base: Target = ("f".into(), None);
        let dev: Target = ("f".into(), Some("dev".into()));
        assert_eq!(all_canaries(file), [base.clone(), dev.clone()]);
        assert_eq!(find_canary(file, &dev).map(|c| c.canary.as_str()), Some("off"));
        for env in ["staging", "prod", "qa", "undeclared"] {
            assert!(find_canary(file, &("f".into(), Some(env.into()))).is_none(), "{env}: no canary declared there");
        }
        let base_envs = metric_envs(file, "f", None).unwrap_or_default();
        assert_eq!(base_envs, ["prod", "qa"], "prod overrides only targeting; staging's rollout replaces the canary");
        assert_eq!(metric_envs(file, "f", Some("dev")), Some(vec!["dev".to_string()]));
        // The engine agrees: the flag's canary ("on" on the canary arm) runs exactly there.
        let user = edgeflag_evaluator::Context::new("u");
        for env in &file.environments {
            let r = set.evaluate("f", &user, Some(env));
            let runs_base = r.arm == Some(edgeflag_evaluator::Arm::Canary) && r.variant == Some("on");
            assert_eq!(runs_base, base_envs.contains(env), "{env}");
        }
        assert_eq!(set.evaluate("f", &user, Some("dev")).variant, Some("off"));
        // The demo restarts the clocks of those two canaries, each where it is declared.
        let mut file = file.clone();
        assert_eq!(crate::demo::restart_stage_clocks(&mut file, "2026-12-02T00:00:00Z"), 2);
        let started = |t: &Target| find_canary(&file, t).and_then(|c| c.stage_started_at.clone());
        assert_eq!((started(&base).as_deref(), started(&dev).as_deref()), (Some("2026-12-02T00:00:00Z"), Some("2026-12-02T00:00:00Z")));
    }

    /// Two running canaries, A and B, with stages judged after 1 s (started long ago).
    fn store() -> (tempfile::TempDir, Arc<FlagStore>) {
        let flag = |key: &str| {
            serde_json::json!({
                "key": key, "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
                "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}],
                "canary": {"baseline": "off", "canary": "on", "status": "running", "current_stage": 0,
                           "stage_started_at": "2020-01-01T00:00:00Z",
                           "stages": [{"percent": 10, "min_duration": "1s", "gate": {"max_error_rate": 0.05, "max_p99_ms": 500, "min_samples": 10}},
                                      {"percent": 50, "min_duration": "1s", "gate": {"max_error_rate": 0.05, "max_p99_ms": 500, "min_samples": 10}}]}
            })
        };
        let file = serde_json::json!({"schema_version": 1, "environments": ["prod"], "flags": [flag("a"), flag("b")]});
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = FlagStore::open(dir.path(), || Ok((file.to_string(), "import".into()))).unwrap_or_else(|e| panic!("{e}"));
        (dir, Arc::new(store))
    }

    /// A controller that rolls back at the first failed judgement, with failing events for B.
    fn controller(flags: &Arc<FlagStore>) -> (Controller, Arc<Judgements>) {
        let metrics = Arc::new(MetricsStore::new());
        let now = clock::now_ms();
        let events: Vec<Event> = (0..100)
            .map(|i| Event {
                ts_ms: now - i,
                flag: "b".into(),
                env: "prod".into(),
                arm: "canary".into(),
                stage: None,
                error: i % 2 == 0,
                latency_ms: 20.0,
            })
            .collect();
        assert_eq!(metrics.ingest(&events, now).accepted, 100);
        let judgements = Arc::new(Judgements::default());
        let config = ControllerConfig {
            interval: Duration::from_secs(1),
            window: Some(Duration::from_secs(60)),
            policy: CanaryPolicy { failures_to_rollback: 1, compare_with_baseline: false, ..Default::default() },
        };
        (Controller::new(flags.clone(), metrics, judgements.clone(), config), judgements)
    }

    fn b_target() -> Target {
        ("b".to_string(), None)
    }

    fn canary_of(flags: &FlagStore, key: &str) -> Canary {
        find_canary(flags.current().flags.file(), &(key.to_string(), None)).cloned().unwrap_or_else(|| panic!("no canary {key}"))
    }

    fn admin_edit(flags: &FlagStore, key: &str, patch: serde_json::Value) {
        let snap = flags.current();
        let base = crate::edit::Base::At { version: snap.version, item: snap.item(ItemKind::Flag, key) };
        crate::edit::write(flags, ItemKind::Flag, key, &base, &crate::edit::Change::Patch(patch), WriteMeta { author: "alice", message: "" })
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// An admin's write to another flag lands between the judgement and the write: the
    /// decision is still written (no skipped tick), and the admin's change stays.
    #[test]
    fn a_write_to_another_flag_between_judgement_and_write_does_not_stop_the_decision() {
        let (_dir, flags) = store();
        let (mut ctl, judgements) = controller(&flags);
        let Some((decision, Some(pending))) = judge_now(&mut ctl, b_target()) else { panic!("b is judged with a write to make") };
        assert_eq!(decision.judgement.action, CanaryAction::Rollback);
        admin_edit(&flags, "a", serde_json::json!({"description": "edited meanwhile"}));
        admin_edit(&flags, "b", serde_json::json!({"tags": ["edited", "meanwhile"]}));
        let decision = ctl.apply(decision, pending);
        assert_eq!((decision.version, decision.error.as_deref()), (Some(4), None));
        assert_eq!(canary_of(&flags, "b").status, CanaryStatus::RolledBack);
        let file = flags.current();
        assert_eq!(file.flags.file().flags[0].description, "edited meanwhile");
        assert_eq!(file.flags.file().flags[1].tags, ["edited", "meanwhile"]);
        let last = judgements.get(&b_target()).unwrap_or_else(|| panic!("judgement recorded"));
        assert_eq!((last.file_version, last.decision_version, last.action), (1, Some(4), CanaryAction::Rollback));
        assert!(last.reasons.iter().any(|r| r.contains("error rate")), "{:?}", last.reasons);
        let history = flags.history(1).unwrap_or_default();
        assert_eq!((history[0].author.as_str(), history[0].changed_flags.as_slice()), (AUTHOR, ["b".to_string()].as_slice()));
    }

    /// An operator pauses the canary after it was judged: the decision is dropped, the pause
    /// stays, and the canary is left alone from then on.
    #[test]
    fn a_change_to_the_same_canary_between_judgement_and_write_refuses_the_decision() {
        let (_dir, flags) = store();
        let (mut ctl, judgements) = controller(&flags);
        let Some((decision, Some(pending))) = judge_now(&mut ctl, b_target()) else { panic!("b is judged with a write to make") };
        admin_edit(&flags, "b", serde_json::json!({"canary": {"status": "paused"}}));
        let decision = ctl.apply(decision, pending);
        assert_eq!(decision.version, None);
        assert!(decision.error.as_deref().is_some_and(|e| e.contains("canary.status")), "{:?}", decision.error);
        assert_eq!(canary_of(&flags, "b").status, CanaryStatus::Paused);
        assert_eq!(flags.current().version, 2);
        let last = judgements.get(&b_target()).unwrap_or_else(|| panic!("judgement recorded"));
        assert_eq!(last.decision_version, None);
        assert!(last.error.is_some());
        // Next tick: paused canaries are not judged; nothing is written.
        assert!(block_on(ctl.tick()).iter().all(|d| d.flag != "b"));
        assert_eq!(flags.current().version, 2);

        // New gates for a running canary also void a judgement made with the old ones.
        let (_dir, flags) = store();
        let (mut ctl, _) = controller(&flags);
        let Some((decision, Some(pending))) = judge_now(&mut ctl, b_target()) else { panic!("judged") };
        let mut gates = serde_json::to_value(&canary_of(&flags, "b").stages).unwrap_or_default();
        gates[0]["gate"]["max_error_rate"] = serde_json::json!(0.9);
        admin_edit(&flags, "b", serde_json::json!({"canary": {"stages": gates}}));
        assert_eq!(ctl.apply(decision, pending).version, None);
        assert_eq!(canary_of(&flags, "b").status, CanaryStatus::Running);
    }
}
