//! The dashboard's built files at `/`, or a placeholder page until they are built.
//!
//! `scripts/build-dashboard.sh` writes a `.br` and a `.gz` next to every compressible file
//! (`scripts/precompress.mjs`); they are served by `Accept-Encoding` (brotli first) with
//! `Content-Encoding`, and every response says `Vary: Accept-Encoding`. A client that accepts
//! neither gets the file as is. Caching: trunk's content-hashed asset names never change
//! content, so they are `immutable` for a year; `index.html` (which names the current hashes),
//! the SPA fallback and anything else is `no-cache` (revalidated with `Last-Modified`).

use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// For content-hashed assets: a new build has new names.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else: use a cached copy only after revalidating it.
pub const NO_CACHE: &str = "no-cache";

pub fn router(dir: &Path) -> Router {
    let index = dir.join("index.html");
    if index.is_file() {
        // Unknown paths fall back to index.html so client-side routes survive a reload.
        let files = ServeDir::new(dir)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(ServeFile::new(index).precompressed_br().precompressed_gzip());
        Router::new().fallback_service(files).layer(middleware::from_fn(cache_headers))
    } else {
        Router::new()
            .route("/", get(|| async { Html(PLACEHOLDER) }))
            .layer(middleware::from_fn(cache_headers))
    }
}

/// Adds `Cache-Control` and `Vary: Accept-Encoding` to a static response.
async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = is_content_hashed(req.uri().path());
    let mut resp = next.run(req).await;
    let served_asset = matches!(resp.status(), StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED)
        // The SPA fallback answers a missing hashed name with index.html: never immutable.
        && !resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/html"));
    let cache = if hashed && served_asset { IMMUTABLE } else { NO_CACHE };
    let headers = resp.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    resp.into_response()
}

/// Whether the last path segment carries trunk's content hash: a `-`, `_` or `.` separated
/// token of 8 to 16 lowercase hex digits (`edgeflag-dashboard-4c3e8d1f2a9b7c6e_bg.wasm`,
/// `style-1a2b3c4d5e6f7a8b.css`; trunk prints the 64-bit hash without padding).
pub fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split(['-', '_', '.']).any(|token| {
        (8..=16).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgeflag</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body>
<h1>edgeflag server</h1>
<p>The dashboard is not built yet (no <code>index.html</code> in the static directory; build it
with <code>scripts/build-dashboard.sh</code> and pass <code>--static-dir</code>). The API is live:</p>
<ul>
<li><a href="/api/flags">GET /api/flags</a>: the current flag file (ETag, If-None-Match)</li>
<li><a href="/api/flags/history">GET /api/flags/history</a>: every version, newest first</li>
<li><a href="/metrics">GET /metrics</a>: Prometheus exposition</li>
<li><code>GET /api/metrics?flag=KEY&amp;env=ENV&amp;window=5m</code>: per-arm health</li>
<li><code>POST /ofrep/v1/evaluate/flags</code>: OpenFeature remote evaluation</li>
</ul>
</body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_hashed_names_are_recognised_and_others_are_not() {
        for hashed in [
            "/edgeflag-dashboard-4c3e8d1f2a9b7c6e_bg.wasm",
            "/edgeflag-dashboard-4c3e8d1f2a9b7c6e.js",
            "/style-1a2b3c4d5e6f7a8.css",
            "/snippets/x/1a2b3c4d5e6f7a8b-inline0.js",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for plain in ["/", "/index.html", "/favicon.ico", "/app-cafe.js", "/4c3e8d1f2a9b7c6e/index.html", "/x-ABCDEF0123456789.js"] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }
}
