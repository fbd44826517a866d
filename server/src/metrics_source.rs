//! Where the canary controller reads an arm's metrics: the built-in store (the events posted to
//! this process, the default) or a Prometheus-compatible HTTP API (`--metrics-source
//! prometheus=URL`: Prometheus, Thanos, Mimir, VictoriaMetrics) that scrapes every replica's
//! `/metrics`, so the controller judges the sums over all replicas.
//!
//! Both answer the same question, one arm of one flag in a set of environments over an
//! explicit time range `[from, to]`, with the evaluator's `ArmSummary` (requests, errors,
//! percentiles, latency buckets). The Prometheus queries and the conversion of their answers
//! are the evaluator's `promql` module, shared with the dashboard.
//!
//! Any failure (unreachable, timeout, HTTP error, an error or malformed response, data older
//! than `--prometheus-max-staleness`) is a [`SourceError`]: the controller treats the arm as
//! missing, which the judgement holds on ("no data never advances").

use std::sync::Arc;
use std::time::Duration;

use edgeflag_evaluator::judgement::ArmSummary;
use edgeflag_evaluator::promql::{self, Sample, Target};

use crate::metrics::MetricsStore;

/// One arm of one flag over `[from_ms, to_ms]` (epoch milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct ArmQuery<'a> {
    pub flag: &'a str,
    /// The environments whose events count (`None` = all).
    pub envs: Option<&'a [String]>,
    pub arm: &'a str,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// Why an arm's metrics could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    #[error("{what}: cannot reach {url}: {message}")]
    Unreachable { what: &'static str, url: String, message: String },
    #[error("{what}: HTTP {status} from {url}: {body}")]
    Http { what: &'static str, url: String, status: u16, body: String },
    #[error("{what}: {message}")]
    Response { what: &'static str, message: String },
    #[error("the newest sample is {age_s:.0} s old (limit {limit_s} s): the scrapes have stopped")]
    Stale { age_s: f64, limit_s: u64 },
    #[error("requests in the range but no current sample: the scrapes have stopped (the series are stale)")]
    NoCurrentSample,
}

/// The controller's metrics source.
pub enum MetricsSource {
    /// This process's metrics store.
    Builtin(Arc<MetricsStore>),
    Prometheus(Box<Prometheus>),
}

impl MetricsSource {
    /// The arm's summary over the query's range.
    pub async fn arm(&self, q: &ArmQuery<'_>) -> Result<ArmSummary, SourceError> {
        match self {
            MetricsSource::Builtin(store) => {
                // The store keeps 10 s buckets for an hour: the range is the window ending at `to`.
                Ok(store.arm_window(q.flag, q.envs, q.arm, q.to_ms.saturating_sub(q.from_ms), q.to_ms))
            }
            MetricsSource::Prometheus(p) => p.arm(q).await,
        }
    }

    /// `builtin` or `prometheus` (a label of `edgeflag_controller_metrics_errors_total`).
    pub fn kind(&self) -> &'static str {
        match self {
            MetricsSource::Builtin(_) => "builtin",
            MetricsSource::Prometheus(_) => "prometheus",
        }
    }

    /// For the log: where the metrics come from (never credentials).
    pub fn describe(&self) -> String {
        match self {
            MetricsSource::Builtin(_) => "the built-in metrics store".to_string(),
            MetricsSource::Prometheus(p) => format!("the Prometheus-compatible API at {}", p.base),
        }
    }
}

/// Largest accepted response body of one query: a `sum`/`sum by (le)` answer is a few KB.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How to reach a Prometheus-compatible API.
#[derive(Debug, Clone)]
pub struct PrometheusConfig {
    /// Base URL, e.g. `http://prometheus:9090`, `https://mimir.example.com/prometheus`; user
    /// and password in the URL become HTTP basic authentication.
    pub url: String,
    /// Extra request headers, e.g. `Authorization: Bearer …` or `X-Scope-OrgID: tenant` (Mimir).
    pub headers: Vec<(String, String)>,
    /// Per-query timeout.
    pub timeout: Duration,
    /// Data whose newest sample is older than this (at the range's end) is no data.
    pub max_staleness: Duration,
}

pub struct Prometheus {
    /// The base URL without credentials (for logs and errors).
    base: String,
    query_url: reqwest::Url,
    basic_auth: Option<(String, Option<String>)>,
    headers: reqwest::header::HeaderMap,
    client: reqwest::Client,
    max_staleness: Duration,
}

impl Prometheus {
    pub fn new(config: &PrometheusConfig) -> Result<Prometheus, String> {
        let mut url = reqwest::Url::parse(config.url.trim())
            .map_err(|e| format!("--metrics-source prometheus={}: not a URL: {e}", config.url))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("--metrics-source prometheus={}: expected http(s)://host[:port][/path]", config.url));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("--metrics-source prometheus={}: the base URL takes no query or fragment", config.url));
        }
        let basic_auth = (!url.username().is_empty()).then(|| {
            let decode = |s: &str| percent_decode(s);
            (decode(url.username()), url.password().map(decode))
        });
        // Never keep (or print) credentials in the URL.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let base = url.as_str().trim_end_matches('/').to_string();
        let query_url = reqwest::Url::parse(&format!("{base}/api/v1/query"))
            .map_err(|e| format!("--metrics-source prometheus={}: {e}", config.url))?;
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &config.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|e| format!("--prometheus-header {name:?}: {e}"))?;
            let value = reqwest::header::HeaderValue::from_str(value.trim())
                .map_err(|e| format!("--prometheus-header {name}: {e}"))?;
            headers.append(name, value);
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("edgeflag-controller/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Prometheus { base, query_url, basic_auth, headers, client, max_staleness: config.max_staleness })
    }

    /// The base URL (without credentials).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The arm's summary: its request and error counts and latency buckets over the range,
    /// each an instant query at `to`, and the age of its newest sample.
    pub async fn arm(&self, q: &ArmQuery<'_>) -> Result<ArmSummary, SourceError> {
        let target = Target { flag: q.flag, envs: q.envs, arm: q.arm };
        let window = promql::window_seconds(q.from_ms, q.to_ms);
        let at = q.to_ms as f64 / 1000.0;
        let fill = |template: &str| promql::fill(template, &target, window, window);
        let queries = [promql::NEWEST_SAMPLE, promql::REQUESTS, promql::ERRORS, promql::LATENCY_BUCKETS].map(fill);
        let (newest, requests, errors, buckets) = tokio::join!(
            self.query("newest sample", &queries[0], at),
            self.query("requests", &queries[1], at),
            self.query("errors", &queries[2], at),
            self.query("latency buckets", &queries[3], at),
        );
        let one = |what: &'static str, samples: Vec<Sample>| {
            promql::single_value(&samples).map_err(|message| SourceError::Response { what, message })
        };
        let newest = one("newest sample", newest?)?;
        let requests = one("requests", requests?)?;
        let limit_s = self.max_staleness.as_secs();
        match newest {
            Some(newest) if at - newest > self.max_staleness.as_secs_f64() => {
                return Err(SourceError::Stale { age_s: at - newest, limit_s });
            }
            // Requests in the range but no current sample: the series went stale (their
            // targets stopped answering scrapes), so the range is only partly covered.
            None if requests.is_some_and(|r| r > 0.0) => return Err(SourceError::NoCurrentSample),
            _ => {}
        }
        let errors = one("errors", errors?)?;
        let buckets = promql::latency_buckets(&buckets?)
            .map_err(|message| SourceError::Response { what: "latency buckets", message })?;
        Ok(promql::arm_summary(requests, errors, buckets))
    }

    /// One instant query at `time_s`; the response body is read up to [`MAX_RESPONSE_BYTES`].
    async fn query(&self, what: &'static str, promql: &str, time_s: f64) -> Result<Vec<Sample>, SourceError> {
        let unreachable = |e: reqwest::Error| SourceError::Unreachable {
            what,
            url: self.base.clone(),
            message: error_chain(&e),
        };
        let mut request = self
            .client
            .get(self.query_url.clone())
            .query(&[("query", promql), ("time", &format!("{time_s:.3}"))])
            .headers(self.headers.clone());
        if let Some((user, password)) = &self.basic_auth {
            request = request.basic_auth(user, password.as_ref());
        }
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(SourceError::Response { what, message: format!("response larger than {MAX_RESPONSE_BYTES} bytes") });
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&body);
        // Prometheus answers query errors (400, 422, 503) with its JSON error body: say what it says.
        match promql::parse_vector(&text) {
            Ok(samples) if status.is_success() => Ok(samples),
            Err(message) if message.starts_with("Prometheus error") => Err(SourceError::Response { what, message }),
            Ok(_) | Err(_) if !status.is_success() => Err(SourceError::Http {
                what,
                url: self.base.clone(),
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            }),
            Ok(samples) => Ok(samples),
            Err(message) => Err(SourceError::Response { what, message }),
        }
    }
}

