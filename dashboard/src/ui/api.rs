//! HTTP calls to the edgeflag server (gloo-net). Futures here are not `Send`: callers use
//! `fetched::Fetched` (a `LocalResource`), `fetched::Job` (an `Action::new_local`) or `spawn_local`.

use edgeflag_dashboard::api_types::{api_url, encode_key, header_message, write_outcome, HistoryEntry, WriteOutcome};
use edgeflag_dashboard::canaries::{parse_canaries, Canaries};
use edgeflag_dashboard::draft::Published;
use edgeflag_dashboard::canary::{parse_metrics, MetricsResponse};
use edgeflag_dashboard::prometheus::{parse_latency_buckets, parse_query_range, parse_value, Point};
use edgeflag_evaluator::stats::Bucket;
use gloo_net::http::{Request, Response};
use web_sys::RequestCache;

async fn text_of(response: Response) -> Result<String, String> {
    response.text().await.map_err(|e| format!("could not read the response: {e}"))
}

/// The body with the `ETag` and `X-Edgeflag-Version` headers (`version` when absent).
async fn published_from(response: Response, version: Option<u64>) -> Result<Published, String> {
    let etag = response.headers().get("ETag").unwrap_or_default();
    let header = response.headers().get("X-Edgeflag-Version").and_then(|v| v.trim().parse().ok());
    Ok(Published { text: text_of(response).await?, etag, version: header.or(version).unwrap_or(0) })
}

/// `GET /api/flags`: the published file with its ETag and version.
pub async fn get_published(base: &str) -> Result<Published, String> {
    published_if_changed(base, None).await?.ok_or_else(|| "GET /api/flags: no body".to_string())
}

/// `GET /api/flags` with `If-None-Match: etag`: `None` when the server still has that version
/// (304). The browser's cache is bypassed so the 304 reaches us.
pub async fn published_if_changed(base: &str, etag: Option<&str>) -> Result<Option<Published>, String> {
    let mut request = Request::get(&api_url(base, "/api/flags")).cache(RequestCache::NoStore);
    if let Some(etag) = etag.filter(|e| !e.is_empty()) {
        request = request.header("If-None-Match", etag);
    }
    let response = request.send().await.map_err(|e| format!("server unreachable: {e}"))?;
    if response.status() == 304 && etag.is_some() {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!("GET /api/flags: HTTP {}", response.status()));
    }
    Ok(Some(published_from(response, None).await?))
}

/// `GET /api/flags/versions/{n}` with its ETag; `None` when the server does not have it.
pub async fn published_version(base: &str, n: u64) -> Result<Option<Published>, String> {
    let response = Request::get(&api_url(base, &format!("/api/flags/versions/{n}")))
        .send()
        .await
        .map_err(|e| format!("server unreachable: {e}"))?;
    if response.status() == 404 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!("GET /api/flags/versions/{n}: HTTP {}", response.status()));
    }
    Ok(Some(published_from(response, Some(n)).await?))
}

/// `GET /api/flags/{key}`: one flag's JSON, its per-flag ETag and the file version.
pub async fn get_flag(base: &str, key: &str) -> Result<(String, String, u64), String> {
    let response = Request::get(&api_url(base, &format!("/api/flags/{}", encode_key(key))))
        .cache(RequestCache::NoStore)
        .send()
        .await
        .map_err(|e| format!("server unreachable: {e}"))?;
    if !response.ok() {
        return Err(format!("GET /api/flags/{key}: HTTP {}", response.status()));
    }
    let p = published_from(response, None).await?;
    Ok((p.text, p.etag, p.version))
}

/// `GET /api/canaries`: every canary's live state and the controller's last judgement.
pub async fn canaries(base: &str) -> Result<Canaries, String> {
    let response = Request::get(&api_url(base, "/api/canaries"))
        .cache(RequestCache::NoStore)
        .send()
        .await
        .map_err(|e| format!("server unreachable: {e}"))?;
    if !response.ok() {
        return Err(format!("GET /api/canaries: HTTP {}", response.status()));
    }
    parse_canaries(&text_of(response).await?)
}

