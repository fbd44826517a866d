//! The demo as `scripts/run.sh` starts it (`--demo`, `server/demo/flags.json`, controller
//! every 3 s): payment-processor advances stage by stage and completes; ranking-model, whose
//! canary degrades after a minute, is rolled back at its first stage. The assertions are the
//! story, not the numbers: the judgement statistics are free to change.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{spawn_with, Api, TOKEN};
use serde_json::Value;

fn demo_flags() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/flags.json")
}

const DEMO: [&str; 5] = ["--demo", "--token", TOKEN, "--controller-interval", "3s"];

async fn canaries(api: &Api) -> Vec<Value> {
    api.get_json("/api/canaries").await["canaries"].as_array().cloned().unwrap_or_default()
}

fn base_canary<'a>(list: &'a [Value], flag: &str) -> &'a Value {
    list.iter().find(|c| c["flag"] == flag && c["env"].is_null()).unwrap_or_else(|| panic!("no base canary {flag}: {list:?}"))
}

fn age_secs(rfc3339: &str) -> i64 {
    let started = edgeflag_server::clock::parse_rfc3339_ms(rfc3339).unwrap_or(0);
    (common::now_ms() - started) / 1000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_story_plays_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = spawn_with(&data, &demo_flags(), &DEMO).await;

    // Imported with the stage clocks at the import time, not the file's fixed date.
    let history = server.history().await;
    assert!(history[0]["message"].as_str().is_some_and(|m| m.contains("demo: 2 running canary stage clock(s) set to the import time")), "{history:?}");
    let list = canaries(&server).await;
    for flag in ["payment-processor", "ranking-model"] {
        let c = base_canary(&list, flag);
        assert_eq!((c["status"].as_str(), c["current_stage"].as_u64()), (Some("running"), Some(0)), "{c}");
        assert!(age_secs(c["stage_started_at"].as_str().unwrap_or("")) < 30, "{flag} started now: {c}");
    }

    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let list = canaries(&server).await;
        let (pp, rm) = (base_canary(&list, "payment-processor"), base_canary(&list, "ranking-model"));
        // ranking-model never leaves its first stage.
        assert_eq!(rm["current_stage"], 0, "ranking-model advanced: {rm}");
        assert_ne!(pp["status"], "rolled_back", "the healthy canary was rolled back: {pp}");
        if pp["status"] == "completed" && rm["status"] == "rolled_back" {
            // The API shows the decision that wrote the rollback, with its reasons.
            let last = &rm["last_judgement"];
            assert_eq!((last["action"].as_str(), last["stage"].as_u64()), (Some("rollback"), Some(0)), "{rm}");
            assert!(last["decision_version"].is_u64() && !last["reasons"].as_array().is_some_and(Vec::is_empty), "{rm}");
            break;
        }
        assert!(Instant::now() < deadline, "the story did not finish in 5 minutes: {pp} / {rm}");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    let history = server.history().await;
    let decisions = |flag: &str| -> Vec<String> {
        history
            .iter()
            .rev()
            .filter(|e| e["author"] == "canary-controller" && e["changed_flags"] == serde_json::json!([flag]))
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let rm = decisions("ranking-model");
    assert_eq!(rm.len(), 1, "one decision for ranking-model, the rollback: {rm:#?}");
    assert!(rm[0].starts_with("canary ranking-model: rollback at current_stage 0;"), "rolled back at its first stage: {}", rm[0]);
    let pp = decisions("payment-processor");
    let expected = [
        "advance current_stage 0 -> 1",
        "advance current_stage 1 -> 2",
        "advance current_stage 2 -> 3",
        "complete at current_stage 3",
    ];
    assert_eq!(pp.len(), expected.len(), "{pp:#?}");
    for (message, want) in pp.iter().zip(expected) {
        assert!(message.starts_with(&format!("canary payment-processor: {want};")), "{message}");
    }

    // A restart after the story: nothing runs, the banner says how to replay.
    drop(server);
    let again = spawn_with(&data, &demo_flags(), &DEMO).await;
    assert!(again.banner.iter().any(|l| l.contains("no canary is running in this store")), "{:?}", again.banner);
}

/// A restart mid-story restarts the running canaries' stage clocks (a version by `demo`), so
/// a day-long stage does not count the time the server was down.
#[tokio::test]
async fn a_demo_restart_restarts_the_stage_clocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let first = spawn_with(&data, &demo_flags(), &["--demo", "--token", TOKEN, "--no-controller"]).await;
    let before = base_canary(&canaries(&first).await, "ranking-model")["stage_started_at"].clone();
    drop(first);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = spawn_with(&data, &demo_flags(), &["--demo", "--token", TOKEN, "--no-controller"]).await;
    assert!(second.banner.iter().any(|l| l.contains("stage clocks restarted now (version 2)")), "{:?}", second.banner);
    let entry = &second.history().await[0];
    assert_eq!((entry["version"].as_u64(), entry["author"].as_str()), (Some(2), Some("demo")));
    assert_eq!(entry["changed_flags"], serde_json::json!(["payment-processor", "ranking-model"]));
    let after = base_canary(&canaries(&second).await, "ranking-model")["stage_started_at"].clone();
    let ms = |v: &Value| edgeflag_server::clock::parse_rfc3339_ms(v.as_str().unwrap_or("")).unwrap_or(0);
    assert!(ms(&after) >= ms(&before) + 1000, "{before} -> {after}");
    // Without --demo, a restart leaves the clocks alone.
    drop(second);
    let plain = spawn_with(&data, &demo_flags(), &["--token", TOKEN, "--no-controller"]).await;
    assert_eq!(plain.current().await.1, 2);
}
