//! The Unleash context (`userId`, `sessionId`, `remoteAddress`, `environment`, `appName`,
//! `currentTime`, `properties: {...}`) as a native [`Context`].
//!
//! Unleash resolves a field as `context[field] ?? context.properties[field]`, so the native
//! context holds the properties not named at the top level, and the top-level fields. Values
//! are text, as both reference engines read them (the Node SDK's `String(value)`, yggdrasil's
//! string map): `7` is `"7"` and `false` is `"false"`; only `null` is absent. An empty value is
//! compared by constraints (a regex may match it) but is no stickiness unit.

use serde_json::Value;

#[cfg(not(target_arch = "wasm32"))]
use std::sync::atomic::{AtomicU32, Ordering};

use crate::context::{json_type, AttributeValue, Context, ContextError};
use crate::lookup_table::SortedMap;

/// The field date constraints read, whatever their `contextName` (as in the Unleash SDKs).
pub const CURRENT_TIME: &str = "currentTime";

/// A context ready for Unleash evaluation.
#[derive(Debug, Clone, Default)]
pub struct UnleashContext {
    pub(crate) native: Context,
    /// `userId` as given, even empty (the `userWithId` strategy matches `""` against an empty
    /// list entry); from `properties` when not at the top level.
    user_id: Option<String>,
    /// Whether `user_id` is also the `userId` field (it is, unless a top-level `userId` is an
    /// object or array): then stickiness reads it here instead of looking the field up,
    /// a third of a rollout's time.
    user_id_is_field: bool,
    /// Where the fields of the set this context is evaluated against are among its
    /// attributes, each found on first use: later reads (another strategy, another call with
    /// this context) are an array read instead of a name lookup, the largest share of a
    /// constraint's time. Native only: in the WASM module a context lives for one call.
    #[cfg(not(target_arch = "wasm32"))]
    positions: std::sync::OnceLock<Positions>,
}

/// A context field a loaded set reads: its name and, once the set is built, its slot (its
/// place in [`super::UnleashSet::field_names`]) under that set's id.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    /// Native only: the WASM module keeps no slots (there a context lives for one call).
    #[cfg(not(target_arch = "wasm32"))]
    slot: Option<Slot>,
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy)]
struct Slot {
    set: u64,
    index: u32,
    count: u32,
}

impl Field {
    pub fn new(name: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            #[cfg(not(target_arch = "wasm32"))]
            slot: None,
        }
    }

    /// Takes the field's slot in set `set`, whose fields are `names` (sorted); a name not
    /// among them keeps no slot and is looked up by name.
    #[cfg_attr(target_arch = "wasm32", allow(unused_variables))]
    pub(crate) fn bind(&mut self, set: u64, names: &[String]) {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.slot = names
                .binary_search_by(|n| n.as_str().cmp(&self.name))
                .ok()
                .map(|index| Slot { set, index: index as u32, count: names.len() as u32 });
        }
    }
}

/// Per slot, [`UNRESOLVED`], [`ABSENT`] or the attribute's position in the native context.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug)]
struct Positions {
    set: u64,
    slots: Box<[AtomicU32]>,
}

#[cfg(not(target_arch = "wasm32"))]
const UNRESOLVED: u32 = u32::MAX;
#[cfg(not(target_arch = "wasm32"))]
const ABSENT: u32 = u32::MAX - 1;

#[cfg(not(target_arch = "wasm32"))]
impl Clone for Positions {
    /// The clone's attributes are the same, so are their positions.
    fn clone(&self) -> Self {
        Positions {
            set: self.set,
            slots: self.slots.iter().map(|p| AtomicU32::new(p.load(Ordering::Relaxed))).collect(),
        }
    }
}

