//! The contract between the server's responses and the dashboard's decoders: every response
//! body the dashboard reads is produced here by the real server (binary on loopback, the
//! controller judging real metric events) and decoded with the dashboard's own functions.
//!
//! The decoders are lenient on purpose (a missing optional field is `None`, a missing count
//! 0), so "it decodes" alone would not catch a renamed field. Each value is therefore compared
//! with the raw JSON it came from, and the raw JSON must have the field.

mod common;

use common::{client, flag_file, header, healthy, plain_flag, spawn_with, Api, INGEST, TOKEN};
use edgeflag_dashboard::api_types::{header_message, parse_history, write_outcome, WriteOutcome};
use edgeflag_dashboard::canaries::parse_canaries;
use edgeflag_dashboard::canary::parse_metrics;
use serde_json::{json, Value};

/// An audit message a header cannot carry as is: the dashboard encodes it, the server decodes it.
const MESSAGE: &str = "contract test: Déploiement ✓ 支付";

/// `raw[name]`, which must be present (a renamed field fails here, not as a silent default).
fn field<'a>(raw: &'a Value, name: &str) -> &'a Value {
    raw.get(name).unwrap_or_else(|| panic!("the server's response has no `{name}`: {raw}"))
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

async fn get_text(api: &Api, path: &str) -> (u16, String) {
    let resp = client().get(api.url(path)).send().await.expect("GET");
    (resp.status().as_u16(), resp.text().await.expect("body"))
}

