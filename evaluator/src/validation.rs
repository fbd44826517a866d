//! Reading a flag file and reporting **every** problem with its JSON path.
//!
//! Structural problems are found here: JSON syntax, wrong types, unknown fields (each one, with
//! its path), duplicate fields. Each flag and segment is decoded on its own so one broken flag
//! does not hide the problems of the others. Semantic problems (unknown references, bad regexes,
//! weights, stage order...) are found by [`crate::compile`], which reports through the same
//! [`Problem`] type.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::model::{Flag, FlagFile, Segment};

/// More problems than this are summarised: nobody reads ten thousand lines, and a huge broken
/// file must not cost unbounded memory.
pub const MAX_PROBLEMS: usize = 1000;

/// One thing wrong with a flag file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where: `flags[3].rules[0].clauses[1].values[0]`; empty for the whole document.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a flag file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ValidationErrors {
    pub problems: Vec<Problem>,
    /// Problems found beyond [`MAX_PROBLEMS`] and not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len() + self.omitted;
        write!(f, "invalid flag file ({count} problem{})", if count == 1 { "" } else { "s" })?;
        for problem in &self.problems {
            write!(f, "\n{problem}")?;
        }
        if self.omitted > 0 {
            write!(f, "\n... and {} more", self.omitted)?;
        }
        Ok(())
    }
}

/// Collects problems, keeping the first [`MAX_PROBLEMS`].
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
    omitted: usize,
}

impl Problems {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem { path: path.into(), message: message.into() });
        } else {
            self.omitted += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Problems found so far, including omitted ones.
    pub fn len(&self) -> usize {
        self.list.len() + self.omitted
    }

    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(ValidationErrors { problems: self.list, omitted: self.omitted })
        }
    }
}

/// `parent.name`, or `parent["name"]` when the name is not a plain identifier.
pub fn field_path(parent: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
    match (parent.is_empty(), plain) {
        (true, true) => name.to_string(),
        (false, true) => format!("{parent}.{name}"),
        (_, false) => format!("{parent}[{}]", serde_json::Value::from(name)),
    }
}

/// `parent[index]`.
pub fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// The top level, with flags and segments kept raw so each decodes on its own.
#[derive(Deserialize)]
struct RawFile<'a> {
    #[serde(rename = "$schema", default)]
    schema: Option<String>,
    schema_version: u32,
    #[serde(default)]
    environments: Vec<String>,
    #[serde(default, borrow)]
    segments: Vec<&'a RawValue>,
    #[serde(borrow)]
    flags: Vec<&'a RawValue>,
}

/// Just enough of a flag to keep its key known when the rest of it is broken, so references
/// to it are not reported as unknown too.
#[derive(Deserialize)]
struct KeyOnly {
    key: String,
}

/// A flag file decoded as far as possible: what decoded, and what did not.
pub struct Decoded {
    pub file: FlagFile,
    /// Original index of each entry of `file.flags` (broken flags are left out).
    pub flag_indices: Vec<usize>,
    pub segment_indices: Vec<usize>,
    /// Keys of flags that failed to decode.
    pub broken_flag_keys: Vec<String>,
    pub broken_segment_keys: Vec<String>,
}

/// Decodes the JSON text, reporting syntax, type and unknown-field problems into `problems`.
/// Returns `None` only when the top level itself cannot be read.
pub fn decode(text: &str, problems: &mut Problems) -> Option<Decoded> {
    // serde would read a struct from an array too; say plainly what the top level must be.
    if !text.trim_start().starts_with('{') {
        let message = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => format!("a flag file must be a JSON object, got {}", crate::context::json_type(&value)),
            Err(e) => format!("invalid JSON: {e}"),
        };
        problems.push("", message);
        return None;
    }
    let raw: RawFile = decode_part(text, "", problems)?;
    let mut decoded = Decoded {
        file: FlagFile {
            schema: raw.schema,
            schema_version: raw.schema_version,
            environments: raw.environments,
            segments: Vec::with_capacity(raw.segments.len()),
            flags: Vec::with_capacity(raw.flags.len()),
        },
        flag_indices: Vec::with_capacity(raw.flags.len()),
        segment_indices: Vec::with_capacity(raw.segments.len()),
        broken_flag_keys: Vec::new(),
        broken_segment_keys: Vec::new(),
    };
    for (index, raw_segment) in raw.segments.iter().enumerate() {
        let path = index_path("segments", index);
        match decode_part::<Segment>(raw_segment.get(), &path, problems) {
            Some(segment) => {
                decoded.file.segments.push(segment);
                decoded.segment_indices.push(index);
            }
            None => decoded.broken_segment_keys.extend(key_of(raw_segment)),
        }
    }
    for (index, raw_flag) in raw.flags.iter().enumerate() {
        let path = index_path("flags", index);
        match decode_part::<Flag>(raw_flag.get(), &path, problems) {
            Some(flag) => {
                decoded.file.flags.push(flag);
                decoded.flag_indices.push(index);
            }
            None => decoded.broken_flag_keys.extend(key_of(raw_flag)),
        }
    }
    Some(decoded)
}

