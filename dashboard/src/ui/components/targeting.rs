//! Individual targeting (allow lists per variation, the deny list) and prerequisites.

use edgeflag_dashboard::lens;
use edgeflag_dashboard::lens::Lens;
use edgeflag_evaluator::model::{Prerequisite, Target};
use leptos::prelude::*;

use super::fields::{FieldErrors, KeyListField, NameSelect};
use super::{index_rows, stored};
use crate::ui::state::AppState;

#[component]
pub fn TargetsEditor(list: Lens<Vec<Target>>, #[prop(into)] names: Signal<Vec<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = stored(list);
    let count = move || list.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    let add = move |_| {
        let variation = names.get_untracked().first().cloned().unwrap_or_default();
        list.with_value(|l| state.write(l, |v| v.push(Target { variation, keys: Vec::new() })));
    };
    view! {
        <div class="targets">
            {index_rows(count, move |i| {
                let target = list.get_value().at(i);
                view! {
                    <div class="row target">
                        <NameSelect label="Variation" lens=lens!(target, variation) names=names />
                        <KeyListField label="Targeting keys" lens=lens!(target, keys) placeholder="user-1, user-2" />
                        <button type="button" class="danger" aria-label=format!("Remove target list {}", i + 1)
                            on:click=move |_| list.with_value(|l| state.write(l, |v| { if i < v.len() { v.remove(i); } }))>"Remove"</button>
                    </div>
                }
                .into_any()
            })}
            <button type="button" on:click=add>"+ individual target list"</button>
            <FieldErrors path=list.with_value(|l| l.path().to_string()) />
        </div>
    }
}

/// Prerequisites: another flag must serve a given variation first.
#[component]
pub fn PrerequisitesEditor(list: Lens<Vec<Prerequisite>>, #[prop(into)] own_key: Signal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = stored(list);
    let count = move || list.with_value(|l| state.read(l, Vec::len)).unwrap_or(0);
    let other_flags = Signal::derive(move || {
        let own = own_key.get();
        state.with_model(|m| m.flags.iter().map(|f| f.key.clone()).filter(|k| *k != own).collect::<Vec<_>>()).unwrap_or_default()
    });
    let add = move |_| {
        let flag = other_flags.get_untracked().first().cloned().unwrap_or_default();
        let variation = state
            .with_model(|m| m.flags.iter().find(|f| f.key == flag).and_then(|f| f.variations.first()).map(|v| v.name.clone()))
            .flatten()
            .unwrap_or_default();
        list.with_value(|l| state.write(l, |v| v.push(Prerequisite { flag, variation })));
    };
    view! {
        <div class="prerequisites">
            {index_rows(count, move |i| {
                let prerequisite = list.get_value().at(i);
                let flag_lens = stored(lens!(prerequisite, flag));
                // The variations of whichever flag is chosen.
                let variations = Signal::derive(move || {
                    let key = flag_lens.with_value(|l| state.read(l, |s| s.clone())).unwrap_or_default();
                    state.with_model(|m| m.flags.iter().find(|f| f.key == key)
                        .map(|f| f.variations.iter().map(|v| v.name.clone()).collect::<Vec<_>>()))
                        .flatten().unwrap_or_default()
                });
                view! {
                    <div class="row">
                        <NameSelect label="Flag" lens=flag_lens.get_value() names=other_flags />
                        <NameSelect label="must serve" lens=lens!(prerequisite, variation) names=variations />
                        <button type="button" class="danger" aria-label=format!("Remove prerequisite {}", i + 1)
                            on:click=move |_| list.with_value(|l| state.write(l, |v| { if i < v.len() { v.remove(i); } }))>"Remove"</button>
                    </div>
                }
                .into_any()
            })}
            <button type="button" on:click=add>"+ prerequisite"</button>
            <FieldErrors path=list.with_value(|l| l.path().to_string()) />
        </div>
    }
}
