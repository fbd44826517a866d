//! Canary view logic: the server's `GET /api/metrics` response, the judgement's input from it
//! (the evaluator's one conversion, shared with the server's controller; the decision itself
//! is `judge_canary`'s, never ours), the consecutive-failure count carried across refreshes,
//! chart geometry, and the manual stage edits (advance, pause, resume, roll back).

use std::collections::BTreeMap;

use edgeflag_evaluator::judgement::{
    self, CanaryInput, CanaryJudgement, CanaryMonitor, CanaryPolicy, CheckKind, JudgementError, Outcome,
};
use edgeflag_evaluator::model::{Canary, CanaryStatus};

use crate::json::{self, Field};

/// One arm's summary: the evaluator's type, the very one the server serializes.
pub use edgeflag_evaluator::judgement::ArmSummary;

/// `GET /api/metrics?flag=&env=&window=` (see `server/README.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsResponse {
    pub flag: String,
    pub env: Option<String>,
    pub window_seconds: u64,
    pub bucket_seconds: u64,
    pub generated_at: String,
    /// Keyed by arm (`canary`, `baseline`) or variant name.
    pub arms: BTreeMap<String, ArmData>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArmData {
    pub summary: ArmSummary,
    pub series: Vec<SeriesPoint>,
}

/// One time bucket of an arm.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoint {
    pub start: String,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// Decodes the metrics response, naming the path of what is wrong.
pub fn parse_metrics(text: &str) -> Result<MetricsResponse, String> {
    json::decode(text, metrics_response).map_err(|e| format!("unexpected /api/metrics response: {e}"))
}

fn metrics_response(f: Field<'_>) -> Result<MetricsResponse, String> {
    Ok(MetricsResponse {
        flag: f.field("flag")?.string()?,
        env: f.field("env")?.opt_string()?,
        window_seconds: f.field("window_seconds")?.u64_or_zero()?,
        bucket_seconds: f.field("bucket_seconds")?.u64_or_zero()?,
        generated_at: f.field("generated_at")?.string_or_empty()?,
        arms: f.field("arms")?.entries(arm_data)?.into_iter().collect(),
    })
}

fn arm_data(f: Field<'_>) -> Result<ArmData, String> {
    Ok(ArmData {
        summary: f.field("summary")?.decode(ArmSummary::decode)?,
        series: f.field("series")?.items(|p| {
            Ok(SeriesPoint {
                start: p.field("start")?.string()?,
                requests: p.field("requests")?.u64()?,
                errors: p.field("errors")?.u64()?,
                error_rate: p.field("error_rate")?.opt_f64()?,
                p99_ms: p.field("p99_ms")?.opt_f64()?,
            })
        })?,
    })
}

/// The judgement's input from a metrics response (or none, when the source failed), through
/// the evaluator's [`judgement::canary_input`]: an arm with no requests is no data, and the
/// latency histograms are compared on common bounds. A bad field is named with its path in the
/// response (`arms.canary.summary.latency_buckets[2].le`).
pub fn canary_input(
    response: Option<&MetricsResponse>,
    now: &str,
    consecutive_failures: u32,
) -> Result<CanaryInput, JudgementError> {
    let summary = |arm: &str| response.and_then(|r| r.arms.get(arm)).map(|a| &a.summary);
    judgement::canary_input(now, summary("canary"), summary("baseline"), consecutive_failures).map_err(|e| {
        let path = match e.path.split_once('.') {
            Some((arm, rest)) => format!("arms.{arm}.summary.{rest}"),
            None => format!("arms.{}.summary", e.path),
        };
        JudgementError { path, message: e.message }
    })
}

/// The page's judgement state for the canary on screen: the evaluator's [`CanaryMonitor`], the
/// one the server's controller keeps per canary, so the page counts consecutive failures (the
/// sustained-failure rule, `failures_to_rollback`) and carries earlier stages' evidence by the
/// same rules. It starts again when the flag or environment on screen changes; the monitor
/// itself restarts the count with the stage. A tick is the metrics' `generated_at`, so a
/// fetch judged again (a re-render) counts once.
#[derive(Debug, Clone, Default)]
pub struct PageMonitor {
    target: Option<(String, Option<String>)>,
    monitor: CanaryMonitor,
}

