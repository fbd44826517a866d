//! PromQL over edgeflag's metrics in a Prometheus-compatible HTTP API (Prometheus, Thanos,
//! Mimir, VictoriaMetrics): the **one home** of the queries that the server's canary controller
//! (`--metrics-source prometheus=URL`) and the dashboard's canary view run, and of the one
//! conversion of their answers into an [`ArmSummary`](crate::judgement::ArmSummary), so both
//! judge the same numbers.
//!
//! The series are the server's `GET /metrics` exposition, scraped from every replica (the
//! `instance` label tells them apart, the queries sum over it):
//!
//! | series | type | labels |
//! |---|---|---|
//! | `edgeflag_flag_requests_total` | counter | `flag`, `env`, `arm` |
//! | `edgeflag_flag_errors_total` | counter | `flag`, `env`, `arm` |
//! | `edgeflag_flag_latency_seconds` | histogram (`_bucket{le}`, `_sum`, `_count`) | `flag`, `env`, `arm` |
//!
//! Placeholders, filled by [`fill`]:
//!
//! - `{flag}`, `{arm}`: the flag key and the arm (`canary`, `baseline` or a variant name),
//!   escaped for a PromQL string;
//! - `{env}`: a **regular expression** of environments for `env=~"{env}"`: one environment,
//!   several (a base canary serves every environment that does not override its split) or
//!   all (`.*`), with regex metacharacters escaped;
//! - `{window}`: the judged range in whole seconds (rounded up), for `increase(…[{window}s])`
//!   evaluated at the range's end;
//! - `{step}`: a chart step in whole seconds.
//!
//! What the controller (and the dashboard's decision) judges, over the range `[from, to]`:
//! [`REQUESTS`], [`ERRORS`] and [`LATENCY_BUCKETS`], instant queries at `to` with
//! `{window}` = `to - from`; [`NEWEST_SAMPLE`] tells whether the data is fresh. The charts use
//! [`REQUESTS_PER_STEP`], [`ERROR_RATE_PER_STEP`] and [`P99_MS_PER_STEP`] with `query_range`.
//!
//! `increase()` extrapolates to the range's edges, so its results are not whole numbers; they
//! are rounded. A series that did not exist before the range counts from its first scrape.

/// The label matchers of one flag, environment(s) and arm.
macro_rules! selector {
    () => {
        r#"{flag="{flag}",env=~"{env}",arm="{arm}"}"#
    };
}

/// Requests of the arm in the range: a scalar-like vector (empty when no series matches).
pub const REQUESTS: &str = concat!("sum(increase(edgeflag_flag_requests_total", selector!(), "[{window}s]))");

/// Failed requests of the arm in the range.
pub const ERRORS: &str = concat!("sum(increase(edgeflag_flag_errors_total", selector!(), "[{window}s]))");

/// The range's latency histogram: cumulative counts by `le` (seconds, `+Inf` included).
pub const LATENCY_BUCKETS: &str =
    concat!("sum by (le) (increase(edgeflag_flag_latency_seconds_bucket", selector!(), "[{window}s]))");

/// Unix time (seconds) of the newest scraped sample of the arm's request counter: data older
/// than the source's staleness limit is no data.
pub const NEWEST_SAMPLE: &str = concat!("max(timestamp(edgeflag_flag_requests_total", selector!(), "))");

/// Chart: requests per step.
pub const REQUESTS_PER_STEP: &str = concat!("sum(increase(edgeflag_flag_requests_total", selector!(), "[{step}s]))");

/// Chart: error rate per step (errors / requests).
pub const ERROR_RATE_PER_STEP: &str = concat!(
    "sum(rate(edgeflag_flag_errors_total",
    selector!(),
    "[{step}s])) / sum(rate(edgeflag_flag_requests_total",
    selector!(),
    "[{step}s]))"
);

/// Chart: p99 latency per step, in milliseconds.
pub const P99_MS_PER_STEP: &str = concat!(
    "1000 * histogram_quantile(0.99, sum by (le) (rate(edgeflag_flag_latency_seconds_bucket",
    selector!(),
    "[{step}s])))"
);

/// What a query is about.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub flag: &'a str,
    /// `None`: every environment; `Some(&[])`: none (matches no series).
    pub envs: Option<&'a [String]>,
    pub arm: &'a str,
}

