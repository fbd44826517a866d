//! Canary: a canary flag's stages and gates, its metrics (the server's `/api/metrics` or a
//! Prometheus server) as charts, the decision of the evaluator's `judge_canary`, and buttons
//! that edit the draft (advance, pause, resume, roll back) like any other edit.

use edgeflag_dashboard::canary::{
    apply_manual, canary_input, effective_canary, effective_canary_mut, health_label, series_values, ArmData,
    FailureStreak, ManualAction, MetricsResponse, StreakKey,
};
use edgeflag_dashboard::prometheus::{fill_query, query_range_url, query_url, to_arm, window_summary};
use edgeflag_evaluator::promql;
use edgeflag_evaluator::duration::parse_duration;
use edgeflag_evaluator::judgement::{judge_canary, CanaryPolicy};
use edgeflag_evaluator::model::Canary;
use leptos::prelude::*;

use crate::ui::api;
use crate::ui::pages::flag_choice::{FlagChoice, FlagChoiceSelects};
use crate::ui::components::chart::LineChart;
use crate::ui::state::{AppState, Page};

pub fn now_iso() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}

/// Where the metrics come from.
#[derive(Clone, PartialEq)]
struct Prometheus {
    url: String,
    requests: String,
    error_rate: String,
    p99_ms: String,
    /// Instant query: cumulative latency buckets by `le` (seconds) over the window. Empty: none
    /// (then the latency comparison with the baseline has no data).
    latency_buckets: String,
}

impl Default for Prometheus {
    /// The queries shared with the server's controller (`edgeflag_evaluator::promql`).
    fn default() -> Self {
        Prometheus {
            url: String::new(),
            requests: promql::REQUESTS_PER_STEP.to_owned(),
            error_rate: promql::ERROR_RATE_PER_STEP.to_owned(),
            p99_ms: promql::P99_MS_PER_STEP.to_owned(),
            latency_buckets: promql::LATENCY_BUCKETS.to_owned(),
        }
    }
}

async fn from_prometheus(p: Prometheus, flag: String, env: String, window: String) -> Result<MetricsResponse, String> {
    if p.url.trim().is_empty() {
        return Err("no Prometheus URL set".into());
    }
    let window_s = parse_duration(&window).map_err(|e| format!("window: {e}"))?.as_secs().max(1);
    let step = (window_s / 60).max(10);
    let end = js_sys::Date::now() / 1000.0;
    let mut response = MetricsResponse {
        flag: flag.clone(),
        env: Some(env.clone()),
        window_seconds: window_s,
        bucket_seconds: step,
        generated_at: now_iso(),
        arms: Default::default(),
    };
    for arm in ["canary", "baseline"] {
        let fill = |q: &str| fill_query(q, &flag, &env, arm, step, window_s);
        let url = |q: &str| query_range_url(&p.url, &fill(q), end, window_s, step);
        let requests = api::prometheus_range(&url(&p.requests)).await?;
        let error_rate = api::prometheus_range(&url(&p.error_rate)).await?;
        let p99 = api::prometheus_range(&url(&p.p99_ms)).await?;
        let mut data: ArmData = to_arm(&requests, &error_rate, &p99);
        // The judged numbers: the controller's queries over the window, and its conversion.
        let instant = |q: &str| query_url(&p.url, &fill(q), end);
        let total = api::prometheus_value(&instant(promql::REQUESTS)).await?;
        let errors = api::prometheus_value(&instant(promql::ERRORS)).await?;
        let buckets = if p.latency_buckets.trim().is_empty() {
            Vec::new()
        } else {
            api::prometheus_buckets(&instant(&p.latency_buckets)).await?
        };
        data.summary = window_summary(total, errors, buckets);
        response.arms.insert(arm.to_string(), data);
    }
    Ok(response)
}

