//! Engine answers out. An answer is serialized once by serde (the same serializer the native
//! server uses) and handed to JS as text; the glue (`wasm/js/fast.js`) parses it with the JS
//! engine's `JSON.parse` when the caller wants an object: one crossing per answer (or per
//! `evaluateAll` batch) instead of one per field.

use serde::Serialize;

use crate::error::EvaluateError;

/// JSON text of an answer (or a list of answers).
pub fn to_json<T: Serialize + ?Sized>(answer: &T) -> Result<String, EvaluateError> {
    // Cannot fail for answers (string keys, finite numbers). The error is not formatted:
    // serde_json's `Display` would link every parse message and `io::Error` text (2 KB).
    serde_json::to_string(answer)
        .map_err(|_| EvaluateError::Output("the answer could not be written as JSON".to_owned()))
}

