//! JSON text in: every response, draft and form value the dashboard reads goes through the
//! engine's JSON reader (`document::parse_value`, the one that reads flag files), then
//! `serde_json::from_value` for typed values. `serde_json::from_str` would link serde_json's
//! own text reader beside it, ~40 KB of the bundle (see README "Figures").

use edgeflag_evaluator::document;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One JSON document; the error is serde_json's wording with line and column.
pub fn value(text: &str) -> Result<Value, String> {
    document::parse_value(text).map_err(|e| e.message)
}

/// A typed value from JSON text: syntax errors with line and column, type errors with the field.
pub fn from_text<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(value(text)?).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Entry {
        version: u64,
        #[serde(default)]
        author: String,
    }

    #[test]
    fn typed_values_and_their_errors() {
        assert_eq!(from_text::<Entry>(r#"{"version": 3}"#), Ok(Entry { version: 3, author: String::new() }));
        assert_eq!(from_text::<Entry>(r#"{"author": "a"}"#), Err("missing field `version`".to_string()));
        assert_eq!(
            from_text::<Entry>("{\"version\": 3,\n}"),
            Err("trailing comma at line 2 column 1".to_string())
        );
        assert_eq!(value("[1, 2.5, \"x\"]"), Ok(serde_json::json!([1, 2.5, "x"])));
    }
}
