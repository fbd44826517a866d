//! Clauses, prepared once and tested against a context many times.
//!
//! A clause matches when the attribute matches **any** of its values (for an array attribute:
//! any element against any value). A missing attribute matches nothing, so `not_in` (which is
//! "not `in`") and `negate: true` turn a missing attribute into a match. Values of the wrong
//! type for the operator never match (an attribute `"abc"` is not less than 5).

use std::net::IpAddr;

use ipnet::IpNet;
use regex_lite::Regex;
use semver::Version;
use serde_json::Value;

use crate::context::{json_type, AttributeValue, Context, TARGETING_KEY};
use crate::model::{Clause, Operator};
use edgeflag_readers::json_text::json_quoted as q;

/// Regexes larger than this are rejected at load time (bounded memory for hostile input).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Which part of the context a clause reads.
#[derive(Debug, Clone)]
pub enum Attribute {
    TargetingKey,
    Named(String),
}

impl Attribute {
    pub fn new(name: &str) -> Self {
        if name == TARGETING_KEY {
            Attribute::TargetingKey
        } else {
            Attribute::Named(name.to_string())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Comparison {
    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Comparison::Eq => ordering == Equal,
            Comparison::Lt => ordering == Less,
            Comparison::Lte => ordering != Greater,
            Comparison::Gt => ordering == Greater,
            Comparison::Gte => ordering != Less,
        }
    }
}

/// String tests (values lower-cased at load time when case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringTest {
    Contains,
    StartsWith,
    EndsWith,
}

impl StringTest {
    fn holds(self, haystack: &str, needle: &str) -> bool {
        match self {
            StringTest::Contains => haystack.contains(needle),
            StringTest::StartsWith => haystack.starts_with(needle),
            StringTest::EndsWith => haystack.ends_with(needle),
        }
    }
}

/// An operator with its values parsed.
#[derive(Debug, Clone)]
pub enum Test {
    /// `in`/`eq`: JSON equality (numbers by value); strings optionally case-insensitive.
    OneOf { values: Vec<Value>, case_insensitive: bool, invert: bool },
    Strings { test: StringTest, values: Vec<String>, case_insensitive: bool },
    Regex(Vec<Pattern>),
    Number(Comparison, Vec<f64>),
    Semver(Comparison, Vec<Version>),
    /// Instants as Unix nanoseconds; `before: false` means after.
    Date { before: bool, instants: Vec<i128> },
    Cidr(Vec<IpNet>),
    /// Indices into the flag set's segments.
    Segment(Vec<usize>),
}

/// A compiled regex, with the literal text every match must start with when the pattern
/// says so (`^ent(erprise)?$` → `ent`): a string that does not start with it is refused
/// without running the regex (most attributes miss most rules).
#[derive(Debug, Clone)]
pub struct Pattern {
    regex: Regex,
    prefix: Option<Box<str>>,
}

impl Pattern {
    fn is_match(&self, s: &str) -> bool {
        self.prefix.as_deref().is_none_or(|p| s.starts_with(p)) && self.regex.is_match(s)
    }
}

/// The literal text a match of `pattern` must start with: the characters after a leading
/// `^` up to the first that is not an ASCII letter, digit or one of `_-:/@,=%` (without the
/// last one when a quantifier follows it). `None` for a pattern with an alternation (where
/// `^` binds to one side only), a case-insensitive one, or no such text.
fn anchored_prefix(pattern: &str, case_insensitive: bool) -> Option<Box<str>> {
    let rest = pattern.strip_prefix('^')?;
    if case_insensitive || pattern.contains('|') {
        return None;
    }
    let literal_len = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | '@' | ',' | '=' | '%')))
        .map_or(rest.len(), |(i, _)| i);
    let mut prefix = &rest[..literal_len];
    if matches!(rest[literal_len..].chars().next(), Some('?' | '*' | '+' | '{')) {
        let last = prefix.char_indices().last().map_or(0, |(i, _)| i);
        prefix = &prefix[..last];
    }
    (!prefix.is_empty()).then(|| prefix.into())
}

/// A prepared clause.
#[derive(Debug, Clone)]
pub struct CompiledClause {
    pub attribute: Attribute,
    pub test: Test,
    pub negate: bool,
}

/// Resolves segment indices for `in_segment` (the flag set implements it).
pub trait SegmentLookup {
    fn in_segment(&self, segment: usize, context: &Context) -> bool;
}

