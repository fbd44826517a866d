//! The Unleash context (`userId`, `sessionId`, `remoteAddress`, `environment`, `appName`,
//! `currentTime`, `properties: {...}`) as a native [`Context`].
//!
//! Unleash resolves a field as `context[field] || context.properties[field]`, so the native
//! context holds the properties with the truthy top-level fields laid over them.

use serde_json::Value;

use crate::context::{json_type, Context, ContextError};

/// The field date constraints read, whatever their `contextName` (as in the Unleash SDKs).
pub const CURRENT_TIME: &str = "currentTime";

/// A context ready for Unleash evaluation.
#[derive(Debug, Clone, Default)]
pub struct UnleashContext {
    pub(crate) native: Context,
}

impl UnleashContext {
    /// Reads an Unleash context object. `now_ms` (Unix milliseconds) stands in for a missing
    /// `currentTime`; without it date constraints see no time and do not match.
    pub fn from_value(value: Value, now_ms: Option<i64>) -> Result<Self, ContextError> {
        let Value::Object(map) = value else {
            return Err(ContextError::NotAnObject(json_type(&value)));
        };
        let mut native = Context::default();
        let mut top = Vec::with_capacity(map.len());
        for (name, value) in map {
            if name == "properties" {
                match value {
                    Value::Object(properties) => {
                        for (name, value) in properties {
                            if truthy(&value) {
                                native.set(name, value);
                            }
                        }
                    }
                    Value::Null => {}
                    other => return Err(ContextError::NotAnObject(json_type(&other))),
                }
            } else if truthy(&value) {
                top.push((name, value));
            }
        }
        for (name, value) in top {
            native.set(name, value);
        }
        if native.attribute(CURRENT_TIME).is_none() {
            if let Some(ms) = now_ms {
                native.set(CURRENT_TIME, ms);
            }
        }
        Ok(UnleashContext { native })
    }

    pub fn from_json(text: &str, now_ms: Option<i64>) -> Result<Self, ContextError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ContextError::Syntax(e.to_string()))?;
        Self::from_value(value, now_ms)
    }

    /// A field as text, the way the SDKs' `resolveContextValue` returns it (empty is absent).
    pub fn field(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        match self.native.attribute(name)? {
            Value::String(s) if !s.is_empty() => Some(std::borrow::Cow::Borrowed(s)),
            Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
            Value::Bool(true) => Some(std::borrow::Cow::Borrowed("true")),
            _ => None,
        }
    }

    pub fn native(&self) -> &Context {
        &self.native
    }
}

/// JS truthiness for context values: `""`, `null`, `false` and `0` count as absent.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        _ => true,
    }
}

/// The wall clock in Unix milliseconds, where the platform has one (not bare wasm32).
pub fn now_ms() -> Option<i64> {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        i64::try_from(since.as_millis()).ok()
    }
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        None
    }
}
