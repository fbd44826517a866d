//! Which context fields a feature can read. A caller that copies a context across a boundary
//! (the WASM glue) copies only these: fields not named here never change the feature's answer.
//! Over-counting costs a copy; missing one would change answers, so every place that reads the
//! context (`strategy.rs`, `constraint.rs`, `mod.rs`) is mirrored here, and
//! `tests/unleash_agrees.rs` checks on the differential corpus that a context cut down to these
//! fields gives the same answers.

use std::collections::{BTreeSet, HashMap};

use super::context::CURRENT_TIME;
use super::payload::{ConstraintDef, Feature, StrategyDef, VariantDef};

/// The fields feature `f` reads by itself (not through its dependencies).
pub(super) fn feature(f: &Feature, segments: &HashMap<u64, &[ConstraintDef]>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    variants(&f.variants, &mut out);
    for s in &f.strategies {
        strategy(s, segments, &mut out);
    }
    out
}

fn strategy(s: &StrategyDef, segments: &HashMap<u64, &[ConstraintDef]>, out: &mut BTreeSet<String>) {
    let segment_constraints = s.segments.iter().filter_map(|id| segments.get(id)).flat_map(|c| c.iter());
    for c in s.constraints.iter().chain(segment_constraints) {
        out.insert(c.context_name.clone());
        // Date constraints read the clock whatever their contextName.
        out.insert(CURRENT_TIME.to_owned());
    }
    let param = |name: &str| s.parameters.get(name).and_then(super::payload::value_text);
    match s.name.as_str() {
        "userWithId" | "gradualRolloutUserId" => {
            out.insert("userId".to_owned());
        }
        "gradualRolloutSessionId" => {
            out.insert("sessionId".to_owned());
        }
        "remoteAddress" => {
            out.insert("remoteAddress".to_owned());
        }
        "flexibleRollout" => stickiness(param("stickiness").as_deref(), false, out),
        _ => {}
    }
    if !s.variants.is_empty() {
        // A strategy's variants hash on their own stickiness, else the strategy's.
        let name = s.variants.first().and_then(|v| v.stickiness.clone()).or_else(|| param("stickiness"));
        stickiness(name.as_deref(), true, out);
        variants(&s.variants, out);
    }
}

/// Overrides and the feature variants' stickiness.
fn variants(list: &[VariantDef], out: &mut BTreeSet<String>) {
    if list.is_empty() {
        return;
    }
    for v in list {
        for o in &v.overrides {
            out.insert(o.context_name.clone());
        }
    }
    stickiness(list.first().and_then(|v| v.stickiness.as_deref()), true, out);
}

/// A stickiness's fields: `default` is userId then sessionId (then remoteAddress for variants).
/// Over-counts on purpose where the strategy and variant readings differ (`""` is `default`
/// for a rollout but a field name for variants): both are taken.
fn stickiness(name: Option<&str>, variant: bool, out: &mut BTreeSet<String>) {
    if matches!(name, None | Some("" | "default")) {
        out.insert("userId".to_owned());
        out.insert("sessionId".to_owned());
        if variant {
            out.insert("remoteAddress".to_owned());
        }
    }
    if let Some(name) = name.filter(|n| *n != "random") {
        out.insert(name.to_owned());
    }
}
