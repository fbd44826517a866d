//! A Prometheus server as the canary metrics source: the HTTP API's `query_range` response
//! (`/api/v1/query_range`) parsed into a series of optional values (the charts), and the
//! instant queries (`/api/v1/query`) the server's canary controller runs with
//! `--metrics-source prometheus=URL` (requests, errors and the latency histogram's buckets
//! over the window), turned into the judged summary by the same conversion. The queries and
//! the conversion live in the evaluator (`edgeflag_evaluator::promql`), so the page and the
//! controller judge the same numbers. Prometheus sends sample values as strings, including
//! "NaN" and "+Inf"; non-finite values become gaps.

use edgeflag_readers::float_reader::parse_f64;
use edgeflag_evaluator::promql::{self, Target};
use edgeflag_evaluator::stats::Bucket;
use serde_json::Value;

use crate::canary::{ArmData, ArmSummary, SeriesPoint};
use crate::json::{self, Field};

/// One point: unix time in seconds, and the value when it is a finite number.
pub type Point = (f64, Option<f64>);

/// The `data.result` of a successful Prometheus API response of `result_type`, or the error
/// the response reports.
fn success_result<'a>(root: &'a Value, result_type: &str) -> Result<Field<'a>, String> {
    let response = Field::root(root);
    let status = response.field("status").and_then(|s| s.string());
    if status.map_err(|e| format!("not a Prometheus API response: {e}"))? != "success" {
        return Err(format!(
            "Prometheus error ({}): {}",
            response.field("errorType")?.string_or_empty()?,
            response.field("error")?.string_or_empty()?
        ));
    }
    let data = response.field("data")?;
    if data.value().is_none() {
        return Err("Prometheus response without data".to_owned());
    }
    let got = data.field("resultType")?.string()?;
    if got != result_type {
        return Err(format!("data.resultType: expected {result_type}, got {got}"));
    }
    data.field("result")?.present()
}

fn response_root(text: &str) -> Result<Value, String> {
    json::value(text).map_err(|e| format!("not a Prometheus API response: {e}"))
}

/// A sample `[unix seconds, "value"]`; the value is `None` unless a finite number.
fn sample(f: Field<'_>) -> Result<Point, String> {
    match f.value() {
        Some(Value::Array(pair)) if pair.len() == 2 => {
            let t = pair[0].as_f64().ok_or_else(|| format!("{}[0]: expected a number", f.path()))?;
            match &pair[1] {
                Value::String(s) => Ok((t, parse_f64(s).filter(|x| x.is_finite()))),
                _ => Err(format!("{}[1]: expected a string", f.path())),
            }
        }
        _ => Err(f.invalid("a [time, \"value\"] pair")),
    }
}

/// The first series of a `query_range` matrix (queries are expected to aggregate to one
/// series). An empty result is `Ok(vec![])`: the caller shows "unknown".
pub fn parse_query_range(text: &str) -> Result<Vec<Point>, String> {
    let root = response_root(text)?;
    let series = success_result(&root, "matrix")?.items(|s| s.field("values")?.items(sample))?;
    Ok(series.into_iter().next().unwrap_or_default())
}

/// An instant query of cumulative histogram buckets by `le` in **seconds** (the default is
/// [`promql::LATENCY_BUCKETS`]) as the evaluator's non-cumulative buckets in **ms**, `+Inf`
/// last ([`promql::latency_buckets`], the controller's conversion). An empty result is no
/// buckets (no data).
pub fn parse_latency_buckets(text: &str) -> Result<Vec<Bucket>, String> {
    promql::latency_buckets(&promql::parse_vector(text)?)
}

/// The one value of an aggregated instant query ([`promql::REQUESTS`], [`promql::ERRORS`]):
/// `None` for an empty result (no series: no data).
pub fn parse_value(text: &str) -> Result<Option<f64>, String> {
    promql::single_value(&promql::parse_vector(text)?)
}

/// The judged summary of one arm from the window's answers: the controller's own conversion
/// ([`promql::arm_summary`]: rounded counts, percentiles from the buckets).
pub fn window_summary(requests: Option<f64>, errors: Option<f64>, buckets: Vec<Bucket>) -> ArmSummary {
    promql::arm_summary(requests, errors, buckets)
}

/// Instant-query URL for `query` at `time_s`.
pub fn query_url(base: &str, query: &str, time_s: f64) -> String {
    format!("{}/api/v1/query?query={}&time={time_s}", base.trim_end_matches('/'), encode(query))
}

fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `query_range` URL for `query` over the last `window_s` seconds ending at `end_s`.
pub fn query_range_url(base: &str, query: &str, end_s: f64, window_s: u64, step_s: u64) -> String {
    let enc = encode(query);
    format!(
        "{}/api/v1/query_range?query={enc}&start={}&end={}&step={}",
        base.trim_end_matches('/'),
        end_s - window_s as f64,
        end_s,
        step_s.max(1)
    )
}

/// Fills a query template (see [`promql`]): `{flag}`, `{arm}`, `{env}` (a regular
/// expression for `env=~"{env}"`; an empty `env` means all environments, as in
/// `/api/metrics`), `{step}` and `{window}` (seconds). A template written for the older
/// `env="{env}"` matcher is read as `env=~"{env}"`.
pub fn fill_query(template: &str, flag: &str, env: &str, arm: &str, step_s: u64, window_s: u64) -> String {
    let template = template.replace(r#"env="{env}""#, r#"env=~"{env}""#);
    let one = [env.to_owned()];
    let envs = (!env.is_empty()).then_some(&one[..]);
    promql::fill(&template, &Target { flag, envs, arm }, window_s, step_s)
}

/// One arm's charts from three `query_range` results on the same steps: requests per step,
/// error rate and p99 (ms). Its summary (requests summed, errors as requests × rate per step,
/// the latest p99) is what the charts show; the judged summary is [`window_summary`] over the
/// controller's queries.
pub fn to_arm(requests: &[Point], error_rate: &[Point], p99_ms: &[Point]) -> ArmData {
    let at = |points: &[Point], t: f64| points.iter().find(|p| p.0 == t).and_then(|p| p.1);
    let series: Vec<SeriesPoint> = requests
        .iter()
        .map(|&(t, r)| {
            let requests = r.filter(|r| *r >= 0.0).map_or(0, |r| r.round() as u64);
            let rate = at(error_rate, t).filter(|e| (0.0..=1.0).contains(e));
            SeriesPoint {
                start: format!("{t}"),
                requests,
                errors: rate.map_or(0, |e| (e * requests as f64).round() as u64),
                error_rate: rate,
                p99_ms: at(p99_ms, t),
            }
        })
        .collect();
    let total: u64 = series.iter().map(|p| p.requests).sum();
    let errors: u64 = series.iter().map(|p| p.errors).sum();
    ArmData {
        summary: ArmSummary {
            requests: total,
            errors,
            error_rate: if total > 0 { errors as f64 / total as f64 } else { 0.0 },
            p99_ms: p99_ms.iter().rev().find_map(|p| p.1),
            ..Default::default()
        },
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_and_escaped() {
        assert_eq!(
            fill_query(r#"x{flag="{flag}",env=~"{env}",arm="{arm}"}[{step}s] [{window}s]"#, "a\"b", "eu.west", "canary", 10, 300),
            r#"x{flag="a\"b",env=~"eu\\.west",arm="canary"}[10s] [300s]"#
        );
        assert_eq!(
            fill_query(r#"x{flag="{flag}",env="{env}",arm="{arm}"}"#, "f", "", "canary", 10, 300),
            r#"x{flag="f",env=~".*",arm="canary"}"#
        );
        // The defaults are the controller's queries.
        assert_eq!(
            fill_query(promql::REQUESTS, "f", "prod", "canary", 10, 300),
            r#"sum(increase(edgeflag_flag_requests_total{flag="f",env=~"prod",arm="canary"}[300s]))"#
        );
    }

    #[test]
    fn the_window_summary_is_the_controllers() {
        let value = |v: &str| format!(r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1,"{v}"]}}]}}}}"#);
        assert_eq!(parse_value(&value("120.4")), Ok(Some(120.4)));
        assert_eq!(parse_value(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#), Ok(None));
        let buckets = parse_latency_buckets(
            r#"{"status":"success","data":{"resultType":"vector","result":[
              {"metric":{"le":"0.05"},"value":[1,"100"]},{"metric":{"le":"+Inf"},"value":[1,"120"]}]}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let summary = window_summary(Some(120.4), Some(3.2), buckets.clone());
        assert_eq!(summary, edgeflag_evaluator::promql::arm_summary(Some(120.4), Some(3.2), buckets));
        assert_eq!((summary.requests, summary.errors), (120, 3));
    }

    #[test]
    fn arm_from_three_queries() {
        let requests = [(10.0, Some(100.0)), (20.0, None), (30.0, Some(300.0))];
        let rate = [(10.0, Some(0.01)), (30.0, Some(0.1))];
        let p99 = [(10.0, Some(120.0)), (30.0, None)];
        let arm = to_arm(&requests, &rate, &p99);
        assert_eq!((arm.summary.requests, arm.summary.errors), (400, 31));
        assert_eq!(arm.summary.p99_ms, Some(120.0));
        assert_eq!(arm.series[1].requests, 0);
        assert_eq!(arm.series[2].error_rate, Some(0.1));
        let empty = to_arm(&[], &[], &[]);
        assert_eq!((empty.summary.requests, empty.summary.error_rate), (0, 0.0));
    }

    #[test]
    fn values_are_strings_and_nan_is_a_gap() {
        let text = r#"{"status":"success","data":{"resultType":"matrix","result":[
          {"metric":{"arm":"canary"},"values":[[1700000000,"0.01"],[1700000010.5,"NaN"],[1700000020,"+Inf"],[1700000030,"2"]]}]}}"#;
        assert_eq!(
            parse_query_range(text),
            Ok(vec![(1700000000.0, Some(0.01)), (1700000010.5, None), (1700000020.0, None), (1700000030.0, Some(2.0))])
        );
    }

    #[test]
    fn empty_result_is_empty() {
        let text = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert_eq!(parse_query_range(text), Ok(vec![]));
    }

    #[test]
    fn error_status_and_bad_shapes_are_errors() {
        let text = r#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        assert_eq!(parse_query_range(text), Err("Prometheus error (bad_data): parse error at char 5".into()));
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(parse_query_range(vector).is_err_and(|e| e.contains("resultType")));
        let number = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,0.5]]}]}}"#;
        assert!(parse_query_range(number).is_err_and(|e| e.contains("values[0][1]")));
        assert!(parse_query_range("<html>").is_err());
        assert_eq!(
            parse_query_range("[]"),
            Err("not a Prometheus API response: (top level): expected an object, got an array".into())
        );
        let no_result = r#"{"status":"success","data":{"resultType":"matrix"}}"#;
        assert_eq!(parse_query_range(no_result), Err("data.result: missing".into()));
    }

    #[test]
    fn latency_buckets_from_an_instant_vector() {
        // Unordered as Prometheus may send them; cumulative counts in seconds; extrapolated floats.
        let text = r#"{"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"le":"+Inf"},"value":[1700000000,"100.4"]},
          {"metric":{"le":"0.05"},"value":[1700000000,"10.2"]},
          {"metric":{"le":"0.1"},"value":[1700000000,"90"]},
          {"metric":{"le":"0.25"},"value":[1700000000,"89.6"]}]}}"#;
        let buckets = parse_latency_buckets(text).unwrap_or_else(|e| panic!("{e}"));
        let pairs: Vec<(Option<f64>, u64)> = buckets.iter().map(|b| (b.le, b.count)).collect();
        assert_eq!(pairs, vec![(Some(50.0), 10), (Some(100.0), 80), (Some(250.0), 0), (None, 10)]);
        let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(parse_latency_buckets(empty), Ok(vec![]));
        let no_le = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"3"]}]}}"#;
        assert!(parse_latency_buckets(no_le).is_err_and(|e| e.contains("data.result[0].metric.le")));
        let bad_le = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"le":"x"},"value":[1,"3"]}]}}"#;
        assert!(parse_latency_buckets(bad_le).is_err_and(|e| e.contains("data.result[0].metric.le")));
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(parse_latency_buckets(matrix).is_err_and(|e| e.contains("resultType")));
        assert_eq!(
            query_url("http://p:9090/", "sum by (le) (x)", 1000.5),
            "http://p:9090/api/v1/query?query=sum%20by%20%28le%29%20%28x%29&time=1000.5"
        );
    }

    #[test]
    fn url_encodes_the_query() {
        assert_eq!(
            query_range_url("http://p:9090/", "rate(x{a=\"b\"}[1m])", 1000.0, 300, 10),
            "http://p:9090/api/v1/query_range?query=rate%28x%7Ba%3D%22b%22%7D%5B1m%5D%29&start=700&end=1000&step=10"
        );
    }
}
