//! Editing one flag: every part of it, in sections.

use edgeflag_dashboard::forms::{variation_value_from_input, variation_value_to_input};
use edgeflag_dashboard::lens;
use edgeflag_dashboard::lens::Lens;
use edgeflag_evaluator::model::{Flag, FlagKind, Variation};
use leptos::prelude::*;

use crate::ui::components::CollectAny;

use super::env::EnvironmentsEditor;
use super::flag_choice::missing_flag;
use super::preview::FlagPreview;
use crate::ui::components::fields::{CheckField, FieldErrors, KeyListField, NameSelect, TextField};
use crate::ui::components::rules::RulesEditor;
use crate::ui::components::split::SplitEditor;
use crate::ui::components::{index_rows, stored};
use crate::ui::components::targeting::{PrerequisitesEditor, TargetsEditor};
use crate::ui::state::{AppState, Page};

#[component]
pub fn EditorPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    // Where the selected key is now: a flag deleted or moved above the open one moves it, and
    // the form (whose lenses hold the index) is re-created there.
    let index = move || {
        let key = state.selected.get();
        state.with_model(|m| state.selected_index(m, &key)).flatten()
    };
    view! {
        {move || match index() {
            Some(index) => view! { <FlagEditor index=index /> }.into_any(),
            None => view! {
                <section><h2>"Edit flag"</h2>
                    // A link to a flag the file does not have (yet): said once it is loaded.
                    {move || state.selected.with(|key| (!key.is_empty() && state.ready.get()).then(|| view! {
                        <p class="notice error" data-testid="missing-flag">
                            {missing_flag(key, "in this draft")}
                        </p>
                    }.into_any()))}
                    <p>"Choose a flag in the "
                        <button type="button" class="link" on:click=move |_| state.page.set(Page::Flags)>"flags list"</button>
                        "."</p>
                </section>
            }.into_any(),
        }}
    }
}

#[component]
fn FlagEditor(index: usize) -> impl IntoView {
    let state = expect_context::<AppState>();
    let flag: Lens<Flag> = lens!(Lens::root(), flags).at(index);
    let key = Signal::derive({
        let flag = flag.clone();
        move || state.read(&flag, |f| f.key.clone()).unwrap_or_default()
    });
    let names = Signal::derive({
        let flag = flag.clone();
        move || state.read(&flag, |f| f.variations.iter().map(|v| v.name.clone()).collect::<Vec<_>>()).unwrap_or_default()
    });
    let problems = move || state.problems_within(&format!("flags[{index}]"));
    view! {
        <section class="editor" aria-labelledby="editor-title">
            <h2 id="editor-title">"Flag " <code>{key}</code></h2>
            <p class="hint" class:bad=move || { problems() > 0 }>
                {move || match problems() { 0 => "No problems.".to_string(), n => format!("{n} problem(s) in this flag: see the messages beside the fields.") }}
            </p>
            <FlagPreview key=key />
            <fieldset><legend>"Basics"</legend>
                <TextField label="Key" lens=lens!(flag, key) selection=true />
                <TextField label="Description" lens=lens!(flag, description) multiline=true />
                <KeyListField label="Tags" lens=lens!(flag, tags) placeholder="ui, checkout" />
                <KindSelect lens=lens!(flag, kind) />
                <div class="kill-switch"><CheckField label="Enabled (kill switch: off serves the off variation to everyone)" lens=lens!(flag, enabled) /></div>
                <div class="row">
                    <NameSelect label="Off variation" lens=lens!(flag, off_variation) names=names />
                    <NameSelect label="Default variation" lens=lens!(flag, default_variation) names=names />
                </div>
            </fieldset>
            <fieldset><legend>"Variations"</legend><VariationsEditor flag=flag.clone() /></fieldset>
            <fieldset><legend>"Prerequisites"</legend><PrerequisitesEditor list=lens!(flag, prerequisites) own_key=key /></fieldset>
            <fieldset><legend>"Individual targeting"</legend>
                <TargetsEditor list=lens!(flag, targets) names=names />
                <KeyListField label="Deny list (always served the off variation)" lens=lens!(flag, deny) />
            </fieldset>
            <fieldset><legend>"Rules (first match wins)"</legend><RulesEditor list=lens!(flag, rules) names=names /></fieldset>
            <fieldset><legend>"Split"</legend>
                <SplitEditor rollout=lens!(flag, rollout) canary=lens!(flag, canary) experiment=lens!(flag, experiment) names=names />
            </fieldset>
            <fieldset><legend>"Environment overrides"</legend><EnvironmentsEditor flag=flag.clone() names=names /></fieldset>
            <FieldErrors path=flag.path().to_string() />
        </section>
    }
}

#[component]
fn KindSelect(lens: Lens<FlagKind>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let current = move || lens.with_value(|l| state.read(l, |k| *k)).unwrap_or(FlagKind::Boolean);
    view! {
        <label class="field"><span class="label">"Kind"</span>
            <select on:change=move |ev| {
                let text = event_target_value(&ev);
                if let Some(k) = FlagKind::parse(&text) {
                    lens.with_value(|l| state.write(l, |x| *x = k));
                }
            }>
                {FlagKind::ALL.into_iter().map(|k| view! { <option value=k.as_str() selected=move || current() == k>{k.as_str()}</option> }).collect_any()}
            </select>
            <FieldErrors path=lens.with_value(|l| l.path().to_string()) />
        </label>
    }
}

#[component]
fn VariationsEditor(flag: Lens<Flag>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = stored(lens!(flag, variations));
    let kind = stored(lens!(flag, kind));
    let count = move || list.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    let add = move |_| {
        let k = kind.with_value(|l| state.read(l, |k| *k)).unwrap_or(FlagKind::String);
        let value = match k {
            FlagKind::Boolean => serde_json::Value::Bool(false),
            FlagKind::Number => serde_json::Value::from(0),
            FlagKind::String => serde_json::Value::from(""),
            FlagKind::Json => serde_json::json!({}),
        };
        list.with_value(|l| state.write(l, |v| {
            let name = format!("variation-{}", v.len() + 1);
            v.push(Variation { name, value, description: String::new() });
        }));
    };
    view! {
        {index_rows(count, move |i| {
            let variation = list.get_value().at(i);
            let value = stored(lens!(variation, value));
            let local_error = RwSignal::new(String::new());
            let set_value = move |text: String| {
                let k = kind.with_value(|l| state.read(l, |k| *k)).unwrap_or(FlagKind::String);
                match variation_value_from_input(k, &text) {
                    Ok(v) => { local_error.set(String::new()); value.with_value(|l| state.write(l, |x| *x = v)) }
                    Err(e) => local_error.set(e),
                }
            };
            view! {
                <div class="row variation">
                    <TextField label="Name" lens=lens!(variation, name) />
                    <label class="field"><span class="label">"Value"</span>
                        <input type="text" class="mono"
                            prop:value=move || value.with_value(|l| state.read(l, variation_value_to_input)).unwrap_or_default()
                            on:change=move |ev| set_value(event_target_value(&ev)) />
                        <FieldErrors path=value.with_value(|l| l.path().to_string()) local=local_error />
                    </label>
                    <TextField label="Description" lens=lens!(variation, description) />
                    <button type="button" class="danger" aria-label=format!("Remove variation {}", i + 1)
                        on:click=move |_| list.with_value(|l| state.write(l, |v| { if i < v.len() { v.remove(i); } }))>"×"</button>
                </div>
            }
            .into_any()
        })}
        <button type="button" on:click=add>"+ variation"</button>
        <FieldErrors path=list.with_value(|l| l.path().to_string()) />
    }
}
