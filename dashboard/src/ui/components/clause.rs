//! One clause: attribute, operator, and values whose inputs follow the operator (a number
//! box for numeric operators, a date picker for dates, a segment list for `in_segment`).

use edgeflag_dashboard::forms::{
    clause_value_from_input, clause_value_to_input, is_string_operator, parse_operator, uses_attribute, ValueInput,
};
use edgeflag_dashboard::lens;
use edgeflag_dashboard::lens::Lens;
use edgeflag_evaluator::model::{Clause, Operator};
use leptos::prelude::*;

use crate::ui::components::{CollectAny, When};
use serde_json::Value;

use super::fields::{CheckField, FieldErrors, TextField};
use super::{index_rows, stored};
use crate::ui::state::AppState;

#[component]
pub fn ClauseEditor(list: Lens<Vec<Clause>>, index: usize) -> impl IntoView {
    let state = expect_context::<AppState>();
    let clause = list.at(index);
    let list = stored(list);
    let values = stored(lens!(clause, values));
    let attribute = lens!(clause, attribute);
    let negate = lens!(clause, negate);
    let case_insensitive = lens!(clause, case_insensitive);
    let clause = stored(clause);
    // A closure, not a `Memo<Operator>` (one more memo type): what depends on it is memoized
    // already (the `When` conditions, the value input below).
    let operator = move || clause.with_value(|l| state.read(l, |c| c.operator)).unwrap_or(Operator::In);
    let input = Memo::new(move |_| ValueInput::for_operator(operator()));
    let count = move || values.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    let set_operator = move |text: String| {
        if let Some(op) = parse_operator(&text) {
            clause.with_value(|l| state.write(l, |c| c.operator = op));
        }
    };
    view! {
        <fieldset class="clause">
            <legend>{format!("Clause {}", index + 1)}</legend>
            <When when=move || uses_attribute(operator())>
                <TextField label="Attribute" lens=attribute.clone() placeholder="country" />
            </When>
            <label class="field"><span class="label">"Operator"</span>
                <select on:change=move |ev| set_operator(event_target_value(&ev))>
                    {Operator::ALL.into_iter().map(|op| view! {
                        <option value=op.as_str() selected=move || operator() == op>{op.as_str()}</option>
                    }).collect_any()}
                </select>
                <FieldErrors path=clause.with_value(|l| format!("{}.operator", l.path())) />
            </label>
            <div class="values" role="group" aria-label="Values">
                <span class="label">"Values (any matches)"</span>
                {index_rows(count, move |j| view! { <ValueEditor values=values.get_value() index=j input=input /> }.into_any())}
                <button type="button" on:click=move |_| values.with_value(|l| state.write(l, |v| v.push(Value::from(""))))>
                    "+ value"
                </button>
                <FieldErrors path=values.with_value(|l| l.path().to_string()) />
            </div>
            <CheckField label="Negate (match when it does not match)" lens=negate />
            <When when=move || is_string_operator(operator())>
                <CheckField label="Ignore case" lens=case_insensitive.clone() />
            </When>
            <button type="button" class="danger" on:click=move |_| list.with_value(|l| state.write(l, |v| { if index < v.len() { v.remove(index); } }))>
                "Remove clause"
            </button>
            <FieldErrors path=clause.with_value(|l| l.path().to_string()) />
        </fieldset>
    }
}

#[component]
fn ValueEditor(values: Lens<Vec<Value>>, index: usize, input: Memo<ValueInput>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let value = stored(values.at(index));
    let values = stored(values);
    let segments = move || state.with_model(|m| m.segments.iter().map(|s| s.key.clone()).collect::<Vec<_>>()).unwrap_or_default();
    let text = move || value.with_value(|l| state.read(l, |v| clause_value_to_input(input.get(), v))).unwrap_or_default();
    let set = move |t: String| {
        let v = clause_value_from_input(input.get_untracked(), &t);
        value.with_value(|l| state.write(l, |x| *x = v));
    };
    let invalid = move || value.with_value(|l| !state.problems_at(l.path()).is_empty());
    let field = move || match input.get() {
        ValueInput::Segment => view! {
            <select aria-label=format!("Value {}", index + 1) on:change=move |ev| set(event_target_value(&ev))>
                <option value="">"(choose a segment)"</option>
                {move || { let current = text(); segments().into_iter().map(|s| {
                    let selected = s == current;
                    let v = s.clone(); view! { <option value=v selected=selected>{s}</option> }
                }).collect_any() }}
            </select>
        }.into_any(),
        ValueInput::Date => view! {
            <input type="datetime-local" step="1" aria-label=format!("Value {} (UTC)", index + 1)
                aria-invalid=move || invalid().to_string()
                prop:value=text on:change=move |ev| set(event_target_value(&ev)) />
            <span class="unit">"UTC"</span>
        }.into_any(),
        kind => view! {
            <input type=if kind == ValueInput::Number { "number" } else { "text" } step="any"
                placeholder=kind.placeholder() aria-label=format!("Value {}", index + 1)
                aria-invalid=move || invalid().to_string()
                prop:value=text on:change=move |ev| set(event_target_value(&ev)) />
        }.into_any(),
    };
    view! {
        <div class="value-row">
            {field}
            <button type="button" aria-label=format!("Remove value {}", index + 1)
                on:click=move |_| values.with_value(|l| state.write(l, |v| { if index < v.len() { v.remove(index); } }))>"×"</button>
            <FieldErrors path=value.with_value(|l| l.path().to_string()) />
        </div>
    }
}
