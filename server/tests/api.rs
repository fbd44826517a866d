//! The HTTP API against the real server process on 127.0.0.1.

mod common;

use std::collections::HashSet;
use std::process::Stdio;

use common::{client, header, spawn, with_description, INGEST, TOKEN};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn etag_flow_history_versions_and_rollback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN]).await;
    let http = client();

    let (etag1, v1, file1) = server.current().await;
    assert_eq!(v1, 1);
    assert!(etag1.starts_with('"') && etag1.ends_with('"') && !etag1.starts_with("W/"), "{etag1}");

    let resp = http.get(server.url("/api/flags")).header("if-none-match", &etag1).send().await.expect("get");
    assert_eq!(resp.status(), 304);
    assert_eq!(header(&resp, "etag"), etag1);
    let resp = http.get(server.url("/api/flags")).send().await.expect("get");
    // Revalidate every time (the 304 above), serve stale briefly while revalidating (CDN).
    assert_eq!(header(&resp, "cache-control"), "public, max-age=0, stale-while-revalidate=5, stale-if-error=86400");

    let file2 = with_description(&file1, 1, "second version");
    let resp = http
        .put(server.url("/api/flags"))
        .bearer_auth(TOKEN)
        .header("if-match", &etag1)
        .header("x-edgeflag-message", "describe checkout")
        .json(&file2)
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 200);
    let etag2 = header(&resp, "etag");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["version"], 2);
    assert_eq!(body["etag"], etag2.as_str());
    assert_ne!(etag1, etag2);

    // The old ETag no longer matches: a full 200 with the new content.
    let resp = http.get(server.url("/api/flags")).header("if-none-match", &etag1).send().await.expect("get");
    assert_eq!(resp.status(), 200);
    let (_, v, now) = server.current().await;
    assert_eq!((v, &now["flags"][1]["description"]), (2, &json!("second version")));

    let history: Value = http.get(server.url("/api/flags/history")).send().await.expect("h").json().await.expect("json");
    assert_eq!(history[0]["version"], 2);
    assert_eq!(history[0]["author"], "admin");
    assert_eq!(history[0]["changed_flags"], json!(["checkout"]));
    assert_eq!(history[0]["message"], "describe checkout");
    assert_eq!(history[1]["version"], 1);

    let resp = http.get(server.url("/api/flags/versions/1")).send().await.expect("v1");
    assert_eq!(header(&resp, "etag"), etag1);
    assert_eq!(resp.json::<Value>().await.expect("json"), file1);
    let resp = http.get(server.url("/api/flags/versions/99")).send().await.expect("v99");
    assert_eq!(resp.status(), 404);

    // Rollback to 1 writes version 3 with version 1's content; nothing is lost.
    let resp = http
        .post(server.url("/api/flags/rollback/1"))
        .bearer_auth(TOKEN)
        .header("if-match", &etag1)
        .send()
        .await
        .expect("rollback");
    assert_eq!(resp.status(), 412, "stale If-Match must not roll back");
    let resp = http
        .post(server.url("/api/flags/rollback/1"))
        .bearer_auth(TOKEN)
        .header("if-match", &etag2)
        .send()
        .await
        .expect("rollback");
    assert_eq!(resp.status(), 200);
    let (_, v3, file3) = server.current().await;
    assert_eq!((v3, &file3), (3, &file1));
    let history: Value = http.get(server.url("/api/flags/history")).send().await.expect("h").json().await.expect("json");
    assert_eq!(history.as_array().map(Vec::len), Some(3));
    assert_eq!(history[0]["changed_flags"], json!(["checkout"]));
    assert_eq!(history[0]["message"], "rollback to version 1");
}

