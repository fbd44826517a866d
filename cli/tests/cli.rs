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

/// `edgeflag export DIR`: the stored bytes, a manifest whose sha256/etag/version match them, a
/// per-version copy; `--version N`; an empty or missing store is an error.
#[test]
fn export_writes_the_published_file_and_its_manifest() {
    use edgeflag_server::{FlagStore, WriteMeta};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let (code, _, stderr) = edgeflag(&["export", &path(&dir.path().join("out")), "--data-dir", &path(&data)]);
    assert_eq!(code, 2, "no store yet: {stderr}");
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).unwrap();
    let store = FlagStore::open(&data, || Ok((example, "import".into()))).unwrap();
    let v1 = store.current();
    let mut file: serde_json::Value = serde_json::from_slice(&v1.body).unwrap();
    file["flags"][0]["description"] = "exported".into();
    let v2 = store.write_text(&file.to_string(), None, WriteMeta { author: "t", message: "" }).unwrap();
    drop(store);

    let out = dir.path().join("out");
    let (code, stdout, stderr) = edgeflag(&["export", &path(&out), "--data-dir", &path(&data)]);
    assert_eq!(code, 0, "{stderr}");
    let manifest: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(manifest, serde_json::from_slice::<serde_json::Value>(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap());
    let body = std::fs::read(out.join("flags.json")).unwrap();
    assert_eq!(body, v2.body.to_vec(), "byte for byte what the server serves");
    assert_eq!(std::fs::read(out.join("versions/2.json")).unwrap(), body);
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(&body).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(manifest["sha256"], sha.as_str());
    assert_eq!(manifest["xxh64"], edgeflag_evaluator::checksum::file_checksum_hex(&body).as_str());
    assert_eq!((manifest["version"].as_u64(), manifest["etag"].as_str()), (Some(2), Some(v2.etag.as_str())));
    assert_eq!((manifest["file"].as_str(), manifest["immutable"].as_str()), (Some("flags.json"), Some("versions/2.json")));
    assert_eq!(manifest["bytes"].as_u64(), Some(body.len() as u64));
    assert!(!std::fs::read_dir(&out).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains(".tmp")), "no temporary files left");

    let (code, stdout, _) = edgeflag(&["export", &path(&out), "--data-dir", &path(&data), "--version", "1"]);
    assert_eq!(code, 0);
    assert!(stdout.contains(&v1.etag.replace('"', "\\\"")), "{stdout}");
    assert_eq!(std::fs::read(out.join("flags.json")).unwrap(), v1.body.to_vec());
    let (code, _, stderr) = edgeflag(&["export", &path(&out), "--data-dir", &path(&data), "--version", "9"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("version 9 does not exist"), "{stderr}");
}
