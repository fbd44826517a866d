//! The server's live canary state (`GET /api/canaries`: stage, status and the controller's last
//! judgement of every canary) and the manual actions (pause, resume, advance, roll back) as
//! JSON Merge Patches of a flag's canary fields, sent to `PATCH /api/flags/{key}`. The Canary
//! tab shows what the server has, never the draft, and acts on the server directly.

use edgeflag_evaluator::model::{Canary, CanaryStatus, Flag};
use serde_json::{Map, Value};

use crate::canary::{apply_manual, ManualAction};
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
    /// Start of the metrics judged (the stage start), when the server says.
    pub judged_from: Option<String>,
    /// Finished stages whose evidence the canary-versus-baseline comparisons carry.
    pub earlier_stages: u64,
    /// Too little traffic yet: what the stage still needs, and for which gate.
    pub needs: Option<Needs>,
    /// The version that decision wrote (advance, complete, rollback), if any.
    pub decision_version: Option<u64>,
    /// Why the decision was not written, when it was not (e.g. the canary changed meanwhile).
    pub error: Option<String>,
}

/// The evaluator's `TrafficNeed`: "needs about N more canary requests (≈ T at the current rate)".
#[derive(Debug, Clone, PartialEq)]
pub struct Needs {
    /// Absent when a gate cannot pass at the current rates (the reason says which).
    pub more_requests: Option<u64>,
    pub more_seconds: Option<u64>,
    pub reason: String,
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
    /// The anytime-valid confidence bounds: the check fails when `lower` is beyond `limit`
    /// and passes when `upper` is within it.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    /// More canary requests this gate needs to pass at the current rates.
    pub needed_requests: Option<u64>,
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
                lower: c.field("lower")?.opt_f64()?,
                upper: c.field("upper")?.opt_f64()?,
                needed_requests: c.field("needed_requests")?.opt_u64()?,
                reason: c.field("reason")?.string_or_empty()?,
            })
        })?,
        consecutive_failures: f.field("consecutive_failures")?.u64_or_zero()?,
        stage: usize_of(f.field("stage")?)?,
        judged_from: f.field("judged_from")?.opt_string()?,
        earlier_stages: f.field("earlier_stages")?.u64_or_zero()?,
        needs: match f.field("needs")? {
            n if n.value().is_some() => Some(Needs {
                more_requests: n.field("more_requests")?.opt_u64()?,
                more_seconds: n.field("more_seconds")?.opt_u64()?,
                reason: n.field("reason")?.string_or_empty()?,
            }),
            _ => None,
        },
        decision_version: f.field("decision_version")?.opt_u64()?,
        error: f.field("error")?.opt_string()?,
    })
}

/// Which canary `env` runs (the split in force there, [`Flag::split`]): `Some(None)` the
/// flag's own, `Some(Some(env))` the environment override's, `None` no canary there.
pub fn canary_owner(flag: &Flag, env: Option<&str>) -> Option<Option<String>> {
    let split = flag.split(env);
    split.canary?;
    Some(split.owner.map(str::to_string))
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
    let before = flag.split(env).canary.cloned().ok_or_else(|| format!("{} has no canary here", flag.key))?;
    let mut after = before.clone();
    apply_manual(&mut after, action, now)?;
    let changes = controller_fields_changed(&before, &after);
    if changes.is_empty() {
        return Err(format!("{}: the canary is already {}", flag.key, before.status.as_str()));
    }
    let canary = object("canary", Value::Object(changes));
    Ok(match owner {
        None => canary,
        Some(env) => object("environments", object(&env, canary)),
    })
}

/// `{name: value}`.
fn object(name: &str, value: Value) -> Value {
    Value::Object(Map::from_iter([(name.to_string(), value)]))
}

fn controller_fields_changed(before: &Canary, after: &Canary) -> Map<String, Value> {
    let mut m = Map::new();
    if before.status != after.status {
        m.insert("status".into(), after.status.as_str().into());
    }
    if before.current_stage != after.current_stage {
        m.insert("current_stage".into(), after.current_stage.into());
    }
    if before.stage_started_at != after.stage_started_at {
        m.insert("stage_started_at".into(), after.stage_started_at.clone().into());
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
        lower: c.lower,
        upper: c.upper,
        needed_requests: c.needed_requests,
        reason: c.reason.clone(),
    }
}

/// A check's confidence interval, estimate and limit on a 0–1 scale, for drawing. The scale
/// runs from 0 to twice the limit (further when the lower bound or the estimate is beyond);
/// an upper bound past the scale (or none yet: unbounded) is clipped at 1 with
/// `upper_clipped`. `None` without a limit or an estimate (a `no_data` check), or without any
/// bound (the `samples` count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundsBar {
    pub lower: f64,
    pub upper: f64,
    pub upper_clipped: bool,
    pub observed: f64,
    pub limit: f64,
}

