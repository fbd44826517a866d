//! Starts the real server binary on a loopback port and talks to it over HTTP.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const TOKEN: &str = "test-token-0123456789";
/// Passed with `--ingest-token` where a test posts metric events.
pub const INGEST: &str = "test-ingest-token-0123456789";

pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flags.json")
}

pub fn fixture_text() -> String {
    std::fs::read_to_string(fixture()).expect("fixture readable")
}

pub struct Server {
    pub child: Child,
    /// The HTTP side (also reachable through `Deref`: `server.base`, `server.url(..)`).
    pub api: Api,
    /// Lines printed before "listening on".
    pub banner: Vec<String>,
}

/// A server's base URL and the requests tests make (cheap to clone into tasks).
#[derive(Clone)]
pub struct Api {
    pub base: String,
}

impl std::ops::Deref for Server {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// Spawns `edgeflag-server --addr 127.0.0.1:0 --data-dir DIR --flags FIXTURE EXTRA...` and waits
/// for its "listening on" line. The process is killed when the value is dropped.
pub async fn spawn(data_dir: &Path, extra: &[&str]) -> Server {
    spawn_with(data_dir, &fixture(), extra).await
}

/// [`spawn`] with another initial flag file.
pub async fn spawn_with(data_dir: &Path, flags: &Path, extra: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_edgeflag-server"));
    cmd.arg("--addr").arg("127.0.0.1:0").arg("--data-dir").arg(data_dir);
    if !extra.contains(&"--store") {
        cmd.args(backend_args(data_dir));
    }
    cmd.arg("--flags").arg(flags).arg("--static-dir").arg(data_dir.join("no-dist"));
    cmd.args(extra).env_remove("EDGEFLAG_ADMIN_TOKEN").env_remove("EDGEFLAG_INGEST_TOKEN");
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn edgeflag-server");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.trim_end_matches('/').to_string();
            }
            banner.push(line);
        }
        panic!("server exited before listening; banner: {banner:?}");
    })
    .await
    .expect("server listens within 30 s");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server { child, api: Api { base }, banner }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET /api/flags → (etag, version, body).
    pub async fn current(&self) -> (String, u64, Value) {
        let resp = client().get(self.url("/api/flags")).send().await.expect("GET /api/flags");
        assert_eq!(resp.status(), 200);
        let etag = header(&resp, "etag");
        let version = header(&resp, "x-edgeflag-version").parse().expect("numeric version");
        (etag, version, resp.json().await.expect("json body"))
    }

    pub async fn put(&self, body: &Value, if_match: &str) -> reqwest::Response {
        client()
            .put(self.url("/api/flags"))
            .bearer_auth(TOKEN)
            .header("if-match", if_match)
            .json(body)
            .send()
            .await
            .expect("PUT /api/flags")
    }
}

pub fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .expect("ascii header")
        .to_string()
}

/// The file with one flag's description changed.
pub fn with_description(file: &Value, flag_index: usize, description: &str) -> Value {
    let mut file = file.clone();
    file["flags"][flag_index]["description"] = Value::from(description);
    file
}

