//! `FlagSet::reads`: what a flag reads from a context. The WASM glue copies only those fields,
//! so the invariant that matters is: a context cut down to a flag's reads gets the same
//! answer as the whole context, for every flag and environment.

use edgeflag_evaluator::{Context, FlagSet};
use proptest::prelude::*;
use serde_json::{json, Value};

fn file() -> FlagSet {
    let on_off = json!([{"name": "on", "value": true}, {"name": "off", "value": false}]);
    let clause = |attr: &str, op: &str, values: Value| json!({"attribute": attr, "operator": op, "values": values});
    FlagSet::from_json(&json!({
        "schema_version": 1,
        "environments": ["dev", "prod"],
        "segments": [
            {"key": "staff", "included": ["u1"], "rules": [{"clauses": [clause("email", "ends_with", json!(["@corp.example"]))]}]},
            {"key": "plain", "rules": [{"clauses": [clause("tier", "in", json!(["gold"]))]}]}
        ],
        "flags": [
            {"key": "static", "kind": "boolean", "enabled": true, "variations": on_off, "off_variation": "off", "default_variation": "on"},
            {"key": "by-country", "kind": "boolean", "enabled": true, "variations": on_off, "off_variation": "off", "default_variation": "off",
             "rules": [{"clauses": [clause("country", "in", json!(["FR", "DE"]))], "variation": "on"}]},
            {"key": "plain-segment", "kind": "boolean", "enabled": true, "variations": on_off, "off_variation": "off", "default_variation": "off",
             "rules": [{"clauses": [{"operator": "in_segment", "values": ["plain"]}], "variation": "on"}]},
            {"key": "staff-rollout", "kind": "boolean", "enabled": true, "variations": on_off, "off_variation": "off", "default_variation": "off",
             "rules": [{"clauses": [{"operator": "in_segment", "values": ["staff"]}], "variation": "on"}],
             "environments": {"prod": {"rollout": {"percent_bp": 5000, "variation": "on", "stickiness": "org"}}}},
            {"key": "child", "kind": "boolean", "enabled": true, "variations": on_off, "off_variation": "off", "default_variation": "on",
             "prerequisites": [{"flag": "by-country", "variation": "on"}, {"flag": "staff-rollout", "variation": "on"}],
             "rules": [{"clauses": [clause("app", "semver_gte", json!(["2.0.0"]))], "variation": "off"}]}
        ]
    }).to_string()).expect("valid file")
}

fn names(set: &FlagSet, key: &str) -> (bool, Vec<String>) {
    let reads = set.reads(set.flag_index(key).unwrap()).unwrap();
    let mut names: Vec<String> = reads.attributes.iter().map(|&id| set.attribute_name(id).unwrap().to_owned()).collect();
    names.sort();
    (reads.targeting_key, names)
}

#[test]
fn reads_follow_segments_environments_and_prerequisites() {
    let set = file();
    assert_eq!(names(&set, "static"), (false, vec![]));
    assert_eq!(names(&set, "by-country"), (false, vec!["country".into()]));
    assert_eq!(names(&set, "plain-segment"), (false, vec!["tier".into()]));
    // The segment's included list needs the key; prod's rollout reads "org" (its stickiness).
    assert_eq!(names(&set, "staff-rollout"), (true, vec!["email".into(), "org".into()]));
    assert_eq!(names(&set, "child"), (true, vec!["app".into(), "country".into(), "email".into(), "org".into()]));
}

proptest! {
    #[test]
    fn a_context_cut_to_the_reads_gets_the_same_answers(
        key in prop::option::of("u[0-9]"),
        country in prop::option::of(prop_oneof![Just("FR"), Just("US")]),
        email in prop::option::of(prop_oneof![Just("a@corp.example"), Just("b@else.example")]),
        org in prop::option::of(prop_oneof![Just(json!("acme")), Just(json!(42)), Just(json!(1.5))]),
        app in prop::option::of(prop_oneof![Just("1.0.0"), Just("2.1.0")]),
        tier in prop::option::of(prop_oneof![Just("gold"), Just("tin")]),
        noise in prop::option::of("[a-z]{1,8}"),
    ) {
        let set = file();
        let mut full = Context::anonymous();
        if let Some(k) = &key { full.set("targetingKey", k.as_str()); }
        let mut attrs: Vec<(&str, Value)> = Vec::new();
        if let Some(v) = country { attrs.push(("country", json!(v))); }
        if let Some(v) = email { attrs.push(("email", json!(v))); }
        if let Some(v) = org { attrs.push(("org", v)); }
        if let Some(v) = app { attrs.push(("app", json!(v))); }
        if let Some(v) = tier { attrs.push(("tier", json!(v))); }
        if let Some(v) = noise { attrs.push(("noise", json!(v))); }
        for (name, value) in &attrs { full.set(*name, value.clone()); }
        for flag in set.flag_keys() {
            let (reads_key, reads) = names(&set, flag);
            let mut cut = Context::anonymous();
            if reads_key { if let Some(k) = &key { cut.set("targetingKey", k.as_str()); } }
            for (name, value) in &attrs {
                if reads.iter().any(|r| r == name) { cut.set(*name, value.clone()); }
            }
            for env in [None, Some("dev"), Some("prod")] {
                prop_assert_eq!(set.evaluate(flag, &cut, env), set.evaluate(flag, &full, env), "{} in {:?}", flag, env);
            }
        }
    }
}
