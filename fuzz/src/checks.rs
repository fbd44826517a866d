//! What each fuzz target checks, as functions of the raw input bytes. A check returns when the
//! property holds and panics (an assertion) when it does not.
//!
//! Two users: the fuzz targets (`fuzz/fuzz_targets/*.rs`, one line each), and the normal test
//! suite, which replays every saved finding and seed through the same functions
//! (`evaluator/tests/fuzz_regressions.rs` includes this file with `#[path]`). So this file
//! needs only what the evaluator's tests have: the evaluator, serde_json with
//! `float_roundtrip`, and `time`.

use std::str;

use edgeflag_readers::json_reader::{self, Json};
use edgeflag_evaluator::unleash::{UnleashContext, UnleashSet};
use edgeflag_evaluator::{Context, FlagSet};
use edgeflag_readers::{float_reader, rfc3339};
use serde_json::Value;

/// The example flag file the context target evaluates, and the replace target swaps out.
pub const EXAMPLE_FLAGS: &str = include_str!("../../examples/flags.json");

/// Splits two-part inputs (flag file and context, payload and context): 0xFF never occurs
/// in UTF-8, so each part stays a candidate `str`.
pub const PART_SEPARATOR: u8 = 0xFF;

/// A fixed clock for the Unleash target (date constraints), so a replay answers the same.
const NOW_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn split_parts(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == PART_SEPARATOR) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// The correctly rounded `f64` of `text` in Rust's float grammar, or `None` where
/// `str::parse::<f64>` refuses it. The oracle for the engine's float reader where std itself
/// is wrong: std stops reading exponent digits at 65,536, so `"1"` + 655,360 zeros +
/// `"e-655360"` is infinite for std although it is 1.
///
/// How: the same number written short, `0.DIGITS e EXP` with at most 800 significant digits
/// and a small exponent, parsed by std (which is exact on such text). Cutting the digits is
/// exact: a value halfway between two doubles has at most 767 significant digits, so when
/// nonzero digits are cut, a `1` in their place rounds the same way as all of them.
pub fn correctly_rounded(text: &str) -> Option<f64> {
    let by_std = text.parse::<f64>().ok()?;
    let negative = text.starts_with('-');
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Some(by_std); // inf, infinity, nan
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
        None => (unsigned, ""),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exponent_negative = exponent.starts_with('-');
    let mut exp: i128 = 0;
    for d in exponent.trim_start_matches(['+', '-']).bytes() {
        exp = (exp * 10 + i128::from(d - b'0')).min(1 << 100);
    }
    if exponent_negative {
        exp = -exp;
    }
    let digits: String = format!("{integer}{fraction}");
    let leading_zeros = digits.bytes().take_while(|&b| b == b'0').count();
    let significant = digits[leading_zeros..].trim_end_matches('0');
    let magnitude = if significant.is_empty() {
        0.0
    } else {
        // The value is 0.SIGNIFICANT × 10^point.
        let point = integer.len() as i128 - leading_zeros as i128 + exp;
        if point > 400 {
            f64::INFINITY
        } else if point < -400 {
            0.0
        } else {
            let (kept, cut) = significant.split_at(significant.len().min(800));
            let sticky = if cut.is_empty() { "" } else { "1" };
            format!("0.{kept}{sticky}e{point}").parse::<f64>().ok()?
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Whether std reads every exponent digit of `text` (an exponent below 65,536), so that
/// `str::parse::<f64>` is itself correctly rounded on it.
pub fn std_reads_whole_exponent(text: &str) -> bool {
    match text.find(['e', 'E']) {
        None => true,
        Some(at) => {
            let digits = text[at + 1..].trim_start_matches(['+', '-']).trim_start_matches('0');
            digits.len() < 5 || (digits.len() == 5 && digits < "65536")
        }
    }
}

fn bits(x: Option<f64>) -> Option<u64> {
    x.map(f64::to_bits)
}

/// The float reader (`float_reader::parse_f64`) against `str::parse::<f64>`, bit for bit: the same
/// texts refused, and the correctly rounded value for the rest, which is std's own answer
/// wherever std reads the whole exponent (`correctly_rounded` elsewhere; see decimal.rs).
pub fn float_reader(data: &[u8]) {
    let Ok(text) = str::from_utf8(data) else { return };
    let ours = float_reader::parse_f64(text);
    let expected = correctly_rounded(text);
    assert_eq!(bits(ours), bits(expected), "{text:?}: ours {ours:?}, correctly rounded {expected:?}");
    if std_reads_whole_exponent(text) {
        let by_std = text.parse::<f64>().ok();
        assert_eq!(bits(ours), bits(by_std), "{text:?}: ours {ours:?}, std {by_std:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

/// Every number token of a JSON text serde_json accepted, in document order.
fn number_tokens(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                tokens.push(&text[start..i]);
            }
            _ => i += 1,
        }
    }
    tokens
}

/// The numbers of a document in document order (duplicate keys included).
fn numbers_in_order<'j>(json: &'j Json, out: &mut Vec<&'j serde_json::Number>) {
    match json {
        Json::Number(n) => out.push(n),
        Json::Array(items) => items.iter().for_each(|item| numbers_in_order(item, out)),
        Json::Object(entries) => entries.iter().for_each(|(_, value)| numbers_in_order(value, out)),
        Json::Null | Json::Bool(_) | Json::String(_) => {}
    }
}

/// The same JSON value, except that two floats always count as the same: the reader's floats
/// are checked against the correctly rounded value of their text separately.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => (x.is_f64() && y.is_f64()) || x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_shape(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_shape(v, w)))
        }
        _ => a == b,
    }
}

