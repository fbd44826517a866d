//! Canary: what the server runs now — each canary's live stage and status and the controller's
//! last judgement (`GET /api/canaries`, polled while the tab is open) — with the stages and
//! gates of the published flag, its metrics (the server's `/api/metrics` or a Prometheus
//! server) as charts and this page's own decision over them (the evaluator's `CanaryMonitor`). The buttons
//! (advance, pause, resume, roll back) act on the server at once, after a confirmation, as
//! `PATCH /api/flags/{key}` of the canary fields; never through the draft.

use std::time::Duration;

use edgeflag_dashboard::api_types::WriteOutcome;
use edgeflag_dashboard::canaries::{
    action_applies, bounds_bar, check_of, confirm_text, decode_flag, live_canary, manual_patch, still_as_shown,
    CanaryState, Canaries, Check, LiveCanary,
};
use edgeflag_dashboard::canary::{
    canary_input, health_label, judged_at, series_values, stage_window, ArmData, ManualAction, MetricsResponse,
    PageMonitor,
};
use edgeflag_dashboard::prometheus::{fill_query, query_range_url, query_url, to_arm, window_summary};
use edgeflag_evaluator::promql;
use edgeflag_evaluator::duration::parse_duration;
use edgeflag_evaluator::judgement::CanaryPolicy;
use edgeflag_evaluator::model::Canary;
use leptos::prelude::*;

use crate::ui::components::{CollectAny, When};

use crate::ui::api;
use crate::ui::fetched::{Fetched, Job};
use crate::ui::pages::flag_choice::{FlagChoice, FlagChoiceSelects};
use crate::ui::components::chart::LineChart;
use crate::ui::state::AppState;
use crate::ui::sync;

/// How often the tab asks the server for the canaries' live state.
const LIVE_POLL: Duration = Duration::from_secs(2);

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

/// The manual actions: the action, its button's test id and label.
const ACTIONS: [(ManualAction, &str, &str); 4] = [
    (ManualAction::Advance, "canary-advance", "Advance…"),
    (ManualAction::Pause, "canary-pause", "Pause…"),
    (ManualAction::Resume, "canary-resume", "Resume…"),
    (ManualAction::Rollback, "canary-rollback", "Roll back…"),
];

/// The Prometheus settings as edited, one `String` signal per field (a signal of the whole
/// struct would be one more signal type).
#[derive(Clone, Copy)]
struct PrometheusInputs {
    url: RwSignal<String>,
    requests: RwSignal<String>,
    error_rate: RwSignal<String>,
    p99_ms: RwSignal<String>,
    latency_buckets: RwSignal<String>,
}

impl PrometheusInputs {
    fn new() -> Self {
        let p = Prometheus::default();
        PrometheusInputs {
            url: RwSignal::new(p.url),
            requests: RwSignal::new(p.requests),
            error_rate: RwSignal::new(p.error_rate),
            p99_ms: RwSignal::new(p.p99_ms),
            latency_buckets: RwSignal::new(p.latency_buckets),
        }
    }

    /// The settings now (tracked).
    fn get(&self) -> Prometheus {
        Prometheus {
            url: self.url.get(),
            requests: self.requests.get(),
            error_rate: self.error_rate.get(),
            p99_ms: self.p99_ms.get(),
            latency_buckets: self.latency_buckets.get(),
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
    // The server's flags (the newest published version), not the draft's.
    let choice = FlagChoice::new(state, state.canary_flag, |f| f.canary.is_some() || f.environments.values().any(|o| o.canary.is_some()), true);
    let FlagChoice { flag, env, .. } = choice;
    // "stage": since the current stage started, what the controller judges.
    let window = RwSignal::new("stage".to_string());
    let use_prometheus = RwSignal::new(false);
    let prometheus = PrometheusInputs::new();
    let refresh = Trigger::new();
    // The page's judgement state: the failure count and earlier stages' evidence, as the
    // controller keeps them (each fetch, by its generation time, counts once).
    let monitor = StoredValue::new(PageMonitor::default());

    // The live state, polled while this tab is open.
    let live = RwSignal::new(None::<Result<Canaries, String>>);
    let live_at = RwSignal::new(String::new());
    let poll_live = move || {
        leptos::task::spawn_local(async move {
            let result = api::canaries(&state.server.get_untracked()).await;
            live.try_set(Some(result));
            live_at.try_set(now_iso());
        })
    };
    poll_live();
    let handle = set_interval_with_handle(poll_live, LIVE_POLL).ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });

