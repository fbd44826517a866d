//! Evaluation speed: a rollout flag behind 5 rules, an experiment flag, and `evaluate_all`
//! over 100 flags; then the group `unleash`: the same Unleash toggles through edgeflag's
//! Unleash entry and through `unleash-yggdrasil` (the engine the Unleash SDKs share), in the
//! same run. Run: `cargo bench -p edgeflag-evaluator --bench evaluate` (one group:
//! `-- unleash`).

use criterion::{criterion_group, criterion_main, Criterion};
use edgeflag_evaluator::{Context, FlagSet};
use serde_json::{json, Value};
use std::hint::black_box;

fn rollout_flag(key: &str) -> Value {
    let clause = |attr: &str, op: &str, values: Value| json!({"attribute": attr, "operator": op, "values": values});
    json!({
        "key": key, "kind": "boolean", "enabled": true,
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
    })
}

fn experiment_flag(key: &str) -> Value {
    json!({
        "key": key, "kind": "string", "enabled": true,
        "variations": [{"name": "a", "value": "A"}, {"name": "b", "value": "B"}, {"name": "c", "value": "C"}],
        "off_variation": "a", "default_variation": "a",
        "experiment": {"variants": [{"variation": "a", "weight_bp": 3334}, {"variation": "b", "weight_bp": 3333}, {"variation": "c", "weight_bp": 3333}]}
    })
}

fn bench(c: &mut Criterion) {
    let mut flags = vec![rollout_flag("rollout"), experiment_flag("experiment")];
    for i in 0..98 {
        flags.push(if i % 2 == 0 { rollout_flag(&format!("r{i}")) } else { experiment_flag(&format!("e{i}")) });
    }
    let set = FlagSet::from_json(&json!({"schema_version": 1, "flags": flags}).to_string()).expect("valid bench file");
    // Matches no rule, so all five are tested before the rollout decides.
    let ctx = Context::new("user-8172")
        .with("country", "FR")
        .with("email", "ana@example.com")
        .with("app_version", "2.1.0")
        .with("ip", "192.168.1.20")
        .with("plan", "free");
    c.bench_function("rollout flag, 5 rules not matching", |b| b.iter(|| black_box(set.evaluate(black_box("rollout"), &ctx, None))));
    c.bench_function("experiment flag", |b| b.iter(|| black_box(set.evaluate(black_box("experiment"), &ctx, None))));
    c.bench_function("evaluate_all, 100 flags", |b| b.iter(|| black_box(set.evaluate_all(&ctx, None))));
    let text = r#"{"targetingKey":"user-8172","country":"FR","email":"ana@example.com","app_version":"2.1.0","ip":"192.168.1.20","plan":"free"}"#;
    // The peer: serde_json reading the same context into a Value (no engine code involved).
    c.bench_function("peer: serde_json parse of the context", |b| {
        b.iter(|| black_box(serde_json::from_str::<Value>(black_box(text))))
    });
    // The engine's own reader (document.rs), which edges use through WASM.
    c.bench_function("Context::from_json", |b| b.iter(|| black_box(Context::from_json(black_box(text)))));
}

#[path = "support/unleash_toggles.rs"]
mod unleash_toggles;

fn unleash(c: &mut Criterion) {
    use edgeflag_evaluator::unleash::{UnleashContext, UnleashSet};
    let payload = unleash_toggles::payload();
    let ours = UnleashSet::from_json(&payload.to_string()).expect("valid payload");
    let theirs = unleash_yggdrasil::EngineState::default();
    let features: unleash_types::client_features::ClientFeatures =
        serde_json::from_value(payload).expect("yggdrasil reads the payload");
    theirs.take_state(unleash_yggdrasil::UpdateMessage::FullResponse(features));
    let our_context = UnleashContext::from_value(unleash_toggles::context(), Some(1_764_633_600_000)).expect("valid context");
    let their_context = unleash_toggles::yggdrasil_context();
    unleash_toggles::assert_same_answers(&ours, &our_context, &theirs, &their_context);

    let mut group = c.benchmark_group("unleash");
    for name in ["static-bool", "rollout-10", "rules-5"] {
        group.bench_function(format!("{name}: edgeflag"), |b| b.iter(|| black_box(ours.is_enabled(black_box(name), &our_context))));
        group.bench_function(format!("{name}: yggdrasil"), |b| {
            b.iter(|| black_box(theirs.is_enabled(black_box(name), &their_context, &None)))
        });
    }
    group.bench_function("experiment-3 getVariant: edgeflag", |b| {
        b.iter(|| black_box(ours.get_variant(black_box("experiment-3"), &our_context)))
    });
    group.bench_function("experiment-3 getVariant: yggdrasil", |b| {
        b.iter(|| black_box(theirs.get_variant(black_box("experiment-3"), &their_context, &None)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench, unleash
}
criterion_main!(benches);