/// The JSON reader (`json_reader::parse`) against serde_json with `float_roundtrip`: the same
/// documents accepted into the same values, the same documents refused with serde_json's
/// message, line and column. Except where serde_json misrounds: every float the reader returns
/// must be the correctly rounded value of its text ([`correctly_rounded`]), and where
/// serde_json's float differs from it (a halfway value written with more than 768 digits),
/// or serde_json reads a finite number the reader correctly calls out of range (or the other
/// way round), the correctly rounded value decides.
pub fn json_reader(data: &[u8]) {
    let Ok(text) = str::from_utf8(data) else { return };
    let ours = json_reader::parse(text);
    let theirs = serde_json::from_str::<Value>(text);
    if let Ok(json) = &ours {
        let mut numbers = Vec::new();
        numbers_in_order(json, &mut numbers);
        let tokens = number_tokens(text);
        assert_eq!(numbers.len(), tokens.len(), "{text:?}: numbers {numbers:?}, tokens {tokens:?}");
        for (number, token) in numbers.iter().zip(&tokens) {
            if number.is_f64() {
                let expected = correctly_rounded(token);
                assert_eq!(bits(number.as_f64()), bits(expected), "{token:?} in {text:?}");
            } else {
                let is_integer_text = !token.contains(['.', 'e', 'E']);
                let value = number.as_i64().map(i128::from).or(number.as_u64().map(i128::from));
                assert!(is_integer_text && value == token.parse::<i128>().ok(), "{token:?} read as {number}");
            }
        }
    }
    match (ours, theirs) {
        (Ok(json), Ok(value)) => {
            let ours = json.into_value();
            assert!(same_shape(&ours, &value), "{text:?}: ours {ours}, serde_json {value}");
        }
        (Err(ours), Err(theirs)) => assert_eq!(ours.message, theirs.to_string(), "{text:?}"),
        (Err(ours), Ok(value)) => {
            // Only serde_json misreading a number that is out of range.
            let too_large = number_tokens(text)
                .iter()
                .any(|t| correctly_rounded(t).is_some_and(f64::is_infinite));
            assert!(
                ours.message.starts_with("number out of range") && too_large,
                "{text:?}: ours refused ({}), serde_json read {value}",
                ours.message
            );
        }
        (Ok(json), Err(theirs)) => {
            // Only serde_json refusing a number the reader read correctly (checked above).
            assert!(
                theirs.to_string().starts_with("number out of range"),
                "{text:?}: ours read {:?}, serde_json refused ({theirs})",
                json
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RFC 3339

/// The RFC 3339 reader (`rfc3339::parse`) against the `time` crate's `Rfc3339`: the same texts
/// accepted as the same instant (nanoseconds), the same refused. Surrounding whitespace is
/// trimmed by the reader, so `time` gets the trimmed text.
pub fn rfc3339_reader(data: &[u8]) {
    use time::format_description::well_known::Rfc3339;
    let Ok(text) = str::from_utf8(data) else { return };
    let by_time = time::OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos());
    assert_eq!(rfc3339::parse(text), by_time, "{text:?}");
}

// ---------------------------------------------------------------------------------------------
// Flag files and contexts

/// Contexts for evaluating any flag file: none, a bare key, a full one, and one built from
/// the file's own targets and clause values (so that rules and targets can match).
fn contexts_for(set: &FlagSet) -> Vec<Context> {
    let full = Context::from_json(
        r#"{"targetingKey": "user-42", "country": "DE", "plan": "pro", "email": "Ann@Example.com",
            "version": "2.3.4", "ip": "10.1.2.3", "age": 42, "beta": true, "groups": ["a", "b"],
            "signup": "2026-01-31T12:00:00Z", "score": 1e300}"#,
    );
    let mut contexts = vec![Context::anonymous(), Context::new("user-1")];
    contexts.extend(full.ok());
    let file = set.file();
    let mut own = Context::new(
        file.flags
            .iter()
            .flat_map(|f| f.targets.iter().flat_map(|t| t.keys.first()))
            .next()
            .cloned()
            .unwrap_or_else(|| "user-7".to_owned()),
    );
    for flag in &file.flags {
        for rule in &flag.rules {
            for clause in &rule.clauses {
                if let Some(value) = clause.values.first() {
                    own.set(clause.attribute.clone(), value.clone());
                }
            }
        }
    }
    contexts.push(own);
    contexts
}

/// Every answer of a flag set for the contexts, in every declared environment, in no
/// environment and in an unknown one, written as the JSON that edges serve.
fn evaluate_everywhere(set: &FlagSet, contexts: &[Context]) {
    let mut environments: Vec<Option<&str>> = vec![None, Some("no-such-environment")];
    environments.extend(set.file().environments.iter().map(|e| Some(e.as_str())));
    for env in environments {
        for context in contexts {
            let answers = set.evaluate_all(context, env);
            serde_json::to_string(&answers).expect("answers serialize");
            // An unknown flag is an answer, not a panic.
            std::hint::black_box(set.evaluate("no-such-flag", context, env));
        }
    }
}

/// A flag file through load and `evaluate_all` (several contexts, every environment): no
/// panic, and no input that takes over a second (the fuzz runs use `-timeout=1`). A file
/// that loads answers, and writes back (serde) into a file that loads into the same model; a
/// file that does not load names at least one problem. (Natively a set is immutable and
/// `replace` is a load; the WASM `FlagSet.replace` of the same inputs, which must leave the
/// old set serving on failure, is replayed by tests/js/fuzz-corpus.test.mjs.)
pub fn flag_file(data: &[u8]) {
    let Ok(text) = str::from_utf8(data) else { return };
    match FlagSet::from_json(text) {
        Ok(set) => {
            evaluate_everywhere(&set, &contexts_for(&set));
            let written = serde_json::to_string(set.file()).expect("a loaded file serializes");
            match FlagSet::from_json(&written) {
                Ok(again) => assert_eq!(again.file(), set.file(), "{text:?} written back as {written}"),
                Err(e) => panic!("{text:?} loaded, but written back as {written} it does not: {e}"),
            }
        }
        Err(errors) => {
            assert!(!errors.problems.is_empty(), "{text:?}: an error without problems");
            assert!(!errors.to_string().is_empty());
        }
    }
}

/// examples/flags.json, loaded once per process.
fn example_set() -> &'static FlagSet {
    static SET: std::sync::OnceLock<FlagSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| match FlagSet::from_json(EXAMPLE_FLAGS) {
        Ok(set) => set,
        Err(e) => panic!("examples/flags.json does not load: {e}"),
    })
}

