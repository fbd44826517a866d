//! The dashboard's built files at `/`, or a placeholder page until they are built.
//!
//! `scripts/build-dashboard.sh` writes a `.br` and a `.gz` next to every compressible file
//! (`scripts/precompress.mjs`); they are served by `Accept-Encoding` (brotli first) with
//! `Content-Encoding`, and every response says `Vary: Accept-Encoding`. A client that accepts
//! neither gets the file as is. Caching: trunk's content-hashed asset names never change
//! content, so they are `immutable` for a year; `index.html` (which names the current hashes),
//! the SPA fallback and anything else is `no-cache` (revalidated with `Last-Modified`).
//!
//! Only a page route falls back to `index.html`: a path under `/flags/` (the dashboard's flag
//! URLs, whose last segment is a key such as `config.json`) or whose last segment has no
//! extension, outside the API prefixes. A missing asset (`/app-0123456789abcdef.js` from a stale page) is
//! a 404, not HTML a browser would refuse as script, and an unknown API path is a JSON 404, not
//! a 200 with the dashboard that an API client would try to parse.

use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// For content-hashed assets: a new build has new names.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else: use a cached copy only after revalidating it.
pub const NO_CACHE: &str = "no-cache";

pub fn router(dir: &Path) -> Router {
    let index = dir.join("index.html");
    if index.is_file() {
        // Unknown page paths fall back to index.html so client-side routes survive a reload.
        let pages = ServeDir::new(dir)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(ServeFile::new(index).precompressed_br().precompressed_gzip());
        let assets = ServeDir::new(dir).precompressed_br().precompressed_gzip();
        let serve = move |req: Request| {
            let (pages, assets) = (pages.clone(), assets.clone());
            async move {
                match route_kind(req.uri().path()) {
                    RouteKind::Api => api_not_found(&req),
                    RouteKind::Asset => assets.oneshot(req).await.into_response(),
                    RouteKind::Page => pages.oneshot(req).await.into_response(),
                }
            }
        };
        Router::new().fallback(serve).layer(middleware::from_fn(cache_headers))
    } else {
        Router::new()
            .route("/", get(|| async { Html(PLACEHOLDER) }))
            .fallback(|req: Request| async move {
                match route_kind(req.uri().path()) {
                    RouteKind::Api => api_not_found(&req),
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            })
            .layer(middleware::from_fn(cache_headers))
    }
}

/// Path prefixes that belong to the API: never answered with the dashboard.
const API_PREFIXES: [&str; 4] = ["/api/", "/edge/", "/ofrep/", "/metrics/"];

/// The dashboard's flag URLs (`/flags/<key>`, `/flags/<key>/canary`; dashboard/src/route.rs):
/// pages whatever the key ends with.
const DASHBOARD_FLAGS: &str = "/flags/";

/// What a dashboard build (or a file put beside it) is made of.
const ASSET_EXTENSIONS: [&str; 18] = [
    "js", "mjs", "wasm", "css", "html", "htm", "map", "json", "txt", "ico", "png", "svg", "jpg", "jpeg", "webp",
    "woff", "woff2", "webmanifest",
];

#[derive(Debug, PartialEq, Eq)]
enum RouteKind {
    /// Under an API prefix: a route the server does not have.
    Api,
    /// A file name (the last segment ends in a static file's extension): served if it exists,
    /// else 404. Other dots stay page routes: a flag key may be `checkout.v2`.
    Asset,
    /// Anything else: a dashboard route, answered with index.html when no file matches.
    Page,
}

fn route_kind(path: &str) -> RouteKind {
    if path == "/api" || API_PREFIXES.iter().any(|p| path.starts_with(p)) {
        RouteKind::Api
    } else if path.starts_with(DASHBOARD_FLAGS) {
        RouteKind::Page
    } else if path
        .rsplit('/')
        .next()
        .and_then(|last| last.rsplit_once('.'))
        .is_some_and(|(_, ext)| ASSET_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
    {
        RouteKind::Asset
    } else {
        RouteKind::Page
    }
}

fn api_not_found(req: &Request) -> Response {
    super::error(StatusCode::NOT_FOUND, format!("no such route: {} {}", req.method(), req.uri().path()))
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

    #[test]
    fn only_page_routes_fall_back_to_the_dashboard() {
        for api in ["/api", "/api/", "/api/nope", "/api/flags/x/y", "/edge/nope", "/ofrep/v2/x", "/metrics/x"] {
            assert_eq!(route_kind(api), RouteKind::Api, "{api}");
        }
        for asset in ["/missing-fedcba9876543210.js", "/favicon.ico", "/snippets/x/a.js", "/index.html"] {
            assert_eq!(route_kind(asset), RouteKind::Asset, "{asset}");
        }
        for page in ["/", "/canary/payment-processor", "/flags/new-dashboard/canary", "/apis", "/edgeflag", "/flags/checkout.v2", "/flags/config.json", "/flags/eu%2Fpayments.js/canary"] {
            assert_eq!(route_kind(page), RouteKind::Page, "{page}");
        }
    }
}