pub fn bounds_bar(c: &Check) -> Option<BoundsBar> {
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0);
    if c.lower.is_none() && c.upper.is_none() {
        return None;
    }
    let (limit, observed) = (finite(c.limit).filter(|l| *l > 0.0)?, finite(c.observed)?);
    let lower = finite(c.lower).unwrap_or(0.0);
    let top = (2.0 * limit).max(1.1 * lower.max(observed));
    let at = |v: f64| (v / top).clamp(0.0, 1.0);
    let upper = finite(c.upper).filter(|u| *u <= top);
    Some(BoundsBar {
        lower: at(lower),
        upper: upper.map_or(1.0, at),
        upper_clipped: upper.is_none(),
        observed: at(observed),
        limit: at(limit),
    })
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

/// What the Canary tab shows for a flag and environment: the published canary (stages, gates)
/// with the server's live status, stage and stage start ([`with_live`]), and the live state
/// it took them from (`None` until `/api/canaries` has answered with this canary).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveCanary {
    pub canary: Canary,
    pub live: Option<CanaryState>,
    /// The file version of the live state.
    pub version: Option<u64>,
}

/// The canary `env` runs for `flag` as the server runs it now (`None`: no canary there).
pub fn live_canary(flag: &Flag, env: Option<&str>, canaries: Option<&Canaries>) -> Option<LiveCanary> {
    let published = flag.split(env).canary?.clone();
    let live = canaries.and_then(|c| state_for(c, flag, env)).cloned();
    Some(LiveCanary {
        canary: match &live {
            Some(l) => with_live(published, l),
            None => published,
        },
        version: canaries.map(|c| c.version),
        live,
    })
}

