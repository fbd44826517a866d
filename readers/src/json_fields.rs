//! A JSON value decoded field by field: [`Field`] names the path of a bad field
//! (`arms.canary.summary.requests: missing`). For the types the server writes and the
//! dashboard reads (the canary summaries and experiment data next to their types in the engine,
//! the server's responses in the dashboard), read from text by [`json_reader`].
//!
//! Why not `#[derive(Deserialize)]`: serde_json's text reader beside the engine's, and serde's
//! visitors for each response type, were a large part of the dashboard's bundle
//! (dashboard/README.md "Figures"); these few shapes are read here in a fraction of that.

use crate::json_reader;
use serde_json::Value;

/// One JSON document; the error is serde_json's wording with line and column.
pub fn value(text: &str) -> Result<Value, String> {
    json_reader::parse_value(text).map_err(|e| e.message)
}

/// A decoder from a JSON value, for [`Field::decode`] and [`Field::items`].
pub type Decoder<T> = fn(Field<'_>) -> Result<T, String>;

/// Reads `text` and decodes its top-level value.
pub fn decode<T>(text: &str, decoder: Decoder<T>) -> Result<T, String> {
    let root = value(text)?;
    decoder(Field::root(&root))
}

/// A value being decoded (`None`: absent or `null`) and its path, e.g. `arms.canary.summary`.
pub struct Field<'a> {
    value: Option<&'a Value>,
    path: String,
}

impl<'a> Field<'a> {
    /// The top-level value of a document.
    pub fn root(value: &'a Value) -> Field<'a> {
        Field { value: Some(value), path: String::new() }
    }

    /// Where this value is, e.g. `data.result[0]` (empty at the top level).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The member `name` of this object (an error when this is not an object).
    pub fn field(&self, name: &str) -> Result<Field<'a>, String> {
        let path = if self.path.is_empty() { name.to_owned() } else { format!("{}.{name}", self.path) };
        match self.value {
            Some(Value::Object(members)) => Ok(Field { value: members.get(name).filter(|v| !v.is_null()), path }),
            other => Err(self.mismatch("an object", other)),
        }
    }

