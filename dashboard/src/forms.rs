//! Form <-> model conversions: what an input shows for a model value, and what model value
//! an input's text becomes. Checking the *meaning* (is this a semver? do weights sum to
//! 100 %?) is the evaluator's job; these functions only convert, and keep what they cannot
//! convert as text so the evaluator reports it with its path.

use edgeflag_evaluator::model::{
    Canary, CanaryStage, Clause, Experiment, ExperimentVariant, Flag, FlagKind, HealthGate,
    Operator, Rollout, Variation,
};
use serde_json::{Map, Number, Value};

/// Basis points (0..=10000) as a percentage text without trailing zeros: 1250 -> "12.5".
pub fn bp_to_percent(bp: u32) -> String {
    trim_zeros(format!("{}.{:02}", bp / 100, bp % 100))
}

/// A percentage in 0.01 % steps to basis points: "12.5" -> 1250.
pub fn percent_to_bp(text: &str) -> Result<u32, String> {
    let text = text.trim().trim_end_matches('%').trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(frac.is_empty() || digits(frac)) {
        return Err(format!("{text:?} is not a percentage like 12.5"));
    }
    if frac.len() > 2 {
        return Err("at most two decimals (steps of 0.01 %)".into());
    }
    let whole: u32 = whole.parse().map_err(|_| "too large".to_string())?;
    let frac: u32 = format!("{frac:0<2}").parse().map_err(|_| "invalid decimals".to_string())?;
    let bp = whole.checked_mul(100).and_then(|w| w.checked_add(frac)).unwrap_or(u32::MAX);
    if bp > 10_000 {
        return Err("at most 100 %".into());
    }
    Ok(bp)
}

/// A float percentage (canary stages) as text: 12.5 -> "12.5".
pub fn float_to_text(value: f64) -> String {
    let text = format!("{value}");
    if text.contains('e') { format!("{value:.2}") } else { text }
}

/// A measured value for display: at most four decimals, no trailing zeros (232.1, 0.0077, 800).
pub fn measured(value: f64) -> String {
    trim_zeros(format!("{value:.4}"))
}

fn trim_zeros(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// What kind of input a clause value needs, by operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueInput {
    Text,
    Number,
    Semver,
    Date,
    Cidr,
    Regex,
    Segment,
}

impl ValueInput {
    pub fn for_operator(op: Operator) -> ValueInput {
        use Operator::*;
        match op {
            NumEq | NumLt | NumLte | NumGt | NumGte => ValueInput::Number,
            SemverEq | SemverLt | SemverLte | SemverGt | SemverGte => ValueInput::Semver,
            DateBefore | DateAfter => ValueInput::Date,
            IpInCidr => ValueInput::Cidr,
            Regex => ValueInput::Regex,
            InSegment => ValueInput::Segment,
            In | NotIn | Eq | Contains | StartsWith | EndsWith => ValueInput::Text,
        }
    }

    pub fn placeholder(self) -> &'static str {
        match self {
            ValueInput::Text => "value",
            ValueInput::Number => "42",
            ValueInput::Semver => "1.2.3",
            ValueInput::Date => "2026-01-31T00:00",
            ValueInput::Cidr => "10.0.0.0/8",
            ValueInput::Regex => "^user-[0-9]+$",
            ValueInput::Segment => "segment key",
        }
    }
}

/// Whether the operator uses the clause's `attribute` (in_segment does not).
pub fn uses_attribute(op: Operator) -> bool {
    op != Operator::InSegment
}

/// Whether the operator honours `case_insensitive`.
pub fn is_string_operator(op: Operator) -> bool {
    use Operator::*;
    matches!(op, In | NotIn | Eq | Contains | StartsWith | EndsWith | Regex)
}

/// The model value for a clause value input. Numbers become JSON numbers when they parse;
/// anything else stays a string (the evaluator then reports the bad value at its path).
pub fn clause_value_from_input(input: ValueInput, text: &str) -> Value {
    match input {
        ValueInput::Number => number_value(text.trim()).unwrap_or_else(|| Value::from(text)),
        ValueInput::Date => Value::from(datetime_local_to_rfc3339(text)),
        _ => Value::from(text),
    }
}

