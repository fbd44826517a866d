//! Command-line and environment configuration of `edgeflag serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `edgeflag serve` (also the standalone `edgeflag-server` binary).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the real address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Directory of the durable store (SQLite database `edgeflag.db`).
    #[arg(long, default_value = "./edgeflag-data")]
    pub data_dir: PathBuf,

    #[command(flatten)]
    pub replicas: ReplicaArgs,

    /// Flag file imported as version 1 when the store is empty
    /// [default: examples/flags.json when it exists, else an empty flag file].
    #[arg(long)]
    pub flags: Option<PathBuf>,

    /// Directory of the dashboard's built files, served at `/` (a placeholder page when missing).
    #[arg(long, default_value = "dist")]
    pub static_dir: PathBuf,

    /// Run the built-in demo traffic generator (simulated edge traffic for every flag and arm).
    #[arg(long)]
    pub demo: bool,

    /// Admin bearer token for writes. When unset, one is generated on first start, stored
    /// (hashed) in the data directory and printed once.
    #[arg(long, env = "EDGEFLAG_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Name recorded as the author of writes made with `--token` (also the name of the
    /// generated admin token).
    #[arg(long, default_value = "admin")]
    pub token_name: String,

    /// Ingest bearer token (role `ingest`: may post metric events, nothing else), kept in
    /// memory only. More tokens: `edgeflag token create NAME --role ingest`.
    #[arg(long, env = "EDGEFLAG_INGEST_TOKEN", hide_env_values = true)]
    pub ingest_token: Option<String>,

    /// A browser origin (e.g. `https://shop.example.com`) allowed to post metric events
    /// (repeatable). Without it only requests without an `Origin` header (edges, servers) and
    /// same-origin pages may post.
    #[arg(long = "allowed-origin", value_parser = parse_origin)]
    pub allowed_origins: Vec<String>,

    /// Largest accepted flag-file body (PUT /api/flags), in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest accepted metric-event batch body, in bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    pub max_events_body_bytes: usize,

    /// How often the canary controller judges running canaries (e.g. "10s", "500ms").
    #[arg(long, default_value = "10s", value_parser = parse_duration_arg)]
    pub controller_interval: Duration,

    /// Metrics window judged [default: the current stage's `min_duration`].
    #[arg(long, value_parser = parse_duration_arg)]
    pub controller_window: Option<Duration>,

    /// Consecutive failed judgements that roll a canary back.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub controller_failures: u32,

    /// Judge canaries on their own gates only, without the canary-versus-baseline comparisons
    /// (they need baseline traffic, which a 100 % stage does not have).
    #[arg(long)]
    pub controller_no_baseline: bool,

    /// Do not run the canary controller (canaries then only change by hand).
    #[arg(long)]
    pub no_controller: bool,

    /// Where the controller reads metrics (`--metrics-source`, `--prometheus-*`).
    #[command(flatten)]
    pub metrics_source: crate::metrics_source::MetricsSourceArgs,

    /// The change stream (`--stream-*`).
    #[command(flatten)]
    pub stream: crate::stream::StreamArgs,
    #[command(flatten)]
    pub http: HttpArgs,

    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// Connection and request limits of the HTTP server (see `serve.rs` and server/README.md).
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Time a client has to send a request's line and headers, from the connection's start or
    /// the previous response (so also how long an idle keep-alive connection stays open).
    #[arg(long, default_value = "10s", value_parser = parse_duration_arg)]
    pub header_read_timeout: Duration,

    /// Time to receive a request's body and produce its response headers, else 408. Applies to
    /// every route except metric ingestion.
    #[arg(long, default_value = "30s", value_parser = parse_duration_arg)]
    pub request_timeout: Duration,

    /// The same for `POST /api/metrics/events` (bodies up to --max-events-body-bytes).
    #[arg(long, default_value = "60s", value_parser = parse_duration_arg)]
    pub events_request_timeout: Duration,

    /// A response that cannot be written for this long (the client stopped reading) closes
    /// its connection.
    #[arg(long, default_value = "30s", value_parser = parse_duration_arg)]
    pub write_timeout: Duration,

    /// Most open client connections [default: from the open-file limit, at most 4096]. At the
    /// limit, a new client displaces the oldest connection that has not sent a complete
    /// request head; else it waits in the listen backlog.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,

    /// How long shutdown (SIGTERM, Ctrl-C) waits for in-flight requests before closing them.
    #[arg(long, default_value = "5s", value_parser = parse_duration_arg)]
    pub shutdown_timeout: Duration,
}

