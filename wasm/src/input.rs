//! JS values in, engine inputs out. Objects are read through `JSON.stringify` so a JS caller
//! and a native caller feed the engine the same JSON text; strings are taken as JSON text.
//!
//! Lengths are checked on the JS string *before* it is copied into WASM memory, so a huge
//! input is refused with an error instead of exhausting linear memory (which would trap).

use edgeflag_evaluator::Context;
use js_sys::JsString;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{ContextInputError, InputError};

/// Largest flag file accepted, in UTF-16 units (a 1,000-flag file is about 0.5 M).
pub const MAX_FLAG_FILE_CHARS: u32 = 16 * 1024 * 1024;
/// Largest context accepted, in UTF-16 units.
pub const MAX_CONTEXT_CHARS: u32 = 1024 * 1024;
/// Largest flag key, environment name, salt or unit accepted, in UTF-16 units.
pub const MAX_NAME_CHARS: u32 = 64 * 1024;

/// A JSON value given either as JSON text or as a JS object, returned as JSON text.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn json_text(
    value: &JsValue,
    what: &'static str,
    limit: u32,
) -> Result<String, InputError> {
    let text: JsString = if let Some(s) = value.dyn_ref::<JsString>() {
        s.clone()
    } else if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        // ASCII JSON text, as wasm/js/fast.js passes a large flag file: `TextEncoder` is
        // native, where the glue copies a string character by character in JS that is still
        // cold at load (README "Cold start" measures it). Only ASCII, so that the
        // general UTF-8 validator stays out of the module (wire.rs); other text crosses as
        // a string.
        let len = bytes.length();
        if len > limit {
            return Err(InputError::TooLarge { what, len, limit });
        }
        return crate::wire::ascii_owned(bytes.to_vec())
            .ok_or(InputError::WrongType { what, expected: "ASCII bytes", got: "other bytes".to_owned() });
    } else if value.is_object() {
        let json = js_sys::JSON::stringify(value).map_err(|e| InputError::NotJson {
            what,
            reason: describe_exception(&e),
        })?;
        // stringify returns undefined for functions and symbols; objects always give text.
        json.dyn_into::<JsString>().map_err(|_| InputError::NotJson {
            what,
            reason: "JSON.stringify returned no text".to_owned(),
        })?
    } else {
        return Err(InputError::WrongType {
            what,
            expected: "a JSON string or an object",
            got: js_type(value),
        });
    };
    checked_string(&text, what, limit)
}

/// A required string argument.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn string_arg(value: &JsValue, what: &'static str, limit: u32) -> Result<String, InputError> {
    match value.dyn_ref::<JsString>() {
        Some(s) => checked_string(s, what, limit),
        None => Err(InputError::WrongType { what, expected: "a string", got: js_type(value) }),
    }
}

/// An optional string argument: `undefined` and `null` mean absent.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn optional_string_arg(
    value: &JsValue,
    what: &'static str,
    limit: u32,
) -> Result<Option<String>, InputError> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        string_arg(value, what, limit).map(Some)
    }
}

/// An evaluation context from an object, JSON text, or `undefined`/`null` (anonymous).
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn context(value: &JsValue) -> Result<Context, ContextInputError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Context::anonymous());
    }
    let text = json_text(value, "context", MAX_CONTEXT_CHARS)?;
    Ok(Context::from_json(&text)?)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn checked_string(s: &JsString, what: &'static str, limit: u32) -> Result<String, InputError> {
    let len = s.length();
    if len > limit {
        return Err(InputError::TooLarge { what, len, limit });
    }
    // A JsString always converts; lone surrogates become U+FFFD as in TextEncoder.
    Ok(String::from(s))
}

/// `typeof`-style name of a JS value, for messages.
#[cfg_attr(edgeflag_size, optimize(size))]
fn js_type(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if js_sys::Array::is_array(value) {
        "array".to_owned()
    } else {
        value.js_typeof().as_string().unwrap_or_else(|| "unknown".to_owned())
    }
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn describe_exception(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => e.as_string().unwrap_or_else(|| "exception".to_owned()),
    }
}
