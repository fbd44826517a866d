//! The evaluation context: who is asking. OpenFeature's flat shape:
//! `{"targetingKey": "user-1", "country": "FR", "plan": "pro", "tags": ["beta"]}`.

use std::net::IpAddr;

use semver::Version;
use serde_json::Value;

use edgeflag_readers::json_reader::Json;
use crate::lookup_table::SortedMap;

/// The attribute name that refers to the context's targeting key.
pub const TARGETING_KEY: &str = "targetingKey";

/// A user (or device, session, request) with attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    targeting_key: Option<String>,
    /// From the request, so a sorted map: no choice of names can make it slow (see `lookup_table`).
    attributes: SortedMap<AttributeValue>,
}

/// Where a context keeps a reading: `OnceLock` natively (contexts are `Sync`); on wasm32,
/// which has no threads, `OnceCell`, without the `Once` machinery (smaller module).
#[cfg(not(target_arch = "wasm32"))]
type Cache<T> = std::sync::OnceLock<T>;
#[cfg(target_arch = "wasm32")]
type Cache<T> = std::cell::OnceCell<T>;

/// An attribute's value and, for a string, its readings as a version, an address and in
/// lower case: each made the first time a clause needs it, then kept with the context, so
/// evaluating many flags (or one flag many times) for a context parses each once.
#[derive(Debug, Clone)]
pub struct AttributeValue {
    value: Value,
    semver: Cache<Option<Version>>,
    ip: Cache<Option<IpAddr>>,
    lowercase: Cache<Box<str>>,
}

impl PartialEq for AttributeValue {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl AttributeValue {
    fn new(value: Value) -> Self {
        AttributeValue { value, semver: Cache::new(), ip: Cache::new(), lowercase: Cache::new() }
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The string as a semantic version (surrounding spaces ignored), if it is one.
    pub fn semver(&self, s: &str) -> Option<&Version> {
        self.semver.get_or_init(|| Version::parse(s.trim()).ok()).as_ref()
    }

    /// The string as an IP address (surrounding spaces ignored), if it is one.
    pub fn ip(&self, s: &str) -> Option<&IpAddr> {
        self.ip.get_or_init(|| s.trim().parse().ok()).as_ref()
    }

    /// The string in lower case ([`edgeflag_readers::lowercase`]).
    pub fn lowercase(&self, s: &str) -> &str {
        self.lowercase.get_or_init(|| edgeflag_readers::lowercase::to_lowercase(s).into_boxed_str())
    }
}

/// Why a context could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContextError {
    #[error("context is not valid JSON: {0}")]
    Syntax(String),
    #[error("context must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    #[error("context.targetingKey must be a string, got {0}")]
    TargetingKeyType(&'static str),
}

impl Context {
    /// A context with only a targeting key.
    pub fn new(targeting_key: impl Into<String>) -> Self {
        Context { targeting_key: Some(targeting_key.into()), attributes: SortedMap::default() }
    }

    /// An anonymous context (no targeting key): splits that need a unit will not match.
    pub fn anonymous() -> Self {
        Context::default()
    }

    /// Adds or replaces an attribute. `targetingKey` sets the targeting key.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set(name, value);
        self
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        let name = name.into();
        let value = value.into();
        if name == TARGETING_KEY {
            self.targeting_key = match value {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
        } else {
            self.attributes.insert(name, AttributeValue::new(value));
        }
    }

    /// Reads JSON text (the engine's own reader, [`edgeflag_readers::json_reader`]): an object, as
    /// [`Context::from_value`] reads it.
    pub fn from_json(text: &str) -> Result<Self, ContextError> {
        let json = edgeflag_readers::json_reader::parse(text).map_err(|e| ContextError::Syntax(e.message))?;
        let Json::Object(entries) = json else {
            return Err(ContextError::NotAnObject(json.type_name()));
        };
        // Of two equal keys the last counts, as in a `serde_json::Value`.
        let mut targeting_key = None;
        let mut attributes = Vec::with_capacity(entries.len());
        for (name, json) in entries {
            if name == TARGETING_KEY {
                targeting_key = Some(json.into_value());
            } else {
                attributes.push((name.into_owned(), AttributeValue::new(json.into_value())));
            }
        }
        let targeting_key = match targeting_key {
            Some(value) => targeting_key_of(value)?,
            None => None,
        };
        Ok(Context { targeting_key, attributes: SortedMap::from_entries(attributes) })
    }