/// A context through `Context::from_json`, then `evaluate_all` on examples/flags.json in
/// every environment: no panic; a refused context has a message.
pub fn context(data: &[u8]) {
    let Ok(text) = str::from_utf8(data) else { return };
    match Context::from_json(text) {
        Ok(context) => {
            evaluate_everywhere(example_set(), &[context]);
        }
        Err(e) => assert!(!e.to_string().is_empty(), "{text:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Unleash

/// An Unleash payload and context (the two parts of the input, split at 0xFF) through
/// `UnleashSet::from_json`, `UnleashContext::from_json` and every answer: no panic; the
/// answers of one evaluation agree with each other.
pub fn unleash(data: &[u8]) {
    let (payload, context) = split_parts(data);
    let Ok(payload) = str::from_utf8(payload) else { return };
    let Ok(set) = UnleashSet::from_json(payload) else { return };
    let context = str::from_utf8(context)
        .ok()
        .and_then(|text| UnleashContext::from_json(text, Some(NOW_MS)).ok())
        .or_else(|| UnleashContext::from_json(r#"{"userId": "7", "sessionId": "s1"}"#, Some(NOW_MS)).ok());
    let Some(context) = context else { panic!("the fallback Unleash context does not load") };
    for answer in set.evaluate_all(&context) {
        assert!(answer.enabled || !answer.variant.enabled, "a variant of a disabled feature: {answer:?}");
        assert_eq!(answer.variant.feature_enabled, answer.enabled, "{answer:?}");
        serde_json::to_string(&answer).expect("an answer serializes");
    }
    let names: Vec<&str> = set.feature_names().collect();
    for name in names {
        set.is_enabled(name, &context);
        set.get_variant(name, &context);
    }
}

// ---------------------------------------------------------------------------------------------
// Canary judgement and statistics

/// Reads typed values from fuzz bytes (zeros once they run out), with the numbers that
/// break statistics (NaN, infinities, zero, negatives, huge counts) easy to reach.
#[cfg(feature = "analysis")]
struct Draw<'a>(&'a [u8]);

#[cfg(feature = "analysis")]
impl Draw<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn raw(&mut self) -> u64 {
        (0..8).fold(0, |n, _| (n << 8) | u64::from(self.byte()))
    }

    fn count(&mut self) -> u64 {
        match self.byte() % 8 {
            0 => 0,
            1 => u64::from(self.byte()),
            2 => u64::from(self.byte()) * 1000 + u64::from(self.byte()),
            3 => u64::MAX - u64::from(self.byte()),
            _ => self.raw() % 1_000_000,
        }
    }

    fn float(&mut self) -> f64 {
        const SPECIAL: [f64; 12] =
            [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, 1e300, f64::MAX, f64::MIN_POSITIVE];
        match self.byte() % 4 {
            0 => SPECIAL[usize::from(self.byte()) % SPECIAL.len()],
            1 => f64::from(self.byte()) / 10.0,
            2 => f64::from(u16::from(self.byte()) << 8 | u16::from(self.byte())),
            _ => f64::from_bits(self.raw()),
        }
    }

    fn floats(&mut self) -> Vec<f64> {
        (0..self.byte() % 24).map(|_| self.float()).collect()
    }

    fn buckets(&mut self) -> Vec<edgeflag_evaluator::stats::Bucket> {
        (0..self.byte() % 8)
            .map(|_| edgeflag_evaluator::stats::Bucket {
                le: if self.byte().is_multiple_of(5) { None } else { Some(self.float()) },
                count: self.count(),
            })
            .collect()
    }

    fn text<'s>(&mut self, choices: &[&'s str]) -> &'s str {
        choices[usize::from(self.byte()) % choices.len()]
    }
}

