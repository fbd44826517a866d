//! Unleash compatibility (evaluator/UNLEASH.md): `UnleashSet`, a payload loaded once and
//! evaluated per request (replace() swaps it atomically), and `evaluateUnleash`, payload and
//! context as JSON text per call. Evaluation is `edgeflag_evaluator::unleash`.
//! Behind the default feature `unleash` so a lean edge build can leave it out (see README).
//!
//! **The wire** (`wasm/js/unleash.js`, like the core's `wire.rs`): per call the glue copies
//! only the context fields the feature reads ([`UnleashSet::reads`]), already resolved as
//! Unleash resolves them (`context[f] ?? context.properties[f]`), into a buffer in WASM memory:
//!
//! ```text
//! u32 count, then count × (u32 field id, u8 tag, u32 byte length, bytes)   little-endian
//!   tag 1 text (UTF-8)      tag 2 JSON kept as is (a top-level currentTime that is no string)
//!   tag 3 a JSON number, compared as the text serde_json writes for it
//! ```
//! and gets back the answer as a code ([`UnleashSet::code`]); the glue keeps one frozen
//! answer object per (feature, code), rendered here once. Whatever the glue cannot copy
//! exactly (a context as JSON text or not a plain object, objects or arrays as values, a
//! lone surrogate, an unknown feature) takes the methods below, which give the old answers
//! and errors.

use edgeflag_evaluator::unleash::{UnleashContext, UnleashSet, CURRENT_TIME};
use serde_json::Value;
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
    /// Where the glue writes contexts (see the module docs).
    input: Vec<u8>,
}

/// Not a code: the context bytes could not be read; the glue takes the old path.
const NO_CODE: u32 = u32::MAX;
const TAG_TEXT: u8 = 1;
const TAG_JSON: u8 = 2;
const TAG_NUMBER: u8 = 3;

/// Reads a context written by the glue for feature `index` (`None` if the bytes are not that).
fn wire_context(set: &UnleashSet, index: usize, bytes: &[u8]) -> Option<UnleashContext> {
    let names = set.field_names();
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let out = bytes.get(at..at.checked_add(n)?)?;
        at += n;
        Some(out)
    };
    let u32_of = |b: &[u8]| -> Option<u32> { Some(u32::from_le_bytes(b.try_into().ok()?)) };
    let count = u32_of(take(4)?)?;
    let mut fields = Vec::with_capacity(count.min(64) as usize);
    let mut user_id = None;
    for _ in 0..count {
        let name = names.get(u32_of(take(4)?)? as usize)?;
        let tag = take(1)?[0];
        let len = u32_of(take(4)?)? as usize;
        let text = std::str::from_utf8(take(len)?).ok()?;
        let value = match tag {
            TAG_TEXT => Value::String(text.to_owned()),
            TAG_JSON => serde_json::from_str::<Value>(text).ok()?,
            TAG_NUMBER => Value::String(serde_json::from_str::<serde_json::Number>(text).ok()?.to_string()),
            _ => return None,
        };
        if name == "userId" {
            if let Value::String(s) = &value {
                user_id = Some(s.clone());
            }
        }
        fields.push((name.clone(), value));
    }
    // The clock only for features that read it (a call into JS otherwise saved).
    let reads_clock = names
        .binary_search_by(|n| n.as_str().cmp(CURRENT_TIME))
        .is_ok_and(|id| set.reads(index).contains(&(id as u32)));
    Some(UnleashContext::from_fields(fields, user_id, if reads_clock { now() } else { None }))
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
        Ok(JsUnleashSet { inner: load_unleash(&payload)?, revision: 1, input: Vec::new() })
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

    /// `getVariant(name, context)`: `{name, payload?, enabled, feature_enabled}`. With a plain
    /// object context the answer is a frozen object shared between calls (one per feature and
    /// answer, `wasm/js/unleash.js`); with JSON text, a fresh one.
    #[wasm_bindgen(js_name = getVariant, unchecked_return_type = "UnleashVariant")]
    pub fn get_variant(
        &self,
        #[wasm_bindgen(js_name = featureName, unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UnleashContextInput | string")] context: JsValue,
    ) -> Result<JsValue, UnleashError> {
        let name = feature(&name)?;
        to_js(&self.inner.get_variant(&name, &unleash_context(&context)?))
    }

    /// Both answers, consistent with each other: `{name, enabled, variant}` (frozen and shared
    /// between calls, like `getVariant`'s).
    #[wasm_bindgen(unchecked_return_type = "UnleashEvaluation")]
    pub fn evaluate(
        &self,
        #[wasm_bindgen(js_name = featureName, unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "UnleashContextInput | string")] context: JsValue,
    ) -> Result<JsValue, UnleashError> {
        let name = feature(&name)?;
        to_js(&self.inner.evaluate(&name, &unleash_context(&context)?))
    }

    /// The context fields some feature reads (the wire's field ids are positions here).
    #[wasm_bindgen(js_name = __wireNames, skip_typescript)]
    pub fn wire_names(&self) -> Vec<String> {
        self.inner.field_names().to_vec()
    }

    /// Per feature, in payload order: `n`, then the `n` field ids it reads.
    #[wasm_bindgen(js_name = __wireReads, skip_typescript)]
    pub fn wire_reads(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for index in 0..self.inner.len() {
            let reads = self.inner.reads(index);
            out.push(reads.len() as u32);
            out.extend_from_slice(reads);
        }
        out
    }

    /// Where to write a context of `len` bytes (0 if too large: take the old path).
    #[wasm_bindgen(js_name = __wireInput, skip_typescript)]
    pub fn wire_input(&mut self, len: u32) -> u32 {
        crate::wire::input_for(&mut self.input, len)
    }

    /// Feature `index` for the context in the input buffer (`len` bytes, 0 for none): its
    /// code (`UnleashSet::code`), or with `variant` false only 0 (off) or 1 (on), which
    /// saves the variant's hash; `NO_CODE` when the bytes cannot be read.
    #[wasm_bindgen(js_name = __wireEvaluate, skip_typescript)]
    pub fn wire_evaluate(&self, index: u32, len: u32, variant: bool) -> u32 {
        let index = index as usize;
        if index >= self.inner.len() {
            return NO_CODE;
        }
        let context = match len {
            0 => Some(UnleashContext::from_fields(Vec::new(), None, now())),
            _ => self.input.get(..len as usize).and_then(|b| wire_context(&self.inner, index, b)),
        };
        let Some(context) = context else { return NO_CODE };
        if variant {
            self.inner.code(index, &context)
        } else {
            self.inner.is_enabled_at(index, &context) as u32
        }
    }

    /// The answer (`{name, enabled, variant}` as JSON text) a code of feature `index` stands
    /// for; empty text for a code the feature cannot give (which the glue's JSON.parse refuses).
    #[wasm_bindgen(js_name = __wireRender, skip_typescript)]
    pub fn wire_render(&self, index: u32, code: u32) -> String {
        self.inner
            .evaluation_of(index as usize, code)
            .and_then(|answer| serde_json::to_string(&answer).ok())
            .unwrap_or_default()
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
