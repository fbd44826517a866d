//! The canary controller against the real server (in-process router on 127.0.0.1:0): recorded
//! metric streams are posted to `POST /api/metrics/events`, the controller runs on a short
//! interval, and the outcome is read back over HTTP (`/api/flags`, `/api/flags/history`).

use std::time::{Duration, Instant};

use edgeflag_server::{config::ServeArgs, controller, http};
use serde_json::{json, Value};
use tokio::sync::watch;

const TOKEN: &str = "controller-test-token";
const INGEST: &str = "controller-test-ingest";

struct Running {
    base: String,
    stop: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn rfc3339_ago(secs: i64) -> String {
    edgeflag_server::clock::ms_to_rfc3339(edgeflag_server::clock::now_ms() - secs * 1000)
}

fn canary(stages: usize, status: &str) -> Value {
    let stage = |percent: f64| {
        json!({"percent": percent, "min_duration": "1s",
               "gate": {"max_error_rate": 0.05, "max_p99_ms": 500, "min_samples": 50}})
    };
    let percents = [10.0, 50.0, 100.0];
    json!({
        "baseline": "off", "canary": "on",
        "stages": percents[percents.len() - stages..].iter().map(|p| stage(*p)).collect::<Vec<_>>(),
        "current_stage": 0, "status": status,
        // Started long ago: the first stage may advance as soon as the checks pass.
        "stage_started_at": rfc3339_ago(3600)
    })
}

fn flag(key: &str, base_canary: Option<Value>, prod_canary: Option<Value>) -> Value {
    let mut f = json!({
        "key": key, "kind": "boolean", "enabled": true,
        "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}],
        "off_variation": "off", "default_variation": "off"
    });
    if let Some(c) = base_canary {
        f["canary"] = c;
    }
    if let Some(c) = prod_canary {
        f["environments"] = json!({"prod": {"canary": c}});
    }
    f
}

/// Starts the server in-process with `flags` as version 1 and the controller every 150 ms.
async fn start(flags: Value) -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flags.json");
    let file = json!({"schema_version": 1, "environments": ["prod"], "flags": flags});
    std::fs::write(&path, file.to_string()).expect("write flag file");
    let mut args = ServeArgs::with_data_dir(dir.path().join("data"));
    args.flags = Some(path);
    args.token = Some(TOKEN.into());
    args.ingest_token = Some(INGEST.into());
    args.controller_interval = Duration::from_millis(150);
    // No --controller-window: each stage is judged on what it served since it started.
    let (state, _) = edgeflag_server::open_state(&args).expect("open state");
    let limits = http::Limits { max_body_bytes: args.max_body_bytes, max_events_body_bytes: args.max_events_body_bytes };
    let app = http::router(state.clone(), limits, &dir.path().join("no-dist"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stop_rx) = watch::channel(false);
    let mut server_stop = stop_rx.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.changed().await;
            })
            .await;
    });
    let ctl = controller::Controller::new(
        state.flags.clone(),
        state.metrics.clone(),
        state.judgements.clone(),
        edgeflag_server::controller_config(&args),
    );
    tokio::spawn(controller::run(ctl, stop_rx));
    Running { base, stop, _dir: dir }
}

/// A recorded stream: `n` events of one arm, `errors` of them failed, latencies 30..50 ms
/// (the canary's shifted by 0.5 ms so the two arms' histograms have different buckets).
fn stream(key: &str, arm: &str, n: usize, errors: usize) -> Vec<Value> {
    let shift = if arm == "canary" { 0.5 } else { 0.0 };
    let now = edgeflag_server::clock::now_ms();
    (0..n)
        .map(|i| {
            json!({"ts": now - (i as i64 % 1000), "flag": key, "env": "prod", "arm": arm,
                   "outcome": if i < errors { "error" } else { "ok" },
                   "latency_ms": 30.0 + shift + (i % 20) as f64})
        })
        .collect()
}

async fn post_events(run: &Running, events: Vec<Value>) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/metrics/events", run.base))
        .bearer_auth(INGEST)
        .json(&json!({"events": events}))
        .send()
        .await
        .expect("POST events");
    assert!(resp.status().is_success(), "events rejected: {}", resp.text().await.unwrap_or_default());
}

