//! The canaries and the controller on `GET /metrics`: what the shipped Prometheus alerting
//! rules (`deploy/prometheus/edgeflag.rules.yml`) watch.
//!
//! `flag` and `env` name a canary; `env` is empty for a flag's base canary (Prometheus treats
//! an empty label as absent, so `{env=""}` selects base canaries). Every replica exposes the
//! canaries' state from the version it serves (aggregate with `max by (flag, env)`); the
//! judgement series come from the replica whose controller judged them.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use edgeflag_evaluator::judgement::{CanaryAction, Outcome};
use edgeflag_evaluator::model::CanaryStatus;
use edgeflag_evaluator::FlagFile;

use crate::clock;
use crate::controller::{all_canaries, find_canary, Judgements, Target};

/// Every canary status, as the flag file spells it.
const STATES: [(CanaryStatus, &str); 4] = [
    (CanaryStatus::Running, "running"),
    (CanaryStatus::Paused, "paused"),
    (CanaryStatus::Completed, "completed"),
    (CanaryStatus::RolledBack, "rolled_back"),
];

/// Actions a judgement ends in (`no_action` is never recorded: only running canaries are judged).
const ACTIONS: [CanaryAction; 4] = [CanaryAction::Hold, CanaryAction::Advance, CanaryAction::Complete, CanaryAction::Rollback];

/// Appends the canary and controller series.
pub fn render(out: &mut String, file: &FlagFile, judgements: &Judgements) {
    let canaries: Vec<(Target, &edgeflag_evaluator::model::Canary)> =
        all_canaries(file).into_iter().filter_map(|t| find_canary(file, &t).map(|c| (t.clone(), c))).collect();
    let judged = judgements.all();
    let judgement = |t: &Target| judged.iter().find(|(jt, _)| jt == t).map(|(_, j)| j);

    header(out, "edgeflag_canary_state", "gauge", "1 for the canary's status in the served flag file (running, paused, completed, rolled_back), 0 for the others.");
    for (t, c) in &canaries {
        for (status, name) in STATES {
            let _ = writeln!(out, "edgeflag_canary_state{} {}", labels(t, &[("state", name)]), u8::from(c.status == status));
        }
    }
    header(out, "edgeflag_canary_stage", "gauge", "The canary's current_stage (0-based).");
    for (t, c) in &canaries {
        let _ = writeln!(out, "edgeflag_canary_stage{} {}", labels(t, &[]), c.current_stage);
    }
    header(out, "edgeflag_canary_stage_percent", "gauge", "Percentage of traffic on the canary arm at the current stage.");
    for (t, c) in &canaries {
        if let Some(stage) = c.stages.get(c.current_stage) {
            let _ = writeln!(out, "edgeflag_canary_stage_percent{} {}", labels(t, &[]), number(stage.percent));
        }
    }
    header(out, "edgeflag_canary_stage_started_timestamp_seconds", "gauge", "When the current stage started (stage_started_at), Unix seconds.");
    for (t, c) in &canaries {
        if let Some(ms) = c.stage_started_at.as_deref().and_then(clock::parse_rfc3339_ms) {
            let _ = writeln!(out, "edgeflag_canary_stage_started_timestamp_seconds{} {}", labels(t, &[]), seconds(ms));
        }
    }

    header(out, "edgeflag_canary_consecutive_failures", "gauge", "Consecutive failed judgements of the canary at its current stage (the controller rolls back at --controller-failures).");
    header(out, "edgeflag_canary_no_data", "gauge", "1 when the last judgement held for lack of data (a no_data check: no or too few samples, or the metrics source failed).");
    header(out, "edgeflag_canary_last_judgement_timestamp_seconds", "gauge", "When the controller last judged the canary, Unix seconds.");
    header(out, "edgeflag_canary_last_decision", "gauge", "1 for the action of the canary's last judgement (hold, advance, complete, rollback), 0 for the others.");
    for (t, _) in &canaries {
        let Some(j) = judgement(t) else { continue };
        let no_data = j.metrics_error.is_some() || j.checks.iter().any(|c| c.outcome == Outcome::NoData);
        let _ = writeln!(out, "edgeflag_canary_consecutive_failures{} {}", labels(t, &[]), j.consecutive_failures);
        let _ = writeln!(out, "edgeflag_canary_no_data{} {}", labels(t, &[]), u8::from(no_data));
        if let Some(ms) = clock::parse_rfc3339_ms(&j.at) {
            let _ = writeln!(out, "edgeflag_canary_last_judgement_timestamp_seconds{} {}", labels(t, &[]), seconds(ms));
        }
        for action in ACTIONS {
            let _ = writeln!(out, "edgeflag_canary_last_decision{} {}", labels(t, &[("action", action.as_str())]), u8::from(j.action == action));
        }
    }

    let stats = &judgements.stats;
    let Some((source, interval)) = stats.running() else { return };
    header(out, "edgeflag_canary_decisions_total", "counter", "Decisions the controller in this process wrote, per canary and action (advance, complete, rollback).");
    for (t, _) in &canaries {
        for action in ["advance", "complete", "rollback"] {
            let _ = writeln!(out, "edgeflag_canary_decisions_total{} {}", labels(t, &[("action", action)]), stats.decisions(t, action));
        }
    }
    header(out, "edgeflag_controller_interval_seconds", "gauge", "Time between the controller's ticks (--controller-interval).");
    let _ = writeln!(out, "edgeflag_controller_interval_seconds {}", number(interval.as_secs_f64()));
    header(out, "edgeflag_controller_ticks_total", "counter", "Ticks of the canary controller in this process.");
    let _ = writeln!(out, "edgeflag_controller_ticks_total {}", stats.ticks.load(Ordering::Relaxed));
    let last = stats.last_tick_ms.load(Ordering::Relaxed);
    if last > 0 {
        header(out, "edgeflag_controller_last_tick_timestamp_seconds", "gauge", "When the controller's last tick ended, Unix seconds.");
        let _ = writeln!(out, "edgeflag_controller_last_tick_timestamp_seconds {}", seconds(last));
    }
    header(out, "edgeflag_controller_metrics_errors_total", "counter", "Arm queries the controller's metrics source could not answer (judged as no data).");
    let _ = writeln!(
        out,
        "edgeflag_controller_metrics_errors_total{{source=\"{source}\"}} {}",
        stats.metrics_errors.load(Ordering::Relaxed)
    );
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `{flag="…",env="…"[,extra…]}`, escaped as the text format requires.
fn labels((flag, env): &Target, extra: &[(&str, &str)]) -> String {
    let mut s = format!("{{flag=\"{}\",env=\"{}\"", escape(flag), escape(env.as_deref().unwrap_or("")));
    for (name, value) in extra {
        let _ = write!(s, ",{name}=\"{}\"", escape(value));
    }
    s.push('}');
    s
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn seconds(ms: i64) -> String {
    number(ms as f64 / 1000.0)
}

fn number(x: f64) -> String {
    if x.is_finite() { format!("{x}") } else { "NaN".to_string() }
}