#[tokio::test]
async fn concurrent_puts_with_one_etag_have_exactly_one_winner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN]).await;
    let (etag, version, file) = server.current().await;

    const N: usize = 16;
    let mut tasks = Vec::new();
    for i in 0..N {
        let body = with_description(&file, 0, &format!("writer {i}"));
        let url = server.url("/api/flags");
        let etag = etag.clone();
        tasks.push(tokio::spawn(async move {
            let resp = client()
                .put(url)
                .bearer_auth(TOKEN)
                .header("if-match", etag)
                .json(&body)
                .send()
                .await
                .expect("put");
            (i, resp.status().as_u16())
        }));
    }
    let mut winners = Vec::new();
    let mut stale = 0;
    for t in tasks {
        let (i, status) = t.await.expect("task");
        match status {
            200 => winners.push(i),
            412 => stale += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners {winners:?}");
    assert_eq!(stale, N - 1);
    let (_, v, now) = server.current().await;
    assert_eq!(v, version + 1);
    assert_eq!(now["flags"][0]["description"], format!("writer {}", winners[0]));
}

#[tokio::test]
async fn read_modify_write_with_retries_loses_no_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN]).await;
    const WRITERS: usize = 4;
    const EACH: usize = 5;
    let base = server.base.clone();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let http = client();
            for k in 0..EACH {
                loop {
                    let resp = http.get(format!("{base}/api/flags")).send().await.expect("get");
                    let etag = header(&resp, "etag");
                    let mut file: Value = resp.json().await.expect("json");
                    let tags = file["flags"][0]["tags"].as_array().cloned().unwrap_or_default();
                    let mut tags = tags;
                    tags.push(json!(format!("w{w}-{k}")));
                    file["flags"][0]["tags"] = Value::Array(tags);
                    let resp = http
                        .put(format!("{base}/api/flags"))
                        .bearer_auth(TOKEN)
                        .header("if-match", etag)
                        .json(&file)
                        .send()
                        .await
                        .expect("put");
                    match resp.status().as_u16() {
                        200 => break,
                        412 => continue,
                        other => panic!("unexpected {other}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let (_, version, file) = server.current().await;
    let tags: HashSet<String> = file["flags"][0]["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    assert_eq!(tags.len(), WRITERS * EACH, "lost updates: {tags:?}");
    assert_eq!(version, 1 + (WRITERS * EACH) as u64);
}

#[tokio::test]
async fn writes_need_token_if_match_size_and_validity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN, "--max-body-bytes", "4096"]).await;
    let http = client();
    let (etag, version, file) = server.current().await;
    let good = with_description(&file, 0, "x");

    let resp = http.put(server.url("/api/flags")).header("if-match", &etag).json(&good).send().await.expect("put");
    assert_eq!(resp.status(), 401);
    assert_eq!(header(&resp, "www-authenticate"), "Bearer");
    assert!(resp.json::<Value>().await.expect("json")["error"].is_string());
    let resp = http
        .put(server.url("/api/flags"))
        .bearer_auth("wrong-token")
        .header("if-match", &etag)
        .json(&good)
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 401);

    let resp = http.put(server.url("/api/flags")).bearer_auth(TOKEN).json(&good).send().await.expect("put");
    assert_eq!(resp.status(), 428);

    let big = with_description(&file, 0, &"x".repeat(10_000));
    let resp = server.put(&big, &etag).await;
    assert_eq!(resp.status(), 413);

    // Two problems at once: both reported with their paths, nothing stored.
    let mut bad = file.clone();
    bad["flags"][0]["default_variation"] = json!("nope");
    bad["flags"][2]["kind"] = json!("colour");
    let resp = server.put(&bad, &etag).await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.expect("json");
    let problems = body["problems"].as_array().expect("problems");
    assert!(problems.len() >= 2, "{body}");
    let paths: Vec<&str> = problems.iter().filter_map(|p| p["path"].as_str()).collect();
    assert!(paths.iter().any(|p| p.starts_with("flags[0]")), "{paths:?}");
    assert!(paths.iter().any(|p| p.starts_with("flags[2]")), "{paths:?}");
    let resp = http
        .put(server.url("/api/flags"))
        .bearer_auth(TOKEN)
        .header("if-match", &etag)
        .body("{not json")
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 422);

    let (etag_after, version_after, file_after) = server.current().await;
    assert_eq!((etag_after, version_after, file_after), (etag.clone(), version, file));
    let resp = server.put(&good, &etag).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn generated_token_is_printed_once_and_works_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = spawn(dir.path(), &[]).await;
    let token = first
        .banner
        .iter()
        .find_map(|l| l.split("stored hashed): ").nth(1))
        .expect("token printed on first start")
        .trim()
        .to_string();
    drop(first);
    let second = spawn(dir.path(), &[]).await;
    assert!(second.banner.iter().all(|l| !l.contains(&token)), "token printed again");
    let (etag, _, file) = second.current().await;
    let resp = client()
        .put(second.url("/api/flags"))
        .bearer_auth(&token)
        .header("if-match", etag)
        .json(&file)
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 200);
    assert!(!common::tokens_contain(dir.path(), &token), "plain token stored");
}

