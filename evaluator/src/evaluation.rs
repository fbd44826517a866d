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

/// Why a value was served (OpenFeature reason names, plus `PREREQUISITE_FAILED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
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

impl FlagSet {
    /// Evaluates one flag. `env` selects environment overrides (`None`: the base flag). The
    /// answer borrows from the set and from `key` (a missing flag's answer names the key the
    /// caller asked for).
    pub fn evaluate<'a>(&'a self, key: &'a str, context: &Context, env: Option<&str>) -> Evaluation<'a> {
        match self.index.get(key) {
            Some(&index) => self.evaluate_index(index, context, env, 0),
            None => Evaluation::error(key, ErrorCode::FlagNotFound, format!("flag {key:?} not found")),
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
                format!("flag {key:?} is {}, not {}", self.flags[index].kind.as_str(), kind.as_str()),
            ),
            _ => result,
        }
    }

    /// Evaluates every flag, in file order (for bootstrapping clients).
    pub fn evaluate_all<'a>(&'a self, context: &Context, env: Option<&str>) -> Vec<Evaluation<'a>> {
        (0..self.flags.len()).map(|i| self.evaluate_index(i, context, env, 0)).collect()
    }

    /// Whether `env` may be used (declared, or no environments declared).
    pub fn knows_environment(&self, env: &str) -> bool {
        self.environments.is_empty() || self.environments.contains(env)
    }

    fn evaluate_index<'a>(&'a self, index: usize, context: &Context, env: Option<&str>, depth: usize) -> Evaluation<'a> {
        let flag = &self.flags[index];
        let key = self.file.flags[index].key.as_str();
        let targeting = match env {
            None => &flag.base,
            Some(name) if !self.knows_environment(name) => {
                return Evaluation::error(key, ErrorCode::InvalidContext, format!("unknown environment {name:?}"));
            }
            Some(name) => flag.environments.get(name).unwrap_or(&flag.base),
        };
        let serve = |variation: usize, reason: Reason| self.serve(index, variation, reason);

        if !targeting.enabled {
            return serve(flag.off_variation, Reason::Disabled);
        }
        for &(prerequisite, required) in &flag.prerequisites {
            // Validation bounds the depth; this guard keeps evaluation total regardless.
            let passed = depth < crate::compile::MAX_PREREQUISITE_DEPTH && {
                let result = self.evaluate_index(prerequisite, context, env, depth + 1);
                result.error_code.is_none()
                    && result.variant == Some(self.file.flags[prerequisite].variations[required].name.as_str())
            };
            if !passed {
                return serve(flag.off_variation, Reason::PrerequisiteFailed);
            }
        }
        if let Some(key) = context.targeting_key() {
            if targeting.deny.contains(key) {
                return serve(flag.off_variation, Reason::TargetingMatch);
            }
            if let Some(&variation) = targeting.targets.get(key) {
                return serve(variation, Reason::TargetingMatch);
            }
        }
        for (rule_index, rule) in targeting.rules.iter().enumerate() {
            if rule.clauses.iter().all(|clause| clause.matches(context, self)) {
                return Evaluation { rule_index: Some(rule_index), ..serve(rule.variation, Reason::TargetingMatch) };
            }
        }
        if let Some(split) = &targeting.split {
            if let Some(result) = self.evaluate_split(index, targeting, split, context) {
                return result;
            }
        }
        let reason = if targeting.has_targeting() { Reason::Default } else { Reason::Static };
        serve(targeting.default_variation, reason)
    }

    /// `None` when the unit falls outside the split (the default applies).
    fn evaluate_split<'a>(
        &'a self,
        index: usize,
        targeting: &CompiledTargeting,
        split: &Split,
        context: &Context,
    ) -> Option<Evaluation<'a>> {
        let stickiness = match split {
            Split::Canary { status: CanaryStatus::RolledBack, baseline, .. } => {
                return Some(Evaluation { arm: Some(Arm::Baseline), ..self.serve(index, *baseline, Reason::Split) });
            }
            Split::Canary { status: CanaryStatus::Completed, canary, .. } => {
                return Some(Evaluation { arm: Some(Arm::Canary), ..self.serve(index, *canary, Reason::Split) });
            }
            Split::Rollout { stickiness, .. }
            | Split::Canary { stickiness, .. }
            | Split::Experiment { stickiness, .. } => stickiness,
        };
        let Some(mut unit) = unit_of(stickiness, context) else {
            return Some(Evaluation {
                error_code: Some(ErrorCode::TargetingKeyMissing),
                error_message: Some(format!(
                    "no unit for the split: context attribute {:?} is missing or not a string or integer",
                    stickiness.name()
                )),
                ..self.serve(index, targeting.default_variation, Reason::Default)
            });
        };
        let unit = unit.as_str();
        match split {
            Split::Rollout { percent_bp, variation, salt, .. } => {
                hashing::in_rollout(salt, unit, *percent_bp).then(|| self.serve(index, *variation, Reason::Split))
            }
            Split::Canary { baseline, canary, percent_bp, salt, .. } => {
                let (arm, variation) = if hashing::in_rollout(salt, unit, *percent_bp) {
                    (Arm::Canary, *canary)
                } else {
                    (Arm::Baseline, *baseline)
                };
                Some(Evaluation { arm: Some(arm), ..self.serve(index, variation, Reason::Split) })
            }
            Split::Experiment { variants, traffic_bp, salt, experiment_salt, .. } => {
                if !hashing::in_rollout(salt, unit, *traffic_bp) {
                    return None;
                }
                let bucket = hashing::bucket(experiment_salt, unit);
                let chosen = hashing::pick_weighted(bucket, variants.iter().map(|&(_, w)| w))?;
                Some(Evaluation { experiment: true, ..self.serve(index, variants[chosen].0, Reason::Split) })
            }
        }
    }

    fn serve(&self, index: usize, variation: usize, reason: Reason) -> Evaluation<'_> {
        let source = &self.file.flags[index];
        let served = &source.variations[variation];
        Evaluation {
            key: source.key.as_str(),
            value: Some(&served.value),
            variant: Some(served.name.as_str()),
            reason,
            rule_index: None,
            arm: None,
            experiment: false,
            error_code: None,
            error_message: None,
        }
    }
}