fn key_of(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<KeyOnly>(raw.get()).ok().map(|k| k.key)
}

/// Decodes one part; reports every unknown field and the first type error, with paths
/// under `prefix`. Unknown fields are reported even when the part decodes.
fn decode_part<'de, T: Deserialize<'de>>(
    text: &'de str,
    prefix: &str,
    problems: &mut Problems,
) -> Option<T> {
    let mut json = serde_json::Deserializer::from_str(text);
    let mut unknown = Vec::new();
    let mut on_unknown = |path: serde_ignored::Path| {
        unknown.push(join(prefix, &ignored_path(&path)));
    };
    let ignoring = serde_ignored::Deserializer::new(&mut json, &mut on_unknown);
    let (path, error) = match serde_path_to_error::deserialize(ignoring) {
        // Trailing characters after the document are a syntax problem too.
        Ok(value) => match json.end() {
            Ok(()) => {
                for path in unknown {
                    problems.push(path, "unknown field");
                }
                return Some(value);
            }
            Err(error) => (prefix.to_string(), error),
        },
        Err(error) => (join(prefix, &error_path(error.path())), error.into_inner()),
    };
    let message = if error.is_syntax() || error.is_eof() {
        format!("invalid JSON: {error}")
    } else {
        // serde_json appends " at line L column C", relative to this part; the path says where.
        strip_position(&error.to_string())
    };
    problems.push(path, message);
    None
}

/// Decodes a whole JSON document of any serde type, reporting the first problem with its path.
/// For small side documents (contexts, metric events) where one problem is enough.
pub fn decode_document<T: DeserializeOwned>(text: &str) -> Result<T, Problem> {
    let mut json = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut json)
        .map_err(|error| Problem {
            path: error_path(error.path()),
            message: strip_position(&error.inner().to_string()),
        })
        .and_then(|value| {
            json.end().map_err(|e| Problem { path: String::new(), message: e.to_string() })?;
            Ok(value)
        })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

fn join(prefix: &str, rest: &str) -> String {
    if rest.is_empty() {
        prefix.to_string()
    } else if prefix.is_empty() {
        rest.trim_start_matches('.').to_string()
    } else if rest.starts_with('[') {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}.{}", rest.trim_start_matches('.'))
    }
}

fn error_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out = index_path(&out, *index),
            Segment::Map { key } | Segment::Enum { variant: key } => out = field_path(&out, key),
            Segment::Unknown => {}
        }
    }
    out
}

fn ignored_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => index_path(&ignored_path(parent), *index),
        Path::Map { parent, key } => field_path(&ignored_path(parent), key),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// Parses and fully validates a flag file, returning the model (not compiled).
pub fn parse_flag_file(text: &str) -> Result<FlagFile, ValidationErrors> {
    crate::compile::FlagSet::from_json(text).map(|set| set.into_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(text: &str) -> Vec<Problem> {
        let mut problems = Problems::default();
        decode(text, &mut problems);
        problems.list
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let found = problems_of("{\"schema_version\": 1,\n \"flags\": [}");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("line 2"), "{:?}", found);
    }

    #[test]
    fn every_unknown_field_is_reported_with_its_path() {
        let text = r#"{"schema_version": 1, "colour": 1, "flags": [
          {"key": "a", "kind": "boolean", "enabled": true, "off_variation": "f",
           "default_variation": "f", "variations": [{"name": "f", "value": false, "x": 1}],
           "rules": [{"clauses": [], "variation": "f", "prio": 2}]}
        ]}"#;
        let paths: Vec<String> = problems_of(text).into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["colour", "flags[0].variations[0].x", "flags[0].rules[0].prio"]);
    }

    #[test]
    fn a_broken_flag_does_not_hide_the_next_one() {
        let text = r#"{"schema_version": 1, "flags": [
          {"key": "a", "kind": "boolean", "enabled": "yes"},
          {"key": "b", "kind": "colour"}
        ]}"#;
        let found = problems_of(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].path, "flags[0].enabled");
        assert_eq!(found[1].path, "flags[1].kind");
        assert!(found[1].message.contains("unknown variant"), "{found:?}");
    }

    #[test]
    fn duplicate_fields_are_reported() {
        let found = problems_of(r#"{"schema_version": 1, "schema_version": 1, "flags": []}"#);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("duplicate field"), "{found:?}");
    }

    #[test]
    fn paths_quote_unusual_keys() {
        assert_eq!(field_path("a", "b"), "a.b");
        assert_eq!(field_path("a", "my env"), "a[\"my env\"]");
        assert_eq!(field_path("", "flags"), "flags");
        assert_eq!(index_path("flags", 3), "flags[3]");
    }
}
