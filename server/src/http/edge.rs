//! The public read-only path for edges and CDNs: `GET /edge/flags.json`,
//! `/edge/manifest.json` and `/edge/versions/{n}.json`, the very layout `edgeflag export DIR`
//! writes (see `export.rs`), so an edge's base URL can be this origin (behind a CDN) or an
//! object-store bucket, interchangeably. Only reads live under `/edge/`: a CDN can expose
//! this prefix and nothing else.
//!
//! Caching: the current file and manifest carry `Cache-Control: public, max-age=A,
//! stale-while-revalidate=S, stale-if-error=86400` and a strong ETag: a CDN serves its copy
//! for A seconds, then keeps serving it for up to S more while it revalidates (a 304 when
//! nothing changed), and for a day if the origin is down. The per-version file never changes:
//! `immutable`, cached for a year.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{error, AppState, X_EDGEFLAG_VERSION};
use crate::export::Manifest;
use crate::store::etag_matches;

/// Cache lifetimes of `/edge/flags.json` and `/edge/manifest.json`.
#[derive(Debug, Clone, Copy)]
pub struct EdgeCache {
    pub max_age: Duration,
    pub stale_while_revalidate: Duration,
}

impl Default for EdgeCache {
    fn default() -> Self {
        EdgeCache { max_age: Duration::from_secs(1), stale_while_revalidate: Duration::from_secs(30) }
    }
}

impl EdgeCache {
    pub fn header(&self) -> HeaderValue {
        let value = format!(
            "public, max-age={}, stale-while-revalidate={}, stale-if-error=86400",
            self.max_age.as_secs(),
            self.stale_while_revalidate.as_secs()
        );
        HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("public, max-age=1"))
    }
}

fn tagged(body: axum::body::Bytes, etag: &str, version: u64, cache: HeaderValue, headers: &HeaderMap) -> Response {
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| etag_matches(inm, etag));
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(X_EDGEFLAG_VERSION, HeaderValue::from(version));
    h.insert(header::CACHE_CONTROL, cache);
    resp
}

/// `GET /edge/flags.json`: the current file, as `GET /api/flags` serves it.
pub async fn flags(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let snap = app.flags.current();
    tagged(snap.body.clone(), &snap.etag, snap.version, app.edge_cache.header(), &headers)
}

/// `GET /edge/manifest.json`: version, ETag, SHA-256, XXH64, size and time of the current file.
pub async fn manifest(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let snap = app.flags.current();
    let manifest = Manifest::of(&snap);
    let mut body = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    body.push(b'\n');
    // Its own tag: the manifest of version n, not the file. "m2-" since the manifest carries
    // `xxh64`: a cache holding an older manifest of the same version must not revalidate it.
    let etag = format!("\"m2-{}\"", snap.etag.trim_matches('"'));
    tagged(body.into(), &etag, snap.version, app.edge_cache.header(), &headers)
}

/// `GET /edge/versions/{n}.json`: version n, forever.
pub async fn version(State(app): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(n) = file.strip_suffix(".json").and_then(|n| n.parse::<u64>().ok()) else {
        return error(StatusCode::NOT_FOUND, format!("no such file: versions/{file}"));
    };
    let store = app.flags.clone();
    match tokio::task::spawn_blocking(move || store.version(n)).await {
        Ok(Ok(Some((body, etag)))) => tagged(
            body.into(),
            &etag,
            n,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
            &headers,
        ),
        Ok(Ok(None)) => error(StatusCode::NOT_FOUND, format!("version {n} does not exist")),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("storage error: {e}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("version task failed: {e}")),
    }
}