fn event(flag: &str, arm: &str, outcome: &str, latency_ms: f64) -> Value {
    json!({"ts": now_ms(), "flag": flag, "env": "prod", "arm": arm, "stage": 0, "outcome": outcome, "latency_ms": latency_ms})
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[tokio::test]
async fn metric_events_aggregate_and_bad_batches_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN, "--ingest-token", INGEST]).await;
    let http = client();
    let mut events: Vec<Value> = (1..=200).map(|i| event("checkout", "baseline", "ok", i as f64)).collect();
    events.extend((0..50).map(|i| event("checkout", "canary", if i < 5 { "error" } else { "ok" }, 300.0)));
    events.push(json!({"ts": "2020-01-01T00:00:00Z", "flag": "checkout", "env": "prod", "variant": "legacy", "outcome": "ok", "latency_ms": 1}));
    let resp = http.post(server.url("/api/metrics/events")).bearer_auth(INGEST).json(&json!({"events": events})).send().await.expect("post");
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.expect("json")["accepted"], 251);

    let report: Value = http
        .get(server.url("/api/metrics?flag=checkout&env=prod&window=5m"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let base = &report["arms"]["baseline"]["summary"];
    assert_eq!(base["requests"], 200);
    assert_eq!(base["errors"], 0);
    let p99 = base["p99_ms"].as_f64().expect("p99");
    assert!((196.0..=202.0).contains(&p99), "p99 {p99}");
    let canary = &report["arms"]["canary"]["summary"];
    assert_eq!((canary["requests"].as_u64(), canary["errors"].as_u64()), (Some(50), Some(5)));
    assert_eq!(canary["error_rate"].as_f64(), Some(0.1));
    // The window's latency histogram (non-cumulative buckets, ms): all 50 canary requests took
    // 300 ms, in the fixed layout's bucket (280, 315].
    let buckets = canary["latency_buckets"].as_array().expect("latency_buckets");
    assert_eq!(buckets.iter().filter_map(|b| b["count"].as_u64()).sum::<u64>(), 50);
    let filled: Vec<f64> = buckets.iter().filter(|b| b["count"].as_u64() > Some(0)).filter_map(|b| b["le"].as_f64()).collect();
    assert_eq!(filled, [315.0], "{buckets:?}");
    let base_buckets = base["latency_buckets"].as_array().expect("baseline latency_buckets");
    assert_eq!(base_buckets.iter().filter_map(|b| b["count"].as_u64()).sum::<u64>(), 200);
    assert_eq!(report["window_seconds"], 300);
    let series = report["arms"]["canary"]["series"].as_array().expect("series");
    assert_eq!(series.iter().filter_map(|p| p["requests"].as_u64()).sum::<u64>(), 50);

    // One bad event rejects the whole batch with every reason; the aggregates do not move.
    let bad = json!({"events": [
        event("checkout", "canary", "ok", 1.0),
        {"ts": "yesterday", "flag": "checkout", "env": "prod", "arm": "canary", "outcome": "ok", "latency_ms": 1},
        {"ts": now_ms(), "flag": "checkout", "env": "prod", "arm": "sideways", "outcome": "meh", "latency_ms": -3},
        {"ts": now_ms(), "flag": "", "env": "prod", "arm": "canary", "outcome": "ok"},
        "not an event"
    ]});
    let resp = http.post(server.url("/api/metrics/events")).bearer_auth(INGEST).json(&bad).send().await.expect("post");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    let paths: HashSet<&str> = body["problems"].as_array().expect("problems").iter().filter_map(|p| p["path"].as_str()).collect();
    for want in ["events[1].ts", "events[2].arm", "events[2].outcome", "events[2].latency_ms",
                 "events[3].flag", "events[3].latency_ms", "events[4]"] {
        assert!(paths.contains(want), "missing {want}: {paths:?}");
    }
    for raw in ["{oops", "[]", r#"{"events": 3}"#] {
        let resp = http
            .post(server.url("/api/metrics/events"))
            .bearer_auth(INGEST)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 400, "{raw}");
    }
    let again: Value = http
        .get(server.url("/api/metrics?flag=checkout&env=prod&window=5m"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(again["arms"]["canary"]["summary"]["requests"], 50);
    assert_eq!(again["arms"]["baseline"]["summary"]["requests"], 200);

    let resp = http.get(server.url("/api/metrics?flag=checkout&window=2d")).send().await.expect("get");
    assert_eq!(resp.status(), 400);
    let resp = http.get(server.url("/api/metrics?window=5m")).send().await.expect("get");
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn prometheus_exposition_passes_promtool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN, "--ingest-token", INGEST]).await;
    let http = client();
    let events = json!({"events": [
        event("checkout", "canary", "error", 12.0),
        event("checkout", "baseline", "ok", 7.5),
        event("we\"ird\\flag", "baseline", "ok", 2_000.0)
    ]});
    let resp = http.post(server.url("/api/metrics/events")).bearer_auth(INGEST).json(&events).send().await.expect("post");
    assert_eq!(resp.status(), 202);
    let resp = http.get(server.url("/metrics")).send().await.expect("metrics");
    assert!(header(&resp, "content-type").starts_with("text/plain; version=0.0.4"));
    let text = resp.text().await.expect("text");
    assert!(text.contains(r#"edgeflag_flag_errors_total{flag="checkout",env="prod",arm="canary"} 1"#), "{text}");
    // Not a flag of the file: refused and counted apart (escaping is checked in tests/limits.rs).
    assert!(!text.contains("ird"), "{text}");
    assert!(text.contains("edgeflag_metric_events_accepted_total 2"));
    assert!(text.contains(r#"edgeflag_metric_events_refused_total{reason="unknown_flag"} 1"#), "{text}");

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
}

#[tokio::test]
async fn ofrep_single_and_bulk_shapes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN]).await;
    let http = client();
    let post = |path: &str, body: &str| {
        http.post(server.url(path)).header("content-type", "application/json").body(body.to_string()).send()
    };

    let resp = post("/ofrep/v1/evaluate/flags/dark-mode", r#"{"context": {"targetingKey": "u1"}}"#).await.expect("post");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["key"], "dark-mode");
    assert_eq!(body["value"], true);
    assert_eq!(body["variant"], "on");
    assert_eq!(body["reason"], "SPLIT");
    assert!(body["metadata"].is_object());

    let resp = post("/ofrep/v1/evaluate/flags/checkout?env=prod", r#"{"context": {"targetingKey": "u1"}}"#).await.expect("post");
    let body: Value = resp.json().await.expect("json");
    assert!(["baseline", "canary"].contains(&body["metadata"]["arm"].as_str().unwrap_or("")), "{body}");

    let resp = post("/ofrep/v1/evaluate/flags/nope", r#"{"context": {"targetingKey": "u1"}}"#).await.expect("post");
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.expect("json");
    assert_eq!((body["key"].as_str(), body["errorCode"].as_str()), (Some("nope"), Some("FLAG_NOT_FOUND")));
    assert!(body["errorDetails"].is_string());

    for (raw, code) in [
        ("{broken", "PARSE_ERROR"),
        (r#"{"context": [1, 2]}"#, "INVALID_CONTEXT"),
        (r#"{"context": {"targetingKey": true}}"#, "INVALID_CONTEXT"),
        (r#"{"context": {"country": "FR"}}"#, "TARGETING_KEY_MISSING"),
    ] {
        let resp = post("/ofrep/v1/evaluate/flags/checkout", raw).await.expect("post");
        assert_eq!(resp.status(), 400, "{raw}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!((body["key"].as_str(), body["errorCode"].as_str()), (Some("checkout"), Some(code)), "{raw}");
    }

    let resp = post("/ofrep/v1/evaluate/flags", r#"{"context": {"targetingKey": "u7"}}"#).await.expect("post");
    assert_eq!(resp.status(), 200);
    let etag = header(&resp, "etag");
    let body: Value = resp.json().await.expect("json");
    let keys: Vec<&str> = body["flags"].as_array().expect("flags").iter().filter_map(|f| f["key"].as_str()).collect();
    assert_eq!(keys, ["dark-mode", "checkout", "static-limit"]);
    let resp = http
        .post(server.url("/ofrep/v1/evaluate/flags"))
        .header("if-none-match", &etag)
        .body(r#"{"context": {"targetingKey": "u7"}}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 304);
    // Without a targeting key the split flags are per-flag errors, the static one succeeds.
    let resp = post("/ofrep/v1/evaluate/flags", r#"{"context": {}}"#).await.expect("post");
    assert_ne!(header(&resp, "etag"), etag);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["flags"][1]["errorCode"], "TARGETING_KEY_MISSING");
    assert_eq!(body["flags"][2]["value"], 100);
    let resp = post("/ofrep/v1/evaluate/flags", r#"{"context": 5}"#).await.expect("post");
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.expect("json")["errorCode"], "INVALID_CONTEXT");

    // A flag change that alters this context's result changes the bulk ETag.
    let (fetag, _, file) = server.current().await;
    let mut changed = file.clone();
    changed["flags"][0]["enabled"] = json!(false);
    assert_eq!(server.put(&changed, &fetag).await.status(), 200);
    let resp = http
        .post(server.url("/ofrep/v1/evaluate/flags"))
        .header("if-none-match", &etag)
        .body(r#"{"context": {"targetingKey": "u7"}}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!((body["flags"][0]["value"].as_bool(), body["flags"][0]["reason"].as_str()), (Some(false), Some("DISABLED")));
}

#[tokio::test]
async fn cors_preflight_and_placeholder_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = spawn(dir.path(), &["--token", TOKEN]).await;
    let http = client();
    let resp = http
        .request(reqwest::Method::OPTIONS, server.url("/api/flags"))
        .header("origin", "http://dashboard.example")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization,if-match,content-type")
        .send()
        .await
        .expect("preflight");
    assert!(resp.status().is_success());
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    let allowed = header(&resp, "access-control-allow-headers").to_lowercase();
    assert!(allowed.contains("if-match") && allowed.contains("authorization"), "{allowed}");
    let resp = http.get(server.url("/api/flags")).header("origin", "http://x.example").send().await.expect("get");
    assert!(header(&resp, "access-control-expose-headers").to_lowercase().contains("etag"));
    let resp = http.get(server.url("/")).send().await.expect("index");
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.expect("html").contains("edgeflag"));
}
