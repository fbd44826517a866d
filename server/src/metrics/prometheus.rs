//! Prometheus text exposition (format 0.0.4) of the metrics store.
//!
//! Written by hand because the values already live in our own aggregates; the output is
//! checked with `promtool check metrics` in the integration tests.

use std::fmt::Write;

use super::store::{MetricsStore, RefusalReason, PROM_BUCKETS_S};

/// Content type of the classic text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every series plus the ingestion counters and the flag-set version.
pub fn render(store: &MetricsStore, flags_version: u64) -> String {
    let totals = store.totals();
    let counters = store.counters();
    let mut out = String::with_capacity(256 + totals.len() * 1024);

    header(&mut out, "edgeflag_flag_requests_total", "counter",
        "Flag evaluations reported by edges and browsers, per flag, environment and arm.");
    for ((flag, env, arm), t) in &totals {
        let _ = writeln!(out, "edgeflag_flag_requests_total{} {}", labels(flag, env, arm, None), t.requests);
    }
    header(&mut out, "edgeflag_flag_errors_total", "counter",
        "Reported evaluations whose outcome was an error, per flag, environment and arm.");
    for ((flag, env, arm), t) in &totals {
        let _ = writeln!(out, "edgeflag_flag_errors_total{} {}", labels(flag, env, arm, None), t.errors);
    }
    header(&mut out, "edgeflag_flag_latency_seconds", "histogram",
        "Reported request latency, per flag, environment and arm.");
    for ((flag, env, arm), t) in &totals {
        let mut cumulative = 0u64;
        for (i, bound) in PROM_BUCKETS_S.iter().enumerate() {
            cumulative += t.le_counts[i];
            let _ = writeln!(out, "edgeflag_flag_latency_seconds_bucket{} {cumulative}",
                labels(flag, env, arm, Some(&bound.to_string())));
        }
        cumulative += t.le_counts[PROM_BUCKETS_S.len()];
        let _ = writeln!(out, "edgeflag_flag_latency_seconds_bucket{} {cumulative}",
            labels(flag, env, arm, Some("+Inf")));
        let _ = writeln!(out, "edgeflag_flag_latency_seconds_sum{} {}",
            labels(flag, env, arm, None), float(t.latency_sum_ms / 1000.0));
        let _ = writeln!(out, "edgeflag_flag_latency_seconds_count{} {cumulative}",
            labels(flag, env, arm, None));
    }

    header(&mut out, "edgeflag_metric_events_accepted_total", "counter",
        "Metric events accepted into the aggregates.");
    let _ = writeln!(out, "edgeflag_metric_events_accepted_total {}", counters.accepted_events);
    header(&mut out, "edgeflag_metric_events_rejected_total", "counter",
        "Metric events in rejected batches (never aggregated).");
    let _ = writeln!(out, "edgeflag_metric_events_rejected_total {}", counters.rejected_events);
    header(&mut out, "edgeflag_metric_batches_rejected_total", "counter",
        "Metric event batches rejected by validation.");
    let _ = writeln!(out, "edgeflag_metric_batches_rejected_total {}", counters.rejected_batches);
    header(&mut out, "edgeflag_metric_events_refused_total", "counter",
        "Well-formed metric events not counted: unknown flag, environment or variant, or a series cap reached.");
    for reason in RefusalReason::ALL {
        let _ = writeln!(out, "edgeflag_metric_events_refused_total{{reason=\"{}\"}} {}",
            reason.as_str(), counters.refused_events[reason.index()]);
    }
    header(&mut out, "edgeflag_metric_series", "gauge",
        "Distinct flag/environment/arm series aggregated.");
    let _ = writeln!(out, "edgeflag_metric_series {}", counters.series);
    header(&mut out, "edgeflag_metric_series_max", "gauge",
        "Most series the store holds (--metrics-max-series).");
    let _ = writeln!(out, "edgeflag_metric_series_max {}", counters.max_series);
    header(&mut out, "edgeflag_metric_series_evicted_total", "counter",
        "Series evicted: idle past the eviction time, or no longer in the flag file when a cap was reached.");
    let _ = writeln!(out, "edgeflag_metric_series_evicted_total {}", counters.evicted_series);
    header(&mut out, "edgeflag_metric_store_bytes", "gauge",
        "Estimated bytes held by the metric aggregates (time buckets, series, labels).");
    let _ = writeln!(out, "edgeflag_metric_store_bytes {}", counters.bytes);
    header(&mut out, "edgeflag_flags_version", "gauge", "Version number of the current flag file.");
    let _ = writeln!(out, "edgeflag_flags_version {flags_version}");
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn labels(flag: &str, env: &str, arm: &str, le: Option<&str>) -> String {
    let mut s = format!("{{flag=\"{}\",env=\"{}\",arm=\"{}\"", escape(flag), escape(env), escape(arm));
    if let Some(le) = le {
        let _ = write!(s, ",le=\"{le}\"");
    }
    s.push('}');
    s
}

/// Label-value escaping of the text format: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn float(x: f64) -> String {
    if x.is_finite() { format!("{x}") } else { "NaN".to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Event;

    #[test]
    fn escapes_labels_and_accumulates_buckets() {
        let store = MetricsStore::new();
        let now = crate::clock::now_ms();
        let e = |latency_ms| Event {
            ts_ms: now, flag: "a\"b\\c".into(), env: "prod".into(), arm: "canary".into(),
            stage: None, error: false, latency_ms,
        };
        let _ = store.ingest(&[e(3.0), e(70.0), e(20_000.0)], now);
        let text = render(&store, 7);
        let lbl = r#"flag="a\"b\\c",env="prod",arm="canary""#;
        assert!(text.contains(&format!("edgeflag_flag_requests_total{{{lbl}}} 3")), "{text}");
        assert!(text.contains(&format!("edgeflag_flag_latency_seconds_bucket{{{lbl},le=\"0.005\"}} 1")));
        assert!(text.contains(&format!("edgeflag_flag_latency_seconds_bucket{{{lbl},le=\"0.1\"}} 2")));
        assert!(text.contains(&format!("edgeflag_flag_latency_seconds_bucket{{{lbl},le=\"+Inf\"}} 3")));
        assert!(text.contains("edgeflag_flags_version 7"));
    }
}
