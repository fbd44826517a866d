//! The dashboard's built files at `/`, or a placeholder page until they are built.

use std::path::Path;

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

pub fn router(dir: &Path) -> Router {
    let index = dir.join("index.html");
    if index.is_file() {
        // Unknown paths fall back to index.html so client-side routes survive a reload.
        Router::new().fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
    } else {
        Router::new().route("/", get(|| async { Html(PLACEHOLDER) }))
    }
}

const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgeflag</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body>
<h1>edgeflag server</h1>
<p>The dashboard is not built yet (no <code>index.html</code> in the static directory; build it
with <code>trunk build --release</code> and pass <code>--static-dir</code>). The API is live:</p>
<ul>
<li><a href="/api/flags">GET /api/flags</a>: the current flag file (ETag, If-None-Match)</li>
<li><a href="/api/flags/history">GET /api/flags/history</a>: every version, newest first</li>
<li><a href="/metrics">GET /metrics</a>: Prometheus exposition</li>
<li><code>GET /api/metrics?flag=KEY&amp;env=ENV&amp;window=5m</code>: per-arm health</li>
<li><code>POST /ofrep/v1/evaluate/flags</code>: OpenFeature remote evaluation</li>
</ul>
</body></html>
"#;
