//! The server's live canary state (`GET /api/canaries`: stage, status and the controller's last
//! judgement of every canary) and the manual actions (pause, resume, advance, roll back) as
//! JSON Merge Patches of a flag's canary fields, sent to `PATCH /api/flags/{key}`. The Canary
//! tab shows what the server has, never the draft, and acts on the server directly.

use edgeflag_evaluator::model::{Canary, CanaryStatus, Flag};
use serde_json::{json, Map, Value};

use crate::canary::{apply_manual, effective_canary, ManualAction};
use crate::json::{self, Field};

/// `GET /api/canaries`.
#[derive(Debug, Clone, PartialEq)]
pub struct Canaries {
    /// The flag-file version the states are from.
    pub version: u64,
    pub canaries: Vec<CanaryState>,
}

/// One canary (a flag's base canary, `env: None`, or an environment override's).
#[derive(Debug, Clone, PartialEq)]
pub struct CanaryState {
    pub flag: String,
    pub env: Option<String>,
    pub status: String,
    pub current_stage: usize,
    pub stage_count: usize,
    pub stage_started_at: Option<String>,
    /// The current stage's percentage.
    pub percent: Option<f64>,
    pub last_judgement: Option<Judgement>,
}

/// The controller's latest judgement of a canary (kept in the server's memory).
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub at: String,
    /// The file version it judged.
    pub file_version: Option<u64>,
    pub action: String,
    pub reasons: Vec<String>,
    pub checks: Vec<Check>,
    pub consecutive_failures: u64,
    pub stage: usize,
    /// The version that decision wrote (advance, complete, rollback), if any.
    pub decision_version: Option<u64>,
    /// Why the decision was not written, when it was not (e.g. the canary changed meanwhile).
    pub error: Option<String>,
}

/// One of the evaluator's checks, as the server serializes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub check: String,
    pub outcome: String,
    pub observed: Option<f64>,
    pub limit: Option<f64>,
    pub baseline: Option<f64>,
    pub p_value: Option<f64>,
    pub reason: String,
}

pub fn parse_canaries(text: &str) -> Result<Canaries, String> {
    json::decode(text, |f| {
        Ok(Canaries { version: f.field("version")?.u64_or_zero()?, canaries: f.field("canaries")?.items(canary_state)? })
    })
    .map_err(|e| format!("unexpected /api/canaries response: {e}"))
}

fn usize_of(f: Field<'_>) -> Result<usize, String> {
    let n = f.u64_or_zero()?;
    usize::try_from(n).map_err(|_| f.invalid("a stage index"))
}

fn canary_state(f: Field<'_>) -> Result<CanaryState, String> {
    Ok(CanaryState {
        flag: f.field("flag")?.string()?,
        env: f.field("env")?.opt_string()?,
        status: f.field("status")?.string()?,
        current_stage: usize_of(f.field("current_stage")?)?,
        stage_count: usize_of(f.field("stage_count")?)?,
        stage_started_at: f.field("stage_started_at")?.opt_string()?,
        percent: f.field("percent")?.opt_f64()?,
        last_judgement: match f.field("last_judgement")? {
            j if j.value().is_some() => Some(judgement(j)?),
            _ => None,
        },
    })
}

fn judgement(f: Field<'_>) -> Result<Judgement, String> {
    Ok(Judgement {
        at: f.field("at")?.string_or_empty()?,
        file_version: f.field("file_version")?.opt_u64()?,
        action: f.field("action")?.string()?,
        reasons: f.field("reasons")?.items(json::string)?,
        checks: f.field("checks")?.items(|c| {
            Ok(Check {
                check: c.field("check")?.string()?,
                outcome: c.field("outcome")?.string()?,
                observed: c.field("observed")?.opt_f64()?,
                limit: c.field("limit")?.opt_f64()?,
                baseline: c.field("baseline")?.opt_f64()?,
                p_value: c.field("p_value")?.opt_f64()?,
                reason: c.field("reason")?.string_or_empty()?,
            })
        })?,
        consecutive_failures: f.field("consecutive_failures")?.u64_or_zero()?,
        stage: usize_of(f.field("stage")?)?,
        decision_version: f.field("decision_version")?.opt_u64()?,
        error: f.field("error")?.opt_string()?,
    })
}