    let env_opt = move || Some(env.get()).filter(|e| !e.is_empty());
    // The selected canary of the newest published version, as the server runs it now.
    let shown = Memo::new(move |_| {
        let (key, env) = (flag.get(), env_opt());
        live.with(|l| {
            let canaries = l.as_ref().and_then(|l| l.as_ref().ok());
            state.published_parsed.with(|p| {
                let flags = p.model.as_ref().map_or(&[][..], |m| &m.flags);
                flags.iter().find(|f| f.key == key).and_then(|f| live_canary(f, env.as_deref(), canaries))
            })
        })
    });
    let live_state = move || shown.with(|s| s.as_ref().and_then(|s| s.live.clone()));

    // The controller's activity on this canary: a new judgement, stage or status.
    // One string (a `String` memo, not one more memo type): status, stage, judgement time.
    let controller_activity = Memo::new(move |_| {
        shown.with(|s| match s.as_ref().and_then(|s| s.live.as_ref()) {
            Some(s) => format!("{} {} {}", s.status, s.current_stage, s.last_judgement.as_ref().map_or("-", |j| j.at.as_str())),
            None => String::new(),
        })
    });
    // Fetched again on Refresh and with each of the controller's judgements, so the charts and
    // the page's judgement keep up with the live state (each fetch counts once in its monitor).
    let metrics = Fetched::new(move || {
        refresh.track();
        controller_activity.track();
        let (server, key, env, mut window) = (state.server.get(), flag.get(), env.get(), window.get());
        if window == "stage" {
            // Untracked: a new stage refetches through `controller_activity` already (one fetch,
            // so the monitor counts it once).
            window = stage_window(shown.with_untracked(|s| s.as_ref().and_then(|s| s.canary.stage_started_at.clone())).as_deref(), &now_iso());
        }
        let prom = use_prometheus.get().then(|| prometheus.get());
        async move {
            // What was fetched travels with the result: while a new fetch is under way the
            // previous result is still shown, and its count must stay with its own flag/env.
            let fetched_for = (key.clone(), env.clone());
            if key.is_empty() {
                return (fetched_for, Err("no canary flag on the server".to_string()));
            }
            let result = match prom {
                Some(p) => from_prometheus(p, key, env, window).await,
                None => api::metrics(&server, &key, &env, &window).await,
            };
            (fetched_for, result)
        }
    });

    // The action waiting for confirmation, by `ManualAction::as_str` ("" for none): a `String`
    // signal, not one more signal type.
    let confirming = RwSignal::new(String::new());
    let act = Job::new(move |action: &ManualAction| {
        let action = *action;
        async move {
            confirming.set(String::new());
            let shown = shown.with_untracked(|s| s.as_ref().and_then(|s| s.live.clone()));
            act_on_server(state, flag.get_untracked(), env.get_untracked(), action, shown).await;
            poll_live();
        }
    });