/// The error and its causes on one line (reqwest's own message omits them).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// `%XX` sequences of URL userinfo, decoded (invalid ones are kept as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `--metrics-source` and the options of the Prometheus source.
#[derive(Debug, Clone, clap::Args)]
pub struct MetricsSourceArgs {
    /// Where the canary controller reads metrics: `builtin` (the events posted to this
    /// process) or `prometheus=URL`, a Prometheus-compatible HTTP API (Prometheus, Thanos,
    /// Mimir, VictoriaMetrics) scraping every replica's /metrics; user:password@ in the URL is
    /// basic authentication.
    #[arg(long = "metrics-source", default_value = "builtin", value_parser = parse_source_arg)]
    pub source: SourceArg,

    /// A header sent with every Prometheus query, `Name: value` (repeatable), e.g.
    /// `Authorization: Bearer …` or Mimir's `X-Scope-OrgID: tenant`.
    #[arg(long = "prometheus-header", value_parser = parse_header_arg)]
    pub headers: Vec<(String, String)>,

    /// Timeout of one Prometheus query (a slower answer is no data for that tick).
    #[arg(long = "prometheus-timeout", default_value = "5s", value_parser = crate::config::parse_duration_arg)]
    pub timeout: Duration,

    /// Data whose newest sample is older than this is no data (the scrapes have stopped).
    #[arg(long = "prometheus-max-staleness", default_value = "2m", value_parser = crate::config::parse_duration_arg)]
    pub max_staleness: Duration,
}

