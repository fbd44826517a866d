//! The exported JS surface: `FlagSet`, `PreparedContext` and a few free functions.
//! Each method converts its arguments ([`crate::input`]), calls the engine once and converts
//! the answer ([`crate::output`]); errors become JS `Error`s in [`crate::error`].

use edgeflag_evaluator::model::FlagKind;
use edgeflag_evaluator::{hashing, Context, FlagSet};
use wasm_bindgen::prelude::*;

use crate::error::{EvaluateError, HashError, LoadError};
use crate::input::{self, MAX_CONTEXT_CHARS, MAX_FLAG_FILE_CHARS, MAX_NAME_CHARS};
use crate::output;
use crate::wire::{self, NO_CODE};

/// A validated, compiled flag file. Replace it with `replace()` when a new file arrives: the new file is fully validated first, so a bad file leaves the old set serving.
#[wasm_bindgen(js_name = FlagSet)]
pub struct JsFlagSet {
    inner: FlagSet,
    revision: u32,
    /// The fast path's buffers (`wire`): the context bytes the glue writes and the codes of
    /// an `evaluateAll`. Kept across calls, so a call allocates nothing for them.
    input: Vec<u8>,
    codes: Vec<u32>,
    /// `wire::environments` of `inner`, by id - 1.
    environments: Vec<String>,
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn wire_environments(set: &FlagSet) -> Vec<String> {
    wire::environments(set).into_iter().map(str::to_owned).collect()
}

/// `__wireEvaluate`'s flag index for "every flag".
const ALL_FLAGS: u32 = u32::MAX;
/// `__wireEvaluate`'s flag index for "the layout of the flag file in the input buffer"
/// (`crate::layout`, for `FlagSet.loadValidated`) and the file checksum, as `env`'s bits ask:
/// no new export, for the module's size.
const LAYOUT: u32 = u32::MAX - 1;


/// A context converted once, for evaluating many flags for the same user (the hot loop).
#[wasm_bindgen]
pub struct PreparedContext {
    inner: Context,
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn load(file: &JsValue) -> Result<FlagSet, LoadError> {
    let text = input::json_text(file, "flag file", MAX_FLAG_FILE_CHARS)?;
    FlagSet::from_json(&text).map_err(LoadError::Invalid)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn flag_key(value: &JsValue) -> Result<String, EvaluateError> {
    Ok(input::string_arg(value, "flagKey", MAX_NAME_CHARS)?)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn env(value: &JsValue) -> Result<Option<String>, EvaluateError> {
    Ok(input::optional_string_arg(value, "env", MAX_NAME_CHARS)?)
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn kind(value: &JsValue) -> Result<FlagKind, EvaluateError> {
    let name = input::string_arg(value, "kind", MAX_NAME_CHARS)?;
    FlagKind::parse(&name).ok_or(EvaluateError::Kind(name))
}

#[wasm_bindgen(js_class = FlagSet)]
impl JsFlagSet {
    /// Parses, validates and compiles a flag file (JSON text or an object). Throws an
    /// `EdgeflagError` (code `INVALID_FLAG_FILE`) listing every problem with its path.
    #[wasm_bindgen(constructor)]
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "FlagFile | string")] file: JsValue,
    ) -> Result<JsFlagSet, LoadError> {
        let inner = load(&file)?;
        let environments = wire_environments(&inner);
        Ok(JsFlagSet { inner, revision: 1, input: Vec::new(), codes: Vec::new(), environments })
    }

    /// Swaps in a new flag file atomically: on any error the current flags keep serving and
    /// the error is thrown; on success later evaluations see only the new file.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn replace(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "FlagFile | string")] file: JsValue,
    ) -> Result<(), LoadError> {
        let next = load(&file)?;
        self.environments = wire_environments(&next);
        self.inner = next;
        self.revision = self.revision.wrapping_add(1);
        Ok(())
    }

    /// Counts successful loads: 1 after the constructor, +1 per successful `replace`.
    #[wasm_bindgen(getter)]
    pub fn revision(&self) -> u32 {
        self.revision
    }