/// Writes `{"schema_version": 1, "environments": ["prod"], "flags": FLAGS}` into `dir` and
/// returns its path.
pub fn flag_file(dir: &Path, flags: Vec<Value>) -> PathBuf {
    let path = dir.join("flags.json");
    let file = serde_json::json!({"schema_version": 1, "environments": ["prod"], "flags": flags});
    std::fs::write(&path, file.to_string()).expect("write flag file");
    path
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// RFC 3339 `secs` seconds ago (whole seconds, UTC).
pub fn rfc3339_ago(secs: i64) -> String {
    edgeflag_server::clock::ms_to_rfc3339(now_ms() - secs * 1000)
}

/// A boolean flag with a base canary over `stages` = [(percent, min_duration)], gates
/// max_error_rate 5 %, p99 500 ms, 50 samples; started an hour ago.
pub fn canary_flag(key: &str, stages: &[(f64, &str)], status: &str) -> Value {
    let stages: Vec<Value> = stages
        .iter()
        .map(|(percent, min)| {
            serde_json::json!({"percent": percent, "min_duration": min,
                               "gate": {"max_error_rate": 0.05, "max_p99_ms": 500, "min_samples": 50}})
        })
        .collect();
    serde_json::json!({
        "key": key, "kind": "boolean", "enabled": true,
        "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}],
        "off_variation": "off", "default_variation": "off",
        "canary": {"baseline": "off", "canary": "on", "stages": stages, "current_stage": 0,
                   "status": status, "stage_started_at": rfc3339_ago(3600)}
    })
}

/// A plain boolean flag.
pub fn plain_flag(key: &str) -> Value {
    serde_json::json!({
        "key": key, "kind": "boolean", "enabled": true,
        "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}],
        "off_variation": "off", "default_variation": "off"
    })
}

/// `n` events of one arm in prod, `errors` of them failed, latencies 30..50 ms (the canary's
/// shifted by 0.5 ms so the arms' histograms differ), within the last second.
pub fn stream(key: &str, arm: &str, n: usize, errors: usize) -> Vec<Value> {
    let shift = if arm == "canary" { 0.5 } else { 0.0 };
    let now = now_ms();
    (0..n)
        .map(|i| {
            serde_json::json!({"ts": now - (i as i64 % 1000), "flag": key, "env": "prod", "arm": arm,
                               "outcome": if i < errors { "error" } else { "ok" },
                               "latency_ms": 30.0 + shift + (i % 20) as f64})
        })
        .collect()
}

/// A healthy canary (1 % errors) and its baseline.
pub fn healthy(key: &str) -> Vec<Value> {
    let mut events = stream(key, "canary", 200, 2);
    events.extend(stream(key, "baseline", 2000, 20));
    events
}

/// A failing canary (30 % errors) and a healthy baseline.
pub fn failing(key: &str) -> Vec<Value> {
    let mut events = stream(key, "canary", 200, 60);
    events.extend(stream(key, "baseline", 2000, 20));
    events
}

impl Api {
    /// POST /api/metrics/events with a bearer token; the status.
    pub async fn post_events(&self, token: &str, events: Vec<Value>) -> u16 {
        client()
            .post(self.url("/api/metrics/events"))
            .bearer_auth(token)
            .json(&serde_json::json!({"events": events}))
            .send()
            .await
            .expect("POST events")
            .status()
            .as_u16()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        client().get(self.url(path)).send().await.expect("GET").json().await.expect("JSON")
    }

    /// GET /api/flags/{key} → (flag etag, file version, flag).
    pub async fn flag(&self, key: &str) -> (String, u64, Value) {
        let resp = client().get(self.url(&format!("/api/flags/{key}"))).send().await.expect("GET flag");
        assert_eq!(resp.status(), 200, "GET /api/flags/{key}");
        let etag = header(&resp, "etag");
        let version = header(&resp, "x-edgeflag-version").parse().expect("numeric version");
        (etag, version, resp.json().await.expect("json"))
    }

    /// A per-flag write with an admin token; (status, body).
    pub async fn write_flag(
        &self,
        method: reqwest::Method,
        key: &str,
        token: &str,
        if_match: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = client()
            .request(method.clone(), self.url(&format!("/api/flags/{key}")))
            .bearer_auth(token)
            .header("if-match", if_match)
            .header("x-edgeflag-message", format!("{method} {key} by test"));
        if let Some(body) = body {
            let ct = if method == reqwest::Method::PATCH { "application/merge-patch+json" } else { "application/json" };
            req = req.header("content-type", ct).body(body.to_string());
        }
        let resp = req.send().await.expect("write flag");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The canary of flag `key` (base) in the current file.
    pub async fn canary(&self, key: &str) -> Value {
        self.flag(key).await.2["canary"].clone()
    }

    /// Polls until `check(canary)` holds, at most `secs` seconds.
    pub async fn wait_canary(&self, key: &str, secs: u64, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let c = self.canary(key).await;
            if check(&c) {
                return c;
            }
            assert!(std::time::Instant::now() < deadline, "{key}: {what} never happened; canary now {c}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn history(&self) -> Vec<Value> {
        self.get_json("/api/flags/history?limit=10000").await.as_array().cloned().unwrap_or_default()
    }
}

/// The PostgreSQL server of the scale tests (`scripts/test-scale.sh` starts it), if any.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("EDGEFLAG_TEST_POSTGRES").ok().filter(|s| !s.trim().is_empty())
}

/// The backend the HTTP suites run against: `sqlite` (default) or, with
/// `EDGEFLAG_TEST_BACKEND=postgres`, PostgreSQL (`scripts/test-scale.sh` runs `api`, `items`,
/// `writes`, `ingest` and `crash` that way too).
pub fn backend() -> &'static str {
    match std::env::var("EDGEFLAG_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            assert!(pg_admin_url().is_some(), "EDGEFLAG_TEST_BACKEND=postgres needs EDGEFLAG_TEST_POSTGRES");
            "postgres"
        }
        _ => "sqlite",
    }
}

