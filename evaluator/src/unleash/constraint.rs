//! Unleash constraints translated into native clauses (`crate::matching`), so both formats
//! share one operator implementation. What the native validator would reject (empty value
//! lists, unparsable numbers, dates, versions, regexes) Unleash evaluates to `false` before
//! `inverted` applies, so those become constants here instead of load errors.
//!
//! Three operators are compared here instead, where the Unleash engines (the Node SDK and
//! yggdrasil, which agree on these) differ from the native operators: numbers (a context
//! value `"Infinity"` compares), versions (build metadata is ignored, SemVer §10) and CIDR
//! ranges (the context value is not trimmed). See evaluator/UNLEASH.md.

use std::cmp::Ordering;
use std::net::IpAddr;

use ipnet::IpNet;
use semver::Version;
use serde_json::Value;

use crate::matching::{compile_clause, Attribute, CompiledClause, Comparison, SegmentLookup, Test};
use crate::model::{Clause, Operator};

use super::context::{Field, UnleashContext, CURRENT_TIME};
use super::payload::{value_text, ConstraintDef};

/// A prepared constraint.
#[derive(Debug, Clone)]
pub enum Check {
    /// With its named attribute as a [`Field`] (none for a targeting-key or segment clause,
    /// which go through the native context).
    Clause(CompiledClause, Option<Field>),
    /// The answer regardless of the context (inversion already applied).
    Constant(bool),
    /// `NUM_*`: the context value read as a number, infinities included (the SDKs' `Number()`
    /// and `f64::from_str` read `"Infinity"` and `"1e400"`; the native operators refuse
    /// non-finite values), and so is the constraint's value.
    Number { field: Field, comparison: Comparison, value: f64, inverted: bool },
    /// `SEMVER_*`: by precedence, build metadata ignored (SemVer §10, as in the SDKs; the
    /// native operators order by build metadata too).
    Semver { field: Field, comparison: Comparison, version: Version, inverted: bool },
    /// `IN_CIDR` and the `remoteAddress` strategy: the context value must be an address as
    /// given, without surrounding spaces (as in the SDKs; the native operator trims it).
    Cidr { field: Field, nets: Vec<IpNet>, inverted: bool },
}

impl Check {
    /// A clause check, its named attribute as a [`Field`].
    pub fn clause(clause: CompiledClause) -> Check {
        let field = match (&clause.attribute, &clause.test) {
            (_, Test::Segment(_)) | (Attribute::TargetingKey, _) => None,
            (Attribute::Named(name), _) => Some(Field::new(name.clone())),
        };
        Check::Clause(clause, field)
    }

    /// Takes slots in set `set` for the fields it reads (see [`Field::bind`]).
    pub(crate) fn bind(&mut self, set: u64, names: &[String]) {
        match self {
            Check::Clause(_, Some(field))
            | Check::Number { field, .. }
            | Check::Semver { field, .. }
            | Check::Cidr { field, .. } => field.bind(set, names),
            Check::Clause(_, None) | Check::Constant(_) => {}
        }
    }

    pub fn matches(&self, context: &UnleashContext) -> bool {
        match self {
            Check::Clause(clause, Some(field)) => clause.matches_entry(context.entry(field)),
            Check::Clause(clause, None) => clause.matches(context.native(), &NoSegments),
            Check::Constant(answer) => *answer,
            Check::Number { field, comparison, value, inverted } => {
                let number = context.field_value(field).and_then(|v| edgeflag_readers::float_reader::parse_f64(v.trim()));
                number.and_then(|n| n.partial_cmp(value)).is_some_and(|o| holds(*comparison, o)) != *inverted
            }
            Check::Semver { field, comparison, version, inverted } => {
                // Parsed once per context (kept with the attribute). Only text can be a
                // version: a number's text has no two dots.
                let actual = context.text_entry_of(field).and_then(|(entry, text)| entry.semver(text));
                actual.is_some_and(|v| holds(*comparison, v.cmp_precedence(version))) != *inverted
            }
            Check::Cidr { field, nets, inverted } => {
                // The cached reading trims; the SDKs do not, so text with surrounding spaces
                // is no address here.
                // An address starts and ends with a letter, a digit or ':'; text that does not
                // is none (as given) and has nothing to trim (cheaper than comparing a trim).
                let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b':');
                let address = context
                    .text_entry_of(field)
                    .filter(|(_, text)| edge(text.as_bytes().first()) && edge(text.as_bytes().last()))
                    .and_then(|(entry, text)| entry.ip(text));
                address.is_some_and(|ip| nets.iter().any(|net| net.contains(ip))) != *inverted
            }
        }
    }
}

fn holds(comparison: Comparison, ordering: Ordering) -> bool {
    match comparison {
        Comparison::Eq => ordering.is_eq(),
        Comparison::Lt => ordering.is_lt(),
        Comparison::Lte => ordering.is_le(),
        Comparison::Gt => ordering.is_gt(),
        Comparison::Gte => ordering.is_ge(),
    }
}

fn comparison(operator: Operator) -> Comparison {
    match operator {
        Operator::NumLt | Operator::SemverLt => Comparison::Lt,
        Operator::NumLte | Operator::SemverLte => Comparison::Lte,
        Operator::NumGt | Operator::SemverGt => Comparison::Gt,
        Operator::NumGte | Operator::SemverGte => Comparison::Gte,
        _ => Comparison::Eq,
    }
}

/// The CIDR ranges (or single addresses) among `entries`; invalid ones are skipped, as in
/// the SDKs.
pub fn nets(entries: &[String]) -> Vec<IpNet> {
    entries
        .iter()
        .map(|v| v.trim())
        .filter_map(|v| v.parse::<IpNet>().ok().or_else(|| v.parse::<IpAddr>().ok().map(IpNet::from)))
        .collect()
}

