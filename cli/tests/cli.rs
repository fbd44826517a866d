//! The `edgeflag` binary as a user runs it.

use std::process::Command;

fn edgeflag(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_edgeflag"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("edgeflag runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn validate_accepts_the_example_file() {
    let (code, stdout, _) = edgeflag(&["validate", "examples/flags.json"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("ok (7 flags)"), "{stdout}");
}

#[test]
fn validate_prints_every_problem_and_fails() {
    let dir = std::env::temp_dir().join(format!("edgeflag-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.json");
    std::fs::write(
        &file,
        r#"{"schema_version": 1, "flags": [
          {"key": "a", "kind": "boolean", "enabled": true, "off_variation": "nope",
           "default_variation": "on", "variations": [{"name": "on", "value": 1}]},
          {"key": "a", "kind": "boolean", "enabled": true, "off_variation": "on",
           "default_variation": "on", "variations": [{"name": "on", "value": true}]}
        ]}"#,
    )
    .unwrap();
    let (code, _, stderr) = edgeflag(&["validate", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    for expected in ["flags[1].key: duplicate key", "flags[0].variations[0].value", "flags[0].off_variation: unknown variation"] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
}

#[test]
fn validate_warns_about_keys_that_need_encoding_in_urls_and_still_passes() {
    let dir = std::env::temp_dir().join(format!("edgeflag-cli-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keys.json");
    let flag = |key: &str| {
        format!(
            r#"{{"key": {key:?}, "kind": "boolean", "enabled": true, "off_variation": "on", "default_variation": "on", "variations": [{{"name": "on", "value": true}}]}}"#
        )
    };
    let flags = ["plain-key", "team/new checkout", "50%-off"].map(flag).join(",");
    std::fs::write(&file, format!(r#"{{"schema_version": 1, "flags": [{flags}]}}"#)).unwrap();
    let (code, stdout, stderr) = edgeflag(&["validate", file.to_str().unwrap()]);
    assert_eq!(code, 0, "a warning is not an error: {stderr}");
    assert!(stdout.contains("ok (3 flags)"), "{stdout}");
    assert!(stderr.contains("warning: flags[1].key: key \"team/new checkout\" needs percent-encoding"), "{stderr}");
    assert!(stderr.contains("warning: flags[2].key") && stderr.contains("OFREP providers"), "{stderr}");
    assert!(!stderr.contains("flags[0]"), "{stderr}");
    let (_, _, clean) = edgeflag(&["validate", "examples/flags.json"]);
    assert!(!clean.contains("warning"), "{clean}");
}

#[test]
fn eval_prints_value_variant_and_reason() {
    let (code, stdout, stderr) = edgeflag(&[
        "eval", "examples/flags.json", "--flag", "new-dashboard", "--env", "dev",
        "--context", r#"{"targetingKey": "user-1"}"#,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result["value"], true);
    assert_eq!(result["variant"], "on");
    assert_eq!(result["reason"], "SPLIT");
}

#[test]
fn eval_all_lists_every_flag_and_bad_context_is_a_usage_error() {
    let (code, stdout, _) = edgeflag(&["eval", "examples/flags.json", "--all", "--context", r#"{"targetingKey":"u"}"#]);
    assert_eq!(code, 0);
    let results: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(results.len(), 7);
    let (code, _, stderr) = edgeflag(&["eval", "examples/flags.json", "--all", "--context", "[1]"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("must be a JSON object"), "{stderr}");
}

#[test]
fn bucket_follows_the_published_spec() {
    let (code, stdout, _) = edgeflag(&["bucket", "new-dashboard", "José"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/bucketing-vectors.json")).unwrap()).unwrap();
    let row = vectors["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["salt"] == "new-dashboard" && r["unit"] == "José")
        .expect("vector for new-dashboard/José");
    assert_eq!(v["hash"], row["hash"]);
    assert_eq!(v["bucket"], row["bucket"]);
}

#[test]
fn committed_schema_matches_the_model() {
    let (code, stdout, _) = edgeflag(&["schema"]);
    assert_eq!(code, 0);
    let generated: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/flags.schema.json")).unwrap(),
    )
    .unwrap();
    assert!(
        generated == committed,
        "schema/flags.schema.json is stale: run `cargo run -p edgeflag-cli -- schema > schema/flags.schema.json`"
    );
}
