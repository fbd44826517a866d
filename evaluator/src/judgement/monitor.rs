//! The per-canary controller step as a pure state machine: what the server's controller, the
//! dashboard and the simulation keep between two judgements of the same canary.

use serde::{Deserialize, Serialize};

use super::canary::{judge_with, CanaryInput, CanaryJudgement};
use super::evidence::{StageEvidence, MAX_EARLIER_STAGES};
use super::policy::CanaryPolicy;
use super::JudgementError;
use crate::model::{Canary, CanaryStatus};

/// The state of one canary between judgements: the consecutive-failure count of the current
/// stage and the comparisons' evidence from the earlier stages of the run.
///
/// Call [`judge`](CanaryMonitor::judge) on every tick with the canary as it is in the file now
/// and the totals since its `stage_started_at`; apply the returned action. The monitor notices
/// by itself when
///
/// - the **stage changes** (another `current_stage` or `stage_started_at`: an advance, a
///   resume, an admin's edit): the failure count starts again at 0 and the finished stage's
///   evidence is carried into the comparisons (at most 64 stages; older ones are dropped);
/// - the **run changes** (other `baseline`/`canary` variations, or the canary was rolled back
///   or completed): everything starts again;
/// - the **same tick is judged again** (the same `input.now`, e.g. a dashboard re-judging the
///   same fetch after a draft edit): the failure count is not counted twice.
///
/// A paused canary is left alone (no action) and keeps its state for when it resumes.
/// Deterministic and serializable: a controller can persist it to survive restarts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CanaryMonitor {
    /// (baseline, canary) variation names of the run.
    run: Option<(String, String)>,
    /// (current_stage, stage_started_at) of the stage being judged.
    stage: Option<(usize, Option<String>)>,
    /// The last evidence of the stage being judged.
    current: Option<StageEvidence>,
    earlier: Vec<StageEvidence>,
    failures: u32,
    /// The last `now` judged and the failure count it was judged with.
    last_tick: Option<(String, u32)>,
}

impl CanaryMonitor {
    pub fn new() -> CanaryMonitor {
        CanaryMonitor::default()
    }

    /// Judges `canary` on `input` (its `consecutive_failures` and `earlier_stages` are
    /// replaced by the monitor's) and records the outcome.
    pub fn judge(&mut self, canary: &Canary, input: &CanaryInput, policy: &CanaryPolicy) -> Result<CanaryJudgement, JudgementError> {
        match canary.status {
            CanaryStatus::Running => {}
            CanaryStatus::Paused => return judge_with(canary, input, self.failures, &self.earlier, policy),
            CanaryStatus::RolledBack | CanaryStatus::Completed => {
                *self = CanaryMonitor::default();
                return judge_with(canary, input, 0, &[], policy);
            }
        }
        let run = (canary.baseline.clone(), canary.canary.clone());
        if self.run.as_ref() != Some(&run) {
            *self = CanaryMonitor { run: Some(run), ..CanaryMonitor::default() };
        }
        let stage = (canary.current_stage, canary.stage_started_at.clone());
        if self.stage.as_ref() != Some(&stage) {
            if let Some(finished) = self.current.take().filter(informative) {
                self.earlier.push(finished);
                if self.earlier.len() > MAX_EARLIER_STAGES {
                    self.earlier.remove(0);
                }
            }
            self.stage = Some(stage);
            self.failures = 0;
            self.last_tick = None;
        }
        let failures = match &self.last_tick {
            Some((now, before)) if *now == input.now => *before,
            _ => self.failures,
        };
        let judgement = judge_with(canary, input, failures, &self.earlier, policy)?;
        self.failures = judgement.consecutive_failures;
        self.current = judgement.stage_evidence.clone();
        self.last_tick = Some((input.now.clone(), failures));
        Ok(judgement)
    }

    /// Evidence carried from the finished stages of this run.
    pub fn earlier_stages(&self) -> &[StageEvidence] {
        &self.earlier
    }

    /// Consecutive failed judgements in the current stage.
    pub fn consecutive_failures(&self) -> u32 {
        self.failures
    }

    /// The count the last judgement started from (the same tick judged again starts from the
    /// same count): what a view shows as "was".
    pub fn judged_with(&self) -> u32 {
        self.last_tick.as_ref().map_or(0, |(_, before)| *before)
    }
}