    /// Reads a JSON object. `targetingKey` must be a string (or a number, taken in decimal).
    pub fn from_value(value: Value) -> Result<Self, ContextError> {
        let Value::Object(map) = value else {
            return Err(ContextError::NotAnObject(json_type(&value)));
        };
        let mut targeting_key = None;
        let mut attributes = Vec::with_capacity(map.len());
        for (name, value) in map {
            if name == TARGETING_KEY {
                targeting_key = targeting_key_of(value)?;
            } else {
                attributes.push((name, AttributeValue::new(value)));
            }
        }
        Ok(Context { targeting_key, attributes: SortedMap::from_entries(attributes) })
    }

    /// From a targeting key (a string, a number taken in decimal, or null) and attributes
    /// (of repeated names the last counts), as [`Context::from_value`] reads an object.
    pub fn from_parts(targeting_key: Option<Value>, attributes: Vec<(String, Value)>) -> Result<Self, ContextError> {
        let targeting_key = match targeting_key {
            Some(value) => targeting_key_of(value)?,
            None => None,
        };
        let mut entries = Vec::with_capacity(attributes.len());
        for (name, value) in attributes {
            entries.push((name, AttributeValue::new(value)));
        }
        // Callers that write names in the map's order (the WASM glue) skip the sort.
        let attributes = SortedMap::from_sorted(entries).unwrap_or_else(SortedMap::from_entries);
        Ok(Context { targeting_key, attributes })
    }

    pub fn targeting_key(&self) -> Option<&str> {
        self.targeting_key.as_deref()
    }

    /// An attribute's value, or `None` when absent or JSON null.
    pub fn attribute(&self, name: &str) -> Option<&Value> {
        self.attributes.get(name).map(|a| &a.value).filter(|v| !v.is_null())
    }

    /// An attribute with its cached readings, or `None` when absent or JSON null.
    pub fn attribute_entry(&self, name: &str) -> Option<&AttributeValue> {
        self.attributes.get(name).filter(|a| !a.value.is_null())
    }

    /// Where an attribute is among the context's (JSON null included), for
    /// [`Context::attribute_entry_at`]: a caller that reads one attribute many times looks it
    /// up once (the Unleash context keeps these per field a set reads).
    pub fn attribute_position(&self, name: &str) -> Option<usize> {
        self.attributes.position(name)
    }

    /// The attribute at a position from [`Context::attribute_position`], or `None` when it is
    /// JSON null; as [`Context::attribute_entry`] answers for its name.
    pub fn attribute_entry_at(&self, position: usize) -> Option<&AttributeValue> {
        self.attributes.value_at(position).filter(|a| !a.value.is_null())
    }

    /// Every attribute (JSON nulls included), shorter names first.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.attributes.iter().map(|(name, a)| (name, &a.value))
    }
}

/// `targetingKey`: a string, a number (in decimal) or null (none).
fn targeting_key_of(value: Value) -> Result<Option<String>, ContextError> {
    match value {
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Null => Ok(None),
        other => Err(ContextError::TargetingKeyType(json_type(&other))),
    }
}

/// The JSON type name of a value, for messages.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flat_openfeature_context() {
        let c = Context::from_json(r#"{"targetingKey":"u1","country":"FR","n":null}"#).unwrap();
        assert_eq!(c.targeting_key(), Some("u1"));
        assert_eq!(c.attribute("country"), Some(&Value::from("FR")));
        assert_eq!(c.attribute("n"), None);
        assert_eq!(c.attribute("targetingKey"), None);
    }

    #[test]
    fn rejects_non_objects_and_bad_keys() {
        assert_eq!(Context::from_json("[1]"), Err(ContextError::NotAnObject("array")));
        assert_eq!(
            Context::from_json(r#"{"targetingKey": true}"#),
            Err(ContextError::TargetingKeyType("boolean"))
        );
        assert!(matches!(Context::from_json("{"), Err(ContextError::Syntax(_))));
    }

    #[test]
    fn numeric_targeting_key_is_plain_decimal() {
        let c = Context::from_json(r#"{"targetingKey": 42}"#).unwrap();
        assert_eq!(c.targeting_key(), Some("42"));
    }
}
