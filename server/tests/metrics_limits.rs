//! The metrics store under adversarial input, against the real `edgeflag-server` process:
//! maximum cardinality and maximum latencies over the whole retention stay under the
//! documented memory ceiling; junk keys are refused and never lock out real flags.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use edgeflag_server::metrics::latency;
use edgeflag_server::metrics::store::{StoreLimits, BUCKET_MS, COARSE_BUCKET_MS, RETENTION_MS};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

/// The documented ceiling of the whole process (server/README.md, "Memory ceiling"): the
/// store's own ceiling plus 5 % (allocator), plus two 8 MiB bodies per batch parsed at once,
/// plus 24 MiB for the process itself. 229 MiB with the default caps on 2 cores.
fn documented_rss_ceiling_mib(limits: &StoreLimits) -> f64 {
    let parsing = edgeflag_server::http::route_limits::RouteLimits::ingest_concurrency() as f64 * 2.0 * 8.0;
    limits.ceiling_bytes() as f64 * 1.05 / 1048576.0 + parsing + 24.0
}

/// Series kept by the store in this test: 320 by default so a debug build runs it in seconds;
/// `EDGEFLAG_MEMORY_TEST_SERIES=2000` (the default cap) for the full figure, as
/// `server/bench/memory.sh` does with a release build.
fn max_series_under_test() -> usize {
    std::env::var("EDGEFLAG_MEMORY_TEST_SERIES").ok().and_then(|v| v.parse().ok()).unwrap_or(320)
}

/// The tests measure a server's memory and post hundreds of megabytes: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A label of exactly 200 bytes (the longest an event may carry), distinct per `i`.
fn long(prefix: &str, i: usize) -> String {
    let head = format!("{prefix}-{i}-");
    format!("{head}{}", "x".repeat(200 - head.len()))
}

fn vm_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Spawns the server with its own flag file.
async fn spawn_with_flags(dir: &Path, file: &Value, extra: &[&str]) -> common::Server {
    let path = dir.join("flags.json");
    std::fs::write(&path, file.to_string()).expect("write flags");
    let mut args: Vec<&str> = vec!["--no-controller"];
    args.extend(extra);
    let data = dir.join("data");
    // server/bench/memory.sh points this at the release build.
    let bin = std::env::var("EDGEFLAG_SERVER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_edgeflag-server").to_string());
    let mut cmd = tokio::process::Command::new(bin);
    cmd.arg("--addr").arg("127.0.0.1:0").arg("--data-dir").arg(&data).arg("--flags").arg(&path);
    cmd.arg("--static-dir").arg(dir.join("no-dist")).args(["--token", common::TOKEN, "--ingest-token", common::INGEST]).args(&args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn");
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut banner = Vec::new();
    let base = loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    break rest.trim_end_matches('/').to_string();
                }
                banner.push(line);
            }
            _ => panic!("server exited before listening: {banner:?}"),
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    common::Server { child, api: common::Api { base }, banner }
}

async fn post(server: &common::Server, body: String) -> (u16, Value) {
    let resp = common::client()
        .post(server.url("/api/metrics/events"))
        .bearer_auth(common::INGEST)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post events");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn prometheus(server: &common::Server) -> String {
    common::client().get(server.url("/metrics")).send().await.expect("metrics").text().await.expect("text")
}

