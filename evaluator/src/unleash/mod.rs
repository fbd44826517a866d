//! Unleash compatibility: load an Unleash client API payload (`/api/client/features`, or a
//! delta-API event stream) and answer `isEnabled` / `getVariant` as the Unleash SDKs do.
//!
//! One engine: constraints are translated into native clauses and run by
//! `crate::matching`; percentages and variants hash with [`crate::hashing`] (murmur3 of
//! `groupId:unit`, seed 0, `% 100 + 1` for rollouts; seed 86028157, `% total weight + 1` for
//! variants). What is Unleash-specific is only the glue: strategies are OR'd, a strategy is its
//! constraints AND its activation, variants come from the first enabled strategy that has
//! some, else from the feature. Conformance: `evaluator/tests/unleash_spec.rs` runs the
//! official `@unleash/client-specification` suite (see `evaluator/UNLEASH.md`).

pub mod constraint;
pub mod context;
pub mod payload;
mod names;
mod reads;
pub mod strategy;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::hashing::SaltedHash;
use crate::problems::{Problem, ValidationErrors};

pub use context::{now_ms, UnleashContext, CURRENT_TIME};
use names::NameIndex;
use payload::{Dependency, Feature, Payload, VariantDef};
use strategy::{normalized_hash, random_unit, Strategy};

/// Seed of the variant hash in every Unleash SDK.
pub const VARIANT_SEED: u32 = 86_028_157;

/// The name of the variant served when no variant applies.
pub const DISABLED_VARIANT: &str = "disabled";

/// Answer code ([`UnleashSet::code`]): the feature is off.
pub const CODE_OFF: u32 = 0;
/// Answer code: the feature is on, with no variant (the `disabled` variant).
pub const CODE_ON: u32 = 1;

/// A loaded Unleash payload, ready to evaluate.
#[derive(Debug, Clone)]
pub struct UnleashSet {
    features: Vec<CompiledFeature>,
    /// Feature names to positions (`names.rs`; SipHash was half of a static toggle's time).
    index: NameIndex,
    /// Every context field some feature reads, sorted; [`UnleashSet::reads`] gives ids into it.
    field_names: Vec<String>,
}

