//! The Unleash toggles and context of the `unleash` bench group (benches/evaluate.rs) and its
//! loops (examples/unleash_loop.rs, examples/unleash_vs_yggdrasil.rs): the JS bench's shapes
//! (bench/peers/workloads.mjs), a default strategy, a 10 % rollout, 5 strategies the user
//! misses then a 25 % rollout, and a 3-variant split.
#![allow(dead_code)]

use edgeflag_evaluator::unleash::{UnleashContext, UnleashSet};
use serde_json::{json, Value};

pub const NAMES: [&str; 4] = ["static-bool", "rollout-10", "rules-5", "experiment-3"];

pub fn payload() -> Value {
    let rollout = |name: &str, percent: u32| json!({"name": "flexibleRollout", "parameters": {"rollout": percent.to_string(), "stickiness": "default", "groupId": name}, "constraints": []});
    let when = |constraint: Value| json!({"name": "default", "parameters": {}, "constraints": [constraint]});
    json!({"version": 2, "features": [
        {"name": "static-bool", "enabled": true, "strategies": [{"name": "default", "parameters": {}, "constraints": []}]},
        {"name": "rollout-10", "enabled": true, "strategies": [rollout("rollout-10", 10)]},
        {"name": "rules-5", "enabled": true, "strategies": [
            when(json!({"contextName": "country", "operator": "IN", "values": ["DE", "AT", "CH"]})),
            when(json!({"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@example.org"]})),
            when(json!({"contextName": "app_version", "operator": "SEMVER_GTE", "value": "9.0.0"})),
            {"name": "remoteAddress", "parameters": {"IPs": "10.0.0.0/8"}, "constraints": []},
            when(json!({"contextName": "plan", "operator": "STR_STARTS_WITH", "values": ["ent"]})),
            rollout("rules-5", 25)
        ]},
        {"name": "experiment-3", "enabled": true, "strategies": [rollout("experiment-3", 100)], "variants": [
            {"name": "a", "weight": 334, "stickiness": "default", "weightType": "variable", "payload": {"type": "string", "value": "A"}},
            {"name": "b", "weight": 333, "stickiness": "default", "weightType": "variable", "payload": {"type": "string", "value": "B"}},
            {"name": "c", "weight": 333, "stickiness": "default", "weightType": "variable", "payload": {"type": "string", "value": "C"}}
        ]}
    ]})
}

const PROPERTIES: [(&str, &str); 4] = [("country", "FR"), ("email", "ana@example.com"), ("app_version", "2.1.0"), ("plan", "free")];

/// The user, as an Unleash context object.
pub fn context() -> Value {
    let properties: serde_json::Map<String, Value> = PROPERTIES.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({"userId": "user-8172", "remoteAddress": "192.168.1.20", "properties": properties})
}

/// The same user for yggdrasil.
pub fn yggdrasil_context() -> unleash_yggdrasil::Context {
    unleash_yggdrasil::Context {
        user_id: Some("user-8172".into()),
        remote_address: Some("192.168.1.20".into()),
        properties: Some(PROPERTIES.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        ..Default::default()
    }
}

/// The same answers first: a bench of two engines that disagree would compare nothing.
pub fn assert_same_answers(
    ours: &UnleashSet,
    our_context: &UnleashContext,
    theirs: &unleash_yggdrasil::EngineState,
    their_context: &unleash_yggdrasil::Context,
) {
    for name in ["static-bool", "rollout-10", "rules-5"] {
        assert_eq!(ours.is_enabled(name, our_context), theirs.is_enabled(name, their_context, &None), "{name}");
    }
    assert_eq!(
        ours.get_variant("experiment-3", our_context).name,
        theirs.get_variant("experiment-3", their_context, &None).name
    );
}