fn gauge(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} missing"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maximum_cardinality_and_latency_stay_under_the_documented_ceiling() {
    let _serial = SERIAL.lock().await;
    // N/64 + 1 flags × 4 environments × (canary, baseline, 18 variations): more series than
    // the 64 a flag may have, and more than the N of the store. Every label is 200 bytes long.
    let limits = StoreLimits { max_series: max_series_under_test(), ..StoreLimits::default() };
    let max_series_arg = limits.max_series.to_string();
    let flag_count = limits.max_series / limits.max_series_per_flag + 1;
    const ENVS: usize = 4;
    const VARIATIONS: usize = 18;
    let envs: Vec<String> = (0..ENVS).map(|i| long("env", i)).collect();
    let flags: Vec<(String, Vec<String>)> =
        (0..flag_count).map(|f| (long("flag", f), (0..VARIATIONS).map(|v| long(&format!("v{f}"), v)).collect())).collect();
    let file = json!({
        "schema_version": 1,
        "environments": envs,
        "flags": flags.iter().map(|(key, variations)| json!({
            "key": key, "kind": "string", "enabled": true,
            "variations": variations.iter().map(|v| json!({"name": v, "value": v})).collect::<Vec<_>>(),
            "off_variation": variations[0], "default_variation": variations[0]
        })).collect::<Vec<_>>()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn_with_flags(dir.path(), &file, &["--metrics-max-series", &max_series_arg]).await;
    let pid = server.child.id().expect("pid");
    assert!(
        server.banner.iter().any(|l| l.contains(&format!("memory ceiling {} MiB", limits.ceiling_bytes().div_ceil(1 << 20)))),
        "{:?}",
        server.banner
    );
    let rss_start = vm_kib(pid, "VmRSS:");

    // Per series: one event in each of the 64 ten-second buckets and each minute of the hour,
    // latencies walking every bucket of the layout (the maximum, 1 h, included).
    let now = now_ms();
    let mut offsets: Vec<i64> = (0..64).map(|k| k * BUCKET_MS).collect();
    offsets.extend((11..=60).map(|m| m * COARSE_BUCKET_MS));
    offsets.retain(|o| *o < RETENTION_MS);
    let mut series = Vec::new();
    for (flag, variations) in &flags {
        for env in &envs {
            for arm in ["canary", "baseline"].iter().map(|s| s.to_string()).chain(variations.iter().cloned()) {
                series.push((flag.clone(), env.clone(), arm));
            }
        }
    }
    let started = Instant::now();
    let (mut accepted, mut refused, mut batches) = (0u64, 0u64, 0);
    let mut body = String::new();
    let mut first_batch = None;
    let mut in_batch = 0;
    for (s, (flag, env, arm)) in series.iter().enumerate() {
        let field = if arm == "canary" || arm == "baseline" { "arm" } else { "variant" };
        for (k, offset) in offsets.iter().enumerate() {
            // The last bound (4 000 s) is above what an event may carry: the maximum goes there.
            let latency = if k == 0 { 3_600_000.0 } else { latency::upper_bound_ms((s + k) % latency::BUCKETS).min(3_600_000.0) };
            if in_batch > 0 {
                body.push(',');
            }
            let _ = write!(
                body,
                r#"{{"ts":{},"flag":"{flag}","env":"{env}","{field}":"{arm}","outcome":"{}","latency_ms":{latency}}}"#,
                now - offset,
                if k % 7 == 0 { "error" } else { "ok" }
            );
            in_batch += 1;
            if in_batch == 5_000 {
                let batch = format!(r#"{{"events":[{body}]}}"#);
                let (status, resp) = post(&server, batch.clone()).await;
                first_batch.get_or_insert(batch);
                assert!(status == 202 || status == 422, "{status} {resp}");
                accepted += resp["accepted"].as_u64().unwrap_or(0);
                refused += resp["refused"].as_u64().unwrap_or(0);
                batches += 1;
                body.clear();
                in_batch = 0;
            }
        }
    }
    if in_batch > 0 {
        let (_, resp) = post(&server, format!(r#"{{"events":[{body}]}}"#)).await;
        accepted += resp["accepted"].as_u64().unwrap_or(0);
        refused += resp["refused"].as_u64().unwrap_or(0);
        batches += 1;
    }
    let posted = series.len() * offsets.len();
    assert_eq!((accepted + refused) as usize, posted);

    let text = prometheus(&server).await;
    assert_eq!(gauge(&text, "edgeflag_metric_series "), limits.max_series as u64, "the global cap is reached");
    assert_eq!(accepted, limits.max_series as u64 * offsets.len() as u64, "every event of every kept series counts");
    assert!(gauge(&text, r#"edgeflag_metric_events_refused_total{reason="flag_series_limit"} "#) > 0);
    assert!(gauge(&text, r#"edgeflag_metric_events_refused_total{reason="series_limit"} "#) > 0);
    let store_bytes = gauge(&text, "edgeflag_metric_store_bytes ");
    assert!(store_bytes as usize <= limits.ceiling_bytes(), "{store_bytes} > {}", limits.ceiling_bytes());
    assert!(store_bytes as usize > limits.ceiling_bytes() * 9 / 10, "every time bucket is allocated: {store_bytes}");

    let rss = vm_kib(pid, "VmRSS:");
    let hwm = vm_kib(pid, "VmHWM:");
    println!(
        "posted {posted} events ({} series attempted, {batches} batches) in {:?}; accepted {accepted}, refused {refused}",
        series.len(),
        started.elapsed()
    );
    println!(
        "store {:.1} MiB (ceiling {:.1} MiB); server RSS {:.1} MiB at start, {:.1} MiB after, peak {:.1} MiB",
        store_bytes as f64 / 1048576.0,
        limits.ceiling_bytes() as f64 / 1048576.0,
        rss_start as f64 / 1024.0,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    let ceiling = documented_rss_ceiling_mib(&limits);
    println!("documented process ceiling for {} series: {ceiling:.1} MiB", limits.max_series);
    assert!((hwm as f64 / 1024.0) <= ceiling, "peak RSS {:.1} MiB over the documented {ceiling:.1} MiB", hwm as f64 / 1024.0);
    assert!(rss <= hwm);

    // The windows still answer, with the layout's bounds.
    let (flag, env, _) = &series[0];
    let report: Value = common::client()
        .get(server.url("/api/metrics"))
        .query(&[("flag", flag.as_str()), ("env", env.as_str()), ("window", "1h")])
        .send()
        .await
        .expect("report")
        .json()
        .await
        .expect("json");
    let canary = &report["arms"]["canary"]["summary"];
    // (The oldest minute may have just left the window if the clock crossed a minute.)
    let requests = canary["requests"].as_u64().unwrap_or(0) as usize;
    assert!((offsets.len() - 1..=offsets.len()).contains(&requests), "{requests} of {}", offsets.len());
    let buckets = canary["latency_buckets"].as_array().expect("buckets");
    assert_eq!(buckets.last().and_then(|b| b["le"].as_f64()), Some(4_000_000.0), "the 1 h latency is in the last bucket");

    // Posting the same again allocates nothing: the same buckets are reused.
    let (status, resp) = post(&server, first_batch.expect("a full batch")).await;
    assert_eq!(status, 202, "{resp}");
    let again = gauge(&prometheus(&server).await, "edgeflag_metric_store_bytes ");
    assert!(again <= store_bytes, "{again} > {store_bytes}");
}

#[tokio::test]
async fn junk_keys_are_refused_and_never_lock_out_real_flags() {
    let _serial = SERIAL.lock().await;
    let file = json!({
        "schema_version": 1, "environments": ["prod"],
        "flags": [
            {"key": "checkout", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
             "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}]},
            {"key": "we\"ird\\flag", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
             "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}]}
        ]
    });
    let dir = tempfile::tempdir().expect("tempdir");
    // A tiny store: 4 series in all.
    let server = spawn_with_flags(dir.path(), &file, &["--metrics-max-series", "4", "--metrics-max-series-per-flag", "3"]).await;
    let now = now_ms();
    let event = |flag: &str, env: &str, key: &str, arm: &str| {
        json!({"ts": now, "flag": flag, "env": env, key: arm, "outcome": "ok", "latency_ms": 12.5})
    };

    // 10,000 events for 10,000 junk flags, bad environments and bad variants: all refused.
    let junk: Vec<Value> = (0..9_998)
        .map(|i| event(&format!("junk-{i}"), "prod", "arm", "canary"))
        .chain([event("checkout", "prd", "arm", "canary"), event("checkout", "prod", "variant", "blue")])
        .collect();
    let (status, resp) = post(&server, json!({ "events": junk }).to_string()).await;
    assert_eq!(status, 422, "{resp}");
    assert_eq!((resp["accepted"].as_u64(), resp["refused"].as_u64()), (Some(0), Some(10_000)));
    let problems = resp["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 100, "the list is bounded; the rest are counted");
    assert_eq!(resp["problems_omitted"].as_u64(), Some(9_900));
    assert_eq!(problems[0]["path"], "events[0].flag");
    assert!(problems[0]["message"].as_str().is_some_and(|m| m.contains("unknown flag \"junk-0\"")), "{resp}");

    // The real flags are served at once.
    let real = json!({"events": [
        event("checkout", "prod", "arm", "canary"), event("checkout", "prod", "arm", "baseline"),
        event("checkout", "prod", "variant", "on"), event("checkout", "prod", "variant", "off"),
        event("we\"ird\\flag", "prod", "arm", "canary")
    ]});
    let (status, resp) = post(&server, real.to_string()).await;
    assert_eq!(status, 202, "{resp}");
    // checkout's fourth series is over its per-flag cap (3); the weird flag still gets one.
    assert_eq!((resp["accepted"].as_u64(), resp["refused"].as_u64()), (Some(4), Some(1)), "{resp}");
    assert_eq!(resp["problems"][0]["path"], "events[3]");

    let text = prometheus(&server).await;
    assert!(!text.contains("junk"), "junk never becomes a series");
    assert_eq!(gauge(&text, "edgeflag_metric_series "), 4);
    assert_eq!(gauge(&text, r#"edgeflag_metric_events_refused_total{reason="unknown_flag"} "#), 9_998);
    assert_eq!(gauge(&text, r#"edgeflag_metric_events_refused_total{reason="unknown_env"} "#), 1);
    assert_eq!(gauge(&text, r#"edgeflag_metric_events_refused_total{reason="unknown_variant"} "#), 1);
    assert_eq!(gauge(&text, r#"edgeflag_metric_events_refused_total{reason="flag_series_limit"} "#), 1);
    assert!(text.contains(r#"edgeflag_flag_requests_total{flag="we\"ird\\flag",env="prod",arm="canary"} 1"#), "{text}");
    assert_eq!(gauge(&text, "edgeflag_metric_series_max "), 4);

    // The exposition (escaped labels, refusal counters) passes promtool.
    let Ok(mut promtool) = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        panic!("promtool not found: install Debian's `prometheus` package (scripts/setup.sh does)");
    };
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

    // A publish that drops a flag makes its series evictable at the cap: new real series fit.
    let (etag, _, mut current) = server.current().await;
    current["flags"].as_array_mut().expect("flags").retain(|f| f["key"] != "we\"ird\\flag");
    current["flags"].as_array_mut().expect("flags").push(json!({
        "key": "search", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
        "variations": [{"name": "off", "value": false}, {"name": "on", "value": true}]}));
    assert_eq!(server.put(&current, &etag).await.status(), 200);
    let (status, resp) = post(&server, json!({"events": [event("search", "prod", "arm", "canary")]}).to_string()).await;
    assert_eq!((status, resp["accepted"].as_u64()), (202, Some(1)), "{resp}");
    let text = prometheus(&server).await;
    assert!(!text.contains("ird"), "the dropped flag's series was evicted");
    assert_eq!(gauge(&text, "edgeflag_metric_series_evicted_total "), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_batches_cost_about_their_size_however_many_arrive_at_once() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn_with_flags(dir.path(), &serde_json::from_str(&common::fixture_text()).expect("fixture"), &[]).await;
    let pid = server.child.id().expect("pid");
    let start = vm_kib(pid, "VmHWM:");
    // 8 MiB bodies that a JSON tree would blow up 20-60 times: millions of tiny values, empty
    // objects, unknown fields. Eight at once (more than the ingestion concurrency).
    let max = 8 * 1024 * 1024;
    let tiny = format!(r#"{{"events":[{}0]}}"#, "0,".repeat((max - 20) / 2));
    let empty = format!(r#"{{"events":[{}{{}}]}}"#, "{},".repeat((max - 20) / 3));
    let fields = format!(
        r#"{{"events":[{{{}"ts":1}}]}}"#,
        (0..).map(|i| format!(r#""f{i}":[],"#)).take_while({ let mut n = 0; move |f: &String| { n += f.len(); n < max - 100 } }).collect::<String>()
    );
    assert!(tiny.len() <= max && empty.len() <= max && fields.len() <= max);
    let bodies = [tiny, empty, fields];
    let started = Instant::now();
    let posts: Vec<_> = (0..8)
        .map(|i| {
            let url = server.url("/api/metrics/events");
            let body = bodies[i % 3].clone();
            tokio::spawn(async move {
                common::client().post(url).bearer_auth(common::INGEST).header("content-type", "application/json").body(body).send().await.map(|r| r.status().as_u16())
            })
        })
        .collect();
    for post in posts {
        assert_eq!(post.await.expect("task").expect("response"), 400);
    }
    let peak = vm_kib(pid, "VmHWM:");
    let concurrency = edgeflag_server::http::route_limits::RouteLimits::ingest_concurrency() as u64;
    // Each batch being parsed holds its body (collected, so up to twice) and its events.
    let allowance_kib = concurrency * 2 * (max as u64 / 1024) + 24 * 1024;
    println!(
        "8 hostile 8 MiB batches in {:?}: peak RSS {:.1} MiB -> {:.1} MiB (allowance {:.1} MiB for {concurrency} at once)",
        started.elapsed(),
        start as f64 / 1024.0,
        peak as f64 / 1024.0,
        allowance_kib as f64 / 1024.0
    );
    assert!(peak - start <= allowance_kib, "peak grew by {} KiB", peak - start);
    let text = prometheus(&server).await;
    assert_eq!(gauge(&text, "edgeflag_metric_batches_rejected_total "), 8);
}
