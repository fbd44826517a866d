//! Segments: reusable audiences (included, excluded, rules) referenced by `in_segment`.

use edgeflag_dashboard::lens;
use edgeflag_dashboard::lens::Lens;
use edgeflag_evaluator::model::Segment;
use leptos::prelude::*;

use crate::ui::components::fields::{FieldErrors, KeyListField, TextField};
use crate::ui::components::rules::SegmentRulesEditor;
use crate::ui::components::{index_rows, stored};
use crate::ui::state::AppState;

#[component]
pub fn SegmentsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let list: Lens<Vec<Segment>> = lens!(Lens::root(), segments);
    let list = stored(list);
    let count = move || list.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    let add = move |_| {
        list.with_value(|l| state.write(l, |v| {
            let key = format!("segment-{}", v.len() + 1);
            v.push(Segment { key, description: String::new(), included: Vec::new(), excluded: Vec::new(), rules: Vec::new() });
        }))
    };
    view! {
        <section aria-labelledby="segments-title">
            <h2 id="segments-title">"Segments"</h2>
            {index_rows(count, move |i| {
                let segment = list.get_value().at(i);
                view! {
                    <fieldset class="segment">
                        <legend>{format!("Segment {}", i + 1)}</legend>
                        <TextField label="Key" lens=lens!(segment, key) />
                        <TextField label="Description" lens=lens!(segment, description) />
                        <KeyListField label="Included targeting keys" lens=lens!(segment, included) />
                        <KeyListField label="Excluded targeting keys" lens=lens!(segment, excluded) />
                        <SegmentRulesEditor list=lens!(segment, rules) />
                        <button type="button" class="danger"
                            on:click=move |_| list.with_value(|l| state.write(l, |v| { if i < v.len() { v.remove(i); } }))>"Remove segment"</button>
                        <FieldErrors path=segment.path().to_string() />
                    </fieldset>
                }
                .into_any()
            })}
            <button type="button" on:click=add>"+ segment"</button>
        </section>
    }
}
