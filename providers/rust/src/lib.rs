//! edgeflag for the `open-feature` crate: flags evaluated in-process by the native engine.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use edgeflag_openfeature::EdgeflagProvider;
//! use open_feature::{EvaluationContext, OpenFeature};
//!
//! let provider = EdgeflagProvider::from_json(&std::fs::read_to_string("flags.json")?)?.with_environment("prod");
//! let flags = provider.handle(); // swap in new versions later: flags.replace(text, Some(version))
//! OpenFeature::singleton_mut().await.set_provider(provider).await;
//! let client = OpenFeature::singleton().await.create_client();
//! let ctx = EvaluationContext::default().with_targeting_key("user-1");
//! let on = client.get_bool_value("new-dashboard", Some(&ctx), None).await.unwrap_or(false);
//! # Ok(()) }
//! ```
//!
//! Answers map to OpenFeature as `edgeflag_evaluator::openfeature` says (the rules shared with
//! the JS providers and the server's OFREP; providers/README.md): a split without a unit
//! serves the flag's default variation with `unitMissing` in the metadata, typed mismatches
//! are `TYPE_MISMATCH`, and the metadata carries `flagSetVersion`, `arm`, `experiment`,
//! `ruleIndex`.
//!
//! Canary metrics: `open-feature` 0.3 has no tracking API, so the provider's [`FlagsHandle`]
//! tells which flags answered a context with a canary arm or an experiment variant
//! ([`FlagsHandle::labelled_events`]), and [`metrics::MetricsReporter`] posts them to the
//! server (feature `http`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use edgeflag_evaluator::model::FlagKind;
use edgeflag_evaluator::openfeature::{resolve, MetadataValue, Resolution};
use edgeflag_evaluator::{Context, ErrorCode, FlagSet, Reason, ValidationErrors};
use open_feature::provider::{FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails};
use open_feature::{
    EvaluationContext, EvaluationContextFieldValue, EvaluationError, EvaluationErrorCode, EvaluationReason,
    EvaluationResult, FlagMetadata, StructValue, Value as OfValue,
};
use serde_json::Value;

#[cfg(feature = "http")]
pub mod http;
pub mod metrics;

/// The flags a provider answers from, shared with the application so that it can swap in new
/// versions (`replace`) while evaluations run.
#[derive(Clone)]
pub struct FlagsHandle {
    current: Arc<RwLock<Arc<Loaded>>>,
    stale: Arc<AtomicBool>,
}

struct Loaded {
    flags: FlagSet,
    /// The server's version number, when the file came from it (metadata `flagSetVersion`).
    version: Option<u64>,
}

impl FlagsHandle {
    fn snapshot(&self) -> Arc<Loaded> {
        // A poisoned lock only means a writer panicked between two whole values: the value is whole.
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    fn store(&self, loaded: Loaded) {
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(loaded),
            Err(p) => *p.into_inner() = Arc::new(loaded),
        }
    }

    /// Swaps in a new flag file. An invalid file is refused with every problem, and the
    /// current flags keep answering; a version not newer than the one held is ignored (`Ok(false)`).
    pub fn replace(&self, text: &str, version: Option<u64>) -> Result<bool, ValidationErrors> {
        let held = self.snapshot().version;
        if let (Some(held), Some(new)) = (held, version) {
            if new <= held {
                return Ok(false);
            }
        }
        let flags = FlagSet::from_json(text)?;
        self.store(Loaded { flags, version });
        self.stale.store(false, Ordering::Relaxed);
        Ok(true)
    }

    /// Marks the flags as possibly out of date (their source failed) or current again: the
    /// provider's status is `STALE` meanwhile. A successful `replace` clears it.
    pub fn mark_stale(&self, stale: bool) {
        self.stale.store(stale, Ordering::Relaxed);
    }

    /// The version held (`None` for files that did not come from a server).
    pub fn version(&self) -> Option<u64> {
        self.snapshot().version
    }

    pub fn is_stale(&self) -> bool {
        self.stale.load(Ordering::Relaxed)
    }

