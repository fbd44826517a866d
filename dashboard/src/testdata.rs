//! A small flag file covering every split kind, shared by the unit tests.

use edgeflag_evaluator::FlagFile;

pub const SAMPLE: &str = r##"{
  "schema_version": 1,
  "environments": ["staging", "prod"],
  "segments": [{"key": "beta", "included": ["u1"]}],
  "flags": [
    {"key": "new-checkout", "description": "New checkout flow", "tags": ["checkout", "ui"],
     "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
     "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
     "rollout": {"percent_bp": 1250, "variation": "on"}},
    {"key": "old-banner", "kind": "boolean", "enabled": false,
     "off_variation": "off", "default_variation": "on",
     "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}]},
    {"key": "search-v2", "tags": ["search"], "kind": "boolean", "enabled": true,
     "off_variation": "off", "default_variation": "off",
     "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
     "canary": {"baseline": "off", "canary": "on", "current_stage": 1, "stages": [
       {"percent": 1, "min_duration": "5m", "gate": {"max_error_rate": 0.01, "max_p99_ms": 300, "min_samples": 100}},
       {"percent": 10, "min_duration": "5m", "gate": {"max_error_rate": 0.01, "max_p99_ms": 300, "min_samples": 100}},
       {"percent": 50, "min_duration": "5m", "gate": {"max_error_rate": 0.01, "max_p99_ms": 300, "min_samples": 100}}]}},
    {"key": "button-color", "description": "Colour of the buy button", "tags": ["ui"],
     "kind": "string", "enabled": true, "off_variation": "blue", "default_variation": "blue",
     "variations": [{"name": "blue", "value": "#00f"}, {"name": "green", "value": "#0f0"}],
     "experiment": {"variants": [{"variation": "blue", "weight_bp": 5000}, {"variation": "green", "weight_bp": 5000}]}},
    {"key": "full-on", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
     "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
     "rollout": {"percent_bp": 10000, "variation": "on"}}
  ]
}"##;

pub fn sample_file() -> FlagFile {
    serde_json::from_str(SAMPLE).expect("the sample flag file deserializes")
}

/// The repository's example file (canary `payment-processor`, experiment `checkout-redesign`).
pub fn example() -> FlagFile {
    serde_json::from_str(include_str!("../../examples/flags.json")).expect("examples/flags.json deserializes")
}
