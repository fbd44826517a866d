//! Cost of the Unleash layer against the native engine, same run, same shape of flag: five
//! targeting groups that do not match (in, ends_with, semver_gte, ip_in_cidr, regex) and a 25 %
//! rollout on the user id. Prints ns per evaluation and the ratio.
//! Run: `cargo run --release -p edgeflag-evaluator --example unleash_vs_native`.

use std::hint::black_box;
use std::time::Instant;

use edgeflag_evaluator::unleash::{UnleashContext, UnleashSet};
use edgeflag_evaluator::{Context, FlagSet};
use serde_json::json;

const ROUNDS: u32 = 2_000_000;

fn main() {
    let clause = |a: &str, op: &str, v: serde_json::Value| json!({"attribute": a, "operator": op, "values": v});
    let native = FlagSet::from_json(
        &json!({"schema_version": 1, "flags": [{
            "key": "f", "kind": "boolean", "enabled": true,
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
        }]})
        .to_string(),
    )
    .expect("valid native flag");
    let constraint = |c: &str, op: &str, v: serde_json::Value| {
        json!({"name": "default", "constraints": [{"contextName": c, "operator": op, "values": v}]})
    };
    let unleash = UnleashSet::from_json(
        &json!({"features": [{"name": "f", "enabled": true, "strategies": [
            constraint("country", "IN", json!(["DE", "AT", "CH"])),
            constraint("email", "STR_ENDS_WITH", json!(["@example.org"])),
            {"name": "default", "constraints": [{"contextName": "app_version", "operator": "SEMVER_GTE", "value": "9.0.0"}]},
            constraint("ip", "IN_CIDR", json!(["10.0.0.0/8"])),
            {"name": "default", "constraints": [{"contextName": "plan", "operator": "REGEX", "value": "^ent(erprise)?$"}]},
            {"name": "flexibleRollout", "parameters": {"rollout": "25", "stickiness": "userId", "groupId": "f"}}
        ]}]})
        .to_string(),
    )
    .expect("valid Unleash payload");
    let native_ctx = Context::new("user-8172")
        .with("userId", "user-8172")
        .with("country", "FR")
        .with("email", "ana@example.com")
        .with("app_version", "2.1.0")
        .with("ip", "192.168.1.20")
        .with("plan", "free");
    let unleash_ctx = UnleashContext::from_value(
        json!({"userId": "user-8172", "properties": {"country": "FR", "email": "ana@example.com",
               "app_version": "2.1.0", "ip": "192.168.1.20", "plan": "free"}}),
        None,
    )
    .expect("valid context");

    let time = |f: &dyn Fn() -> bool| {
        for _ in 0..ROUNDS / 10 {
            black_box(f());
        }
        let start = Instant::now();
        for _ in 0..ROUNDS {
            black_box(f());
        }
        start.elapsed().as_nanos() as f64 / ROUNDS as f64
    };
    let native_ns = time(&|| native.evaluate(black_box("f"), &native_ctx, None).variant == Some("on"));
    let unleash_ns = time(&|| unleash.is_enabled(black_box("f"), &unleash_ctx));
    let variant_ns = time(&|| unleash.get_variant(black_box("f"), &unleash_ctx).enabled);
    println!("native evaluate:     {native_ns:8.1} ns");
    println!("unleash isEnabled:   {unleash_ns:8.1} ns  ({:.2}x native)", unleash_ns / native_ns);
    println!("unleash getVariant:  {variant_ns:8.1} ns  ({:.2}x native)", variant_ns / native_ns);
}
