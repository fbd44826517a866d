//! One flag or one segment over HTTP: `GET`/`PUT`/`PATCH`/`DELETE /api/flags/{key}` and
//! `/api/segments/{key}`. The rules (bases, merges, conflicts) are in [`crate::edit`].

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::flags::with_tags;
use super::{error, AppState, X_EDGEFLAG_VERSION};
use crate::auth::Role;
use crate::edit::{self, Base, BaseLookup, Change, EditError};
use crate::store::{etag_matches, ItemKind, Snapshot, WriteError, WriteMeta};

/// The response member holding the item's ETag.
fn etag_member(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Flag => "flag_etag",
        ItemKind::Segment => "segment_etag",
    }
}

/// `GET`: the item with its ETag; `If-None-Match` → 304.
pub async fn get(kind: ItemKind, State(app): State<AppState>, Path(key): Path<String>, headers: HeaderMap) -> Response {
    let snap = app.flags.current();
    let (Some((_, etag)), Some(body)) = (snap.item_with_etag(kind, &key), snap.item_body(kind, &key)) else {
        return error(StatusCode::NOT_FOUND, format!("no {} {}", kind.noun(), quoted(&key)));
    };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| etag_matches(inm, &etag));
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(X_EDGEFLAG_VERSION, HeaderValue::from(snap.version));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

pub async fn put(kind: ItemKind, State(app): State<AppState>, Path(key): Path<String>, req: Request) -> Response {
    write(kind, app, key, req, Verb::Put).await
}

pub async fn patch(kind: ItemKind, State(app): State<AppState>, Path(key): Path<String>, req: Request) -> Response {
    write(kind, app, key, req, Verb::Patch).await
}

pub async fn delete(kind: ItemKind, State(app): State<AppState>, Path(key): Path<String>, headers: HeaderMap) -> Response {
    let mut req = Request::new(axum::body::Body::empty());
    *req.headers_mut() = headers;
    write(kind, app, key, req, Verb::Delete).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Put,
    Patch,
    Delete,
}

/// The precondition a write sent.
enum Precondition {
    CreateOnly,
    IfMatch(String),
}

async fn write(kind: ItemKind, app: AppState, key: String, req: Request, verb: Verb) -> Response {
    let headers = req.headers().clone();
    let who = match super::require(&app.tokens, &headers, Role::may_write, &format!("writing {}s", kind.noun())) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    let if_none_match = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    let precondition = match (if_match, if_none_match) {
        (Some(tags), _) => Precondition::IfMatch(tags.to_string()),
        (None, Some(inm)) if verb == Verb::Put && edit::is_create_only(inm) => Precondition::CreateOnly,
        _ => {
            let how = if verb == Verb::Put { " (or If-None-Match: * to create)" } else { "" };
            return super::refused_unread(error(
                StatusCode::PRECONDITION_REQUIRED,
                format!("If-Match is required: send the ETag of the {} (or of the whole file) you edited{how}", kind.noun()),
            ));
        }
    };
    if verb == Verb::Patch {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !essence.is_empty() && essence != "application/merge-patch+json" && essence != "application/json" {
            return super::refused_unread(error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "PATCH takes a JSON Merge Patch (RFC 7396): Content-Type: application/merge-patch+json",
            ));
        }
    }
    let change = match verb {
        Verb::Delete => Change::Delete,
        Verb::Put | Verb::Patch => {
            // Authenticated first, then the body is read (bounded by DefaultBodyLimit → 413).
            let body = match Bytes::from_request(req, &()).await {
                Ok(b) => b,
                Err(rejection) => return error(rejection.status(), rejection.body_text()),
            };
            let value: Value = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => return unprocessable(vec![problem("", format!("the body is not JSON: {e}"))]),
            };
            if verb == Verb::Put { Change::Put(value) } else { Change::Patch(value) }
        }
    };
    let message = super::message(&headers);
    let store = app.flags.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Response, WriteError> {
        let base = match precondition {
            Precondition::CreateOnly => Base::Absent,
            Precondition::IfMatch(tags) => match edit::resolve_base(&store, kind, &key, &tags)? {
                BaseLookup::Found(base) => base,
                BaseLookup::Unknown => {
                    let snap = store.current();
                    let mut body = current_fields(&snap, kind, &key);
                    body.insert(
                        "error".into(),
                        json!(format!(
                            "If-Match names no version of this {}: send the ETag of GET /api/{}/{{key}} or of GET /api/flags",
                            kind.noun(),
                            kind.array()
                        )),
                    );
                    return Ok((StatusCode::PRECONDITION_FAILED, Json(Value::Object(body))).into_response());
                }
                BaseLookup::Wildcard => {
                    return Ok(error(
                        StatusCode::PRECONDITION_REQUIRED,
                        "If-Match: * would overwrite whatever is there: send the ETag you read",
                    ))
                }
            },
        };
        let base_version = match &base {
            Base::At { version, .. } => Some(*version),
            Base::Absent => None,
        };
        let meta = WriteMeta { author: &who.name, message: &message };
        Ok(match edit::write(&store, kind, &key, &base, &change, meta) {
            Ok((snap, applied)) => {
                let mut body = Map::new();
                body.insert("version".into(), json!(snap.version));
                body.insert("etag".into(), json!(snap.etag));
                if let Some((_, etag)) = snap.item_with_etag(kind, &key) {
                    body.insert(etag_member(kind).into(), json!(etag));
                }
                if !applied.kept_theirs.is_empty() {
                    body.insert("kept_theirs".into(), json!(applied.kept_theirs));
                }
                with_tags(Json(Value::Object(body)).into_response(), &snap)
            }
            Err(EditError::Conflict { conflicts, at_version }) => {
                let (reports, text) = edit::report_conflicts(&store, kind, &key, base_version, at_version, &conflicts)?;
                let snap = store.current();
                let mut body = current_fields(&snap, kind, &key);
                body.insert("error".into(), json!(text));
                body.insert("conflicts".into(), json!(reports));
                (StatusCode::CONFLICT, Json(Value::Object(body))).into_response()
            }
            Err(EditError::Exists(noun)) => {
                let snap = store.current();
                let mut body = current_fields(&snap, kind, &key);
                body.insert("error".into(), json!(format!("the {noun} {} already exists (If-None-Match: *)", quoted(&key))));
                (StatusCode::PRECONDITION_FAILED, Json(Value::Object(body))).into_response()
            }
            Err(EditError::NotFound(noun)) => error(StatusCode::NOT_FOUND, format!("no {noun} {}", quoted(&key))),
            Err(EditError::Unprocessable(problems)) => unprocessable(problems),
            Err(EditError::Store(WriteError::Invalid(errors))) => unprocessable(errors.problems),
            Err(EditError::Store(e)) => return Err(e),
        })
    })
    .await;
    match result {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("write task failed: {e}")),
    }
}

/// `current_version`, `current_etag` (the file's) and the item's current ETag, if it exists.
fn current_fields(snap: &Snapshot, kind: ItemKind, key: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("current_version".into(), json!(snap.version));
    out.insert("current_etag".into(), json!(snap.etag));
    if let Some((_, etag)) = snap.item_with_etag(kind, key) {
        out.insert(etag_member(kind).into(), json!(etag));
    }
    out
}

fn problem(path: &str, message: String) -> edgeflag_evaluator::Problem {
    edgeflag_evaluator::Problem { path: path.to_string(), message }
}

fn unprocessable(problems: Vec<edgeflag_evaluator::Problem>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "error": format!("the write is invalid ({} problems); nothing was stored", problems.len()),
            "problems": problems,
        })),
    )
        .into_response()
}

fn quoted(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_default()
}