#[component]
pub fn CanaryPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let choice = FlagChoice::new(state, |f| f.canary.is_some() || f.environments.values().any(|o| o.canary.is_some()));
    let FlagChoice { flag, env, .. } = choice;
    let window = RwSignal::new("5m".to_string());
    let use_prometheus = RwSignal::new(false);
    let prometheus = RwSignal::new(Prometheus::default());
    let refresh = RwSignal::new(0u32);
    // Each metrics fetch gets a number, so the failure streak counts every fetch once.
    let fetches = StoredValue::new(0u64);
    let streak = StoredValue::new(FailureStreak::default());

    let metrics = LocalResource::new(move || {
        refresh.track();
        let (server, key, env, window) = (state.server.get(), flag.get(), env.get(), window.get());
        let prom = use_prometheus.get().then(|| prometheus.get());
        fetches.update_value(|n| *n += 1);
        let fetch = fetches.get_value();
        async move {
            // What was fetched travels with the result: while a new fetch is under way the
            // previous result is still shown, and its count must stay with its own flag/env.
            let fetched_for = (fetch, key.clone(), env.clone());
            if key.is_empty() {
                return (fetched_for, Err("no canary flag in the draft".to_string()));
            }
            let result = match prom {
                Some(p) => from_prometheus(p, key, env, window).await,
                None => api::metrics(&server, &key, &env, &window).await,
            };
            (fetched_for, result)
        }
    });

    // The canary in force for the selected flag and environment (tracked, from the draft).
    let canary = Memo::new(move |_| {
        let (key, env) = (flag.get(), env.get());
        state
            .with_model(|m| {
                m.flags.iter().find(|f| f.key == key).and_then(|f| effective_canary(f, (!env.is_empty()).then_some(env.as_str())).cloned())
            })
            .flatten()
    });

    let act = move |action: ManualAction| {
        let (key, env) = (flag.get_untracked(), env.get_untracked());
        let mut result = Err(format!("no canary for {key}"));
        state.update_model(|m| {
            if let Some(c) = m
                .flags
                .iter_mut()
                .find(|f| f.key == key)
                .and_then(|f| effective_canary_mut(f, (!env.is_empty()).then_some(env.as_str())))
            {
                result = apply_manual(c, action, &now_iso());
            }
        });
        match result {
            Ok(()) => state.info(format!("{key}: draft updated ({action:?}). Publish it to apply.")),
            Err(e) => state.error(e),
        }
    };

    view! {
        <section aria-labelledby="canary-title" class="canary">
            <h2 id="canary-title">"Canary"</h2>
            <div class="row">
                <FlagChoiceSelects choice=choice id="canary" all_label="(all, base canary)" />
                <label>"Window "
                    <input data-testid="canary-window" size="5" prop:value=move || window.get()
                        on:change=move |ev| window.set(event_target_value(&ev)) />
                </label>
                <button type="button" data-testid="canary-refresh" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <PrometheusSettings enabled=use_prometheus settings=prometheus />
            {move || match canary.get() {
                None => view! { <p data-testid="canary-none">"No canary for this flag in this environment."</p> }.into_any(),
                Some(c) => view! { <Stages canary=c /> }.into_any(),
            }}
            <div class="row">
                <button type="button" data-testid="canary-advance" on:click=move |_| act(ManualAction::Advance)>"Advance"</button>
                <button type="button" data-testid="canary-pause" on:click=move |_| act(ManualAction::Pause)>"Pause"</button>
                <button type="button" data-testid="canary-resume" on:click=move |_| act(ManualAction::Resume)>"Resume"</button>
                <button type="button" class="danger" data-testid="canary-rollback" on:click=move |_| act(ManualAction::Rollback)>"Roll back"</button>
                <button type="button" on:click=move |_| state.page.set(Page::Publish)>"Review and publish…"</button>
            </div>
            {move || {
                let fetched = metrics.get();
                let Some(c) = canary.get() else { return view! { <p></p> }.into_any() };
                match fetched {
                    None => view! { <p data-testid="canary-loading">"Loading metrics…"</p> }.into_any(),
                    Some(((fetch, flag, env), result)) => {
                        let key = StreakKey { flag, env, stage: c.current_stage };
                        view! { <Judgement canary=c metrics=result streak=streak key=key fetch=fetch /> }.into_any()
                    }
                }
            }}
        </section>
    }
}

#[component]
fn PrometheusSettings(enabled: RwSignal<bool>, settings: RwSignal<Prometheus>) -> impl IntoView {
    let field = move |label: &'static str, id: &'static str, get: fn(&Prometheus) -> String, set: fn(&mut Prometheus, String)| {
        view! {
            <label class="block">{label}
                <input class="mono wide" data-testid=id prop:value=move || settings.with(get)
                    on:change=move |ev| { let v = event_target_value(&ev); settings.update(|p| set(p, v)); } />
            </label>
        }
    };
    view! {
        <details class="prometheus" data-testid="prometheus-settings">
            <summary>"Metrics source: "{move || if enabled.get() { "Prometheus" } else { "this server's /api/metrics" }}</summary>
            <label><input type="checkbox" data-testid="use-prometheus" prop:checked=move || enabled.get()
                on:change=move |ev| enabled.set(event_target_checked(&ev)) />" Use a Prometheus server (query_range API)"</label>
            {field("Prometheus URL", "prometheus-url", |p| p.url.clone(), |p, v| p.url = v)}
            {field("Requests per step", "prometheus-requests", |p| p.requests.clone(), |p, v| p.requests = v)}
            {field("Error rate", "prometheus-error-rate", |p| p.error_rate.clone(), |p, v| p.error_rate = v)}
            {field("p99 (ms)", "prometheus-p99", |p| p.p99_ms.clone(), |p, v| p.p99_ms = v)}
            {field("Latency buckets over the window (instant query, by le)", "prometheus-latency-buckets", |p| p.latency_buckets.clone(), |p, v| p.latency_buckets = v)}
            <p class="hint">"Placeholders: {flag} {env} {arm}, {step} and {window} (seconds). Prometheus must allow this page's origin (--web.cors.origin)."</p>
        </details>
    }
}