/// Fills a template's placeholders (see the module docs). `window_s` and `step_s` are whole
/// seconds.
pub fn fill(template: &str, target: &Target<'_>, window_s: u64, step_s: u64) -> String {
    template
        .replace("{flag}", &string_contents(target.flag))
        .replace("{env}", &string_contents(&env_regex(target.envs)))
        .replace("{arm}", &string_contents(target.arm))
        .replace("{window}", &window_s.to_string())
        .replace("{step}", &step_s.to_string())
}

/// The `{window}` of a range `[from_ms, to_ms]`: whole seconds, rounded up, at least 1.
pub fn window_seconds(from_ms: i64, to_ms: i64) -> u64 {
    let ms = to_ms.saturating_sub(from_ms).max(1) as u64;
    ms.div_ceil(1000)
}

/// The regular expression of a set of environments (unescaped for PromQL strings): `.*` for
/// all, one escaped name, or an alternation; a set that matches nothing for `Some(&[])`.
pub fn env_regex(envs: Option<&[String]>) -> String {
    match envs {
        None => ".*".to_string(),
        // RE2 has no empty alternation; a class of everything, negated, matches no character.
        Some([]) => r"[^\s\S]".to_string(),
        Some([one]) => regex_escape(one),
        Some(many) => many.iter().map(|e| regex_escape(e)).collect::<Vec<_>>().join("|"),
    }
}

/// Escapes RE2 metacharacters, as Go's `regexp.QuoteMeta` does (Prometheus anchors `=~`
/// matches, so the escaped name matches exactly that name).
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The contents of a double-quoted PromQL string holding `text`.
pub fn string_contents(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            c => out.push(c),
        }
    }
    out
}

/// One sample of an instant-query vector: its labels and its value (`None` unless a finite
/// number; Prometheus sends values as strings, "NaN" and "+Inf" included).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(String, String)>,
    pub value: Option<f64>,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The samples of an instant query's response (`/api/v1/query`, `resultType` `vector`), or
/// what is wrong with it: a Prometheus error (`status: error`), or a malformed response, with
/// the path of the bad field.
pub fn parse_vector(text: &str) -> Result<Vec<Sample>, String> {
    // The engine's own reader, not serde_json's: a dashboard built with it links one JSON
    // text reader (json_reader::parse_value).
    let root = edgeflag_readers::json_reader::parse_value(text).map_err(|e| format!("not a Prometheus API response: {}", e.message))?;
    let status = root.get("status").and_then(|s| s.as_str()).ok_or("not a Prometheus API response: status: missing")?;
    if status != "success" {
        let field = |name: &str| root.get(name).and_then(|v| v.as_str()).unwrap_or("").to_string();
        return Err(format!("Prometheus error ({}): {}", field("errorType"), field("error")));
    }
    let data = root.get("data").ok_or("data: missing")?;
    match data.get("resultType").and_then(|t| t.as_str()) {
        Some("vector") => {}
        Some(other) => return Err(format!("data.resultType: expected vector, got {other}")),
        None => return Err("data.resultType: missing".to_string()),
    }
    let result = data.get("result").and_then(|r| r.as_array()).ok_or("data.result: expected an array")?;
    result
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let labels = match s.get("metric") {
                Some(serde_json::Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| {
                        v.as_str()
                            .map(|v| (k.clone(), v.to_string()))
                            .ok_or_else(|| format!("data.result[{i}].metric.{k}: expected a string"))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err(format!("data.result[{i}].metric: expected an object")),
            };
            let value = match s.get("value").and_then(|v| v.as_array()).map(Vec::as_slice) {
                Some([t, serde_json::Value::String(v)]) if t.is_number() => {
                    edgeflag_readers::float_reader::parse_f64(v).filter(|x| x.is_finite())
                }
                _ => return Err(format!("data.result[{i}].value: expected a [time, \"value\"] pair")),
            };
            Ok(Sample { labels, value })
        })
        .collect()
}

/// The one value of an aggregated instant query (`sum(…)`, `max(…)`): `None` when the result is
/// empty (no series matched) or not a finite number.
pub fn single_value(samples: &[Sample]) -> Result<Option<f64>, String> {
    match samples {
        [] => Ok(None),
        [one] => Ok(one.value),
        more => Err(format!("expected one series (aggregate with sum/max), got {}", more.len())),
    }
}

