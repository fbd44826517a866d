//! The OpenFeature view of an evaluation: what the Rust provider (`providers/rust`) and the
//! server's OFREP endpoint answer. The JS providers (`providers/js/src/resolution.js`) follow
//! the same rules, and the tests compare all of them on the native corpus.
//!
//! The rules (documented for users in `providers/README.md`, "How answers map"):
//! - An answer with a value is a success: value, variant, reason and metadata.
//! - An answer without a value is an error: reason `ERROR`, the error code and message; the
//!   OpenFeature SDK then returns the caller's default value.
//! - **A split that finds no unit** (no targeting key, or no usable stickiness attribute) is
//!   not an error: the engine serves the flag's default variation (reason `DEFAULT`), and
//!   so do the providers and OFREP, with `unitMissing: true` in the flag metadata. OpenFeature's
//!   `TARGETING_KEY_MISSING` means "the provider requires a targeting key", and an error makes
//!   the SDK return the caller's coded default (spec 1.4.10): edgeflag does not require one,
//!   the flag's author chose what units outside the split get, and every place (edge worker,
//!   browser, SDK, OFREP) must give the same user the same answer.
//! - Flag metadata: `flagSetVersion` (the server's version, when the flags came from it), `arm`
//!   (`canary` | `baseline`), `experiment` (true), `ruleIndex`, `unitMissing` (true), each only
//!   when it applies.

use serde_json::Value;

use crate::evaluation::{Arm, ErrorCode, Evaluation, Reason};

/// Flag metadata of a resolution (OpenFeature allows strings, numbers and booleans).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub flag_set_version: Option<u64>,
    pub arm: Option<Arm>,
    pub experiment: bool,
    pub rule_index: Option<usize>,
    pub unit_missing: bool,
}

impl Metadata {
    /// `(name, value)` pairs in a fixed order, only those that apply.
    pub fn entries(&self) -> Vec<(&'static str, MetadataValue)> {
        let mut out = Vec::new();
        if let Some(v) = self.flag_set_version {
            out.push(("flagSetVersion", MetadataValue::Int(v as i64)));
        }
        if let Some(arm) = self.arm {
            out.push(("arm", MetadataValue::Str(arm.as_str())));
        }
        if self.experiment {
            out.push(("experiment", MetadataValue::Bool(true)));
        }
        if let Some(i) = self.rule_index {
            out.push(("ruleIndex", MetadataValue::Int(i as i64)));
        }
        if self.unit_missing {
            out.push(("unitMissing", MetadataValue::Bool(true)));
        }
        out
    }

    /// As a JSON object (OFREP's `metadata`).
    pub fn to_json(&self) -> serde_json::Map<String, Value> {
        self.entries()
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    MetadataValue::Int(i) => Value::from(i),
                    MetadataValue::Str(s) => Value::from(s),
                    MetadataValue::Bool(b) => Value::from(b),
                };
                (k.to_string(), v)
            })
            .collect()
    }
}

/// One metadata value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetadataValue {
    Int(i64),
    Str(&'static str),
    Bool(bool),
}

/// An evaluation as OpenFeature sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution<'a> {
    Resolved { value: &'a Value, variant: Option<&'a str>, reason: Reason, metadata: Metadata },
    Failed { code: ErrorCode, message: String },
}

/// Applies the rules above to one answer of the engine.
pub fn resolve<'a>(evaluation: &Evaluation<'a>, flag_set_version: Option<u64>) -> Resolution<'a> {
    match evaluation.value {
        Some(value) => Resolution::Resolved {
            value,
            variant: evaluation.variant,
            reason: evaluation.reason,
            metadata: Metadata {
                flag_set_version,
                arm: evaluation.arm,
                experiment: evaluation.experiment,
                rule_index: evaluation.rule_index,
                unit_missing: evaluation.error_code == Some(ErrorCode::TargetingKeyMissing),
            },
        },
        None => {
            let code = evaluation.error_code.unwrap_or(ErrorCode::General);
            let message = evaluation.error_message.clone().unwrap_or_else(|| code.as_str().to_string());
            Resolution::Failed { code, message }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Context, FlagSet};

    const FILE: &str = r#"{"schema_version": 1, "flags": [
        {"key": "split", "kind": "boolean", "enabled": true, "off_variation": "off", "default_variation": "off",
         "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
         "rollout": {"percent_bp": 10000, "variation": "on"}},
        {"key": "canary", "kind": "string", "enabled": true, "off_variation": "a", "default_variation": "a",
         "variations": [{"name": "a", "value": "A"}, {"name": "b", "value": "B"}],
         "canary": {"baseline": "a", "canary": "b", "current_stage": 0, "status": "running",
                    "stages": [{"percent": 100, "min_duration": "1m", "gate": {"max_error_rate": 0.1, "max_p99_ms": 100, "min_samples": 1}}]}}
    ]}"#;

    #[test]
    fn a_split_without_a_unit_serves_the_flags_default_and_says_so_in_metadata() {
        let flags = FlagSet::from_json(FILE).expect("valid");
        let eval = flags.evaluate("split", &Context::anonymous(), None);
        assert_eq!(eval.error_code, Some(ErrorCode::TargetingKeyMissing), "the engine's own answer");
        match resolve(&eval, Some(7)) {
            Resolution::Resolved { value, variant, reason, metadata } => {
                assert_eq!((value, variant, reason), (&Value::Bool(false), Some("off"), Reason::Default));
                assert!(metadata.unit_missing);
                assert_eq!(metadata.to_json()["flagSetVersion"], 7);
            }
            other => panic!("{other:?}"),
        }
        let keyed = flags.evaluate("split", &Context::new("u1"), None);
        let Resolution::Resolved { metadata, reason, .. } = resolve(&keyed, None) else { panic!() };
        assert_eq!((reason, metadata.unit_missing, metadata.to_json().len()), (Reason::Split, false, 0));
    }

    #[test]
    fn canary_arm_in_metadata_and_errors_without_value() {
        let flags = FlagSet::from_json(FILE).expect("valid");
        let Resolution::Resolved { metadata, .. } = resolve(&flags.evaluate("canary", &Context::new("u1"), None), None) else {
            panic!()
        };
        assert_eq!(metadata.to_json()["arm"], "canary");
        match resolve(&flags.evaluate("nope", &Context::new("u1"), None), None) {
            Resolution::Failed { code, message } => {
                assert_eq!(code, ErrorCode::FlagNotFound);
                assert!(message.contains("nope"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
