//! Unleash compatibility (evaluator/UNLEASH.md): `UnleashSet`, a payload loaded once and
//! evaluated per request (replace() swaps it atomically), and `evaluateUnleash`, payload and
//! context as JSON text per call. Evaluation is `edgeflag_evaluator::unleash`.
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
    let now = now();
    let set = UnleashSet::from_json(&payload).map_err(UnleashError::Payload)?;
    let context = UnleashContext::from_json(&context, now)?;
    let answer = match feature {
        Some(name) => serde_json::to_string(&set.evaluate(&name, &context)),
        None => serde_json::to_string(&set.evaluate_all(&context)),
    };
    answer.map_err(|e| UnleashError::Output(e.to_string()))
}

/// An Unleash payload loaded once and evaluated many times (the Unleash SDKs' model): build it
/// with the client API payload, ask `isEnabled` / `getVariant` per request, and `replace()`
/// it when a new payload arrives. A bad payload throws and leaves the current one serving.
#[wasm_bindgen(js_name = UnleashSet)]
pub struct JsUnleashSet {
    inner: UnleashSet,
    revision: u32,
}

fn load_unleash(payload: &JsValue) -> Result<UnleashSet, UnleashError> {
    let text = input::json_text(payload, "Unleash payload", MAX_FLAG_FILE_CHARS)?;
    UnleashSet::from_json(&text).map_err(UnleashError::Payload)
}

/// The context (an object or its JSON text), with the JS clock for date constraints unless it
/// carries `currentTime`.
fn unleash_context(context: &JsValue) -> Result<UnleashContext, UnleashError> {
    if context.is_undefined() || context.is_null() {
        return Ok(UnleashContext::from_value(serde_json::Value::Object(Default::default()), now())?);
    }
    let text = input::json_text(context, "Unleash context", MAX_CONTEXT_CHARS)?;
    Ok(UnleashContext::from_json(&text, now())?)
}

fn now() -> Option<i64> {
    #[cfg(target_arch = "wasm32")]
    return Some(js_sys::Date::now() as i64);
    #[cfg(not(target_arch = "wasm32"))]
    return edgeflag_evaluator::unleash::now_ms();
}

fn feature(name: &JsValue) -> Result<String, UnleashError> {
    Ok(input::string_arg(name, "featureName", MAX_NAME_CHARS)?)
}

fn to_js<T: serde::Serialize>(answer: &T) -> Result<JsValue, UnleashError> {
    let text = serde_json::to_string(answer).map_err(|e| UnleashError::Output(e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| UnleashError::Output("JSON.parse failed".to_owned()))
}

#[wasm_bindgen(js_class = UnleashSet)]
impl JsUnleashSet {
    /// Reads an Unleash client API payload (`{features, segments}` or a delta `{events}`),
    /// as an object or JSON text. Throws an `EdgeflagError` with the path of a bad field.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "object | string")] payload: JsValue) -> Result<JsUnleashSet, UnleashError> {
        Ok(JsUnleashSet { inner: load_unleash(&payload)?, revision: 1 })
    }

    /// Swaps in a new payload atomically: on any error the current one keeps serving.
    pub fn replace(&mut self, #[wasm_bindgen(unchecked_param_type = "object | string")] payload: JsValue) -> Result<(), UnleashError> {
        self.inner = load_unleash(&payload)?;
        self.revision = self.revision.wrapping_add(1);
        Ok(())
    }

    /// Counts successful loads: 1 after the constructor, +1 per successful `replace`.
    #[wasm_bindgen(getter)]
    pub fn revision(&self) -> u32 {
        self.revision
    }

    /// Feature names in payload order.
    #[wasm_bindgen(getter, js_name = featureNames)]
    pub fn feature_names(&self) -> Vec<String> {
        self.inner.feature_names().map(str::to_owned).collect()
    }

    /// `isEnabled(name, context)`; an unknown feature is disabled.
    #[wasm_bindgen(js_name = isEnabled)]
    pub fn is_enabled(
        &self,
        #[wasm_bindgen(js_name = featureName, unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UnleashContextInput | string")] context: JsValue,
    ) -> Result<bool, UnleashError> {
        let name = feature(&name)?;
        Ok(self.inner.is_enabled(&name, &unleash_context(&context)?))
    }

    /// `getVariant(name, context)`: `{name, payload?, enabled, feature_enabled}`.
    #[wasm_bindgen(js_name = getVariant, unchecked_return_type = "UnleashVariant")]
    pub fn get_variant(
        &self,
        #[wasm_bindgen(js_name = featureName, unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UnleashContextInput | string")] context: JsValue,
    ) -> Result<JsValue, UnleashError> {
        let name = feature(&name)?;
        to_js(&self.inner.get_variant(&name, &unleash_context(&context)?))
    }

    /// Both answers, consistent with each other: `{name, enabled, variant}`.
    #[wasm_bindgen(unchecked_return_type = "UnleashEvaluation")]
    pub fn evaluate(
        &self,
        #[wasm_bindgen(js_name = featureName, unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UnleashContextInput | string")] context: JsValue,
    ) -> Result<JsValue, UnleashError> {
        let name = feature(&name)?;
        to_js(&self.inner.evaluate(&name, &unleash_context(&context)?))
    }

    /// Every feature, in payload order.
    #[wasm_bindgen(js_name = evaluateAll, unchecked_return_type = "UnleashEvaluation[]")]
    pub fn evaluate_all(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UnleashContextInput | string")] context: JsValue,
    ) -> Result<JsValue, UnleashError> {
        to_js(&self.inner.evaluate_all(&unleash_context(&context)?))
    }
}

#[wasm_bindgen(typescript_custom_section)]
const UNLEASH_TYPES: &'static str = r#"
/** An Unleash context: the standard fields, and custom ones under `properties`. */
export interface UnleashContextInput {
  userId?: string; sessionId?: string; remoteAddress?: string; environment?: string;
  appName?: string; currentTime?: string | number;
  properties?: { [name: string]: string | number | boolean | null | undefined };
  [field: string]: unknown;
}
export interface UnleashVariant { name: string; payload?: { type: string; value: string }; enabled: boolean; feature_enabled: boolean; }
export interface UnleashEvaluation { name: string; enabled: boolean; variant: UnleashVariant; }
"#;