    view! {
        <section aria-labelledby="canary-title" class="canary">
            <h2 id="canary-title">"Canary"</h2>
            <div class="row">
                <FlagChoiceSelects choice=choice id="canary" all_label="(all, base canary)" />
                <label title="stage: since the current stage started (as the controller judges), or a duration such as 5m">"Window "
                    <input data-testid="canary-window" size="5" prop:value=move || window.get()
                        on:change=move |ev| window.set(event_target_value(&ev)) />
                </label>
                <button type="button" data-testid="canary-refresh" on:click=move |_| { refresh.notify(); poll_live(); }>"Refresh"</button>
            </div>
            <PrometheusSettings enabled=use_prometheus settings=prometheus />
            {move || match live.with(|l| l.as_ref().and_then(|l| l.as_ref().err().cloned())) {
                Some(e) => view! { <p class="notice error" data-testid="canary-live-error">"Live state unavailable: "{e}</p> }.into_any(),
                None => ().into_any(),
            }}
            {move || match shown.get() {
                None => view! { <p data-testid="canary-none">"No canary for this flag in this environment on the server."</p> }.into_any(),
                Some(s) => view! { <Stages shown=s at=live_at.get_untracked() /> }.into_any(),
            }}
            {move || live_state().map(|s| view! { <ControllerJudgement state=s /> }.into_any())}
            <div class="row" role="group" aria-label="Act on the server">
                {ACTIONS.into_iter().map(|(action, id, label)| view! {
                        <button type="button" data-testid=id class:danger=action == ManualAction::Rollback
                            disabled=move || act.pending().get()
                                || !shown.with(|s| s.as_ref().and_then(|s| s.live.as_ref()).is_some_and(|s| action_applies(action, &s.status)))
                            on:click=move |_| confirming.set(action.as_str().to_string())>{label}</button>
                    }).collect_any()}
            </div>
            {move || confirming.with(|c| ACTIONS.into_iter().map(|a| a.0).find(|a| a.as_str() == c)).zip(live_state()).map(|(action, s)| {
                let e = env_opt();
                let text = confirm_text(action, &flag.get_untracked(), e.as_deref(), &s);
                view! {
                    <div class="confirm" role="alertdialog" data-testid="canary-confirm">
                        <p>{text}</p>
                        <When when=move || state.token.with(String::is_empty)>
                            <label class="field"><span class="label">"Admin token (kept for this tab only)"</span>
                                <input type="password" autocomplete="off" data-testid="canary-token"
                                    on:change=move |ev| state.set_token(event_target_value(&ev)) />
                            </label>
                        </When>
                        <button type="button" class:danger=action == ManualAction::Rollback data-testid="canary-confirm-yes"
                            on:click=move |_| { act.dispatch(action); }>"Yes, on the server"</button>
                        <button type="button" data-testid="canary-confirm-cancel" on:click=move |_| confirming.set(String::new())>"Cancel"</button>
                    </div>
                }
                .into_any()
            })}
            {move || {
                let fetched = metrics.get();
                let Some(c) = shown.with(|s| s.as_ref().map(|s| s.canary.clone())) else { return view! { <p></p> }.into_any() };
                match fetched {
                    None => view! { <p data-testid="canary-loading">"Loading metrics…"</p> }.into_any(),
                    Some(((flag, env), result)) => {
                        view! { <Judgement canary=c metrics=result monitor=monitor flag=flag env=env /> }.into_any()
                    }
                }
            }}
        </section>
    }
}

