//! `http::connect` and `http::MetricsReporter` against the real `edgeflag serve`
//! (target/debug/edgeflag, built by `cargo build -p edgeflag-cli`; skipped, saying so, without it).
#![cfg(feature = "http")]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use edgeflag_openfeature::http::{connect, MetricsReporter};
use edgeflag_openfeature::metrics::Outcome;
use open_feature::provider::{FeatureProvider, ProviderStatus};
use open_feature::EvaluationContext;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const ADMIN: &str = "rust-provider-test-admin";
const INGEST: &str = "rust-provider-test-ingest";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn serve(dir: &std::path::Path) -> Option<(Child, String)> {
    let bin = root().join("target/debug/edgeflag");
    if !bin.exists() {
        println!("SKIPPED: {} is not built (cargo build -p edgeflag-cli)", bin.display());
        return None;
    }
    let mut child = Command::new(bin)
        .args(["serve", "--addr", "127.0.0.1:0", "--no-controller", "--token", ADMIN, "--ingest-token", INGEST])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--flags")
        .arg(root().join("examples/flags.json"))
        .arg("--static-dir")
        .arg(dir.join("none"))
        .env_remove("EDGEFLAG_ADMIN_TOKEN")
        .env_remove("EDGEFLAG_INGEST_TOKEN")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("edgeflag serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(rest) = line.split("listening on ").nth(1) {
            let base = rest.trim().trim_end_matches('/').to_string();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Some((child, base));
        }
    }
    panic!("edgeflag serve did not start");
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_polls_the_server_and_the_reporter_posts_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((_child, base)) = serve(dir.path()).await else { return };
    let (provider, poller) = connect(&base, Duration::from_millis(100)).await.expect("connect");
    let provider = provider.with_environment("prod");
    let flags = provider.handle();
    assert_eq!(flags.version(), Some(1));
    let alice = EvaluationContext::default().with_targeting_key("alice");
    let d = provider.resolve_bool_value("new-dashboard", &alice).await.expect("on");
    assert!(d.value);

    // A publish is polled and swapped in.
    let http = reqwest::Client::new();
    let res = http.get(format!("{base}/api/flags")).send().await.expect("get");
    let etag = res.headers()["etag"].to_str().expect("etag").to_string();
    let mut file: Value = res.json().await.expect("json");
    for f in file["flags"].as_array_mut().expect("flags") {
        if f["key"] == "new-dashboard" {
            f["enabled"] = Value::Bool(false);
        }
    }
    let put = http.put(format!("{base}/api/flags")).bearer_auth(ADMIN).header("if-match", etag).json(&file).send().await.expect("put");
    assert_eq!(put.status(), 200);
    until("version 2", async || flags.version() == Some(2)).await;
    let d = provider.resolve_bool_value("new-dashboard", &alice).await.expect("off");
    assert!(!d.value);
    assert_eq!(d.flag_metadata.expect("metadata").values.get("flagSetVersion"), Some(&open_feature::FlagMetadataValue::Int(2)));

    // Tracking: one event per canary/experiment flag of each user, counted by the server.
    let reporter = MetricsReporter::spawn(&provider, &format!("{base}/api/metrics/events"), INGEST, Duration::from_millis(100));
    let users = ["alice", "bob", "u-1", "u-2", "u-3", "u-4"];
    for u in users {
        reporter.track(&EvaluationContext::default().with_targeting_key(u), Outcome::Ok, 12.5);
    }
    reporter.flush();
    until("events counted", async || {
        let m: Value = http.get(format!("{base}/api/metrics?flag=payment-processor&env=prod&window=5m")).send().await.expect("m").json().await.expect("json");
        let n: u64 = m["arms"].as_object().map(|a| a.values().filter_map(|x| x["summary"]["requests"].as_u64()).sum()).unwrap_or(0);
        n == users.len() as u64
    })
    .await;
    assert_eq!(reporter.queue().stats().dropped, 0);

    // The server gone: the last good flags keep answering, the provider is STALE.
    drop(_child);
    until("STALE", async || provider.status() == ProviderStatus::STALE).await;
    assert!(!provider.resolve_bool_value("new-dashboard", &alice).await.expect("kept").value);
    poller.abort();
}