impl Default for HttpArgs {
    fn default() -> Self {
        HttpArgs {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            events_request_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            max_connections: None,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// Caps of the metrics store (its memory ceiling is `--metrics-max-series` × ~70 KB).
#[derive(Debug, Clone, clap::Args)]
pub struct MetricsArgs {
    /// Most distinct flag/environment/arm series kept.
    #[arg(long, default_value_t = crate::metrics::store::MAX_SERIES, value_parser = positive_usize)]
    pub metrics_max_series: usize,

    /// Most series of one flag (environments × arms).
    #[arg(long, default_value_t = crate::metrics::store::MAX_SERIES_PER_FLAG, value_parser = positive_usize)]
    pub metrics_max_series_per_flag: usize,

    /// A series without events for this long is evicted (its windows are empty after an hour).
    #[arg(long, default_value = "61m", value_parser = parse_duration_arg)]
    pub metrics_idle_evict: Duration,
}

impl Default for MetricsArgs {
    fn default() -> Self {
        let limits = crate::metrics::StoreLimits::default();
        MetricsArgs {
            metrics_max_series: limits.max_series,
            metrics_max_series_per_flag: limits.max_series_per_flag,
            metrics_idle_evict: Duration::from_millis(limits.idle_evict_ms.unsigned_abs()),
        }
    }
}

impl MetricsArgs {
    pub fn limits(&self) -> crate::metrics::StoreLimits {
        crate::metrics::StoreLimits {
            max_series: self.metrics_max_series,
            max_series_per_flag: self.metrics_max_series_per_flag.min(self.metrics_max_series),
            idle_evict_ms: i64::try_from(self.metrics_idle_evict.as_millis()).unwrap_or(i64::MAX),
        }
    }
}

fn positive_usize(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The store backend, replicas, decision webhooks and the edge path's caching (see
/// server/README.md, "At scale").
#[derive(Debug, Clone, clap::Args)]
pub struct ReplicaArgs {
    /// Where versions, tokens and webhook deliveries are stored: `postgres://user:password@host:port/db`
    /// for PostgreSQL (any number of replicas share it), or `sqlite` / `sqlite:DIR`
    /// [default: SQLite in --data-dir].
    #[arg(long, env = "EDGEFLAG_STORE", hide_env_values = true)]
    pub store: Option<String>,

    /// With PostgreSQL: the safety-net check for versions written by other replicas (they
    /// normally arrive at once through LISTEN/NOTIFY).
    #[arg(long, default_value = "1s", value_parser = parse_duration_arg)]
    pub store_poll_interval: Duration,

    /// With PostgreSQL: how often a replica tries to become the canary controller's leader, and
    /// the leader checks it still is (the takeover bound after a leader dies).
    #[arg(long, default_value = "1s", value_parser = parse_duration_arg)]
    pub leader_retry: Duration,

    /// A URL that receives the controller's decisions (advance, complete, rollback, hold) as
    /// signed JSON POSTs (repeatable).
    #[arg(long = "webhook")]
    pub webhooks: Vec<String>,

    /// The shared secret of the webhooks' HMAC-SHA256 signature (`X-Edgeflag-Signature-256`).
    #[arg(long, env = "EDGEFLAG_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,

    /// Attempts per webhook delivery (the first included) before it is recorded as failed.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=30))]
    pub webhook_attempts: u32,

    /// Wait after a webhook's first failed attempt; doubles after each (at most 5 min).
    #[arg(long, default_value = "1s", value_parser = parse_duration_arg)]
    pub webhook_backoff: Duration,

    /// `max-age` of the public edge path (`/edge/flags.json`, `/edge/manifest.json`).
    #[arg(long, default_value = "1s", value_parser = parse_duration_or_zero)]
    pub edge_max_age: Duration,

    /// `stale-while-revalidate` of the public edge path: how long a CDN may serve its copy
    /// while it revalidates.
    #[arg(long, default_value = "30s", value_parser = parse_duration_or_zero)]
    pub edge_stale_while_revalidate: Duration,
}

impl Default for ReplicaArgs {
    fn default() -> Self {
        ReplicaArgs {
            store: None,
            store_poll_interval: Duration::from_secs(1),
            leader_retry: Duration::from_secs(1),
            webhooks: Vec::new(),
            webhook_secret: None,
            webhook_attempts: 6,
            webhook_backoff: Duration::from_secs(1),
            edge_max_age: Duration::from_secs(1),
            edge_stale_while_revalidate: Duration::from_secs(30),
        }
    }
}

fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
    edgeflag_evaluator::duration::parse_duration(text)
}

/// `scheme://host[:port]`, lower-cased, as browsers send it in `Origin`.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let lower = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let Some((scheme, authority)) = lower.split_once("://") else {
        return Err(format!("{text:?}: an origin is scheme://host[:port], e.g. https://app.example.com"));
    };
    let ok_scheme = scheme == "http" || scheme == "https";
    let ok_authority = !authority.is_empty()
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !ok_scheme || !ok_authority {
        return Err(format!("{text:?}: an origin is http(s)://host[:port], with no path"));
    }
    Ok(lower)
}

pub(crate) fn parse_duration_arg(text: &str) -> Result<Duration, String> {
    let d = edgeflag_evaluator::duration::parse_duration(text)?;
    if d.is_zero() {
        return Err("must be greater than 0".into());
    }
    Ok(d)
}

impl ServeArgs {
    /// Where the store lives (`--store`, else SQLite in `--data-dir`).
    pub fn location(&self) -> anyhow::Result<crate::store::Location> {
        crate::store::Location::parse(self.replicas.store.as_deref(), &self.data_dir)
    }

    /// Defaults for tests and embedding: loopback port 0, everything else as on the command line.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        ServeArgs {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            replicas: ReplicaArgs::default(),
            flags: None,
            static_dir: PathBuf::from("dist"),
            demo: false,
            token: None,
            token_name: "admin".to_string(),
            ingest_token: None,
            allowed_origins: Vec::new(),
            max_body_bytes: 1024 * 1024,
            max_events_body_bytes: 8 * 1024 * 1024,
            controller_interval: Duration::from_secs(10),
            controller_window: None,
            controller_failures: 3,
            controller_no_baseline: false,
            no_controller: false,
            metrics_source: Default::default(),
            stream: Default::default(),
            http: HttpArgs::default(),
            metrics: MetricsArgs::default(),
        }
    }
}

/// The default initial flag file, relative to the working directory.
pub const DEFAULT_FLAGS_FILE: &str = "examples/flags.json";