/// Sends a manual action to the server, if the canary is still what the view showed.
async fn act_on_server(state: AppState, key: String, env: String, action: ManualAction, shown: Option<CanaryState>) {
    let env = Some(env).filter(|e| !e.is_empty());
    let server = state.server.get_untracked();
    let token = state.token.get_untracked();
    if token.is_empty() {
        return state.error("Enter the admin token to act on the server.");
    }
    let Some(shown) = shown else { return state.error("The canary's live state is not loaded yet.") };
    let (text, etag, _) = match api::get_flag(&server, &key).await {
        Ok(got) => got,
        Err(e) => return state.error(format!("Nothing was sent: {e}")),
    };
    let flag = match decode_flag(&text) {
        Ok(f) => f,
        Err(e) => return state.error(format!("Nothing was sent: {e}")),
    };
    if let Err(e) = still_as_shown(&flag, env.as_deref(), &shown) {
        return state.error(format!("Nothing was sent: {e}. Look at it again, then act."));
    }
    let patch = match manual_patch(&flag, env.as_deref(), action, &now_iso()) {
        Ok(p) => p,
        Err(e) => return state.error(format!("Nothing was sent: {e}.")),
    };
    let what = action.as_str();
    let message = format!("{what} the canary of {key}{} from the dashboard", env.as_ref().map(|e| format!(" ({e})")).unwrap_or_default());
    match api::patch_flag(&server, &key, &etag, &token, &message, &patch).await {
        WriteOutcome::Published { version, .. } => {
            state.info(format!("{key}: {what} applied on the server (version {version})."));
            sync::check(state).await;
        }
        WriteOutcome::Refused { error, conflicts } => {
            let list: Vec<String> = conflicts.iter().map(|c| c.describe()).collect();
            state.error(format!("The server refused the {what} (409): {error} {}", list.join("; ")));
        }
        WriteOutcome::Stale { error, .. } => {
            state.error(format!("The server refused the {what}: the flag changed since it was read (412: {error}). Look again, then act."))
        }
        WriteOutcome::Invalid { error, problems } => {
            let list: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
            state.error(format!("The server refused the {what} ({error}): {}", list.join("; ")));
        }
        WriteOutcome::Unauthorized(e) => state.error(format!("The server refused the token: {e}. Enter a valid admin token.")),
        WriteOutcome::Failed(e) => state.error(format!("The {what} failed: {e}")),
    }
}

fn num(v: Option<f64>) -> String {
    v.map(edgeflag_dashboard::forms::measured).unwrap_or_else(|| "—".into())
}

/// The checks of a judgement (the controller's or the page's), one row each.
#[component]
fn ChecksTable(checks: Vec<Check>, id: &'static str) -> impl IntoView {
    view! {
        <table class="checks" data-testid=id>
            <thead><tr><th>"Check"</th><th>"Outcome"</th><th>"Observed"</th><th>"Bounds"</th><th>"Limit"</th><th>"Baseline"</th><th>"p"</th><th>"Why"</th></tr></thead>
            <tbody>{checks.into_iter().map(|c| view! {
                <tr class=format!("outcome-{}", c.outcome)><td>{c.check.clone()}</td><td>{c.outcome.clone()}</td><td>{num(c.observed)}</td>
                    <td><Bounds check=c.clone() /></td><td>{num(c.limit)}</td><td>{num(c.baseline)}</td><td>{num(c.p_value)}</td><td>{c.reason}</td></tr>
            }).collect_any()}</tbody>
        </table>
    }
}

/// A check's anytime-valid interval drawn against its limit (red): it fails once the interval
/// is wholly past the limit and passes once wholly within it. "∞": no upper bound yet.
#[component]
fn Bounds(check: Check) -> impl IntoView {
    // No bound at all (the samples count): nothing to draw.
    let text = match (check.lower, check.upper) {
        (None, None) => "—".to_string(),
        (lower, upper) => format!("[{}, {}]", num(lower.or(Some(0.0))), upper.map_or("∞".into(), |u| num(Some(u)))),
    };
    let bar = bounds_bar(&check).map(|b| {
        let x = |v: f64| format!("{:.1}", v * 100.0);
        view! {
            <svg class="bounds" viewBox="0 0 100 10" width="100" height="10" aria-hidden="true">
                <line class="interval" x1=x(b.lower) x2=x(b.upper) y1="5" y2="5" stroke-dasharray=b.upper_clipped.then_some("1 1") />
                <line class="estimate" x1=x(b.observed) x2=x(b.observed) y1="1" y2="9" />
                <line class="limit" x1=x(b.limit) x2=x(b.limit) y1="0" y2="10" />
            </svg>
        }
        .into_any()
    });
    view! { <span data-testid="check-bounds">{bar}" "{text}</span> }
}

