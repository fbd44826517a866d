//! Evaluation semantics, step by step through the precedence, on small hand-made files.

use edgeflag_evaluator::model::FlagKind;
use edgeflag_evaluator::{Arm, Context, ErrorCode, FlagSet, Reason};
use serde_json::{json, Value};

fn set(flags: Value) -> FlagSet {
    set_with(json!({"schema_version": 1, "flags": flags}))
}

fn set_with(file: Value) -> FlagSet {
    FlagSet::from_json(&file.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn bool_flag(extra: Value) -> Value {
    let mut flag = json!({
        "key": "f", "kind": "boolean", "enabled": true,
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "default_variation": "off"
    });
    if let (Some(target), Value::Object(extra)) = (flag.as_object_mut(), extra) {
        target.extend(extra);
    }
    flag
}

fn user(key: &str) -> Context {
    Context::new(key)
}

#[test]
fn no_targeting_is_static_and_disabled_serves_off() {
    let s = set(json!([bool_flag(json!({"default_variation": "on"}))]));
    let r = s.evaluate("f", &user("u"), None);
    assert_eq!((r.variant, r.reason), (Some("on"), Reason::Static));
    let s = set(json!([bool_flag(json!({"enabled": false, "default_variation": "on"}))]));
    let r = s.evaluate("f", &user("u"), None);
    assert_eq!((r.variant, r.reason, r.value), (Some("off"), Reason::Disabled, Some(&json!(false))));
}

#[test]
fn deny_beats_allow_list_which_beats_rules() {
    let s = set(json!([bool_flag(json!({
        "targets": [{"variation": "on", "keys": ["alice"]}],
        "deny": ["mallory"],
        "rules": [{"clauses": [{"attribute": "plan", "operator": "in", "values": ["pro"]}], "variation": "on"}],
    }))]));
    let mallory = Context::new("mallory").with("plan", "pro");
    assert_eq!(s.evaluate("f", &mallory, None).variant, Some("off"));
    assert_eq!(s.evaluate("f", &mallory, None).reason, Reason::TargetingMatch);
    let alice = s.evaluate("f", &user("alice"), None);
    assert_eq!((alice.variant, alice.reason, alice.rule_index), (Some("on"), Reason::TargetingMatch, None));
    let pro = s.evaluate("f", &Context::new("zed").with("plan", "pro"), None);
    assert_eq!((pro.variant, pro.rule_index), (Some("on"), Some(0)));
    let free = s.evaluate("f", &Context::new("zed").with("plan", "free"), None);
    assert_eq!((free.variant, free.reason), (Some("off"), Reason::Default));
}

#[test]
fn rules_are_ordered_and_all_clauses_must_match() {
    let s = set(json!([{
        "key": "f", "kind": "string", "enabled": true,
        "variations": [{"name": "a", "value": "A"}, {"name": "b", "value": "B"}, {"name": "c", "value": "C"}],
        "off_variation": "a", "default_variation": "a",
        "rules": [
            {"clauses": [{"attribute": "x", "operator": "eq", "values": [1]}, {"attribute": "y", "operator": "eq", "values": [2]}], "variation": "b"},
            {"clauses": [{"attribute": "x", "operator": "eq", "values": [1]}], "variation": "c"}
        ]
    }]));
    let both = Context::new("u").with("x", 1).with("y", 2);
    assert_eq!(s.evaluate("f", &both, None).rule_index, Some(0));
    let only_x = Context::new("u").with("x", 1);
    let r = s.evaluate("f", &only_x, None);
    assert_eq!((r.variant, r.rule_index), (Some("c"), Some(1)));
}

#[test]
fn segments_match_by_inclusion_exclusion_and_rules() {
    let s = set_with(json!({
        "schema_version": 1,
        "segments": [{"key": "beta", "included": ["in"], "excluded": ["out"],
                      "rules": [{"clauses": [{"attribute": "email", "operator": "ends_with", "values": ["@corp.com"]}]}]}],
        "flags": [bool_flag(json!({"rules": [{"clauses": [{"operator": "in_segment", "values": ["beta"]}], "variation": "on"}]}))]
    }));
    assert_eq!(s.evaluate("f", &user("in"), None).variant, Some("on"));
    assert_eq!(s.evaluate("f", &Context::new("out").with("email", "o@corp.com"), None).variant, Some("off"));
    assert_eq!(s.evaluate("f", &Context::new("x").with("email", "x@corp.com"), None).variant, Some("on"));
    assert_eq!(s.evaluate("f", &Context::new("x").with("email", "x@else.com"), None).variant, Some("off"));
}

#[test]
fn prerequisites_gate_the_flag() {
    let s = set(json!([
        bool_flag(json!({"key": "parent", "targets": [{"variation": "on", "keys": ["vip"]}]})),
        bool_flag(json!({"key": "child", "default_variation": "on", "prerequisites": [{"flag": "parent", "variation": "on"}]}))
    ]));
    assert_eq!(s.evaluate("child", &user("vip"), None).variant, Some("on"));
    let r = s.evaluate("child", &user("nobody"), None);
    assert_eq!((r.variant, r.reason), (Some("off"), Reason::PrerequisiteFailed));
}

#[test]
fn environment_overrides_replace_parts() {
    let s = set_with(json!({
        "schema_version": 1, "environments": ["dev", "prod"],
        "flags": [bool_flag(json!({
            "rollout": {"percent_bp": 0, "variation": "on"},
            "environments": {"dev": {"rollout": {"percent_bp": 10000, "variation": "on"}}, "prod": {"enabled": false}}
        }))]
    }));
    assert_eq!(s.evaluate("f", &user("u"), None).variant, Some("off"));
    assert_eq!(s.evaluate("f", &user("u"), Some("dev")).variant, Some("on"));
    assert_eq!(s.evaluate("f", &user("u"), Some("prod")).reason, Reason::Disabled);
    let unknown = s.evaluate("f", &user("u"), Some("qa"));
    assert_eq!((unknown.reason, unknown.error_code, unknown.value), (Reason::Error, Some(ErrorCode::InvalidContext), None));
}

#[test]
fn rollout_uses_the_published_bucket_and_stickiness() {
    let s = set(json!([bool_flag(json!({"rollout": {"percent_bp": 5000, "variation": "on", "stickiness": "account"}}))]));
    for account in ["a1", "a2", "a3", "a4", "a5", "a6"] {
        let expected = edgeflag_evaluator::hashing::bucket("f", account) < 5000;
        let r = s.evaluate("f", &Context::new("whoever").with("account", account), None);
        assert_eq!(r.variant == Some("on"), expected, "account {account}");
        assert_eq!(r.reason, if expected { Reason::Split } else { Reason::Default });
    }
    // Integers are hashed in plain decimal.
    let as_int = s.evaluate("f", &Context::new("u").with("account", 12345), None);
    let as_str = s.evaluate("f", &Context::new("u").with("account", "12345"), None);
    assert_eq!(as_int.variant, as_str.variant);
}

#[test]
fn missing_unit_does_not_match_the_split() {
    let s = set(json!([bool_flag(json!({"rollout": {"percent_bp": 10000, "variation": "on"}}))]));
    let r = s.evaluate("f", &Context::anonymous(), None);
    assert_eq!((r.variant, r.reason, r.error_code), (Some("off"), Reason::Default, Some(ErrorCode::TargetingKeyMissing)));
    let float_unit = set(json!([bool_flag(json!({"rollout": {"percent_bp": 10000, "variation": "on", "stickiness": "n"}}))]));
    let r = float_unit.evaluate("f", &Context::new("u").with("n", 1.5), None);
    assert_eq!(r.error_code, Some(ErrorCode::TargetingKeyMissing));
}

fn canary_flag(status: &str, stage: usize) -> Value {
    bool_flag(json!({"canary": {
        "baseline": "off", "canary": "on", "status": status, "current_stage": stage,
        "stages": [
            {"percent": 1, "min_duration": "1m", "gate": {"max_error_rate": 0.01, "max_p99_ms": 500, "min_samples": 10}},
            {"percent": 50, "min_duration": "1m", "gate": {"max_error_rate": 0.01, "max_p99_ms": 500, "min_samples": 10}}
        ]
    }}))
}

#[test]
fn canary_serves_the_current_stage_and_reports_the_arm() {
    let s = set(json!([canary_flag("running", 1)]));
    let mut canary = 0;
    for i in 0..2000 {
        let r = s.evaluate("f", &user(&format!("user-{i}")), None);
        let in_canary = edgeflag_evaluator::hashing::bucket("f", &format!("user-{i}")) < 5000;
        assert_eq!(r.arm, Some(if in_canary { Arm::Canary } else { Arm::Baseline }));
        assert_eq!(r.variant, Some(if in_canary { "on" } else { "off" }));
        canary += in_canary as usize;
    }
    assert!((900..1100).contains(&canary), "{canary} of 2000 in a 50 % stage");
    let rolled_back = set(json!([canary_flag("rolled_back", 1)]));
    let completed = set(json!([canary_flag("completed", 0)]));
    for i in 0..200 {
        let u = user(&format!("user-{i}"));
        assert_eq!(rolled_back.evaluate("f", &u, None).arm, Some(Arm::Baseline));
        assert_eq!(completed.evaluate("f", &u, None).variant, Some("on"));
    }
}

#[test]
fn canary_stages_keep_earlier_users() {
    let early = set(json!([canary_flag("running", 0)]));
    let later = set(json!([canary_flag("running", 1)]));
    for i in 0..5000 {
        let u = user(&format!("u{i}"));
        if early.evaluate("f", &u, None).arm == Some(Arm::Canary) {
            assert_eq!(later.evaluate("f", &u, None).arm, Some(Arm::Canary), "u{i} left the canary");
        }
    }
}

#[test]
fn experiment_splits_by_weight_independently_of_enrolment() {
    let flag = |traffic: u32| {
        set(json!([{
            "key": "exp", "kind": "string", "enabled": true,
            "variations": [{"name": "control", "value": "c"}, {"name": "treatment", "value": "t"}],
            "off_variation": "control", "default_variation": "control",
            "experiment": {"variants": [{"variation": "control", "weight_bp": 5000}, {"variation": "treatment", "weight_bp": 5000}], "traffic_bp": traffic}
        }]))
    };
    let (small, full) = (flag(2000), flag(10000));
    for i in 0..3000 {
        let u = user(&format!("u{i}"));
        let (a, b) = (small.evaluate("exp", &u, None), full.evaluate("exp", &u, None));
        assert!(b.experiment);
        if a.experiment {
            // Raising traffic never reshuffles an enrolled unit's variant.
            assert_eq!(a.variant, b.variant, "u{i}");
        } else {
            assert_eq!((a.variant, a.reason), (Some("control"), Reason::Default));
        }
    }
}

#[test]
fn errors_for_unknown_flags_and_wrong_types() {
    let s = set(json!([bool_flag(json!({}))]));
    let asked = String::from("nope");
    let r = s.evaluate(&asked, &user("u"), None);
    assert_eq!((r.key, r.reason, r.error_code, r.value), ("nope", Reason::Error, Some(ErrorCode::FlagNotFound), None));
    let r = s.evaluate_as("f", FlagKind::String, &user("u"), None);
    assert_eq!(r.error_code, Some(ErrorCode::TypeMismatch));
    assert_eq!(s.evaluate_as("f", FlagKind::Boolean, &user("u"), None).error_code, None);
}

#[test]
fn example_file_answers_the_seed_scenarios() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).unwrap();
    let s = FlagSet::from_json(&text).unwrap_or_else(|e| panic!("{e}"));
    let u = user("user-1234");
    assert_eq!(s.evaluate("new-dashboard", &u, Some("dev")).value, Some(&json!(true)));
    assert_eq!(s.evaluate("new-dashboard", &u, Some("prod")).value, Some(&json!(false)));
    assert_eq!(s.evaluate("recommendations", &u, Some("prod")).reason, Reason::Disabled);
    assert_eq!(s.evaluate("recommendations", &u, Some("dev")).value, Some(&json!(true)));
    let staging_on = (0..4000)
        .filter(|i| s.evaluate("new-dashboard", &user(&format!("s{i}")), Some("staging")).value == Some(&json!(true)))
        .count();
    assert!((1800..2200).contains(&staging_on), "staging 50 %: {staging_on} of 4000");
    let enterprise = Context::new("acme").with("plan", "enterprise").with("seats", 80);
    assert_eq!(s.evaluate("error-rate-threshold", &enterprise, None).value, Some(&json!(0.01)));
    assert_eq!(s.evaluate("payment-processor", &u, Some("dev")).arm, Some(Arm::Canary));
    assert_eq!(s.evaluate_all(&u, Some("prod")).len(), 7);
}

#[test]
fn flag_kinds_parse_as_they_are_written() {
    use std::str::FromStr;
    for (i, kind) in FlagKind::ALL.into_iter().enumerate() {
        assert_eq!(FlagKind::parse(kind.as_str()), Some(kind));
        assert_eq!(FlagKind::from_str(kind.as_str()), Ok(kind));
        assert_eq!(kind as usize, i, "ALL is in declaration order: the WASM wire sends `kind as u32`");
        assert_eq!(serde_json::to_value(kind).ok(), Some(json!(kind.as_str())), "serde writes the same name");
    }
    assert_eq!(FlagKind::ALL.map(FlagKind::as_str), ["boolean", "string", "number", "json"]);
    for bad in ["", "Boolean", "bool", "object", " json"] {
        assert_eq!(FlagKind::parse(bad), None, "{bad:?}");
        let err = FlagKind::from_str(bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&format!("{bad:?}")), "{err}");
    }
}