impl PageMonitor {
    /// Judges `canary` of `flag` in `env` on `input`: the judgement, and the failure count it
    /// started from.
    pub fn judge(
        &mut self,
        flag: &str,
        env: Option<&str>,
        canary: &Canary,
        input: &CanaryInput,
        policy: &CanaryPolicy,
    ) -> Result<(CanaryJudgement, u32), JudgementError> {
        let target = (flag.to_string(), env.map(str::to_string));
        if self.target.as_ref() != Some(&target) {
            *self = PageMonitor { target: Some(target), monitor: CanaryMonitor::new() };
        }
        let judgement = self.monitor.judge(canary, input, policy)?;
        Ok((judgement, self.monitor.judged_with()))
    }
}

/// The tick a metrics response is judged at: when it was generated (one per fetch), or `now`
/// when the source did not say.
pub fn judged_at(response: Option<&MetricsResponse>, now: &str) -> String {
    response.map(|r| r.generated_at.as_str()).filter(|t| !t.is_empty()).unwrap_or(now).to_string()
}

/// The metrics window that covers the current stage (`window = "stage"`, the default): the
/// judgement is sequential over the stage's totals, so the page reads from the stage start like
/// the controller. Whole seconds since `stage_started_at`, within what `/api/metrics` serves
/// (10 s to 1 h; older stages read their last hour); "5m" when the start is unknown.
pub fn stage_window(stage_started_at: Option<&str>, now: &str) -> String {
    let ns = |t: &str| edgeflag_readers::rfc3339::parse(t);
    match (stage_started_at.and_then(ns), ns(now)) {
        (Some(start), Some(now)) => format!("{}s", ((now - start) / 1_000_000_000).clamp(10, 3600)),
        _ => "5m".into(),
    }
}

/// The headline health word, a summary of the evaluator's check outcomes (the decision
/// itself is the judgement's `action`). Missing data for the gate's own checks (samples,
/// error rate, p99) is "unknown", never "healthy"; gaps only in the baseline comparisons
/// (e.g. no latency distribution) are "inconclusive".
pub fn health_label(judgement: &CanaryJudgement) -> &'static str {
    let any = |o: Outcome| judgement.checks.iter().any(|c| c.outcome == o);
    let gate = [CheckKind::Samples, CheckKind::ErrorRate, CheckKind::P99Latency];
    let gate_gap = judgement.checks.iter().any(|c| gate.contains(&c.check) && c.outcome != Outcome::Pass);
    if judgement.checks.is_empty() {
        "unknown"
    } else if any(Outcome::Fail) {
        "failing"
    } else if gate_gap {
        "unknown"
    } else if any(Outcome::NoData) || any(Outcome::Inconclusive) {
        "inconclusive"
    } else {
        "healthy"
    }
}

/// A chart: SVG polyline points for each series, scaled into `width` × `height` (y grows
/// down), and the y of each threshold line. Points without a value (empty buckets) are gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Per series, its (x, y) points; a point between gaps is drawn as a dot by the view.
    pub lines: Vec<Vec<(f64, f64)>>,
    pub thresholds: Vec<f64>,
    pub y_max: f64,
}

pub fn chart(series: &[Vec<Option<f64>>], thresholds: &[f64], width: f64, height: f64) -> Chart {
    let finite = |v: &f64| v.is_finite() && *v >= 0.0;
    let data_max = series.iter().flatten().flatten().copied().filter(finite).fold(0.0, f64::max);
    let limit_max = thresholds.iter().copied().filter(finite).fold(0.0, f64::max);
    let y_max = match data_max.max(limit_max) * 1.1 {
        m if m > 0.0 => m,
        _ => 1.0,
    };
    let y = |v: f64| height - v / y_max * height;
    let lines = series
        .iter()
        .map(|values| {
            let step = if values.len() > 1 { width / (values.len() - 1) as f64 } else { 0.0 };
            values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.filter(finite).map(|v| (i as f64 * step, y(v))))
                .collect()
        })
        .collect();
    let thresholds = thresholds.iter().copied().filter(finite).map(y).collect();
    Chart { lines, thresholds, y_max }
}

/// SVG `points` attribute.
pub fn points_attr(points: &[(f64, f64)]) -> String {
    points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ")
}