impl Default for MetricsSourceArgs {
    fn default() -> Self {
        MetricsSourceArgs {
            source: SourceArg::Builtin,
            headers: Vec::new(),
            timeout: Duration::from_secs(5),
            max_staleness: Duration::from_secs(120),
        }
    }
}

impl MetricsSourceArgs {
    /// The source these options name (`store` serves the built-in one).
    pub fn build(&self, store: Arc<MetricsStore>) -> Result<MetricsSource, String> {
        match &self.source {
            SourceArg::Builtin => Ok(MetricsSource::Builtin(store)),
            SourceArg::Prometheus(url) => Ok(MetricsSource::Prometheus(Box::new(Prometheus::new(&PrometheusConfig {
                url: url.clone(),
                headers: self.headers.clone(),
                timeout: self.timeout,
                max_staleness: self.max_staleness,
            })?))),
        }
    }
}

/// Parses `--metrics-source`: `builtin` or `prometheus=URL`.
pub fn parse_source_arg(text: &str) -> Result<SourceArg, String> {
    let text = text.trim();
    if text == "builtin" {
        return Ok(SourceArg::Builtin);
    }
    match text.split_once('=') {
        Some(("prometheus", url)) if !url.trim().is_empty() => Ok(SourceArg::Prometheus(url.trim().to_string())),
        _ => Err(format!("{text:?}: expected `builtin` or `prometheus=http(s)://host:port`")),
    }
}

/// `--metrics-source` as given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SourceArg {
    #[default]
    Builtin,
    Prometheus(String),
}

/// Parses `--prometheus-header "Name: value"`.
pub fn parse_header_arg(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.trim().to_string())),
        _ => Err(format!("{text:?}: expected `Name: value`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> PrometheusConfig {
        PrometheusConfig {
            url: url.to_string(),
            headers: vec![("X-Scope-OrgID".into(), "tenant-1".into())],
            timeout: Duration::from_secs(1),
            max_staleness: Duration::from_secs(60),
        }
    }

    #[test]
    fn urls_lose_their_credentials_and_keep_their_path() {
        let p = Prometheus::new(&config("https://ops:s%40cret@mimir.example.com/prometheus/")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.base(), "https://mimir.example.com/prometheus");
        assert_eq!(p.query_url.as_str(), "https://mimir.example.com/prometheus/api/v1/query");
        assert_eq!(p.basic_auth, Some(("ops".to_string(), Some("s@cret".to_string()))));
        for bad in ["mimir:9090", "ftp://x", "http://x/?a=b", "not a url"] {
            assert!(Prometheus::new(&config(bad)).is_err(), "{bad}");
        }
        assert!(Prometheus::new(&PrometheusConfig { headers: vec![("bad name".into(), "v".into())], ..config("http://p:9090") }).is_err());
    }

    #[test]
    fn arguments_parse() {
        assert_eq!(parse_source_arg("builtin"), Ok(SourceArg::Builtin));
        assert_eq!(parse_source_arg("prometheus=http://p:9090"), Ok(SourceArg::Prometheus("http://p:9090".into())));
        assert!(parse_source_arg("prometheus=").is_err());
        assert!(parse_source_arg("graphite=http://g").is_err());
        assert_eq!(parse_header_arg("X-Scope-OrgID: t1"), Ok(("X-Scope-OrgID".into(), "t1".into())));
        assert!(parse_header_arg("no colon").is_err());
    }

    /// Nothing listens: an error that names the URL, never a panic and never zeros.
    #[tokio::test]
    async fn an_unreachable_api_is_an_error_not_zeros() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        drop(listener);
        let p = Prometheus::new(&config(&format!("http://127.0.0.1:{port}"))).unwrap_or_else(|e| panic!("{e}"));
        let source = MetricsSource::Prometheus(Box::new(p));
        let q = ArmQuery { flag: "f", envs: None, arm: "canary", from_ms: 0, to_ms: 60_000 };
        let err = source.arm(&q).await.err().unwrap_or_else(|| panic!("no error"));
        assert!(matches!(err, SourceError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
    }
}