async fn get(run: &Running, path: &str) -> Value {
    reqwest::get(format!("{}{path}", run.base)).await.expect("GET").json().await.expect("JSON")
}

async fn canary_of(run: &Running, key: &str, env: Option<&str>) -> Value {
    let file = get(run, "/api/flags").await;
    let flags = file["flags"].as_array().cloned().unwrap_or_default();
    let f = flags.into_iter().find(|f| f["key"] == key).expect("flag present");
    match env {
        Some(env) => f["environments"][env]["canary"].clone(),
        None => f["canary"].clone(),
    }
}

/// Polls until the canary reaches `status`, at most 15 s.
async fn wait_status(run: &Running, key: &str, env: Option<&str>, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let c = canary_of(run, key, env).await;
        if c["status"] == status {
            return c;
        }
        assert!(Instant::now() < deadline, "{key} never reached {status}; canary now {c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn controller_entries(run: &Running) -> Vec<Value> {
    let history = get(run, "/api/flags/history").await;
    let entries = history.as_array().cloned().unwrap_or_default();
    entries.into_iter().filter(|e| e["author"] == controller::AUTHOR).collect()
}

/// Polls until the canary is at `stage`, at most 15 s.
async fn wait_stage(run: &Running, key: &str, env: Option<&str>, stage: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let c = canary_of(run, key, env).await;
        if c["current_stage"] == stage {
            return c;
        }
        assert!(Instant::now() < deadline, "{key} never reached stage {stage}; canary now {c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sleeps into the first 10 s metrics bucket that starts after `stage_started_at`: the
/// controller judges a stage on the buckets that start at or after its start (the one it
/// started in also holds the previous stage's traffic).
async fn wait_for_the_stages_first_bucket(canary: &Value) {
    let started = edgeflag_server::clock::parse_rfc3339_ms(canary["stage_started_at"].as_str().unwrap_or("")).expect("stage start");
    let first = (started + 9_999).div_euclid(10_000) * 10_000;
    // Past the first second: `stream` spreads its timestamps over the last second.
    let wait = first + 1_100 - edgeflag_server::clock::now_ms();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_canary_advances_then_completes() {
    let run = start(vec![flag("healthy", None, Some(canary(2, "running")))].into()).await;
    // Enough healthy traffic to prove the gates (error rate ≤ 5 %, p99 ≤ 500 ms) at the
    // default policy: the judgement holds on less ("too little traffic").
    post_events(&run, stream("healthy", "canary", 1500, 6)).await;
    post_events(&run, stream("healthy", "baseline", 3000, 12)).await;

    let c = wait_stage(&run, "healthy", Some("prod"), 1).await;
    assert!(c["stage_started_at"].as_str().is_some_and(|t| t > rfc3339_ago(60).as_str()), "stage start reset: {c}");
    // The first stage's traffic does not count for the second (100 %): it holds for traffic.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let state = get(&run, "/api/canaries/healthy?env=prod").await;
    let last = &state["last_judgement"];
    assert_eq!((last["action"].as_str(), last["stage"].as_u64()), (Some("hold"), Some(1)), "{state}");
    assert_eq!(last["judged_from"], c["stage_started_at"], "judged since the stage start: {state}");
    assert_eq!(last["earlier_stages"], 1, "the first stage's comparison evidence is carried: {state}");
    assert_eq!(canary_of(&run, "healthy", Some("prod")).await["status"], "running");

    wait_for_the_stages_first_bucket(&c).await;
    post_events(&run, stream("healthy", "canary", 1500, 6)).await;
    let c = wait_status(&run, "healthy", Some("prod"), "completed").await;
    assert_eq!(c["current_stage"], 1, "advanced to the last stage before completing: {c}");

    let entries = controller_entries(&run).await;
    assert_eq!(entries.len(), 2, "one advance and one complete: {entries:?}");
    let (complete, advance) = (entries[0]["message"].as_str().unwrap_or(""), entries[1]["message"].as_str().unwrap_or(""));
    assert!(advance.contains("healthy [prod]: advance current_stage 0 -> 1"), "{advance}");
    assert!(advance.contains("canary: 1500 requests, 6 errors"), "metrics recorded: {advance}");
    assert!(advance.contains("baseline: 3000 requests, 12 errors"), "metrics recorded: {advance}");
    assert!(advance.contains("reasons: the gates pass, no comparison with the baseline fails"), "{advance}");
    assert!(complete.contains("complete at current_stage 1") && complete.contains("release complete"), "{complete}");
    assert!(complete.contains("canary: 1500 requests, 6 errors"), "only the last stage's traffic: {complete}");
    assert_eq!(entries[0]["changed_flags"], json!(["healthy"]));
}

/// Too little traffic is a visible state: the judgement says how many more requests the stage
/// needs, for which gate, and the gates' bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_little_traffic_holds_and_says_what_it_needs() {
    let run = start(vec![flag("slow", None, Some(canary(2, "running")))].into()).await;
    post_events(&run, stream("slow", "canary", 100, 0)).await;
    post_events(&run, stream("slow", "baseline", 1000, 5)).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let state = loop {
        let state = get(&run, "/api/canaries/slow?env=prod").await;
        if state["last_judgement"]["needs"].is_object() {
            break state;
        }
        assert!(Instant::now() < deadline, "no judgement with needs: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let last = &state["last_judgement"];
    assert_eq!(last["action"], "hold", "{state}");
    let needs = &last["needs"];
    let more = needs["more_requests"].as_u64().unwrap_or(0);
    assert!(more > 100, "a proof needs more than what came: {needs}");
    let reason = needs["reason"].as_str().unwrap_or("");
    assert!(reason.starts_with("too little traffic: needs about") && reason.contains("gate"), "{reason}");
    let gate = last["checks"].as_array().and_then(|c| c.iter().find(|c| c["check"] == "p99_latency").cloned()).unwrap_or_default();
    assert_eq!(gate["outcome"], "inconclusive", "{gate}");
    assert!(gate["lower"].as_f64().is_some_and(|l| l < 500.0) && gate["needed_requests"].as_u64().is_some(), "{gate}");
    assert_eq!(last["risk"]["gate_pass_risk"], 0.05, "{last}");
    // Holding writes nothing.
    assert!(controller_entries(&run).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_spike_rolls_back() {
    let run = start(vec![flag("spiky", Some(canary(3, "running")), None)].into()).await;
    post_events(&run, stream("spiky", "canary", 200, 60)).await;
    post_events(&run, stream("spiky", "baseline", 2000, 20)).await;

    let c = wait_status(&run, "spiky", None, "rolled_back").await;
    assert_eq!(c["current_stage"], 0, "never advanced: {c}");
    let entries = controller_entries(&run).await;
    assert_eq!(entries.len(), 1, "exactly one rollback entry: {entries:?}");
    let msg = entries[0]["message"].as_str().unwrap_or("");
    assert!(msg.contains("spiky: rollback at current_stage 0"), "{msg}");
    assert!(msg.contains("canary error rate 30") && msg.contains("exceeds 5"), "reason recorded: {msg}");
    assert!(msg.contains("3 consecutive failed judgements"), "{msg}");
    assert!(msg.contains("canary: 200 requests, 60 errors (30.00%)"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_traffic_or_paused_holds_without_writing() {
    let run = start(
        vec![
            flag("quiet", None, Some(canary(2, "running"))),
            // Paused with failing metrics: the controller must leave it alone.
            flag("paused", Some(canary(2, "paused")), None),
        ]
        .into(),
    )
    .await;
    post_events(&run, stream("paused", "canary", 200, 100)).await;
    post_events(&run, stream("paused", "baseline", 2000, 0)).await;
    // Ten controller intervals.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (_, version) = {
        let resp = reqwest::get(format!("{}/api/flags", run.base)).await.expect("GET");
        let v = resp.headers().get("x-edgeflag-version").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        ((), v)
    };
    assert_eq!(version, "1", "no new version");
    assert!(controller_entries(&run).await.is_empty());
    assert_eq!(canary_of(&run, "quiet", Some("prod")).await["status"], "running");
    assert_eq!(canary_of(&run, "paused", None).await["status"], "paused");
}