#[cfg(feature = "analysis")]
pub use summary::{arm_summary, latency_buckets};

#[cfg(feature = "analysis")]
mod summary {
    use super::Sample;
    use edgeflag_readers::float_reader::parse_f64;
    use crate::judgement::ArmSummary;
    use crate::stats::{Bucket, Histogram};

    /// The [`LATENCY_BUCKETS`](super::LATENCY_BUCKETS) answer (cumulative counts by `le` in
    /// **seconds**) as the judgement's non-cumulative buckets in **ms**, `+Inf` last.
    /// `increase()` extrapolates, so counts are rounded and kept non-decreasing across bounds;
    /// NaN or negative counts are no observations. An empty answer is no buckets (no data).
    pub fn latency_buckets(samples: &[Sample]) -> Result<Vec<Bucket>, String> {
        let mut cumulative: Vec<(Option<f64>, f64)> = Vec::with_capacity(samples.len());
        for (i, sample) in samples.iter().enumerate() {
            let le = match sample.label("le") {
                Some("+Inf") => None,
                Some(text) => match parse_f64(text) {
                    Some(le) if le.is_finite() => Some(le * 1000.0),
                    _ => return Err(format!("data.result[{i}].metric.le: not a bucket bound: {text:?}")),
                },
                None => return Err(format!("data.result[{i}].metric.le: missing (aggregate with `sum by (le)`)")),
            };
            cumulative.push((le, sample.value.filter(|c| *c >= 0.0).unwrap_or(0.0)));
        }
        // +Inf (None) last, finite bounds ascending.
        cumulative.sort_by(|a, b| match (a.0, b.0) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (None, None) => std::cmp::Ordering::Equal,
            (None, _) => std::cmp::Ordering::Greater,
            (_, None) => std::cmp::Ordering::Less,
        });
        let mut running = 0u64;
        let (bounds, counts): (Vec<Option<f64>>, Vec<u64>) = cumulative
            .into_iter()
            .map(|(le, count)| {
                running = running.max(count.round() as u64);
                (le, running)
            })
            .unzip();
        let histogram = Histogram::from_cumulative(&bounds, &counts).map_err(|e| format!("latency buckets: {e}"))?;
        Ok(histogram.buckets)
    }

    /// One arm's summary from the answers of [`REQUESTS`](super::REQUESTS),
    /// [`ERRORS`](super::ERRORS) and [`LATENCY_BUCKETS`](super::LATENCY_BUCKETS): counts rounded
    /// (errors at most the requests), percentiles interpolated in the buckets as
    /// `histogram_quantile` does. No requests (an empty answer) is an arm with 0 requests,
    /// which the judgement treats as missing: no data, never healthy zeros.
    pub fn arm_summary(requests: Option<f64>, errors: Option<f64>, buckets: Vec<Bucket>) -> ArmSummary {
        let count = |v: Option<f64>| v.filter(|v| *v >= 0.0).map_or(0, |v| v.round() as u64);
        let requests = count(requests);
        let errors = count(errors).min(requests);
        let histogram = Histogram { buckets };
        let q = |quantile: f64| histogram.quantile(quantile);
        ArmSummary {
            requests,
            errors,
            error_rate: if requests == 0 { 0.0 } else { errors as f64 / requests as f64 },
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p99_ms: q(0.99),
            mean_latency_ms: None,
            latency_buckets: if requests == 0 { Vec::new() } else { histogram.buckets },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_select_one_flag_environment_set_and_arm() {
        let envs = vec!["prod".to_string(), "eu.west".to_string()];
        let t = Target { flag: "pay\"ments\\", envs: Some(&envs), arm: "canary" };
        assert_eq!(
            fill(REQUESTS, &t, 300, 10),
            r#"sum(increase(edgeflag_flag_requests_total{flag="pay\"ments\\",env=~"prod|eu\\.west",arm="canary"}[300s]))"#
        );
        let all = Target { flag: "f", envs: None, arm: "baseline" };
        assert_eq!(
            fill(LATENCY_BUCKETS, &all, 61, 10),
            r#"sum by (le) (increase(edgeflag_flag_latency_seconds_bucket{flag="f",env=~".*",arm="baseline"}[61s]))"#
        );
        assert_eq!(
            fill(ERROR_RATE_PER_STEP, &all, 61, 15),
            r#"sum(rate(edgeflag_flag_errors_total{flag="f",env=~".*",arm="baseline"}[15s])) / sum(rate(edgeflag_flag_requests_total{flag="f",env=~".*",arm="baseline"}[15s]))"#
        );
        let none = Target { flag: "f", envs: Some(&[]), arm: "canary" };
        assert!(fill(NEWEST_SAMPLE, &none, 1, 1).contains(r#"env=~"[^\\s\\S]""#));
        for template in [REQUESTS, ERRORS, LATENCY_BUCKETS, NEWEST_SAMPLE, REQUESTS_PER_STEP, ERROR_RATE_PER_STEP, P99_MS_PER_STEP] {
            let filled = fill(template, &all, 1, 1);
            assert!(!filled.contains('{') || filled.contains("{flag=\"f\""), "unfilled placeholder: {filled}");
            assert_eq!(filled.matches('(').count(), filled.matches(')').count(), "{filled}");
        }
    }

    #[test]
    fn windows_round_up_to_whole_seconds() {
        assert_eq!(window_seconds(0, 300_000), 300);
        assert_eq!(window_seconds(0, 300_001), 301);
        assert_eq!(window_seconds(5, 5), 1);
        assert_eq!(window_seconds(10, 0), 1);
    }

    #[test]
    fn regexes_escape_every_metacharacter() {
        assert_eq!(regex_escape(r"a.b*c+d?e(f)g|h[i]j{k}l^m$n\o"), r"a\.b\*c\+d\?e\(f\)g\|h\[i\]j\{k\}l\^m\$n\\o");
        assert_eq!(string_contents("a\"b\\c\nd"), r#"a\"b\\c\nd"#);
    }

    #[test]
    fn vectors_parse_with_paths_in_errors() {
        let text = r#"{"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"le":"0.1"},"value":[1700000000.5,"12"]},{"metric":{},"value":[1,"NaN"]}]}}"#;
        let samples = parse_vector(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(samples[0].label("le"), Some("0.1"));
        assert_eq!(samples[0].value, Some(12.0));
        assert_eq!(samples[1].value, None);
        assert_eq!(single_value(&[]), Ok(None));
        assert!(single_value(&samples).is_err());
        let err = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert_eq!(parse_vector(err), Err("Prometheus error (bad_data): parse error".to_string()));
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(parse_vector(matrix).is_err_and(|e| e.contains("resultType")));
        let bad = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}"#;
        assert!(parse_vector(bad).is_err_and(|e| e.contains("data.result[0].value")));
        assert!(parse_vector("<html>").is_err());
    }

    #[cfg(feature = "analysis")]
    #[test]
    fn summaries_from_prometheus_answers() {
        let sample = |le: &str, v: f64| Sample { labels: vec![("le".into(), le.into())], value: Some(v) };
        // Unordered, extrapolated, one bound dipping below the previous one.
        let buckets = latency_buckets(&[sample("+Inf", 100.4), sample("0.05", 10.2), sample("0.1", 90.0), sample("0.25", 89.6)])
            .unwrap_or_else(|e| panic!("{e}"));
        let pairs: Vec<(Option<f64>, u64)> = buckets.iter().map(|b| (b.le, b.count)).collect();
        assert_eq!(pairs, vec![(Some(50.0), 10), (Some(100.0), 80), (Some(250.0), 0), (None, 10)]);
        assert!(latency_buckets(&[Sample { labels: vec![], value: Some(1.0) }]).is_err_and(|e| e.contains("metric.le")));
        assert!(latency_buckets(&[sample("x", 1.0)]).is_err_and(|e| e.contains("not a bucket bound")));

        let s = arm_summary(Some(100.4), Some(101.0), buckets);
        assert_eq!((s.requests, s.errors), (100, 100), "errors never exceed requests");
        let p50 = s.p50_ms.unwrap_or(f64::NAN);
        assert!((50.0..=100.0).contains(&p50), "{p50}");
        assert_eq!(s.p99_ms, Some(250.0), "in +Inf: the highest finite bound, as histogram_quantile");
        let empty = arm_summary(None, None, Vec::new());
        assert_eq!((empty.requests, empty.p99_ms, empty.latency_buckets.len()), (0, None, 0));
        assert_eq!(arm_summary(Some(f64::NAN), Some(-3.0), Vec::new()).requests, 0);
    }
}
