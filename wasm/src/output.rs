//! Engine answers out, JS values in. An answer is serialized once by serde (the same
//! serializer the native server uses) and parsed by the JS engine's `JSON.parse`: one call
//! across the boundary per answer (or per `evaluateAll` batch) instead of one per field.

use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::EvaluateError;

/// JSON text of an answer (or a list of answers).
pub fn to_json<T: Serialize + ?Sized>(answer: &T) -> Result<String, EvaluateError> {
    // Cannot fail for answers (string keys, finite numbers). The error is not formatted:
    // serde_json's `Display` would link every parse message and `io::Error` text (2 KB).
    serde_json::to_string(answer)
        .map_err(|_| EvaluateError::Output("the answer could not be written as JSON".to_owned()))
}

/// A JS value equal to `JSON.parse(serde_json::to_string(answer))`.
pub fn to_js<T: Serialize + ?Sized>(answer: &T) -> Result<JsValue, EvaluateError> {
    let text = to_json(answer)?;
    js_sys::JSON::parse(&text).map_err(|_| EvaluateError::Output("JSON.parse failed".to_owned()))
}
