//! Unleash constraints translated into native clauses ([`crate::matching`]), so both formats
//! share one operator implementation. What the native validator would reject (empty value
//! lists, unparsable numbers, dates, versions, regexes) Unleash evaluates to `false` before
//! `inverted` applies, so those become constants here instead of load errors.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use crate::matching::{compile_clause, CompiledClause, SegmentLookup};
use crate::model::{Clause, Operator};

use super::context::{UnleashContext, CURRENT_TIME};
use super::payload::{value_text, ConstraintDef};

/// A prepared constraint.
#[derive(Debug, Clone)]
pub enum Check {
    Clause(CompiledClause),
    /// The answer regardless of the context (inversion already applied).
    Constant(bool),
}

impl Check {
    pub fn matches(&self, context: &UnleashContext) -> bool {
        match self {
            Check::Clause(clause) => clause.matches(context.native(), &NoSegments),
            Check::Constant(answer) => *answer,
        }
    }
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
            match single
                .as_deref()
                .map(str::trim)
                .and_then(crate::decimal::parse_f64)
            {
                Some(n) if n.is_finite() => match serde_json::Number::from_f64(n) {
                    Some(number) => (&def.context_name, vec![Value::Number(number)]),
                    None => return invalid,
                },
                _ => return invalid,
            }
        }
        Operator::SemverEq
        | Operator::SemverLt
        | Operator::SemverLte
        | Operator::SemverGt
        | Operator::SemverGte => match single {
            Some(v) if semver::Version::parse(v.trim()).is_ok() => {
                (&def.context_name, vec![Value::String(v)])
            }
            _ => return invalid,
        },
        Operator::DateBefore | Operator::DateAfter => match single {
            Some(v) if crate::instant::parse(&v).is_some() => {
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
            let nets: Vec<Value> = list
                .iter()
                .map(|v| v.trim())
                .filter(|v| v.parse::<IpNet>().is_ok() || v.parse::<IpAddr>().is_ok())
                .map(Value::from)
                .collect();
            if nets.is_empty() {
                return invalid;
            }
            (&def.context_name, nets)
        }
        _ => return Check::Constant(false),
    };
    let clause = Clause {
        attribute: attribute.to_string(),
        operator,
        values,
        negate: def.inverted,
        case_insensitive: def.case_insensitive && is_string_operator(operator),
    };
    let mut problems = Vec::new();
    match compile_clause(&clause, &|_| None, &mut problems) {
        // A regex the native engine refuses (look-around, back-references) is invalid, and
        // invalid constraints are false before inversion.
        Some(compiled) if problems.is_empty() => Check::Clause(compiled),
        _ => invalid,
    }
}

fn is_string_operator(op: Operator) -> bool {
    matches!(
        op,
        Operator::In
            | Operator::NotIn
            | Operator::Contains
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
