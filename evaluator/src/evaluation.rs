//! Evaluation results and the precedence that produces them.
//!
//! Precedence, for an enabled flag in the requested environment:
//! 1. flag disabled → `off_variation`, reason `DISABLED`;
//! 2. a prerequisite flag does not serve its required variation → `off_variation`,
//!    reason `PREREQUISITE_FAILED`;
//! 3. targeting key on the deny list → `off_variation`, reason `TARGETING_MATCH`;
//!    on an allow list → that variation, reason `TARGETING_MATCH`;
//! 4. rules in order: the first whose clauses all match → its variation, `TARGETING_MATCH`
//!    with `ruleIndex`;
//! 5. the split: canary (arm `canary` or `baseline`), experiment (variant by weight), or
//!    rollout → reason `SPLIT`. Units outside a rollout or experiment's traffic fall through;
//!    a missing unit (no stickiness value) means the split does not match, with error code
//!    `TARGETING_KEY_MISSING` beside the default value;
//! 6. `default_variation`, reason `DEFAULT` (or `STATIC` when the flag has no targeting).

use serde::Serialize;
use serde_json::Value;

use crate::compile::{CompiledTargeting, FlagSet, Split, Stickiness};
use crate::context::Context;
use crate::hashing;
use crate::matching::SegmentLookup;
use crate::model::{CanaryStatus, FlagKind};
use edgeflag_readers::json_text::json_quoted as q;

/// Why a value was served (OpenFeature reason names, plus `PREREQUISITE_FAILED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The flag has no targeting: everyone gets the default variation.
    Static,
    /// An individual target, deny list or rule matched.
    TargetingMatch,
    /// A rollout, canary or experiment assigned the unit by hash.
    Split,
    /// The flag (or its environment) is switched off.
    Disabled,
    /// Targeting exists but nothing matched.
    Default,
    /// A prerequisite flag did not serve the required variation.
    PrerequisiteFailed,
    /// No value could be served; see the error code.
    Error,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Disabled => "DISABLED",
            Reason::Default => "DEFAULT",
            Reason::PrerequisiteFailed => "PREREQUISITE_FAILED",
            Reason::Error => "ERROR",
        }
    }
}

/// OpenFeature error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    FlagNotFound,
    TypeMismatch,
    ParseError,
    TargetingKeyMissing,
    InvalidContext,
    General,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
            ErrorCode::TypeMismatch => "TYPE_MISMATCH",
            ErrorCode::ParseError => "PARSE_ERROR",
            ErrorCode::TargetingKeyMissing => "TARGETING_KEY_MISSING",
            ErrorCode::InvalidContext => "INVALID_CONTEXT",
            ErrorCode::General => "GENERAL",
        }
    }
}

/// Which side of a canary a unit is on, so edges can tag their metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arm {
    Baseline,
    Canary,
}

impl Arm {
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Baseline => "baseline",
            Arm::Canary => "canary",
        }
    }
}

// Serialized as their `as_str` names: what serde's derive with `rename_all` writes, with one
// small function instead of a derive per enum (a smaller WASM module).
macro_rules! serialize_as_str {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    )*};
}
serialize_as_str!(Reason, ErrorCode, Arm);

/// The answer for one flag. Borrows the flag set: evaluating allocates nothing on success.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation<'a> {
    pub key: &'a str,
    /// `None` only with reason `ERROR`.
    pub value: Option<&'a Value>,
    /// The served variation's name.
    pub variant: Option<&'a str>,
    pub reason: Reason,
    /// Index of the matching rule (reason `TARGETING_MATCH` from a rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<usize>,
    /// Canary arm, for canary flags (also after rollback or completion).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arm: Option<Arm>,
    /// True when the value came from an experiment's weighted split.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub experiment: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl<'a> Evaluation<'a> {
    /// An answer with no value.
    pub fn error(key: &'a str, code: ErrorCode, message: impl Into<String>) -> Self {
        Evaluation {
            key,
            value: None,
            variant: None,
            reason: Reason::Error,
            rule_index: None,
            arm: None,
            experiment: false,
            error_code: Some(code),
            error_message: Some(message.into()),
        }
    }
}

impl SegmentLookup for FlagSet {
    fn in_segment(&self, segment: usize, context: &Context) -> bool {
        let Some(segment) = self.segments.get(segment) else { return false };
        if let Some(key) = context.targeting_key() {
            if segment.excluded.contains(key) {
                return false;
            }
            if segment.included.contains(key) {
                return true;
            }
        }
        segment.rules.iter().any(|clauses| clauses.iter().all(|c| c.matches(context, self)))
    }
}

/// A unit to hash: borrowed for strings, formatted on the stack for integers.
enum Unit<'c> {
    Str(&'c str),
    Int(itoa::Buffer, NumberRepr),
}

#[derive(Clone, Copy)]
enum NumberRepr {
    Signed(i64),
    Unsigned(u64),
}