/// The controller's latest judgement of this canary, as the server keeps it.
#[component]
fn ControllerJudgement(state: CanaryState) -> impl IntoView {
    let Some(j) = state.last_judgement else {
        return view! {
            <p class="hint" data-testid="controller-judgement">
                "The controller has not judged this canary since the server started (or it runs with --no-controller)."
            </p>
        }
        .into_any();
    };
    let wrote = j.decision_version.map(|v| format!(", which wrote version {v}")).unwrap_or_default();
    let on = j.file_version.map(|v| format!(" of version {v}")).unwrap_or_default();
    view! {
        <div class="decision controller" data-testid="controller-judgement">
            <h3>"The controller's last judgement"</h3>
            <p data-testid="controller-decision">"Decision: "<strong>{j.action.clone()}</strong>
                {format!(" at stage {}{on}, {}{wrote}", j.stage + 1, j.at)}</p>
            <ul data-testid="controller-reasons">{j.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_any()}</ul>
            {j.error.map(|e| view! { <p class="notice error" data-testid="controller-error">"Not written: "{e}</p> }.into_any())}
            {j.needs.map(|n| view! { <p class="notice" data-testid="controller-needs">{n.reason}</p> }.into_any())}
            <p class="hint" data-testid="controller-range">{format!(
                "Judged on every request since {}{}; the bounds stay valid however often they are read.",
                j.judged_from.as_deref().unwrap_or("the stage started"),
                match j.earlier_stages { 0 => String::new(), n => format!(", with the comparisons' evidence from {n} earlier stage(s)") },
            )}</p>
            <ChecksTable checks=j.checks id="controller-checks" />
            <p>{format!("Consecutive failed judgements (controller): {}", j.consecutive_failures)}</p>
        </div>
    }
    .into_any()
}