    /// The one entry behind `evaluate`, `evaluateAs`, `evaluateAll`, `evaluateJson` and
    /// `evaluateAllJson` when the fast path does not answer: `wasm/js/fast.js` defines those
    /// methods (their types are in `typescript.rs`) and says which by `mode` (`MODE_*`). One
    /// export instead of five keeps the module small. Arguments are checked in the order
    /// the methods list them; an unknown flag is an answer (`FLAG_NOT_FOUND`), not a throw.
    #[wasm_bindgen(js_name = __evaluate, skip_typescript)]
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn evaluate_any(
        &self,
        flag_key_arg: JsValue,
        kind_arg: JsValue,
        context: JsValue,
        env_arg: JsValue,
        mode: u32,
    ) -> Result<String, EvaluateError> {
        let key = if mode & MODE_ALL == 0 { Some(flag_key(&flag_key_arg)?) } else { None };
        let kind = if mode & MODE_TYPED != 0 { Some(kind(&kind_arg)?) } else { None };
        let env = env(&env_arg)?;
        let ctx = input::context(&context)?;
        self.answer(key.as_deref(), kind, &ctx, env.as_deref())
    }

    /// `evaluatePrepared` and `evaluateAllPrepared` (`mode` 0 or `MODE_ALL`), with a context
    /// converted once by `new PreparedContext()`.
    #[wasm_bindgen(js_name = __evaluatePrepared, skip_typescript)]
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn evaluate_prepared_any(
        &self,
        flag_key_arg: JsValue,
        context: &PreparedContext,
        env_arg: JsValue,
        mode: u32,
    ) -> Result<String, EvaluateError> {
        let key = if mode & MODE_ALL == 0 { Some(flag_key(&flag_key_arg)?) } else { None };
        let env = env(&env_arg)?;
        self.answer(key.as_deref(), None, &context.inner, env.as_deref())
    }
}

impl JsFlagSet {
    /// The answer as JSON text; the glue parses it unless the caller asked for text.
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn answer(&self, key: Option<&str>, kind: Option<FlagKind>, ctx: &Context, env: Option<&str>) -> Result<String, EvaluateError> {
        Ok(match (key, kind) {
            (None, _) => output::evaluations_json(&self.inner.evaluate_all(ctx, env)),
            (Some(key), Some(kind)) => output::evaluation_json(&self.inner.evaluate_as(key, kind, ctx, env)),
            (Some(key), None) => output::evaluation_json(&self.inner.evaluate(key, ctx, env)),
        })
    }
}

/// `__evaluate` modes (bits): every flag, typed (`evaluateAs`); the glue's bit 4 (text out)
/// is its own business: the answer is always JSON text here.
const MODE_ALL: u32 = 1;
const MODE_TYPED: u32 = 2;

/// The fast path (`wire`, `wasm/js/fast.js`): not part of the documented API, left out of the
/// `.d.ts`; the glue calls them with the flag index and environment id it resolved.
#[wasm_bindgen(js_class = FlagSet)]
impl JsFlagSet {
    /// The glue's view of the set, read once per revision: `which` 0, attribute names by
    /// id; 1, the environments by id - 1; 2, one string of every flag key in file order,
    /// joined by newlines (keys have no control characters), which crosses 1,000 keys in one
    /// string instead of 1,000.
    #[cfg_attr(edgeflag_size, optimize(size))]
    #[wasm_bindgen(js_name = __wireNames, skip_typescript)]
    pub fn wire_names(&self, which: u32) -> Vec<String> {
        match which {
            0 => self.inner.attribute_names().map(str::to_owned).collect(),
            1 => self.environments.clone(),
            _ => {
                let mut keys = String::new();
                for key in self.inner.flag_keys() {
                    keys.push_str(key);
                    keys.push('\n');
                }
                keys.pop();
                vec![keys]
            }
        }
    }

    /// `wire::reads`.
    #[wasm_bindgen(js_name = __wireReads, skip_typescript)]
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn wire_reads(&self) -> Vec<u32> {
        wire::reads(&self.inner)
    }

    /// Where to write a context of `len` bytes (0 if too large: take the old path).
    #[wasm_bindgen(js_name = __wireInput, skip_typescript)]
    pub fn wire_input(&mut self, len: u32) -> u32 {
        crate::wire::input_for(&mut self.input, len)
    }

