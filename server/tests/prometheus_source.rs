//! The controller reading a real Prometheus (Debian's package, started here on loopback with a
//! temporary TSDB, scraping the real server processes every second): it judges the sums over
//! two replicas, selects environments exactly (regex metacharacters escaped), completes a
//! healthy canary, and never advances without data: Prometheus down, Prometheus restarted,
//! scrapes stopped, or no series at all.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const PROMETHEUS: &str = "/usr/bin/prometheus";

/// A Prometheus process, killed on drop.
struct Prometheus {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Starts Prometheus on `port` with its TSDB in `dir`, scraping `targets` (host:port) every
/// second; waits until it is ready.
async fn start_prometheus(dir: &Path, port: u16, targets: &[&str]) -> Prometheus {
    let config = dir.join("prometheus.yml");
    let list = targets.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: edgeflag\n    static_configs:\n      - targets: [{list}]\n"
        ),
    )
    .expect("write prometheus.yml");
    let mut child = Command::new(PROMETHEUS)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn prometheus");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut log = Vec::new();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("Server is ready to receive web requests") {
                return true;
            }
            log.push(line);
        }
        false
    })
    .await;
    assert!(matches!(ready, Ok(true)), "prometheus did not start: {}", log.join("\n"));
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Prometheus { child, url: format!("http://127.0.0.1:{port}") }
}

impl Prometheus {
    /// An instant query's single value (None: empty result).
    async fn value(&self, promql: &str) -> Option<f64> {
        let body: Value = client()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", promql)])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn skip() -> bool {
    if Path::new(PROMETHEUS).exists() {
        return false;
    }
    eprintln!("skipped: {PROMETHEUS} is not installed (scripts/setup.sh installs Debian's prometheus)");
    true
}

fn host(api: &Api) -> String {
    api.base.trim_start_matches("http://").to_string()
}

/// A canary over two stages (10 % for 1 s, 50 % for 5 s), gates 5 % errors, p99 500 ms, 50
/// samples.
fn stages() -> Value {
    let stage = |percent: f64, min: &str| json!({"percent": percent, "min_duration": min,
                                                 "gate": {"max_error_rate": 0.05, "max_p99_ms": 500, "min_samples": 50}});
    json!([stage(10.0, "1s"), stage(50.0, "5s")])
}

fn canary(status: &str) -> Value {
    json!({"baseline": "off", "canary": "on", "stages": stages(), "current_stage": 0, "status": status,
           "stage_started_at": rfc3339_ago(3600)})
}

/// `pay`: a canary in the `eu.west` override only; `idle`: a base canary nobody reports on.
/// `euxwest` is there to catch an unescaped `.` in the environment regex.
fn flag_file(dir: &Path) -> PathBuf {
    let mut pay = plain_flag("pay");
    pay["environments"] = json!({"eu.west": {"canary": canary("running")}});
    let mut idle = plain_flag("idle");
    idle["canary"] = canary("running");
    let path = dir.join("flags.json");
    let file = json!({"schema_version": 1, "environments": ["eu.west", "euxwest"], "flags": [pay, idle]});
    std::fs::write(&path, file.to_string()).expect("write flags");
    path
}

/// `n` events of `pay` in `env`, `errors` of them failed, 30..50 ms, within the last second.
fn events(env: &str, arm: &str, n: usize, errors: usize) -> Vec<Value> {
    let now = now_ms();
    (0..n)
        .map(|i| {
            json!({"ts": now - (i as i64 % 500), "flag": "pay", "env": env, "arm": arm,
                   "outcome": if i < errors { "error" } else { "ok" }, "latency_ms": 30.0 + (i % 20) as f64})
        })
        .collect()
}

/// Posts a batch every 400 ms until dropped: the canary arm only to `canary_to` (the replica
/// without the controller), the baseline to both; failing canary events in `euxwest`.
fn traffic(canary_to: Api, both: Vec<Api>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            assert_eq!(canary_to.post_events(INGEST, events("eu.west", "canary", 20, 0)).await, 202);
            assert_eq!(canary_to.post_events(INGEST, events("euxwest", "canary", 40, 20)).await, 202);
            for api in &both {
                assert_eq!(api.post_events(INGEST, events("eu.west", "baseline", 60, 0)).await, 202);
            }
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    })
}

