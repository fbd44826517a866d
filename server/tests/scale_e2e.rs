//! The end-to-end test, everything real: three `edgeflag-server` replicas on one
//! PostgreSQL database, a Prometheus (Debian's) scraping all three every second, edge traffic
//! spread over the replicas (each holds a third of it: only Prometheus' sums see the whole),
//! the canary controller reading Prometheus (`--metrics-source prometheus=…`) and sending
//! decision webhooks to a receiver. The leader is SIGKILLed halfway through the canary; another
//! replica takes over and the canary completes exactly once: each stage decided once in the
//! history, one `complete` webhook delivery.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use common::{client, Api, Server, INGEST, TOKEN};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const PROMETHEUS: &str = "/usr/bin/prometheus";

struct Prometheus {
    _child: Child,
    url: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

async fn start_prometheus(dir: &Path, port: u16, targets: &[String]) -> Prometheus {
    let config = dir.join("prometheus.yml");
    let list = targets.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: edgeflag\n    static_configs:\n      - targets: [{list}]\n"),
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
    Prometheus { _child: child, url: format!("http://127.0.0.1:{port}") }
}

impl Prometheus {
    /// An instant query's single value (None: empty result or no answer).
    async fn value(&self, promql: &str) -> Option<f64> {
        let body: Value =
            client().get(format!("{}/api/v1/query", self.url)).query(&[("query", promql)]).send().await.ok()?.json().await.ok()?;
        body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

/// A webhook receiver on loopback: delivery id → (event, attempts seen).
#[derive(Clone, Default)]
struct Receiver {
    deliveries: Arc<Mutex<BTreeMap<String, (String, usize)>>>,
}

async fn leaders(servers: &[Server]) -> Vec<Option<u8>> {
    let mut out = Vec::new();
    for s in servers {
        let text = match client().get(s.url("/metrics")).timeout(Duration::from_secs(2)).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        out.push(text.lines().find_map(|l| l.strip_prefix("edgeflag_controller_leader ")).and_then(|v| v.trim().parse().ok()));
    }
    out
}

/// A batch of edge events for `rollout` in prod: 20 canary, 60 baseline, 1 % errors.
fn batch() -> Vec<Value> {
    use std::sync::atomic::{AtomicU64, Ordering};
    // One event in a hundred fails, in each arm, counted across batches.
    static COUNT: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
    let now = common::now_ms();
    let mut events = Vec::new();
    for (k, (arm, n)) in [("canary", 20), ("baseline", 60)].into_iter().enumerate() {
        for i in 0..n {
            let seq = COUNT[k].fetch_add(1, Ordering::Relaxed);
            events.push(json!({"ts": now - (i as i64 % 300), "flag": "rollout", "env": "prod", "arm": arm,
                               "outcome": if seq % 100 == 7 { "error" } else { "ok" }, "latency_ms": 30.0 + (i % 20) as f64}));
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and Prometheus: run by scripts/test-scale.sh"]
async fn three_replicas_prometheus_and_a_killed_leader_complete_the_canary_exactly_once() {
    let url = common::pg_database("scale-e2e").await.expect("EDGEFLAG_TEST_POSTGRES (scripts/test-scale.sh sets it)");
    assert!(Path::new(PROMETHEUS).exists(), "{PROMETHEUS} (scripts/setup.sh installs Debian's prometheus)");
    let dir = tempfile::tempdir().expect("tempdir");

    // The webhook receiver.
    let receiver = Receiver::default();
    let r = receiver.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, _body: Bytes| {
            let r = r.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                let mut d = r.deliveries.lock().expect("lock");
                d.entry(h("x-edgeflag-delivery")).or_insert_with(|| (h("x-edgeflag-event"), 0)).1 += 1;
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Three replicas; four 2-second stages; the controller reads Prometheus.
    let stages = [(10.0, "2s"), (25.0, "2s"), (50.0, "2s"), (75.0, "2s")];
    let flags = common::flag_file(dir.path(), vec![common::canary_flag("rollout", &stages, "running")]);
    let prom_port = free_port();
    let source = format!("prometheus=http://127.0.0.1:{prom_port}");
    let mut servers = Vec::new();
    for i in 0..3 {
        let data = dir.path().join(format!("replica-{i}"));
        servers.push(
            common::spawn_with(
                &data,
                &flags,
                &[
                    "--store", &url, "--token", TOKEN, "--ingest-token", INGEST,
                    "--metrics-source", &source, "--prometheus-timeout", "2s",
                    "--controller-interval", "300ms", "--controller-window", "20s", "--leader-retry", "300ms",
                    "--webhook", &hook, "--webhook-secret", "e2e", "--webhook-backoff", "200ms",
                ],
            )
            .await,
        );
    }
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).expect("mkdir");
    let targets: Vec<String> = servers.iter().map(|s| s.base.trim_start_matches("http://").to_string()).collect();
    let prom = start_prometheus(&prom_dir, prom_port, &targets).await;

    // Edge traffic, each batch to the next replica.
    let apis: Vec<Api> = servers.iter().map(|s| s.api.clone()).collect();
    let traffic = tokio::spawn(async move {
        for round in 0.. {
            let api = &apis[round % apis.len()];
            let body = json!({"events": batch()});
            // A killed replica refuses: the edge moves on to the next one.
            let _ = client().post(api.url("/api/metrics/events")).bearer_auth(INGEST).json(&body).timeout(Duration::from_secs(2)).send().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });

    let started = Instant::now();
    let leader = loop {
        let all = leaders(&servers).await;
        if all.iter().filter(|l| **l == Some(1)).count() == 1 && all.iter().all(Option::is_some) {
            break all.iter().position(|l| *l == Some(1)).expect("leader");
        }
        assert!(started.elapsed() < Duration::from_secs(15), "no single leader: {all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Prometheus sees the leadership too: the alert rule's input.
    let deadline = Instant::now() + Duration::from_secs(20);
    while prom.value("sum(edgeflag_controller_leader)").await != Some(1.0) {
        assert!(Instant::now() < deadline, "Prometheus never saw exactly one leader");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Halfway: stage 2 of 4 reached; kill the leader.
    let survivor = servers[(leader + 1) % 3].api.clone();
    survivor.wait_canary("rollout", 120, "reach current_stage 2 through Prometheus' sums", |c| c["current_stage"].as_u64() >= Some(2)).await;
    let mut dead = servers.remove(leader);
    dead.child.start_kill().expect("kill");
    let killed = Instant::now();
    let _ = dead.child.wait().await;
    let failover = loop {
        let all = leaders(&servers).await;
        if all.iter().filter(|l| **l == Some(1)).count() == 1 {
            break killed.elapsed();
        }
        assert!(killed.elapsed() < Duration::from_secs(5), "no new leader: {all:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("e2e: new leader {:.0} ms after SIGKILL (--leader-retry 300ms)", failover.as_secs_f64() * 1000.0);
    let done = survivor.wait_canary("rollout", 120, "complete", |c| c["status"] == "completed").await;
    let total = started.elapsed();
    assert_eq!(done["current_stage"], 3);

    // Exactly once: the controller's versions are one per stage, and one completion.
    let history = survivor.history().await;
    let decisions: Vec<String> = history
        .iter()
        .rev()
        .filter(|h| h["author"] == "canary-controller")
        .map(|h| h["message"].as_str().unwrap_or_default().split(';').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        decisions,
        [
            "canary rollout: advance current_stage 0 -> 1",
            "canary rollout: advance current_stage 1 -> 2",
            "canary rollout: advance current_stage 2 -> 3",
            "canary rollout: complete at current_stage 3"
        ],
        "{history:#?}"
    );
    // Every replica serves the completed canary.
    for s in &servers {
        assert_eq!(s.canary("rollout").await["status"], "completed", "{}", s.base);
    }
    // One `complete` webhook delivery (a leader change resends pending deliveries, never a
    // second decision), received.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = receiver.deliveries.lock().expect("lock").clone();
        let by_event = |e: &str| got.values().filter(|(ev, _)| ev == e).count();
        if by_event("complete") == 1 {
            assert_eq!(by_event("advance"), 3, "{got:?}");
            break;
        }
        assert!(by_event("complete") <= 1, "{got:?}");
        assert!(Instant::now() < deadline, "no complete webhook: {got:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list: Vec<Value> = client().get(survivor.url("/api/webhooks/deliveries")).bearer_auth(TOKEN).send().await.expect("GET").json().await.expect("json");
    assert_eq!(list.iter().filter(|d| d["event"] == "complete").count(), 1, "{list:#?}");
    // The judged numbers are Prometheus' sums over the replicas, not one replica's third.
    let last = survivor.get_json("/api/canaries/rollout").await;
    assert!(last["last_judgement"].is_null() || last["last_judgement"]["metrics_error"].is_null(), "{last:#}");
    traffic.abort();
    println!("e2e: canary completed {:.1} s after start, through Prometheus, leader killed at stage 2", total.as_secs_f64());
}