impl CompiledClause {
    pub fn matches(&self, context: &Context, segments: &dyn SegmentLookup) -> bool {
        let result = match &self.test {
            Test::Segment(indices) => indices.iter().any(|&s| segments.in_segment(s, context)),
            Test::OneOf { invert, .. } => {
                let found = self.attribute_matches(context);
                found != *invert
            }
            _ => self.attribute_matches(context),
        };
        result != self.negate
    }

    fn attribute_matches(&self, context: &Context) -> bool {
        match &self.attribute {
            Attribute::TargetingKey => match context.targeting_key() {
                Some(key) => self.test.matches_str(key, None),
                None => false,
            },
            Attribute::Named(name) => self.entry_matches(context.attribute_entry(name)),
        }
    }

    /// The test on a named attribute's entry (`None`: absent or null), without the negation.
    #[inline]
    fn entry_matches(&self, attribute: Option<&AttributeValue>) -> bool {
        match attribute {
            Some(attribute) => match attribute.value() {
                Value::String(s) => self.test.matches_str(s, Some(attribute)),
                Value::Array(items) => items.iter().any(|item| self.test.matches_value(item)),
                value => self.test.matches_value(value),
            },
            None => false,
        }
    }

    /// [`CompiledClause::matches`] for a clause on a named attribute (not a segment test),
    /// given that attribute's entry as [`Context::attribute_entry`] would find it: for
    /// callers that keep where a context's attributes are (the Unleash context).
    pub fn matches_entry(&self, attribute: Option<&AttributeValue>) -> bool {
        let found = self.entry_matches(attribute);
        let result = match &self.test {
            Test::OneOf { invert, .. } => found != *invert,
            _ => found,
        };
        result != self.negate
    }
}

impl Test {
    /// A string, with the readings the context keeps for it when it is an attribute (a
    /// version, an address, the lower case), so they are made once per context, not once
    /// per evaluation. ASCII strings are compared case-insensitively without lower-casing.
    fn matches_str(&self, s: &str, attribute: Option<&AttributeValue>) -> bool {
        match self {
            Test::OneOf { values, case_insensitive, .. } => {
                let lowered;
                let lower = if *case_insensitive && !s.is_ascii() {
                    Some(match attribute {
                        Some(a) => a.lowercase(s),
                        None => {
                            lowered = edgeflag_readers::lowercase::to_lowercase(s);
                            lowered.as_str()
                        }
                    })
                } else {
                    None
                };
                values.iter().any(|v| match (v, lower) {
                    (Value::String(expected), Some(lower)) => lower == expected,
                    (Value::String(expected), None) => string_eq(s, expected, *case_insensitive),
                    _ => false,
                })
            }
            Test::Strings { test, values, case_insensitive } => {
                let lowered;
                let haystack = match (case_insensitive, attribute) {
                    (false, _) => s,
                    (true, Some(a)) => a.lowercase(s),
                    (true, None) => {
                        lowered = edgeflag_readers::lowercase::to_lowercase(s);
                        lowered.as_str()
                    }
                };
                values.iter().any(|needle| test.holds(haystack, needle))
            }
            Test::Regex(regexes) => regexes.iter().any(|r| r.is_match(s)),
            Test::Number(cmp, values) => match edgeflag_readers::float_reader::parse_f64(s.trim()) {
                Some(n) if n.is_finite() => compare_numbers(*cmp, n, values),
                _ => false,
            },
            Test::Semver(cmp, versions) => {
                let parsed;
                let version = match attribute {
                    Some(a) => a.semver(s),
                    None => {
                        parsed = Version::parse(s.trim()).ok();
                        parsed.as_ref()
                    }
                };
                version.is_some_and(|v| versions.iter().any(|expected| cmp.holds(v.cmp(expected))))
            }
            Test::Date { before, instants } => match edgeflag_readers::rfc3339::parse(s) {
                Some(t) => compare_dates(*before, t, instants),
                None => false,
            },
            Test::Cidr(nets) => {
                let parsed;
                let ip = match attribute {
                    Some(a) => a.ip(s),
                    None => {
                        parsed = s.trim().parse::<IpAddr>().ok();
                        parsed.as_ref()
                    }
                };
                ip.is_some_and(|ip| nets.iter().any(|net| net.contains(ip)))
            }
            Test::Segment(_) => false,
        }
    }

