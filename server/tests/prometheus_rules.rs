//! The shipped Prometheus rules (`deploy/prometheus/edgeflag.rules.yml`): valid
//! (`promtool check rules`), behaving as their unit tests say (`promtool test rules`), and
//! only about series a real server exposes.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/prometheus")
}

fn promtool(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("promtool")
        .args(args)
        .current_dir(rules_dir())
        .output()
        .unwrap_or_else(|e| panic!("promtool not found ({e}): install Debian's `prometheus` package (scripts/setup.sh does)"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_rules_are_valid_and_pass_their_unit_tests() {
    let (ok, out) = promtool(&["check", "rules", "edgeflag.rules.yml"]);
    assert!(ok, "{out}");
    let (ok, out) = promtool(&["test", "rules", "edgeflag.rules.test.yml"]);
    assert!(ok && out.contains("SUCCESS"), "{out}");
}

/// `edgeflag_…` series names in the rules' expressions (not the recorded names, which contain
/// `:`).
fn referenced_series(rules: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in rules.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let bytes = line.as_bytes();
        let mut from = 0;
        while let Some(at) = line[from..].find("edgeflag_").map(|i| i + from) {
            let end = at + line[at..].bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
            let before = at.checked_sub(1).map(|i| bytes[i]);
            if !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
                out.insert(line[at..end].to_string());
            }
            from = end;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_series_the_rules_use_is_exposed() {
    let rules = std::fs::read_to_string(rules_dir().join("edgeflag.rules.yml")).expect("rules");
    let wanted = referenced_series(&rules);
    assert!(wanted.contains("edgeflag_canary_state") && wanted.contains("edgeflag_flag_latency_seconds_bucket"), "{wanted:?}");

    // A server whose controller has judged a running canary (no data: it holds).
    let dir = tempfile::tempdir().expect("tempdir");
    let flags = flag_file(dir.path(), vec![canary_flag("pay", &[(10.0, "1m"), (50.0, "1m")], "running")]);
    let server = spawn_with(&dir.path().join("data"), &flags, &["--token", TOKEN, "--ingest-token", INGEST, "--controller-interval", "200ms"]).await;
    assert_eq!(server.post_events(INGEST, healthy("pay")).await, 202);
    let deadline = Instant::now() + Duration::from_secs(20);
    let names = loop {
        let text = client().get(server.url("/metrics")).send().await.expect("GET /metrics").text().await.expect("text");
        let names: BTreeSet<String> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| l.split(['{', ' ']).next().unwrap_or_default().to_string())
            .collect();
        if names.contains("edgeflag_canary_no_data") && names.contains("edgeflag_controller_last_tick_timestamp_seconds") {
            break names;
        }
        assert!(Instant::now() < deadline, "the controller never judged: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The leader gauge comes with the store's leader election (one controller across
    // replicas); once that is in, it is checked like every other series.
    let leader_pending = !names.iter().any(|m| m.contains("leader"));
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|n| !names.contains(*n))
        .filter(|n| !(leader_pending && n.as_str() == "edgeflag_controller_leader"))
        .collect();
    assert!(missing.is_empty(), "rules use series no server exposes: {missing:?}");
}

#[test]
fn series_names_are_found_in_expressions_only() {
    let text = "# edgeflag_not_this\n  expr: sum(rate(edgeflag_a_total[5m])) / edgeflag_b\n  - record: x:edgeflag_c:rate1m\n";
    assert_eq!(referenced_series(text).into_iter().collect::<Vec<_>>(), ["edgeflag_a_total", "edgeflag_b"]);
}