/// The text an input shows for a clause value.
pub fn clause_value_to_input(input: ValueInput, value: &Value) -> String {
    match (input, value) {
        (ValueInput::Date, Value::String(s)) => rfc3339_to_datetime_local(s).unwrap_or_else(|| s.clone()),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

fn number_value(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    edgeflag_readers::float_reader::parse_f64(text).and_then(Number::from_f64).map(Value::Number)
}

/// `<input type="datetime-local">` gives "2026-01-31T10:00" (or with seconds), in the time
/// zone the label says: UTC. The model stores RFC 3339.
pub fn datetime_local_to_rfc3339(text: &str) -> String {
    let text = text.trim();
    let is_local = text.len() >= 16 && text.as_bytes().get(10) == Some(&b'T') && !text.ends_with('Z');
    match (is_local, text.len()) {
        (true, 16) => format!("{text}:00Z"),
        (true, _) if !text[10..].contains(['+', '-']) => format!("{text}Z"),
        _ => text.to_string(),
    }
}

/// The datetime-local text of a UTC RFC 3339 time, if it is one.
pub fn rfc3339_to_datetime_local(text: &str) -> Option<String> {
    let body = text.strip_suffix('Z').or_else(|| text.strip_suffix("+00:00"))?;
    let valid = body.len() >= 16 && body.as_bytes()[10] == b'T';
    valid.then(|| body.strip_suffix(":00").filter(|b| b.len() == 16).unwrap_or(body).to_string())
}

/// A variation value from its input text, by the flag's kind.
pub fn variation_value_from_input(kind: FlagKind, text: &str) -> Result<Value, String> {
    match kind {
        FlagKind::String => Ok(Value::from(text)),
        FlagKind::Boolean => match text.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            other => Err(format!("{other:?} is not true or false")),
        },
        FlagKind::Number => number_value(text.trim()).ok_or_else(|| format!("{text:?} is not a number")),
        FlagKind::Json => crate::json::value(text).map_err(|e| format!("not JSON: {e}")),
    }
}

pub fn variation_value_to_input(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A context attribute from the preview form: JSON when it parses as a non-string JSON value
/// (`42`, `true`, `["a","b"]`), otherwise the text itself. `"42"` (quoted) is the string 42.
pub fn attribute_value_from_input(text: &str) -> Value {
    match crate::json::value(text.trim()) {
        Ok(value) => value,
        Err(_) => Value::from(text),
    }
}

/// The preview context as OpenFeature JSON.
pub fn context_json(targeting_key: &str, attributes: &[(String, String)]) -> Value {
    let mut map = Map::new();
    for (name, text) in attributes {
        if !name.trim().is_empty() {
            map.insert(name.trim().to_string(), attribute_value_from_input(text));
        }
    }
    if !targeting_key.is_empty() {
        map.insert("targetingKey".into(), Value::from(targeting_key));
    }
    Value::Object(map)
}

/// A new flag of `kind`, disabled, with two variations to start from.
pub fn new_flag(key: &str, kind: FlagKind) -> Flag {
    let (a, b) = match kind {
        FlagKind::Boolean => (("on", Value::Bool(true)), ("off", Value::Bool(false))),
        FlagKind::String => (("a", Value::from("a")), ("b", Value::from("b"))),
        FlagKind::Number => (("one", Value::from(1)), ("zero", Value::from(0))),
        FlagKind::Json => (("on", serde_json::json!({"enabled": true})), ("off", serde_json::json!({}))),
    };
    let variation = |(name, value): (&str, Value)| Variation { name: name.into(), value, description: String::new() };
    Flag {
        key: key.into(),
        description: String::new(),
        tags: Vec::new(),
        kind,
        off_variation: b.0.into(),
        default_variation: b.0.into(),
        variations: vec![variation(a), variation(b)],
        enabled: false,
        prerequisites: Vec::new(),
        targets: Vec::new(),
        deny: Vec::new(),
        rules: Vec::new(),
        rollout: None,
        canary: None,
        experiment: None,
        environments: Default::default(),
    }
}

/// `base-copy`, `base-copy-2`, ... : the first key not in `existing`.
pub fn unique_key<'a>(existing: impl Iterator<Item = &'a str> + Clone, base: &str) -> String {
    let taken = |k: &str| existing.clone().any(|e| e == k);
    let first = format!("{base}-copy");
    if !taken(&first) {
        return first;
    }
    (2..).map(|n| format!("{base}-copy-{n}")).find(|k| !taken(k)).unwrap_or(first)
}

/// The split kinds a flag can have (at most one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitKind {
    None,
    Rollout,
    Canary,
    Experiment,
}

impl SplitKind {
    pub const ALL: [SplitKind; 4] = [SplitKind::None, SplitKind::Rollout, SplitKind::Canary, SplitKind::Experiment];

    pub fn as_str(self) -> &'static str {
        match self {
            SplitKind::None => "none",
            SplitKind::Rollout => "rollout",
            SplitKind::Canary => "canary",
            SplitKind::Experiment => "experiment",
        }
    }

    pub fn parse(text: &str) -> SplitKind {
        SplitKind::ALL.into_iter().find(|k| k.as_str() == text).unwrap_or(SplitKind::None)
    }

    pub fn of(rollout: &Option<Rollout>, canary: &Option<Canary>, experiment: &Option<Experiment>) -> SplitKind {
        match (rollout, canary, experiment) {
            (_, Some(_), _) => SplitKind::Canary,
            (_, _, Some(_)) => SplitKind::Experiment,
            (Some(_), _, _) => SplitKind::Rollout,
            _ => SplitKind::None,
        }
    }
}

