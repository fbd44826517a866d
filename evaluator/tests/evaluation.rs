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

/// `Flag::split` (the model's one statement of which split is in force in an environment)
/// against what the engine evaluates there, for each kind of override: the engine is the truth.
#[test]
fn the_split_in_force_is_the_one_the_engine_evaluates() {
    let stage = json!([{"percent": 100, "min_duration": "1m", "gate": {"max_error_rate": 0.1, "max_p99_ms": 1000, "min_samples": 10}}]);
    let flag = bool_flag(json!({
        // The flag's own split: everyone on the canary arm, served "on".
        "canary": {"baseline": "off", "canary": "on", "stages": stage},
        "environments": {
            "only-enabled": {"enabled": true},
            "targeting": {"default_variation": "on", "deny": ["nobody"]},
            "rollout": {"rollout": {"percent_bp": 10000, "variation": "off"}},
            "experiment": {"experiment": {"variants": [{"variation": "off", "weight_bp": 10000}]}},
            "canary": {"canary": {"baseline": "on", "canary": "off", "stages": stage}},
        }
    }));
    let declared = ["only-enabled", "targeting", "rollout", "experiment", "canary", "no-override"];
    let s = set_with(json!({"schema_version": 1, "environments": declared, "flags": [flag.clone()]}));
    let model = &s.file().flags[0];
    let what = |env: Option<&str>| {
        let split = model.split(env);
        (split.owner, split.rollout.is_some(), split.canary.map(|c| c.canary.as_str()), split.experiment.is_some())
    };
    // (owner, a rollout, the canary's variation, an experiment)
    let base = (None, false, Some("on"), false);
    assert_eq!(what(None), base);
    assert_eq!(what(Some("only-enabled")), base, "an override of `enabled` only keeps the flag's split");
    assert_eq!(what(Some("targeting")), base, "targeting overrides keep the flag's split");
    assert_eq!(what(Some("no-override")), base);
    assert_eq!(what(Some("rollout")), (Some("rollout"), true, None, false), "a rollout there: no canary");
    assert_eq!(what(Some("experiment")), (Some("experiment"), false, None, true));
    assert_eq!(what(Some("canary")), (Some("canary"), false, Some("off"), false));
    // An undeclared name has no override: the flag's split (the engine refuses to evaluate
    // there, below; the model cannot know which names the file declares).
    assert_eq!(what(Some("qa")), base);

    for env in [None].into_iter().chain(declared.map(Some)) {
        let split = model.split(env);
        let r = s.evaluate("f", &user("u"), env);
        assert_eq!(r.error_code, None, "{env:?}");
        assert_eq!(r.arm, split.canary.map(|_| Arm::Canary), "{env:?}: the canary arm iff a canary is in force");
        assert_eq!(r.experiment, split.experiment.is_some(), "{env:?}");
        assert_eq!(r.reason, Reason::Split, "{env:?}: every place here has a split serving everyone");
        let served = split.canary.map(|c| c.canary.as_str()).or(split.rollout.map(|r| r.variation.as_str()));
        let served = served.or(split.experiment.map(|e| e.variants[0].variation.as_str()));
        assert_eq!(r.variant, served, "{env:?}");
    }
    let qa = s.evaluate("f", &user("u"), Some("qa"));
    assert_eq!(qa.error_code, Some(ErrorCode::InvalidContext));
    // Without declared environments any name evaluates, with the split `Flag::split` names.
    let open = set_with(json!({"schema_version": 1, "flags": [flag]}));
    let r = open.evaluate("f", &user("u"), Some("qa"));
    assert_eq!((r.arm, r.variant), (Some(Arm::Canary), Some("on")));
    assert_eq!(open.file().flags[0].split(Some("qa")).owner, None);
}

/// `Flag::split_mut` changes the split where `Flag::split` finds it.
#[test]
fn the_mutable_split_is_the_one_in_force() {
    let stage = json!([{"percent": 10, "min_duration": "1m", "gate": {"max_error_rate": 0.1, "max_p99_ms": 1000, "min_samples": 10}}]);
    let s = set(json!([bool_flag(json!({
        "canary": {"baseline": "off", "canary": "on", "stages": stage},
        "environments": {
            "dev": {"canary": {"baseline": "off", "canary": "on", "stages": stage}},
            "prod": {"enabled": true},
            "staging": {"rollout": {"percent_bp": 10, "variation": "on"}},
        }
    }))]));
    let mut flag = s.into_file().flags.remove(0);
    let stage_of = |f: &edgeflag_evaluator::model::Flag, env| f.split(Some(env)).canary.map(|c| c.current_stage);
    for (env, stage) in [("dev", 7), ("prod", 8)] {
        if let Some(c) = flag.split_mut(Some(env)).canary.as_mut() {
            c.current_stage = stage;
        }
        assert_eq!(stage_of(&flag, env), Some(stage), "{env}");
    }
    assert_eq!(flag.environments["dev"].canary.as_ref().map(|c| c.current_stage), Some(7));
    assert_eq!(flag.canary.as_ref().map(|c| c.current_stage), Some(8), "prod keeps the flag's split: its canary changed");
    // Clearing the rollout an override puts in force clears it there: the flag's split is back.
    *flag.split_mut(Some("staging")).rollout = None;
    assert_eq!(flag.split(Some("staging")).owner, None, "an override without a split falls back to the flag's");
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