/// Unleash segments are expanded into constraints, so native segment lookups never happen.
struct NoSegments;

impl SegmentLookup for NoSegments {
    fn in_segment(&self, _segment: usize, _context: &crate::Context) -> bool {
        false
    }
}

/// Translates one constraint.
pub fn translate(def: &ConstraintDef) -> Check {
    let Some(operator) = native_operator(&def.operator) else {
        // Unknown operators are false even when inverted (the SDKs skip the inversion).
        return Check::Constant(false);
    };
    // Single-valued operators read `value`; list operators read `values` (either as fallback).
    let single = def
        .value
        .as_ref()
        .and_then(value_text)
        .or_else(|| def.values.first().and_then(value_text));
    let list: Vec<String> = if def.values.is_empty() {
        def.value
            .as_ref()
            .and_then(value_text)
            .into_iter()
            .collect()
    } else {
        def.values.iter().filter_map(value_text).collect()
    };
    let invalid = Check::Constant(def.inverted);
    let (attribute, values): (&str, Vec<Value>) = match operator {
        Operator::In | Operator::NotIn => {
            if list.is_empty() {
                // `some` over nothing: IN is false, NOT_IN is true.
                return Check::Constant((operator == Operator::NotIn) != def.inverted);
            }
            (
                &def.context_name,
                list.into_iter().map(Value::String).collect(),
            )
        }
        Operator::Contains | Operator::StartsWith | Operator::EndsWith => {
            let cleaned: Vec<Value> = list
                .iter()
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(Value::from)
                .collect();
            if cleaned.is_empty() {
                return invalid;
            }
            (&def.context_name, cleaned)
        }
        Operator::NumEq
        | Operator::NumLt
        | Operator::NumLte
        | Operator::NumGt
        | Operator::NumGte => {
            return match single.as_deref().map(str::trim).and_then(edgeflag_readers::float_reader::parse_f64) {
                // "1e400" is infinite and compares (both references read it so); NaN is no
                // number, so the constraint is false before inversion.
                Some(value) if !value.is_nan() => Check::Number {
                    field: Field::new(def.context_name.clone()),
                    comparison: comparison(operator),
                    value,
                    inverted: def.inverted,
                },
                _ => invalid,
            };
        }
        Operator::SemverEq
        | Operator::SemverLt
        | Operator::SemverLte
        | Operator::SemverGt
        | Operator::SemverGte => {
            return match single.as_deref().map(|v| Version::parse(v.trim())) {
                Some(Ok(version)) => Check::Semver {
                    field: Field::new(def.context_name.clone()),
                    comparison: comparison(operator),
                    version,
                    inverted: def.inverted,
                },
                _ => invalid,
            };
        }
        Operator::DateBefore | Operator::DateAfter => match single {
            Some(v) if edgeflag_readers::rfc3339::parse(&v).is_some() => {
                (CURRENT_TIME, vec![Value::String(v)])
            }
            _ => return invalid,
        },
        Operator::Regex => match single {
            Some(v) if !v.is_empty() => (&def.context_name, vec![Value::String(v)]),
            _ => return invalid,
        },
        Operator::IpInCidr => {
            // Invalid entries are skipped, as in the SDKs; the valid ones still count.
            let nets = nets(&list);
            if nets.is_empty() {
                return invalid;
            }
            return Check::Cidr { field: Field::new(def.context_name.clone()), nets, inverted: def.inverted };
        }
        _ => return Check::Constant(false),
    };
    let clause = Clause {
        attribute: attribute.to_string(),
        operator,
        values,
        negate: def.inverted,
        // `caseInsensitive` on IN and NOT_IN is ignored, as in the SDKs.
        case_insensitive: def.case_insensitive && is_string_operator(operator),
    };
    let mut problems = Vec::new();
    match compile_clause(&clause, &|_| None, &mut problems) {
        // A regex the native engine refuses (look-around, back-references) is invalid, and
        // invalid constraints are false before inversion.
        Some(compiled) if problems.is_empty() => Check::clause(compiled),
        _ => invalid,
    }
}

/// The operators whose `caseInsensitive` the SDKs honour.
fn is_string_operator(op: Operator) -> bool {
    matches!(
        op,
        Operator::Contains
            | Operator::StartsWith
            | Operator::EndsWith
            | Operator::Regex
    )
}

/// Unleash operator names → native operators.
fn native_operator(name: &str) -> Option<Operator> {
    Some(match name {
        "IN" => Operator::In,
        "NOT_IN" => Operator::NotIn,
        "STR_CONTAINS" => Operator::Contains,
        "STR_STARTS_WITH" => Operator::StartsWith,
        "STR_ENDS_WITH" => Operator::EndsWith,
        "NUM_EQ" => Operator::NumEq,
        "NUM_LT" => Operator::NumLt,
        "NUM_LTE" => Operator::NumLte,
        "NUM_GT" => Operator::NumGt,
        "NUM_GTE" => Operator::NumGte,
        "SEMVER_EQ" => Operator::SemverEq,
        "SEMVER_LT" => Operator::SemverLt,
        "SEMVER_GT" => Operator::SemverGt,
        "SEMVER_LTE" => Operator::SemverLte,
        "SEMVER_GTE" => Operator::SemverGte,
        "DATE_AFTER" => Operator::DateAfter,
        "DATE_BEFORE" => Operator::DateBefore,
        "REGEX" => Operator::Regex,
        "IN_CIDR" => Operator::IpInCidr,
        _ => return None,
    })
}