/// Starting values when the admin switches a flag to a split kind. `on`/`off` are the flag's
/// first and second variation names.
pub fn default_rollout(on: &str) -> Rollout {
    Rollout { percent_bp: 0, variation: on.into(), stickiness: None, salt: None }
}

pub fn default_stage(percent: f64) -> CanaryStage {
    CanaryStage {
        percent,
        min_duration: "10m".into(),
        gate: HealthGate { max_error_rate: 0.01, max_p99_ms: 500.0, min_samples: 100 },
    }
}

pub fn default_canary(on: &str, off: &str) -> Canary {
    Canary {
        baseline: off.into(),
        canary: on.into(),
        stages: [1.0, 10.0, 50.0, 100.0].into_iter().map(default_stage).collect(),
        current_stage: 0,
        status: Default::default(),
        stage_started_at: None,
        stickiness: None,
        salt: None,
    }
}

pub fn default_experiment(names: &[String]) -> Experiment {
    let n = names.len().max(1) as u32;
    let mut variants: Vec<ExperimentVariant> = names
        .iter()
        .map(|name| ExperimentVariant { variation: name.clone(), weight_bp: 10_000 / n })
        .collect();
    // Integer division leaves a remainder: give it to the first arm so the total is 100 %.
    if let Some(first) = variants.first_mut() {
        first.weight_bp += 10_000 - (10_000 / n) * n;
    }
    Experiment { variants, traffic_bp: 10_000, stickiness: None, salt: None, experiment_salt: None }
}

/// The sum of experiment weights, in basis points (shown beside the weights).
pub fn weights_total(variants: &[ExperimentVariant]) -> u64 {
    variants.iter().map(|v| u64::from(v.weight_bp)).sum()
}

/// A fresh clause: the first context attribute most flags target.
pub fn default_clause() -> Clause {
    Clause {
        attribute: "country".into(),
        operator: Operator::In,
        values: vec![Value::from("")],
        negate: false,
        case_insensitive: false,
    }
}

/// Parses an operator `<select>` value.
pub fn parse_operator(text: &str) -> Option<Operator> {
    Operator::ALL.into_iter().find(|op| op.as_str() == text)
}