impl UnleashContext {
    /// Reads an Unleash context object. `now_ms` (Unix milliseconds) stands in for a missing
    /// `currentTime`; without it date constraints see no time and do not match.
    pub fn from_value(value: Value, now_ms: Option<i64>) -> Result<Self, ContextError> {
        let Value::Object(map) = value else {
            return Err(ContextError::NotAnObject(json_type(&value)));
        };
        let mut properties = None;
        let mut top = Vec::with_capacity(map.len());
        for (name, value) in map {
            if name == "properties" {
                match value {
                    Value::Object(map) => properties = Some(map),
                    Value::Null => {}
                    other => return Err(ContextError::NotAnObject(json_type(&other))),
                }
            } else if !value.is_null() {
                top.push((name, value));
            }
        }
        // Names come with the request: a sorted map, so no choice of names makes this slow.
        let top_names = SortedMap::from_entries(top.iter().map(|(name, _)| (name.clone(), ())).collect());
        let top_user = top.iter().find(|(name, _)| name == "userId").map(|(_, v)| v);
        let user_id_is_field = top_user.is_none_or(|v| !(v.is_object() || v.is_array()));
        let mut user_id = top_user.and_then(scalar_text);
        let mut native = Context::default();
        // A top-level field hides the property of the same name even when it is empty, `0` or
        // `false` (the SDKs' `context[f] ?? context.properties[f]`); only an absent or `null`
        // one lets the property through.
        for (name, value) in properties.into_iter().flatten() {
            if name == "userId" && user_id.is_none() {
                user_id = scalar_text(&value);
            }
            if !value.is_null() && top_names.get(&name).is_none() {
                native.set(name, as_text(value));
            }
        }
        for (name, value) in top {
            // The clock stays a number when given as one (epoch milliseconds).
            let value = if name == CURRENT_TIME { value } else { as_text(value) };
            native.set(name, value);
        }
        Ok(Self::with_clock(native, user_id, user_id_is_field, now_ms))
    }

    /// A context from fields already resolved the way [`UnleashContext::from_value`] resolves
    /// them: each the top-level value, else the property, `null`s left out; numbers and
    /// booleans as their text, except a top-level `currentTime`, kept as given. `user_id` is
    /// the `userId` as given (see [`UnleashContext::user_id`]). For callers that copy only
    /// the fields a set reads ([`super::UnleashSet::reads`]), such as the WASM glue.
    pub fn from_fields(fields: Vec<(String, Value)>, user_id: Option<String>, now_ms: Option<i64>) -> Self {
        let mut native = Context::default();
        // No `userId` field: `user_id` must be none too for it to stand for the field.
        let mut user_id_is_field = user_id.is_none();
        for (name, value) in fields {
            if name == "userId" {
                user_id_is_field = matches!((&value, &user_id), (Value::String(a), Some(b)) if a == b);
            }
            native.set(name, value);
        }
        Self::with_clock(native, user_id, user_id_is_field, now_ms)
    }

    /// `now_ms` stands in for a missing `currentTime`.
    fn with_clock(mut native: Context, user_id: Option<String>, user_id_is_field: bool, now_ms: Option<i64>) -> Self {
        if native.attribute(CURRENT_TIME).is_none() {
            if let Some(ms) = now_ms {
                native.set(CURRENT_TIME, ms);
            }
        }
        UnleashContext {
            native,
            user_id,
            user_id_is_field,
            #[cfg(not(target_arch = "wasm32"))]
            positions: std::sync::OnceLock::new(),
        }
    }

