//! Labelled inputs bound to one model value, each with its problems beside it.

use edgeflag_dashboard::forms::{bp_to_percent, float_to_text, parse_key_list, percent_to_bp};
use edgeflag_dashboard::lens::Lens;
use leptos::prelude::*;

use super::{stored, CollectAny, SLens};
use crate::ui::state::AppState;
use crate::ui::url;

/// The evaluator's messages for `path` (and form conversion errors), beside the field.
/// `local`: the form's own conversion error, "" for none (a `String` signal like the others,
/// not one more signal type).
#[component]
pub fn FieldErrors(
    path: String,
    #[prop(optional, into)] local: Option<Signal<String>>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let messages = move || {
        let mut all = state.problems_at(&path);
        if let Some(extra) = local.map(|l| l.get()).filter(|e| !e.is_empty()) {
            all.insert(0, extra);
        }
        all
    };
    view! {
        <span class="field-errors" aria-live="polite">
            {move || messages().into_iter().map(|m| view! { <span class="field-error">{m}</span> }).collect_any()}
        </span>
    }
}

fn path_of<T>(lens: SLens<T>) -> String {
    lens.with_value(|l| l.path().to_string())
}

#[component]
pub fn TextField(
    label: &'static str,
    lens: Lens<String>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] multiline: bool,
    // The open flag's key: the editor's selection (and the URL) follow a rename.
    #[prop(optional)] selection: bool,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let value = move || lens.with_value(|l| state.read(l, |s| s.clone())).unwrap_or_default();
    let invalid = move || lens.with_value(|l| !state.problems_at(l.path()).is_empty());
    let set = move |text: String| {
        let open = state.selected.with_untracked(|key| {
            // The model with form edits not yet in the text (a second rename within the pause).
            lens.with_value(|l| untrack(|| state.read(l, |k| k == key)).unwrap_or(false))
        });
        if selection && open {
            // Replaced, not pushed: the old URL names no flag any more.
            url::replace_next();
            state.selected.set(text.clone());
        }
        lens.with_value(|l| state.write(l, |s| *s = text))
    };
    let input = if multiline {
        view! { <textarea rows="2" placeholder=placeholder aria-invalid=move || invalid().to_string()
            prop:value=value on:change=move |ev| set(event_target_value(&ev))></textarea> }.into_any()
    } else {
        view! { <input type="text" placeholder=placeholder aria-invalid=move || invalid().to_string()
            prop:value=value on:change=move |ev| set(event_target_value(&ev)) /> }.into_any()
    };
    view! {
        <label class="field"><span class="label">{label}</span>{input}<FieldErrors path=path_of(lens) /></label>
    }
}

/// Empty text means "not set" (`None`).
#[component]
pub fn OptTextField(label: &'static str, lens: Lens<Option<String>>, #[prop(optional)] placeholder: &'static str) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let value = move || lens.with_value(|l| state.read(l, |s| s.clone().unwrap_or_default())).unwrap_or_default();
    let set = move |text: String| {
        lens.with_value(|l| state.write(l, |s| *s = (!text.trim().is_empty()).then(|| text.trim().to_string())))
    };
    view! {
        <label class="field"><span class="label">{label}</span>
            <input type="text" placeholder=placeholder prop:value=value on:change=move |ev| set(event_target_value(&ev)) />
            <FieldErrors path=path_of(lens) />
        </label>
    }
}

#[component]
pub fn CheckField(label: &'static str, lens: Lens<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let checked = move || lens.with_value(|l| state.read(l, |b| *b)).unwrap_or(false);
    view! {
        <label class="field check">
            <input type="checkbox" prop:checked=checked
                on:change=move |ev| { let on = event_target_checked(&ev); lens.with_value(|l| state.write(l, |b| *b = on)) } />
            <span class="label">{label}</span>
            <FieldErrors path=path_of(lens) />
        </label>
    }
}