/// `PATCH /api/flags/{key}` (JSON Merge Patch) with `If-Match` and the admin token.
pub async fn patch_flag(base: &str, key: &str, etag: &str, token: &str, message: &str, patch: &serde_json::Value) -> WriteOutcome {
    let builder = Request::patch(&api_url(base, &format!("/api/flags/{}", encode_key(key))))
        .header("If-Match", etag)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/merge-patch+json");
    let message = header_message(message);
    let builder = if message.is_empty() { builder } else { builder.header("X-Edgeflag-Message", &message) };
    send_write(builder.body(patch.to_string())).await
}

async fn send_write(request: Result<Request, gloo_net::Error>) -> WriteOutcome {
    let response = match request {
        Ok(request) => request.send().await,
        Err(e) => return WriteOutcome::Failed(format!("could not build the request: {e}")),
    };
    match response {
        Ok(response) => {
            let status = response.status();
            let etag = response.headers().get("ETag");
            let body = response.text().await.unwrap_or_default();
            write_outcome(status, &body, etag.as_deref())
        }
        Err(e) => WriteOutcome::Failed(format!("server unreachable: {e}")),
    }
}

/// Any URL holding a flag file (CORS permitting).
pub async fn get_text(url: &str) -> Result<String, String> {
    let response = Request::get(url).send().await.map_err(|e| format!("could not fetch {url}: {e}"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    text_of(response).await
}

/// `PUT /api/flags` with `If-Match`, or `POST /api/flags/rollback/{n}` when `rollback` is set.
pub async fn write(
    base: &str,
    etag: &str,
    token: &str,
    message: &str,
    body: Option<String>,
    rollback: Option<u64>,
) -> WriteOutcome {
    let builder = match rollback {
        Some(n) => Request::post(&api_url(base, &format!("/api/flags/rollback/{n}"))),
        None => Request::put(&api_url(base, "/api/flags")),
    }
    .header("If-Match", etag)
    .header("Authorization", &format!("Bearer {token}"))
    .header("Content-Type", "application/json");
    let message = header_message(message);
    let builder = if message.is_empty() { builder } else { builder.header("X-Edgeflag-Message", &message) };
    send_write(match body {
        Some(text) => builder.body(text),
        None => builder.build(),
    })
    .await
}

pub async fn history(base: &str, limit: u64) -> Result<Vec<HistoryEntry>, String> {
    let response = Request::get(&api_url(base, &format!("/api/flags/history?limit={limit}")))
        .cache(RequestCache::NoStore)
        .send()
        .await
        .map_err(|e| format!("server unreachable: {e}"))?;
    if !response.ok() {
        return Err(format!("GET /api/flags/history: HTTP {}", response.status()));
    }
    let text = text_of(response).await?;
    edgeflag_dashboard::api_types::parse_history(&text).map_err(|e| format!("unexpected history format: {e}"))
}

pub async fn version(base: &str, n: u64) -> Result<String, String> {
    match published_version(base, n).await? {
        Some(p) => Ok(p.text),
        None => Err(format!("version {n} does not exist on the server")),
    }
}

fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// `GET /api/metrics?flag=&env=&window=` (an empty `env` merges all environments).
pub async fn metrics(base: &str, flag: &str, env: &str, window: &str) -> Result<MetricsResponse, String> {
    let mut path = format!("/api/metrics?flag={}&window={}", encode(flag), encode(window));
    if !env.is_empty() {
        path.push_str(&format!("&env={}", encode(env)));
    }
    parse_metrics(&get_text(&api_url(base, &path)).await?)
}

/// One Prometheus `query_range` series.
pub async fn prometheus_range(url: &str) -> Result<Vec<Point>, String> {
    parse_query_range(&get_text(url).await?)
}

/// The value of an aggregated Prometheus instant query (`None`: empty result).
pub async fn prometheus_value(url: &str) -> Result<Option<f64>, String> {
    parse_value(&get_text(url).await?)
}

/// Latency buckets from a Prometheus instant query (`sum by (le)` of a histogram's buckets).
pub async fn prometheus_buckets(url: &str) -> Result<Vec<Bucket>, String> {
    parse_latency_buckets(&get_text(url).await?)
}
