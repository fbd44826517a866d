//! The flag's split: none, a percentage rollout, a staged canary, or an experiment.

use edgeflag_dashboard::forms::{
    bp_to_percent, default_canary, default_experiment, default_rollout, default_stage, weights_total, SplitKind,
};
use edgeflag_dashboard::lens;
use edgeflag_dashboard::lens::Lens;
use edgeflag_evaluator::model::{Canary, CanaryStatus, Experiment, ExperimentVariant, Rollout};
use leptos::prelude::*;

use super::fields::{FieldErrors, FloatField, NameSelect, OptTextField, PercentField, TextField, UintField};
use super::{index_rows, stored, CollectAny};
use crate::ui::state::AppState;

#[component]
pub fn SplitEditor(
    rollout: Lens<Option<Rollout>>,
    canary: Lens<Option<Canary>>,
    experiment: Lens<Option<Experiment>>,
    #[prop(into)] names: Signal<Vec<String>>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (r, c, e) = (stored(rollout), stored(canary), stored(experiment));
    let kind = Memo::new(move |_| {
        state
            .with_model(|m| {
                let ro = r.with_value(|l| l.get(m).cloned().flatten());
                let ca = c.with_value(|l| l.get(m).cloned().flatten());
                let ex = e.with_value(|l| l.get(m).cloned().flatten());
                SplitKind::of(&ro, &ca, &ex)
            })
            .unwrap_or(SplitKind::None)
    });
    let switch = move |text: String| {
        let to = SplitKind::parse(&text);
        let names = names.get_untracked();
        let on = names.first().cloned().unwrap_or_default();
        let off = names.get(1).cloned().unwrap_or_else(|| on.clone());
        let (rl, cl, el) = (r.get_value(), c.get_value(), e.get_value());
        state.update_model(|m| {
            if let Some(x) = rl.get_mut(m) {
                *x = (to == SplitKind::Rollout).then(|| default_rollout(&on));
            }
            if let Some(x) = cl.get_mut(m) {
                *x = (to == SplitKind::Canary).then(|| default_canary(&on, &off));
            }
            if let Some(x) = el.get_mut(m) {
                *x = (to == SplitKind::Experiment).then(|| default_experiment(&names));
            }
        });
    };
    view! {
        <div class="split">
            <label class="field"><span class="label">"Split"</span>
                <select on:change=move |ev| switch(event_target_value(&ev))>
                    {SplitKind::ALL.into_iter().map(|k| view! {
                        <option value=k.as_str() selected=move || kind.get() == k>{k.as_str()}</option>
                    }).collect_any()}
                </select>
            </label>
            {move || match kind.get() {
                SplitKind::None => view! { <p class="hint">"No split: everyone not targeted gets the default variation."</p> }.into_any(),
                SplitKind::Rollout => view! { <RolloutEditor lens=r.get_value().some() names=names /> }.into_any(),
                SplitKind::Canary => view! { <CanaryEditor lens=c.get_value().some() names=names /> }.into_any(),
                SplitKind::Experiment => view! { <ExperimentEditor lens=e.get_value().some() names=names /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn RolloutEditor(lens: Lens<Rollout>, names: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <div class="rollout">
            <PercentField label="Rollout" lens=lens!(lens, percent_bp) />
            <NameSelect label="Variation rolled out" lens=lens!(lens, variation) names=names />
            <OptTextField label="Stickiness attribute" lens=lens!(lens, stickiness) placeholder="targetingKey" />
            <OptTextField label="Salt" lens=lens!(lens, salt) placeholder="flag key" />
        </div>
    }
}

#[component]
fn CanaryEditor(lens: Lens<Canary>, names: Signal<Vec<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let stages = stored(lens!(lens, stages));
    let current = stored(lens!(lens, current_stage));
    let status = stored(lens!(lens, status));
    let count = move || stages.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    let current_value = move || current.with_value(|l| state.read(l, |v| *v)).unwrap_or(0);
    let status_value = move || status.with_value(|l| state.read(l, |v| *v)).unwrap_or_default();
    let statuses = [CanaryStatus::Running, CanaryStatus::Paused, CanaryStatus::RolledBack, CanaryStatus::Completed];
    view! {
        <div class="canary">
            <div class="row">
                <NameSelect label="Baseline variation" lens=lens!(lens, baseline) names=names />
                <NameSelect label="Canary variation" lens=lens!(lens, canary) names=names />
            </div>
            <div class="row">
                <label class="field"><span class="label">"Current stage"</span>
                    <select on:change=move |ev| { if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                        current.with_value(|l| state.write(l, |v| *v = i))
                    } }>
                        {move || (0..count().max(current_value() + 1)).map(|i| view! {
                            <option value=i.to_string() selected=move || current_value() == i>{format!("stage {}", i + 1)}</option>
                        }).collect_any()}
                    </select>
                    <FieldErrors path=current.with_value(|l| l.path().to_string()) />
                </label>
                <label class="field"><span class="label">"Status"</span>
                    <select on:change=move |ev| {
                        let text = event_target_value(&ev);
                        if let Some(s) = statuses.into_iter().find(|s| s.as_str() == text) {
                            status.with_value(|l| state.write(l, |v| *v = s));
                        }
                    }>
                        {statuses.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=move || status_value() == s>{s.as_str()}</option>
                        }).collect_any()}
                    </select>
                </label>
            </div>
            <table class="stages">
                <caption>"Stages (strictly increasing percentages)"</caption>
                <thead><tr><th>"#"</th><th>"Percent"</th><th>"Min duration"</th><th>"Max error rate"</th><th>"Max p99 (ms)"</th><th>"Min samples"</th><th></th></tr></thead>
                <tbody>
                    {index_rows(count, move |i| {
                        let stage = stages.get_value().at(i);
                        let gate = lens!(stage, gate);
                        view! {
                            <tr class:current=move || current_value() == i>
                                <td>{i + 1}</td>
                                <td><FloatField label="Percent" lens=lens!(stage, percent) step="0.01" /></td>
                                <td><TextField label="Min duration" lens=lens!(stage, min_duration) placeholder="10m" /></td>
                                <td><FloatField label="Max error rate" lens=lens!(gate, max_error_rate) step="0.001" /></td>
                                <td><FloatField label="Max p99 ms" lens=lens!(gate, max_p99_ms) /></td>
                                <td><UintField label="Min samples" lens=lens!(gate, min_samples) /></td>
                                <td><button type="button" class="danger" aria-label=format!("Remove stage {}", i + 1)
                                    on:click=move |_| stages.with_value(|l| state.write(l, |v| { if i < v.len() { v.remove(i); } }))>"×"</button></td>
                            </tr>
                        }
                        .into_any()
                    })}
                </tbody>
            </table>
            <button type="button" on:click=move |_| stages.with_value(|l| state.write(l, |v| {
                let next = v.last().map_or(1.0, |s| (s.percent * 2.0).min(100.0));
                v.push(default_stage(next));
            }))>"+ stage"</button>
            <FieldErrors path=stages.with_value(|l| l.path().to_string()) />
            <div class="row">
                <OptTextField label="Stickiness attribute" lens=lens!(lens, stickiness) placeholder="targetingKey" />
                <OptTextField label="Salt" lens=lens!(lens, salt) placeholder="flag key" />
            </div>
        </div>
    }
}

#[component]
fn ExperimentEditor(lens: Lens<Experiment>, names: Signal<Vec<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let variants = stored(lens!(lens, variants));
    let count = move || variants.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    let total = move || variants.with_value(|l| state.read(l, |v| weights_total(v))).unwrap_or(0);
    let add = move |_| {
        let variation = names.get_untracked().first().cloned().unwrap_or_default();
        variants.with_value(|l| state.write(l, |v| v.push(ExperimentVariant { variation, weight_bp: 0 })));
    };
    view! {
        <div class="experiment">
            <PercentField label="Traffic enrolled" lens=lens!(lens, traffic_bp) />
            {index_rows(count, move |i| {
                let variant = variants.get_value().at(i);
                view! {
                    <div class="row variant">
                        <NameSelect label="Variant" lens=lens!(variant, variation) names=names />
                        <PercentField label="Weight" lens=lens!(variant, weight_bp) />
                        <button type="button" class="danger" aria-label=format!("Remove variant {}", i + 1)
                            on:click=move |_| variants.with_value(|l| state.write(l, |v| { if i < v.len() { v.remove(i); } }))>"×"</button>
                    </div>
                }
                .into_any()
            })}
            <p class="total" class:bad=move || total() != 10_000 data-testid="weights-total">
                {move || format!("Weights total {} % (must be 100 %)", bp_to_percent(total().min(u64::from(u32::MAX)) as u32))}
            </p>
            <button type="button" on:click=add>"+ variant"</button>
            <FieldErrors path=variants.with_value(|l| l.path().to_string()) />
            <div class="row">
                <OptTextField label="Stickiness attribute" lens=lens!(lens, stickiness) placeholder="targetingKey" />
                <OptTextField label="Enrolment salt" lens=lens!(lens, salt) placeholder="flag key" />
                <OptTextField label="Variant salt" lens=lens!(lens, experiment_salt) placeholder="<flag key>/experiment" />
            </div>
        </div>
    }
}
