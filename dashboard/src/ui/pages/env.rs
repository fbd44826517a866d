//! Per-environment overrides of a flag: each part either inherits the flag's value or
//! replaces it.

use std::sync::Arc;

use edgeflag_dashboard::lens;
use edgeflag_dashboard::lens::{key_segment, Lens};
use edgeflag_evaluator::model::{EnvironmentOverride, Flag};
use leptos::prelude::*;

use crate::ui::components::{CollectAny, When};

use crate::ui::components::fields::{FieldErrors, KeyListField};
use crate::ui::components::rules::RulesEditor;
use crate::ui::components::split::SplitEditor;
use crate::ui::components::{keyed_rows, stored};
use crate::ui::components::targeting::TargetsEditor;
use crate::ui::state::AppState;

#[component]
pub fn EnvironmentsEditor(flag: Lens<Flag>, names: Signal<Vec<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let flag = stored(flag);
    // Declared environments, plus any override for an undeclared one (so it can be removed).
    let envs = move || {
        let declared = state.with_model(|m| m.environments.clone()).unwrap_or_default();
        let used = flag.with_value(|l| state.read(l, |f| f.environments.keys().cloned().collect::<Vec<_>>())).unwrap_or_default();
        let mut all = declared;
        for e in used {
            if !all.contains(&e) {
                all.push(e);
            }
        }
        all
    };
    // Rows are keyed by environment name through the forms' one `<For>` (keyed_rows, by
    // number): each name seen gets a number for the life of this editor.
    let names_seen = StoredValue::new(Vec::<String>::new());
    view! {
        <When when=move || !envs().is_empty() fallback=|| view! {
            <p class="hint">"The file declares no environments (add them in the Raw JSON tab: \"environments\": [\"staging\", \"prod\"])."</p>
        }>
            {keyed_rows(
                Arc::new(move || envs().iter().map(|e| name_id(names_seen, e)).collect()),
                Arc::new(move |id| {
                    let env = names_seen.with_value(|seen| seen.get(id).cloned().unwrap_or_default());
                    view! { <EnvironmentEditor flag=flag.get_value() env=env names=names /> }.into_any()
                }),
            )}
        </When>
    }
}

/// The number of `name` among the names seen so far (given the next one if new).
fn name_id(seen: StoredValue<Vec<String>>, name: &str) -> usize {
    seen.try_update_value(|seen| {
        seen.iter().position(|n| n == name).unwrap_or_else(|| {
            seen.push(name.to_owned());
            seen.len() - 1
        })
    })
    .unwrap_or_default()
}

#[component]
fn EnvironmentEditor(flag: Lens<Flag>, env: String, names: Signal<Vec<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (get_env, mut_env) = (env.clone(), env.clone());
    let over: Lens<EnvironmentOverride> = flag.then(
        &format!(".environments{}", key_segment(&env)),
        move |f| f.environments.get(&get_env),
        move |f| f.environments.get_mut(&mut_env),
    );
    let flag = stored(flag);
    let exists = {
        let over = over.clone();
        move || state.read(&over, |_| ()).is_some()
    };
    let env_for_toggle = env.clone();
    let toggle = move |_| {
        let env = env_for_toggle.clone();
        flag.with_value(|l| state.write(l, |f| {
            if f.environments.remove(&env).is_none() {
                f.environments.insert(env, EnvironmentOverride::default());
            }
        }));
    };
    let base_flag = move || flag.with_value(|l| state.read(l, Clone::clone));
    // Copyable lenses: the nested view closures below are re-run and must not move them. One
    // stored value per lens (types the other editors store too), not a stored tuple type.
    let (enabled, default_variation) = (stored(lens!(over, enabled)), stored(lens!(over, default_variation)));
    let (targets, deny, rules) = (stored(lens!(over, targets)), stored(lens!(over, deny)), stored(lens!(over, rules)));
    let (rollout, canary, experiment) = (stored(lens!(over, rollout)), stored(lens!(over, canary)), stored(lens!(over, experiment)));
    let over_path = over.path().to_string();
    view! {
        <fieldset class="environment">
            <legend>{format!("Environment {env}")}</legend>
            <button type="button" on:click=toggle>{
                let exists = exists.clone();
                move || if exists() { "Remove override (inherit everything)" } else { "Override in this environment" }
            }</button>
            <When when=exists.clone()>
                <EnabledOverride lens=enabled.get_value() />
                <DefaultOverride lens=default_variation.get_value() names=names />
                <Overridable label="Override individual targets" lens=targets.get_value()
                    initial=Arc::new(move || base_flag().map(|f| f.targets).unwrap_or_default())>
                    <TargetsEditor list=targets.get_value().some() names=names />
                </Overridable>
                <Overridable label="Override the deny list" lens=deny.get_value()
                    initial=Arc::new(move || base_flag().map(|f| f.deny).unwrap_or_default())>
                    <KeyListField label="Deny list" lens=deny.get_value().some() />
                </Overridable>
                <Overridable label="Override the rules" lens=rules.get_value()
                    initial=Arc::new(move || base_flag().map(|f| f.rules).unwrap_or_default())>
                    <RulesEditor list=rules.get_value().some() names=names />
                </Overridable>
                <p class="hint">"Split: \"none\" inherits the flag's split; any other choice replaces it here."</p>
                <SplitEditor rollout=rollout.get_value() canary=canary.get_value() experiment=experiment.get_value() names=names />
                <FieldErrors path=over_path.clone() />
            </When>
        </fieldset>
    }
}