/// Values of one arm's series, for a chart.
pub fn series_values(response: &MetricsResponse, arm: &str, pick: fn(&SeriesPoint) -> Option<f64>) -> Vec<Option<f64>> {
    response.arms.get(arm).map(|a| a.series.iter().map(pick).collect()).unwrap_or_default()
}

/// A manual edit of the canary from the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualAction {
    Advance,
    Pause,
    Resume,
    Rollback,
}

impl ManualAction {
    /// The action in messages and history, e.g. "pause the canary of …".
    pub fn as_str(self) -> &'static str {
        match self {
            ManualAction::Advance => "advance",
            ManualAction::Pause => "pause",
            ManualAction::Resume => "resume",
            ManualAction::Rollback => "rollback",
        }
    }
}

/// Applies a manual action; `now` (RFC 3339) becomes the new stage's start. Advancing past
/// the last stage completes the canary.
pub fn apply_manual(canary: &mut Canary, action: ManualAction, now: &str) -> Result<(), String> {
    match action {
        ManualAction::Advance => {
            if canary.status != CanaryStatus::Running && canary.status != CanaryStatus::Paused {
                return Err(format!("the canary is {}: nothing to advance", canary.status.as_str()));
            }
            if canary.current_stage + 1 < canary.stages.len() {
                canary.current_stage += 1;
                canary.stage_started_at = Some(now.to_string());
            } else {
                canary.status = CanaryStatus::Completed;
            }
        }
        ManualAction::Pause => canary.status = CanaryStatus::Paused,
        ManualAction::Resume => {
            canary.status = CanaryStatus::Running;
            canary.stage_started_at = Some(now.to_string());
        }
        ManualAction::Rollback => canary.status = CanaryStatus::RolledBack,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeflag_evaluator::model::Flag;

    #[test]
    fn the_page_reads_the_metrics_since_the_stage_start() {
        let now = "2026-12-01T10:20:00Z";
        assert_eq!(stage_window(Some("2026-12-01T10:15:30Z"), now), "270s");
        assert_eq!(stage_window(Some("2026-12-01T10:19:59Z"), now), "10s", "at least one bucket");
        assert_eq!(stage_window(Some("2026-11-01T00:00:00Z"), now), "3600s", "at most what the server keeps");
        assert_eq!(stage_window(None, now), "5m");
        assert_eq!(stage_window(Some("yesterday"), now), "5m");
    }
    use edgeflag_evaluator::judgement::judge_canary;
    use edgeflag_evaluator::stats::Bucket;

    const RESPONSE: &str = r#"{"flag": "payment-processor", "env": "prod", "window_seconds": 300, "bucket_seconds": 10,
      "generated_at": "2026-11-23T10:05:00Z",
      "arms": {
        "baseline": {"summary": {"requests": 5000, "errors": 20, "error_rate": 0.004, "p50_ms": 30.0, "p90_ms": 60.0, "p99_ms": 100.0, "mean_latency_ms": 35.0},
                     "series": [{"start": "2026-11-23T10:00:10Z", "requests": 160, "errors": 1, "error_rate": 0.00625, "p99_ms": 98.3},
                                {"start": "2026-11-23T10:00:20Z", "requests": 0, "errors": 0, "error_rate": 0, "p99_ms": null}]},
        "canary": {"summary": {"requests": 0, "errors": 0, "error_rate": 0, "p50_ms": null, "p90_ms": null, "p99_ms": null, "mean_latency_ms": null},
                   "series": []}}}"#;

    fn judge_input(r: &MetricsResponse) -> CanaryInput {
        canary_input(Some(r), "2026-11-23T10:05:00Z", 0).unwrap_or_else(|e| panic!("{e}"))
    }

    fn flag() -> Flag {
        let file = crate::testdata::example();
        file.flags.into_iter().find(|f| f.key == "payment-processor").unwrap_or_else(|| panic!("no payment-processor"))
    }

    #[test]
    fn parses_the_server_shape_with_nulls() {
        let r = parse_metrics(RESPONSE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.arms["baseline"].series[1].p99_ms, None);
        assert_eq!(r.arms["baseline"].summary.p99_ms, Some(100.0));
        assert!(parse_metrics("{\"arms\": 3}").is_err());
    }

    #[test]
    fn empty_arms_are_no_data_and_the_judgement_is_unknown() {
        let r = parse_metrics(RESPONSE).unwrap_or_else(|e| panic!("{e}"));
        let input = canary_input(Some(&r), "2026-11-23T10:05:00Z", 2).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(input.canary, None, "a canary arm with 0 requests is no data");
        assert_eq!(input.baseline.as_ref().map(|b| (b.requests, b.errors, b.p99_ms)), Some((5000, 20, Some(100.0))));
        assert_eq!(input.consecutive_failures, 2);
        let f = flag();
        let canary = f.split(Some("prod")).canary.unwrap_or_else(|| panic!("no canary"));
        let j = judge_canary(canary, &input, &CanaryPolicy::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(health_label(&j), "unknown");
        let failed_source = canary_input(None, "2026-11-23T10:05:00Z", 0).unwrap_or_else(|e| panic!("{e}"));
        let j = judge_canary(canary, &failed_source, &CanaryPolicy::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(health_label(&j), "unknown");
    }

    #[test]
    fn a_bad_canary_is_failing() {
        let mut r = parse_metrics(RESPONSE).unwrap_or_else(|e| panic!("{e}"));
        if let Some(c) = r.arms.get_mut("canary") {
            c.summary = ArmSummary { requests: 1000, errors: 200, error_rate: 0.2, p99_ms: Some(90.0), ..Default::default() };
        }
        let f = flag();
        let canary = f.split(None).canary.unwrap_or_else(|| panic!("no canary"));
        let j = judge_canary(canary, &judge_input(&r), &CanaryPolicy::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(health_label(&j), "failing");
    }

    #[test]
    fn good_gate_numbers_without_latency_distribution_are_unknown_not_healthy() {
        let mut r = parse_metrics(RESPONSE).unwrap_or_else(|e| panic!("{e}"));
        if let Some(c) = r.arms.get_mut("canary") {
            c.summary = ArmSummary { requests: 1000, errors: 4, error_rate: 0.004, p99_ms: Some(90.0), ..Default::default() };
        }
        let f = flag();
        let canary = f.split(None).canary.unwrap_or_else(|| panic!("no canary"));
        let j = judge_canary(canary, &judge_input(&r), &CanaryPolicy::default())
            .unwrap_or_else(|e| panic!("{e}"));
        // A reported p99 without the distribution cannot be bounded: the p99 gate is not proven.
        assert_eq!(health_label(&j), "unknown", "{j:?}");
        let p99 = j.checks.iter().find(|c| c.check == CheckKind::P99Latency).map(|c| c.outcome);
        assert_eq!(p99, Some(Outcome::Inconclusive));
        let mut only_comparison_gaps = j.clone();
        only_comparison_gaps.checks.iter_mut().filter(|c| c.check == CheckKind::P99Latency).for_each(|c| c.outcome = Outcome::Pass);
        assert_eq!(health_label(&only_comparison_gaps), "inconclusive");
        let mut all_pass = j.clone();
        all_pass.checks.iter_mut().for_each(|c| c.outcome = Outcome::Pass);
        assert_eq!(health_label(&all_pass), "healthy");
    }

    /// Both arms with gate-good numbers; `buckets` adds the server's latency histograms.
    fn healthy_response(buckets: bool) -> MetricsResponse {
        let mut r = parse_metrics(RESPONSE).unwrap_or_else(|e| panic!("{e}"));
        let hist = |n: u64| if buckets { (1..=10).map(|i| Bucket { le: Some(10.0 * i as f64), count: n / 10 }).collect() } else { vec![] };
        for (arm, requests, errors) in [("canary", 1000, 4), ("baseline", 5000, 20)] {
            if let Some(a) = r.arms.get_mut(arm) {
                a.summary = ArmSummary { requests, errors, p99_ms: Some(99.0), latency_buckets: hist(requests), ..Default::default() };
            }
        }
        r
    }

    #[test]
    fn server_latency_buckets_let_the_page_judge_latency_against_the_baseline() {
        let f = flag();
        let canary = f.split(Some("prod")).canary.unwrap_or_else(|| panic!("no canary"));
        let latency = |r: &MetricsResponse| {
            let j = judge_canary(canary, &judge_input(r), &CanaryPolicy::default()).unwrap_or_else(|e| panic!("{e}"));
            let outcome = j.checks.iter().find(|c| c.check == CheckKind::LatencyVsBaseline).map(|c| c.outcome);
            (outcome, health_label(&j), j.action.as_str())
        };
        assert_eq!(latency(&healthy_response(false)), (Some(Outcome::NoData), "unknown", "hold"));
        // With the buckets the comparison is judged: 1,000 requests do not prove identical
        // distributions within the 5 % margin yet (inconclusive), which never holds a stage.
        assert_eq!(latency(&healthy_response(true)), (Some(Outcome::Inconclusive), "inconclusive", "advance"));
        // The JSON the server sends carries them.
        let text = r#"{"flag": "f", "arms": {"canary": {"summary": {"requests": 2, "errors": 0,
            "latency_buckets": [{"le": 12.5, "count": 1}, {"le": 20.0, "count": 1}]}, "series": []}}}"#;
        let parsed = parse_metrics(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.arms["canary"].summary.latency_buckets.len(), 2);
    }

    /// The dashboard's reader against what the server writes: serde's form of the same summary.
    #[test]
    fn summaries_read_back_as_the_server_writes_them() {
        let summary = ArmSummary {
            requests: 120,
            errors: 3,
            error_rate: 0.025,
            p50_ms: Some(12.0),
            p90_ms: None,
            p99_ms: Some(88.5),
            mean_latency_ms: Some(20.25),
            latency_buckets: vec![Bucket { le: Some(10.0), count: 100 }, Bucket { le: None, count: 20 }],
        };
        let written = serde_json::to_string(&summary).unwrap_or_default();
        let text = format!(r#"{{"flag": "f", "env": "prod", "window_seconds": 300, "bucket_seconds": 60,
            "generated_at": "t", "arms": {{"canary": {{"summary": {written},
            "series": [{{"start": "s", "requests": 2, "errors": 1, "error_rate": 0.5, "p99_ms": null}}]}}}}}}"#);
        let parsed = parse_metrics(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.arms["canary"].summary, summary);
        assert_eq!(parsed.arms["canary"].series, [SeriesPoint { start: "s".into(), requests: 2, errors: 1, error_rate: Some(0.5), p99_ms: None }]);
        assert_eq!((parsed.env.as_deref(), parsed.window_seconds, parsed.bucket_seconds), (Some("prod"), 300, 60));
        assert_eq!(
            parse_metrics(r#"{"flag": "f", "arms": {"canary": {"summary": {"requests": 1, "errors": "x"}}}}"#),
            Err("unexpected /api/metrics response: arms.canary.summary.errors: expected a non-negative integer, got a string".into())
        );
    }

    #[test]
    fn a_bad_bucket_is_named_by_its_path_in_the_response() {
        let mut r = healthy_response(true);
        if let Some(a) = r.arms.get_mut("baseline") {
            a.summary.latency_buckets.swap(1, 2);
        }
        let err = canary_input(Some(&r), "2026-11-23T10:05:00Z", 0).err().map(|e| e.path);
        assert_eq!(err.as_deref(), Some("arms.baseline.summary.latency_buckets[2].le"));
    }

    #[test]
    fn the_failure_count_carries_across_refreshes_and_resets_on_a_new_canary() {
        let f = flag();
        let canary = f.split(Some("prod")).canary.unwrap_or_else(|| panic!("no canary"));
        let mut failing = healthy_response(true);
        if let Some(a) = failing.arms.get_mut("canary") {
            a.summary.errors = 300;
        }
        // Three failed judgements in a row roll back (the default is one: a crossed bound stays
        // crossed on cumulative data).
        let policy = CanaryPolicy { failures_to_rollback: 3, ..CanaryPolicy::default() };
        let mut page = PageMonitor::default();
        // One refresh = one fetch, generated at `at`: judged, with the count it started from.
        let refresh = |page: &mut PageMonitor, env: &str, canary: &Canary, at: &str, r: &MetricsResponse| {
            let r = MetricsResponse { generated_at: at.into(), ..r.clone() };
            let tick = judged_at(Some(&r), "2026-11-23T10:09:00Z");
            let input = canary_input(Some(&r), &tick, 0).unwrap_or_else(|e| panic!("{e}"));
            let (j, was) = page.judge("payment-processor", Some(env), canary, &input, &policy).unwrap_or_else(|e| panic!("{e}"));
            (was, j.consecutive_failures, j.action.as_str())
        };
        let t = |s: u32| format!("2026-11-23T10:05:{s:02}Z");
        assert_eq!(refresh(&mut page, "prod", canary, &t(0), &failing), (0, 1, "hold"));
        // The same fetch judged again (a re-render) does not count twice.
        assert_eq!(refresh(&mut page, "prod", canary, &t(0), &failing), (0, 1, "hold"));
        assert_eq!(refresh(&mut page, "prod", canary, &t(10), &failing), (1, 2, "hold"));
        // Third failed judgement in a row: the policy's sustained-failure rule rolls back.
        assert_eq!(refresh(&mut page, "prod", canary, &t(20), &failing), (2, 3, "rollback"));
        // Another stage starts again at 0 (the monitor notices it from the canary itself).
        let mut next = canary.clone();
        next.current_stage += 1;
        next.stage_started_at = Some(t(25));
        assert_eq!(refresh(&mut page, "prod", &next, &t(30), &failing), (0, 1, "hold"));
        // Another environment starts again at 0, and so does coming back.
        assert_eq!(refresh(&mut page, "staging", canary, &t(40), &failing), (0, 1, "hold"));
        assert_eq!(refresh(&mut page, "prod", canary, &t(50), &failing), (0, 1, "hold"));
        // A passing judgement resets the count.
        let healthy = healthy_response(true);
        assert_eq!(refresh(&mut page, "prod", canary, &t(55), &healthy).1, 0);
        // Without a generation time the page's clock is the tick.
        assert_eq!(judged_at(Some(&MetricsResponse { generated_at: String::new(), ..healthy.clone() }), "now"), "now");
        assert_eq!(judged_at(None, "now"), "now");
    }

    #[test]
    fn environment_override_wins() {
        let f = flag();
        assert_eq!(f.split(Some("dev")).canary.map(|c| c.status), Some(CanaryStatus::Completed));
        assert_eq!(f.split(Some("prod")).canary.map(|c| c.status), Some(CanaryStatus::Running));
        let mut f = f;
        if let Some(c) = f.split_mut(Some("dev")).canary.as_mut() {
            c.status = CanaryStatus::Paused;
        }
        assert_eq!(f.canary.as_ref().map(|c| c.status), Some(CanaryStatus::Running));
        assert_eq!(f.split(Some("dev")).canary.map(|c| c.status), Some(CanaryStatus::Paused));
    }

    #[test]
    fn chart_scales_and_leaves_gaps() {
        let c = chart(&[vec![Some(0.0), None, Some(50.0)]], &[100.0], 200.0, 100.0);
        assert!((c.y_max - 110.0).abs() < 1e-9, "{}", c.y_max);
        assert_eq!(points_attr(&c.lines[0]), "0.0,100.0 200.0,54.5");
        assert_eq!(c.thresholds.len(), 1);
        assert!((c.thresholds[0] - (100.0 - 100.0 / 110.0 * 100.0)).abs() < 1e-9);
        let empty = chart(&[vec![None, Some(f64::NAN)]], &[], 10.0, 10.0);
        assert_eq!(empty.y_max, 1.0);
        assert_eq!(empty.lines, vec![Vec::<(f64, f64)>::new()]);
    }

    #[test]
    fn manual_actions() {
        let f = flag();
        let mut c = f.canary.clone().unwrap_or_else(|| panic!("no canary"));
        apply_manual(&mut c, ManualAction::Advance, "2026-11-23T11:00:00Z").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.current_stage, c.stage_started_at.as_deref()), (1, Some("2026-11-23T11:00:00Z")));
        apply_manual(&mut c, ManualAction::Pause, "x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.status, CanaryStatus::Paused);
        apply_manual(&mut c, ManualAction::Rollback, "x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.status, CanaryStatus::RolledBack);
        assert!(apply_manual(&mut c, ManualAction::Advance, "x").is_err());
        c.status = CanaryStatus::Running;
        c.current_stage = c.stages.len() - 1;
        apply_manual(&mut c, ManualAction::Advance, "x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.status, CanaryStatus::Completed);
    }
}