#[component]
fn PrometheusSettings(enabled: RwSignal<bool>, settings: PrometheusInputs) -> impl IntoView {
    let field = move |label: &'static str, id: &'static str, value: RwSignal<String>| {
        view! {
            <label class="block">{label}
                <input class="mono wide" data-testid=id prop:value=move || value.get()
                    on:change=move |ev| value.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <details class="prometheus" data-testid="prometheus-settings">
            <summary>"Metrics source: "{move || if enabled.get() { "Prometheus" } else { "this server's /api/metrics" }}</summary>
            <label><input type="checkbox" data-testid="use-prometheus" prop:checked=move || enabled.get()
                on:change=move |ev| enabled.set(event_target_checked(&ev)) />" Use a Prometheus server (query_range API)"</label>
            {field("Prometheus URL", "prometheus-url", settings.url)}
            {field("Requests per step", "prometheus-requests", settings.requests)}
            {field("Error rate", "prometheus-error-rate", settings.error_rate)}
            {field("p99 (ms)", "prometheus-p99", settings.p99_ms)}
            {field("Latency buckets over the window (instant query, by le)", "prometheus-latency-buckets", settings.latency_buckets)}
            <p class="hint">"Placeholders: {flag} {env} {arm}, {step} and {window} (seconds). Prometheus must allow this page's origin (--web.cors.origin)."</p>
        </details>
    }
}

#[component]
fn Stages(shown: LiveCanary, at: String) -> impl IntoView {
    let LiveCanary { canary, live, version } = shown;
    let current = canary.current_stage;
    let percent = canary.stages.get(current).map(|s| s.percent);
    let source = match (&live, version) {
        (Some(_), Some(v)) => format!(" · live from the server (version {v}, {at})"),
        _ => " · from the published file (live state not loaded)".to_string(),
    };
    view! {
        <p data-testid="canary-status" class=format!("canary-status status-{}", canary.status.as_str())>
            "Status: "<strong>{canary.status.as_str()}</strong>
            <span data-testid="canary-stage">{format!(" · stage {} of {}", current + 1, canary.stages.len())}</span>
            {percent.map(|p| format!(" ({p} %)"))}
            {canary.stage_started_at.clone().map(|s| format!(" · started {s}"))}
            {format!(" · baseline {} → canary {}", canary.baseline, canary.canary)}
            <span class="hint">{source}</span>
        </p>
        <table class="stages" data-testid="canary-stages">
            <thead><tr><th>"Stage"</th><th>"Canary %"</th><th>"Min duration"</th><th>"Max error rate"</th><th>"Max p99 (ms)"</th><th>"Min samples"</th></tr></thead>
            <tbody>
                {canary.stages.into_iter().enumerate().map(|(i, s)| view! {
                    <tr class:current=i == current aria-current=(i == current).then_some("step")>
                        <td>{i + 1}</td><td>{s.percent}</td><td>{s.min_duration}</td>
                        <td>{s.gate.max_error_rate}</td><td>{s.gate.max_p99_ms}</td><td>{s.gate.min_samples}</td>
                    </tr>
                }).collect_any()}
            </tbody>
        </table>
    }
}

#[component]
fn Judgement(
    canary: Canary,
    metrics: Result<MetricsResponse, String>,
    monitor: StoredValue<PageMonitor>,
    flag: String,
    /// `""`: the flag's base canary.
    env: String,
) -> impl IntoView {
    let gate = canary.stages.get(canary.current_stage).map(|s| s.gate.clone());
    // Judged by the page's monitor at the fetch's generation time: a re-render of the same
    // fetch does not count again; `carried` is the failure count the judgement started from.
    let tick = judged_at(metrics.as_ref().ok(), &now_iso());
    let env = (!env.is_empty()).then_some(env.as_str());
    let judged = canary_input(metrics.as_ref().ok(), &tick, 0).and_then(|input| {
        let judge = |m: &mut PageMonitor| m.judge(&flag, env, &canary, &input, &CanaryPolicy::default());
        monitor.try_update_value(judge).unwrap_or_else(|| judge(&mut PageMonitor::default()))
    });
    let (judgement, carried) = match judged {
        Ok((j, carried)) => (Ok(j), carried),
        Err(e) => (Err(e), 0),
    };
    let health = match (&metrics, &judgement) {
        (Ok(_), Ok(j)) => health_label(j),
        _ => "unknown",
    };
    let as_of = metrics.as_ref().ok().map(|r| {
        format!("Metrics as of {}; fetched again with each of the controller's judgements and on Refresh.", r.generated_at)
    });
    let source_error = metrics.as_ref().err().map(|e| view! { <p class="notice error" data-testid="metrics-error">"Metrics source failed: "{e.clone()}</p> }.into_any());
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
        .into_any()
    });
    let decision = match judgement {
        Err(e) => view! { <p class="notice error" data-testid="canary-decision">"Cannot judge: "{e.to_string()}</p> }.into_any(),
        Ok(j) => view! {
            <div class="decision">
                <p data-testid="canary-decision">"Decision: "<strong>{j.action.as_str()}</strong>
                    {j.next_stage.map(|n| format!(" (to stage {})", n + 1))}</p>
                <ul data-testid="canary-reasons">{j.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_any()}</ul>
                {j.needs.map(|n| view! { <p class="notice" data-testid="canary-needs">{n.reason}</p> }.into_any())}
                <ChecksTable checks=j.checks.iter().map(check_of).collect() id="canary-checks" />
                <p data-testid="canary-failures">{format!(
                    "Consecutive failed judgements: {} (was {carried}; rollback at {}). Carried across refreshes of this flag, environment and stage.",
                    j.consecutive_failures, CanaryPolicy::default().failures_to_rollback
                )}</p>
                <p class="hint">"This page's own judgement of the metrics above (the evaluator's CanaryMonitor, as the controller judges, with the default policy); the server's controller decides on its own."</p>
            </div>
        }.into_any(),
    };
    view! {
        <h3>"This page's judgement of the metrics"</h3>
        {as_of.map(|t| view! { <p class="hint" data-testid="metrics-as-of">{t}</p> }.into_any())}
        <p class=format!("health health-{health}") data-testid="canary-health">"Health: "<strong>{health}</strong></p>
        {source_error}
        {charts}
        {decision}
    }
}