    /// The `userId` as given (an empty one too), for the `userWithId` strategy.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    pub fn from_json(text: &str, now_ms: Option<i64>) -> Result<Self, ContextError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ContextError::Syntax(e.to_string()))?;
        Self::from_value(value, now_ms)
    }

    /// A field as text, the way the SDKs' `resolveContextValue` returns it; an empty one is
    /// absent (what stickiness and the typed operators see).
    pub fn field(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        if self.user_id_is_field && name == "userId" {
            return self.user_id.as_deref().filter(|s| !s.is_empty()).map(std::borrow::Cow::Borrowed);
        }
        match self.native.attribute(name)? {
            Value::String(s) if !s.is_empty() => Some(std::borrow::Cow::Borrowed(s)),
            Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
            _ => None,
        }
    }

    /// A field's attribute (absent or null: `None`), as `native.attribute_entry(name)` finds
    /// it, through the field's slot where there is one.
    #[inline(always)]
    pub(crate) fn entry(&self, field: &Field) -> Option<&AttributeValue> {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(slot) = field.slot {
            if let Some(positions) = self.positions.get() {
                if positions.set == slot.set {
                    if let Some(cell) = positions.slots.get(slot.index as usize) {
                        // Relaxed: every thread that resolves a slot stores the same position.
                        return match cell.load(Ordering::Relaxed) {
                            ABSENT => None,
                            UNRESOLVED => self.resolve_slot(field, cell),
                            at => self.native.attribute_entry_at(at as usize),
                        };
                    }
                }
                return self.native.attribute_entry(&field.name);
            }
            return self.first_slot(field, slot);
        }
        self.native.attribute_entry(&field.name)
    }

    /// The first slot read: the first set to evaluate this context gets the slots; another set
    /// looks its fields up by name.
    #[cfg(not(target_arch = "wasm32"))]
    #[cold]
    fn first_slot(&self, field: &Field, slot: Slot) -> Option<&AttributeValue> {
        let positions = self.positions.get_or_init(|| Positions {
            set: slot.set,
            slots: (0..slot.count).map(|_| AtomicU32::new(UNRESOLVED)).collect(),
        });
        match positions.slots.get(slot.index as usize) {
            Some(cell) if positions.set == slot.set => self.resolve_slot(field, cell),
            _ => self.native.attribute_entry(&field.name),
        }
    }

    /// Looks a field up by name and keeps where it is in its slot.
    #[cfg(not(target_arch = "wasm32"))]
    #[cold]
    fn resolve_slot(&self, field: &Field, cell: &AtomicU32) -> Option<&AttributeValue> {
        let at = self.native.attribute_position(&field.name);
        cell.store(at.map_or(ABSENT, |p| p as u32), Ordering::Relaxed);
        self.native.attribute_entry_at(at?)
    }

    /// [`UnleashContext::field`] through the field's slot.
    pub(crate) fn field_value(&self, field: &Field) -> Option<std::borrow::Cow<'_, str>> {
        if self.user_id_is_field && field.name == "userId" {
            return self.field(&field.name);
        }
        match self.entry(field)?.value() {
            Value::String(s) if !s.is_empty() => Some(std::borrow::Cow::Borrowed(s)),
            Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
            _ => None,
        }
    }

    /// A field that is non-empty text, with its cached readings (version, address).
    #[inline]
    pub(crate) fn text_entry_of(&self, field: &Field) -> Option<(&AttributeValue, &str)> {
        let entry = self.entry(field)?;
        match entry.value() {
            Value::String(s) if !s.is_empty() => Some((entry, s.as_str())),
            _ => None,
        }
    }

    pub fn native(&self) -> &Context {
        &self.native
    }
}

/// A string, number or boolean as text (what the SDKs compare); `None` for the rest.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A context value as the SDKs compare it: numbers and booleans as their text; objects and
/// arrays as they are (the native operators read arrays element by element).
fn as_text(value: Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `field("userId")` reads the kept `user_id` when it stands for the field; whatever the
    /// context, it must answer as a lookup in the native context would.
    #[test]
    fn the_kept_user_id_answers_as_the_userid_field() {
        let values = [json!(null), json!(""), json!("u-1"), json!(42), json!(1.5), json!(true), json!(["u-2"]), json!({"a": 1})];
        for top in values.iter().chain([&Value::Bool(false)]) {
            for property in &values {
                for (with_top, with_property) in [(true, true), (true, false), (false, true)] {
                    let mut context = serde_json::Map::new();
                    if with_top {
                        context.insert("userId".into(), top.clone());
                    }
                    if with_property {
                        context.insert("properties".into(), json!({"userId": property}));
                    }
                    let ctx = UnleashContext::from_value(Value::Object(context.clone()), None).unwrap();
                    let looked_up = match ctx.native.attribute("userId") {
                        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    };
                    assert_eq!(ctx.field("userId").map(|c| c.into_owned()), looked_up, "{context:?}");
                }
            }
        }
        let fields = |v: Value| vec![("userId".to_owned(), v)];
        let given = UnleashContext::from_fields(fields(json!("a")), Some("b".into()), None);
        assert_eq!(given.field("userId").as_deref(), Some("a"), "a user_id that is not the field is not read");
        let given = UnleashContext::from_fields(fields(json!(["a"])), Some("a".into()), None);
        assert_eq!(given.field("userId"), None);
        let given = UnleashContext::from_fields(Vec::new(), Some("a".into()), None);
        assert_eq!(given.field("userId"), None);
    }
}
