//! Ordered targeting rules (flags) and segment rules: each a list of clauses.

use edgeflag_dashboard::forms::default_clause;
use edgeflag_dashboard::lens;
use edgeflag_dashboard::lens::Lens;
use edgeflag_evaluator::model::{Rule, SegmentRule};
use leptos::prelude::*;

use super::clause::ClauseEditor;
use super::fields::{FieldErrors, NameSelect, TextField};
use super::{index_rows, stored};
use crate::ui::state::AppState;

#[component]
pub fn RulesEditor(list: Lens<Vec<Rule>>, #[prop(into)] names: Signal<Vec<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = stored(list);
    let count = move || list.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    let add = move |_| {
        let variation = names.get_untracked().first().cloned().unwrap_or_default();
        list.with_value(|l| state.write(l, |v| v.push(Rule { description: String::new(), clauses: vec![default_clause()], variation })));
    };
    view! {
        <div class="rules">
            {index_rows(count, move |i| view! { <RuleEditor list=list.get_value() index=i names=names /> }.into_any())}
            <button type="button" on:click=add>"+ rule"</button>
            <FieldErrors path=list.with_value(|l| l.path().to_string()) />
        </div>
    }
}

#[component]
fn RuleEditor(list: Lens<Vec<Rule>>, index: usize, names: Signal<Vec<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let rule = list.at(index);
    let clauses = stored(lens!(rule, clauses));
    let list = stored(list);
    let clause_count = move || clauses.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    let last = move || list.with_value(|l| state.read(l, Vec::len)).unwrap_or(0).saturating_sub(1);
    let swap = move |other: usize| list.with_value(|l| state.write(l, |v| if index < v.len() && other < v.len() { v.swap(index, other) }));
    view! {
        <fieldset class="rule">
            <legend>{format!("Rule {}", index + 1)}</legend>
            <TextField label="Description" lens=lens!(rule, description) />
            <NameSelect label="Serve variation" lens=lens!(rule, variation) names=names />
            {index_rows(clause_count, move |j| view! { <ClauseEditor list=clauses.get_value() index=j /> }.into_any())}
            <div class="row">
                <button type="button" on:click=move |_| clauses.with_value(|l| state.write(l, |v| v.push(default_clause())))>"+ clause"</button>
                <button type="button" disabled=move || index == 0 on:click=move |_| swap(index.saturating_sub(1))>"Move up"</button>
                <button type="button" disabled=move || { index >= last() } on:click=move |_| swap(index + 1)>"Move down"</button>
                <button type="button" class="danger" on:click=move |_| list.with_value(|l| state.write(l, |v| { if index < v.len() { v.remove(index); } }))>"Remove rule"</button>
            </div>
            <FieldErrors path=clauses.with_value(|l| l.path().to_string()) />
        </fieldset>
    }
}

#[component]
pub fn SegmentRulesEditor(list: Lens<Vec<SegmentRule>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = stored(list);
    let count = move || list.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    view! {
        <div class="rules">
            {index_rows(count, move |i| {
                let clauses = stored(lens!(list.get_value().at(i), clauses));
                let n = move || clauses.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
                view! {
                    <fieldset class="rule">
                        <legend>{format!("Segment rule {} (all clauses must match)", i + 1)}</legend>
                        {index_rows(n, move |j| view! { <ClauseEditor list=clauses.get_value() index=j /> }.into_any())}
                        <button type="button" on:click=move |_| clauses.with_value(|l| state.write(l, |v| v.push(default_clause())))>"+ clause"</button>
                        <button type="button" class="danger" on:click=move |_| list.with_value(|l| state.write(l, |v| { if i < v.len() { v.remove(i); } }))>"Remove rule"</button>
                    </fieldset>
                }
                .into_any()
            })}
            <button type="button" on:click=move |_| list.with_value(|l| state.write(l, |v| v.push(SegmentRule { clauses: vec![default_clause()] })))>"+ segment rule"</button>
        </div>
    }
}