impl Unit<'_> {
    fn as_str(&mut self) -> &str {
        match self {
            Unit::Str(s) => s,
            Unit::Int(buffer, NumberRepr::Signed(n)) => buffer.format(*n),
            Unit::Int(buffer, NumberRepr::Unsigned(n)) => buffer.format(*n),
        }
    }
}

/// The unit for hashing: a string attribute as is, an integer in plain decimal; anything else
/// (missing, float, boolean, object) is no unit.
fn unit_of<'c>(stickiness: &Stickiness, context: &'c Context) -> Option<Unit<'c>> {
    match stickiness {
        Stickiness::TargetingKey => context.targeting_key().map(Unit::Str),
        Stickiness::Attribute(name) => match context.attribute(name)? {
            Value::String(s) => Some(Unit::Str(s)),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Some(Unit::Int(itoa::Buffer::new(), NumberRepr::Signed(i)))
                } else {
                    n.as_u64().map(|u| Unit::Int(itoa::Buffer::new(), NumberRepr::Unsigned(u)))
                }
            }
            _ => None,
        },
    }
}

/// An answer without its text: which variation, why, and the details. `Copy` and built without
/// allocating; [`FlagSet::evaluation`] turns it into an [`Evaluation`]. The same flag,
/// environment and answer always render the same `Evaluation`, so callers that see many
/// answers (the WASM glue, flag handles) can keep the rendered ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Answer {
    /// Index of the served variation in the flag's `variations` (`None` with reason `ERROR`).
    pub variation: Option<usize>,
    pub reason: Reason,
    pub rule_index: Option<usize>,
    pub arm: Option<Arm>,
    pub experiment: bool,
    /// `INVALID_CONTEXT` (unknown environment), `TARGETING_KEY_MISSING` (no unit for the
    /// split) or `FLAG_NOT_FOUND` (no flag at that index).
    pub error_code: Option<ErrorCode>,
}

impl Answer {
    fn serve(variation: usize, reason: Reason) -> Self {
        Answer { variation: Some(variation), reason, rule_index: None, arm: None, experiment: false, error_code: None }
    }

    fn error(code: ErrorCode) -> Self {
        Answer { variation: None, reason: Reason::Error, rule_index: None, arm: None, experiment: false, error_code: Some(code) }
    }
}

impl FlagSet {
    /// Evaluates one flag. `env` selects environment overrides (`None`: the base flag). The
    /// answer borrows from the set and from `key` (a missing flag's answer names the key the
    /// caller asked for).
    pub fn evaluate<'a>(&'a self, key: &'a str, context: &Context, env: Option<&str>) -> Evaluation<'a> {
        match self.index.get(key) {
            Some(&index) => self.evaluation(index, self.answer(index, context, env), env),
            None => Evaluation::error(key, ErrorCode::FlagNotFound, format!("flag {} not found", q(key))),
        }
    }