#[derive(Debug, Clone)]
struct CompiledFeature {
    name: String,
    enabled: bool,
    strategies: Vec<Strategy>,
    variants: Variants,
    dependencies: Vec<Dependency>,
    /// Per dependency, the parent's position (`None`: not in the payload).
    parents: Vec<Option<usize>>,
    /// On whatever the context (enabled, no dependencies, and no strategies or a first one
    /// without constraints that always activates): the commonest toggle, answered at once.
    always_on: bool,
    /// Per strategy, where its variants start among the feature's answer codes (after the
    /// feature's own variants).
    variant_base: Vec<u32>,
    /// The context fields evaluating this feature can read (its parents' included), as ids
    /// into `field_names`.
    reads: Vec<u32>,
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
        let (features, segments_raw) = payload.into_state();
        let segments: HashMap<u64, Vec<constraint::Check>> = segments_raw
            .iter()
            .map(|s| {
                (
                    s.id,
                    s.constraints.iter().map(constraint::translate).collect(),
                )
            })
            .collect();
        let segment_reads: HashMap<u64, &[payload::ConstraintDef]> =
            segments_raw.iter().map(|s| (s.id, s.constraints.as_slice())).collect();
        let own_reads: Vec<BTreeSet<String>> =
            features.iter().map(|f| reads::feature(f, &segment_reads)).collect();
        // Of two features with one name the last counts (as a map filled in order would).
        let index = NameIndex::new(features.iter().map(|f| f.name.as_str()));
        let position = |name: &str| index.get(name, |p| features.get(p as usize).map(|f| f.name.as_str()));
        // A feature reads what its parents read (one level: a parent with parents of its own
        // is not evaluated, see `dependencies_hold`).
        let all_reads: Vec<BTreeSet<String>> = features
            .iter()
            .zip(&own_reads)
            .map(|(f, own)| {
                let mut reads = own.clone();
                for d in &f.dependencies {
                    if let Some(parent) = position(&d.feature) {
                        reads.extend(own_reads[parent].iter().cloned());
                    }
                }
                reads
            })
            .collect();
        let parents: Vec<Vec<Option<usize>>> =
            features.iter().map(|f| f.dependencies.iter().map(|d| position(&d.feature)).collect()).collect();
        let field_names: Vec<String> = all_reads.iter().flatten().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        let features: Vec<CompiledFeature> = features
            .into_iter()
            .zip(all_reads)
            .zip(parents)
            .map(|((f, reads), parents): ((Feature, BTreeSet<String>), Vec<Option<usize>>)| {
                let mut strategies: Vec<Strategy> = f
                    .strategies
                    .iter()
                    .map(|s| Strategy::compile(s, &f.name, &segments))
                    .collect();
                // Strategies after one that always activates are never reached.
                if let Some(first) = strategies.iter().position(Strategy::is_unconditional) {
                    strategies.truncate(first + 1);
                }
                let always_on = f.enabled
                    && f.dependencies.is_empty()
                    && strategies.first().is_none_or(Strategy::is_unconditional);
                let mut base = f.variants.len() as u32;
                let variant_base = strategies
                    .iter()
                    .map(|s| {
                        let at = base;
                        base = base.saturating_add(s.variants.len() as u32);
                        at
                    })
                    .collect();
                // The feature's variants hash under its name, with the first one's stickiness.
                let variants = Variants::new(f.variants.first().and_then(|v| v.stickiness.clone()), &f.name, f.variants);
                CompiledFeature {
                    strategies,
                    always_on,
                    parents,
                    name: f.name,
                    enabled: f.enabled,
                    variants,
                    dependencies: f.dependencies,
                    variant_base,
                    reads: reads
                        .iter()
                        .filter_map(|r| field_names.binary_search(r).ok().map(|i| i as u32))
                        .collect(),
                }
            })
            .collect();
        // Each set its own id, so a context's slots (`context.rs`) answer for one set only.
        static SETS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = SETS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut features = features;
        for strategy in features.iter_mut().flat_map(|f| &mut f.strategies) {
            strategy.bind(id, &field_names);
        }
        UnleashSet { features, index, field_names }
    }

    /// How many features the set has.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The position of a feature (in payload order), for the `*_at` methods.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name, |p| self.features.get(p as usize).map(|f| f.name.as_str()))
    }

    /// Every context field some feature reads, sorted. Fields not named here never change an
    /// answer, so a caller may leave them out of the context.
    pub fn field_names(&self) -> &[String] {
        &self.field_names
    }

    /// The fields evaluating feature `index` can read (its parents' included), as positions in
    /// [`UnleashSet::field_names`]; empty for an index past the end.
    pub fn reads(&self, index: usize) -> &[u32] {
        self.features.get(index).map_or(&[], |f| f.reads.as_slice())
    }

    /// `isEnabled` of feature `index` (false past the end).
    pub fn is_enabled_at(&self, index: usize, context: &UnleashContext) -> bool {
        // The commonest toggle answered here, without the call.
        self.features.get(index).is_some_and(|f| f.always_on || self.resolve(index, context).0)
    }

    /// Both answers of feature `index` as one code: [`CODE_OFF`], [`CODE_ON`] (no variant), or
    /// `2 + k` for its variant `k`, counting the feature's variants, then each strategy's in
    /// order. [`UnleashSet::evaluation_of`] turns a code back into the answer, so a caller
    /// can keep one answer object per code. `CODE_OFF` past the end.
    pub fn code(&self, index: usize, context: &UnleashContext) -> u32 {
        if index >= self.features.len() {
            return CODE_OFF;
        }
        let feature = &self.features[index];
        let (enabled, strategy) = self.resolve(index, context);
        if !enabled {
            return CODE_OFF;
        }
        // A matching strategy with variants decides; otherwise the feature's variants do.
        let chosen = match strategy.filter(|&s| !feature.strategies[s].variants.is_empty()) {
            Some(s) => feature.strategies[s].variants.select(context).map(|k| feature.variant_base[s] + k as u32),
            None => feature.variants.select(context).map(|k| k as u32),
        };
        chosen.map_or(CODE_ON, |k| 2 + k)
    }

    /// The answer a [`UnleashSet::code`] of feature `index` stands for (`None` for a code it
    /// cannot give).
    pub fn evaluation_of(&self, index: usize, code: u32) -> Option<UnleashEvaluation<'_>> {
        let feature = self.features.get(index)?;
        Some(UnleashEvaluation {
            name: &feature.name,
            enabled: code != CODE_OFF,
            variant: self.variant_of_code(feature, code)?,
        })
    }

    fn variant_of_code<'a>(&'a self, feature: &'a CompiledFeature, code: u32) -> Option<UnleashVariant<'a>> {
        let k = match code {
            CODE_OFF => return Some(UnleashVariant::disabled(false)),
            CODE_ON => return Some(UnleashVariant::disabled(true)),
            code => (code - 2) as usize,
        };
        let v = match k.checked_sub(feature.variants.len()) {
            None => &feature.variants.defs[k],
            Some(mut k) => feature.strategies.iter().find_map(|s| match s.variants.defs.get(k) {
                Some(v) => Some(v),
                None => {
                    k -= s.variants.len();
                    None
                }
            })?,
        };
        Some(UnleashVariant { name: &v.name, payload: v.payload.as_ref(), enabled: true, feature_enabled: true })
    }

    /// Feature names in payload order.
    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.features.iter().map(|f| f.name.as_str())
    }

    /// `isEnabled(name, context)`; an unknown feature is disabled.
    pub fn is_enabled(&self, name: &str, context: &UnleashContext) -> bool {
        self.index_of(name).is_some_and(|i| self.is_enabled_at(i, context))
    }

    /// `getVariant(name, context)`.
    pub fn get_variant<'a>(&'a self, name: &str, context: &UnleashContext) -> UnleashVariant<'a> {
        match self.index_of(name) {
            Some(i) => self.variant_of(i, context).1,
            None => UnleashVariant::disabled(false),
        }
    }

    /// Both answers, consistent with each other (one draw for random strategies).
    pub fn evaluate<'a>(
        &'a self,
        name: &'a str,
        context: &UnleashContext,
    ) -> UnleashEvaluation<'a> {
        match self.index_of(name) {
            Some(i) => {
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
        let code = self.code(index, context);
        let variant = self.variant_of_code(&self.features[index], code);
        (code != CODE_OFF, variant.unwrap_or(UnleashVariant::disabled(code != CODE_OFF)))
    }

    /// Whether the feature is on, and the strategy that turned it on (if any).
    fn resolve(&self, index: usize, context: &UnleashContext) -> (bool, Option<usize>) {
        let feature = &self.features[index];
        if feature.always_on {
            return (true, if feature.strategies.is_empty() { None } else { Some(0) });
        }
        if !feature.enabled || !self.dependencies_hold(feature, context) {
            return (false, None);
        }
        if feature.strategies.is_empty() {
            return (true, None);
        }
        match feature.strategies.iter().position(|s| s.is_enabled(context)) {
            Some(strategy) => (true, Some(strategy)),
            None => (false, None),
        }
    }

    /// Parents must exist and have no parents themselves (one level, as in the SDKs).
    fn dependencies_hold(&self, feature: &CompiledFeature, context: &UnleashContext) -> bool {
        feature.dependencies.iter().zip(&feature.parents).all(|(dependency, parent)| {
            let Some(parent) = *parent else {
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

/// A list of variants, with what choosing among them needs worked out at load.
#[derive(Debug, Clone)]
pub struct Variants {
    pub defs: Vec<VariantDef>,
    /// The sum of the weights.
    total: u32,
    /// Whether any variant has overrides.
    overrides: bool,
    unit: VariantUnit,
    /// The group (`groupId` or the feature name) hashed with the variant seed.
    group: SaltedHash,
}

/// The variant hash unit: `default` is userId, sessionId, remoteAddress, else random.
#[derive(Debug, Clone)]
enum VariantUnit {
    Default,
    Random,
    Field(String),
}

impl Variants {
    pub fn new(stickiness: Option<String>, group: &str, defs: Vec<VariantDef>) -> Variants {
        Variants {
            total: defs.iter().map(|v| v.weight).fold(0, u32::saturating_add),
            overrides: defs.iter().any(|v| !v.overrides.is_empty()),
            unit: match stickiness.as_deref() {
                None | Some("default") => VariantUnit::Default,
                Some("random") => VariantUnit::Random,
                Some(_) => VariantUnit::Field(stickiness.unwrap_or_default()),
            },
            group: SaltedHash::new(group, VARIANT_SEED),
            defs,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    /// The SDKs' `selectVariantDefinition`: overrides first, then the weighted hash. The
    /// position of the chosen variant.
    fn select(&self, context: &UnleashContext) -> Option<usize> {
        if self.total == 0 {
            return None;
        }
        if self.overrides {
            let overridden = self.defs.iter().position(|v| {
                v.overrides.iter().any(|o| {
                    context
                        .field(&o.context_name)
                        .is_some_and(|f| o.values.iter().any(|x| *x == *f))
                })
            });
            if overridden.is_some() {
                return overridden;
            }
        }
        let random = || Cow::Owned(random_unit(100_000));
        let unit = match &self.unit {
            VariantUnit::Default => ["userId", "sessionId", "remoteAddress"]
                .iter()
                .find_map(|f| context.field(f))
                .unwrap_or_else(random),
            VariantUnit::Random => random(),
            VariantUnit::Field(field) => context.field(field).unwrap_or_else(random),
        };
        let target = normalized_hash(&self.group, &unit, self.total);
        let mut counter = 0u32;
        for (k, variant) in self.defs.iter().enumerate().filter(|(_, v)| v.weight > 0) {
            counter = counter.saturating_add(variant.weight);
            if counter >= target {
                return Some(k);
            }
        }
        None
    }
}

