//! The flag store over HTTP: conditional GET, conditional authenticated writes, history,
//! versions and rollback.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{error, AppState, X_EDGEFLAG_VERSION};
use crate::auth::Role;
use crate::store::{etag_matches, Snapshot, WriteError, WriteMeta};

pub async fn get_flags(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let snap = app.flags.current();
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        if etag_matches(inm, &snap.etag) {
            return with_flags_cache(with_tags(StatusCode::NOT_MODIFIED.into_response(), &snap));
        }
    }
    let resp = (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        snap.body.clone(),
    )
        .into_response();
    with_flags_cache(with_tags(resp, &snap))
}

/// `Cache-Control` of `GET /api/flags` (and its 304): every client revalidates each request
/// (a 304 with the ETag when nothing changed); while it does, a cache (a CDN in front of the
/// origin, the browser) may serve the previous copy for up to 5 s, and for a day when the
/// origin is down. Clients that need the newest version at once send `If-None-Match` or
/// `Cache-Control: no-cache` (fetch() bypasses the HTTP cache for either). Edges behind a
/// CDN use `/edge/flags.json`, with a short max-age of its own.
pub const FLAGS_CACHE_CONTROL: &str = "public, max-age=0, stale-while-revalidate=5, stale-if-error=86400";

fn with_flags_cache(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(FLAGS_CACHE_CONTROL));
    resp
}

/// ETag, version and `Cache-Control: no-cache` (cache, but revalidate every time).
pub fn with_tags(mut resp: Response, snap: &Snapshot) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&snap.etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(X_EDGEFLAG_VERSION, HeaderValue::from(snap.version));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// The checks every whole-file write shares: an admin token (401/403) and an If-Match header
/// (428). Returns (author, If-Match value, audit message).
// A Response is large, but this runs once per write request.
#[allow(clippy::result_large_err)]
fn authorize_write(app: &AppState, headers: &HeaderMap) -> Result<(String, String, String), Response> {
    let who = super::require(&app.tokens, headers, Role::may_write, "writing flags")?;
    let Some(if_match) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Err(super::refused_unread(error(
            StatusCode::PRECONDITION_REQUIRED,
            "If-Match is required: send the ETag of the version you edited",
        )));
    };
    Ok((who.name, if_match.to_string(), super::message(headers)))
}

pub async fn put_flags(State(app): State<AppState>, req: Request) -> Response {
    let (author, if_match, message) = match authorize_write(&app, req.headers()) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    // Authenticated first, then the body is read (bounded by DefaultBodyLimit → 413).
    let body = match Bytes::from_request(req, &()).await {
        Ok(b) => b,
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return error(StatusCode::BAD_REQUEST, "the body is not UTF-8");
    };
    let store = app.flags.clone();
    let result = tokio::task::spawn_blocking(move || {
        store.write_text(&text, Some(&if_match), WriteMeta { author: &author, message: &message })
    })
    .await;
    write_response(result)
}

pub async fn rollback(State(app): State<AppState>, Path(n): Path<u64>, headers: HeaderMap) -> Response {
    let (author, if_match, message) = match authorize_write(&app, &headers) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let message = if message.is_empty() { format!("rollback to version {n}") } else { message };
    let store = app.flags.clone();
    let result = tokio::task::spawn_blocking(move || {
        store.rollback(n, Some(&if_match), WriteMeta { author: &author, message: &message })
    })
    .await;
    write_response(result)
}

pub fn write_response(
    result: Result<Result<Arc<Snapshot>, WriteError>, tokio::task::JoinError>,
) -> Response {
    match result {
        Ok(Ok(snap)) => {
            let resp = Json(json!({ "version": snap.version, "etag": snap.etag })).into_response();
            with_tags(resp, &snap)
        }
        Ok(Err(WriteError::Invalid(errors))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "error": format!("the flag file is invalid ({} problems); nothing was stored", errors.problems.len()),
                "problems": errors.problems,
            })),
        )
            .into_response(),
        Ok(Err(WriteError::Stale { current_version, current_etag })) => {
            let mut resp = (
                StatusCode::PRECONDITION_FAILED,
                Json(json!({
                    "error": "the flags changed since you read them: reload, reapply, retry",
                    "current_version": current_version,
                    "current_etag": current_etag,
                })),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&current_etag) {
                resp.headers_mut().insert(header::ETAG, v);
            }
            resp
        }
        Ok(Err(e @ WriteError::NoSuchVersion(_))) => error(StatusCode::NOT_FOUND, e.to_string()),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("write task failed: {e}")),
    }
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    limit: Option<u64>,
}

pub async fn history(State(app): State<AppState>, Query(q): Query<HistoryQuery>) -> Response {
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let store = app.flags.clone();
    match tokio::task::spawn_blocking(move || store.history(limit)).await {
        Ok(Ok(entries)) => {
            let mut resp = Json(entries).into_response();
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("storage error: {e}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("history task failed: {e}")),
    }
}

pub async fn get_version(State(app): State<AppState>, Path(n): Path<u64>) -> Response {
    let store = app.flags.clone();
    match tokio::task::spawn_blocking(move || store.version(n)).await {
        Ok(Ok(Some((body, etag)))) => {
            let mut resp = (
                [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                body,
            )
                .into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&etag) {
                h.insert(header::ETAG, v);
            }
            h.insert(X_EDGEFLAG_VERSION, HeaderValue::from(n));
            // A version never changes once written.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            resp
        }
        Ok(Ok(None)) => error(StatusCode::NOT_FOUND, format!("version {n} does not exist")),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("storage error: {e}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("version task failed: {e}")),
    }
}

#[derive(Deserialize)]
pub struct DeliveriesQuery {
    limit: Option<usize>,
}

/// `GET /api/webhooks/deliveries[?limit=100]`: the decision webhooks' deliveries, newest
/// first, with every attempt's outcome. Needs an admin or read token: receiver URLs often
/// carry credentials (a chat webhook's path is its secret).
pub async fn deliveries(State(app): State<AppState>, Query(q): Query<DeliveriesQuery>, headers: HeaderMap) -> Response {
    if let Err(resp) = super::require(&app.tokens, &headers, |r| matches!(r, Role::Admin | Role::Read), "reading webhook deliveries") {
        return resp;
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let backend = app.flags.backend().clone();
    match tokio::task::spawn_blocking(move || backend.deliveries(limit)).await {
        Ok(Ok(list)) => {
            let mut resp = Json(list).into_response();
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("storage error: {e}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("deliveries task failed: {e}")),
    }
}