    /// Evaluates one flag, failing with `TYPE_MISMATCH` unless it is of `kind`.
    pub fn evaluate_as<'a>(
        &'a self,
        key: &'a str,
        kind: FlagKind,
        context: &Context,
        env: Option<&str>,
    ) -> Evaluation<'a> {
        let result = self.evaluate(key, context, env);
        match self.index.get(key) {
            Some(&index) if self.flags[index].kind != kind => Evaluation::error(
                result.key,
                ErrorCode::TypeMismatch,
                format!("flag {} is {}, not {}", q(key), self.flags[index].kind.as_str(), kind.as_str()),
            ),
            _ => result,
        }
    }

    /// Evaluates every flag, in file order (for bootstrapping clients).
    pub fn evaluate_all<'a>(&'a self, context: &Context, env: Option<&str>) -> Vec<Evaluation<'a>> {
        (0..self.flags.len()).map(|i| self.evaluation(i, self.answer(i, context, env), env)).collect()
    }

    /// Whether `env` may be used (declared, or no environments declared).
    pub fn knows_environment(&self, env: &str) -> bool {
        self.environments.is_empty() || self.environments.contains(env)
    }

    /// The position of a flag in the file (what [`FlagSet::answer`] takes).
    pub fn flag_index(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// The kind of the flag at `index`.
    pub fn flag_kind(&self, index: usize) -> Option<FlagKind> {
        self.flags.get(index).map(|f| f.kind)
    }

    /// Evaluates the flag at `index` (see [`FlagSet::flag_index`]) without building text:
    /// allocates nothing. An index past the end answers `FLAG_NOT_FOUND`.
    pub fn answer(&self, index: usize, context: &Context, env: Option<&str>) -> Answer {
        if index >= self.flags.len() {
            return Answer::error(ErrorCode::FlagNotFound);
        }
        match env {
            Some(name) if !self.knows_environment(name) => Answer::error(ErrorCode::InvalidContext),
            _ => self.answer_at(index, context, env, 0),
        }
    }

    /// The [`Evaluation`] of an [`Answer`] of the flag at `index` in `env` (the environment
    /// the answer was given for: messages name it).
    pub fn evaluation(&self, index: usize, answer: Answer, env: Option<&str>) -> Evaluation<'_> {
        let Some(source) = self.file.flags.get(index) else {
            return Evaluation::error("", ErrorCode::FlagNotFound, format!("no flag at index {index}"));
        };
        let served = answer.variation.and_then(|v| source.variations.get(v));
        let error_message = answer.error_code.map(|code| match code {
            ErrorCode::InvalidContext => format!("unknown environment {}", q(env.unwrap_or_default())),
            ErrorCode::TargetingKeyMissing => {
                let stickiness = self.targeting(index, env).split.as_ref().map_or("targetingKey", |s| s.stickiness().name());
                format!("no unit for the split: context attribute {} is missing or not a string or integer", q(stickiness))
            }
            other => other.as_str().to_owned(),
        });
        Evaluation {
            key: source.key.as_str(),
            value: served.map(|v| &v.value),
            variant: served.map(|v| v.name.as_str()),
            reason: answer.reason,
            rule_index: answer.rule_index,
            arm: answer.arm,
            experiment: answer.experiment,
            error_code: answer.error_code,
            error_message,
        }
    }

    /// The effective targeting of a flag in an environment (the base one when the
    /// environment has no override for it).
    fn targeting(&self, index: usize, env: Option<&str>) -> &CompiledTargeting {
        let flag = &self.flags[index];
        match env {
            Some(name) => flag.environments.get(name).unwrap_or(&flag.base),
            None => &flag.base,
        }
    }

    /// `env` is known (checked once by the caller).
    fn answer_at(&self, index: usize, context: &Context, env: Option<&str>, depth: usize) -> Answer {
        let flag = &self.flags[index];
        let targeting = self.targeting(index, env);
        if !targeting.enabled {
            return Answer::serve(flag.off_variation, Reason::Disabled);
        }
        for &(prerequisite, required) in &flag.prerequisites {
            // Validation bounds the depth; this guard keeps evaluation total regardless.
            let passed = depth < crate::compile::MAX_PREREQUISITE_DEPTH && {
                let result = self.answer_at(prerequisite, context, env, depth + 1);
                result.error_code.is_none() && result.variation == Some(required)
            };
            if !passed {
                return Answer::serve(flag.off_variation, Reason::PrerequisiteFailed);
            }
        }
        if let Some(key) = context.targeting_key() {
            if targeting.deny.contains(key) {
                return Answer::serve(flag.off_variation, Reason::TargetingMatch);
            }
            if let Some(&variation) = targeting.targets.get(key) {
                return Answer::serve(variation, Reason::TargetingMatch);
            }
        }
        for (rule_index, rule) in targeting.rules.iter().enumerate() {
            if rule.clauses.iter().all(|clause| clause.matches(context, self)) {
                return Answer { rule_index: Some(rule_index), ..Answer::serve(rule.variation, Reason::TargetingMatch) };
            }
        }
        if let Some(split) = &targeting.split {
            if let Some(result) = split_answer(targeting, split, context) {
                return result;
            }
        }
        let reason = if targeting.has_targeting() { Reason::Default } else { Reason::Static };
        Answer::serve(targeting.default_variation, reason)
    }
}

/// `None` when the unit falls outside the split (the default applies).
fn split_answer(targeting: &CompiledTargeting, split: &Split, context: &Context) -> Option<Answer> {
    let stickiness = match split {
        Split::Canary { status: CanaryStatus::RolledBack, baseline, .. } => {
            return Some(Answer { arm: Some(Arm::Baseline), ..Answer::serve(*baseline, Reason::Split) });
        }
        Split::Canary { status: CanaryStatus::Completed, canary, .. } => {
            return Some(Answer { arm: Some(Arm::Canary), ..Answer::serve(*canary, Reason::Split) });
        }
        _ => split.stickiness(),
    };
    let Some(mut unit) = unit_of(stickiness, context) else {
        return Some(Answer {
            error_code: Some(ErrorCode::TargetingKeyMissing),
            ..Answer::serve(targeting.default_variation, Reason::Default)
        });
    };
    let unit = unit.as_str();
    match split {
        Split::Rollout { percent_bp, variation, salt, .. } => {
            hashing::in_rollout(salt, unit, *percent_bp).then(|| Answer::serve(*variation, Reason::Split))
        }
        Split::Canary { baseline, canary, percent_bp, salt, .. } => {
            let (arm, variation) = if hashing::in_rollout(salt, unit, *percent_bp) {
                (Arm::Canary, *canary)
            } else {
                (Arm::Baseline, *baseline)
            };
            Some(Answer { arm: Some(arm), ..Answer::serve(variation, Reason::Split) })
        }
        Split::Experiment { variants, traffic_bp, salt, experiment_salt, .. } => {
            if !hashing::in_rollout(salt, unit, *traffic_bp) {
                return None;
            }
            let bucket = hashing::bucket(experiment_salt, unit);
            let chosen = hashing::pick_weighted(bucket, variants.iter().map(|&(_, w)| w))?;
            Some(Answer { experiment: true, ..Answer::serve(variants[chosen].0, Reason::Split) })
        }
    }
}