/// Which canary `env` runs (as [`effective_canary`] chooses): `Some(None)` the flag's own,
/// `Some(Some(env))` the environment override's, `None` no canary there.
pub fn canary_owner(flag: &Flag, env: Option<&str>) -> Option<Option<String>> {
    let canary = effective_canary(flag, env)?;
    let own = flag.canary.as_ref().is_some_and(|c| std::ptr::eq(c, canary));
    Some(if own { None } else { env.map(str::to_string) })
}

/// The state of the canary `env` runs for `flag`.
pub fn state_for<'a>(canaries: &'a Canaries, flag: &Flag, env: Option<&str>) -> Option<&'a CanaryState> {
    let owner = canary_owner(flag, env)?;
    canaries.canaries.iter().find(|c| c.flag == flag.key && c.env == owner)
}

/// The merge patch of `flag` that applies a manual action to the canary `env` runs, with `now`
/// (RFC 3339) as the start of a new stage. Only the canary fields the action changes are in it,
/// so the server applies it on purpose, and refuses it (409) when the controller changed one
/// of them since the version the admin acted on.
pub fn manual_patch(flag: &Flag, env: Option<&str>, action: ManualAction, now: &str) -> Result<Value, String> {
    let owner = canary_owner(flag, env).ok_or_else(|| format!("{} has no canary here", flag.key))?;
    let before = effective_canary(flag, env).cloned().ok_or_else(|| format!("{} has no canary here", flag.key))?;
    let mut after = before.clone();
    apply_manual(&mut after, action, now)?;
    let changes = controller_fields_changed(&before, &after);
    if changes.is_empty() {
        return Err(format!("{}: the canary is already {}", flag.key, before.status.as_str()));
    }
    let canary = json!({ "canary": Value::Object(changes) });
    Ok(match owner {
        None => canary,
        Some(env) => json!({ "environments": { env: canary } }),
    })
}

fn controller_fields_changed(before: &Canary, after: &Canary) -> Map<String, Value> {
    let mut m = Map::new();
    if before.status != after.status {
        m.insert("status".into(), json!(after.status.as_str()));
    }
    if before.current_stage != after.current_stage {
        m.insert("current_stage".into(), json!(after.current_stage));
    }
    if before.stage_started_at != after.stage_started_at {
        m.insert("stage_started_at".into(), json!(after.stage_started_at));
    }
    m
}

/// One of the evaluator's check results, as the server serializes it (for one table of checks
/// for the controller's judgement and the page's own).
pub fn check_of(c: &edgeflag_evaluator::judgement::CheckResult) -> Check {
    let name = |v: serde_json::Result<Value>| v.ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    Check {
        check: name(serde_json::to_value(c.check)),
        outcome: name(serde_json::to_value(c.outcome)),
        observed: c.observed,
        limit: c.limit,
        baseline: c.baseline,
        p_value: c.p_value,
        reason: c.reason.clone(),
    }
}

/// A status as the server writes it.
pub fn status_from(text: &str) -> Option<CanaryStatus> {
    [CanaryStatus::Running, CanaryStatus::Paused, CanaryStatus::RolledBack, CanaryStatus::Completed]
        .into_iter()
        .find(|s| s.as_str() == text)
}

/// The published canary (stages, gates) with the live state's status, stage and stage start:
/// what the server runs now, for the stage table and the page's own judgement.
pub fn with_live(mut canary: Canary, live: &CanaryState) -> Canary {
    if let Some(status) = status_from(&live.status) {
        canary.status = status;
    }
    canary.current_stage = live.current_stage;
    canary.stage_started_at = live.stage_started_at.clone();
    canary
}

/// Whether the canary in `flag` (as just fetched) is still in the state the view showed: the
/// admin acts on what they saw, or not at all.
pub fn still_as_shown(flag: &Flag, env: Option<&str>, shown: &CanaryState) -> Result<(), String> {
    let Some(c) = effective_canary(flag, env) else {
        return Err(format!("{} has no canary here any more", flag.key));
    };
    if c.status.as_str() == shown.status && c.current_stage == shown.current_stage {
        Ok(())
    } else {
        Err(format!(
            "the canary of {} changed on the server since this view showed it: it is now {} at stage {} (was {} at stage {})",
            flag.key,
            c.status.as_str(),
            c.current_stage + 1,
            shown.status,
            shown.current_stage + 1
        ))
    }
}

