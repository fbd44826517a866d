//! The hand-written reader (`decode`) and the model's serde derives must read the same JSON
//! into the same model: Rust callers deserialize with serde, the engine reads with `decode`.
//!
//! Seeds are the project's real flag files; proptest mutates one place in them at a time
//! (remove a field, null it, change its type or range, add a field) and checks agreement:
//! - serde accepts ⇔ decode reports nothing but unknown fields (which serde ignores), and
//! - when both accept, the models are equal.
//!
//! Three differences are on purpose; `decode` is the stricter, and the JSON Schema agrees:
//! - serde's derive also reads a struct from an *array* of its fields in order (`"dev": []` is
//!   an empty environment override to serde); `decode` says "expected an object";
//! - serde_json also reads a unit enum variant from a one-key map (`{"paused": null}`);
//!   `decode` wants the string;
//! - of two equal keys in `environments` (a map, not a struct), serde keeps the last silently;
//!   `decode` reports the duplicate.
//!
//! The mutations go through `serde_json::Value`, which can hold neither of the last two, so
//! `edge_cases_read_the_same` and `known_differences` cover them by hand.

use edgeflag_evaluator::decode;
use edgeflag_evaluator::model::FlagFile;
use edgeflag_evaluator::problems::{Problem, Problems};
use proptest::prelude::*;
use serde_json::{json, Value};

const SEEDS: [&str; 2] = [
    include_str!("../../examples/flags.json"),
    include_str!("../../server/demo/flags.json"),
];

/// What `decode` thinks: the model (if the structure is right) and its problems.
fn by_decode(text: &str) -> (Option<FlagFile>, Vec<Problem>) {
    let mut problems = Problems::default();
    let decoded = decode::decode(text, &mut problems);
    let list = problems
        .into_result(())
        .err()
        .map(|e| e.problems)
        .unwrap_or_default();
    let structural = list.iter().any(|p| p.message != "unknown field");
    (
        decoded
            .and_then(decode::Decoded::into_complete)
            .filter(|_| !structural),
        list,
    )
}

fn check_agreement(text: &str) -> Result<(), String> {
    let serde: Result<FlagFile, _> = serde_json::from_str(text);
    let (ours, problems) = by_decode(text);
    let only_unknown = problems.iter().all(|p| p.message == "unknown field");
    let struct_as_array = |p: &Problem| p.message == "invalid type: sequence, expected an object";
    match (serde, ours) {
        (Ok(a), Some(b)) if a == b && only_unknown => Ok(()),
        (Ok(a), Some(b)) if a != b => Err(format!("models differ:\nserde  {a:?}\ndecode {b:?}")),
        (Err(_), None) if !problems.is_empty() => Ok(()),
        // Only when that is the sole complaint: it must not excuse another disagreement.
        (Ok(_), None) if problems.iter().all(|p| struct_as_array(p) || p.message == "unknown field") => Ok(()),
        (serde, ours) => Err(format!(
            "disagree: serde {:?}, decode {} with problems {problems:?}",
            serde.err().map(|e| e.to_string()),
            if ours.is_some() {
                "accepted"
            } else {
                "rejected"
            }
        )),
    }
}

#[test]
fn the_seed_files_read_the_same_and_cleanly() {
    for seed in SEEDS {
        assert_eq!(check_agreement(seed), Ok(()));
        assert_eq!(by_decode(seed).1, [], "seed files have no problems");
    }
}

/// Every path (as JSON pointer steps) of a value, parents before children.
fn paths(value: &Value, prefix: Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let mut p = prefix.clone();
                p.push(Step::Key(k.clone()));
                paths(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let mut p = prefix.clone();
                p.push(Step::Index(i));
                paths(v, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn at<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

/// The replacements tried at a place: every JSON type and the edges of the integer ranges.
fn replacement(choice: usize) -> Option<Value> {
    let all = [
        json!(null),
        json!(true),
        json!("x"),
        json!(""),
        json!(-1),
        json!(0),
        json!(1.5),
        json!(10000),
        json!(4294967296u64),
        json!([]),
        json!(["x"]),
        json!({}),
        json!({"variation": "on", "percent_bp": 5}),
    ];
    all.get(choice).cloned()
}

fn mutate(seed: &Value, place: usize, action: usize) -> Value {
    let mut value = seed.clone();
    let mut all = Vec::new();
    paths(seed, Vec::new(), &mut all);
    let path = &all[place % all.len()];
    match (path.split_last(), action) {
        // Remove the field (or element).
        (Some((Step::Key(k), parent)), 0) => {
            if let Some(Value::Object(map)) = at(&mut value, parent) {
                map.remove(k);
            }
        }
        (Some((Step::Index(i), parent)), 0) => {
            if let Some(Value::Array(items)) = at(&mut value, parent) {
                items.remove(*i);
            }
        }
        // Add a field to an object.
        (_, 1) => {
            if let Some(Value::Object(map)) = at(&mut value, path) {
                map.insert("surplus".into(), json!(1));
            }
        }
        (_, n) => {
            if let (Some(slot), Some(new)) =
                (at(&mut value, path), n.checked_sub(2).and_then(replacement))
            {
                *slot = new;
            }
        }
    }
    value
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn one_mutation_anywhere_reads_the_same(seed in 0..SEEDS.len(), place in 0usize..100_000, action in 0usize..15) {
        let original: Value = serde_json::from_str(SEEDS[seed]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = mutate(&original, place, action).to_string();
        prop_assert_eq!(check_agreement(&text), Ok(()), "{}", text);
    }
}

#[test]
fn edge_cases_read_the_same() {
    let cases = [
        r#"{"schema_version": 1, "flags": [], "flags": []}"#,
        r#"{"schema_version": 1, "flags": [], "extra": 1}"#,
        r#"{"schema_version": 1.0, "flags": []}"#,
        r#"{"$schema": null, "schema_version": 1, "flags": []}"#,
        r#"[]"#,
        r#"{"schema_version": 1, "flags": [{"key": 1}]}"#,
    ];
    for text in cases {
        assert_eq!(check_agreement(text), Ok(()), "{text}");
    }
}

#[test]
fn known_differences() {
    let flag = |extra: &str| {
        format!(
            r#"{{"schema_version": 1, "flags": [{{"key": "a", "kind": "boolean", "enabled": true,
            "off_variation": "f", "default_variation": "f", "variations": [{{"name": "f", "value": false}}]{extra}}}]}}"#
        )
    };
    let cases = [
        (flag(r#", "environments": {"dev": []}"#), "invalid type: sequence, expected an object"),
        (
            flag(r#", "canary": {"baseline": "f", "canary": "f", "stages": [], "status": {"paused": null}}"#),
            "invalid type: map, expected a string",
        ),
        (flag(r#", "environments": {"dev": {}, "dev": {"enabled": false}}"#), "duplicate field `dev`"),
    ];
    for (text, message) in cases {
        assert!(serde_json::from_str::<FlagFile>(&text).is_ok(), "serde accepts {text}");
        let (model, problems) = by_decode(&text);
        assert!(model.is_none() && problems.iter().any(|p| p.message == message), "{text}: {problems:?}");
    }
}
