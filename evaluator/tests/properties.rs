//! Property tests of the bucketing guarantees.

use edgeflag_evaluator::{hashing, Context, FlagSet};
use proptest::prelude::*;
use serde_json::json;

fn rollout(percent_bp: u32) -> FlagSet {
    FlagSet::from_json(&json!({"schema_version": 1, "flags": [{
        "key": "p", "kind": "boolean", "enabled": true,
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "default_variation": "off",
        "rollout": {"percent_bp": percent_bp, "variation": "on"}
    }]}).to_string())
    .expect("valid")
}

fn experiment(weights: &[u32]) -> FlagSet {
    let variations: Vec<_> = (0..weights.len()).map(|i| json!({"name": format!("v{i}"), "value": i})).collect();
    let variants: Vec<_> =
        weights.iter().enumerate().map(|(i, w)| json!({"variation": format!("v{i}"), "weight_bp": w})).collect();
    FlagSet::from_json(&json!({"schema_version": 1, "flags": [{
        "key": "e", "kind": "number", "enabled": true, "variations": variations,
        "off_variation": "v0", "default_variation": "v0", "experiment": {"variants": variants}
    }]}).to_string())
    .expect("valid")
}

proptest! {
    #[test]
    fn rollout_is_monotonic_in_percent(unit in ".{0,40}", low in 0u32..=10000, extra in 0u32..=10000) {
        let high = (low + extra).min(10000);
        let ctx = Context::new(unit.clone());
        let at_low = rollout(low).evaluate("p", &ctx, None).variant == Some("on");
        let at_high = rollout(high).evaluate("p", &ctx, None).variant == Some("on");
        prop_assert!(!at_low || at_high, "unit {unit:?} in at {low} bp but out at {high} bp");
    }

    #[test]
    fn same_input_same_answer(unit in ".{0,40}", salt in ".{0,20}", percent in 0u32..=10000) {
        prop_assert_eq!(hashing::bucket(&salt, &unit), hashing::bucket(&salt, &unit));
        prop_assert!(hashing::bucket(&salt, &unit) < 10000);
        let set = rollout(percent);
        let ctx = Context::new(unit);
        prop_assert_eq!(set.evaluate("p", &ctx, None), set.evaluate("p", &ctx, None));
    }
}

#[test]
fn ten_percent_rollout_lands_within_half_a_percent_over_100k_units() {
    let set = rollout(1000);
    let on = (0..100_000).filter(|i| set.evaluate("p", &Context::new(format!("unit-{i}")), None).variant == Some("on")).count();
    let share = on as f64 / 100_000.0;
    assert!((share - 0.10).abs() <= 0.005, "10 % rollout served {share}");
}

#[test]
fn experiment_weights_land_within_half_a_percent_over_100k_units() {
    let weights = [2000, 3000, 5000];
    let set = experiment(&weights);
    let mut counts = [0usize; 3];
    for i in 0..100_000 {
        let r = set.evaluate("e", &Context::new(format!("unit-{i}")), None);
        let index = r.value.and_then(|v| v.as_u64()).expect("numeric variant") as usize;
        counts[index] += 1;
    }
    for (count, weight) in counts.iter().zip(weights) {
        let share = *count as f64 / 100_000.0;
        let expected = weight as f64 / 10_000.0;
        assert!((share - expected).abs() <= 0.005, "weight {expected} served {share}");
    }
}