/// Whether a stage's evidence can move a comparison (both arms had traffic, or a latency shift).
fn informative(e: &StageEvidence) -> bool {
    (e.canary_requests > 0 && e.baseline_requests > 0) || e.latency_shift.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judgement::{ArmMetrics, CanaryAction};
    use crate::model::{CanaryStage, HealthGate};

    fn canary(stage: usize, started: &str) -> Canary {
        let s = |percent| CanaryStage {
            percent,
            min_duration: "1m".into(),
            gate: HealthGate { max_error_rate: 0.05, max_p99_ms: 500.0, min_samples: 10 },
        };
        Canary {
            baseline: "old".into(),
            canary: "new".into(),
            stages: vec![s(10.0), s(50.0), s(100.0)],
            current_stage: stage,
            status: CanaryStatus::Running,
            stage_started_at: Some(started.into()),
            stickiness: None,
            salt: None,
        }
    }

    fn input(now: &str, canary_errors: u64) -> CanaryInput {
        let arm = |requests, errors| Some(ArmMetrics { requests, errors, p99_ms: None, latency: None });
        CanaryInput {
            now: now.into(),
            canary: arm(1000, canary_errors),
            baseline: arm(9000, 90),
            consecutive_failures: 99,
            earlier_stages: Vec::new(),
        }
    }

    const T0: &str = "2026-01-01T10:00:00Z";

    #[test]
    fn failures_count_per_tick_once_and_restart_with_the_stage() {
        let policy = CanaryPolicy { failures_to_rollback: 3, ..Default::default() };
        let mut m = CanaryMonitor::new();
        let bad = |now| input(now, 300);
        let j = m.judge(&canary(0, T0), &bad("2026-01-01T10:00:10Z"), &policy).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((j.action, j.consecutive_failures), (CanaryAction::Hold, 1), "the input's 99 is ignored");
        // The same tick again (a re-render): not counted twice.
        let j = m.judge(&canary(0, T0), &bad("2026-01-01T10:00:10Z"), &policy).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((j.consecutive_failures, m.judged_with()), (1, 0));
        let j = m.judge(&canary(0, T0), &bad("2026-01-01T10:00:20Z"), &policy).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((j.consecutive_failures, m.judged_with()), (2, 1));
        // An admin moved the stage: the count starts again.
        let j = m.judge(&canary(1, "2026-01-01T10:00:25Z"), &bad("2026-01-01T10:00:30Z"), &policy).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(j.consecutive_failures, 1);
        assert_eq!(m.earlier_stages().len(), 1, "stage 0's evidence is carried");
        assert_eq!(m.earlier_stages()[0].stage, 0);
    }

    #[test]
    fn paused_keeps_state_and_a_new_run_forgets_it() {
        let policy = CanaryPolicy::default();
        let mut m = CanaryMonitor::new();
        let _ = m.judge(&canary(0, T0), &input("2026-01-01T10:00:10Z", 10), &policy);
        let _ = m.judge(&canary(1, "2026-01-01T10:01:00Z"), &input("2026-01-01T10:01:10Z", 10), &policy);
        assert_eq!(m.earlier_stages().len(), 1);
        let paused = Canary { status: CanaryStatus::Paused, ..canary(1, "2026-01-01T10:01:00Z") };
        let j = m.judge(&paused, &input("2026-01-01T10:02:00Z", 10), &policy).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(j.action, CanaryAction::NoAction);
        assert_eq!(m.earlier_stages().len(), 1);
        // Resumed: a new stage start, the evidence so far carried (stage 1's first part too).
        let _ = m.judge(&canary(1, "2026-01-01T10:05:00Z"), &input("2026-01-01T10:05:10Z", 10), &policy);
        assert_eq!(m.earlier_stages().len(), 2);
        let other = Canary { canary: "newer".into(), ..canary(0, "2026-01-01T10:06:00Z") };
        let _ = m.judge(&other, &input("2026-01-01T10:06:10Z", 10), &policy);
        assert!(m.earlier_stages().is_empty(), "another canary variation is another run");
        let done = Canary { status: CanaryStatus::RolledBack, ..other };
        let _ = m.judge(&done, &input("2026-01-01T10:07:00Z", 10), &policy);
        assert_eq!(m, CanaryMonitor::default());
    }

    #[test]
    fn carried_stages_are_bounded() {
        let policy = CanaryPolicy::default();
        let mut m = CanaryMonitor::new();
        for i in 0..(MAX_EARLIER_STAGES + 10) {
            let started = format!("2026-01-01T10:{:02}:{:02}Z", i / 60, i % 60);
            let _ = m.judge(&canary(0, &started), &input(&started, 10), &policy);
        }
        assert_eq!(m.earlier_stages().len(), MAX_EARLIER_STAGES);
    }
}