/// A write with the admin token (or `token`), decoded as the dashboard does.
async fn write(api: &Api, method: reqwest::Method, path: &str, token: &str, if_match: &str, body: &Value) -> (u16, Value, WriteOutcome) {
    let ct = if method == reqwest::Method::PATCH { "application/merge-patch+json" } else { "application/json" };
    let resp = client()
        .request(method, api.url(path))
        .bearer_auth(token)
        .header("if-match", if_match)
        .header("content-type", ct)
        .header("x-edgeflag-message", header_message(MESSAGE))
        .body(body.to_string())
        .send()
        .await
        .expect("write");
    let status = resp.status().as_u16();
    let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
    let text = resp.text().await.expect("body");
    let raw: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, raw, write_outcome(status, &text, etag.as_deref()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_the_dashboard_reads_decodes_to_the_values_the_server_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ship = common::canary_flag("ship", &[(10.0, "1s"), (50.0, "1s"), (100.0, "1s")], "running");
    ship["description"] = json!("the canary under judgement");
    let flags = flag_file(dir.path(), vec![ship, plain_flag("plain")]);
    let server = spawn_with(
        &dir.path().join("data"),
        &flags,
        &["--token", TOKEN, "--ingest-token", INGEST, "--controller-interval", "150ms"],
    )
    .await;

    // Metrics, then the controller's judgement of them.
    assert_eq!(server.post_events(INGEST, healthy("ship")).await, 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (raw_canaries, text) = loop {
        let (status, text) = get_text(&server, "/api/canaries").await;
        assert_eq!(status, 200, "{text}");
        let raw: Value = serde_json::from_str(&text).expect("JSON");
        if raw["canaries"].as_array().is_some_and(|all| all.iter().any(|c| c["last_judgement"].is_object())) {
            break (raw, text);
        }
        assert!(std::time::Instant::now() < deadline, "no judgement within 20 s: {raw}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };

    // GET /api/canaries
    let canaries = parse_canaries(&text).expect("the dashboard decodes /api/canaries");
    assert_eq!(Some(canaries.version), field(&raw_canaries, "version").as_u64());
    let raw_list = field(&raw_canaries, "canaries").as_array().expect("a list");
    assert_eq!(canaries.canaries.len(), raw_list.len());
    for (state, raw) in canaries.canaries.iter().zip(raw_list) {
        assert_eq!(Some(state.flag.as_str()), field(raw, "flag").as_str());
        assert_eq!(state.env, opt_str(field(raw, "env")));
        assert_eq!(Some(state.status.as_str()), field(raw, "status").as_str());
        assert_eq!(Some(state.current_stage as u64), field(raw, "current_stage").as_u64());
        assert_eq!(Some(state.stage_count as u64), field(raw, "stage_count").as_u64());
        assert_eq!(state.stage_started_at, opt_str(field(raw, "stage_started_at")));
        assert_eq!(state.percent, field(raw, "percent").as_f64());
        let (Some(j), Some(raw_j)) = (&state.last_judgement, raw["last_judgement"].as_object()) else {
            assert!(state.last_judgement.is_none() && !field(raw, "last_judgement").is_object(), "{raw}");
            continue;
        };
        let raw_j = Value::Object(raw_j.clone());
        assert_eq!(Some(j.at.as_str()), field(&raw_j, "at").as_str());
        assert_eq!(j.file_version, field(&raw_j, "file_version").as_u64());
        assert_eq!(Some(j.action.as_str()), field(&raw_j, "action").as_str());
        let reasons: Vec<String> = serde_json::from_value(field(&raw_j, "reasons").clone()).expect("reasons");
        assert_eq!(j.reasons, reasons);
        assert_eq!(Some(j.consecutive_failures), field(&raw_j, "consecutive_failures").as_u64());
        assert_eq!(Some(j.stage as u64), field(&raw_j, "stage").as_u64());
        assert_eq!(j.judged_from, opt_str(field(&raw_j, "judged_from")));
        assert_eq!(Some(j.earlier_stages), field(&raw_j, "earlier_stages").as_u64());
        assert_eq!(j.decision_version, raw_j["decision_version"].as_u64());
        assert_eq!(j.error, opt_str(&raw_j["error"]));
        let raw_checks = field(&raw_j, "checks").as_array().expect("checks");
        assert!(!raw_checks.is_empty(), "a judgement has checks: {raw_j}");
        assert_eq!(j.checks.len(), raw_checks.len());
        for (c, raw_c) in j.checks.iter().zip(raw_checks) {
            assert_eq!(Some(c.check.as_str()), field(raw_c, "check").as_str());
            assert_eq!(Some(c.outcome.as_str()), field(raw_c, "outcome").as_str());
            assert_eq!(c.observed, raw_c["observed"].as_f64(), "{raw_c}");
            assert_eq!(c.limit, raw_c["limit"].as_f64(), "{raw_c}");
            assert_eq!(c.baseline, raw_c["baseline"].as_f64(), "{raw_c}");
            assert_eq!(c.lower, raw_c["lower"].as_f64(), "{raw_c}");
            assert_eq!(c.upper, raw_c["upper"].as_f64(), "{raw_c}");
            assert_eq!(c.reason, raw_c["reason"].as_str().unwrap_or_default(), "{raw_c}");
        }
        match (&j.needs, raw_j["needs"].as_object()) {
            (Some(n), Some(raw_n)) => {
                assert_eq!(n.more_requests, raw_n.get("more_requests").and_then(Value::as_u64));
                assert_eq!(n.more_seconds, raw_n.get("more_seconds").and_then(Value::as_u64));
                assert_eq!(Some(n.reason.as_str()), raw_n.get("reason").and_then(Value::as_str));
            }
            (None, None) => {}
            (decoded, _) => panic!("needs decoded as {decoded:?} from {raw_j}"),
        }
    }
    assert!(canaries.canaries.iter().any(|c| c.flag == "ship" && c.last_judgement.is_some()));

    // GET /api/metrics: both arms, their summaries and series.
    let (status, text) = get_text(&server, "/api/metrics?flag=ship&window=5m").await;
    assert_eq!(status, 200, "{text}");
    let raw: Value = serde_json::from_str(&text).expect("JSON");
    let metrics = parse_metrics(&text).expect("the dashboard decodes /api/metrics");
    assert_eq!(Some(metrics.flag.as_str()), field(&raw, "flag").as_str());
    assert_eq!(metrics.env, opt_str(field(&raw, "env")));
    assert_eq!(Some(metrics.window_seconds), field(&raw, "window_seconds").as_u64());
    assert_eq!(Some(metrics.bucket_seconds), field(&raw, "bucket_seconds").as_u64());
    assert_eq!(Some(metrics.generated_at.as_str()), field(&raw, "generated_at").as_str());
    let raw_arms = field(&raw, "arms").as_object().expect("arms");
    assert_eq!(metrics.arms.keys().collect::<Vec<_>>(), raw_arms.keys().collect::<Vec<_>>());
    assert!(metrics.arms.contains_key("canary") && metrics.arms.contains_key("baseline"), "{raw}");
    for (name, arm) in &metrics.arms {
        let raw_arm = &raw_arms[name];
        // The summary is the evaluator's own type: the same serde on both sides.
        let summary: edgeflag_evaluator::judgement::ArmSummary =
            serde_json::from_value(field(raw_arm, "summary").clone()).expect("summary");
        assert_eq!(arm.summary, summary);
        assert!(arm.summary.requests > 0, "{name}: {raw_arm}");
        let raw_series = field(raw_arm, "series").as_array().expect("series");
        assert_eq!(arm.series.len(), raw_series.len());
        for (p, raw_p) in arm.series.iter().zip(raw_series) {
            assert_eq!(Some(p.start.as_str()), field(raw_p, "start").as_str());
            assert_eq!(Some(p.requests), field(raw_p, "requests").as_u64());
            assert_eq!(Some(p.errors), field(raw_p, "errors").as_u64());
            assert_eq!(p.error_rate, field(raw_p, "error_rate").as_f64());
            assert_eq!(p.p99_ms, field(raw_p, "p99_ms").as_f64());
        }
        assert_eq!(arm.series.iter().map(|p| p.requests).sum::<u64>(), arm.summary.requests, "{name}");
    }

    // Writes: published, stale, invalid, conflicting, unauthorized.
    let (etag, version, file) = server.current().await;
    let mut edited = file.clone();
    edited["flags"][1]["description"] = json!("edited by the contract test");
    let (status, raw, outcome) = write(&server, reqwest::Method::PUT, "/api/flags", TOKEN, &etag, &edited).await;
    let WriteOutcome::Published { version: published, etag: new_etag } = outcome else {
        panic!("{status} {raw} decoded as {outcome:?}");
    };
    assert!(published > version, "{raw}");
    assert_eq!(Some(published), raw["version"].as_u64(), "{raw}");
    let (etag_now, version_now, _) = server.current().await;
    assert_eq!((published, new_etag.as_str()), (version_now, etag_now.as_str()));

    let (status, raw, outcome) = write(&server, reqwest::Method::PUT, "/api/flags", TOKEN, &etag, &edited).await;
    assert_eq!(status, 412, "{raw}");
    let WriteOutcome::Stale { current_version, current_etag, error } = outcome else { panic!("{raw} decoded as {outcome:?}") };
    assert_eq!(current_version, field(&raw, "current_version").as_u64());
    assert_eq!(current_etag, opt_str(field(&raw, "current_etag")));
    assert_eq!(Some(error.as_str()), field(&raw, "error").as_str());

    let mut invalid = edited.clone();
    invalid["flags"][1]["default_variation"] = json!("missing");
    let (status, raw, outcome) = write(&server, reqwest::Method::PUT, "/api/flags", TOKEN, &etag_now, &invalid).await;
    assert_eq!(status, 422, "{raw}");
    let WriteOutcome::Invalid { problems, .. } = outcome else { panic!("{raw} decoded as {outcome:?}") };
    let raw_problems = field(&raw, "problems").as_array().expect("problems");
    assert!(!problems.is_empty());
    assert_eq!(problems.len(), raw_problems.len());
    for (p, raw_p) in problems.iter().zip(raw_problems) {
        assert_eq!(Some(p.path.as_str()), field(raw_p, "path").as_str());
        assert_eq!(Some(p.message.as_str()), field(raw_p, "message").as_str());
    }

    // A per-flag write from a stale base that sets a field someone else changed since: 409.
    let (plain_etag, _, plain) = server.flag("plain").await;
    let mut theirs = plain.clone();
    theirs["description"] = json!("theirs");
    let (status, raw, _) = write(&server, reqwest::Method::PUT, "/api/flags/plain", TOKEN, &plain_etag, &theirs).await;
    assert_eq!(status, 200, "the other writer: {raw}");
    let patch = json!({"description": "mine"});
    let (status, raw, outcome) = write(&server, reqwest::Method::PATCH, "/api/flags/plain", TOKEN, &plain_etag, &patch).await;
    assert_eq!(status, 409, "{raw}");
    let WriteOutcome::Refused { conflicts, error } = outcome else { panic!("{raw} decoded as {outcome:?}") };
    assert_eq!(Some(error.as_str()), field(&raw, "error").as_str());
    let raw_conflicts = field(&raw, "conflicts").as_array().expect("conflicts");
    assert!(!conflicts.is_empty());
    assert_eq!(conflicts.len(), raw_conflicts.len());
    for (c, raw_c) in conflicts.iter().zip(raw_conflicts) {
        assert_eq!(Some(c.path.as_str()), field(raw_c, "path").as_str());
        assert_eq!(c.mine.as_ref(), raw_c.get("mine"));
        assert_eq!(c.theirs.as_ref(), raw_c.get("theirs"));
        assert_eq!(c.theirs_version, raw_c["theirs_version"].as_u64());
        assert_eq!(c.theirs_author, opt_str(&raw_c["theirs_author"]));
    }
    assert!(conflicts.iter().any(|c| c.path == "description" && c.theirs == Some(json!("theirs"))), "{conflicts:?}");

    let (status, raw, outcome) = write(&server, reqwest::Method::PUT, "/api/flags", "not-the-token", &etag_now, &edited).await;
    assert_eq!(status, 401, "{raw}");
    assert!(matches!(outcome, WriteOutcome::Unauthorized(ref e) if Some(e.as_str()) == raw["error"].as_str()), "{outcome:?}");

    // GET /api/flags/history: every entry, with the messages the writers gave.
    let resp = client().get(server.url("/api/flags/history?limit=10000")).send().await.expect("history");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("body");
    let raw: Value = serde_json::from_str(&text).expect("JSON");
    let history = parse_history(&text).expect("the dashboard decodes the history");
    let raw_entries = raw.as_array().expect("a list");
    assert_eq!(history.len(), raw_entries.len());
    assert!(history.len() >= 3, "{raw}");
    for (e, raw_e) in history.iter().zip(raw_entries) {
        assert_eq!(Some(e.version), field(raw_e, "version").as_u64());
        assert_eq!(Some(e.created_at.as_str()), field(raw_e, "created_at").as_str());
        assert_eq!(Some(e.author.as_str()), field(raw_e, "author").as_str());
        let changed: Vec<String> = serde_json::from_value(field(raw_e, "changed_flags").clone()).expect("changed_flags");
        assert_eq!(e.changed_flags, changed);
        assert_eq!(Some(e.message.as_str()), field(raw_e, "message").as_str());
        assert_eq!(Some(e.etag.as_str()), field(raw_e, "etag").as_str());
    }
    assert!(history.iter().any(|e| e.message == MESSAGE), "{raw}");
    assert_eq!(header_version(&server).await, history[0].version);
}

async fn header_version(api: &Api) -> u64 {
    let resp = client().get(api.url("/api/flags")).send().await.expect("GET /api/flags");
    header(&resp, "x-edgeflag-version").parse().expect("numeric version")
}
