//! OpenFeature Remote Evaluation Protocol (OFREP v1): evaluation through the native evaluator.
//!
//! The environment comes from the `X-Edgeflag-Env` header or the `env` query parameter (OFREP
//! itself has no notion of environments; providers can set custom headers).
//!
//! Answers follow `edgeflag_evaluator::openfeature::resolve`, the rules the Rust and JS
//! providers follow too (a split without a unit serves the flag's default variation, with
//! `unitMissing` in the metadata; see providers/README.md).
//!
//! The single-flag route is a wildcard (`/ofrep/v1/evaluate/flags/{*key}`): OFREP providers put
//! the key in the path without encoding it, so `team/new checkout` arrives as two segments;
//! axum percent-decodes the captured rest, so `team%2Fnew%20checkout` is the same key.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use edgeflag_evaluator::openfeature::{resolve, Resolution};
use edgeflag_evaluator::{Context, ErrorCode, Evaluation};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{AppState, X_EDGEFLAG_ENV};
use crate::store::{etag_matches, hex};

#[derive(Deserialize, Default)]
pub struct EnvQuery {
    env: Option<String>,
}

fn environment(headers: &HeaderMap, q: &EnvQuery) -> Option<String> {
    headers
        .get(X_EDGEFLAG_ENV)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| q.env.clone())
        .filter(|e| !e.is_empty())
}

/// Reads `{"context": {...}}`; an empty body is an empty context.
fn read_context(body: &[u8]) -> Result<Context, (ErrorCode, String)> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Context::anonymous());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| (ErrorCode::ParseError, format!("request body is not valid JSON: {e}")))?;
    let Value::Object(mut root) = value else {
        return Err((ErrorCode::ParseError, "request body must be an object {\"context\": {...}}".into()));
    };
    match root.remove("context") {
        None | Some(Value::Null) => Ok(Context::anonymous()),
        Some(ctx) => Context::from_value(ctx).map_err(|e| (ErrorCode::InvalidContext, e.to_string())),
    }
}

/// A success entry `{key, reason, variant, value, metadata}` or a failure entry
/// `{key, errorCode, errorDetails}`.
fn entry(eval: &Evaluation<'_>, version: u64) -> (Value, Option<ErrorCode>) {
    match resolve(eval, Some(version)) {
        Resolution::Resolved { value, variant, reason, metadata } => {
            let mut v = Map::new();
            v.insert("key".into(), json!(eval.key));
            v.insert("reason".into(), json!(reason.as_str()));
            if let Some(variant) = variant {
                v.insert("variant".into(), json!(variant));
            }
            v.insert("value".into(), value.clone());
            v.insert("metadata".into(), Value::Object(metadata.to_json()));
            (Value::Object(v), None)
        }
        Resolution::Failed { code, message } => {
            (json!({ "key": eval.key, "errorCode": code.as_str(), "errorDetails": message }), Some(code))
        }
    }
}

/// `POST /ofrep/v1/evaluate/flags/{*key}`: the key may hold `/`, encoded or not.
pub async fn evaluate_one(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<EnvQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = match read_context(&body) {
        Ok(c) => c,
        Err((code, details)) => {
            return failure(StatusCode::BAD_REQUEST, json!({"key": key, "errorCode": code.as_str(), "errorDetails": details}));
        }
    };
    let env = environment(&headers, &q);
    let snap = app.flags.current();
    let eval = snap.flags.evaluate(&key, &ctx, env.as_deref());
    let (body, code) = entry(&eval, snap.version);
    match code {
        None => (StatusCode::OK, Json(body)).into_response(),
        Some(ErrorCode::FlagNotFound) => failure(StatusCode::NOT_FOUND, body),
        Some(_) => failure(StatusCode::BAD_REQUEST, body),
    }
}

fn failure(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// `POST /ofrep/v1/evaluate/flags`: every flag, ETag over the response, 304 on a match.
pub async fn evaluate_bulk(
    State(app): State<AppState>,
    Query(q): Query<EnvQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = match read_context(&body) {
        Ok(c) => c,
        Err((code, details)) => {
            return failure(StatusCode::BAD_REQUEST, json!({"errorCode": code.as_str(), "errorDetails": details}));
        }
    };
    let env = environment(&headers, &q);
    let snap = app.flags.current();
    let flags: Vec<Value> = snap
        .flags
        .evaluate_all(&ctx, env.as_deref())
        .iter()
        .map(|e| entry(e, snap.version).0)
        .collect();
    let body = match serde_json::to_vec(&json!({ "flags": flags })) {
        Ok(b) => b,
        Err(e) => return failure(StatusCode::INTERNAL_SERVER_ERROR, json!({"errorDetails": e.to_string()})),
    };
    // The ETag covers the evaluated result (it depends on the context, not only the version).
    let etag = format!("\"{}\"", hex(&Sha256::digest(&body)[..16]));
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| etag_matches(inm, &etag));
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// `GET /ofrep/v1/configuration`: tells providers that polling with ETags is supported.
pub async fn configuration() -> Response {
    Json(json!({
        "name": "edgeflag",
        "capabilities": {
            "cacheInvalidation": { "polling": { "enabled": true, "minPollingIntervalMs": 1000 } },
            "flagEvaluation": { "supportedTypes": ["boolean", "string", "int", "float", "object"] }
        }
    }))
    .into_response()
}
