//! Unleash compatibility (evaluator/UNLEASH.md): an Unleash client API payload and an Unleash
//! context, both JSON text, in; JSON text out. Evaluation is `edgeflag_evaluator::unleash`.
//! Behind the default feature `unleash` so a lean edge build can leave it out (see README).

use edgeflag_evaluator::unleash::{UnleashContext, UnleashSet};
use wasm_bindgen::prelude::*;

use crate::error::UnleashError;
use crate::input::{self, MAX_CONTEXT_CHARS, MAX_FLAG_FILE_CHARS, MAX_NAME_CHARS};

/// `{name, enabled, variant}` for `featureName`, or an array of them for every feature when it
/// is omitted. Throws an `EdgeflagError` on an unreadable payload (with paths) or context.
#[wasm_bindgen(js_name = evaluateUnleash)]
pub fn evaluate_unleash(
    #[wasm_bindgen(js_name = payloadJson, unchecked_param_type = "string")] payload_json: JsValue,
    #[wasm_bindgen(js_name = contextJson, unchecked_param_type = "string")] context_json: JsValue,
    #[wasm_bindgen(js_name = featureName, unchecked_optional_param_type = "string | null")]
    feature_name: JsValue,
) -> Result<String, UnleashError> {
    let payload = input::string_arg(&payload_json, "Unleash payload", MAX_FLAG_FILE_CHARS)?;
    let context = input::string_arg(&context_json, "Unleash context", MAX_CONTEXT_CHARS)?;
    let feature = input::optional_string_arg(&feature_name, "featureName", MAX_NAME_CHARS)?;
    // Bare wasm32 has no clock in std: date constraints use the JS clock unless the context
    // carries `currentTime`.
    #[cfg(target_arch = "wasm32")]
    let now = Some(js_sys::Date::now() as i64);
    #[cfg(not(target_arch = "wasm32"))]
    let now = edgeflag_evaluator::unleash::now_ms();
    let set = UnleashSet::from_json(&payload).map_err(UnleashError::Payload)?;
    let context = UnleashContext::from_json(&context, now)?;
    let answer = match feature {
        Some(name) => serde_json::to_string(&set.evaluate(&name, &context)),
        None => serde_json::to_string(&set.evaluate_all(&context)),
    };
    answer.map_err(|e| UnleashError::Output(e.to_string()))
}