/// Splits a comma/newline separated list of keys (targets, deny lists, segment members).
pub fn parse_key_list(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn measured_values_lose_trailing_zeros_only() {
        let shown: Vec<String> = [232.1, 0.0077, 800.0, 0.0, 59.19, 1.23456].into_iter().map(super::measured).collect();
        assert_eq!(shown, ["232.1", "0.0077", "800", "0", "59.19", "1.2346"]);
    }

    use super::*;

    #[test]
    fn percentages_round_trip_in_hundredths() {
        assert_eq!(bp_to_percent(1250), "12.5");
        assert_eq!(bp_to_percent(1), "0.01");
        assert_eq!(bp_to_percent(10_000), "100");
        assert_eq!(bp_to_percent(0), "0");
        for bp in [0, 1, 99, 100, 1234, 5000, 9999, 10_000] {
            assert_eq!(percent_to_bp(&bp_to_percent(bp)), Ok(bp));
        }
        assert_eq!(percent_to_bp(" 7.05 % "), Ok(705));
        assert!(percent_to_bp("1.005").unwrap_err().contains("two decimals"));
        assert!(percent_to_bp("100.01").is_err());
        assert!(percent_to_bp("-1").is_err());
        assert!(percent_to_bp("abc").is_err());
        assert!(percent_to_bp("99999999999").is_err());
    }

    #[test]
    fn operators_choose_their_input() {
        assert_eq!(ValueInput::for_operator(Operator::SemverGte), ValueInput::Semver);
        assert_eq!(ValueInput::for_operator(Operator::DateAfter), ValueInput::Date);
        assert_eq!(ValueInput::for_operator(Operator::NumLt), ValueInput::Number);
        assert_eq!(ValueInput::for_operator(Operator::InSegment), ValueInput::Segment);
        assert!(!uses_attribute(Operator::InSegment));
        assert!(is_string_operator(Operator::Regex) && !is_string_operator(Operator::NumEq));
        assert_eq!(parse_operator("semver_lt"), Some(Operator::SemverLt));
        assert_eq!(parse_operator("bogus"), None);
    }

    #[test]
    fn clause_values_convert_by_input_kind() {
        assert_eq!(clause_value_from_input(ValueInput::Number, "42"), Value::from(42));
        assert_eq!(clause_value_from_input(ValueInput::Number, "2.5"), Value::from(2.5));
        // Not a number: kept as text so the evaluator reports it at the value's path.
        assert_eq!(clause_value_from_input(ValueInput::Number, "4x"), Value::from("4x"));
        assert_eq!(clause_value_from_input(ValueInput::Semver, "1.2"), Value::from("1.2"));
        assert_eq!(
            clause_value_from_input(ValueInput::Date, "2026-03-01T12:30"),
            Value::from("2026-03-01T12:30:00Z")
        );
        assert_eq!(clause_value_to_input(ValueInput::Date, &Value::from("2026-03-01T12:30:00Z")), "2026-03-01T12:30");
        assert_eq!(clause_value_to_input(ValueInput::Number, &Value::from(7)), "7");
    }

    #[test]
    fn dates_convert_between_picker_and_rfc3339() {
        assert_eq!(datetime_local_to_rfc3339("2026-01-31T10:00"), "2026-01-31T10:00:00Z");
        assert_eq!(datetime_local_to_rfc3339("2026-01-31T10:00:05"), "2026-01-31T10:00:05Z");
        assert_eq!(datetime_local_to_rfc3339("2026-01-31T10:00:00+02:00"), "2026-01-31T10:00:00+02:00");
        assert_eq!(rfc3339_to_datetime_local("2026-01-31T10:00:05Z").as_deref(), Some("2026-01-31T10:00:05"));
        assert_eq!(rfc3339_to_datetime_local("2026-01-31T10:00:00+00:00").as_deref(), Some("2026-01-31T10:00"));
        assert_eq!(rfc3339_to_datetime_local("2026-01-31T10:00:00+02:00"), None);
        assert_eq!(rfc3339_to_datetime_local("soon"), None);
    }

    #[test]
    fn variation_values_follow_the_flag_kind() {
        assert_eq!(variation_value_from_input(FlagKind::Boolean, "true"), Ok(Value::Bool(true)));
        assert!(variation_value_from_input(FlagKind::Boolean, "yes").is_err());
        assert_eq!(variation_value_from_input(FlagKind::Number, "3.5"), Ok(Value::from(3.5)));
        assert!(variation_value_from_input(FlagKind::Number, "three").is_err());
        assert_eq!(variation_value_from_input(FlagKind::Json, r#"{"a":1}"#), Ok(serde_json::json!({"a": 1})));
        assert!(variation_value_from_input(FlagKind::Json, "{").is_err());
        assert_eq!(variation_value_from_input(FlagKind::String, " x "), Ok(Value::from(" x ")));
        assert_eq!(variation_value_to_input(&Value::from("x")), "x");
        assert_eq!(variation_value_to_input(&serde_json::json!({"a": 1})), r#"{"a":1}"#);
    }

    #[test]
    fn preview_context_is_openfeature_json() {
        let attrs = vec![
            ("country".to_string(), "FR".to_string()),
            ("age".to_string(), "42".to_string()),
            ("zip".to_string(), "\"01234\"".to_string()),
            ("groups".to_string(), r#"["a","b"]"#.to_string()),
            (" ".to_string(), "ignored".to_string()),
        ];
        assert_eq!(
            context_json("user-1", &attrs),
            serde_json::json!({"targetingKey": "user-1", "country": "FR", "age": 42, "zip": "01234", "groups": ["a", "b"]})
        );
        assert_eq!(context_json("", &[]), serde_json::json!({}));
    }

    #[test]
    fn new_and_duplicated_flags() {
        let f = new_flag("x", FlagKind::Number);
        assert_eq!((f.enabled, f.off_variation.as_str(), f.variations.len()), (false, "zero", 2));
        let keys = ["a", "a-copy", "a-copy-2"];
        assert_eq!(unique_key(keys.iter().copied(), "a"), "a-copy-3");
        assert_eq!(unique_key(keys.iter().copied(), "b"), "b-copy");
    }

    #[test]
    fn default_splits_are_complete() {
        let e = default_experiment(&["a".into(), "b".into(), "c".into()]);
        assert_eq!(weights_total(&e.variants), 10_000);
        assert_eq!(e.variants[0].weight_bp, 3334);
        let c = default_canary("on", "off");
        assert_eq!((c.canary.as_str(), c.baseline.as_str(), c.stages.len()), ("on", "off", 4));
        assert_eq!(SplitKind::of(&None, &Some(c), &None), SplitKind::Canary);
        assert_eq!(SplitKind::parse("rollout"), SplitKind::Rollout);
    }

    #[test]
    fn key_lists_split_on_commas_and_lines() {
        assert_eq!(parse_key_list("a, b\nc,,\n"), ["a", "b", "c"]);
        assert!(parse_key_list("  ").is_empty());
    }
}
