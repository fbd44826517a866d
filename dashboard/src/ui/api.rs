//! HTTP calls to the edgeflag server (gloo-net). Futures here are not `Send`: callers use
//! `LocalResource`, `Action::new_local` or `spawn_local`.

use edgeflag_dashboard::api_types::{api_url, write_outcome, HistoryEntry, WriteOutcome};
use edgeflag_dashboard::draft::Published;
use edgeflag_dashboard::canary::{parse_metrics, MetricsResponse};
use edgeflag_dashboard::prometheus::{parse_latency_buckets, parse_query_range, parse_value, Point};
use edgeflag_evaluator::stats::Bucket;
use gloo_net::http::{Request, Response};

async fn text_of(response: Response) -> Result<String, String> {
    response.text().await.map_err(|e| format!("could not read the response: {e}"))
}

/// `GET /api/flags`: the published file with its ETag and version.
pub async fn get_published(base: &str) -> Result<Published, String> {
    let response = Request::get(&api_url(base, "/api/flags"))
        .send()
        .await
        .map_err(|e| format!("server unreachable: {e}"))?;
    if !response.ok() {
        return Err(format!("GET /api/flags: HTTP {}", response.status()));
    }
    let etag = response.headers().get("ETag").unwrap_or_default();
    let version = response
        .headers()
        .get("X-Edgeflag-Version")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok(Published { text: text_of(response).await?, etag, version })
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
    // Header values must be ASCII-printable; drop anything else from the free-text message.
    let message: String = message.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').collect();
    let builder = if message.trim().is_empty() { builder } else { builder.header("X-Edgeflag-Message", message.trim()) };
    let request = match body {
        Some(text) => builder.body(text),
        None => builder.build(),
    };
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

pub async fn history(base: &str) -> Result<Vec<HistoryEntry>, String> {
    let response = Request::get(&api_url(base, "/api/flags/history"))
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
    get_text(&api_url(base, &format!("/api/flags/versions/{n}"))).await
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
