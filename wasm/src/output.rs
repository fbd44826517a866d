//! Engine answers out, as JSON text: the glue (`wasm/js/fast.js`) parses it with the JS
//! engine's `JSON.parse` when the caller wants an object (one crossing per answer, or per
//! `evaluateAll` batch, instead of one per field), and the fast path renders each answer once.
//!
//! Written here field by field rather than by `Evaluation`'s serde derive (what the native
//! server uses): the same JSON, keys in the same order, with a fraction of the code in the
//! module (the derive instantiates serde's map writer per field type). Values and strings
//! go through serde_json's writer, so escaping and numbers are serde_json's.

use edgeflag_evaluator::Evaluation;
use serde::Serialize;

/// An `EvaluationResult` as JSON text.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn evaluation_json(e: &Evaluation) -> String {
    let mut out = String::with_capacity(96);
    write_evaluation(&mut out, e);
    out
}

/// A JSON array of `EvaluationResult`s.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn evaluations_json(all: &[Evaluation]) -> String {
    let mut out = String::with_capacity(96 * all.len() + 2);
    out.push('[');
    for (i, e) in all.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_evaluation(&mut out, e);
    }
    out.push(']');
    out
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn write_evaluation(out: &mut String, e: &Evaluation) {
    out.push_str("{\"key\":");
    json(out, e.key);
    out.push_str(",\"value\":");
    match e.value {
        Some(value) => json(out, value),
        None => out.push_str("null"),
    }
    out.push_str(",\"variant\":");
    match e.variant {
        Some(variant) => json(out, variant),
        None => out.push_str("null"),
    }
    out.push_str(",\"reason\":\"");
    out.push_str(e.reason.as_str());
    out.push('"');
    if let Some(rule) = e.rule_index {
        out.push_str(",\"ruleIndex\":");
        out.push_str(&rule.to_string());
    }
    if let Some(arm) = e.arm {
        out.push_str(",\"arm\":\"");
        out.push_str(arm.as_str());
        out.push('"');
    }
    if e.experiment {
        out.push_str(",\"experiment\":true");
    }
    if let Some(code) = e.error_code {
        out.push_str(",\"errorCode\":\"");
        out.push_str(code.as_str());
        out.push('"');
    }
    if let Some(message) = &e.error_message {
        out.push_str(",\"errorMessage\":");
        json(out, message.as_str());
    }
    out.push('}');
}

/// serde_json's text of a value or string. It cannot fail for these (string keys, finite
/// numbers); `null` keeps this total without linking the formatting of serde_json's error.
fn json<T: Serialize + ?Sized>(out: &mut String, value: &T) {
    match serde_json::to_string(value) {
        Ok(text) => out.push_str(&text),
        Err(_) => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use edgeflag_evaluator::{Context, FlagSet};

    /// Byte for byte what the derive (the native server's JSON) writes.
    #[test]
    fn the_same_text_as_the_serde_derive() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).unwrap();
        let set = FlagSet::from_json(&text).unwrap();
        let mut seen = 0;
        for user in ["alice", "bob", "carol", "mallory", "u-1", "u-2", "u-3", "José \"q\" \u{1F680}"] {
            for ctx in [Context::new(user).with("country", "FR").with("email", "x@edgeflag.dev"), Context::anonymous()] {
                for env in [None, Some("dev"), Some("prod"), Some("nowhere")] {
                    let all = set.evaluate_all(&ctx, env);
                    assert_eq!(super::evaluations_json(&all), serde_json::to_string(&all).unwrap());
                    for e in &all {
                        assert_eq!(super::evaluation_json(e), serde_json::to_string(e).unwrap());
                        seen += 1;
                    }
                    let missing = set.evaluate("no \"such\" flag", &ctx, env);
                    assert_eq!(super::evaluation_json(&missing), serde_json::to_string(&missing).unwrap());
                }
            }
        }
        assert!(seen > 300);
    }
}
