//! A JSON document as the flag-file decoder ([`crate::decode`]) needs it.
//!
//! `serde_json::Value` would almost do, but it keeps only the last of two equal keys (an
//! admin's silent mistake that validation must report) and a syntax error in it has no path.
//! [`Json`] keeps every key in order, and [`parse`] names the path at which the text broke.
//!
//! Why not `#[derive(Deserialize)]` on the model with `serde_path_to_error` and
//! `serde_ignored` for the paths: each model type then monomorphizes three stacked
//! deserializers, which was more than half of the WASM module (see wasm/README.md "Size").
//! Here there is one `Deserialize` impl, for this tree, and the model is read from the tree by
//! plain functions.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::validation::{field_path, index_path};

/// A JSON value that keeps object keys in document order, duplicates included.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Text that is not one JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where in the document the text broke, e.g. `flags[2].rules`; empty at the top level.
    pub path: String,
    /// serde_json's message, with line and column in the whole text.
    pub message: String,
}

/// Parses one JSON document (nesting is limited to serde_json's 128 levels, so deep input is
/// an error, not a stack overflow).
pub fn parse(text: &str) -> Result<Json, SyntaxError> {
    let mut trail = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let started = Cell::new(false);
    let parsed = JsonSeed {
        trail: &mut trail,
        started: &started,
    }
    .deserialize(&mut deserializer)
    .and_then(|json| deserializer.end().map(|()| json));
    parsed.map_err(|error| SyntaxError {
        path: trail_path(&trail),
        message: error.to_string(),
    })
}

impl Json {
    /// The serde_json value (of two equal keys, the last wins, as in serde_json).
    pub fn into_value(self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => Value::Number(n),
            Json::String(s) => Value::String(s),
            Json::Array(items) => Value::Array(items.into_iter().map(Json::into_value).collect()),
            Json::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    /// How serde describes a value in "invalid type" messages: `string "x"`, `integer `5``,
    /// `floating point `1.5``, `boolean `true``, `null`, `sequence`, `map`.
    pub fn describe(&self) -> String {
        match self {
            Json::Null => "null".to_owned(),
            Json::Bool(b) => format!("boolean `{b}`"),
            Json::Number(n) if n.is_f64() => format!("floating point `{n}`"),
            Json::Number(n) => format!("integer `{n}`"),
            Json::String(s) => format!("string {}", Value::from(s.as_str())),
            Json::Array(_) => "sequence".to_owned(),
            Json::Object(_) => "map".to_owned(),
        }
    }

    /// JSON's name for the value's type: `object`, `array`, `string`...
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
}

/// One step of the path to a syntax error, innermost first while the error unwinds.
enum Step {
    Index(usize),
    Key(String),
}

fn trail_path(trail: &[Step]) -> String {
    trail
        .iter()
        .rev()
        .fold(String::new(), |path, step| match step {
            Step::Index(i) => index_path(&path, *i),
            Step::Key(k) => field_path(&path, k),
        })
}

/// Deserializes one [`Json`]; on an error inside a container, the container adds its index or
/// key to `trail` on the way out. `started` tells the container whether the error happened
/// inside this value or before it began (at a missing comma, say), which is the container's.
struct JsonSeed<'t> {
    trail: &'t mut Vec<Step>,
    started: &'t Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for JsonSeed<'_> {
    type Value = Json;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        self.started.set(true);
        deserializer.deserialize_any(JsonVisitor { trail: self.trail })
    }
}

struct JsonVisitor<'t> {
    trail: &'t mut Vec<Step>,
}

impl<'de> Visitor<'de> for JsonVisitor<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        // serde_json never yields a non-finite number from text; say so rather than panic.
        Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        loop {
            let started = Cell::new(false);
            match seq.next_element_seed(JsonSeed {
                trail: &mut *self.trail,
                started: &started,
            }) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Json::Array(items)),
                Err(error) => {
                    if started.get() {
                        self.trail.push(Step::Index(items.len()));
                    }
                    return Err(error);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let started = Cell::new(false);
            match map.next_value_seed(JsonSeed {
                trail: &mut *self.trail,
                started: &started,
            }) {
                Ok(value) => entries.push((key, value)),
                Err(error) => {
                    if started.get() {
                        self.trail.push(Step::Key(key));
                    }
                    return Err(error);
                }
            }
        }
        Ok(Json::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicate_keys_in_order() {
        let parsed = parse(r#"{"a": 1, "b": [true, null], "a": "x"}"#);
        let expected = Json::Object(vec![
            ("a".into(), Json::Number(1.into())),
            ("b".into(), Json::Array(vec![Json::Bool(true), Json::Null])),
            ("a".into(), Json::String("x".into())),
        ]);
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    fn into_value_matches_serde_json() {
        let text = r#"{"n": -3, "f": 1.5, "big": 18446744073709551615, "s": "é\n", "l": [{}, []], "z": null}"#;
        let ours = parse(text).map(Json::into_value);
        let theirs: Result<Value, _> = serde_json::from_str(text);
        assert_eq!(ours.ok(), theirs.ok());
    }

    #[test]
    fn syntax_errors_carry_the_path_where_the_text_broke() {
        let cases = [
            (r#"{"flags": [{"key": "a"}, {"key": tru}]}"#, "flags[1].key"),
            (r#"{"flags": [{"key": "a"} {"key": "b"}]}"#, "flags"),
            (r#"{"schema_version": 1, "flags": ["#, "flags"),
            (r#"{"a": 1 "b": 2}"#, ""),
            (r#"{"a": 1} trailing"#, ""),
            (r#"{"weird key": [1, 2, {"x": ]}]}"#, "[\"weird key\"][2].x"),
        ];
        for (text, path) in cases {
            match parse(text) {
                Ok(json) => panic!("{text} parsed: {json:?}"),
                Err(e) => {
                    assert_eq!(e.path, path, "{text}: {}", e.message);
                    assert!(e.message.contains("line 1 column"), "{}", e.message);
                }
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err_and(|e| e.message.contains("recursion limit")));
    }

    #[test]
    fn describes_values_as_serde_does() {
        let described: Vec<String> = ["null", "true", "5", "-1", "1.5", "\"x\"", "[]", "{}"]
            .iter()
            .filter_map(|t| parse(t).ok())
            .map(|j| j.describe())
            .collect();
        assert_eq!(
            described,
            [
                "null",
                "boolean `true`",
                "integer `5`",
                "integer `-1`",
                "floating point `1.5`",
                "string \"x\"",
                "sequence",
                "map"
            ]
        );
    }
}