    /// Evaluates flag `flag` in environment `env` for the context in the input buffer
    /// (`len` bytes; 0 for a flag that reads nothing): the answer's code, or `NO_CODE`. With
    /// `flag` = `ALL_FLAGS`, every flag: their codes in a `Uint32Array`-ready buffer, and its
    /// address (0 when the context could not be read). One export for both keeps the module
    /// small.
    #[wasm_bindgen(js_name = __wireEvaluate, skip_typescript)]
    pub fn wire_evaluate(&mut self, flag: u32, env: u32, len: u32) -> u32 {
        if flag == LAYOUT {
            let text = self.input.get(..len as usize).unwrap_or_default();
            // `env` bit 0: the layout (not wanted for a text whose byte offsets are not its
            // character offsets); bit 1: the file checksum the manifest publishes as `xxh64`,
            // after the count (low word first), which the SHA-256 path does not pay for.
            self.codes.clear();
            if env & 1 != 0 {
                crate::layout::layout(text, &mut self.codes);
            } else {
                self.codes.push(0);
            }
            let sum = if env & 2 != 0 { edgeflag_evaluator::checksum::file_checksum(text) } else { 0 };
            self.codes.extend_from_slice(&[sum as u32, (sum >> 32) as u32]);
            // The address of the count of the numbers before it.
            return self.codes.as_ptr() as u32 + 4 * (self.codes.len() as u32 - 3);
        }
        let fail = if flag == ALL_FLAGS { 0 } else { NO_CODE };
        let Some(env) = self.wire_env(env).map(|e| e.map(str::to_owned)) else { return fail };
        let ctx = match len {
            0 => Some(Context::anonymous()),
            _ => self.input.get(..len as usize).and_then(|b| wire::context(&self.inner, b)),
        };
        let Some(ctx) = ctx else { return fail };
        if flag != ALL_FLAGS {
            return wire::pack(&self.inner.answer(flag as usize, &ctx, env.as_deref()));
        }
        self.codes.clear();
        for index in 0..self.inner.len() {
            let answer = self.inner.answer(index, &ctx, env.as_deref());
            self.codes.push(wire::pack(&answer));
        }
        self.codes.as_ptr() as u32
    }

    /// The `EvaluationResult` (JSON text) a code stands for: the glue renders each
    /// (flag, environment, code) once and keeps the object.
    #[wasm_bindgen(js_name = __wireRender, skip_typescript)]
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn wire_render(&self, flag: u32, env: u32, code: u32) -> String {
        // Codes come from wire_evaluate: an unknown one (a glue bug) renders as no text, which
        // the glue's JSON.parse refuses.
        match (self.wire_env(env), wire::unpack(code)) {
            (Some(env), Some(answer)) => output::evaluation_json(&self.inner.evaluation(flag as usize, answer, env)),
            _ => String::new(),
        }
    }

    fn wire_env(&self, env: u32) -> Option<Option<&str>> {
        match env {
            0 => Some(None),
            id => self.environments.get(id as usize - 1).map(|name| Some(name.as_str())),
        }
    }
}

/// The module's memory, where the glue writes contexts and reads codes.
#[wasm_bindgen(js_name = __wireMemory, skip_typescript)]
pub fn wire_memory() -> JsValue {
    wasm_bindgen::memory()
}

#[wasm_bindgen]
impl PreparedContext {
    /// Converts a context (object or JSON text) once. Throws `INVALID_CONTEXT` when unusable.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "EvaluationContext | string")] context: JsValue,
    ) -> Result<PreparedContext, EvaluateError> {
        Ok(PreparedContext { inner: input::context(&context)? })
    }

    #[wasm_bindgen(getter, js_name = targetingKey)]
    pub fn targeting_key(&self) -> Option<String> {
        self.inner.targeting_key().map(str::to_owned)
    }
}

/// `hash(salt, unit)` (murmur3 x86 32-bit, seed 0, of `salt + ":" + unit`) or, with
/// `bucket`, `bucket(salt, unit)` in `0..10000`; `wasm/js/fast.js` exports both (see
/// `spec/bucketing-vectors.json`).
#[wasm_bindgen(js_name = __hash, skip_typescript)]
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn hash_or_bucket(salt: JsValue, unit: JsValue, bucket: bool) -> Result<u32, HashError> {
    let salt = input::string_arg(&salt, "salt", MAX_CONTEXT_CHARS)?;
    let unit = input::string_arg(&unit, "unit", MAX_CONTEXT_CHARS)?;
    let hash = hashing::hash(&salt, &unit);
    Ok(if bucket { hashing::bucket_of_hash(hash) } else { hash })
}

/// The engine's version (the crate version), to tag logs and headers.
#[wasm_bindgen(js_name = engineVersion)]
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn engine_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