    /// The raw value, if present.
    pub fn value(&self) -> Option<&'a Value> {
        self.value
    }

    pub fn u64(&self) -> Result<u64, String> {
        self.opt_u64()?.ok_or_else(|| self.missing())
    }

    pub fn opt_u64(&self) -> Result<Option<u64>, String> {
        self.value.map(|v| v.as_u64().ok_or_else(|| self.mismatch("a non-negative integer", Some(v)))).transpose()
    }

    pub fn u64_or_zero(&self) -> Result<u64, String> {
        Ok(self.opt_u64()?.unwrap_or(0))
    }

    pub fn f64(&self) -> Result<f64, String> {
        self.opt_f64()?.ok_or_else(|| self.missing())
    }

    pub fn opt_f64(&self) -> Result<Option<f64>, String> {
        self.value.map(|v| v.as_f64().ok_or_else(|| self.mismatch("a number", Some(v)))).transpose()
    }

    pub fn bool_or(&self, default: bool) -> Result<bool, String> {
        match self.value {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| self.mismatch("true or false", Some(v))),
        }
    }

    pub fn string(&self) -> Result<String, String> {
        self.opt_string()?.ok_or_else(|| self.missing())
    }

    pub fn opt_string(&self) -> Result<Option<String>, String> {
        self.value.map(|v| v.as_str().map(str::to_owned).ok_or_else(|| self.mismatch("a string", Some(v)))).transpose()
    }

    pub fn string_or_empty(&self) -> Result<String, String> {
        Ok(self.opt_string()?.unwrap_or_default())
    }

    /// This value decoded by `decoder` (an error when absent).
    pub fn decode<T>(self, decoder: Decoder<T>) -> Result<T, String> {
        match self.value {
            Some(_) => decoder(self),
            None => Err(self.missing()),
        }
    }

    /// The elements of an array (none when absent), each decoded by `decoder`.
    pub fn items<T>(&self, decoder: Decoder<T>) -> Result<Vec<T>, String> {
        let mut out = Vec::new();
        self.each_item(&mut |item| {
            out.push(decoder(item)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The members of an object (none when absent), each value decoded by `decoder`.
    pub fn entries<T>(&self, decoder: Decoder<T>) -> Result<Vec<(String, T)>, String> {
        let mut out = Vec::new();
        self.each_entry(&mut |name, member| {
            out.push((name.to_owned(), decoder(member)?));
            Ok(())
        })?;
        Ok(out)
    }

    // The walks behind `items` and `entries` take a `dyn` callback so that they are compiled
    // once, not once per decoded type (each copy was a few hundred bytes of the wasm).
    fn each_item(&self, visit: &mut dyn FnMut(Field<'a>) -> Result<(), String>) -> Result<(), String> {
        match self.value {
            None => Ok(()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| visit(Field { value: Some(item), path: format!("{}[{i}]", self.path) })),
            other => Err(self.mismatch("an array", other)),
        }
    }

    fn each_entry(&self, visit: &mut dyn FnMut(&str, Field<'a>) -> Result<(), String>) -> Result<(), String> {
        match self.value {
            None => Ok(()),
            Some(Value::Object(members)) => members.keys().try_for_each(|name| visit(name, self.field(name)?.present()?)),
            other => Err(self.mismatch("an object", other)),
        }
    }

    /// An error for a present value that is not one of the accepted ones.
    pub fn invalid(&self, expected: &str) -> String {
        format!("{}: expected {expected}", self.shown_path())
    }

    /// This value, or a "missing" error when it is absent.
    pub fn present(self) -> Result<Self, String> {
        match self.value {
            Some(_) => Ok(self),
            None => Err(self.missing()),
        }
    }

    fn missing(&self) -> String {
        format!("{}: missing", self.shown_path())
    }

    fn mismatch(&self, expected: &str, got: Option<&Value>) -> String {
        let got = match got {
            None | Some(Value::Null) => "null",
            Some(Value::Bool(_)) => "a boolean",
            Some(Value::Number(_)) => "a number",
            Some(Value::String(_)) => "a string",
            Some(Value::Array(_)) => "an array",
            Some(Value::Object(_)) => "an object",
        };
        format!("{}: expected {expected}, got {got}", self.shown_path())
    }

    fn shown_path(&self) -> &str {
        if self.path.is_empty() { "(top level)" } else { &self.path }
    }
}

/// A string value (for [`Field::items`] of strings).
pub fn string(field: Field<'_>) -> Result<String, String> {
    field.string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Entry {
        version: u64,
        author: String,
        tags: Vec<String>,
        rate: Option<f64>,
    }

    fn entry(f: Field<'_>) -> Result<Entry, String> {
        Ok(Entry {
            version: f.field("version")?.u64()?,
            author: f.field("author")?.string_or_empty()?,
            tags: f.field("tags")?.items(string)?,
            rate: f.field("rate")?.opt_f64()?,
        })
    }

    fn list(f: Field<'_>) -> Result<Vec<Entry>, String> {
        f.items(entry)
    }

    #[test]
    fn fields_decode_with_defaults_and_paths() {
        let ok = decode(r#"[{"version": 3, "tags": ["a"], "rate": 1}, {"version": 4, "author": "x", "rate": null}]"#, list);
        assert_eq!(
            ok,
            Ok(vec![
                Entry { version: 3, author: String::new(), tags: vec!["a".into()], rate: Some(1.0) },
                Entry { version: 4, author: "x".into(), tags: vec![], rate: None },
            ])
        );
        assert_eq!(decode(r#"[{"author": "a"}]"#, list), Err("[0].version: missing".into()));
        assert_eq!(decode(r#"[{"version": -1}]"#, list), Err("[0].version: expected a non-negative integer, got a number".into()));
        assert_eq!(decode(r#"[{"version": 1, "tags": [1]}]"#, list), Err("[0].tags[0]: expected a string, got a number".into()));
        assert_eq!(decode(r#"{"version": 1}"#, list), Err("(top level): expected an array, got an object".into()));
        assert_eq!(decode("[{\"version\": 3,\n}]", list), Err("trailing comma at line 2 column 1".into()));
        assert_eq!(value("[1, 2.5, \"x\"]"), Ok(serde_json::json!([1, 2.5, "x"])));
    }

    #[test]
    fn entries_keep_names_and_refuse_nulls() {
        fn counts(f: Field<'_>) -> Result<Vec<(String, u64)>, String> {
            f.entries(|f| f.u64())
        }
        assert_eq!(decode(r#"{"b": 2, "a": 1}"#, counts), Ok(vec![("a".into(), 1), ("b".into(), 2)]));
        assert_eq!(decode(r#"{"a": null}"#, counts), Err("a: missing".into()));
    }
}
