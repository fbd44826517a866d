//! A corpus of invalid flag files: each must be rejected, naming the expected paths.

use edgeflag_evaluator::FlagSet;
use serde_json::{json, Value};

fn flag(extra: Value) -> Value {
    let mut f = json!({
        "key": "f", "kind": "boolean", "enabled": true,
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "default_variation": "off"
    });
    if let (Some(target), Value::Object(extra)) = (f.as_object_mut(), extra) {
        target.extend(extra);
    }
    f
}

fn file(flags: Value) -> String {
    json!({"schema_version": 1, "flags": flags}).to_string()
}

fn clause_flag(clause: Value) -> String {
    file(json!([flag(json!({"rules": [{"clauses": [clause], "variation": "on"}]}))]))
}

/// (name, file text, [(path, message fragment)])
type Case = (&'static str, String, Vec<(&'static str, &'static str)>);

fn corpus() -> Vec<Case> {
    let stage = |p: f64| json!({"percent": p, "min_duration": "1m", "gate": {"max_error_rate": 0.01, "max_p99_ms": 500, "min_samples": 1}});
    vec![
        ("syntax", "{\"schema_version\": 1, \"flags\": [".into(), vec![("flags", "invalid JSON")]),
        ("not an object", "[]".into(), vec![("", "must be a JSON object, got array")]),
        ("schema version", json!({"schema_version": 2, "flags": []}).to_string(), vec![("schema_version", "unsupported")]),
        ("unknown top field", json!({"schema_version": 1, "flags": [], "flgas": []}).to_string(), vec![("flgas", "unknown field")]),
        ("unknown nested field", file(json!([flag(json!({"rollout": {"percent_bp": 1, "variation": "on", "percent": 2}}))])), vec![("flags[0].rollout.percent", "unknown field")]),
        ("duplicate flag key", file(json!([flag(json!({})), flag(json!({}))])), vec![("flags[1].key", "duplicate key")]),
        ("empty key", file(json!([flag(json!({"key": ""}))])), vec![("flags[0].key", "empty")]),
        ("wrong kind value", file(json!([flag(json!({"kind": "string"}))])), vec![("flags[0].variations[0].value", "string values"), ("flags[0].variations[1].value", "string values")]),
        ("duplicate variation", file(json!([flag(json!({"variations": [{"name": "on", "value": true}, {"name": "on", "value": false}], "off_variation": "on", "default_variation": "on"}))])), vec![("flags[0].variations[1].name", "duplicate variation")]),
        ("unknown variation", file(json!([flag(json!({"default_variation": "maybe"}))])), vec![("flags[0].default_variation", "unknown variation \"maybe\"")]),
        ("unknown operator", clause_flag(json!({"attribute": "a", "operator": "like", "values": ["x"]})), vec![("flags[0].rules[0].clauses[0].operator", "unknown variant")]),
        ("bad regex", clause_flag(json!({"attribute": "a", "operator": "regex", "values": ["ok", "(unclosed"]})), vec![("flags[0].rules[0].clauses[0].values[1]", "invalid regex")]),
        ("bad semver", clause_flag(json!({"attribute": "a", "operator": "semver_gt", "values": ["1.2"]})), vec![("flags[0].rules[0].clauses[0].values[0]", "invalid semver")]),
        ("bad cidr", clause_flag(json!({"attribute": "a", "operator": "ip_in_cidr", "values": ["10.0.0.0/33"]})), vec![("flags[0].rules[0].clauses[0].values[0]", "invalid CIDR")]),
        ("bad date", clause_flag(json!({"attribute": "a", "operator": "date_after", "values": ["yesterday"]})), vec![("flags[0].rules[0].clauses[0].values[0]", "RFC 3339")]),
        ("number operator with string", clause_flag(json!({"attribute": "a", "operator": "num_lt", "values": ["ten"]})), vec![("flags[0].rules[0].clauses[0].values[0]", "needs a number")]),
        ("no attribute", clause_flag(json!({"operator": "in", "values": ["x"]})), vec![("flags[0].rules[0].clauses[0].attribute", "needs an attribute")]),
        ("no values", clause_flag(json!({"attribute": "a", "operator": "in", "values": []})), vec![("flags[0].rules[0].clauses[0].values", "at least one")]),
        ("unknown segment", clause_flag(json!({"operator": "in_segment", "values": ["ghosts"]})), vec![("flags[0].rules[0].clauses[0].values[0]", "unknown segment")]),
        ("rollout over 100 %", file(json!([flag(json!({"rollout": {"percent_bp": 10001, "variation": "on"}}))])), vec![("flags[0].rollout.percent_bp", "0..=10000")]),
        ("weights", file(json!([flag(json!({"experiment": {"variants": [{"variation": "on", "weight_bp": 5000}, {"variation": "off", "weight_bp": 4000}]}}))])), vec![("flags[0].experiment.variants", "sum to 10000")]),
        ("two splits", file(json!([flag(json!({"rollout": {"percent_bp": 1, "variation": "on"}, "experiment": {"variants": [{"variation": "on", "weight_bp": 10000}]}}))])), vec![("flags[0]", "only one of")]),
        ("stages not increasing", file(json!([flag(json!({"canary": {"baseline": "off", "canary": "on", "stages": [stage(10.0), stage(5.0)]}}))])), vec![("flags[0].canary.stages[1].percent", "must increase")]),
        ("stage percent precision", file(json!([flag(json!({"canary": {"baseline": "off", "canary": "on", "stages": [stage(0.001)]}}))])), vec![("flags[0].canary.stages[0].percent", "two decimals")]),
        ("stage out of range", file(json!([flag(json!({"canary": {"baseline": "off", "canary": "on", "current_stage": 3, "stages": [stage(50.0)]}}))])), vec![("flags[0].canary.current_stage", "out of range")]),
        ("bad duration", file(json!([flag(json!({"canary": {"baseline": "off", "canary": "on", "stages": [{"percent": 1, "min_duration": "soon", "gate": {"max_error_rate": 2, "max_p99_ms": 0, "min_samples": 1}}]}}))])),
            vec![("flags[0].canary.stages[0].min_duration", "invalid duration"), ("flags[0].canary.stages[0].gate.max_error_rate", "fraction"), ("flags[0].canary.stages[0].gate.max_p99_ms", "positive")]),
        ("same canary and baseline", file(json!([flag(json!({"canary": {"baseline": "on", "canary": "on", "stages": [stage(1.0)]}}))])), vec![("flags[0].canary.canary", "different")]),
        ("unknown prerequisite", file(json!([flag(json!({"prerequisites": [{"flag": "ghost", "variation": "on"}]}))])), vec![("flags[0].prerequisites[0].flag", "unknown flag")]),
        ("prerequisite cycle", file(json!([
            flag(json!({"key": "a", "prerequisites": [{"flag": "b", "variation": "on"}]})),
            flag(json!({"key": "b", "prerequisites": [{"flag": "a", "variation": "on"}]}))
        ])), vec![("prerequisites", "prerequisite cycle")]),
        ("allow and deny", file(json!([flag(json!({"targets": [{"variation": "on", "keys": ["x"]}], "deny": ["x"]}))])), vec![("flags[0].targets[0].keys[0]", "deny list")]),
        ("undeclared environment", json!({"schema_version": 1, "environments": ["prod"], "flags": [flag(json!({"environments": {"prdo": {"enabled": false}}}))]}).to_string(), vec![("flags[0].environments.prdo", "not declared")]),
        ("bad override", file(json!([flag(json!({"environments": {"dev": {"rollout": {"percent_bp": 1, "variation": "nope"}}}}))])), vec![("flags[0].environments.dev.rollout.variation", "unknown variation")]),
    ]
}

/// The corpus as fuzz seeds (`fuzz/seeds/flag_file/invalid-*.json`, committed):
/// `EDGEFLAG_WRITE_FUZZ_SEEDS=1 cargo test -p edgeflag-evaluator --test invalid_corpus`.
fn write_fuzz_seeds(cases: &[Case]) {
    if std::env::var_os("EDGEFLAG_WRITE_FUZZ_SEEDS").is_none() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/flag_file");
    std::fs::create_dir_all(&dir).expect("create fuzz/seeds/flag_file");
    for (name, text, _) in cases {
        let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let file = format!("invalid-{slug}.json");
        std::fs::write(dir.join(file), text).expect("write a fuzz seed");
    }
}

#[test]
fn every_invalid_file_is_rejected_with_the_expected_paths() {
    let mut failures = Vec::new();
    let cases = corpus();
    write_fuzz_seeds(&cases);
    for (name, text, expected) in cases {
        match FlagSet::from_json(&text) {
            Ok(_) => failures.push(format!("{name}: accepted")),
            Err(errors) => {
                for (path, fragment) in expected {
                    let found = errors.problems.iter().any(|p| {
                        (p.path == path || (path == "prerequisites" && p.path.ends_with(".prerequisites")))
                            && p.message.contains(fragment)
                    });
                    if !found {
                        failures.push(format!("{name}: no problem at {path:?} containing {fragment:?}; got:\n{errors}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn deep_prerequisite_chains_are_rejected_in_any_order() {
    let chain = |reversed: bool| {
        let mut flags: Vec<Value> = (0..40)
            .map(|i| {
                let prerequisites = if i == 0 { json!([]) } else { json!([{"flag": format!("f{}", i - 1), "variation": "on"}]) };
                flag(json!({"key": format!("f{i}"), "prerequisites": prerequisites}))
            })
            .collect();
        if reversed {
            flags.reverse();
        }
        FlagSet::from_json(&file(Value::Array(flags)))
    };
    for reversed in [false, true] {
        let errors = chain(reversed).expect_err("a 40-deep chain must be rejected");
        assert!(errors.problems.iter().any(|p| p.message.contains("deeper than")), "{errors}");
    }
}

#[test]
fn all_problems_of_many_flags_are_reported_together() {
    let flags: Vec<Value> = (0..5).map(|i| flag(json!({"key": format!("f{i}"), "default_variation": "nope"}))).collect();
    let errors = FlagSet::from_json(&file(Value::Array(flags))).unwrap_err();
    assert_eq!(errors.problems.len(), 5, "{errors}");
}

#[test]
fn hostile_inputs_are_errors_not_panics() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(FlagSet::from_json(&deep).is_err());
    let many: Vec<Value> = (0..5000).map(|i| flag(json!({"key": format!("f{i}"), "off_variation": "x"}))).collect();
    let errors = FlagSet::from_json(&file(Value::Array(many))).unwrap_err();
    assert_eq!(errors.problems.len(), edgeflag_evaluator::problems::MAX_PROBLEMS);
    assert_eq!(errors.omitted, 4000);
    for junk in ["", "null", "\"x\"", "{\"schema_version\": -1, \"flags\": []}", "{\"schema_version\": 1, \"flags\": [1, \"x\", null]}"] {
        assert!(FlagSet::from_json(junk).is_err(), "{junk:?} accepted");
    }
}

#[test]
fn key_problems_come_out_in_file_order() {
    let keys = ["a", "a", "", "b", "b", "a"];
    let flags: Vec<Value> = keys.iter().map(|k| flag(json!({"key": k}))).collect();
    let errors = FlagSet::from_json(&file(Value::Array(flags))).unwrap_err();
    let listed: Vec<(&str, &str)> = errors.problems.iter().map(|p| (p.path.as_str(), p.message.as_str())).collect();
    assert_eq!(
        listed,
        [
            ("flags[1].key", "duplicate key \"a\" (first used at flags[0])"),
            ("flags[2].key", "key is empty"),
            ("flags[4].key", "duplicate key \"b\" (first used at flags[3])"),
            ("flags[5].key", "duplicate key \"a\" (first used at flags[0])"),
        ]
    );
}
