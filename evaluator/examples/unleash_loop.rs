//! The `unleash` bench group's toggles (benches/evaluate.rs) in a plain loop, for profilers and
//! CPU-time comparisons of two builds on a busy machine:
//!
//!   cargo build --release -p edgeflag-evaluator --example unleash_loop
//!   target/release/examples/unleash_loop rules-5 2000000                     # prints ns per call
//!   valgrind --tool=callgrind target/release/examples/unleash_loop rules-5 20000
//!
//! The first argument is a toggle (`static-bool`, `rollout-10`, `rules-5`, `experiment-3`:
//! getVariant for the last); `context` instead times building the context from JSON text.
use std::hint::black_box;
use std::time::Instant;

use edgeflag_evaluator::unleash::{UnleashContext, UnleashSet};
use serde_json::{json, Value};

fn payload() -> Value {
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

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "rules-5".to_owned());
    let n: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let set = UnleashSet::from_json(&payload().to_string()).expect("valid payload");
    let text = r#"{"userId":"user-8172","remoteAddress":"192.168.1.20","properties":{"country":"FR","email":"ana@example.com","app_version":"2.1.0","plan":"free"}}"#;
    let context = UnleashContext::from_json(text, Some(1_764_633_600_000)).expect("valid context");
    let start = Instant::now();
    match which.as_str() {
        "context" => (0..n).for_each(|_| drop(black_box(UnleashContext::from_json(black_box(text), Some(1))))),
        "experiment-3" => (0..n).for_each(|_| drop(black_box(set.get_variant(black_box("experiment-3"), &context)))),
        name => (0..n).for_each(|_| {
            black_box(set.is_enabled(black_box(name), &context));
        }),
    }
    println!("{which}: {:.1} ns per call", start.elapsed().as_nanos() as f64 / f64::from(n));
}