/// Whether the canary in `flag` (as just fetched) is still in the state the view showed: the
/// admin acts on what they saw, or not at all.
pub fn still_as_shown(flag: &Flag, env: Option<&str>, shown: &CanaryState) -> Result<(), String> {
    let Some(c) = flag.split(env).canary else {
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
        .ok_or_else(|| format!("unexpected flag from the server: {}", problems.into_errors()))
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
    use edgeflag_evaluator::model::EnvironmentOverride;
    use serde_json::json;

    const RESPONSE: &str = r#"{"version": 12, "canaries": [
      {"flag": "payment-processor", "env": null, "status": "running", "current_stage": 1, "stage_count": 4,
       "stage_started_at": "2026-12-01T10:00:00Z", "percent": 10,
       "last_judgement": {"at": "2026-12-01T10:00:30Z", "file_version": 11, "action": "advance",
         "reasons": ["stage 0 healthy for 15s"], "consecutive_failures": 0, "stage": 0, "decision_version": 12, "error": null,
         "checks": [{"check": "error_rate", "outcome": "pass", "observed": 0.004, "limit": 0.02, "reason": "0.4 % ≤ 2 %"}]}},
      {"flag": "payment-processor", "env": "dev", "status": "completed", "current_stage": 0, "stage_count": 1,
       "stage_started_at": null, "percent": 100, "last_judgement": null},
      {"flag": "slow", "env": null, "status": "running", "current_stage": 0, "stage_count": 2,
       "stage_started_at": "2026-12-01T10:00:00Z", "percent": 1,
       "last_judgement": {"at": "2026-12-01T10:20:00Z", "file_version": 3, "action": "hold", "reasons": ["too little traffic"],
         "consecutive_failures": 0, "stage": 0, "judged_from": "2026-12-01T10:00:00Z", "earlier_stages": 0,
         "needs": {"more_requests": 1180, "more_seconds": 1180, "canary_requests_per_second": 1.0,
                   "reason": "too little traffic: needs about 1180 more canary requests (≈ 19m40s at the current rate of 1.00/s) for the error-rate gate"},
         "checks": [{"check": "error_rate", "outcome": "inconclusive", "observed": 0.004, "limit": 0.02,
                     "lower": 0.0004, "upper": 0.031, "needed_requests": 1180, "reason": "not proven yet"}]}}]}"#;

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
        // Too little traffic: what the stage needs, and the gate's bounds.
        let j = c.canaries[2].last_judgement.as_ref().unwrap();
        let needs = j.needs.as_ref().unwrap();
        assert_eq!((needs.more_requests, needs.more_seconds), (Some(1180), Some(1180)));
        assert!(needs.reason.contains("error-rate gate"), "{}", needs.reason);
        assert_eq!((j.judged_from.as_deref(), j.earlier_stages), (Some("2026-12-01T10:00:00Z"), 0));
        let check = &j.checks[0];
        assert_eq!((check.lower, check.upper, check.needed_requests), (Some(0.0004), Some(0.031), Some(1180)));
        // An older server without bounds still decodes.
        let old = &c.canaries[0].last_judgement.as_ref().unwrap();
        assert_eq!((old.needs.as_ref(), old.checks[0].lower, old.judged_from.as_deref()), (None, None, None));
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

    /// The edge cases of the split in force, as the engine evaluates them: an override of
    /// `enabled` alone runs the flag's canary; a rollout or experiment there means no canary.
    #[test]
    fn overrides_without_a_canary_choose_as_the_engine_does() {
        let c = parse_canaries(RESPONSE).unwrap();
        let mut f = flag();
        let rollout = edgeflag_evaluator::model::Rollout { percent_bp: 10, variation: f.variations[0].name.clone(), stickiness: None, salt: None };
        f.environments.insert("qa".into(), EnvironmentOverride { enabled: Some(true), ..Default::default() });
        f.environments.insert("edge".into(), EnvironmentOverride { rollout: Some(rollout), ..Default::default() });
        assert_eq!(canary_owner(&f, Some("qa")), Some(None), "only `enabled`: the flag's canary");
        assert_eq!(state_for(&c, &f, Some("qa")).map(|s| s.current_stage), Some(1));
        assert_eq!(canary_owner(&f, Some("edge")), None, "a rollout replaces the canary there");
        assert!(live_canary(&f, Some("edge"), Some(&c)).is_none());
        assert!(manual_patch(&f, Some("edge"), ManualAction::Pause, "2026-12-01T11:00:00Z").is_err());
        assert_eq!(canary_owner(&f, Some("undeclared")), Some(None), "no override: the flag's canary");
        // The engine agrees: the canary arm in qa, none in edge.
        let mut file = crate::testdata::example();
        file.environments.extend(["qa".to_string(), "edge".to_string()]);
        if let Some(slot) = file.flags.iter_mut().find(|x| x.key == f.key) {
            *slot = f.clone();
        }
        let set = edgeflag_evaluator::FlagSet::from_file(file).unwrap_or_else(|e| panic!("{e}"));
        let user = edgeflag_evaluator::Context::new("u-1");
        assert!(set.evaluate(&f.key, &user, Some("qa")).arm.is_some());
        assert_eq!(set.evaluate(&f.key, &user, Some("edge")).arm, None);
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
        let view = live_canary(&f, None, Some(&c)).unwrap();
        assert_eq!((&view.canary, view.live.as_ref(), view.version), (&live, Some(shown), Some(12)));
        let unloaded = live_canary(&f, None, None).unwrap();
        assert_eq!((&unloaded.canary, unloaded.live.as_ref()), (f.canary.as_ref().unwrap(), None));
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
            lower: Some(0.2),
            upper: Some(1.9),
            needed_requests: None,
            reason: "why".into(),
        };
        let got = check_of(&c);
        assert_eq!((got.check.as_str(), got.outcome.as_str(), got.p_value), ("error_rate_vs_baseline", "no_data", Some(0.01)));
        assert_eq!((got.lower, got.upper), (Some(0.2), Some(1.9)));
    }

    #[test]
    fn bounds_are_drawn_against_the_limit() {
        let c = parse_canaries(RESPONSE).unwrap();
        let check = &c.canaries[2].last_judgement.as_ref().unwrap().checks[0];
        // Scale 0..0.04 (twice the limit): the limit in the middle, the interval around the estimate.
        let bar = bounds_bar(check).unwrap();
        assert_eq!((bar.limit, bar.upper_clipped), (0.5, false));
        assert!((bar.lower - 0.01).abs() < 1e-12 && (bar.upper - 0.775).abs() < 1e-12 && (bar.observed - 0.1).abs() < 1e-12, "{bar:?}");
        // No upper bound yet: unbounded, clipped at the end; a lower bound far past the limit widens the scale.
        let failing = Check { lower: Some(0.1), upper: None, observed: Some(0.12), ..check.clone() };
        let bar = bounds_bar(&failing).unwrap();
        assert!(bar.upper_clipped && bar.upper == 1.0 && bar.limit < bar.lower && bar.observed < 1.0, "{bar:?}");
        // Nothing to draw without an estimate or a limit; NaN never reaches the page.
        assert_eq!(bounds_bar(&Check { observed: None, ..check.clone() }), None);
        assert_eq!(bounds_bar(&Check { lower: None, upper: None, ..check.clone() }), None, "a count has no bounds");
        assert_eq!(bounds_bar(&Check { limit: Some(f64::NAN), ..check.clone() }), None);
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