/// The canary judgement (`canary_input` then `judge_canary`, with histogram and with raw
/// sample latencies) and the statistics behind it on arbitrary metric inputs: no panic, and
/// no NaN in a decision (the checks' numbers are finite or absent).
#[cfg(feature = "analysis")]
pub fn judgement(data: &[u8]) {
    use edgeflag_evaluator::judgement::{canary_input, judge_canary, ArmMetrics, ArmSummary, CanaryInput, CanaryPolicy, Latency, LowTraffic};
    use edgeflag_evaluator::model::{Canary, CanaryStage, CanaryStatus, HealthGate};
    use edgeflag_evaluator::stats;

    const TIMES: [&str; 5] =
        ["2026-01-01T10:00:00Z", "2026-01-01T10:30:00Z", "2025-12-31T23:59:60Z", "1970-01-01T00:00:00Z", "not a time"];
    const DURATIONS: [&str; 5] = ["10m", "0s", "1h30m", "", "9999999999999h"];
    let mut d = Draw(data);
    let stages: Vec<CanaryStage> = (0..1 + d.byte() % 4)
        .map(|_| CanaryStage {
            percent: d.float(),
            min_duration: d.text(&DURATIONS).to_owned(),
            gate: HealthGate { max_error_rate: d.float(), max_p99_ms: d.float(), min_samples: d.count() },
        })
        .collect();
    let status = [CanaryStatus::Running, CanaryStatus::Running, CanaryStatus::Paused, CanaryStatus::RolledBack, CanaryStatus::Completed]
        [usize::from(d.byte()) % 5];
    let canary = Canary {
        baseline: "off".into(),
        canary: "on".into(),
        current_stage: usize::from(d.byte() % 5),
        status,
        stage_started_at: (!d.byte().is_multiple_of(3)).then(|| d.text(&TIMES).to_owned()),
        stages,
        stickiness: None,
        salt: None,
    };
    let policy = CanaryPolicy {
        failures_to_rollback: u32::from(d.byte() % 5),
        alpha: if d.byte().is_multiple_of(2) { 0.01 } else { d.float() },
        pass_risk: if d.byte().is_multiple_of(2) { 0.05 } else { d.float() },
        compare_with_baseline: !d.byte().is_multiple_of(4),
        error_rate_margin: if d.byte().is_multiple_of(2) { 0.0 } else { d.float() },
        latency_margin: if d.byte().is_multiple_of(2) { 0.05 } else { d.float() },
        error_rate_min_effect: if d.byte().is_multiple_of(2) { 1.0 } else { d.float() },
        latency_min_effect: if d.byte().is_multiple_of(2) { 0.3 } else { d.float() },
        min_latency_samples: d.count(),
        low_traffic: if d.byte().is_multiple_of(2) { LowTraffic::Hold } else { LowTraffic::AdvanceOnTime },
    };
    let now = d.text(&TIMES);
    let failures = u32::from(d.byte());
    let summary = |d: &mut Draw| -> Option<ArmSummary> {
        (!d.byte().is_multiple_of(4)).then(|| ArmSummary {
            requests: d.count(),
            errors: d.count(),
            error_rate: d.float(),
            p50_ms: Some(d.float()),
            p90_ms: None,
            p99_ms: d.byte().is_multiple_of(2).then(|| d.float()),
            mean_latency_ms: None,
            latency_buckets: d.buckets(),
        })
    };
    let canary_arm = summary(&mut d);
    let baseline_arm = summary(&mut d);
    let check_decision = |input: &CanaryInput| {
        if let Ok(judgement) = judge_canary(&canary, input, &policy) {
            for check in &judgement.checks {
                for number in [check.observed, check.limit, check.baseline, check.p_value].into_iter().flatten() {
                    assert!(!number.is_nan(), "NaN in a decision: {judgement:?}");
                }
                assert!(!check.reason.is_empty());
            }
            assert!(!judgement.reasons.is_empty(), "a decision without a reason: {judgement:?}");
            serde_json::to_string(&judgement).expect("a judgement serializes");
        }
    };
    if let Ok(input) = canary_input(now, canary_arm.as_ref(), baseline_arm.as_ref(), failures) {
        check_decision(&input);
    }
    // Raw samples, which the summaries cannot carry.
    let (x, y) = (d.floats(), d.floats());
    let arm = |d: &mut Draw, values_ms: Vec<f64>| ArmMetrics {
        requests: d.count(),
        errors: d.count(),
        p99_ms: d.byte().is_multiple_of(2).then(|| d.float()),
        latency: Some(Latency::Samples { values_ms }),
    };
    let input = CanaryInput {
        now: now.to_owned(),
        canary: Some(arm(&mut d, x.clone())),
        baseline: Some(arm(&mut d, y.clone())),
        consecutive_failures: failures,
        earlier_stages: Vec::new(),
    };
    check_decision(&input);

    // The statistics on their own: errors, never panics; a p-value is a probability.
    let probability = |p: f64| assert!((0.0..=1.0).contains(&p), "p-value {p}");
    if let Ok(test) = stats::mann_whitney_u(&x, &y) {
        probability(test.p_value);
    }
    let (hx, hy) = (stats::Histogram { buckets: d.buckets() }, stats::Histogram { buckets: d.buckets() });
    if let Ok(test) = stats::mann_whitney_u_histogram(&hx, &hy) {
        probability(test.p_value);
    }
    let _ = hx.quantile(d.float());
    let _ = stats::histogram::sample_quantile(&x, d.float());
    let (a, b) = (stats::Proportion::new(d.count(), d.count()), stats::Proportion::new(d.count(), d.count()));
    if let Ok(test) = stats::two_proportion_z_test(a, b, d.float()) {
        probability(test.p_value);
    }
    let observed: Vec<u64> = (0..d.byte() % 5).map(|_| d.count()).collect();
    let weights: Vec<f64> = (0..d.byte() % 5).map(|_| d.float()).collect();
    if let Ok(test) = stats::sample_ratio_mismatch(&observed, &weights, d.float()) {
        probability(test.p_value);
    }
}