/// A share in basis points, edited as a percentage in 0.01 % steps: a slider for quick
/// changes (applied while dragging) and a number box for exact values.
#[component]
pub fn PercentField(label: &'static str, lens: Lens<u32>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let local_error = RwSignal::new(String::new());
    let bp = move || lens.with_value(|l| state.read(l, |v| *v)).unwrap_or(0);
    let set_bp = move |v: u32| lens.with_value(|l| state.write(l, |x| *x = v));
    view! {
        <div class="field percent" role="group" aria-label=label>
            <span class="label">{label}</span>
            <input type="range" min="0" max="10000" step="1" aria-label=format!("{label} slider")
                prop:value=move || bp().to_string()
                on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { local_error.set(String::new()); set_bp(v) } } />
            <input type="number" class="narrow" min="0" max="100" step="0.01" aria-label=format!("{label} in percent")
                prop:value=move || bp_to_percent(bp())
                on:change=move |ev| { match percent_to_bp(&event_target_value(&ev)) {
                    Ok(v) => { local_error.set(String::new()); set_bp(v) }
                    Err(e) => local_error.set(e),
                } } />
            <span class="unit">"%"</span>
            <FieldErrors path=path_of(lens) local=local_error />
        </div>
    }
}

#[component]
pub fn FloatField(label: &'static str, lens: Lens<f64>, #[prop(default = "any")] step: &'static str) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let local_error = RwSignal::new(String::new());
    view! {
        <label class="field"><span class="label">{label}</span>
            <input type="number" class="narrow" step=step
                prop:value=move || lens.with_value(|l| state.read(l, |v| float_to_text(*v))).unwrap_or_default()
                on:change=move |ev| { match edgeflag_readers::float_reader::parse_f64(event_target_value(&ev).trim()) {
                    Some(v) if v.is_finite() => { local_error.set(String::new()); lens.with_value(|l| state.write(l, |x| *x = v)) }
                    _ => local_error.set("not a number".into()),
                } } />
            <FieldErrors path=path_of(lens) local=local_error />
        </label>
    }
}

#[component]
pub fn UintField(label: &'static str, lens: Lens<u64>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let local_error = RwSignal::new(String::new());
    view! {
        <label class="field"><span class="label">{label}</span>
            <input type="number" class="narrow" min="0" step="1"
                prop:value=move || lens.with_value(|l| state.read(l, |v| v.to_string())).unwrap_or_default()
                on:change=move |ev| { match event_target_value(&ev).trim().parse::<u64>() {
                    Ok(v) => { local_error.set(String::new()); lens.with_value(|l| state.write(l, |x| *x = v)) }
                    Err(_) => local_error.set("a whole number ≥ 0".into()),
                } } />
            <FieldErrors path=path_of(lens) local=local_error />
        </label>
    }
}

/// A list of keys, one per line or comma separated.
#[component]
pub fn KeyListField(label: &'static str, lens: Lens<Vec<String>>, #[prop(optional)] placeholder: &'static str) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    view! {
        <label class="field"><span class="label">{label}</span>
            <textarea rows="2" placeholder=placeholder
                prop:value=move || lens.with_value(|l| state.read(l, |v| v.join(", "))).unwrap_or_default()
                on:change=move |ev| { let keys = parse_key_list(&event_target_value(&ev)); lens.with_value(|l| state.write(l, |v| *v = keys)) }>
            </textarea>
            <FieldErrors path=path_of(lens) />
        </label>
    }
}

/// A `<select>` of names (variations, flags, segments); an unknown current value stays
/// selectable so the admin sees it (and the evaluator's error about it).
#[component]
pub fn NameSelect(label: &'static str, lens: Lens<String>, #[prop(into)] names: Signal<Vec<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lens = stored(lens);
    let current = move || lens.with_value(|l| state.read(l, |s| s.clone())).unwrap_or_default();
    let options = move || {
        let current = current();
        let mut all = names.get();
        if !all.contains(&current) {
            all.insert(0, current.clone());
        }
        all.into_iter()
            .map(|name| {
                let selected = name == current;
                let text = if name.is_empty() { "(none)".to_string() } else { name.clone() };
                view! { <option value=name selected=selected>{text}</option> }
            })
            .collect_any()
    };
    view! {
        <label class="field"><span class="label">{label}</span>
            <select on:change=move |ev| { let v = event_target_value(&ev); lens.with_value(|l| state.write(l, |s| *s = v)) }>
                {options}
            </select>
            <FieldErrors path=path_of(lens) />
        </label>
    }
}