#[component]
fn Stages(canary: Canary) -> impl IntoView {
    let current = canary.current_stage;
    view! {
        <p data-testid="canary-status">
            "Status: "<strong>{canary.status.as_str()}</strong>
            {format!(" · stage {} of {}", current + 1, canary.stages.len())}
            {canary.stage_started_at.clone().map(|s| format!(" · started {s}"))}
            {format!(" · baseline {} → canary {}", canary.baseline, canary.canary)}
        </p>
        <table class="stages" data-testid="canary-stages">
            <thead><tr><th>"Stage"</th><th>"Canary %"</th><th>"Min duration"</th><th>"Max error rate"</th><th>"Max p99 (ms)"</th><th>"Min samples"</th></tr></thead>
            <tbody>
                {canary.stages.into_iter().enumerate().map(|(i, s)| view! {
                    <tr class:current=i == current aria-current=(i == current).then_some("step")>
                        <td>{i + 1}</td><td>{s.percent}</td><td>{s.min_duration}</td>
                        <td>{s.gate.max_error_rate}</td><td>{s.gate.max_p99_ms}</td><td>{s.gate.min_samples}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Judgement(
    canary: Canary,
    metrics: Result<MetricsResponse, String>,
    streak: StoredValue<FailureStreak>,
    key: StreakKey,
    fetch: u64,
) -> impl IntoView {
    let gate = canary.stages.get(canary.current_stage).map(|s| s.gate.clone());
    // The failure count carried from the previous refresh of this flag, environment and stage.
    let carried = streak.with_value(|s| s.count_for(&key, fetch));
    let judgement = canary_input(metrics.as_ref().ok(), &now_iso(), carried)
        .and_then(|input| judge_canary(&canary, &input, &CanaryPolicy::default()));
    if let Ok(j) = &judgement {
        streak.update_value(|s| s.record(key.clone(), fetch, j));
    }
    let health = match (&metrics, &judgement) {
        (Ok(_), Ok(j)) => health_label(j),
        _ => "unknown",
    };
    let source_error = metrics.as_ref().err().map(|e| view! { <p class="notice error" data-testid="metrics-error">"Metrics source failed: "{e.clone()}</p> });
    let charts = metrics.as_ref().ok().map(|r| {
        let arms = |pick| vec![("canary", series_values(r, "canary", pick)), ("baseline", series_values(r, "baseline", pick))];
        view! {
            <div class="charts">
                <LineChart title="Requests per bucket" series=arms(|p| Some(p.requests as f64)) thresholds=vec![] />
                <LineChart title="Error rate" series=arms(|p| if p.requests > 0 { p.error_rate } else { None })
                    thresholds=gate.iter().map(|g| g.max_error_rate).collect() />
                <LineChart title="p99 latency" unit=" ms" series=arms(|p| p.p99_ms)
                    thresholds=gate.iter().map(|g| g.max_p99_ms).collect() />
            </div>
        }
    });
    let decision = match judgement {
        Err(e) => view! { <p class="notice error" data-testid="canary-decision">"Cannot judge: "{e.to_string()}</p> }.into_any(),
        Ok(j) => view! {
            <div class="decision">
                <p data-testid="canary-decision">"Decision: "<strong>{j.action.as_str()}</strong>
                    {j.next_stage.map(|n| format!(" (to stage {})", n + 1))}</p>
                <ul data-testid="canary-reasons">{j.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                <table class="checks" data-testid="canary-checks">
                    <thead><tr><th>"Check"</th><th>"Outcome"</th><th>"Observed"</th><th>"Limit"</th><th>"Baseline"</th><th>"p"</th><th>"Why"</th></tr></thead>
                    <tbody>{j.checks.into_iter().map(|c| {
                        let num = |v: Option<f64>| v.map(edgeflag_dashboard::forms::measured).unwrap_or_else(|| "—".into());
                        let outcome = serde_json::to_value(c.outcome).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
                        let check = serde_json::to_value(c.check).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
                        view! { <tr class=format!("outcome-{outcome}")><td>{check}</td><td>{outcome.clone()}</td><td>{num(c.observed)}</td><td>{num(c.limit)}</td>
                            <td>{num(c.baseline)}</td><td>{num(c.p_value)}</td><td>{c.reason}</td></tr> }
                    }).collect_view()}</tbody>
                </table>
                <p data-testid="canary-failures">{format!(
                    "Consecutive failed judgements: {} (was {carried}; rollback at {}). Carried across refreshes of this flag, environment and stage.",
                    j.consecutive_failures, CanaryPolicy::default().failures_to_rollback
                )}</p>
                <p class="hint">"Judged by the evaluator's judge_canary with the default policy."</p>
            </div>
        }.into_any(),
    };
    view! {
        <p class=format!("health health-{health}") data-testid="canary-health">"Health: "<strong>{health}</strong></p>
        {source_error}
        {charts}
        {decision}
    }
}
