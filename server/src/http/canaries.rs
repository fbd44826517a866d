//! Live canary state: `GET /api/canaries` and `GET /api/canaries/{flag}[?env=E]`.
//!
//! What the server has now (status, stage, its percentage, when it started) and the
//! controller's last judgement of it (kept in memory: `null` after a restart until the next
//! tick). The judgement itself is the evaluator's; this only serves what the controller
//! recorded.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use edgeflag_evaluator::model::CanaryStatus;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{error, AppState};
use crate::controller::{all_canaries, find_canary, LastJudgement, Target};
use crate::store::Snapshot;

/// One canary as the dashboard's live Canary tab shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CanaryState {
    pub flag: String,
    pub env: Option<String>,
    pub status: CanaryStatus,
    pub current_stage: usize,
    pub stage_count: usize,
    pub stage_started_at: Option<String>,
    /// The current stage's percentage (`null` when `current_stage` is out of range).
    pub percent: Option<f64>,
    pub last_judgement: Option<LastJudgement>,
}

fn state(app: &AppState, snap: &Snapshot, target: &Target) -> Option<CanaryState> {
    let canary = find_canary(snap.flags.file(), target)?;
    Some(CanaryState {
        flag: target.0.clone(),
        env: target.1.clone(),
        status: canary.status,
        current_stage: canary.current_stage,
        stage_count: canary.stages.len(),
        stage_started_at: canary.stage_started_at.clone(),
        percent: canary.stages.get(canary.current_stage).map(|s| s.percent),
        last_judgement: app.judgements.get(target),
    })
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Every canary of the current version (base, then environment overrides, per flag).
pub async fn list(State(app): State<AppState>) -> Response {
    let snap = app.flags.current();
    let canaries: Vec<CanaryState> =
        all_canaries(snap.flags.file()).iter().filter_map(|t| state(&app, &snap, t)).collect();
    no_store(Json(json!({ "version": snap.version, "canaries": canaries })).into_response())
}

#[derive(Deserialize)]
pub struct EnvQuery {
    env: Option<String>,
}

/// One canary: the flag's base canary, or with `?env=` that environment's override.
pub async fn one(State(app): State<AppState>, Path(flag): Path<String>, Query(q): Query<EnvQuery>) -> Response {
    let snap = app.flags.current();
    let target = (flag, q.env.filter(|e| !e.is_empty()));
    match state(&app, &snap, &target) {
        Some(s) => no_store(Json(s).into_response()),
        None => {
            let flag = serde_json::to_string(&target.0).unwrap_or_default();
            let what = match &target.1 {
                Some(env) => format!("flag {flag} has no canary in environment {}", serde_json::to_string(env).unwrap_or_default()),
                None => format!("flag {flag} has no base canary (add ?env= for an environment's)"),
            };
            error(StatusCode::NOT_FOUND, what)
        }
    }
}