    fn matches_value(&self, value: &Value) -> bool {
        match (self, value) {
            (_, Value::String(s)) => self.matches_str(s, None),
            (Test::OneOf { values, .. }, other) => values.iter().any(|v| json_eq(v, other)),
            (Test::Number(cmp, values), Value::Number(n)) => match n.as_f64() {
                Some(n) => compare_numbers(*cmp, n, values),
                None => false,
            },
            (Test::Date { before, instants }, Value::Number(n)) => match n.as_f64() {
                // Numbers are Unix epoch milliseconds.
                Some(ms) if ms.is_finite() => {
                    compare_dates(*before, (ms * 1_000_000.0) as i128, instants)
                }
                _ => false,
            },
            _ => false,
        }
    }
}


fn string_eq(actual: &str, expected: &str, case_insensitive: bool) -> bool {
    if case_insensitive {
        // `expected` was lower-cased at load time; ASCII input needs no allocation.
        if actual.is_ascii() {
            actual.eq_ignore_ascii_case(expected)
        } else {
            edgeflag_readers::lowercase::to_lowercase(actual) == expected
        }
    } else {
        actual == expected
    }
}

fn json_eq(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => expected == actual,
    }
}

fn compare_numbers(cmp: Comparison, n: f64, values: &[f64]) -> bool {
    values.iter().any(|v| n.partial_cmp(v).is_some_and(|o| cmp.holds(o)))
}

fn compare_dates(before: bool, t: i128, instants: &[i128]) -> bool {
    instants.iter().any(|&i| if before { t < i } else { t > i })
}

