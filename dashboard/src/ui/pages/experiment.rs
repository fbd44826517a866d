//! Experiment: per-variant counts, rates, lift with its confidence interval, p-value, the
//! sample-ratio warning and the winner (only when significant), all from the evaluator's
//! `analyze_experiment`. Data comes from `/api/metrics` (conversion = `ok` outcomes) or is
//! pasted as JSON.

use edgeflag_dashboard::experiment::{data_from_json, data_from_metrics};
use edgeflag_evaluator::judgement::{analyze_experiment, AnalysisConfig, ExperimentData, ExperimentReport};
use edgeflag_evaluator::model::Experiment;
use leptos::prelude::*;

use crate::ui::components::{CollectAny, When};

use crate::ui::api;
use crate::ui::fetched::Fetched;
use crate::ui::pages::flag_choice::{FlagChoice, FlagChoiceSelects};
use crate::ui::state::AppState;

fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into())
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:+.2} %", v * 100.0)).unwrap_or_else(|| "—".into())
}

#[component]
pub fn ExperimentPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let choice = FlagChoice::new(state, state.experiment_flag, |f| f.experiment.is_some() || f.environments.values().any(|o| o.experiment.is_some()), false);
    let FlagChoice { flag, env, .. } = choice;
    let window = RwSignal::new("1h".to_string());
    let pasted = RwSignal::new(String::new());
    let use_pasted = RwSignal::new(false);
    let refresh = Trigger::new();
    let experiment = Memo::new(move |_| {
        let (key, env) = (flag.get(), env.get());
        state
            .with_model(|m| {
                m.flags
                    .iter()
                    .find(|f| f.key == key)
                    .and_then(|f| f.split((!env.is_empty()).then_some(env.as_str())).experiment.cloned())
            })
            .flatten()
    });
    let metrics = Fetched::new(move || {
        refresh.track();
        let (server, key, env, window, pasted_mode) = (state.server.get(), flag.get(), env.get(), window.get(), use_pasted.get());
        async move {
            if pasted_mode || key.is_empty() {
                return None;
            }
            Some(api::metrics(&server, &key, &env, &window).await)
        }
    });
    view! {
        <section aria-labelledby="experiment-title" class="experiment">
            <h2 id="experiment-title">"Experiment"</h2>
            <div class="row">
                <FlagChoiceSelects choice=choice id="experiment" all_label="(all)" />
                <label>"Window "<input size="5" prop:value=move || window.get() on:change=move |ev| window.set(event_target_value(&ev)) /></label>
                <button type="button" on:click=move |_| refresh.notify()>"Refresh"</button>
            </div>
            <label><input type="checkbox" data-testid="experiment-use-pasted" prop:checked=move || use_pasted.get()
                on:change=move |ev| use_pasted.set(event_target_checked(&ev)) />" Use pasted data instead of /api/metrics"</label>
            <When when=move || use_pasted.get()>
                <textarea class="mono" rows="8" data-testid="experiment-json" aria-label="Experiment data (JSON)"
                    placeholder=r#"{"assignments": {"control": 10000, "treatment": 10050}, "metrics": [{"name": "checkout", "kind": "conversion", "arms": {"control": {"units": 10000, "conversions": 1000}, "treatment": {"units": 10050, "conversions": 1200}}}]}"#
                    prop:value=move || pasted.get() on:input=move |ev| pasted.set(event_target_value(&ev))></textarea>
            </When>
            {move || {
                let Some(exp) = experiment.get() else {
                    return view! { <p>"No experiment for this flag in this environment."</p> }.into_any();
                };
                let data: Result<ExperimentData, String> = if use_pasted.get() {
                    data_from_json(&pasted.get())
                } else {
                    match metrics.get() {
                        None | Some(None) => return view! { <p>"Loading metrics…"</p> }.into_any(),
                        Some(Some(Err(e))) => Err(format!("metrics source failed: {e}")),
                        Some(Some(Ok(r))) => Ok(data_from_metrics(&exp, &r)),
                    }
                };
                match data {
                    Err(e) => view! { <p class="notice error" data-testid="experiment-error">{e}" (result unknown)"</p> }.into_any(),
                    Ok(d) => view! { <Report experiment=exp data=d /> }.into_any(),
                }
            }}
        </section>
    }
}

#[component]
fn Report(experiment: Experiment, data: ExperimentData) -> impl IntoView {
    let report: Result<ExperimentReport, String> =
        analyze_experiment(&experiment, &data, &AnalysisConfig::default()).map_err(|e| e.to_string());
    let counts = data
        .assignments
        .iter()
        .map(|(v, n)| view! { <tr><td>{v.clone()}</td><td>{*n}</td></tr> })
        .collect_any();
    let body = match report {
        Err(e) => view! { <p class="notice error" data-testid="experiment-error">{e}</p> }.into_any(),
        Ok(r) => {
            let srm_bad = word(&r.sample_ratio.status) == "mismatch";
            view! {
                <p data-testid="experiment-srm" class:bad=srm_bad>
                    {if srm_bad { "⚠ Sample ratio mismatch: " } else { "Sample ratio: " }}
                    {word(&r.sample_ratio.status)}" — "{r.sample_ratio.reason.clone()}
                </p>
                <p>"Control: "{r.control.clone()}", alpha "{r.alpha}</p>
                {r.metrics.into_iter().map(|m| view! {
                    <h3>{m.metric.clone()}" ("{word(&m.kind)}{if m.higher_is_better { ", higher is better" } else { ", lower is better" }}")"</h3>
                    <table class="comparisons" data-testid="experiment-comparisons">
                        <thead><tr><th>"Variant"</th><th>"Status"</th><th>"Control"</th><th>"Variant value"</th><th>"Lift"</th>
                            <th>"Lift CI"</th><th>"p-value"</th><th>"Winner"</th><th>"More units needed"</th><th>"Why"</th></tr></thead>
                        <tbody>{m.comparisons.into_iter().map(|c| view! {
                            <tr data-variant=c.variation.clone()>
                                <td>{c.variation.clone()}</td><td>{word(&c.status)}</td><td>{num(c.control_value)}</td><td>{num(c.treatment_value)}</td>
                                <td>{pct(c.relative_lift)}</td><td>{format!("[{}, {}]", pct(c.relative_ci_low), pct(c.relative_ci_high))}</td>
                                <td>{c.p_value.map(|p| if p < 1e-4 { format!("{p:.2e}") } else { format!("{p:.4}") }).unwrap_or_else(|| "—".into())}</td><td data-testid="winner">{c.winner.clone().unwrap_or_else(|| "—".into())}</td>
                                <td>{c.remaining_per_arm.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td><td>{c.reason.clone()}</td>
                            </tr>
                        }).collect_any()}</tbody>
                    </table>
                }).collect_any()}
            }
            .into_any()
        }
    };
    view! {
        <table class="counts" data-testid="experiment-counts"><thead><tr><th>"Variant"</th><th>"Units"</th></tr></thead><tbody>{counts}</tbody></table>
        {body}
    }
}
