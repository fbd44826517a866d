//! The rollout flag behind 5 missed rules (the `evaluate` bench's first case) in a plain loop,
//! for profilers and CPU-time comparisons of two builds on a busy machine, where criterion's
//! wall-clock figures move with the load:
//!
//!   cargo build --release -p edgeflag-evaluator --example hot_loop
//!   /usr/bin/time -f %U target/release/examples/hot_loop 2000000        # CPU seconds
//!   valgrind --tool=callgrind target/release/examples/hot_loop 20000     # instructions
use edgeflag_evaluator::{Context, FlagSet};
use serde_json::json;
use std::hint::black_box;
fn main() {
    let clause = |attr: &str, op: &str, values: serde_json::Value| json!({"attribute": attr, "operator": op, "values": values});
    let flag = json!({
        "key": "rollout", "kind": "boolean", "enabled": true,
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "default_variation": "off",
        "rules": [
            {"clauses": [clause("country", "in", json!(["DE", "AT", "CH"]))], "variation": "on"},
            {"clauses": [clause("email", "ends_with", json!(["@example.org"]))], "variation": "on"},
            {"clauses": [clause("app_version", "semver_gte", json!(["9.0.0"]))], "variation": "on"},
            {"clauses": [clause("ip", "ip_in_cidr", json!(["10.0.0.0/8"]))], "variation": "on"},
            {"clauses": [clause("plan", "regex", json!(["^ent(erprise)?$"]))], "variation": "on"}
        ],
        "rollout": {"percent_bp": 2500, "variation": "on"}
    });
    let set = FlagSet::from_json(&json!({"schema_version": 1, "flags": [flag]}).to_string()).unwrap();
    let ctx = Context::new("user-8172").with("country", "FR").with("email", "ana@example.com")
        .with("app_version", "2.1.0").with("ip", "192.168.1.20").with("plan", "free");
    let n: usize = std::env::args().nth(1).map(|a| a.parse().unwrap()).unwrap_or(100000);
    for _ in 0..n { black_box(set.evaluate(black_box("rollout"), &ctx, None)); }
}
