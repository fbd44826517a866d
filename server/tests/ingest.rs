//! Forged metric events against the real server process with its controller running: none
//! reach the aggregates, none move a canary. The same streams sent with an ingest token do.

mod common;

use std::time::Duration;

use common::{canary_flag, client, failing, flag_file, healthy, spawn_with, Api, INGEST, TOKEN};
use edgeflag_server::auth::Role;
use serde_json::{json, Value};

/// Requests the metrics report counts for a flag (all arms, all environments).
async fn requests(api: &Api, flag: &str) -> u64 {
    let report = api.get_json(&format!("/api/metrics?flag={flag}&window=5m")).await;
    report["arms"].as_object().map_or(0, |arms| arms.values().filter_map(|a| a["summary"]["requests"].as_u64()).sum())
}

/// A counter of `/metrics`.
async fn counter(api: &Api, name: &str) -> u64 {
    let text = client().get(api.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_metric_posts_are_refused_and_steer_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let read = common::create_token(&data, "viewer", Role::Read);
    let flags = flag_file(
        dir.path(),
        vec![
            // Forged failing data would roll it back; forged healthy data would advance the other.
            canary_flag("victim", &[(10.0, "1s"), (50.0, "1s")], "running"),
            canary_flag("hopeful", &[(10.0, "1s"), (50.0, "1s")], "running"),
        ],
    );
    let server = spawn_with(
        &data,
        &flags,
        &[
            "--token", TOKEN, "--ingest-token", INGEST, "--controller-interval", "200ms", "--controller-window", "60s",
            "--controller-failures", "1", "--allowed-origin", "https://dashboard.example",
        ],
    )
    .await;
    let http = client();
    let mut forged = failing("victim");
    forged.extend(healthy("hopeful"));
    let body = json!({ "events": forged }).to_string();
    let post = |auth: Option<&str>, origin: Option<&str>, content_type: &str| {
        let mut req = http.post(server.url("/api/metrics/events")).header("content-type", content_type).body(body.clone());
        if let Some(token) = auth {
            req = req.bearer_auth(token);
        }
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        req.send()
    };

    let attempts = [
        ("anonymous", None, None, "application/json", 401),
        ("wrong token", Some("ef_not_a_token"), None, "application/json", 401),
        ("read token", Some(read.as_str()), None, "application/json", 403),
        // What a foreign page can send without a preflight: a "simple" text/plain POST.
        ("cross-origin simple POST", None, Some("https://evil.example"), "text/plain", 403),
        // Even a leaked ingest token does not make a foreign page an allowed source.
        ("cross-origin with a token", Some(INGEST), Some("https://evil.example"), "application/json", 403),
        ("origin null", Some(INGEST), Some("null"), "application/json", 403),
    ];
    for (what, token, origin, content_type, want) in attempts {
        let resp = post(token, origin, content_type).await.expect("post");
        assert_eq!(resp.status().as_u16(), want, "{what}");
        let body: Value = resp.json().await.expect("JSON error");
        assert!(body["error"].is_string(), "{what}: {body}");
    }
    // A preflight from a foreign origin is not granted; the allowed one is.
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, server.url("/api/metrics/events"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let resp = preflight("https://evil.example").await.expect("preflight");
    assert!(resp.headers().get("access-control-allow-origin").is_none(), "{:?}", resp.headers());
    let resp = preflight("https://dashboard.example").await.expect("preflight");
    assert_eq!(resp.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("https://dashboard.example"));

    // Ten controller ticks later: nothing counted, nothing moved.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!((requests(&server, "victim").await, requests(&server, "hopeful").await), (0, 0));
    assert_eq!(counter(&server, "edgeflag_metric_events_accepted_total").await, 0);
    assert!(counter(&server, "edgeflag_metric_batches_rejected_total").await >= attempts.len() as u64);
    assert_eq!(server.current().await.1, 1, "no version written");
    for key in ["victim", "hopeful"] {
        let c = server.canary(key).await;
        assert_eq!((c["status"].as_str(), c["current_stage"].as_u64()), (Some("running"), Some(0)), "{key}: {c}");
        let state = server.get_json(&format!("/api/canaries/{key}")).await;
        assert_eq!(state["last_judgement"]["action"], "hold", "{key} is judged on no data: {state}");
    }

    // Control: the same events from allowed sources are counted and do steer (the test can fail).
    let resp = post(Some(INGEST), Some("https://dashboard.example"), "application/json").await.expect("post");
    assert_eq!(resp.status(), 202, "an allowed origin with an ingest token");
    let resp = post(Some(TOKEN), None, "application/json").await.expect("post");
    assert_eq!(resp.status(), 202, "an admin token may post too");
    let host = server.base.trim_start_matches("http://").to_string();
    let resp = post(Some(INGEST), Some(&format!("http://{host}")), "application/json").await.expect("post");
    assert_eq!(resp.status(), 202, "the server's own origin");
    assert_eq!(requests(&server, "victim").await, 3 * 2200);
    server.wait_canary("victim", 15, "rollback", |c| c["status"] == "rolled_back").await;
    server.wait_canary("hopeful", 15, "advance", |c| c["current_stage"] == 1).await;
}
