//! Unleash compatibility: load an Unleash client API payload (`/api/client/features`, or a
//! delta-API event stream) and answer `isEnabled` / `getVariant` as the Unleash SDKs do.
//!
//! One engine: constraints are translated into native clauses and run by
//! [`crate::matching`]; percentages and variants hash with [`crate::hashing`] (murmur3 of
//! `groupId:unit`, seed 0, `% 100 + 1` for rollouts; seed 86028157, `% total weight + 1` for
//! variants). What is Unleash-specific is only the glue: strategies are OR'd, a strategy is its
//! constraints AND its activation, variants come from the first enabled strategy that has
//! some, else from the feature. Conformance: `evaluator/tests/unleash_spec.rs` runs the
//! official `@unleash/client-specification` suite (see `evaluator/UNLEASH.md`).

pub mod constraint;
pub mod context;
pub mod payload;
pub mod strategy;

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::validation::{Problem, ValidationErrors};

pub use context::{now_ms, UnleashContext};
use payload::{Dependency, Feature, Payload, VariantDef};
use strategy::{normalized_hash, random_unit, Strategy};

/// Seed of the variant hash in every Unleash SDK.
pub const VARIANT_SEED: u32 = 86_028_157;

/// The name of the variant served when no variant applies.
pub const DISABLED_VARIANT: &str = "disabled";

/// A loaded Unleash payload, ready to evaluate.
#[derive(Debug, Clone)]
pub struct UnleashSet {
    features: Vec<CompiledFeature>,
    index: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
struct CompiledFeature {
    name: String,
    enabled: bool,
    strategies: Vec<Strategy>,
    variants: Vec<VariantDef>,
    dependencies: Vec<Dependency>,
}

/// What `getVariant` returns, in the SDKs' JSON shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnleashVariant<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<&'a Value>,
    pub enabled: bool,
    pub feature_enabled: bool,
}

impl UnleashVariant<'_> {
    fn disabled(feature_enabled: bool) -> Self {
        UnleashVariant {
            name: DISABLED_VARIANT,
            payload: None,
            enabled: false,
            feature_enabled,
        }
    }
}

/// Both answers for one feature (the CLI's and the WASM API's output).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnleashEvaluation<'a> {
    pub name: &'a str,
    pub enabled: bool,
    pub variant: UnleashVariant<'a>,
}

impl UnleashSet {
    /// Reads a payload; a structural problem is reported with its JSON path.
    pub fn from_json(text: &str) -> Result<UnleashSet, ValidationErrors> {
        let mut json = serde_json::Deserializer::from_str(text);
        let payload: Payload = serde_path_to_error::deserialize(&mut json).map_err(|error| {
            let path = error.path().to_string();
            let message = error.inner().to_string();
            ValidationErrors {
                problems: vec![Problem {
                    path: if path == "." { String::new() } else { path },
                    message,
                }],
                omitted: 0,
            }
        })?;
        Ok(UnleashSet::from_payload(payload))
    }

    pub fn from_payload(payload: Payload) -> UnleashSet {
        let (features, segments) = payload.into_state();
        let segments: HashMap<u64, Vec<constraint::Check>> = segments
            .iter()
            .map(|s| {
                (
                    s.id,
                    s.constraints.iter().map(constraint::translate).collect(),
                )
            })
            .collect();
        let mut index = HashMap::with_capacity(features.len());
        let features: Vec<CompiledFeature> = features
            .into_iter()
            .enumerate()
            .map(|(i, f): (usize, Feature)| {
                index.insert(f.name.clone(), i);
                CompiledFeature {
                    strategies: f
                        .strategies
                        .iter()
                        .map(|s| Strategy::compile(s, &f.name, &segments))
                        .collect(),
                    name: f.name,
                    enabled: f.enabled,
                    variants: f.variants,
                    dependencies: f.dependencies,
                }
            })
            .collect();
        UnleashSet { features, index }
    }