    /// For canary metrics: `(flag, label)` for every flag that answers `context` with a
    /// canary arm (`arm`) or an experiment variant (`variant`), in `env`.
    pub fn labelled_events(&self, context: &EvaluationContext, env: Option<&str>) -> Result<Vec<(String, metrics::Label)>, EvaluationError> {
        let ctx = engine_context(context)?;
        let cur = self.snapshot();
        Ok(cur
            .flags
            .evaluate_all(&ctx, env)
            .into_iter()
            .filter_map(|e| {
                let label = match (e.arm, e.experiment, e.variant) {
                    (Some(arm), _, _) => metrics::Label::Arm(arm.as_str().to_string()),
                    (None, true, Some(v)) => metrics::Label::Variant(v.to_string()),
                    _ => return None,
                };
                Some((e.key.to_string(), label))
            })
            .collect())
    }
}

/// The provider. Cheap to clone handles share the flags ([`Self::handle`]).
pub struct EdgeflagProvider {
    metadata: ProviderMetadata,
    flags: FlagsHandle,
    environment: Option<String>,
}

impl EdgeflagProvider {
    /// From a flag file's text (every problem listed when it is invalid).
    pub fn from_json(text: &str) -> Result<Self, ValidationErrors> {
        Ok(Self::new(FlagSet::from_json(text)?, None))
    }

    /// From compiled flags; `version` is the server's version number when known.
    pub fn new(flags: FlagSet, version: Option<u64>) -> Self {
        EdgeflagProvider {
            metadata: ProviderMetadata::new("edgeflag"),
            flags: FlagsHandle { current: Arc::new(RwLock::new(Arc::new(Loaded { flags, version }))), stale: Arc::new(AtomicBool::new(false)) },
            environment: None,
        }
    }

    /// Evaluates in this environment (`dev`, `staging`, `prod`...).
    pub fn with_environment(mut self, env: impl Into<String>) -> Self {
        self.environment = Some(env.into());
        self
    }

    /// The flags, to swap in new versions while the provider is registered.
    pub fn handle(&self) -> FlagsHandle {
        self.flags.clone()
    }

    pub fn environment(&self) -> Option<&str> {
        self.environment.as_deref()
    }

    /// One flag as OpenFeature sees it, before typing: the engine's typed evaluation
    /// (`TYPE_MISMATCH` for another kind) through the shared rules.
    fn resolve_json(&self, key: &str, kind: FlagKind, context: &EvaluationContext) -> EvaluationResult<ResolutionDetails<Value>> {
        let ctx = engine_context(context)?;
        let cur = self.flags.snapshot();
        let eval = cur.flags.evaluate_as(key, kind, &ctx, self.environment.as_deref());
        match resolve(&eval, cur.version) {
            Resolution::Resolved { value, variant, reason, metadata } => {
                let mut flag_metadata = FlagMetadata::default();
                for (name, v) in metadata.entries() {
                    match v {
                        MetadataValue::Int(i) => flag_metadata.add_value(name, i),
                        MetadataValue::Str(s) => flag_metadata.add_value(name, s.to_string()),
                        MetadataValue::Bool(b) => flag_metadata.add_value(name, b),
                    }
                }
                Ok(ResolutionDetails {
                    value: value.clone(),
                    variant: variant.map(str::to_string),
                    reason: Some(reason_of(reason)),
                    flag_metadata: Some(flag_metadata),
                })
            }
            Resolution::Failed { code, message } => Err(EvaluationError { code: code_of(code, &message), message: Some(message) }),
        }
    }

    fn typed<T>(
        &self,
        key: &str,
        kind: FlagKind,
        context: &EvaluationContext,
        convert: impl FnOnce(&Value) -> Option<T>,
        expected: &str,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        let details = self.resolve_json(key, kind, context)?;
        let Some(value) = convert(&details.value) else {
            return Err(EvaluationError {
                code: EvaluationErrorCode::TypeMismatch,
                message: Some(format!("flag {key:?} served {}, not {expected}", details.value)),
            });
        };
        Ok(ResolutionDetails { value, variant: details.variant, reason: details.reason, flag_metadata: details.flag_metadata })
    }
}

#[async_trait]
impl FeatureProvider for EdgeflagProvider {
    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    fn status(&self) -> ProviderStatus {
        if self.flags.is_stale() {
            ProviderStatus::STALE
        } else {
            ProviderStatus::Ready
        }
    }

    async fn resolve_bool_value(&self, key: &str, context: &EvaluationContext) -> EvaluationResult<ResolutionDetails<bool>> {
        self.typed(key, FlagKind::Boolean, context, Value::as_bool, "a boolean")
    }