/// Prepares a clause, or says what is wrong with each bad value (path suffix, message).
/// `segment_index` resolves segment keys.
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn compile_clause(
    clause: &Clause,
    segment_index: &dyn Fn(&str) -> Option<usize>,
    problems: &mut Vec<(String, String)>,
) -> Option<CompiledClause> {
    let op = clause.operator;
    if op != Operator::InSegment && clause.attribute.trim().is_empty() {
        problems.push(("attribute".into(), format!("operator {} needs an attribute", op.as_str())));
    }
    if clause.values.is_empty() {
        problems.push(("values".into(), "at least one value is required".into()));
    }
    let ci = clause.case_insensitive;
    if ci && !matches!(
        op,
        Operator::In
            | Operator::NotIn
            | Operator::Eq
            | Operator::Contains
            | Operator::StartsWith
            | Operator::EndsWith
            | Operator::Regex
    ) {
        problems.push((
            "case_insensitive".into(),
            format!("case_insensitive applies to string operators, not {}", op.as_str()),
        ));
    }
    let before = problems.len();
    // (index in `values`, string) so later messages keep the original index.
    let each_string = |problems: &mut Vec<(String, String)>| -> Vec<(usize, String)> {
        let mut out = Vec::with_capacity(clause.values.len());
        for (i, value) in clause.values.iter().enumerate() {
            match value {
                Value::String(s) => out.push((i, s.clone())),
                other => problems.push((
                    format!("values[{i}]"),
                    format!("{} needs strings, got {}", op.as_str(), json_type(other)),
                )),
            }
        }
        out
    };
    let test = match op {
        Operator::In | Operator::NotIn | Operator::Eq => {
            let mut values = Vec::with_capacity(clause.values.len());
            for (i, value) in clause.values.iter().enumerate() {
                match value {
                    Value::String(s) if ci => values.push(Value::String(edgeflag_readers::lowercase::to_lowercase(s))),
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => values.push(value.clone()),
                    other => problems.push((
                        format!("values[{i}]"),
                        format!("{} compares strings, numbers or booleans, got {}", op.as_str(), json_type(other)),
                    )),
                }
            }
            Test::OneOf { values, case_insensitive: ci, invert: op == Operator::NotIn }
        }
        Operator::Contains | Operator::StartsWith | Operator::EndsWith => {
            let test = match op {
                Operator::Contains => StringTest::Contains,
                Operator::StartsWith => StringTest::StartsWith,
                _ => StringTest::EndsWith,
            };
            let values = each_string(problems)
                .into_iter()
                .map(|(_, s)| if ci { edgeflag_readers::lowercase::to_lowercase(&s) } else { s })
                .collect();
            Test::Strings { test, values, case_insensitive: ci }
        }
        Operator::Regex => {
            let mut regexes = Vec::new();
            for (i, pattern) in each_string(problems) {
                match regex_lite::RegexBuilder::new(&pattern)
                    .case_insensitive(ci)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                {
                    Ok(regex) => regexes.push(Pattern { regex, prefix: anchored_prefix(&pattern, ci) }),
                    Err(e) => problems.push((format!("values[{i}]"), format!("invalid regex: {e}"))),
                }
            }
            Test::Regex(regexes)
        }
        Operator::NumEq | Operator::NumLt | Operator::NumLte | Operator::NumGt | Operator::NumGte => {
            let mut numbers = Vec::new();
            for (i, value) in clause.values.iter().enumerate() {
                match value.as_f64() {
                    Some(n) if n.is_finite() => numbers.push(n),
                    _ => problems.push((
                        format!("values[{i}]"),
                        format!("{} needs a number, got {}", op.as_str(), json_type(value)),
                    )),
                }
            }
            Test::Number(comparison(op), numbers)
        }
        Operator::SemverEq
        | Operator::SemverLt
        | Operator::SemverLte
        | Operator::SemverGt
        | Operator::SemverGte => {
            let mut versions = Vec::new();
            for (i, value) in clause.values.iter().enumerate() {
                match value.as_str().map(|s| Version::parse(s.trim())) {
                    Some(Ok(v)) => versions.push(v),
                    Some(Err(e)) => {
                        problems.push((format!("values[{i}]"), format!("invalid semver: {e}")))
                    }
                    None => problems.push((
                        format!("values[{i}]"),
                        format!("{} needs a semver string, got {}", op.as_str(), json_type(value)),
                    )),
                }
            }
            Test::Semver(comparison(op), versions)
        }
        Operator::DateBefore | Operator::DateAfter => {
            let mut instants = Vec::new();
            for (i, value) in clause.values.iter().enumerate() {
                match value.as_str().map(edgeflag_readers::rfc3339::parse) {
                    Some(Some(t)) => instants.push(t),
                    _ => problems.push((
                        format!("values[{i}]"),
                        format!("{} needs an RFC 3339 date-time such as \"2026-01-31T00:00:00Z\"", op.as_str()),
                    )),
                }
            }
            Test::Date { before: op == Operator::DateBefore, instants }
        }
        Operator::IpInCidr => {
            let mut nets = Vec::new();
            for (i, text) in each_string(problems) {
                let text = text.trim();
                match text.parse::<IpNet>().or_else(|_| text.parse::<IpAddr>().map(IpNet::from)) {
                    Ok(net) => nets.push(net),
                    Err(_) => problems.push((
                        format!("values[{i}]"),
                        format!("invalid CIDR {}: write e.g. \"10.0.0.0/8\" or \"2001:db8::/32\"", q(text)),
                    )),
                }
            }
            Test::Cidr(nets)
        }
        Operator::InSegment => {
            let mut indices = Vec::new();
            for (i, key) in each_string(problems) {
                match segment_index(&key) {
                    Some(index) => indices.push(index),
                    None => problems.push((format!("values[{i}]"), format!("unknown segment {}", q(&key)))),
                }
            }
            Test::Segment(indices)
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(CompiledClause { attribute: Attribute::new(&clause.attribute), test, negate: clause.negate })
}

fn comparison(op: Operator) -> Comparison {
    match op {
        Operator::NumLt | Operator::SemverLt => Comparison::Lt,
        Operator::NumLte | Operator::SemverLte => Comparison::Lte,
        Operator::NumGt | Operator::SemverGt => Comparison::Gt,
        Operator::NumGte | Operator::SemverGte => Comparison::Gte,
        _ => Comparison::Eq,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn anchored_prefixes_are_only_what_every_match_starts_with() {
        let p = |pattern: &str| anchored_prefix(pattern, false).map(String::from);
        assert_eq!(p("^ent(erprise)?$").as_deref(), Some("ent"));
        assert_eq!(p("^abc?").as_deref(), Some("ab"));
        assert_eq!(p("^ab+").as_deref(), Some("a"));
        assert_eq!(p("^a{2}").as_deref(), None);
        assert_eq!(p("^v1.2").as_deref(), Some("v1"));
        assert_eq!(p("^ab|cd"), None);
        assert_eq!(p("ab"), None);
        assert_eq!(p("^(?i)ab"), None);
        assert_eq!(p("^\\d"), None);
        assert_eq!(p("^é+x").as_deref(), None);
        assert_eq!(p("^ab日本語").as_deref(), Some("ab"));
        assert_eq!(anchored_prefix("^abc", true), None);
    }

    proptest::proptest! {
        /// With the prefix test in front, a pattern matches exactly what the regex matches.
        #[test]
        fn the_prefix_never_changes_an_answer(
            pattern in "\\^[a-c]{0,3}[?*+]?(\\(b\\))?[a-c.]{0,2}\\$?",
            haystack in "[a-c]{0,6}",
        ) {
            let regex = regex_lite::Regex::new(&pattern).unwrap();
            let prepared = Pattern { regex: regex.clone(), prefix: anchored_prefix(&pattern, false) };
            proptest::prop_assert_eq!(prepared.is_match(&haystack), regex.is_match(&haystack), "{} on {}", pattern, haystack);
        }
    }

    use super::*;
    use serde_json::json;

    struct NoSegments;
    impl SegmentLookup for NoSegments {
        fn in_segment(&self, _: usize, _: &Context) -> bool {
            false
        }
    }

    fn clause(attribute: &str, operator: Operator, values: Value) -> Clause {
        Clause {
            attribute: attribute.into(),
            operator,
            values: serde_json::from_value(values).unwrap(),
            negate: false,
            case_insensitive: false,
        }
    }

    fn check(c: &Clause, ctx: &Context) -> bool {
        let mut problems = Vec::new();
        let compiled = compile_clause(c, &|_| None, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        compiled.unwrap().matches(ctx, &NoSegments)
    }

    fn ctx(attrs: Value) -> Context {
        Context::from_value(attrs).unwrap()
    }

    #[test]
    fn in_and_not_in_follow_missing_attribute_rules() {
        let c = ctx(json!({"country": "FR"}));
        assert!(check(&clause("country", Operator::In, json!(["DE", "FR"])), &c));
        assert!(!check(&clause("country", Operator::NotIn, json!(["DE", "FR"])), &c));
        assert!(!check(&clause("missing", Operator::In, json!(["x"])), &c));
        assert!(check(&clause("missing", Operator::NotIn, json!(["x"])), &c));
    }

    #[test]
    fn negate_inverts_and_case_insensitive_folds() {
        let c = ctx(json!({"email": "Ana@Example.COM"}));
        let mut ends = clause("email", Operator::EndsWith, json!(["@example.com"]));
        assert!(!check(&ends, &c));
        ends.case_insensitive = true;
        assert!(check(&ends, &c));
        ends.negate = true;
        assert!(!check(&ends, &c));
    }

    #[test]
    fn arrays_match_any_element() {
        let c = ctx(json!({"groups": ["staff", "beta"]}));
        assert!(check(&clause("groups", Operator::In, json!(["beta"])), &c));
        assert!(!check(&clause("groups", Operator::In, json!(["gamma"])), &c));
    }

    #[test]
    fn numbers_semvers_dates_and_cidrs_compare_by_meaning() {
        let c = ctx(json!({
            "age": 30, "score": "7.5", "version": "1.10.0", "ip": "10.1.2.3",
            "signup": "2026-03-01T12:00:00+01:00", "seen_ms": 1767225600000u64
        }));
        assert!(check(&clause("age", Operator::NumGte, json!([30])), &c));
        assert!(!check(&clause("age", Operator::NumGt, json!([30])), &c));
        assert!(check(&clause("score", Operator::NumLt, json!([8])), &c));
        assert!(check(&clause("version", Operator::SemverGt, json!(["1.9.9"])), &c));
        assert!(!check(&clause("version", Operator::SemverLt, json!(["1.2.0"])), &c));
        assert!(check(&clause("ip", Operator::IpInCidr, json!(["10.0.0.0/8"])), &c));
        assert!(!check(&clause("ip", Operator::IpInCidr, json!(["192.168.0.0/16"])), &c));
        assert!(check(&clause("signup", Operator::DateAfter, json!(["2026-03-01T10:59:59Z"])), &c));
        assert!(check(&clause("signup", Operator::DateBefore, json!(["2026-03-01T11:00:01Z"])), &c));
        // 1767225600000 ms = 2026-01-01T00:00:00Z
        assert!(check(&clause("seen_ms", Operator::DateBefore, json!(["2026-01-01T00:00:01Z"])), &c));
    }

    #[test]
    fn wrong_types_never_match() {
        let c = ctx(json!({"age": "old", "version": "banana", "ip": "not-an-ip"}));
        assert!(!check(&clause("age", Operator::NumLt, json!([100])), &c));
        assert!(!check(&clause("version", Operator::SemverGt, json!(["0.0.1"])), &c));
        assert!(!check(&clause("ip", Operator::IpInCidr, json!(["0.0.0.0/0"])), &c));
    }

    #[test]
    fn bad_values_are_reported_with_their_index() {
        let mut problems = Vec::new();
        let c = clause("v", Operator::Regex, json!(["ok", "(", 3]));
        assert!(compile_clause(&c, &|_| None, &mut problems).is_none());
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["values[2]", "values[1]"]);
        assert!(problems[1].1.starts_with("invalid regex"), "{problems:?}");
    }
}
