//! A Prometheus server as the canary metrics source: the HTTP API's `query_range` response
//! (`/api/v1/query_range`) parsed into a series of optional values. Prometheus sends sample
//! values as strings, including "NaN" and "+Inf"; non-finite values become gaps.

use serde::Deserialize;
use serde_json::Value;

use crate::canary::{ArmData, ArmSummary, SeriesPoint};

#[derive(Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<Matrix>,
}

#[derive(Deserialize)]
struct Matrix {
    values: Vec<(f64, Value)>,
}

/// One point: unix time in seconds, and the value when it is a finite number.
pub type Point = (f64, Option<f64>);

/// The first series of a `query_range` matrix (queries are expected to aggregate to one
/// series). An empty result is `Ok(vec![])`: the caller shows "unknown".
pub fn parse_query_range(text: &str) -> Result<Vec<Point>, String> {
    let response: Response = serde_json::from_str(text).map_err(|e| format!("not a Prometheus API response: {e}"))?;
    if response.status != "success" {
        return Err(format!(
            "Prometheus error ({}): {}",
            response.error_type.unwrap_or_default(),
            response.error.unwrap_or_default()
        ));
    }
    let data = response.data.ok_or("Prometheus response without data")?;
    if data.result_type != "matrix" {
        return Err(format!("data.resultType: expected matrix, got {}", data.result_type));
    }
    let Some(series) = data.result.into_iter().next() else { return Ok(Vec::new()) };
    series
        .values
        .into_iter()
        .enumerate()
        .map(|(i, (t, v))| match v {
            Value::String(s) => Ok((t, s.parse::<f64>().ok().filter(|x| x.is_finite()))),
            other => Err(format!("data.result[0].values[{i}][1]: expected a string, got {other}")),
        })
        .collect()
}

/// `query_range` URL for `query` over the last `window_s` seconds ending at `end_s`.
pub fn query_range_url(base: &str, query: &str, end_s: f64, window_s: u64, step_s: u64) -> String {
    let enc: String = query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!(
        "{}/api/v1/query_range?query={enc}&start={}&end={}&step={}",
        base.trim_end_matches('/'),
        end_s - window_s as f64,
        end_s,
        step_s.max(1)
    )
}

/// Fills a query template: `{flag}`, `{env}`, `{arm}` (escaped for a PromQL string) and
/// `{step}` (seconds).
pub fn fill_query(template: &str, flag: &str, env: &str, arm: &str, step_s: u64) -> String {
    let esc = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    template
        .replace("{flag}", &esc(flag))
        .replace("{env}", &esc(env))
        .replace("{arm}", &esc(arm))
        .replace("{step}", &step_s.to_string())
}

/// One arm's data from three `query_range` results on the same steps: requests per step,
/// error rate and p99 (ms). The summary sums requests; errors are requests × rate per step;
/// p99 is the latest finite value (Prometheus gives no window-wide percentile here).
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
            fill_query(r#"x{flag="{flag}",env="{env}",arm="{arm}"}[{step}s]"#, "a\"b", "prod", "canary", 10),
            r#"x{flag="a\"b",env="prod",arm="canary"}[10s]"#
        );
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
    }

    #[test]
    fn url_encodes_the_query() {
        assert_eq!(
            query_range_url("http://p:9090/", "rate(x{a=\"b\"}[1m])", 1000.0, 300, 10),
            "http://p:9090/api/v1/query_range?query=rate%28x%7Ba%3D%22b%22%7D%5B1m%5D%29&start=700&end=1000&step=10"
        );
    }
}