/// `--store <a database for this data directory>` on PostgreSQL; nothing on SQLite.
pub fn backend_args(data_dir: &Path) -> Vec<String> {
    match backend() {
        "postgres" => vec!["--store".into(), pg_database_blocking(&data_dir.to_string_lossy()).expect("postgres")],
        _ => Vec::new(),
    }
}

/// The store a server spawned on `data_dir` uses.
pub fn location(data_dir: &Path) -> edgeflag_server::Location {
    match backend() {
        "postgres" => edgeflag_server::Location::Postgres(pg_database_blocking(&data_dir.to_string_lossy()).expect("postgres")),
        _ => edgeflag_server::Location::Sqlite(data_dir.to_path_buf()),
    }
}

/// Creates a stored token in the store of `data_dir` (as `edgeflag token create` does).
pub fn create_token(data_dir: &Path, name: &str, role: edgeflag_server::auth::Role) -> String {
    let (location, name) = (location(data_dir), name.to_string());
    // On a thread of its own: the PostgreSQL client blocks, which async tests may not.
    std::thread::spawn(move || {
        edgeflag_server::auth::TokenStore::open_at(&location, true).and_then(|s| s.create(&name, role)).expect("create token")
    })
    .join()
    .expect("token thread")
}

/// Whether `needle` appears anywhere in the stored tokens (SQLite: anywhere in the file).
pub fn tokens_contain(data_dir: &Path, needle: &str) -> bool {
    match location(data_dir) {
        edgeflag_server::Location::Sqlite(dir) => {
            let db = std::fs::read(dir.join("edgeflag.db")).expect("db");
            db.windows(needle.len()).any(|w| w == needle.as_bytes())
        }
        edgeflag_server::Location::Postgres(url) => {
            let needle = needle.to_string();
            std::thread::spawn(move || {
                let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
                let n: i64 = c
                    .query_one("SELECT count(*) FROM tokens t WHERE strpos(t::text, $1) > 0", &[&needle])
                    .expect("query")
                    .get(0);
                n > 0
            })
            .join()
            .expect("pg thread")
        }
    }
}

/// A database of its own on that server, named after `seed` (created if missing; the same seed
/// gives the same database, so a restarted server finds its data). Blocks (on a thread of its
/// own, so async tests may call it too).
pub fn pg_database_blocking(seed: &str) -> Option<String> {
    let seed = seed.to_string();
    std::thread::spawn(move || pg_database_now(&seed)).join().expect("pg thread")
}

fn pg_database_now(seed: &str) -> Option<String> {
    let admin = pg_admin_url()?;
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (seed, std::process::id()).hash(&mut h);
    let name = format!("ef_{:016x}", h.finish());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect to EDGEFLAG_TEST_POSTGRES");
    let exists = client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).expect("query").is_some();
    if !exists {
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
    }
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database name");
    Some(format!("{base}/{name}"))
}

/// [`pg_database_blocking`] from async code.
pub async fn pg_database(seed: &str) -> Option<String> {
    let seed = seed.to_string();
    tokio::task::spawn_blocking(move || pg_database_blocking(&seed)).await.expect("pg task")
}