/// A part that is either inherited (`None`) or replaced (`Some`), with its editor.
#[component]
fn Overridable<T: Clone + Send + Sync + 'static>(
    label: &'static str,
    lens: Lens<Option<T>>,
    initial: Arc<dyn Fn() -> T + Send + Sync>,
    children: ChildrenFn,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let on = move || lens.with_value(|l| state.read(l, Option::is_some)).unwrap_or(false);
    let set = move |replace: bool| {
        let value = replace.then(|| initial());
        lens.with_value(|l| state.write(l, |x| *x = value));
    };
    override_toggle(label, Arc::new(on), Arc::new(set), children)
}

/// The checkbox and the editor of an [`Overridable`], compiled once: only reading and writing
/// the part is per type (the whole component was one copy per overridable type).
fn override_toggle(
    label: &'static str,
    on: Arc<dyn Fn() -> bool + Send + Sync>,
    set: Arc<dyn Fn(bool) + Send + Sync>,
    children: ChildrenFn,
) -> AnyView {
    let checked = on.clone();
    view! {
        <div class="overridable">
            <label class="field check">
                <input type="checkbox" prop:checked=move || checked() on:change=move |ev| set(event_target_checked(&ev)) />
                <span class="label">{label}</span>
            </label>
            <When when=move || on()>{children()}</When>
        </div>
    }
    .into_any()
}

#[component]
fn EnabledOverride(lens: Lens<Option<bool>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let current = move || lens.with_value(|l| state.read(l, |v| *v)).flatten();
    let choices: [(&str, Option<bool>); 3] = [("inherit", None), ("on", Some(true)), ("off", Some(false))];
    view! {
        <label class="field"><span class="label">"Enabled"</span>
            <select on:change=move |ev| {
                let text = event_target_value(&ev);
                let value = choices.iter().find(|(t, _)| *t == text).and_then(|(_, v)| *v);
                lens.with_value(|l| state.write(l, |x| *x = value));
            }>
                {choices.into_iter().map(|(t, v)| view! { <option value=t selected=move || current() == v>{t}</option> }).collect_any()}
            </select>
        </label>
    }
}

#[component]
fn DefaultOverride(lens: Lens<Option<String>>, names: Signal<Vec<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let current = move || lens.with_value(|l| state.read(l, Clone::clone)).flatten();
    view! {
        <label class="field"><span class="label">"Default variation"</span>
            <select on:change=move |ev| {
                let text = event_target_value(&ev);
                let value = (!text.is_empty()).then_some(text);
                lens.with_value(|l| state.write(l, |x| *x = value));
            }>
                <option value="" selected=move || current().is_none()>"(inherit)"</option>
                {move || names.get().into_iter().map(|n| {
                    let selected = current().as_deref() == Some(n.as_str());
                    let v = n.clone(); view! { <option value=v selected=selected>{n}</option> }
                }).collect_any()}
            </select>
            <FieldErrors path=lens.with_value(|l| l.path().to_string()) />
        </label>
    }
}