/// One flag's JSON (`GET /api/flags/{key}`), read by the engine's flag-file reader.
pub fn decode_flag(text: &str) -> Result<Flag, String> {
    let file = format!("{{\"schema_version\": 1, \"flags\": [{text}]}}");
    let mut problems = Default::default();
    edgeflag_evaluator::decode::decode(&file, &mut problems)
        .and_then(edgeflag_evaluator::decode::Decoded::into_complete)
        .filter(|f| f.flags.len() == 1)
        .and_then(|mut f| f.flags.pop())
        .ok_or_else(|| format!("unexpected flag from the server: {problems:?}"))
}

/// Whether a button makes sense for a canary in `status` (the server decides in the end).
pub fn action_applies(action: ManualAction, status: &str) -> bool {
    match action {
        ManualAction::Advance => matches!(status, "running" | "paused"),
        ManualAction::Pause => status == "running",
        // Re-opening a rolled-back canary is allowed, on purpose and after a confirmation.
        ManualAction::Resume => matches!(status, "paused" | "rolled_back"),
        ManualAction::Rollback => status != "rolled_back",
    }
}

/// What the confirmation asks, e.g. "Pause the canary of payment-processor (prod) at stage 2
/// of 4 on the server?".
pub fn confirm_text(action: ManualAction, flag: &str, env: Option<&str>, state: &CanaryState) -> String {
    let verb = match action {
        ManualAction::Advance => "Advance",
        ManualAction::Pause => "Pause",
        ManualAction::Resume => "Resume",
        ManualAction::Rollback => "Roll back",
    };
    let env = env.map(|e| format!(" ({e})")).unwrap_or_default();
    format!(
        "{verb} the canary of {flag}{env}, now {} at stage {} of {}, on the server?",
        state.status,
        state.current_stage + 1,
        state.stage_count
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &str = r#"{"version": 12, "canaries": [
      {"flag": "payment-processor", "env": null, "status": "running", "current_stage": 1, "stage_count": 4,
       "stage_started_at": "2026-12-01T10:00:00Z", "percent": 10,
       "last_judgement": {"at": "2026-12-01T10:00:30Z", "file_version": 11, "action": "advance",
         "reasons": ["stage 0 healthy for 15s"], "consecutive_failures": 0, "stage": 0, "decision_version": 12, "error": null,
         "checks": [{"check": "error_rate", "outcome": "pass", "observed": 0.004, "limit": 0.02, "reason": "0.4 % ≤ 2 %"}]}},
      {"flag": "payment-processor", "env": "dev", "status": "completed", "current_stage": 0, "stage_count": 1,
       "stage_started_at": null, "percent": 100, "last_judgement": null}]}"#;

    fn flag() -> Flag {
        crate::testdata::example().flags.into_iter().find(|f| f.key == "payment-processor").unwrap()
    }

    #[test]
    fn the_live_state_and_the_controllers_judgement_decode() {
        let c = parse_canaries(RESPONSE).unwrap();
        assert_eq!(c.version, 12);
        let j = c.canaries[0].last_judgement.as_ref().unwrap();
        assert_eq!((j.action.as_str(), j.decision_version, j.checks[0].limit), ("advance", Some(12), Some(0.02)));
        assert_eq!(c.canaries[1].last_judgement, None);
        assert!(parse_canaries(r#"{"version": 1, "canaries": [{"flag": 3}]}"#).unwrap_err().contains("canaries[0].flag"));
    }

    #[test]
    fn each_environment_finds_the_canary_it_runs() {
        let c = parse_canaries(RESPONSE).unwrap();
        let f = flag();
        assert_eq!(canary_owner(&f, None), Some(None));
        assert_eq!(canary_owner(&f, Some("dev")), Some(Some("dev".into())));
        assert_eq!(canary_owner(&f, Some("prod")), Some(None), "prod has no override: the flag's canary");
        assert_eq!(state_for(&c, &f, Some("prod")).map(|s| s.current_stage), Some(1));
        assert_eq!(state_for(&c, &f, Some("dev")).map(|s| s.status.as_str()), Some("completed"));
    }

    #[test]
    fn the_view_acts_only_on_what_it_showed() {
        let c = parse_canaries(RESPONSE).unwrap();
        let f = flag();
        let shown = state_for(&c, &f, None).unwrap();
        // The example's canary is at stage 0; the server state said stage 1: stale view.
        let err = still_as_shown(&f, None, shown).unwrap_err();
        assert!(err.contains("now running at stage 1 (was running at stage 2)"), "{err}");
        let live = with_live(f.canary.clone().unwrap(), shown);
        assert_eq!((live.current_stage, live.stage_started_at.as_deref()), (1, Some("2026-12-01T10:00:00Z")));
        let mut moved = f.clone();
        moved.canary = Some(live);
        assert_eq!(still_as_shown(&moved, Some("prod"), shown), Ok(()));
        assert_eq!(status_from("rolled_back"), Some(CanaryStatus::RolledBack));
        assert_eq!(status_from("nope"), None);
    }

    #[test]
    fn the_pages_checks_read_like_the_servers() {
        use edgeflag_evaluator::judgement::{CheckKind, CheckResult, Outcome};
        let c = CheckResult {
            check: CheckKind::ErrorRateVsBaseline,
            outcome: Outcome::NoData,
            observed: Some(0.5),
            limit: None,
            baseline: None,
            p_value: Some(0.01),
            reason: "why".into(),
        };
        let got = check_of(&c);
        assert_eq!((got.check.as_str(), got.outcome.as_str(), got.p_value), ("error_rate_vs_baseline", "no_data", Some(0.01)));
    }

    #[test]
    fn buttons_follow_the_status() {
        use ManualAction::*;
        let allowed = |status: &str| [Advance, Pause, Resume, Rollback].into_iter().filter(|a| action_applies(*a, status)).collect::<Vec<_>>();
        assert_eq!(allowed("running"), [Advance, Pause, Rollback]);
        assert_eq!(allowed("paused"), [Advance, Resume, Rollback]);
        assert_eq!(allowed("rolled_back"), [Resume]);
        assert_eq!(allowed("completed"), [Rollback]);
    }

    #[test]
    fn a_flag_from_the_server_decodes() {
        let f = flag();
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(decode_flag(&text).unwrap(), f);
        assert!(decode_flag("{\"key\": 1}").is_err());
        assert!(decode_flag("]").is_err());
    }

    #[test]
    fn actions_patch_only_the_fields_they_change() {
        let f = flag();
        let now = "2026-12-01T11:00:00Z";
        assert_eq!(manual_patch(&f, Some("prod"), ManualAction::Pause, now), Ok(json!({"canary": {"status": "paused"}})));
        assert_eq!(manual_patch(&f, None, ManualAction::Rollback, now), Ok(json!({"canary": {"status": "rolled_back"}})));
        assert_eq!(
            manual_patch(&f, None, ManualAction::Advance, now),
            Ok(json!({"canary": {"current_stage": 1, "stage_started_at": now}}))
        );
        // Resuming a running canary changes nothing but its start: still sent, on purpose.
        let resume = manual_patch(&f, None, ManualAction::Resume, now).unwrap();
        assert_eq!(resume, json!({"canary": {"stage_started_at": now}}));
        // An override's canary is patched inside its environment.
        assert!(manual_patch(&f, Some("dev"), ManualAction::Advance, now).is_err(), "completed: nothing to advance");
        assert_eq!(
            manual_patch(&f, Some("dev"), ManualAction::Rollback, now),
            Ok(json!({"environments": {"dev": {"canary": {"status": "rolled_back"}}}}))
        );
        let mut paused = f.clone();
        if let Some(c) = paused.canary.as_mut() {
            c.status = edgeflag_evaluator::model::CanaryStatus::Paused;
        }
        assert!(manual_patch(&paused, None, ManualAction::Pause, now).unwrap_err().contains("already paused"));
        let s = &parse_canaries(RESPONSE).unwrap().canaries[0];
        assert_eq!(
            confirm_text(ManualAction::Pause, "payment-processor", Some("prod"), s),
            "Pause the canary of payment-processor (prod), now running at stage 2 of 4, on the server?"
        );
    }
}
