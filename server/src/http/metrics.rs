//! Metric ingestion and queries over HTTP.

use axum::body::Bytes;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{error, AppState};
use crate::auth::Role;
use crate::clock;
use crate::metrics::{parse_batch, prometheus, Ingested};

/// `POST /api/metrics/events`: 202 `{"accepted": n}` or 400 with every problem.
///
/// Only authenticated sources steer rollouts: the request needs an ingest (or admin) token
/// (401 without, 403 with a read token), and a browser request from another origin than the
/// server's own or an `--allowed-origin` is refused (403) before anything else, so a foreign
/// page cannot post even with a token it got hold of. Refused requests count as rejected
/// batches and never reach the aggregates.
pub async fn post_events(State(app): State<AppState>, req: Request) -> Response {
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if !origin_allowed(origin.as_bytes(), host, &app.ingest_origins) {
            app.metrics.note_rejected(0);
            return super::refused_unread(error(
                StatusCode::FORBIDDEN,
                format!(
                    "metric events from the origin {} are refused: only the server's own origin and --allowed-origin may post",
                    String::from_utf8_lossy(origin.as_bytes())
                ),
            ));
        }
    }
    let who = match super::require(&app.tokens, headers, Role::may_ingest, "posting metric events") {
        Ok(p) => p,
        Err(resp) => {
            app.metrics.note_rejected(0);
            return resp;
        }
    };
    let body = match Bytes::from_request(req, &()).await {
        Ok(b) => b,
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    let now = clock::now_ms();
    let events = match parse_batch(&body, now) {
        Ok(events) => events,
        Err(e) => {
            app.metrics.note_rejected(e.events);
            return (StatusCode::BAD_REQUEST, Json(e)).into_response();
        }
    };
    match crate::metrics::ingest_as(&app.metrics, &who, &events, now) {
        Ok(out) => ingested_response(out),
        Err(e) => error(StatusCode::FORBIDDEN, e.to_string()),
    }
}

/// 202 `{"accepted", "refused", "problems"?}` when anything counted; 422 with an `error` when
/// every event was refused (unknown to the flag file, or over a series cap).
fn ingested_response(out: Ingested) -> Response {
    let mut body = json!({ "accepted": out.accepted, "refused": out.refused });
    if out.refused > 0 {
        body["problems"] = json!(out.problems);
        if out.refused > out.problems.len() {
            body["problems_omitted"] = json!(out.refused - out.problems.len());
        }
    }
    if out.accepted == 0 && out.refused > 0 {
        body["error"] = json!(format!("all {} events were refused; nothing was counted", out.refused));
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
    }
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// Whether a request's `Origin` may post events: the server's own origin (its authority equals
/// the `Host` header; the scheme is not compared, a TLS proxy may sit in front) or one of
/// `allowed` (normalised by `config::parse_origin`). `null` (sandboxed frames, files) never is.
pub fn origin_allowed(origin: &[u8], host: Option<&str>, allowed: &[String]) -> bool {
    let Ok(origin) = std::str::from_utf8(origin) else { return false };
    let origin = origin.trim().to_ascii_lowercase();
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    if host.is_some_and(|h| h.trim().eq_ignore_ascii_case(authority)) {
        return true;
    }
    allowed.contains(&origin)
}

#[derive(Deserialize)]
pub struct MetricsQuery {
    flag: Option<String>,
    env: Option<String>,
    window: Option<String>,
}

/// `GET /api/metrics?flag=KEY&env=ENV&window=5m`.
pub async fn get_metrics(State(app): State<AppState>, Query(q): Query<MetricsQuery>) -> Response {
    let Some(flag) = q.flag.filter(|f| !f.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "query parameter `flag` is required");
    };
    let window_text = q.window.as_deref().unwrap_or("5m");
    let window = match edgeflag_evaluator::duration::parse_duration(window_text) {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("window: {e}")),
    };
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    if !(1_000..=crate::metrics::store::RETENTION_MS).contains(&window_ms) {
        return error(StatusCode::BAD_REQUEST, "window: must be between 1s and 1h");
    }
    let env = q.env.filter(|e| !e.is_empty());
    let report = app.metrics.report(&flag, env.as_deref(), window_ms, clock::now_ms());
    let mut resp = Json(report).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /metrics`: Prometheus text format.
pub async fn prometheus(State(app): State<AppState>) -> Response {
    let snap = app.flags.current();
    let mut text = prometheus::render(&app.metrics, snap.version);
    crate::canary_metrics::render(&mut text, snap.flags.file(), &app.judgements);
    app.stream.render(&mut text);
    text.push_str(&leader_gauge(app.leadership.is_leader()));
    ([(header::CONTENT_TYPE, HeaderValue::from_static(prometheus::CONTENT_TYPE))], text).into_response()
}

/// `edgeflag_controller_leader`: 1 on the replica whose canary controller leads, 0 on the
/// others (and with `--no-controller`). Summed over replicas it is 1; 0 means no controller runs.
fn leader_gauge(leader: bool) -> String {
    format!(
        "# HELP edgeflag_controller_leader 1 when this replica's canary controller is the leader (holds the controller lock), else 0.\n\
         # TYPE edgeflag_controller_leader gauge\n\
         edgeflag_controller_leader {}\n",
        u8::from(leader)
    )
}