    /// Feature names in payload order.
    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.features.iter().map(|f| f.name.as_str())
    }

    /// `isEnabled(name, context)`; an unknown feature is disabled.
    pub fn is_enabled(&self, name: &str, context: &UnleashContext) -> bool {
        self.index
            .get(name)
            .is_some_and(|&i| self.resolve(i, context).0)
    }

    /// `getVariant(name, context)`.
    pub fn get_variant<'a>(&'a self, name: &str, context: &UnleashContext) -> UnleashVariant<'a> {
        match self.index.get(name) {
            Some(&i) => self.variant_of(i, context).1,
            None => UnleashVariant::disabled(false),
        }
    }

    /// Both answers, consistent with each other (one draw for random strategies).
    pub fn evaluate<'a>(
        &'a self,
        name: &'a str,
        context: &UnleashContext,
    ) -> UnleashEvaluation<'a> {
        match self.index.get(name) {
            Some(&i) => {
                let (enabled, variant) = self.variant_of(i, context);
                UnleashEvaluation {
                    name: &self.features[i].name,
                    enabled,
                    variant,
                }
            }
            None => UnleashEvaluation {
                name,
                enabled: false,
                variant: UnleashVariant::disabled(false),
            },
        }
    }

    pub fn evaluate_all<'a>(&'a self, context: &UnleashContext) -> Vec<UnleashEvaluation<'a>> {
        self.features
            .iter()
            .map(|f| self.evaluate(&f.name, context))
            .collect()
    }

    fn variant_of<'a>(
        &'a self,
        index: usize,
        context: &UnleashContext,
    ) -> (bool, UnleashVariant<'a>) {
        let feature = &self.features[index];
        let (enabled, strategy) = self.resolve(index, context);
        if !enabled {
            return (false, UnleashVariant::disabled(false));
        }
        // A matching strategy with variants decides; otherwise the feature's variants do.
        let chosen = match strategy.filter(|s| !s.variants.is_empty()) {
            Some(s) => select_variant(
                &s.variants,
                &s.group_id,
                s.variant_stickiness.as_deref(),
                context,
            ),
            None => select_variant(
                &feature.variants,
                &feature.name,
                feature
                    .variants
                    .first()
                    .and_then(|v| v.stickiness.as_deref()),
                context,
            ),
        };
        let variant = match chosen {
            Some(v) => UnleashVariant {
                name: &v.name,
                payload: v.payload.as_ref(),
                enabled: true,
                feature_enabled: true,
            },
            None => UnleashVariant::disabled(true),
        };
        (true, variant)
    }

    /// Whether the feature is on, and the strategy that turned it on (if any).
    fn resolve(&self, index: usize, context: &UnleashContext) -> (bool, Option<&Strategy>) {
        let feature = &self.features[index];
        if !feature.enabled || !self.dependencies_hold(feature, context) {
            return (false, None);
        }
        if feature.strategies.is_empty() {
            return (true, None);
        }
        match feature.strategies.iter().find(|s| s.is_enabled(context)) {
            Some(strategy) => (true, Some(strategy)),
            None => (false, None),
        }
    }

    /// Parents must exist and have no parents themselves (one level, as in the SDKs).
    fn dependencies_hold(&self, feature: &CompiledFeature, context: &UnleashContext) -> bool {
        feature.dependencies.iter().all(|dependency| {
            let Some(&parent) = self.index.get(&dependency.feature) else {
                return false;
            };
            if !self.features[parent].dependencies.is_empty() {
                return false;
            }
            if dependency.enabled == Some(false) {
                return !self.resolve(parent, context).0;
            }
            if dependency.variants.is_empty() {
                self.resolve(parent, context).0
            } else {
                let (enabled, variant) = self.variant_of(parent, context);
                enabled && dependency.variants.iter().any(|v| v == variant.name)
            }
        })
    }
}

/// The SDKs' `selectVariantDefinition`: overrides first, then the weighted hash.
fn select_variant<'v>(
    variants: &'v [VariantDef],
    group_id: &str,
    stickiness: Option<&str>,
    context: &UnleashContext,
) -> Option<&'v VariantDef> {
    let total: u32 = variants
        .iter()
        .map(|v| v.weight)
        .fold(0, u32::saturating_add);
    if total == 0 {
        return None;
    }
    let overridden = variants.iter().find(|v| {
        v.overrides.iter().any(|o| {
            context
                .field(&o.context_name)
                .is_some_and(|f| o.values.iter().any(|x| *x == *f))
        })
    });
    if overridden.is_some() {
        return overridden;
    }
    let unit = variant_unit(stickiness, context);
    let target = normalized_hash(group_id, &unit, total, VARIANT_SEED);
    let mut counter = 0u32;
    for variant in variants.iter().filter(|v| v.weight > 0) {
        counter = counter.saturating_add(variant.weight);
        if counter >= target {
            return Some(variant);
        }
    }
    None
}

/// The variant hash unit: `default` is userId, sessionId, remoteAddress, else random.
fn variant_unit<'c>(stickiness: Option<&str>, context: &'c UnleashContext) -> Cow<'c, str> {
    let random = || Cow::Owned(random_unit(100_000));
    match stickiness {
        None | Some("default") => ["userId", "sessionId", "remoteAddress"]
            .iter()
            .find_map(|f| context.field(f))
            .unwrap_or_else(random),
        Some("random") => random(),
        Some(field) => context.field(field).unwrap_or_else(random),
    }
}