    async fn resolve_int_value(&self, key: &str, context: &EvaluationContext) -> EvaluationResult<ResolutionDetails<i64>> {
        self.typed(key, FlagKind::Number, context, Value::as_i64, "an integer")
    }

    async fn resolve_float_value(&self, key: &str, context: &EvaluationContext) -> EvaluationResult<ResolutionDetails<f64>> {
        self.typed(key, FlagKind::Number, context, Value::as_f64, "a number")
    }

    async fn resolve_string_value(&self, key: &str, context: &EvaluationContext) -> EvaluationResult<ResolutionDetails<String>> {
        self.typed(key, FlagKind::String, context, |v| v.as_str().map(str::to_string), "a string")
    }

    async fn resolve_struct_value(&self, key: &str, context: &EvaluationContext) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.typed(
            key,
            FlagKind::Json,
            context,
            // Objects only: a JSON flag serving an array, a scalar or null is not a structure
            // (null included: an empty struct would hide "no value" from the caller).
            |v| match (v.is_object(), to_of_value(v)) {
                (true, OfValue::Struct(s)) => Some(s),
                _ => None,
            },
            "an object",
        )
    }
}

/// An OpenFeature context as the engine's: the targeting key, and each field as JSON (dates as
/// epoch milliseconds, which the engine's date operators read; structs only as `serde_json::Value`).
pub fn engine_context(context: &EvaluationContext) -> Result<Context, EvaluationError> {
    let mut ctx = match &context.targeting_key {
        Some(key) => Context::new(key.clone()),
        None => Context::anonymous(),
    };
    for (name, field) in &context.custom_fields {
        let value = match field {
            EvaluationContextFieldValue::Bool(b) => Value::Bool(*b),
            EvaluationContextFieldValue::Int(i) => Value::from(*i),
            EvaluationContextFieldValue::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            EvaluationContextFieldValue::String(s) => Value::String(s.clone()),
            EvaluationContextFieldValue::DateTime(t) => Value::from((t.unix_timestamp_nanos() / 1_000_000) as i64),
            EvaluationContextFieldValue::Struct(any) => match any.downcast_ref::<Value>() {
                Some(v) => v.clone(),
                None => {
                    return Err(EvaluationError {
                        code: EvaluationErrorCode::InvalidContext,
                        message: Some(format!("context field {name:?}: structs must be serde_json::Value to be read")),
                    })
                }
            },
        };
        ctx.set(name.clone(), value);
    }
    Ok(ctx)
}

fn to_of_value(v: &Value) -> OfValue {
    match v {
        Value::Bool(b) => OfValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => OfValue::Int(i),
            None => OfValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => OfValue::String(s.clone()),
        Value::Array(items) => OfValue::Array(items.iter().map(to_of_value).collect()),
        Value::Object(map) => OfValue::Struct(StructValue { fields: map.iter().map(|(k, v)| (k.clone(), to_of_value(v))).collect() }),
        // OpenFeature values have no null; a null inside an object reads as an empty struct.
        Value::Null => OfValue::Struct(StructValue::default()),
    }
}

fn reason_of(reason: Reason) -> EvaluationReason {
    match reason {
        Reason::Static => EvaluationReason::Static,
        Reason::Default => EvaluationReason::Default,
        Reason::TargetingMatch => EvaluationReason::TargetingMatch,
        Reason::Split => EvaluationReason::Split,
        Reason::Disabled => EvaluationReason::Disabled,
        Reason::Error => EvaluationReason::Error,
        Reason::PrerequisiteFailed => EvaluationReason::Other("PREREQUISITE_FAILED".into()),
    }
}

fn code_of(code: ErrorCode, message: &str) -> EvaluationErrorCode {
    match code {
        ErrorCode::FlagNotFound => EvaluationErrorCode::FlagNotFound,
        ErrorCode::TypeMismatch => EvaluationErrorCode::TypeMismatch,
        ErrorCode::ParseError => EvaluationErrorCode::ParseError,
        ErrorCode::TargetingKeyMissing => EvaluationErrorCode::TargetingKeyMissing,
        ErrorCode::InvalidContext => EvaluationErrorCode::InvalidContext,
        ErrorCode::General => EvaluationErrorCode::General(message.to_string()),
    }
}