async fn canary_state(api: &Api, key: &str, env: Option<&str>) -> Value {
    let path = match env {
        Some(env) => format!("/api/canaries/{key}?env={env}"),
        None => format!("/api/canaries/{key}"),
    };
    api.get_json(&path).await
}

async fn wait_for(api: &Api, what: &str, secs: u64, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let state = canary_state(api, "pay", Some("eu.west")).await;
        if check(&state) {
            return state;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {state:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn metrics_text(api: &Api) -> String {
    client().get(api.url("/metrics")).send().await.expect("GET /metrics").text().await.expect("text")
}

/// The value of a series line `name{labels} v` in an exposition.
fn series(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(prefix)?.trim().parse().ok())
}

async fn promtool_check(text: &str) {
    let mut promtool = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package)");
    let mut stdin = promtool.stdin.take().expect("stdin");
    stdin.write_all(text.as_bytes()).await.expect("write");
    drop(stdin);
    let out = promtool.wait_with_output().await.expect("promtool");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controller_judges_the_sum_of_two_replicas_through_prometheus_and_holds_without_data() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = flag_file(dir.path());
    let prom_port = free_port();
    let prom_url = format!("http://127.0.0.1:{prom_port}");
    // Replica B ingests; replica A runs the controller, reading Prometheus.
    let b = spawn_with(&dir.path().join("b"), &flags, &["--token", TOKEN, "--ingest-token", INGEST, "--no-controller"]).await;
    let source = format!("prometheus={prom_url}");
    let a = spawn_with(
        &dir.path().join("a"),
        &flags,
        &[
            "--token", TOKEN, "--ingest-token", INGEST, "--metrics-source", &source,
            "--controller-interval", "300ms", "--controller-window", "20s", "--prometheus-timeout", "2s",
        ],
    )
    .await;
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).expect("mkdir");
    let prom = start_prometheus(&prom_dir, prom_port, &[&host(&a), &host(&b)]).await;
    let load = traffic(b.api.clone(), vec![a.api.clone(), b.api.clone()]);

    // The canary arm reaches A only through Prometheus (B's /metrics), so advancing proves the
    // controller judges what Prometheus sums; the failing `euxwest` events must not count.
    let advanced = wait_for(&a, "the canary to advance on Prometheus data", 60, |s| s["current_stage"] == 1).await;
    let local = a.get_json("/api/metrics?flag=pay&env=eu.west&window=5m").await;
    assert!(local["arms"]["canary"]["summary"]["requests"].as_u64().unwrap_or(0) == 0, "A itself has no canary events: {local}");
    let history = a.get_json("/api/flags/history?limit=5").await;
    let advance = history
        .as_array()
        .and_then(|h| h.iter().find(|e| e["author"] == "canary-controller"))
        .cloned()
        .unwrap_or_else(|| panic!("no controller entry: {history:#}"));
    let message = advance["message"].as_str().unwrap_or_default();
    assert!(message.contains("canary pay [eu.west]: advance current_stage 0 -> 1"), "{message}");
    assert!(message.contains("canary: ") && message.contains(" errors (0.00%)"), "only eu.west, no euxwest errors: {message}");
    println!("advanced: {message}\n{advanced:#}");

    // Prometheus goes away mid-canary: the controller holds at stage 1, says why, never advances.
    prom.stop().await;
    let held = wait_for(&a, "a judgement without Prometheus", 30, |s| {
        s["last_judgement"]["metrics_error"].as_str().is_some_and(|e| e.contains("cannot reach"))
    })
    .await;
    assert_eq!(held["current_stage"], 1);
    assert_eq!(held["status"], "running");
    assert_eq!(held["last_judgement"]["action"], "hold", "{held:#}");
    let version = a.current().await.1;
    tokio::time::sleep(Duration::from_secs(3)).await; // ten ticks without data
    assert_eq!(a.current().await.1, version, "no version written while Prometheus is down");
    let text = metrics_text(&a).await;
    assert!(series(&text, "edgeflag_controller_metrics_errors_total{source=\"prometheus\"}").is_some_and(|n| n >= 2.0), "{text}");
    assert_eq!(series(&text, "edgeflag_canary_no_data{flag=\"pay\",env=\"eu.west\"}"), Some(1.0), "{text}");

    // Back (same port, same TSDB): the canary completes.
    let prom = start_prometheus(&prom_dir, prom_port, &[&host(&a), &host(&b)]).await;
    let done = wait_for(&a, "the canary to complete", 60, |s| s["status"] == "completed").await;
    println!("completed: {done:#}");

    // `idle` never had a series: held for lack of data all along (empty results, no errors).
    let idle = canary_state(&a, "idle", None).await;
    assert_eq!((idle["status"].as_str(), idle["current_stage"].as_u64()), (Some("running"), Some(0)), "{idle:#}");
    assert!(idle["last_judgement"]["metrics_error"].is_null(), "{idle:#}");
    let checks = idle["last_judgement"]["checks"].as_array().cloned().unwrap_or_default();
    assert!(checks.iter().any(|c| c["check"] == "samples" && c["outcome"] == "no_data"), "{idle:#}");

    // The whole exposition (canaries, controller, stream) passes promtool, and Prometheus saw
    // both replicas' baseline events (the sum the controller judged).
    let text = metrics_text(&a).await;
    assert_eq!(series(&text, "edgeflag_canary_state{flag=\"pay\",env=\"eu.west\",state=\"completed\"}"), Some(1.0), "{text}");
    assert!(series(&text, "edgeflag_canary_decisions_total{flag=\"pay\",env=\"eu.west\",action=\"advance\"}") == Some(1.0), "{text}");
    promtool_check(&text).await;
    let summed = prom.value(r#"count(edgeflag_flag_requests_total{flag="pay",env="eu.west",arm="baseline"})"#).await;
    assert_eq!(summed, Some(2.0), "one baseline series per replica");
    load.abort();
    prom.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_scrapes_are_no_data_not_the_old_numbers() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = flag_file(dir.path());
    let prom_port = free_port();
    let source = format!("prometheus=http://127.0.0.1:{prom_port}");
    let b = spawn_with(&dir.path().join("b"), &flags, &["--token", TOKEN, "--ingest-token", INGEST, "--no-controller"]).await;
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).expect("mkdir");
    let prom = start_prometheus(&prom_dir, prom_port, &[&host(&b)]).await;
    let load = traffic(b.api.clone(), vec![b.api.clone()]);
    // Prometheus has a few scrapes of B's canary events…
    let deadline = Instant::now() + Duration::from_secs(30);
    let scrapes = r#"sum(count_over_time(edgeflag_flag_requests_total{flag="pay",env="eu.west",arm="canary"}[60s]))"#;
    while prom.value(scrapes).await.unwrap_or(0.0) < 4.0 {
        assert!(Instant::now() < deadline, "Prometheus never scraped B");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // …then B dies: its series go stale, though the window still holds their old increase.
    load.abort();
    drop(b);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let range = prom.value(r#"sum(increase(edgeflag_flag_requests_total{flag="pay",env="eu.west",arm="canary"}[60s]))"#).await;
    assert!(range.unwrap_or(0.0) > 50.0, "the window still has the old data: {range:?}");

    // Only now a controller starts, judging a 60 s window that still holds B's numbers: it must
    // not advance on them.
    let a = spawn_with(
        &dir.path().join("a"),
        &flags,
        &["--token", TOKEN, "--ingest-token", INGEST, "--metrics-source", &source, "--controller-interval", "300ms",
          "--controller-window", "60s"],
    )
    .await;
    let held = wait_for(&a, "a judgement", 20, |s| !s["last_judgement"].is_null()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held_later = canary_state(&a, "pay", Some("eu.west")).await;
    assert_eq!(held_later["current_stage"], 0, "advanced on stale data: {held_later:#}");
    let error = held_later["last_judgement"]["metrics_error"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("scrapes have stopped"), "{held:#}\n{held_later:#}");
    prom.stop().await;
}
