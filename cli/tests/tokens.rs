//! `edgeflag token create|list|revoke` against a running `edgeflag serve` on the same data
//! directory: changes take effect without a restart.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

const ADMIN: &str = "cli-test-admin-token";

fn edgeflag(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_edgeflag"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env_remove("EDGEFLAG_ADMIN_TOKEN")
        .output()
        .expect("edgeflag runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `edgeflag serve` (no controller) and returns it with its base URL.
async fn serve(dir: &Path) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_edgeflag"))
        .args(["serve", "--addr", "127.0.0.1:0", "--no-controller", "--token", ADMIN, "--flags", "examples/flags.json"])
        .arg("--data-dir")
        .arg(dir)
        .arg("--static-dir")
        .arg(dir.join("no-dist"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env_remove("EDGEFLAG_ADMIN_TOKEN")
        .env_remove("EDGEFLAG_INGEST_TOKEN")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn edgeflag serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.trim_end_matches('/').to_string();
            }
        }
        panic!("edgeflag serve exited before listening");
    })
    .await
    .expect("listening within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

async fn post_events(base: &str, token: &str) -> u16 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let events = json!({"events": [{"ts": now, "flag": "payment-processor", "env": "prod", "arm": "canary", "outcome": "ok", "latency_ms": 12}]});
    reqwest::Client::new()
        .post(format!("{base}/api/metrics/events"))
        .bearer_auth(token)
        .json(&events)
        .send()
        .await
        .expect("POST events")
        .status()
        .as_u16()
}

/// Polls until `check` returns the wanted status, at most 5 s (the server reloads tokens at
/// most once a second).
async fn eventually(what: &str, want: u16, check: impl AsyncFn() -> u16) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = check().await;
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {got}, expected {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn token_commands_take_effect_on_a_running_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8 path");
    let (_server, base) = serve(&data).await;
    let http = reqwest::Client::new();

    let (code, edge, stderr) = edgeflag(&["token", "create", "edge-eu", "--role", "ingest", "--data-dir", data_arg]);
    assert_eq!(code, 0, "{stderr}");
    let edge = edge.trim().to_string();
    assert!(edge.starts_with("ef_") && stderr.contains("shown only this once"), "{edge} / {stderr}");
    eventually("a created ingest token posts events", 202, || post_events(&base, &edge)).await;

    let (code, ops, _) = edgeflag(&["token", "create", "ops", "--role", "admin", "--data-dir", data_arg]);
    assert_eq!(code, 0);
    let ops = ops.trim().to_string();
    let (_, viewer, _) = edgeflag(&["token", "create", "viewer", "--role", "read", "--data-dir", data_arg]);
    let viewer = viewer.trim().to_string();
    eventually("a read token may not post events", 403, || post_events(&base, &viewer)).await;
    assert_eq!(post_events(&base, "ef_made_up").await, 401);

    // The new admin token writes a flag; its name is the author.
    let patch = || {
        let http = http.clone();
        let base = base.clone();
        let ops = ops.clone();
        async move {
            let resp = http.get(format!("{base}/api/flags/new-dashboard")).send().await.expect("GET flag");
            let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            http.patch(format!("{base}/api/flags/new-dashboard"))
                .bearer_auth(&ops)
                .header("if-match", etag)
                .header("content-type", "application/merge-patch+json")
                .header("x-edgeflag-message", "describe it")
                .body(json!({"description": "written by ops"}).to_string())
                .send()
                .await
                .expect("PATCH")
                .status()
                .as_u16()
        }
    };
    eventually("a created admin token writes", 200, patch).await;
    let history: Value = http.get(format!("{base}/api/flags/history")).send().await.expect("history").json().await.expect("json");
    assert_eq!((history[0]["author"].as_str(), history[0]["message"].as_str()), (Some("ops"), Some("describe it")));
    // The read token may not write.
    let resp = http
        .patch(format!("{base}/api/flags/new-dashboard"))
        .bearer_auth(&viewer)
        .header("if-match", "\"x\"")
        .body("{}")
        .send()
        .await
        .expect("PATCH");
    assert_eq!(resp.status(), 403);

    let (code, _, stderr) = edgeflag(&["token", "revoke", "edge-eu", "--data-dir", data_arg]);
    assert_eq!(code, 0, "{stderr}");
    eventually("a revoked token is refused", 401, || post_events(&base, &edge)).await;
    let (code, _, stderr) = edgeflag(&["token", "revoke", "edge-eu", "--data-dir", data_arg]);
    assert_ne!(code, 0, "revoking twice is an error");
    assert!(stderr.contains("no active token named \"edge-eu\""), "{stderr}");

    let (code, list, _) = edgeflag(&["token", "list", "--data-dir", data_arg]);
    assert_eq!(code, 0);
    let row = |name: &str| list.lines().find(|l| l.starts_with(name)).unwrap_or_default().to_string();
    assert!(row("edge-eu").contains("ingest") && !row("edge-eu").trim_end().ends_with('-'), "revoked: {list}");
    assert!(row("ops").contains("admin") && row("ops").trim_end().ends_with('-'), "active: {list}");
    assert!(!list.contains(&edge) && !list.contains(&ops), "tokens are never listed");
}

#[test]
fn token_commands_check_their_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8 path");
    let (code, _, stderr) = edgeflag(&["token", "list", "--data-dir", data_arg]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no edgeflag store"), "{stderr}");
    let (code, _, stderr) = edgeflag(&["token", "create", "x", "--role", "root", "--data-dir", data_arg]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = edgeflag(&["token", "create", "canary-controller", "--role", "admin", "--data-dir", data_arg]);
    assert_eq!(code, 2);
    assert!(stderr.contains("reserved"), "{stderr}");
    let (code, _, _) = edgeflag(&["token", "create", "ci", "--role", "admin", "--data-dir", data_arg]);
    assert_eq!(code, 0);
    let (code, _, stderr) = edgeflag(&["token", "create", "ci", "--role", "read", "--data-dir", data_arg]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"), "{stderr}");
}
